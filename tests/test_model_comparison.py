"""Tests of rlddm.model_comparison on exact fits of simulated selection-task data.

Two data sets of 3 participants x 120 trials: one from ``dual_lr`` with clearly
different learning rates (kappa_pos 0.6, kappa_neg 0.05), one from ``rlddm`` (kappa
0.3); each is fitted by both models, and the rlddm data by rlddm a second time with
another seed, with short chains (800 warm-up, 200 draws per chain; checks relaxed to
R-hat <= 1.3 and ESS >= 10, so that no participant is rerun).
"""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from rlddm.data import simulate_participants
from rlddm.fit import fit_csv
from rlddm.model_comparison import compare_fits, load_fit_loo, write_comparison

K, T = 3, 120
SHORT = dict(method="exact", n_warmup=800, n_draws=200, thin=1, rhat_max=1.3, min_ess=10.0,
             n_jobs=1, n_ppc=5)


def _theta(model):
    common = [np.full(K, 4.0), np.full(K, 1.5), np.full(K, 0.5), np.full(K, 0.3)]
    rates = [np.full(K, 0.6), np.full(K, 0.05)] if model == "dual_lr" else [np.full(K, 0.3)]
    return np.column_stack(common + rates)


@pytest.fixture(scope="module")
def fits(tmp_path_factory):
    """Folders ``{generating}/{fitted}`` for both generating and both fitted models."""
    root = tmp_path_factory.mktemp("compare")
    folders = {}
    for generating in ("dual_lr", "rlddm"):
        frame, _ = simulate_participants(K, T, theta=_theta(generating), model=generating,
                                         design="selection", seed=5)
        frame["participant"] = "p" + frame["participant"].astype(str)
        csv = root / f"{generating}.csv"
        frame.to_csv(csv, index=False)
        for fitted in ("rlddm", "dual_lr"):
            out = root / generating / fitted
            fit_csv(csv, out=out, model=fitted, seed=1, **SHORT)
            folders[generating, fitted] = out
    folders["rlddm", "again"] = root / "rlddm" / "again"
    fit_csv(root / "rlddm.csv", out=folders["rlddm", "again"], model="rlddm", seed=2, **SHORT)
    return folders


@pytest.mark.slow
@pytest.mark.statistical
def test_prefers_the_generating_model(fits):
    """kappa_neg 0.05 against 0.6 leaves losses almost unlearned: on 640 trials the
    one-rate model loses by far more than its standard error (about 10 dse at 1,920)."""
    table, per_participant, _ = compare_fits([fits["dual_lr", "rlddm"], fits["dual_lr", "dual_lr"]])
    assert table["model"].tolist() == ["dual_lr (dual_lr)", "rlddm (rlddm)"]
    assert table["rank"].tolist() == [0, 1]
    worse = table.iloc[1]
    assert worse["elpd_diff"] > 2 * worse["dse"] > 0
    assert worse["n_trials"] == K * T
    assert list(per_participant.columns) == ["participant", "rlddm (rlddm)", "dual_lr (dual_lr)",
                                             "best"]
    assert per_participant["participant"].tolist() == [f"p{k}" for k in range(1, K + 1)]
    assert (per_participant["best"] == "dual_lr (dual_lr)").mean() >= 0.75
    # the per-participant sums add up to the table's elpd
    for label, elpd in zip(table["model"], table["elpd_loo"]):
        assert per_participant[label].sum() == pytest.approx(elpd)


@pytest.mark.slow
@pytest.mark.statistical
def test_equal_fits_differ_by_less_than_two_standard_errors(fits):
    """The same model fitted twice (another seed) differs by Monte Carlo error alone."""
    table, _, _ = compare_fits([fits["rlddm", "rlddm"], fits["rlddm", "again"]])
    worse = table.iloc[1]
    assert abs(worse["elpd_diff"]) <= 2 * worse["dse"]


@pytest.mark.slow
def test_a_nesting_model_pays_for_its_extra_parameter_only(fits):
    """On rlddm data dual_lr nests the truth (kappa_pos = kappa_neg = 0.3) and fits
    as well, but LOO charges its extra, weakly identified rate: about 1 elpd per
    participant (measured 3.0-3.4 with dse about 1 on these 360 trials, whatever the
    chain length). The difference is consistent across participants, so its dse is
    small and it is *not* within 2 dse; what the test checks is that the simpler,
    generating model is preferred and the loss is an order of magnitude below that of
    the misspecified model on the dual_lr data."""
    table, _, _ = compare_fits([fits["rlddm", "rlddm"], fits["rlddm", "dual_lr"]])
    assert table["model"].iloc[0] == "rlddm (rlddm)"
    assert 0 <= table["elpd_diff"].iloc[1] <= 2 * K
    misspecified = compare_fits([fits["dual_lr", "rlddm"], fits["dual_lr", "dual_lr"]])[0]
    assert misspecified["elpd_diff"].iloc[1] > 5 * table["elpd_diff"].iloc[1]


