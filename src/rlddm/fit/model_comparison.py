"""Compare fitted models by expected log predictive density (PSIS-LOO over trials).

A fit folder written by ``rlddm fit`` holds ``posterior.nc`` with a ``log_likelihood``
group: one variable, ``trial``, of shape (chain, draw, obs), where ``obs`` runs over
every answered trial of every participant (``obs_participant`` and ``obs_trial`` in the
group's coordinates say which). :func:`compare_fits` runs ArviZ's PSIS-LOO on each and
ranks them with :func:`arviz.compare`, and sums the pointwise values per participant.

What leave-one-trial-out means here
-----------------------------------
In a learning model a trial's outcome also shapes every later trial's Q-values, so
"leaving trial t out" does not remove its reward from the learning history: the
likelihood of the other trials still conditions on the observed choices and rewards
of all trials, trial t included. PSIS-LOO therefore estimates how well a model predicts
one more response (RT and choice) on a trial whose history is known, which is the
quantity a one-step-ahead prediction would measure, not how well it would predict a
new participant or a new sequence. Differences between learning rules show up through
how well each rule's Q-values predict each trial's response.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .._output import staged_files
from ..data import PathLike

__all__ = ["compare_fits", "load_fit_loo", "write_comparison"]

LOG_LIKELIHOOD_VARIABLE = "trial"
"""The variable of the per-trial log-likelihood that ``rlddm fit`` writes and this reads."""
PARETO_K_WARN = 0.7


def _load(folder: PathLike):
    import arviz as az

    path = Path(folder)
    if path.is_dir():
        path = path / "posterior.nc"
    if not path.is_file():
        raise ValueError(f"no fit at {str(folder)!r}: expected a folder written by rlddm fit "
                         f"with posterior.nc in it")
    idata = az.from_netcdf(path)
    if "log_likelihood" not in idata.groups() or \
            LOG_LIKELIHOOD_VARIABLE not in idata.log_likelihood:
        raise ValueError(f"{str(path)!r} has no per-trial log_likelihood group; refit it with "
                         f"this version of rlddm (rlddm fit writes one)")
    return idata


def _label(idata, folder: PathLike) -> str:
    """The registered model with its fixed values, and the fit's folder name."""
    model = idata.posterior.attrs.get("model_name") or idata.posterior.attrs.get("model", "?")
    path = Path(os.path.abspath(folder))
    return f"{model} ({path.parent.name if path.is_file() else path.name})"


def load_fit_loo(folder: PathLike):
    """PSIS-LOO of one fit folder.

    Parameters
    ----------
    folder : str or path
        A folder written by ``rlddm fit`` (or its ``posterior.nc``).

    Returns
    -------
    tuple
        ``(idata, loo)``: the InferenceData and ArviZ's pointwise ``ELPDData``.

    Raises
    ------
    ValueError
        If the folder holds no fit or the fit has no per-trial log-likelihood.
    """
    import arviz as az

    idata = _load(folder)
    with warnings.catch_warnings():
        # compare_fits reports the trials with large Pareto k itself, with counts and folder
        warnings.filterwarnings("ignore", category=UserWarning,
                                message="Estimated shape parameter of Pareto distribution")
        return idata, az.loo(idata, var_name=LOG_LIKELIHOOD_VARIABLE, pointwise=True)


def _observations(idata) -> pd.MultiIndex:
    group = idata.log_likelihood
    return pd.MultiIndex.from_arrays(
        [np.asarray(group["obs_participant"].values).astype(str),
         np.asarray(group["obs_trial"].values)], names=["participant", "trial"])


def _observed(idata) -> tuple[np.ndarray, ...]:
    """The fitted responses and rewards: same trial positions are not the same data."""
    return tuple(np.asarray(idata.observed_data[name].values)
                 for name in ("rt", "choice", "reward"))


