"""Reference runs and the information limit: recovery of known parameters by exact posteriors."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_count, check_flag
from .._output import check_out, staged_folder
from ..model import DEFAULT_MODEL, DEFAULT_Q0, ModelSpec, get_model
from ..model.priors import Priors
from ..simulator.simulation import simulate
from ..task.reversal import ReversalDesign
from .diagnostics import MIN_ESS, RHAT_MAX
from .sampler import RETRY_FACTOR, sample_posteriors

__all__ = ["recovery_metrics", "reference_run"]

INTERVAL_LEVELS = (0.5, 0.8, 0.95)
DRIFT_BINS = ((0.0, 1.0), (1.0, 2.0), (2.0, np.inf))
# calibration error: central intervals at 20 levels from 0.005 to 0.995 (BayesFlow's
# ``calibration_error`` defaults, so its numbers and ours agree)
CALIBRATION_LEVELS = np.linspace(0.005, 0.995, 20)


# ----------------------------------------------------------------------------------
# Information limit
# ----------------------------------------------------------------------------------


def _correlation(x: NDArray, y: NDArray) -> float | None:
    """Pearson r, or None where it is undefined (fewer than 3 points or no spread)."""
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


# Learning rates whose recovery is broken down by the true drift scaling: with drift
# near 0 the choices carry no information about them (the drift-kappa funnel).
LEARNING_RATES = ("kappa", "kappa_pos", "kappa_neg")


def _breakdown_keys(spec: ModelSpec) -> list[str]:
    """Keys of the by-drift breakdowns `recovery_metrics` returns for this model."""
    if "drift" not in spec.names:
        return []
    return [f"{name}_r_by_drift" for name in LEARNING_RATES if name in spec.names]


def recovery_metrics(truth: ArrayLike, draws: ArrayLike, priors: Priors | None = None, *,
                     model: str | ModelSpec = DEFAULT_MODEL) -> dict[str, Any]:
    """Recovery of known parameters by posterior draws: the information limit of a design.

    Parameters
    ----------
    truth : array_like, shape (D, P)
        Free parameters that generated each data set (P = the model's ``n_free``).
    draws : array_like, shape (D, K, P) or (D, n_chains, n_draws, P)
        Posterior draws of each data set (chains are pooled).
    priors : Priors, optional
        Priors the truths were drawn from (for the normalisations); the model's
        default priors if omitted.
    model : str or ModelSpec, keyword-only
        The model whose free parameters the columns are.

    Returns
    -------
    dict
        ``parameters``: per parameter, ``r`` (Pearson correlation of posterior mean and
        truth over data sets), ``nrmse`` (root mean squared error of the posterior mean
        divided by the prior SD), ``contraction`` (mean over data sets of
        ``1 - posterior variance / prior variance``), ``posterior_sd`` (mean posterior
        SD), ``coverage`` (share of data sets whose truth lies in the central 50, 80
        and 95 % credible interval) and ``calibration_error`` (median over 20 levels
        ``a`` from 0.005 to 0.995 of ``|coverage of the central a interval - a|``: the
        definition of BayesFlow's ``calibration_error``). ``<rate>_r_by_drift`` for every learning rate of
        the model (``kappa_r_by_drift`` for ``rlddm``, ``kappa_pos_r_by_drift`` and
        ``kappa_neg_r_by_drift`` for ``dual_lr``), only when drift is free: ``r`` and
        ``n`` of that rate for data sets with true ``|drift|`` in [0, 1), [1, 2) and
        [2, inf).
    """
    spec = get_model(model)
    priors = spec.priors() if priors is None else spec.check_priors(priors)
    width = spec.n_free
    truth = np.asarray(truth, dtype=float)
    draws = np.asarray(draws, dtype=float)
    if draws.ndim not in (3, 4) or draws.shape[-1] != width:
        raise ValueError(f"draws must have shape (D, K, {width}) or (D, C, N, {width}) for model "
                         f"{spec.label()!r} ({', '.join(spec.names)}), got {draws.shape}")
    draws = draws.reshape(draws.shape[0], -1, width)
    if truth.shape != (draws.shape[0], width) or truth.shape[0] == 0:
        raise ValueError(
            f"truth must have shape (D, {width}) with D >= 1 matching draws {draws.shape}, "
            f"got {truth.shape}"
        )
    mean = draws.mean(axis=1)
    var = draws.var(axis=1, ddof=1)
    prior_sd = priors.std
    coverage = {}
    for level in INTERVAL_LEVELS:
        low, high = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2], axis=1)
        coverage[level] = ((truth >= low) & (truth <= high)).mean(axis=0)
    low, high = np.quantile(draws, [(1 - CALIBRATION_LEVELS) / 2, (1 + CALIBRATION_LEVELS) / 2],
                            axis=1)  # (2, levels, D, P)
    inside = ((truth >= low) & (truth <= high)).mean(axis=1)  # (levels, P)
    calibration_error = np.median(np.abs(inside - CALIBRATION_LEVELS[:, None]), axis=0)
    parameters = {}
    for j, name in enumerate(spec.names):
        parameters[name] = {
            "r": _correlation(mean[:, j], truth[:, j]),
            "nrmse": float(np.sqrt(np.mean((mean[:, j] - truth[:, j]) ** 2)) / prior_sd[j]),
            "contraction": float(np.mean(1.0 - var[:, j] / prior_sd[j] ** 2)),
            "posterior_sd": float(np.mean(np.sqrt(var[:, j]))),
            "coverage": {f"{round(100 * level)}": float(coverage[level][j]) for level in INTERVAL_LEVELS},
            "calibration_error": float(calibration_error[j]),
        }
    metrics: dict[str, Any] = {"n_datasets": int(truth.shape[0]), "parameters": parameters}
    for key in _breakdown_keys(spec):
        rate = spec.names.index(key.removesuffix("_r_by_drift"))
        magnitude = np.abs(truth[:, spec.names.index("drift")])
        by_drift = {}
        for low, high in DRIFT_BINS:
            inside = (magnitude >= low) & (magnitude < high)
            label = f"{low:g} <= |drift| < {high:g}" if np.isfinite(high) else f"|drift| >= {low:g}"
            by_drift[label] = {"n": int(inside.sum()),
                               "r": _correlation(mean[inside, rate], truth[inside, rate])}
        metrics[key] = by_drift
    return metrics


def _design_schedule(design: Any, n: int, n_trials: int,
                     seed: np.random.SeedSequence) -> tuple[NDArray, NDArray | None]:
    """Outcomes (n, T, 2) and presented options (n, T, 2) of ``n`` schedules of a design.

    A design with ``schedule`` (a ``TaskDesign``, or a ``ReversalDesign`` that has one)
    gives both; one with only ``sample`` gives outcomes, with options 0 and 1 on every
    trial (None).
    """
    if hasattr(design, "schedule"):
        outcomes, options = design.schedule(n, n_trials=n_trials, seed=seed)
        return outcomes, options
    return design.sample(n, n_trials=n_trials, seed=seed), None


def reference_run(out_dir: str | Path, *, n: int = 200, n_trials: int = 60, seed: int = 0,
                  model: str | ModelSpec = DEFAULT_MODEL, priors: Priors | None = None,
                  method: str = "exact", design: Any = None, q0: float | None = None,
                  n_draws: int = 1000, thin: int = 5, n_warmup: int = 2000, n_chains: int = 4,
                  dt: float = 0.01, max_steps: int = 900, force: bool = False,
                  progress: Callable[[str], Any] | None = print) -> dict[str, Any]:
    """Exact posteriors of data sets drawn from the prior, and the information limit they give.

    Draws ``n`` parameter vectors from the prior, simulates one data set of ``n_trials``
    trials for each, samples its exact posterior (`sample_posteriors`), and writes to
    ``out_dir``, all at once at the end (into a hidden folder beside it, renamed into place:
    an interrupted run leaves no partial folder):

    - ``reference.npz``: ``theta`` (n, P) truths (the model's free parameters); ``rt``,
      ``choice``, ``reward`` (n, T); ``outcomes`` (n, T, 2) potential outcomes and
      ``options`` (n, T, 2) presented options; ``draws`` (n, n_chains, n_draws, P);
      ``rhat``, ``ess_bulk``, ``ess_tail`` (n, P); ``accept_rate`` (n, n_chains);
      ``converged`` (n,); ``attempts`` (n,).
    - ``reference.json``: the configuration (model, priors, design, q0, n, n_trials,
      method, seed, dt, max_steps, sampler settings, parameter names, package version).
    - ``metrics.json``: `recovery_metrics` over the converged data sets
      (``parameters`` and the by-drift breakdowns such as ``kappa_r_by_drift``; None if
      none converged) and over all of them (``all_datasets``), the count, ids and
      reasons of the data sets that did not converge, diagnostics summaries and timings.

    Parameters
    ----------
    out_dir : str or Path
        Output folder (created); an existing one must be empty unless ``force``.
    n, n_trials : int
        Number of data sets and trials per data set.
    seed : int
        Seed of everything: truths, outcomes, simulation and sampler.
    model : str or ModelSpec
        The model simulated and fitted (``rlddm.model.get_model``).
    priors : Priors, optional
        Prior of the truths and of the posterior over the model's free parameters
        (default: the model's, for ``rlddm`` the forum post's).
    method : {"exact", "euler"}
        Simulation method; ``"exact"`` draws from the continuous-time model that the
        likelihood describes, ``"euler"`` from the dt-walk (a mismatch worth measuring).
    design : ReversalDesign or design with ``schedule``, optional
        Task design (default: the forum post's reversal design). A design with a
        ``schedule(n, *, n_trials=None, seed=None) -> (outcomes, options)`` method
        (such as ``rlddm.designs.TaskDesign``) may present any pairs of options;
        otherwise its ``sample`` gives the outcomes of options 0 and 1.
    q0 : float, optional
        Initial Q-value of every option: the design's ``q0`` if it has one, else 0.5.
    n_draws, thin, n_warmup, n_chains : int
        Sampler settings (see `sample_posteriors`).
    dt, max_steps : float, int
        Simulator step and step limit; ``max_steps * dt`` is the response deadline.
    force : bool
        Replace an existing non-empty ``out_dir``.
    progress : callable or None
        Receives progress messages (``print`` by default).

    Returns
    -------
    dict
        The content of ``metrics.json``.

    Raises
    ------
    FileExistsError
        If ``out_dir`` is a non-empty folder and ``force`` is false, or not a folder.
    ValueError
        On invalid settings, or an ``out_dir`` that is or holds the current folder.
    """
    spec = get_model(model)
    priors = spec.priors() if priors is None else spec.check_priors(priors)
    n = check_count(n, "n", 1)
    n_trials = check_count(n_trials, "n_trials", 1)
    design = ReversalDesign() if design is None else design
    if not (hasattr(design, "schedule") or hasattr(design, "sample")):
        raise ValueError(f"design must have a schedule or a sample method, got {design!r}")
    # the design as recorded: its default length is the reference's
    if dataclasses.is_dataclass(design) and "n_trials" in {f.name for f in dataclasses.fields(design)}:
        design = dataclasses.replace(design, n_trials=n_trials)
    q0 = getattr(design, "q0", DEFAULT_Q0) if q0 is None else q0
    seed = check_count(seed, "seed", 0)
    force = check_flag(force, "force")
    say = progress or (lambda message: None)
    flag = "force=True (rlddm reference --force)"
    check_out(out_dir, force, flag=flag)  # refuse now rather than after the sampling
    truth_seed, design_seed, simulation_seed, sampler_seed = np.random.SeedSequence(seed).spawn(4)

    start = time.perf_counter()
    theta = priors.sample(n, seed=truth_seed)
    outcomes, options = _design_schedule(design, n, n_trials, design_seed)
    data = simulate(theta, outcomes, model=spec, options=options, q0=q0, dt=dt,
                    max_steps=max_steps, seed=simulation_seed, method=method)
    simulated = time.perf_counter()
    say(f"simulated {n} data sets of {n_trials} trials ({spec.label()}, {method}) in "
        f"{simulated - start:.1f} s")
    batch = sample_posteriors(data.rt, data.choice, data.reward, model=spec, priors=priors,
                              options=data.options, q0=q0, n_draws=n_draws, thin=thin,
                              n_warmup=n_warmup, n_chains=n_chains, seed=sampler_seed, dt=dt,
                              max_steps=max_steps, progress=say)
    sampled = time.perf_counter()
    say(f"sampled {n} posteriors in {sampled - simulated:.1f} s; "
        f"{int(batch.converged.sum())} converged")

    config = {
        "n": n, "n_trials": n_trials, "seed": seed, "method": method, "dt": dt,
        "max_steps": max_steps, "model": spec.to_dict(), "priors": priors.to_dict(),
        "design": design.to_dict(), "q0": float(q0),
        "sampler": {"n_chains": n_chains, "n_warmup": n_warmup, "n_draws": n_draws, "thin": thin,
                    "rhat_max": RHAT_MAX, "min_ess": MIN_ESS, "retry_factor": RETRY_FACTOR},
        "parameter_names": list(spec.names), "rlddm_version": version("rlddm"),
    }

    failed = np.flatnonzero(~batch.converged)
    ok = batch.converged
    converged_metrics = dict.fromkeys(["parameters", *_breakdown_keys(spec)])
    if ok.any():
        converged_metrics = recovery_metrics(theta[ok], batch.draws[ok], priors, model=spec)
        del converged_metrics["n_datasets"]
    metrics = {
        "n_datasets": n,
        "n_trials": n_trials,
        "n_converged": int(ok.sum()),
        "not_converged_ids": [int(i) for i in failed],
        "not_converged_reasons": {str(int(i)): batch.reasons[i] for i in failed},
        "included": "parameters and the by-drift breakdowns: converged data sets only; "
                    "all_datasets: every data set",
        "definitions": {
            "r": "Pearson correlation of posterior mean and truth over data sets",
            "nrmse": "RMSE of the posterior mean / prior SD",
            "contraction": "mean over data sets of 1 - posterior variance / prior variance",
            "posterior_sd": "mean over data sets of the posterior SD",
            "coverage": "share of data sets whose truth lies in the central credible interval",
        },
        **converged_metrics,
        "all_datasets": recovery_metrics(theta, batch.draws, priors, model=spec),
        "diagnostics": {
            "rhat_max": float(batch.rhat.max()),
            "ess_bulk_min": float(batch.ess_bulk.min()),
            "ess_tail_min": float(batch.ess_tail.min()),
            "accept_rate_mean": float(batch.accept_rate.mean()),
            "n_rerun": int((batch.attempts > 1).sum()),
            "n_missed_trials": int(data.n_missed.sum()),
        },
        "seconds": {"simulation": round(simulated - start, 2),
                    "sampling": round(sampled - simulated, 2)},
    }
    with staged_folder(out_dir, force=force, flag=flag) as staging:
        np.savez(staging / "reference.npz", theta=theta, rt=data.rt, choice=data.choice,
                 reward=data.reward, outcomes=outcomes, options=data.options, draws=batch.draws,
                 rhat=batch.rhat, ess_bulk=batch.ess_bulk, ess_tail=batch.ess_tail,
                 accept_rate=batch.accept_rate, converged=batch.converged,
                 attempts=batch.attempts)
        (staging / "reference.json").write_text(json.dumps(config, indent=2) + "\n")
        (staging / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics
