"""Fit participants: posterior draws (network or exact likelihood), summary, checks, output.

:func:`fit_csv` is the whole path behind ``rlddm fit``: read and validate a trial
table, choose the method, draw each participant's posterior, simulate posterior
predictive data sets (:func:`predictive_checks`) and write an output folder
(:func:`save_fit`).

Methods
-------
``"amortized"``
    A trained network (:func:`fit_participants`; the shipped one by default). It
    covers one model (``rlddm`` with its defaults), one pair of options 0/1 in a fixed
    order with 0/1 rewards, its design (the reversal bandit) and its trained trial
    range.
``"exact"``
    MCMC on the exact likelihood (:func:`rlddm.exact_fit.fit_exact`): any registered
    model, fixed values and priors, any options, conditions and rewards, any length.
``"auto"`` (default)
    The network when it covers the data, the model and the priors, else exact. The
    choice and its reason are in :attr:`FitResult.method_reason`, ``posterior.nc``'s
    attributes and :meth:`FitResult.notes`.

Output folder
-------------
``posterior.nc``
    ArviZ ``InferenceData`` (NetCDF 4 through h5netcdf): ``posterior`` (one variable
    per free parameter, dims chain, draw, ``participant``; one chain for the network),
    ``log_likelihood`` (one variable, ``trial``, dims chain, draw, ``obs``: every
    answered trial of every participant, with coordinates ``obs_participant`` and
    ``obs_trial``, the trial's position in ``observed_data``; what ``arviz.loo(idata,
    var_name="trial")`` and :mod:`rlddm.model_comparison` read), ``observed_data``
    (``rt``, ``choice``, ``reward``, dims ``participant`` x ``trial``, padded with NaN;
    a missed response is choice -1, rt NaN, reward 0) and ``constant_data``
    (``n_trials``, ``n_missed``, ``trial_number``, ``option0``, ``option1``,
    ``converged``, ``attempts``). Attributes (file and ``posterior`` group):
    ``model_name`` (``ModelSpec.label()``), ``model``, ``method``, ``method_reason``,
    priors, fixed values, design, sampler or network settings, ``unconverged``, version.
``summary.csv``
    One row per participant and parameter: mean, sd, ``hdi_3%``, ``hdi_97%`` (94%
    HDI), ``r_hat``, ``ess_bulk``, ``ess_tail`` (NaN for the network, whose draws are
    independent), ``converged``, ``attempts``, ``n_trials``, ``n_missed``.
``ppc.csv``, ``ppc.json``, ``ppc_reversal.png`` or ``ppc_learning_curves.png``, ``ppc_rt_quantiles.png``
    Observed vs predicted choices and RT quantiles (see :class:`PredictiveChecks`).

Participants that do not converge (after the sampler's rerun) are kept everywhere,
marked ``converged = False`` in ``summary.csv`` and ``constant_data`` and listed in
the ``unconverged`` attribute: left out, they would change the trials a model
comparison sums over, and a reader could not tell them from participants never fitted.

Missed responses. The model retries a trial that reaches no boundary, with its
Q-values unchanged, so a missed response carries no information about the
parameters. The exact likelihood skips them; the network's input leaves them out
(its answered trials then sit one position earlier in the design's reversal phase);
they are counted in every output.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .. import __version__
from .._checks import check_count, check_flag, participant_coords
from .._output import _sigterm_interrupts as sigterm_interrupts
from .._output import check_out, staged_folder
from .._progress import Progress
from .._seeding import SeedLike
from ..data import DataError, PathLike, TrialData, read_trials
from ..data.trials import _condition_labels, require_trial_data
from ..task.designs import Design, TaskDesign, get_design
from .exact import SAMPLER_DEFAULTS, fit_exact
from ..likelihood import loglik_trials
from ..model import DEFAULT_MODEL, DEFAULT_Q0, MODELS, ModelSpec, get_model
from .model_comparison import LOG_LIKELIHOOD_VARIABLE
from ..mcmc.diagnostics import MIN_ESS, RHAT_MAX
from ..mcmc.sampler import PosteriorBatch
from ..model.priors import Prior, Priors
from ..task.reversal import ReversalDesign
from .ppc import PPC_DRAWS, PredictiveChecks, predictive_checks

__all__ = [
    "FitResult",
    "METHODS",
    "PredictiveChecks",
    "check_fit_range",
    "fit_csv",
    "fit_participants",
    "predictive_checks",
    "save_fit",
    "shipped_model",
]

METHODS = ("auto", "amortized", "exact")
FORCE_FLAG = "force=True (rlddm fit --force)"
HDI_PROB = 0.94
AMORTIZED_DRAWS = 2000
MISSED_NOTE = ("missed responses (choice -1, rt NaN in observed_data) carry no information "
               "about the parameters (the model retries them with Q-values unchanged): the "
               "likelihood skips them and the network's input leaves them out; they are "
               "counted in constant_data.n_missed")
LOG_LIKELIHOOD_NOTE = ("log_likelihood.trial: log density of each answered trial given the "
                       "trials before it, per draw; obs_participant and obs_trial (position in "
                       "observed_data's trial dimension) name the trial")
_HDI_LOW = f"hdi_{100 * (1 - HDI_PROB) / 2:g}%"
_HDI_HIGH = f"hdi_{100 * (1 + HDI_PROB) / 2:g}%"


def shipped_model() -> Path:
    """Folder of the pretrained model that ships inside the package (``rlddm/pretrained/default``)."""
    return Path(str(resources.files("rlddm") / "pretrained" / "default"))


def check_fit_range(trials: TrialData, config: Any) -> None:
    """Require every participant to fit a network's trained trial range.

    The trial count (missed responses included) must lie in ``[min_trials,
    max_trials]`` and the number of answered trials, which is what the network
    sees, must be at least ``min_trials``.

    Parameters
    ----------
    trials : TrialData
    config : InferenceConfig or any object with ``min_trials`` and ``max_trials``

    Raises
    ------
    DataError
        Naming each participant outside the range with its counts.
    """
    trials.check_trial_range((config.min_trials, config.max_trials))
    answered = trials.n_trials - trials.n_missed
    short = np.flatnonzero(answered < config.min_trials)
    if short.size:
        listed = ", ".join(f"{trials.participants[k]!r} ({trials.n_trials[k]} trials, "
                           f"{trials.n_missed[k]} missed: {answered[k]} answered)"
                           for k in short[:10])
        raise DataError(
            f"{short.size} participant(s) have fewer answered trials than the model's "
            f"min_trials = {config.min_trials} (missed responses are not network input): "
            f"{listed}" + (", ..." if short.size > 10 else ""))


# ---------------------------------------------------------------------------------------
# what a network covers


@dataclasses.dataclass(frozen=True)
class _Network:
    """A trained network's configuration, read from its ``config.json`` without Keras."""

    folder: Path
    spec: ModelSpec
    priors: Priors
    design: ReversalDesign
    min_trials: int
    max_trials: int

    @classmethod
    def read(cls, folder: Path) -> _Network:
        config_file = folder / "config.json"
        if not config_file.is_file():
            raise ValueError(f"{folder} has no config.json; is it a run folder written by "
                             "rlddm train?")
        config = json.loads(config_file.read_text()).get("config", {})
        # networks trained before the model registry carry no "model": the seed model
        model = config.get("model", DEFAULT_MODEL)
        spec = (get_model(model["name"], fixed=model.get("fixed") or None)
                if isinstance(model, dict) else get_model(model))
        return cls(folder, spec, Priors.from_dict(config["priors"]),
                   ReversalDesign.from_dict(config["design"]), int(config["min_trials"]),
                   int(config["max_trials"]))

    def describe(self) -> str:
        d = self.design
        return (f"the network at {self.folder} (model {self.spec.label()}, reversal design "
                f"p = {d.reward_probabilities[0]:g}/{d.reward_probabilities[1]:g} reversed every "
                f"{d.reversal_every} trials, {self.min_trials}-{self.max_trials} trials)")


def _check_one_pair(trials: TrialData) -> None:
    """The network is trained on the reversal design: one pair of options, in one order."""
    for participant in trials:
        if participant.n_options != 2:
            raise DataError(f"the network covers one pair of options; this file presents "
                            f"{participant.n_options} options (participant "
                            f"{participant.participant!r}: {list(participant.option_labels)})")
        swapped = np.flatnonzero(participant.options[:, 0] != 0)
        if swapped.size:
            raise DataError(f"the network covers one pair of options in a fixed order; "
                            f"participant {participant.participant!r} presents them the other "
                            f"way round on trial {participant.trial[swapped[0]]}")


def _check_binary_rewards(trials: TrialData, why: str) -> None:
    """Answered trials must have rewards 0 or 1 (``why`` says who requires it)."""
    for participant in trials:
        bad = np.flatnonzero((participant.choice != -1) & ~np.isin(participant.reward, (0.0, 1.0)))
        if bad.size:
            raise DataError(f"participant {participant.participant!r}, trial "
                            f"{participant.trial[bad[0]]}: reward {participant.reward[bad[0]]:g} "
                            f"is not 0 or 1, but {why} gives 0/1 rewards")


def _network_problem(network: _Network, trials: TrialData, spec: ModelSpec,
                     priors: Mapping[str, Prior], design: Design | None) -> str | None:
    """Why the network does not cover this fit, or None if it does."""
    if spec != network.spec:
        return f"{network.describe()} is for model {network.spec.label()}, not {spec.label()}"
    if priors and network.priors != network.spec.priors(**priors):
        return f"{network.describe()} was trained with its own priors; priors= needs the exact method"
    if design is not None and not network.design.same_task(design):
        return f"the data's design is not that of {network.describe()}"
    try:
        _check_one_pair(trials)
        _check_binary_rewards(trials, "the network's design")
        check_fit_range(trials, network)
    except DataError as error:
        return f"{network.describe()} does not cover the data: {error}"
    return None


