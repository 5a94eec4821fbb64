"""Progress of long runs: one updating line on a terminal, a few plain lines elsewhere.

Written here rather than taken from tqdm or rich: both are only transitive
dependencies (of BayesFlow and Keras), tqdm is switched off for BayesFlow's own bars
(``rlddm._quiet``), and what rlddm needs, a counter with the time left that becomes a
handful of log lines when stderr is a file, is a few lines either way.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["Progress", "SamplerProgress"]


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class Progress:
    """Done/total and time left of a run, on stderr.

    On a terminal the status is one line, rewritten on every update and left in place
    once the run is done; otherwise (a pipe, a log file) it is printed as a plain line
    each time the run passes another ``1 / plain_lines`` of its total. Messages
    (:meth:`note`) are always whole lines.

    Parameters
    ----------
    total : int
        Units of work in the run (at least 1).
    label : str
        Text before the counter, e.g. ``"rlddm reference: sampling"``.
    unit : str
        Name of the units, e.g. ``"iterations"``.
    stream : text file, optional
        Where to write (default ``sys.stderr``); updates in place if ``stream.isatty()``.
    plain_lines : int
        Status lines per run when not on a terminal.
    clock : callable
        Seconds as a float (``time.monotonic``; replaceable in tests).

    Examples
    --------
    >>> with Progress(len(participants), label="fit", unit="participants") as progress:
    ...     for participant in participants:
    ...         fit_one(participant)
    ...         progress.advance()
    """

    def __init__(self, total: int, *, label: str, unit: str = "", stream: TextIO | None = None,
                 plain_lines: int = 4, clock: Callable[[], float] = time.monotonic) -> None:
        if plain_lines < 1:
            raise ValueError(f"plain_lines must be >= 1, got {plain_lines}")
        self.stream = sys.stderr if stream is None else stream
        self.label = label
        self.unit = unit
        self.plain_lines = plain_lines
        self.clock = clock
        isatty = getattr(self.stream, "isatty", None)
        self.interactive = bool(isatty and isatty())
        self._drawn = False
        self.reset(total)

    def reset(self, total: int, *, start: float | None = None) -> None:
        """Start counting a new run of ``total`` units, begun at ``start`` (default now)."""
        if isinstance(total, bool) or not isinstance(total, int) or total < 1:
            raise ValueError(f"total must be an integer >= 1, got {total!r}")
        self.total = total
        self.done = 0
        self.start = self.clock() if start is None else start
        self._plain_printed = 0

    def status(self) -> str:
        """The status text: label, done/total, share and time left (or taken, once done)."""
        unit = f" {self.unit}" if self.unit else ""
        text = f"{self.label}: {self.done}/{self.total}{unit} ({100 * self.done // self.total}%)"
        elapsed = self.clock() - self.start
        if self.done >= self.total:
            return f"{text} in {_duration(elapsed)}"
        if self.done > 0:
            return f"{text}, {_duration(elapsed / self.done * (self.total - self.done))} left"
        return text

    def update(self, done: int) -> None:
        """Set the units done so far and show the status."""
        self.done = min(max(int(done), 0), self.total)
        if self.interactive:
            # a finished run keeps its line; what follows starts below it
            finished = self.done >= self.total
            self.stream.write("\r" + self.status() + "\x1b[K" + ("\n" if finished else ""))
            self._drawn = not finished
        else:
            # a line per crossed 1/plain_lines of the total, however coarse the updates
            passed = self.done * self.plain_lines // self.total
            if passed > self._plain_printed:
                self._plain_printed = passed
                self.stream.write(self.status() + "\n")
        self.stream.flush()

    def advance(self, n: int = 1) -> None:
        """Add ``n`` units done."""
        self.update(self.done + n)

    def note(self, message: str) -> None:
        """Print a message as its own line, keeping the status line below it."""
        if self._drawn:
            self.stream.write("\r\x1b[K" + message + "\n" + self.status() + "\x1b[K")
        else:
            self.stream.write(message + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the status line (the terminal keeps its last state)."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class SamplerProgress:
    """A ``progress`` callback for :func:`rlddm.posterior.sample_posteriors` and ``reference_run``.

    The sampler reports ``"warm-up i/n"`` and ``"sampling i/m"`` a few times per run and
    other messages as sentences; the milestones become one count over the whole run
    (warm-up then sampling), everything else a :meth:`Progress.note`. A rerun of the
    failed data sets (a longer warm-up total) restarts the count.

    Parameters
    ----------
    progress : Progress
        Where to show it; its total is reset to ``n_warmup + n_sampling``.
    n_warmup, n_sampling : int
        Warm-up iterations and sampling iterations (draws times thinning) per chain.
    label : str
        Prefix of the status line; the phase is appended.
    """

    _MILESTONE = re.compile(r"(warm-up|sampling) (\d+)/(\d+)$")

    def __init__(self, progress: Progress, n_warmup: int, n_sampling: int, *,
                 label: str = "rlddm reference") -> None:
        self.progress = progress
        self.n_warmup, self.n_sampling = n_warmup, n_sampling
        self.label = label
        self.warmup, self.sampling = n_warmup, n_sampling
        self._last = progress.clock()
        progress.reset(n_warmup + n_sampling, start=self._last)

    def __call__(self, message: str) -> None:
        match = self._MILESTONE.match(message)
        if match is None:
            self.progress.note(message)
            self._last = self.progress.clock()
            return
        phase, done, total = match[1], int(match[2]), int(match[3])
        if phase == "warm-up" and total != self.warmup:
            # a rerun, `total / n_warmup` times as long; it began when the last message came
            self.warmup, self.sampling = total, self.n_sampling * total // self.n_warmup
            self.progress.reset(self.warmup + self.sampling, start=self._last)
        self.progress.label = f"{self.label} ({phase})"
        self.progress.update(done if phase == "warm-up" else self.warmup + done)
        self._last = self.progress.clock()
