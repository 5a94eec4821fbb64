"""Tests of rlddm.likelihood: Wiener first-passage density and CDF, and the default model's log-likelihood.

Every registered model's likelihood (options, lapses, PIT calibration) is tested in
``test_models_likelihood.py``.
"""

import itertools
import re

import numpy as np
import pytest
from scipy import integrate, stats

from rlddm.likelihood import (log_prob_response, loglik, loglik_batch, loglik_trials, wfpt_logcdf,
                              wfpt_logpdf)
from rlddm.model import MODELS

# Grid from the brief: small and large boundary separation, strong drifts either way,
# start points near both boundaries.
A_GRID = (0.08, 1.0, 4.0)
V_GRID = (-6.0, -1.0, 0.0, 2.5, 6.0)
W_GRID = (0.1, 0.5, 0.9)


def p_lower(v, a, w):
    """Gambler's-ruin probability of absorbing at 0 (drift v > 0 points up, to a)."""
    if v == 0:
        return 1.0 - w
    return (1.0 - np.exp(2.0 * v * a * (1.0 - w))) / (1.0 - np.exp(2.0 * v * a))


def mean_decision_time(v, a, w):
    """E[T] over both boundaries, from Wald's identity a P(upper) - a w = v E[T]."""
    if v == 0:
        return a * w * (a - a * w)
    return (a * (1.0 - p_lower(v, a, w)) - a * w) / v


def integrate_density(choice, v, a, w, t_hi=np.inf, moment=0):
    """Integral of t**moment * density over (0, t_hi), by quad in log standardised time.

    In x = log(t / a**2) the density is a smooth bump of width O(1) for every
    parameter set on the grid, which quad resolves to ~1e-12; the range
    u in (1e-7, 400) drops mass below exp(-w**2 / 2e-7) and exp(-pi**2 * 200).
    """

    def integrand(x):
        t = a * a * np.exp(x)
        return np.exp(wfpt_logpdf(t, choice, v, a, w)) * t ** (moment + 1)

    x_hi = min(np.log(400.0), np.log(t_hi / a**2))
    value, err = integrate.quad(integrand, np.log(1e-7), x_hi, epsabs=1e-13, epsrel=1e-11, limit=200)
    assert err < 1e-9
    return value


# ----------------------------------------------------------------------------------
# Density
# ----------------------------------------------------------------------------------


@pytest.mark.parametrize("a, v, w", list(itertools.product(A_GRID, V_GRID, W_GRID)))
def test_density_integrates_to_boundary_probabilities(a, v, w):
    """Each boundary integrates to the gambler's-ruin probability, both to 1.

    quad is accurate to ~1e-11 here, the series to ~1e-14; 1e-9 leaves room for quad.
    """
    lower = integrate_density(1, v, a, w)
    upper = integrate_density(0, v, a, w)
    assert lower + upper == pytest.approx(1.0, abs=1e-9)
    assert lower == pytest.approx(p_lower(v, a, w), rel=1e-8, abs=1e-12)


@pytest.mark.parametrize(
    "a, v, w", [(0.08, 6.0, 0.1), (1.0, -1.0, 0.5), (1.0, 2.5, 0.9), (4.0, 0.0, 0.5), (4.0, -6.0, 0.1)]
)
def test_mean_decision_time(a, v, w):
    """First moment over both boundaries matches Wald's identity (quad accuracy ~1e-10)."""
    mean = integrate_density(0, v, a, w, moment=1) + integrate_density(1, v, a, w, moment=1)
    assert mean == pytest.approx(mean_decision_time(v, a, w), rel=1e-8)


def naive_small_time(u, w, n_terms=30):
    """Image series of the drift-free unit density, summed directly with 2n+1 terms.

    Returns the sum and its rounding bound, (number of terms) * eps * sum |terms|.
    """
    k = np.arange(-n_terms, n_terms + 1)
    x = w + 2.0 * k
    terms = x * np.exp(-x * x / (2.0 * u)) / np.sqrt(2.0 * np.pi * u**3)
    return terms.sum(), terms.size * np.finfo(float).eps * np.abs(terms).sum()


