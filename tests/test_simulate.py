"""Exact properties, seeding guarantees and input validation of ``rlddm.simulate``."""

import numpy as np
import pytest

import rlddm
from rlddm import simulate
from rlddm.simulator import _sim

THETA = np.array([2.0, 1.0, 0.5, 0.3, 0.4])
FIELDS = ("rt", "choice", "reward", "outcome", "retries", "lapse", "options", "q")


def test_compiled_extension_is_loaded():
    # No silent pure-Python fallback: the kernel must be the built extension module.
    assert _sim.__file__.endswith((".so", ".pyd"))
    assert rlddm.simulator.simulation._sim is _sim


def test_shapes_and_dtypes(outcomes):
    result = simulate(THETA, outcomes, seed=0, return_q=True)
    batch, trials = outcomes.shape[:2]
    assert result.rt.shape == (batch, trials) and result.rt.dtype == np.float64
    assert result.choice.shape == (batch, trials) and result.choice.dtype == np.int8
    assert result.reward.shape == (batch, trials) and result.reward.dtype == np.float64
    assert result.outcome.shape == (batch, trials, 2) and result.outcome.dtype == np.float64
    assert result.retries.shape == (batch, trials) and result.retries.dtype == np.int32
    assert result.lapse.shape == (batch, trials) and result.lapse.dtype == np.bool_
    assert result.options.shape == (batch, trials, 2) and result.options.dtype == np.int32
    assert result.options.flags.c_contiguous and result.options.flags.writeable
    assert result.q.shape == (batch, trials + 1, 2)
    assert not result.lapse.any()
    np.testing.assert_array_equal(result.options, np.broadcast_to([0, 1], (batch, trials, 2)))
    assert simulate(THETA, outcomes, seed=0).q is None


# Results of the kernel as committed before models, options and lapses were added
# (rt of the last trial per data set, choices summed, final Q0 summed): the default
# model must keep reproducing them bit for bit.
COMMITTED = {
    "euler": ([0.8400000000000001, 0.48, 0.37, 0.49], 112, 2.6425906471501333),
    "exact": ([0.3490620915649899, 0.43250627993002694, 0.43786741648246896,
               0.4909990162202017], 113, 2.4266728398914967),
}


@pytest.mark.parametrize("method", sorted(COMMITTED))
def test_default_model_reproduces_committed_results(method):
    last_rt, choice_sum, q_sum = COMMITTED[method]
    result = simulate([2.0, 1.0, 0.5, 0.3, 0.4], rlddm.reversal_outcomes(4, 60, seed=1),
                      seed=2, method=method, return_q=True)
    assert result.rt[:, -1].tolist() == last_rt
    assert int(result.choice.sum()) == choice_sum
    assert float(result.q[:, -1, 0].sum()) == q_sum


def test_unbatched_input_gets_batch_of_one(outcomes):
    result = simulate(THETA, outcomes[0], seed=0)
    assert result.rt.shape == (1, outcomes.shape[1])


def test_shared_outcomes_broadcast_over_theta(outcomes):
    theta = np.tile(THETA, (5, 1))
    shared = simulate(theta, outcomes[0], seed=2)
    explicit = simulate(theta, np.repeat(outcomes[:1], 5, axis=0), seed=2)
    np.testing.assert_array_equal(shared.rt, explicit.rt)


def test_kappa_zero_keeps_q_at_half(outcomes):
    result = simulate([3.0, 1.0, 0.5, 0.3, 0.0], outcomes, seed=1, return_q=True)
    assert np.all(result.q == 0.5)


def test_kappa_one_sets_chosen_q_to_last_outcome(outcomes):
    result = simulate([3.0, 1.0, 0.5, 0.3, 1.0], outcomes, seed=1, return_q=True)
    batch, trials = result.choice.shape
    for b in range(batch):
        expected = np.array([0.5, 0.5])
        for t in range(trials):
            chosen = result.choice[b, t]
            expected[chosen] = outcomes[b, t, chosen]
            np.testing.assert_array_equal(result.q[b, t + 1], expected)


def test_only_chosen_outcome_is_recorded(outcomes):
    result = simulate(THETA, outcomes, seed=4)
    chosen = result.choice.astype(np.intp)
    unchosen = 1 - chosen
    rows, cols = np.indices(chosen.shape)
    np.testing.assert_array_equal(result.outcome[rows, cols, unchosen], 0)
    np.testing.assert_array_equal(result.outcome[rows, cols, chosen],
                                  outcomes[rows, cols, chosen])
    np.testing.assert_array_equal(result.reward, outcomes[rows, cols, chosen])


