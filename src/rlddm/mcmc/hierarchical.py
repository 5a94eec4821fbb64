"""Group-level (hierarchical) exact posterior: participants drawn from a population.

Model
-----
Each participant's free parameters live in the priors' unbounded space (the
bijection of :meth:`rlddm.model.priors.Priors.to_unbounded`: identity, log or logit).
For free parameter ``j`` and participant ``i`` (in group ``g(i)``)::

    z_ij ~ Normal(mu_j + delta_{g(i), j}, sigma_j)          (population)
    theta_ij = from_unbounded(z_ij)                          (natural scale)
    data_i | theta_i ~ the model's exact likelihood          (rlddm.likelihood)

``delta`` is 0 for the baseline group (and absent without ``groups``), so ``mu_j``
is the baseline group's population mean and ``from_unbounded(mu_j)`` its population
*median* on the natural scale (the bijection is monotone). Fixed parameters
(``get_model(..., fixed=...)``) are not in the hierarchy: they stay at their values.

Hyperpriors
-----------
``m_j`` and ``s_j`` are the mean and SD of the model's prior for parameter ``j`` (its
default priors, or ``priors``) mapped to the unbounded space, by Monte Carlo over
20,000 prior draws with a fixed seed (a constant of the prior, not of the run)::

    mu_j      ~ Normal(m_j, s_j)
    sigma_j   ~ Half-Normal(s_j)
    delta_Lj  ~ Normal(0, s_j)        for each non-baseline level L

Why: the per-participant prior says where a participant's parameter plausibly lies;
centring the population mean on it with the same spread keeps the population inside
the range the model is meant for. A half-normal of scale ``s_j`` puts the population SD
below ``2 s_j`` with 95% probability and allows it near 0 (complete pooling) without
pushing it there; the marginal prior of one participant's ``z_ij`` then has SD
``sqrt(s_j**2 + s_j**2) = 1.41 s_j``: a little wider than the per-participant prior, so
the hierarchy does not narrow the participants a priori. A half-t would put more mass
on huge population SDs, which on the logit and log scales mean participants piled at
the bounds (kappa 0 or 1), not plausible people; the half-normal avoids that.
``bench/hierarchical_sbc.py --prior-predictive`` simulates participants from these
hyperpriors and prints their parameters' quantiles and behaviour (accuracy, RTs).

Sampler
-------
Metropolis-within-Gibbs, ``n_chains`` chains, each iteration:

(a) every participant's ``z_i`` (all participants and chains in one batched likelihood
    call) by one Metropolis-Hastings step of the per-participant sampler's kernel
    (:mod:`rlddm.mcmc.sampler`: a random walk whose covariance and scale adapt in
    doubling windows during warm-up; after warm-up, fixed, mixed half-and-half with the
    per-participant fit's independence proposal: a t and Gaussians around warm-up draws
    of the second half of warm-up), whose target is the *conditional* density::

        log p(z_i | mu, sigma, data_i) = loglik_i(from_unbounded(z_i))
                                         + sum_j log Normal(z_ij | mu_j + delta_gj, sigma_j)

    There is NO log-Jacobian term: the population density is a density on z itself
    (the per-participant sampler's Jacobian converts a natural-scale prior into a
    density on z, which the hierarchy does not have).
(b) ``(mu_j, delta_.j)`` given z and sigma: exact draw from their joint normal
    conditional (a Bayesian linear regression of ``z_.j`` on the group indicators).
(c) ``sigma_j`` given z and the means: ``tau = sigma_j**-2`` proposed from
    Gamma(shape (K - 1) / 2, rate S / 2), ``S`` the sum of squared residuals (the
    conditional without the hyperprior), accepted with the half-normal's ratio
    ``exp(-(sigma'^2 - sigma^2) / (2 s_j^2))``: an exact independence Metropolis step,
    repeated `_SIGMA_STEPS` times per iteration (each costs microseconds).

(d) the non-centred ("interweaving") move against the funnel between a weakly
    identified parameter's population SD and its participants: for one parameter ``j``
    picked at random, a random walk on ``(mu_j, log sigma_j)`` that moves every
    participant's ``z_ij`` with it, holding ``eta_ij = (z_ij - mean_ij) / sigma_j``
    fixed; in the coordinates (eta, mu, log sigma) the target is ``sum_i loglik_i +
    log N(eta | 0, 1) + log p(mu_j) + log p(sigma_j) + log sigma_j`` (the population
    density and the Jacobian ``sigma_j**K`` of eta cancel), so the Metropolis ratio is
    the change in the total log-likelihood (one batched call) plus the hyperpriors' and
    ``log sigma``'s. On a 20 x 60 reversal study it tripled the bulk ESS of ``kappa_sd``.

The population moves (b)-(c) are exact Gibbs or fixed Metropolis steps throughout; the
participant kernels and the step sizes of (d) adapt during warm-up only and are fixed
afterwards. Chains start at prior draws of each participant
with a finite likelihood (dispersed), the population at their mean and SD.

Random numbers
--------------
Participant ``i`` draws its proposals from a stream fixed by the seed and ``i`` (as in
:func:`rlddm.mcmc.sampler.sample_posteriors`); the population moves from a stream fixed
by the seed alone. The same seed and data give the same draws.

Convergence
-----------
Rank-normalised split R-hat <= ``rhat_max`` (1.01) and bulk and tail ESS >=
``min_ess`` (400) for every population quantity (``<name>``: the population median,
the same ranks as ``mu``; ``<name>_sd``; ``delta_<name>[L-B]`` and the natural-scale
difference ``<name>[L-B]``) and every participant's every parameter. A run that fails
is continued: the same chains, with the kernels adapted in warm-up, give ``n_draws``
more draws per chain, and the checks run on all draws, up to `RETRY_FACTOR` times
``n_draws`` (a slow-mixing quantity gains ESS in proportion; a restart would repeat the
warm-up). If the checks still fail the result has ``converged = False`` and
``unconverged`` names each failing quantity (``kappa_sd``, ``participant 3: kappa``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._checks import check_count, check_deadline, check_finite, check_flag, participant_coords
from .._seeding import SeedLike, stream_key
from ..likelihood.trials import _check_trials, _loglik_rows
from ..model import DEFAULT_Q0, ModelSpec, get_model
from ..model.priors import Priors
from .diagnostics import MIN_ESS, RHAT_MAX, _diagnose
from .sampler import (RETRY_FACTOR, TARGET_ACCEPTANCE, _adaptation_windows, _dataset_generators,
                      _dispersed_starts, _Kernel, _metropolis, _Noise, _pooled_moments,
                      _set_mixture_centres)

__all__ = ["HYPERPRIOR_DRAWS", "HierarchicalResult", "hyperprior_moments", "participant_groups",
           "sample_hierarchical", "sample_population_prior"]

HYPERPRIOR_DRAWS = 20_000
"""Prior draws whose unbounded mean and SD set the hyperpriors (seed 0: a constant)."""
HDI_PROB = 0.94
_SIGMA_STEPS = 3
_POPULATION_STREAM = 2**32 - 1  # spawn key of the population's stream (participants: 0..K-1)


# ---------------------------------------------------------------------------------------
# hyperpriors


def hyperprior_moments(priors: Priors) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(m, s)``: mean and SD of each prior mapped to unbounded space (Monte Carlo).

    Draws at a closed bound of a support (infinite in unbounded space) are dropped.
    """
    z = priors.to_unbounded(priors.sample(HYPERPRIOR_DRAWS, seed=0))
    z = np.where(np.isfinite(z), z, np.nan)
    return np.nanmean(z, axis=0), np.nanstd(z, axis=0, ddof=1)


