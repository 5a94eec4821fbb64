"""Reversal designs: schedule, sampling and validation."""

import numpy as np
import pytest

import rlddm
from rlddm import ReversalDesign, reversal_outcomes


def test_default_design_reverses_at_positive_multiples_of_12():
    probabilities = ReversalDesign().probabilities()
    assert probabilities.shape == (60, 2)
    changes = np.flatnonzero(np.diff(probabilities[:, 0])) + 1
    np.testing.assert_array_equal(changes, [12, 24, 36, 48])
    np.testing.assert_array_equal(probabilities[0], [0.8, 0.2])
    np.testing.assert_array_equal(probabilities[12], [0.2, 0.8])
    np.testing.assert_array_equal(ReversalDesign().reversal_phase()[10:14], [10, 11, 0, 1])


def test_no_reversals():
    design = ReversalDesign((0.7, 0.3), reversal_every=0, n_trials=30)
    assert np.all(design.probabilities() == [0.7, 0.3])
    np.testing.assert_array_equal(design.reversal_phase(), np.arange(30))


def test_sample_frequencies_match_probabilities():
    """20,000 matrices: per-block frequency SE is below 0.0013, so 0.01 is > 7 SE."""
    design = ReversalDesign()
    sample = design.sample(20_000, seed=1)
    assert sample.shape == (20_000, 60, 2) and sample.dtype == np.int8
    expected = design.probabilities()
    observed = sample.mean(axis=0)
    for block in range(5):
        rows = slice(12 * block, 12 * block + 12)
        np.testing.assert_allclose(observed[rows].mean(axis=0), expected[rows].mean(axis=0),
                                   atol=0.01)


def test_sample_is_seeded_and_batched():
    first = reversal_outcomes(8, 20, seed=3)
    np.testing.assert_array_equal(first, reversal_outcomes(8, 20, seed=3))
    assert first.shape == (8, 20, 2)
    assert not np.array_equal(first, reversal_outcomes(8, 20, seed=4))


def test_round_trip_dict():
    design = ReversalDesign((0.9, 0.1), 10, 40)
    assert ReversalDesign.from_dict(design.to_dict()) == design


@pytest.mark.parametrize("kwargs, message", [
    ({"reward_probabilities": (0.8, 1.2)}, "reward_probabilities"),
    ({"reward_probabilities": (0.8,)}, "reward_probabilities"),
    ({"reversal_every": -1}, "reversal_every"),
    ({"n_trials": 0}, "n_trials"),
    ({"n_trials": 2.5}, "n_trials"),
])
def test_bad_design_raises(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ReversalDesign(**kwargs)


def test_bad_sample_size_raises():
    with pytest.raises(ValueError, match="n must be"):
        rlddm.ReversalDesign().sample(0)


def test_same_task_ignores_the_default_length_only():
    design = ReversalDesign()
    assert design.same_task(ReversalDesign(n_trials=240))
    assert not design.same_task(ReversalDesign(reversal_every=10))
    assert not design.same_task(ReversalDesign(reward_probabilities=(0.7, 0.3)))
    assert not design.same_task("design")