# ---------------------------------------------------------------------------------------
# posterior draws


@dataclasses.dataclass(frozen=True, eq=False)
class FitResult:
    """Posterior draws of every participant, with the trials, model and method they came from.

    Attributes
    ----------
    trials : TrialData
        The fitted trials (missed responses included).
    draws : ndarray of float64, shape (K, n_chains * n_draws, P)
        Posterior draws per participant (chains back to back), columns ``spec.names``.
    spec : ModelSpec
        The model, with its fixed values.
    priors : Priors
        The prior of the free parameters.
    method : {"amortized", "exact"}
    method_reason : str
        Why this method (``"auto"`` chose it, or it was asked for).
    n_chains : int
        Chains in ``draws`` (1 for the network).
    diagnostics : PosteriorBatch, optional
        The sampler's R-hat, ESS, convergence flags and attempts (exact fits).
    log_likelihood : tuple of ndarray, shape (n_chains * n_draws, E_k) each, optional
        Per-trial log-likelihood of each participant's answered trials.
    design : ReversalDesign or TaskDesign, optional
        The design, if known (a reversal design makes the reversal checks).
    q0, dt, max_steps : float, float, int
        Initial Q-value and response deadline of the likelihood and the simulations.
    simulation_method : str
        How predictive data sets are simulated (:func:`rlddm.simulate`'s ``method``).
    model_source : str
        The network's folder or the registered model name, for the record.
    settings : dict
        Sampler or network settings, for the record.
    seed : str
        The integer seed as text (empty for other seeds).
    """

    trials: TrialData
    draws: NDArray[np.float64]
    spec: ModelSpec
    priors: Priors
    method: str
    method_reason: str = ""
    n_chains: int = 1
    diagnostics: PosteriorBatch | None = None
    log_likelihood: tuple[NDArray[np.float64], ...] | None = None
    design: Design | None = None
    q0: float = DEFAULT_Q0
    dt: float = 0.01
    max_steps: int = 900
    simulation_method: str = "exact"
    model_source: str = ""
    settings: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    seed: str = ""

    @property
    def participants(self) -> tuple[Any, ...]:
        """Participant ids, in the order of ``draws``."""
        return self.trials.participants

    @property
    def n_draws(self) -> int:
        """Posterior draws per participant, all chains."""
        return int(self.draws.shape[1])

    @property
    def converged(self) -> NDArray[np.bool_]:
        """Convergence flag per participant (True for the network's independent draws)."""
        if self.diagnostics is None:
            return np.ones(len(self.trials), dtype=bool)
        return np.asarray(self.diagnostics.converged, dtype=bool)

    @property
    def unconverged(self) -> tuple[Any, ...]:
        """Ids of the participants whose chains failed the checks after the rerun."""
        return tuple(p for p, ok in zip(self.participants, self.converged) if not ok)

    def notes(self) -> list[str]:
        """Lines for the screen: the method and why, and the unconverged participants."""
        lines = [f"method: {self.method} ({self.method_reason})"]
        if self.unconverged:
            reasons = self.diagnostics.reasons
            # the first few failed checks say enough; summary.csv has every value
            listed = "; ".join(f"{p!r} ({', '.join(reasons[k].split('; ')[:3])})"
                               for k, p in enumerate(self.participants) if not self.converged[k])
            lines.append(f"{len(self.unconverged)} participant(s) did not converge after a "
                         f"rerun and are marked converged = False in summary.csv and "
                         f"posterior.nc (their draws are kept): {listed}")
        return lines

    def attributes(self) -> dict[str, Any]:
        """Metadata written to ``posterior.nc`` (see the module docstring)."""
        return {"rlddm_version": __version__, "model": self.model_source,
                "model_name": self.spec.label(), "model_spec": json.dumps(self.spec.to_dict()),
                "method": self.method, "method_reason": self.method_reason,
                "priors": json.dumps(self.priors.to_dict()),
                "fixed": json.dumps(dict(self.spec.fixed)),
                "design": json.dumps(None if self.design is None else self.design.to_dict()),
                "simulation_method": self.simulation_method, "dt": self.dt,
                "max_steps": self.max_steps, "q0": self.q0, "n_chains": self.n_chains,
                "n_draws": self.n_draws, "seed": self.seed,
                "settings": json.dumps(dict(self.settings)),
                "option_labels": json.dumps([[str(label) for label in labels]
                                             for labels in self.trials.option_labels]),
                "unconverged": json.dumps([str(p) for p in self.unconverged]),
                "missed_responses": MISSED_NOTE, "log_likelihood_note": LOG_LIKELIHOOD_NOTE}

    def _posterior_arrays(self) -> dict[str, NDArray[np.float64]]:
        """One (chain, draw, participant) array per free parameter."""
        k, _, width = self.draws.shape
        chains = self.draws.reshape(k, self.n_chains, -1, width)
        return {name: np.moveaxis(chains[..., i], 0, -1) for i, name in enumerate(self.spec.names)}

    def _padded(self) -> dict[str, NDArray[np.float64]]:
        """Trial arrays (participant, trial) padded with NaN beyond each participant's last."""
        trials = self.trials
        shape = (len(trials), int(trials.n_trials.max()))
        padded = {name: np.full(shape, np.nan) for name in
                  ("rt", "choice", "reward", "trial_number", "option0", "option1")}
        for k, p in enumerate(trials):
            for name, values in (("rt", p.rt), ("choice", p.choice), ("reward", p.reward),
                                 ("trial_number", p.trial), ("option0", p.options[:, 0]),
                                 ("option1", p.options[:, 1])):
                padded[name][k, :p.n_trials] = values
        return padded

    def to_inference_data(self) -> az.InferenceData:
        """The draws, log-likelihood and trials as ArviZ ``InferenceData`` (module docstring)."""
        trials = self.trials
        ids = participant_coords(trials.participants)
        coords = {"participant": ids, "trial": np.arange(1, int(trials.n_trials.max()) + 1)}
        padded = self._padded()
        trial_dims = ["participant", "trial"]
        constant = {"n_trials": trials.n_trials, "n_missed": trials.n_missed,
                    "converged": self.converged,
                    "attempts": (np.ones(len(trials), dtype=np.int64) if self.diagnostics is None
                                 else np.asarray(self.diagnostics.attempts)),
                    **{name: padded[name] for name in ("trial_number", "option0", "option1")}}
        groups: dict[str, Any] = {}
        dims = {**{name: ["participant"] for name in self.spec.names},
                **{name: trial_dims for name in ("rt", "choice", "reward", "trial_number",
                                                 "option0", "option1")},
                **{name: ["participant"] for name in ("n_trials", "n_missed", "converged",
                                                      "attempts")}}
        obs_participant = obs_trial = None
        if self.log_likelihood is not None:
            values = np.concatenate(self.log_likelihood, axis=1)  # (S, E)
            groups["log_likelihood"] = {
                LOG_LIKELIHOOD_VARIABLE: values.reshape(self.n_chains, -1, values.shape[1])}
            dims[LOG_LIKELIHOOD_VARIABLE] = ["obs"]
            coords["obs"] = np.arange(values.shape[1])
            answered = [np.flatnonzero(p.choice != -1) + 1 for p in trials]
            obs_participant = np.repeat(ids, [a.size for a in answered])
            obs_trial = np.concatenate(answered)
        attrs = self.attributes()
        idata = az.from_dict(
            posterior=self._posterior_arrays(),
            observed_data={name: padded[name] for name in ("rt", "choice", "reward")},
            constant_data=constant, coords=coords, dims=dims,
            attrs=dict(attrs), posterior_attrs=dict(attrs), **groups)
        if obs_participant is not None:
            idata.log_likelihood = idata.log_likelihood.assign_coords(
                obs_participant=("obs", obs_participant), obs_trial=("obs", obs_trial))
        return idata

    def summary(self) -> pd.DataFrame:
        """Per participant and parameter: moments, 94% HDI, convergence and trial counts.

        Returns
        -------
        DataFrame
            Columns ``participant, parameter, mean, sd, hdi_3%, hdi_97%, r_hat,
            ess_bulk, ess_tail, converged, attempts, n_trials, n_missed``; K x P rows,
            participants in input order, parameters in ``spec.names`` order. ``sd``
            has ddof 1, as in :func:`arviz.summary`; R-hat and ESS are the sampler's
            rank-normalised split diagnostics (NaN for the network's independent draws).
        """
        names = list(self.spec.names)
        pooled = {name: self.draws[:, :, i].T[None] for i, name in enumerate(names)}
        posterior = az.from_dict(posterior=pooled,
                                 dims={name: ["participant"] for name in names}).posterior
        hdi = az.hdi(posterior, hdi_prob=HDI_PROB)  # per variable: (participant, 2)
        low, high = (np.column_stack([hdi[name].values[:, side] for name in names])
                     for side in (0, 1))
        k, width = len(self.participants), len(names)
        diagnostics = self.diagnostics
        missing = np.full((k, width), np.nan)
        per_participant = {
            "r_hat": missing if diagnostics is None else diagnostics.rhat,
            "ess_bulk": missing if diagnostics is None else diagnostics.ess_bulk,
            "ess_tail": missing if diagnostics is None else diagnostics.ess_tail}
        attempts = (np.ones(k, dtype=np.int64) if diagnostics is None
                    else np.asarray(diagnostics.attempts))
        return pd.DataFrame({
            "participant": np.repeat(np.array(self.participants, dtype=object), width),
            "parameter": np.tile(names, k),
            "mean": self.draws.mean(axis=1).ravel(),
            "sd": self.draws.std(axis=1, ddof=1).ravel(),
            _HDI_LOW: low.ravel(),
            _HDI_HIGH: high.ravel(),
            **{key: np.asarray(value).ravel() for key, value in per_participant.items()},
            "converged": np.repeat(self.converged, width),
            "attempts": np.repeat(attempts, width),
            "n_trials": np.repeat(self.trials.n_trials, width),
            "n_missed": np.repeat(self.trials.n_missed, width),
        })


