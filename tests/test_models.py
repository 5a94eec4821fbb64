"""Registry contract: every entry of ``rlddm.model.MODELS`` through the same simulator checks.

Each model runs with and without lapses on two multi-option designs: a selection-like
design (six options, pairs (0, 1), (2, 3), (4, 5) randomly interleaved) and a four-option
design with changing pairs (all six pairs of four options in random order). Exact
properties of the learning rules and drift maps follow, then the lapse law and bad input.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

import rlddm
from rlddm import reference
from rlddm.simulator import _sim
from rlddm.model import MODELS, SLOTS, DriftMap, get_model

FIELDS = ("rt", "choice", "reward", "outcome", "retries", "lapse", "options", "q")
N_TRIALS = 36


def three_pairs(n_sets: int, seed: int) -> np.ndarray:
    """Options (0, 1), (2, 3), (4, 5) randomly interleaved, shape (n_sets, N_TRIALS, 2)."""
    pairs = np.array([[0, 1], [2, 3], [4, 5]])
    return pairs[np.random.default_rng(seed).integers(0, 3, size=(n_sets, N_TRIALS))]


def four_options(n_sets: int, seed: int) -> np.ndarray:
    """All six pairs of four options, in random order and orientation."""
    rng = np.random.default_rng(seed)
    pairs = np.array(list(itertools.combinations(range(4), 2)))
    chosen = pairs[rng.integers(0, len(pairs), size=(n_sets, N_TRIALS))]
    flip = rng.random((n_sets, N_TRIALS)) < 0.5
    return np.where(flip[..., None], chosen[..., ::-1], chosen)


DESIGNS = {"three_pairs": three_pairs, "four_options": four_options}


def design_outcomes(n_sets: int, seed: int) -> np.ndarray:
    """0/1 outcomes with a few trials without feedback (NaN) at the end."""
    outcomes = np.random.default_rng(seed).integers(0, 2, size=(n_sets, N_TRIALS, 2)) * 1.0
    outcomes[:, -4:] = np.nan
    return outcomes


def model_theta(name: str, p_outlier: float, n: int, seed: int):
    """(spec, theta) for a registered model with p_outlier fixed, theta from its priors."""
    spec = get_model(name, fixed={"p_outlier": p_outlier})
    return spec, spec.priors().sample(n, seed=seed)


def assert_same(first, second):
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(first, field), getattr(second, field),
                                      err_msg=field)


CASES = list(itertools.product(sorted(MODELS), (0.0, 0.1), sorted(DESIGNS)))


def test_kernel_slots_and_drift_maps_match_the_specification():
    assert _sim.SLOTS == SLOTS
    assert (_sim.DRIFT_LINEAR, _sim.DRIFT_SIGMOID) == (DriftMap.LINEAR, DriftMap.SIGMOID)


@pytest.mark.parametrize("method", ["euler", "exact"])
@pytest.mark.parametrize("name, p_outlier, design", CASES)
def test_compiled_equals_reference_bitwise(name, p_outlier, design, method):
    spec, theta = model_theta(name, p_outlier, 3, seed=1)
    options = DESIGNS[design](3, seed=2)
    kwargs = dict(model=spec, options=options, seed=3, method=method, return_q=True,
                  max_steps=300, first_index=5)
    compiled = rlddm.simulate(theta, design_outcomes(3, seed=4), **kwargs)
    readable = reference.simulate(theta, design_outcomes(3, seed=4), **kwargs)
    assert_same(compiled, readable)
    assert compiled.lapse.any() == (p_outlier > 0)


@pytest.mark.parametrize("name, p_outlier, design", CASES)
def test_thread_count_does_not_change_results(name, p_outlier, design):
    spec, theta = model_theta(name, p_outlier, 48, seed=5)
    options, outcomes = DESIGNS[design](48, seed=6), design_outcomes(48, seed=7)
    one = rlddm.simulate(theta, outcomes, model=spec, options=options, seed=8, n_threads=1,
                         return_q=True)
    two = rlddm.simulate(theta, outcomes, model=spec, options=options, seed=8, n_threads=2,
                         return_q=True)
    assert_same(one, two)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_options_not_presented_keep_their_values(name):
    spec, theta = model_theta(name, 0.1, 16, seed=9)
    options = three_pairs(16, seed=10)
    result = rlddm.simulate(theta, design_outcomes(16, seed=11), model=spec, options=options,
                            seed=12, return_q=True)
    assert result.q.shape == (16, N_TRIALS + 1, 6)
    presented = np.zeros((16, N_TRIALS, 6), dtype=bool)
    np.put_along_axis(presented, options, True, axis=2)
    before, after = result.q[:, :-1], result.q[:, 1:]
    np.testing.assert_array_equal(after[~presented], before[~presented])
    assert np.all(result.q[:, 0] == 0.5)
    assert (after[presented] != before[presented]).any()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_replay_drifts_reproduce_the_simulated_q_values(name):
    """replay_drifts, fed a simulation's choices and rewards, rebuilds its drift rates."""
    spec, theta = model_theta(name, 0.1, 8, seed=13)
    options = four_options(8, seed=14)
    result = rlddm.simulate(theta, design_outcomes(8, seed=15), model=spec, options=options,
                            seed=16, return_q=True, max_steps=60, max_retries=0)
    assert (result.choice == -1).any()  # missed trials are replayed too
    slots = np.ascontiguousarray(spec.slots(theta)[:, None, :])
    drifts = np.empty((8, 1, N_TRIALS))
    _sim.replay_drifts(slots, result.choice, result.reward, result.options, 4, 0.5,
                       int(spec.drift_map), drifts)
    rows, trials = np.indices((8, N_TRIALS))
    dq = (result.q[rows, trials, options[..., 0]] - result.q[rows, trials, options[..., 1]])
    drift = theta[:, spec.names.index("drift")][:, None]
    if spec.drift_map == DriftMap.SIGMOID:
        v_max = theta[:, spec.names.index("v_max")][:, None]
        # math.tanh is the C library's, as in the kernel; np.tanh (SIMD) can differ by 1 ulp.
        expected = 0.5 * v_max * np.vectorize(math.tanh)(0.5 * drift * dq)
    else:
        expected = drift * dq
    np.testing.assert_array_equal(drifts[:, 0], expected)
    for n_threads in (1, 2):
        again = np.empty_like(drifts)
        _sim.replay_drifts(slots, result.choice, result.reward, result.options, 4, 0.5,
                           int(spec.drift_map), again, n_threads)
        np.testing.assert_array_equal(again, drifts)


