"""Fit participants with a trained amortized posterior: draws, summary, predictive checks, output.

:func:`fit_csv` is the whole path behind ``rlddm fit``: read and validate a trial
table against the model's trained trial range, draw each participant's posterior
(:func:`fit_participants`), simulate posterior predictive data sets
(:func:`predictive_checks`) and write an output folder (:func:`save_fit`):

``posterior.nc``
    ArviZ ``InferenceData`` (NetCDF 4 through h5netcdf): ``posterior`` (chain 1,
    draw ``n_draws``, one variable per parameter with dimension ``participant``),
    ``observed_data`` (``rt``, ``choice``, ``reward``, dimensions ``participant`` x
    ``trial``; padded with NaN beyond a participant's last trial; a missed response
    is choice -1, rt NaN, reward 0) and ``constant_data`` (``n_trials``,
    ``n_missed``, ``trial_number``). Attributes (file and ``posterior`` group): model
    folder, simulation method, priors and design (JSON), trial range, rlddm version.
``summary.csv``
    One row per participant and parameter: mean, sd, ``hdi_3%``, ``hdi_97%`` (94%
    highest-density interval, :func:`arviz.hdi`), ``n_trials``, ``n_missed``.
``ppc.csv``, ``ppc.json``, ``ppc_reversal.png``, ``ppc_rt_quantiles.png``
    Observed vs predicted choice probability of the better arm around reversals and
    RT quantiles per choice (see :class:`PredictiveChecks`).

Missed responses. The model retries a trial that reaches no boundary, with its
Q-values unchanged, so a missed response carries no information about the
parameters beyond the retry itself. They are left out of the network's input (the
posterior conditions on the answered trials only, which then sit one position
earlier in the design's reversal phase than they were presented), and counted in
every output. A participant needs at least the model's ``min_trials`` answered trials.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ._checks import check_count
from . import __version__
from ._seeding import SeedLike
from .data import DataError, PathLike, TrialData, read_trials
from .inference import AmortizedPosterior, InferenceConfig
from .parameters import PARAMETER_NAMES
from .simulation import simulate
from .task import ReversalDesign

__all__ = [
    "FitResult",
    "PredictiveChecks",
    "check_fit_range",
    "fit_csv",
    "fit_participants",
    "predictive_checks",
    "save_fit",
    "shipped_model",
]

HDI_PROB = 0.94
PPC_INTERVAL = 0.90
PPC_DRAWS = 200
REVERSAL_OFFSETS: tuple[int, ...] = tuple(range(-3, 9))
RT_QUANTILES: tuple[float, ...] = (0.1, 0.3, 0.5, 0.7, 0.9)
MAX_PANELS = 24
OUTPUT_FILES = ("posterior.nc", "summary.csv", "ppc.csv", "ppc.json", "ppc_reversal.png",
                "ppc_rt_quantiles.png")
MISSED_NOTE = ("missed responses (choice -1, rt NaN in observed_data) are left out of the "
               "network input: the model retries them with Q-values unchanged, so the posterior "
               "conditions on the answered trials; they are counted in constant_data.n_missed")
_LOW = f"predicted_{100 * (1 - PPC_INTERVAL) / 2:g}%"
_HIGH = f"predicted_{100 * (1 + PPC_INTERVAL) / 2:g}%"
_HDI_LOW = f"hdi_{100 * (1 - HDI_PROB) / 2:g}%"
_HDI_HIGH = f"hdi_{100 * (1 + HDI_PROB) / 2:g}%"


def shipped_model() -> Path:
    """Folder of the pretrained model that ships inside the package (``rlddm/models/default``)."""
    return Path(str(resources.files("rlddm") / "models" / "default"))


def check_fit_range(trials: TrialData, config: InferenceConfig) -> None:
    """Require every participant to fit a model's trained trial range.

    The trial count (missed responses included) must lie in ``[min_trials,
    max_trials]`` and the number of answered trials, which is what the network
    sees, must be at least ``min_trials``.

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
# posterior draws


