"""Tests of rlddm.mcmc.two_stage (the two-stage hierarchical method) and its CLI.

The accuracy test has a closed-form answer: participants' likelihoods Gaussian on the
unbounded scale, ``y_i | z_i ~ N(z_i, tau^2)``, so that ``y_i ~ N(mu, sigma^2 + tau^2)``
and the posterior of each population mean is a two-dimensional integral (a grid).
Stage-one draws are made from ``p0(z) N(y_i | z, tau^2)`` (p0: the model's default prior
on the unbounded scale) by sampling-importance-resampling, as a network trained under
p0 would give them.
"""

import json

import numpy as np
import pytest
from scipy import stats

from rlddm.data import simulate_participants
from rlddm.mcmc.hierarchical import hyperprior_moments
from rlddm.mcmc.two_stage import MIN_IMPORTANCE_ESS, sample_hierarchical_two_stage
from rlddm.model import get_model

SPEC = get_model("rlddm")
PRIORS = SPEC.priors()
K, S, TAU_FACTOR = 30, 1500, 0.5


@pytest.fixture(scope="module")
def gaussian_study():
    """Truths, observations y and stage-one draws of K participants (module docstring)."""
    rng = np.random.default_rng(0)
    m, s = hyperprior_moments(PRIORS)
    mu, sigma, tau = m + 0.3 * s, 0.5 * s, TAU_FACTOR * s
    z = mu + sigma * rng.standard_normal((K, 5))
    y = z + tau * rng.standard_normal((K, 5))
    with_prior, likelihood_only = [], []
    for i in range(K):
        candidates = y[i] + tau * rng.standard_normal((200_000, 5))
        _, log_p0 = PRIORS._unbounded_terms(candidates)
        weights = np.exp(log_p0 - log_p0.max())
        pick = rng.choice(candidates.shape[0], S, p=weights / weights.sum())
        with_prior.append(candidates[pick])
        likelihood_only.append(candidates[:S])
    to_natural = PRIORS._vector.from_unbounded
    return {"y": y, "tau": tau, "m": m, "s": s, "draws": to_natural(np.array(with_prior)),
            "likelihood_only": to_natural(np.array(likelihood_only))}


def _grid_posterior(y, tau, m, s):
    """Posterior mean and SD of mu and of sigma given y_i ~ N(mu, sigma^2 + tau^2) (a grid)."""
    mu = np.linspace(m - 4 * s, m + 4 * s, 801)[:, None]
    sigma = np.linspace(1e-4, 4 * s, 800)[None, :]
    log_post = (stats.norm.logpdf(mu, m, s) + stats.halfnorm.logpdf(sigma, scale=s)
                + sum(stats.norm.logpdf(value, mu, np.sqrt(sigma**2 + tau**2)) for value in y))
    weight = np.exp(log_post - log_post.max())
    moments = []
    for values, marginal in ((mu[:, 0], weight.sum(axis=1)), (sigma[0], weight.sum(axis=0))):
        marginal = marginal / marginal.sum()
        mean = float((values * marginal).sum())
        moments.append((mean, float(np.sqrt(((values - mean) ** 2 * marginal).sum()))))
    return moments


@pytest.mark.slow
@pytest.mark.statistical
def test_population_means_match_the_closed_form(gaussian_study):
    """Every mu_j and sigma_j within 0.2 posterior SD of the grid; dividing out nothing is caught.

    The Monte Carlo error of a two-stage posterior mean is about 1/sqrt(ESS) <= 0.05 SD
    (bulk ESS >= 350 is asserted: about 0.053 SD), so 0.2 SD is about four Monte Carlo
    SEs; what remains is the method's approximation (the kernels, shrunk so that each
    participant's mixture keeps its draws' mean and variance; measured 0.03-0.2 SD on
    this study with seed 1). Negative control: draws of the likelihood alone (not under
    p0) treated as draws under p0 shift the means by 0.5-2 SD (the prior divided out
    twice), and the same check fails for them.
    """
    study = gaussian_study
    fit = sample_hierarchical_two_stage(study["draws"], range(K), SPEC, seed=1)
    wrong = sample_hierarchical_two_stage(study["likelihood_only"], range(K), SPEC,
                                          n_draws=300, seed=1)
    assert np.all(fit.population_ess_bulk[:10] >= 350), fit.population_ess_bulk[:10]
    gaps, sigma_gaps, control = [], [], []
    for j in range(5):
        (mean, sd), (sigma_mean, sigma_sd) = _grid_posterior(
            study["y"][:, j], study["tau"][j], study["m"][j], study["s"][j])
        gaps.append((fit.mu[..., j].mean() - mean) / sd)
        sigma_gaps.append((fit.sigma[..., j].mean() - sigma_mean) / sigma_sd)
        control.append((wrong.mu[..., j].mean() - mean) / sd)
        ratio = fit.mu[..., j].std() / sd
        assert 0.85 < ratio < 1.15, (SPEC.names[j], ratio)
    assert np.max(np.abs(gaps)) < 0.2, np.round(gaps, 3)
    assert np.max(np.abs(sigma_gaps)) < 0.2, np.round(sigma_gaps, 3)
    assert np.max(np.abs(control)) > 0.5, np.round(control, 3)
    assert fit.settings["importance_ess"].min() >= MIN_IMPORTANCE_ESS  # nobody flagged


