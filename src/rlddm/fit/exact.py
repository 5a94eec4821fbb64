"""Exact-likelihood posteriors of every participant of a trial table, run on all cores.

:func:`fit_exact` draws each participant's posterior with the MCMC reference sampler
(:func:`rlddm.posterior.sample_posteriors`) on the exact likelihood, for any registered
model and any design the data contain (several pairs of options or conditions, any
reward sequence: the likelihood conditions on the observed rewards), and each draw's
log-likelihood of every answered trial (:func:`rlddm.likelihood.loglik_trials`), which
PSIS-LOO needs. :func:`parse_prior` reads the ``--prior`` values of ``rlddm fit``
(``--fix`` is :func:`rlddm.model.parse_fixed`'s).

Chunks, processes and random numbers
------------------------------------
The sampler runs many data sets side by side in one vectorised pass, and each pass
has a fixed cost of about 1-2 ms whatever its size, so participants are grouped into
chunks of about :data:`CHUNK_TRIALS` answered trials (balanced by answered trials,
longest first) and the chunks run in worker processes. Chunk ``c`` samples with the
seed sequence ``SeedSequence(stream_key(seed)).spawn(n_chunks)[c]``, and a data set's
stream is fixed by its chunk's seed and its place in the chunk; the chunks depend on
the trial counts alone, never on ``n_jobs``, so any ``n_jobs`` gives the same draws.
Chunks are padded to their longest participant with missed trials (choice -1), which
the likelihood skips. Workers are started with ``spawn`` (a fresh interpreter: no
inherited Keras or OpenMP threads), so a script that calls this with ``n_jobs > 1``
needs the usual ``if __name__ == "__main__":`` guard.

Convergence
-----------
The sampler reruns a participant whose chains fail R-hat <= 1.01 or bulk and tail
ESS >= 400 with four times the warm-up and thinning; one that still fails is kept,
flagged (``converged`` False) and listed, never dropped.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import re
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._checks import check_count, check_deadline, check_finite, check_flag
from .._seeding import SeedLike, stream_key
from ..data import DataError, ParticipantTrials, TrialData
from ..data.trials import require_trial_data
from ..likelihood import loglik_trials
from ..model import DEFAULT_Q0, MODELS, ModelSpec, get_model
from ..model.parameters import PARAMETER_TABLE
from ..mcmc.sampler import MIN_ESS, RHAT_MAX, PosteriorBatch, sample_posteriors
from ..model.priors import FAMILIES, Prior, Priors

__all__ = ["CHUNK_TRIALS", "ExactPosteriors", "SAMPLER_DEFAULTS", "chunk_participants",
           "fit_exact", "parse_prior"]

CHUNK_TRIALS = 2500
"""Answered trials per chunk (about): a pass over 2,500 trials of 4 chains takes about
4 ms, twice the fixed cost of a pass, so larger chunks gain little and smaller ones
waste the cores on overhead."""

SAMPLER_DEFAULTS: Mapping[str, int] = MappingProxyType(
    {"n_chains": 4, "n_warmup": 2000, "n_draws": 1000, "thin": 3})
"""Sampler settings of :func:`fit_exact`. Measured on 28 simulated selection-task
participants (113-360 trials): a warm-up of 2,000 converged all 28 (1,000 left one
chain stuck at 2 % acceptance). On HDDM's 28 tutorial participants, 1,000 draws thinned
by 2 left the smallest tail ESS of drift and kappa at 300-500 even with the mixture
proposal (:data:`INDEPENDENCE`), so a few were rerun four times as long; thinning by 3
(a quarter more iterations in all) gave 27 of 28 at the first length, the smallest tail
ESS 550."""


# ---------------------------------------------------------------------------------------
# command-line values

INDEPENDENCE = "mixture"
"""Independence proposal of the sampler (:func:`rlddm.posterior.sample_posteriors`'s
``independence``): the mixture of the t and Gaussians around warm-up draws. With the t
alone, 3-6 of HDDM's 28 tutorial participants failed tail ESS >= 400 of drift and kappa at
the first length (the drift-kappa funnel of a weakly identified learning rate, visited
in rare long excursions) and were rerun four times as long, which doubled the fit."""

_SAMPLER_KEYS = (*SAMPLER_DEFAULTS, "rhat_max", "min_ess", "retry", "independence")

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?inf"
_PRIOR = re.compile(r"^\s*(\w+)\s*=\s*(\w+)\s*\((.*)\)\s*$")
_PRIOR_FORMS = ("normal(loc, scale[, lower=L][, upper=U])", "beta(a, b[, lower=L][, upper=U])",
                "uniform(lower, upper)")


def parse_prior(text: str) -> tuple[str, Prior]:
    """Read ``NAME=DISTRIBUTION(ARGS)``, the value of ``rlddm fit --prior``.

    Parameters
    ----------
    text : str
        For example ``"drift=normal(0, 5)"``, ``"alpha=normal(1, 0.5, lower=0, upper=5)"``,
        ``"kappa=beta(2, 2)"`` or ``"v_max=uniform(0, 10)"``. A normal without bounds
        is truncated to the parameter's support; a beta lies on ``[0, 1]`` unless
        given bounds.

    Returns
    -------
    name : str
        The parameter.
    prior : Prior

    Raises
    ------
    ValueError
        Naming the text, on a malformed text, an unknown parameter or family, or
        arguments the family does not take.
    """
    if not isinstance(text, str):
        raise ValueError(f"a prior must be text NAME=DISTRIBUTION(...), got {text!r}")
    match = _PRIOR.match(text)
    forms = "; ".join(_PRIOR_FORMS)
    if match is None:
        raise ValueError(f"prior {text!r} is not NAME=DISTRIBUTION(...); use one of {forms}")
    name, family, inside = match.groups()
    if name not in PARAMETER_TABLE:
        raise ValueError(f"prior {text!r}: unknown parameter {name!r}; parameters are "
                         f"{list(PARAMETER_TABLE)}")
    if family not in FAMILIES:
        raise ValueError(f"prior {text!r}: unknown distribution {family!r}; use one of {forms}")
    positional, keywords = [], {}
    for part in (p.strip() for p in inside.split(",")) if inside.strip() else ():
        key, _, value = part.rpartition("=")
        if not re.fullmatch(_NUMBER, value.strip()) or (key and key.strip() not in
                                                        ("lower", "upper")):
            raise ValueError(f"prior {text!r}: {part!r} is not a number or lower=/upper= "
                             f"a number; use one of {forms}")
        if key:
            keywords[key.strip()] = float(value)
        elif keywords:
            raise ValueError(f"prior {text!r}: a plain number follows lower= or upper=")
        else:
            positional.append(float(value))
    parameter = PARAMETER_TABLE[name]
    if family == "uniform":
        if keywords or len(positional) != 2:
            raise ValueError(f"prior {text!r}: uniform takes two numbers, uniform(lower, upper)")
        lower, upper = positional
        positional = []
    else:
        if len(positional) != 2:
            raise ValueError(f"prior {text!r}: {family} takes two numbers "
                             f"{FAMILIES[family]} before any lower= or upper=")
        default = (parameter.lower, parameter.upper) if family == "normal" else (0.0, 1.0)
        lower, upper = keywords.get("lower", default[0]), keywords.get("upper", default[1])
    try:
        return name, Prior(family, tuple(positional), lower, upper)
    except ValueError as error:
        raise ValueError(f"prior {text!r}: {error}") from None


# ---------------------------------------------------------------------------------------
# chunks


def chunk_participants(answered: NDArray[np.int64], *,
                       chunk_trials: int = CHUNK_TRIALS) -> list[NDArray[np.intp]]:
    """Group participants into chunks of about ``chunk_trials`` answered trials.

    The number of chunks is ``round(total / chunk_trials)`` (at least 1, at most the
    number of participants); participants go, longest first, to the chunk with the
    fewest trials so far (ties to the lower index). The result depends on the counts
    alone.

    Parameters
    ----------
    answered : ndarray of int, shape (K,)
        Answered trials per participant.
    chunk_trials : int
        Target answered trials per chunk.

    Returns
    -------
    list of ndarray of intp
        Participant indices of each chunk, ascending.
    """
    answered = np.asarray(answered, dtype=np.int64)
    chunk_trials = check_count(chunk_trials, "chunk_trials", 1)
    n_chunks = int(min(max(1, round(answered.sum() / chunk_trials)), answered.size))
    loads = np.zeros(n_chunks, dtype=np.int64)
    members: list[list[int]] = [[] for _ in range(n_chunks)]
    for k in np.argsort(-answered, kind="stable"):
        target = int(np.argmin(loads))
        members[target].append(int(k))
        loads[target] += answered[k]
    return [np.array(sorted(m), dtype=np.intp) for m in members]


@dataclass(frozen=True)
class _Chunk:
    """What a worker needs for one chunk: padded data, model, priors, settings, seed."""

    index: int
    participants: tuple[Any, ...]
    n_trials: NDArray[np.int64]
    rt: NDArray[np.float64]
    choice: NDArray[np.int8]
    reward: NDArray[np.float64]
    options: NDArray[np.int32]
    n_options: int
    q0: float
    model: tuple[str, dict[str, float], tuple[str, ...]]
    priors: dict[str, dict[str, Any]]
    settings: dict[str, Any]
    seed: np.random.SeedSequence


def _model_key(spec: ModelSpec) -> tuple[str, dict[str, float], tuple[str, ...]]:
    """Name, fixed values and freed defaults: what rebuilds the spec in a worker (a
    ModelSpec holds mapping proxies, which do not pickle)."""
    freed = tuple(n for n in MODELS[spec.name].fixed if n not in spec.fixed)
    return spec.name, dict(spec.fixed), freed


def _padded_chunk(participants: list[ParticipantTrials], members: NDArray[np.intp],
                  **fields: Any) -> _Chunk:
    """The chunk's participants padded to its longest with missed trials on options (0, 1)."""
    chosen = [participants[k] for k in members]
    n_trials = np.array([p.n_trials for p in chosen], dtype=np.int64)
    shape = (len(chosen), int(n_trials.max()))
    rt, reward = np.zeros(shape), np.zeros(shape)
    choice = np.full(shape, -1, dtype=np.int8)
    options = np.zeros(shape + (2,), dtype=np.int32)
    options[..., 1] = 1
    for row, p in enumerate(chosen):
        answered = p.choice != -1
        rt[row, :p.n_trials] = np.where(answered, p.rt, 0.0)
        choice[row, :p.n_trials] = p.choice
        reward[row, :p.n_trials] = np.where(answered, p.reward, 0.0)
        options[row, :p.n_trials] = p.options
    return _Chunk(participants=tuple(p.participant for p in chosen), n_trials=n_trials, rt=rt,
                  choice=choice, reward=reward, options=options,
                  n_options=max(2, max(p.n_options for p in chosen)), **fields)


