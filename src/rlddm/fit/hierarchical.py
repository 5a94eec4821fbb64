"""``rlddm fit --hierarchical``: a group-level fit of a trial table, written as a folder.

Two methods, one population model (:mod:`rlddm.mcmc.hierarchical`: the population
model, the hyperpriors and the convergence rules):

``exact`` (the default, also for ``auto``)
    :func:`rlddm.mcmc.hierarchical.sample_hierarchical`: MCMC on the exact likelihood.
``amortized``
    The two-stage method (:func:`rlddm.mcmc.two_stage.sample_hierarchical_two_stage`):
    every participant's draws from a trained network (the shipped one unless ``model``
    names a run folder), its training prior divided out and the population put in. It
    takes seconds, and needs the network to cover the data (model, design, trial
    range) and the hyperpriors to be those of the network's priors. It reports each
    participant's importance ESS and fails the convergence checks where fewer than
    ``MIN_IMPORTANCE_ESS`` of the draws carry the weight (then use the exact method).
    ``auto`` never picks it: it is the fast approximation, the exact method the answer.

This module reads the data and the participant-level group column, runs the method, and
writes the output folder all at once (:func:`rlddm._output.staged_folder`):

``posterior.nc``
    ArviZ InferenceData: each parameter per participant, and the population quantities
    (``mu_<name>``, ``<name>_median``, ``<name>_sd``, with groups ``delta_<name>`` and
    ``<name>_difference``).
``summary.csv``
    Per participant and parameter, under the hierarchy: the columns of a per-participant
    fit's ``summary.csv``.
``group_summary.csv``
    One row per population quantity: ``<name>`` (population median, natural scale),
    ``<name>_sd`` (population SD, unbounded scale), ``<name>[LEVEL-BASELINE]``.
``hierarchical.json``
    Model, fixed values, priors, hyperpriors, groups, sampler settings, convergence.
``ppc.csv``, ``ppc.json``, ``ppc_learning_curves.png``, ``ppc_rt_quantiles.png``
    Posterior predictive checks with each participant's draws under the hierarchy
    (:func:`rlddm.fit.ppc.predictive_checks`: per participant and pooled, ``all``).
``population_ppc.csv``, ``population_ppc.json``, ``population_ppc_*.png``
    The group-level check: each replicate draws a *new* participant from the population
    posterior (a draw of mu, delta and sigma, then z ~ N(mu + delta_g, sigma)) for every
    observed participant's task and group; the pooled rows (``all``) compare the
    population's predicted behaviour with the sample's, and the per-participant rows show
    which participants the population does not reproduce.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._output import _sigterm_interrupts as sigterm_interrupts
from .._checks import check_count, check_flag
from .._output import check_out, staged_folder
from .._progress import Progress, SamplerProgress
from .ppc import PPC_DRAWS, predictive_checks
from .._seeding import SeedLike
from ..data import DataError, TrialData, read_trials
from ..data.reading import _load_csv, _resolve_layout
from ..mcmc.hierarchical import (HierarchicalResult, _population_mean, participant_groups,
                                 sample_hierarchical)
from ..model import ModelSpec, get_model
from ..model.priors import Prior

PathLike = str | os.PathLike
STAGE_ONE_DRAWS = 2000
"""The network's draws per participant for the two-stage method (its importance ESS
on 20 x 60-trial reversal studies: bench/hierarchical_two_stage.py)."""
HDI_COLUMNS = ("hdi_3%", "hdi_97%")


@dataclass(frozen=True)
class HierarchicalFit:
    """A hierarchical fit of a trial table: the trials, the model and the sampler's result."""

    trials: TrialData
    spec: ModelSpec
    result: HierarchicalResult
    group_by: str | None

    @property
    def method(self) -> str:
        """``"exact"`` or ``"amortized"`` (the two-stage method)."""
        return "amortized" if self.result.settings.get("method") == "two-stage" else "exact"

    def notes(self) -> list[str]:
        """Lines to print: the method and, if any, what did not converge."""
        groups = "" if self.group_by is None else \
            f", population mean by {self.group_by!r} ({', '.join(map(str, self.result.levels))}; " \
            f"baseline {self.result.levels[0]!r})"
        settings = self.result.settings
        if self.method == "exact":
            lines = [f"method: hierarchical exact MCMC ({len(self.trials)} participants{groups})"]
        else:
            ess = np.asarray(settings["importance_ess"])
            worst = int(np.argmin(ess))
            lines = [f"method: hierarchical two-stage from amortized draws "
                     f"({settings.get('network', 'network')}; {len(self.trials)} participants"
                     f"{groups})",
                     f"importance ESS per participant (of {settings['stage_one_draws']} draws): "
                     f"median {np.median(ess):.0f}, lowest {ess[worst]:.0f} (participant "
                     f"{self.result.participants[worst]!r}); below "
                     f"{settings['min_importance_ess']:.0f} fails the checks"]
        if not self.result.converged:
            listed = ", ".join(self.result.unconverged[:10])
            more = ", ..." if len(self.result.unconverged) > 10 else ""
            lines.append(f"the fit did not converge after {self.result.attempts} attempt(s) and "
                         f"is marked converged = 0 in posterior.nc and hierarchical.json: "
                         f"{listed}{more}")
        return lines

    def summary(self) -> pd.DataFrame:
        """Per participant and parameter: mean, sd, 94% HDI, R-hat, ESS, converged, counts."""
        import arviz as az

        result = self.result
        importance = result.settings.get("importance_ess")
        rows = []
        for k, participant in enumerate(result.participants):
            ok = bool(np.all(result.rhat[k] <= result.settings.get("rhat_max", 1.01))
                      and np.all(result.ess_bulk[k] >= result.settings.get("min_ess", 400))
                      and np.all(result.ess_tail[k] >= result.settings.get("min_ess", 400)))
            if importance is not None:
                ok = ok and bool(importance[k] >= result.settings["min_importance_ess"])
            for j, name in enumerate(result.names):
                values = result.draws[:, :, k, j].ravel()
                low, high = az.hdi(values, hdi_prob=0.94)
                rows.append({"participant": participant, "parameter": name,
                             "mean": values.mean(), "sd": values.std(ddof=1),
                             HDI_COLUMNS[0]: low, HDI_COLUMNS[1]: high,
                             "r_hat": result.rhat[k, j], "ess_bulk": result.ess_bulk[k, j],
                             "ess_tail": result.ess_tail[k, j], "converged": ok,
                             **({"importance_ess": float(importance[k])} if importance is not None
                                else {}),
                             "n_trials": int(self.trials.n_trials[k]),
                             "n_missed": int(self.trials.n_missed[k])})
        return pd.DataFrame(rows)

    def group_summary(self) -> pd.DataFrame:
        """``group_summary.csv``: :meth:`HierarchicalResult.group_summary`."""
        return self.result.group_summary()

    def record(self) -> dict[str, Any]:
        """``hierarchical.json``."""
        result = self.result
        settings = {k: v for k, v in result.settings.items()
                    if isinstance(v, (int, float, str, bool, type(None)))}
        if "importance_ess" in result.settings:
            settings["importance_ess"] = [float(v) for v in result.settings["importance_ess"]]
        return {"method": self.method, "model": self.spec.to_dict(), "label": self.spec.label(),
                "priors": result.priors.to_dict(), "parameters": list(result.names),
                "hyperprior": {"m": result.hyperprior["m"].tolist(),
                               "s": result.hyperprior["s"].tolist()},
                "group_by": self.group_by,
                "levels": None if result.levels is None else [str(v) for v in result.levels],
                "converged": result.converged, "unconverged": list(result.unconverged),
                "reason": result.reason, "attempts": result.attempts, "settings": settings}


