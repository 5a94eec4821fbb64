"""Real trials in and out: read and validate long-format trial tables, simulate and write them.

A trial table has one row per trial: a participant, the trial's position, the
response time in seconds, the choice and the reward, and optionally the two options
presented. :func:`read_trials` reads rlddm's own layout and the layouts HDDM's
``HDDMrl`` and HSSM's RLSSM users already have, maps their response coding onto
rlddm's (choice 0 = the trial's option 0 = upper boundary ``alpha``, choice 1 =
option 1 = lower boundary), and checks every value, naming the row and column of
the first problem. :func:`simulate_participants` and :func:`write_trials` produce
the same table from known parameters and a task design.

Layouts
-------
``"rlddm"``
    ``participant, trial, rt, choice, reward`` and optionally ``option0, option1``
    or ``condition`` (below); choice 0/1 as above, ``-1`` (or empty) with an empty
    ``rt`` is a missed response.
``"hddm"`` (HDDM's ``HDDMrl``)
    ``subj_idx, trial, rt, response, feedback, split_by``. ``response`` 1 is the
    upper boundary (HDDMrl's drift is ``(q_up - q_low) * v`` with ``q[1]`` the
    upper option), so ``choice = 1 - response``. ``feedback`` is the reward.
    ``split_by`` is the condition: HDDMrl keeps separate Q-values per ``split_by``
    value within a subject, and so does rlddm (each condition is its own pair of
    options). HDDM numbers trials within each condition, which is accepted.
    ``q_init`` is ignored: Q-values start at the design's ``q0`` (0.5 by default).
``"hssm"`` (HSSM)
    ``participant_id, trial_id, rt, response, feedback``. HSSM's two-choice models
    code ``response`` 1 (upper) / -1 (lower); its RLSSM two-armed bandit codes 1
    (upper, ``q[1]``) / 0. So 1 -> choice 0, and -1 or 0 -> choice 1; a file that
    uses both -1 and 0 is rejected as ambiguous.

Options
-------
Without option or condition columns every trial presents options 0 and 1 (a
two-armed bandit, labels ``(0, 1)``). With ``option0`` and ``option1`` (any labels,
text or integers; choice 0 picks ``option0``) each participant's options are
numbered in sorted order of their labels. With a ``condition`` column alone,
condition ``c`` (numbered in sorted order of the participant's condition labels)
presents options ``2c`` (choice 0; labelled ``"<condition>:upper"``) and ``2c + 1``
(``"<condition>:lower"``), so each condition keeps its own Q-values. With both, each
condition must present one pair, disjoint from the other conditions' pairs, and
condition ``c``'s two options (in sorted label order) are ``2c`` and ``2c + 1``. A
condition with a single trial is an error (usually a typo in that cell).

A trial without feedback (say, the test phase of a selection task) has an empty
reward: its reward is NaN and nothing is learned from it. An empty reward on an
answered trial is accepted only in files with option columns, where novel pairings
without feedback occur; elsewhere it is an error, so that a forgotten value is
never read as "no feedback". A cell that is not a number is always an error.

In every layout rewards are finite real numbers (0/1 for a bandit), the ``trial``
column is optional (without it, the file's row order within each participant is the
trial order), an optional ``missed`` column (0/1) flags missed responses, and
``columns={"participant": "subj", ...}`` renames any role. Trials must already be in order within each participant (within each
condition, when there is a condition column): rows are never reordered, because the
order of trials is the learning history.
"""

from __future__ import annotations


import difflib
import lzma
import math
import os
import re
import sys
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Union

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from .._checks import MAX_REWARD, check_count, outside_reward_range
from .trials import DataError, TrialData, _check_trial_range, _condition_labels

__all__ = ["LAYOUTS", "Layout", "PathLike", "REQUIRED_ROLES", "ROLES", "read_trials"]

PathLike = Union[str, "os.PathLike[str]"]

# pandas 2 parses floats to within one ulp unless asked for round-trip parsing, which
# pandas 3 does by default (and warns about the option); written RTs must read back exactly.
_EXACT_FLOATS = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}

