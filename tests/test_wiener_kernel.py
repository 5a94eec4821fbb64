"""The compiled Wiener log density (``rlddm.simulator._sim.wiener_log_density``) against the NumPy series.

`rlddm.likelihood.trials._log_decision` computes the answered-trial density in the compiled
kernel; the NumPy series (`_log_density_lower`, `_log_decision_numpy`) stay as the
readable reference, and these tests compare the two.

Tolerance: ``|compiled - numpy| <= 1e-12 * max(1, |log f|)``, i.e. 1e-12 absolute on
log densities of moderate size and 1e-12 relative beyond. Both evaluate the same
truncated series, so they differ only by (i) truncation -- NumPy truncates once per
batch (at its worst element), the kernel per element, each leaving a remainder below
1e-14 of the sum -- and (ii) rounding: another libm, and on the kernel's fast path
(1e-3 <= u < 1/2) image pairs formed in linear space and the logs taken once. Both are
O(1e-14) relative, two orders below the tolerance (observed: at most 3e-14 absolute on
moderate values, 2e-14 relative elsewhere), while any error in a parameter or a term
shows up far above it (the negative control). Where the terms of the log density
(``v a w``, ``(v a)**2 u / 2``, ``w**2 / 2u``) cancel, rounding of a large term could in
principle exceed 1e-12 absolute in the reference itself; the sweeps, extremes included,
never met such a case.
"""

import itertools

import numpy as np
import pytest

from rlddm.simulator import _sim
from rlddm.likelihood import trials as L


def numpy_density(t, choice, v, a, w):
    """The NumPy reference of the kernel: `_log_decision_numpy`'s density part."""
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        u = t / a**2
        s = v * a
    ok = (t > 0) & np.isfinite(s) & (u > 0) & np.isfinite(u)
    out = np.full(t.shape, -np.inf)
    with L._extremes_ok():
        out[ok] = (L._log_density_lower(u[ok], *L._to_lower(choice[ok], s[ok], w[ok]))
                   - 2.0 * np.log(a[ok]))
    return out


def compiled_density(t, choice, v, a, w):
    t, v, a, w = (np.ascontiguousarray(x, dtype=np.float64) for x in (t, v, a, w))
    out = np.empty(t.shape)
    assert _sim.wiener_log_density(t, np.ascontiguousarray(choice, dtype=np.int8), v, a, w,
                                   out) == 0
    return out


def assert_agree(t, choice, v, a, w, reference=numpy_density):
    """Compiled vs reference on the same arrays; returns the largest difference over tolerance."""
    ref = reference(t, choice, v, a, w)
    got = compiled_density(t, choice, v, a, w)
    assert not np.isnan(ref).any()
    assert not np.isnan(got).any(), "NaN where NumPy gives a number"
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(ref))
    np.testing.assert_array_equal(np.isposinf(got), np.isposinf(ref))
    fin = np.isfinite(ref)
    tol = 1e-12 * np.maximum(1.0, np.abs(ref[fin]))
    ratio = np.abs(got[fin] - ref[fin]) / tol
    worst = int(np.argmax(ratio)) if ratio.size else 0
    assert ratio.size == 0 or ratio[worst] <= 1.0, (
        f"t={t[fin][worst]!r} choice={choice[fin][worst]} v={v[fin][worst]!r} a={a[fin][worst]!r} "
        f"w={w[fin][worst]!r}: compiled {got[fin][worst]!r}, numpy {ref[fin][worst]!r}")
    return float(ratio.max()) if ratio.size else 0.0


def log_uniform(rng, low, high, n):
    return np.exp(rng.uniform(np.log(low), np.log(high), n))


def realistic(rng, n):
    """Parameters and decision times as a fit of real data visits them (u from ~1e-3 to ~5)."""
    a = rng.uniform(0.5, 3.0, n)
    v = rng.normal(0.0, 3.0, n)
    w = rng.uniform(0.2, 0.8, n)
    t = rng.gamma(2.0, 0.3, n) + 1e-3
    choice = rng.integers(0, 2, n).astype(np.int8)
    return t, choice, v, a, w


def test_realistic_sweep_agrees_to_1e12_absolute():
    rng = np.random.default_rng(20240601)
    t, choice, v, a, w = realistic(rng, 100_000)
    ratio = assert_agree(t, choice, v, a, w)
    assert ratio < 0.1  # observed: differences of at most 3e-14


