"""Keep the libraries' start-up chatter out of the ``rlddm`` command's output.

TensorFlow, absl, oneDNN, CUDA probing, BayesFlow and ArviZ print a dozen lines on
import that say nothing about the user's data. :func:`configure` must run before those
libraries are imported (``rlddm.cli.main`` calls it first): environment variables are
read when a library loads, and BayesFlow configures logging on import. Each setting
names the message it is for, so a new library message shows until it is added here,
and warnings are silenced by category and message, never wholesale.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import re
import sys
import tempfile
import warnings
from collections.abc import Iterator

__all__ = ["configure", "import_quietly"]

ENVIRONMENT: dict[str, str] = {
    # TensorFlow's C++ log: without a GPU it logs "failed call to cuInit" at ERROR on
    # first device use, so only FATAL (3) passes; failures that matter reach Python as
    # exceptions.
    "TF_CPP_MIN_LOG_LEVEL": "3",
    # BayesFlow wraps every posterior draw in tqdm bars ("Summarizing", "Sampling") of
    # one batch; tqdm reads TQDM_* when it is imported.
    "TQDM_DISABLE": "1",
}
"""Set with ``setdefault`` before the libraries load: a user's own value wins."""

LOGGER_LEVELS: dict[str, int] = {
    # Python-side notices of TensorFlow (retracing, deprecations) and of absl.
    "tensorflow": logging.ERROR,
    "absl": logging.ERROR,
    # "Unable to initialize backend 'cuda'" and the like when JAX finds no GPU.
    "jax._src.xla_bridge": logging.ERROR,
}

LOG_MESSAGES: dict[str, tuple[str, ...]] = {
    # bayesflow.diagnostics announces a changed default on every RMSE it computes.
    "bayesflow": ("Using new default normalize='prior'",),
}
"""Known library log messages, by logger, as message prefixes."""

WARNINGS: tuple[tuple[type[Warning], str, str], ...] = (
    # arviz/__init__.py warns once a day on import, whatever the user does with it.
    (FutureWarning, r"\s*ArviZ is undergoing a major refactor", "arviz"),
)
"""Known library warnings: (category, message regex, module regex)."""

NATIVE_NOISE: tuple[re.Pattern[str], ...] = (
    re.compile(r"WARNING: All log messages before absl::InitializeLog\(\) is called"),
    # absl-format INFO and WARNING lines ("I0000 00:00:1796154039.249 4991 port.cc:153]"):
    # oneDNN, "Could not find cuda drivers", CPU features. TensorFlow prints them while it
    # loads, before TF_CPP_MIN_LOG_LEVEL applies.
    re.compile(r"[IW]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] "),
    re.compile(r"To enable the following instructions: .*rebuild TensorFlow"),
)
"""Lines written to the native stderr while a backend loads that are dropped."""

_state = {"quiet": False}


class _KnownMessages(logging.Filter):
    """Drops a logger's records whose message starts with a known prefix."""

    def __init__(self, prefixes: tuple[str, ...]) -> None:
        super().__init__()
        self.prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.prefixes)


def configure(*, verbose: bool = False) -> None:
    """Silence known library messages; call before TensorFlow, Keras, BayesFlow or ArviZ load.

    Parameters
    ----------
    verbose : bool
        Change nothing: every library message comes through (``rlddm --verbose``).

    Notes
    -----
    Sets :data:`ENVIRONMENT` (without overriding the user's values), gives the root
    logger a WARNING-level stderr handler unless logging is configured already (so
    BayesFlow's ``basicConfig`` at INFO on import adds none), raises the levels in
    :data:`LOGGER_LEVELS`, and filters :data:`LOG_MESSAGES` and :data:`WARNINGS`.
    Calling it again changes nothing more.
    """
    if verbose or _state["quiet"]:
        return
    _state["quiet"] = True
    for name, value in ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setLevel(logging.WARNING)
        handler.setFormatter(logging.Formatter(logging.BASIC_FORMAT))
        root.addHandler(handler)
    for name, level in LOGGER_LEVELS.items():
        logging.getLogger(name).setLevel(level)
    for name, prefixes in LOG_MESSAGES.items():
        logging.getLogger(name).addFilter(_KnownMessages(prefixes))
    for category, message, module in WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category, module=module)


def import_quietly(module: str) -> None:
    """Import ``module`` with the known lines it writes to the native stderr dropped.

    TensorFlow writes its start-up lines from C++ straight to file descriptor 2, where
    no Python setting reaches; they are captured while it loads and every line that
    is not in :data:`NATIVE_NOISE` is written back. Without :func:`configure` (under
    ``--verbose``) this does nothing: the module loads when it is first used.

    Parameters
    ----------
    module : str
        Module to import, e.g. ``"tensorflow"``.
    """
    if not _state["quiet"] or module in sys.modules:
        return
    with _native_stderr_filtered():
        importlib.import_module(module)


@contextlib.contextmanager
def _native_stderr_filtered() -> Iterator[None]:
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            lines = capture.read().decode(errors="replace").splitlines(keepends=True)
            sys.stderr.write("".join(line for line in lines
                                     if not any(p.match(line) for p in NATIVE_NOISE)))
            sys.stderr.flush()