# ---------------------------------------------------------------------------------------
# workers

_MESSAGES: Any = None  # the worker's queue to the parent (progress), set by _start_worker


def _start_worker(messages: Any) -> None:
    global _MESSAGES
    _MESSAGES = messages
    # Ctrl-C reaches the whole process group: the parent stops the workers itself, so
    # that an interruption prints one message, not one traceback per worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _sample_chunk(chunk: _Chunk
                  ) -> tuple[int, PosteriorBatch, list[NDArray[np.float64]], dict[str, float]]:
    """Posterior draws of one chunk, each participant's per-trial log-likelihood, and the
    CPU seconds of both (wall time says little on a shared machine)."""
    start = time.process_time()
    name, fixed, freed = chunk.model
    spec = get_model(name, fixed=fixed, free=freed)
    priors = spec.priors(**{n: Prior.from_dict(d) for n, d in chunk.priors.items()})
    messages = _MESSAGES

    def report(message: str) -> None:
        if messages is not None:
            messages.put((chunk.index, message))

    common = {"model": spec, "n_options": chunk.n_options, "q0": chunk.q0,
              "dt": chunk.settings["dt"], "max_steps": chunk.settings["max_steps"]}
    try:
        batch = sample_posteriors(chunk.rt, chunk.choice, chunk.reward, options=chunk.options,
                                  priors=priors, seed=chunk.seed, progress=report,
                                  **{k: chunk.settings[k] for k in _SAMPLER_KEYS}, **common)
    except ValueError as error:
        # the sampler names a data set by its place in the chunk; name the participant
        found = re.match(r"data set (\d+)", str(error))
        if found is None:
            raise
        who = chunk.participants[int(found[1])]
        raise DataError(f"participant {who!r}: {str(error)[found.end():].lstrip(': ')}") from None
    sampled = time.process_time()
    pointwise = []
    for row, n in enumerate(chunk.n_trials.tolist()):
        answered = chunk.choice[row, :n] != -1
        per_trial = loglik_trials(batch.draws[row].reshape(-1, spec.n_free), chunk.rt[row, :n],
                                  chunk.choice[row, :n], chunk.reward[row, :n],
                                  options=chunk.options[row, :n], **common)
        pointwise.append(per_trial[:, answered])
    report("done")
    seconds = {"sampling": sampled - start, "pointwise": time.process_time() - sampled}
    return chunk.index, batch, pointwise, seconds


