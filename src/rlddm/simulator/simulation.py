"""Validated entry point to the compiled RLDDM simulator (``rlddm._sim``)."""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import (MAX_REWARD, check_count, check_deadline, check_q0, check_size,
                      outside_reward_range)
from . import _sim
from .._seeding import SeedLike, stream_key
from ..model import DEFAULT_MODEL, DEFAULT_Q0, ModelSpec, get_model

METHODS = ("euler", "exact")
DEFAULT_MAX_RETRIES = 1000
# Bytes per trial of the outputs: rt, reward (float64), outcome (2 x float64), options
# (2 x int32), retries (int32), choice, lapse (int8); q adds 8 per option per trial.
_BYTES_PER_TRIAL = 8 + 8 + 16 + 8 + 4 + 1 + 1


@dataclass(frozen=True)
class SimulationResult:
    """Trial-level output of a batch of simulated data sets.

    Attributes
    ----------
    rt : ndarray of float64, shape (B, T)
        Response times in seconds (decision time + ter; a lapse's uniform time without
        ter); NaN for a missed response.
    choice : ndarray of int8, shape (B, T)
        0 = the trial's first option (upper boundary, alpha), 1 = its second option
        (lower boundary, 0), -1 = missed response.
    reward : ndarray of float64, shape (B, T)
        The chosen option's outcome; 0 for a missed response, NaN on a trial without
        feedback.
    outcome : ndarray of float64, shape (B, T, 2)
        Outcomes as the forum post records them: the chosen option's outcome, 0 for the
        option not chosen (both 0 for a missed response).
    retries : ndarray of int32, shape (B, T)
        How often each trial was run again because no boundary was reached.
    lapse : ndarray of bool, shape (B, T)
        Whether the trial was a contaminant response (only with ``p_outlier`` > 0).
    options : ndarray of int32, shape (B, T, 2)
        The two options presented on each trial (choice 0 picks the first).
    q : ndarray of float64, shape (B, T + 1, K), or None
        Q-values of all K options before each trial and after the last one, if requested.
    """

    rt: NDArray[np.float64]
    choice: NDArray[np.int8]
    reward: NDArray[np.float64]
    outcome: NDArray[np.float64]
    retries: NDArray[np.int32]
    lapse: NDArray[np.bool_]
    options: NDArray[np.int32]
    q: NDArray[np.float64] | None = None

    @property
    def n_missed(self) -> NDArray[np.int64]:
        """Missed responses per data set, shape (B,)."""
        return np.count_nonzero(self.choice == -1, axis=1)


@dataclass(frozen=True)
class SimulationInputs:
    """Everything a simulator needs, validated and broadcast to one batch size B.

    ``slots`` (B, 9), ``outcomes`` (B, T, 2) and ``options`` (B, T, 2) may be read-only
    broadcast views; the scalars are plain Python numbers.
    """

    model: ModelSpec
    slots: NDArray[np.float64]
    outcomes: NDArray[np.float64]
    options: NDArray[np.int32]
    n_options: int
    q0: float
    dt: float
    max_steps: int
    max_retries: int
    method: str
    first_index: int
    n_threads: int
    key: tuple[int, int]

    @property
    def shape(self) -> tuple[int, int]:
        """(B, T): data sets and trials."""
        return self.outcomes.shape[:2]


def _as_array(value: ArrayLike, name: str) -> NDArray:
    """``np.asarray(value)``, with NumPy's errors on ragged or odd input naming ``name``."""
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{name} must be an array of numbers, got {value!r} ({error})") from None


