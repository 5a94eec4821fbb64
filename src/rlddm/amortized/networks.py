"""Amortized posterior of the RLDDM with BayesFlow 2: simulator, adapter, networks, training.

Importing this module imports Keras. The backend is TensorFlow unless ``KERAS_BACKEND``
is already set (a user's choice wins); it must be decided before Keras is first
imported, so set it before importing this module (``rlddm train --backend jax`` does).
"""

from __future__ import annotations

import json
import math
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from ..simulator import _sim
from .._checks import check_count
from .._seeding import SeedLike, generator
from ..model.parameters import PARAMETER_NAMES
from ..model.priors import Priors
from ..simulator.simulation import METHODS, simulate
from ..task.reversal import ReversalDesign

DEFAULT_BACKEND = "tensorflow"
# bayesflow picks JAX, then PyTorch, then TensorFlow when KERAS_BACKEND is unset
# (bayesflow/__init__.py), so the default has to be set here, before its import.
os.environ.setdefault("KERAS_BACKEND", DEFAULT_BACKEND)

import bayesflow as bf  # noqa: E402
import keras  # noqa: E402

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

# ``rlddm train`` with no budget options: 30 epochs x 1,000 batches of 64 (GRU 64 on
# TensorFlow takes about 30 ms a step on the 2-core reference machine: ~15 minutes),
# stopped after 17 minutes at the latest so that validation ends within 20.
DEFAULT_TIME_BUDGET = 17 * 60.0

CONFIG_FILE = "config.json"
MODEL_FILE = "approximator.keras"
SUMMARY_NETWORKS = ("gru", "set", "time_series")
INFERENCE_NETWORKS = ("coupling_flow", "flow_matching")