# ---------------------------------------------------------------------------------------
# the fit


@dataclass(frozen=True, eq=False)
class ExactPosteriors:
    """Every participant's exact posterior with its diagnostics and pointwise log-likelihood.

    Attributes
    ----------
    batch : PosteriorBatch
        Draws (K, n_chains, n_draws, P) on the natural scale, columns
        ``spec.names``; R-hat, ESS, acceptance, convergence flags, reasons and
        attempts per participant, in the order of the trials.
    log_likelihood : list of ndarray, shape (n_chains * n_draws, E_k) each
        Per-trial log-likelihood of participant ``k``'s answered trials (chains in
        order, draws within a chain), from :func:`rlddm.likelihood.loglik_trials`.
    chunks : list of ndarray
        Participant indices of each chunk (:func:`chunk_participants`).
    settings : dict
        The sampler settings, ``dt``, ``max_steps``, ``q0``, the chunking, and
        ``cpu_seconds``: per chunk, the CPU seconds of sampling and of the pointwise
        log-likelihood.
    """

    batch: PosteriorBatch
    log_likelihood: list[NDArray[np.float64]]
    chunks: list[NDArray[np.intp]]
    settings: dict[str, Any]


def _check_deadline_reached(trials: TrialData, t_max: float, ter_max: float) -> None:
    """An answered RT beyond ``t_max + ter_max`` has likelihood 0 under every parameter value.

    The deadline is on the decision time ``rt - ter`` (the simulator's RT is ter plus a
    decision time of at most ``t_max``), so the latest possible RT is ``t_max`` plus the
    largest ter the prior (or the fixed value) allows.
    """
    for participant in trials:
        late = np.flatnonzero((participant.choice != -1) & (participant.rt > t_max + ter_max))
        if late.size:
            raise DataError(f"participant {participant.participant!r}, trial "
                            f"{participant.trial[late[0]]}: rt {participant.rt[late[0]]:g} s "
                            f"is beyond the response deadline max_steps * dt = {t_max:g} s plus "
                            f"the largest ter allowed ({ter_max:g} s), which no parameter value "
                            "allows; mark it missed or raise max_steps")


