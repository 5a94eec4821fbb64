"""Reference posterior of any registered RLDDM: MCMC on the exact likelihood.

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

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from .._checks import check_count, check_deadline
from .._seeding import SeedLike, stream_key
from ..likelihood.trials import _check_trials, _loglik_rows
from ..model import DEFAULT_MODEL, DEFAULT_Q0, ModelSpec, get_model
from ..model.parameters import PARAMETER_NAMES
from ..model.priors import Priors
from .diagnostics import MIN_ESS, RHAT_MAX, _diagnose

__all__ = ["NotConvergedError", "PosteriorBatch", "PosteriorResult", "sample_posterior",
           "sample_posteriors"]

# A failed posterior is sampled again this many times as long: of the 11 of 200
# 120-trial data sets that still failed after a rerun twice as long, a rerun four
# times as long let 6 pass.
RETRY_FACTOR = 4
TARGET_ACCEPTANCE = 0.25
INDEPENDENT_SHARE = 0.5
T_DOF = 5.0
# The independence proposal: "t" (above), or "mixture", which `rlddm.exact_fit` uses: with
# probability MIXTURE_T_SHARE that t, else a Gaussian (scale matrix MIXTURE_BANDWIDTH**2
# times the t's) around one of MIXTURE_CENTRES draws of the second half of warm-up. The t
# cannot follow the curved drift-kappa funnel of weakly identified learning rates; the
# warm-up draws do, and the t keeps the proposal's tails heavier than the posterior's.
INDEPENDENCE_PROPOSALS = ("t", "mixture")
MIXTURE_CENTRES = 256
MIXTURE_BANDWIDTH = 0.5
MIXTURE_T_SHARE = 0.2
_LOG_T_NORM = {p: float(special.gammaln(0.5 * (T_DOF + p)) - special.gammaln(0.5 * T_DOF)
                        - 0.5 * p * np.log(T_DOF * np.pi)) for p in range(1, 33)}
# Random numbers are drawn per data set in blocks of this many iterations, so a data
# set's stream is consumed in the same order whatever batch it is part of.
_NOISE_BLOCK = 128
# Prior draws per chain among which finite-posterior starting points are picked.
_START_CANDIDATES = 16
_MAX_START_ROUNDS = 64


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
    # The independence proposal "mixture" (see `INDEPENDENCE_PROPOSALS`): warm-up draws
    # (D, M, P) whitened by inverse_chol, the centres of its Gaussian components.
    centres: NDArray | None = None

    def log_t(self, z: NDArray) -> NDArray:
        """Log density of the t proposal at z (D, C, P), up to a constant."""
        whitened = np.einsum("dij,dcj->dci", self.inverse_chol, z - self.mean[:, None])
        return -0.5 * (T_DOF + z.shape[-1]) * np.log1p((whitened**2).sum(axis=-1) / T_DOF)

    def log_mixture(self, z: NDArray) -> NDArray:
        """Log density of the mixture proposal at z (D, C, P), up to a constant shared by
        every z of a data set (the Jacobian of the whitening): `MIXTURE_T_SHARE` of the t
        (normalised) and the rest spread evenly over Gaussians of scale `MIXTURE_BANDWIDTH`
        around the centres."""
        n_dim = z.shape[-1]
        whitened = np.einsum("dij,dcj->dci", self.inverse_chol, z)
        from_mean = whitened - np.einsum("dij,dj->di", self.inverse_chol, self.mean)[:, None]
        log_t = (_LOG_T_NORM[n_dim]
                 - 0.5 * (T_DOF + n_dim) * np.log1p((from_mean**2).sum(axis=-1) / T_DOF))
        # squared distances to the centres, |w|^2 - 2 w.c + |c|^2, one matrix product
        squared = ((whitened**2).sum(axis=-1)[..., None]
                   - 2.0 * np.matmul(whitened, self.centres.transpose(0, 2, 1))
                   + (self.centres**2).sum(axis=-1)[:, None])
        h = MIXTURE_BANDWIDTH
        exponent = -0.5 / h**2 * np.maximum(squared, 0.0)
        top = exponent.max(axis=-1)
        log_kde = (np.log(np.exp(exponent - top[..., None]).sum(axis=-1)) + top
                   - np.log(squared.shape[-1]) - n_dim * np.log(h)
                   - 0.5 * n_dim * np.log(2.0 * np.pi))
        return np.logaddexp(np.log(MIXTURE_T_SHARE) + log_t,
                            np.log1p(-MIXTURE_T_SHARE) + log_kde)


def _set_mixture_centres(kernel: _Kernel, warm: NDArray) -> None:
    """The mixture proposal's centres: `MIXTURE_CENTRES` of the (D, C, N, P) warm-up draws,
    evenly spaced over chains and time, whitened by the kernel's inverse_chol."""
    pooled = warm.reshape(warm.shape[0], -1, warm.shape[-1])
    chosen = np.linspace(0, pooled.shape[1] - 1, min(MIXTURE_CENTRES, pooled.shape[1]))
    kernel.centres = np.einsum("dij,dmj->dmi", kernel.inverse_chol,
                               pooled[:, chosen.round().astype(np.intp)])


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
    elif kernel.centres is not None:
        # Given an independent move (uniform < share), uniform / share is uniform on
        # [0, 1) and independent of that choice: it picks the t or a Gaussian component.
        independent = uniform < INDEPENDENT_SHARE
        pick = uniform / INDEPENDENT_SHARE
        correlated = np.einsum("dij,dcj->dci", kernel.chol, normal)
        t_draw = kernel.mean[:, None] + correlated / np.sqrt(chi2 / T_DOF)[..., None]
        n_centres = kernel.centres.shape[1]
        component = np.minimum(((pick - MIXTURE_T_SHARE) / (1.0 - MIXTURE_T_SHARE)
                                * n_centres).astype(np.intp), n_centres - 1).clip(0)
        centre = np.take_along_axis(kernel.centres, component[..., None], axis=1)  # whitened
        kde_draw = np.einsum("dij,dcj->dci", kernel.chol, centre + MIXTURE_BANDWIDTH * normal)
        draw = np.where((pick < MIXTURE_T_SHARE)[..., None], t_draw, kde_draw)
        proposal = np.where(independent[..., None], draw, walk)
        log_q = kernel.log_mixture(np.concatenate([z, proposal], axis=1))
        log_ratio = np.where(independent, log_q[:, :z.shape[1]] - log_q[:, z.shape[1]:], 0.0)
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
                progress: Callable[[str], Any] | None,
                independence: str = "t") -> tuple[NDArray, NDArray]:
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
    if independence == "mixture":
        # centres: draws of the second half of warm-up, evenly spaced over chains and time
        _set_mixture_centres(kernel, warm[:, :, n_warmup // 2:])
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
                      retry: bool = True, independence: str = "t",
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
    independence : {"t", "mixture"}
        The independence proposal after warm-up: the multivariate t, or the mixture of
        that t and Gaussians around warm-up draws (`INDEPENDENCE_PROPOSALS`), which
        mixes through the drift-kappa funnel (`rlddm.exact_fit` uses it).
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
    if independence not in INDEPENDENCE_PROPOSALS:
        raise ValueError(f"independence must be one of {INDEPENDENCE_PROPOSALS}, "
                         f"got {independence!r}")
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
                                    _Noise(generators, n_chains, len(priors)), progress,
                                    independence)
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
