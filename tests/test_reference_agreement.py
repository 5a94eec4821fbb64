"""The compiled simulator against the plain-Python reference: exactly and statistically."""

import numpy as np
import pytest
from scipy import stats

import rlddm
from rlddm import reference
from rlddm.model import MODELS, get_model

from .conftest import PARAMETER_SETS

FIELDS = ("rt", "choice", "reward", "outcome", "retries", "lapse", "options", "q")


@pytest.mark.parametrize("name", sorted(PARAMETER_SETS))
def test_same_stream_gives_identical_data(name, outcomes):
    """Both implementations consume one Philox stream per simulation in the same order."""
    theta, max_steps = PARAMETER_SETS[name]
    options = dict(seed=31, max_steps=max_steps, return_q=True, first_index=3)
    compiled = rlddm.simulate(theta, outcomes[:8], **options)
    readable = reference.simulate(theta, outcomes[:8], **options)
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(compiled, field), getattr(readable, field),
                                      err_msg=field)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_identical_missed_responses_and_lapses(name, outcomes):
    """Every model with lapses on six options in three pairs, missed trials included."""
    spec = get_model(name, fixed={"p_outlier": 0.1})
    theta = spec.priors().sample(4, seed=5)
    theta[:, spec.names.index("alpha")] = 2.0
    pairs = np.array([[0, 1], [2, 3], [4, 5]])
    trial_options = pairs[np.random.default_rng(6).integers(0, 3, size=outcomes[:4].shape[:2])]
    options = dict(model=spec, options=trial_options, seed=2, max_steps=60, max_retries=2,
                   return_q=True)
    compiled = rlddm.simulate(theta, outcomes[:4], **options)
    readable = reference.simulate(theta, outcomes[:4], **options)
    assert 0 < compiled.n_missed.sum() < compiled.choice.size
    assert compiled.lapse.any()
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(compiled, field), getattr(readable, field),
                                      err_msg=field)


# Statistical agreement with independent seeds (marked slow: the reference takes about a
# minute for these batches; the bitwise tests above already pin the same code paths for
# every registered model). Each family of comparisons uses a
# Bonferroni threshold for a family-wise false-alarm rate of 1e-4 (|z| > 4.9 over up
# to 61 positions). With N = 2,000 data sets per side, a 2% shift of the dataset mean
# RT is 10-20 SE for seven of the parameter sets (power > 0.9999) and 6.8 SE for
# "start_near_lower" (coefficient of variation 0.093; power 0.97), measured with
# these seeds.
N_DATA_SETS = 2000
Z_CRITICAL = 4.9
KS_ALPHA = 1e-4


def _welch_z(a, b):
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    return (a.mean() - b.mean()) / np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)


def _per_position_z(a, b):
    """Welch z per column (trial position) of two (N, T) arrays; 0 where both constant."""
    se = np.sqrt(a.var(axis=0, ddof=1) / a.shape[0] + b.var(axis=0, ddof=1) / b.shape[0])
    diff = a.mean(axis=0) - b.mean(axis=0)
    return np.divide(diff, se, out=np.zeros_like(diff), where=se > 0)


def discrepancies(first, second):
    """Names of the statistics on which two simulated batches differ significantly."""
    found = []
    if abs(_welch_z(np.nanmean(first.rt, 1), np.nanmean(second.rt, 1))) > Z_CRITICAL:
        found.append("mean RT")
    if np.max(np.abs(_per_position_z(first.choice == 0, second.choice == 0))) > Z_CRITICAL:
        found.append("choice proportion per trial")
    for side in (0, 1):
        rt_first = np.where(first.choice == side, first.rt, np.nan)
        rt_second = np.where(second.choice == side, second.rt, np.nan)
        with np.errstate(invalid="ignore"):
            mean_first, mean_second = np.nanmean(rt_first, 1), np.nanmean(rt_second, 1)
        if abs(_welch_z(mean_first, mean_second)) > Z_CRITICAL:
            found.append(f"mean RT of choice {side}")
        # One trial per data set (position b % T) keeps the KS samples independent.
        position = np.arange(first.rt.shape[0]) % first.rt.shape[1]
        rows = np.arange(first.rt.shape[0])
        sample_first = rt_first[rows, position]
        sample_second = rt_second[rows, position]
        sample_first = sample_first[np.isfinite(sample_first)]
        sample_second = sample_second[np.isfinite(sample_second)]
        if min(sample_first.size, sample_second.size) > 50 and \
                stats.ks_2samp(sample_first, sample_second).pvalue < KS_ALPHA / 2:
            found.append(f"RT distribution of choice {side}")
    if np.max(np.abs(_per_position_z(first.q[:, :, 0], second.q[:, :, 0]))) > Z_CRITICAL:
        found.append("mean Q trajectory")
    retries_first, retries_second = first.retries.sum(1), second.retries.sum(1)
    if retries_first.any() or retries_second.any():
        if abs(_welch_z(retries_first.astype(float), retries_second.astype(float))) > Z_CRITICAL:
            found.append("retry rate")
    return found


@pytest.fixture(scope="module")
def many_outcomes():
    return rlddm.ReversalDesign().sample(N_DATA_SETS, seed=7)


@pytest.mark.statistical
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PARAMETER_SETS))
def test_distributions_agree_with_independent_seeds(name, many_outcomes):
    theta, max_steps = PARAMETER_SETS[name]
    compiled = rlddm.simulate(theta, many_outcomes, seed=1, max_steps=max_steps, return_q=True)
    readable = reference.simulate(theta, many_outcomes, seed=2, max_steps=max_steps,
                                  return_q=True)
    assert discrepancies(compiled, readable) == []


@pytest.mark.statistical
@pytest.mark.slow
def test_comparison_catches_a_two_percent_slower_model(many_outcomes):
    """Negative control: a reference with alpha raised 1% (mean RT up about 2%) is caught."""
    theta, max_steps = PARAMETER_SETS["weak_drift"]
    shifted = np.array(theta) * [1, 1.01, 1, 1, 1]
    compiled = rlddm.simulate(theta, many_outcomes, seed=1, return_q=True)
    wrong = reference.simulate(shifted, many_outcomes, seed=2, return_q=True)
    assert np.nanmean(wrong.rt) / np.nanmean(compiled.rt) - 1 < 0.03
    assert "mean RT" in discrepancies(compiled, wrong)


@pytest.mark.statistical
@pytest.mark.slow
def test_comparison_catches_a_shifted_drift(many_outcomes):
    """Negative control: drift scaled by 1.1 changes choice proportions detectably."""
    theta, _ = PARAMETER_SETS["kappa_one"]
    compiled = rlddm.simulate(theta, many_outcomes, seed=1, return_q=True)
    wrong = reference.simulate(np.array(theta) * [1.1, 1, 1, 1, 1], many_outcomes, seed=2,
                               return_q=True)
    assert discrepancies(compiled, wrong) != []