def _merge(k: int, chunks: list[NDArray[np.intp]],
           results: dict[int, tuple[Any, ...]]) -> tuple[PosteriorBatch, list[NDArray]]:
    """Chunk results back in participant order."""
    first = results[0][0]
    draws = np.empty((k,) + first.draws.shape[1:])
    rhat, bulk, tail = (np.empty((k, first.draws.shape[-1])) for _ in range(3))
    accept = np.empty((k, first.draws.shape[1]))
    converged = np.empty(k, dtype=bool)
    attempts = np.empty(k, dtype=np.int64)
    reasons: list[str] = [""] * k
    pointwise: list[NDArray] = [np.empty(0)] * k
    for c, members in enumerate(chunks):
        batch, values, _ = results[c]
        draws[members], rhat[members], bulk[members] = batch.draws, batch.rhat, batch.ess_bulk
        tail[members], accept[members] = batch.ess_tail, batch.accept_rate
        converged[members], attempts[members] = batch.converged, batch.attempts
        for row, member in enumerate(members):
            reasons[member] = batch.reasons[row]
            pointwise[member] = values[row]
    merged = PosteriorBatch(draws, rhat, bulk, tail, accept, converged, tuple(reasons), attempts,
                            first.names)
    return merged, pointwise


class _ChunkProgress:
    """Turns the workers' sampler messages into one count of participants done."""

    _MILESTONE = re.compile(r"(warm-up|sampling) (\d+)/(\d+)$")

    def __init__(self, progress: Any, chunks: list[NDArray[np.intp]], n_warmup: int,
                 n_sampling: int) -> None:
        self.progress = progress
        self.sizes = [len(c) for c in chunks]
        self.share = n_warmup / (n_warmup + n_sampling)
        self.fraction = [0.0] * len(chunks)

    def __call__(self, index: int, message: str) -> None:
        match = self._MILESTONE.match(message)
        if message == "done":
            self.fraction[index] = 1.0
        elif match is not None:
            done, total = int(match[2]), int(match[3])
            part = self.share * done / total if match[1] == "warm-up" else \
                self.share + (1 - self.share) * done / total
            # a rerun restarts the count of its chunk; its participants are not done yet
            self.fraction[index] = min(part, 0.99)
        else:
            if message.startswith("rerunning"):
                self.progress.note(f"chunk {index + 1} of {len(self.sizes)}: {message}")
            return
        self.progress.update(int(sum(f * s for f, s in zip(self.fraction, self.sizes))))