def test_rt_is_a_whole_number_of_steps_after_ter(outcomes):
    dt, ter = 0.01, 0.3
    result = simulate(THETA, outcomes, seed=5, dt=dt)
    steps = (result.rt - ter) / dt
    assert np.all(result.rt >= ter + dt - 1e-12)
    np.testing.assert_allclose(steps, np.round(steps), atol=1e-6)
    assert np.all(steps <= 900 + 1e-6)


@pytest.mark.parametrize("method", ["euler", "exact"])
def test_missed_responses_after_max_retries(outcomes, method):
    # alpha = 4 and 5 steps of 0.01 s: P(decision within 0.05 s) is about 1e-38 from
    # the start point 2, so every attempt misses.
    theta = [1.0, 4.0, 0.5, 0.3, 0.5]
    result = simulate(theta, outcomes[:4], seed=1, max_steps=5, max_retries=3, return_q=True,
                      method=method)
    assert np.all(result.choice == -1)
    assert np.all(np.isnan(result.rt))
    assert np.all(result.reward == 0) and np.all(result.outcome == 0)
    assert np.all(result.retries == 3)
    assert np.all(result.q == 0.5)
    np.testing.assert_array_equal(result.n_missed, [60] * 4)


def test_retries_counted_and_no_miss_with_enough_retries(outcomes):
    result = simulate([1.0, 2.0, 0.5, 0.5, 0.5], outcomes, seed=1, max_steps=150)
    assert result.retries.sum() > 100
    assert np.all(result.choice >= 0)


def test_same_seed_same_result_and_different_seed_differs(outcomes):
    first = simulate(THETA, outcomes, seed=11)
    np.testing.assert_array_equal(first.rt, simulate(THETA, outcomes, seed=11).rt)
    assert not np.array_equal(first.rt, simulate(THETA, outcomes, seed=12).rt)


@pytest.mark.parametrize("method", ["euler", "exact"])
def test_thread_count_does_not_change_results(outcomes, method):
    one = simulate(THETA, outcomes, seed=7, n_threads=1, return_q=True, method=method)
    two = simulate(THETA, outcomes, seed=7, n_threads=2, return_q=True, method=method)
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(one, field), getattr(two, field))


def test_more_threads_than_available_are_capped(outcomes):
    # Once a segfault: OpenMP cannot start 100,000 threads, so requests are capped.
    many = simulate(THETA, outcomes[:8], seed=7, n_threads=100_000, return_q=True)
    one = simulate(THETA, outcomes[:8], seed=7, n_threads=1, return_q=True)
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(many, field), getattr(one, field))


@pytest.mark.parametrize("method", ["euler", "exact"])
def test_batch_split_in_two_reproduces_whole_batch(outcomes, method):
    theta = np.column_stack([np.linspace(-3, 3, 64), np.full(64, 1.0), np.full(64, 0.5),
                             np.full(64, 0.2), np.linspace(0, 1, 64)])
    whole = simulate(theta, outcomes, seed=9, method=method)
    head = simulate(theta[:40], outcomes[:40], seed=9, method=method)
    tail = simulate(theta[40:], outcomes[40:], seed=9, first_index=40, method=method)
    np.testing.assert_array_equal(np.vstack([head.rt, tail.rt]), whole.rt)
    np.testing.assert_array_equal(np.vstack([head.choice, tail.choice]), whole.choice)


def test_seed_conventions(outcomes):
    by_int = simulate(THETA, outcomes, seed=3).rt
    by_sequence = simulate(THETA, outcomes, seed=np.random.SeedSequence(3)).rt
    np.testing.assert_array_equal(by_int, by_sequence)
    generator = np.random.default_rng(5)
    first = simulate(THETA, outcomes, seed=generator).rt
    second = simulate(THETA, outcomes, seed=generator).rt
    assert not np.array_equal(first, second)  # the Generator advanced
    np.testing.assert_array_equal(first, simulate(THETA, outcomes,
                                                  seed=np.random.default_rng(5)).rt)
    assert simulate(THETA, outcomes, seed=None).rt.shape == by_int.shape


def _bad(theta_row):
    return np.array([theta_row])


@pytest.mark.parametrize("theta, message", [
    (np.ones(4), r"shape \(5,\)"),
    (np.ones((2, 3, 5)), "shape"),
    (np.array(["a"] * 5), "dtype"),
    (np.array([True] * 5), "dtype"),
    (_bad([np.nan, 1, 0.5, 0.3, 0.5]), "finite.*drift"),
    (_bad([1, np.inf, 0.5, 0.3, 0.5]), "finite.*alpha"),
    (_bad([1, 0.0, 0.5, 0.3, 0.5]), r"alpha must be in \(0, inf\), got 0.0 at row 0"),
    (_bad([1, -1, 0.5, 0.3, 0.5]), "alpha"),
    (_bad([1, 1, 1.0, 0.3, 0.5]), "beta"),
    (_bad([1, 1, 0.0, 0.3, 0.5]), "beta"),
    (_bad([1, 1, 0.5, -0.1, 0.5]), "ter"),
    (_bad([1, 1, 0.5, 0.3, 1.5]), "kappa"),
    (_bad([1, 1, 0.5, 0.3, -0.1]), "kappa"),
])
def test_bad_theta_raises(theta, message, outcomes):
    with pytest.raises(ValueError, match=message):
        simulate(theta, outcomes[0])


