"""Tests of rlddm.fit: the network path (the shipped network, relabelled to take 20-40
trials), the exact path on a selection task, the choice of method, the output folder,
the predictive checks, and bad inputs and interruptions that must leave nothing behind.

The amortized round trip checks that truths fall inside wide intervals, not that they
are recovered (tests/test_shipped_model.py and tests/test_exact_fit.py do that). The
exact fits here run chains too short to converge with the checks switched off, except
where a test says otherwise.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import arviz as az
import numpy as np
import pandas as pd
import pytest

from rlddm.fit import exact as exact_fit
import rlddm.fit as fit
from rlddm.fit import fitting, ppc
import rlddm.inference as inf
from rlddm.cli import main
from rlddm.data import DataError, read_trials, simulate_participants, write_trials
from rlddm.likelihood import loglik
from rlddm.model import get_model
from rlddm.parameters import PARAMETER_NAMES
from rlddm.priors import DEFAULT_PRIORS
from rlddm.task import ReversalDesign

COUNTS = [24, 24, 24, 36, 36, 36]  # two trial counts inside the model's range [20, 40]
MISSED = {"s2": 5, "s5": 30}  # participant -> trial made a missed response by editing the data
N_DRAWS, N_PPC = 300, 40
SHORT = dict(n_warmup=100, n_draws=25, thin=1, rhat_max=100.0, min_ess=1.0, n_jobs=1, n_ppc=10)
SUMMARY_COLUMNS = ["participant", "parameter", "mean", "sd", "hdi_3%", "hdi_97%", "r_hat",
                   "ess_bulk", "ess_tail", "converged", "attempts", "n_trials", "n_missed"]
PPC_COLUMNS = ["check", "participant", "pair", "position", "option", "quantile", "observed",
               "n_observed", "predicted_mean", "predicted_5%", "predicted_95%"]
SELECTION_COUNTS = [60, 90, 75, 60]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """The shipped network with its trial range relabelled [20, 40]: a run folder that
    takes two trial counts, in seconds (training even a tiny one takes a minute here).
    Outside its trained 60 trials its posterior is only roughly right, which the round
    trip's wide intervals allow."""
    directory = tmp_path_factory.mktemp("model") / "run"
    shutil.copytree(fit.shipped_model(), directory)
    info = json.loads((directory / "config.json").read_text())
    info["config"] |= {"min_trials": 20, "max_trials": 40}
    (directory / "config.json").write_text(json.dumps(info))
    return directory


@pytest.fixture(scope="module")
def simulated():
    trials, truths = simulate_participants(6, COUNTS, seed=11)
    assert (trials["choice"] != -1).all()  # the retry makes simulated misses vanishingly rare
    # text ids exercise NetCDF's string coordinates
    trials["participant"] = "s" + trials["participant"].astype(str)
    truths["participant"] = "s" + truths["participant"].astype(str)
    for participant, trial in MISSED.items():
        row = (trials["participant"] == participant) & (trials["trial"] == trial)
        trials.loc[row, ["rt", "choice"]] = [np.nan, -1]
    return trials, truths


@pytest.fixture(scope="module")
def fitted(model, simulated, tmp_path_factory):
    folder = tmp_path_factory.mktemp("fit")
    csv = write_trials(simulated[0], folder / "trials.csv")
    out = folder / "results" / "out"
    result = fit.fit_csv(csv, model=model, out=out, n_draws=N_DRAWS, n_ppc=N_PPC, seed=1)
    return out, result


@pytest.fixture(scope="module")
def selection():
    """Four selection-task participants (pairs A-B, C-D, E-F interleaved), one missed response."""
    frame, truths = simulate_participants(4, SELECTION_COUNTS, design="selection", seed=3)
    frame.loc[(frame["participant"] == 2) & (frame["trial"] == 7), ["rt", "choice"]] = [np.nan, -1]
    return frame, truths


@pytest.fixture(scope="module")
def exact(selection, tmp_path_factory):
    folder = tmp_path_factory.mktemp("exact")
    csv = folder / "selection.csv"
    selection[0].to_csv(csv, index=False)
    out = folder / "out"
    return out, fit.fit_csv(csv, out=out, seed=2, **SHORT)


def frame(simulated):
    return simulated[0].copy()


def no_output(out):
    """Neither the output folder nor a temporary folder beside it exists."""
    return not out.exists() and not any(out.parent.glob(f".{out.name}*"))


# ---------------------------------------------------------------------------------------
# the network's round trip