@dataclass(frozen=True)
class _PredictiveSource:
    """What :func:`rlddm.fit.ppc.predictive_checks` reads of a fit: trials, draws, model."""

    trials: TrialData
    draws: np.ndarray  # (K, N, P), free parameters, natural scale
    spec: ModelSpec
    q0: float
    dt: float
    max_steps: int
    design: Any = None
    simulation_method: str = "exact"

    @property
    def n_draws(self) -> int:
        return self.draws.shape[1]


def _predictive_sources(fitted: HierarchicalFit, seed: SeedLike
                        ) -> tuple[_PredictiveSource, _PredictiveSource]:
    """Participant draws under the hierarchy, and new participants from the population."""
    result, settings = fitted.result, fitted.result.settings
    k, p = len(result.participants), len(result.names)
    participants = np.moveaxis(result.draws, 2, 0).reshape(k, -1, p)
    mean = _population_mean(result.mu.reshape(-1, p),
                            None if result.delta is None
                            else result.delta.reshape((-1,) + result.delta.shape[2:]),
                            result.group)  # (K or 1, N, P)
    sigma = result.sigma.reshape(-1, p)
    noise = np.random.default_rng(seed).standard_normal((k,) + sigma.shape)
    population = result.priors._vector.from_unbounded(mean + sigma * noise)
    common = dict(trials=fitted.trials, spec=fitted.spec, q0=float(settings["q0"]),
                  dt=float(settings["dt"]), max_steps=int(settings["max_steps"]))
    return (_PredictiveSource(draws=participants, **common),
            _PredictiveSource(draws=population, **common))