@pytest.mark.parametrize("bad_outcomes, message", [
    (np.ones((60, 3)), "shape"),
    (np.ones(60), "shape"),
    (np.ones((0, 2)), "shape"),
    (np.full((60, 2), np.inf), r"outcomes must be finite numbers of magnitude at most "
                               r"8.98847e\+307 \(or NaN for no feedback\), got inf at "
                               r"\(0, 0, 0\)"),
    (np.full((60, 2), -np.inf), "got -inf at"),
    (np.full((60, 2), -1.7e308), "got -1.7e"),
    (np.full((60, 2), "1"), "dtype"),
    (np.full((60, 2), 1 + 1j), "dtype"),
])
def test_bad_outcomes_raise(bad_outcomes, message):
    with pytest.raises(ValueError, match=message):
        simulate(THETA, bad_outcomes)


def test_exact_method_far_outside_its_domain_misses_instead_of_answering_nan():
    result = simulate([0.0, 1e200, 1e-200, 0.0, 0.0], np.zeros((3, 2)), method="exact",
                      seed=1, max_retries=2)
    answered = result.choice != -1
    assert np.isfinite(result.rt[answered]).all() and np.isnan(result.rt[~answered]).all()


def test_real_and_missing_outcomes_are_accepted():
    outcomes = np.full((30, 2), np.nan)
    outcomes[::2] = [2.5, -1.25]
    result = simulate(THETA, outcomes, seed=1, return_q=True)
    answered = result.choice >= 0
    assert np.isnan(result.reward[:, 1::2]).all()
    assert np.isin(result.reward[:, ::2][answered[:, ::2]], [2.5, -1.25]).all()


@pytest.mark.parametrize("options, message", [
    ({"dt": 0.0}, "dt must be"),
    ({"dt": -0.01}, "dt must be"),
    ({"dt": np.nan}, "dt must be"),
    ({"dt": 10**400}, "dt must be"),
    ({"dt": "0.01"}, "dt must be"),
    ({"dt": 1e308}, r"dt \* max_steps"),
    ({"max_steps": 0}, "max_steps"),
    ({"max_steps": 10.5}, "max_steps"),
    ({"max_steps": 10**400}, "max_steps must be < 2"),
    ({"max_steps": "900"}, "max_steps"),
    ({"max_retries": -1}, "max_retries"),
    ({"max_retries": 10**400}, "max_retries"),
    ({"n_threads": 0}, "n_threads"),
    ({"n_threads": 2.0}, "n_threads"),
    ({"n_threads": True}, "n_threads"),
    ({"method": "rk4"}, "method"),
    ({"method": None}, "method"),
    ({"first_index": -1}, "first_index"),
    ({"first_index": 2**64}, "first_index"),
    ({"first_index": 1.0}, "first_index"),
    ({"seed": -3}, "seed"),
    ({"seed": "abc"}, "seed"),
    ({"seed": 1.5}, "seed"),
    ({"q0": np.nan}, "q0 must be a finite number"),
    ({"q0": 10**400}, "q0"),
    ({"q0": "0.5"}, "q0"),
    ({"return_q": "yes"}, "return_q"),
    ({"n_options": 1}, "n_options"),
    ({"n_options": 2.0}, "n_options"),
    ({"n_options": 10**400}, "n_options must be < 2"),
])
def test_bad_options_raise(options, message, outcomes):
    with pytest.raises(ValueError, match=message):
        simulate(THETA, outcomes[0], **options)


def test_mismatched_batches_raise(outcomes):
    with pytest.raises(ValueError, match="theta has 3, outcomes has 64, options has 1"):
        simulate(np.tile(THETA, (3, 1)), outcomes)
    with pytest.raises(ValueError, match="options has 2"):
        simulate(THETA, outcomes, options=np.tile([0, 1], (2, 60, 1)))


def test_outputs_larger_than_the_limit_are_refused_before_allocating():
    # 20,000 data sets of 10,000 trials: about 8.6 GiB of outputs.
    with pytest.raises(ValueError, match=r"outputs of 20000 data sets .* would take 8\.\d+ GiB, "
                                         "more than 8 GiB"):
        simulate(np.tile(THETA, (20_000, 1)), np.zeros((10_000, 2)))
