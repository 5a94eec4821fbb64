"""Output folders that appear complete or not at all: written beside, renamed into place."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Union

PathLike = Union[str, "os.PathLike[str]"]


def check_out(out: PathLike, force: bool, inputs: Sequence[PathLike] = (), *,
              flag: str = "force=True") -> Path:
    """The absolute output folder, if it may be (re)written as a whole.

    Parameters
    ----------
    out : str or path
        The output folder.
    force : bool
        Whether a non-empty folder may be replaced.
    inputs : sequence of str or path
        Files and folders the command reads, which ``out`` must not hold.
    flag : str
        How the caller asks for ``force`` (named in the message).

    Raises
    ------
    FileExistsError
        If ``out`` is not a folder, or is a non-empty folder and ``force`` is false.
    ValueError
        If ``out`` is or holds the current folder or an input: replacing it would
        remove them.
    """
    given = Path(out)
    if given.is_symlink() or (given.exists() and not given.is_dir()):
        raise FileExistsError(f"out {str(out)!r} exists and is not a folder; choose a folder path")
    # absolute, but symlinks kept: "." gets a name, and its parent is where it lives
    absolute = Path(os.path.abspath(given))
    cwd = Path(os.path.abspath(os.getcwd()))
    if absolute == cwd or absolute in cwd.parents:
        raise ValueError(f"out {str(out)!r} is the current folder or holds it; the output "
                         "folder is replaced as a whole, so choose a new folder")
    for path in inputs:
        inside = Path(os.path.abspath(path))
        if absolute == inside or absolute in inside.parents:
            raise ValueError(f"out {str(out)!r} holds the input {str(path)!r}; the output folder "
                             "is replaced as a whole, so choose a folder that holds no input")
    if absolute.is_dir() and any(absolute.iterdir()) and not force:
        raise FileExistsError(f"out {str(out)!r} exists and is not empty; pass {flag} to "
                              "replace it")
    return absolute


def _staging_prefix(out: Path) -> str:
    return f".{out.name}.partial-"


def _remove_stale_staging(out: Path) -> None:
    """Remove staging folders of ``out`` left by processes that no longer run (SIGKILL)."""
    prefix = _staging_prefix(out)
    for path in out.parent.glob(prefix + "*"):
        pid = path.name[len(prefix):].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:  # alive, another user's
            pass


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt, so that the cleanup runs (SIGTERM's default
    action ends the process at once)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def staged_folder(out: PathLike, *, force: bool = False, inputs: Sequence[PathLike] = (),
                  flag: str = "force=True") -> Iterator[Path]:
    """A hidden folder beside ``out`` to write into; it replaces ``out`` when the block ends.

    An exception, Ctrl-C or SIGTERM inside the block removes the hidden folder and
    leaves ``out`` as it was; after a SIGKILL the next call for ``out`` removes it.
    ``out`` is checked (:func:`check_out`) on entry and again before the swap, since
    another process may have filled it meanwhile.

    Yields
    ------
    Path
        The folder to write the outputs into.
    """
    absolute = check_out(out, force, inputs, flag=flag)
    absolute.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_staging(absolute)
    with _sigterm_interrupts():
        staging = Path(tempfile.mkdtemp(prefix=f"{_staging_prefix(absolute)}{os.getpid()}-",
                                        dir=absolute.parent))
        previous = None
        try:
            yield staging
            check_out(out, force, inputs, flag=flag)
            if absolute.exists():
                previous = Path(tempfile.mkdtemp(prefix=f".{absolute.name}.previous-",
                                                 dir=absolute.parent))
                os.replace(absolute, previous / absolute.name)
            try:
                os.replace(staging, absolute)
            except BaseException:
                if previous is not None:
                    os.replace(previous / absolute.name, absolute)
                    previous.rmdir()
                    previous = None
                raise
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if previous is not None:
            shutil.rmtree(previous, ignore_errors=True)


@contextlib.contextmanager
def staged_files(*paths: PathLike) -> Iterator[tuple[Path, ...]]:
    """Hidden files beside ``paths`` to write into; each replaces its path when the block ends.

    An exception, Ctrl-C or SIGTERM inside the block removes the hidden files and leaves
    ``paths`` as they were, so a reader never finds a half-written CSV file. (The renames
    at the end are one after the other: a SIGKILL between them can leave the first file
    new and the second old.)

    Yields
    ------
    tuple of Path
        The files to write, in the order of ``paths``.
    """
    targets = [Path(path).absolute() for path in paths]
    with _sigterm_interrupts():
        staged: list[Path] = []
        try:
            for target in targets:
                handle, name = tempfile.mkstemp(prefix=f".{target.name}.partial-",
                                                dir=target.parent)
                os.close(handle)
                staged.append(Path(name))
            yield tuple(staged)
            for temporary, target in zip(staged, targets):
                os.replace(temporary, target)
        except BaseException:
            for temporary in staged:
                temporary.unlink(missing_ok=True)
            raise