def _pointwise(draws: NDArray[np.float64], trials: TrialData, spec: ModelSpec, q0: float,
               dt: float, max_steps: int) -> tuple[NDArray[np.float64], ...]:
    """Per-trial log-likelihood (S, E_k) of each participant's answered trials at its draws."""
    values = []
    for k, p in enumerate(trials):
        per_trial = loglik_trials(draws[k], np.where(p.choice != -1, p.rt, 0.0), p.choice,
                                  np.where(p.choice != -1, p.reward, 0.0), model=spec,
                                  options=p.options, n_options=max(p.n_options, 2), q0=q0,
                                  dt=dt, max_steps=max_steps)
        values.append(per_trial[:, p.choice != -1])
    return tuple(values)


def fit_participants(trials: TrialData, posterior: Any, *, n_draws: int = AMORTIZED_DRAWS,
                     seed: SeedLike = 0, model: PathLike | None = None,
                     method_reason: str = "method='amortized' asked for") -> FitResult:
    """Posterior draws from a trained network, one network call per number of answered trials.

    Parameters
    ----------
    trials : TrialData
        Validated trials (:func:`rlddm.data.read_trials`); missed responses are left
        out of the network input and counted (see the module docstring).
    posterior : rlddm.inference.AmortizedPosterior
        A trained posterior; its design is taken to be the participants' design.
    n_draws : int
        Posterior draws per participant (at least 2).
    seed : None, int, SeedSequence, BitGenerator or Generator
        Seeds the network's sampling, one seed per group of participants.
    model : str or path, optional
        The posterior's folder, recorded in the output's metadata.
    method_reason : str
        Why the network is used, for the record.

    Returns
    -------
    FitResult
        ``draws`` of shape (K, n_draws, 5), one chain, with the per-trial
        log-likelihood at every draw.

    Raises
    ------
    DataError
        If a participant's trial count is outside the model's range, or it has
        fewer answered trials than ``min_trials`` (:func:`check_fit_range`), or the
        trials present more than one pair of options or other rewards than 0/1.
    ValueError
        On invalid ``trials``, ``posterior`` or ``n_draws``.
    """
    from ..amortized.training import AmortizedPosterior  # Keras: only for this method

    require_trial_data(trials)
    if not isinstance(posterior, AmortizedPosterior):
        raise ValueError(f"posterior must be an AmortizedPosterior, got {type(posterior).__name__}")
    n_draws = check_count(n_draws, "n_draws", 2)
    config = posterior.config
    check_fit_range(trials, config)
    _check_one_pair(trials)
    _check_binary_rewards(trials, "the network's design")
    rng = np.random.default_rng(seed)
    participants = list(trials)
    answered = [p.choice != -1 for p in participants]
    counts = np.array([int(keep.sum()) for keep in answered])
    spec = get_model(DEFAULT_MODEL)
    draws = np.empty((len(participants), n_draws, spec.n_free))
    # one call per length: the network takes data sets of one length, never padded
    for count in np.unique(counts):
        members = np.flatnonzero(counts == count)
        rt, choice, reward = (np.stack([getattr(participants[k], name)[answered[k]]
                                        for k in members])
                              for name in ("rt", "choice", "reward"))
        draws[members] = posterior.sample(rt, choice, reward, n_samples=n_draws,
                                          seed=int(rng.integers(2**31)))
    q0 = config.design.q0
    return FitResult(
        trials, draws, spec, config.priors, "amortized", method_reason, 1,
        log_likelihood=_pointwise(draws, trials, spec, q0, config.dt, config.max_steps),
        design=config.design, q0=q0, dt=config.dt, max_steps=config.max_steps,
        simulation_method=config.method, model_source="" if model is None else str(model),
        settings={"inference_library": "bayesflow", "min_trials": config.min_trials,
                  "max_trials": config.max_trials}, seed=_seed_text(seed))


