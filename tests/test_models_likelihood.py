"""Every registered model's likelihood: calibration, lapses, options, reductions, bad input.

Statistics. The PIT tests simulate 40 data sets of 60 trials (2,400 answered trials)
with ``method="exact"``, the continuous-time process the likelihood describes, and
KS-test the probability integral transforms of the RTs against the uniform at level
0.01 (fixed seeds: each case is reproducible; for a correct likelihood one case in a
hundred would fail by chance). The negative control, boundary separation 15 % too
large, moves the PITs by a KS distance of 0.11-0.13 on these data, 3.4 to 4 times the
1 % critical value 1.63 / sqrt(2400) = 0.033, so it is rejected with power ~1; with
lapses, the decision-only PIT (lapses ignored) is the second control. The lapse
mixture is integrated with quad (~1e-10 here) over RT and both choices.
"""

import re

import numpy as np
import pytest
from scipy import integrate, stats

import rlddm
from rlddm.likelihood import (log_prob_response, loglik, loglik_batch, loglik_trials, rt_pit,
                              wfpt_logpdf)
from rlddm.model import MODELS, get_model

KS_LEVEL = 0.01
# One value per parameter name, used by every model that has it.
TRUTH = {"drift": 3.0, "alpha": 1.2, "beta": 0.55, "ter": 0.3, "kappa": 0.4, "kappa_pos": 0.5,
         "kappa_neg": 0.2, "phi": 0.3, "v_max": 4.0, "p_outlier": 0.1}
PAIRS = np.array([[0, 1], [2, 3], [4, 5]], dtype=np.int32)
PAIR_PROBABILITIES = np.array([[0.8, 0.2], [0.7, 0.3], [0.6, 0.4]])


def truth_of(spec):
    return np.array([TRUTH[name] for name in spec.names])


def selection_task(n, n_trials, seed):
    """Six options in three pairs, interleaved at random; Bernoulli outcomes per option.

    Returns outcomes (n, T, 2) of the presented options and options (n, T, 2).
    """
    rng = np.random.default_rng(seed)
    pair = rng.integers(0, len(PAIRS), (n, n_trials))
    options = PAIRS[pair]
    outcomes = (rng.random((n, n_trials, 2)) < PAIR_PROBABILITIES[pair]).astype(float)
    return outcomes, options


def lapse_model():
    return get_model("rlddm", free=("p_outlier",))


CASES = {name: (lambda name=name: get_model(name), False) for name in MODELS}
CASES["rlddm, p_outlier free"] = (lapse_model, False)
CASES["dual_lr, p_outlier free, 6 options"] = (lambda: get_model("dual_lr", free=("p_outlier",)), True)
CASES["rlddm, 6 options"] = (lambda: get_model("rlddm"), True)


@pytest.fixture(scope="module", params=sorted(CASES))
def simulated(request):
    """(spec, theta, data, options) for one case: 40 exact data sets of 60 trials."""
    make, six_options = CASES[request.param]
    spec = make()
    theta = truth_of(spec)
    if six_options:
        outcomes, options = selection_task(40, 60, seed=3)
    else:
        outcomes, options = rlddm.ReversalDesign().sample(40, n_trials=60, seed=3), None
    data = rlddm.simulate(theta, outcomes, model=spec, options=options, seed=4, method="exact")
    return spec, theta, data, options


# ----------------------------------------------------------------------------------
# Calibration: PIT of exact simulations
# ----------------------------------------------------------------------------------


def answered_pit(spec, theta, data, options):
    u = rt_pit(theta, data.rt, data.choice, data.reward, model=spec, options=options)
    return u[data.choice >= 0]


@pytest.mark.statistical
def test_pit_of_exact_simulations_is_uniform(simulated):
    spec, theta, data, options = simulated
    u = answered_pit(spec, theta, data, options)
    assert u.size > 2000 and np.all((u >= 0) & (u <= 1))
    assert stats.kstest(u, "uniform").pvalue > KS_LEVEL


@pytest.mark.statistical
def test_pit_detects_a_wrong_parameter(simulated):
    spec, theta, data, options = simulated
    wrong = theta.copy()
    wrong[spec.names.index("alpha")] *= 1.15
    u = answered_pit(spec, wrong, data, options)
    critical = 1.63 / np.sqrt(u.size)
    result = stats.kstest(u, "uniform")
    assert result.statistic > 3 * critical and result.pvalue < 1e-6