def _write_checks(checks: Any, folder: Path, prefix: str) -> None:
    checks.table().to_csv(folder / f"{prefix}ppc.csv", index=False)
    (folder / f"{prefix}ppc.json").write_text(json.dumps(checks.to_dict(), indent=1))
    checks.plot_choices(folder / f"{prefix}{checks.choice_plot}")
    checks.plot_rt_quantiles(folder / f"{prefix}ppc_rt_quantiles.png")


def _groups(data: PathLike | pd.DataFrame, trials: TrialData, group_by: str, layout: str,
            columns: Mapping[str, str | None] | None) -> list[Any]:
    """Each participant's level of ``group_by``, in the order of ``trials``."""
    participant = _resolve_layout(layout, columns)[1]["participant"]
    frame = data if isinstance(data, pd.DataFrame) else \
        _load_csv(Path(data), [c for c in (participant, group_by) if c])
    levels = {str(who).strip(): level for who, level in
              participant_groups(frame, group_by, participant=participant).items()}
    return [levels[str(p).strip()] for p in trials.participants]


def _two_stage(trials: TrialData, spec: ModelSpec, network: Any, groups: Any,
               stage_one_draws: int, seed: SeedLike, settings: Mapping[str, int]
               ) -> HierarchicalResult:
    """Stage one: the network's draws per participant; stage two: the population."""
    import dataclasses

    from ..amortized.training import AmortizedPosterior  # Keras: only for this method
    from ..mcmc.two_stage import sample_hierarchical_two_stage
    from .fitting import fit_participants

    network_seed, gibbs_seed = np.random.default_rng(seed).spawn(2)
    posterior = AmortizedPosterior.load(network.folder)
    stage_one = fit_participants(trials, posterior, n_draws=stage_one_draws, seed=network_seed)
    result = sample_hierarchical_two_stage(stage_one.draws, trials.participants, spec,
                                           priors=posterior.config.priors, groups=groups,
                                           seed=gibbs_seed, **settings)
    config = posterior.config
    return dataclasses.replace(result, settings=result.settings | {
        "network": network.describe(), "network_folder": str(network.folder.resolve()),
        "q0": float(config.design.q0), "dt": float(config.dt),
        "max_steps": int(config.max_steps)})


