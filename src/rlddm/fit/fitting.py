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
import warnings
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .. import __version__
from .._checks import check_count
from .._output import _sigterm_interrupts as sigterm_interrupts
from .._output import check_out, staged_folder
from .._progress import Progress
from .._seeding import SeedLike
from ..data.reading import (DataError, PathLike, ParticipantTrials, TrialData, _condition_labels,
                   read_trials)
from ..task.designs import Design, TaskDesign, get_design
from .exact import SAMPLER_DEFAULTS, fit_exact
from ..likelihood import loglik_trials
from ..model import DEFAULT_MODEL, DEFAULT_Q0, MODELS, ModelSpec, get_model
from .model_comparison import LOG_LIKELIHOOD_VARIABLE
from ..mcmc.diagnostics import MIN_ESS, RHAT_MAX
from ..mcmc.sampler import PosteriorBatch
from ..model.priors import Prior, Priors
from ..simulator.simulation import simulate
from ..task.reversal import ReversalDesign

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
PPC_INTERVAL = 0.90
PPC_DRAWS = 200
AMORTIZED_DRAWS = 2000
REVERSAL_OFFSETS: tuple[int, ...] = tuple(range(-3, 9))
RT_QUANTILES: tuple[float, ...] = (0.1, 0.3, 0.5, 0.7, 0.9)
PAIR_BIN = 10
"""Presentations of a pair per point of the learning curves."""
MAX_PANELS = 24
CHOICE_PLOTS = {"reversal": "ppc_reversal.png", "pairs": "ppc_learning_curves.png"}
MISSED_NOTE = ("missed responses (choice -1, rt NaN in observed_data) carry no information "
               "about the parameters (the model retries them with Q-values unchanged): the "
               "likelihood skips them and the network's input leaves them out; they are "
               "counted in constant_data.n_missed")
LOG_LIKELIHOOD_NOTE = ("log_likelihood.trial: log density of each answered trial given the "
                       "trials before it, per draw; obs_participant and obs_trial (position in "
                       "observed_data's trial dimension) name the trial")
_LOW = f"predicted_{100 * (1 - PPC_INTERVAL) / 2:g}%"
_HIGH = f"predicted_{100 * (1 + PPC_INTERVAL) / 2:g}%"
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
        ids = _participant_coords(trials.participants)
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


def _participant_coords(participants: Sequence[Any]) -> NDArray:
    """Integer ids stay integers; any other ids are written as text (NetCDF has no objects)."""
    if all(isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in participants):
        return np.array(participants, dtype=np.int64)
    text = np.array([str(p) for p in participants])
    if np.unique(text).size != text.size:
        raise ValueError(f"participant ids must stay distinct as text, got {list(participants)!r}")
    return text


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

    if not isinstance(trials, TrialData):
        raise ValueError(f"trials must be a TrialData (from rlddm.data.read_trials), "
                         f"got {type(trials).__name__}")
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
# posterior predictive checks


def better_arm(design: ReversalDesign, n_trials: int) -> NDArray[np.int64]:
    """The arm with the higher reward probability on each trial (-1 where they are equal).

    Returns
    -------
    ndarray of int64, shape (T,)
    """
    probabilities = design.probabilities(n_trials)
    better = np.argmax(probabilities, axis=1)
    return np.where(probabilities[:, 0] == probabilities[:, 1], -1, better)


def reversal_windows(better: NDArray[np.int64], offsets: Sequence[int]
                     ) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Trials at each offset from each reversal, kept within the reversal's own blocks.

    A reversal is a trial whose better arm differs from the previous trial's. The
    trial at offset ``d`` from reversal ``r`` counts only if it lies after the
    previous reversal (for ``d < 0``) and before the next one (for ``d >= 0``), so
    that "better arm" always refers to the blocks either side of ``r``.

    Returns
    -------
    trial : ndarray of int64, shape (R, D)
        Trial index (clipped into range where not valid).
    valid : ndarray of bool, shape (R, D)
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    n_trials = better.size
    defined = (better[1:] >= 0) & (better[:-1] >= 0)
    changes = np.flatnonzero((better[1:] != better[:-1]) & defined) + 1
    bounds = np.concatenate([[0], changes, [n_trials]])
    trial = changes[:, None] + offsets[None, :]
    valid = (trial >= bounds[:-2, None]) & (trial < bounds[2:, None])
    trial = np.clip(trial, 0, max(n_trials - 1, 0))
    valid &= better[trial] >= 0
    return trial, valid