def fit_exact(trials: TrialData, model: str | ModelSpec = "rlddm", *,
              priors: Priors | None = None, q0: float = DEFAULT_Q0, seed: SeedLike = 0,
              n_jobs: int | None = None, n_chains: int = SAMPLER_DEFAULTS["n_chains"],
              n_warmup: int = SAMPLER_DEFAULTS["n_warmup"],
              n_draws: int = SAMPLER_DEFAULTS["n_draws"], thin: int = SAMPLER_DEFAULTS["thin"],
              rhat_max: float = RHAT_MAX, min_ess: float = MIN_ESS, retry: bool = True,
              dt: float = 0.01,
              max_steps: int = 900, chunk_trials: int = CHUNK_TRIALS,
              progress: Any = None) -> ExactPosteriors:
    """Exact posterior of every participant, chunks of participants in parallel processes.

    Parameters
    ----------
    trials : TrialData
        Validated trials (:func:`rlddm.data.read_trials`): any options, conditions and
        reward values; missed responses are skipped by the likelihood, as the model
        defines them.
    model : str or ModelSpec
        A registered model or a spec with fixed values (:func:`rlddm.model.get_model`).
    priors : Priors, optional
        Joint prior of the model's free parameters (its defaults if omitted).
    q0 : float
        Initial Q-value of every option (the design's).
    seed : None, int, SeedSequence, BitGenerator or Generator
        Fixes every chunk's streams (see the module docstring).
    n_jobs : int, optional
        Worker processes (at most one per chunk); ``os.cpu_count()`` if None; 1 runs
        in this process. The draws do not depend on it.
    n_chains, n_warmup, n_draws, thin : int
        Sampler settings (:data:`SAMPLER_DEFAULTS`); a rerun uses 4 times the warm-up
        and thinning.
    rhat_max, min_ess : float
        Convergence checks of every parameter: R-hat at most ``rhat_max``, bulk and
        tail ESS at least ``min_ess``.
    retry : bool
        Rerun the participants that fail the checks, four times as long (then flag
        those that still fail); False flags them at once.
    dt, max_steps : float, int
        The response deadline ``max_steps * dt`` of the likelihood.
    chunk_trials : int
        Answered trials per chunk (:func:`chunk_participants`).
    progress : rlddm._progress.Progress, optional
        Counts participants done (from the sampler's milestones) and shows the
        sampler's notes, such as reruns.

    Returns
    -------
    ExactPosteriors

    Raises
    ------
    DataError
        Naming the participant and trial of an RT beyond the deadline, or a
        participant whose data no prior draw makes possible.
    ValueError
        On invalid trials, model, priors or settings.
    """
    require_trial_data(trials)
    retry = check_flag(retry, "retry")
    spec = get_model(model)
    priors = spec.priors() if priors is None else spec.check_priors(priors)
    t_max = check_deadline(dt, max_steps)
    settings = {"n_chains": check_count(n_chains, "n_chains", 2),
                "n_warmup": check_count(n_warmup, "n_warmup", 20),
                "n_draws": check_count(n_draws, "n_draws", 8), "thin": check_count(thin, "thin", 1),
                "rhat_max": check_finite(rhat_max, "rhat_max"),
                "min_ess": check_finite(min_ess, "min_ess"), "retry": retry,
                "independence": INDEPENDENCE,
                "dt": float(dt), "max_steps": int(max_steps)}
    n_jobs = (os.cpu_count() or 1) if n_jobs is None else check_count(n_jobs, "n_jobs", 1)
    ter_max = (float(priors.upper[spec.names.index("ter")]) if "ter" in spec.names
               else float(spec.fixed["ter"]))
    _check_deadline_reached(trials, t_max, ter_max)
    chunks = chunk_participants(trials.n_trials - trials.n_missed, chunk_trials=chunk_trials)
    seeds = np.random.SeedSequence(list(stream_key(seed))).spawn(len(chunks))
    participants = list(trials)
    tasks = [_padded_chunk(participants, members, index=c, q0=float(q0), model=_model_key(spec),
                           priors=priors.to_dict(), settings=settings, seed=seeds[c])
             for c, members in enumerate(chunks)]
    counter = None
    if progress is not None:
        counter = _ChunkProgress(progress, chunks, settings["n_warmup"],
                                 settings["n_draws"] * settings["thin"])
    n_jobs = min(n_jobs, len(tasks))
    results = _run_serial(tasks, counter) if n_jobs == 1 else _run_pool(tasks, n_jobs, counter)
    if progress is not None and progress.done < len(trials):
        progress.update(len(trials))  # a worker's last message may come after its result
    batch, pointwise = _merge(len(trials), chunks, results)
    cpu = [results[c][2] for c in range(len(chunks))]
    return ExactPosteriors(batch, pointwise, chunks,
                           {**settings, "q0": float(q0), "chunk_trials": chunk_trials,
                            "n_chunks": len(chunks), "n_jobs": n_jobs, "cpu_seconds": cpu})