def test_output_folder_holds_exactly_the_output_files(fitted):
    out, _ = fitted
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["posterior.nc", "summary.csv", "ppc.csv", "ppc.json", "ppc_reversal.png",
         "ppc_rt_quantiles.png"])
    assert sorted(p.name for p in out.parent.iterdir()) == ["out"]  # no temporary folder left
    for name in ("ppc_reversal.png", "ppc_rt_quantiles.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_auto_uses_the_network_that_covers_the_data(fitted, model):
    _, result = fitted
    assert result.method == "amortized"
    assert result.method_reason.startswith(f"auto: the network at {model} (model rlddm")
    assert "covers the model and the data" in result.method_reason
    assert "design was not given, so the network's is assumed" in result.method_reason
    assert result.notes() == [f"method: amortized ({result.method_reason})"]


def test_posterior_nc_shapes_groups_and_metadata(fitted, model, simulated):
    out, _ = fitted
    idata = az.from_netcdf(out / "posterior.nc")
    ids = [f"s{k}" for k in range(1, 7)]
    posterior = idata.posterior
    assert list(posterior.data_vars) == list(PARAMETER_NAMES)
    assert dict(posterior.sizes) == {"chain": 1, "draw": N_DRAWS, "participant": 6}
    assert posterior["participant"].values.tolist() == ids
    observed = idata.observed_data
    assert dict(observed.sizes) == {"participant": 6, "trial": 36}
    rt = observed["rt"].values
    choice = observed["choice"].values
    assert np.isnan(rt[:3, 24:]).all() and np.isnan(choice[:3, 24:]).all()  # padding
    assert choice[1, 4] == -1 and np.isnan(rt[1, 4]) and choice[4, 29] == -1
    trials = frame(simulated)
    np.testing.assert_array_equal(choice[3, :36], trials.loc[trials.participant == "s4", "choice"])
    assert idata.constant_data["n_missed"].values.tolist() == [0, 1, 0, 0, 1, 0]
    assert idata.constant_data["n_trials"].values.tolist() == COUNTS
    assert idata.log_likelihood["trial"].shape == (1, N_DRAWS, sum(COUNTS) - 2)
    for attrs in (idata.attrs, posterior.attrs):
        assert attrs["model"] == str(model.resolve())
        assert attrs["model_name"] == "rlddm"
        assert attrs["method"] == "amortized"
        assert attrs["simulation_method"] == "exact"
        assert json.loads(attrs["priors"]) == DEFAULT_PRIORS.to_dict()
        assert json.loads(attrs["design"]) == ReversalDesign().to_dict()
        settings = json.loads(attrs["settings"])
        assert (settings["min_trials"], settings["max_trials"]) == (20, 40)
        assert attrs["rlddm_version"] == fitting.__version__
        assert attrs["seed"] == "1"
        assert json.loads(attrs["unconverged"]) == []


def test_summary_csv(fitted):
    out, result = fitted
    summary = result.summary()
    written = pd.read_csv(out / "summary.csv")
    assert list(written.columns) == SUMMARY_COLUMNS
    pd.testing.assert_frame_equal(written, summary.astype({"participant": str}),
                                  check_dtype=False)
    assert len(summary) == 6 * 5
    assert summary["parameter"].tolist() == list(PARAMETER_NAMES) * 6
    by_participant = summary.groupby("participant", sort=False).first()
    assert by_participant["n_trials"].tolist() == COUNTS
    assert by_participant["n_missed"].tolist() == [0, 1, 0, 0, 1, 0]
    assert (summary["hdi_3%"] < summary["mean"]).all()
    assert (summary["mean"] < summary["hdi_97%"]).all()
    # the network's draws are independent: no chains to diagnose, nothing flagged
    assert summary["r_hat"].isna().all() and summary["converged"].all()


@pytest.mark.statistical
def test_truths_fall_inside_wide_intervals(fitted, simulated):
    """Coverage of 99% central intervals over 6 x 5 truths.

    A calibrated posterior covers each truth with probability 0.99, so fewer than 24 of 30
    (coverage < 0.8) happens with probability < 1e-9; an untrained flow is close to the
    prior the truths were drawn from, which covers them as well. Negative control: truths
    moved by 4 prior sds lie outside the prior's bulk and must mostly fall outside.
    """
    out, _ = fitted
    posterior = az.from_netcdf(out / "posterior.nc").posterior
    draws = np.stack([posterior[name].values[0].T for name in PARAMETER_NAMES], axis=-1)
    low, high = np.quantile(draws, [0.005, 0.995], axis=1)  # (6, 5) each
    truths = simulated[1].set_index("participant").loc[posterior["participant"].values]
    truth = truths[list(PARAMETER_NAMES)].to_numpy()
    coverage = np.mean((truth >= low) & (truth <= high))
    assert coverage >= 0.8
    shifted = truth + 4 * DEFAULT_PRIORS.std
    assert np.mean((shifted >= low) & (shifted <= high)) < 0.5


def test_predictive_check_outputs(fitted):
    out, _ = fitted
    table = pd.read_csv(out / "ppc.csv")
    assert list(table.columns) == ["check", "participant", "position", "choice", "quantile",
                                   "observed", "n_observed", "predicted_mean", "predicted_5%",
                                   "predicted_95%"]
    offsets, quantiles = list(fit.REVERSAL_OFFSETS), list(fit.RT_QUANTILES)
    reversal = table[table["check"] == "reversal"]
    rt = table[table["check"] == "rt_quantile"]
    assert len(reversal) == 7 * len(offsets) and len(rt) == 7 * 2 * len(quantiles)
    assert reversal["participant"].iloc[0] == "all"
    assert reversal["position"].tolist() == offsets * 7
    # pooled: 24-trial participants see the reversal at trial 12, 36-trial ones also at 24
    assert reversal["n_observed"].iloc[0] == 3 * 1 + 3 * 2
    assert (reversal["predicted_5%"] <= reversal["predicted_mean"] + 1e-12).all()
    assert (reversal["predicted_mean"] <= reversal["predicted_95%"] + 1e-12).all()
    assert rt["predicted_mean"].between(0, 10).all()
    document = json.loads((out / "ppc.json").read_text())
    assert document["settings"]["n_draws"] == N_PPC
    assert list(document["participants"]) == [f"s{k}" for k in range(1, 7)]
    entry = document["participants"]["s2"]
    assert entry["choices"]["position"] == offsets
    assert sorted(entry["rt_quantiles"]) == ["choice", "n_observed", "observed",
                                             "predicted_5%", "predicted_95%", "predicted_mean",
                                             "quantile"]
    assert document["all"]["choices"]["n_observed"][0] == 9


def test_network_gets_answered_trials_one_call_per_length(model, simulated):
    class Spy(inf.AmortizedPosterior):
        calls = []

        def sample(self, rt, choice, reward, **options):
            self.calls.append((np.asarray(rt), np.asarray(choice)))
            return super().sample(rt, choice, reward, **options)

    loaded = inf.AmortizedPosterior.load(model)
    spy = Spy(loaded.approximator, loaded.config)
    trials = read_trials(frame(simulated))
    result = fit.fit_participants(trials, spy, n_draws=20, seed=3)
    assert result.draws.shape == (6, 20, 5)
    # answered counts 24, 23, 24, 36, 35, 36 -> four groups, never padded
    assert sorted(rt.shape for rt, _ in Spy.calls) == [(1, 23), (1, 35), (2, 24), (2, 36)]
    assert all(set(np.unique(choice)) <= {0, 1} for _, choice in Spy.calls)
    s2 = trials.participant("s2")
    rt23 = next(rt for rt, _ in Spy.calls if rt.shape == (1, 23))
    np.testing.assert_array_equal(rt23[0], s2.rt[s2.choice != -1])
    # the same seed gives the same draws
    again = fit.fit_participants(trials, spy, n_draws=20, seed=3)
    np.testing.assert_allclose(again.draws, result.draws, rtol=1e-6)
    # one chain's log-likelihood of each answered trial, at every draw
    assert [v.shape for v in result.log_likelihood] == [(20, n) for n in (24, 23, 24, 36, 35, 36)]


# ---------------------------------------------------------------------------------------
# the exact method on a selection task


def test_auto_falls_back_to_exact_and_says_why(exact):
    out, result = exact
    assert result.method == "exact"
    assert result.method_reason.startswith("auto: the network at ")
    assert "does not cover the data: the network covers one pair of options; this file " \
           "presents 6 options (participant 1: ['A', 'B', 'C', 'D', 'E', 'F'])" \
        in result.method_reason
    idata = az.from_netcdf(out / "posterior.nc")
    assert idata.posterior.attrs["method_reason"] == result.method_reason
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["posterior.nc", "summary.csv", "ppc.csv", "ppc.json", "ppc_learning_curves.png",
         "ppc_rt_quantiles.png"])


