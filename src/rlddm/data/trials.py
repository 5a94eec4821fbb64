"""Validated trials in memory (TrialData, one ParticipantTrials each) and DataError."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .._checks import check_count

__all__ = ["DataError", "ParticipantTrials", "TrialData"]


class DataError(ValueError):
    """A trial table that cannot be used, with the row and column at fault.

    Attributes
    ----------
    row : int, object or None
        CSV line number (the header is line 1) or DataFrame index label.
    column : str or None
        Column name in the input.
    """

    def __init__(self, message: str, *, row: Any = None, column: str | None = None) -> None:
        super().__init__(message)
        self.row = row
        self.column = column


@dataclass(frozen=True)
class ParticipantTrials:
    """One participant's trials, in order.

    Attributes
    ----------
    participant : object
        The participant's id as read.
    trial : ndarray of int64, shape (T,)
        Trial numbers (1, 2, ... when the input had no trial column).
    rt : ndarray of float64, shape (T,)
        Response times in seconds; NaN for a missed response.
    choice : ndarray of int8, shape (T,)
        0 = upper boundary (the trial's option 0), 1 = lower boundary (option 1),
        -1 = missed.
    reward : ndarray of float64, shape (T,)
        The chosen option's outcome; 0 for a missed response, NaN on a trial
        without feedback.
    options : ndarray of int32, shape (T, 2)
        Indices (into ``option_labels``) of the two options presented on each trial.
    option_labels : tuple
        Label of each option index, as read (``(0, 1)`` without option columns).
    conditions : tuple or None
        Condition labels (index ``c`` -> label; condition ``c`` presents options
        ``2c`` and ``2c + 1``) when the input had a condition column, else None.
    """

    participant: Any
    trial: NDArray[np.int64]
    rt: NDArray[np.float64]
    choice: NDArray[np.int8]
    reward: NDArray[np.float64]
    options: NDArray[np.int32]
    option_labels: tuple[Any, ...] = (0, 1)
    conditions: tuple[Any, ...] | None = None

    @property
    def n_trials(self) -> int:
        """Number of trials, missed responses included."""
        return int(self.choice.size)

    @property
    def n_missed(self) -> int:
        """Number of missed responses."""
        return int(np.count_nonzero(self.choice == -1))

    @property
    def n_options(self) -> int:
        """Number of options (the length of the participant's Q-value vector)."""
        return len(self.option_labels)


def _condition_labels(conditions: Sequence[Any]) -> tuple[str, ...]:
    return tuple(f"{label}:{side}" for label in conditions for side in ("upper", "lower"))


@dataclass(frozen=True, eq=False)
class TrialData:
    """Validated trials of several participants, each with its own number of trials.

    The arrays hold all participants' trials back to back (participant by
    participant, trials in order); ``offsets[k]:offsets[k + 1]`` are participant
    ``k``'s. Nothing is padded. Build it with :func:`read_trials`.

    Attributes
    ----------
    participants : tuple
        Participant ids, in order of first appearance in the input.
    offsets : ndarray of int64, shape (K + 1,)
    trial : ndarray of int64, shape (N,)
    rt : ndarray of float64, shape (N,)
        NaN for a missed response.
    choice : ndarray of int8, shape (N,)
        0 = upper boundary (option 0 of the trial), 1 = lower boundary, -1 = missed.
    reward : ndarray of float64, shape (N,)
        0 for a missed response, NaN on a trial without feedback.
    options : ndarray of int32, shape (N, 2)
        Presented options, indices into the participant's ``option_labels``.
    option_labels : tuple of tuple, length K
        Each participant's option labels (index -> label).
    conditions : tuple of tuple, length K, or None
        Each participant's condition labels when the input had a condition column.
    """

    participants: tuple[Any, ...]
    offsets: NDArray[np.int64]
    trial: NDArray[np.int64]
    rt: NDArray[np.float64]
    choice: NDArray[np.int8]
    reward: NDArray[np.float64]
    options: NDArray[np.int32]
    option_labels: tuple[tuple[Any, ...], ...]
    conditions: tuple[tuple[Any, ...], ...] | None = None
    _positions: dict[Any, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_positions",
                           {participant: k for k, participant in enumerate(self.participants)})

    def __len__(self) -> int:
        return len(self.participants)

    def __iter__(self) -> Iterator[ParticipantTrials]:
        return (self._slice(k) for k in range(len(self)))

    def __repr__(self) -> str:
        return (f"TrialData({len(self)} participants, {self.choice.size} trials, "
                f"{int(self.n_missed.sum())} missed, up to {int(self.n_options.max())} options)")

    @property
    def n_trials(self) -> NDArray[np.int64]:
        """Trials per participant (missed responses included), shape (K,)."""
        return np.diff(self.offsets)

    @property
    def n_missed(self) -> NDArray[np.int64]:
        """Missed responses per participant, shape (K,)."""
        missed = np.concatenate([[0], np.cumsum(self.choice == -1)])
        return np.diff(missed[self.offsets])

    @property
    def n_options(self) -> NDArray[np.int64]:
        """Options per participant, shape (K,)."""
        return np.array([len(labels) for labels in self.option_labels], dtype=np.int64)

    def participant(self, participant: Any) -> ParticipantTrials:
        """One participant's trials, looked up by id.

        Raises
        ------
        KeyError
            If no participant has that id.
        """
        if participant not in self._positions:
            shown = ", ".join(repr(p) for p in self.participants[:10])
            raise KeyError(f"no participant {participant!r}; participants are {shown}"
                           + (", ..." if len(self) > 10 else ""))
        return self._slice(self._positions[participant])

    def _slice(self, k: int) -> ParticipantTrials:
        rows = slice(int(self.offsets[k]), int(self.offsets[k + 1]))
        return ParticipantTrials(self.participants[k], self.trial[rows], self.rt[rows],
                                 self.choice[rows], self.reward[rows], self.options[rows],
                                 self.option_labels[k],
                                 None if self.conditions is None else self.conditions[k])

    def summary(self) -> pd.DataFrame:
        """Trials, missed responses and options per participant.

        Columns participant, n_trials, n_missed and n_options, one row per participant.
        """
        return pd.DataFrame({"participant": list(self.participants),
                             "n_trials": self.n_trials, "n_missed": self.n_missed,
                             "n_options": self.n_options})

    def to_frame(self, layout: Literal["rlddm", "hddm"] = "rlddm") -> pd.DataFrame:
        """The trials as a table in ``layout``, which :func:`read_trials` reads back.

        ``"rlddm"``: missed responses have choice -1 and rt NaN. A ``condition`` column is
        written when the trials came with one; ``option0`` and ``option1`` (the labels)
        when the options differ from what the conditions (or their absence) imply, or a
        trial without feedback needs them.

        ``"hddm"`` (HDDMrl's columns): subj_idx, trial, rt, response (1 = the trial's
        option 0, the upper boundary), feedback, split_by (the condition; 0 without
        conditions) and q_init (0.5, HDDMrl's start value); a missed response has an empty
        rt and response.

        Raises
        ------
        ValueError
            If ``layout`` is another name, or the trials need option columns, which
            HDDMrl's layout does not have (changing pairs, trials without feedback).
        """
        if layout == "hddm":
            return self._to_hddm_frame()
        if layout != "rlddm":
            raise ValueError(f"layout must be 'rlddm' or 'hddm', got {layout!r}")
        ids = np.array(self.participants, dtype=_id_dtype(self.participants))
        frame = pd.DataFrame({"participant": np.repeat(ids, self.n_trials), "trial": self.trial,
                              "rt": self.rt, "choice": self.choice, "reward": self.reward})
        participants = list(self)
        if self.conditions is not None:
            frame["condition"] = np.concatenate([
                np.array(p.conditions, dtype=object)[p.options[:, 0] // 2] for p in participants])
        if any(_needs_option_columns(p) for p in participants):
            for side in (0, 1):
                frame[f"option{side}"] = np.concatenate([
                    np.array(p.option_labels, dtype=object)[p.options[:, side]]
                    for p in participants])
        return frame

    def _to_hddm_frame(self) -> pd.DataFrame:
        split_by = np.concatenate([_hddm_conditions(p) for p in self])
        ids = np.array(self.participants, dtype=_id_dtype(self.participants))
        response = np.where(self.choice == -1, np.nan, 1.0 - self.choice)
        return pd.DataFrame({"subj_idx": np.repeat(ids, self.n_trials), "trial": self.trial,
                             "rt": self.rt, "response": pd.array(response, dtype="Int64"),
                             "feedback": self.reward, "split_by": split_by, "q_init": 0.5})

    def check_trial_range(self, trial_range: tuple[int, int]) -> None:
        """Require every participant's trial count to lie in ``[min, max]`` (a model's range).

        Raises
        ------
        DataError
            Naming each participant outside the range and its count.
        """
        low, high = _check_trial_range(trial_range)
        counts = self.n_trials
        outside = np.flatnonzero((counts < low) | (counts > high))
        if outside.size:
            listed = ", ".join(f"{self.participants[k]!r} ({counts[k]} trials)"
                               for k in outside[:10])
            raise DataError(
                f"{outside.size} participant(s) have a trial count outside the model's trained "
                f"range [{low}, {high}]: {listed}" + (", ..." if outside.size > 10 else "")
                + "; train a model for this range (rlddm train) or select trials")


def _needs_option_columns(trials: ParticipantTrials) -> bool:
    """Whether the options must be written out to read back the same (see ``to_frame``).

    Without option columns a file implies options (0, 1) on every trial, or (2c, 2c + 1)
    on a trial of condition c; an empty reward on an answered trial needs them too.
    """
    if trials.conditions is None:
        labels: tuple[Any, ...] = (0, 1)
        first = np.zeros(trials.n_trials, dtype=np.int32)
    else:
        labels = _condition_labels(trials.conditions)
        first = trials.options[:, 0] // 2 * 2
    no_feedback = np.isnan(trials.reward) & (trials.choice != -1)
    return (labels != trials.option_labels or bool(no_feedback.any())
            or not np.array_equal(trials.options, np.column_stack([first, first + 1])))


def _hddm_conditions(trials: ParticipantTrials) -> NDArray[Any]:
    """HDDMrl's ``split_by`` of each trial: the condition as read, else the index of the
    trial's pair among the participant's pairs (ordered by their first option).

    Raises
    ------
    ValueError
        If the pairs are not disjoint and fixed in order (an option in two pairs, or a
        pair shown both ways round), or a trial has no feedback: HDDMrl's layout holds
        neither.
    """
    answered = trials.choice != -1
    if (np.isnan(trials.reward) & answered).any():
        raise ValueError(f"participant {trials.participant!r} has trials without feedback, "
                         "which HDDMrl's layout cannot hold; write layout='rlddm'")
    if trials.conditions is not None and not _needs_option_columns(trials):
        return np.array(trials.conditions, dtype=object)[trials.options[:, 0] // 2]
    pairs, index = np.unique(trials.options, axis=0, return_inverse=True)
    if np.unique(pairs).size != pairs.size:
        raise ValueError(f"participant {trials.participant!r} is shown options in pairs that "
                         "share an option or change order, which HDDMrl's split_by cannot "
                         "hold; write layout='rlddm'")
    return index.reshape(-1).astype(np.int64)


def _id_dtype(ids: Sequence[Any]) -> Any:
    return np.int64 if ids and all(isinstance(i, (int, np.integer)) for i in ids) else object


def _check_trial_range(trial_range: Any) -> tuple[int, int]:
    try:
        low, high = trial_range
    except (TypeError, ValueError):
        raise ValueError(f"trial_range must be a pair (min, max), got {trial_range!r}") from None
    check_count(low, "trial_range[0]", 1)
    check_count(high, "trial_range[1]", 1)
    if low > high:
        raise ValueError(f"trial_range must have min <= max, got {trial_range!r}")
    return int(low), int(high)


def require_trial_data(trials: Any) -> TrialData:
    """``trials`` if it is a :class:`TrialData`; a ValueError saying how to make one otherwise."""
    if not isinstance(trials, TrialData):
        raise ValueError(f"trials must be a TrialData (from rlddm.data.read_trials), "
                         f"got {type(trials).__name__}")
    return trials
