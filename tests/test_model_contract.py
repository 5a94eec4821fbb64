"""Contract over the model registry: every registered model goes through the same simulator checks.

The likelihood's side of the contract (PIT of exact simulations, lapse mixture, reductions
between models) is in ``test_models_likelihood.py``; this file holds the simulator's:
compiled kernel against the readable reference, thread independence, the learning rules'
exact properties, options and lapses, and bad input.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import rlddm
import rlddm.reference
from rlddm.model import MODELS, get_model

THREE_PAIRS = np.array([(0, 1), (2, 3), (4, 5)])
FOUR_OPTION_PAIRS = np.array([(i, j) for i in range(4) for j in range(4) if i != j])


def typical_theta(spec, scale=1.0):
    """One parameter vector per model, inside every support (three sets via ``scale``)."""
    values = {"drift": 2.5 * scale, "alpha": 1.0 + 0.3 * scale, "beta": 0.45 + 0.05 * scale,
              "ter": 0.2 + 0.1 * scale, "kappa": 0.3 * scale, "kappa_pos": 0.5 * scale,
              "kappa_neg": 0.15 * scale, "phi": 0.2 * scale, "v_max": 2.0 + scale,
              "p_outlier": 0.1}
    return np.array([values[name] for name in spec.names])


def schedule(pairs, n_sets, n_trials, seed):
    """Presented options drawn from ``pairs`` in random order, Bernoulli(.2-.8) outcomes."""
    rng = np.random.default_rng(seed)
    options = pairs[rng.integers(0, len(pairs), size=(n_sets, n_trials))].astype(np.int32)
    rates = np.linspace(0.2, 0.8, int(pairs.max()) + 1)
    outcomes = (rng.random((n_sets, n_trials, 2)) < rates[options]).astype(float)
    return outcomes, options


SPECS = [pytest.param(spec, id=name) for name, spec in MODELS.items()] + [
    pytest.param(spec.free("p_outlier"), id=f"{name}+p_outlier") for name, spec in MODELS.items()]
DESIGNS = [pytest.param(THREE_PAIRS, id="three_pairs"),
           pytest.param(FOUR_OPTION_PAIRS, id="four_options")]


def assert_same(a, b):
    for field in ("rt", "choice", "reward", "outcome", "retries", "lapse", "options", "q"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)


@pytest.mark.parametrize("pairs", DESIGNS)
@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("method", ["exact", "euler"])
def test_kernel_reproduces_the_reference_bit_for_bit(spec, pairs, method):
    n_trials = 12 if method == "euler" else 30
    outcomes, options = schedule(pairs, 3, n_trials, seed=1)
    theta = np.stack([typical_theta(spec, scale) for scale in (0.5, 1.0, 1.5)])
    kwargs = dict(model=spec, options=options, n_options=int(pairs.max()) + 1, seed=7,
                  method=method, return_q=True, max_steps=300)
    assert_same(rlddm.simulate(theta, outcomes, **kwargs),
                rlddm.reference.simulate(theta, outcomes, **kwargs))


@pytest.mark.parametrize("spec", SPECS)
def test_results_do_not_depend_on_threads(spec):
    outcomes, options = schedule(FOUR_OPTION_PAIRS, 40, 60, seed=2)
    theta = typical_theta(spec)
    runs = [rlddm.simulate(theta, outcomes, model=spec, options=options, seed=3,
                           method="exact", return_q=True, n_threads=n) for n in (1, 2)]
    assert_same(*runs)


def q_trajectory(model, theta, outcomes, options, **kwargs):
    return rlddm.simulate(theta, outcomes, model=model, options=options, seed=5,
                          method="exact", return_q=True, **kwargs)


@pytest.fixture(scope="module")
def three_pair_task():
    return schedule(THREE_PAIRS, 20, 90, seed=4)


def test_dual_rates_equal_are_the_delta_rule(three_pair_task):
    outcomes, options = three_pair_task
    base = [2.0, 1.1, 0.5, 0.3, 0.35]
    assert_same(q_trajectory("rlddm", base, outcomes, options),
                q_trajectory("dual_lr", base + [0.35], outcomes, options))


def test_no_negative_rate_never_lowers_a_q_value(three_pair_task):
    outcomes, options = three_pair_task
    q = q_trajectory("dual_lr", [2.0, 1.1, 0.5, 0.3, 0.6, 0.0], outcomes, options).q
    assert np.all(np.diff(q, axis=1) >= 0)
    # negative control: with kappa_neg > 0 Q-values do fall
    q = q_trajectory("dual_lr", [2.0, 1.1, 0.5, 0.3, 0.6, 0.1], outcomes, options).q
    assert np.any(np.diff(q, axis=1) < 0)


def test_forgetting_zero_is_the_delta_rule_and_one_resets(three_pair_task):
    outcomes, options = three_pair_task
    base = [2.0, 1.1, 0.5, 0.3, 0.35]
    assert_same(q_trajectory("rlddm", base, outcomes, options),
                q_trajectory("forgetting", base + [0.0], outcomes, options))
    result = q_trajectory("forgetting", base + [1.0], outcomes, options, q0=0.3)
    answered = result.choice >= 0
    b, t = np.nonzero(answered)
    unchosen = options[b, t, 1 - result.choice[b, t]]
    # Q + 1 * (q0 - Q) is q0 up to one rounding of the difference
    np.testing.assert_allclose(result.q[b, t + 1, unchosen], 0.3, rtol=0, atol=1e-16)


def test_options_not_presented_keep_their_q_values(three_pair_task):
    outcomes, options = three_pair_task
    for name, spec in MODELS.items():
        q = q_trajectory(spec, typical_theta(spec), outcomes, options).q
        changed = q[:, 1:] != q[:, :-1]  # (B, T, K)
        presented = np.zeros_like(changed)
        rows = np.arange(q.shape[0])[:, None]
        trials = np.arange(q.shape[1] - 1)[None, :]
        presented[rows, trials, options[..., 0]] = True
        presented[rows, trials, options[..., 1]] = True
        assert not np.any(changed & ~presented), name


def test_two_options_on_every_trial_equal_options_none():
    outcomes = rlddm.ReversalDesign().sample(30, seed=6)
    for name, spec in MODELS.items():
        theta = typical_theta(spec)
        pair = np.broadcast_to(np.array([0, 1], dtype=np.int32), outcomes.shape).copy()
        assert_same(rlddm.simulate(theta, outcomes, model=spec, seed=8, method="exact", return_q=True),
                    rlddm.simulate(theta, outcomes, model=spec, options=pair, seed=8,
                                   method="exact", return_q=True))


def test_sigmoid_approaches_the_linear_map_for_small_drift():
    # both maps replayed on one choice/reward history: the same Q0 - Q1 on every trial
    from rlddm import _sim

    rng = np.random.default_rng(9)
    choice = rng.integers(0, 2, size=(1, 50)).astype(np.int8)
    reward = rng.integers(0, 2, size=(1, 50)).astype(float)
    options = np.broadcast_to(np.array([0, 1], dtype=np.int32), (1, 50, 2)).copy()
    v_max = 3.0
    for drift in (1e-2, 1e-4):
        sigmoid = get_model("sigmoid_drift")
        linear = get_model("rlddm")
        out = {}
        for spec, theta in ((sigmoid, [drift, 1, 0.5, 0.2, 0.4, v_max]),
                            (linear, [v_max * drift / 4, 1, 0.5, 0.2, 0.4])):
            slots = np.ascontiguousarray(spec.slots(np.array([theta]))[None])
            drifts = np.empty((1, 1, 50))
            _sim.replay_drifts(slots, choice, reward, options, 2, 0.5, int(spec.drift_map), drifts)
            out[spec.name] = drifts
        scale = np.abs(out["rlddm"]).max()
        # the cubic term of tanh: relative error ~ (drift dq)^2 / 12
        assert np.abs(out["sigmoid_drift"] - out["rlddm"]).max() <= scale * drift**2
        assert scale > 0


def test_fixed_parameter_equals_passing_its_value():
    outcomes, options = schedule(THREE_PAIRS, 10, 60, seed=10)
    fixed = get_model("rlddm", fixed={"beta": 0.5})
    assert fixed.names == ("drift", "alpha", "ter", "kappa")
    assert_same(rlddm.simulate([2.0, 1.2, 0.3, 0.4], outcomes, model=fixed, options=options,
                               seed=11, method="exact", return_q=True),
                rlddm.simulate([2.0, 1.2, 0.5, 0.3, 0.4], outcomes, options=options, seed=11,
                               method="exact", return_q=True))


def test_lapse_fraction_and_rts_follow_p_outlier():
    # 200 x 100 = 20,000 trials at p = 0.05: binomial SD 0.0015, so the 4-SD band below
    # holds by chance with probability 1 - 6e-5 and catches a rate off by 0.01 (6.5 SD).
    p, n_sets, n_trials, max_steps, dt = 0.05, 200, 100, 500, 0.01
    outcomes = rlddm.ReversalDesign().sample(n_sets, n_trials=n_trials, seed=12)
    spec = get_model("rlddm", fixed={"p_outlier": p})
    data = rlddm.simulate([2.0, 1.0, 0.5, 0.3, 0.4], outcomes, model=spec, seed=13,
                          method="exact", max_steps=max_steps, dt=dt)
    share = data.lapse.mean()
    assert abs(share - p) < 4 * np.sqrt(p * (1 - p) / data.lapse.size)
    lapse_rt = data.rt[data.lapse]
    assert stats.kstest(lapse_rt / (max_steps * dt), "uniform").pvalue > 1e-3
    assert abs(np.mean(data.choice[data.lapse] == 0) - 0.5) < 4 * np.sqrt(0.25 / lapse_rt.size)
    # negative control: without lapses there are none, and p = 0 draws no extra numbers
    plain = rlddm.simulate([2.0, 1.0, 0.5, 0.3, 0.4], outcomes, seed=13, method="exact",
                           max_steps=max_steps, dt=dt)
    assert not plain.lapse.any()
    default = rlddm.simulate([2.0, 1.0, 0.5, 0.3, 0.4], outcomes, model=get_model("rlddm"),
                             seed=13, method="exact", max_steps=max_steps, dt=dt)
    assert_same(plain, default)


def test_real_valued_rewards_are_learned_exactly():
    rng = np.random.default_rng(14)
    outcomes = rng.normal(1.0, 2.0, size=(1, 40, 2))
    kappa = 0.3
    data = rlddm.simulate([1.0, 1.0, 0.5, 0.2, kappa], outcomes, seed=15, method="exact",
                          return_q=True)
    q = np.full(2, 0.5)
    for t in range(40):
        chosen = data.choice[0, t]
        if chosen >= 0:
            assert data.reward[0, t] == outcomes[0, t, chosen]
            q[chosen] = q[chosen] + kappa * (outcomes[0, t, chosen] - q[chosen])
        np.testing.assert_array_equal(data.q[0, t + 1], q)


def test_trials_without_feedback_learn_nothing():
    outcomes, options = schedule(THREE_PAIRS, 5, 40, seed=16)
    outcomes[:, 20:] = np.nan
    data = rlddm.simulate(typical_theta(get_model("rlddm")), outcomes, options=options,
                          seed=17, method="exact", return_q=True)
    assert np.all(np.isnan(data.reward[:, 20:]))
    np.testing.assert_array_equal(data.q[:, 21:], np.broadcast_to(data.q[:, 20:21], data.q[:, 21:].shape))


@pytest.mark.parametrize("change, match", [
    (dict(model="nope"), r"rlddm.*dual_lr.*forgetting.*sigmoid_drift"),
    (dict(theta=[1.0, 1.0, 0.5, 0.3]), r"drift, alpha, beta, ter, kappa"),
    (dict(model="dual_lr"), r"kappa_pos, kappa_neg"),
    (dict(options=np.zeros((10, 3), dtype=int)), "options"),
    (dict(options=np.full((10, 2), 0.5)), "options"),
    (dict(options=-np.ones((10, 2), dtype=int)), "options"),
    (dict(options=np.zeros((10, 2), dtype=int)), "options"),
    (dict(options=np.tile([0, 5], (10, 1)), n_options=3), "options|n_options"),
])
def test_bad_input_names_the_argument(change, match):
    kwargs = dict(theta=[1.0, 1.0, 0.5, 0.3, 0.4], outcomes=np.ones((10, 2)))
    kwargs.update(change)
    with pytest.raises(ValueError, match=match):
        rlddm.simulate(kwargs.pop("theta"), kwargs.pop("outcomes"), **kwargs)
