"""Tests of rlddm.fit: a round trip through a tiny trained model, the output folder, the
predictive checks, and bad inputs that must fail before anything is written.

The model trains for six steps (seconds), so its posterior is close to the prior: the
round trip checks that truths fall inside wide intervals, not that they are recovered.
"""

import json

import arviz as az
import numpy as np
import pandas as pd
import pytest

import rlddm.fit as fit
import rlddm.inference as inf
from rlddm.cli import main
from rlddm.data import DataError, read_trials, simulate_participants, write_trials
from rlddm.parameters import PARAMETER_NAMES
from rlddm.priors import DEFAULT_PRIORS
from rlddm.task import ReversalDesign

TINY = dict(summary_dim=4, recurrent_units=8, epochs=2, batches_per_epoch=3, batch_size=8)
COUNTS = [24, 24, 24, 36, 36, 36]  # two trial counts inside the model's range [20, 40]
MISSED = {"s2": 5, "s5": 30}  # participant -> trial made a missed response by editing the data
N_DRAWS, N_PPC = 300, 40
SUMMARY_COLUMNS = ["participant", "parameter", "mean", "sd", "hdi_3%", "hdi_97%", "n_trials",
                   "n_missed"]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    directory = tmp_path_factory.mktemp("model")
    inf.train(inf.InferenceConfig(min_trials=20, max_trials=40, **TINY), directory, verbose=0)
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
    summary = fit.fit_csv(csv, model=model, out=out, n_draws=N_DRAWS, n_ppc=N_PPC, seed=1)
    return out, summary


def frame(simulated):
    return simulated[0].copy()


def no_output(out):
    """Neither the output folder nor a temporary folder beside it exists."""
    return not out.exists() and not any(out.parent.glob(f".{out.name}*"))


# ---------------------------------------------------------------------------------------
# round trip


def test_output_folder_holds_exactly_the_output_files(fitted):
    out, _ = fitted
    assert sorted(p.name for p in out.iterdir()) == sorted(fit.OUTPUT_FILES)
    assert sorted(p.name for p in out.parent.iterdir()) == ["out"]  # no temporary folder left
    for name in ("ppc_reversal.png", "ppc_rt_quantiles.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


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
    for attrs in (idata.attrs, posterior.attrs):
        assert attrs["model"] == str(model.resolve())
        assert attrs["simulation_method"] == "exact"
        assert json.loads(attrs["priors"]) == DEFAULT_PRIORS.to_dict()
        assert json.loads(attrs["design"]) == ReversalDesign().to_dict()
        assert (attrs["min_trials"], attrs["max_trials"]) == (20, 40)
        assert attrs["rlddm_version"] == fit.__version__
        assert attrs["seed"] == "1"


def test_summary_csv(fitted):
    out, summary = fitted
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
    assert entry["reversal"]["position"] == offsets
    assert sorted(entry["rt_quantiles"]) == ["choice_0", "choice_1"]
    assert document["all"]["reversal"]["n_observed"][0] == 9


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


def test_predictive_checks_on_a_perseverating_participant():
    """Observed: keeps the old arm for 2 trials after each reversal. Predicted: good learners."""
    n_trials = 36
    better = fit.better_arm(ReversalDesign(), n_trials)
    choice = np.concatenate([better[:2], better[:-2]])
    rng = np.random.default_rng(0)
    rt = 0.3 + rng.gamma(2.0, 0.2, n_trials)
    trials = read_trials(pd.DataFrame({"participant": 1, "trial": np.arange(1, n_trials + 1),
                                       "rt": rt, "choice": choice, "reward": 1}))
    config = inf.InferenceConfig(min_trials=20, max_trials=40)
    draws = np.tile([6.0, 1.5, 0.5, 0.3, 0.8], (1, 100, 1))  # high drift and learning rate
    checks = fit.predictive_checks(fit.FitResult(trials, draws, config), n_draws=100, seed=2)
    rows = checks.reversal[checks.reversal["participant"] == 1].set_index("position")
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
    assert checks.to_dict()["participants"]["1"]["reversal"]["observed"] == expected.tolist()


def test_integer_ids_stay_integers_and_summary_matches_arviz(tmp_path):
    trials = read_trials(pd.DataFrame({"participant": [7, 7, 7, 3, 3], "rt": 0.5,
                                       "choice": [0, 1, 0, 1, 1], "reward": 1}))
    draws = DEFAULT_PRIORS.sample(2 * 50, seed=4).reshape(2, 50, 5)
    result = fit.FitResult(trials, draws, inf.InferenceConfig(min_trials=2, max_trials=3))
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
        fit.fit_csv(edit(frame(simulated)), model=model, out=out, n_draws=10, n_ppc=5)
    assert no_output(out)


def test_bad_options_and_models_raise_and_write_nothing(model, simulated, tmp_path, monkeypatch):
    out = tmp_path / "out"
    trials = frame(simulated)
    with pytest.raises(ValueError, match="n_draws must be an integer >= 2, got 1"):
        fit.fit_csv(trials, model=model, out=out, n_draws=1)
    with pytest.raises(ValueError, match="model must be a run folder.*'nowhere'"):
        fit.fit_csv(trials, model="nowhere", out=out)
    with pytest.raises(ValueError, match="has no approximator.keras"):
        fit.fit_csv(trials, model=tmp_path, out=out)
    monkeypatch.setattr(fit, "shipped_model", lambda: tmp_path / "models" / "default")
    with pytest.raises(ValueError, match="no shipped model at .*models/default; pass model="):
        fit.fit_csv(trials, out=out)
    assert no_output(out)
    file = tmp_path / "file"
    file.write_text("x")
    with pytest.raises(FileExistsError, match="exists and is not a folder"):
        fit.fit_csv(trials, model=model, out=file, force=True)


def test_existing_output_needs_force_and_a_crash_keeps_it(model, simulated, fitted, tmp_path,
                                                         monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("earlier results")
    trials = frame(simulated)
    with pytest.raises(FileExistsError, match="exists and is not empty; pass force=True"):
        fit.fit_csv(trials, model=model, out=out, n_draws=10)
    with monkeypatch.context() as patch:
        def crash(self, path):
            raise RuntimeError("disk full")

        patch.setattr(fit.PredictiveChecks, "plot_rt_quantiles", crash)
        with pytest.raises(RuntimeError, match="disk full"):
            fit.fit_csv(trials, model=model, out=out, n_draws=10, n_ppc=5, force=True)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no partial folder beside it
    assert [p.name for p in out.iterdir()] == ["old.txt"]
    summary = fit.fit_csv(trials, model=model, out=out, n_draws=N_DRAWS, n_ppc=5, force=True,
                          seed=1)
    assert sorted(p.name for p in out.iterdir()) == sorted(fit.OUTPUT_FILES)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    # the same seed reproduces the draws of the round trip (from the CSV file)
    pd.testing.assert_frame_equal(summary, fitted[1], rtol=1e-6)


def test_command_line_reports_data_errors(simulated, model, tmp_path):
    csv = tmp_path / "trials.csv"
    short_participant(frame(simulated)).to_csv(csv, index=False)
    out = tmp_path / "out"
    with pytest.raises(SystemExit, match=r"rlddm fit: .*'s1' \(10 trials\)"):
        main(["fit", str(csv), "--model", str(model), "--out", str(out), "--draws", "10"])
    assert no_output(out)