def _better_choices(choice: NDArray[np.int8], better: NDArray[np.int64], trial: NDArray[np.int64],
                    valid: NDArray[np.bool_]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Better-arm choices and answered trials per offset, summed over reversals: (S, D) each."""
    chosen = choice[:, trial]
    counted = valid & (chosen != -1)
    hits = counted & (chosen == better[trial])
    return hits.sum(axis=1), counted.sum(axis=1)


def _cell_sums(choice: NDArray[np.int8], better: NDArray[np.int64], cell: NDArray[np.int64],
               n_cells: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Better choices and answered trials per cell (-1: none), shape (S, n_cells) each."""
    counted = (cell >= 0) & (choice != -1)
    hits = counted & (choice == better)
    rows = np.arange(choice.shape[0])[:, None]
    index = rows * n_cells + np.where(cell >= 0, cell, 0)
    size = choice.shape[0] * n_cells
    return (np.bincount(index[hits], minlength=size).reshape(-1, n_cells),
            np.bincount(np.broadcast_to(index, choice.shape)[counted],
                        minlength=size).reshape(-1, n_cells))


def _quantiles_by_key(rt: NDArray[np.float64], key: NDArray[np.int64], n_keys: int,
                      quantiles: Sequence[float]) -> tuple[NDArray, NDArray]:
    """RT quantiles per data set and key, shape (n_keys, Q, S), and counts, shape (n_keys, S).

    NumPy's ``nanquantile`` with its default (linear) interpolation, per row; written
    out because ``nanquantile`` along an axis loops over the rows in Python (four fifths
    of the predictive checks' time for 28 participants).
    """
    levels = np.asarray(quantiles, dtype=np.float64)
    result = np.full((n_keys, levels.size, rt.shape[0]), np.nan)
    counts = np.stack([(key == j).sum(axis=1) for j in range(n_keys)])
    rows = np.arange(rt.shape[0])[:, None]
    for j in range(n_keys):
        ordered = np.sort(np.where(key == j, rt, np.nan), axis=1)  # NaN last
        n = counts[j][:, None]
        position = levels[None, :] * np.maximum(n - 1, 0)
        low = np.floor(position).astype(np.int64)
        high = np.minimum(low + 1, np.maximum(n - 1, 0))
        below, above = ordered[rows, low], ordered[rows, high]
        values = below + (position - low) * (above - below)
        result[j] = np.where(n > 0, values, np.nan).T
    return result, counts


def _interval(values: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
    """Mean and central ``PPC_INTERVAL`` interval over replicates (the last axis), NaN-aware."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanquantile(values, [(1 - PPC_INTERVAL) / 2, (1 + PPC_INTERVAL) / 2],
                                   axis=-1)
        return {"predicted_mean": np.nanmean(values, axis=-1), _LOW: low, _HIGH: high}


@dataclasses.dataclass(frozen=True)
class _Replicates:
    """One participant's (or the pool's) predicted replicates and observed trials.

    ``choice_keys`` name the cells of the choice check (reversal offsets, or pair and
    presentation bin); ``hits`` and ``counted`` (S, cells) are better choices and
    answered trials per replicate and cell, ``observed_*`` (cells,) the same for the
    observed trials. ``rt_keys`` name the RT groups (choice, or pair and option);
    ``rt_key`` (S, T) and ``observed_key`` (T,) give each trial's group (-1: none).
    """

    group: int
    participant: Any
    choice_keys: list[tuple[Any, ...]]
    hits: NDArray[np.int64]
    counted: NDArray[np.int64]
    observed_hits: NDArray[np.int64]
    observed_counted: NDArray[np.int64]
    rt_keys: list[tuple[Any, ...]]
    rt: NDArray[np.float64]
    rt_key: NDArray[np.int64]
    observed_rt: NDArray[np.float64]
    observed_key: NDArray[np.int64]

    @classmethod
    def pool(cls, groups: list[_Replicates]) -> _Replicates:
        """All participants as one: replicate ``s`` pools replicate ``s`` of each, by key."""
        choice_keys = sorted({k for g in groups for k in g.choice_keys})
        rt_keys = list(dict.fromkeys(k for g in groups for k in g.rt_keys))
        where = {key: j for j, key in enumerate(choice_keys)}
        sums = [np.zeros((groups[0].hits.shape[0], len(choice_keys)), dtype=np.int64)
                for _ in range(2)]
        observed = [np.zeros(len(choice_keys), dtype=np.int64) for _ in range(2)]
        for g in groups:
            columns = [where[key] for key in g.choice_keys]
            sums[0][:, columns] += g.hits
            sums[1][:, columns] += g.counted
            observed[0][columns] += g.observed_hits
            observed[1][columns] += g.observed_counted
        rt_where = {key: j for j, key in enumerate(rt_keys)}

        def remap(g: _Replicates, key: NDArray[np.int64]) -> NDArray[np.int64]:
            table = np.array([rt_where[k] for k in g.rt_keys] + [-1], dtype=np.int64)
            return table[np.where(key >= 0, key, len(g.rt_keys))]

        return cls(0, "all", choice_keys, sums[0], sums[1], observed[0], observed[1], rt_keys,
                   np.concatenate([g.rt for g in groups], axis=1),
                   np.concatenate([remap(g, g.rt_key) for g in groups], axis=1),
                   np.concatenate([g.observed_rt for g in groups]),
                   np.concatenate([remap(g, g.observed_key) for g in groups]))

    def add_rows(self, choice_columns: Sequence[str], rt_columns: Sequence[str],
                 quantiles: list[float], choice_rows: list[dict[str, Any]],
                 quantile_rows: list[dict[str, Any]]) -> None:
        """Append this group's rows of both checks."""
        head = {"group": self.group, "participant": self.participant}
        with np.errstate(invalid="ignore", divide="ignore"):  # no answered trial there: NaN
            predicted = _interval((self.hits / self.counted).T)
            observed = self.observed_hits / self.observed_counted
        for j, key in enumerate(self.choice_keys):
            choice_rows.append({**head, **dict(zip(choice_columns, key)),
                                "observed": observed[j],
                                "n_observed": int(self.observed_counted[j]),
                                **{name: value[j] for name, value in predicted.items()}})
        n_keys = len(self.rt_keys)
        predicted = _interval(_quantiles_by_key(self.rt, self.rt_key, n_keys, quantiles)[0])
        observed, observed_n = _quantiles_by_key(self.observed_rt[None], self.observed_key[None],
                                                 n_keys, quantiles)
        for j, key in enumerate(self.rt_keys):
            for i, q in enumerate(quantiles):
                quantile_rows.append({**head, **dict(zip(rt_columns, key)), "quantile": q,
                                      "observed": observed[j, i, 0],
                                      "n_observed": int(observed_n[j, 0]),
                                      **{name: value[j, i] for name, value in predicted.items()}})


def _reversal_replicates(group: int, participant: ParticipantTrials, simulated: Any,
                         design: ReversalDesign, offsets: list[int]) -> _Replicates:
    """Better-arm choices around the design's reversals; RT groups by choice (0, 1)."""
    better = better_arm(design, participant.n_trials)
    trial, valid = reversal_windows(better, offsets)
    hits, counted = _better_choices(simulated.choice, better, trial, valid)
    observed_hits, observed_counted = _better_choices(participant.choice[None], better, trial,
                                                      valid)
    return _Replicates(group, participant.participant, [(d,) for d in offsets], hits, counted,
                       observed_hits[0], observed_counted[0], [(0,), (1,)], simulated.rt,
                       simulated.choice.astype(np.int64), participant.rt,
                       participant.choice.astype(np.int64))


def _pair_replicates(group: int, participant: ParticipantTrials, simulated: Any,
                     rates: NDArray[np.float64], bin_size: int) -> _Replicates:
    """Learning curve per pair (better option by empirical reward rate, against the pair's
    presentation number in bins) and RT groups by pair and chosen option."""
    options = participant.options
    labels = participant.option_labels
    low, high = options.min(axis=1), options.max(axis=1)
    pairs = sorted(set(zip(low.tolist(), high.tolist())))  # option indices: label order
    pair = np.array([pairs.index(p) for p in zip(low.tolist(), high.tolist())], dtype=np.int64)
    shown = np.zeros(participant.n_trials, dtype=np.int64)  # presentation number in its pair
    for j in range(len(pairs)):
        mine = pair == j
        shown[mine] = np.arange(int(mine.sum()))
    first, second = rates[options[:, 0]], rates[options[:, 1]]
    better = np.where(first > second, 0, np.where(second > first, 1, -1))
    bins = shown // bin_size
    keys = sorted(set(zip(pair[better >= 0].tolist(), bins[better >= 0].tolist())))
    cell = np.full(participant.n_trials, -1, dtype=np.int64)
    where = {key: c for c, key in enumerate(keys)}
    for t in np.flatnonzero(better >= 0):
        cell[t] = where[(int(pair[t]), int(bins[t]))]
    hits, counted = _cell_sums(simulated.choice, better, cell, len(keys))
    observed_hits, observed_counted = _cell_sums(participant.choice[None], better, cell, len(keys))

    def names(j: int) -> str:
        return f"{labels[pairs[j][0]]}-{labels[pairs[j][1]]}"

    def rt_key(choice: NDArray[np.int8]) -> NDArray[np.int64]:
        chosen = np.take_along_axis(np.broadcast_to(options, choice.shape + (2,)),
                                    np.where(choice >= 0, choice, 0)[..., None], axis=-1)[..., 0]
        return np.where(choice >= 0, 2 * pair + (chosen == high), -1)

    return _Replicates(group, participant.participant,
                       [(names(j), b * bin_size + 1) for j, b in keys], hits, counted,
                       observed_hits[0], observed_counted[0],
                       [(names(j), str(labels[pairs[j][side]])) for j in range(len(pairs))
                        for side in (0, 1)],
                       simulated.rt, rt_key(simulated.choice), participant.rt,
                       rt_key(participant.choice[None])[0])


def _reward_pools(trials: TrialData) -> tuple[list[list[NDArray]], dict[Any, NDArray]]:
    """Observed rewards of each option when chosen: per participant, and pooled by label."""
    own, by_label = [], {}
    for p in trials:
        fed = (p.choice != -1) & np.isfinite(p.reward)
        chosen = p.options[np.arange(p.n_trials), np.where(p.choice >= 0, p.choice, 0)]
        pools = [p.reward[fed & (chosen == o)] for o in range(p.n_options)]
        own.append(pools)
        for label, values in zip(p.option_labels, pools):
            by_label.setdefault(label, []).append(values)
    return own, {label: np.concatenate(v) for label, v in by_label.items()}


def _replicate_outcomes(participant: ParticipantTrials, pools: list[NDArray], n: int,
                        rng: np.random.Generator) -> NDArray[np.float64]:
    """Outcomes (n, T, 2) for replicates of a participant's own trial sequence.

    The chosen option's outcome is the observed reward; the other option's, and both on
    a missed trial, are drawn from that option's observed rewards (a Bernoulli draw at
    its empirical rate for 0/1 rewards). A trial without feedback stays without (NaN).
    """
    options = participant.options
    outcomes = np.empty((n,) + options.shape)
    for o in np.unique(options):
        where = options == o
        pool = pools[o]
        outcomes[:, where] = pool[rng.integers(pool.size, size=(n, int(where.sum())))] \
            if pool.size else np.nan
    answered = participant.choice != -1
    trials = np.flatnonzero(answered)
    outcomes[:, trials, participant.choice[trials]] = participant.reward[trials]
    outcomes[:, answered & np.isnan(participant.reward)] = np.nan
    return outcomes


@dataclasses.dataclass(frozen=True, eq=False)
class PredictiveChecks:
    """Observed vs posterior predictive: better choices (around reversals or per pair), RT quantiles.

    Attributes
    ----------
    choices : DataFrame
        ``group`` (0 = pooled, k + 1 = participant k), ``participant`` (an id, or
        ``"all"`` pooled), for the reversal check ``position`` (trial relative to the
        reversal; 0 is the first trial after it), for the pairs check ``pair`` (its
        option labels) and ``position`` (the pair's first presentation number in the
        bin); ``observed`` (share of answered trials there on which the better option
        was chosen), ``n_observed`` (answered trials counted), ``predicted_mean``,
        ``predicted_5%``, ``predicted_95%`` (over replicates).
    rt_quantiles : DataFrame
        ``group``, ``participant``, ``choice`` (0 = upper boundary, 1 = lower; reversal)
        or ``pair`` and ``option`` (the chosen option's label; pairs), ``quantile``,
        ``observed``, ``n_observed`` and the predicted columns as above.
    settings : dict
        ``check`` (``"reversal"`` or ``"pairs"``), ``n_draws`` (replicates per
        participant), ``offsets`` or ``bin_size``, ``quantiles``, ``interval``,
        ``method`` and ``note``.
    """

    choices: pd.DataFrame
    rt_quantiles: pd.DataFrame
    settings: dict[str, Any]

    @property
    def choice_plot(self) -> str:
        """File name of the choice check's figure."""
        return CHOICE_PLOTS[self.settings["check"]]

    def table(self) -> pd.DataFrame:
        """Both checks in one long table (``ppc.csv``), with a ``check`` column."""
        kind = "reversal" if self.settings["check"] == "reversal" else "learning_curve"
        table = pd.concat([self.choices.assign(check=kind),
                           self.rt_quantiles.assign(check="rt_quantile")], ignore_index=True)
        columns = ["check", "participant", "pair", "position", "choice", "option", "quantile",
                   "observed", "n_observed", "predicted_mean", _LOW, _HIGH]
        table = table.reindex(columns=[c for c in columns if c in table.columns])
        for column in ("position", "choice"):
            if column in table:
                table[column] = table[column].astype("Int64")
        return table

    def _groups(self, frame: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
        """Rows by group, pooled first, with a panel title each."""
        return [("all participants" if group == 0 else f"participant {rows['participant'].iloc[0]}",
                 rows) for group, rows in frame.groupby("group", sort=True)]

    def to_dict(self) -> dict[str, Any]:
        """The checks as ``ppc.json``: settings, ``all`` (pooled), ``participants`` by id (text).

        Each entry holds ``choices`` and ``rt_quantiles``, one list per column; NaN
        (no answered trial of that kind) is written as null.
        """
        def columns(rows: pd.DataFrame) -> dict[str, list[Any]]:
            return {name: _json_list(rows[name]) for name in rows.columns
                    if name not in ("group", "participant")}

        entries = {}
        for (group, choices), (_, quantiles) in zip(self.choices.groupby("group"),
                                                    self.rt_quantiles.groupby("group")):
            entries[group] = (str(choices["participant"].iloc[0]),
                              {"choices": columns(choices), "rt_quantiles": columns(quantiles)})
        return {"settings": self.settings, "all": entries.pop(0)[1],
                "participants": dict(entries.values())}

    def plot_choices(self, path: PathLike) -> None:
        """The choice check's figure: pooled panel, then one panel per participant (up to 24)."""
        from matplotlib.ticker import MaxNLocator

        reversal = self.settings["check"] == "reversal"
        groups = self._groups(self.choices)
        figure, axes = _panels(len(groups), "P(better option)")
        for ax, (title, rows) in zip(axes, groups):
            lines = [("", rows)] if reversal else list(rows.groupby("pair", sort=False))
            for color, (pair, part) in enumerate(lines):
                position = part["position"].to_numpy()
                label = f"{pair} " if pair else ""
                ax.fill_between(position, part[_LOW], part[_HIGH], color=f"C{color}", alpha=0.25)
                ax.plot(position, part["predicted_mean"], color=f"C{color}",
                        label=f"{label}predicted (band {100 * PPC_INTERVAL:g}%)")
                ax.plot(position, part["observed"], "o-" if reversal else "o", color=f"C{color}",
                        mec="k", ms=3, lw=1, label=f"{label}observed")
            if reversal:
                ax.axvline(-0.5, color="grey", ls="--", lw=0.8)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylim(-0.02, 1.02)
            ax.set_title(title, fontsize=9)
        axes[0].legend(fontsize=6, loc="lower right")
        figure.supxlabel("trial relative to reversal (0 = first trial after it)" if reversal else
                         f"presentation of the pair (bins of {self.settings['bin_size']})")
        _save(figure, path, self.settings, len(groups))

    def plot_rt_quantiles(self, path: PathLike) -> None:
        """``ppc_rt_quantiles.png``: RT quantiles per choice (or pair and option)."""
        keys = ["choice"] if self.settings["check"] == "reversal" else ["pair", "option"]
        groups = self._groups(self.rt_quantiles)
        figure, axes = _panels(len(groups), "RT (s)")
        for ax, (title, rows) in zip(axes, groups):
            for j, (key, part) in enumerate(rows.groupby(keys, sort=False)):
                color, style = f"C{j // 2}", "-" if j % 2 == 0 else "--"
                quantile = part["quantile"].to_numpy()
                label = " ".join(str(k) for k in key)
                ax.fill_between(quantile, part[_LOW], part[_HIGH], color=color, alpha=0.15)
                ax.plot(quantile, part["predicted_mean"], color=color, ls=style,
                        label=f"{label} predicted")
                ax.plot(quantile, part["observed"], "o", color=color, mec="k", ms=3,
                        label=f"{label} observed")
            ax.set_title(title, fontsize=9)
        axes[0].legend(fontsize=6, loc="upper left")
        figure.supxlabel("quantile")
        _save(figure, path, self.settings, len(groups))


def _json_list(values: pd.Series) -> list[Any]:
    return [None if pd.isna(v) else (int(v) if isinstance(v, (int, np.integer)) else
                                     float(v) if isinstance(v, (float, np.floating)) else str(v))
            for v in values]


def _panels(n_groups: int, ylabel: str) -> tuple[Any, list[Any]]:
    # A bare Agg figure, not pyplot: no global backend switch, nothing to close afterwards.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = min(n_groups, MAX_PANELS + 1)
    columns = min(n, 5)
    rows = -(-n // columns)
    width, height = 2.8 * columns, 2.3 * rows + 0.6
    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)
    # fixed margins in inches: tight_layout measures every tick label and took half
    # of the output's time
    figure.subplots_adjust(left=0.7 / width, right=1 - 0.15 / width, bottom=0.55 / height,
                           top=1 - 0.6 / height, wspace=0.35, hspace=0.45)
    axes = figure.subplots(rows, columns, squeeze=False, sharex=True)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    for row in axes:
        row[0].set_ylabel(ylabel)
    return figure, flat[:n]


def _save(figure: Any, path: PathLike, settings: dict[str, Any], n_groups: int) -> None:
    shown = min(n_groups, MAX_PANELS + 1) - 1
    note = f"; first {shown} of {n_groups - 1} participants shown" if shown < n_groups - 1 else ""
    figure.suptitle(f"posterior predictive: {settings['n_draws']} draws per participant, "
                    f"{settings['method']} simulation, band = {100 * PPC_INTERVAL:g}%{note}",
                    fontsize=10)
    figure.savefig(path, dpi=90)


def predictive_checks(result: FitResult, *, n_draws: int = PPC_DRAWS,
                      offsets: Sequence[int] = REVERSAL_OFFSETS,
                      quantiles: Sequence[float] = RT_QUANTILES, bin_size: int = PAIR_BIN,
                      seed: SeedLike = 0) -> PredictiveChecks:
    """Simulate posterior predictive data sets and compare them with the observed trials.

    For each participant, ``n_draws`` posterior draws (without replacement, chains
    pooled) each simulate one data set with :func:`rlddm.simulate` (the fit's model,
    initial Q-value and response deadline).

    With a reversal design (the network's, or ``design=`` a ``ReversalDesign``) the
    outcomes are drawn from the design and the check is the choice of the better arm
    (by the design's probabilities) around reversals, as trained networks assume.
    Otherwise the replicates present the participant's own options in the observed
    order; the chosen option's outcome is the observed reward, and the unchosen one's
    (unknown in real data) is drawn from that option's observed rewards when chosen,
    which is a Bernoulli draw at its empirical reward rate for 0/1 rewards (an option
    the participant never chose uses its label's rewards over all participants). The
    better option of a pair is the one with the higher empirical reward rate, and the
    check is its choice against the pair's presentation number (bins of
    ``bin_size``), per pair.

    Parameters
    ----------
    result : FitResult
    n_draws : int
        Replicates per participant (all draws if fewer).
    offsets : sequence of int
        Trial positions relative to each reversal (0 = first trial after it).
    quantiles : sequence of float
        RT quantile levels, each in [0, 1].
    bin_size : int
        Presentations of a pair per point of its learning curve.
    seed : None, int, SeedSequence, BitGenerator or Generator
        Seeds the choice of draws, the outcomes and the simulations.

    Returns
    -------
    PredictiveChecks
        Per participant and pooled over participants (``participant == "all"``;
        a pooled replicate combines replicate ``s`` of every participant).

    Raises
    ------
    ValueError
        On invalid ``n_draws``, ``offsets``, ``quantiles`` or ``bin_size``.
    """
    n_draws = min(check_count(n_draws, "n_draws", 1), result.n_draws)
    bin_size = check_count(bin_size, "bin_size", 1)
    offsets = list(offsets)
    if not offsets or not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool)
                              for d in offsets):
        raise ValueError(f"offsets must be a non-empty sequence of integers, got {offsets!r}")
    offsets = [int(d) for d in offsets]
    quantiles = [float(q) for q in quantiles]
    if not quantiles or not all(0.0 <= q <= 1.0 for q in quantiles):
        raise ValueError(f"quantiles must be a non-empty sequence of levels in [0, 1], "
                         f"got {quantiles!r}")
    design = result.design
    reversal = isinstance(design, ReversalDesign)
    own, by_label = _reward_pools(result.trials)
    rng = np.random.default_rng(seed)
    groups = []
    for k, participant in enumerate(result.trials):
        picked = rng.choice(result.n_draws, size=n_draws, replace=False)
        if reversal:
            outcomes = design.sample(n_draws, n_trials=participant.n_trials, seed=rng)
        else:
            pools = [pool if pool.size else by_label.get(label, pool)
                     for pool, label in zip(own[k], participant.option_labels)]
            outcomes = _replicate_outcomes(participant, pools, n_draws, rng)
        simulated = simulate(result.draws[k, picked], outcomes, model=result.spec,
                             options=participant.options, n_options=max(participant.n_options, 2),
                             q0=result.q0, dt=result.dt, max_steps=result.max_steps,
                             method=result.simulation_method, seed=rng)
        if reversal:
            groups.append(_reversal_replicates(k + 1, participant, simulated, design, offsets))
        else:
            rates = np.array([pool.mean() if pool.size else np.nan for pool in pools])
            groups.append(_pair_replicates(k + 1, participant, simulated, rates, bin_size))
    choice_columns, rt_columns = (("position",), ("choice",)) if reversal else \
        (("pair", "position"), ("pair", "option"))
    choice_rows: list[dict[str, Any]] = []
    quantile_rows: list[dict[str, Any]] = []
    for group in [_Replicates.pool(groups), *groups]:
        group.add_rows(choice_columns, rt_columns, quantiles, choice_rows, quantile_rows)
    settings: dict[str, Any] = {"check": "reversal" if reversal else "pairs", "n_draws": n_draws,
                                "quantiles": quantiles, "interval": PPC_INTERVAL,
                                "method": result.simulation_method}
    if reversal:
        settings |= {"offsets": offsets, "note": (
            "predicted data sets draw outcomes from the design (the observed reward sequence "
            "is not replayed); observed missed responses are not counted; 'all' pools all "
            "participants")}
    else:
        settings |= {"bin_size": bin_size, "note": (
            "predicted data sets present each participant's observed options in order; the "
            "chosen option's outcome is the observed reward, the unchosen one's is drawn from "
            "that option's observed rewards (Bernoulli at the empirical rate for 0/1 rewards); "
            "the better option of a pair has the higher empirical reward rate; observed missed "
            "responses are not counted; 'all' pools all participants")}
    return PredictiveChecks(pd.DataFrame(choice_rows), pd.DataFrame(quantile_rows), settings)


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
    for name, value in (("force", force), ("progress", progress)):
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be True or False, got {value!r}")
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
