"""Exact first-passage sampler (``method="exact"``): agreement with its Python mirror and
its law against the exact Wiener first-passage CDF of ``rlddm.likelihood``.

The sampler (``_wiener.h``) and ``likelihood.wfpt_logcdf`` were written independently,
so agreement checks both; a failure needs a look at which side is wrong
(``scipy.integrate.quad`` of ``exp(wfpt_logpdf)`` settles it).

The low-level entry point used here:

    first_passage_batch(v, a, w, key0, key1, index, decision_time, choice) -> None
        v, a, w : float64 (n,); decision_time : float64 (n,) out; choice : int8 (n,) out
        Draw i = 0..n-1 in order on the Philox stream (key0, key1, index), choice 0 =
        upper boundary a, 1 = lower boundary 0, as in the kernel.

Statistics. Every test uses a fixed seed and a per-test false-positive rate of
ALPHA = 1e-4 (about 2 % over the ~200 tests of the grid if every null held and the
streams were fresh). Power at n = 20,000 draws: the two-sided binomial test
detects a choice-probability error of 0.018 at P = 0.5 (0.011 at P = 0.1) with
power 0.9; the KS test rejects at sup|F_n - F| > sqrt(ln(2/ALPHA) / (2 n)) = 0.0157,
so a CDF error of 0.025 is caught with power > 0.9 (for a boundary hit k < n
times the detectable error grows as 3.3 / sqrt(k)). The negative controls below
(drift shifted by 15 %, times stretched by 5 %, the Euler walk at dt = 0.01) show
these tests can fail.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

import rlddm
from rlddm import reference
from rlddm.simulator import _sim, _wiener_reference
from rlddm._seeding import stream_generator, stream_key
from rlddm.likelihood import rt_pit, wfpt_logcdf
from rlddm.priors import Priors

ALPHA = 1e-4
N_DRAWS = 20_000
MIN_PER_BOUNDARY = 100


# Drift, boundary separation and start point spanning the supported range: tiny and
# large alpha, strong drifts of both signs, start points near either boundary.
GRID = list(itertools.product([-6.0, -2.0, 0.0, 0.7, 3.0, 6.0], [0.08, 0.5, 1.5, 4.0],
                              [0.1, 0.5, 0.9]))
# Corners of the documented domain (|v| <= 10, 0.01 <= a <= 5, 0.01 <= w <= 0.99).
CORNERS = list(itertools.product([-10.0, 0.0, 10.0], [0.01, 5.0], [0.01, 0.99]))


def p_choice(choice: int, v: float, a: float, w: float) -> float:
    """Probability of ever absorbing at boundary ``choice`` (0 = upper a, 1 = lower 0)."""
    return math.exp(wfpt_logcdf(np.inf, choice, v, a, w))


def conditional_cdf(t: np.ndarray, choice: int, v: float, a: float, w: float) -> np.ndarray:
    """P(T <= t | boundary ``choice``) from the exact defective CDF of rlddm.likelihood."""
    return np.exp(wfpt_logcdf(t, choice, v, a, w) - wfpt_logcdf(np.inf, choice, v, a, w))


def draw(v: float, a: float, w: float, n: int, seed: int,
         index: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n draws at one parameter set on stream ``index`` of ``seed``: (time, choice)."""
    key0, key1 = stream_key(seed)
    decision_time = np.empty(n)
    choice = np.empty(n, dtype=np.int8)
    _sim.first_passage_batch(np.full(n, float(v)), np.full(n, float(a)), np.full(n, float(w)),
                        key0, key1, index, decision_time, choice)
    return decision_time, choice


def law_p_values(decision_time, choice, v, a, w):
    """Binomial p-value of the upper-boundary count and KS p-values per boundary."""
    n_upper = int(np.count_nonzero(choice == 0))
    binomial = stats.binomtest(n_upper, choice.size, p_choice(0, v, a, w)).pvalue
    ks = {}
    for code in (0, 1):
        times = decision_time[choice == code]
        if times.size >= MIN_PER_BOUNDARY:
            ks[code] = stats.ks_1samp(
                times, lambda s, code=code: conditional_cdf(s, code, v, a, w)).pvalue
    return binomial, ks


@pytest.mark.parametrize("index", range(len(GRID[::5]) + len(CORNERS)))
def test_matches_python_mirror_bitwise(index):
    v, a, w = (GRID[::5] + CORNERS)[index]
    decision_time, choice = draw(v, a, w, 300, seed=11, index=index)
    rng = stream_generator(stream_key(11), index)
    mirror = [_wiener_reference.first_passage(rng, v, a, w) for _ in range(300)]
    np.testing.assert_array_equal(decision_time, [t for t, _ in mirror])
    np.testing.assert_array_equal(choice, [0 if upper else 1 for _, upper in mirror])