@dataclasses.dataclass(frozen=True, eq=False)
class FitResult:
    """Posterior draws of every participant, with the trials and the model they came from.

    Attributes
    ----------
    trials : TrialData
        The fitted trials (missed responses included).
    draws : ndarray of float64, shape (K, n_draws, 5)
        Posterior draws per participant, columns in ``PARAMETER_NAMES`` order.
    config : InferenceConfig
        Configuration of the model (priors, design, trial range, simulation method).
    model : str
        The model's folder, or ``""`` if unknown.
    seed : str
        The integer seed as text (empty for other seeds), for the record.
    """

    trials: TrialData
    draws: NDArray[np.float64]
    config: InferenceConfig
    model: str = ""
    seed: str = ""

    @property
    def participants(self) -> tuple[Any, ...]:
        """Participant ids, in the order of ``draws``."""
        return self.trials.participants

    @property
    def n_draws(self) -> int:
        """Posterior draws per participant."""
        return int(self.draws.shape[1])

    def attributes(self) -> dict[str, Any]:
        """Metadata written to ``posterior.nc``: model, simulation, priors, design, range."""
        config = self.config
        return {"rlddm_version": __version__, "model": self.model,
                "simulation_method": config.method, "dt": config.dt,
                "max_steps": config.max_steps,
                "priors": json.dumps(config.priors.to_dict()),
                "design": json.dumps(config.design.to_dict()),
                "min_trials": config.min_trials, "max_trials": config.max_trials,
                "n_draws": self.n_draws, "seed": self.seed,
                "inference_library": "bayesflow", "missed_responses": MISSED_NOTE}

    def _posterior_arrays(self) -> dict[str, NDArray[np.float64]]:
        """One (chain 1, draw, participant) array per parameter."""
        return {name: self.draws[:, :, i].T[None] for i, name in enumerate(PARAMETER_NAMES)}

    def to_inference_data(self) -> az.InferenceData:
        """The draws and observed trials as ArviZ ``InferenceData`` (see the module docstring)."""
        trials = self.trials
        coords = {"participant": _participant_coords(trials.participants),
                  "trial": np.arange(1, int(trials.n_trials.max()) + 1)}
        padded = {name: np.full((len(trials), coords["trial"].size), np.nan)
                  for name in ("rt", "choice", "reward", "trial_number")}
        for k, participant in enumerate(trials):
            for name, values in (("rt", participant.rt), ("choice", participant.choice),
                                 ("reward", participant.reward),
                                 ("trial_number", participant.trial)):
                padded[name][k, :participant.n_trials] = values
        trial_dims = ["participant", "trial"]
        attrs = self.attributes()
        return az.from_dict(
            posterior=self._posterior_arrays(),
            observed_data={name: padded[name] for name in ("rt", "choice", "reward")},
            constant_data={"n_trials": trials.n_trials, "n_missed": trials.n_missed,
                           "trial_number": padded["trial_number"]},
            coords=coords,
            dims={**{name: ["participant"] for name in PARAMETER_NAMES},
                  "rt": trial_dims, "choice": trial_dims, "reward": trial_dims,
                  "trial_number": trial_dims, "n_trials": ["participant"],
                  "n_missed": ["participant"]},
            attrs=dict(attrs), posterior_attrs=dict(attrs))

    def summary(self) -> pd.DataFrame:
        """Per participant and parameter: mean, sd, 94% HDI, n_trials, n_missed.

        Returns
        -------
        DataFrame
            Columns ``participant, parameter, mean, sd, hdi_3%, hdi_97%, n_trials,
            n_missed``; K x 5 rows, participants in input order, parameters in
            ``PARAMETER_NAMES`` order. ``sd`` has ddof 1, as in :func:`arviz.summary`.
        """
        posterior = az.from_dict(
            posterior=self._posterior_arrays(),
            dims={name: ["participant"] for name in PARAMETER_NAMES}).posterior
        hdi = az.hdi(posterior, hdi_prob=HDI_PROB)  # per variable: (participant, 2)
        low, high = (np.column_stack([hdi[name].values[:, side] for name in PARAMETER_NAMES])
                     for side in (0, 1))
        n_parameters = len(PARAMETER_NAMES)
        return pd.DataFrame({
            "participant": np.repeat(np.array(self.participants, dtype=object), n_parameters),
            "parameter": np.tile(PARAMETER_NAMES, len(self.participants)),
            "mean": self.draws.mean(axis=1).ravel(),
            "sd": self.draws.std(axis=1, ddof=1).ravel(),
            _HDI_LOW: low.ravel(),
            _HDI_HIGH: high.ravel(),
            "n_trials": np.repeat(self.trials.n_trials, n_parameters),
            "n_missed": np.repeat(self.trials.n_missed, n_parameters),
        })