@dataclass(frozen=True)
class InferenceConfig:
    """Everything that defines a trained posterior: priors, design, trial range, networks, budget.

    Parameters
    ----------
    priors : Priors
        Joint prior of the parameters.
    design : ReversalDesign
        Task design of the simulated (and later the observed) data.
    min_trials, max_trials : int
        Each training batch draws its number of trials uniformly from this range.
    features : {"q_stats", "q_grid", "basic"}
        Network input (:data:`FEATURE_SETS`): ``"q_stats"`` gives the summary network
        the recorded trials plus Q0 - Q1 replayed at :data:`KAPPA_GRID`, and the
        inference network :func:`likelihood_statistics` directly; ``"q_grid"`` omits
        the statistics and ``"basic"`` the replayed Q too. Models saved before the
        feature sets existed used ``"basic"``.
    summary_network : {"set", "gru", "time_series"}
        A permutation-invariant set network (:class:`SetSummary`, the default), a small
        GRU (:class:`GRUSummary`, the default of models saved before the set network) or
        BayesFlow's ``TimeSeriesNetwork``.
    summary_dim : int
        Size of the learned summary.
    recurrent_units : int
        Width of the summary network: hidden layers of the set network, units of the
        GRU or of the ``TimeSeriesNetwork``'s recurrent layer.
    inference_network : {"coupling_flow", "flow_matching"}
        BayesFlow inference network.
    epochs, batches_per_epoch, batch_size : int
        Online training budget; the learning-rate schedule spans all of it.
    learning_rate : float
        Peak learning rate of the warm-up + cosine schedule.
    time_budget : float or None
        Wall-clock seconds after which training stops (mid-epoch if need be).
    seed : int
        Seed of the training: its simulations and the network's initialisation, so that
        a rerun on the same machine, backend and library versions gives the same weights.
    method : {"exact", "euler"}
        How the training data are simulated (:func:`rlddm.simulate`). ``"exact"``
        (the default) is the continuous-time DDM that real response times and the
        exact likelihood describe; ``"euler"`` is the forum post's walk.
    dt, max_steps : float, int
        Options of :func:`rlddm.simulate` (with ``"exact"`` they only set the
        missed-response deadline ``dt * max_steps``).
    ter_below_fastest_rt : bool
        Learn ter as its place between its prior's lower bound and the fastest response
        of the data set (:func:`ter_to_network`) rather than on the prior's scale. The
        exact posterior of ter is a few milliseconds wide just below the fastest
        response; on the prior's scale a flow draws it several times too wide. Models
        saved before this option existed used ``False``.
    flow_dropout : float
        Dropout rate in the coupling flow's subnetworks (unused by flow matching).
        Online training never sees a data set twice, so there is nothing to regularise
        against; models saved before this option existed used BayesFlow's default, 0.05.
    """

    priors: Priors = field(default_factory=Priors.default)
    design: ReversalDesign = field(default_factory=ReversalDesign)
    min_trials: int = 60
    max_trials: int = 60
    features: str = "q_stats"
    summary_network: str = "set"
    summary_dim: int = 24
    recurrent_units: int = 128
    inference_network: str = "coupling_flow"
    epochs: int = 30
    batches_per_epoch: int = 1000
    batch_size: int = 64
    learning_rate: float = 5e-4
    time_budget: float | None = None
    seed: int = 0
    method: str = "exact"
    dt: float = 0.01
    max_steps: int = 900
    ter_below_fastest_rt: bool = True
    flow_dropout: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.priors, Priors):
            raise ValueError(f"priors must be a Priors table, got {self.priors!r}")
        if not isinstance(self.design, ReversalDesign):
            raise ValueError(f"design must be a ReversalDesign, got {self.design!r}")
        for name, minimum in (("min_trials", 1), ("max_trials", 1), ("summary_dim", 1),
                              ("recurrent_units", 1), ("epochs", 1), ("batches_per_epoch", 1),
                              ("batch_size", 1), ("seed", 0), ("max_steps", 1)):
            check_count(getattr(self, name), name, minimum)
        if self.max_trials < self.min_trials:
            raise ValueError(
                f"max_trials must be >= min_trials, got {self.max_trials} < {self.min_trials}"
            )
        if self.features not in FEATURE_SETS:
            raise ValueError(f"features must be one of {tuple(FEATURE_SETS)}, "
                             f"got {self.features!r}")
        if self.summary_network not in SUMMARY_NETWORKS:
            raise ValueError(
                f"summary_network must be one of {SUMMARY_NETWORKS}, got {self.summary_network!r}"
            )
        if self.inference_network not in INFERENCE_NETWORKS:
            raise ValueError(f"inference_network must be one of {INFERENCE_NETWORKS}, "
                             f"got {self.inference_network!r}")
        if not (isinstance(self.learning_rate, (int, float)) and self.learning_rate > 0):
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate!r}")
        if self.time_budget is not None and not self.time_budget > 0:
            raise ValueError(f"time_budget must be > 0 seconds or None, got {self.time_budget!r}")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if not (isinstance(self.dt, (int, float)) and self.dt > 0):
            raise ValueError(f"dt must be > 0, got {self.dt!r}")
        if not isinstance(self.ter_below_fastest_rt, bool):
            raise ValueError(f"ter_below_fastest_rt must be True or False, "
                             f"got {self.ter_below_fastest_rt!r}")
        if isinstance(self.flow_dropout, bool) or not (
                isinstance(self.flow_dropout, (int, float)) and 0 <= self.flow_dropout < 1):
            raise ValueError(f"flow_dropout must be in [0, 1), got {self.flow_dropout!r}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["priors"] = self.priors.to_dict()
        data["design"] = self.design.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InferenceConfig:
        """Rebuild a configuration written by :meth:`to_dict`."""
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown configuration keys {sorted(unknown)}")
        # keys missing from configurations written before these options existed
        values = {"features": "basic", "ter_below_fastest_rt": False,
                  "flow_dropout": 0.05} | dict(data)
        if "priors" in values:
            values["priors"] = Priors.from_dict(values["priors"])
        if "design" in values:
            values["design"] = ReversalDesign.from_dict(values["design"])
        return cls(**values)


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


class RLDDMSimulator(bf.simulators.Simulator):
    """The generative model for training: priors -> design -> compiled simulator -> network input.

    Each call to :meth:`sample` (one training batch) draws one number of trials from
    ``[min_trials, max_trials]``, so every batch is unpadded and one network serves
    data sets of different lengths.

    Parameters
    ----------
    config : InferenceConfig
        Priors, design, trial range and simulator options.
    seed : None, int, SeedSequence, BitGenerator or Generator
        Seed of the simulator's stream (``config.seed`` if None).
    """

    def __init__(self, config: InferenceConfig, seed: SeedLike = None) -> None:
        self.config = config
        self.rng = generator(config.seed if seed is None else seed)
        self.seconds = 0.0  # spent in sample(), to show that training is not simulation-bound

    def sample(self, batch_shape: int | tuple[int, ...], *, n_trials: int | None = None,
               **kwargs: Any) -> dict[str, NDArray]:
        """Simulate a batch.

        Parameters
        ----------
        batch_shape : int or tuple of one int
            Number of data sets B.
        n_trials : int, optional
            Trials per data set; drawn from ``[min_trials, max_trials]`` if None.
        **kwargs
            Ignored (BayesFlow passes none during training).

        Returns
        -------
        dict
            One (B, 1) float64 array per parameter name (the truths), with
            ``ter_below_fastest_rt`` also :data:`TER_NETWORK_NAME` (the network's ter),
            plus the network input from :func:`encode_trials`.
        """
        shape = (batch_shape,) if isinstance(batch_shape, (int, np.integer)) else tuple(batch_shape)
        if len(shape) != 1:
            raise ValueError(f"batch_shape must be one integer, got {batch_shape!r}")
        n = check_count(shape[0], "batch_shape", 1)
        config = self.config
        start = time.perf_counter()
        if n_trials is None:
            n_trials = int(self.rng.integers(config.min_trials, config.max_trials, endpoint=True))
        elif not config.min_trials <= check_count(n_trials, "n_trials", 1) <= config.max_trials:
            raise ValueError(f"n_trials must be in [{config.min_trials}, {config.max_trials}], "
                             f"got {n_trials}")
        theta = config.priors.sample(n, seed=self.rng)
        outcomes = config.design.sample(n, n_trials=n_trials, seed=self.rng)
        # one thread: on 2 busy cores OpenMP's second thread made a batch 3x slower, not 2x faster
        result = simulate(theta, outcomes, dt=config.dt, max_steps=config.max_steps,
                          seed=self.rng, n_threads=1, method=config.method)
        if (result.choice < 0).any():  # possible only with absurd priors: refuse, as encode_trials
            raise ValueError("a simulated trial stayed unanswered after every retry; "
                             "the priors allow boundaries no walk reaches")
        data = {name: theta[:, i:i + 1] for i, name in enumerate(config.priors.names)}
        if config.ter_below_fastest_rt:
            data[TER_NETWORK_NAME] = ter_to_network(data["ter"], result.rt.min(axis=1)[:, None],
                                                    config.priors)
        # the simulator's output is valid by construction: skip encode_trials' checks
        data.update(_encode_trials(result.rt, result.choice, result.reward, config.design,
                                   config.max_trials, config.features))
        self.seconds += time.perf_counter() - start
        return data

    def get_state(self) -> dict[str, Any]:
        """The stream's state (JSON-serialisable), for resuming training."""
        return self.rng.bit_generator.state

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore a state from :meth:`get_state`."""
        self.rng.bit_generator.state = state


@keras.saving.register_keras_serializable(package="rlddm")
class GRUSummary(bf.networks.SummaryNetwork):
    """A small recurrent summary network: GRU -> Dense(silu) -> Dense(summary_dim).

    Parameters
    ----------
    summary_dim : int
        Size of the summary.
    units : int
        GRU units (and width of the hidden dense layer).
    **kwargs
        Passed to ``bayesflow.networks.SummaryNetwork`` (name, dtype, trainable).
    """

    def __init__(self, summary_dim: int = 24, units: int = 64, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.summary_dim = check_count(summary_dim, "summary_dim", 1)
        self.units = check_count(units, "units", 1)
        self.recurrent = keras.layers.GRU(self.units)
        self.hidden = keras.layers.Dense(self.units, activation="silu")
        self.projector = keras.layers.Dense(self.summary_dim)

    def call(self, x: Any, training: bool = False, **kwargs: Any) -> Any:
        """Summaries of shape (B, summary_dim) from trials of shape (B, T, features)."""
        return self.projector(self.hidden(self.recurrent(x, training=training)))

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {"summary_dim": self.summary_dim, "units": self.units}


@keras.saving.register_keras_serializable(package="rlddm")
class SetSummary(bf.networks.SummaryNetwork):
    """A permutation-invariant summary: per-trial MLP -> mean over trials -> MLP.

    Given the statistics of :func:`likelihood_statistics`, which carry the order of
    the trials (through the replayed Q), what the likelihood still needs is a sum over
    trials of a function of each trial's response time and choice (the drift-free
    Wiener term). This network has that form (a deep set, Zaheer et al. 2017). Each
    trial's embedding also sees its response time minus the data set's fastest one,
    since the drift-free term depends on ``rt - ter`` and ter lies just below the
    fastest response.

    Parameters
    ----------
    summary_dim : int
        Size of the summary.
    units : int
        Width of the per-trial and pooled hidden layers.
    **kwargs
        Passed to ``bayesflow.networks.SummaryNetwork`` (name, dtype, trainable).
    """

    def __init__(self, summary_dim: int = 24, units: int = 64, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.summary_dim = check_count(summary_dim, "summary_dim", 1)
        self.units = check_count(units, "units", 1)
        self.embedding = [keras.layers.Dense(self.units, activation="silu") for _ in range(3)]
        self.hidden = keras.layers.Dense(self.units, activation="silu")
        self.projector = keras.layers.Dense(self.summary_dim)

    def call(self, x: Any, training: bool = False, **kwargs: Any) -> Any:
        """Summaries of shape (B, summary_dim) from trials of shape (B, T, features)."""
        ops = keras.ops
        rt = x[..., :1]  # the first per-trial column is the response time
        since_fastest = rt - ops.min(rt, axis=1, keepdims=True)
        h = ops.concatenate([x, since_fastest, ops.log(since_fastest + 0.01)], axis=-1)
        for layer in self.embedding:
            h = layer(h)
        return self.projector(self.hidden(ops.mean(h, axis=1)))

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {"summary_dim": self.summary_dim, "units": self.units}


def build_adapter(priors: Priors, features: str = "basic",
                  ter_below_fastest_rt: bool = False) -> bf.Adapter:
    """The adapter: parameters to unbounded space (the priors' own maps), inputs renamed.

    ``Adapter.constrain`` with ``inclusive="none"`` applies exactly
    :meth:`Priors.to_unbounded` (scaled logit on intervals, log on half-lines), so the
    network and the likelihood-based reference sampler work on one scale. With
    ``ter_below_fastest_rt`` the network's ter is :data:`TER_NETWORK_NAME`, already
    unbounded (:func:`ter_to_network`), and the truth ``ter`` is dropped. The
    per-trial array feeds the summary network; ``n_trials`` (and with ``"q_stats"``
    features the statistics) condition the inference network directly.
    """
    adapter = bf.Adapter()
    variables = list(priors.names)
    for name in priors.names:
        if name == "ter" and ter_below_fastest_rt:
            variables[variables.index("ter")] = TER_NETWORK_NAME
            continue
        prior = priors[name]
        finite_lower, finite_upper = math.isfinite(prior.lower), math.isfinite(prior.upper)
        if finite_lower and finite_upper:
            adapter.constrain(name, lower=prior.lower, upper=prior.upper, method="sigmoid",
                              inclusive="none")
        elif finite_lower:
            adapter.constrain(name, lower=prior.lower, method="log", inclusive="none")
        elif finite_upper:
            adapter.constrain(name, upper=prior.upper, method="log", inclusive="none")
    if ter_below_fastest_rt:
        adapter = adapter.drop("ter")
    adapter = (adapter
               .concatenate(variables, into="inference_variables")
               .rename("trials", "summary_variables"))
    if features == "q_stats":
        adapter = adapter.concatenate(["n_trials", "statistics"], into="inference_conditions")
    else:
        adapter = adapter.rename("n_trials", "inference_conditions")
    return adapter.convert_dtype("float64", "float32")


def build_approximator(config: InferenceConfig) -> bf.ContinuousApproximator:
    """An untrained approximator for ``config``.

    The unbounded parameters are standardised, and with ``"q_stats"`` features so are
    the direct conditions (BayesFlow's running moments, frozen after training).
    """
    if config.summary_network == "gru":
        summary = GRUSummary(summary_dim=config.summary_dim, units=config.recurrent_units)
    elif config.summary_network == "set":
        summary = SetSummary(summary_dim=config.summary_dim, units=config.recurrent_units)
    else:
        summary = bf.networks.TimeSeriesNetwork(summary_dim=config.summary_dim,
                                                recurrent_dim=config.recurrent_units)
    if config.inference_network == "coupling_flow":
        inference = bf.networks.CouplingFlow(subnet_kwargs={"dropout": config.flow_dropout})
    else:
        inference = bf.networks.FlowMatching()
    standardize = ["inference_variables"]
    if config.features == "q_stats":
        standardize.append("inference_conditions")
    return bf.ContinuousApproximator(inference_network=inference, summary_network=summary,
                                     adapter=build_adapter(config.priors, config.features,
                                                           config.ter_below_fastest_rt),
                                     standardize=standardize)


def build_optimizer(learning_rate: float, total_steps: int) -> keras.optimizers.Optimizer:
    """Adam with 5% linear warm-up and cosine decay to 0 (BayesFlow's online default)."""
    warmup = int(0.05 * total_steps)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.1 * learning_rate, decay_steps=max(total_steps - warmup, 1),
        alpha=0.0, warmup_target=learning_rate, warmup_steps=warmup)
    return keras.optimizers.Adam(schedule, clipnorm=1.5)


class TimeBudget(keras.callbacks.Callback):
    """Stop training after ``seconds`` of wall-clock time, checked after every batch."""

    def __init__(self, seconds: float | None) -> None:
        super().__init__()
        self.seconds = seconds
        self.start = 0.0
        self.stopped_at: int | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.start = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.seconds is not None and time.perf_counter() - self.start > self.seconds:
            self.model.stop_training = True
            self.stopped_at = batch


class OnlineBatches(bf.OnlineDataset):
    """BayesFlow's online dataset, except for the batches drawn before the first epoch.

    Those (BayesFlow's build batch and the two by which Keras fixes the shapes of its
    ``tf.data`` pipeline) come from a probe simulator of their own, with the shortest
    and the longest trial count in turn: Keras fixes every axis on which its two probes
    agree, so with one count drawn per batch two equal draws (odds 1 in ``max_trials -
    min_trials + 1``) fixed the trial axis and stopped the training at the first batch
    of another length. The training stream is then also what it would be without probes.
    """

    def __init__(self, simulator: RLDDMSimulator, *args: Any, **kwargs: Any) -> None:
        super().__init__(simulator, *args, **kwargs)
        self._probe = RLDDMSimulator(simulator.config,
                                     seed=np.random.SeedSequence([simulator.config.seed, 1]))
        self._probes = 0
        self._training = False

    def on_epoch_begin(self) -> None:
        self._training = True
        super().on_epoch_begin()

    def __getitem__(self, item: int) -> dict[str, NDArray]:
        if self._training:
            return super().__getitem__(item)
        config = self._probe.config
        n_trials = (config.min_trials, config.max_trials)[self._probes % 2]
        self._probes += 1
        return self.adapter(self._probe.sample(self.batch_size, n_trials=n_trials))


class SimulatorState(keras.callbacks.Callback):
    """Save the simulator's stream with every epoch and restore it when training resumes.

    Keras' ``BackupAndRestore`` restores weights, optimizer and epoch; this adds the
    one state it does not know, so a resumed run draws the batches it would have drawn.
    """

    def __init__(self, simulator: RLDDMSimulator, path: Path) -> None:
        super().__init__()
        self.simulator = simulator
        self.path = Path(path)

    def on_train_begin(self, logs: dict | None = None) -> None:
        if self.path.exists():
            self.simulator.set_state(json.loads(self.path.read_text()))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.simulator.get_state()))