def naive_large_time(u, w, n_terms=200):
    """Fourier series of the drift-free unit density, summed directly; sum and rounding bound."""
    k = np.arange(1, n_terms + 1)
    terms = np.pi * k * np.exp(-k * k * np.pi**2 * u / 2.0) * np.sin(k * np.pi * w)
    return terms.sum(), terms.size * np.finfo(float).eps * np.abs(terms).sum()


@pytest.mark.parametrize("u", [0.1, 0.3, 0.45, 0.55, 0.8, 2.0])
@pytest.mark.parametrize("w", [1e-4, 0.1, 0.5, 0.77, 1 - 1e-4])
@pytest.mark.parametrize("boundary", [0, 1])
@pytest.mark.parametrize("v, a", [(0.0, 1.0), (1.7, 0.6), (-3.0, 2.2)])
def test_density_matches_both_series_summed_naively(u, w, boundary, v, a):
    """Agreement with both Navarro-Fuss series summed with many terms in linear space.

    At these u both naive series have converged far below double precision, so each
    is off only by its own rounding, bounded by (terms) * eps * sum |terms|; that
    bound (relative) plus 1e-12 is the tolerance. It is large where a naive sum
    cancels (image series at large u and w near 0, Fourier series at small u), but
    at every point one of the two is sharp (relative bound below 1e-10).
    """
    # Upper boundary: lower-boundary formula with v -> -v, w -> 1 - w.
    v_low, w_low = (-v, 1.0 - w) if boundary == 0 else (v, w)
    tolerances = []
    for value, rounding in (naive_small_time(u, w_low), naive_large_time(u, w_low)):
        tol = 1e-12 + rounding / value
        tolerances.append(tol)
        expected = np.log(value) - v_low * a * w_low - v * v * a * a * u / 2.0 - 2.0 * np.log(a)
        assert wfpt_logpdf(u * a * a, boundary, v, a, w) == pytest.approx(expected, rel=tol, abs=tol)
    assert min(tolerances) < 1e-10


def test_density_is_finite_in_far_tails():
    """Log space keeps densities that underflow in linear space, without NaN."""
    t = np.array([1e-6, 1e-3, 50.0, 1e4])
    out = wfpt_logpdf(t, 1, 3.0, 1.5, 0.3)
    assert np.all(np.isfinite(out))
    assert out[0] < -1e4 and out[-1] < -1e4  # exp() of these would be 0


@pytest.mark.parametrize("u", [0.1, 2.0])  # image and Fourier series
@pytest.mark.parametrize("choice", [0, 1])
def test_start_point_next_to_lower_boundary_keeps_relative_accuracy(u, choice):
    """With w = d -> 0 both boundary densities are linear in d.

    The series are odd in d, and the drift factor changes by exp(-v a d) when d
    doubles (exp(-v a w) at the lower, exp(v a (1 - w)) at the upper boundary), so
    doubling d adds log 2 - v a d + O(d**2). At the upper boundary the formulas use
    1 - w; recomputing d as 1 - (1 - d) would be off by ~1e-4 relative at d = 1e-12.
    (Start points next to the upper boundary cannot be given more precisely than the
    spacing of floats below 1, so that side is not tested the same way.)
    """
    v, a, d = 1.3, 0.9, 1e-12
    t = u * a * a
    step = wfpt_logpdf(t, choice, v, a, 2 * d) - wfpt_logpdf(t, choice, v, a, d)
    assert step == pytest.approx(np.log(2.0) - v * a * d, abs=1e-12)


