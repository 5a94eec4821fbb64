"""Task designs beyond the reversal bandit: options, their rewards, the pairs shown and their order.

A :class:`TaskDesign` lists its options (each with a Bernoulli reward probability
``p``, or a normal reward with ``mean`` and ``sd``) and one or more phases, run one
after the other. A phase presents a set of pairs, each a fixed number of times
(``count``), either in random order (``"interleaved"``) or pair after pair
(``"blocked"``); it may give no feedback (its outcomes are NaN, as in the test phase
of the probabilistic selection task), and with ``reversal_every = N`` the two options
of each pair swap reward distributions every N presentations of that pair (counted
within the phase). A pair's first option is option 0 of its trials: choice 0, the
upper boundary. ``q0`` is every option's initial Q-value.

:meth:`TaskDesign.sample` (also named ``schedule``, which :class:`ReversalDesign`
shares) gives what the simulator takes: the presented options and their potential
outcomes. :func:`get_design` returns a named design (:func:`list_designs`) or reads a
design file.

Design files
------------
A small TOML file that :meth:`TaskDesign.save` writes and :func:`load_design` reads::

    kind = "task"                 # or "reversal" (fields as ReversalDesign's)
    name = "selection"            # optional
    description = "..."           # optional
    q0 = 0.5                      # optional, 0.5 by default

    [options]                     # name = { p = probability } or { mean = m, sd = s }
    A = { p = 0.8 }
    B = { p = 0.2 }
    G = { mean = 1.5, sd = 0.5 }

    [[phases]]                    # one table per phase, in the order they run
    name = "training"             # optional
    pairs = [["A", "B"], ["A", "G"]]
    count = 40                    # presentations of each pair
    order = "interleaved"         # optional: "interleaved" (default) or "blocked"
    feedback = true               # optional: false gives NaN outcomes
    reversal_every = 0            # optional: 0 (default) means no reversals

A missing or unknown field, or a value of the wrong type, is a ValueError naming the
file and the field (``phases[0].count``).
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Union

import numpy as np
from numpy.typing import NDArray

from .._checks import check_count, check_finite, check_q0
from .._seeding import SeedLike, generator
from ..model.spec import DEFAULT_Q0
from .reversal import ReversalDesign

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PathLike = Union[str, "os.PathLike[str]"]
ORDERS = ("interleaved", "blocked")


@dataclass(frozen=True)
class Option:
    """One option and its reward distribution: Bernoulli(``p``) or Normal(``mean``, ``sd``).

    Parameters
    ----------
    name : str
        Name used in pairs, files and data (``option0``/``option1`` columns).
    p : float, optional
        Probability of a reward of 1 (else 0).
    mean, sd : float, optional
        Mean and standard deviation of a normal reward; give both, and not ``p``.
    """

    name: str
    p: float | None = None
    mean: float | None = None
    sd: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"name must be a non-empty string, got {self.name!r}")
        if self.p is not None:
            if self.mean is not None or self.sd is not None:
                raise ValueError(f"p: option {self.name!r} gives p and a normal reward; give p "
                                 "(Bernoulli) or mean and sd (normal)")
            p = check_finite(self.p, "p")
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"p must be in [0, 1], got {self.p!r}")
            object.__setattr__(self, "p", p)
            return
        for name in ("mean", "sd"):
            if getattr(self, name) is None:
                raise ValueError(f"{name} is missing: option {self.name!r} needs p (Bernoulli) "
                                 "or mean and sd (normal)")
            object.__setattr__(self, name, check_finite(getattr(self, name), name))
        if self.sd < 0:
            raise ValueError(f"sd must be >= 0, got {self.sd!r}")

    @property
    def expected(self) -> float:
        """Expected reward."""
        return self.p if self.p is not None else self.mean

    def to_dict(self) -> dict[str, float]:
        """The distribution as written in a design file (the name is the key)."""
        return {"p": self.p} if self.p is not None else {"mean": self.mean, "sd": self.sd}


@dataclass(frozen=True)
class Phase:
    """A run of trials: pairs presented ``count`` times each, with or without feedback.

    Parameters
    ----------
    pairs : sequence of (str, str)
        Option names; the first of each pair is option 0 (choice 0, upper boundary).
    count : int
        Presentations of each pair.
    order : {"interleaved", "blocked"}
        Random order with fixed counts (a new order per data set), or all
        presentations of the first pair, then of the second, ...
    feedback : bool
        Without feedback the outcomes are NaN: nothing is learned on these trials.
    reversal_every : int
        The two options of each pair swap reward distributions every this many
        presentations of the pair; 0 means never.
    name : str
        Label for messages and files.
    """

    pairs: tuple[tuple[str, str], ...]
    count: int
    order: str = "interleaved"
    feedback: bool = True
    reversal_every: int = 0
    name: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.pairs, (str, bytes)) or not isinstance(self.pairs, Sequence) \
                or not self.pairs:
            raise ValueError(f"pairs must be a non-empty list of option-name pairs, "
                             f"got {self.pairs!r}")
        pairs = []
        for j, pair in enumerate(self.pairs):
            if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2 \
                    or not all(isinstance(name, str) for name in pair):
                raise ValueError(f"pairs[{j}] must be two option names, got {pair!r}")
            if pair[0] == pair[1]:
                raise ValueError(f"pairs[{j}] names option {pair[0]!r} twice; a pair presents "
                                 "two different options")
            if tuple(pair) in pairs:
                raise ValueError(f"pairs[{j}] repeats pair {list(pair)!r}; raise count instead")
            pairs.append(tuple(pair))
        object.__setattr__(self, "pairs", tuple(pairs))
        object.__setattr__(self, "count", check_count(self.count, "count", 1))
        if self.order not in ORDERS:
            raise ValueError(f"order must be one of {list(ORDERS)}, got {self.order!r}")
        if not isinstance(self.feedback, bool):
            raise ValueError(f"feedback must be true or false, got {self.feedback!r}")
        object.__setattr__(self, "reversal_every",
                           check_count(self.reversal_every, "reversal_every", 0))
        if not isinstance(self.name, str):
            raise ValueError(f"name must be a string, got {self.name!r}")

    @property
    def n_trials(self) -> int:
        """Trials of the phase: ``count`` times the number of pairs."""
        return self.count * len(self.pairs)

    def to_dict(self) -> dict[str, Any]:
        """The phase as written in a design file."""
        return {"name": self.name, "pairs": [list(pair) for pair in self.pairs],
                "count": self.count, "order": self.order, "feedback": self.feedback,
                "reversal_every": self.reversal_every}


_PHASE_FIELDS = ("pairs", "count", "order", "feedback", "reversal_every", "name")
_PHASE_REQUIRED = ("pairs", "count")
_OPTION_FIELDS = ("p", "mean", "sd")
_TASK_FIELDS = ("kind", "name", "description", "q0", "options", "phases")
_TASK_REQUIRED = ("kind", "options", "phases")
_REVERSAL_FIELDS = ("kind", "reward_probabilities", "reversal_every", "n_trials")


@dataclass(frozen=True)
class TaskDesign:
    """Options with reward distributions and the phases of trials that present them in pairs.

    Parameters
    ----------
    options : sequence of Option
        At least two, with distinct names; option ``k`` has index ``k``.
    phases : sequence of Phase
        Run one after the other; their pairs name options of ``options``.
    q0 : float
        Initial Q-value of every option.
    name, description : str
        Labels for listings and files.

    Raises
    ------
    ValueError
        Naming the field (``phases[0].pairs[1]``) and the bad value.
    """

    options: tuple[Option, ...]
    phases: tuple[Phase, ...]
    q0: float = DEFAULT_Q0
    name: str = ""
    description: str = ""
    _pair_index: tuple[NDArray[np.int32], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name, kind in (("options", Option), ("phases", Phase)):
            values = getattr(self, name)
            if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) \
                    or not all(isinstance(v, kind) for v in values):
                raise ValueError(f"{name} must be a sequence of {kind.__name__}, got {values!r}")
            object.__setattr__(self, name, tuple(values))
        names = [option.name for option in self.options]
        if len(names) < 2:
            raise ValueError(f"options must hold at least two options, got {names}")
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"options names {repeated} more than once")
        if not self.phases:
            raise ValueError("phases must hold at least one phase")
        index = {n: k for k, n in enumerate(names)}
        pair_index = []
        for i, phase in enumerate(self.phases):
            for j, pair in enumerate(phase.pairs):
                unknown = [n for n in pair if n not in index]
                if unknown:
                    raise ValueError(f"phases[{i}].pairs[{j}] names unknown option "
                                     f"{unknown[0]!r}; options are {names}")
            pair_index.append(np.array([[index[a], index[b]] for a, b in phase.pairs],
                                       dtype=np.int32))
        object.__setattr__(self, "_pair_index", tuple(pair_index))
        object.__setattr__(self, "q0", check_q0(self.q0))
        for name in ("name", "description"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be a string, got {getattr(self, name)!r}")

    @property
    def n_trials(self) -> int:
        """Trials of a data set: all phases' trials."""
        return sum(phase.n_trials for phase in self.phases)

    @property
    def n_options(self) -> int:
        """Number of options (the length of the Q-value vector)."""
        return len(self.options)

    @property
    def option_names(self) -> tuple[str, ...]:
        """Option names, index -> name."""
        return tuple(option.name for option in self.options)

    @property
    def pairs(self) -> tuple[tuple[int, int], ...]:
        """The distinct pairs of option indices presented, in order of first appearance."""
        seen = dict.fromkeys(tuple(int(i) for i in pair)
                             for pairs in self._pair_index for pair in pairs)
        return tuple(seen)

    def sample(self, n: int, *, n_trials: int | None = None, seed: SeedLike = None
               ) -> tuple[NDArray[np.float64], NDArray[np.int32]]:
        """Draw trial orders and potential outcomes of ``n`` data sets.

        Parameters
        ----------
        n : int
            Number of data sets.
        n_trials : int, optional
            Trials per data set, for a single-phase design only: each pair is then
            presented ``ceil(n_trials / pairs)`` times and the sequence cut to
            ``n_trials``. The design's ``n_trials`` if omitted.
        seed : None, int, SeedSequence, BitGenerator or Generator
            Seed, following NumPy's conventions.

        Returns
        -------
        outcomes : ndarray of float64, shape (n, T, 2)
            Potential outcome of each presented option, in presented order; NaN on
            trials without feedback.
        options : ndarray of int32, shape (n, T, 2)
            Indices of the two options presented on each trial (option 0 first).

        Raises
        ------
        ValueError
            On a bad ``n`` or ``n_trials``, or ``n_trials`` other than the design's
            for a design of several phases.
        """
        n = check_count(n, "n", 1)
        counts = [phase.count for phase in self.phases]
        if n_trials is not None:
            n_trials = check_count(n_trials, "n_trials", 1)
            if len(self.phases) > 1 and n_trials != self.n_trials:
                raise ValueError(
                    f"n_trials = {n_trials} cannot rescale design {self.name or 'task'!r}: it "
                    f"has {len(self.phases)} phases ({self.n_trials} trials); change each "
                    "phase's count in the design instead")
            if len(self.phases) == 1:
                counts = [math.ceil(n_trials / len(self.phases[0].pairs))]
        rng = generator(seed)
        parts = [self._sample_phase(phase, pairs, count, n, rng)
                 for phase, pairs, count in zip(self.phases, self._pair_index, counts)]
        outcomes = np.concatenate([part[0] for part in parts], axis=1)
        options = np.concatenate([part[1] for part in parts], axis=1)
        if n_trials is not None:
            outcomes, options = outcomes[:, :n_trials].copy(), options[:, :n_trials].copy()
        return outcomes, options

    schedule = sample
    """Same as :meth:`sample`: the name :class:`ReversalDesign` shares."""

    def _sample_phase(self, phase: Phase, pairs: NDArray[np.int32], count: int, n: int,
                      rng: np.random.Generator) -> tuple[NDArray[np.float64], NDArray[np.int32]]:
        sequence = np.tile(np.repeat(np.arange(len(pairs)), count), (n, 1))
        if phase.order == "interleaved":
            sequence = rng.permuted(sequence, axis=1)
        options = pairs[sequence]
        if not phase.feedback:
            return np.full(options.shape, np.nan), options
        source = options
        if phase.reversal_every:
            # presentation number of each trial's pair so far: a pair's swaps follow its
            # own presentations, whatever the other pairs do in between
            seen = np.zeros(sequence.shape, dtype=np.int64)
            for j in range(len(pairs)):
                shown = sequence == j
                seen[shown] = (np.cumsum(shown, axis=1) - 1)[shown]
            swapped = (seen // phase.reversal_every) % 2 == 1
            source = np.where(swapped[..., None], options[..., ::-1], options)
        p = np.array([np.nan if o.p is None else o.p for o in self.options])
        bernoulli = ~np.isnan(p)
        outcomes = np.empty(source.shape)
        if bernoulli.any():
            outcomes[...] = rng.random(source.shape) < p[source]
        if not bernoulli.all():
            mean = np.array([0.0 if o.mean is None else o.mean for o in self.options])
            sd = np.array([0.0 if o.sd is None else o.sd for o in self.options])
            normal = mean[source] + sd[source] * rng.standard_normal(source.shape)
            outcomes = np.where(bernoulli[source], outcomes, normal)
        return outcomes, options

    # -- files --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON- and TOML-serialisable description (the design-file fields)."""
        return {"kind": "task", "name": self.name, "description": self.description,
                "q0": self.q0, "options": {o.name: o.to_dict() for o in self.options},
                "phases": [phase.to_dict() for phase in self.phases]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> TaskDesign:
        """Build a design from :meth:`to_dict`'s fields.

        Raises
        ------
        ValueError
            Naming ``source`` (a file, if given) and the missing, unknown or bad field.
        """
        where = f"{source}: " if source else ""
        try:
            return _task_from_dict(data)
        except ValueError as error:
            raise ValueError(f"{where}{error}") from None

    def save(self, path: PathLike, *, overwrite: bool = False) -> Path:
        """Write the design as a TOML file (see the module docstring); returns the path."""
        return save_design(self, path, overwrite=overwrite)

    @classmethod
    def load(cls, path: PathLike) -> TaskDesign:
        """Read a design file with ``kind = "task"``."""
        design = load_design(path)
        if not isinstance(design, cls):
            raise ValueError(f"{path}: kind is 'reversal', not 'task'; read it with "
                             "rlddm.designs.load_design or ReversalDesign.load")
        return design


Design = Union[ReversalDesign, TaskDesign]


def _fields(data: Any, where: str, allowed: Sequence[str], required: Sequence[str]) -> None:
    """Require a table with the required fields and no others (a typo is not ignored)."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{where or 'the design'} must be a table of fields, got {data!r}")
    prefix = f"{where}." if where else ""
    for name in required:
        if name not in data:
            raise ValueError(f"{prefix}{name} is missing (a required field)")
    unknown = [name for name in data if name not in allowed]
    if unknown:
        raise ValueError(f"{prefix}{unknown[0]} is not a field; fields are {list(allowed)}")


def _named(where: str, build: Callable[[], Any]) -> Any:
    """Run a constructor whose messages start with a field name; prefix its place in the file."""
    try:
        return build()
    except ValueError as error:
        raise ValueError(f"{where}.{error}") from None


def _task_from_dict(data: Mapping[str, Any]) -> TaskDesign:
    _fields(data, "", _TASK_FIELDS, _TASK_REQUIRED)
    if data["kind"] != "task":
        raise ValueError(f"kind must be 'task' here, got {data['kind']!r}")
    options = data["options"]
    if not isinstance(options, Mapping):
        raise ValueError(f"options must be a table of name = {{ p = ... }} entries, "
                         f"got {options!r}")
    built = []
    for name, spec in options.items():
        where = f"options.{name}"
        _fields(spec, where, _OPTION_FIELDS, ())
        built.append(_named(where, lambda: Option(name, **spec)))
    phases = data["phases"]
    if not isinstance(phases, list) or not phases:
        raise ValueError(f"phases must be a non-empty list of tables ([[phases]]), got {phases!r}")
    steps = []
    for i, phase in enumerate(phases):
        where = f"phases[{i}]"
        _fields(phase, where, _PHASE_FIELDS, _PHASE_REQUIRED)
        steps.append(_named(where, lambda: Phase(**phase)))
    extra = {name: data[name] for name in ("q0", "name", "description") if name in data}
    return TaskDesign(tuple(built), tuple(steps), **extra)


def _reversal_from_dict(data: Mapping[str, Any]) -> ReversalDesign:
    _fields(data, "", _REVERSAL_FIELDS, _REVERSAL_FIELDS)
    probabilities = data["reward_probabilities"]
    if not isinstance(probabilities, list) or not all(
            isinstance(p, (int, float)) and not isinstance(p, bool) for p in probabilities):
        raise ValueError(f"reward_probabilities must be a list of two numbers, "
                         f"got {probabilities!r}")
    return ReversalDesign(tuple(probabilities), data["reversal_every"], data["n_trials"])


# ---------------------------------------------------------------------------------------
# TOML, written by hand: the schema is small and fixed, and reading needs only tomllib


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_value(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # finite by validation; repr round-trips and is valid TOML
    if isinstance(value, str):
        # JSON's escapes are TOML's basic-string escapes, except DEL, which TOML wants escaped
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007F")
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_toml_key(str(k))} = {_toml_value(v)}"
                                for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} to a design file")


def _toml_document(data: Mapping[str, Any]) -> str:
    """Scalars first, then ``[table]`` sections, then ``[[array]]`` tables (TOML's order)."""
    lines = ["# rlddm task design; fields are described in rlddm.designs"]
    tables = {k: v for k, v in data.items() if isinstance(v, Mapping)}
    arrays = {k: v for k, v in data.items()
              if isinstance(v, list) and v and all(isinstance(x, Mapping) for x in v)}
    lines += [f"{key} = {_toml_value(value)}" for key, value in data.items()
              if key not in tables and key not in arrays]
    for key, table in tables.items():
        lines += ["", f"[{key}]"] + [f"{_toml_key(str(k))} = {_toml_value(v)}"
                                     for k, v in table.items()]
    for key, entries in arrays.items():
        for entry in entries:
            lines += ["", f"[[{key}]]"] + [f"{k} = {_toml_value(v)}" for k, v in entry.items()]
    return "\n".join(lines) + "\n"


def save_design(design: Design, path: PathLike, *, overwrite: bool = False) -> Path:
    """Write a design as a small TOML file that :func:`load_design` reads back.

    Parameters
    ----------
    design : ReversalDesign or TaskDesign
    path : str or path
        Destination, conventionally ending in ``.toml``.
    overwrite : bool
        Replace an existing file; otherwise an existing file is an error.

    Returns
    -------
    Path

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is false.
    """
    if isinstance(design, ReversalDesign):
        data = {"kind": "reversal", **design.to_dict()}
    elif isinstance(design, TaskDesign):
        data = design.to_dict()
    else:
        raise ValueError(f"design must be a ReversalDesign or a TaskDesign, got {design!r}")
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    path.write_text(_toml_document(data), encoding="utf-8")
    return path


def load_design(path: PathLike) -> Design:
    """Read a design file (``kind = "task"`` or ``"reversal"``).

    Raises
    ------
    ValueError
        Naming the file, and the field at fault: a missing file, invalid TOML, a
        missing or unknown field, or a bad value.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ValueError(f"{path}: no such design file") from None
    except IsADirectoryError:
        raise ValueError(f"{path} is a directory, not a design file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not a valid TOML design file: {error}") from None
    kind = data.get("kind")
    if kind == "task":
        return TaskDesign.from_dict(data, source=str(path))
    if kind == "reversal":
        try:
            return _reversal_from_dict(data)
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None
    problem = "is missing (a required field)" if kind is None else f"must be 'task' or " \
        f"'reversal', got {kind!r}"
    raise ValueError(f"{path}: kind {problem}")


# ---------------------------------------------------------------------------------------
# named designs


def _selection_options() -> tuple[Option, ...]:
    return tuple(Option(name, p) for name, p in zip("ABCDEF", (0.8, 0.2, 0.7, 0.3, 0.6, 0.4)))


_TRAINING_PAIRS = (("A", "B"), ("C", "D"), ("E", "F"))
_SELECTION = ("probabilistic selection task (Frank, Seeberger & O'Reilly, 2004): A .8 / B .2, "
              "C .7 / D .3, E .6 / F .4, pairs AB, CD, EF interleaved")


def _selection() -> TaskDesign:
    return TaskDesign(_selection_options(), (Phase(_TRAINING_PAIRS, 40, name="training"),),
                      name="selection", description=_SELECTION + ", 40 each")


def _selection_test() -> TaskDesign:
    # The novel pairings of the test phase, without feedback; Frank et al. trained to a
    # performance criterion first, which a fixed design replaces by one training block.
    novel = tuple((a, b) for i, a in enumerate("ABCDEF") for b in "ABCDEF"[i + 1:]
                  if (a, b) not in _TRAINING_PAIRS)
    return TaskDesign(_selection_options(),
                      (Phase(_TRAINING_PAIRS, 40, name="training"),
                       Phase(novel, 4, feedback=False, name="test")),
                      name="selection_test",
                      description=_SELECTION + ", 40 each; then a test phase of the 12 novel "
                                  "pairings, 4 each, without feedback")


_NAMED: dict[str, Callable[[], Design]] = {
    "reversal": ReversalDesign,
    "selection": _selection,
    "selection_test": _selection_test,
}


def list_designs() -> tuple[str, ...]:
    """Names of the designs :func:`get_design` knows."""
    return tuple(_NAMED)


def get_design(design: str | PathLike | Design = "reversal") -> Design:
    """A named design, a design read from a TOML file, or ``design`` itself if it is one.

    Parameters
    ----------
    design : str, path, ReversalDesign or TaskDesign
        A name from :func:`list_designs` (``"reversal"`` is ``ReversalDesign()``,
        ``"selection"`` the probabilistic selection task's training phase,
        ``"selection_test"`` the same followed by a test phase without feedback), or
        the path of a design file.

    Returns
    -------
    ReversalDesign or TaskDesign

    Raises
    ------
    ValueError
        On an unknown name (listing the known ones) or a bad design file.
    """
    if isinstance(design, (ReversalDesign, TaskDesign)):
        return design
    if isinstance(design, str) and design in _NAMED:
        return _NAMED[design]()
    if isinstance(design, (str, os.PathLike)) and (str(design).endswith(".toml")
                                                    or Path(design).is_file()):
        return load_design(design)
    raise ValueError(f"design must be one of {list(_NAMED)}, a .toml design file, a "
                     f"ReversalDesign or a TaskDesign, got {design!r}")


__all__ = [
    "Design",
    "ORDERS",
    "Option",
    "Phase",
    "TaskDesign",
    "get_design",
    "list_designs",
    "load_design",
    "save_design",
]
