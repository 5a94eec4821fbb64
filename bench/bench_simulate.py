"""Speed of the compiled simulator against the reference and NumPy's normal sampler.

Run ``pytest bench --benchmark-only`` (add ``--benchmark-columns=min,mean`` to taste);
each benchmark's ``extra_info`` holds ns per data set and per diffusion step. In the
test suite they run once with ``--benchmark-disable`` so they stay executable.
"""

import numpy as np
import pytest

import rlddm
from rlddm import reference
from rlddm.priors import Priors

N_TRIALS = 60
MAX_STEPS = 900
DT = 0.01


def post_prior_draws(n: int, seed: int) -> np.ndarray:
    """Parameters drawn from the forum post's priors."""
    return Priors.default().sample(n, seed=seed)


def diffusion_steps(result: rlddm.SimulationResult, theta: np.ndarray) -> int:
    """Total Euler steps a batch took, retried walks included."""
    decision_steps = np.rint((result.rt - theta[:, 3:4]) / DT)
    return int(np.nansum(decision_steps) + result.retries.sum() * MAX_STEPS)


def record(benchmark, theta, result):
    stats = benchmark.stats.stats if benchmark.stats else None
    seconds = stats.min if stats else None
    steps = diffusion_steps(result, theta)
    benchmark.extra_info["data_sets"] = theta.shape[0]
    benchmark.extra_info["steps_per_data_set"] = steps / theta.shape[0]
    if seconds:
        benchmark.extra_info["ns_per_data_set"] = seconds / theta.shape[0] * 1e9
        benchmark.extra_info["ns_per_step"] = seconds / steps * 1e9


@pytest.mark.parametrize("batch", [64, 4096])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("method", ["euler", "exact"])
def test_compiled_simulate(benchmark, batch, threads, method):
    theta = post_prior_draws(batch, seed=1)
    outcomes = rlddm.reversal_outcomes(batch, N_TRIALS, seed=2)
    benchmark.group = f"simulate batch {batch}"
    result = benchmark(rlddm.simulate, theta, outcomes, seed=3, n_threads=threads,
                       method=method)
    if method == "euler":
        record(benchmark, theta, result)
    elif benchmark.stats:
        benchmark.extra_info["ns_per_data_set"] = benchmark.stats.stats.min / batch * 1e9
    assert np.all(result.choice >= 0)


def test_reference_simulate(benchmark):
    theta = post_prior_draws(64, seed=1)
    outcomes = rlddm.reversal_outcomes(64, N_TRIALS, seed=2)
    benchmark.group = "simulate batch 64"
    result = benchmark.pedantic(reference.simulate, args=(theta, outcomes),
                                kwargs={"seed": 3}, rounds=3, iterations=1)
    record(benchmark, theta, result)


def test_numpy_normal_floor(benchmark):
    """One bulk ``default_rng().standard_normal`` draw: the cost a diffusion step is held to."""
    rng = np.random.default_rng(0)
    out = np.empty(1_000_000)
    benchmark.group = "normal draw"
    benchmark(rng.standard_normal, out=out)
    if benchmark.stats:
        benchmark.extra_info["ns_per_draw"] = benchmark.stats.stats.min / out.size * 1e9
