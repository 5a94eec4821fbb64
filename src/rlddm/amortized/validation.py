"""The amortized posterior against the exact (MCMC) posterior on the same data sets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..model.parameters import PARAMETER_NAMES
from ..mcmc.runs import recovery_metrics
from ..model.priors import Priors
from ..task.reversal import ReversalDesign

# Targets of the comparison (issue 4): median |mean gap| in exact-posterior SDs, and
# the largest acceptable shortfall of amortized recovery r.
MAX_MEDIAN_GAP = 0.2
MAX_R_SHORTFALL = 0.03


def mmd_squared(x: NDArray, y: NDArray) -> float:
    """Unbiased squared maximum mean discrepancy with a Gaussian kernel (median heuristic).

    Parameters
    ----------
    x, y : ndarray, shape (n, d) and (m, d)
        Two samples, already on a common scale.
    """
    pooled = np.vstack([x, y])
    squared = np.sum((pooled[:, None, :] - pooled[None, :, :]) ** 2, axis=-1)
    bandwidth = np.median(squared[np.triu_indices_from(squared, k=1)])
    kernel = np.exp(-squared / bandwidth)
    n, m = len(x), len(y)
    k_xx, k_yy, k_xy = kernel[:n, :n], kernel[n:, n:], kernel[:n, n:]
    return float((k_xx.sum() - np.trace(k_xx)) / (n * (n - 1))
                 + (k_yy.sum() - np.trace(k_yy)) / (m * (m - 1)) - 2 * k_xy.mean())


def compare_with_reference(posterior: Any, reference_dir: str | Path, out_dir: str | Path, *,
                           n_samples: int = 1000, seed: int = 0,
                           mmd_draws: int = 400) -> dict[str, Any]:
    """Compare an amortized posterior with the exact posteriors of ``rlddm reference``.

    Parameters
    ----------
    posterior : rlddm.inference.AmortizedPosterior
        The trained posterior.
    reference_dir : path
        Folder written by ``rlddm reference`` (``reference.npz``, ``reference.json``).
    out_dir : path
        Where ``against_reference.json`` is written.
    n_samples : int
        Amortized draws per data set.
    seed : int
        Seed of the amortized sampling and of the MMD subsamples.
    mmd_draws : int
        Draws per posterior used for the MMD (per data set).

    Returns
    -------
    dict
        ``summary``: per parameter the median and 90th percentile of
        ``|amortized mean - exact mean| / exact SD``, the median ratio of posterior SDs,
        recovery r of both posteriors and whether the targets are met; the median
        MMD^2 between the posteriors (standardised by the exact SDs) next to the
        median MMD^2 between two halves of the exact draws (its noise floor).

    Raises
    ------
    ValueError
        If the reference was made under other priors, another design or another
        simulation method than the posterior was trained on, or has a trial count
        outside the trained range.
    """
    reference_dir = Path(reference_dir)
    for name in ("reference.npz", "reference.json"):
        if not (reference_dir / name).exists():
            raise ValueError(f"reference_dir {reference_dir} has no {name}; "
                             "make it with rlddm reference")
    info = json.loads((reference_dir / "reference.json").read_text())
    config = posterior.config
    if Priors.from_dict(info["priors"]) != config.priors:
        raise ValueError("the reference was computed under other priors than the posterior "
                         f"was trained with: {info['priors']} vs {config.priors.to_dict()}")
    if "design" in info and not config.design.same_task(ReversalDesign.from_dict(info["design"])):
        raise ValueError(f"the reference design {info['design']} differs from the trained "
                         f"design {config.design.to_dict()}")
    if info.get("method") != config.method:
        raise ValueError(f"the reference data were simulated with method {info.get('method')!r} "
                         f"but the posterior was trained on {config.method!r}: compare like "
                         "with like")
    data = np.load(reference_dir / "reference.npz")
    usable = data["converged"] & np.all(data["choice"] >= 0, axis=1)
    if not usable.any():
        raise ValueError(f"reference_dir {reference_dir} has no converged data set without "
                         "missed responses to compare with")
    exact = data["draws"][usable].reshape(int(usable.sum()), -1, len(PARAMETER_NAMES))
    truth = data["theta"][usable]
    amortized = posterior.sample(data["rt"][usable], data["choice"][usable],
                                 data["reward"][usable], n_samples=n_samples, seed=seed)

    exact_mean, exact_sd = exact.mean(axis=1), exact.std(axis=1, ddof=1)
    gap = np.abs(amortized.mean(axis=1) - exact_mean) / exact_sd
    sd_ratio = amortized.std(axis=1, ddof=1) / exact_sd
    exact_recovery = recovery_metrics(truth, exact, config.priors)
    amortized_recovery = recovery_metrics(truth, amortized, config.priors)

    rng = np.random.default_rng(seed)
    mmd, floor = [], []
    for d in range(exact.shape[0]):
        scale = exact_sd[d]
        picks = rng.choice(exact.shape[1], size=2 * mmd_draws, replace=False)
        first, second = exact[d, picks[:mmd_draws]] / scale, exact[d, picks[mmd_draws:]] / scale
        mine = amortized[d, rng.choice(amortized.shape[1], mmd_draws, replace=False)] / scale
        mmd.append(mmd_squared(mine, first))
        floor.append(mmd_squared(second, first))

    summary: dict[str, Any] = {"n_datasets": int(usable.sum()),
                               "n_excluded": int((~usable).sum()), "parameters": {}}
    for j, name in enumerate(PARAMETER_NAMES):
        r_exact = exact_recovery["parameters"][name]["r"]
        r_amortized = amortized_recovery["parameters"][name]["r"]
        median_gap = float(np.median(gap[:, j]))
        summary["parameters"][name] = {
            "median_mean_gap_in_exact_sd": median_gap,
            "p90_mean_gap_in_exact_sd": float(np.quantile(gap[:, j], 0.9)),
            "median_sd_ratio": float(np.median(sd_ratio[:, j])),
            "r_exact": r_exact,
            "r_amortized": r_amortized,
            "meets_targets": bool(median_gap <= MAX_MEDIAN_GAP
                                  and r_amortized >= r_exact - MAX_R_SHORTFALL),
        }
    summary["median_mmd2"] = float(np.median(mmd))
    summary["median_mmd2_exact_halves"] = float(np.median(floor))
    result = {"summary": summary, "reference_dir": str(reference_dir),
              "exact_recovery": exact_recovery, "amortized_recovery": amortized_recovery}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "against_reference.json").write_text(json.dumps(result, indent=2) + "\n")
    return result