ROLES = ("participant", "trial", "rt", "choice", "reward", "missed", "condition", "option0",
         "option1")
REQUIRED_ROLES = ("participant", "rt", "choice", "reward")
# Roles whose values are labels: read as text, so that "007" keeps its zeros.
_LABEL_ROLES = ("participant", "condition", "option0", "option1")
_PLAIN_INTEGER = re.compile(r"-?[0-9]+")
_FLOAT_MAX = sys.float_info.max  # a Python float: int comparisons stay exact
# pandas picks a decompressor from these endings
_COMPRESSED = (".gz", ".bz2", ".zip", ".xz", ".zst", ".tar")

@dataclass(frozen=True)
class Layout:
    """Column names and response coding of one trial-table convention.

    Parameters
    ----------
    name : str
        Name used in messages.
    columns : mapping of str to str or None
        Default column name of each role in ``ROLES`` (None: the role is unused).
    choice_codes : mapping of int to int
        Value in the choice column -> rlddm choice (0 = upper, 1 = lower boundary).
    missed_code : int, optional
        Value in the choice column that marks a missed response.
    """

    name: str
    columns: Mapping[str, str | None]
    choice_codes: Mapping[int, int]
    missed_code: int | None = None


LAYOUTS: dict[str, Layout] = {
    "rlddm": Layout("rlddm", {"participant": "participant", "trial": "trial", "rt": "rt",
                              "choice": "choice", "reward": "reward", "missed": "missed",
                              "condition": "condition", "option0": "option0",
                              "option1": "option1"},
                    {0: 0, 1: 1}, missed_code=-1),
    "hddm": Layout("hddm", {"participant": "subj_idx", "trial": "trial", "rt": "rt",
                            "choice": "response", "reward": "feedback", "missed": "missed",
                            "condition": "split_by"},
                   {1: 0, 0: 1}),
    "hssm": Layout("hssm", {"participant": "participant_id", "trial": "trial_id", "rt": "rt",
                            "choice": "response", "reward": "feedback", "missed": "missed"},
                   {1: 0, -1: 1, 0: 1}),
}


# ---------------------------------------------------------------------------------------
# reading


def _resolve_layout(layout: str | Layout, columns: Mapping[str, str | None] | None
                    ) -> tuple[Layout, dict[str, str | None]]:
    if isinstance(layout, str):
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {sorted(LAYOUTS)} or a Layout, got {layout!r}")
        layout = LAYOUTS[layout]
    elif not isinstance(layout, Layout):
        raise ValueError(f"layout must be one of {sorted(LAYOUTS)} or a Layout, got {layout!r}")
    names = {role: layout.columns.get(role) for role in ROLES}
    if columns is not None:
        if not isinstance(columns, Mapping):
            raise ValueError(f"columns must be a mapping of role to column name, got {columns!r}")
        unknown = [role for role in columns if role not in ROLES]
        if unknown:
            raise ValueError(f"columns has unknown role(s) {unknown}; roles are {list(ROLES)}")
        for role, name in columns.items():
            if name is None and role in REQUIRED_ROLES:
                raise ValueError(f"columns[{role!r}] names a required column and cannot be None")
            if name is not None and not isinstance(name, str):
                raise ValueError(f"columns[{role!r}] must be a column name, got {name!r}")
        names.update(columns)
    return layout, names


def _load_csv(path: Path, text_columns: Sequence[str]) -> pd.DataFrame:
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if path.is_dir():
        raise DataError(f"{path} is a directory, not a CSV file")
    try:
        # Labels (participant ids, conditions, options) are read as text so that "007"
        # keeps its zeros; blank lines are kept (then dropped below) so that row
        # positions stay line numbers.
        frame = pd.read_csv(path, skip_blank_lines=False, encoding="utf-8-sig",
                            dtype=dict.fromkeys(text_columns, str), **_EXACT_FLOATS)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} is empty: expected a header line and one row per trial") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DataError(f"{path} is not a readable CSV file: {error}") from None
    except (OSError, EOFError, zipfile.BadZipFile, lzma.LZMAError) as error:
        suffix = path.suffix.lower()
        hint = (f" (a name ending in {suffix!r} makes pandas decompress the file; a plain CSV "
                "file should end in '.csv')" if suffix in _COMPRESSED else "")
        raise DataError(f"{path} could not be read{hint}: {error}") from None
    return frame