def test_too_few_draws_carrying_the_weight_fail_the_checks(gaussian_study):
    """A participant whose draws lie far from everyone else's has the smallest importance
    ESS (the population covers only its draws' tail), well below the others' median (by
    a factor of 3 or more; it measured 131 against about 500 of 1,500), and a threshold
    above it names that participant in ``unconverged``."""
    draws = gaussian_study["draws"].copy()
    draws[0, :, 0] += 12.0  # drift: 6 hyperprior SDs away from the others
    fit = sample_hierarchical_two_stage(draws, range(K), SPEC, n_draws=200, seed=2,
                                        min_importance_ess=200.0)
    ess = fit.settings["importance_ess"]
    assert ess[0] == ess.min() and ess[0] < np.median(ess[1:]) / 3
    assert not fit.converged
    assert any(item.startswith("participant 0: importance ESS") for item in fit.unconverged)


def test_inputs_are_checked_by_name(gaussian_study):
    draws = gaussian_study["draws"]
    with pytest.raises(ValueError, match=r"draws must have shape \(K, S >= 2, 5\)"):
        sample_hierarchical_two_stage(draws[..., :4], range(K), SPEC)
    with pytest.raises(ValueError, match="participants must name the 30"):
        sample_hierarchical_two_stage(draws, range(K - 1), SPEC)
    with pytest.raises(ValueError, match="at least 2 participants"):
        sample_hierarchical_two_stage(draws[:1], [0], SPEC)
    outside = draws.copy()
    outside[3, :, 2] = 2.0  # beta in [0, 1]
    with pytest.raises(ValueError, match="participant 3"):
        sample_hierarchical_two_stage(outside, range(K), SPEC)
    with pytest.raises(ValueError, match="bandwidth"):
        sample_hierarchical_two_stage(draws, range(K), SPEC, bandwidth=0.0)


@pytest.mark.parametrize("shift", [1.5, 0.0])
def test_group_difference_in_kappa_is_found_only_where_there_is_one(gaussian_study, shift):
    """Half the participants' kappa draws shifted by ``shift`` on the logit scale (1.5
    is 1.3 hyperprior SDs): the 95% interval of delta_kappa covers the shift, and
    excludes 0 only when there is one. The interval's half-width is about 0.5 here, so
    a real shift of 1.5 is about 6 SEs from 0; with none, 0 lies outside with
    probability 5% for a calibrated posterior (fixed seed: it does not)."""
    draws = gaussian_study["draws"].copy()
    z = PRIORS.to_unbounded(draws)
    z[K // 2:, :, 4] += shift
    groups = ["control"] * (K // 2) + ["patient"] * (K - K // 2)
    fit = sample_hierarchical_two_stage(PRIORS._vector.from_unbounded(z), range(K), SPEC,
                                        groups=groups, n_draws=500, seed=3)
    assert fit.contrasts == ("patient-control",)
    delta = fit.delta[:, :, 0, 4].ravel()  # unbounded scale, kappa
    low, high = np.quantile(delta, [0.025, 0.975])
    assert low < shift < high
    assert (low > 0) == (shift > 0)
    assert "kappa[patient-control]" in set(fit.group_summary()["parameter"])


@pytest.mark.slow
def test_cli_amortized_hierarchical_fit(tmp_path, capsys):
    """``rlddm fit --hierarchical --method amortized`` with the shipped network."""
    import arviz as az
    import pandas as pd

    from rlddm.cli import main

    frame, _ = simulate_participants(12, 60, seed=5)
    frame["group"] = np.where(frame["participant"] % 2 == 0, "control", "patient")
    data = tmp_path / "study.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "fit"
    main(["fit", str(data), "--hierarchical", "--method", "amortized", "--group-by", "group",
          "--out", str(out), "--draws", "300"])
    printed = capsys.readouterr().out
    assert "two-stage from amortized draws" in printed and "importance ESS" in printed
    record = json.loads((out / "hierarchical.json").read_text())
    assert record["method"] == "amortized" and len(record["settings"]["importance_ess"]) == 12
    summary = pd.read_csv(out / "summary.csv")
    assert {"importance_ess", "converged"} <= set(summary.columns)
    groups = pd.read_csv(out / "group_summary.csv")
    assert "kappa[patient-control]" in set(groups["parameter"])
    idata = az.from_netcdf(str(out / "posterior.nc"))
    assert idata.posterior["kappa"].shape[-1] == 12
    assert "two-stage" in idata.attrs["inference"]
    # the network covers 60-trial data only, and its own priors only
    short, _ = simulate_participants(3, 40, seed=6)
    short.to_csv(tmp_path / "short.csv", index=False)
    with pytest.raises(SystemExit, match="60"):
        main(["fit", str(tmp_path / "short.csv"), "--hierarchical", "--method", "amortized",
              "--out", str(tmp_path / "short_fit")])
    with pytest.raises(SystemExit, match="priors= needs the exact method"):
        main(["fit", str(data), "--hierarchical", "--method", "amortized", "--prior",
              "kappa=beta(1, 1)", "--out", str(tmp_path / "prior_fit")])