def fit_hierarchical_csv(data: PathLike | pd.DataFrame, *, out: PathLike,
                         model: str | ModelSpec | None = None,
                         fixed: Mapping[str, float] | None = None, free: Sequence[str] = (),
                         priors: Mapping[str, Prior] | None = None,
                         group_by: str | None = None, method: str = "exact",
                         stage_one_draws: int = STAGE_ONE_DRAWS, layout: str = "rlddm",
                         columns: Mapping[str, str | None] | None = None,
                         n_draws: int | None = None, n_warmup: int | None = None,
                         thin: int | None = None, n_chains: int | None = None,
                         n_threads: int | None = None,
                         force: bool = False, seed: SeedLike = 0, n_ppc: int = PPC_DRAWS,
                         progress: bool = False) -> HierarchicalFit:
    """Fit a trial table hierarchically and write the output folder.

    Parameters
    ----------
    data : str, path or DataFrame
        Trials, as ``rlddm fit`` reads them (:func:`rlddm.data.read_trials`).
    out : str or path
        Output folder (module docstring); written all at once, never partly.
    model : str, path or ModelSpec, optional
        A registered model (default ``"rlddm"``); with ``method="amortized"`` also the
        run folder of a trained network (the shipped network if None).
    fixed, free, priors
        As for ``rlddm fit``: fixed parameters leave the hierarchy; ``priors`` replace
        default priors and so set the hyperpriors.
    group_by : str, optional
        A participant-level column (one value per participant): the population mean then
        differs by its levels, baseline the first in sorted order.
    method : {"exact", "auto", "amortized"}
        ``"exact"`` and ``"auto"``: MCMC on the exact likelihood; ``"amortized"``: the
        two-stage method on a network's draws (module docstring).
    stage_one_draws : int
        With ``"amortized"``: the network's draws per participant.
    layout, columns
        Column names and coding of ``data``.
    n_draws, n_warmup, thin, n_chains : int, optional
        Sampler settings (the sampler's defaults if None).
    n_threads : int, optional
        Threads of the exact likelihood (all cores if None).
    force : bool
        Replace an existing non-empty ``out``.
    seed : None, int, SeedSequence, BitGenerator or Generator
    n_ppc : int
        Replicates per participant of the predictive checks (module docstring).
    progress : bool
        Print the sampler's milestones on stderr.

    Returns
    -------
    HierarchicalFit

    Raises
    ------
    DataError
        On bad trials (naming participant, line or column).
    ValueError
        On a model folder, an unknown model, bad options or a bad group column.
    FileExistsError
        If ``out`` exists, is not empty and ``force`` is false.
    """
    if method not in ("auto", "exact", "amortized"):
        raise ValueError(f"method must be 'auto', 'exact' or 'amortized', got {method!r}")
    amortized = method == "amortized"
    folder = model is not None and not isinstance(model, ModelSpec) and Path(str(model)).is_dir()
    if folder and not amortized:
        raise ValueError(f"model {str(model)!r} is a trained run folder; the exact hierarchical "
                         "fit takes a registered model name (a folder needs method='amortized')")
    if amortized and priors:
        raise ValueError("priors= needs the exact method: the two-stage method divides out the "
                         "network's own training priors")
    stage_one_draws = check_count(stage_one_draws, "stage_one_draws", 100)
    n_ppc = check_count(n_ppc, "n_ppc", 1)
    force, progress = check_flag(force, "force"), check_flag(progress, "progress")
    if group_by is not None and (not isinstance(group_by, str) or not group_by.strip()):
        raise ValueError(f"group_by must be a column name, got {group_by!r}")
    inputs = [Path(data)] if isinstance(data, (str, os.PathLike)) else []
    check_out(out, force, inputs, flag="--force")
    if amortized:
        from .fitting import _network_problem, _resolve_model, shipped_model

        spec, network, _ = _resolve_model(model, fixed, free)
        if network is None:
            raise ValueError(f"no shipped network at {shipped_model()}; pass model= (--model) a "
                             "run folder written by rlddm train")
    else:
        spec = get_model("rlddm" if model is None else model, fixed=fixed, free=free)
    chosen_priors = spec.priors(**dict(priors or {}))
    trials = read_trials(data, columns=columns, layout=layout)
    groups = None if group_by is None else _groups(data, trials, group_by, layout, columns)
    if amortized:
        problem = _network_problem(network, trials, spec, {}, None)
        if problem is not None:
            raise DataError(f"method='amortized': {problem}; use the exact method")
    settings = {name: value for name, value in (("n_draws", n_draws), ("n_warmup", n_warmup),
                                                ("thin", thin), ("n_chains", n_chains))
                if value is not None}
    with sigterm_interrupts(), contextlib.ExitStack() as stack:
        say = None
        if progress and not amortized:  # one updating line: warm-up then sampling, restarted by a rerun
            defaults = {name: q.default for name, q in
                        inspect.signature(sample_hierarchical).parameters.items()}
            lengths = defaults | settings
            line = stack.enter_context(Progress(1, label="rlddm fit (hierarchical)",
                                                unit="iterations"))
            say = SamplerProgress(line, lengths["n_warmup"], lengths["n_draws"] * lengths["thin"],
                                  label="rlddm fit (hierarchical)")
        if amortized:
            result = _two_stage(trials, spec, network, groups, stage_one_draws, seed, settings)
        else:
            result = sample_hierarchical(trials, spec, groups=groups, priors=chosen_priors,
                                         seed=seed, progress=say, n_threads=n_threads,
                                         **settings)
        fitted = HierarchicalFit(trials, spec, result, group_by)
        draw_seed, ppc_seed, population_seed = np.random.default_rng(seed).spawn(3)
        participant_source, population_source = _predictive_sources(fitted, draw_seed)
        checks = predictive_checks(participant_source, n_draws=n_ppc, seed=ppc_seed)
        population_checks = predictive_checks(population_source, n_draws=n_ppc,
                                              seed=population_seed)
        population_checks.settings.update(
            title="population predictive (a new participant from the population per draw)",
            note=population_checks.settings["note"] + "; each replicate is a new participant "
            "drawn from the population posterior for the observed participant's task")
        with staged_folder(out, force=force, inputs=inputs, flag="--force") as folder:
            fitted.result.to_inference_data().to_netcdf(str(folder / "posterior.nc"))
            fitted.summary().to_csv(folder / "summary.csv", index=False)
            fitted.group_summary().to_csv(folder / "group_summary.csv", index=False)
            (folder / "hierarchical.json").write_text(json.dumps(fitted.record(), indent=2)
                                                      + "\n")
            _write_checks(checks, folder, "")
            _write_checks(population_checks, folder, "population_")
    return fitted