def _integer_ids(values: pd.Series) -> pd.Series:
    """Text ids that are plain integers ("12", not "012") become integers again."""
    text = values.dropna()
    # ASCII digits only: str.isdigit also accepts "²" and other digits int() refuses
    if text.empty or not text.map(lambda s: _PLAIN_INTEGER.fullmatch(s) is not None
                                  and str(int(s)) == s).all():
        return values
    return values.map(int, na_action="ignore")


def _missing_columns_message(missing: list[str], present: list[str], names: dict[str, str | None],
                             layout: Layout) -> str:
    hints = []
    lowered = {name.lower(): name for name in present}
    for role in REQUIRED_ROLES:
        column = names[role]
        if column not in missing:
            continue
        close = difflib.get_close_matches(str(column).lower(), list(lowered), n=1, cutoff=0.6)
        if close:
            found = lowered[close[0]]
            hints.append(f"{column!r} may be {found!r} (pass columns={{{role!r}: {found!r}}})")
    for other in LAYOUTS.values():
        required = [other.columns[role] for role in REQUIRED_ROLES]
        if other.name != layout.name and all(column in present for column in required):
            hints.append(f"the columns match layout={other.name!r}")
    if len(present) == 1 and any(sep in present[0] for sep in ";\t|"):
        hints.append("the file does not look comma-separated")
    expected = [f"{role}={names[role]!r}" for role in REQUIRED_ROLES]
    return (f"missing column(s) {missing} for layout {layout.name!r}, which expects "
            f"{', '.join(expected)}; the data has columns {present}"
            + (f"; {'; '.join(hints)}" if hints else ""))


class _Rows:
    """Turns row positions into the words an error message needs."""

    def __init__(self, frame: pd.DataFrame, csv: bool) -> None:
        self.index = frame.index
        self.csv = csv

    def label(self, position: int) -> Any:
        # With blank lines kept, row i of the CSV is line i + 2 (line 1 is the header).
        label = self.index[position]
        if self.csv:
            return int(label) + 2
        return label.item() if isinstance(label, np.generic) else label

    def words(self, position: int) -> str:
        return f"line {self.label(position)}" if self.csv else f"index {self.label(position)!r}"

    def fail(self, message: str, positions: ArrayLike, column: str) -> None:
        positions = np.atleast_1d(np.asarray(positions))
        if positions.size == 0:
            return
        first = int(positions[0])
        more = f" ({positions.size - 1} more row(s) fail this check)" if positions.size > 1 else ""
        raise DataError(f"{self.words(first)}, column {column!r}: {message}{more}",
                        row=self.label(first), column=column)


def _plain_cell(value: Any) -> Any:
    """A cell as pandas' to_numeric can take it: blank text is empty, a Python int beyond
    the float range an infinity (which the column's own check then refuses), and a complex
    number or bytes text that is not a number (to_numeric would drop the imaginary part)."""
    if isinstance(value, str) and not value.strip():
        return np.nan
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _FLOAT_MAX:
        return math.inf if value > 0 else -math.inf
    if isinstance(value, (complex, np.complexfloating, bytes)):
        return repr(value)
    return value


def _numeric(frame: pd.DataFrame, column: str, rows: _Rows) -> NDArray[np.float64]:
    """A column as float64 (NaN where empty); a value that is not a number is an error."""
    raw = frame[column]
    if raw.dtype == object or raw.dtype.kind == "c" or pd.api.types.is_string_dtype(raw.dtype):
        raw = raw.astype(object).map(_plain_cell)
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan,
                                                          copy=True)
    bad = np.flatnonzero(np.isnan(values) & raw.notna().to_numpy())
    if bad.size:
        rows.fail(f"must be a number, got {raw.iloc[bad[0]]!r}", bad, column)
    return values