def test_log_likelihood_group_matches_loglik_per_participant(exact, selection):
    """One variable ``trial`` (chain, draw, obs) over every answered trial; summed per
    participant it is rlddm.likelihood.loglik at that draw."""
    out, _ = exact
    idata = az.from_netcdf(out / "posterior.nc")
    group = idata.log_likelihood
    assert list(group.data_vars) == ["trial"]
    assert dict(group["trial"].sizes) == {"chain": 4, "draw": 25, "obs": sum(SELECTION_COUNTS) - 1}
    obs_participant = group["obs_participant"].values
    obs_trial = group["obs_trial"].values
    assert obs_trial[obs_participant == 2].tolist() == [t for t in range(1, 91) if t != 7]
    trials = read_trials(selection[0])
    names = list(get_model("rlddm").names)
    for k, participant in enumerate(trials):
        theta = np.stack([idata.posterior[n].values[:, :, k] for n in names], axis=-1)
        theta = theta.reshape(-1, len(names))
        answered = participant.choice != -1
        expected = loglik(theta, np.where(answered, participant.rt, 0.0), participant.choice,
                          participant.reward, options=participant.options,
                          n_options=participant.n_options)
        stored = group["trial"].values[:, :, obs_participant == participant.participant]
        np.testing.assert_allclose(stored.sum(axis=-1).ravel(), expected, rtol=1e-10)
    assert np.isfinite(az.loo(idata, var_name="trial").elpd_loo)


