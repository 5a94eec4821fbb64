"""Group-level posterior from per-participant posterior draws: the two-stage method.

Stage one fits every participant alone under one prior ``p0`` (for the amortized
method: the prior the network was trained under) and gives draws ``z_i1..z_iS`` of each
participant's parameters on the priors' unbounded scale (the bijection of
:meth:`rlddm.model.priors.Priors.to_unbounded`). Stage two puts the population model of
:mod:`rlddm.mcmc.hierarchical` in place of ``p0`` (Lunn et al., 2013, Stat. Med.
32:4140, "fully Bayesian hierarchical modelling in two stages"): since
``p(data_i | z) ∝ p(z | data_i) / p0(z)``, each participant's likelihood is represented
by its draws, smoothed by Gaussian kernels,

    L_i(z) ≈ sum_s N(z | c_is, H_i) / p0(z_is),
    c_is = a z_is + (1 - a) zbar_i,   H_i = h^2 diag(var_i),   a = sqrt(1 - h^2)

(``zbar_i`` and ``var_i`` the mean and variance of the participant's draws, ``h`` the
``bandwidth``, 0.5 by default; the shrinkage of West, 1993, keeps each mixture's mean
and variance those of the draws). With ``s_i`` the component of participant ``i``, a
Gibbs sampler alternates

(a) each ``s_i`` from its exact categorical conditional, weights
    ``w_is ∝ N(c_is | mean_i, sigma^2 + H_i) / p0(z_is)`` (``z_i`` integrated out; all
    participants and chains at once);
(b) ``(mu, delta)`` from their normal conditional given the components (``z``
    integrated out: a linear regression with variance ``sigma^2 + H_i`` per participant);
(c) ``sigma`` by random-walk Metropolis on ``log sigma`` given the components and the
    means (``z`` integrated out), its step adapted during warm-up;
(d) each ``z_i`` from its normal conditional given its component and the population;
(e) the exact sampler's non-centred move (:mod:`rlddm.mcmc.hierarchical` (d)) with the
    kernel ``N(z_i | c_i, H_i)`` as likelihood, every parameter at once.

No likelihood is evaluated, so hundreds of participants take seconds. On a Gaussian
study whose answer is known in closed form (tests/test_two_stage.py) the population
means and SDs are within 0.2 posterior SD of it; a narrower kernel (h = 0.2) mixed
three times more slowly and was further off for the SDs.

How good the weights are
------------------------
The method is exact in the limit of many draws, but only as good as the draws cover the
hierarchical posterior of each participant: where the population is much narrower than
a participant's stage-one posterior, few draws carry the weight. Per participant, the
Kish effective sample size ``(sum w)^2 / sum w^2`` of the weights is averaged over the
kept iterations (``importance_ess``); a participant below ``min_importance_ess`` (50 by
default) fails the convergence checks, named as ``participant 3: importance ESS 31 of
2000 draws`` (more stage-one draws, or the exact method, are the remedies). The
population and participant draws also pass the exact sampler's R-hat and ESS checks.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_count, check_finite
from .._seeding import SeedLike, stream_key
from ..model import ModelSpec, get_model
from ..model.priors import Priors
from .diagnostics import MIN_ESS, RHAT_MAX, _diagnose
from .sampler import TARGET_ACCEPTANCE
from .hierarchical import (HierarchicalResult, _design_matrix, _failing, _group_index,
                           _population_mean, _population_quantities, hyperprior_moments)

__all__ = ["MIN_IMPORTANCE_ESS", "sample_hierarchical_two_stage"]

BANDWIDTH = 0.5
"""Kernel width per parameter, in units of the participant's stage-one posterior SD."""
MIN_IMPORTANCE_ESS = 50.0
"""Smallest mean importance ESS a participant's stage-one draws may give (module docstring)."""