@pytest.mark.statistical
@pytest.mark.parametrize("index", range(len(GRID)))
def test_law_on_grid(index):
    v, a, w = GRID[index]
    decision_time, choice = draw(v, a, w, N_DRAWS, seed=20_000 + index)
    assert np.all(np.isfinite(decision_time)) and np.all(decision_time > 0)
    binomial, ks = law_p_values(decision_time, choice, v, a, w)
    assert binomial > ALPHA, f"P(upper) off at v={v}, a={a}, w={w}: p={binomial:.2e}"
    for code, p in ks.items():
        assert p > ALPHA, f"times at boundary {code} off at v={v}, a={a}, w={w}: p={p:.2e}"


@pytest.mark.statistical
@pytest.mark.parametrize("index", range(len(CORNERS)))
def test_law_at_domain_corners(index):
    v, a, w = CORNERS[index]
    decision_time, choice = draw(v, a, w, N_DRAWS, seed=30_000 + index)
    assert np.all(np.isfinite(decision_time)) and np.all(decision_time > 0)
    binomial, ks = law_p_values(decision_time, choice, v, a, w)
    assert binomial > ALPHA
    assert all(p > ALPHA for p in ks.values()), ks


@pytest.mark.statistical
def test_negative_control_shifted_drift_is_caught():
    # Drawn at v = 1.15, tested against v = 1.0 (P(upper) 0.760 vs 0.731, z ~ 9).
    decision_time, choice = draw(1.15, 1.0, 0.5, N_DRAWS, seed=40_000)
    binomial, _ = law_p_values(decision_time, choice, 1.0, 1.0, 0.5)
    assert binomial < 1e-6


@pytest.mark.statistical
def test_negative_control_stretched_times_are_caught():
    # Right choices, times 5 % too long: the KS tests must flag it.
    decision_time, choice = draw(1.0, 1.0, 0.5, N_DRAWS, seed=40_001)
    _, ks = law_p_values(1.05 * decision_time, choice, 1.0, 1.0, 0.5)
    assert min(ks.values()) < 1e-6, ks


def _truncated_law(v, a, w, t_max):
    """P(upper | T <= t_max), P(T <= t_max) and the CDF of T given T <= t_max."""
    f_up = math.exp(wfpt_logcdf(t_max, 0, v, a, w))
    f_low = math.exp(wfpt_logcdf(t_max, 1, v, a, w))

    def cdf(t):
        return (np.exp(wfpt_logcdf(t, 0, v, a, w))
                + np.exp(wfpt_logcdf(t, 1, v, a, w))) / (f_up + f_low)
    return f_up / (f_up + f_low), f_up + f_low, cdf


@pytest.mark.statistical
def test_negative_control_euler_walk_is_caught():
    # The Euler walk at dt = 0.01 overshoots the boundary (mean decision time 0.31 s
    # instead of 0.25 s at v = 0, a = 1, w = 0.5): the exact-law test must reject it.
    outcomes = np.zeros((100, 200, 2), dtype=np.int8)
    result = rlddm.simulate((1.0, 1.0, 0.5, 0.2, 0.0), outcomes, method="euler", seed=50_002)
    _, _, cdf = _truncated_law(0.0, 1.0, 0.5, 9.0)
    assert stats.ks_1samp((result.rt - 0.2).ravel(), cdf).pvalue < 1e-6


@pytest.mark.statistical
def test_simulate_exact_zero_drift_with_retries():
    # kappa = 0 keeps Q0 = Q1, so every trial has v = 0; t_max = 3 s makes 20 % of
    # first attempts miss, so the retry path shapes the law.
    drift, alpha, beta, ter = 1.0, 3.0, 0.3, 0.2
    outcomes = np.zeros((100, 200, 2), dtype=np.int8)
    result = rlddm.simulate((drift, alpha, beta, ter, 0.0), outcomes, method="exact",
                            dt=0.01, max_steps=300, seed=50_000)
    decision_time = (result.rt - ter).ravel()
    choice = result.choice.ravel()
    assert np.all(choice >= 0)
    assert np.all((decision_time > 0) & (decision_time <= 3.0 + 1e-12))
    p_up, p_answer, cdf = _truncated_law(0.0, alpha, beta, 3.0)
    assert stats.binomtest(int(np.count_nonzero(choice == 0)), choice.size, p_up).pvalue > ALPHA
    assert stats.ks_1samp(decision_time, cdf).pvalue > ALPHA
    first_try = int(np.count_nonzero(result.retries.ravel() == 0))
    assert stats.binomtest(first_try, choice.size, p_answer).pvalue > ALPHA