def test_summary_carries_the_samplers_diagnostics(exact):
    out, result = exact
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == SUMMARY_COLUMNS
    assert len(summary) == 4 * 5
    diagnostics = result.diagnostics
    np.testing.assert_allclose(summary["r_hat"], diagnostics.rhat.ravel())
    np.testing.assert_allclose(summary["ess_tail"], diagnostics.ess_tail.ravel())
    assert summary.groupby("participant")["n_missed"].first().tolist() == [0, 1, 0, 0]
    settings = json.loads(az.from_netcdf(out / "posterior.nc").posterior.attrs["settings"])
    assert (settings["n_warmup"], settings["n_draws"], settings["thin"]) == (100, 25, 1)


def test_learning_curves_per_pair(exact, selection):
    out, result = exact
    table = pd.read_csv(out / "ppc.csv")
    assert list(table.columns) == PPC_COLUMNS
    curves = table[table["check"] == "learning_curve"]
    mine = curves[curves["participant"] == "1"]
    assert sorted(mine["pair"].unique()) == ["A-B", "C-D", "E-F"]
    # observed by hand: participant 1, pair A-B, presentations 1-10 (A pays more)
    trials = read_trials(selection[0]).participant(1)
    shown = np.flatnonzero((trials.options.min(axis=1) == 0) & (trials.options.max(axis=1) == 1))
    positions = mine.loc[mine["pair"] == "A-B", "position"].tolist()
    assert positions == list(range(1, shown.size + 1, 10))  # bins of 10 presentations
    first = shown[:10]
    chosen = trials.options[first, trials.choice[first]]
    row = mine[(mine["pair"] == "A-B") & (mine["position"] == 1)].iloc[0]
    assert row["observed"] == pytest.approx(np.mean(chosen == 0))
    assert row["n_observed"] == 10
    rt = table[table["check"] == "rt_quantile"]
    assert sorted(rt.loc[rt["participant"] == "1", "option"].unique()) == list("ABCDEF")
    assert result.notes()[0].startswith("method: exact (auto: ")


def test_hddm_layout_with_conditions_fits_exactly(tmp_path):
    """HDDMrl's split_by: each condition is its own pair; responses 1 = upper option."""
    frame, _ = simulate_participants(2, 60, design="selection", seed=8)
    names = {"A": 0, "B": 0, "C": 1, "D": 1, "E": 2, "F": 2}
    upper = frame["option0"].map({"A": True, "C": True, "E": True}).fillna(False)
    hddm = pd.DataFrame({"subj_idx": frame["participant"], "rt": frame["rt"],
                         "response": np.where(frame["choice"] == 0, upper, ~upper).astype(float),
                         "feedback": frame["reward"], "split_by": frame["option0"].map(names),
                         "q_init": 0.5})
    hddm["trial"] = hddm.groupby(["subj_idx", "split_by"]).cumcount() + 1
    csv = tmp_path / "hddm.csv"
    hddm.to_csv(csv, index=False)
    result = fit.fit_csv(csv, out=tmp_path / "out", layout="hddm", seed=1, **SHORT)
    assert result.method == "exact"
    pairs = pd.read_csv(tmp_path / "out" / "ppc.csv")["pair"].dropna().unique()
    assert sorted(pairs) == ["condition 0", "condition 1", "condition 2"]


def test_fixed_parameter_has_no_posterior_and_its_value_is_used(selection, tmp_path):
    csv = tmp_path / "selection.csv"
    selection[0].to_csv(csv, index=False)
    out = tmp_path / "out"
    result = fit.fit_csv(csv, out=out, model="rlddm", fixed={"beta": 0.5, "p_outlier": 0.05},
                         seed=4, **SHORT)
    idata = az.from_netcdf(out / "posterior.nc")
    assert list(idata.posterior.data_vars) == ["drift", "alpha", "ter", "kappa"]
    assert idata.posterior.attrs["model_name"] == "rlddm[p_outlier=0.05, beta=0.5]"
    assert json.loads(idata.posterior.attrs["fixed"]) == {"p_outlier": 0.05, "beta": 0.5}
    assert result.notes()[0] == ("method: exact (auto: the network at "
                                 f"{fit.shipped_model()} (model rlddm, reversal design p = "
                                 "0.8/0.2 reversed every 12 trials, 60-60 trials) is for model "
                                 "rlddm, not rlddm[p_outlier=0.05, beta=0.5])")
    trials = read_trials(selection[0])
    p = trials.participant(3)
    theta = np.stack([idata.posterior[n].values[:, :, 2].ravel() for n in
                      ("drift", "alpha", "ter", "kappa")], axis=-1)[:5]
    stored = idata.log_likelihood["trial"].values.reshape(100, -1)[:5]
    stored = stored[:, idata.log_likelihood["obs_participant"].values == 3].sum(axis=1)
    spec = get_model("rlddm", fixed={"beta": 0.5, "p_outlier": 0.05})
    arguments = (p.rt, p.choice, p.reward)
    np.testing.assert_allclose(stored, loglik(theta, *arguments, model=spec, options=p.options),
                               rtol=1e-10)
    other = get_model("rlddm", fixed={"beta": 0.4, "p_outlier": 0.05})
    assert not np.allclose(stored, loglik(theta, *arguments, model=other, options=p.options))


