"""Exact properties, seeding guarantees and input validation of ``rlddm.simulate``."""

import numpy as np
import pytest

import rlddm
from rlddm import _sim, simulate

THETA = np.array([2.0, 1.0, 0.5, 0.3, 0.4])


def test_compiled_extension_is_loaded():
    # No silent pure-Python fallback: the kernel must be the built extension module.
    assert _sim.__file__.endswith((".so", ".pyd"))
    assert rlddm.simulation._sim is _sim


def test_shapes_and_dtypes(outcomes):
    result = simulate(THETA, outcomes, seed=0, return_q=True)
    batch, trials = outcomes.shape[:2]
    assert result.rt.shape == (batch, trials) and result.rt.dtype == np.float64
    assert result.choice.shape == (batch, trials) and result.choice.dtype == np.int8
    assert result.reward.shape == (batch, trials)
    assert result.outcome.shape == (batch, trials, 2)
    assert result.retries.shape == (batch, trials) and result.retries.dtype == np.int32
    assert result.q.shape == (batch, trials + 1, 2)
    assert simulate(THETA, outcomes, seed=0).q is None


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
    for field in ("rt", "choice", "reward", "outcome", "retries", "q"):
        np.testing.assert_array_equal(getattr(one, field), getattr(two, field))


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
    (np.full((60, 2), 2), "only 0 and 1, got 2"),
    (np.full((60, 2), np.nan), "only 0 and 1, got nan"),
    (np.full((60, 2), "1"), "dtype"),
])
def test_bad_outcomes_raise(bad_outcomes, message):
    with pytest.raises(ValueError, match=message):
        simulate(THETA, bad_outcomes)


@pytest.mark.parametrize("options, message", [
    ({"dt": 0.0}, "dt must be"),
    ({"dt": -0.01}, "dt must be"),
    ({"dt": np.nan}, "dt must be"),
    ({"max_steps": 0}, "max_steps"),
    ({"max_steps": 10.5}, "max_steps"),
    ({"max_retries": -1}, "max_retries"),
    ({"n_threads": 0}, "n_threads"),
    ({"method": "rk4"}, "method"),
    ({"first_index": -1}, "first_index"),
    ({"seed": -3}, "seed"),
    ({"seed": "abc"}, "seed"),
])
def test_bad_options_raise(options, message, outcomes):
    with pytest.raises(ValueError, match=message):
        simulate(THETA, outcomes[0], **options)


def test_mismatched_batches_raise(outcomes):
    with pytest.raises(ValueError, match="3 rows but outcomes has 64"):
        simulate(np.tile(THETA, (3, 1)), outcomes)
