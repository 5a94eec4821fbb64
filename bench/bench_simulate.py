"""Speed of the compiled simulator against the reference and NumPy's normal sampler.

Run ``pytest bench --benchmark-only`` (add ``--benchmark-columns=min,mean`` to taste);
each benchmark's ``extra_info`` holds ns per data set and per diffusion step. In the
test suite they run once with ``--benchmark-disable`` so they stay executable. The
baselines sit in the same groups: the default model for every variant ("simulate
variants"), two options per trial for the six-option design ("simulate designs"), and
one bulk NumPy normal draw for a diffusion step.
"""

import numpy as np
import pytest

import rlddm
from rlddm import reference
from rlddm.model import MODELS, get_model
from rlddm.priors import Priors

N_TRIALS = 60
MAX_STEPS = 900
DT = 0.01
VARIANT_BATCH = 1024


def post_prior_draws(n: int, seed: int) -> np.ndarray:
    """Parameters drawn from the forum post's priors."""
    return Priors.default().sample(n, seed=seed)


def diffusion_steps(result: rlddm.SimulationResult, ter: np.ndarray) -> int:
    """Total Euler steps a batch took, retried walks included (lapses take none)."""
    decision_steps = np.rint((result.rt - ter[:, None]) / DT)
    return int(np.nansum(np.where(result.lapse, 0, decision_steps))
               + result.retries.sum() * MAX_STEPS)


def record(benchmark, ter, result):
    stats = benchmark.stats.stats if benchmark.stats else None
    seconds = stats.min if stats else None
    n_sets = result.rt.shape[0]
    steps = diffusion_steps(result, ter)
    benchmark.extra_info["data_sets"] = n_sets
    benchmark.extra_info["steps_per_data_set"] = steps / n_sets
    if seconds:
        benchmark.extra_info["ns_per_data_set"] = seconds / n_sets * 1e9
        benchmark.extra_info["ns_per_trial"] = seconds / result.rt.size * 1e9
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
        record(benchmark, theta[:, 3], result)
    elif benchmark.stats:
        benchmark.extra_info["ns_per_data_set"] = benchmark.stats.stats.min / batch * 1e9
    assert np.all(result.choice >= 0)


def variant_theta(spec, n: int, seed: int) -> np.ndarray:
    """The default model's DDM parameters for every variant; its own ones from its priors."""
    theta = spec.priors().sample(n, seed=seed)
    shared = post_prior_draws(n, seed=seed)
    for j, name in enumerate(("drift", "alpha", "beta", "ter")):
        theta[:, spec.names.index(name)] = shared[:, j]
    return theta


VARIANTS = {name: get_model(name) for name in MODELS}
VARIANTS["rlddm, p_outlier 0.05"] = get_model("rlddm", fixed={"p_outlier": 0.05})


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_variant_simulate(benchmark, variant):
    """Each registered model on the default design, one thread; target <= 1.5x "rlddm"."""
    spec = VARIANTS[variant]
    theta = variant_theta(spec, VARIANT_BATCH, seed=1)
    outcomes = rlddm.reversal_outcomes(VARIANT_BATCH, N_TRIALS, seed=2)
    benchmark.group = "simulate variants"
    result = benchmark(rlddm.simulate, theta, outcomes, model=spec, seed=3, n_threads=1)
    record(benchmark, theta[:, spec.names.index("ter")], result)


def selection_options(n_sets: int, n_trials: int, seed: int) -> np.ndarray:
    """Pairs (0, 1), (2, 3), (4, 5) randomly interleaved, as in a selection-task training phase."""
    pairs = np.array([[0, 1], [2, 3], [4, 5]], dtype=np.int32)
    return pairs[np.random.default_rng(seed).integers(0, 3, size=(n_sets, n_trials))]


@pytest.mark.parametrize("design", ["two options", "six options"])
def test_design_simulate(benchmark, design):
    """Six options in three pairs against two options per trial; target: no more per trial."""
    theta = post_prior_draws(VARIANT_BATCH, seed=1)
    outcomes = rlddm.reversal_outcomes(VARIANT_BATCH, N_TRIALS, seed=2)
    options = None if design == "two options" else selection_options(VARIANT_BATCH,
                                                                      N_TRIALS, seed=4)
    benchmark.group = "simulate designs"
    result = benchmark(rlddm.simulate, theta, outcomes, options=options, seed=3, n_threads=1)
    record(benchmark, theta[:, 3], result)


def test_reference_simulate(benchmark):
    theta = post_prior_draws(64, seed=1)
    outcomes = rlddm.reversal_outcomes(64, N_TRIALS, seed=2)
    benchmark.group = "simulate batch 64"
    result = benchmark.pedantic(reference.simulate, args=(theta, outcomes),
                                kwargs={"seed": 3}, rounds=3, iterations=1)
    record(benchmark, theta[:, 3], result)


def test_numpy_normal_floor(benchmark):
    """One bulk ``default_rng().standard_normal`` draw: the cost a diffusion step is held to."""
    rng = np.random.default_rng(0)
    out = np.empty(1_000_000)
    benchmark.group = "normal draw"
    benchmark(rng.standard_normal, out=out)
    if benchmark.stats:
        benchmark.extra_info["ns_per_draw"] = benchmark.stats.stats.min / out.size * 1e9
