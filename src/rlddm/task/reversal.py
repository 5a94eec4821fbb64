"""Two-armed reversal-learning designs and their potential-outcome schedules."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_count
from .._seeding import SeedLike
from ..model.spec import DEFAULT_Q0


@dataclass(frozen=True)
class ReversalDesign:
    """A two-armed bandit whose reward probabilities swap at regular intervals.

    The default is the design of the forum post: arm 0 pays with probability 0.8 and
    arm 1 with 0.2, swapped at every trial index (counting from 0) that is a positive
    multiple of 12, over 60 trials.

    Parameters
    ----------
    reward_probabilities : tuple of float
        Probabilities that arm 0 and arm 1 pay 1 before the first reversal.
    reversal_every : int
        Period of the swaps in trials; 0 means no reversals.
    n_trials : int
        Default number of trials of a data set.
    """

    reward_probabilities: tuple[float, float] = (0.8, 0.2)
    reversal_every: int = 12
    n_trials: int = 60

    def __post_init__(self) -> None:
        values = np.asarray(self.reward_probabilities, dtype=object).ravel()
        # numbers only: text such as "0.8" (from a hand-edited file) is not a probability
        numeric = all(isinstance(p, (int, float, np.integer, np.floating))
                      and not isinstance(p, bool) for p in values)
        probabilities = tuple(float(p) for p in values) if numeric else ()
        if len(probabilities) != 2 or not all(0.0 <= p <= 1.0 for p in probabilities):
            raise ValueError(
                "reward_probabilities must be two probabilities in [0, 1], "
                f"got {self.reward_probabilities!r}"
            )
        object.__setattr__(self, "reward_probabilities", probabilities)
        object.__setattr__(self, "reversal_every",
                           check_count(self.reversal_every, "reversal_every", 0))
        object.__setattr__(self, "n_trials", check_count(self.n_trials, "n_trials", 1))

    def _trials(self, n_trials: int | None) -> int:
        return self.n_trials if n_trials is None else check_count(n_trials, "n_trials", 1)

    def block(self, n_trials: int | None = None) -> NDArray[np.int64]:
        """Index of the reversal block of each trial (0 before the first reversal).

        Returns
        -------
        ndarray, shape (T,)
        """
        trials = np.arange(self._trials(n_trials))
        if self.reversal_every == 0:
            return np.zeros_like(trials)
        return trials // self.reversal_every

    def reversal_phase(self, n_trials: int | None = None) -> NDArray[np.int64]:
        """Trials since the last reversal (or since the start), per trial.

        Returns
        -------
        ndarray, shape (T,)
        """
        trials = np.arange(self._trials(n_trials))
        if self.reversal_every == 0:
            return trials
        return trials % self.reversal_every

    def probabilities(self, n_trials: int | None = None) -> NDArray[np.float64]:
        """Reward probability of each arm on each trial.

        Returns
        -------
        ndarray, shape (T, 2)
        """
        swapped = (self.block(n_trials) % 2 == 1)[:, None]
        base = np.array(self.reward_probabilities)
        return np.where(swapped, base[::-1], base)

    def sample(self, n: int, *, n_trials: int | None = None,
               seed: SeedLike = None) -> NDArray[np.int8]:
        """Draw potential-outcome matrices: both arms' outcome on every trial.

        Parameters
        ----------
        n : int
            Number of matrices (data sets).
        n_trials : int, optional
            Trials per matrix; defaults to the design's ``n_trials``.
        seed : None, int, SeedSequence, BitGenerator or Generator
            Seed, following NumPy's conventions.

        Returns
        -------
        ndarray of int8, shape (n, T, 2)
            Entry ``[i, t, k]`` is 1 if arm ``k`` would pay on trial ``t``.
        """
        n = check_count(n, "n", 1)
        probabilities = self.probabilities(n_trials)
        rng = np.random.default_rng(seed)
        uniforms = rng.random((n,) + probabilities.shape)
        return (uniforms < probabilities).astype(np.int8)

    def schedule(self, n: int, *, n_trials: int | None = None, seed: SeedLike = None
                 ) -> tuple[NDArray[np.float64], NDArray[np.int32]]:
        """Potential outcomes and presented options, as :meth:`rlddm.designs.TaskDesign.sample`.

        Parameters
        ----------
        n : int
            Number of data sets.
        n_trials : int, optional
            Trials per data set; defaults to the design's ``n_trials``.
        seed : None, int, SeedSequence, BitGenerator or Generator
            Seed, following NumPy's conventions.

        Returns
        -------
        outcomes : ndarray of float64, shape (n, T, 2)
            The values of :meth:`sample` with the same seed.
        options : ndarray of int32, shape (n, T, 2)
            ``(0, 1)`` on every trial: both arms are always presented, arm 0 first.
        """
        outcomes = self.sample(n, n_trials=n_trials, seed=seed).astype(np.float64)
        options = np.zeros(outcomes.shape, dtype=np.int32)
        options[..., 1] = 1
        return outcomes, options

    @property
    def n_options(self) -> int:
        """Number of options: the two arms."""
        return 2

    @property
    def option_names(self) -> tuple[int, int]:
        """The arms' labels, 0 and 1 (as in a trial table without option columns)."""
        return (0, 1)

    @property
    def pairs(self) -> tuple[tuple[int, int]]:
        """The one pair presented: both arms."""
        return ((0, 1),)

    @property
    def q0(self) -> float:
        """Initial Q-value of both arms."""
        return DEFAULT_Q0

    def save(self, path: Union[str, "os.PathLike[str]"], *, overwrite: bool = False) -> Path:
        """Write the design as a TOML file with ``kind = "reversal"``; returns the path."""
        from .designs import save_design  # designs imports this module

        return save_design(self, path, overwrite=overwrite)

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]"]) -> ReversalDesign:
        """Read a design file with ``kind = "reversal"``.

        Raises
        ------
        ValueError
            Naming the file and the missing or bad field.
        """
        from .designs import load_design  # designs imports this module

        design = load_design(path)
        if not isinstance(design, cls):
            raise ValueError(f"{path}: kind is 'task', not 'reversal'; read it with "
                             "rlddm.designs.load_design or TaskDesign.load")
        return design

    def same_task(self, other: ReversalDesign) -> bool:
        """Whether ``other`` has the same reward schedule (its default length may differ)."""
        return (isinstance(other, ReversalDesign)
                and other.reward_probabilities == self.reward_probabilities
                and other.reversal_every == self.reversal_every)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description of the design."""
        data = asdict(self)
        data["reward_probabilities"] = list(self.reward_probabilities)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReversalDesign:
        """Rebuild a design written by :meth:`to_dict`."""
        return cls(tuple(data["reward_probabilities"]), data["reversal_every"], data["n_trials"])


def reversal_outcomes(n: int, n_trials: int = 60,
                      reward_probabilities: tuple[float, float] | ArrayLike = (0.8, 0.2),
                      reversal_every: int = 12, *, seed: SeedLike = None) -> NDArray[np.int8]:
    """Draw potential-outcome matrices of a reversal design (see :class:`ReversalDesign`).

    Parameters
    ----------
    n : int
        Number of matrices.
    n_trials : int
        Trials per matrix.
    reward_probabilities : pair of float
        Probabilities that arm 0 and arm 1 pay before the first reversal.
    reversal_every : int
        Period of the swaps in trials; 0 means none.
    seed : None, int, SeedSequence, BitGenerator or Generator
        Seed, following NumPy's conventions.

    Returns
    -------
    ndarray of int8, shape (n, n_trials, 2)
    """
    design = ReversalDesign(tuple(np.asarray(reward_probabilities, dtype=float).ravel()),
                            reversal_every, n_trials)
    return design.sample(n, seed=seed)
