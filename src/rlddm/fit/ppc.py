"""Posterior predictive checks of a fit: choices around reversals or per pair, RT quantiles.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .._checks import check_count
from .._seeding import SeedLike
from ..data import PathLike, ParticipantTrials, TrialData
from ..simulator.simulation import simulate
from ..task.reversal import ReversalDesign

if TYPE_CHECKING:
    from .fitting import FitResult

__all__ = ["CHOICE_PLOTS", "PPC_DRAWS", "PredictiveChecks", "better_arm", "predictive_checks",
           "reversal_windows"]

PPC_INTERVAL = 0.90
PPC_DRAWS = 200
REVERSAL_OFFSETS: tuple[int, ...] = tuple(range(-3, 9))
RT_QUANTILES: tuple[float, ...] = (0.1, 0.3, 0.5, 0.7, 0.9)
PAIR_BIN = 10
"""Presentations of a pair per point of the learning curves."""
MAX_PANELS = 24
CHOICE_PLOTS = {"reversal": "ppc_reversal.png", "pairs": "ppc_learning_curves.png"}
_LOW = f"predicted_{100 * (1 - PPC_INTERVAL) / 2:g}%"
_HIGH = f"predicted_{100 * (1 + PPC_INTERVAL) / 2:g}%"




def better_arm(design: ReversalDesign, n_trials: int) -> NDArray[np.int64]:
    """The arm with the higher reward probability on each trial (-1 where they are equal).

    Returns
    -------
    ndarray of int64, shape (T,)
    """
    probabilities = design.probabilities(n_trials)
    better = np.argmax(probabilities, axis=1)
    return np.where(probabilities[:, 0] == probabilities[:, 1], -1, better)


def reversal_windows(better: NDArray[np.int64], offsets: Sequence[int]
                     ) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Trials at each offset from each reversal, kept within the reversal's own blocks.

    A reversal is a trial whose better arm differs from the previous trial's. The
    trial at offset ``d`` from reversal ``r`` counts only if it lies after the
    previous reversal (for ``d < 0``) and before the next one (for ``d >= 0``), so
    that "better arm" always refers to the blocks either side of ``r``.

    Returns
    -------
    trial : ndarray of int64, shape (R, D)
        Trial index (clipped into range where not valid).
    valid : ndarray of bool, shape (R, D)
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    n_trials = better.size
    defined = (better[1:] >= 0) & (better[:-1] >= 0)
    changes = np.flatnonzero((better[1:] != better[:-1]) & defined) + 1
    bounds = np.concatenate([[0], changes, [n_trials]])
    trial = changes[:, None] + offsets[None, :]
    valid = (trial >= bounds[:-2, None]) & (trial < bounds[2:, None])
    trial = np.clip(trial, 0, max(n_trials - 1, 0))
    valid &= better[trial] >= 0
    return trial, valid


def _better_choices(choice: NDArray[np.int8], better: NDArray[np.int64], trial: NDArray[np.int64],
                    valid: NDArray[np.bool_]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Better-arm choices and answered trials per offset, summed over reversals: (S, D) each."""
    chosen = choice[:, trial]
    counted = valid & (chosen != -1)
    hits = counted & (chosen == better[trial])
    return hits.sum(axis=1), counted.sum(axis=1)


