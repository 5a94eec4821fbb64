"""Output folders written all at once (rlddm._output): complete or absent, never partial."""

import os
import signal
import subprocess
import sys

import pytest

from rlddm._output import check_out, staged_files, staged_folder
from rlddm.posterior import reference_run


def hidden(parent):
    return sorted(name for name in os.listdir(parent) if name.startswith("."))


def test_the_folder_appears_with_everything_written(tmp_path):
    out = tmp_path / "out"
    with staged_folder(out) as staging:
        (staging / "a.txt").write_text("a")
        assert not out.exists()
    assert sorted(os.listdir(out)) == ["a.txt"] and hidden(tmp_path) == []


@pytest.mark.parametrize("interruption", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_an_interruption_leaves_the_old_folder_as_it_was(tmp_path, interruption):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with pytest.raises(type(interruption)):
        with staged_folder(out, force=True) as staging:
            (staging / "new.txt").write_text("new")
            raise interruption
    assert sorted(os.listdir(out)) == ["old.txt"] and hidden(tmp_path) == []


def test_sigterm_interrupts_and_cleans_up(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        with staged_folder(out) as staging:
            (staging / "new.txt").write_text("new")
            os.kill(os.getpid(), signal.SIGTERM)
    assert os.listdir(tmp_path) == []
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_force_replaces_a_non_empty_folder_and_nothing_else_does(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with pytest.raises(FileExistsError, match=r"out '.*out' exists and is not empty; pass "
                                              r"--force to replace it"):
        with staged_folder(out, flag="--force"):
            pass
    with staged_folder(out, force=True) as staging:
        (staging / "new.txt").write_text("new")
    assert sorted(os.listdir(out)) == ["new.txt"] and hidden(tmp_path) == []


def test_the_current_folder_a_file_and_an_input_holder_are_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="is the current folder or holds it"):
        check_out(".", force=True)
    with pytest.raises(ValueError, match="is the current folder or holds it"):
        check_out("..", force=True)
    (tmp_path / "data.csv").write_text("x")
    with pytest.raises(FileExistsError, match="exists and is not a folder"):
        check_out("data.csv", force=True)
    (tmp_path / "inputs").mkdir()
    with pytest.raises(ValueError, match="holds the input"):
        check_out("inputs", force=True, inputs=["inputs/data.csv"])


def test_staging_left_by_a_killed_process_is_removed(tmp_path):
    """A SIGKILL leaves the hidden folder; the next run for the same output removes it,
    but not one of a process that still runs."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (tmp_path / f".out.partial-{dead}-abc").mkdir()
    (tmp_path / f".out.partial-{os.getppid()}-abc").mkdir()
    with staged_folder(tmp_path / "out"):
        pass
    assert hidden(tmp_path) == [f".out.partial-{os.getppid()}-abc"]


def test_reference_refuses_a_non_empty_folder_unless_forced(tmp_path):
    quick = dict(n=1, n_trials=10, n_warmup=40, n_draws=20, thin=1, n_chains=2, progress=None)
    out = tmp_path / "ref"
    reference_run(out, **quick)
    with pytest.raises(FileExistsError, match=r"pass force=True \(rlddm reference --force\)"):
        reference_run(out, **quick)
    (out / "stray.txt").write_text("")
    reference_run(out, force=True, **quick)
    assert sorted(os.listdir(out)) == ["metrics.json", "reference.json", "reference.npz"]
    assert hidden(tmp_path) == []


def test_staged_files_appear_together_when_the_block_ends(tmp_path):
    first, second = tmp_path / "trials.csv", tmp_path / "truths.csv"
    with staged_files(first, second) as (staged_first, staged_second):
        staged_first.write_text("a")
        staged_second.write_text("b")
        assert not first.exists() and not second.exists()
    assert first.read_text() == "a" and second.read_text() == "b" and hidden(tmp_path) == []


@pytest.mark.parametrize("interruption", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_an_interrupted_file_leaves_the_old_file_as_it_was(tmp_path, interruption):
    path = tmp_path / "trials.csv"
    path.write_text("old")
    with pytest.raises(type(interruption)):
        with staged_files(path) as (staged,):
            staged.write_text("half writ")
            raise interruption
    assert path.read_text() == "old" and hidden(tmp_path) == []