# Log densities at v = 0.7, a = 1.5 with the start point at the smallest subnormal
# double (5e-324) from the lower boundary, from the image series summed with 420-digit
# mpmath (81 images): t = 0.05, 0.3 (image series) and 2.0 (Fourier series).
SUBNORMAL_START = {0: (-757.44486012166858, -743.35613678252637, -746.78804091942469),
                   1: (-740.47219693614678, -743.22110388248085, -747.83802550228951)}


@pytest.mark.parametrize("choice", [0, 1])
def test_start_point_a_subnormal_away_from_a_boundary_keeps_full_accuracy(choice):
    """Below the normal range the series' small products (2 m gap / u, 4 k w / u,
    pi w) lose digits; they are formed from their factors there instead. The upper
    boundary at w = 5e-324 used to give +inf (a ratio to a subnormal first image pair
    overflowed)."""
    got = wfpt_logpdf(np.array([0.05, 0.3, 2.0]), choice, 0.7, 1.5, 5e-324)
    np.testing.assert_allclose(got, SUBNORMAL_START[choice], rtol=1e-15)
    # and on both sides of the normal range the density stays linear in w
    steps = np.diff(wfpt_logpdf(0.3, choice, 0.7, 1.5, np.array([1e-310, 1e-306, 1e-302])))
    np.testing.assert_allclose(steps, 4 * np.log(10.0), rtol=1e-13)


def test_extreme_but_valid_inputs_give_no_nan_and_no_warnings():
    """Ends of the float range overflow to the right limits, silently and without NaN."""
    grid = np.meshgrid(
        [1e-320, 1e-200, 1e-3, 1.0, 1e3, 1e300],  # t
        [0, 1],  # choice
        [-1e100, -30.0, 0.0, 1e-300, 30.0, 1e100],  # v
        [1e-100, 1e-3, 1.0, 1e3],  # a
        [5e-324, 1e-300, 1e-12, 0.5, 1 - 1e-16],  # w
        indexing="ij",
    )
    t, choice, v, a, w = (g.ravel() for g in grid)
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        for out in (
            wfpt_logpdf(t, choice, v, a, w),
            wfpt_logcdf(t, choice, v, a, w),
            log_prob_response(v, a, w, t),
        ):
            assert not np.any(np.isnan(out))
    assert np.all(log_prob_response(v, a, w, t) <= 0.0)
    assert not np.any(wfpt_logpdf(t, choice, v, a, w) == np.inf)


def test_broadcasting_and_scalars():
    t = np.linspace(0.1, 2.0, 4)[:, None]
    out = wfpt_logpdf(t, [0, 1], 1.0, 1.2, 0.4)
    assert out.shape == (4, 2)
    assert out[2, 1] == wfpt_logpdf(t[2, 0], 1, 1.0, 1.2, 0.4)
    assert isinstance(wfpt_logpdf(0.5, 0, 1.0, 1.0, 0.5), float)


@pytest.mark.parametrize("t", [0.0, -1.0, -np.inf, np.inf])
def test_impossible_decision_time_gives_minus_inf(t):
    assert wfpt_logpdf(t, 0, 1.0, 1.0, 0.5) == -np.inf
    assert wfpt_logpdf(t, 1, 1.0, 1.0, 0.5) == -np.inf


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(choice=2), r"choice .* got 2\.0"),
        (dict(choice=np.nan), r"choice must be a number \(not NaN\), got nan"),
        (dict(t=[0.5, np.nan]), r"t must be a number \(not NaN\), got nan at index \(1,\)"),
        (dict(v=np.inf), r"v must be finite, got inf"),
        (dict(a=0.0), r"a must be finite and > 0, got 0\.0"),
        (dict(a=-1.0), r"a must be finite and > 0, got -1\.0"),
        (dict(w=0.0), r"w must be in \(0, 1\), got 0\.0"),
        (dict(w=1.0), r"w must be in \(0, 1\), got 1\.0"),
    ],
)
def test_bad_density_inputs_raise(kwargs, match):
    args = dict(t=0.5, choice=0, v=1.0, a=1.0, w=0.5) | kwargs
    with pytest.raises(ValueError, match=match):
        wfpt_logpdf(**args)
    with pytest.raises(ValueError, match=match):
        wfpt_logcdf(**args)