def _draw_weighted_means(centre: NDArray, variance: NDArray, design: NDArray,
                         prior_mean: NDArray, prior_sd: NDArray,
                         rng: np.random.Generator) -> NDArray:
    """b = (mu, delta_1..) per chain and parameter given ``centre_i ~ N(X_i b, variance_i)``.

    centre, variance (K, C, P), design (K, G) -> b (C, G, P): the Bayesian linear
    regression of :func:`rlddm.mcmc.hierarchical._draw_means` with a variance per
    participant (the population variance plus the participant's kernel variance).
    """
    n_groups = design.shape[1]
    weight = 1.0 / variance
    precision = (np.einsum("kg,kcp,kh->cpgh", design, weight, design)
                 + np.eye(n_groups) / prior_sd[:, None, None] ** 2)
    b0 = np.zeros((prior_mean.size, n_groups))
    b0[:, 0] = prior_mean
    rhs = np.einsum("kg,kcp->cpg", design, weight * centre) + b0 / prior_sd[:, None] ** 2
    chol = np.linalg.cholesky(precision)
    mean = np.linalg.solve(precision, rhs[..., None])[..., 0]
    offset = np.linalg.solve(np.swapaxes(chol, -1, -2),
                             rng.standard_normal(mean.shape)[..., None])[..., 0]
    return np.moveaxis(mean + offset, -1, 1)


def _step_sigma(centre: NDArray, mean: NDArray, sigma: NDArray, kernel_var: NDArray,
                prior_sd: NDArray, step: NDArray, rng: np.random.Generator,
                n_steps: int = 3) -> tuple[NDArray, NDArray]:
    """Random-walk Metropolis steps on log sigma (C, P), every parameter and chain at once.

    Target: ``sum_i log N(centre_ij | mean_ij, sigma_j^2 + H_ij)`` plus the half-normal
    hyperprior and the log-Jacobian ``log sigma_j``. Returns sigma and the acceptance
    (C, P) of the last step.
    """
    squares = (centre - mean) ** 2  # (K, C, P)

    def log_target(sd: NDArray) -> NDArray:
        variance = sd[None] ** 2 + kernel_var[:, None, :]
        return (-0.5 * (squares / variance + np.log(variance)).sum(axis=0)
                - 0.5 * sd**2 / prior_sd**2 + np.log(sd))

    current = log_target(sigma)
    for _ in range(n_steps):
        proposal = sigma * np.exp(step * rng.standard_normal(sigma.shape))
        proposed = log_target(proposal)
        accept = np.log(rng.uniform(size=sigma.shape)) < proposed - current
        sigma = np.where(accept, proposal, sigma)
        current = np.where(accept, proposed, current)
    return sigma, accept


def _shift(current: NDArray, centre: NDArray, mu: NDArray, delta: NDArray | None,
           sigma: NDArray, mean: NDArray, group: NDArray | None, kernel_var: NDArray,
           m: NDArray, s: NDArray, step: NDArray, rng: np.random.Generator):
    """For each parameter j, a random walk on (mu_j, log sigma_j) that moves every
    participant's z_ij with it, holding (z_ij - mean_ij) / sigma_j fixed: the exact
    sampler's interweaving move (:mod:`rlddm.mcmc.hierarchical`, step (d)) with each
    participant's current kernel N(z_i | centre_i, H_i) as its likelihood. That log
    density is a sum over parameters, so all parameters move at once, each accepted on
    its own. Returns z, mu, sigma, the means and the acceptance (C, P).
    """
    normal = rng.standard_normal((2,) + mu.shape) * step
    mu_new = mu + normal[0] * s
    sigma_new = sigma * np.exp(normal[1])
    mean_new = _population_mean(mu_new, delta, group)
    z_new = mean_new + (current - mean) * (sigma_new / sigma)
    log_kernel = -0.5 * ((z_new - centre) ** 2 - (current - centre) ** 2) / kernel_var[:, None, :]
    log_ratio = (log_kernel.sum(axis=0) - 0.5 * ((mu_new - m) ** 2 - (mu - m) ** 2) / s**2
                 - 0.5 * (sigma_new**2 - sigma**2) / s**2 + normal[1])
    accept = np.log(rng.uniform(size=mu.shape)) < log_ratio
    current = np.where(accept[None], z_new, current)
    mu, sigma = np.where(accept, mu_new, mu), np.where(accept, sigma_new, sigma)
    return current, mu, sigma, _population_mean(mu, delta, group), accept