def check_outcomes(outcomes: ArrayLike, *, name: str = "outcomes") -> NDArray[np.float64]:
    """Validate potential-outcome matrices and return them as a (B, T, 2) float64 array.

    Parameters
    ----------
    outcomes : array_like, shape (T, 2) or (B, T, 2)
        The two presented options' potential outcomes on every trial, in the order of
        ``options``: any real reward, or NaN for a trial without feedback.
    name : str
        Argument name used in error messages.

    Raises
    ------
    ValueError
        On a non-numeric dtype, a wrong shape, or a value that is infinite or beyond
        :data:`rlddm._checks.MAX_REWARD` in magnitude (prediction errors must stay finite).
    """
    array = _as_array(outcomes, name)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be a real numeric array, got dtype {array.dtype}")
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3 or array.shape[2] != 2 or 0 in array.shape[:2]:
        raise ValueError(
            f"{name} must have shape (T, 2) or (B, T, 2) with B, T >= 1, got shape "
            f"{np.shape(outcomes)}"
        )
    with np.errstate(over="ignore"):
        array = np.ascontiguousarray(array, dtype=np.float64)
    bad = outside_reward_range(array)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name} must be finite numbers of magnitude at most {MAX_REWARD:g} "
                         f"(or NaN for no feedback), got {array[index].item()!r} at {index}")
    return array


def check_options(options: ArrayLike | None, n_options: int | None,
                  n_trials: int) -> tuple[NDArray[np.int32], int]:
    """Validate the presented options; return them as (B, T, 2) int32 and the option count.

    Parameters
    ----------
    options : array_like of int, shape (T, 2) or (B, T, 2), or None
        Indices of the two options presented on each trial; None presents options
        0 and 1 on every trial.
    n_options : int or None
        Number of options K (Q-values per simulation); None means one more than the
        largest index used (at least 2).
    n_trials : int
        T of the outcomes.

    Raises
    ------
    ValueError
        On a wrong shape, a non-integer dtype, a negative index, an index
        >= ``n_options``, one option presented twice on a trial, or ``n_options`` < 2.
    """
    if n_options is not None:
        check_count(n_options, "n_options", 2)
    if options is None:
        array = np.broadcast_to(np.array([0, 1], dtype=np.int32), (1, n_trials, 2))
    else:
        array = _as_array(options, "options")
        if array.dtype.kind not in "iu":
            raise ValueError(f"options must be an integer array, got dtype {array.dtype}")
        if array.ndim == 2:
            array = array[None]
        if array.ndim != 3 or array.shape[1:] != (n_trials, 2) or array.shape[0] == 0:
            raise ValueError(f"options must have shape (T, 2) or (B, T, 2) with T = {n_trials} "
                             f"(the trials of outcomes), got shape {np.shape(options)}")
        checks = ((array < 0, "must be >= 0"), (array[..., 0] == array[..., 1],
                                                 "must name two different options per trial"))
        for bad, rule in checks:
            if bad.any():
                index = tuple(int(i) for i in np.argwhere(bad)[0])
                raise ValueError(f"options {rule}, got {array[index[:2]].tolist()} at "
                                 f"(data set, trial) {index[:2]}")
    largest = int(array.max())
    if n_options is None:
        n_options = max(largest + 1, 2)
    if largest >= n_options:
        index = tuple(int(i) for i in np.argwhere(array == largest)[0])
        raise ValueError(f"options must be < n_options = {n_options}, got {largest} at "
                         f"{index}")
    if n_options >= 2**31:
        raise ValueError(f"n_options must be < 2**31, got {n_options!r}")
    return np.ascontiguousarray(array, dtype=np.int32), int(n_options)


def check_simulation_options(dt: float, max_steps: int, max_retries: int, n_threads: int | None,
                             method: str, first_index: int, n_simulations: int) -> None:
    """Validate the scalar options shared by the compiled and the reference simulator."""
    check_deadline(dt, max_steps)
    check_count(max_retries, "max_retries", 0)
    if max_retries >= 2**31 - 1:
        raise ValueError(f"max_retries must be < 2**31 - 1, got {max_retries!r}")
    if n_threads is not None:
        check_count(n_threads, "n_threads", 1)
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    check_count(first_index, "first_index", 0)
    if first_index + n_simulations > 2**64:
        raise ValueError(f"first_index + batch size must be <= 2**64, got {first_index!r}")