# ----------------------------------------------------------------------------------
# CDF and response probability
# ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "a, v, w", [(0.08, 6.0, 0.1), (1.0, -1.0, 0.5), (1.0, 2.5, 0.9), (4.0, 0.0, 0.3), (4.0, -6.0, 0.9)]
)
@pytest.mark.parametrize("u_hi", [0.02, 0.3, 0.7, 3.0])
@pytest.mark.parametrize("choice", [0, 1])
def test_cdf_matches_integrated_density(a, v, w, u_hi, choice):
    """Both CDF series (u < 0.5 image, u >= 0.5 Fourier) against quad (~1e-11)."""
    t = u_hi * a * a
    expected = integrate_density(choice, v, a, w, t_hi=t)
    assert np.exp(wfpt_logcdf(t, choice, v, a, w)) == pytest.approx(expected, rel=1e-8, abs=1e-13)


@pytest.mark.parametrize("a, v, w", [(1.0, 2.5, 0.9), (4.0, -6.0, 0.1), (0.7, 0.0, 0.5)])
def test_cdf_limits(a, v, w):
    assert wfpt_logcdf(np.inf, 1, v, a, w) == pytest.approx(np.log(p_lower(v, a, w)), rel=1e-12)
    assert wfpt_logcdf(0.0, 1, v, a, w) == -np.inf
    assert log_prob_response(v, a, w, np.inf) == 0.0
    assert log_prob_response(v, a, w, 0.0) == -np.inf


@pytest.mark.parametrize(
    "a, v, w", list(itertools.product((0.08, 1.0, 3.0, 4.0, 10.0), (-6.0, 0.0, 2.5), (0.1, 0.5, 0.9)))
)
def test_log_prob_response_matches_integrated_density(a, v, w):
    """log P(T < 9 s) against quad of both boundaries; a = 4 and 10 use the image series.

    Compared in linear space (quad ~1e-11 absolute) and, where the probability is
    not ~1, as a log.
    """
    t_max = 9.0
    expected = integrate_density(0, v, a, w, t_hi=t_max) + integrate_density(1, v, a, w, t_hi=t_max)
    got = log_prob_response(v, a, w, t_max)
    assert np.exp(got) == pytest.approx(expected, abs=1e-9)
    assert got == pytest.approx(np.log(expected), rel=1e-8, abs=1e-9)
    assert got <= 0.0


def test_log_prob_response_is_sum_of_boundary_cdfs():
    """The combined survival series agrees with the two per-boundary CDFs."""
    rng = np.random.default_rng(3)
    v, a, w = rng.normal(0, 4, 2000), rng.uniform(0.05, 6, 2000), rng.uniform(0.01, 0.99, 2000)
    t_max = rng.uniform(0.01, 10, 2000)
    both = np.logaddexp(wfpt_logcdf(t_max, 0, v, a, w), wfpt_logcdf(t_max, 1, v, a, w))
    np.testing.assert_allclose(log_prob_response(v, a, w, t_max), both, rtol=1e-11, atol=1e-12)


# ----------------------------------------------------------------------------------
# Against simulated first passages
# ----------------------------------------------------------------------------------


