"""Network input from recorded trials, in NumPy alone: features, statistics, the ter map.

Nothing here imports Keras: the simulator for training (``rlddm.amortized.networks``)
and the fitting of real participants both encode trials with these functions.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from ..model.priors import Priors
from ..simulator import _sim
from ..task.reversal import ReversalDesign

BASIC_FEATURES: tuple[str, ...] = ("rt", "choice", "reward", "choice_x_reward", "position",
                                    "phase")
"""Per-trial network input. ``choice`` is +1 for the upper boundary (choice 0) and -1 for
the lower; ``reward`` is +1/-1 for the chosen arm's outcome 1/0 (never the other arm's);
``position`` is the trial index over ``max_trials``; ``phase`` is trials since the last
reversal over the reversal period."""

KAPPA_GRID: tuple[float, ...] = (0.1, 0.3, 0.5, 0.7, 0.9)
"""Learning rates at which ``Q0 - Q1`` is replayed per trial from the observed choices and
rewards (per-trial columns ``dq_kappa_*``).

A trial's drift is ``drift * (Q0 - Q1)`` with Q from the true kappa, so how RT and choice
co-vary with these replayed differences tells which kappa generated the data; the
network no longer has to learn the Q-learning recursion itself. They use only what an
experiment records."""

FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "basic": BASIC_FEATURES,
    "q_grid": BASIC_FEATURES + tuple(f"dq_kappa_{kappa:g}" for kappa in KAPPA_GRID),
    "q_stats": BASIC_FEATURES + tuple(f"dq_kappa_{kappa:g}" for kappa in KAPPA_GRID),
}
"""Per-trial columns of each feature set. ``"q_stats"`` adds :func:`likelihood_statistics`
as direct conditions of the inference network."""

STATISTICS_GRID: tuple[float, ...] = tuple(round(0.05 * i, 2) for i in range(1, 20))
"""Learning rates (0.05 to 0.95) at which :func:`likelihood_statistics` replays Q."""

RT_QUANTILES: tuple[float, ...] = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
"""Response-time quantiles per boundary among the ``"q_stats"`` direct conditions.