def test_wide_random_sweep():
    rng = np.random.default_rng(7)
    n = 200_000
    t = log_uniform(rng, 1e-12, 1e8, n)
    a = log_uniform(rng, 1e-4, 1e4, n)
    w = rng.uniform(0.0, 1.0, n)
    near = rng.random(n) < 0.3
    w[near] = log_uniform(rng, 1e-320, 1e-2, near.sum())
    flip = rng.random(n) < 0.5
    w[flip] = 1.0 - w[flip]
    w = np.clip(w, 5e-324, np.nextafter(1.0, 0.0))
    v = rng.choice([-1.0, 1.0], n) * log_uniform(rng, 1e-8, 1e6, n)
    huge = rng.random(n) < 0.05
    v[huge] = rng.choice([-1.0, 1.0], huge.sum()) * log_uniform(rng, 1e100, 1e300, huge.sum())
    v[rng.random(n) < 0.02] = 0.0
    choice = rng.integers(0, 2, n).astype(np.int8)
    assert assert_agree(t, choice, v, a, w) <= 1.0


def test_sweep_around_the_series_switch_and_fast_path_limits():
    """u on both sides of 1/2 and of the fast path's 1e-3, w and 1 - w around 1e-10."""
    rng = np.random.default_rng(11)
    n = 50_000
    a = log_uniform(rng, 0.1, 10.0, n)
    u = rng.choice([0.5, 1e-3], n) * np.exp(rng.normal(0.0, 1e-6, n))
    u[: n // 10] = np.nextafter(0.5, 0.0)
    t = u * a**2
    w = rng.choice([1e-10, 0.5, 1.0 - 1e-10], n) * np.exp(rng.normal(0.0, 1e-3, n))
    w = np.clip(w, 5e-324, np.nextafter(1.0, 0.0))
    v = rng.normal(0.0, 5.0, n)
    choice = rng.integers(0, 2, n).astype(np.int8)
    assert assert_agree(t, choice, v, a, w) <= 1.0


def one_at_a_time(t, choice, v, a, w):
    """NumPy reference evaluated element by element: its truncation is then per element too."""
    return np.array([numpy_density(*(np.atleast_1d(x[i]) for x in (t, choice, v, a, w)))[0]
                     for i in range(t.size)])


def test_per_element_truncation_matches_numpy_one_at_a_time():
    """With NumPy also truncating per element, only rounding is left: a few ulp."""
    rng = np.random.default_rng(3)
    t, choice, v, a, w = realistic(rng, 2_000)
    ref = one_at_a_time(t, choice, v, a, w)
    got = compiled_density(t, choice, v, a, w)
    assert np.max(np.abs(got - ref) / np.maximum(1.0, np.abs(ref))) < 1e-14


EXTREME_T = (0.0, -1.0, 5e-324, 1e-300, 1e-10, 0.1, 1.0, 1e10, 1e300, np.inf)
EXTREME_A = (1e-150, 1e-10, 0.5, 1.0, 1e10, 1e150)
EXTREME_V = (0.0, 1e-300, -1e-300, 1.0, -1.0, 1e6, -1e6, 1e150, -1e150, 1e155, -1e155,
             1e300, -1e300)
EXTREME_W = (5e-324, 1e-300, 1e-10, 0.25, 0.5, np.nextafter(0.5, 1.0), 1.0 - 1e-10,
             np.nextafter(1.0, 0.0))


def test_hand_picked_extremes():
    grid = np.array(list(itertools.product(EXTREME_T, (0, 1), EXTREME_V, EXTREME_A, EXTREME_W)))
    t, choice, v, a, w = grid.T
    assert assert_agree(t, choice.astype(np.int8), v, a, w) <= 1.0
    # u at the series switch, at the fast path's lower edge and near underflow, for every a
    u_special = np.array([np.nextafter(0.5, 0.0), 0.5, 1e-3, np.nextafter(1e-3, 0.0), 1e-300])
    grid = np.array(list(itertools.product(u_special, (0, 1), EXTREME_V[:9], EXTREME_A,
                                           EXTREME_W)))
    u, choice, v, a, w = grid.T
    assert assert_agree(u * a**2, choice.astype(np.int8), v, a, w) <= 1.0


def test_minus_infinity_exactly_where_numpy_gives_it():
    t = np.array([0.0, -1.0, 1.0, 1.0, 1e300, 1.0])
    a = np.array([1.0, 1.0, 1e200, 1e-200, 1e-10, 1.0])
    v = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1e308])
    w = np.full(6, 0.5)
    choice = np.zeros(6, np.int8)
    got = compiled_density(t, choice, v, a, w)
    assert np.isneginf(got).all()
    assert np.isneginf(numpy_density(t, choice, v, a, w)).all()


def test_negative_control_perturbed_boundary_is_detected():
    """The comparison is sharp enough: a relative 1e-9 change of a fails it."""
    rng = np.random.default_rng(5)
    t, choice, v, a, w = realistic(rng, 10_000)
    with pytest.raises(AssertionError):
        assert_agree(t, choice, v, a * (1.0 + 1e-9), w,
                     reference=lambda t, c, v, a_, w: numpy_density(t, c, v, a, w))


