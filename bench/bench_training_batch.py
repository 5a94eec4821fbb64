"""What one online-training batch costs outside the network: priors, design, simulation, encoding.

``pytest bench/bench_training_batch.py --benchmark-only``. Compare the minimum with the
network's step time (about 22 ms for the default set network on TensorFlow, 2 cores): their
ratio, about doubled by TensorFlow's threads sharing the cores during training, is the
simulation share that ``rlddm train`` reports in ``timing.json``.
"""

import pytest

inference = pytest.importorskip("rlddm.inference")


@pytest.mark.parametrize("features", ["q_stats", "q_grid", "basic"])
def test_training_batch(benchmark, features):
    simulator = inference.RLDDMSimulator(inference.InferenceConfig(features=features), seed=0)
    benchmark.group = "training batch of 64, 60 trials"
    batch = benchmark(simulator.sample, 64)
    assert batch["trials"].shape == (64, 60, len(inference.FEATURE_SETS[features]))