def test_unconverged_participants_are_kept_marked_and_reported(selection, tmp_path):
    """Checks no chain can pass (ESS >= 10**9): every participant is rerun, then marked."""
    out = tmp_path / "out"
    result = fit.fit_csv(selection[0], out=out, seed=4, **(SHORT | {"min_ess": 1e9}))
    assert result.unconverged == (1, 2, 3, 4)
    assert (result.diagnostics.attempts == 2).all()
    summary = pd.read_csv(out / "summary.csv")
    assert not summary["converged"].any() and (summary["attempts"] == 2).all()
    idata = az.from_netcdf(out / "posterior.nc")
    assert idata.posterior.sizes["participant"] == 4  # kept
    assert not idata.constant_data["converged"].values.any()
    assert json.loads(idata.posterior.attrs["unconverged"]) == ["1", "2", "3", "4"]
    assert result.notes()[1].startswith("4 participant(s) did not converge after a rerun and "
                                        "are marked converged = False")
    assert "1 (bulk ESS of drift = " in result.notes()[1]


# ---------------------------------------------------------------------------------------
# predictive checks on known choices


def test_better_arm_and_reversal_windows():
    design = ReversalDesign()
    better = fit.better_arm(design, 36)
    np.testing.assert_array_equal(better, np.repeat([0, 1, 0], 12))
    trial, valid = fit.reversal_windows(better, fit.REVERSAL_OFFSETS)
    np.testing.assert_array_equal(trial[:, 3], [12, 24])  # offset 0
    assert valid.all()
    # reversals every 4 trials: a window stops at the neighbouring reversals
    trial, valid = fit.reversal_windows(fit.better_arm(ReversalDesign(reversal_every=4), 12),
                                        range(-5, 6))
    np.testing.assert_array_equal(valid[0], [False, True, True, True, True, True, True, True,
                                             True, False, False])
    np.testing.assert_array_equal(trial[0, valid[0]], np.arange(0, 8))
    no_better = fit.better_arm(ReversalDesign(reward_probabilities=(0.5, 0.5)), 24)
    assert (no_better == -1).all()
    assert fit.reversal_windows(no_better, fit.REVERSAL_OFFSETS)[0].shape == (0, 12)


def _fit_result(trials, draws, design=None):
    spec = get_model("rlddm")
    return fit.FitResult(trials, draws, spec, spec.priors(), "exact", design=design)


def test_predictive_checks_on_a_perseverating_participant():
    """Observed: keeps the old arm for 2 trials after each reversal. Predicted: good learners."""
    n_trials = 36
    better = fit.better_arm(ReversalDesign(), n_trials)
    choice = np.concatenate([better[:2], better[:-2]])
    rng = np.random.default_rng(0)
    rt = 0.3 + rng.gamma(2.0, 0.2, n_trials)
    trials = read_trials(pd.DataFrame({"participant": 1, "trial": np.arange(1, n_trials + 1),
                                       "rt": rt, "choice": choice, "reward": 1}))
    draws = np.tile([6.0, 1.5, 0.5, 0.3, 0.8], (1, 100, 1))  # high drift and learning rate
    checks = fit.predictive_checks(_fit_result(trials, draws, ReversalDesign()), n_draws=100,
                                   seed=2)
    rows = checks.choices[checks.choices["participant"] == 1].set_index("position")
    expected = np.where(np.isin(fit.REVERSAL_OFFSETS, [0, 1]), 0.0, 1.0)
    np.testing.assert_array_equal(rows["observed"], expected)
    assert (rows["n_observed"] == 2).all()
    assert rows.loc[-1, "predicted_mean"] > 0.7 and rows.loc[8, "predicted_mean"] > 0.7
    assert rows.loc[0, "predicted_mean"] < 0.5  # the good learner also lags one trial
    quantiles = checks.rt_quantiles[checks.rt_quantiles["participant"] == 1]
    for c in (0, 1):
        part = quantiles[quantiles["choice"] == c]
        np.testing.assert_allclose(part["observed"], np.quantile(rt[choice == c], fit.RT_QUANTILES))
        assert (part["n_observed"] == np.sum(choice == c)).all()
    assert checks.to_dict()["participants"]["1"]["choices"]["observed"] == expected.tolist()