def simulate_bridge_walk(v, a, w, n, dt, rng):
    """Decision times and choices from a Gaussian walk with Brownian-bridge crossing checks.

    Gaussian increments of a constant-drift Wiener process are exact. A plain Euler
    walk only looks at the boundaries at grid times, so it misses excursions between
    them and decides late by O(sqrt(dt)); here a step whose end points are both
    inside still ends the trial with the bridge probability exp(-2 d0 d1 / dt) of
    having touched the boundary (d0, d1: distances to it), which is exact given the
    end points. What remains is the hit time's position inside the step (taken as
    the midpoint, error <= dt / 2) and steps touching both boundaries (probability
    O(exp(-a**2 / dt)), nil here).
    """
    x = np.full(n, a * w)
    t = np.zeros(n)
    choice = np.full(n, -1)
    alive = np.arange(n)
    step = 0
    while alive.size:
        step += 1
        x0 = x[alive]
        x1 = x0 + v * dt + np.sqrt(dt) * rng.standard_normal(alive.size)
        inside = (x1 > 0) & (x1 < a)
        p_up = np.where(inside, np.exp(-2.0 * (a - x0) * (a - np.minimum(x1, a)) / dt), 1.0)
        p_lo = np.where(inside, np.exp(-2.0 * x0 * np.maximum(x1, 0.0) / dt), 1.0)
        draw = rng.random(alive.size)
        up = np.where(inside, draw < p_up, x1 >= a)
        lo = np.where(inside, (draw >= p_up) & (draw < p_up + p_lo), x1 <= 0)
        done = up | lo
        choice[alive[up]] = 0
        choice[alive[lo]] = 1
        t[alive[done]] = (step - 0.5) * dt
        x[alive] = x1
        alive = alive[~done]
    return t, choice


def signed_cdf(y, v, a, w):
    """CDF of y = +t for upper-boundary and -t for lower-boundary decisions."""
    y = np.asarray(y, dtype=float)
    p_low = np.exp(wfpt_logcdf(np.inf, 1, v, a, w))
    below = p_low - np.exp(wfpt_logcdf(-y, 1, v, a, w))  # lower hit at t >= -y
    above = p_low + np.exp(wfpt_logcdf(y, 0, v, a, w))
    return np.where(y < 0, below, above)


@pytest.mark.statistical
def test_simulated_first_passages_match_cdf():
    """KS test of 4000 simulated (choice, time) pairs against the series CDF.

    Both boundaries enter through the signed time y. The walk's bias (time
    placement, <= 5e-4 s) moves the CDF by < 1e-3, against a KS critical value of
    1.63 / sqrt(4000) = 0.026 at level 0.01. Negative control: the same sample is
    tested against a drift off by 0.25, whose CDF differs from the true one by more
    than twice the critical value, so the KS test rejects it with power ~1.
    """
    v, a, w, n = 0.8, 1.2, 0.4, 4000
    t, choice = simulate_bridge_walk(v, a, w, n, dt=1e-3, rng=np.random.default_rng(20240611))
    y = np.where(choice == 0, t, -t)
    assert stats.kstest(y, lambda q: signed_cdf(q, v, a, w)).pvalue > 0.01

    v_wrong = v + 0.25
    grid = np.linspace(-6, 6, 4001)
    critical = 1.63 / np.sqrt(n)
    assert np.max(np.abs(signed_cdf(grid, v, a, w) - signed_cdf(grid, v_wrong, a, w))) > 2 * critical
    assert stats.kstest(y, lambda q: signed_cdf(q, v_wrong, a, w)).pvalue < 1e-3


# ----------------------------------------------------------------------------------
# RLDDM log-likelihood
# ----------------------------------------------------------------------------------

THETA = np.array([2.0, 1.5, 0.4, 0.25, 0.3])  # drift, alpha, beta, ter, kappa


@pytest.fixture
def data():
    """60 trials with plausible RTs, one missed trial (choice -1, rt NaN)."""
    rng = np.random.default_rng(7)
    n = 60
    choice = rng.integers(0, 2, n)
    reward = rng.integers(0, 2, n).astype(float)
    rt = rng.uniform(0.35, 2.5, n)
    choice[10], rt[10], reward[10] = -1, np.nan, np.nan
    return rt, choice, reward