def sample_population_prior(priors: Priors, n_studies: int, n_participants: int, *,
                            seed: SeedLike = None) -> dict[str, NDArray[np.float64]]:
    """Studies from the hyperpriors (no groups): for prior predictive checks and SBC.

    Returns
    -------
    dict
        ``mu``, ``sigma`` (n_studies, P) on the unbounded scale, ``z`` (n_studies,
        n_participants, P) and ``theta`` (the same, natural scale).
    """
    n_studies = check_count(n_studies, "n_studies", 1)
    n_participants = check_count(n_participants, "n_participants", 1)
    m, s = hyperprior_moments(priors)
    rng = np.random.default_rng(np.random.SeedSequence(list(stream_key(seed))))
    mu = m + s * rng.standard_normal((n_studies, m.size))
    sigma = np.abs(s * rng.standard_normal((n_studies, m.size)))
    z = mu[:, None] + sigma[:, None] * rng.standard_normal((n_studies, n_participants, m.size))
    return {"mu": mu, "sigma": sigma, "z": z, "theta": priors._vector.from_unbounded(z)}


# ---------------------------------------------------------------------------------------
# groups


def participant_groups(frame: Any, column: str, *, participant: str = "participant"
                       ) -> dict[Any, Any]:
    """Each participant's level of a participant-level column of a trial table.

    Raises
    ------
    ValueError
        Naming the column if it is missing, empty for a participant, or takes more than
        one value within a participant.
    """
    for name in (column, participant):
        if name not in frame.columns:
            raise ValueError(f"group column {name!r} is not in the data; columns are "
                             f"{list(frame.columns)}")
    levels: dict[Any, Any] = {}
    for who, values in frame.groupby(participant, sort=False)[column]:
        distinct = values.dropna().unique()
        if distinct.size == 0:
            raise ValueError(f"group column {column!r} is empty for participant {who!r}")
        if distinct.size > 1:
            shown = sorted(map(str, distinct))
            listed = ", ".join(shown[:5]) + (f", ... ({len(shown)} values)" if len(shown) > 5 else "")
            raise ValueError(f"group column {column!r} varies within participant {who!r} "
                             f"(values {listed}); it must be one value per participant")
        levels[who] = distinct[0].item() if hasattr(distinct[0], "item") else distinct[0]
    return levels


