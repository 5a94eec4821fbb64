"""Runs that can be repeated: a seed fixes a training's weights and a fit's draws; a killed
training resumes to its configured steps; a killed reference leaves no output folder.

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


def tiny_training(run, seed, network, **changes):
    """The ``rlddm train`` command of ``network`` (the tiny_network fixture) with ``changes``."""
    options = [item for name, value in (network | changes).items()
               for item in (f"--{name.replace('_', '-')}", value)]
    return rlddm_command("train", "--out", run, "--seed", seed, "--min-trials", 20,
                         "--max-trials", 40, "--no-validate", *options)


@pytest.mark.slow
def test_a_seed_fixes_the_trained_weights(tmp_path, tiny_network):
    """Same seed, same machine and backend, one process each (as ``rlddm train`` runs): the
    same weights; another seed: others. (A second training in one Python process departs
    from the first after its first step: TensorFlow's random ops keep their state.)

    Seed 4 drew one trial count for both of the batches by which Keras fixes its tensor
    shapes, which stopped the training at the next count (inference.OnlineBatches).
    """
    def trained(seed, name):
        run = tmp_path / name
        result = subprocess.run(tiny_training(run, seed, tiny_network), capture_output=True,
                                text=True, timeout=900)
        assert result.returncode == 0, result.stderr
        return weight_checksum(inf.AmortizedPosterior.load(run))

    first, again, other = trained(4, "first"), trained(4, "again"), trained(5, "other")
    print(f"weight checksums: seed 4 {first}, seed 4 again {again}, seed 5 {other}")
    assert first == again
    assert other != first


@pytest.mark.slow
def test_a_seed_fixes_the_fitted_draws(tmp_path):
    """``rlddm fit --seed`` with the shipped network: the same draws, and others for another
    seed (posterior.nc, variable by variable)."""
    az = pytest.importorskip("arviz")
    made = subprocess.run(rlddm_command("simulate", "--participants", 2, "--trials", 60,
                                        "--out", "data.csv", "--seed", 1),
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr

    def fitted(seed, out):
        result = subprocess.run(rlddm_command("fit", "data.csv", "--out", out, "--seed", seed,
                                              "--draws", 200),
                                cwd=tmp_path, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr
        posterior = az.from_netcdf(tmp_path / out / "posterior.nc").posterior
        return {name: posterior[name].values for name in posterior.data_vars}

    first, again, other = fitted(3, "first"), fitted(3, "again"), fitted(4, "other")
    assert first.keys() == again.keys() == other.keys()
    for name in first:
        np.testing.assert_array_equal(first[name], again[name])
        assert not np.array_equal(first[name], other[name]), name


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


def _epochs_so_far(run):
    try:
        return history_epochs(run)
    except (OSError, KeyError, ValueError):  # not written yet, or half a line
        return []


@pytest.mark.slow
def test_a_killed_training_resumes_to_the_configured_steps(tmp_path, tiny_network):
    """SIGKILL in the second epoch, then the same command: 3 epochs of 150 steps in all."""
    run = tmp_path / "run"
    command = tiny_training(run, 0, tiny_network, epochs=3, batches_per_epoch=150)
    env = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "2"}
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    # the first epoch's checkpoint is complete once its simulator state and its history row
    # are both written (two callbacks, one after the other: a kill between them lost the row)
    wait_for(lambda: (run / "backup" / "simulator.json").exists() and _epochs_so_far(run) == [0],
             first, 600)
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