@pytest.mark.statistical
def test_pit_without_the_lapses_is_detected():
    """10 % lapses, PIT of the decision component alone: rejected (lapse RTs faster than
    ter have PIT 0, the late ones 1)."""
    spec = lapse_model()
    theta = truth_of(spec)
    data = rlddm.simulate(theta, rlddm.ReversalDesign().sample(40, n_trials=60, seed=3),
                          model=spec, seed=4, method="exact")
    decision_only = answered_pit(get_model("rlddm"), theta[:-1], data, None)
    assert stats.kstest(decision_only, "uniform").pvalue < 1e-6


# ----------------------------------------------------------------------------------
# Lapse mixture: normalised, and the stated formula
# ----------------------------------------------------------------------------------

# (model, theta, max_steps at dt = 0.01): short deadlines, so that the normaliser
# P(decision < t_max) matters; both drift directions; both drift maps.
MIXTURES = [
    (lambda: get_model("rlddm", free=("p_outlier",)), [2.0, 1.1, 0.45, 0.3, 0.6, 0.2], 100),
    (lambda: get_model("dual_lr", fixed={"p_outlier": 0.05}), [-3.0, 0.8, 0.7, 0.15, 0.9, 0.1], 50),
    (lambda: get_model("sigmoid_drift", free=("p_outlier",)), [5.0, 1.5, 0.3, 0.5, 0.3, 4.0, 0.5],
     200),
]


def second_trial_density(spec, theta, rt, choice, max_steps):
    """Density of trial 2 (RT ``rt``, boundary ``choice``) after an answered, rewarded trial 1
    (so that its drift is not 0)."""
    per_trial = loglik_trials(theta, [0.5, rt], [0, choice], [1.0, 0.0], model=spec,
                              max_steps=max_steps)
    return np.exp(per_trial[1])


def second_trial_by_formula(spec, theta, rt, choice, max_steps):
    """``(1 - p) f(rt - ter | choice) / P(T < t_max) [rt - ter <= t_max]
    + p / 2 / t_max [0 <= rt <= t_max]``, with the drift after trial 1 worked out by hand."""
    full = dict(zip(spec.parameter_names, spec.full_theta(np.asarray(theta, dtype=float))))
    rate = full.get("kappa", full.get("kappa_pos"))  # the error 1 - 0.5 is positive
    q_difference = rate * (1.0 - 0.5)
    if spec.name == "sigmoid_drift":
        v = 0.5 * full["v_max"] * np.tanh(0.5 * full["drift"] * q_difference)
    else:
        v = full["drift"] * q_difference
    t_max, p = max_steps * 0.01, full["p_outlier"]
    decision = np.exp(wfpt_logpdf(rt - full["ter"], choice, v, full["alpha"], full["beta"])
                      - log_prob_response(v, full["alpha"], full["beta"], t_max))
    in_time = rt - full["ter"] <= t_max
    return (1 - p) * decision * in_time + p * 0.5 / t_max * ((rt >= 0) & (rt <= t_max))


MIXTURE_IDS = ["rlddm+p_outlier", "dual_lr[p_outlier=0.05]", "sigmoid_drift+p_outlier"]


@pytest.mark.parametrize("make, theta, max_steps", MIXTURES, ids=MIXTURE_IDS)
def test_lapse_mixture_integrates_to_one(make, theta, max_steps):
    """Over RT in [0, t_max + ter] and both choices, split where the density has kinks
    (ter, t_max); quad's error estimates are below 1e-10."""
    spec = make()
    t_max, ter = max_steps * 0.01, theta[spec.names.index("ter")]
    edges = sorted({0.0, ter, t_max, t_max + ter})
    total = 0.0
    for choice in (0, 1):
        for low, high in zip(edges[:-1], edges[1:]):
            value, error = integrate.quad(
                lambda rt: second_trial_density(spec, theta, rt, choice, max_steps), low, high,
                epsabs=1e-12, epsrel=1e-11, limit=200)
            assert error < 1e-9
            total += value
    assert total == pytest.approx(1.0, abs=1e-8)


@pytest.mark.parametrize("make, theta, max_steps", MIXTURES, ids=MIXTURE_IDS)
def test_lapse_mixture_matches_the_stated_formula(make, theta, max_steps):
    spec = make()
    t_max, ter = max_steps * 0.01, theta[spec.names.index("ter")]
    rts = np.array([0.0, 0.5 * ter, ter + 0.01, ter + 0.3 * t_max, t_max, t_max + 0.5 * ter,
                    t_max + 2 * ter])
    for choice in (0, 1):
        got = np.array([second_trial_density(spec, theta, rt, choice, max_steps) for rt in rts])
        expected = second_trial_by_formula(spec, theta, rts, choice, max_steps)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0.0)
    # an RT faster than ter is a lapse, not impossible; beyond both windows it is
    assert got[1] > 0 and got[-1] == 0


def test_without_lapses_an_rt_faster_than_ter_is_impossible():
    rt, choice, reward = [0.5, 0.2], [0, 1], [1.0, 0.0]
    theta = [2.0, 1.1, 0.45, 0.3, 0.6]
    assert loglik(theta, rt, choice, reward) == -np.inf
    with_p = get_model("rlddm", free=("p_outlier",))
    assert np.isfinite(loglik(theta + [0.1], rt, choice, reward, model=with_p))
    # p_outlier = 0 through the lapse model is the model without lapses, exactly
    rt = [0.5, 0.9]
    np.testing.assert_array_equal(loglik_trials(theta + [0.0], rt, choice, reward, model=with_p),
                                  loglik_trials(theta, rt, choice, reward))


# ----------------------------------------------------------------------------------
# Reductions: one model as a special case of another
# ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reversal_data():
    """Three exact rlddm data sets of 80 trials; a missed trial and a trial without feedback."""
    outcomes = rlddm.ReversalDesign().sample(3, n_trials=80, seed=5)
    data = rlddm.simulate([2.5, 1.0, 0.5, 0.25, 0.35], outcomes, seed=6, method="exact")
    choice, reward = data.choice.copy(), data.reward.copy()
    choice[0, 10] = -1
    reward[1, 20] = np.nan
    return data.rt, choice, reward


ROWS = np.array([[2.0, 1.2, 0.5, 0.2, 0.3], [-1.5, 0.8, 0.4, 0.1, 0.7], [0.7, 1.6, 0.6, 0.15, 0.0]])


def per_trial(theta, data, **kwargs):
    rt, choice, reward = data
    return np.stack([loglik_trials(theta, rt[d], choice[d], reward[d], **kwargs)
                     for d in range(rt.shape[0])])


def test_fixed_parameter_equals_passing_its_value(reversal_data):
    fixed = get_model("rlddm", fixed={"beta": 0.5})
    assert fixed.names == ("drift", "alpha", "ter", "kappa")
    full = ROWS.copy()
    full[:, 2] = 0.5
    np.testing.assert_array_equal(per_trial(np.delete(ROWS, 2, axis=1), reversal_data, model=fixed),
                                  per_trial(full, reversal_data))


def test_dual_rates_equal_is_rlddm(reversal_data):
    dual = np.insert(ROWS, 5, ROWS[:, 4], axis=1)  # kappa_pos = kappa_neg = kappa
    np.testing.assert_array_equal(per_trial(dual, reversal_data, model="dual_lr"),
                                  per_trial(ROWS, reversal_data))


def test_forgetting_rate_zero_is_rlddm(reversal_data):
    forgetting = np.insert(ROWS, 5, 0.0, axis=1)
    np.testing.assert_array_equal(per_trial(forgetting, reversal_data, model="forgetting"),
                                  per_trial(ROWS, reversal_data))
    # and a forgetting rate above 0 does change the likelihood
    forgetting[:, 5] = 0.5
    assert not np.allclose(per_trial(forgetting, reversal_data, model="forgetting"),
                           per_trial(ROWS, reversal_data))


def test_the_same_two_options_on_every_trial_is_options_none(reversal_data):
    n_trials = reversal_data[0].shape[1]
    expected = per_trial(ROWS, reversal_data)
    for options, n_options in (([[0, 1]] * n_trials, None), ([[2, 3]] * n_trials, 6)):
        np.testing.assert_array_equal(
            per_trial(ROWS, reversal_data, options=np.array(options), n_options=n_options), expected)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_sum_trials_batch_agree(name, reversal_data):
    """The contract over the registry: loglik is the sum of loglik_trials, loglik_batch the
    same core batched (to rounding: truncation adapts to what is evaluated together)."""
    spec = get_model(name, free=("p_outlier",))
    rows = np.array([truth_of(spec), truth_of(spec) * 0.9])
    rt, choice, reward = reversal_data
    total = np.stack([loglik(rows, rt[d], choice[d], reward[d], model=spec) for d in range(3)])
    np.testing.assert_allclose(per_trial(rows, reversal_data, model=spec).sum(axis=-1), total,
                               rtol=1e-14)
    batch = loglik_batch(np.stack([rows] * 3), rt, choice, reward, model=spec)
    assert batch.shape == (3, 2) and np.all(np.isfinite(batch))
    np.testing.assert_allclose(batch, total, rtol=1e-13)


