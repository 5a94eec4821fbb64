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
        The contents of ``metrics.json``: per parameter, recovery ``r`` (posterior mean
        vs truth), ``nrmse`` (posterior RMSE over the prior sd, median over data sets),
        ``contraction`` and ``calibration_error``; and kappa's ``r`` by ``|drift|``.
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
    mean = samples.mean(axis=1)
    metrics = bf.diagnostics.metrics
    # normalize="std" rather than the default "prior", which bootstraps with NumPy's global RNG
    nrmse = metrics.root_mean_squared_error(estimates, targets, normalize="std")["values"]
    contraction = metrics.posterior_contraction(estimates, targets)["values"]
    calibration = metrics.calibration_error(estimates, targets)["values"]
    result: dict[str, Any] = {
        "n": n, "n_samples": n_samples, "n_trials": n_trials, "seed": seed,
        "backend": keras.backend.backend(),
        "parameters": {
            name: {"r": float(np.corrcoef(mean[:, i], truth[:, i])[0, 1]),
                   "nrmse": float(nrmse[i]), "contraction": float(contraction[i]),
                   "calibration_error": float(calibration[i])}
            for i, name in enumerate(names)
        },
    }
    abs_drift = np.abs(truth[:, names.index("drift")])
    kappa = names.index("kappa")
    result["kappa_by_abs_drift"] = {}
    for label, lo, hi in (("<1", 0.0, 1.0), ("1-2", 1.0, 2.0), (">=2", 2.0, np.inf)):
        rows = (abs_drift >= lo) & (abs_drift < hi)
        r = np.corrcoef(mean[rows, kappa], truth[rows, kappa])[0, 1] if rows.sum() > 2 else None
        result["kappa_by_abs_drift"][label] = {"n": int(rows.sum()),
                                               "r": None if r is None else float(r)}
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