def _rt_hint(value: float) -> str:
    if value == -999.0:
        return (" (-999 is HSSM's missing-RT code; a missed response here has an empty rt and "
                "an empty choice, or missed = 1)")
    if value < 0:
        return (" (negative RTs often code the lower boundary by sign, as HDDM's flip_errors "
                "does; pass positive RTs and the response column)")
    if value >= 100:
        return " (rt must be in seconds; values this large look like milliseconds)"
    return ""


def _choices(values: NDArray[np.float64], missed: NDArray[np.bool_], layout: Layout,
             column: str, rows: _Rows) -> NDArray[np.int8]:
    answered = ~missed
    codes = np.array(list(layout.choice_codes), dtype=np.float64)
    bad = np.flatnonzero(answered & ~np.isin(values, codes))
    if bad.size:
        allowed = sorted(layout.choice_codes)
        if layout.missed_code is not None:
            allowed.append(layout.missed_code)
        rows.fail(f"must be one of {allowed} (layout {layout.name!r}), got {values[bad[0]]:g}",
                  bad, column)
    for target in set(layout.choice_codes.values()):
        sources = [code for code, choice in layout.choice_codes.items() if choice == target]
        used = [code for code in sources if np.any(answered & (values == code))]
        if len(used) > 1:
            second = np.flatnonzero(answered & (values == used[1]))
            rows.fail(f"mixes the codes {used} for the same response (layout {layout.name!r} "
                      f"reads each as rlddm choice {target}); use one coding", second, column)
    choice = np.full(values.shape, -1, dtype=np.int8)
    for code, target in layout.choice_codes.items():
        choice[answered & (values == code)] = target
    return choice


def _participant_codes(frame: pd.DataFrame, column: str, rows: _Rows
                       ) -> tuple[NDArray[np.int64], tuple[Any, ...]]:
    codes, uniques = pd.factorize(frame[column], sort=False)
    empty = np.flatnonzero(codes < 0)
    rows.fail("is empty; every trial needs a participant", empty, column)
    return codes.astype(np.int64), tuple(uniques.tolist())


def _labels(frame: pd.DataFrame, columns: Sequence[str], rows: _Rows, csv: bool,
            why: str) -> list[NDArray[np.object_]]:
    """Label columns as Python objects; an empty cell is an error.

    From a CSV file, labels are stripped text, and become integers when every cell
    of ``columns`` is a plain integer (as participant ids do), so that the labels of
    one column and the next compare equal.
    """
    values = [frame[column] for column in columns]
    if csv:
        values = [v.map(lambda x: x.strip() if isinstance(x, str) else x) for v in values]
        joint = _integer_ids(pd.concat(values, ignore_index=True).replace("", np.nan))
        values = [joint.iloc[i * len(frame):(i + 1) * len(frame)] for i in range(len(columns))]
    out = []
    for column, series in zip(columns, values):
        empty = series.isna().to_numpy() | series.map(
            lambda x: isinstance(x, str) and not x.strip()).to_numpy(dtype=bool)
        rows.fail(f"is empty; {why}", np.flatnonzero(empty), column)
        labels = np.empty(len(series), dtype=object)
        labels[:] = series.tolist()
        out.append(labels)
    return out


def _sorted_labels(values: NDArray[np.object_]) -> list[Any]:
    unique = list(dict.fromkeys(values.tolist()))
    try:
        return sorted(unique)
    except TypeError:  # labels of mixed types (a DataFrame's): sort by type, then text
        return sorted(unique, key=lambda label: (type(label).__name__, str(label)))


@dataclass(frozen=True)
class _Options:
    """Presented options of every row, and each participant's labels (see ``read_trials``)."""

    options: NDArray[np.int32]  # (N, 2), rows in file order
    labels: tuple[tuple[Any, ...], ...]
    conditions: tuple[tuple[Any, ...], ...] | None
    condition: NDArray[np.int64]  # (N,): the row's condition index (0 without conditions)
    from_columns: bool  # the file names the options (option0/option1 columns)


