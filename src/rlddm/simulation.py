"""Validated entry point to the compiled RLDDM simulator (``rlddm._sim``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._checks import check_count
from . import _sim
from ._seeding import SeedLike, stream_key
from .parameters import check_theta

METHODS = ("euler", "exact")
DEFAULT_MAX_RETRIES = 1000


@dataclass(frozen=True)
class SimulationResult:
    """Trial-level output of a batch of simulated data sets.

    Attributes
    ----------
    rt : ndarray of float64, shape (B, T)
        Response times in seconds (decision time + ter); NaN for a missed response.
    choice : ndarray of int8, shape (B, T)
        0 = upper boundary (alpha), 1 = lower boundary (0), -1 = missed response.
    reward : ndarray of int8, shape (B, T)
        The chosen arm's outcome (0 for a missed response).
    outcome : ndarray of int8, shape (B, T, 2)
        Outcomes as the forum post records them: the chosen arm's outcome, 0 for the
        arm not chosen (both 0 for a missed response).
    retries : ndarray of int32, shape (B, T)
        How often each trial was run again because no boundary was reached.
    q : ndarray of float64, shape (B, T + 1, 2), or None
        Q-values before each trial and after the last one, if requested.
    """

    rt: NDArray[np.float64]
    choice: NDArray[np.int8]
    reward: NDArray[np.int8]
    outcome: NDArray[np.int8]
    retries: NDArray[np.int32]
    q: NDArray[np.float64] | None = None

    @property
    def n_missed(self) -> NDArray[np.int64]:
        """Missed responses per data set, shape (B,)."""
        return np.count_nonzero(self.choice == -1, axis=1)


def check_outcomes(outcomes: ArrayLike, *, name: str = "outcomes") -> NDArray[np.int8]:
    """Validate potential-outcome matrices and return them as a (B, T, 2) int8 array.

    Parameters
    ----------
    outcomes : array_like, shape (T, 2) or (B, T, 2)
        Both arms' potential outcome (0 or 1) on every trial.
    name : str
        Argument name used in error messages.

    Raises
    ------
    ValueError
        On a non-numeric dtype, a wrong shape, or a value other than 0 and 1.
    """
    array = np.asarray(outcomes)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be a numeric array of 0/1, got dtype {array.dtype}")
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3 or array.shape[2] != 2 or 0 in array.shape[:2]:
        raise ValueError(
            f"{name} must have shape (T, 2) or (B, T, 2) with B, T >= 1, got shape "
            f"{np.shape(outcomes)}"
        )
    bad = (array != 0) & (array != 1)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name} must contain only 0 and 1, got {array[index].item()!r} at {index}")
    return array.astype(np.int8, copy=False)


def check_simulation_options(dt: float, max_steps: int, max_retries: int, n_threads: int | None,
                             method: str, first_index: int, n_simulations: int) -> None:
    """Validate the scalar options shared by the compiled and the reference simulator."""
    if isinstance(dt, bool) or not isinstance(dt, (int, float, np.integer, np.floating)) \
            or not np.isfinite(dt) or dt <= 0:
        raise ValueError(f"dt must be a finite number > 0, got {dt!r}")
    check_count(max_steps, "max_steps", 1)
    if max_steps >= 2**31:
        raise ValueError(f"max_steps must be < 2**31, got {max_steps!r}")
    check_count(max_retries, "max_retries", 0)
    if max_retries >= 2**31 - 1:
        raise ValueError(f"max_retries must be < 2**31 - 1, got {max_retries!r}")
    if n_threads is not None:
        check_count(n_threads, "n_threads", 1)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    check_count(first_index, "first_index", 0)
    if first_index + n_simulations > 2**64:
        raise ValueError(f"first_index + batch size must be <= 2**64, got {first_index!r}")


def broadcast_batch(theta: NDArray[np.float64],
                    outcomes: NDArray[np.int8]) -> tuple[NDArray[np.float64], NDArray[np.int8]]:
    """Broadcast (B, 5) parameters and (B, T, 2) outcomes to one batch size."""
    if theta.shape[0] != outcomes.shape[0] and 1 not in (theta.shape[0], outcomes.shape[0]):
        raise ValueError(
            f"theta has {theta.shape[0]} rows but outcomes has {outcomes.shape[0]} matrices; "
            "pass one of them unbatched or give both the same batch size"
        )
    n_simulations = max(theta.shape[0], outcomes.shape[0])
    return (np.broadcast_to(theta, (n_simulations, theta.shape[1])),
            np.broadcast_to(outcomes, (n_simulations,) + outcomes.shape[1:]))


def simulate(theta: ArrayLike, outcomes: ArrayLike, *, dt: float = 0.01, max_steps: int = 900,
             max_retries: int = DEFAULT_MAX_RETRIES, seed: SeedLike = None,
             n_threads: int | None = None, return_q: bool = False, method: str = "euler",
             first_index: int = 0) -> SimulationResult:
    """Simulate RLDDM data sets with the compiled kernel.

    Each trial runs a diffusion with drift ``drift * (Q0 - Q1)`` from ``alpha * beta``;
    reaching ``alpha`` is choice 0, reaching 0 is choice 1, and RT is the decision
    time plus ``ter``. A walk that reaches no boundary within ``max_steps`` steps is
    run again with the same Q-values and outcomes (the missed-response retry); a trial
    still unanswered after ``max_retries`` retries is recorded as a missed response
    (choice -1, RT NaN, reward 0) and leaves the Q-values unchanged. Only the chosen
    arm's outcome is experienced: ``Q_c += kappa * (reward - Q_c)``.

    Parameters
    ----------
    theta : array_like, shape (5,) or (B, 5)
        Parameters (drift, alpha, beta, ter, kappa).
    outcomes : array_like, shape (T, 2) or (B, T, 2)
        Potential outcomes (0/1) of both arms per trial, e.g. from
        :func:`rlddm.reversal_outcomes`. One matrix is shared by all rows of ``theta``.
    dt : float
        Step of the Euler walk in seconds.
    max_steps : int
        Steps after which a walk counts as a missed response.
    max_retries : int
        Retries of a missed trial before it is recorded as missed.
    seed : None, int, SeedSequence, BitGenerator or Generator
        NumPy-style seed. Simulation ``b`` draws from its own Philox stream, fixed by
        the seed and ``first_index + b`` alone, so results do not depend on
        ``n_threads`` or on how a batch is split.
    n_threads : int, optional
        OpenMP threads; all available by default.
    return_q : bool
        Also return the Q-value trajectories.
    method : {"euler", "exact"}
        How a trial's first passage is drawn: ``"euler"`` walks in steps of ``dt``;
        ``"exact"`` draws it from the continuous-time first-passage law (no
        discretisation; ``dt * max_steps`` is still the missed-response limit).
    first_index : int
        Stream index of the first simulation: simulating rows ``k:`` of a batch with
        ``first_index=k`` reproduces them exactly.

    Returns
    -------
    SimulationResult
        Arrays with a leading batch dimension B (B = 1 for unbatched input).

    Raises
    ------
    ValueError
        On inputs of the wrong shape or dtype, non-finite values, parameters outside
        their support, or invalid options.
    """
    theta, outcomes = broadcast_batch(check_theta(theta), check_outcomes(outcomes))
    n_simulations, n_trials = outcomes.shape[:2]
    check_simulation_options(dt, max_steps, max_retries, n_threads, method, first_index,
                             n_simulations)
    key0, key1 = stream_key(seed)
    rt = np.empty((n_simulations, n_trials))
    choice = np.empty((n_simulations, n_trials), dtype=np.int8)
    reward = np.empty((n_simulations, n_trials), dtype=np.int8)
    outcome = np.empty((n_simulations, n_trials, 2), dtype=np.int8)
    retries = np.empty((n_simulations, n_trials), dtype=np.int32)
    q = np.empty((n_simulations, n_trials + 1, 2) if return_q else (1, 1, 2))
    _sim.simulate_batch(theta, outcomes, float(dt), int(max_steps), int(max_retries), key0,
                        key1, int(first_index), METHODS.index(method),
                        _sim.max_threads() if n_threads is None else int(n_threads),
                        rt, choice, reward, outcome, retries, q, bool(return_q))
    return SimulationResult(rt, choice, reward, outcome, retries, q if return_q else None)