def _seed_text(seed: SeedLike) -> str:
    """An integer seed as text (what reproduces the fit); other seeds cannot be written down."""
    return str(int(seed)) if isinstance(seed, (int, np.integer)) else ""


# ---------------------------------------------------------------------------------------
# output folder


def save_fit(result: FitResult, out: PathLike, *, force: bool = False, n_ppc: int = PPC_DRAWS,
             seed: SeedLike = 0, inputs: Sequence[PathLike] = ()) -> Path:
    """Write a fit's output folder, all at once: the folder appears complete or not at all.

    The files (see the module docstring) are written into a temporary folder beside
    ``out`` and renamed into place at the end; a failure or an interruption removes
    the temporary folder and leaves ``out`` as it was.

    Parameters
    ----------
    result : FitResult
    out : str or path
        Output folder; it must not exist or be empty unless ``force``, and it must not
        be the current folder, hold it, or hold any of ``inputs``.
    force : bool
        Replace an existing non-empty folder.
    n_ppc : int
        Posterior predictive replicates per participant (:func:`predictive_checks`).
    seed : None, int, SeedSequence, BitGenerator or Generator
        Seed of the predictive checks.
    inputs : sequence of str or path
        Files and folders the fit read (data file, network folder).

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    FileExistsError
        If ``out`` is a non-empty folder and ``force`` is false, or is not a folder.
    ValueError
        If ``out`` is or holds the current folder or an input.
    """
    check_out(out, force, inputs, flag=FORCE_FLAG)  # refuse before the checks are simulated
    checks = predictive_checks(result, n_draws=n_ppc, seed=seed)
    summary = result.summary()
    with staged_folder(out, force=force, inputs=inputs, flag=FORCE_FLAG) as staging:
        result.to_inference_data().to_netcdf(str(staging / "posterior.nc"))
        summary.to_csv(staging / "summary.csv", index=False)
        checks.table().to_csv(staging / "ppc.csv", index=False)
        (staging / "ppc.json").write_text(json.dumps(checks.to_dict(), indent=1))
        checks.plot_choices(staging / checks.choice_plot)
        checks.plot_rt_quantiles(staging / "ppc_rt_quantiles.png")
    return Path(out)