def broadcast_batch(**arrays: NDArray) -> list[NDArray]:
    """Broadcast arrays with a leading batch axis to one batch size B.

    Each array's leading size must be 1 or B; the keyword names are the arguments named
    in the error message.
    """
    sizes = {name: array.shape[0] for name, array in arrays.items()}
    n_simulations = max(sizes.values())
    if any(size not in (1, n_simulations) for size in sizes.values()):
        listed = ", ".join(f"{name} has {size}" for name, size in sizes.items())
        raise ValueError(f"batch sizes differ ({listed}); pass each one unbatched or give "
                         "them the same batch size")
    return [np.broadcast_to(array, (n_simulations,) + array.shape[1:])
            for array in arrays.values()]


def owned_copy(array: NDArray) -> NDArray:
    """A C-contiguous copy of a possibly broadcast batch array, for a result to own.

    A batch broadcast from one entry is copied by repeating that entry, which is much
    faster than copying through zero strides.
    """
    if array.shape[0] > 1 and array.strides[0] == 0:
        return np.repeat(np.ascontiguousarray(array[:1]), array.shape[0], axis=0)
    return np.array(array, order="C")


def check_output_size(n_simulations: int, n_trials: int, n_options: int,
                      return_q: bool) -> None:
    """Refuse a call whose outputs would exceed 8 GiB (:func:`rlddm._checks.check_size`)."""
    per_simulation = n_trials * _BYTES_PER_TRIAL + 8 * n_options
    if return_q:
        per_simulation += 8 * (n_trials + 1) * n_options
    check_size(n_simulations * per_simulation,
               f"the outputs of {n_simulations} data sets of {n_trials} trials ({n_options} "
               f"options, return_q={return_q})",
               "simulate in smaller batches (first_index continues the streams)")


def check_simulation_inputs(theta: ArrayLike, outcomes: ArrayLike, *, model: str | ModelSpec,
                            options: ArrayLike | None, n_options: int | None, q0: float,
                            dt: float, max_steps: int, max_retries: int, seed: SeedLike,
                            n_threads: int | None, return_q: bool, method: str,
                            first_index: int) -> SimulationInputs:
    """Validate and broadcast the arguments of :func:`simulate` (shared with the reference).

    Raises
    ------
    ValueError
        Naming the argument and the bad value; see :func:`simulate`.
    """
    spec = get_model(model)
    theta = spec.check_theta(theta)
    outcomes = check_outcomes(outcomes)
    options, n_options = check_options(options, n_options, outcomes.shape[1])
    q0 = check_q0(q0)
    if not isinstance(return_q, (bool, np.bool_)):
        raise ValueError(f"return_q must be True or False, got {return_q!r}")
    slots, outcomes, options = broadcast_batch(theta=spec.slots(theta), outcomes=outcomes,
                                               options=options)
    n_simulations, n_trials = outcomes.shape[:2]
    check_simulation_options(dt, max_steps, max_retries, n_threads, method, first_index,
                             n_simulations)
    check_output_size(n_simulations, n_trials, n_options, bool(return_q))
    # More threads than OpenMP offers only oversubscribe the cores (and a huge count
    # cannot be started at all), so requests are capped.
    threads = _sim.max_threads() if n_threads is None else min(int(n_threads),
                                                               _sim.max_threads())
    return SimulationInputs(model=spec, slots=slots, outcomes=outcomes, options=options,
                            n_options=n_options, q0=q0, dt=float(dt), max_steps=int(max_steps),
                            max_retries=int(max_retries), method=method,
                            first_index=int(first_index), n_threads=threads,
                            key=stream_key(seed))