def _participant_coords(participants: Sequence[Any]) -> NDArray:
    """Integer ids stay integers; any other ids are written as text (NetCDF has no objects)."""
    if all(isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in participants):
        return np.array(participants, dtype=np.int64)
    text = np.array([str(p) for p in participants])
    if np.unique(text).size != text.size:
        raise ValueError(f"participant ids must stay distinct as text, got {list(participants)!r}")
    return text


def fit_participants(trials: TrialData, posterior: AmortizedPosterior, *, n_draws: int = 2000,
                     seed: SeedLike = 0, model: PathLike | None = None) -> FitResult:
    """Posterior draws for every participant, one network call per number of answered trials.

    Parameters
    ----------
    trials : TrialData
        Validated trials (:func:`rlddm.data.read_trials`); missed responses are left
        out of the network input and counted (see the module docstring).
    posterior : AmortizedPosterior
        A trained posterior; its design is taken to be the participants' design.
    n_draws : int
        Posterior draws per participant (at least 2).
    seed : None, int, SeedSequence, BitGenerator or Generator
        Seeds the network's sampling, one seed per group of participants.
    model : str or path, optional
        The posterior's folder, recorded in the output's metadata.

    Returns
    -------
    FitResult
        ``draws`` of shape (K, n_draws, 5), participants in the order of ``trials``.

    Raises
    ------
    DataError
        If a participant's trial count is outside the model's range, or it has
        fewer answered trials than ``min_trials`` (:func:`check_fit_range`), or the
        trials present more than one pair of options (the network covers one).
    ValueError
        On invalid ``trials``, ``posterior`` or ``n_draws``.
    """
    if not isinstance(trials, TrialData):
        raise ValueError(f"trials must be a TrialData (from rlddm.data.read_trials), "
                         f"got {type(trials).__name__}")
    if not isinstance(posterior, AmortizedPosterior):
        raise ValueError(f"posterior must be an AmortizedPosterior, got {type(posterior).__name__}")
    n_draws = check_count(n_draws, "n_draws", 2)
    check_fit_range(trials, posterior.config)
    _check_one_pair(trials)
    rng = np.random.default_rng(seed)
    participants = list(trials)
    answered = [p.choice != -1 for p in participants]
    counts = np.array([int(keep.sum()) for keep in answered])
    draws = np.empty((len(participants), n_draws, len(PARAMETER_NAMES)))
    # one call per length: the network takes data sets of one length, never padded
    for count in np.unique(counts):
        members = np.flatnonzero(counts == count)
        rt, choice, reward = (np.stack([getattr(participants[k], name)[answered[k]]
                                        for k in members])
                              for name in ("rt", "choice", "reward"))
        draws[members] = posterior.sample(rt, choice, reward, n_samples=n_draws,
                                          seed=int(rng.integers(2**31)))
    return FitResult(trials, draws, posterior.config, "" if model is None else str(model),
                     _seed_text(seed))


def _check_one_pair(trials: TrialData) -> None:
    """The network is trained on the reversal design: options 0 and 1, in that order, always."""
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