def loglik_by_trial(theta, rt, choice, reward, t_max=9.0):
    """Readable RLDDM likelihood: a Python loop over trials, one scalar call per term."""
    drift, alpha, beta, ter, kappa = theta
    q = [0.5, 0.5]
    total = 0.0
    for r, c, x in zip(rt, choice, reward):
        if c == -1:
            continue
        v = drift * (q[0] - q[1])
        total += wfpt_logpdf(r - ter, c, v, alpha, beta) - log_prob_response(v, alpha, beta, t_max)
        q[c] += kappa * (x - q[c])
    return total


def test_loglik_matches_trial_loop(data):
    assert loglik(THETA, *data) == pytest.approx(loglik_by_trial(THETA, *data), rel=1e-12)
    assert isinstance(loglik(THETA, *data), float)


def test_loglik_kappa_zero_is_sum_of_wfpt_terms_with_zero_drift(data):
    rt, choice, reward = data
    drift, alpha, beta, ter, _ = THETA
    answered = choice != -1
    per_trial = wfpt_logpdf(rt[answered] - ter, choice[answered], 0.0, alpha, beta)
    expected = np.sum(per_trial - log_prob_response(0.0, alpha, beta, 9.0))
    assert loglik([drift, alpha, beta, ter, 0.0], *data) == pytest.approx(expected, rel=1e-13)


def test_loglik_many_thetas_equals_separate_calls(data):
    rng = np.random.default_rng(11)
    thetas = np.column_stack(
        [
            rng.normal(0, 2, 50),  # drift
            rng.uniform(0.3, 5, 50),  # alpha
            rng.uniform(0.05, 0.95, 50),  # beta
            rng.uniform(0, 0.3, 50),  # ter
            rng.uniform(0, 1, 50),  # kappa
        ]
    )
    thetas[3] = [1.0, -1.0, 0.5, 0.1, 0.5]  # outside the support
    together = loglik(thetas, *data)
    assert together.shape == (50,)
    separate = np.array([loglik(th, *data) for th in thetas])
    # The series' truncation adapts to the extremes of what is evaluated together, so
    # the two agree to rounding, not bit for bit.
    np.testing.assert_array_equal(np.isfinite(together), np.isfinite(separate))
    finite = np.isfinite(separate)
    np.testing.assert_allclose(together[finite], separate[finite], rtol=1e-14)
    assert together[3] == -np.inf and np.all(np.isfinite(np.delete(together, 3)))


def test_missed_trials_are_skipped(data):
    rt, choice, reward = data
    kept = choice != -1
    assert loglik(THETA, *data) == loglik(THETA, rt[kept], choice[kept], reward[kept])


@pytest.mark.parametrize(
    "theta",
    [
        [2.0, 0.0, 0.4, 0.25, 0.3],
        [2.0, 1.5, 0.0, 0.25, 0.3],
        [2.0, 1.5, 1.0, 0.25, 0.3],
        [2.0, 1.5, 0.4, -0.01, 0.3],
        [2.0, 1.5, 0.4, 0.25, 1.01],
        [2.0, 1.5, 0.4, 0.25, -0.1],
    ],
)
def test_loglik_outside_support_is_minus_inf(theta, data):
    assert loglik(theta, *data) == -np.inf


def test_impossible_rt_gives_minus_inf_not_nan(data):
    rt, choice, reward = data
    ter_above_fastest = np.nanmin(rt) + 0.01
    assert loglik([2.0, 1.5, 0.4, ter_above_fastest, 0.3], *data) == -np.inf
    late = rt.copy()
    late[0] = THETA[3] + 9.5  # decision time beyond t_max = 9 s
    assert loglik(THETA, late, choice, reward) == -np.inf
    assert np.isfinite(loglik(THETA, late, choice, reward, max_steps=1000))
    # A trial decided in the simulator's last step, its rt stored as float32, ends
    # 2e-8 s after t_max; that must still count.
    theta = THETA.copy()
    theta[3] = 0.3
    late[0] = np.float32(900 * 0.01 + theta[3])
    assert late[0] - theta[3] > 9.0
    assert np.isfinite(loglik(theta, late, choice, reward))