@pytest.mark.statistical
def test_simulate_exact_drift_sign_and_law():
    # kappa = 1 with arm 0 always paying and arm 1 never: Q settles at (1, 0), so those
    # trials run at v = +drift and must favour the upper boundary (choice 0).
    drift, alpha, beta, ter = 2.0, 1.0, 0.4, 0.3
    outcomes = np.tile(np.array([1, 0], dtype=np.int8), (100, 200, 1))
    result = rlddm.simulate((drift, alpha, beta, ter, 1.0), outcomes, method="exact",
                            seed=50_001, return_q=True)
    settled = (result.q[:, :-1, 0] == 1.0) & (result.q[:, :-1, 1] == 0.0)
    assert settled.sum() > 15_000
    binomial, ks = law_p_values(result.rt[settled] - ter, result.choice[settled],
                                drift, alpha, beta)
    assert binomial > ALPHA
    assert all(p > ALPHA for p in ks.values()), ks


@pytest.mark.statistical
@pytest.mark.parametrize("model, theta, settled_drift", [
    # v = v_max / 2 * tanh(drift * dq / 2) at dq = 1: 1.5 * tanh(1.5) = 1.3577...
    ("sigmoid_drift", (3.0, 1.0, 0.4, 0.3, 1.0, 3.0), 1.5 * math.tanh(1.5)),
    # Lapses replace 10 % of the trials; the others keep the diffusion law.
    (rlddm.model.get_model("rlddm", fixed={"p_outlier": 0.1}), (2.0, 1.0, 0.4, 0.3, 1.0), 2.0),
])
def test_simulate_exact_drift_map_and_lapses_keep_the_law(model, theta, settled_drift):
    # As above: arm 0 always pays, so Q settles at (1, 0) and the drift at the map's value.
    outcomes = np.tile(np.array([1, 0], dtype=np.int8), (100, 200, 1))
    result = rlddm.simulate(theta, outcomes, model=model, method="exact", seed=50_003,
                            return_q=True)
    settled = (result.q[:, :-1, 0] == 1.0) & (result.q[:, :-1, 1] == 0.0) & ~result.lapse
    assert settled.sum() > 12_000
    binomial, ks = law_p_values(result.rt[settled] - theta[3], result.choice[settled],
                                settled_drift, theta[1], theta[2])
    assert binomial > ALPHA
    assert all(p > ALPHA for p in ks.values()), ks


@pytest.mark.parametrize("max_steps", [900, 60])
def test_simulate_exact_matches_reference(max_steps):
    theta = np.array([[6.0, 1.2, 0.5, 0.3, 0.5], [-3.0, 1.0, 0.2, 0.2, 0.6],
                      [1.0, 2.0, 0.5, 0.5, 0.5], [2.0, 0.3, 0.9, 0.1, 1.0]])
    outcomes = np.random.default_rng(0).integers(0, 2, size=(4, 40, 2))
    fast = rlddm.simulate(theta, outcomes, method="exact", max_steps=max_steps, seed=7)
    slow = reference.simulate(theta, outcomes, method="exact", max_steps=max_steps, seed=7)
    np.testing.assert_array_equal(fast.rt, slow.rt)
    np.testing.assert_array_equal(fast.choice, slow.choice)
    np.testing.assert_array_equal(fast.retries, slow.retries)


def _pit_of_prior_data_sets(method, seed, n_data_sets=500):
    theta = Priors.default().sample(n_data_sets, seed=seed)
    outcomes = rlddm.ReversalDesign().sample(n_data_sets, seed=seed + 1)
    data = rlddm.simulate(theta, outcomes, method=method, seed=seed + 2)
    u = rt_pit(theta, data.rt, data.choice, data.reward)
    return u[np.isfinite(u)]


@pytest.mark.statistical
def test_pit_of_whole_exact_data_sets_is_uniform():
    """500 data sets of 60 trials from the post's priors: 30,000 PIT values.

    KS at alpha = 1e-4 rejects a sup-distance of 0.011; the Euler walk at dt = 0.01
    is at about 0.17 (next test), so the test has power to spare.
    """
    u = _pit_of_prior_data_sets("exact", seed=60_000)
    assert u.size > 29_000
    assert stats.kstest(u, "uniform").pvalue > ALPHA


@pytest.mark.statistical
def test_pit_rejects_the_euler_walk():
    u = _pit_of_prior_data_sets("euler", seed=60_000)
    assert stats.kstest(u, "uniform").pvalue < 1e-6