def _options(frame: pd.DataFrame, used: Mapping[str, str], names: Mapping[str, str | None],
             groups: Sequence[NDArray[np.int64]], participants: tuple[Any, ...], rows: _Rows,
             csv: bool) -> _Options:
    """Number each participant's options and check that conditions and options agree."""
    n = len(frame)
    pair = [used.get("option0"), used.get("option1")]
    if (pair[0] is None) != (pair[1] is None):
        given = pair[0] or pair[1]
        missing = names["option1"] if pair[1] is None else names["option0"]
        raise DataError(f"column {given!r} names one presented option but there is no column "
                        f"{missing!r} for the other; give both (or neither)", column=given)
    condition = None
    if "condition" in used:
        condition = _labels(frame, [used["condition"]], rows, csv,
                            "every trial needs its condition (HDDM's split_by)")[0]
    shown = None
    if pair[0] is not None:
        shown = _labels(frame, pair, rows, csv, "every trial needs the two options it presents")
        same = np.flatnonzero(shown[0] == shown[1])
        if same.size:
            rows.fail(f"names option {shown[1][same[0]]!r}, as column {pair[0]!r} does; a trial "
                      "presents two different options", same, pair[1])
    options = np.empty((n, 2), dtype=np.int32)
    options[:] = (0, 1)
    condition_index = np.zeros(n, dtype=np.int64)
    labels: list[tuple[Any, ...]] = []
    conditions: list[tuple[Any, ...]] = []
    for k, positions in enumerate(groups):
        if condition is not None:
            names_k = _sorted_labels(condition[positions])
            c = pd.Index(names_k).get_indexer(condition[positions])
            single = np.flatnonzero(np.bincount(c) == 1)
            if single.size:
                rows.fail(f"condition {names_k[single[0]]!r} of participant {participants[k]!r} "
                          "has a single trial; a condition presents its pair of options on two "
                          "trials at least (is this cell a typo?)",
                          [positions[np.flatnonzero(c == single[0])[0]]], used["condition"])
            conditions.append(tuple(names_k))
            condition_index[positions] = c
        if shown is None:
            if condition is None:
                labels.append((0, 1))
            else:
                labels.append(_condition_labels(names_k))
                options[positions, 0] = 2 * c
                options[positions, 1] = 2 * c + 1
            continue
        first, second = shown[0][positions], shown[1][positions]
        if condition is None:
            ordered = _sorted_labels(np.concatenate([first, second]))
        else:
            ordered = _condition_pairs(first, second, c, names_k, positions, participants[k],
                                       pair[0], rows)
        index = pd.Index(ordered)
        options[positions, 0] = index.get_indexer(first)
        options[positions, 1] = index.get_indexer(second)
        labels.append(tuple(ordered))
    return _Options(options, tuple(labels), None if condition is None else tuple(conditions),
                    condition_index, shown is not None)


def _condition_pairs(first: NDArray[np.object_], second: NDArray[np.object_], c: NDArray[np.intp],
                     conditions: list[Any], positions: NDArray[np.int64], participant: Any,
                     column: str, rows: _Rows) -> list[Any]:
    """Option labels in index order when a participant has conditions and option columns."""
    ordered: list[Any] = []
    owner: dict[Any, Any] = {}
    for index, condition in enumerate(conditions):
        trials = np.flatnonzero(c == index)
        pair = _sorted_labels(np.concatenate([first[trials], second[trials]]))
        if len(pair) != 2:
            expected = {first[trials[0]], second[trials[0]]}
            odd = next(t for t in trials if {first[t], second[t]} != expected)
            rows.fail(f"participant {participant!r}, condition {condition!r}: presents "
                      f"{first[odd]!r} and {second[odd]!r}, but {first[trials[0]]!r} and "
                      f"{second[trials[0]]!r} at {rows.words(int(positions[trials[0]]))}; a "
                      "condition presents one pair of options (or drop the condition column)",
                      [positions[odd]], column)
        for label in pair:
            if label in owner:
                odd = next(t for t in trials if label in (first[t], second[t]))
                rows.fail(f"participant {participant!r}: option {label!r} is presented in "
                          f"conditions {owner[label]!r} and {condition!r}; conditions present "
                          "disjoint pairs of options (or drop the condition column)",
                          [positions[odd]], column)
            owner[label] = condition
        ordered += pair
    return ordered


