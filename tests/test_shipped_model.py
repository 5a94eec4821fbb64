"""The pretrained model inside the package: it loads, and it recovers simulated participants."""

import json

import numpy as np
import pytest

from rlddm.data import read_trials, simulate_participants
from rlddm.fit import fit_participants, shipped_model
from rlddm.inference import AmortizedPosterior
from rlddm.parameters import PARAMETER_NAMES


def test_shipped_model_records_how_it_was_made():
    folder = shipped_model()
    info = json.loads((folder / "config.json").read_text())
    assert info["config"]["method"] == "exact"  # real RTs are not discretised at 10 ms
    assert info["config"]["design"] == {"reward_probabilities": [0.8, 0.2],
                                        "reversal_every": 12, "n_trials": 60}
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["n"] >= 1000


@pytest.mark.statistical
def test_shipped_model_recovers_simulated_participants():
    """40 participants of 60 trials from the prior, 500 draws each.

    The 95% intervals of a calibrated posterior miss about 5% of truths; 80% coverage
    over 200 (participant, parameter) pairs fails only for a broken model (a 95%
    interval that covers 80% is 10 SE off). Boundary and non-decision time are
    recovered at r > 0.97 on 2,000 data sets, so r > 0.9 on 40 holds with margin.
    """
    posterior = AmortizedPosterior.load(shipped_model())
    frame, truths = simulate_participants(40, 60, seed=11, method="exact")
    result = fit_participants(read_trials(frame), posterior, n_draws=500, seed=12)
    truth = truths[list(PARAMETER_NAMES)].to_numpy()
    low, high = np.quantile(result.draws, [0.025, 0.975], axis=1)
    assert ((truth >= low) & (truth <= high)).mean() >= 0.8
    means = result.draws.mean(axis=1)
    for name in ("alpha", "ter"):
        j = PARAMETER_NAMES.index(name)
        assert np.corrcoef(means[:, j], truth[:, j])[0, 1] > 0.9