def test_pair_checks_replay_the_observed_options_and_rewards():
    """Pairs X-Y (X pays 1, Y 0) and Z-W (Z pays 1, W 0), alternating; the participant
    picks the better option on 4 of 5 X-Y trials and on 1 of 5 Z-W trials. Replicates
    keep the observed outcome of the chosen option and draw the other from its own
    observed rewards (here always 1 for X and Z, 0 for Y and W), so a fast learner
    (drift 6, kappa 0.5) ends up choosing X and Z."""
    n = 80
    xy = np.arange(n) % 2 == 0
    presentation = np.arange(n) // 2
    picks_better = np.where(xy, presentation % 5 != 4, presentation % 5 == 4)
    choice = np.where(picks_better, 0, 1)  # the better option is option0 on every trial
    trials = read_trials(pd.DataFrame({
        "participant": 1, "rt": 0.6, "choice": choice, "reward": picks_better.astype(float),
        "option0": np.where(xy, "X", "Z"), "option1": np.where(xy, "Y", "W")}))
    participant = trials.participant(1)
    pools = ppc._reward_pools(trials)[0][0]
    outcomes = ppc._replicate_outcomes(participant, pools, 7, np.random.default_rng(0))
    np.testing.assert_array_equal(outcomes[:, :, 0], 1.0)  # X or Z: observed or drawn, always 1
    np.testing.assert_array_equal(outcomes[:, :, 1], 0.0)
    draws = np.tile([6.0, 1.5, 0.5, 0.3, 0.5], (1, 50, 1))
    checks = fit.predictive_checks(_fit_result(trials, draws), n_draws=50, seed=1)
    rows = checks.choices[checks.choices["participant"] == 1].set_index(["pair", "position"])
    assert rows.index.tolist() == [("W-Z", 1), ("W-Z", 11), ("W-Z", 21), ("W-Z", 31),
                                   ("X-Y", 1), ("X-Y", 11), ("X-Y", 21), ("X-Y", 31)]
    np.testing.assert_allclose(rows.loc["X-Y", "observed"], 0.8)
    np.testing.assert_allclose(rows.loc["W-Z", "observed"], 0.2)
    assert (rows.loc["X-Y", "n_observed"] == 10).all()
    assert rows.loc[("X-Y", 31), "predicted_mean"] > 0.9
    assert rows.loc[("W-Z", 31), "predicted_mean"] > 0.9
    assert checks.settings["check"] == "pairs" and checks.choice_plot == "ppc_learning_curves.png"


def test_integer_ids_stay_integers_and_summary_matches_arviz(tmp_path):
    trials = read_trials(pd.DataFrame({"participant": [7, 7, 7, 3, 3], "rt": 0.5,
                                       "choice": [0, 1, 0, 1, 1], "reward": 1}))
    draws = DEFAULT_PRIORS.sample(2 * 50, seed=4).reshape(2, 50, 5)
    result = _fit_result(trials, draws)
    result.to_inference_data().to_netcdf(str(tmp_path / "posterior.nc"))
    idata = az.from_netcdf(tmp_path / "posterior.nc")
    assert idata.posterior["participant"].values.tolist() == [7, 3]
    assert np.isnan(idata.observed_data["rt"].values[1, 2])  # participant 3 has 2 trials
    expected = az.summary(idata, kind="stats", hdi_prob=0.94)
    summary = result.summary().set_index(["participant", "parameter"])
    for (participant, parameter), row in summary.iterrows():
        np.testing.assert_allclose(
            row[["mean", "sd", "hdi_3%", "hdi_97%"]].to_numpy(float),
            expected.loc[f"{parameter}[{participant}]"].to_numpy(float), atol=5e-3)


# ---------------------------------------------------------------------------------------
# failures leave nothing behind


def drop_rt(trials):
    return trials.drop(columns="rt")


def text_rt(trials):
    trials["rt"] = trials["rt"].astype(object)
    trials.loc[7, "rt"] = "fast"
    return trials


def negative_rt(trials):
    trials.loc[7, "rt"] = -0.4
    return trials


def choice_two(trials):
    trials.loc[7, "choice"] = 2
    return trials


def short_participant(trials):
    return trials[(trials["participant"] != "s1") | (trials["trial"] <= 10)]


def too_few_answered(trials):
    trials = trials[(trials["participant"] != "s2") | (trials["trial"] <= 20)]
    return trials  # s2 has 20 trials, one of them missed