# ----------------------------------------------------------------------------------
# Several options: the likelihood finds the truth
# ----------------------------------------------------------------------------------


def test_loglik_with_six_options_peaks_near_the_truth():
    """900 exact trials of three interleaved pairs; profile over drift.

    The profile's curvature at its peak gives the drift's standard error (0.13 here,
    under a twentieth of the truth, so the check has power against a drift off by 20 %);
    the peak must lie within 4 of them. Ignoring the pairs (options=None: every trial
    the same two Q-values) must fit far worse at the truth (by 183 here).
    """
    spec = get_model("rlddm")
    truth = truth_of(spec)
    outcomes, options = selection_task(1, 900, seed=7)
    data = rlddm.simulate(truth, outcomes, model=spec, options=options, seed=8, method="exact")
    args = data.rt[0], data.choice[0], data.reward[0]
    grid = truth[0] * np.linspace(0.5, 1.5, 41)
    rows = np.repeat(truth[None], grid.size, axis=0)
    rows[:, 0] = grid
    profile = loglik(rows, *args, options=options[0])
    peak = int(np.argmax(profile))
    assert 0 < peak < grid.size - 1
    curvature = np.polyfit(grid[peak - 3:peak + 4], profile[peak - 3:peak + 4], 2)[0]
    standard_error = 1 / np.sqrt(-2 * curvature)
    assert standard_error < 0.05 * truth[0]
    assert abs(grid[peak] - truth[0]) < 4 * standard_error
    assert loglik(truth, *args) < loglik(truth, *args, options=options[0]) - 20


# ----------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------

GOOD = dict(theta=[2.0, 1.0, 0.5, 0.2, 0.3], rt=[0.5, 0.6, 0.7], choice=[0, 1, 0], reward=[1.0, 0.0, 1.0])


@pytest.mark.parametrize(
    "change, match",
    [
        (dict(model="q_learning"),
         "model must be one of " + re.escape(str(list(MODELS))) + r" \(or a ModelSpec\), got 'q_learning'"),
        (dict(model="dual_lr"),
         r"theta must have shape \(6,\) or \(B, 6\) with B >= 1 for model 'dual_lr' \(order drift, "
         r"alpha, beta, ter, kappa_pos, kappa_neg\), got shape \(5,\)"),
        (dict(options=[[0, 1, 2]] * 3), r"options must have shape \(T, 2\) or \(B, T, 2\)"),
        (dict(options=[[0, 1]] * 4), r"options must have shape \(T, 2\) or \(B, T, 2\) with T = 3"),
        (dict(options=[[0.0, 1.0]] * 3), r"options must be an integer array, got dtype float64"),
        (dict(options=[[0, 1], [-1, 2], [0, 1]]), r"options must be >= 0, got \[-1, 2\] at \(data set, trial\) \(0, 1\)"),
        (dict(options=[[0, 1], [2, 2], [0, 1]]),
         r"options must name two different options per trial, got \[2, 2\] at \(data set, trial\) "
         r"\(0, 1\)"),
        (dict(options=[[0, 1], [2, 3], [0, 1]], n_options=3), r"options must be < n_options = 3, got 3"),
        (dict(options=[[[0, 1]] * 3] * 2), r"options must have shape \(T, 2\) or \(1, T, 2\) for 1 data sets"),
        (dict(n_options=1), r"n_options must be an integer >= 2, got 1"),
    ],
)
def test_bad_model_and_options_raise(change, match):
    args = GOOD | change
    theta, rt, choice, reward = (args.pop(k) for k in ("theta", "rt", "choice", "reward"))
    for function in (loglik, loglik_trials, rt_pit):
        with pytest.raises(ValueError, match=match):
            function(theta, rt, choice, reward, **args)


def test_batch_options_must_match_the_data_sets():
    rt, choice, reward = (np.array([GOOD[k]] * 2) for k in ("rt", "choice", "reward"))
    theta = np.array([[GOOD["theta"]]] * 2)
    with pytest.raises(ValueError, match=r"options must have shape \(T, 2\) or \(2, T, 2\)"):
        loglik_batch(theta, rt, choice, reward, options=np.zeros((3, 3, 2), dtype=int) + [0, 1])
    with pytest.raises(ValueError, match=r"theta must have shape \(2, S, 6\) for 2 data sets and "
                                         r"model 'dual_lr'"):
        loglik_batch(theta, rt, choice, reward, model="dual_lr")
    with pytest.raises(ValueError, match=r"data set 1: reward must be a finite number"):
        loglik_batch(theta, rt, choice, np.array([[1.0, 0, 1], [1.0, np.inf, 1]]))