def compare_fits(folders: Sequence[PathLike]) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Rank fitted models by PSIS-LOO expected log predictive density.

    Parameters
    ----------
    folders : sequence of str or path
        Two or more fit folders of the same trials (same participants and trials).

    Returns
    -------
    table : DataFrame
        One row per fit, best first: ``model`` (registered model and folder), ``rank``,
        ``elpd_loo``, ``se``, ``elpd_diff`` and ``dse`` (difference to the best and its
        standard error, from :func:`arviz.compare`), ``p_loo``, ``n_trials``,
        ``n_bad_k`` (trials with Pareto k above ArviZ's threshold for the number of
        draws, at most 0.7; trials whose log-likelihood is the same in every draw have
        exact LOO terms and are not counted).
    per_participant : DataFrame
        ``participant``, one ``elpd_loo`` column per model (summed over the
        participant's trials) and ``best`` (the model with the highest sum).
    warnings : list of str
        One line per fit with trials of high Pareto k (its LOO estimate is unreliable
        for those trials), and one per fit with unconverged participants.

    Raises
    ------
    ValueError
        On fewer than two folders, a folder without a fit or without per-trial
        log-likelihood, two fits of different trials, or two folders with one label.
    """
    import arviz as az

    folders = list(folders)
    if len(folders) < 2:
        raise ValueError(f"folders must name at least two fits to compare, got {len(folders)}")
    loaded = {}
    observations = None
    for folder in folders:
        idata, loo = load_fit_loo(folder)
        label = _label(idata, folder)
        if label in loaded:
            raise ValueError(f"two fits are labelled {label!r}; give the folders distinct names")
        obs = _observations(idata)
        if observations is None:
            observations, first, data = obs, folder, _observed(idata)
        elif not obs.equals(observations) or not all(
                np.array_equal(a, b, equal_nan=True) for a, b in zip(_observed(idata), data)):
            raise ValueError(f"{str(folder)!r} and {str(first)!r} fit different trials "
                             f"({len(obs)} and {len(observations)} answered trials, or other "
                             "responses or rewards); compare fits of the same data only")
        loaded[label] = (idata, loo)

    ranked = az.compare({label: loo for label, (_, loo) in loaded.items()}, ic="loo")
    warnings, rows = [], []
    for label, row in ranked.iterrows():
        idata, loo = loaded[label]
        k = np.asarray(loo.pareto_k)
        # A trial with the same log-likelihood in every draw (with lapses: an RT below
        # ter in every draw, explained by the lapse density alone) has an exact LOO term,
        # but ArviZ's tail fit returns k = inf for it: not counted as unreliable.
        values = idata.log_likelihood[LOG_LIKELIHOOD_VARIABLE].values
        constant = (values.max(axis=(0, 1)) == values.min(axis=(0, 1)))
        # ArviZ's threshold shrinks below 0.7 for fewer than about 2,200 draws
        threshold = min(PARETO_K_WARN, float(getattr(loo, "good_k", PARETO_K_WARN)))
        high = (k > threshold) & ~constant
        bad = int(high.sum())
        if bad:
            warnings.append(f"{label}: {bad} of {k.size} trials have Pareto k > {threshold:.2f} "
                            f"(max {k[high].max():.2f}); their LOO terms are unreliable")
        if constant.any():
            warnings.append(f"{label}: {int(constant.sum())} trials have the same log-likelihood "
                            "in every draw (exact LOO terms; ArviZ's Pareto k is undefined there)")
        unconverged = json.loads(idata.posterior.attrs.get("unconverged", "[]"))
        if unconverged:
            warnings.append(f"{label}: participant(s) {', '.join(unconverged)} did not converge; "
                            "their terms rest on unreliable draws")
        rows.append({"model": label, "rank": int(row["rank"]), "elpd_loo": float(row["elpd_loo"]),
                     "se": float(row["se"]), "elpd_diff": float(row["elpd_diff"]),
                     "dse": float(row["dse"]), "p_loo": float(row["p_loo"]),
                     "n_trials": int(k.size), "n_bad_k": bad})
    table = pd.DataFrame(rows)

    sums = {}
    for label, (_, loo) in loaded.items():
        pointwise = pd.Series(np.asarray(loo.loo_i), index=observations)
        sums[label] = pointwise.groupby(level="participant", sort=False).sum()
    per_participant = pd.DataFrame(sums)
    per_participant["best"] = per_participant.idxmax(axis=1)
    per_participant = per_participant.reset_index().rename(columns={"index": "participant"})
    return table, per_participant, warnings


def write_comparison(folders: Sequence[PathLike], out: PathLike | None = None) -> str:
    """:func:`compare_fits` as text for the screen, and as files when ``out`` is given.

    Parameters
    ----------
    folders : sequence of str or path
        As in :func:`compare_fits`.
    out : str or path, optional
        Folder (created if need be) that receives ``comparison.csv`` (the table),
        ``comparison_by_participant.csv`` and ``comparison.json`` (folders, warnings).

    Returns
    -------
    str
        The table, the count of participants each model fits best, and the warnings.

    Raises
    ------
    ValueError
        As :func:`compare_fits`.
    """
    table, per_participant, warnings = compare_fits(folders)
    if out is not None:
        target = Path(out)
        target.mkdir(parents=True, exist_ok=True)
        names = ("comparison.csv", "comparison_by_participant.csv", "comparison.json")
        with staged_files(*(target / name for name in names)) as (table_csv, by_csv, json_file):
            table.to_csv(table_csv, index=False)
            per_participant.to_csv(by_csv, index=False)
            json_file.write_text(json.dumps(
                {"folders": [str(f) for f in folders], "warnings": warnings}, indent=2) + "\n")
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        text = table.to_string(index=False, float_format=lambda x: f"{x:.2f}")
    lines = [text, "", "best model per participant: " + ", ".join(
        f"{label} {count}" for label, count in per_participant["best"].value_counts().items())]
    lines += [f"warning: {w}" for w in warnings]
    return "\n".join(lines)
