"""Shared fixtures: parameter sets and outcome schedules used across the test modules."""

import os

# Quiet BayesFlow's progress bars and TensorFlow's start-up logging in test output.
os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

import rlddm  # noqa: E402

# One fixed set of generated examples per fuzz test (tests/test_fuzz.py), small enough for the
# suite; HYPOTHESIS_PROFILE=rlddm-deep runs a longer search by hand.
settings.register_profile("rlddm", derandomize=True, max_examples=250, deadline=None,
                          database=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("rlddm-deep", settings.get_profile("rlddm"), max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "rlddm"))

# Parameter sets (drift, alpha, beta, ter, kappa) covering the regimes the issue names;
# the optional max_steps forces the missed-response retry to happen often.
PARAMETER_SETS = {
    "strong_drift": ((6.0, 1.2, 0.5, 0.3, 0.5), 900),
    "weak_drift": ((0.5, 1.0, 0.5, 0.4, 0.3), 900),
    "negative_drift": ((-3.0, 1.0, 0.5, 0.2, 0.6), 900),
    "small_alpha": ((2.0, 0.3, 0.5, 0.1, 0.5), 900),
    "large_alpha_retries": ((1.0, 2.0, 0.5, 0.5, 0.5), 150),
    "start_near_lower": ((2.0, 1.5, 0.1, 0.3, 0.5), 900),
    "kappa_zero": ((3.0, 1.0, 0.5, 0.3, 0.0), 900),
    "kappa_one": ((3.0, 1.0, 0.5, 0.3, 1.0), 900),
}


@pytest.fixture(scope="session")
def tiny_network() -> dict:
    """The smallest network and training that run end to end: a few steps of a summary of
    size 4 on 8 units (``InferenceConfig`` keywords; trains in seconds, plus the tracing)."""
    return dict(summary_dim=4, recurrent_units=8, epochs=2, batches_per_epoch=3, batch_size=8)


@pytest.fixture(scope="session")
def design() -> rlddm.ReversalDesign:
    return rlddm.ReversalDesign()


@pytest.fixture(scope="session")
def outcomes(design) -> np.ndarray:
    """A fixed batch of 64 potential-outcome matrices of the default design."""
    return design.sample(64, seed=20261125)
