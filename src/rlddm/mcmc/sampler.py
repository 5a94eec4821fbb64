"""Reference posterior of any registered RLDDM: MCMC on the exact likelihood, convergence checks, information limit.

Sampler
-------
Metropolis-Hastings in the unbounded space of the priors' bijection (target: log
prior + log-Jacobian + exact log-likelihood), ``n_chains`` chains per data set started
at prior draws (dispersed relative to any posterior the data support), every data set
of a batch advanced in one step so that one likelihood call serves all (data set,
chain) pairs. Warm-up runs a random walk whose covariance is re-estimated at the
ends of doubling windows from the pooled samples of the data set's chains (as Stan's
windowed adaptation does for its metric), with a Robbins-Monro recursion of its scale
towards an acceptance rate of 0.25. After warm-up the kernel is fixed: each step is,
with probability 1/2 each, that random walk or an independence proposal from a
multivariate t (5 degrees of freedom) with the last window's mean and covariance.
Both moves leave the posterior invariant, and so does their mixture; the chains are
then independent, time-homogeneous Markov chains, as R-hat assumes. Most posteriors
here are close to normal in the unbounded space, where the t move is accepted often:
on 60-trial data sets it tripled the bulk ESS per iteration of the random walk alone
(0.05 -> 0.17). It helps little with the drift-kappa funnel (kappa is unidentified
when drift is near 0, and drift when kappa is near 0), where the walk does the work.

Convergence
-----------
Rank-normalised split R-hat (the larger of the bulk and the folded, tail version),
bulk and tail effective sample size, all as in Vehtari, Gelman, Simpson, Carpenter &
Buerkner (2021), Bayesian Analysis 16, 667-718, with Geyer's initial monotone sequence
(ArviZ's estimator, reproduced to rounding). A posterior passes when, for every
parameter, R-hat <= 1.01 and both ESS >= 400. A data set that fails is sampled once
more from new starts with `RETRY_FACTOR` (4) times the warm-up and the iterations
(and the thinning, so the shape stays); if it fails again it is marked ``converged=False``
with the reason, and `sample_posterior` raises `NotConvergedError` rather than
return it.

The sampler works in as many dimensions as the model has free parameters (the
priors' table); the likelihood is `rlddm.likelihood.loglik`'s own core, batched.

Random numbers
--------------
Data set ``i`` of a batch draws from its own stream, fixed by the seed and ``i``
alone, so a data set's draws do not depend on which others share its batch. For the
default five-parameter model the streams are consumed as before models were added,
so stored references are reproduced to rounding.
"""

from __future__ import annotations

import dataclasses
import json
import time
from importlib.metadata import version
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special, stats

from .._checks import check_count, check_deadline
from .._output import check_out, staged_folder
from .._seeding import SeedLike, stream_key
from ..likelihood.wiener import _check_trials, _loglik_rows, loglik_batch
from ..model import DEFAULT_MODEL, DEFAULT_Q0, ModelSpec, get_model
from ..model.parameters import PARAMETER_NAMES
from ..model.priors import Priors
from ..simulator.simulation import simulate
from ..task.reversal import ReversalDesign

__all__ = [
    "NotConvergedError",
    "PosteriorBatch",
    "PosteriorResult",
    "ess_bulk",
    "ess_tail",
    "loglik_batch",
    "recovery_metrics",
    "reference_run",
    "rhat",
    "sample_posterior",
    "sample_posteriors",
]

RHAT_MAX = 1.01
MIN_ESS = 400.0
# A failed posterior is sampled again this many times as long: of the 11 of 200
# 120-trial data sets that still failed after a rerun twice as long, a rerun four
# times as long let 6 pass.
RETRY_FACTOR = 4
TARGET_ACCEPTANCE = 0.25
INDEPENDENT_SHARE = 0.5
T_DOF = 5.0
# Random numbers are drawn per data set in blocks of this many iterations, so a data
# set's stream is consumed in the same order whatever batch it is part of.
_NOISE_BLOCK = 128
# Prior draws per chain among which finite-posterior starting points are picked.
_START_CANDIDATES = 16
_MAX_START_ROUNDS = 64
INTERVAL_LEVELS = (0.5, 0.8, 0.95)
DRIFT_BINS = ((0.0, 1.0), (1.0, 2.0), (2.0, np.inf))


# ----------------------------------------------------------------------------------
# Convergence diagnostics (Vehtari et al., 2021)
# ----------------------------------------------------------------------------------


def _split_chains(x: NDArray) -> NDArray:
    """(..., M, N) -> (..., 2M, N // 2): each chain's first and last halves (odd N drops the middle)."""
    half = x.shape[-1] // 2
    return np.concatenate([x[..., :half], x[..., x.shape[-1] - half:]], axis=-2)


def _z_scale(x: NDArray) -> NDArray:
    """Rank-normalise over all chains and draws: ``Phi^-1((rank - 3/8) / (S + 1/4))``."""
    flat = x.reshape(x.shape[:-2] + (-1,))
    ranks = stats.rankdata(flat, axis=-1)
    return special.ndtri((ranks - 0.375) / (flat.shape[-1] + 0.25)).reshape(x.shape)