Twelve rather than five (0.1, 0.3, ..., 0.9) brought the amortized posterior means of
alpha, beta and ter from 0.27 / 0.33 / 0.28 to 0.23 / 0.23 / 0.25 exact-posterior SDs
of the exact ones (same budget, 196 reference data sets)."""

STATISTIC_NAMES: tuple[str, ...] = (
    tuple(f"{stat}_kappa_{kappa:g}" for stat in ("upper_dq", "dq", "dq2_rt", "dq2")
          for kappa in STATISTICS_GRID)
    + ("p_upper", "min_rt")
    + tuple(f"rt_{side}_q{round(100 * q)}" for side in ("upper", "lower") for q in RT_QUANTILES)
)
"""Columns of :func:`likelihood_statistics`."""


def replayed_q_differences(choice: ArrayLike, reward: ArrayLike,
                           learning_rates: tuple[float, ...] = KAPPA_GRID) -> NDArray[np.float64]:
    """``Q0 - Q1`` before each trial, replayed from observed choices and rewards.

    Parameters
    ----------
    choice : array_like of int, shape (B, T)
        0 (upper boundary, arm 0), 1 (lower boundary, arm 1) or -1 (missed: Q unchanged).
    reward : array_like of int, shape (B, T)
        The chosen arm's outcome, 0 or 1.
    learning_rates : sequence of float
        K learning rates in [0, 1].

    Returns
    -------
    ndarray of float64, shape (B, T, K)
        Q-values start at 0.5; compiled (``rlddm._sim.replay_q_differences``).
    """
    choice = np.ascontiguousarray(choice, dtype=np.int8)
    reward = np.ascontiguousarray(reward, dtype=np.float64)
    rates = np.ascontiguousarray(learning_rates, dtype=np.float64)
    if choice.ndim != 2 or reward.shape != choice.shape:
        raise ValueError(f"choice and reward must have one shape (B, T), got {choice.shape} "
                         f"and {reward.shape}")
    if rates.ndim != 1 or not np.all((rates >= 0) & (rates <= 1)):
        raise ValueError(f"learning_rates must be a sequence of values in [0, 1], got {rates!r}")
    out = np.empty(choice.shape + (rates.size,))
    _sim.replay_q_differences(choice, reward, rates, out)
    return out


def _sorted_quantiles(ordered: NDArray, start: NDArray, count: NDArray) -> NDArray[np.float64]:
    """:data:`RT_QUANTILES` (NumPy's linear method) of a sorted stretch of each row.

    The stretch of row ``b`` is ``ordered[b, start[b]:start[b] + count[b]]``; rows with
    ``count`` 0 give meaningless values, which callers replace.
    """
    last = np.maximum(count - 1, 0)[:, None]
    position = np.asarray(RT_QUANTILES)[None, :] * last
    below = np.floor(position).astype(np.intp)
    end = ordered.shape[1] - 1  # keeps empty stretches' indices in range
    low = np.take_along_axis(ordered, np.minimum(start[:, None] + below, end), axis=1)
    high = np.take_along_axis(ordered, np.minimum(start[:, None] + np.minimum(below + 1, last),
                                                  end), axis=1)
    return low + (position - below) * (high - low)


def _boundary_quantiles(rt: NDArray[np.float64], upper: NDArray[np.bool_]) -> list[NDArray]:
    """:data:`RT_QUANTILES` of each row's upper- and lower-boundary response times.

    One sort serves both boundaries: lower-boundary times are shifted past every
    upper-boundary one (and back after, exact to about 1e-15 s). A boundary that a row
    never reached gets the quantiles of all its responses. Vectorised, unlike
    ``np.nanquantile``.
    """
    n_sets, n_trials = rt.shape
    shift = float(rt.max()) + 1.0
    ordered = np.sort(np.where(upper, rt, rt + shift), axis=1)
    n_upper = upper.sum(axis=1)
    zeros = np.zeros(n_sets, dtype=np.intp)
    upper_quantiles = _sorted_quantiles(ordered, zeros, n_upper)
    lower_quantiles = _sorted_quantiles(ordered, n_upper, n_trials - n_upper) - shift
    one_sided = (n_upper == 0) | (n_upper == n_trials)
    if one_sided.any():
        everything = _sorted_quantiles(np.sort(rt[one_sided], axis=1), zeros[one_sided],
                                       np.full(int(one_sided.sum()), n_trials))
        upper_quantiles[n_upper == 0] = everything[n_upper[one_sided] == 0]
        lower_quantiles[n_upper == n_trials] = everything[n_upper[one_sided] == n_trials]
    return [upper_quantiles, lower_quantiles]


def likelihood_statistics(rt: NDArray, choice: NDArray, reward: NDArray) -> NDArray[np.float64]:
    """Per-data-set statistics on which the likelihood of (drift, kappa) depends.

    The Wiener density factorises in the drift (Navarro & Fuss 2009): with decision
    time ``tau = rt - ter``, ``log f(tau, upper | v, a, w) = log f(tau, upper | 0, a, w)
    + v a (1 - w) - v**2 tau / 2`` and ``log f(tau, lower | v, a, w) = log f(tau, lower
    | 0, a, w) - v a w - v**2 tau / 2``. With ``v_t = drift * x_t`` and ``x_t`` the
    replayed ``Q0 - Q1`` at learning rate kappa, a data set's log-likelihood is a term
    free of drift and kappa plus ``drift * a * (U - w * X) - drift**2 / 2 * (R - ter *
    S)``, where ``U = sum over upper choices of x_t``, ``X = sum x_t``, ``R = sum x_t**2
    rt_t`` and ``S = sum x_t**2``. Given kappa these four numbers are sufficient for
    drift (up to the small retry-truncation term); tabulated over
    :data:`STATISTICS_GRID` they carry nearly all the data say about kappa, which a
    summary network would otherwise have to discover. Each is divided by the number of
    trials. The remaining columns summarise the drift-free part (boundary, start point,
    non-decision time): the fraction of upper-boundary choices, the fastest response,
    and :data:`RT_QUANTILES` of the response times at each boundary (a boundary that was
    never reached gets the quantiles of all responses).

    Parameters
    ----------
    rt, choice, reward : ndarray, shape (B, T)
        Response times (seconds), choices 0/1 and the chosen arm's rewards 0/1 of
        answered trials, as checked by :func:`encode_trials`.

    Returns
    -------
    ndarray of float64, shape (B, len(STATISTIC_NAMES))
        Columns :data:`STATISTIC_NAMES`.

    Raises
    ------
    ValueError
        On shapes that differ, values other than 0/1, or non-finite or non-positive
        response times.
    """
    rt = np.asarray(rt, dtype=np.float64)
    if rt.ndim != 2 or np.shape(choice) != rt.shape or np.shape(reward) != rt.shape:
        raise ValueError("rt, choice and reward must have one shape (B, T), got "
                         f"{rt.shape}, {np.shape(choice)} and {np.shape(reward)}")
    if not np.all(np.isin(choice, (0, 1))) or not np.all(np.isin(reward, (0, 1))):
        raise ValueError("choice and reward must be 0 or 1 (answered trials only)")
    if not np.all(np.isfinite(rt) & (rt > 0)):
        raise ValueError("rt must be finite and > 0")
    return _likelihood_statistics(rt, np.asarray(choice, dtype=np.int8),
                                  np.asarray(reward, dtype=np.int8))


def _likelihood_statistics(rt: NDArray[np.float64], choice: NDArray[np.int8],
                           reward: NDArray[np.int8]) -> NDArray[np.float64]:
    """:func:`likelihood_statistics` without the input checks (for valid simulations)."""
    choice = np.ascontiguousarray(choice)
    sums = np.empty((choice.shape[0], 4, len(STATISTICS_GRID)))
    _sim.replay_sums(choice, np.ascontiguousarray(reward, dtype=np.float64),
                     np.ascontiguousarray(rt),
                     np.asarray(STATISTICS_GRID, dtype=np.float64), sums)
    per_rate = sums.reshape(choice.shape[0], -1) / choice.shape[1]
    upper = choice == 0
    return np.concatenate([per_rate, upper.mean(axis=1, keepdims=True),
                           rt.min(axis=1, keepdims=True)] + _boundary_quantiles(rt, upper),
                          axis=1)


TER_NETWORK_NAME = "ter_below_fastest_rt"
"""Name of the network's ter variable when ``InferenceConfig.ter_below_fastest_rt``."""


def _ter_interval(priors: Priors, fastest_rt: NDArray) -> tuple[float, NDArray]:
    """Where ter can lie given the data: from its prior's lower bound to the fastest RT."""
    prior = priors["ter"]
    return prior.lower, np.minimum(prior.upper, fastest_rt)


def ter_to_network(ter: ArrayLike, fastest_rt: ArrayLike, priors: Priors) -> NDArray[np.float64]:
    """ter as the network learns it: ``logit((hi - ter) / (hi - lo))``.

    ``lo`` is the prior's lower bound and ``hi = min(prior upper bound, fastest RT)``:
    a data set rules out every ter at or above its fastest response, so the posterior
    lives in ``(lo, hi)``, and near ``hi`` this is the log of the gap between ter and
    the fastest response. The fastest RT is a function of the data, so this is an exact
    reparametrisation of the posterior. Shapes broadcast.

    Raises
    ------
    ValueError
        If a ter lies outside ``[lo, hi)``.
    """
    lower, upper = _ter_interval(priors, np.asarray(fastest_rt, dtype=np.float64))
    ter = np.asarray(ter, dtype=np.float64)
    inside = (ter >= lower) & (ter < upper)
    if not np.all(inside):
        bad = np.broadcast_arrays(ter, upper)
        index = np.argwhere(~inside)[0]
        raise ValueError(f"ter must lie in [prior lower bound, min(prior upper bound, fastest "
                         f"rt)), got ter {float(bad[0][tuple(index)])!r} with upper end "
                         f"{float(bad[1][tuple(index)])!r}")
    gap = (upper - ter) / (upper - lower)
    with np.errstate(divide="ignore"):
        return np.log(gap) - np.log1p(-gap)


def ter_from_network(value: ArrayLike, fastest_rt: ArrayLike, priors: Priors) -> NDArray[np.float64]:
    """Inverse of :func:`ter_to_network`; always inside ``(lo, hi)``."""
    lower, upper = _ter_interval(priors, np.asarray(fastest_rt, dtype=np.float64))
    return upper - (upper - lower) * special.expit(np.asarray(value, dtype=np.float64))


def encode_trials(rt: ArrayLike, choice: ArrayLike, reward: ArrayLike, design: ReversalDesign,
                  max_trials: int, features: str = "q_stats") -> dict[str, NDArray[np.float32]]:
    """Network input from what an experiment records (no counterfactual outcomes).

    Parameters
    ----------
    rt : array_like, shape (B, T)
        Response times in seconds.
    choice : array_like, shape (B, T)
        0 (upper boundary) or 1 (lower boundary).
    reward : array_like, shape (B, T)
        The chosen arm's outcome, 0 or 1.
    design : ReversalDesign
        Design of the task (gives the reversal phase of each trial).
    max_trials : int
        Longest data set the network is trained for (scales trial position).
    features : {"q_stats", "q_grid", "basic"}
        Feature set (:data:`FEATURE_SETS`).

    Returns
    -------
    dict
        ``"trials"``: float32 array, shape (B, T, F), columns ``FEATURE_SETS[features]``;
        ``"n_trials"``: float32 array, shape (B, 1), ``sqrt(T / max_trials)``; with
        ``"q_stats"`` also ``"statistics"``: float32 array, shape (B, S), columns
        :data:`STATISTIC_NAMES` (:func:`likelihood_statistics`).

    Raises
    ------
    ValueError
        On shapes that differ, missed responses (choice -1: the model retries those
        trials, so remove them first), values other than 0/1, non-finite or
        non-positive response times, or more than ``max_trials`` trials.
    """
    rt = np.asarray(rt, dtype=np.float64)
    choice = np.asarray(choice)
    reward = np.asarray(reward)
    if rt.ndim != 2 or choice.shape != rt.shape or reward.shape != rt.shape:
        raise ValueError(
            "rt, choice and reward must have one shape (B, T), got "
            f"{rt.shape}, {choice.shape} and {reward.shape}"
        )
    n_trials = rt.shape[1]
    if not 1 <= n_trials <= max_trials:
        raise ValueError(f"data have {n_trials} trials; this model takes 1 to {max_trials}")
    for name, values in (("choice", choice), ("reward", reward)):
        bad = (values != 0) & (values != 1)
        if bad.any():
            row, trial = np.argwhere(bad)[0]
            hint = " (missed responses must be removed first)" if name == "choice" else ""
            raise ValueError(f"{name} must be 0 or 1{hint}, got {values[row, trial]!r} "
                             f"at row {row}, trial {trial}")
    bad = ~(np.isfinite(rt) & (rt > 0))
    if bad.any():
        row, trial = np.argwhere(bad)[0]
        raise ValueError(f"rt must be finite and > 0, got {rt[row, trial]!r} "
                         f"at row {row}, trial {trial}")
    if features not in FEATURE_SETS:
        raise ValueError(f"features must be one of {tuple(FEATURE_SETS)}, got {features!r}")
    return _encode_trials(rt, choice.astype(np.int8), reward.astype(np.int8), design,
                          max_trials, features)


def _encode_trials(rt: NDArray[np.float64], choice: NDArray[np.int8], reward: NDArray[np.int8],
                   design: ReversalDesign, max_trials: int,
                   features: str) -> dict[str, NDArray[np.float32]]:
    """:func:`encode_trials` without the input checks (for valid simulations)."""
    n_trials = rt.shape[1]
    signed_choice = 1.0 - 2.0 * choice
    signed_reward = 2.0 * reward - 1.0
    position = np.broadcast_to(np.arange(n_trials) / max_trials, rt.shape)
    period = design.reversal_every if design.reversal_every > 0 else max_trials
    phase = np.broadcast_to(design.reversal_phase(n_trials) / period, rt.shape)
    columns = [rt, signed_choice, signed_reward, signed_choice * signed_reward, position, phase]
    if features != "basic":
        columns += list(np.moveaxis(replayed_q_differences(choice, reward), -1, 0))
    encoded = {
        "trials": np.stack(columns, axis=-1).astype(np.float32),
        "n_trials": np.full((rt.shape[0], 1), math.sqrt(n_trials / max_trials), dtype=np.float32),
    }
    if features == "q_stats":
        encoded["statistics"] = _likelihood_statistics(rt, choice, reward).astype(np.float32)
    return encoded