@pytest.mark.parametrize(
    ("edit", "error", "message"),
    [
        (drop_rt, DataError, r"missing.*'rt'|'rt'.*missing"),
        (text_rt, DataError, r"column 'rt'.*must be a number, got 'fast'"),
        (negative_rt, DataError, r"column 'rt'.*must be > 0 seconds, got -0.4"),
        (choice_two, DataError, r"column 'choice'.*must be one of \[0, 1, -1\].*got 2"),
        (short_participant, DataError,
         r"outside the model's trained range \[20, 40\]: 's1' \(10 trials\)"),
        (too_few_answered, DataError, r"'s2' \(20 trials, 1 missed: 19 answered\)"),
    ],
)
def test_bad_trials_raise_and_write_nothing(model, simulated, tmp_path, edit, error, message):
    out = tmp_path / "out"
    with pytest.raises(error, match=message):
        fit.fit_csv(edit(frame(simulated)), model=model, method="amortized", out=out,
                    n_draws=10, n_ppc=5)
    assert no_output(out)


def single_trial_condition(trials):
    trials = trials.drop(columns=["option0", "option1"])
    trials["condition"] = np.where(trials.index == 3, "rare", "common")
    return trials


def all_missed(trials):
    trials.loc[trials["participant"] == 3, ["rt", "choice"]] = [np.nan, -1]
    return trials


def infinite_reward(trials):
    trials.loc[11, "reward"] = np.inf
    return trials


def half_reward(trials):
    trials.loc[12, "reward"] = 0.5
    return trials


def unknown_option(trials):
    trials.loc[trials["participant"] == 4, "option1"] = trials["option1"].replace("B", "G")
    return trials


@pytest.mark.parametrize(
    ("edit", "options", "message"),
    [
        (single_trial_condition, {}, r"index 3, column 'condition': condition 'rare' of "
                                     r"participant 1 has a single trial"),
        (all_missed, {}, r"participant\(s\) 3 have only missed responses"),
        (infinite_reward, {}, r"index 11, column 'reward': must be a finite number.*got inf"),
        (half_reward, {"design": "selection"},
         r"participant 1, trial 13: reward 0.5 is not 0 or 1, but design 'selection' gives "
         r"0/1 rewards"),
        (unknown_option, {"design": "selection"},
         r"participant 4 presents option 'G', which design 'selection' does not have"),
        (lambda trials: trials, {"model": "dual_learning"},
         r"model must be a registered model name \(rlddm, dual_lr, forgetting, sigmoid_drift\) "
         r"or a run folder written by rlddm train, got 'dual_learning'"),
        (lambda trials: trials, {"method": "mcmc"}, r"method must be one of"),
        (lambda trials: trials, {"priors": {"bta": DEFAULT_PRIORS["beta"]}},
         r"cannot set a prior for 'bta' in model 'rlddm'"),
        (lambda trials: trials, {"fixed": {"kappa": 2.0}}, r"fixed value of kappa must be in"),
    ],
)
def test_bad_exact_inputs_name_participant_line_or_option(selection, tmp_path, edit, options,
                                                          message):
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=message):
        fit.fit_csv(edit(selection[0].copy()), out=out, **(SHORT | options))
    assert no_output(out)


def test_amortized_refuses_data_the_network_does_not_cover(model, selection, tmp_path):
    with pytest.raises(DataError, match=r"does not cover the data: the network covers one pair "
                                        r"of options; this file presents 6 options"):
        fit.fit_csv(selection[0], model=model, method="amortized", out=tmp_path / "out")
    with pytest.raises(DataError, match=r"is for model rlddm, not dual_lr"):
        fit.fit_csv(selection[0], model="dual_lr", method="amortized", out=tmp_path / "out")
    assert no_output(tmp_path / "out")


def test_bad_options_and_models_raise_and_write_nothing(model, simulated, tmp_path, monkeypatch):
    out = tmp_path / "out"
    trials = frame(simulated)
    with pytest.raises(ValueError, match="n_draws must be an integer >= 2, got 1"):
        fit.fit_csv(trials, model=model, method="amortized", out=out, n_draws=1)
    with pytest.raises(ValueError, match="model must be a registered model name.*'nowhere'"):
        fit.fit_csv(trials, model="nowhere", out=out)
    with pytest.raises(ValueError, match="has no config.json"):
        fit.fit_csv(trials, model=tmp_path, out=out)
    monkeypatch.setattr(fitting, "shipped_model", lambda: tmp_path / "models" / "default")
    with pytest.raises(ValueError, match="no shipped model at .*models/default; pass model="):
        fit.fit_csv(trials, method="amortized", out=out)
    assert no_output(out)
    file = tmp_path / "file"
    file.write_text("x")
    with pytest.raises(FileExistsError, match="exists and is not a folder"):
        fit.fit_csv(trials, model=model, out=file, force=True)


def test_out_may_not_be_the_current_folder_or_hold_the_inputs(selection, tmp_path, monkeypatch):
    """``--out . --force`` once died with a traceback and left an empty ``..previous-*``."""
    data = tmp_path / "data" / "selection.csv"
    data.parent.mkdir()
    selection[0].to_csv(data, index=False)
    monkeypatch.chdir(data.parent)
    for out in (".", data.parent, tmp_path):
        with pytest.raises(ValueError, match="is the current folder or holds it"):
            fit.fit_csv(data, out=out, force=True, **SHORT)
    monkeypatch.chdir(tmp_path / "..")
    with pytest.raises(ValueError, match="holds the input .*selection.csv"):
        fit.fit_csv(data, out=data.parent, force=True, **SHORT)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
    assert sorted(p.name for p in data.parent.iterdir()) == ["selection.csv"]


