"""Trial tables from known parameters: simulate participants of a design, write a table."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from .._checks import check_count
from .._seeding import SeedLike, generator
from ..model import ModelSpec, get_model
from ..model.priors import Priors
from ..simulator.simulation import simulate
from ..task.designs import Design, TaskDesign, get_design
from .reading import PathLike, read_trials
from .trials import TrialData

__all__ = ["simulate_participants", "write_trials"]


def simulate_participants(n_participants: int, n_trials: int | Sequence[int] | None = None, *,
                          theta: ArrayLike | None = None, priors: Priors | None = None,
                          model: str | ModelSpec = "rlddm",
                          design: str | PathLike | Design | None = None, seed: SeedLike = None,
                          method: str = "exact", dt: float = 0.01, max_steps: int = 900
                          ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate participants from known parameters as a trial table and its truths.

    Parameters
    ----------
    n_participants : int
        Number of participants K.
    n_trials : int or sequence of int, shape (K,), optional
        Trials per participant (one count for all, or one each); the design's
        ``n_trials`` if omitted. A design of several phases takes no count above its own.
    theta : array_like, shape (P,) or (K, P), optional
        Parameters, columns ``get_model(model).names`` (for ``"rlddm"``: drift,
        alpha, beta, ter, kappa); drawn from ``priors`` if omitted.
    priors : Priors, optional
        Prior to draw parameters from; the model's default priors if omitted. Not
        with ``theta``.
    model : str or ModelSpec
        A registered model (:func:`rlddm.model.list_models`) or a spec.
    design : str, path, ReversalDesign or TaskDesign, optional
        Task design, as :func:`rlddm.designs.get_design` takes it (a name such as
        ``"selection"``, or a design file); ``ReversalDesign()`` if omitted.
    seed : None, int, SeedSequence, BitGenerator or Generator
        One stream drives the parameter draws, the design's schedule and the simulation.
    method : {"exact", "euler"}
        Passed to :func:`rlddm.simulate`, as are ``dt`` and ``max_steps``.

    Returns
    -------
    trials : DataFrame
        The ``"rlddm"`` layout: participant (1..K), trial (1..T_k), rt, choice,
        reward, and for a :class:`~rlddm.designs.TaskDesign` the presented options
        ``option0``, ``option1`` by name; a missed response has choice -1 and an
        empty (NaN) rt, a trial without feedback an empty reward.
    truths : DataFrame
        One row per participant: participant and the model's free parameters.

    Raises
    ------
    ValueError
        On invalid counts, parameters, model, design or options.
    """
    n_participants = check_count(n_participants, "n_participants", 1)
    spec = get_model(model)
    design = get_design("reversal" if design is None else design)
    counts = np.asarray(design.n_trials if n_trials is None else n_trials)
    if counts.ndim > 1 or (counts.ndim == 1 and counts.size != n_participants):
        raise ValueError(f"n_trials must be one count or {n_participants} counts, "
                         f"got shape {counts.shape}")
    counts = np.broadcast_to(counts, (n_participants,))
    for count in counts.tolist():
        check_count(count, "n_trials", 1)
    rng = generator(seed)
    if theta is None:
        priors = spec.priors() if priors is None else spec.check_priors(priors)
        theta = priors.sample(n_participants, seed=rng)
    else:
        if priors is not None:
            raise ValueError("pass theta or priors, not both")
        theta = spec.check_theta(theta)
        if theta.shape[0] not in (1, n_participants):
            raise ValueError(f"theta must have 1 or {n_participants} rows, got {theta.shape[0]}")
        theta = np.broadcast_to(theta, (n_participants, theta.shape[1]))
    # A learning sequence cut short is a simulation of the shorter sequence, so all
    # participants run the longest count and each keeps its first n_trials.
    outcomes, options = design.schedule(n_participants, n_trials=int(counts.max()), seed=rng)
    result = simulate(theta, outcomes, model=spec, options=options, n_options=design.n_options,
                      q0=design.q0, seed=rng, method=method, dt=dt, max_steps=max_steps)
    keep = np.arange(outcomes.shape[1]) < counts[:, None]
    ids = np.arange(1, n_participants + 1)
    trials = pd.DataFrame({
        "participant": np.repeat(ids, counts),
        "trial": np.concatenate([np.arange(1, c + 1) for c in counts.tolist()]),
        "rt": result.rt[keep], "choice": result.choice[keep], "reward": result.reward[keep],
    })
    if isinstance(design, TaskDesign):
        names = np.array(design.option_names, dtype=object)
        trials["option0"], trials["option1"] = names[options[keep].T]
    truths = pd.DataFrame({"participant": ids, **dict(zip(spec.names, np.asarray(theta).T))})
    return trials, truths


def write_trials(data: TrialData | pd.DataFrame, path: PathLike, *,
                 overwrite: bool = False, layout: Literal["rlddm", "hddm"] = "rlddm") -> Path:
    """Write trials as a CSV file in ``layout``, which :func:`read_trials` reads back.

    Parameters
    ----------
    data : TrialData or DataFrame
        Validated trials, or a table in the ``"rlddm"`` layout (it is validated
        with :func:`read_trials` first, so nothing is written if it is invalid).
    path : str or path
        Destination file.
    overwrite : bool
        Replace an existing file; otherwise an existing file is an error.
    layout : {"rlddm", "hddm"}
        Columns and coding (:meth:`TrialData.to_frame`).

    Returns
    -------
    Path
        The file written. A missed response is written as choice -1 and an empty rt.

    Raises
    ------
    DataError
        If ``data`` does not validate.
    FileExistsError
        If ``path`` exists and ``overwrite`` is false.
    """
    trials = data if isinstance(data, TrialData) else read_trials(data, layout="rlddm")
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    frame = trials.to_frame(layout)
    from .._output import staged_files

    with staged_files(path) as (staged,):
        frame.to_csv(staged, index=False, na_rep="")
    return path
