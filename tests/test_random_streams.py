"""The kernel's random numbers: NumPy's Philox streams and ziggurat normals, per simulation."""

import numpy as np
import pytest
from scipy import stats

import rlddm
from rlddm.simulator import _sim
from rlddm._seeding import stream_generator, stream_key


def _kernel_normals(key, index, n):
    out = np.empty(n)
    _sim.stream_normals(*key, index, out)
    return out


def test_kernel_normals_equal_numpy_philox_stream():
    for seed, index in [(0, 0), (1, 7), (2**40, 2**63 + 5)]:
        key = stream_key(seed)
        expected = stream_generator(key, index).standard_normal(100_000)
        np.testing.assert_array_equal(_kernel_normals(key, index, 100_000), expected)


@pytest.mark.statistical
def test_kernel_normals_are_standard_normal():
    """10^6 draws: KS at alpha = 1e-4; mean/variance z-tests at 5 SE.

    A sampler off by 0.01 in mean or 0.5% in standard deviation fails (10 and 7 SE).
    """
    draws = _kernel_normals(stream_key(123), 0, 1_000_000)
    assert stats.kstest(draws, "norm").pvalue > 1e-4
    standard_error = 1 / np.sqrt(draws.size)
    assert abs(draws.mean()) < 5 * standard_error
    assert abs(draws.var() - 1) < 5 * np.sqrt(2) * standard_error
    # Negative control: the same test rejects a 0.5% scale error.
    assert stats.kstest(draws * 1.005, "norm").pvalue < 1e-4 or \
        abs((draws * 1.005).var() - 1) > 5 * np.sqrt(2) * standard_error


def test_streams_of_neighbouring_simulations_are_uncorrelated():
    """Correlation of 10^5 pairs has SE 0.0032: |r| < 0.016 is a 5 SE bound."""
    key = stream_key(99)
    first, second = (_kernel_normals(key, i, 100_000) for i in (0, 1))
    assert abs(np.corrcoef(first, second)[0, 1]) < 0.016
    assert not np.array_equal(first[:10], second[:10])


def test_stream_key_depends_on_seed_only():
    assert stream_key(5) == stream_key(np.random.SeedSequence(5))
    assert stream_key(5) != stream_key(6)


def test_lapse_draws_are_the_streams_uniforms():
    """p_outlier near 1: each trial takes three of Generator.random()'s doubles in order.

    Lapse test u < p_outlier, choice 0 if the second is < 0.5, RT = third * deadline.
    """
    p_outlier, t_max = 1 - 1e-12, 900 * 0.01
    model = rlddm.model.get_model("rlddm", fixed={"p_outlier": p_outlier})
    result = rlddm.simulate([1.0, 1.0, 0.5, 0.3, 0.5], np.zeros((2, 50, 2)), model=model,
                            seed=17, first_index=4)
    assert result.lapse.all()
    key = stream_key(17)
    for b in range(2):
        uniforms = stream_generator(key, 4 + b).random((50, 3))
        assert np.all(uniforms[:, 0] < p_outlier)
        np.testing.assert_array_equal(result.choice[b], np.where(uniforms[:, 1] < 0.5, 0, 1))
        np.testing.assert_array_equal(result.rt[b], uniforms[:, 2] * t_max)