@pytest.mark.slow
def test_loo_of_one_fit_matches_arviz(fits):
    import arviz as az

    idata, loo = load_fit_loo(fits["rlddm", "rlddm"])
    direct = az.loo(idata, var_name="trial")
    assert loo.elpd_loo == pytest.approx(direct.elpd_loo)
    assert idata.log_likelihood["trial"].sizes["obs"] == K * T
    assert set(idata.log_likelihood.coords) >= {"obs_participant", "obs_trial"}


@pytest.mark.slow
def test_write_comparison_writes_the_table(fits, tmp_path):
    out = tmp_path / "comparison"
    text = write_comparison([fits["dual_lr", "rlddm"], fits["dual_lr", "dual_lr"]], out)
    assert text.splitlines()[0].split()[:3] == ["model", "rank", "elpd_loo"]
    assert "best model per participant: dual_lr (dual_lr)" in text
    table = pd.read_csv(out / "comparison.csv")
    assert table["model"].iloc[0] == "dual_lr (dual_lr)"
    assert len(pd.read_csv(out / "comparison_by_participant.csv")) == K
    record = json.loads((out / "comparison.json").read_text())
    assert record["folders"] == [str(fits["dual_lr", "rlddm"]), str(fits["dual_lr", "dual_lr"])]


@pytest.mark.slow
def test_bad_inputs(fits, tmp_path):
    with pytest.raises(ValueError, match="at least two fits to compare, got 1"):
        compare_fits([fits["rlddm", "rlddm"]])
    with pytest.raises(ValueError, match="no fit at .*nowhere"):
        compare_fits([fits["rlddm", "rlddm"], tmp_path / "nowhere"])
    with pytest.raises(ValueError, match="fit different trials"):
        compare_fits([fits["rlddm", "rlddm"], fits["dual_lr", "dual_lr"]])
    with pytest.raises(ValueError, match="two fits are labelled 'rlddm \\(rlddm\\)'"):
        compare_fits([fits["rlddm", "rlddm"], fits["dual_lr", "rlddm"]])
    import arviz as az

    copy = tmp_path / "old"
    copy.mkdir()
    idata = az.from_netcdf(fits["rlddm", "rlddm"] / "posterior.nc")
    del idata.log_likelihood
    idata.to_netcdf(str(copy / "posterior.nc"))
    with pytest.raises(ValueError, match="has no per-trial log_likelihood group"):
        compare_fits([fits["rlddm", "rlddm"], copy])


@pytest.mark.slow
def test_unconverged_participants_are_named_in_the_warnings(fits, tmp_path):
    import arviz as az

    copy = tmp_path / "marked"
    shutil.copytree(fits["rlddm", "dual_lr"], copy)
    idata = az.from_netcdf(fits["rlddm", "dual_lr"] / "posterior.nc")  # not the file written
    idata.posterior.attrs["unconverged"] = json.dumps(["p2"])
    idata.to_netcdf(str(copy / "posterior.nc"))
    _, _, warnings = compare_fits([fits["rlddm", "rlddm"], copy])
    assert any("dual_lr (marked): participant(s) p2 did not converge" in w for w in warnings)


@pytest.mark.slow
def test_a_large_pareto_k_is_reported_once_by_rlddm_not_by_arviz(fits, tmp_path):
    """One trial's log-likelihood made heavy-tailed (-exp(3 z)): its Pareto k is far above
    the threshold (0.66 for 800 draws); the warning list names it and ArviZ's own UserWarning does not reach the user."""
    import warnings

    import arviz as az

    copy = tmp_path / "heavy"
    shutil.copytree(fits["rlddm", "dual_lr"], copy)
    idata = az.from_netcdf(fits["rlddm", "dual_lr"] / "posterior.nc")
    values = idata.log_likelihood["trial"].values.copy()
    z = np.random.default_rng(0).standard_normal(values.shape[:2])
    values[:, :, 0] = -np.exp(3.0 * z)
    idata.log_likelihood["trial"].values[:] = values
    idata.to_netcdf(str(copy / "posterior.nc"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        _, _, found = compare_fits([fits["rlddm", "rlddm"], copy])
    import re

    assert any(re.match(r"dual_lr \(heavy\): \d+ of 360 trials have Pareto k > 0\.\d\d \(max inf\)", w)
               for w in found), found