def simulate(theta: ArrayLike, outcomes: ArrayLike, *, model: str | ModelSpec = DEFAULT_MODEL,
             options: ArrayLike | None = None, n_options: int | None = None,
             q0: float = DEFAULT_Q0, dt: float = 0.01, max_steps: int = 900,
             max_retries: int = DEFAULT_MAX_RETRIES, seed: SeedLike = None,
             n_threads: int | None = None, return_q: bool = False, method: str = "euler",
             first_index: int = 0) -> SimulationResult:
    """Simulate RLDDM data sets with the compiled kernel.

    Every option has a Q-value, all starting at ``q0``. Each trial presents two options
    ``(i, j)``; it runs a diffusion with drift ``drift * (Q_i - Q_j)`` (or the model's
    sigmoid map) from ``alpha * beta``; reaching ``alpha`` is choice 0 (option ``i``),
    reaching 0 is choice 1 (option ``j``), and RT is the decision time plus ``ter``. A
    walk that reaches no boundary within ``max_steps`` steps is run again with the same
    Q-values and outcomes (the missed-response retry); a trial still unanswered after
    ``max_retries`` retries is recorded as a missed response (choice -1, RT NaN,
    reward 0) and leaves the Q-values unchanged. Only the chosen option's outcome is
    experienced and learned by the model's rule (``Q_c += kappa * (reward - Q_c)`` for
    ``"rlddm"``); a NaN outcome gives no feedback (reward NaN, nothing learned). With
    ``p_outlier`` > 0 a trial is, with that probability, a lapse: either option with
    probability 1/2 and RT uniform on ``[0, dt * max_steps]``, learned from like any
    other trial.

    Parameters
    ----------
    theta : array_like, shape (n_free,) or (B, n_free)
        The model's free parameters in the order of ``get_model(model).names``
        (``"rlddm"``: drift, alpha, beta, ter, kappa).
    outcomes : array_like, shape (T, 2) or (B, T, 2)
        Potential outcomes of the two presented options per trial, in the order of
        ``options`` (e.g. from :func:`rlddm.reversal_outcomes`); real values, NaN for
        no feedback. One matrix is shared by all rows of ``theta``.
    model : str or ModelSpec
        A registered model (:func:`rlddm.model.list_models`) or a spec with fixed values.
    options : array_like of int, shape (T, 2) or (B, T, 2), optional
        Indices in ``[0, n_options)`` of the two options presented per trial; by default
        options 0 and 1 on every trial.
    n_options : int, optional
        Number of options K >= 2; by default one more than the largest index used.
    q0 : float
        Initial Q-value of every option.
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
        OpenMP threads; all available by default, and at most :func:`rlddm._sim.max_threads`.
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
        their support, invalid options, or outputs larger than 8 GiB.
    """
    inputs = check_simulation_inputs(theta, outcomes, model=model, options=options,
                                     n_options=n_options, q0=q0, dt=dt, max_steps=max_steps,
                                     max_retries=max_retries, seed=seed, n_threads=n_threads,
                                     return_q=return_q, method=method, first_index=first_index)
    n_simulations, n_trials = inputs.shape
    rt = np.empty((n_simulations, n_trials))
    choice = np.empty((n_simulations, n_trials), dtype=np.int8)
    reward = np.empty((n_simulations, n_trials))
    outcome = np.empty((n_simulations, n_trials, 2))
    retries = np.empty((n_simulations, n_trials), dtype=np.int32)
    lapse = np.empty((n_simulations, n_trials), dtype=np.bool_)
    q = np.empty((n_simulations, n_trials + 1, inputs.n_options) if return_q else (1, 1, 1))
    _sim.simulate_batch(inputs.slots, inputs.outcomes, inputs.options, inputs.n_options,
                        inputs.q0, int(inputs.model.drift_map), inputs.dt, inputs.max_steps,
                        inputs.max_retries, *inputs.key, inputs.first_index,
                        METHODS.index(inputs.method), inputs.n_threads, rt, choice, reward,
                        outcome, retries, lapse.view(np.int8), q, bool(return_q))
    return SimulationResult(rt=rt, choice=choice, reward=reward, outcome=outcome,
                            retries=retries, lapse=lapse,
                            options=owned_copy(inputs.options),
                            q=q if return_q else None)