def _group_index(groups: Any, participants: tuple[Any, ...], baseline: Any
                 ) -> tuple[NDArray[np.intp], tuple[Any, ...]]:
    """(K,) level index of each participant (0 = baseline) and the levels, baseline first."""
    k = len(participants)
    if isinstance(groups, Mapping) or hasattr(groups, "to_dict"):
        mapping = dict(groups.items()) if isinstance(groups, Mapping) else groups.to_dict()
        missing = [p for p in participants if p not in mapping]
        if missing:
            raise ValueError(f"groups gives no level for participants {missing[:5]}")
        values = [mapping[p] for p in participants]
    elif isinstance(groups, (Sequence, np.ndarray)) and not isinstance(groups, str):
        values = list(groups)
        if len(values) != k:
            raise ValueError(f"groups must give one level per participant ({k}), got "
                             f"{len(values)}")
    else:
        raise ValueError("groups must be a mapping participant -> level, a pandas Series "
                         f"indexed by participant or a sequence of {k} levels, got {groups!r}")
    for p, v in zip(participants, values):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            raise ValueError(f"groups: participant {p!r} has no level (missing value)")
    try:
        levels = sorted(set(values))
    except TypeError:
        levels = sorted(set(values), key=str)
    if len(levels) < 2:
        raise ValueError(f"groups must have at least two levels, got {levels}")
    if baseline is not None:
        if baseline not in levels:
            raise ValueError(f"baseline {baseline!r} is not a level of groups {levels}")
        levels.remove(baseline)
        levels.insert(0, baseline)
    index = np.array([levels.index(v) for v in values], dtype=np.intp)
    counts = np.bincount(index, minlength=len(levels))
    single = [levels[g] for g in np.flatnonzero(counts < 2)]
    if single:
        raise ValueError(f"groups: level(s) {single} have a single participant; a group "
                         "difference needs at least two participants per level")
    return index, tuple(levels)


# ---------------------------------------------------------------------------------------
# result


@dataclass(frozen=True, eq=False)
class HierarchicalResult:
    """Draws of a hierarchical fit and their diagnostics.

    Attributes
    ----------
    participants : tuple
        Participant ids, in the order of the trials.
    names : tuple of str
        The free parameters (P).
    draws : ndarray, shape (n_chains, n_draws, K, P)
        Participant parameters on the natural scale.
    mu : ndarray, shape (n_chains, n_draws, P)
        Population mean (baseline level) on the unbounded scale.
    sigma : ndarray, shape (n_chains, n_draws, P)
        Population SD on the unbounded scale.
    delta : ndarray, shape (n_chains, n_draws, G - 1, P), or None
        Each non-baseline level's shift of the mean, unbounded scale.
    levels : tuple or None
        Group levels, baseline first (None without groups).
    group : ndarray of intp, shape (K,) or None
        Each participant's level index.
    population_names : tuple of str
        Quantities of ``population_rhat`` etc. (module docstring).
    rhat, ess_bulk, ess_tail : ndarray, shape (K, P)
        Participant diagnostics.
    population_rhat, population_ess_bulk, population_ess_tail : ndarray, shape (Q,)
    accept_rate : ndarray, shape (K, n_chains)
        Participant Metropolis acceptance after warm-up.
    converged : bool
    unconverged : tuple of str
        Every quantity that failed a check ('' reasons in ``reason``).
    reason : str
    attempts : int
    hyperprior : dict
        ``m`` and ``s`` (P,) of the hyperpriors.
    settings : dict
        Sampler settings and the wall time in seconds.
    """

    participants: tuple[Any, ...]
    names: tuple[str, ...]
    priors: Priors
    draws: NDArray[np.float64]
    mu: NDArray[np.float64]
    sigma: NDArray[np.float64]
    delta: NDArray[np.float64] | None
    levels: tuple[Any, ...] | None
    group: NDArray[np.intp] | None
    population_names: tuple[str, ...]
    rhat: NDArray[np.float64]
    ess_bulk: NDArray[np.float64]
    ess_tail: NDArray[np.float64]
    population_rhat: NDArray[np.float64]
    population_ess_bulk: NDArray[np.float64]
    population_ess_tail: NDArray[np.float64]
    accept_rate: NDArray[np.float64]
    converged: bool
    unconverged: tuple[str, ...]
    reason: str
    attempts: int
    hyperprior: dict[str, NDArray[np.float64]]
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def median(self) -> NDArray[np.float64]:
        """Population median on the natural scale, ``from_unbounded(mu)``: (C, N, P)."""
        return self.priors._vector.from_unbounded(self.mu)

    @property
    def contrasts(self) -> tuple[str, ...]:
        """Labels ``LEVEL-BASELINE`` of the group differences."""
        if self.levels is None:
            return ()
        return tuple(f"{level}-{self.levels[0]}" for level in self.levels[1:])

    def difference(self) -> NDArray[np.float64] | None:
        """Natural-scale difference of population medians, level minus baseline:
        (C, N, G - 1, P)."""
        if self.delta is None:
            return None
        vector = self.priors._vector
        return vector.from_unbounded(self.mu[:, :, None] + self.delta) \
            - vector.from_unbounded(self.mu)[:, :, None]

    def population_draws(self) -> dict[str, NDArray[np.float64]]:
        """(C, N) draws of each row of :meth:`group_summary`, by its name."""
        out = {}
        median = self.median
        for j, name in enumerate(self.names):
            out[name] = median[..., j]
        for j, name in enumerate(self.names):
            out[f"{name}_sd"] = self.sigma[..., j]
        difference = self.difference()
        if difference is not None:
            for g, label in enumerate(self.contrasts):
                for j, name in enumerate(self.names):
                    out[f"{name}[{label}]"] = difference[:, :, g, j]
        return out

    def to_inference_data(self) -> Any:
        """ArviZ InferenceData.

        posterior: each parameter ``<name>`` (chain, draw, participant) on the natural
        scale; ``mu_<name>`` (unbounded population mean of the baseline level),
        ``<name>_median`` (``from_unbounded(mu)``, natural scale), ``<name>_sd``
        (unbounded population SD), and with groups ``delta_<name>`` and
        ``<name>_difference`` (chain, draw, contrast): the unbounded shift of the mean
        and the natural-scale difference of medians, contrast labels
        ``LEVEL-BASELINE``. constant_data: each participant's ``group`` label.
        """
        import arviz as az

        ids = participant_coords(self.participants)
        posterior: dict[str, NDArray] = {}
        dims: dict[str, list[str]] = {}
        for j, name in enumerate(self.names):
            posterior[name] = self.draws[..., j]
            dims[name] = ["participant"]
        median = self.median
        for j, name in enumerate(self.names):
            posterior[f"mu_{name}"] = self.mu[..., j]
            posterior[f"{name}_median"] = median[..., j]
            posterior[f"{name}_sd"] = self.sigma[..., j]
        coords: dict[str, Any] = {"participant": ids}
        constant = {}
        difference = self.difference()
        if difference is not None:
            coords["contrast"] = np.array(self.contrasts)
            for j, name in enumerate(self.names):
                posterior[f"delta_{name}"] = self.delta[..., j]
                posterior[f"{name}_difference"] = difference[..., j]
                dims[f"delta_{name}"] = dims[f"{name}_difference"] = ["contrast"]
            constant["group"] = np.array([str(self.levels[g]) for g in self.group])
            dims["group"] = ["participant"]
        method = ("two-stage Gibbs on per-participant draws (rlddm.mcmc.two_stage)"
                  if self.settings.get("method") == "two-stage"
                  else "hierarchical exact MCMC (rlddm.mcmc.hierarchical)")
        attrs = {"inference": method,
                 "converged": int(self.converged), "attempts": self.attempts,
                 "unconverged": "; ".join(self.unconverged),
                 "hyperprior_m": self.hyperprior["m"].tolist(),
                 "hyperprior_s": self.hyperprior["s"].tolist(),
                 "parameters": list(self.names)}
        return az.from_dict(posterior=posterior, constant_data=constant or None, coords=coords,
                            dims=dims, attrs=attrs)

    def group_summary(self) -> Any:
        """One row per population quantity: ``parameter, mean, sd, hdi_3%, hdi_97%, r_hat,
        ess_bulk, ess_tail``.

        Rows ``<name>``: population median on the natural scale; ``<name>_sd``: population
        SD on the unbounded scale; ``<name>[LEVEL-BASELINE]``: natural-scale difference of
        the population medians.
        """
        import arviz as az
        import pandas as pd

        draws = self.population_draws()
        index = {name: i for i, name in enumerate(self.population_names)}
        rows = []
        for name, values in draws.items():
            low, high = az.hdi(values.ravel(), hdi_prob=HDI_PROB)
            i = index[name]
            rows.append({"parameter": name, "mean": values.mean(), "sd": values.std(ddof=1),
                         f"hdi_{100 * (1 - HDI_PROB) / 2:g}%": low,
                         f"hdi_{100 * (1 + HDI_PROB) / 2:g}%": high,
                         "r_hat": self.population_rhat[i],
                         "ess_bulk": self.population_ess_bulk[i],
                         "ess_tail": self.population_ess_tail[i]})
        return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------
