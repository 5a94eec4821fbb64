"""The amortized-vs-exact comparison: its distance, its refusals, and an end-to-end run."""

import json

import numpy as np
import pytest

import rlddm.inference as inf
from rlddm.comparison import compare_with_reference, mmd_squared
from rlddm.posterior import reference_run
from rlddm.priors import Prior, Priors


@pytest.mark.statistical
def test_mmd_is_near_zero_for_one_distribution_and_positive_for_a_shift():
    """400 vs 400 draws in 5 dimensions: a 0.5 SD shift gives MMD^2 about 0.02, 10x noise."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((2, 400, 5))
    same = mmd_squared(x, y)
    shifted = mmd_squared(x, y + 0.5)
    assert abs(same) < 0.005
    assert shifted > 0.01 and shifted > 4 * abs(same)


@pytest.fixture(scope="module")
def reference_and_model(tmp_path_factory, tiny_network):
    reference = tmp_path_factory.mktemp("reference")
    reference_run(reference, n=4, n_trials=30, seed=1, n_draws=200, n_warmup=1000)
    run = tmp_path_factory.mktemp("run")
    config = inf.InferenceConfig(min_trials=30, max_trials=30, **(tiny_network | {"epochs": 1}))
    return reference, inf.train(config, run, verbose=0), run


@pytest.mark.slow
def test_comparison_writes_its_summary(reference_and_model):
    reference, posterior, run = reference_and_model
    # the reference records its own length (30) in its design; only the schedule must match
    assert json.loads((reference / "reference.json").read_text())["design"]["n_trials"] == 30
    result = compare_with_reference(posterior, reference, run, n_samples=200, mmd_draws=50)
    summary = result["summary"]
    assert summary["n_datasets"] + summary["n_excluded"] == 4
    assert set(summary["parameters"]) == set(posterior.config.priors.names)
    stored = json.loads((run / "against_reference.json").read_text())
    assert stored["summary"] == json.loads(json.dumps(summary))


class KnownDraws:
    """An amortized posterior stand-in: the exact draws of each data set, moved by ``shift``
    exact SDs and spread ``spread`` times as wide, so the gaps and SD ratios are known."""

    def __init__(self, config, reference, shift, spread):
        self.config = config
        data = np.load(reference / "reference.npz")
        self.rt = data["rt"]
        self.draws = data["draws"].reshape(len(self.rt), -1, data["draws"].shape[-1])
        mean = self.draws.mean(axis=1, keepdims=True)
        sd = self.draws.std(axis=1, ddof=1, keepdims=True)
        self.draws = mean + shift * sd + spread * (self.draws - mean)

    def sample(self, rt, choice, reward, *, n_samples, seed):
        rows = [int(np.flatnonzero((self.rt == row).all(axis=1))[0]) for row in rt]
        return self.draws[rows, :n_samples]


@pytest.mark.slow
@pytest.mark.parametrize("shift, spread", [(0.0, 1.0), (0.5, 2.0), (-1.5, 0.25)])
def test_comparison_measures_known_gaps_and_sd_ratios(reference_and_model, tmp_path, shift,
                                                      spread):
    reference, posterior, _ = reference_and_model
    known = KnownDraws(posterior.config, reference, shift, spread)
    summary = compare_with_reference(known, reference, tmp_path, n_samples=known.draws.shape[1],
                                     mmd_draws=50)["summary"]
    for name, values in summary["parameters"].items():
        assert values["median_mean_gap_in_exact_sd"] == pytest.approx(abs(shift), abs=1e-9), name
        assert values["p90_mean_gap_in_exact_sd"] == pytest.approx(abs(shift), abs=1e-9), name
        assert values["median_sd_ratio"] == pytest.approx(spread, rel=1e-9), name
        assert values["meets_targets"] == (abs(shift) <= 0.2 and
                                           values["r_amortized"] >= values["r_exact"] - 0.03)
        if shift == 0.0 and spread == 1.0:  # the same draws: the same recovery
            assert values["r_amortized"] == pytest.approx(values["r_exact"], abs=1e-12)
    if shift != 0.0:  # moved draws stand out from the exact ones more than its two halves do
        assert summary["median_mmd2"] > summary["median_mmd2_exact_halves"]


@pytest.mark.slow
def test_comparison_refuses_another_method_or_prior(reference_and_model, tmp_path):
    reference, posterior, run = reference_and_model
    info = json.loads((reference / "reference.json").read_text())
    other = tmp_path / "other"
    other.mkdir()
    (other / "reference.npz").write_bytes((reference / "reference.npz").read_bytes())
    (other / "reference.json").write_text(json.dumps(info | {"method": "euler"}))
    with pytest.raises(ValueError, match="like with like"):
        compare_with_reference(posterior, other, run)
    positive = Priors.default().replace(drift=Prior.normal(0.0, 2.0, lower=0.0))
    (other / "reference.json").write_text(json.dumps(info | {"priors": positive.to_dict()}))
    with pytest.raises(ValueError, match="other priors"):
        compare_with_reference(posterior, other, run)
    other_schedule = info["design"] | {"reversal_every": 10}
    (other / "reference.json").write_text(json.dumps(info | {"design": other_schedule}))
    with pytest.raises(ValueError, match="differs from the trained design"):
        compare_with_reference(posterior, other, run)
    with pytest.raises(ValueError, match="has no reference.npz"):
        compare_with_reference(posterior, tmp_path, run)