def test_loglik_gradient_is_finite(data):
    """Central differences at two step sizes agree: the surface is smooth where positive.

    Truncation error of a central difference is O(h**2) and rounding O(eps * |ll| / h),
    ~1e-7 relative at these steps, so 1e-5 is loose.
    """
    base = loglik(THETA, *data)
    assert np.isfinite(base)
    for i in range(5):
        grads = []
        for h in (1e-4, 1e-5):
            step = np.zeros(5)
            step[i] = h
            grads.append((loglik(THETA + step, *data) - loglik(THETA - step, *data)) / (2 * h))
        assert np.all(np.isfinite(grads))
        assert grads[0] == pytest.approx(grads[1], rel=1e-5, abs=1e-6)


@pytest.mark.parametrize(
    "change, match",
    [
        (dict(theta=[1.0, 1.0, 0.5, 0.1]),
         r"theta must have shape \(5,\) or \(B, 5\) .*model 'rlddm' \(order drift, alpha, beta, "
         r"ter, kappa\), got shape \(4,\)"),
        (dict(theta=np.ones((2, 3, 5))), r"theta must have shape"),
        (dict(theta=[1.0, np.nan, 0.5, 0.1, 0.5]), r"theta must be finite, got alpha = nan at row 0"),
        (
            dict(theta=[[1.0, 1.0, 0.5, 0.1, 0.5], [np.inf, 1.0, 0.5, 0.1, 0.5]]),
            r"theta must be finite, got drift = inf at row 1",
        ),
        (dict(theta="1.0"), r"theta must be a real numeric array, got dtype <U3"),
        (dict(theta=[1.0, 10**400, 0.5, 0.1, 0.5]), r"theta must be a real numeric array, got dtype object"),
        (dict(theta=[[1.0, 1.0], [0.5]]), r"theta must be a real numeric array"),
        (dict(theta=[True, True, True, False, True]), r"theta must be a real numeric array, got dtype bool"),
        (dict(choice=[0, 2, 1]), r"choice must be -1 \(missed\), 0 or 1, got 2\.0 at index \(1,\)"),
        (dict(choice=["a", 0, 1]), r"choice must be a real numeric array, got dtype <U"),
        (dict(rt=["0.5", "0.6", "0.7"]), r"rt must be a real numeric array, got dtype <U3"),
        (dict(reward=[1, 10**400, 0]), r"reward must be a real numeric array, got dtype object"),
        (dict(reward=[0, np.inf, 1]),
         r"reward must be a finite number of magnitude at most 8\.98847e\+307, or NaN \(no "
         r"feedback\), on answered trials, got inf at index \(1,\)"),
        (dict(rt=[0.5, np.nan, 0.7]), r"rt must be finite on answered trials, got nan at index \(1,\)"),
        (dict(rt=[0.5, 0.6]), r"rt, choice and reward must have the same shape"),
        (dict(rt=[[0.5, 0.6, 0.7]]), r"rt must have shape \(T,\)"),
        (dict(rt=[], choice=[], reward=[]), r"at least one trial"),
        (dict(dt=0.0), r"dt must be a finite number > 0, got 0\.0"),
        (dict(dt="0.01"), r"dt must be a finite number, got '0\.01'"),
        (dict(dt=10**400), r"dt must be a finite number, got 1000"),
        (dict(dt=True), r"dt must be a finite number, got True"),
        (dict(max_steps=0), r"max_steps must be an integer >= 1, got 0"),
        (dict(max_steps=900.5), r"max_steps must be an integer >= 1, got 900\.5"),
        (dict(max_steps="900"), r"max_steps must be an integer >= 1, got '900'"),
        (dict(max_steps=10**400), r"max_steps must be < 2\*\*31"),
        (dict(dt=1e300, max_steps=10**9), r"dt \* max_steps \(the response deadline\) must be finite"),
        (dict(q0=np.nan), r"q0 must be a finite number, got nan"),
        (dict(q0="0.5"), r"q0 must be a finite number, got '0\.5'"),
        (dict(model="rl_ddm"), "model must be one of " + re.escape(str(list(MODELS)))),
    ],
)
def test_bad_loglik_inputs_raise(change, match):
    """Every bad argument raises ValueError naming it (never TypeError or OverflowError),
    with one wording per rule across the package (dt and max_steps: rlddm._checks)."""
    args = dict(theta=THETA, rt=[0.5, 0.6, 0.7], choice=[0, 1, 0], reward=[1, 0, 1]) | change
    options = {k: args.pop(k) for k in ("dt", "max_steps", "q0", "model") if k in args}
    for function in (loglik, loglik_trials):
        with pytest.raises(ValueError, match=match):
            function(args["theta"], args["rt"], args["choice"], args["reward"], **options)