# sampler core


def _design_matrix(group: NDArray | None, k: int, n_groups: int) -> NDArray:
    """(K, G) regressors of the population mean: an intercept (the baseline level) and an
    indicator of each non-baseline level."""
    design = np.zeros((k, n_groups))
    design[:, 0] = 1.0
    if n_groups > 1:
        design[np.arange(k), group] = np.where(group > 0, 1.0, 0.0)
        design[:, 0] = 1.0
    return design


def _population_mean(mu: NDArray, delta: NDArray | None, group: NDArray | None) -> NDArray:
    """(K, C, P) mean of each participant's z: mu (C, P) plus its level's delta."""
    base = np.broadcast_to(mu[None], (group.size if group is not None else 1,) + mu.shape)
    if delta is None:
        return base
    shifts = np.concatenate([np.zeros_like(delta[:, :1]), delta], axis=1)  # (C, G, P)
    return base + np.moveaxis(shifts[:, group], 1, 0)


def _draw_means(z: NDArray, sigma: NDArray, design: NDArray, prior_mean: NDArray,
                prior_sd: NDArray, rng: np.random.Generator) -> NDArray:
    """Joint normal conditional of b = (mu, delta_1..) per chain and parameter.

    z (K, C, P), sigma (C, P), design (K, G) -> b (C, G, P). Prior b_0j ~ N(m_j, s_j),
    b_Lj ~ N(0, s_j).
    """
    n_groups = design.shape[1]
    xtx = design.T @ design  # (G, G)
    xtz = np.einsum("kg,kcp->cpg", design, z)  # (C, P, G)
    precision_prior = 1.0 / prior_sd**2  # (P,)
    inv_var = 1.0 / sigma**2  # (C, P)
    precision = xtx * inv_var[..., None, None] + np.eye(n_groups) * precision_prior[:, None, None]
    b0 = np.zeros((prior_mean.size, n_groups))
    b0[:, 0] = prior_mean
    rhs = xtz * inv_var[..., None] + b0 * precision_prior[:, None]
    chol = np.linalg.cholesky(precision)  # (C, P, G, G)
    mean = np.linalg.solve(precision, rhs[..., None])[..., 0]
    normal = rng.standard_normal(mean.shape)
    # b = mean + L^-T e has covariance (L L^T)^-1
    offset = np.linalg.solve(np.swapaxes(chol, -1, -2), normal[..., None])[..., 0]
    return np.moveaxis(mean + offset, -1, 1)  # (C, G, P)