class AmortizedPosterior:
    """A trained approximator together with the configuration it was trained for.

    Parameters
    ----------
    approximator : bayesflow.ContinuousApproximator
        Trained (or loaded) approximator.
    config : InferenceConfig
        Its configuration.
    """

    def __init__(self, approximator: bf.ContinuousApproximator, config: InferenceConfig) -> None:
        self.approximator = approximator
        self.config = config

    def sample(self, rt: ArrayLike, choice: ArrayLike, reward: ArrayLike, *,
               design: ReversalDesign | None = None, n_samples: int = 1000,
               seed: int | None = None) -> NDArray[np.float64]:
        """Posterior draws for data sets of one length.

        Parameters
        ----------
        rt, choice, reward : array_like, shape (B, T)
            Observed data (see :func:`encode_trials`); fit participants of different
            lengths in separate calls, never padded.
        design : ReversalDesign, optional
            Design the data come from; must be the training design (default: it is).
        n_samples : int
            Draws per data set.
        seed : int, optional
            Seed of the network's sampling.

        Returns
        -------
        ndarray of float64, shape (B, n_samples, 5)
            Draws on the natural scale, columns in ``PARAMETER_NAMES`` order.

        Raises
        ------
        ValueError
            If ``design`` has another reward schedule than the training design (its
            ``n_trials`` may differ), the trial count is outside
            the training range, or the data are malformed.
        """
        config = self.config
        if design is not None and not config.design.same_task(design):
            raise ValueError(
                f"data come from design {design.to_dict()}, but this posterior was trained "
                f"on {config.design.to_dict()}"
            )
        n_trials = np.shape(rt)[-1]
        if not config.min_trials <= n_trials <= config.max_trials:
            raise ValueError(
                f"data have {n_trials} trials; this posterior was trained on "
                f"{config.min_trials} to {config.max_trials}"
            )
        check_count(n_samples, "n_samples", 1)
        conditions = encode_trials(rt, choice, reward, config.design, config.max_trials,
                                   config.features)
        fastest_rt = np.min(rt, axis=-1)
        ter_lower = config.priors["ter"].lower
        if config.ter_below_fastest_rt and np.any(fastest_rt <= ter_lower):
            raise ValueError(f"rt has a response at or below {ter_lower:g} s, the lowest "
                             "non-decision time of this posterior's prior: the data are "
                             "impossible under it")
        return self.sample_encoded(conditions, fastest_rt, n_samples=n_samples,
                                   seed=seed)

    def sample_encoded(self, conditions: dict[str, NDArray], fastest_rt: NDArray, *,
                       n_samples: int, seed: int | None = None,
                       batch_size: int | None = None) -> NDArray[np.float64]:
        """Posterior draws for network input from :func:`encode_trials` (no checks).

        Parameters
        ----------
        conditions : dict
            Output of :func:`encode_trials`.
        fastest_rt : ndarray, shape (B,)
            Each data set's fastest response time (to map ter back when
            ``config.ter_below_fastest_rt``).
        n_samples : int
            Draws per data set.
        seed : int, optional
            Seed of the network's sampling.
        batch_size : int, optional
            Data sets per network call (all at once if None).

        Returns
        -------
        ndarray of float64, shape (B, n_samples, 5)
            Draws on the natural scale, columns in ``PARAMETER_NAMES`` order.
        """
        draws = self.approximator.sample(num_samples=n_samples, conditions=conditions, seed=seed,
                                         batch_size=batch_size)
        columns = []
        for name in PARAMETER_NAMES:
            if name == "ter" and self.config.ter_below_fastest_rt:
                column = ter_from_network(draws[TER_NETWORK_NAME],
                                          np.reshape(fastest_rt, (-1, 1, 1)), self.config.priors)
            else:
                column = draws[name]
            columns.append(np.asarray(column, dtype=np.float64))
        return np.concatenate(columns, axis=-1)

    def save(self, directory: str | os.PathLike) -> Path:
        """Write ``approximator.keras`` and ``config.json`` (with the backend) to ``directory``.

        The optimizer's state is left out (two thirds of the file): a saved posterior is
        for sampling; an interrupted training resumes from its run folder's backup.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        optimizer = self.approximator.optimizer
        self.approximator.optimizer = None
        try:
            self.approximator.save(directory / MODEL_FILE)
        finally:
            self.approximator.optimizer = optimizer
        info = {"config": self.config.to_dict(), "backend": keras.backend.backend(),
                "bayesflow": bf.__version__, "keras": keras.__version__}
        (directory / CONFIG_FILE).write_text(json.dumps(info, indent=2))
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike) -> AmortizedPosterior:
        """Load a posterior written by :meth:`save` (on any Keras backend)."""
        directory = Path(directory)
        for name in (MODEL_FILE, CONFIG_FILE):
            if not (directory / name).exists():
                raise ValueError(f"{directory} has no {name}; is it a directory written by save()?")
        info = json.loads((directory / CONFIG_FILE).read_text())
        with warnings.catch_warnings():  # save() leaves the optimizer's state out on purpose
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            approximator = keras.saving.load_model(directory / MODEL_FILE)
        return cls(approximator, InferenceConfig.from_dict(info["config"]))


def train(config: InferenceConfig, directory: str | os.PathLike, *, verbose: int | str = "auto",
          callbacks: list[keras.callbacks.Callback] | None = None) -> AmortizedPosterior:
    """Train online, checkpointing every epoch; rerun with the same directory to resume.

    Rerunning on a finished run folder (one with ``approximator.keras``) trains nothing
    and returns the trained posterior.

    Parameters
    ----------
    config : InferenceConfig
        What to train and for how long.
    directory : path
        Run folder: ``config.json``, ``history.csv``, ``backup/`` (resume state, removed
        when training ends) and, at the end, ``approximator.keras``.
    verbose : int or "auto"
        Keras progress display.
    callbacks : list of keras.callbacks.Callback, optional
        Extra callbacks.

    Returns
    -------
    AmortizedPosterior

    Raises
    ------
    ValueError
        If ``directory`` holds a run with a different configuration.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config_path = directory / CONFIG_FILE
    if config_path.exists():
        previous = json.loads(config_path.read_text())["config"]
        if previous != json.loads(json.dumps(config.to_dict())):
            raise ValueError(f"{directory} holds a run with another configuration; "
                             "use a new directory or the same configuration to resume")
        if (directory / MODEL_FILE).exists():  # finished: resuming it leaves nothing to do
            return AmortizedPosterior.load(directory)
    config_path.write_text(json.dumps({"config": config.to_dict(),
                                       "backend": keras.backend.backend()}, indent=2))
    simulator = RLDDMSimulator(config)
    # Keras' initialisers, dropout and BayesFlow's noise take their seeds from Python's
    # global stream unless given one: seeding it here fixes the weights by config.seed
    keras.utils.set_random_seed(config.seed)
    approximator = build_approximator(config)
    approximator.compile(optimizer=build_optimizer(config.learning_rate,
                                                   config.epochs * config.batches_per_epoch))
    dataset = OnlineBatches(simulator, batch_size=config.batch_size,
                            num_batches=config.batches_per_epoch, adapter=approximator.adapter)
    backup = directory / "backup"
    all_callbacks = [
        keras.callbacks.BackupAndRestore(str(backup)),
        SimulatorState(simulator, backup / "simulator.json"),
        keras.callbacks.CSVLogger(str(directory / "history.csv"), append=True),
        TimeBudget(config.time_budget),
        *(callbacks or []),
    ]
    start = time.perf_counter()
    approximator.fit(dataset=dataset, epochs=config.epochs, callbacks=all_callbacks,
                     verbose=verbose)
    seconds = time.perf_counter() - start
    posterior = AmortizedPosterior(approximator, config)
    posterior.save(directory)
    timing = {"backend": keras.backend.backend(), "train_seconds": seconds,
              "simulation_seconds": simulator.seconds,
              "simulation_fraction": simulator.seconds / seconds,
              "steps": int(keras.ops.convert_to_numpy(approximator.optimizer.iterations))}
    (directory / "timing.json").write_text(json.dumps(timing, indent=2))
    return posterior