# -- exact properties of the learning rules and drift maps --------------------------------

def _simulate(model, theta, options=None, outcomes=None, seed=21, **kwargs):
    outcomes = design_outcomes(12, seed=22) if outcomes is None else outcomes
    options = three_pairs(12, seed=23) if options is None else options
    return rlddm.simulate(theta, outcomes, model=model, options=options, seed=seed,
                          return_q=True, **kwargs)


THETA = np.array([2.0, 1.0, 0.5, 0.3, 0.4])  # drift, alpha, beta, ter, kappa


def test_dual_rates_equal_to_kappa_give_the_delta_rule():
    delta = _simulate("rlddm", THETA)
    dual = _simulate("dual_lr", np.r_[THETA, 0.4])
    assert_same(delta, dual)


def test_zero_negative_rate_never_lowers_a_q_value():
    theta = [2.0, 1.0, 0.5, 0.3, 0.6, 0.0]  # kappa_pos, kappa_neg = 0.6, 0
    outcomes = np.random.default_rng(24).normal(0.5, 0.4, size=(12, N_TRIALS, 2))
    q = _simulate("dual_lr", theta, outcomes=outcomes).q
    change = np.diff(q, axis=1)
    assert change.min() == 0.0 and change.max() > 0.0


def test_zero_forgetting_gives_the_delta_rule():
    assert_same(_simulate("rlddm", THETA), _simulate("forgetting", np.r_[THETA, 0.0]))


def test_full_forgetting_resets_the_unchosen_option():
    result = _simulate("forgetting", np.r_[THETA, 1.0], q0=0.25)
    options = result.options
    learned = (result.choice >= 0) & ~np.isnan(result.reward)
    rows, trials = np.nonzero(learned)
    unchosen = options[rows, trials, 1 - result.choice[rows, trials]]
    # Q_u + 1 * (q0 - Q_u) is q0 up to one rounding of the difference.
    np.testing.assert_allclose(result.q[rows, trials + 1, unchosen], 0.25, rtol=0, atol=1e-16)
    assert len(rows) > 300