def sample_hierarchical_two_stage(
        draws: ArrayLike, participants: Sequence[Any], model: str | ModelSpec = "rlddm", *,
        priors: Priors | None = None, groups: Any = None, baseline: Any = None,
        n_chains: int = 4, n_warmup: int = 300, n_draws: int = 2000, thin: int = 1,
        seed: SeedLike = 0, rhat_max: float = RHAT_MAX, min_ess: float = MIN_ESS,
        min_importance_ess: float = MIN_IMPORTANCE_ESS,
        bandwidth: float = BANDWIDTH) -> HierarchicalResult:
    """Hierarchical posterior from each participant's draws under the prior ``priors``.

    Parameters
    ----------
    draws : array_like, shape (K, S, P)
        Stage-one posterior draws of each participant's free parameters on the natural
        scale (for example ``FitResult.draws`` of an amortized fit), under ``priors``.
    participants : sequence
        The K participant ids.
    model : str or ModelSpec
        The model whose free parameters the columns are.
    priors : Priors, optional
        The stage-one prior (divided out) and the source of the hyperpriors, as in
        :func:`rlddm.mcmc.hierarchical.sample_hierarchical`; the model's defaults if omitted.
    groups, baseline
        As for :func:`~rlddm.mcmc.hierarchical.sample_hierarchical`.
    n_chains, n_warmup, n_draws, thin : int
        Chains, burn-in iterations, kept draws per chain and iterations per kept draw.
    seed : None, int, SeedSequence, BitGenerator or Generator
    rhat_max, min_ess : float
        Convergence checks of every population and participant quantity.
    min_importance_ess : float
        Smallest mean importance ESS per participant (module docstring).

    Returns
    -------
    HierarchicalResult
        With ``settings["importance_ess"]`` (K,) and the method in ``settings["method"]``.

    Raises
    ------
    ValueError
        Naming the argument: draws of the wrong shape or with values outside the priors'
        supports, fewer than 2 participants, ids that do not match, bad settings.
    """
    start_time = time.perf_counter()
    spec = get_model(model)
    priors = spec.priors() if priors is None else spec.check_priors(priors)
    draws = np.asarray(draws, dtype=np.float64)
    n_dim = spec.n_free
    if draws.ndim != 3 or draws.shape[-1] != n_dim or draws.shape[1] < 2:
        raise ValueError(f"draws must have shape (K, S >= 2, {n_dim}) for model "
                         f"{spec.label()!r} ({', '.join(spec.names)}), got {draws.shape}")
    k, n_stage_one, _ = draws.shape
    participants = tuple(participants)
    if len(participants) != k:
        raise ValueError(f"participants must name the {k} participants of draws, got "
                         f"{len(participants)}")
    if k < 2:
        raise ValueError(f"draws must hold at least 2 participants for a hierarchy, got {k}")
    n_chains = check_count(n_chains, "n_chains", 2)
    n_warmup = check_count(n_warmup, "n_warmup", 0)
    n_draws = check_count(n_draws, "n_draws", 8)
    thin = check_count(thin, "thin", 1)
    rhat_max = check_finite(rhat_max, "rhat_max")
    min_ess = check_finite(min_ess, "min_ess")
    min_importance_ess = check_finite(min_importance_ess, "min_importance_ess")
    bandwidth = check_finite(bandwidth, "bandwidth")
    if not 0 < bandwidth <= 1:
        raise ValueError(f"bandwidth must be in (0, 1], got {bandwidth!r}")
    outside = ~np.isfinite(draws) | (draws < priors.lower) | (draws > priors.upper)
    if outside.any():
        i, d, j = (int(v[0]) for v in np.nonzero(outside))
        raise ValueError(f"draws of participant {participants[i]!r}: {spec.names[j]} = "
                         f"{draws[i, d, j]!r} (draw {d}) lies outside its prior's support "
                         f"[{priors.lower[j]:g}, {priors.upper[j]:g}]")
    on_bound = (draws == priors.lower) | (draws == priors.upper)
    with np.errstate(invalid="ignore"):  # -inf + inf of an unbounded support: not used
        interior = np.where(np.isfinite(priors.lower) & np.isfinite(priors.upper),
                            0.5 * (priors.lower + priors.upper),
                            np.where(np.isfinite(priors.lower), priors.lower + 1.0,
                                     priors.upper - 1.0))
    z = priors.to_unbounded(np.where(on_bound, interior, draws))  # bound draws: weight 0
    theta, log_p0 = priors._unbounded_terms(z)
    usable = ~on_bound.any(axis=-1) & np.isfinite(log_p0) & np.isfinite(z).all(axis=-1)
    if not usable.any(axis=1).all():
        i = int(np.flatnonzero(~usable.any(axis=1))[0])
        bounds = [f"{name} = {draws[i, 0, j]:g}" for j, name in enumerate(spec.names)
                  if on_bound[i, :, j].all()]
        raise ValueError(f"draws of participant {participants[i]!r} all lie on a bound of the "
                         f"priors' supports ({', '.join(bounds) or 'a parameter per draw'}), so "
                         "they cannot be reweighted: from a network, its data are outside what "
                         "the network was trained on; use the exact method")
    log_p0 = np.where(usable, log_p0, np.inf)  # weight 0 for a draw on a bound
    if groups is not None:
        group, levels = _group_index(groups, participants, baseline)
    elif baseline is not None:
        raise ValueError("baseline needs groups")
    else:
        group, levels = None, None
    n_groups = 1 if levels is None else len(levels)
    design = _design_matrix(group, k, n_groups)
    m, s = hyperprior_moments(priors)
    rng = np.random.default_rng(np.random.SeedSequence(list(stream_key(seed))))
    z = np.where(usable[..., None], z, 0.0)

    # the kernel of each participant's draws: diagonal, bandwidth times the draws' SDs
    centre_of = np.array([z[i, usable[i]].mean(axis=0) for i in range(k)])  # (K, P)
    spread = np.sqrt(np.array([z[i, usable[i]].var(axis=0) for i in range(k)]))  # (K, P)
    kernel_var = np.maximum(bandwidth * spread, 1e-6) ** 2  # (K, P)
    # Liu-West shrinkage: kernels around a z_s + (1 - a) mean, a = sqrt(1 - h^2), so the
    # mixture keeps the draws' mean and variance (the kernels alone would widen it)
    shrink = np.sqrt(1.0 - bandwidth**2)
    z_kernel = np.where(usable[..., None], shrink * z + (1.0 - shrink) * centre_of[:, None, :],
                        0.0)

    z_t = np.swapaxes(z_kernel, 1, 2).copy()  # (K, P, S)
    z_squared_t = z_t**2
    log_p0 = log_p0[:, None, :]  # (K, 1, S)

    def log_weights(mean: NDArray, sigma: NDArray) -> NDArray:
        """(K, C, S) log N(z_is | mean_ic, sigma_c^2 + H_i) - log p0(z_is), up to a constant.

        The quadratic form expanded into two batched matrix products over the parameters
        (the residuals of every draw would be a (K, C, S, P) array per iteration).
        """
        inverse = 1.0 / (sigma[None] ** 2 + kernel_var[:, None, :])  # (K, C, P)
        scaled = mean * inverse
        return -0.5 * (inverse @ z_squared_t) + scaled @ z_t - log_p0

    # start: each chain at a random draw per participant, the population at their moments
    index = rng.integers(n_stage_one, size=(n_chains, k))
    for c in range(n_chains):  # a usable draw for every participant
        for i in np.flatnonzero(~usable[np.arange(k), index[c]]):
            index[c, i] = rng.choice(np.flatnonzero(usable[i]))
    current = np.moveaxis(z[np.arange(k)[None], index], 0, 1)  # (K, C, P)
    mu = current.mean(axis=0)
    delta = np.zeros((n_chains, n_groups - 1, n_dim)) if n_groups > 1 else None
    sigma = np.maximum(current.std(axis=0), 0.1 * s)
    mean = _population_mean(mu, delta, group)
    out = {"z": np.empty((n_chains, n_draws, k, n_dim)), "mu": np.empty((n_chains, n_draws, n_dim)),
           "sigma": np.empty((n_chains, n_draws, n_dim)),
           "delta": (np.empty((n_chains, n_draws, n_groups - 1, n_dim)) if n_groups > 1
                     else None)}
    ess_sum = np.zeros(k)
    log_step = np.full((2, n_dim), np.log(0.3))
    participant_index = np.arange(k)[None]
    for iteration in range(n_warmup + n_draws * thin):
        # (a) each participant's kernel component given the population
        log_w = log_weights(mean, sigma)  # (K, C, S)
        weights = np.exp(log_w - log_w.max(axis=-1, keepdims=True))
        cumulative = np.cumsum(weights, axis=-1)
        u = rng.uniform(size=(k, n_chains, 1)) * cumulative[..., -1:]
        index = np.minimum((cumulative < u).sum(axis=-1), n_stage_one - 1)
        centre = z_kernel[participant_index.T, index]  # (K, C, P)
        # (b) the population means given the components, z integrated out
        b = _draw_weighted_means(centre, sigma[None] ** 2 + kernel_var[:, None, :], design, m, s,
                                 rng)
        mu, delta = b[:, 0], (b[:, 1:] if n_groups > 1 else None)
        mean = _population_mean(mu, delta, group)
        # (c) the population SDs given the components and the means, z integrated out
        sigma, moved = _step_sigma(centre, mean, sigma, kernel_var, s, np.exp(log_step[0]), rng)
        # (d) each participant's z within its component, given the population
        precision = 1.0 / kernel_var[:, None, :] + 1.0 / sigma[None] ** 2
        location = (centre / kernel_var[:, None, :] + mean / sigma[None] ** 2) / precision
        current = location + rng.standard_normal(location.shape) / np.sqrt(precision)
        # (e) the non-centred move against the funnel between sigma and the participants
        current, mu, sigma, mean, shifted = _shift(current, centre, mu, delta, sigma, mean,
                                                   group, kernel_var, m, s,
                                                   np.exp(log_step[1]), rng)
        if iteration < n_warmup:  # Robbins-Monro towards the target acceptance, then fixed
            rate = (iteration + 1) ** -0.6
            log_step[0] += rate * (moved.mean(axis=0) - TARGET_ACCEPTANCE)
            log_step[1] += rate * (shifted.mean(axis=0) - TARGET_ACCEPTANCE)
        kept = iteration - n_warmup
        if kept >= 0 and (kept + 1) % thin == 0:
            d = kept // thin
            out["z"][:, d] = np.swapaxes(current, 0, 1)
            out["mu"][:, d], out["sigma"][:, d] = mu, sigma
            if delta is not None:
                out["delta"][:, d] = delta
            ess_sum += (cumulative[..., -1] ** 2 / (weights**2).sum(axis=-1)).mean(axis=1)
    importance_ess = ess_sum / n_draws
    names = spec.names
    natural = priors._vector.from_unbounded(out["z"])  # (C, N, K, P)
    r, bulk, tail, reasons = _diagnose(np.moveaxis(natural, 2, 0), names, rhat_max, min_ess)
    contrasts = () if levels is None else tuple(f"{lv}-{levels[0]}" for lv in levels[1:])
    pop_names, pop = _population_quantities(priors, names, out, contrasts)
    pr, pbulk, ptail, _ = _diagnose(pop, pop_names, rhat_max, min_ess)
    failing = _failing(pop_names, (pr, pbulk, ptail), participants, names, (r, bulk, tail),
                       rhat_max, min_ess)
    problems = [f"R-hat or ESS of {name}" for name in failing]
    for i in range(k):
        if reasons[i]:
            problems.append(f"participant {participants[i]}: {reasons[i]}")
        if importance_ess[i] < min_importance_ess:
            text = (f"participant {participants[i]}: importance ESS {importance_ess[i]:.0f} of "
                    f"{n_stage_one} draws")
            failing.append(text)
            problems.append(text)
    settings = {"method": "two-stage", "n_chains": n_chains, "n_warmup": n_warmup,
                "n_draws": n_draws, "thin": thin, "rhat_max": rhat_max, "min_ess": min_ess,
                "stage_one_draws": n_stage_one, "bandwidth": bandwidth, "min_importance_ess": min_importance_ess,
                "importance_ess": importance_ess, "model": spec.to_dict(),
                "seconds": time.perf_counter() - start_time}
    return HierarchicalResult(
        participants=participants, names=names, priors=priors, draws=natural, mu=out["mu"],
        sigma=out["sigma"], delta=out["delta"], levels=levels, group=group,
        population_names=pop_names, rhat=r, ess_bulk=bulk, ess_tail=tail,
        population_rhat=pr, population_ess_bulk=pbulk, population_ess_tail=ptail,
        accept_rate=np.ones((k, n_chains)), converged=not failing, unconverged=tuple(failing),
        reason="; ".join(problems), attempts=1, hyperprior={"m": m, "s": s}, settings=settings)