def test_log_decision_matches_numpy_reference():
    """The whole trial density with its t_max normaliser and masks, as _trial_logliks calls it."""
    rng = np.random.default_rng(9)
    t, choice, v, a, w = realistic(rng, 50_000)
    t_max = 9.0
    t[:100] = -t[:100]
    t[100:200] = t_max * (1.0 + 2e-6)
    t[200:300] = t_max * (1.0 + 1e-7)
    a[300:400] = 1e-160  # t / a**2 overflows
    v[400:500] = 1e308  # v * a overflows
    ref = L._log_decision_numpy(t, choice, v, a, w, t_max)
    got = L._log_decision(t, choice, v, a, w, t_max)
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(ref))
    fin = np.isfinite(ref)
    assert np.all(np.abs(got[fin] - ref[fin]) <= 1e-12 * np.maximum(1.0, np.abs(ref[fin])))


def test_loglik_batch_matches_numpy_reference(monkeypatch):
    import rlddm

    rng = np.random.default_rng(13)
    theta = np.array([[2.0, 1.5, 0.5, 0.3, 0.5], [-1.0, 2.5, 0.4, 0.2, 0.3]])
    outcomes = rlddm.ReversalDesign().sample(2, n_trials=120, seed=3)
    data = rlddm.simulate(theta, outcomes, seed=4, method="exact")
    rt, choice, reward = data.rt, data.choice, data.reward
    rows = theta[:, None, :] + rng.normal(0.0, 0.05, (2, 4, 5))
    got = L.loglik_batch(rows, rt, choice, reward)
    monkeypatch.setattr(L, "_log_decision", L._log_decision_numpy)
    ref = L.loglik_batch(rows, rt, choice, reward)
    np.testing.assert_allclose(got, ref, rtol=1e-13, atol=1e-11)


def test_wrapper_accepts_any_dtype_and_layout():
    rng = np.random.default_rng(17)
    t, choice, v, a, w = realistic(rng, 64)
    expected = compiled_density(t, choice, v, a, w)
    strided = [np.repeat(x, 2)[::2] for x in (t, v, a, w)]
    got = L._wiener_log_density(strided[0], choice.astype(np.int64), *strided[1:])
    np.testing.assert_array_equal(got, expected)


def test_normaliser_matches_numpy_series():
    """log P(T < t_max), compiled for u >= 1/2, against `_log_response_finite`, same tolerance."""
    rng = np.random.default_rng(19)
    n = 100_000
    u = np.concatenate([log_uniform(rng, 0.5, 1e4, n // 2), log_uniform(rng, 1e-3, 0.5, n // 4),
                        np.full(n // 4, 0.5)])
    s = rng.choice([-1.0, 1.0], n) * log_uniform(rng, 1e-8, 1e3, n)
    s[:1000] = rng.choice([-1.0, 1.0], 1000) * log_uniform(rng, 1e100, 1e300, 1000)
    s[1000:1100] = 0.0
    w = rng.uniform(0.0, 1.0, n)
    w[:20_000] = log_uniform(rng, 1e-300, 1e-2, 20_000)
    w[10_000:20_000] = 1.0 - w[10_000:20_000]
    w = np.clip(w, 5e-324, np.nextafter(1.0, 0.0))
    with L._extremes_ok():
        ref = L._log_response_finite(u, s, w, 1.0 - w)
    got = L._log_response(u, s, w)
    direct = np.empty(n)
    n_left = _sim.wiener_log_response(u, s, w, direct)
    served = ~np.isnan(direct)
    assert n_left == np.sum(~served)
    # served: exactly the large-time elements within the fast path's limits
    expected = (u >= 0.5) & (np.abs(s) <= 1e150) & (np.minimum(w, 1.0 - w) >= 1e-10)
    np.testing.assert_array_equal(served, expected)
    assert not np.isnan(got).any()
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(ref))
    fin = np.isfinite(ref)
    np.testing.assert_array_less(np.abs(got[fin] - ref[fin]),
                                 1e-12 * np.maximum(1.0, np.abs(ref[fin])) + 1e-300)
    assert np.all(got <= 0.0)


def test_thread_count_does_not_change_a_bit():
    """The density and its normaliser on 1, 2 and all threads: identical arrays (each
    element is computed alone; 50,000 elements are well above the parallel threshold)."""
    rng = np.random.default_rng(21)
    n = 50_000
    t, v = rng.uniform(0.01, 3.0, n), rng.normal(0.0, 3.0, n)
    a, w = rng.uniform(0.3, 3.0, n), rng.uniform(0.05, 0.95, n)
    choice = rng.integers(0, 2, n).astype(np.int8)
    u, s = rng.uniform(0.5, 20.0, n), rng.normal(0.0, 5.0, n)
    results = []
    for threads in (1, 2, 0):
        density, response = np.empty(n), np.empty(n)
        assert _sim.wiener_log_density(t, choice, v, a, w, density, threads) == 0
        _sim.wiener_log_response(u, s, w, response, threads)
        results.append((density, response))
    for density, response in results[1:]:
        assert np.array_equal(density, results[0][0])
        assert np.array_equal(response, results[0][1], equal_nan=True)