@pytest.mark.slow
def test_existing_output_needs_force_and_a_crash_keeps_it(model, simulated, selection, fitted,
                                                         tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("earlier results")
    with pytest.raises(FileExistsError, match="exists and is not empty; pass force=True"):
        fit.fit_csv(selection[0], out=out, **SHORT)
    for failure in (RuntimeError("disk full"), KeyboardInterrupt()):
        with monkeypatch.context() as patch:
            def crash(self, path, failure=failure):
                raise failure

            patch.setattr(fit.PredictiveChecks, "plot_rt_quantiles", crash)
            with pytest.raises(type(failure)):
                fit.fit_csv(selection[0], out=out, force=True, **SHORT)
        assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no partial folder beside it
        assert [p.name for p in out.iterdir()] == ["old.txt"]
    result = fit.fit_csv(frame(simulated), model=model, out=out, n_draws=N_DRAWS, n_ppc=5,
                         force=True, seed=1)
    assert "ppc_reversal.png" in [p.name for p in out.iterdir()]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    # the same seed reproduces the draws of the round trip (from the CSV file)
    pd.testing.assert_frame_equal(result.summary(), fitted[1].summary(), rtol=1e-6)


def test_interrupted_sampling_leaves_no_output(selection, tmp_path, monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(exact_fit, "sample_posteriors", interrupt)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        fit.fit_csv(selection[0], out=out, **SHORT)
    assert no_output(out) and list(tmp_path.iterdir()) == []


def _workers(pid):
    """Process ids of the multiprocessing workers started by process ``pid`` (Linux)."""
    try:
        children = open(f"/proc/{pid}/task/{pid}/children").read().split()
    except OSError:
        return []
    found = []
    for child in children:
        try:
            command = open(f"/proc/{child}/cmdline", "rb").read()
        except OSError:
            continue
        if b"spawn_main" in command:
            found.append(int(child))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="reads /proc (Linux)")
def test_sigterm_stops_the_workers_and_leaves_no_output(tmp_path):
    """16 x 240 trials make two chunks, so two worker processes sample."""
    csv = tmp_path / "selection.csv"
    simulate_participants(16, 240, design="selection", seed=1)[0].to_csv(csv, index=False)
    out = tmp_path / "out"
    script = textwrap.dedent(f"""
        from rlddm.fit import fit_csv
        if __name__ == "__main__":
            fit_csv({str(csv)!r}, out={str(out)!r}, method="exact", n_jobs=2, n_warmup=20000)
    """)
    process = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(_workers(process.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    workers = _workers(process.pid)
    assert len(workers) == 2
    time.sleep(3.0)  # the workers import rlddm and start sampling
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode != 0
    assert "KeyboardInterrupt: signal 15" in stderr
    assert not any(os.path.exists(f"/proc/{worker}") for worker in workers)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["selection.csv"]


def test_command_line_reports_bad_models(simulated, tmp_path):
    csv = tmp_path / "trials.csv"
    frame(simulated).to_csv(csv, index=False)
    out = tmp_path / "out"
    with pytest.raises(SystemExit, match=r"rlddm fit: model must be a registered model name"):
        main(["fit", str(csv), "--model", "nowhere", "--out", str(out), "--draws", "10"])
    assert no_output(out)


def test_the_better_option_is_judged_over_all_participants_choices_of_its_label():
    """Participant a chose B twice, rewarded both times (its own rate 1.0 against A's 0.8);
    b chose B 10 times at 0.2: over both, A (0.8) is the better option for a as well."""
    from rlddm.fit.ppc import _option_rates, _reward_pools

    rows = [("a", "A", 1.0 if t % 5 else 0.0) for t in range(10)] + [("a", "B", 1.0)] * 2
    rows += [("b", "B", 1.0 if t % 5 == 0 else 0.0) for t in range(10)] + [("b", "A", 1.0)] * 2
    frame = pd.DataFrame(rows, columns=["participant", "chosen", "reward"])
    frame["trial"] = frame.groupby("participant").cumcount() + 1
    frame["rt"] = 0.5
    frame["option0"], frame["option1"] = "A", "B"
    frame["choice"] = (frame["chosen"] == "B").astype(int)
    trials = read_trials(frame.drop(columns="chosen"))
    _, by_label = _reward_pools(trials)
    rates = _option_rates(trials.participant("a"), by_label)
    assert dict(zip(trials.participant("a").option_labels, rates)) == pytest.approx(
        {"A": 10 / 12, "B": 4 / 12})