def _quantiles_by_choice(rt: NDArray[np.float64], choice: NDArray[np.int8],
                         quantiles: Sequence[float]) -> tuple[NDArray, NDArray]:
    """RT quantiles per data set and choice, shape (2, Q, S), and RT counts, shape (2, S)."""
    result = np.full((2, len(quantiles), rt.shape[0]), np.nan)
    counts = np.stack([(choice == c).sum(axis=1) for c in (0, 1)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a data set without that choice: NaN
        for c in (0, 1):
            result[c] = np.nanquantile(np.where(choice == c, rt, np.nan), quantiles, axis=1)
    return result, counts


def _interval(values: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
    """Mean and central ``PPC_INTERVAL`` interval over replicates (the last axis), NaN-aware."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanquantile(values, [(1 - PPC_INTERVAL) / 2, (1 + PPC_INTERVAL) / 2],
                                   axis=-1)
        return {"predicted_mean": np.nanmean(values, axis=-1), _LOW: low, _HIGH: high}


@dataclasses.dataclass(frozen=True, eq=False)
class PredictiveChecks:
    """Observed vs posterior predictive: better-arm choices around reversals, RT quantiles.

    Attributes
    ----------
    reversal : DataFrame
        Columns ``participant`` (an id, or ``"all"`` for all participants pooled),
        ``position`` (trial relative to the reversal; 0 is the first trial after it),
        ``observed`` (share of answered trials at that position on which the arm
        that is better then was chosen), ``n_observed`` (answered trials counted),
        ``predicted_mean``, ``predicted_5%``, ``predicted_95%`` (over replicates).
    rt_quantiles : DataFrame
        Columns ``participant``, ``choice`` (0 = arm 0, upper boundary; 1 = arm 1),
        ``quantile``, ``observed``, ``n_observed`` (answered trials with that choice),
        and the predicted columns as above.
    settings : dict
        ``n_draws`` (replicates per participant), ``offsets``, ``quantiles``,
        ``interval``, ``method`` and ``note``.
    """

    reversal: pd.DataFrame
    rt_quantiles: pd.DataFrame
    settings: dict[str, Any]

    def table(self) -> pd.DataFrame:
        """Both checks in one long table (``ppc.csv``), with a ``check`` column."""
        reversal = self.reversal.assign(check="reversal")
        quantiles = self.rt_quantiles.assign(check="rt_quantile")
        table = pd.concat([reversal, quantiles], ignore_index=True)
        for column in ("position", "choice"):
            table[column] = table[column].astype("Int64")
        columns = ["check", "participant", "position", "choice", "quantile", "observed",
                   "n_observed", "predicted_mean", _LOW, _HIGH]
        return table[columns]

    def _groups(self, frame: pd.DataFrame, size: int) -> list[tuple[str, pd.DataFrame]]:
        """Rows by group, pooled first (blocks of ``size`` rows, so no id can clash with it)."""
        blocks = [frame.iloc[start:start + size] for start in range(0, len(frame), size)]
        return [("all participants" if i == 0 else f"participant {rows['participant'].iloc[0]}",
                 rows) for i, rows in enumerate(blocks)]

    def to_dict(self) -> dict[str, Any]:
        """The checks as ``ppc.json``: settings, ``all`` (pooled), ``participants`` by id (text).

        NaN (no answered trial of that kind) is written as null.
        """
        values = ["observed", "n_observed", "predicted_mean", _LOW, _HIGH]
        groups = []
        for (_, reversal), (_, quantiles) in zip(
                self._groups(self.reversal, len(self.settings["offsets"])),
                self._groups(self.rt_quantiles, 2 * len(self.settings["quantiles"]))):
            entry: dict[str, Any] = {"reversal": {
                "position": reversal["position"].tolist(),
                **{name: _json_list(reversal[name]) for name in values}}, "rt_quantiles": {}}
            for choice, rows in quantiles.groupby("choice"):
                entry["rt_quantiles"][f"choice_{choice}"] = {
                    "quantile": rows["quantile"].tolist(),
                    **{name: _json_list(rows[name]) for name in values}}
            groups.append(entry)
        ids = [str(p) for p in self.reversal["participant"].iloc[::len(self.settings["offsets"])]]
        return {"settings": self.settings, "all": groups[0],
                "participants": dict(zip(ids[1:], groups[1:]))}

    def plot_reversal(self, path: PathLike) -> None:
        """``ppc_reversal.png``: pooled panel, then one panel per participant (up to 24)."""
        from matplotlib.ticker import MaxNLocator

        groups = self._groups(self.reversal, len(self.settings["offsets"]))
        figure, axes = _panels(len(groups), "P(better arm)")
        for ax, (title, rows) in zip(axes, groups):
            position = rows["position"].to_numpy()
            ax.fill_between(position, rows[_LOW], rows[_HIGH], color="C0", alpha=0.3,
                            label=f"predicted {100 * PPC_INTERVAL:g}%")
            ax.plot(position, rows["predicted_mean"], color="C0", label="predicted mean")
            ax.plot(position, rows["observed"], "ko-", ms=3, lw=1, label="observed")
            ax.axvline(-0.5, color="grey", ls="--", lw=0.8)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylim(-0.02, 1.02)
            ax.set_title(title, fontsize=9)
        axes[0].legend(fontsize=7, loc="lower right")
        figure.supxlabel("trial relative to reversal (0 = first trial after it)")
        _save(figure, path, self.settings, len(groups))

    def plot_rt_quantiles(self, path: PathLike) -> None:
        """``ppc_rt_quantiles.png``: RT quantiles per choice, observed (dots) vs predicted."""
        groups = self._groups(self.rt_quantiles, 2 * len(self.settings["quantiles"]))
        figure, axes = _panels(len(groups), "RT (s)")
        for ax, (title, rows) in zip(axes, groups):
            for choice, color in ((0, "C0"), (1, "C3")):
                part = rows[rows["choice"] == choice]
                quantile = part["quantile"].to_numpy()
                ax.fill_between(quantile, part[_LOW], part[_HIGH], color=color, alpha=0.25)
                ax.plot(quantile, part["predicted_mean"], color=color,
                        label=f"choice {choice} predicted")
                ax.plot(quantile, part["observed"], "o", color=color, mec="k", ms=4,
                        label=f"choice {choice} observed")
            ax.set_title(title, fontsize=9)
        axes[0].legend(fontsize=7, loc="upper left")
        figure.supxlabel("quantile")
        _save(figure, path, self.settings, len(groups))


def _json_list(values: pd.Series) -> list[Any]:
    return [None if pd.isna(v) else (int(v) if isinstance(v, (int, np.integer)) else float(v))
            for v in values]


def _panels(n_groups: int, ylabel: str) -> tuple[Any, list[Any]]:
    # A bare Agg figure, not pyplot: no global backend switch, nothing to close afterwards.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = min(n_groups, MAX_PANELS + 1)
    columns = min(n, 5)
    rows = -(-n // columns)
    figure = Figure(figsize=(2.8 * columns, 2.3 * rows + 0.6))
    FigureCanvasAgg(figure)
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
    figure.tight_layout()
    figure.savefig(path, dpi=90)


@dataclasses.dataclass(frozen=True)
class _Replicates:
    """One participant's (or the pool's) predicted replicates and observed trials.

    ``hits`` and ``counted`` (S, D) are better-arm choices and answered trials per
    replicate and offset, summed over reversals; ``rt`` and ``choice`` (S, T) the
    replicates; the ``observed_`` fields the same for the observed trials.
    """

    participant: Any
    hits: NDArray[np.int64]
    counted: NDArray[np.int64]
    rt: NDArray[np.float64]
    choice: NDArray[np.int8]
    observed_hits: NDArray[np.int64]
    observed_counted: NDArray[np.int64]
    observed_rt: NDArray[np.float64]
    observed_choice: NDArray[np.int8]

    @classmethod
    def pool(cls, groups: list[_Replicates]) -> _Replicates:
        """All participants as one: replicate ``s`` pools replicate ``s`` of each participant."""
        return cls("all", sum(g.hits for g in groups), sum(g.counted for g in groups),
                   np.concatenate([g.rt for g in groups], axis=1),
                   np.concatenate([g.choice for g in groups], axis=1),
                   sum(g.observed_hits for g in groups), sum(g.observed_counted for g in groups),
                   np.concatenate([g.observed_rt for g in groups]),
                   np.concatenate([g.observed_choice for g in groups]))

    def add_rows(self, offsets: list[int], quantiles: list[float],
                 reversal_rows: list[dict[str, Any]], quantile_rows: list[dict[str, Any]]) -> None:
        """Append this group's rows of both checks."""
        with np.errstate(invalid="ignore", divide="ignore"):  # no answered trial there: NaN
            predicted = _interval((self.hits / self.counted).T)
            observed = self.observed_hits / self.observed_counted
        for j, offset in enumerate(offsets):
            reversal_rows.append({"participant": self.participant, "position": offset,
                                  "observed": observed[j],
                                  "n_observed": int(self.observed_counted[j]),
                                  **{key: value[j] for key, value in predicted.items()}})
        predicted = _interval(_quantiles_by_choice(self.rt, self.choice, quantiles)[0])
        observed, observed_n = _quantiles_by_choice(self.observed_rt[None],
                                                    self.observed_choice[None], quantiles)
        for c in (0, 1):
            for i, q in enumerate(quantiles):
                quantile_rows.append({"participant": self.participant, "choice": c,
                                      "quantile": q, "observed": observed[c, i, 0],
                                      "n_observed": int(observed_n[c, 0]),
                                      **{key: value[c, i] for key, value in predicted.items()}})


def predictive_checks(result: FitResult, *, n_draws: int = PPC_DRAWS,
                      offsets: Sequence[int] = REVERSAL_OFFSETS,
                      quantiles: Sequence[float] = RT_QUANTILES,
                      seed: SeedLike = 0) -> PredictiveChecks:
    """Simulate posterior predictive data sets and compare them with the observed trials.

    For each participant, ``n_draws`` posterior draws (without replacement) each
    simulate one data set of the participant's number of trials with
    :func:`rlddm.simulate`, the model's simulation method and options, and outcomes
    drawn from the model's design. The observed reward sequence is not replayed:
    the predicted data sets have the design's reward probabilities and reversals,
    which is what choices around reversals and RT quantiles depend on. The better
    arm on each trial is the one with the higher probability in
    ``design.probabilities``.

    Parameters
    ----------
    result : FitResult
        Draws and trials from :func:`fit_participants`.
    n_draws : int
        Replicates per participant (all draws if fewer).
    offsets : sequence of int
        Trial positions relative to each reversal (0 = first trial after it).
    quantiles : sequence of float
        RT quantile levels, each in [0, 1].
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
        On invalid ``n_draws``, ``offsets`` or ``quantiles``.
    """
    n_draws = min(check_count(n_draws, "n_draws", 1), result.n_draws)
    offsets = list(offsets)
    if not offsets or not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool)
                              for d in offsets):
        raise ValueError(f"offsets must be a non-empty sequence of integers, got {offsets!r}")
    offsets = [int(d) for d in offsets]
    quantiles = [float(q) for q in quantiles]
    if not quantiles or not all(0.0 <= q <= 1.0 for q in quantiles):
        raise ValueError(f"quantiles must be a non-empty sequence of levels in [0, 1], "
                         f"got {quantiles!r}")
    config = result.config
    rng = np.random.default_rng(seed)
    groups = []
    for k, participant in enumerate(result.trials):
        better = better_arm(config.design, participant.n_trials)
        trial, valid = reversal_windows(better, offsets)
        picked = rng.choice(result.n_draws, size=n_draws, replace=False)
        outcomes = config.design.sample(n_draws, n_trials=participant.n_trials, seed=rng)
        simulated = simulate(result.draws[k, picked], outcomes, dt=config.dt,
                             max_steps=config.max_steps, method=config.method, seed=rng)
        hits, counted = _better_choices(simulated.choice, better, trial, valid)
        observed_hits, observed_counted = _better_choices(participant.choice[None], better,
                                                          trial, valid)
        groups.append(_Replicates(participant.participant, hits, counted, simulated.rt,
                                  simulated.choice, observed_hits[0], observed_counted[0],
                                  participant.rt, participant.choice))
    reversal_rows: list[dict[str, Any]] = []
    quantile_rows: list[dict[str, Any]] = []
    for group in [_Replicates.pool(groups), *groups]:
        group.add_rows(offsets, quantiles, reversal_rows, quantile_rows)
    settings = {"n_draws": n_draws, "offsets": offsets, "quantiles": quantiles,
                "interval": PPC_INTERVAL, "method": config.method,
                "note": ("predicted data sets draw outcomes from the model's design (the observed "
                         "reward sequence is not replayed); observed missed responses are not "
                         "counted; 'all' pools all participants")}
    return PredictiveChecks(pd.DataFrame(reversal_rows), pd.DataFrame(quantile_rows), settings)