def _draw_sigma(z: NDArray, mean: NDArray, sigma: NDArray, prior_sd: NDArray,
                rng: np.random.Generator) -> NDArray:
    """`_SIGMA_STEPS` independence Metropolis steps of sigma (C, P) (module docstring)."""
    k = z.shape[0]
    squares = np.maximum(((z - mean) ** 2).sum(axis=0), 1e-300)  # (C, P)
    for _ in range(_SIGMA_STEPS):
        tau = rng.gamma(0.5 * (k - 1), 2.0 / squares)
        proposal = 1.0 / np.sqrt(tau)
        log_ratio = -(proposal**2 - sigma**2) / (2.0 * prior_sd**2)
        accept = np.log(rng.uniform(size=sigma.shape)) < log_ratio
        sigma = np.where(accept, proposal, sigma)
    return sigma


def _log_population(z: NDArray, mean: NDArray, sigma: NDArray) -> NDArray:
    """sum_j log Normal(z_ij | mean_ij, sigma_j) up to a constant (K, C): no Jacobian."""
    return (-0.5 * ((z - mean) / sigma) ** 2 - np.log(sigma)).sum(axis=-1)


def _run(loglik: Callable[[NDArray, NDArray | None], NDArray], priors: Priors, k: int,
         group: NDArray | None, n_groups: int, m: NDArray, s: NDArray, n_chains: int,
         n_warmup: int, n_draws: int, thin: int, generators: list[np.random.Generator],
         population_rng: np.random.Generator, progress: Callable[[str], Any] | None,
         interweave: bool = True) -> dict[str, NDArray]:
    """One run of the Metropolis-within-Gibbs sampler (module docstring)."""
    n_dim = len(priors)
    vector = priors._vector

    def log_start(z: NDArray, subset: NDArray | None = None) -> NDArray:
        theta, log_prior = priors._unbounded_terms(z)
        return log_prior + loglik(theta, subset)

    z = _dispersed_starts(log_start, priors, generators, n_chains)  # (K, C, P)
    ll = loglik(vector.from_unbounded(z), None)
    design = _design_matrix(group, k, n_groups)
    mu = z.mean(axis=0)  # (C, P)
    delta = np.zeros((n_chains, n_groups - 1, n_dim)) if n_groups > 1 else None
    sigma = np.maximum(z.std(axis=0), 0.1 * s)
    noise = _Noise(generators, n_chains, n_dim)
    default_log_scale = np.log(2.38 / np.sqrt(n_dim))
    kernel = _Kernel(np.broadcast_to(np.diag(s), (k, n_dim, n_dim)).copy(),
                     np.full(k, default_log_scale - np.log(10.0)))
    state = {"ll": ll}

    def participant_step(z: NDArray, mean: NDArray, sigma: NDArray) -> tuple[NDArray, NDArray]:
        def log_post(proposal: NDArray) -> NDArray:
            state["proposed"] = loglik(vector.from_unbounded(proposal), None)
            return state["proposed"] + _log_population(proposal, mean, sigma)

        lp = state["ll"] + _log_population(z, mean, sigma)
        z, _, accept = _metropolis(log_post, z, lp, kernel, noise)
        state["ll"] = np.where(accept, state["proposed"], state["ll"])
        return z, accept

    def population_step(z: NDArray, mu: NDArray, delta: NDArray | None, sigma: NDArray):
        b = _draw_means(z, sigma, design, m, s, population_rng)
        mu, delta = b[:, 0], (b[:, 1:] if n_groups > 1 else None)
        mean = _population_mean(mu, delta, group)
        sigma = _draw_sigma(z, mean, sigma, s, population_rng)
        return mu, delta, sigma, mean

    # (d) the non-centred move (module docstring): for one parameter j, picked at random
    # each iteration, a random walk on (mu_j, log sigma_j) with every participant's
    # standardised residual held fixed; its scales are the warm-up windows' SDs of
    # (mu_j, log sigma_j) times a factor per parameter adapted towards TARGET_ACCEPTANCE
    move = {"sd": np.stack([s, np.full(n_dim, 0.5)], axis=-1),
            "log_scale": np.full(n_dim, np.log(0.5)), "count": np.zeros(n_dim)}

    def shift_step(z: NDArray, mu: NDArray, delta: NDArray | None, sigma: NDArray,
                   mean: NDArray):
        j = int(population_rng.integers(n_dim))
        normal = population_rng.standard_normal((n_chains, 2)) * (np.exp(move["log_scale"][j])
                                                                  * move["sd"][j])
        log_u = np.log(population_rng.uniform(size=n_chains))
        mu_new, sigma_new = mu.copy(), sigma.copy()
        mu_new[:, j] += normal[:, 0]
        sigma_new[:, j] *= np.exp(normal[:, 1])
        mean_new = _population_mean(mu_new, delta, group)
        z_new = z.copy()
        z_new[..., j] = mean_new[..., j] + (z[..., j] - mean[..., j]) * (sigma_new[:, j]
                                                                         / sigma[:, j])
        ll_new = loglik(vector.from_unbounded(z_new), None)
        log_ratio = (ll_new - state["ll"]).sum(axis=0) + (
            -0.5 * ((mu_new[:, j] - m[j]) ** 2 - (mu[:, j] - m[j]) ** 2) / s[j] ** 2
            - 0.5 * (sigma_new[:, j] ** 2 - sigma[:, j] ** 2) / s[j] ** 2 + normal[:, 1])
        with np.errstate(invalid="ignore"):
            accept = log_u < log_ratio
        z = np.where(accept[None, :, None], z_new, z)
        state["ll"] = np.where(accept[None], ll_new, state["ll"])
        mu, sigma = np.where(accept[:, None], mu_new, mu), np.where(accept[:, None], sigma_new,
                                                                    sigma)
        return z, mu, sigma, _population_mean(mu, delta, group), accept, j

    mean = _population_mean(mu, delta, group)
    ends = _adaptation_windows(n_warmup)
    hyper_warm = np.empty((n_chains, n_warmup, 2 * n_dim))
    warm = np.empty((k, n_chains, n_warmup, n_dim))
    window_start, since_reset = 0, 0
    scale_sum, scale_count = np.zeros(k), 0
    adapted_mean = z.mean(axis=1)
    for iteration in range(n_warmup):
        z, accept = participant_step(z, mean, sigma)
        mu, delta, sigma, mean = population_step(z, mu, delta, sigma)
        if interweave:
            z, mu, sigma, mean, shifted, j = shift_step(z, mu, delta, sigma, mean)
            move["count"][j] += 1
            move["log_scale"][j] += move["count"][j] ** -0.6 * (shifted.mean()
                                                                 - TARGET_ACCEPTANCE)
        warm[:, :, iteration] = z
        hyper_warm[:, iteration] = np.concatenate([mu, np.log(sigma)], axis=-1)
        since_reset += 1
        kernel.log_scale += since_reset ** -0.6 * (accept.mean(axis=1) - TARGET_ACCEPTANCE)
        if ends and iteration + 1 == ends[0]:
            pooled = warm[:, :, window_start:iteration + 1].reshape(k, -1, n_dim)
            adapted_mean, kernel.chol = _pooled_moments(pooled)
            spread = hyper_warm[:, window_start:iteration + 1].reshape(-1, 2 * n_dim).std(axis=0)
            move["sd"] = np.maximum(np.stack([spread[:n_dim], spread[n_dim:]], axis=-1), 1e-3)
            move["log_scale"] = np.full(n_dim, np.log(2.38 / np.sqrt(2)))
            move["count"][:] = 0
            kernel.log_scale = np.full(k, default_log_scale)
            window_start, since_reset = iteration + 1, 0
            ends.pop(0)
        elif not ends:
            scale_sum += kernel.log_scale
            scale_count += 1
        if progress is not None and (iteration + 1) % max(1, n_warmup // 4) == 0:
            progress(f"warm-up {iteration + 1}/{n_warmup}")
    if scale_count:
        kernel.log_scale = scale_sum / scale_count
    kernel.mean = adapted_mean
    kernel.inverse_chol = np.linalg.inv(kernel.chol)
    _set_mixture_centres(kernel, warm[:, :, n_warmup // 2:])  # the exact fit's mixture proposal
    current = {"z": z, "mu": mu, "delta": delta, "sigma": sigma, "mean": mean}

    def sample(n_kept: int) -> dict[str, NDArray]:
        """``n_kept`` draws per chain thinned by ``thin``, continuing from the current state."""
        z, mu, delta, sigma, mean = (current[key] for key in ("z", "mu", "delta", "sigma",
                                                              "mean"))
        out = {"z": np.empty((n_chains, n_kept, k, n_dim)),
               "mu": np.empty((n_chains, n_kept, n_dim)),
               "sigma": np.empty((n_chains, n_kept, n_dim)),
               "delta": (np.empty((n_chains, n_kept, n_groups - 1, n_dim)) if n_groups > 1
                         else None)}
        accepted = np.zeros((k, n_chains))
        shift_accepted = np.zeros(n_chains)
        for iteration in range(n_kept * thin):
            z, accept = participant_step(z, mean, sigma)
            mu, delta, sigma, mean = population_step(z, mu, delta, sigma)
            if interweave:
                z, mu, sigma, mean, shifted, _ = shift_step(z, mu, delta, sigma, mean)
                shift_accepted += shifted
            accepted += accept
            if (iteration + 1) % thin == 0:
                d = iteration // thin
                out["z"][:, d] = np.swapaxes(z, 0, 1)
                out["mu"][:, d], out["sigma"][:, d] = mu, sigma
                if delta is not None:
                    out["delta"][:, d] = delta
            if progress is not None and (iteration + 1) % max(1, n_kept * thin // 4) == 0:
                progress(f"sampling {iteration + 1}/{n_kept * thin}")
        current.update(z=z, mu=mu, delta=delta, sigma=sigma, mean=mean)
        out["accept"] = accepted / (n_kept * thin)
        out["shift_accept"] = shift_accepted / (n_kept * thin)
        return out

    out = sample(n_draws)
    out["continue"] = sample
    return out


def _extend(out: dict[str, Any], more: dict[str, NDArray]) -> dict[str, Any]:
    """Draws of ``out`` followed by ``more`` (the same chains continued)."""
    n_old, n_new = out["mu"].shape[1], more["mu"].shape[1]
    joined = {key: (None if out[key] is None else np.concatenate([out[key], more[key]], axis=1))
              for key in ("z", "mu", "sigma", "delta")}
    for key in ("accept", "shift_accept"):
        joined[key] = (out[key] * n_old + more[key] * n_new) / (n_old + n_new)
    joined["continue"] = out["continue"]
    return joined


def _failing(population_names: Sequence[str], population: tuple[NDArray, NDArray, NDArray],
             participants: Sequence[Any], names: Sequence[str],
             participant: tuple[NDArray, NDArray, NDArray], rhat_max: float,
             min_ess: float) -> list[str]:
    """Every quantity whose (R-hat, bulk ESS, tail ESS) fails a check: population names,
    then ``participant <id>: <name>``."""
    def bad(r: NDArray, bulk: NDArray, tail: NDArray) -> NDArray:
        return ~((r <= rhat_max) & (bulk >= min_ess) & (tail >= min_ess))

    failing = [n for n, b in zip(population_names, bad(*population)) if b]
    flags = bad(*participant)  # (K, P)
    for i, who in enumerate(participants):
        failing += [f"participant {who}: {names[j]}" for j in np.flatnonzero(flags[i])]
    return failing


def _population_quantities(priors: Priors, names: tuple[str, ...], out: dict[str, NDArray],
                           contrasts: tuple[str, ...]) -> tuple[tuple[str, ...], NDArray]:
    """Names and (C, N, Q) draws of every population quantity that is checked."""
    vector = priors._vector
    labels = list(names) + [f"{n}_sd" for n in names]
    columns = [out["mu"], out["sigma"]]
    if out["delta"] is not None:
        difference = (vector.from_unbounded(out["mu"][:, :, None] + out["delta"])
                      - vector.from_unbounded(out["mu"])[:, :, None])
        for g, label in enumerate(contrasts):
            labels += [f"delta_{n}[{label}]" for n in names] + [f"{n}[{label}]" for n in names]
            columns += [out["delta"][:, :, g], difference[:, :, g]]
    return tuple(labels), np.concatenate(columns, axis=-1)


# ---------------------------------------------------------------------------------------
# public entry point


def sample_hierarchical(trials: Any, model: str | ModelSpec = "rlddm", *, groups: Any = None,
                        baseline: Any = None, priors: Priors | None = None,
                        q0: float = DEFAULT_Q0, n_chains: int = 4, n_warmup: int = 1000,
                        n_draws: int = 1000, thin: int = 4, seed: SeedLike = 0,
                        rhat_max: float = RHAT_MAX, min_ess: float = MIN_ESS,
                        retry: bool = True, dt: float = 0.01, max_steps: int = 900,
                        n_threads: int | None = None,
                        progress: Callable[[str], Any] | None = None) -> HierarchicalResult:
    """Hierarchical exact posterior of every participant and the population.

    Parameters
    ----------
    trials : TrialData
        Validated trials (:func:`rlddm.data.read_trials`): participants of any trial
        counts, missed responses, options and conditions, as :func:`rlddm.exact_fit.fit_exact`
        takes them (the same padding).
    model : str or ModelSpec
        A registered model or a spec with fixed values (fixed parameters are not in the
        hierarchy).
    groups : mapping, Series or sequence, optional
        Each participant's level of a participant-level column
        (:func:`participant_groups` reads it from a trial table); the population mean
        then differs by level: ``mu + delta_L``.
    baseline : optional
        The reference level (default: the first in sorted order).
    priors : Priors, optional
        Per-participant priors that set the hyperpriors (module docstring); the
        model's defaults if omitted.
    q0 : float
        Initial Q-value.
    n_chains, n_warmup, n_draws, thin : int
        Chains, warm-up iterations, kept draws per chain and iterations per kept draw.
    seed : None, int, SeedSequence, BitGenerator or Generator
    rhat_max, min_ess : float
        Convergence checks of every population and participant quantity.
    retry : bool
        If a check fails, continue the chains ``n_draws`` draws at a time, up to
        `RETRY_FACTOR` times ``n_draws`` (module docstring).
    dt, max_steps : float, int
        The response deadline ``max_steps * dt``.
    n_threads : int, optional
        Threads of the likelihood's Wiener series (all cores if None); the draws are the
        same for any count.
    progress : callable, optional
        Called with short messages.

    Returns
    -------
    HierarchicalResult
        ``converged`` False (and ``unconverged`` naming each failing quantity) if the
        checks fail after the retry: never silently returned as converged.

    Raises
    ------
    ValueError
        Naming the argument on invalid input; DataError naming a participant without
        answered trials or one whose data no prior draw makes possible.
    """
    from ..data import DataError  # lower layers: imported when used
    from ..data.trials import require_trial_data
    from ..fit.exact import _model_key, _padded_chunk

    start_time = time.perf_counter()
    require_trial_data(trials)
    retry = check_flag(retry, "retry")
    spec = get_model(model)
    priors = spec.priors() if priors is None else spec.check_priors(priors)
    t_max = check_deadline(dt, max_steps)
    n_chains = check_count(n_chains, "n_chains", 2)
    n_warmup = check_count(n_warmup, "n_warmup", 20)
    n_draws = check_count(n_draws, "n_draws", 8)
    thin = check_count(thin, "thin", 1)
    rhat_max = check_finite(rhat_max, "rhat_max")
    min_ess = check_finite(min_ess, "min_ess")
    threads = 0 if n_threads is None else check_count(n_threads, "n_threads", 1)  # 0: all
    k = len(trials)
    if k < 2:
        raise ValueError(f"trials must hold at least 2 participants for a hierarchy, got {k}")
    answered = trials.n_trials - trials.n_missed
    if np.any(answered == 0):
        who = trials.participants[int(np.flatnonzero(answered == 0)[0])]
        raise DataError(f"participant {who!r} has no answered trials; a hierarchical fit "
                        "needs at least one per participant (drop the participant)")
    # No check of rt against the deadline as fit_exact's: the likelihood's deadline is on
    # the decision time rt - ter, so an rt beyond it is possible for a large ter (the
    # simulator's data do have them); a participant whom no prior draw makes possible is
    # named when the chains start.
    if groups is not None:
        group, levels = _group_index(groups, tuple(trials.participants), baseline)
    elif baseline is not None:
        raise ValueError("baseline needs groups")
    else:
        group, levels = None, None
    n_groups = 1 if levels is None else len(levels)
    chunk = _padded_chunk(list(trials), np.arange(k), index=0, q0=float(q0),
                          model=_model_key(spec), priors=priors.to_dict(), settings={},
                          seed=None)
    data = _check_trials(chunk.rt, chunk.choice, chunk.reward, chunk.options, chunk.n_options,
                         q0, batched=True)

    def loglik(theta: NDArray, subset: NDArray | None) -> NDArray:
        return _loglik_rows(spec, theta, data if subset is None else data.take(subset), t_max,
                            threads)

    m, s = hyperprior_moments(priors)
    names = spec.names
    contrasts = () if levels is None else tuple(f"{lv}-{levels[0]}" for lv in levels[1:])
    generators = _dataset_generators(seed, np.arange(k))
    root = np.random.SeedSequence(list(stream_key(seed)))
    population_rng = np.random.default_rng(
        np.random.SeedSequence(root.entropy, spawn_key=(_POPULATION_STREAM,)))
    say = progress or (lambda message: None)
    say(f"hierarchical fit of {k} participants: {n_chains} chains, {n_warmup} warm-up, "
        f"{n_draws} draws thinned by {thin}")
    try:
        out = _run(loglik, priors, k, group, n_groups, m, s, n_chains, n_warmup, n_draws, thin,
                   generators, population_rng, progress)
    except ValueError as error:
        found = re.match(r"data set (\d+)", str(error))
        if found is None:
            raise
        who = trials.participants[int(found[1])]
        raise DataError(f"participant {who!r}: {str(error)[found.end():].lstrip(': ')}"
                        ) from None
    attempts = 1
    while True:
        draws = priors._vector.from_unbounded(out["z"])  # (C, N, K, P)
        r, bulk, tail, reasons = _diagnose(np.moveaxis(draws, 2, 0), names, rhat_max, min_ess)
        pop_names, pop = _population_quantities(priors, names, out, contrasts)
        pr, pbulk, ptail, _ = _diagnose(pop, pop_names, rhat_max, min_ess)
        failing = _failing(pop_names, (pr, pbulk, ptail), trials.participants, names,
                           (r, bulk, tail), rhat_max, min_ess)
        if not failing or not retry or attempts == RETRY_FACTOR:
            break
        attempts += 1
        say(f"{len(failing)} quantities failed the checks; continuing the chains for "
            f"{n_draws} more draws ({attempts} of at most {RETRY_FACTOR} x {n_draws})")
        out = _extend(out, out["continue"](n_draws))
    problems = []
    for label, values, bad in (("R-hat", pr, ~(pr <= rhat_max)),
                               ("bulk ESS", pbulk, ~(pbulk >= min_ess)),
                               ("tail ESS", ptail, ~(ptail >= min_ess))):
        problems += [f"{label} of {pop_names[q]} = {values[q]:.3g}" for q in np.flatnonzero(bad)]
    problems += [f"participant {trials.participants[i]}: {reason}"
                 for i, reason in enumerate(reasons) if reason]
    settings = {"n_chains": n_chains, "n_warmup": n_warmup, "n_draws": n_draws, "thin": thin,
                "rhat_max": rhat_max, "min_ess": min_ess, "retry": retry, "q0": float(q0),
                "dt": float(dt), "max_steps": int(max_steps), "model": spec.to_dict(),
                "seconds": time.perf_counter() - start_time}
    return HierarchicalResult(
        participants=tuple(trials.participants), names=names, priors=priors, draws=draws,
        mu=out["mu"], sigma=out["sigma"], delta=out["delta"], levels=levels, group=group,
        population_names=pop_names, rhat=r, ess_bulk=bulk, ess_tail=tail,
        population_rhat=pr, population_ess_bulk=pbulk, population_ess_tail=ptail,
        accept_rate=out["accept"], converged=not failing, unconverged=tuple(failing),
        reason="; ".join(problems), attempts=attempts, hyperprior={"m": m, "s": s},
        settings=settings)