def _basic_rhat(x: NDArray) -> NDArray:
    """Potential scale reduction of (..., M, N) chains."""
    n = x.shape[-1]
    within = x.var(axis=-1, ddof=1).mean(axis=-1)
    between_over_n = x.mean(axis=-1).var(axis=-1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(((n - 1) / n * within + between_over_n) / within)


def _ess(x: NDArray) -> NDArray:
    """Effective sample size of (..., M, N) chains, Geyer's initial monotone sequence.

    Autocorrelations combine all chains as in Vehtari et al. (2021), eq. 10; pairs of
    consecutive autocorrelations are summed while positive and made non-increasing,
    and the next even lag is added if positive. This follows ArviZ 0.23's ``_ess``
    step by step (its values are reproduced to rounding), including its cap of the
    estimate at ``S log10 S`` draws.
    """
    n_chains, n = x.shape[-2:]
    size = n_chains * n
    centred = x - x.mean(axis=-1, keepdims=True)
    n_fft = 1 << (2 * n - 1).bit_length()
    spectrum = np.fft.rfft(centred, n=n_fft, axis=-1)
    acov = np.fft.irfft(spectrum * spectrum.conj(), n=n_fft, axis=-1)[..., :n] / n
    mean_var = acov[..., 0].mean(axis=-1) * n / (n - 1)
    var_plus = mean_var * (n - 1) / n
    if n_chains > 1:
        var_plus = var_plus + x.mean(axis=-1).var(axis=-1, ddof=1)
    constant = np.ptp(x, axis=(-2, -1)) < np.finfo(float).resolution
    var_plus = np.where(constant, 1.0, var_plus)
    rho = 1.0 - (mean_var[..., None] - acov.mean(axis=-2)) / var_plus[..., None]
    rho[..., 0] = 1.0
    n_pairs = (n - 1) // 2
    pairs = rho[..., : 2 * n_pairs].reshape(rho.shape[:-1] + (n_pairs, 2)).sum(axis=-1)
    positive = np.cumprod(pairs > 0, axis=-1)
    monotone = np.minimum.accumulate(pairs, axis=-1)
    # As in ArviZ, the last pair contributes its even lag only.
    n_used = np.minimum(positive.sum(axis=-1), n_pairs - 1)
    next_even = np.take_along_axis(rho, 2 * n_used[..., None], axis=-1)[..., 0]
    used = np.arange(n_pairs) < n_used[..., None]
    tau = -1.0 + 2.0 * np.where(used, monotone, 0.0).sum(axis=-1) + np.maximum(next_even, 0.0)
    tau = np.maximum(tau, 1.0 / np.log10(size))
    return np.where(constant, float(size), size / tau)


def _as_chains(draws: ArrayLike) -> NDArray:
    x = np.asarray(draws, dtype=float)
    if x.ndim < 2 or x.shape[-1] < 8:
        raise ValueError(f"draws must have shape (..., n_chains, n_draws) with n_draws >= 8, got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("draws must be finite")
    return x


def rhat(draws: ArrayLike) -> NDArray[np.float64]:
    """Rank-normalised split R-hat: the larger of the bulk and the folded (tail) version.

    Parameters
    ----------
    draws : array_like, shape (..., n_chains, n_draws)
        One quantity's chains; leading axes are independent quantities.

    Returns
    -------
    ndarray of float64, shape (...)
        Near 1 for chains that sample one distribution; ``> 1.01`` is the usual alarm.
    """
    x = _split_chains(_as_chains(draws))
    bulk = _basic_rhat(_z_scale(x))
    folded = np.abs(x - np.median(x, axis=(-2, -1), keepdims=True))
    return np.maximum(bulk, _basic_rhat(_z_scale(folded)))


def ess_bulk(draws: ArrayLike) -> NDArray[np.float64]:
    """Bulk effective sample size: ESS of the rank-normalised split chains.

    Parameters
    ----------
    draws : array_like, shape (..., n_chains, n_draws)

    Returns
    -------
    ndarray of float64, shape (...)
    """
    return _ess(_z_scale(_split_chains(_as_chains(draws))))


def ess_tail(draws: ArrayLike) -> NDArray[np.float64]:
    """Tail effective sample size: the smaller ESS of the 5 % and 95 % quantile indicators.

    Parameters
    ----------
    draws : array_like, shape (..., n_chains, n_draws)

    Returns
    -------
    ndarray of float64, shape (...)
    """
    x = _as_chains(draws)
    flat = x.reshape(x.shape[:-2] + (-1,))
    low, high = (np.quantile(flat, q, axis=-1)[..., None, None] for q in (0.05, 0.95))
    return np.minimum(_ess(_split_chains((x <= low).astype(float))),
                      _ess(_split_chains((x <= high).astype(float))))


def _diagnose(draws: NDArray, names: tuple[str, ...], rhat_max: float,
              min_ess: float) -> tuple[NDArray, NDArray, NDArray, list[str]]:
    """Diagnostics of (..., C, N, P) draws and the reason each posterior fails ('' if none)."""
    chains = np.moveaxis(draws, -1, -3)  # (..., P, C, N)
    r, bulk, tail = rhat(chains), ess_bulk(chains), ess_tail(chains)
    reasons = []
    for index in np.ndindex(r.shape[:-1]):
        problems = []
        for label, values, bad in (("R-hat", r[index], ~(r[index] <= rhat_max)),
                                   ("bulk ESS", bulk[index], ~(bulk[index] >= min_ess)),
                                   ("tail ESS", tail[index], ~(tail[index] >= min_ess))):
            problems += [f"{label} of {names[j]} = {values[j]:.3g}" for j in np.flatnonzero(bad)]
        reasons.append("; ".join(problems))
    return r, bulk, tail, reasons


# ----------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PosteriorResult:
    """Posterior draws of one data set and their diagnostics.

    Attributes
    ----------
    draws : ndarray, shape (n_chains, n_draws, P)
        Draws on the natural scale, columns in ``names`` order (the model's free
        parameters; P = 5 for the default model).
    rhat, ess_bulk, ess_tail : ndarray, shape (P,)
        Rank-normalised split R-hat and effective sample sizes per parameter.
    accept_rate : ndarray, shape (n_chains,)
        Metropolis acceptance rate of each chain after warm-up.
    converged : bool
        Whether every parameter passed R-hat <= ``rhat_max`` and ESS >= ``min_ess``.
    reason : str
        Why the posterior did not converge ('' if it did).
    attempts : int
        1, or 2 if the first run failed and the sampler ran again.
    names : tuple of str
        Parameter names of the draws' last axis.
    """

    draws: NDArray[np.float64]
    rhat: NDArray[np.float64]
    ess_bulk: NDArray[np.float64]
    ess_tail: NDArray[np.float64]
    accept_rate: NDArray[np.float64]
    converged: bool
    reason: str
    attempts: int
    names: tuple[str, ...] = PARAMETER_NAMES

    @property
    def mean(self) -> NDArray[np.float64]:
        """Posterior means, shape (P,)."""
        return self.draws.mean(axis=(0, 1))

    @property
    def sd(self) -> NDArray[np.float64]:
        """Posterior standard deviations, shape (P,)."""
        return self.draws.std(axis=(0, 1), ddof=1)


@dataclass(frozen=True)
class PosteriorBatch:
    """Posterior draws of many data sets (`PosteriorResult` fields with a leading axis D).

    Attributes
    ----------
    draws : ndarray, shape (D, n_chains, n_draws, P)
    rhat, ess_bulk, ess_tail : ndarray, shape (D, P)
    accept_rate : ndarray, shape (D, n_chains)
    converged : ndarray of bool, shape (D,)
    reasons : tuple of str, length D
    attempts : ndarray of int, shape (D,)
    names : tuple of str, length P
    """

    draws: NDArray[np.float64]
    rhat: NDArray[np.float64]
    ess_bulk: NDArray[np.float64]
    ess_tail: NDArray[np.float64]
    accept_rate: NDArray[np.float64]
    converged: NDArray[np.bool_]
    reasons: tuple[str, ...]
    attempts: NDArray[np.int64]
    names: tuple[str, ...] = PARAMETER_NAMES

    def __len__(self) -> int:
        return self.draws.shape[0]

    def __getitem__(self, index: int) -> PosteriorResult:
        return PosteriorResult(self.draws[index], self.rhat[index], self.ess_bulk[index],
                               self.ess_tail[index], self.accept_rate[index],
                               bool(self.converged[index]), self.reasons[index],
                               int(self.attempts[index]), self.names)

    @property
    def mean(self) -> NDArray[np.float64]:
        """Posterior means, shape (D, P)."""
        return self.draws.mean(axis=(1, 2))

    @property
    def sd(self) -> NDArray[np.float64]:
        """Posterior standard deviations, shape (D, P)."""
        return self.draws.std(axis=(1, 2), ddof=1)


class NotConvergedError(RuntimeError):
    """The sampler's chains did not pass the convergence checks; ``.result`` holds them."""

    def __init__(self, result: PosteriorResult) -> None:
        super().__init__(f"the posterior did not converge after {result.attempts} runs: {result.reason}")
        self.result = result


# ----------------------------------------------------------------------------------
# Sampler
# ----------------------------------------------------------------------------------


class _Noise:
    """Per-data-set random numbers, drawn in blocks of `_NOISE_BLOCK` iterations.

    Each iteration gets, per chain, ``n_dim`` standard normals (the proposal), a
    log-uniform (the acceptance test), a uniform (the choice of move) and a chi-square
    variate with `T_DOF` degrees of freedom (the t proposal's scale); the uniforms are
    two further normals through the normal CDF. With ``n_dim = 5`` the stream is
    consumed as before models were added.
    """

    def __init__(self, generators: list[np.random.Generator], n_chains: int, n_dim: int) -> None:
        self.generators = generators
        self.n_chains = n_chains
        self.n_dim = n_dim
        self.block: NDArray | None = None
        self.position = _NOISE_BLOCK

    def next(self) -> tuple[NDArray, NDArray, NDArray, NDArray]:
        """Normals (D, C, n_dim), log-uniforms, uniforms and chi-square variates (D, C)."""
        if self.position == _NOISE_BLOCK:
            shape = (_NOISE_BLOCK, self.n_chains)
            blocks = [np.concatenate([g.standard_normal(shape + (self.n_dim + 2,)),
                                      g.chisquare(T_DOF, shape)[..., None]], axis=-1)
                      for g in self.generators]
            self.block = np.stack(blocks, axis=1)
            self.position = 0
        step = self.block[self.position]
        self.position += 1
        d = self.n_dim
        return (step[..., :d], special.log_ndtr(step[..., d]), special.ndtr(step[..., d + 1]),
                step[..., d + 2])


def _adaptation_windows(n_warmup: int) -> list[int]:
    """Iterations after which the proposal covariance is re-estimated.

    Windows double in length from ``n_warmup // 20`` (at least 10) and the last one
    is stretched to end where the final tenth of warm-up begins; that tenth tunes the
    scale alone.
    """
    end_of_windows = n_warmup - n_warmup // 10
    ends, length = [], max(10, n_warmup // 20)
    position = length
    while position + 2 * length <= end_of_windows:
        ends.append(position)
        length *= 2
        position += length
    if end_of_windows > (ends[-1] if ends else 0) + 2:
        ends.append(end_of_windows)
    return ends


def _pooled_moments(samples: NDArray) -> tuple[NDArray, NDArray]:
    """Mean and Cholesky factor of each data set's pooled sample covariance, shrunk as in Stan.

    samples : (D, n, P). The shrinkage towards ``1e-3 I`` keeps the factor defined when
    the chains have not moved in some direction.
    """
    n, n_dim = samples.shape[1:]
    mean = samples.mean(axis=1)
    centred = samples - mean[:, None]
    cov = np.einsum("dni,dnj->dij", centred, centred) / max(n - 1, 1)
    cov = n / (n + 5.0) * cov + 1e-3 * 5.0 / (n + 5.0) * np.eye(n_dim)
    return mean, np.linalg.cholesky(cov)


@dataclass
class _Kernel:
    """Proposal of every data set: a random walk ``scale * chol @ normal`` and, once
    ``independent`` is set, a multivariate t centred on ``mean`` with scale matrix
    ``chol @ chol.T``, proposed with probability `INDEPENDENT_SHARE`."""

    chol: NDArray  # (D, P, P)
    log_scale: NDArray  # (D,)
    mean: NDArray | None = None  # (D, P)
    inverse_chol: NDArray | None = None  # (D, P, P)

    def log_t(self, z: NDArray) -> NDArray:
        """Log density of the t proposal at z (D, C, P), up to a constant."""
        whitened = np.einsum("dij,dcj->dci", self.inverse_chol, z - self.mean[:, None])
        return -0.5 * (T_DOF + z.shape[-1]) * np.log1p((whitened**2).sum(axis=-1) / T_DOF)


def _metropolis(log_post: Callable[[NDArray], NDArray], z: NDArray, lp: NDArray, kernel: _Kernel,
                noise: _Noise) -> tuple[NDArray, NDArray, NDArray]:
    """One Metropolis-Hastings step of every chain of every data set.

    The move (random walk or independent t) is picked per chain with a fixed
    probability, independent of the state: a mixture of two kernels that each leave
    the posterior invariant.
    """
    normal, log_uniform, uniform, chi2 = noise.next()
    walk = z + np.exp(kernel.log_scale)[:, None, None] * np.einsum("dij,dcj->dci", kernel.chol, normal)
    if kernel.mean is None:
        proposal, log_ratio = walk, 0.0
    else:
        independent = uniform < INDEPENDENT_SHARE
        t_draw = kernel.mean[:, None] + np.einsum("dij,dcj->dci", kernel.chol, normal) \
            / np.sqrt(chi2 / T_DOF)[..., None]
        proposal = np.where(independent[..., None], t_draw, walk)
        log_ratio = np.where(independent, kernel.log_t(z) - kernel.log_t(proposal), 0.0)
    lp_proposal = log_post(proposal)
    with np.errstate(invalid="ignore"):
        accept = log_uniform < lp_proposal - lp + log_ratio  # NaN or -inf proposals are rejected
    return np.where(accept[..., None], proposal, z), np.where(accept, lp_proposal, lp), accept


def _run_chains(log_post: Callable[[NDArray], NDArray], z: NDArray, init_sd: NDArray,
                n_warmup: int, n_draws: int, thin: int, noise: _Noise,
                progress: Callable[[str], Any] | None) -> tuple[NDArray, NDArray]:
    """Warm up and sample; returns unbounded draws (D, C, n_draws, P) and acceptance (D, C)."""
    n_sets, n_chains, n_dim = z.shape
    lp = log_post(z)
    default_log_scale = np.log(2.38 / np.sqrt(n_dim))
    kernel = _Kernel(np.broadcast_to(np.diag(init_sd), (n_sets, n_dim, n_dim)).copy(),
                     np.full(n_sets, default_log_scale - np.log(10.0)))
    ends = _adaptation_windows(n_warmup)
    warm = np.empty((n_sets, n_chains, n_warmup, n_dim))
    mean, window_start, since_reset = z.mean(axis=1), 0, 0
    scale_sum, scale_count = np.zeros(n_sets), 0
    for iteration in range(n_warmup):
        z, lp, accept = _metropolis(log_post, z, lp, kernel, noise)
        warm[:, :, iteration] = z
        since_reset += 1
        kernel.log_scale += since_reset ** -0.6 * (accept.mean(axis=1) - TARGET_ACCEPTANCE)
        if ends and iteration + 1 == ends[0]:
            pooled = warm[:, :, window_start:iteration + 1].reshape(n_sets, -1, n_dim)
            mean, kernel.chol = _pooled_moments(pooled)
            kernel.log_scale = np.full(n_sets, default_log_scale)
            window_start, since_reset = iteration + 1, 0
            ends.pop(0)
        elif not ends:
            scale_sum += kernel.log_scale
            scale_count += 1
        if progress is not None and (iteration + 1) % max(1, n_warmup // 4) == 0:
            progress(f"warm-up {iteration + 1}/{n_warmup}")
    if scale_count:
        kernel.log_scale = scale_sum / scale_count
    kernel.mean = mean
    kernel.inverse_chol = np.linalg.inv(kernel.chol)
    draws = np.empty((n_sets, n_chains, n_draws, n_dim))
    accepted = np.zeros((n_sets, n_chains))
    for iteration in range(n_draws * thin):
        z, lp, accept = _metropolis(log_post, z, lp, kernel, noise)
        accepted += accept
        if (iteration + 1) % thin == 0:
            draws[:, :, iteration // thin] = z
        if progress is not None and (iteration + 1) % max(1, n_draws * thin // 4) == 0:
            progress(f"sampling {iteration + 1}/{n_draws * thin}")
    return draws, accepted / (n_draws * thin)


def _dispersed_starts(log_post: Callable[[NDArray, NDArray], NDArray], priors: Priors,
                      generators: list[np.random.Generator], n_chains: int) -> NDArray:
    """Prior draws with a finite posterior density, picked at random per data set.

    Candidates are drawn in rounds, only for the data sets still short of starting
    points, so that a data set's stream does not depend on the others in its batch.

    Raises
    ------
    ValueError
        If too few of `_MAX_START_ROUNDS` rounds of candidates have a finite density
        (for instance when an RT lies below every plausible non-decision time).
    """
    n_sets = len(generators)
    n_candidates = _START_CANDIDATES * n_chains
    usable: list[list[NDArray]] = [[] for _ in range(n_sets)]
    short = np.arange(n_sets)
    for _ in range(_MAX_START_ROUNDS):
        candidates = np.stack([priors.to_unbounded(priors.sample(n_candidates, seed=generators[i]))
                               for i in short])
        finite = np.isfinite(log_post(candidates, short))
        for row, i in enumerate(short):
            usable[i].append(candidates[row, finite[row]])
        short = np.array([i for i in short if sum(len(u) for u in usable[i]) < n_chains], dtype=np.intp)
        if not short.size:
            break
    else:
        raise ValueError(
            f"data set {short[0]}: fewer than {n_chains} of {_MAX_START_ROUNDS * n_candidates} prior "
            "draws give a finite posterior density; check the data (RTs below the non-decision "
            "times the prior allows?)"
        )
    starts = np.empty((n_sets, n_chains, len(priors)))
    for i, g in enumerate(generators):
        pool = np.concatenate(usable[i])
        starts[i] = pool[g.choice(len(pool), n_chains, replace=False)]
    return starts


def _dataset_generators(seed: SeedLike, indices: NDArray) -> list[np.random.Generator]:
    """One Generator per data set, fixed by the seed and the data set's index alone."""
    root = np.random.SeedSequence(list(stream_key(seed)))
    return [np.random.default_rng(np.random.SeedSequence(root.entropy, spawn_key=(int(i),)))
            for i in indices]


def sample_posteriors(rt: ArrayLike, choice: ArrayLike, reward: ArrayLike, *,
                      model: str | ModelSpec = DEFAULT_MODEL, priors: Priors | None = None,
                      options: ArrayLike | None = None, n_options: int | None = None,
                      q0: float = DEFAULT_Q0, n_draws: int = 1000, thin: int = 5,
                      n_warmup: int = 2000, n_chains: int = 4, seed: SeedLike = None, dt: float = 0.01,
                      max_steps: int = 900, rhat_max: float = RHAT_MAX, min_ess: float = MIN_ESS,
                      retry: bool = True,
                      progress: Callable[[str], Any] | None = None) -> PosteriorBatch:
    """Exact posteriors of many data sets, sampled together.

    Parameters
    ----------
    rt, choice, reward : array_like, shape (D, T) or (T,)
        Data sets as in `rlddm.likelihood.loglik` (pad shorter ones with
        ``choice = -1``).
    model : str or ModelSpec
        The model (``rlddm.model.get_model``); the sampler runs in as many dimensions
        as it has free parameters.
    priors : Priors, optional
        Joint prior over the model's free parameters, in their order; the model's
        default priors (for ``rlddm`` the forum post's) if omitted.
    options : array_like of int, shape (T, 2) or (D, T, 2), optional
        Options presented on each trial (see `rlddm.likelihood.loglik_batch`).
    n_options : int, optional
        Number of options (one more than the largest index by default).
    q0 : float
        Initial Q-value of every option.
    n_draws : int
        Draws kept per chain.
    thin : int
        Iterations per kept draw (the chains run ``n_draws * thin`` iterations after
        warm-up; thinning saves memory, not time).
    n_warmup : int
        Adaptation iterations per chain, discarded.
    n_chains : int
        Chains per data set (at least 2; 4 or more for a reliable R-hat).
    seed : None, int, SeedSequence, BitGenerator or Generator
        NumPy-style seed; data set ``i`` draws from a stream fixed by the seed and
        ``i``, so ``sample_posterior`` on data set 0 with the same seed gives its draws.
    dt, max_steps : float, int
        Simulator settings that set the response deadline ``max_steps * dt``.
    rhat_max, min_ess : float
        Convergence thresholds for every parameter: R-hat <= ``rhat_max``, bulk and
        tail ESS >= ``min_ess`` (over all chains).
    retry : bool
        Sample data sets that fail once more from new starts, with `RETRY_FACTOR` times
        the warm-up and the iterations (and the thinning, so the shape stays).
    progress : callable, optional
        Called with a short message at milestones.

    Returns
    -------
    PosteriorBatch
        Draws of shape (D, n_chains, n_draws, P) on the natural scale (P free
        parameters, named in ``names``), diagnostics and convergence flags; failed data
        sets are kept and flagged, never dropped.

    Raises
    ------
    ValueError
        On invalid data or options, or a data set where no prior draw has a finite
        posterior density.
    """
    spec = get_model(model)
    priors = spec.priors() if priors is None else spec.check_priors(priors)
    trials = _check_trials(rt, choice, reward, options, n_options, q0, batched=True)
    t_max = check_deadline(dt, max_steps)
    n_draws = check_count(n_draws, "n_draws", 8)
    thin = check_count(thin, "thin", 1)
    n_warmup = check_count(n_warmup, "n_warmup", 20)
    n_chains = check_count(n_chains, "n_chains", 2)
    say = progress or (lambda message: None)
    # The first walk scales by the prior's spread in unbounded space (from fixed draws:
    # a constant of the prior, not of the seed); warm-up shrinks it from there.
    init_sd = priors.to_unbounded(priors.sample(4096, seed=0)).std(axis=0)

    def run(indices: NDArray, factor: int, generators: list[np.random.Generator]):
        data = trials.take(indices)

        def log_post(z: NDArray, subset: NDArray | None = None) -> NDArray:
            # the priors' closed forms, unchecked: every z here is finite by construction
            theta, log_prior = priors._unbounded_terms(z)
            subset_data = data if subset is None else data.take(subset)
            return log_prior + _loglik_rows(spec, theta, subset_data, t_max)

        starts = _dispersed_starts(log_post, priors, generators, n_chains)
        draws, accept = _run_chains(log_post, starts, init_sd, factor * n_warmup, n_draws, factor * thin,
                                    _Noise(generators, n_chains, len(priors)), progress)
        return priors.from_unbounded(draws), accept

    indices = np.arange(trials.shape[0])
    generators = _dataset_generators(seed, indices)
    say(f"sampling {indices.size} posteriors: {n_chains} chains, {n_warmup} warm-up, "
        f"{n_draws} draws thinned by {thin}")
    draws, accept = run(indices, 1, generators)
    r, bulk, tail, reasons = _diagnose(draws, spec.names, rhat_max, min_ess)
    attempts = np.ones(indices.size, dtype=np.int64)
    failed = np.flatnonzero([bool(reason) for reason in reasons])
    if retry and failed.size:
        say(f"{failed.size} posteriors failed the checks; sampling them again, "
            f"{RETRY_FACTOR} times as long")
        again = run(failed, RETRY_FACTOR, [generators[i] for i in failed])
        draws[failed], accept[failed] = again
        r[failed], bulk[failed], tail[failed], retried = _diagnose(again[0], spec.names, rhat_max,
                                                                   min_ess)
        for i, reason in zip(failed, retried):
            reasons[i] = reason
        attempts[failed] = 2
    converged = np.array([not reason for reason in reasons])
    return PosteriorBatch(draws, r, bulk, tail, accept, converged, tuple(reasons), attempts,
                          spec.names)


def sample_posterior(rt: ArrayLike, choice: ArrayLike, reward: ArrayLike, *,
                     model: str | ModelSpec = DEFAULT_MODEL, priors: Priors | None = None,
                     options: ArrayLike | None = None, n_options: int | None = None,
                     q0: float = DEFAULT_Q0, n_draws: int = 1000, thin: int = 5,
                     n_warmup: int = 2000, n_chains: int = 4, seed: SeedLike = None, dt: float = 0.01,
                     max_steps: int = 900, rhat_max: float = RHAT_MAX, min_ess: float = MIN_ESS,
                     require_convergence: bool = True) -> PosteriorResult:
    """Exact posterior of one data set (see `sample_posteriors` for the options).

    Parameters
    ----------
    rt, choice, reward : array_like, shape (T,)
        One data set.
    options : array_like of int, shape (T, 2), optional
        Its presented options.
    require_convergence : bool
        Raise `NotConvergedError` if the chains fail the checks after the retry.

    Returns
    -------
    PosteriorResult
        Draws of shape (n_chains, n_draws, P) on the natural scale, with diagnostics.

    Raises
    ------
    NotConvergedError
        If ``require_convergence`` and the posterior failed the checks twice.
    """
    for name, x in (("rt", rt), ("choice", choice), ("reward", reward)):
        if np.ndim(x) != 1:
            raise ValueError(f"{name} must have shape (T,), got shape {np.shape(x)}")
    result = sample_posteriors(rt, choice, reward, model=model, priors=priors, options=options,
                               n_options=n_options, q0=q0, n_draws=n_draws, thin=thin,
                               n_warmup=n_warmup, n_chains=n_chains, seed=seed, dt=dt,
                               max_steps=max_steps, rhat_max=rhat_max, min_ess=min_ess)[0]
    if require_convergence and not result.converged:
        raise NotConvergedError(result)
    return result


# ----------------------------------------------------------------------------------
# Information limit
# ----------------------------------------------------------------------------------


def _correlation(x: NDArray, y: NDArray) -> float | None:
    """Pearson r, or None where it is undefined (fewer than 3 points or no spread)."""
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


# Learning rates whose recovery is broken down by the true drift scaling: with drift
# near 0 the choices carry no information about them (the drift-kappa funnel).
LEARNING_RATES = ("kappa", "kappa_pos", "kappa_neg")


def _breakdown_keys(spec: ModelSpec) -> list[str]:
    """Keys of the by-drift breakdowns `recovery_metrics` returns for this model."""
    if "drift" not in spec.names:
        return []
    return [f"{name}_r_by_drift" for name in LEARNING_RATES if name in spec.names]


def recovery_metrics(truth: ArrayLike, draws: ArrayLike, priors: Priors | None = None, *,
                     model: str | ModelSpec = DEFAULT_MODEL) -> dict[str, Any]:
    """Recovery of known parameters by posterior draws: the information limit of a design.

    Parameters
    ----------
    truth : array_like, shape (D, P)
        Free parameters that generated each data set (P = the model's ``n_free``).
    draws : array_like, shape (D, K, P) or (D, n_chains, n_draws, P)
        Posterior draws of each data set (chains are pooled).
    priors : Priors, optional
        Priors the truths were drawn from (for the normalisations); the model's
        default priors if omitted.
    model : str or ModelSpec, keyword-only
        The model whose free parameters the columns are.

    Returns
    -------
    dict
        ``parameters``: per parameter, ``r`` (Pearson correlation of posterior mean and
        truth over data sets), ``nrmse`` (root mean squared error of the posterior mean
        divided by the prior SD), ``contraction`` (mean over data sets of
        ``1 - posterior variance / prior variance``), ``posterior_sd`` (mean posterior
        SD) and ``coverage`` (share of data sets whose truth lies in the central 50, 80
        and 95 % credible interval). ``<rate>_r_by_drift`` for every learning rate of
        the model (``kappa_r_by_drift`` for ``rlddm``, ``kappa_pos_r_by_drift`` and
        ``kappa_neg_r_by_drift`` for ``dual_lr``), only when drift is free: ``r`` and
        ``n`` of that rate for data sets with true ``|drift|`` in [0, 1), [1, 2) and
        [2, inf).
    """
    spec = get_model(model)
    priors = spec.priors() if priors is None else spec.check_priors(priors)
    width = spec.n_free
    truth = np.asarray(truth, dtype=float)
    draws = np.asarray(draws, dtype=float)
    if draws.ndim not in (3, 4) or draws.shape[-1] != width:
        raise ValueError(f"draws must have shape (D, K, {width}) or (D, C, N, {width}) for model "
                         f"{spec.label()!r} ({', '.join(spec.names)}), got {draws.shape}")
    draws = draws.reshape(draws.shape[0], -1, width)
    if truth.shape != (draws.shape[0], width) or truth.shape[0] == 0:
        raise ValueError(
            f"truth must have shape (D, {width}) with D >= 1 matching draws {draws.shape}, "
            f"got {truth.shape}"
        )
    mean = draws.mean(axis=1)
    var = draws.var(axis=1, ddof=1)
    prior_sd = priors.std
    coverage = {}
    for level in INTERVAL_LEVELS:
        low, high = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2], axis=1)
        coverage[level] = ((truth >= low) & (truth <= high)).mean(axis=0)
    parameters = {}
    for j, name in enumerate(spec.names):
        parameters[name] = {
            "r": _correlation(mean[:, j], truth[:, j]),
            "nrmse": float(np.sqrt(np.mean((mean[:, j] - truth[:, j]) ** 2)) / prior_sd[j]),
            "contraction": float(np.mean(1.0 - var[:, j] / prior_sd[j] ** 2)),
            "posterior_sd": float(np.mean(np.sqrt(var[:, j]))),
            "coverage": {f"{round(100 * level)}": float(coverage[level][j]) for level in INTERVAL_LEVELS},
        }
    metrics: dict[str, Any] = {"n_datasets": int(truth.shape[0]), "parameters": parameters}
    for key in _breakdown_keys(spec):
        rate = spec.names.index(key.removesuffix("_r_by_drift"))
        magnitude = np.abs(truth[:, spec.names.index("drift")])
        by_drift = {}
        for low, high in DRIFT_BINS:
            inside = (magnitude >= low) & (magnitude < high)
            label = f"{low:g} <= |drift| < {high:g}" if np.isfinite(high) else f"|drift| >= {low:g}"
            by_drift[label] = {"n": int(inside.sum()),
                               "r": _correlation(mean[inside, rate], truth[inside, rate])}
        metrics[key] = by_drift
    return metrics


def _design_schedule(design: Any, n: int, n_trials: int,
                     seed: np.random.SeedSequence) -> tuple[NDArray, NDArray | None]:
    """Outcomes (n, T, 2) and presented options (n, T, 2) of ``n`` schedules of a design.

    A design with ``schedule`` (a ``TaskDesign``, or a ``ReversalDesign`` that has one)
    gives both; one with only ``sample`` gives outcomes, with options 0 and 1 on every
    trial (None).
    """
    if hasattr(design, "schedule"):
        outcomes, options = design.schedule(n, n_trials=n_trials, seed=seed)
        return outcomes, options
    return design.sample(n, n_trials=n_trials, seed=seed), None


def reference_run(out_dir: str | Path, *, n: int = 200, n_trials: int = 60, seed: int = 0,
                  model: str | ModelSpec = DEFAULT_MODEL, priors: Priors | None = None,
                  method: str = "exact", design: Any = None, q0: float | None = None,
                  n_draws: int = 1000, thin: int = 5, n_warmup: int = 2000, n_chains: int = 4,
                  dt: float = 0.01, max_steps: int = 900, force: bool = False,
                  progress: Callable[[str], Any] | None = print) -> dict[str, Any]:
    """Exact posteriors of data sets drawn from the prior, and the information limit they give.

    Draws ``n`` parameter vectors from the prior, simulates one data set of ``n_trials``
    trials for each, samples its exact posterior (`sample_posteriors`), and writes to
    ``out_dir``, all at once at the end (into a hidden folder beside it, renamed into place:
    an interrupted run leaves no partial folder):

    - ``reference.npz``: ``theta`` (n, P) truths (the model's free parameters); ``rt``,
      ``choice``, ``reward`` (n, T); ``outcomes`` (n, T, 2) potential outcomes and
      ``options`` (n, T, 2) presented options; ``draws`` (n, n_chains, n_draws, P);
      ``rhat``, ``ess_bulk``, ``ess_tail`` (n, P); ``accept_rate`` (n, n_chains);
      ``converged`` (n,); ``attempts`` (n,).
    - ``reference.json``: the configuration (model, priors, design, q0, n, n_trials,
      method, seed, dt, max_steps, sampler settings, parameter names, package version).
    - ``metrics.json``: `recovery_metrics` over the converged data sets
      (``parameters`` and the by-drift breakdowns such as ``kappa_r_by_drift``; None if
      none converged) and over all of them (``all_datasets``), the count, ids and
      reasons of the data sets that did not converge, diagnostics summaries and timings.

    Parameters
    ----------
    out_dir : str or Path
        Output folder (created); an existing one must be empty unless ``force``.
    n, n_trials : int
        Number of data sets and trials per data set.
    seed : int
        Seed of everything: truths, outcomes, simulation and sampler.
    model : str or ModelSpec
        The model simulated and fitted (``rlddm.model.get_model``).
    priors : Priors, optional
        Prior of the truths and of the posterior over the model's free parameters
        (default: the model's, for ``rlddm`` the forum post's).
    method : {"exact", "euler"}
        Simulation method; ``"exact"`` draws from the continuous-time model that the
        likelihood describes, ``"euler"`` from the dt-walk (a mismatch worth measuring).
    design : ReversalDesign or design with ``schedule``, optional
        Task design (default: the forum post's reversal design). A design with a
        ``schedule(n, *, n_trials=None, seed=None) -> (outcomes, options)`` method
        (such as ``rlddm.designs.TaskDesign``) may present any pairs of options;
        otherwise its ``sample`` gives the outcomes of options 0 and 1.
    q0 : float, optional
        Initial Q-value of every option: the design's ``q0`` if it has one, else 0.5.
    n_draws, thin, n_warmup, n_chains : int
        Sampler settings (see `sample_posteriors`).
    dt, max_steps : float, int
        Simulator step and step limit; ``max_steps * dt`` is the response deadline.
    force : bool
        Replace an existing non-empty ``out_dir``.
    progress : callable or None
        Receives progress messages (``print`` by default).

    Returns
    -------
    dict
        The content of ``metrics.json``.

    Raises
    ------
    FileExistsError
        If ``out_dir`` is a non-empty folder and ``force`` is false, or not a folder.
    ValueError
        On invalid settings, or an ``out_dir`` that is or holds the current folder.
    """
    spec = get_model(model)
    priors = spec.priors() if priors is None else spec.check_priors(priors)
    n = check_count(n, "n", 1)
    n_trials = check_count(n_trials, "n_trials", 1)
    design = ReversalDesign() if design is None else design
    if not (hasattr(design, "schedule") or hasattr(design, "sample")):
        raise ValueError(f"design must have a schedule or a sample method, got {design!r}")
    # the design as recorded: its default length is the reference's
    if dataclasses.is_dataclass(design) and "n_trials" in {f.name for f in dataclasses.fields(design)}:
        design = dataclasses.replace(design, n_trials=n_trials)
    q0 = getattr(design, "q0", DEFAULT_Q0) if q0 is None else q0
    seed = check_count(seed, "seed", 0)
    if not isinstance(force, bool):
        raise ValueError(f"force must be True or False, got {force!r}")
    say = progress or (lambda message: None)
    flag = "force=True (rlddm reference --force)"
    check_out(out_dir, force, flag=flag)  # refuse now rather than after the sampling
    truth_seed, design_seed, simulation_seed, sampler_seed = np.random.SeedSequence(seed).spawn(4)

    start = time.perf_counter()
    theta = priors.sample(n, seed=truth_seed)
    outcomes, options = _design_schedule(design, n, n_trials, design_seed)
    data = simulate(theta, outcomes, model=spec, options=options, q0=q0, dt=dt,
                    max_steps=max_steps, seed=simulation_seed, method=method)
    simulated = time.perf_counter()
    say(f"simulated {n} data sets of {n_trials} trials ({spec.label()}, {method}) in "
        f"{simulated - start:.1f} s")
    batch = sample_posteriors(data.rt, data.choice, data.reward, model=spec, priors=priors,
                              options=data.options, q0=q0, n_draws=n_draws, thin=thin,
                              n_warmup=n_warmup, n_chains=n_chains, seed=sampler_seed, dt=dt,
                              max_steps=max_steps, progress=say)
    sampled = time.perf_counter()
    say(f"sampled {n} posteriors in {sampled - simulated:.1f} s; "
        f"{int(batch.converged.sum())} converged")

    config = {
        "n": n, "n_trials": n_trials, "seed": seed, "method": method, "dt": dt,
        "max_steps": max_steps, "model": spec.to_dict(), "priors": priors.to_dict(),
        "design": design.to_dict(), "q0": float(q0),
        "sampler": {"n_chains": n_chains, "n_warmup": n_warmup, "n_draws": n_draws, "thin": thin,
                    "rhat_max": RHAT_MAX, "min_ess": MIN_ESS, "retry_factor": RETRY_FACTOR},
        "parameter_names": list(spec.names), "rlddm_version": version("rlddm"),
    }

    failed = np.flatnonzero(~batch.converged)
    ok = batch.converged
    converged_metrics = dict.fromkeys(["parameters", *_breakdown_keys(spec)])
    if ok.any():
        converged_metrics = recovery_metrics(theta[ok], batch.draws[ok], priors, model=spec)
        del converged_metrics["n_datasets"]
    metrics = {
        "n_datasets": n,
        "n_trials": n_trials,
        "n_converged": int(ok.sum()),
        "not_converged_ids": [int(i) for i in failed],
        "not_converged_reasons": {str(int(i)): batch.reasons[i] for i in failed},
        "included": "parameters and the by-drift breakdowns: converged data sets only; "
                    "all_datasets: every data set",
        "definitions": {
            "r": "Pearson correlation of posterior mean and truth over data sets",
            "nrmse": "RMSE of the posterior mean / prior SD",
            "contraction": "mean over data sets of 1 - posterior variance / prior variance",
            "posterior_sd": "mean over data sets of the posterior SD",
            "coverage": "share of data sets whose truth lies in the central credible interval",
        },
        **converged_metrics,
        "all_datasets": recovery_metrics(theta, batch.draws, priors, model=spec),
        "diagnostics": {
            "rhat_max": float(batch.rhat.max()),
            "ess_bulk_min": float(batch.ess_bulk.min()),
            "ess_tail_min": float(batch.ess_tail.min()),
            "accept_rate_mean": float(batch.accept_rate.mean()),
            "n_rerun": int((batch.attempts > 1).sum()),
            "n_missed_trials": int(data.n_missed.sum()),
        },
        "seconds": {"simulation": round(simulated - start, 2),
                    "sampling": round(sampled - simulated, 2)},
    }
    with staged_folder(out_dir, force=force, flag=flag) as staging:
        np.savez(staging / "reference.npz", theta=theta, rt=data.rt, choice=data.choice,
                 reward=data.reward, outcomes=outcomes, options=data.options, draws=batch.draws,
                 rhat=batch.rhat, ess_bulk=batch.ess_bulk, ess_tail=batch.ess_tail,
                 accept_rate=batch.accept_rate, converged=batch.converged,
                 attempts=batch.attempts)
        (staging / "reference.json").write_text(json.dumps(config, indent=2) + "\n")
        (staging / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics
