"""Tests of rlddm.posterior: batched likelihood, convergence diagnostics, sampler, reference run.

Statistics. The diagnostics are checked three ways: against ArviZ 0.23 on fixed
arrays (values computed with ``arviz.rhat(x, method="rank")`` and
``arviz.ess(x, method="bulk" | "tail")``, to rounding), against theory on iid and
AR(1) chains (tolerances of 4 standard deviations of the estimator, measured over
200-400 replicates of the same shapes), and on chains that do not mix (R-hat must
alarm). The sampler must put the truth of a 1,000-trial data set within 4 posterior
SDs for every parameter (a false alarm has probability about 3e-4 for a calibrated
posterior) and must place a drift 25 % off the truth more than 4 posterior SDs away
(the negative control; the drift's posterior SD is about 0.18 at this size, so the
wrong drift lies about 2.8 SDs further out than the truth does).
"""

import json

import numpy as np
import pytest

import rlddm
from rlddm.likelihood import loglik
from rlddm.model import get_model
from rlddm.posterior import (
    NotConvergedError,
    ess_bulk,
    ess_tail,
    loglik_batch,
    recovery_metrics,
    reference_run,
    rhat,
    sample_posterior,
    sample_posteriors,
)
from rlddm.priors import DEFAULT_PRIORS, Priors

from .test_likelihood import synthetic_data

N_SIGMA = 4.0


@pytest.fixture(scope="module")
def small_data():
    """Three exact-model data sets of 40 trials, one with a missed trial."""
    theta = np.array([[2.0, 1.0, 0.5, 0.3, 0.4], [-1.0, 1.5, 0.3, 0.5, 0.8], [0.3, 0.6, 0.7, 0.2, 0.2]])
    outcomes = rlddm.ReversalDesign().sample(3, n_trials=40, seed=1)
    data = rlddm.simulate(theta, outcomes, seed=2, method="exact")
    choice = data.choice.copy()
    choice[1, 7] = -1
    return theta, data.rt, choice, data.reward


# ----------------------------------------------------------------------------------
# Batched likelihood
# ----------------------------------------------------------------------------------


def test_loglik_batch_equals_loglik(small_data):
    theta, rt, choice, reward = small_data
    rows = np.stack([DEFAULT_PRIORS.sample(6, seed=10 + d) for d in range(3)])
    rows[:, 0] = theta
    rows[0, 1, 1] = -1.0  # alpha outside the support
    rows[2, 2, 3] = rt[2].min() + 0.01  # an RT below ter: impossible
    batch = loglik_batch(rows, rt, choice, reward)
    expected = np.stack([loglik(rows[d], rt[d], choice[d], reward[d]) for d in range(3)])
    assert batch.shape == (3, 6)
    np.testing.assert_array_equal(np.isfinite(batch), np.isfinite(expected))
    assert np.isneginf(batch[0, 1]) and np.isneginf(batch[2, 2])
    np.testing.assert_allclose(batch[np.isfinite(batch)], expected[np.isfinite(expected)], rtol=1e-12)


def test_loglik_batch_takes_options_per_data_set(small_data):
    """Each data set its own presented pairs: the batch equals loglik on each with its own."""
    theta, rt, choice, reward = small_data
    rng = np.random.default_rng(3)
    options = np.stack([rng.permutation(4)[:2] for _ in range(3 * 40)]).reshape(3, 40, 2)
    rows = theta[:, None, :]
    batch = loglik_batch(rows, rt, choice, reward, options=options)
    expected = [loglik(theta[d], rt[d], choice[d], reward[d], options=options[d]) for d in range(3)]
    np.testing.assert_allclose(batch[:, 0], expected, rtol=1e-13)
    assert not np.allclose(batch[:, 0], loglik_batch(rows, rt, choice, reward)[:, 0])


def test_loglik_batch_names_the_bad_data_set(small_data):
    _, rt, choice, reward = small_data
    bad = choice.copy()
    bad[1, 3] = 2
    with pytest.raises(ValueError, match="data set 1: choice"):
        loglik_batch(np.zeros((3, 1, 5)), rt, bad, reward)
    with pytest.raises(ValueError, match="theta must have shape"):
        loglik_batch(np.zeros((2, 1, 5)), rt, choice, reward)


# ----------------------------------------------------------------------------------
# Diagnostics
# ----------------------------------------------------------------------------------


def diagnostic_cases() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(20261125)
    iid = rng.standard_normal((4, 500))
    noise = rng.standard_normal((4, 800))
    ar1 = np.empty_like(noise)
    ar1[:, 0] = noise[:, 0]
    for t in range(1, 800):
        ar1[:, t] = 0.9 * ar1[:, t - 1] + np.sqrt(1 - 0.81) * noise[:, t]
    shifted = rng.standard_normal((4, 300)) + np.array([0, 0, 0, 0.5])[:, None]
    skewed_odd = rng.exponential(size=(3, 401)) ** 2
    return {"iid": iid, "ar1": ar1, "shifted": shifted, "skewed_odd": skewed_odd}


# (R-hat, bulk ESS, tail ESS) from ArviZ 0.23.4 on diagnostic_cases().
ARVIZ = {
    "iid": (1.0007735299320775, 1986.749304420535, 2101.8409882561),
    "ar1": (1.0307909205001, 130.972896587151, 286.049246464403),
    "shifted": (1.041994124988217, 81.7837741935102, 1117.068357141466),
    "skewed_odd": (0.9991687207962212, 1235.7172207011558, 1154.9745937017044),
}


@pytest.mark.parametrize("case", sorted(ARVIZ))
def test_diagnostics_match_arviz(case):
    x = diagnostic_cases()[case]
    np.testing.assert_allclose([rhat(x), ess_bulk(x), ess_tail(x)], ARVIZ[case], rtol=1e-10)


def test_iid_chains_give_rhat_one_and_ess_near_the_draw_count():
    """4 x 1,000 iid normals: split R-hat's 99th percentile is 1.002 and its maximum over
    400 replicates 1.0027; bulk ESS has mean 3,940 and SD 170, tail ESS mean 3,850 and
    SD 165 (the estimator's small downward bias is ArviZ's too)."""
    x = np.random.default_rng(3).standard_normal((5, 4, 1000))
    assert np.all(rhat(x) < 1.005)
    assert np.all(np.abs(ess_bulk(x) - 3940) < N_SIGMA * 170)
    assert np.all(np.abs(ess_tail(x) - 3850) < N_SIGMA * 165)


def test_autocorrelated_chains_give_the_theoretical_ess():
    """AR(1) with phi = 0.5 has ESS = S (1 - phi) / (1 + phi) = 6,667 for S = 20,000;
    over 200 replicates the estimate had mean 6,640 and SD 260."""
    rng = np.random.default_rng(4)
    noise = rng.standard_normal((4, 5000))
    x = np.empty_like(noise)
    x[:, 0] = noise[:, 0] / np.sqrt(0.75)
    for t in range(1, 5000):
        x[:, t] = 0.5 * x[:, t - 1] + noise[:, t]
    assert abs(ess_bulk(x) - 20000 / 3) < N_SIGMA * 260


def test_chains_with_different_means_alarm():
    """One of four chains shifted by one SD: R-hat was >= 1.08 in all of 400 replicates."""
    x = np.random.default_rng(5).standard_normal((5, 4, 1000))
    x[:, 3] += 1.0
    assert np.all(rhat(x) > 1.05)
    # Chains stuck apart in the tails only: the folded (tail) R-hat sees them.
    scale = np.random.default_rng(6).standard_normal((4, 1000)) * np.array([1, 1, 1, 3])[:, None]
    assert rhat(scale) > 1.05


# ----------------------------------------------------------------------------------
# Sampler
# ----------------------------------------------------------------------------------


@pytest.mark.statistical
def test_posterior_of_a_long_data_set_concentrates_on_the_truth():
    truth = np.array([2.0, 1.2, 0.55, 0.3, 0.4])
    outcomes = rlddm.ReversalDesign().sample(1, n_trials=1000, seed=11)
    data = rlddm.simulate(truth, outcomes, seed=12, method="exact")
    result = sample_posterior(data.rt[0], data.choice[0], data.reward[0], seed=13,
                              n_warmup=500, n_draws=750, thin=2)
    assert result.converged and result.reason == ""
    assert result.draws.shape == (4, 750, 5)
    assert np.all(np.abs(result.mean - truth) < N_SIGMA * result.sd)
    # 1,000 trials shrink every posterior SD below 0.3 prior SDs (kappa's is near 0.85
    # of the prior SD at 60 trials).
    assert np.all(result.sd < 0.3 * DEFAULT_PRIORS.std)
    # Negative control: the N_SIGMA check rejects a drift 1.5x the truth (about 5.7 SD
    # away). 1.25x (2.8 SD) was inside the check's own reach: it passed or failed with
    # the chance deviation of this data set's posterior mean (-1 SD here).
    wrong_drift = 1.5 * truth[0]
    assert abs(result.mean[0] - wrong_drift) > N_SIGMA * result.sd[0]


# Posterior means and the last draw of chain 0 of sample_posteriors on
# synthetic_data(1) and (2) with seed 7, 40 warm-up and 20 draws, from the
# five-parameter sampler before models were added (main at 9996320): the streams and
# the likelihood of the default model are unchanged, so stored references reproduce.
PINNED_MEANS = [[0.6686905503686847, 2.19690445141413, 0.469331974849356, 0.23064991128765572,
                 0.5601941997241309],
                [-0.05110493377822203, 2.2758928738105224, 0.5250890218150152,
                 0.21575228737633387, 0.4577543528894409]]
PINNED_LAST = [[1.817995242993578, 2.1750705508660526, 0.45135435339178703, 0.2976144398064595,
                0.47756927208583305],
               [0.07118095020275711, 2.146007534064147, 0.585890964816755, 0.20761125069183017,
                0.45764147589734977]]


def test_default_model_draws_are_unchanged():
    rt, choice, reward = (np.stack(x) for x in zip(synthetic_data(1), synthetic_data(2)))
    batch = sample_posteriors(rt, choice, reward, seed=7, n_warmup=40, n_draws=20, thin=1,
                              retry=False)
    assert batch.names == rlddm.PARAMETER_NAMES and batch[0].names == rlddm.PARAMETER_NAMES
    np.testing.assert_allclose(batch.draws.mean(axis=(1, 2)), PINNED_MEANS, rtol=1e-10)
    np.testing.assert_allclose(batch.draws[:, 0, -1], PINNED_LAST, rtol=1e-10)


@pytest.mark.parametrize("spec", [get_model("dual_lr"), get_model("rlddm", free=("p_outlier",))],
                         ids=["dual_lr", "rlddm+p_outlier"])
def test_sampler_runs_in_the_model_dimension(spec):
    """A smoke test: two 60-trial data sets of a six-parameter model, few iterations."""
    theta = np.array([[2.5, 1.0, 0.5, 0.25, 0.6, 0.2], [-1.5, 1.3, 0.4, 0.3, 0.3, 0.05]])
    outcomes = rlddm.ReversalDesign().sample(2, n_trials=60, seed=21)
    data = rlddm.simulate(theta, outcomes, model=spec, seed=22, method="exact")
    batch = sample_posteriors(data.rt, data.choice, data.reward, model=spec, seed=23,
                              n_warmup=40, n_draws=20, thin=1, retry=False)
    assert spec.n_free == 6 and batch.names == spec.names
    assert batch.draws.shape == (2, 4, 20, 6)
    assert batch.rhat.shape == batch.ess_bulk.shape == batch.ess_tail.shape == (2, 6)
    assert np.all(np.isfinite(batch.draws)) and np.all(spec.in_support(batch.draws.reshape(-1, 6)))
    assert all(name in reason for reason in batch.reasons for name in ("R-hat", "ESS"))
    assert batch[1].names == spec.names and batch[1].mean.shape == (6,)
    with pytest.raises(ValueError, match=r"priors name \['drift', 'alpha', 'beta', 'ter', 'kappa'\], but"):
        sample_posteriors(data.rt, data.choice, data.reward, model=spec, priors=DEFAULT_PRIORS)


def test_unconverged_posterior_is_flagged_and_refused(small_data):
    """Far too few iterations: both runs fail the checks, the result says why, and
    `sample_posterior` raises instead of returning it. The batched and single-data-set
    paths give the same draws, since each data set has its own random stream."""
    _, rt, choice, reward = small_data
    settings = dict(seed=7, n_warmup=40, n_draws=20, thin=1)
    batch = sample_posteriors(rt, choice, reward, **settings)
    assert not batch.converged.any()
    assert np.all(batch.attempts == 2)
    assert all("R-hat" in reason or "ESS" in reason for reason in batch.reasons)
    with pytest.raises(NotConvergedError, match="did not converge after 2 runs") as caught:
        sample_posterior(rt[0], choice[0], reward[0], **settings)
    np.testing.assert_allclose(caught.value.result.draws, batch.draws[0], rtol=1e-12)
    alone = sample_posteriors(rt[2], choice[2], reward[2], **settings)
    # Data set 2 alone has index 0, so its stream differs from its stream in the batch.
    assert not np.allclose(alone.draws[0], batch.draws[2])


def test_sampler_rejects_bad_options(small_data):
    _, rt, choice, reward = small_data
    with pytest.raises(ValueError, match="n_chains must be an integer >= 2"):
        sample_posteriors(rt, choice, reward, n_chains=1)
    with pytest.raises(ValueError, match="finite posterior density"):
        sample_posteriors(np.full(5, 1e-4), np.zeros(5), np.ones(5), n_warmup=20, n_draws=8)


# ----------------------------------------------------------------------------------
# Information limit
# ----------------------------------------------------------------------------------


def test_recovery_metrics_calibration_error_tells_calibrated_from_shifted_draws():
    """Draws N(m, 1) with truth m + N(0, 1) are calibrated; shifted by 1 SD they are not.

    With 400 data sets the coverage of each central interval has SD <= 0.025, so the
    calibrated median error stays below 0.05 (it is about 0.015); a 1-SD shift moves
    the 50% interval's coverage to about 0.32, and its expected median error over the 20
    levels is 0.145 (Phi(w - 1) - Phi(-w - 1) against a): above 0.10 by two coverage SDs.
    """
    rng = np.random.default_rng(11)
    truth = DEFAULT_PRIORS.sample(400, seed=12)
    centre = truth + rng.standard_normal(truth.shape) * DEFAULT_PRIORS.std
    draws = centre[:, None, :] + rng.standard_normal((400, 400, 5)) * DEFAULT_PRIORS.std
    calibrated = recovery_metrics(truth, draws)["parameters"]
    shifted = recovery_metrics(truth, draws + DEFAULT_PRIORS.std)["parameters"]
    for name in calibrated:
        assert calibrated[name]["calibration_error"] < 0.05, name
        assert shifted[name]["calibration_error"] > 0.10, name


def test_recovery_metrics_on_known_draws():
    rng = np.random.default_rng(8)
    truth = DEFAULT_PRIORS.sample(50, seed=9)
    exact = truth[:, None, :] + 1e-6 * rng.standard_normal((50, 400, 5))
    metrics = recovery_metrics(truth, exact)
    for name, entry in metrics["parameters"].items():
        assert entry["r"] == pytest.approx(1.0, abs=1e-9), name
        assert entry["nrmse"] < 1e-5 and entry["contraction"] == pytest.approx(1.0, abs=1e-9)
    missed = recovery_metrics(truth, exact + 1.0)
    assert all(entry["coverage"] == {"50": 0.0, "80": 0.0, "95": 0.0}
               for entry in missed["parameters"].values())
    sizes = [entry["n"] for entry in metrics["kappa_r_by_drift"].values()]
    assert sum(sizes) == 50


def test_recovery_metrics_follow_the_model():
    """Names from the spec; a by-drift breakdown per learning rate, only with a free drift."""
    rng = np.random.default_rng(10)
    dual = get_model("dual_lr")
    truth = dual.priors().sample(30, seed=11)
    metrics = recovery_metrics(truth, truth[:, None] + 1e-3 * rng.standard_normal((30, 50, 6)),
                               model=dual)
    assert list(metrics["parameters"]) == list(dual.names)
    assert {"kappa_pos_r_by_drift", "kappa_neg_r_by_drift"} <= set(metrics)
    assert "kappa_r_by_drift" not in metrics
    no_drift = get_model("rlddm", fixed={"drift": 2.0})
    truth = no_drift.priors().sample(30, seed=12)
    metrics = recovery_metrics(truth, truth[:, None] + 1e-3 * rng.standard_normal((30, 50, 4)),
                               model=no_drift)
    assert not any(key.endswith("_r_by_drift") for key in metrics)
    with pytest.raises(ValueError, match=r"draws must have shape \(D, K, 4\) .*'rlddm\[drift=2\]'"):
        recovery_metrics(truth, np.zeros((30, 50, 5)), model=no_drift)


def test_reference_run_writes_its_files(tmp_path):
    priors = Priors.default()
    metrics = reference_run(tmp_path, n=3, n_trials=20, seed=1, n_warmup=40, n_draws=20, thin=1,
                            progress=None)
    stored = np.load(tmp_path / "reference.npz")
    assert stored["theta"].shape == (3, 5) and stored["rt"].shape == (3, 20)
    assert stored["outcomes"].shape == (3, 20, 2)
    np.testing.assert_array_equal(stored["options"], np.broadcast_to([0, 1], (3, 20, 2)))
    assert stored["draws"].shape == (3, 4, 20, 5)
    config = json.loads((tmp_path / "reference.json").read_text())
    assert Priors.from_dict(config["priors"]) == priors
    assert rlddm.ReversalDesign.from_dict(config["design"]) == rlddm.ReversalDesign(n_trials=20)
    assert (config["n_trials"], config["method"], config["seed"]) == (20, "exact", 1)
    assert config["model"] == {"name": "rlddm", "fixed": {"p_outlier": 0.0}} and config["q0"] == 0.5
    assert json.loads((tmp_path / "metrics.json").read_text()) == metrics
    # 20 draws per chain cannot pass the checks: every data set is reported, none dropped.
    assert metrics["n_converged"] == 0 and metrics["not_converged_ids"] == [0, 1, 2]
    assert metrics["parameters"] is None
    assert metrics["all_datasets"]["n_datasets"] == 3
    assert set(metrics["all_datasets"]["parameters"]) == set(rlddm.PARAMETER_NAMES)


class PairedDesign:
    """A design with only ``schedule`` and ``to_dict``: six options in three pairs."""

    q0 = 0.25

    def schedule(self, n, *, n_trials=None, seed=None):
        rng = np.random.default_rng(seed)
        pairs = np.array([[0, 1], [2, 3], [4, 5]], dtype=np.int32)[rng.integers(0, 3, (n, n_trials))]
        return (rng.random((n, n_trials, 2)) < 0.5).astype(float), pairs

    def to_dict(self):
        return {"kind": "paired", "n_options": 6}


def test_reference_run_takes_a_model_and_any_scheduled_design(tmp_path):
    spec = get_model("dual_lr")
    metrics = reference_run(tmp_path, n=2, n_trials=30, seed=2, model=spec, design=PairedDesign(),
                            n_warmup=40, n_draws=20, thin=1, progress=None)
    stored = np.load(tmp_path / "reference.npz")
    assert stored["theta"].shape == (2, 6) and stored["draws"].shape == (2, 4, 20, 6)
    assert stored["options"].shape == (2, 30, 2) and stored["options"].max() <= 5
    config = json.loads((tmp_path / "reference.json").read_text())
    assert config["model"]["name"] == "dual_lr" and config["parameter_names"] == list(spec.names)
    assert config["design"] == {"kind": "paired", "n_options": 6} and config["q0"] == 0.25
    assert set(metrics["all_datasets"]["parameters"]) == set(spec.names)
    assert metrics["kappa_pos_r_by_drift"] is None and "kappa_pos_r_by_drift" in metrics["all_datasets"]
