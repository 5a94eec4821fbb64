"""Diagnostics of a trained amortized posterior on fresh simulations: metrics and plots.

Importing this module imports Keras.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .._checks import check_count
from ..mcmc.runs import recovery_metrics
from ..model import DEFAULT_MODEL
from ._keras import bf, keras
from .features import BASIC_FEATURES
from .networks import RLDDMSimulator
from .training import AmortizedPosterior

def validate(posterior: AmortizedPosterior, directory: str | os.PathLike, *, n: int = 1000,
             n_samples: int = 1000, n_trials: int | None = None, seed: int = 20240601) -> dict:
    """Diagnostics on fresh simulations: plots and ``metrics.json`` in ``directory``.

    Parameters
    ----------
    posterior : AmortizedPosterior
        The posterior to check.
    directory : path
        Where ``metrics.json``, ``recovery.png``, ``calibration_ecdf.png`` and
        ``z_score_contraction.png`` are written.
    n : int
        Validation data sets, drawn from the prior (at least 1,000 to judge recovery r
        to about +-0.05).
    n_samples : int
        Posterior draws per data set.
    n_trials : int, optional
        Trials per data set (default: the design's ``n_trials``, moved into the
        training range ``[min_trials, max_trials]`` if outside it).
    seed : int
        Seed of the validation simulations and of the network's sampling.

    Returns
    -------
    dict
        The contents of ``metrics.json``: the settings, and what
        :func:`rlddm.mcmc.recovery_metrics` (the function that also scores the exact
        reference) gives for the draws: per parameter ``r`` (posterior mean vs truth),
        ``nrmse`` (RMSE of the posterior mean over the prior SD), ``contraction``,
        ``posterior_sd``, ``coverage`` and ``calibration_error``; and the learning
        rates' ``r`` by ``|drift|`` (``kappa_r_by_drift``).
    """
    import matplotlib.pyplot as plt

    config = posterior.config
    if n_trials is None:  # the design's length, unless the network was trained on others
        n_trials = min(max(config.design.n_trials, config.min_trials), config.max_trials)
    data = RLDDMSimulator(config, seed=seed).sample(check_count(n, "n", 2), n_trials=n_trials)
    conditions = {key: data[key] for key in ("trials", "n_trials", "statistics") if key in data}
    fastest_rt = data["trials"][:, :, BASIC_FEATURES.index("rt")].min(axis=1)
    names = list(config.priors.names)
    samples = posterior.sample_encoded(conditions, fastest_rt,
                                       n_samples=check_count(n_samples, "n_samples", 2),
                                       seed=seed, batch_size=100)
    estimates = {name: samples[:, :, i:i + 1] for i, name in enumerate(names)}
    targets = {name: data[name] for name in names}
    truth = np.column_stack([targets[name][:, 0] for name in names])
    # the one recovery-metrics function, as for the exact reference (rlddm.mcmc.runs)
    recovery = recovery_metrics(truth, samples, config.priors, model=DEFAULT_MODEL)
    result: dict[str, Any] = {
        "n": n, "n_samples": n_samples, "n_trials": n_trials, "seed": seed,
        "backend": keras.backend.backend(),
        "metrics": "rlddm.mcmc.recovery_metrics",
        **{key: value for key, value in recovery.items() if key != "n_datasets"},
    }
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "metrics.json").write_text(json.dumps(result, indent=2))
    plots = bf.diagnostics.plots
    for name, plot in (("recovery", plots.recovery), ("calibration_ecdf", plots.calibration_ecdf),
                       ("z_score_contraction", plots.z_score_contraction)):
        figure = plot(estimates, targets, variable_keys=names)
        figure.savefig(directory / f"{name}.png", dpi=100)
        plt.close(figure)
    return result