def _trial_order(trials: NDArray[np.float64] | None, codes: NDArray[np.int64],
                 groups: NDArray[np.int64], column: str | None, within: str,
                 rows: _Rows) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Rows grouped by participant (file order within each) and their trial numbers.

    Trial numbers must increase within each of ``groups`` (participants, or
    participant and condition: HDDM numbers trials within each condition).
    """
    order = np.argsort(codes, kind="stable")
    if trials is None:
        counts = np.bincount(codes)
        numbers = np.concatenate([np.arange(1, c + 1) for c in counts]) if counts.size else \
            np.array([], dtype=np.int64)
        return order, numbers.astype(np.int64)
    assert column is not None
    rows.fail("is empty; give every trial its number or drop the trial column",
              np.flatnonzero(np.isnan(trials)), column)
    bad = np.flatnonzero(~np.isfinite(trials) | (trials != np.round(trials)))
    if bad.size:
        rows.fail(f"must be an integer trial number, got {trials[bad[0]]:g}", bad, column)
    # beyond 2**53 floats skip integers, and beyond 2**63 int64 wraps around
    bad = np.flatnonzero(np.abs(trials) > 2.0**53)
    if bad.size:
        rows.fail(f"must be a trial number of at most 2**53 in size, got {trials[bad[0]]:g}",
                  bad, column)
    checked = np.argsort(groups, kind="stable")
    ordered = trials[checked]
    same = groups[checked][1:] == groups[checked][:-1]
    for compare, problem in ((ordered[1:] == ordered[:-1], "repeats"),
                             (ordered[1:] < ordered[:-1], "goes backwards")):
        bad = np.flatnonzero(same & compare)
        if bad.size:
            earlier, later = int(checked[bad[0]]), int(checked[bad[0] + 1])
            rows.fail(
                f"trial {ordered[bad[0] + 1]:g} {problem} within {within} (after trial "
                f"{ordered[bad[0]]:g} at {rows.words(earlier)}); rows must be in trial order, "
                "one row per trial; sort them only if the trial numbers give the order the "
                "trials were presented", [later], column)
    return order, trials[order].astype(np.int64)


def read_trials(data: PathLike | pd.DataFrame, *, columns: Mapping[str, str | None] | None = None,
                layout: str | Layout = "rlddm", missed: Literal["keep", "error"] = "keep",
                max_rt: float = 30.0, min_trials: int = 2,
                trial_range: tuple[int, int] | None = None) -> TrialData:
    """Read and validate a long-format trial table (one row per trial).

    Parameters
    ----------
    data : str, path or DataFrame
        A CSV file with a header line, or a DataFrame. Columns beyond the roles
        below are ignored.
    columns : mapping of str to str or None, optional
        Column name per role, overriding the layout's: ``participant``, ``trial``,
        ``rt``, ``choice``, ``reward`` (required, except ``trial``), ``missed``,
        ``condition``, ``option0`` and ``option1`` (optional; None switches an
        optional role off).
    layout : {"rlddm", "hddm", "hssm"} or Layout
        Column names and choice coding; see the module docstring.
    missed : {"keep", "error"}
        ``"keep"``: missed responses stay in their place (choice -1, rt NaN, reward
        0), as the model defines them, and are counted in ``TrialData.n_missed``.
        ``"error"``: a missed response is an error.
    max_rt : float
        Response times must lie below it (seconds): an RT of ``max_rt`` or more is
        an error, since an RT at the limit is usually a deadline recorded for a
        response that did not come.
    min_trials : int
        Fewest trials (missed responses included) a participant may have.
    trial_range : (int, int), optional
        The trial counts a trained model accepts; each participant's count must lie
        in ``[min, max]`` (see :meth:`TrialData.check_trial_range`).

    Returns
    -------
    TrialData
        Participants in order of first appearance, trials in input order, options
        numbered as the module docstring describes.

    Raises
    ------
    DataError
        A :class:`ValueError` naming the file, or the CSV line (header = line 1) or
        DataFrame index and the column of the first bad value: a missing, unreadable
        or empty file, a missing column, a value that is not a number, an empty value
        outside a missed response (or, with option columns, an empty reward), an rt
        <= 0 or >= ``max_rt``, a choice outside the layout's coding, a reward that is
        not finite, a trial number that is repeated or goes backwards within a
        participant (or condition), an empty or repeated option on a trial, a
        condition with one trial, a condition presenting several pairs or sharing an
        option with another, a participant with fewer than ``min_trials`` trials or
        no answered trial, or a trial count outside ``trial_range``.
    ValueError
        On invalid options.

    Notes
    -----
    Missed responses: when a ``missed`` column is present it decides (1 = missed;
    that row's rt, choice and reward are ignored and may be empty). Otherwise a
    row is missed when its choice is empty (or -1 in the ``"rlddm"`` layout), and
    its rt must then be empty as well. Missed responses are never dropped.

    Without a trial column, the row order within each participant is the trial
    order and trials are numbered 1, 2, ...
    """
    layout, names = _resolve_layout(layout, columns)
    if missed not in ("keep", "error"):
        raise ValueError(f"missed must be 'keep' or 'error', got {missed!r}")
    if isinstance(max_rt, bool) or not isinstance(max_rt, (int, float, np.integer, np.floating)) \
            or not np.isfinite(max_rt) or max_rt <= 0:
        raise ValueError(f"max_rt must be a finite number > 0 (seconds), got {max_rt!r}")
    min_trials = check_count(min_trials, "min_trials", 1)
    if trial_range is not None:
        _check_trial_range(trial_range)

    if isinstance(data, pd.DataFrame):
        frame, source, csv = data, "the DataFrame", False
    elif isinstance(data, (str, os.PathLike)):
        path = Path(data)
        frame = _load_csv(path, [str(names[role]) for role in _LABEL_ROLES if names[role]])
        # all-empty lines are not trials; dropping them keeps the positions as line numbers
        frame = frame.dropna(how="all")
        source, csv = str(path), True
    else:
        raise ValueError(f"data must be a path to a CSV file or a pandas DataFrame, got "
                         f"{type(data).__name__}")
    rows = _Rows(frame, csv)

    present = [str(c) for c in frame.columns]
    missing = [names[role] for role in REQUIRED_ROLES if names[role] not in frame.columns]
    if missing:
        raise DataError(_missing_columns_message(missing, present, names, layout),
                        column=missing[0])
    if frame.empty:
        raise DataError(f"{source} has columns but no trials")
    used = {role: names[role] for role in ROLES
            if names[role] is not None and names[role] in frame.columns}

    participant_column = used["participant"]
    if csv:
        frame = frame.assign(**{participant_column: _integer_ids(frame[participant_column])})
    codes, participants = _participant_codes(frame, participant_column, rows)
    counts = np.bincount(codes, minlength=len(participants))
    by_participant = np.split(np.argsort(codes, kind="stable"), np.cumsum(counts)[:-1])
    shown = _options(frame, used, names, by_participant, participants, rows, csv)
    trials = _numeric(frame, used["trial"], rows) if "trial" in used else None
    if shown.conditions is None:
        groups, within = codes, "a participant"
    else:
        # one group per (participant, condition): offsets by the conditions before
        first_group = np.concatenate([[0], np.cumsum([len(c) for c in shown.conditions])])
        groups, within = first_group[codes] + shown.condition, "a participant's condition"
    order, trial_numbers = _trial_order(trials, codes, groups, used.get("trial"), within, rows)

    rt = _numeric(frame, used["rt"], rows)
    raw_choice = _numeric(frame, used["choice"], rows)
    reward = _numeric(frame, used["reward"], rows)
    by_choice = np.isnan(raw_choice)
    missed_choice = "empty"
    if layout.missed_code is not None:
        by_choice |= raw_choice == layout.missed_code
        missed_choice = f"empty or {layout.missed_code}"
    if "missed" in used:
        flag = _numeric(frame, used["missed"], rows)
        rows.fail("is empty; use 1 for a missed response and 0 otherwise",
                  np.flatnonzero(np.isnan(flag)), used["missed"])
        rows.fail("must be 0 or 1", np.flatnonzero((flag != 0) & (flag != 1)), used["missed"])
        is_missed = flag == 1
        rows.fail(f"is {missed_choice} (a missed response) but column "
                  f"{used['missed']!r} is 0", np.flatnonzero(by_choice & ~is_missed),
                  used["choice"])
    else:
        is_missed = by_choice
        rows.fail(f"is given but the choice is {missed_choice} (a missed response); a missed "
                  "response has an empty rt, or flag it with a 'missed' column",
                  np.flatnonzero(is_missed & ~np.isnan(rt)), used["rt"])
    answered = ~is_missed
    if missed == "error":
        rows.fail("is a missed response, and missed='error'", np.flatnonzero(is_missed),
                  used.get("missed", used["choice"]))

    rows.fail("is empty (only a missed response may leave it empty; mark those with an empty "
              "choice or a 'missed' column)", np.flatnonzero(answered & np.isnan(rt)), used["rt"])
    bad = np.flatnonzero(answered & ~(rt > 0))
    if bad.size:
        rows.fail(f"must be > 0 seconds, got {rt[bad[0]]:g}{_rt_hint(rt[bad[0]])}", bad, used["rt"])
    bad = np.flatnonzero(answered & (rt >= max_rt))
    if bad.size:
        at_limit = (" (an RT at the limit is usually a deadline recorded for a response that did "
                    "not come: mark those trials missed)" if rt[bad[0]] == max_rt else "")
        rows.fail(f"must be < max_rt = {max_rt:g} seconds, got {rt[bad[0]]:g}"
                  f"{_rt_hint(rt[bad[0]])}{at_limit}", bad, used["rt"])
    choice = _choices(raw_choice, is_missed, layout, used["choice"], rows)
    if not shown.from_columns:
        rows.fail("is empty (only a missed response may leave it empty; in a file with option0 "
                  "and option1 columns an empty reward marks a trial without feedback)",
                  np.flatnonzero(answered & np.isnan(reward)), used["reward"])
    bad = np.flatnonzero(answered & outside_reward_range(reward))
    if bad.size:
        rows.fail(f"must be a finite number of magnitude at most {MAX_REWARD:g}, got "
                  f"{reward[bad[0]]:g}", bad, used["reward"])

    rt[is_missed] = np.nan
    reward[is_missed] = 0.0
    result = TrialData(participants, np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
                       trial_numbers, rt[order], choice[order], reward[order],
                       shown.options[order], shown.labels, shown.conditions)
    few = np.flatnonzero(counts < min_trials)
    if few.size:
        listed = ", ".join(f"{participants[k]!r} ({counts[k]})" for k in few[:10])
        raise DataError(f"{few.size} participant(s) have fewer than min_trials = {min_trials} "
                        f"trials: {listed}", column=participant_column)
    silent = np.flatnonzero(result.n_missed == counts)
    if silent.size:
        first = int(by_participant[silent[0]][0])
        listed = ", ".join(repr(participants[k]) for k in silent[:10])
        raise DataError(f"participant(s) {listed} have only missed responses (the first "
                        f"participant's trials start at {rows.words(first)})",
                        row=rows.label(first), column=participant_column)
    if trial_range is not None:
        result.check_trial_range(trial_range)
    return result