def _run_serial(tasks: list[_Chunk], counter: Callable[[int, str], None] | None
                ) -> dict[int, tuple[Any, ...]]:
    global _MESSAGES
    results = {}
    for task in tasks:
        listener = _Relay(counter) if counter is not None else None
        _MESSAGES = listener
        try:
            index, *result = _sample_chunk(task)
        finally:
            _MESSAGES = None
        results[index] = tuple(result)
    return results


class _Relay:
    """The serial run's stand-in for the workers' queue: messages go straight to the count."""

    def __init__(self, counter: Callable[[int, str], None]) -> None:
        self.counter = counter

    def put(self, item: tuple[int, str]) -> None:
        self.counter(*item)


def _run_pool(tasks: list[_Chunk], n_jobs: int, counter: Callable[[int, str], None] | None
              ) -> dict[int, tuple[Any, ...]]:
    context = multiprocessing.get_context("spawn")
    messages = context.Queue() if counter is not None else None
    pool = context.Pool(n_jobs, initializer=_start_worker, initargs=(messages,))
    try:
        pending = [pool.apply_async(_sample_chunk, (task,)) for task in tasks]
        results = {}
        while pending:
            if messages is not None:
                try:
                    counter(*messages.get(timeout=0.2))
                except queue.Empty:
                    pass
            else:
                pending[0].wait(0.2)
            for job in [job for job in pending if job.ready()]:
                index, *result = job.get()  # re-raises a worker's error here
                results[index] = tuple(result)
                pending.remove(job)
        pool.close()
        return results
    finally:
        # on an error or interruption the workers are stopped, not waited for
        pool.terminate()
        pool.join()
        if messages is not None:
            messages.close()