def _resolve_model(model: PathLike | str | ModelSpec | None, fixed: Mapping[str, float] | None,
                   free: Sequence[str]) -> tuple[ModelSpec, _Network | None, bool]:
    """The spec, the network to consider, and whether the network was named explicitly."""
    network = None
    explicit = False
    if isinstance(model, ModelSpec) or (isinstance(model, str) and model in MODELS):
        base: str | ModelSpec = model
    elif model is None:
        base = DEFAULT_MODEL
    elif isinstance(model, (str, os.PathLike)) and Path(model).is_dir():
        network, explicit = _Network.read(Path(model)), True
        base = network.spec
    else:
        raise ValueError(f"model must be a registered model name ({', '.join(MODELS)}) or a run "
                         f"folder written by rlddm train, got {str(model)!r}")
    spec = get_model(base, fixed=dict(fixed or {}), free=tuple(free))
    if network is None and shipped_model().is_dir() and (shipped_model() / "config.json").is_file():
        network = _Network.read(shipped_model())
    return spec, network, explicit


def fit_csv(data: PathLike | pd.DataFrame, *, out: PathLike,
            model: PathLike | str | ModelSpec | None = None, method: str = "auto",
            fixed: Mapping[str, float] | None = None, free: Sequence[str] = (),
            priors: Mapping[str, Prior] | None = None,
            design: str | PathLike | Design | None = None, layout: str = "rlddm",
            columns: dict[str, str | None] | None = None, n_draws: int | None = None,
            n_warmup: int = SAMPLER_DEFAULTS["n_warmup"], thin: int = SAMPLER_DEFAULTS["thin"],
            n_chains: int = SAMPLER_DEFAULTS["n_chains"], rhat_max: float = RHAT_MAX,
            min_ess: float = MIN_ESS, n_jobs: int | None = None,
            force: bool = False, seed: SeedLike = 0, n_ppc: int = PPC_DRAWS,
            progress: bool = False) -> FitResult:
    """Fit a trial table and write the output folder; what ``rlddm fit`` runs.

    Everything is validated before anything is sampled: the options, ``out``, the
    model, the design and the trials (:func:`rlddm.data.read_trials`). SIGTERM and
    Ctrl-C leave no output folder behind.

    Parameters
    ----------
    data : str, path or DataFrame
        Long-format trial table (one row per trial), in ``layout``.
    out : str or path
        Output folder (see :func:`save_fit`).
    model : str, path or ModelSpec, optional
        A registered model name (``rlddm.model.list_models()``), or the run folder of a
        trained network (``rlddm train``; its model, and its priors for the exact
        method); ``"rlddm"`` with the shipped network if None.
    method : {"auto", "amortized", "exact"}
        See the module docstring. ``"amortized"`` raises if the network does not cover
        the fit; ``"auto"`` then uses ``"exact"`` and says why.
    fixed : mapping of str to float, optional
        Parameters held constant (``--fix NAME=VALUE``, :func:`rlddm.model.parse_fixed`),
        e.g. ``{"p_outlier": 0.05}``.
    free : sequence of str
        Parameters to estimate that the model fixes by default (``"p_outlier"``).
    priors : mapping of str to Prior, optional
        Replacements of the model's default priors (``--prior``,
        :func:`rlddm.exact_fit.parse_prior`).
    design : str, path, ReversalDesign or TaskDesign, optional
        The task design (:func:`rlddm.designs.get_design`): its ``q0`` is used, binary
        designs require 0/1 rewards, a task design's option names must match the
        data's, and a reversal design makes the reversal checks. Without it the
        network's design is assumed where the network is used.
    layout : {"rlddm", "hddm", "hssm"}
        Column names and choice coding of ``data``.
    columns : mapping of str to str or None, optional
        Column name per role, overriding the layout's (see ``read_trials``).
    n_draws : int, optional
        Draws per participant: network draws (default 2,000), or draws per chain of
        the exact method (default 1,000).
    n_warmup, thin, n_chains : int
        Sampler settings of the exact method (:data:`rlddm.exact_fit.SAMPLER_DEFAULTS`).
    rhat_max, min_ess : float
        The exact method's convergence checks (R-hat <= 1.01, bulk and tail ESS >= 400).
    n_jobs : int, optional
        Worker processes of the exact method (``os.cpu_count()`` if None); the draws do
        not depend on it.
    force : bool
        Replace an existing non-empty ``out``.
    seed : None, int, SeedSequence, BitGenerator or Generator
        Seeds the posterior draws and the predictive checks.
    n_ppc : int
        Posterior predictive replicates per participant.
    progress : bool
        Show the exact method's progress on stderr.

    Returns
    -------
    FitResult
        The fit: :meth:`FitResult.summary` is ``summary.csv``, :meth:`FitResult.notes`
        the lines to print (method and reason, unconverged participants).

    Raises
    ------
    DataError
        A :class:`ValueError` naming the participant, row, column or option of bad
        trials, or why the network does not cover them (``method="amortized"``).
    ValueError
        On invalid options, an unknown model name, a model folder that is not a run
        folder, or ``out`` being the current folder or holding an input.
    FileExistsError
        If ``out`` exists, is not empty and ``force`` is false.
    KeyboardInterrupt
        On Ctrl-C or SIGTERM; nothing is written.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
    if n_draws is not None:
        n_draws = check_count(n_draws, "n_draws", 2 if method == "amortized" else 8)
    n_ppc = check_count(n_ppc, "n_ppc", 1)
    force, progress = check_flag(force, "force"), check_flag(progress, "progress")
    if priors is not None and not isinstance(priors, Mapping):
        raise ValueError(f"priors must be a mapping of parameter name to Prior, got {priors!r}")
    priors = dict(priors or {})
    inputs = [Path(data)] if isinstance(data, (str, os.PathLike)) else []
    if isinstance(model, (str, os.PathLike)) and Path(model).is_dir():
        inputs.append(Path(model))
    check_out(out, force, inputs, flag=FORCE_FLAG)
    spec, network, explicit = _resolve_model(model, fixed, free)
    chosen_priors = spec.priors(**priors)  # validates the names before the data are read
    design = None if design is None else get_design(design)
    trials = read_trials(data, columns=columns, layout=layout)
    _check_design(trials, design)

    problem = "no trained network" if network is None else \
        _network_problem(network, trials, spec, priors, design)
    if method == "amortized" and network is None:
        raise ValueError(f"no shipped model at {shipped_model()}; pass model= (--model) a run "
                         "folder written by rlddm train")
    if method == "exact":
        chosen, reason = "exact", "method='exact' asked for"
    elif method == "amortized" or problem is None:
        chosen = "amortized"
        reason = (f"method='amortized' asked for: {network.describe()}" if method == "amortized"
                  else f"auto: {network.describe()} covers the model and the data")
        if design is None and problem is None:
            reason += "; the design was not given, so the network's is assumed"
    else:
        chosen, reason = "exact", f"auto: {problem}"
    if explicit and chosen == "exact":
        # a run folder's priors are the model's the user trained with
        chosen_priors = spec.priors(**{n: network.priors[n] for n in spec.names
                                       if n in network.priors.names} | priors)
    fit_seed, ppc_seed = np.random.default_rng(seed).spawn(2)
    if method == "amortized" and problem is not None:
        raise DataError(problem)
    # SIGTERM while sampling also stops the worker processes (staged_folder covers the writing)
    with sigterm_interrupts():
        if chosen == "amortized":
            from ..amortized.training import AmortizedPosterior  # Keras: only for this method

            posterior = AmortizedPosterior.load(network.folder)
            result = fit_participants(trials, posterior,
                                      n_draws=AMORTIZED_DRAWS if n_draws is None else n_draws,
                                      seed=fit_seed, model=network.folder.resolve(),
                                      method_reason=reason)
            result = dataclasses.replace(result, design=design or result.design,
                                         seed=_seed_text(seed))
        else:
            result = _fit_exact(trials, spec, chosen_priors, design, reason, fit_seed, n_jobs,
                                progress, n_draws=n_draws or SAMPLER_DEFAULTS["n_draws"],
                                n_warmup=n_warmup, thin=thin, n_chains=n_chains,
                                rhat_max=rhat_max, min_ess=min_ess,
                                source=str(network.folder.resolve()) if explicit else spec.name,
                                seed_text=_seed_text(seed))
        save_fit(result, out, force=force, n_ppc=n_ppc, seed=ppc_seed, inputs=inputs)
    return result


def _check_design(trials: TrialData, design: Design | None) -> None:
    """The data must fit a given design: its option names, and 0/1 rewards if it is binary."""
    if design is None:
        return
    name = f"design {design.name!r}" if isinstance(design, TaskDesign) and design.name else \
        "the design"
    if isinstance(design, TaskDesign):
        known = set(design.option_names)
        for p in trials:
            implied = (0, 1) if p.conditions is None else _condition_labels(p.conditions)
            unknown = [label for label in p.option_labels if str(label) not in known]
            # labels the file did not name (no option columns) cannot disagree with a design
            if unknown and p.option_labels != implied:
                raise DataError(f"participant {p.participant!r} presents option {unknown[0]!r}, "
                                f"which {name} does not have (its options are "
                                f"{', '.join(design.option_names)})")
        binary = all(option.p is not None for option in design.options)
    else:
        binary = True
    if binary:
        _check_binary_rewards(trials, name)


def _fit_exact(trials: TrialData, spec: ModelSpec, priors: Priors, design: Design | None,
               reason: str, seed: SeedLike, n_jobs: int | None, progress: bool, *, source: str,
               seed_text: str, **options: Any) -> FitResult:
    """:func:`rlddm.exact_fit.fit_exact` (sampler ``options``) as a :class:`FitResult`."""
    q0 = DEFAULT_Q0 if design is None else design.q0
    if progress:
        with Progress(len(trials), label=f"rlddm fit ({spec.label()}, exact)",
                      unit="participants") as line:
            fitted = fit_exact(trials, spec, priors=priors, q0=q0, seed=seed, n_jobs=n_jobs,
                               progress=line, **options)
    else:
        fitted = fit_exact(trials, spec, priors=priors, q0=q0, seed=seed, n_jobs=n_jobs, **options)
    batch = fitted.batch
    k, n_chains, n_per_chain, width = batch.draws.shape
    return FitResult(trials, batch.draws.reshape(k, n_chains * n_per_chain, width), spec, priors,
                     "exact", reason, n_chains, diagnostics=batch,
                     log_likelihood=tuple(fitted.log_likelihood), design=design, q0=q0,
                     dt=fitted.settings["dt"], max_steps=fitted.settings["max_steps"],
                     simulation_method="exact", model_source=source, settings=fitted.settings,
                     seed=seed_text)