def test_sigmoid_drift_approaches_the_linear_map_for_small_drift():
    """v = v_max/2 tanh(drift dq / 2) = (v_max drift / 4) dq (1 + O((drift dq)**2))."""
    n_trials = 50
    rng = np.random.default_rng(25)
    choice = rng.integers(0, 2, size=(1, n_trials)).astype(np.int8)
    reward = rng.integers(0, 2, size=(1, n_trials)).astype(float)
    options = np.tile(np.array([0, 1], dtype=np.int32), (1, n_trials, 1))
    slots = np.zeros((1, 2, len(SLOTS)))
    slots[0, :, SLOTS.index("drift")] = 1e-4
    slots[0, :, SLOTS.index("kappa_pos")] = slots[0, :, SLOTS.index("kappa_neg")] = 0.7
    slots[0, 0, SLOTS.index("v_max")] = 3.0
    slots[0, 1, SLOTS.index("drift")] = 3.0 * 1e-4 / 4  # the linear map's slope
    drifts = {}
    for drift_map in DriftMap:
        out = np.empty((1, 2, n_trials))
        _sim.replay_drifts(slots, choice, reward, options, 2, 0.5, int(drift_map), out)
        drifts[drift_map] = out[0]
    sigmoid, linear = drifts[DriftMap.SIGMOID][0], drifts[DriftMap.LINEAR][1]
    assert np.abs(linear).max() > 1e-5
    np.testing.assert_allclose(sigmoid, linear, rtol=1e-8, atol=0)
    # The same replay shows the map saturating at v_max / 2 for a large drift.
    slots[0, 0, SLOTS.index("drift")] = 1e3
    _sim.replay_drifts(slots, choice, reward, options, 2, 0.5, int(DriftMap.SIGMOID), out)
    assert np.abs(out[0, 0]).max() <= 1.5 and np.isclose(np.abs(out[0, 0, 1:]).max(), 1.5)


def test_default_options_are_options_zero_and_one():
    outcomes = design_outcomes(12, seed=26)
    default = rlddm.simulate(THETA, outcomes, seed=27, return_q=True)
    explicit = rlddm.simulate(THETA, outcomes, options=np.tile([0, 1], (N_TRIALS, 1)),
                              seed=27, return_q=True)
    assert_same(default, explicit)
    wider = rlddm.simulate(THETA, outcomes, n_options=3, seed=27, return_q=True)
    np.testing.assert_array_equal(wider.q[..., :2], default.q)
    assert np.all(wider.q[..., 2] == 0.5)


def test_fixed_parameter_equals_passing_it_in_theta():
    fixed = get_model("rlddm", fixed={"beta": 0.5})
    assert fixed.names == ("drift", "alpha", "ter", "kappa")
    outcomes = design_outcomes(12, seed=28)
    assert_same(rlddm.simulate([2.0, 1.0, 0.3, 0.4], outcomes, model=fixed, seed=29,
                               return_q=True),
                rlddm.simulate(THETA, outcomes, seed=29, return_q=True))


def test_real_valued_rewards_are_learned_exactly():
    """Normal outcomes, forgetting model: Q-values equal a hand replay of the update."""
    kappa, phi, q0 = 0.35, 0.2, 0.1
    outcomes = np.random.default_rng(30).normal(1.0, 2.0, size=(4, N_TRIALS, 2))
    outcomes[:, 5] = np.nan
    options = four_options(4, seed=31)
    result = rlddm.simulate([1.5, 1.0, 0.5, 0.3, kappa, phi], outcomes, model="forgetting",
                            options=options, q0=q0, seed=32, return_q=True)
    for b in range(4):
        q = np.full(4, q0)
        for t in range(N_TRIALS):
            chosen = result.choice[b, t]
            reward = outcomes[b, t, chosen]
            assert result.reward[b, t] == reward or (np.isnan(reward)
                                                     and np.isnan(result.reward[b, t]))
            if not np.isnan(reward):
                c, u = options[b, t, chosen], options[b, t, 1 - chosen]
                q[c] = q[c] + kappa * (reward - q[c])
                q[u] = q[u] + phi * (q0 - q[u])
            np.testing.assert_array_equal(result.q[b, t + 1], q)


def test_no_feedback_trials_change_nothing():
    outcomes = np.full((12, N_TRIALS, 2), np.nan)
    result = _simulate("forgetting", np.r_[THETA, 0.5], outcomes=outcomes)
    assert np.all(result.q == 0.5)
    assert np.isnan(result.reward).all() and (result.choice >= 0).all()


# -- lapses ----------------------------------------------------------------------------------

# 400 data sets x 60 trials = 24,000 trials at p_outlier = 0.1: SE of the lapse fraction
# 0.0019. The two-sided binomial test at alpha = 1e-4 (|z| > 3.9) catches a lapse rate of
# 0.09 or 0.11 (5.2 SE) with power 0.9. About 2,400 lapses: KS at alpha = 1e-4 rejects a
# sup-distance above 0.040 (power > 0.9 at about 0.05), and the negative control (RTs
# shifted by ter = 0.3 s on a 1.5 s deadline, sup-distance 0.2) is caught.
LAPSE_SETS, LAPSE_TRIALS, P_OUTLIER, ALPHA = 400, 60, 0.1, 1e-4