def validate(posterior: AmortizedPosterior, directory: str | os.PathLike, *, n: int = 1000,
             n_samples: int = 1000, n_trials: int | None = None, seed: int = 20240601) -> dict:
    """Diagnostics on fresh simulations: plots and ``metrics.json`` in ``directory``.

    Parameters
    ----------
    posterior : AmortizedPosterior
        The posterior to check.
    directory : path
        Where ``metrics.json``, ``recovery.png``, ``calibration_ecdf.png`` and
        ``z_score_contraction.png`` are written.
    n : int
        Validation data sets, drawn from the prior (at least 1,000 to judge recovery r
        to about +-0.05).
    n_samples : int
        Posterior draws per data set.
    n_trials : int, optional
        Trials per data set (default: the design's ``n_trials``, moved into the
        training range ``[min_trials, max_trials]`` if outside it).
    seed : int
        Seed of the validation simulations and of the network's sampling.

    Returns
    -------
    dict
        The contents of ``metrics.json``: per parameter, recovery ``r`` (posterior mean
        vs truth), ``nrmse`` (posterior RMSE over the prior sd, median over data sets),
        ``contraction`` and ``calibration_error``; and kappa's ``r`` by ``|drift|``.
    """
    import matplotlib.pyplot as plt

    config = posterior.config
    if n_trials is None:  # the design's length, unless the network was trained on others
        n_trials = min(max(config.design.n_trials, config.min_trials), config.max_trials)
    data = RLDDMSimulator(config, seed=seed).sample(check_count(n, "n", 2), n_trials=n_trials)
    conditions = {key: data[key] for key in ("trials", "n_trials", "statistics") if key in data}
    fastest_rt = data["trials"][:, :, BASIC_FEATURES.index("rt")].min(axis=1)
    names = list(config.priors.names)
    samples = posterior.sample_encoded(conditions, fastest_rt,
                                       n_samples=check_count(n_samples, "n_samples", 2),
                                       seed=seed, batch_size=100)
    estimates = {name: samples[:, :, i:i + 1] for i, name in enumerate(names)}
    targets = {name: data[name] for name in names}
    truth = np.column_stack([targets[name][:, 0] for name in names])
    mean = samples.mean(axis=1)
    metrics = bf.diagnostics.metrics
    # normalize="std" rather than the default "prior", which bootstraps with NumPy's global RNG
    nrmse = metrics.root_mean_squared_error(estimates, targets, normalize="std")["values"]
    contraction = metrics.posterior_contraction(estimates, targets)["values"]
    calibration = metrics.calibration_error(estimates, targets)["values"]
    result: dict[str, Any] = {
        "n": n, "n_samples": n_samples, "n_trials": n_trials, "seed": seed,
        "backend": keras.backend.backend(),
        "parameters": {
            name: {"r": float(np.corrcoef(mean[:, i], truth[:, i])[0, 1]),
                   "nrmse": float(nrmse[i]), "contraction": float(contraction[i]),
                   "calibration_error": float(calibration[i])}
            for i, name in enumerate(names)
        },
    }
    abs_drift = np.abs(truth[:, names.index("drift")])
    kappa = names.index("kappa")
    result["kappa_by_abs_drift"] = {}
    for label, lo, hi in (("<1", 0.0, 1.0), ("1-2", 1.0, 2.0), (">=2", 2.0, np.inf)):
        rows = (abs_drift >= lo) & (abs_drift < hi)
        r = np.corrcoef(mean[rows, kappa], truth[rows, kappa])[0, 1] if rows.sum() > 2 else None
        result["kappa_by_abs_drift"][label] = {"n": int(rows.sum()),
                                               "r": None if r is None else float(r)}
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "metrics.json").write_text(json.dumps(result, indent=2))
    plots = bf.diagnostics.plots
    for name, plot in (("recovery", plots.recovery), ("calibration_ecdf", plots.calibration_ecdf),
                       ("z_score_contraction", plots.z_score_contraction)):
        figure = plot(estimates, targets, variable_keys=names)
        figure.savefig(directory / f"{name}.png", dpi=100)
        plt.close(figure)
    return result
