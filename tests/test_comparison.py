"""The amortized-vs-exact comparison: its distance, its refusals, and an end-to-end run."""

import json

import numpy as np
import pytest

import rlddm.inference as inf
from rlddm.comparison import compare_with_reference, mmd_squared
from rlddm.posterior import reference_run
from rlddm.priors import Prior, Priors


def test_mmd_is_near_zero_for_one_distribution_and_positive_for_a_shift():
    """400 vs 400 draws in 5 dimensions: a 0.5 SD shift gives MMD^2 about 0.02, 10x noise."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((2, 400, 5))
    same = mmd_squared(x, y)
    shifted = mmd_squared(x, y + 0.5)
    assert abs(same) < 0.005
    assert shifted > 0.01 and shifted > 4 * abs(same)


@pytest.fixture(scope="module")
def reference_and_model(tmp_path_factory):
    reference = tmp_path_factory.mktemp("reference")
    reference_run(reference, n=4, n_trials=30, seed=1, n_draws=200, n_warmup=1000)
    run = tmp_path_factory.mktemp("run")
    config = inf.InferenceConfig(min_trials=30, max_trials=30, summary_dim=4, recurrent_units=8,
                                 epochs=1, batches_per_epoch=3, batch_size=8)
    return reference, inf.train(config, run, verbose=0), run


def test_comparison_writes_its_summary(reference_and_model):
    reference, posterior, run = reference_and_model
    # the reference records its own length (30) in its design; only the schedule must match
    assert json.loads((reference / "reference.json").read_text())["design"]["n_trials"] == 30
    result = compare_with_reference(posterior, reference, run, n_samples=200, mmd_draws=50)
    summary = result["summary"]
    assert summary["n_datasets"] + summary["n_excluded"] == 4
    for values in summary["parameters"].values():
        assert values["median_mean_gap_in_exact_sd"] >= 0
        assert values["median_sd_ratio"] > 0
    stored = json.loads((run / "against_reference.json").read_text())
    assert stored["summary"] == json.loads(json.dumps(summary))


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
