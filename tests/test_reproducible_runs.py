"""Runs that can be repeated: a seed fixes a training's weights; a killed training resumes to
its configured steps; a killed reference leaves no output folder.

The commands run as subprocesses (``python -m rlddm``) and are killed with SIGKILL, as a
crash or an out-of-memory kill ends them: no cleanup code runs.
"""

import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

keras = pytest.importorskip("keras")
import rlddm.inference as inf  # noqa: E402


def weight_checksum(posterior):
    digest = hashlib.sha256()
    for weight in posterior.approximator.weights:
        digest.update(np.ascontiguousarray(keras.ops.convert_to_numpy(weight)).tobytes())
    return digest.hexdigest()[:16]


@pytest.mark.slow
def test_a_seed_fixes_the_trained_weights(tmp_path, tiny_network):
    """Same seed, same process, same backend: the same weights; another seed: others.

    Seed 4 drew one trial count for both of the batches by which Keras fixes its tensor
    shapes, which stopped the training at the next count (inference.OnlineBatches).
    """
    def trained(seed, name):
        config = inf.InferenceConfig(min_trials=20, max_trials=40, seed=seed, **tiny_network)
        return weight_checksum(inf.train(config, tmp_path / name, verbose=0))

    first, again, other = trained(4, "first"), trained(4, "again"), trained(5, "other")
    print(f"weight checksums: seed 4 {first}, seed 4 again {again}, seed 5 {other}")
    assert first == again
    assert other != first


def rlddm_command(*args):
    return [sys.executable, "-m", "rlddm", *map(str, args)]


def wait_for(condition, process, seconds):
    deadline = time.monotonic() + seconds
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the command ended (code {process.returncode}) before the "
                                 f"moment to kill it:\n{process.stderr.read()}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"no moment to kill the command within {seconds} s")
        time.sleep(0.05)


def history_epochs(run):
    with open(run / "history.csv", newline="") as handle:
        return [int(row["epoch"]) for row in csv.DictReader(handle)]


@pytest.mark.slow
def test_a_killed_training_resumes_to_the_configured_steps(tmp_path):
    """SIGKILL in the second epoch, then the same command: 3 epochs of 150 steps in all."""
    run = tmp_path / "run"
    command = rlddm_command("train", "--out", run, "--epochs", 3, "--batches-per-epoch", 150,
                            "--batch-size", 8, "--min-trials", 20, "--max-trials", 40,
                            "--summary-dim", 4, "--recurrent-units", 8, "--seed", 0,
                            "--no-validate")
    env = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "2"}
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    wait_for(lambda: (run / "backup" / "simulator.json").exists(), first, 600)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert history_epochs(run) == [0]  # killed after the first epoch's checkpoint
    assert not (run / "approximator.keras").exists()

    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stderr
    assert json.loads((run / "timing.json").read_text())["steps"] == 3 * 150
    assert history_epochs(run) == [0, 1, 2]
    assert not (run / "backup").exists()


@pytest.mark.slow
def test_a_killed_reference_leaves_no_output_folder(tmp_path):
    """SIGKILL while sampling: neither the folder nor a hidden partial one remains, and
    the same command then writes the whole folder."""
    command = rlddm_command("reference", "--n", 4, "--trials", 30, "--out", "ref")
    first = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    # the first line on stderr says the data are simulated: the sampling has begun
    wait_for(lambda: first.stderr.readline().startswith("simulated"), first, 300)
    time.sleep(1.0)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert sorted(os.listdir(tmp_path)) == []

    again = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert sorted(os.listdir(tmp_path)) == ["ref"]
    assert sorted(os.listdir(tmp_path / "ref")) == ["metrics.json", "reference.json",
                                                    "reference.npz"]
    refused = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert refused.returncode != 0
    assert "rlddm reference: out 'ref' exists and is not empty; pass force=True (rlddm " \
           "reference --force) to replace it" in refused.stderr