def _cell_sums(choice: NDArray[np.int8], better: NDArray[np.int64], cell: NDArray[np.int64],
               n_cells: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Better choices and answered trials per cell (-1: none), shape (S, n_cells) each."""
    counted = (cell >= 0) & (choice != -1)
    hits = counted & (choice == better)
    rows = np.arange(choice.shape[0])[:, None]
    index = rows * n_cells + np.where(cell >= 0, cell, 0)
    size = choice.shape[0] * n_cells
    return (np.bincount(index[hits], minlength=size).reshape(-1, n_cells),
            np.bincount(np.broadcast_to(index, choice.shape)[counted],
                        minlength=size).reshape(-1, n_cells))


def _quantiles_by_key(rt: NDArray[np.float64], key: NDArray[np.int64], n_keys: int,
                      quantiles: Sequence[float]) -> tuple[NDArray, NDArray]:
    """RT quantiles per data set and key, shape (n_keys, Q, S), and counts, shape (n_keys, S).

    NumPy's ``nanquantile`` with its default (linear) interpolation, per row; written
    out because ``nanquantile`` along an axis loops over the rows in Python (four fifths
    of the predictive checks' time for 28 participants).
    """
    levels = np.asarray(quantiles, dtype=np.float64)
    result = np.full((n_keys, levels.size, rt.shape[0]), np.nan)
    counts = np.stack([(key == j).sum(axis=1) for j in range(n_keys)])
    rows = np.arange(rt.shape[0])[:, None]
    for j in range(n_keys):
        ordered = np.sort(np.where(key == j, rt, np.nan), axis=1)  # NaN last
        n = counts[j][:, None]
        position = levels[None, :] * np.maximum(n - 1, 0)
        low = np.floor(position).astype(np.int64)
        high = np.minimum(low + 1, np.maximum(n - 1, 0))
        below, above = ordered[rows, low], ordered[rows, high]
        values = below + (position - low) * (above - below)
        result[j] = np.where(n > 0, values, np.nan).T
    return result, counts


def _interval(values: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
    """Mean and central ``PPC_INTERVAL`` interval over replicates (the last axis), NaN-aware."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanquantile(values, [(1 - PPC_INTERVAL) / 2, (1 + PPC_INTERVAL) / 2],
                                   axis=-1)
        return {"predicted_mean": np.nanmean(values, axis=-1), _LOW: low, _HIGH: high}


@dataclasses.dataclass(frozen=True)
class _Replicates:
    """One participant's (or the pool's) predicted replicates and observed trials.

    ``choice_keys`` name the cells of the choice check (reversal offsets, or pair and
    presentation bin); ``hits`` and ``counted`` (S, cells) are better choices and
    answered trials per replicate and cell, ``observed_*`` (cells,) the same for the
    observed trials. ``rt_keys`` name the RT groups (choice, or pair and option);
    ``rt_key`` (S, T) and ``observed_key`` (T,) give each trial's group (-1: none).
    """

    group: int
    participant: Any
    choice_keys: list[tuple[Any, ...]]
    hits: NDArray[np.int64]
    counted: NDArray[np.int64]
    observed_hits: NDArray[np.int64]
    observed_counted: NDArray[np.int64]
    rt_keys: list[tuple[Any, ...]]
    rt: NDArray[np.float64]
    rt_key: NDArray[np.int64]
    observed_rt: NDArray[np.float64]
    observed_key: NDArray[np.int64]

    @classmethod
    def pool(cls, groups: list[_Replicates]) -> _Replicates:
        """All participants as one: replicate ``s`` pools replicate ``s`` of each, by key."""
        choice_keys = sorted({k for g in groups for k in g.choice_keys})
        rt_keys = list(dict.fromkeys(k for g in groups for k in g.rt_keys))
        where = {key: j for j, key in enumerate(choice_keys)}
        sums = [np.zeros((groups[0].hits.shape[0], len(choice_keys)), dtype=np.int64)
                for _ in range(2)]
        observed = [np.zeros(len(choice_keys), dtype=np.int64) for _ in range(2)]
        for g in groups:
            columns = [where[key] for key in g.choice_keys]
            sums[0][:, columns] += g.hits
            sums[1][:, columns] += g.counted
            observed[0][columns] += g.observed_hits
            observed[1][columns] += g.observed_counted
        rt_where = {key: j for j, key in enumerate(rt_keys)}

        def remap(g: _Replicates, key: NDArray[np.int64]) -> NDArray[np.int64]:
            table = np.array([rt_where[k] for k in g.rt_keys] + [-1], dtype=np.int64)
            return table[np.where(key >= 0, key, len(g.rt_keys))]

        return cls(0, "all", choice_keys, sums[0], sums[1], observed[0], observed[1], rt_keys,
                   np.concatenate([g.rt for g in groups], axis=1),
                   np.concatenate([remap(g, g.rt_key) for g in groups], axis=1),
                   np.concatenate([g.observed_rt for g in groups]),
                   np.concatenate([remap(g, g.observed_key) for g in groups]))

    def add_rows(self, choice_columns: Sequence[str], rt_columns: Sequence[str],
                 quantiles: list[float], choice_rows: list[dict[str, Any]],
                 quantile_rows: list[dict[str, Any]]) -> None:
        """Append this group's rows of both checks."""
        head = {"group": self.group, "participant": self.participant}
        with np.errstate(invalid="ignore", divide="ignore"):  # no answered trial there: NaN
            predicted = _interval((self.hits / self.counted).T)
            observed = self.observed_hits / self.observed_counted
        for j, key in enumerate(self.choice_keys):
            choice_rows.append({**head, **dict(zip(choice_columns, key)),
                                "observed": observed[j],
                                "n_observed": int(self.observed_counted[j]),
                                **{name: value[j] for name, value in predicted.items()}})
        n_keys = len(self.rt_keys)
        predicted = _interval(_quantiles_by_key(self.rt, self.rt_key, n_keys, quantiles)[0])
        observed, observed_n = _quantiles_by_key(self.observed_rt[None], self.observed_key[None],
                                                 n_keys, quantiles)
        for j, key in enumerate(self.rt_keys):
            for i, q in enumerate(quantiles):
                quantile_rows.append({**head, **dict(zip(rt_columns, key)), "quantile": q,
                                      "observed": observed[j, i, 0],
                                      "n_observed": int(observed_n[j, 0]),
                                      **{name: value[j, i] for name, value in predicted.items()}})


def _reversal_replicates(group: int, participant: ParticipantTrials, simulated: Any,
                         design: ReversalDesign, offsets: list[int]) -> _Replicates:
    """Better-arm choices around the design's reversals; RT groups by choice (0, 1)."""
    better = better_arm(design, participant.n_trials)
    trial, valid = reversal_windows(better, offsets)
    hits, counted = _better_choices(simulated.choice, better, trial, valid)
    observed_hits, observed_counted = _better_choices(participant.choice[None], better, trial,
                                                      valid)
    return _Replicates(group, participant.participant, [(d,) for d in offsets], hits, counted,
                       observed_hits[0], observed_counted[0], [(0,), (1,)], simulated.rt,
                       simulated.choice.astype(np.int64), participant.rt,
                       participant.choice.astype(np.int64))


def _pair_replicates(group: int, participant: ParticipantTrials, simulated: Any,
                     rates: NDArray[np.float64], bin_size: int) -> _Replicates:
    """Learning curve per pair (better option by empirical reward rate, against the pair's
    presentation number in bins) and RT groups by pair and chosen option."""
    options = participant.options
    labels = participant.option_labels
    low, high = options.min(axis=1), options.max(axis=1)
    pairs = sorted(set(zip(low.tolist(), high.tolist())))  # option indices: label order
    pair = np.array([pairs.index(p) for p in zip(low.tolist(), high.tolist())], dtype=np.int64)
    shown = np.zeros(participant.n_trials, dtype=np.int64)  # presentation number in its pair
    for j in range(len(pairs)):
        mine = pair == j
        shown[mine] = np.arange(int(mine.sum()))
    first, second = rates[options[:, 0]], rates[options[:, 1]]
    better = np.where(first > second, 0, np.where(second > first, 1, -1))
    bins = shown // bin_size
    keys = sorted(set(zip(pair[better >= 0].tolist(), bins[better >= 0].tolist())))
    cell = np.full(participant.n_trials, -1, dtype=np.int64)
    where = {key: c for c, key in enumerate(keys)}
    for t in np.flatnonzero(better >= 0):
        cell[t] = where[(int(pair[t]), int(bins[t]))]
    hits, counted = _cell_sums(simulated.choice, better, cell, len(keys))
    observed_hits, observed_counted = _cell_sums(participant.choice[None], better, cell, len(keys))

    conditions = participant.conditions

    def names(j: int) -> str:
        low, high = pairs[j]
        if conditions is not None and low % 2 == 0 and high == low + 1:
            return f"condition {conditions[low // 2]}"  # read from a condition or split_by
        return f"{labels[low]}-{labels[high]}"

    def option_name(index: int) -> str:
        label = str(labels[index])
        if conditions is not None:  # "<condition>:upper" -> "upper" (within its condition)
            prefix = f"{conditions[index // 2]}:"
            return label[len(prefix):] if label.startswith(prefix) else label
        return label

    def rt_key(choice: NDArray[np.int8]) -> NDArray[np.int64]:
        chosen = np.take_along_axis(np.broadcast_to(options, choice.shape + (2,)),
                                    np.where(choice >= 0, choice, 0)[..., None], axis=-1)[..., 0]
        return np.where(choice >= 0, 2 * pair + (chosen == high), -1)

    return _Replicates(group, participant.participant,
                       [(names(j), b * bin_size + 1) for j, b in keys], hits, counted,
                       observed_hits[0], observed_counted[0],
                       [(names(j), option_name(pairs[j][side])) for j in range(len(pairs))
                        for side in (0, 1)],
                       simulated.rt, rt_key(simulated.choice), participant.rt,
                       rt_key(participant.choice[None])[0])


def _reward_pools(trials: TrialData) -> tuple[list[list[NDArray]], dict[Any, NDArray]]:
    """Observed rewards of each option when chosen: per participant, and pooled by label."""
    own, by_label = [], {}
    for p in trials:
        fed = (p.choice != -1) & np.isfinite(p.reward)
        chosen = p.options[np.arange(p.n_trials), np.where(p.choice >= 0, p.choice, 0)]
        pools = [p.reward[fed & (chosen == o)] for o in range(p.n_options)]
        own.append(pools)
        for label, values in zip(p.option_labels, pools):
            by_label.setdefault(label, []).append(values)
    return own, {label: np.concatenate(v) for label, v in by_label.items()}


def _replicate_outcomes(participant: ParticipantTrials, pools: list[NDArray], n: int,
                        rng: np.random.Generator) -> NDArray[np.float64]:
    """Outcomes (n, T, 2) for replicates of a participant's own trial sequence.

    The chosen option's outcome is the observed reward; the other option's, and both on
    a missed trial, are drawn from that option's observed rewards (a Bernoulli draw at
    its empirical rate for 0/1 rewards). A trial without feedback stays without (NaN).
    """
    options = participant.options
    outcomes = np.empty((n,) + options.shape)
    for o in np.unique(options):
        where = options == o
        pool = pools[o]
        outcomes[:, where] = pool[rng.integers(pool.size, size=(n, int(where.sum())))] \
            if pool.size else np.nan
    answered = participant.choice != -1
    trials = np.flatnonzero(answered)
    outcomes[:, trials, participant.choice[trials]] = participant.reward[trials]
    outcomes[:, answered & np.isnan(participant.reward)] = np.nan
    return outcomes


@dataclasses.dataclass(frozen=True, eq=False)
class PredictiveChecks:
    """Observed vs posterior predictive: better choices (around reversals or per pair), RT quantiles.

    Attributes
    ----------
    choices : DataFrame
        ``group`` (0 = pooled, k + 1 = participant k), ``participant`` (an id, or
        ``"all"`` pooled), for the reversal check ``position`` (trial relative to the
        reversal; 0 is the first trial after it), for the pairs check ``pair`` (its
        option labels) and ``position`` (the pair's first presentation number in the
        bin); ``observed`` (share of answered trials there on which the better option
        was chosen), ``n_observed`` (answered trials counted), ``predicted_mean``,
        ``predicted_5%``, ``predicted_95%`` (over replicates).
    rt_quantiles : DataFrame
        ``group``, ``participant``, ``choice`` (0 = upper boundary, 1 = lower; reversal)
        or ``pair`` and ``option`` (the chosen option's label; pairs), ``quantile``,
        ``observed``, ``n_observed`` and the predicted columns as above.
    settings : dict
        ``check`` (``"reversal"`` or ``"pairs"``), ``n_draws`` (replicates per
        participant), ``offsets`` or ``bin_size``, ``quantiles``, ``interval``,
        ``method`` and ``note``.
    """

    choices: pd.DataFrame
    rt_quantiles: pd.DataFrame
    settings: dict[str, Any]

    @property
    def choice_plot(self) -> str:
        """File name of the choice check's figure."""
        return CHOICE_PLOTS[self.settings["check"]]

    def table(self) -> pd.DataFrame:
        """Both checks in one long table (``ppc.csv``), with a ``check`` column."""
        kind = "reversal" if self.settings["check"] == "reversal" else "learning_curve"
        table = pd.concat([self.choices.assign(check=kind),
                           self.rt_quantiles.assign(check="rt_quantile")], ignore_index=True)
        columns = ["check", "participant", "pair", "position", "choice", "option", "quantile",
                   "observed", "n_observed", "predicted_mean", _LOW, _HIGH]
        table = table.reindex(columns=[c for c in columns if c in table.columns])
        for column in ("position", "choice"):
            if column in table:
                table[column] = table[column].astype("Int64")
        return table

    def _groups(self, frame: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
        """Rows by group, pooled first, with a panel title each."""
        return [("all participants" if group == 0 else f"participant {rows['participant'].iloc[0]}",
                 rows) for group, rows in frame.groupby("group", sort=True)]

    def to_dict(self) -> dict[str, Any]:
        """The checks as ``ppc.json``: settings, ``all`` (pooled), ``participants`` by id (text).

        Each entry holds ``choices`` and ``rt_quantiles``, one list per column; NaN
        (no answered trial of that kind) is written as null.
        """
        def columns(rows: pd.DataFrame) -> dict[str, list[Any]]:
            return {name: _json_list(rows[name]) for name in rows.columns
                    if name not in ("group", "participant")}

        entries = {}
        for (group, choices), (_, quantiles) in zip(self.choices.groupby("group"),
                                                    self.rt_quantiles.groupby("group")):
            entries[group] = (str(choices["participant"].iloc[0]),
                              {"choices": columns(choices), "rt_quantiles": columns(quantiles)})
        return {"settings": self.settings, "all": entries.pop(0)[1],
                "participants": dict(entries.values())}

    def plot_choices(self, path: PathLike) -> None:
        """The choice check's figure: pooled panel, then one panel per participant (up to 24)."""
        from matplotlib.ticker import MaxNLocator

        reversal = self.settings["check"] == "reversal"
        groups = self._groups(self.choices)
        figure, axes = _panels(len(groups), "P(better option)")
        for ax, (title, rows) in zip(axes, groups):
            lines = [("", rows)] if reversal else list(rows.groupby("pair", sort=False))
            for color, (pair, part) in enumerate(lines):
                position = part["position"].to_numpy()
                label = f"{pair} " if pair else ""
                ax.fill_between(position, part[_LOW], part[_HIGH], color=f"C{color}", alpha=0.25)
                ax.plot(position, part["predicted_mean"], color=f"C{color}",
                        label=f"{label}predicted (band {100 * PPC_INTERVAL:g}%)")
                ax.plot(position, part["observed"], "o-" if reversal else "o", color=f"C{color}",
                        mec="k", ms=3, lw=1, label=f"{label}observed")
            if reversal:
                ax.axvline(-0.5, color="grey", ls="--", lw=0.8)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylim(-0.02, 1.02)
            ax.set_title(title, fontsize=9)
        _legend(figure, axes)
        figure.supxlabel("trial relative to reversal (0 = first trial after it)" if reversal else
                         f"presentation of the pair (bins of {self.settings['bin_size']})")
        _save(figure, path, self.settings, len(groups))

    def plot_rt_quantiles(self, path: PathLike) -> None:
        """``ppc_rt_quantiles.png``: RT quantiles per choice (or pair and option)."""
        keys = ["choice"] if self.settings["check"] == "reversal" else ["pair", "option"]
        groups = self._groups(self.rt_quantiles)
        figure, axes = _panels(len(groups), "RT (s)")
        for ax, (title, rows) in zip(axes, groups):
            for j, (key, part) in enumerate(rows.groupby(keys, sort=False)):
                color, style = f"C{j // 2}", "-" if j % 2 == 0 else "--"
                quantile = part["quantile"].to_numpy()
                label = " ".join(str(k) for k in key)
                ax.fill_between(quantile, part[_LOW], part[_HIGH], color=color, alpha=0.15)
                ax.plot(quantile, part["predicted_mean"], color=color, ls=style,
                        label=f"{label} predicted")
                ax.plot(quantile, part["observed"], "o", color=color, mec="k", ms=3,
                        label=f"{label} observed")
            ax.set_title(title, fontsize=9)
        _legend(figure, axes)
        figure.supxlabel("quantile")
        _save(figure, path, self.settings, len(groups))


def _json_list(values: pd.Series) -> list[Any]:
    return [None if pd.isna(v) else (int(v) if isinstance(v, (int, np.integer)) else
                                     float(v) if isinstance(v, (float, np.floating)) else str(v))
            for v in values]


def _panels(n_groups: int, ylabel: str) -> tuple[Any, list[Any]]:
    # A bare Agg figure, not pyplot: no global backend switch, nothing to close afterwards.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = min(n_groups, MAX_PANELS + 1)
    columns = min(n + 1, 5)  # one slot more, for the legend (_legend)
    rows = -(-(n + 1) // columns)
    width, height = 2.8 * columns, 2.3 * rows + 0.6
    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)
    # fixed margins in inches: tight_layout measures every tick label and took half
    # of the output's time
    figure.subplots_adjust(left=0.7 / width, right=1 - 0.15 / width, bottom=0.55 / height,
                           top=1 - 0.6 / height, wspace=0.35, hspace=0.45)
    axes = figure.subplots(rows, columns, squeeze=False, sharex=True)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    for above, ax in zip(flat[:n], flat[columns:]):
        if not ax.get_visible() or ax is flat[n]:  # nothing visible below: label the x axis here
            above.xaxis.set_tick_params(labelbottom=True)
    for row in axes:
        row[0].set_ylabel(ylabel)
    return figure, flat[:n]


def _legend(figure: Any, axes: list[Any]) -> None:
    """The pooled panel's legend, in the slot after the last panel (kept free by _panels),
    so that it hides no curve."""
    handles, labels = axes[0].get_legend_handles_labels()
    slot = figure.axes[len(axes)]
    slot.set_visible(True)
    slot.set_axis_off()
    slot.legend(handles, labels, loc="center", fontsize=7, frameon=False)


def _save(figure: Any, path: PathLike, settings: dict[str, Any], n_groups: int) -> None:
    shown = min(n_groups, MAX_PANELS + 1) - 1
    note = f"; first {shown} of {n_groups - 1} participants shown" if shown < n_groups - 1 else ""
    figure.suptitle(f"{settings.get('title', 'posterior predictive')}: "
                    f"{settings['n_draws']} draws per participant, "
                    f"{settings['method']} simulation, band = {100 * PPC_INTERVAL:g}%{note}",
                    fontsize=10)
    figure.savefig(path, dpi=90)


def _option_rates(participant: ParticipantTrials,
                  by_label: dict[Any, NDArray[np.float64]]) -> NDArray[np.float64]:
    """Reward rate of each of a participant's options over all participants' choices of
    its label (NaN for a label nobody chose): what decides a pair's better option."""
    return np.array([float(by_label[label].mean()) if label in by_label and by_label[label].size
                     else np.nan for label in participant.option_labels])


def predictive_checks(result: FitResult, *, n_draws: int = PPC_DRAWS,
                      offsets: Sequence[int] = REVERSAL_OFFSETS,
                      quantiles: Sequence[float] = RT_QUANTILES, bin_size: int = PAIR_BIN,
                      seed: SeedLike = 0) -> PredictiveChecks:
    """Simulate posterior predictive data sets and compare them with the observed trials.

    For each participant, ``n_draws`` posterior draws (without replacement, chains
    pooled) each simulate one data set with :func:`rlddm.simulate` (the fit's model,
    initial Q-value and response deadline).

    With a reversal design (the network's, or ``design=`` a ``ReversalDesign``) the
    outcomes are drawn from the design and the check is the choice of the better arm
    (by the design's probabilities) around reversals, as trained networks assume.
    Otherwise the replicates present the participant's own options in the observed
    order; the chosen option's outcome is the observed reward, and the unchosen one's
    (unknown in real data) is drawn from that option's observed rewards when chosen,
    which is a Bernoulli draw at its empirical reward rate for 0/1 rewards (an option
    the participant never chose uses its label's rewards over all participants). The
    better option of a pair is the one with the higher reward rate over every
    participant's choices of that option label (one participant's own rate misleads where
    it rarely chose the option: a few lucky rewards would make the worse option look
    better); the check is its choice against the pair's presentation number (bins of
    ``bin_size``), per pair. This assumes that a label names the same option for every
    participant; pairs read from conditions (HDDMrl's ``split_by``) are named by their
    condition.

    Parameters
    ----------
    result : FitResult
    n_draws : int
        Replicates per participant (all draws if fewer).
    offsets : sequence of int
        Trial positions relative to each reversal (0 = first trial after it).
    quantiles : sequence of float
        RT quantile levels, each in [0, 1].
    bin_size : int
        Presentations of a pair per point of its learning curve.
    seed : None, int, SeedSequence, BitGenerator or Generator
        Seeds the choice of draws, the outcomes and the simulations.

    Returns
    -------
    PredictiveChecks
        Per participant and pooled over participants (``participant == "all"``;
        a pooled replicate combines replicate ``s`` of every participant).

    Raises
    ------
    ValueError
        On invalid ``n_draws``, ``offsets``, ``quantiles`` or ``bin_size``.
    """
    n_draws = min(check_count(n_draws, "n_draws", 1), result.n_draws)
    bin_size = check_count(bin_size, "bin_size", 1)
    offsets = list(offsets)
    if not offsets or not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool)
                              for d in offsets):
        raise ValueError(f"offsets must be a non-empty sequence of integers, got {offsets!r}")
    offsets = [int(d) for d in offsets]
    quantiles = [float(q) for q in quantiles]
    if not quantiles or not all(0.0 <= q <= 1.0 for q in quantiles):
        raise ValueError(f"quantiles must be a non-empty sequence of levels in [0, 1], "
                         f"got {quantiles!r}")
    design = result.design
    reversal = isinstance(design, ReversalDesign)
    own, by_label = _reward_pools(result.trials)
    rng = np.random.default_rng(seed)
    groups = []
    for k, participant in enumerate(result.trials):
        picked = rng.choice(result.n_draws, size=n_draws, replace=False)
        if reversal:
            outcomes = design.sample(n_draws, n_trials=participant.n_trials, seed=rng)
        else:
            pools = [pool if pool.size else by_label.get(label, pool)
                     for pool, label in zip(own[k], participant.option_labels)]
            outcomes = _replicate_outcomes(participant, pools, n_draws, rng)
        simulated = simulate(result.draws[k, picked], outcomes, model=result.spec,
                             options=participant.options, n_options=max(participant.n_options, 2),
                             q0=result.q0, dt=result.dt, max_steps=result.max_steps,
                             method=result.simulation_method, seed=rng)
        if reversal:
            groups.append(_reversal_replicates(k + 1, participant, simulated, design, offsets))
        else:
            rates = _option_rates(participant, by_label)
            groups.append(_pair_replicates(k + 1, participant, simulated, rates, bin_size))
    choice_columns, rt_columns = (("position",), ("choice",)) if reversal else \
        (("pair", "position"), ("pair", "option"))
    choice_rows: list[dict[str, Any]] = []
    quantile_rows: list[dict[str, Any]] = []
    for group in [_Replicates.pool(groups), *groups]:
        group.add_rows(choice_columns, rt_columns, quantiles, choice_rows, quantile_rows)
    settings: dict[str, Any] = {"check": "reversal" if reversal else "pairs", "n_draws": n_draws,
                                "quantiles": quantiles, "interval": PPC_INTERVAL,
                                "method": result.simulation_method}
    if reversal:
        settings |= {"offsets": offsets, "note": (
            "predicted data sets draw outcomes from the design (the observed reward sequence "
            "is not replayed); observed missed responses are not counted; 'all' pools all "
            "participants")}
    else:
        settings |= {"bin_size": bin_size, "note": (
            "predicted data sets present each participant's observed options in order; the "
            "chosen option's outcome is the observed reward, the unchosen one's is drawn from "
            "that option's observed rewards (Bernoulli at the empirical rate for 0/1 rewards); "
            "the better option of a pair has the higher reward rate over all participants' "
            "choices of its label; observed missed "
            "responses are not counted; 'all' pools all participants")}
    return PredictiveChecks(pd.DataFrame(choice_rows), pd.DataFrame(quantile_rows), settings)