# ----------------------------------------------------------------------------------
# Default model: results pinned, extremes
# ----------------------------------------------------------------------------------


def synthetic_data(seed, n=40):
    """Random choices, rewards and RTs (not from the simulator, so the pin below does not
    move when the simulator does), with trial 5 missed."""
    rng = np.random.default_rng(seed)
    choice = rng.integers(0, 2, n)
    reward = rng.integers(0, 2, n).astype(float)
    rt = rng.uniform(0.35, 2.5, n)
    choice[5], rt[5], reward[5] = -1, np.nan, np.nan
    return rt, choice, reward


PINNED_THETAS = np.array([[2.0, 1.5, 0.4, 0.25, 0.3], [-1.0, 0.8, 0.6, 0.1, 0.9], [0.5, 2.5, 0.5, 0.3, 0.0]])
# loglik of PINNED_THETAS on synthetic_data(1) from the five-parameter code before
# models were added (main at 9996320).
PINNED_LOGLIK = (-105.27971875662894, -397.9754063713486, -80.83582474202632)


def test_default_model_results_are_unchanged():
    rt, choice, reward = synthetic_data(1)
    np.testing.assert_allclose(loglik(PINNED_THETAS, rt, choice, reward), PINNED_LOGLIK, rtol=1e-14)
    per_trial = loglik_trials(PINNED_THETAS, rt, choice, reward)
    assert per_trial.shape == (3, 40) and np.all(per_trial[:, 5] == 0.0)
    np.testing.assert_allclose(per_trial.sum(axis=1), PINNED_LOGLIK, rtol=1e-14)
    assert loglik_trials(PINNED_THETAS[0], rt, choice, reward).shape == (40,)


def test_extreme_parameters_give_finite_or_minus_inf_and_batch_agrees():
    """The fuzzing pass's cases: beta = 5e-324 gave +inf, alpha = 1e300 NaN in the batch.

    Every parameter at the ends of its support and of the float range: the likelihood
    is finite or -inf, never +inf or NaN, and loglik_batch (the same code path) agrees.
    """
    rt, choice, reward = synthetic_data(2, n=12)
    values = {0: [-1e300, -1e3, 0.0, 1e3, 1e300], 1: [5e-324, 1e-300, 1e-3, 1e3, 1e300],
              2: [5e-324, 1e-300, 0.5, 1 - 1e-16], 3: [0.0, 0.3, 1e300], 4: [0.0, 1.0]}
    rows = np.array(list(itertools.product(*values.values())))
    total = loglik(rows, rt, choice, reward)
    assert not np.any(np.isnan(total) | (total == np.inf))
    batch = loglik_batch(rows[None], rt, choice, reward)[0]
    np.testing.assert_array_equal(np.isneginf(batch), np.isneginf(total))
    finite = np.isfinite(total)
    np.testing.assert_allclose(batch[finite], total[finite], rtol=1e-13)
    assert np.isfinite(loglik([2.0, 1.5, 5e-324, 0.2, 0.3], rt, choice, reward))
    assert loglik([2.0, 1e300, 0.5, 0.2, 0.3], rt, choice, reward) == -np.inf