@pytest.fixture(scope="module")
def lapsing():
    spec = get_model("rlddm", fixed={"p_outlier": P_OUTLIER})
    outcomes = rlddm.reversal_outcomes(LAPSE_SETS, LAPSE_TRIALS, seed=33)
    return rlddm.simulate([1.0, 1.5, 0.5, 0.3, 0.5], outcomes, model=spec, seed=34,
                          max_steps=150, dt=0.01)


@pytest.mark.statistical
def test_lapse_fraction_matches_p_outlier(lapsing):
    n_lapses = int(lapsing.lapse.sum())
    assert stats.binomtest(n_lapses, lapsing.lapse.size, P_OUTLIER).pvalue > ALPHA
    # Negative control: the same count is inconsistent with a 10% lower rate.
    assert stats.binomtest(n_lapses, lapsing.lapse.size, 0.9 * P_OUTLIER).pvalue < ALPHA


@pytest.mark.statistical
def test_lapse_responses_are_uniform(lapsing):
    t_max = 150 * 0.01
    rt = lapsing.rt[lapsing.lapse]
    assert rt.min() >= 0 and rt.max() <= t_max
    assert stats.kstest(rt, "uniform", args=(0, t_max)).pvalue > ALPHA
    assert stats.kstest(rt + 0.3, "uniform", args=(0, t_max)).pvalue < ALPHA
    chosen_first = int(np.count_nonzero(lapsing.choice[lapsing.lapse] == 0))
    assert stats.binomtest(chosen_first, rt.size, 0.5).pvalue > ALPHA
    assert np.all(lapsing.retries[lapsing.lapse] == 0)


def test_no_lapses_without_p_outlier():
    result = rlddm.simulate(THETA, rlddm.reversal_outcomes(50, 60, seed=35), seed=36)
    assert not result.lapse.any()
    freed = rlddm.simulate(np.r_[THETA, 0.0], rlddm.reversal_outcomes(50, 60, seed=35),
                           model=get_model("rlddm", free=("p_outlier",)), seed=36)
    assert_same(result, freed)


# -- bad input ---------------------------------------------------------------------------

def test_unknown_model_lists_the_registered_ones():
    with pytest.raises(ValueError, match="model must be one of .*'rlddm'.*'sigmoid_drift'"):
        rlddm.simulate(THETA, np.zeros((10, 2)), model="rlddm2")


@pytest.mark.parametrize("name", sorted(MODELS))
def test_wrong_theta_width_names_the_parameters(name):
    spec = get_model(name)
    with pytest.raises(ValueError, match=f"model '{name}' \\(order {', '.join(spec.names)}\\)"):
        rlddm.simulate(np.ones(spec.n_free + 1), np.zeros((10, 2)), model=name)


@pytest.mark.parametrize("options, n_options, message", [
    (np.zeros((9, 2), dtype=int), None, r"shape \(T, 2\) or \(B, T, 2\) with T = 10"),
    (np.zeros((10, 3), dtype=int), None, "shape"),
    (np.zeros(10, dtype=int), None, "shape"),
    (np.tile([0.0, 1.0], (10, 1)), None, "options must be an integer array, got dtype float64"),
    (np.tile([True, False], (10, 1)), None, "integer array"),
    (np.tile([0, -1], (10, 1)), None,
     r"options must be >= 0, got \[0, -1\] at \(data set, trial\) \(0, 0\)"),
    (np.tile([2, 2], (10, 1)), None, r"two different options per trial, got \[2, 2\]"),
    (np.tile([0, 5], (10, 1)), 4, "options must be < n_options = 4, got 5"),
    (np.tile([0, 2**40], (10, 1)), None, "n_options must be < 2"),
    ([[0, 1]] * 9 + [[0]], None, "options must be an array of numbers"),
])
def test_bad_options_raise(options, n_options, message):
    with pytest.raises(ValueError, match=message):
        rlddm.simulate(THETA, np.zeros((10, 2)), options=options, n_options=n_options)


def test_n_options_defaults_to_the_largest_index_plus_one():
    result = rlddm.simulate(THETA, np.zeros((10, 2)), options=np.tile([4, 1], (10, 1)),
                            return_q=True, seed=0)
    assert result.q.shape == (1, 11, 5)
    assert math.isclose(result.q[0, 0].sum(), 2.5)


@pytest.mark.parametrize("name", list(MODELS))
def test_a_model_pickles_with_its_fixed_values(name):
    """Worker processes receive models by pickle; the read-only mappings alone would not."""
    import pickle

    model = get_model(name, fixed={"beta": 0.5}, free=("p_outlier",))
    again = pickle.loads(pickle.dumps(model))
    assert again == model and again.label() == model.label()
    assert dict(again.fixed) == {"beta": 0.5} and again.names == model.names
