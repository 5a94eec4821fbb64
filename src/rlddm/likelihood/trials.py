"""Exact log-likelihood of every registered RLDDM: the trial loop over the Wiener series.

`loglik`, `loglik_trials`, `loglik_batch` and `rt_pit` share one private core: the
model specification (``rlddm.model``) turns theta into the kernel's parameter slots,
the compiled kernel (``rlddm.simulator._sim.replay_drifts``) replays every trial's drift with
the simulator's own learning update (so the Q-learning is written once, in the
kernel, and once readably in ``rlddm.reference``), and the Wiener series (``rlddm.likelihood.wiener``) give each
answered trial's density, mixed with the lapse density where ``p_outlier > 0``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import (MAX_REWARD, check_deadline, check_q0, check_size,
                       outside_reward_range)
from ..model import DEFAULT_MODEL, DEFAULT_Q0, SLOTS, ModelSpec, get_model
from ..model.parameters import Parameter, check_columns
from ..simulator import _sim
from ..simulator.simulation import check_options
from .wiener import (_T_MAX_RTOL, _as_array, _extremes_ok, _float_array, _log_density_lower,
                     _log_response, _log_response_finite, _raise_at, _to_lower,
                     _wiener_log_density, log_prob_response,
                     wfpt_conditional_cdf, wfpt_logcdf)

__all__ = ["loglik", "loglik_trials", "loglik_batch", "rt_pit"]

# ----------------------------------------------------------------------------------
# RLDDM log-likelihood: trial data, replay, trial densities
# ----------------------------------------------------------------------------------

_SLOT = {name: SLOTS.index(name) for name in ("alpha", "beta", "ter", "p_outlier")}
# Peak memory per (data set, row, trial) element of `_trial_logliks`: about 164 bytes as
# measured with tracemalloc (200 rows x 500 trials, with and without lapses), plus a margin.
_BYTES_PER_ELEMENT = 192


@dataclass(frozen=True)
class _Trials:
    """Validated data sets in the kernel's dtypes, each array C-contiguous.

    rt, reward : (D, T) float64 (reward NaN: no feedback); choice : (D, T) int8;
    options : (D, T, 2) int32; answered : (D, T) bool (choice 0 or 1).
    """

    rt: NDArray[np.float64]
    choice: NDArray[np.int8]
    reward: NDArray[np.float64]
    options: NDArray[np.int32]
    n_options: int
    q0: float
    answered: NDArray[np.bool_]

    @property
    def shape(self) -> tuple[int, int]:
        """(D, T): data sets and trials."""
        return self.rt.shape

    @cached_property
    def answered_index(self) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """Data set and trial of every answered trial, (E,) each: fixed while theta varies."""
        return np.nonzero(self.answered)

    def take(self, indices: NDArray | slice) -> _Trials:
        """The data sets at ``indices`` (a subset of the batch, for the sampler)."""
        return replace(self, rt=self.rt[indices], choice=self.choice[indices],
                       reward=self.reward[indices], options=self.options[indices],
                       answered=self.answered[indices])


def _raise_in_data(name: str, requirement: str, values: NDArray, bad: NDArray,
                   batched: bool) -> None:
    """`_raise_at` for (D, T) data, naming the data set when the caller passed several."""
    if not np.any(bad):
        return
    dataset = int(np.argwhere(bad)[0][0])
    try:
        _raise_at(name, requirement, values[dataset], bad[dataset])
    except ValueError as err:
        raise ValueError(f"data set {dataset}: {err}" if batched else str(err)) from None


def _check_trials(rt: ArrayLike, choice: ArrayLike, reward: ArrayLike,
                  options: ArrayLike | None = None, n_options: int | None = None,
                  q0: float = DEFAULT_Q0, *, batched: bool = False) -> _Trials:
    """Validate one data set (``batched=False``: shapes (T,)) or several ((T,) or (D, T)).

    Raises
    ------
    ValueError
        Naming the argument, the bad value and its index (and data set, if batched).
    """
    shapes = "(T,) or (D, T)" if batched else "(T,)"
    arrays = []
    for name, x in (("rt", rt), ("choice", choice), ("reward", reward)):
        array = _float_array(x, name)
        if array.ndim not in ((1, 2) if batched else (1,)):
            raise ValueError(f"{name} must have shape {shapes}, got shape {array.shape}")
        arrays.append(array)
    if not arrays[0].shape == arrays[1].shape == arrays[2].shape:
        raise ValueError("rt, choice and reward must have the same shape, got shapes "
                         + ", ".join(str(array.shape) for array in arrays))
    rt, choice, reward = (np.atleast_2d(array) for array in arrays)
    if rt.shape[1] == 0:
        raise ValueError("rt, choice and reward must hold at least one trial, got 0")
    _raise_in_data("choice", "-1 (missed), 0 or 1", choice, ~np.isin(choice, (-1, 0, 1)), batched)
    answered = choice != -1
    _raise_in_data("rt", "finite on answered trials", rt, answered & ~np.isfinite(rt), batched)
    _raise_in_data("reward", f"a finite number of magnitude at most {MAX_REWARD:g}, or NaN "
                   "(no feedback), on answered trials", reward,
                   answered & outside_reward_range(reward), batched)
    options, n_options = check_options(options, n_options, rt.shape[1])
    if options.shape[0] not in (1, rt.shape[0]):
        raise ValueError(f"options must have shape (T, 2) or ({rt.shape[0]}, T, 2) for "
                         f"{rt.shape[0]} data sets, got shape {options.shape}")
    return _Trials(rt=np.ascontiguousarray(rt), choice=choice.astype(np.int8),
                   reward=np.ascontiguousarray(reward),
                   options=np.ascontiguousarray(np.broadcast_to(options, rt.shape + (2,))),
                   n_options=n_options, q0=check_q0(q0), answered=answered)


def _check_rows(theta: ArrayLike, spec: ModelSpec) -> NDArray[np.float64]:
    """Parameter rows of the model's width as a (S, n_free) float64 array, finite.

    The supports are not checked: rows outside them get ``-inf``, which suits MCMC.
    """
    anywhere = tuple(replace(p, lower=-np.inf, upper=np.inf, lower_open=True, upper_open=True)
                     for p in spec.free_parameters)
    return check_columns(_as_array(theta, "theta"), anywhere, name="theta", model=spec.label())


def _interior_point(parameters: tuple[Parameter, ...]) -> NDArray[np.float64]:
    """A harmless point of the supports, where rows outside them are evaluated (and then
    masked) so that one vectorised pass serves every row.

    A closed bound where there is one (ter 0, learning rates 0, p_outlier 0: no lapses),
    else the midpoint of a bounded support (beta 0.5), one unit inside a half-bounded
    one (alpha 1) and 0 on the real line (drift): for ``rlddm`` the point (0, 1, 0.5, 0, 0).
    """
    point = []
    for p in parameters:
        low, high = np.isfinite(p.lower), np.isfinite(p.upper)
        if low and not p.lower_open:
            point.append(p.lower)
        elif high and not p.upper_open:
            point.append(p.upper)
        elif low and high:
            point.append(0.5 * (p.lower + p.upper))
        else:
            point.append(p.lower + 1.0 if low else p.upper - 1.0 if high else 0.0)
    return np.array(point)


def _replay(spec: ModelSpec, theta: NDArray[np.float64],
            trials: _Trials) -> tuple[NDArray, NDArray, NDArray]:
    """Kernel slots, support mask and trial drifts of (D, S, n_free) parameter rows.

    Returns slots (D, S, 9), in_support (D, S) and drift rates (D, S, T), replayed by
    the compiled kernel with the simulator's own learning update and drift map.
    """
    n_sets, n_rows, width = theta.shape
    rows = theta.reshape(-1, width)
    ok = spec.in_support(rows)
    safe = np.where(ok[:, None], rows, _interior_point(spec.free_parameters))
    slots = np.ascontiguousarray(spec.slots(safe).reshape(n_sets, n_rows, len(SLOTS)))
    drifts = np.empty((n_sets, n_rows, trials.shape[1]))
    # One thread: the replay is ~0.3 ms of a 28 x 4 x 360 call, and OpenMP threads would
    # only compete with NumPy (and with parallel runs) for the cores.
    _sim.replay_drifts(slots, trials.choice, trials.reward, trials.options, trials.n_options,
                       trials.q0, int(spec.drift_map), drifts, 1)
    return slots, ok.reshape(n_sets, n_rows), drifts


def _in_domain(series, t: NDArray, choice: NDArray, v: NDArray, a: NDArray, w: NDArray,
               t_max: float) -> NDArray:
    """``series(...)`` where the decision time is in the density's domain, ``-inf`` elsewhere.

    ``-inf`` where ``t <= 0``, ``t > t_max`` (widened by `_T_MAX_RTOL`), or the
    standardised time or scaled drift leave the float range (alpha or drift near it),
    where the density is 0 in the limit as well. ``series(t, choice, v, a, w, u, u_max,
    s)`` gets the valid elements with ``u = t / a**2``, ``u_max = t_max / a**2``, ``s = v a``.
    """
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        u = t / a**2
        u_max = t_max / a**2
        s = v * a
    ok = ((t > 0) & (t <= t_max * (1.0 + _T_MAX_RTOL)) & np.isfinite(s) & (u > 0)
          & np.isfinite(u) & (u_max > 0) & np.isfinite(u_max))
    with _extremes_ok():
        if ok.all():
            return series(t, choice, v, a, w, u, u_max, s)
        out = np.full(t.shape, -np.inf)
        out[ok] = series(*(x[ok] for x in (t, choice, v, a, w, u, u_max, s)))
        return out


def _log_decision_numpy(t: NDArray, choice: NDArray, v: NDArray, a: NDArray, w: NDArray,
                        t_max: float, n_threads: int = 1) -> NDArray:
    """Log density of decision time ``t`` at boundary ``choice`` given a decision by t_max.

    The readable NumPy reference of `_log_decision` (which computes the density and its
    normaliser in the compiled kernel); the tests compare the two. It takes
    `_log_decision`'s arguments (``n_threads`` is not used: NumPy runs on one).

    ``log f(t | choice; v, a, w) - log P(T < t_max)`` elementwise on 1-d arrays, ``-inf``
    outside the domain (`_in_domain`).
    """
    def series(t, choice, v, a, w, u, u_max, s):
        return (_log_density_lower(u, *_to_lower(choice, s, w)) - 2.0 * np.log(a)
                - _log_response_finite(u_max, s, w, 1.0 - w))

    return _in_domain(series, t, choice, v, a, w, t_max)


def _log_decision(t: NDArray, choice: NDArray, v: NDArray, a: NDArray, w: NDArray,
                  t_max: float, n_threads: int = 1) -> NDArray:
    """`_log_decision_numpy` with the density and its normaliser compiled (the same domain),
    on ``n_threads`` threads (the same result for any count)."""
    def series(t, choice, v, a, w, u, u_max, s):
        return (_wiener_log_density(t, choice, v, a, w, n_threads)
                - _log_response(u_max, s, w, n_threads))

    return _in_domain(series, t, choice, v, a, w, t_max)


def _with_lapses(log_decision: NDArray, rt: NDArray, p: NDArray, t_max: float) -> NDArray:
    """Log of ``(1 - p) exp(log_decision) + p * 0.5 / t_max * [0 <= rt <= t_max]``.

    Exactly ``log_decision`` where ``p == 0``. The lapse window is not widened: a
    lapse's RT, uniform on [0, t_max), is drawn without ter and is never rounded past
    t_max by the simulator.
    """
    with np.errstate(divide="ignore"):
        log_lapse = np.where((rt >= 0) & (rt <= t_max), np.log(p) + np.log(0.5 / t_max), -np.inf)
        mixed = np.logaddexp(np.log1p(-p) + log_decision, log_lapse)
    return np.where(p > 0, mixed, log_decision)


def _trial_logliks(spec: ModelSpec, theta: NDArray[np.float64], trials: _Trials,
                   t_max: float, n_threads: int = 1) -> tuple[NDArray, NDArray]:
    """The one likelihood: per-trial log densities of (D, S, n_free) rows on (D, T) data.

    Returns ``(per_trial, in_support)``: per_trial (D, S, T) is 0 on missed trials and
    ``-inf`` on every answered trial of a row outside the support; in_support (D, S).
    The series run on the (E answered trials, S rows) grid of every row, those outside
    the support evaluated at an interior point and masked: the grid, and the data
    gathered onto it, stay the same while theta varies.
    """
    n_sets, n_rows, _ = theta.shape
    check_size(n_sets * n_rows * trials.shape[1] * _BYTES_PER_ELEMENT,
               f"the likelihood of {n_rows} parameter row(s) on {n_sets} data set(s) of "
               f"{trials.shape[1]} trials", "evaluate theta in smaller batches of rows")
    slots, ok, drifts = _replay(spec, theta, trials)
    dataset, trial = trials.answered_index
    n_elements, n_rows = dataset.size, theta.shape[1]

    def column(name: str) -> NDArray:
        return slots[:, :, _SLOT[name]][dataset].ravel()

    rt = np.repeat(trials.rt[dataset, trial], n_rows)
    per_element = _log_decision(rt - column("ter"),
                                np.repeat(trials.choice[dataset, trial], n_rows),
                                drifts[dataset, :, trial].ravel(), column("alpha"),
                                column("beta"), t_max, n_threads)
    if spec.has_lapses:
        per_element = _with_lapses(per_element, rt, column("p_outlier"), t_max)
    per_trial = np.zeros(drifts.shape)
    per_trial[dataset, :, trial] = per_element.reshape(n_elements, n_rows)
    outside = ~ok[:, :, None] & trials.answered[:, None, :]
    per_trial[outside] = -np.inf
    return per_trial, ok


def _loglik_rows(spec: ModelSpec, theta: NDArray[np.float64], trials: _Trials,
                 t_max: float, n_threads: int = 1) -> NDArray[np.float64]:
    """Total log-likelihood (D, S) of (D, S, n_free) rows; ``-inf`` outside the support.

    ``n_threads`` threads compute the Wiener series (the same result for any count)."""
    per_trial, ok = _trial_logliks(spec, theta, trials, t_max, n_threads)
    return np.where(ok, per_trial.sum(axis=-1), -np.inf)


def _prepare(theta: ArrayLike, rt: ArrayLike, choice: ArrayLike, reward: ArrayLike,
             model: str | ModelSpec, options: ArrayLike | None, n_options: int | None,
             q0: float, dt: float, max_steps: int) -> tuple[ModelSpec, NDArray, _Trials, float]:
    """Validated arguments of `loglik` and `loglik_trials`; theta as (1, S, n_free)."""
    spec = get_model(model)
    rows = _check_rows(theta, spec)
    t_max = check_deadline(dt, max_steps)
    trials = _check_trials(rt, choice, reward, options, n_options, q0)
    return spec, rows[None], trials, t_max


def loglik(theta: ArrayLike, rt: ArrayLike, choice: ArrayLike, reward: ArrayLike, *,
           model: str | ModelSpec = DEFAULT_MODEL, options: ArrayLike | None = None,
           n_options: int | None = None, q0: float = DEFAULT_Q0, dt: float = 0.01,
           max_steps: int = 900) -> NDArray | float:
    """RLDDM log-likelihood of one data set, for one or many parameter vectors.

    On each answered trial the drift comes from the Q-values of the two presented
    options before the trial (the model's drift map, e.g. ``drift * (Q_first -
    Q_second)``), replayed by the compiled kernel with the simulator's own update. A
    decision trial contributes the Wiener density of ``rt - ter`` at the chosen
    boundary divided by ``P(decision time < t_max)``, because the simulator re-runs
    trials without a decision in time. With ``p = p_outlier > 0`` the trial density is
    ``(1 - p) * that + p * 0.5 / t_max * [0 <= rt <= t_max]`` (a lapse: RT uniform on
    the window, choice 50/50), so an RT faster than ter is possible; ``p = 0`` gives
    the decision density alone, exactly. Then the chosen option's Q-value learns from
    the reward (not at all on a NaN reward: no feedback).

    Missed trials (``choice == -1``) are skipped: they leave Q unchanged and add
    nothing to the likelihood (their ``rt`` and ``reward`` are ignored).

    Parameters
    ----------
    theta : array_like, shape (n_free,) or (S, n_free)
        Free parameters of ``model`` per row (for ``rlddm``: drift, alpha, beta, ter,
        kappa). Rows outside the support get ``-inf``, which suits MCMC; non-finite
        values raise.
    rt : array_like, shape (T,)
        Response times in seconds; finite on answered trials.
    choice : array_like, shape (T,)
        0 (first option, upper boundary), 1 (second option, lower boundary) or -1
        (missed).
    reward : array_like, shape (T,)
        Reward of the chosen option: a finite number of magnitude at most
        ``rlddm._checks.MAX_REWARD`` (half the float range, so that prediction errors
        stay finite), or NaN for no feedback.
    model : str or ModelSpec, keyword-only
        A registered model (``rlddm.model.list_models()``) or a spec with fixed values;
        theta's columns are its free parameters (``get_model(model).names``).
    options : array_like of int, shape (T, 2), optional, keyword-only
        The two options presented on each trial (choice 0 picks the first); options
        0 and 1 on every trial by default.
    n_options : int, optional, keyword-only
        Number of options (one more than the largest index by default).
    q0 : float, keyword-only
        Initial Q-value of every option.
    dt, max_steps : float, int, keyword-only
        Simulator step and step limit; ``t_max = max_steps * dt`` is the deadline of
        the decision time (and the end of a lapse's RT window).

    Returns
    -------
    float or ndarray, shape (S,)
        Log-likelihood: a float for 1-d ``theta``, else one value per row; the sum of
        `loglik_trials`. Without lapses, a decision time ``rt - ter`` that is ``<= 0``
        or above ``t_max`` is impossible and gives ``-inf`` (``t_max`` is widened by a
        relative 1e-6 so that simulated ``rt = max_steps * dt + ter`` survives
        rounding, even to float32).

    Raises
    ------
    ValueError
        On an unknown model, wrong shapes, non-finite ``theta``, invalid data or
        options, or invalid simulator settings, naming the argument and value; or an
        evaluation whose arrays would exceed ``rlddm._checks.MAX_BYTES`` (split theta).
    """
    spec, rows, trials, t_max = _prepare(theta, rt, choice, reward, model, options, n_options,
                                         q0, dt, max_steps)
    total = _loglik_rows(spec, rows, trials, t_max)[0]
    return float(total[0]) if np.ndim(theta) == 1 else total


def loglik_trials(theta: ArrayLike, rt: ArrayLike, choice: ArrayLike, reward: ArrayLike, *,
                  model: str | ModelSpec = DEFAULT_MODEL, options: ArrayLike | None = None,
                  n_options: int | None = None, q0: float = DEFAULT_Q0, dt: float = 0.01,
                  max_steps: int = 900) -> NDArray[np.float64]:
    """Per-trial log-likelihood of one data set (pointwise, as LOO-CV needs it).

    The terms whose sum is `loglik` (same arguments, same code path).

    Parameters
    ----------
    theta : array_like, shape (n_free,) or (S, n_free)
    rt, choice, reward : array_like, shape (T,)
    options : array_like of int, shape (T, 2), optional, keyword-only
    model, n_options, q0, dt, max_steps : keyword-only
        All as in `loglik`.

    Returns
    -------
    ndarray of float64, shape (T,) for 1-d ``theta``, else (S, T)
        Log density of each trial given the ones before it; 0 on missed trials, and
        ``-inf`` on every answered trial for a row outside the support.

    Raises
    ------
    ValueError
        As `loglik`.
    """
    spec, rows, trials, t_max = _prepare(theta, rt, choice, reward, model, options, n_options,
                                         q0, dt, max_steps)
    per_trial = _trial_logliks(spec, rows, trials, t_max)[0][0]
    return per_trial[0] if np.ndim(theta) == 1 else per_trial


def loglik_batch(theta: ArrayLike, rt: ArrayLike, choice: ArrayLike, reward: ArrayLike, *,
                 model: str | ModelSpec = DEFAULT_MODEL, options: ArrayLike | None = None,
                 n_options: int | None = None, q0: float = DEFAULT_Q0, dt: float = 0.01,
                 max_steps: int = 900) -> NDArray[np.float64]:
    """Log-likelihood of many data sets, each for many parameter vectors.

    The same likelihood as `loglik` (the same private core), evaluated for all (data
    set, parameter vector) pairs in one pass.

    Parameters
    ----------
    theta : array_like, shape (D, S, n_free)
        ``S`` parameter vectors for each of the ``D`` data sets. Rows outside the
        support get ``-inf``; non-finite values raise, as in `loglik`.
    rt, choice, reward : array_like, shape (D, T) or (T,)
        Data sets as in `loglik`; data sets of different lengths are padded with
        missed trials (``choice == -1``).
    options : array_like of int, shape (T, 2) or (D, T, 2), optional, keyword-only
        Presented options (shared by all data sets if (T, 2)).
    model, n_options, q0, dt, max_steps : keyword-only
        As in `loglik`.

    Returns
    -------
    ndarray of float64, shape (D, S)

    Raises
    ------
    ValueError
        On wrong shapes or invalid data, naming the data set, or arrays beyond
        ``rlddm._checks.MAX_BYTES``.
    """
    spec = get_model(model)
    trials = _check_trials(rt, choice, reward, options, n_options, q0, batched=True)
    n_sets = trials.shape[0]
    array = _as_array(theta, "theta")
    if array.ndim != 3 or array.shape[0] != n_sets or array.shape[2] != spec.n_free:
        raise ValueError(
            f"theta must have shape ({n_sets}, S, {spec.n_free}) for {n_sets} data sets and "
            f"model {spec.label()!r} (order {', '.join(spec.names)}), got shape {array.shape}")
    rows = _check_rows(array.reshape(-1, spec.n_free), spec).reshape(array.shape)
    return _loglik_rows(spec, rows, trials, check_deadline(dt, max_steps))


def rt_pit(theta: ArrayLike, rt: ArrayLike, choice: ArrayLike, reward: ArrayLike, *,
           model: str | ModelSpec = DEFAULT_MODEL, options: ArrayLike | None = None,
           n_options: int | None = None, q0: float = DEFAULT_Q0, dt: float = 0.01,
           max_steps: int = 900) -> NDArray[np.float64]:
    """Probability integral transform of observed RTs under the continuous-time model.

    Each answered trial's RT goes through its CDF given the choice made, the trial's
    drift (from the Q-values replayed from the choices and rewards before it) and a
    response by the deadline: for ``p_outlier = 0`` the decision time's
    ``P(T <= rt - ter | boundary, T <= t_max)``; for ``p_outlier > 0`` the CDF of the
    mixture of decision and lapse RTs given the choice. Data from the model give
    values uniform on (0, 1): a check of a simulator, or of a fitted participant.

    Parameters
    ----------
    theta : array_like, shape (n_free,) or (B, n_free)
        Parameters of each data set (one row for all, or one per data set), inside
        the support.
    rt, choice, reward : array_like, shape (T,) or (B, T)
        Data sets as in `loglik`; missed trials (``choice == -1``) give NaN.
    options : array_like of int, shape (T, 2) or (B, T, 2), optional, keyword-only
        Presented options, as in `loglik_batch`.
    model, n_options, q0, dt, max_steps : keyword-only
        As in `loglik`.

    Returns
    -------
    ndarray, shape (B, T)
        PIT values, NaN on missed trials.

    Raises
    ------
    ValueError
        On invalid data, options or settings, or theta outside the support.
    """
    spec = get_model(model)
    trials = _check_trials(rt, choice, reward, options, n_options, q0, batched=True)
    t_max = check_deadline(dt, max_steps)
    theta = spec.check_theta(theta)
    n_sets = trials.shape[0]
    if theta.shape[0] not in (1, n_sets):
        raise ValueError(f"theta must have shape ({spec.n_free},) or ({n_sets}, {spec.n_free}) "
                         f"for {n_sets} data sets, got shape {theta.shape}")
    theta = np.ascontiguousarray(np.broadcast_to(theta, (n_sets, spec.n_free))[:, None])
    slots, _, drifts = _replay(spec, theta, trials)
    dataset, trial = np.nonzero(trials.answered)
    params = slots[dataset, 0]
    v, a, w = drifts[dataset, 0, trial], params[:, _SLOT["alpha"]], params[:, _SLOT["beta"]]
    rt, choice = trials.rt[dataset, trial], trials.choice[dataset, trial]
    pit = wfpt_conditional_cdf(rt - params[:, _SLOT["ter"]], choice, v, a, w, t_max)
    p = params[:, _SLOT["p_outlier"]]
    if np.any(p > 0):
        # Given the choice, a decision trial has weight (1 - p) P(boundary | decision in
        # time) and a lapse p / 2; the RT CDF is the weighted mixture of the two CDFs.
        decision = (1.0 - p) * np.exp(wfpt_logcdf(t_max, choice, v, a, w)
                                      - log_prob_response(v, a, w, t_max))
        lapse = 0.5 * p
        pit = np.where(p > 0, (decision * pit + lapse * np.clip(rt / t_max, 0.0, 1.0))
                       / (decision + lapse), pit)
    out = np.full(trials.shape, np.nan)
    out[dataset, trial] = pit
    return out