# ---------------------------------------------------------------------------------------
# output folder


def _check_out(out: Path, force: bool) -> None:
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise FileExistsError(f"out {str(out)!r} exists and is not a folder; choose a folder path")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise FileExistsError(f"out {str(out)!r} exists and is not empty; pass force=True "
                              "(rlddm fit --force) to replace it")


def save_fit(result: FitResult, out: PathLike, *, force: bool = False, n_ppc: int = PPC_DRAWS,
             seed: SeedLike = 0) -> Path:
    """Write a fit's output folder, all at once: the folder appears complete or not at all.

    The files (see the module docstring) are written into a temporary folder beside
    ``out`` and renamed into place at the end; a failure removes the temporary folder
    and leaves ``out`` as it was.

    Parameters
    ----------
    result : FitResult
        Draws from :func:`fit_participants`.
    out : str or path
        Output folder; it must not exist or be empty unless ``force``.
    force : bool
        Replace an existing non-empty folder.
    n_ppc : int
        Posterior predictive replicates per participant (:func:`predictive_checks`).
    seed : None, int, SeedSequence, BitGenerator or Generator
        Seed of the predictive checks.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    FileExistsError
        If ``out`` is a non-empty folder and ``force`` is false, or is not a folder.
    """
    out = Path(out)
    _check_out(out, force)
    checks = predictive_checks(result, n_draws=n_ppc, seed=seed)
    summary = result.summary()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        result.to_inference_data().to_netcdf(str(staging / "posterior.nc"))
        summary.to_csv(staging / "summary.csv", index=False)
        checks.table().to_csv(staging / "ppc.csv", index=False)
        (staging / "ppc.json").write_text(json.dumps(checks.to_dict(), indent=1))
        checks.plot_reversal(staging / "ppc_reversal.png")
        checks.plot_rt_quantiles(staging / "ppc_rt_quantiles.png")
        _check_out(out, force)  # again: another process may have filled it meanwhile
        previous = None
        if out.exists():
            previous = Path(tempfile.mkdtemp(prefix=f".{out.name}.previous-", dir=out.parent))
            os.replace(out, previous / out.name)
        try:
            os.replace(staging, out)
        except BaseException:
            if previous is not None:
                os.replace(previous / out.name, out)
                previous.rmdir()
            raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)
    return out


def fit_csv(data: PathLike | pd.DataFrame, *, model: PathLike | None = None, out: PathLike,
            n_draws: int = 2000, layout: str = "rlddm", force: bool = False, seed: SeedLike = 0,
            columns: dict[str, str | None] | None = None, n_ppc: int = PPC_DRAWS
            ) -> pd.DataFrame:
    """Fit a trial table and write the output folder; what ``rlddm fit`` runs.

    Everything is validated before anything is written: the options, ``out``, the
    model and the trials (:func:`rlddm.data.read_trials` with the model's trial
    range, then :func:`check_fit_range`).

    Parameters
    ----------
    data : str, path or DataFrame
        Long-format trial table (one row per trial), in ``layout``.
    model : str or path, optional
        Run folder of a trained model (``rlddm train``); the shipped model
        (:func:`shipped_model`) if None.
    out : str or path
        Output folder (see :func:`save_fit`).
    n_draws : int
        Posterior draws per participant (at least 2).
    layout : {"rlddm", "hddm", "hssm"}
        Column names and choice coding of ``data``.
    force : bool
        Replace an existing non-empty ``out``.
    seed : None, int, SeedSequence, BitGenerator or Generator
        Seeds the posterior draws and the predictive checks.
    columns : mapping of str to str or None, optional
        Column name per role, overriding the layout's (see ``read_trials``).
    n_ppc : int
        Posterior predictive replicates per participant.

    Returns
    -------
    DataFrame
        The summary (``summary.csv``; see :meth:`FitResult.summary`).

    Raises
    ------
    DataError
        A :class:`ValueError` naming the row and column of bad trials, or the
        participants outside the model's trial range.
    ValueError
        On invalid options, or a model folder that is missing or not a trained model.
    FileExistsError
        If ``out`` exists, is not empty and ``force`` is false.
    """
    n_draws = check_count(n_draws, "n_draws", 2)
    n_ppc = check_count(n_ppc, "n_ppc", 1)
    if not isinstance(force, bool):
        raise ValueError(f"force must be True or False, got {force!r}")
    out = Path(out)
    _check_out(out, force)
    if model is None:
        model = shipped_model()
        if not model.is_dir():
            raise ValueError(f"no shipped model at {model}; pass model= (--model) a run folder "
                             "written by rlddm train")
    model = Path(model)
    if not model.is_dir():
        raise ValueError(f"model must be a run folder written by rlddm train, got {str(model)!r}")
    # The trials are read before the model is loaded, so a bad file fails fast; the
    # model's trial range is checked by fit_participants before anything is drawn.
    trials = read_trials(data, columns=columns, layout=layout)
    posterior = AmortizedPosterior.load(model)
    fit_seed, ppc_seed = np.random.default_rng(seed).spawn(2)
    result = dataclasses.replace(
        fit_participants(trials, posterior, n_draws=n_draws, seed=fit_seed, model=model.resolve()),
        seed=_seed_text(seed))
    save_fit(result, out, force=force, n_ppc=n_ppc, seed=ppc_seed)
    return result.summary()
