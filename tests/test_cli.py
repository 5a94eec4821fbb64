"""Tests of the ``rlddm`` command line: quiet by default, progress, --version, info, models.

The commands run as subprocesses (``python -m rlddm``), as a user runs them: the
libraries' start-up messages only appear in a fresh interpreter, and the environment
is cleaned of the settings ``conftest.py`` makes for the test process itself.
"""

import ast
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import rlddm
from rlddm import _quiet, cli
from rlddm._progress import Progress, SamplerProgress
from rlddm.model import MODELS

SHIPPED_MODEL = Path(rlddm.__file__).with_name("pretrained") / "default"

# Start-up lines of TensorFlow, absl, oneDNN, CUDA, BayesFlow, tqdm and ArviZ seen in
# `rlddm fit` before the CLI silenced them; none may reach a quiet command's stderr.
NOISE = ("absl::InitializeLog", "oneDNN custom operations", "Could not find cuda drivers",
         "cuInit", "cpu_feature_guard", "This TensorFlow binary is optimized",
         "INFO:bayesflow", "Using backend", "Summarizing", "Sampling:", "batch/s",
         "ArviZ is undergoing a major refactor", "FutureWarning", "normalize='prior'",
         "Fitting on dataset", "generator_dataset_op")


@pytest.fixture
def env(tmp_path):
    """A user's environment: no quieting set by conftest, and a fresh ArviZ cache.

    ArviZ warns once a day and records the day in its cache folder, so every run gets
    an empty one: otherwise its warning would be absent whether filtered or not.
    """
    clean = {k: v for k, v in os.environ.items()
             if k not in _quiet.ENVIRONMENT and k != "KERAS_BACKEND"}
    return clean | {"XDG_CACHE_HOME": str(tmp_path / "cache")}


def rlddm_cli(*args, env, cwd, check=True):
    result = subprocess.run([sys.executable, "-m", "rlddm", *map(str, args)], env=env, cwd=cwd,
                            capture_output=True, text=True, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"rlddm {' '.join(map(str, args))} failed:\n{result.stderr}")
    return result


def assert_quiet(stderr):
    found = [noise for noise in NOISE if noise in stderr]
    assert not found, f"library messages {found} in stderr:\n{stderr}"


# -- progress -----------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self):
        return True


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_progress_rewrites_one_line_on_a_terminal():
    stream, clock = Terminal(), Clock()
    progress = Progress(100, label="fit", unit="participants", stream=stream, clock=clock)
    clock.now = 10.0
    progress.update(25)
    progress.note("participant 7 has 3 missed responses")
    clock.now = 40.0
    progress.update(100)
    progress.note("done")
    progress.close()
    text = stream.getvalue()
    assert "\r" in text and text.count("\n") == 3  # two notes and the finished line
    assert "fit: 25/100 participants (25%), 0:30 left" in text
    assert "\r\x1b[Kparticipant 7 has 3 missed responses\n" in text
    assert text.endswith("fit: 100/100 participants (100%) in 0:40\x1b[K\ndone\n")


def test_progress_prints_a_few_plain_lines_elsewhere():
    stream, clock = io.StringIO(), Clock()
    progress = Progress(1000, label="run", stream=stream, clock=clock, plain_lines=4)
    for done in range(10, 1001, 10):
        clock.now = done / 100
        progress.update(done)
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue()
    assert lines == ["run: 250/1000 (25%), 0:08 left", "run: 500/1000 (50%), 0:05 left",
                     "run: 750/1000 (75%), 0:02 left", "run: 1000/1000 (100%) in 0:10"]


def test_progress_refuses_an_empty_run():
    with pytest.raises(ValueError, match="total must be an integer >= 1, got 0"):
        Progress(0, label="x", stream=io.StringIO())


def test_sampler_progress_counts_warm_up_then_sampling_and_restarts_on_a_rerun():
    stream, clock = io.StringIO(), Clock()
    line = Progress(1, label="ignored", unit="iterations", stream=stream, clock=clock)
    say = SamplerProgress(line, 200, 500, label="ref")
    say("sampling 3 posteriors: 4 chains, 200 warm-up, 100 draws thinned by 5")
    for done in (50, 100, 150, 200):
        say(f"warm-up {done}/200")
    assert (line.done, line.total) == (200, 700)
    say("sampling 500/500")
    assert (line.done, line.total) == (700, 700)
    say("1 posteriors failed the checks; sampling them again, 3 times as long")
    say("warm-up 150/600")
    assert (line.done, line.total, line.label) == (150, 2100, "ref (warm-up)")
    text = stream.getvalue()
    assert "sampling 3 posteriors: 4 chains" in text and "failed the checks" in text
    assert "ref (sampling): 700/700 iterations (100%)" in text


# -- the quiet module ---------------------------------------------------------------


def test_configure_keeps_the_users_settings(env, tmp_path):
    code = ("import os; os.environ['TF_CPP_MIN_LOG_LEVEL'] = '1'; from rlddm import _quiet; "
            "_quiet.configure(); print(os.environ['TF_CPP_MIN_LOG_LEVEL'], os.environ['TQDM_DISABLE'])")
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path,
                            capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["1", "1"]


def test_import_quietly_drops_known_native_lines_and_keeps_the_rest(env, tmp_path):
    (tmp_path / "chatty.py").write_text(textwrap.dedent("""\
        import os
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called "
                    b"are written to STDERR\\n")
        os.write(2, b"I0000 00:00:1796154039.249468    4991 port.cc:153] oneDNN custom "
                    b"operations are on.\\n")
        os.write(2, b"E0000 00:00:1796154045.901678    4991 kernel.cc:52] a real error\\n")
        """))
    code = "from rlddm import _quiet; _quiet.configure(); _quiet.import_quietly('chatty')"
    result = subprocess.run([sys.executable, "-c", code], env=env | {"PYTHONPATH": str(tmp_path)},
                            cwd=tmp_path, capture_output=True, text=True, check=True)
    assert result.stderr == "E0000 00:00:1796154045.901678    4991 kernel.cc:52] a real error\n"


# -- commands -------------------------------------------------------------------------


def test_version(env, tmp_path):
    result = rlddm_cli("--version", env=env, cwd=tmp_path)
    assert result.stdout == f"rlddm {rlddm.__version__}\n"
    assert rlddm.__version__ == __import__("importlib.metadata").metadata.version("rlddm")


def inference_default_backend():
    """``rlddm.inference.DEFAULT_BACKEND`` read from its source: importing it loads Keras."""
    source = Path(rlddm.__file__).parent.joinpath("amortized", "_keras.py").read_text()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets] == ["DEFAULT_BACKEND"]:
            return ast.literal_eval(node.value)
    raise AssertionError("rlddm/amortized/_keras.py defines no DEFAULT_BACKEND")


def test_info_lists_backend_threads_models_and_shipped_networks(env, tmp_path):
    result = rlddm_cli("info", env=env, cwd=tmp_path)
    assert result.stderr == ""
    out = result.stdout
    # the CLI's copy of the default must stay the one rlddm.inference applies
    assert cli.DEFAULT_BACKEND == inference_default_backend()
    assert f"keras backend: {cli.DEFAULT_BACKEND} (rlddm's default" in out
    assert "not imported" in out
    assert f"OpenMP {'on' if rlddm.simulator._sim.OPENMP else 'off'}, {rlddm.simulator._sim.max_threads()} " in out
    for spec in MODELS.values():
        assert f"  {spec.name}: {', '.join(spec.names)}" in out
    assert "  default: model rlddm, trials 60-60 (trained with tensorflow" in out
    assert "reward_probabilities [0.8, 0.2], reversal_every 12" in out


@pytest.mark.slow
def test_models_lists_parameters_fixed_values_and_priors(env, tmp_path):
    out = rlddm_cli("models", env=env, cwd=tmp_path).stdout
    for spec in MODELS.values():
        assert f"{spec.name}: {spec.description}" in out
        assert f"  theta: {', '.join(spec.names)}" in out
        for name in spec.parameter_names:
            shown = "prior if freed" if name in spec.fixed else "prior"
            assert f"{shown} {spec.default_priors[name]}" in out
    one = rlddm_cli("models", "dual_lr", env=env, cwd=tmp_path).stdout
    assert one.startswith("dual_lr:") and "sigmoid_drift" not in one
    wrong = rlddm_cli("models", "nope", env=env, cwd=tmp_path, check=False)
    assert wrong.returncode == 1 and "rlddm models: model must be one of" in wrong.stderr
    assert "'nope'" in wrong.stderr


@pytest.mark.slow
def test_simulate_and_fit_print_only_their_own_messages(env, tmp_path):
    simulated = rlddm_cli("simulate", "--participants", 2, "--out", "demo.csv", "--seed", 1,
                          env=env, cwd=tmp_path)
    assert simulated.stderr == ""
    assert "wrote 120 trials of 2 participants (rlddm, design reversal) to demo.csv" in simulated.stdout
    fitted = rlddm_cli("fit", "demo.csv", "--out", "demo_fit", "--draws", 10, env=env, cwd=tmp_path)
    assert_quiet(fitted.stderr)
    assert fitted.stderr == ""
    assert "participant parameter" in fitted.stdout
    assert "results written to demo_fit" in fitted.stdout


@pytest.mark.slow
def test_verbose_lets_library_messages_through(env, tmp_path):
    verbose = rlddm_cli("--verbose", "fit", "missing.csv", "--out", "out", env=env,
                        cwd=tmp_path, check=False)
    assert verbose.returncode == 1
    assert "rlddm fit: missing.csv: no such file" in verbose.stderr
    assert "ArviZ is undergoing a major refactor" in verbose.stderr


@pytest.mark.slow
def test_validate_is_quiet(env, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(SHIPPED_MODEL, run)
    result = rlddm_cli("validate", run, "--n", 20, env=env, cwd=tmp_path)
    assert_quiet(result.stderr)
    assert result.stderr == ""
    assert result.stdout.startswith("parameter ")
    assert f"diagnostics written to {run}" in result.stdout


@pytest.mark.slow
def test_reference_reports_progress_on_stderr_and_metrics_on_stdout(env, tmp_path):
    result = rlddm_cli("reference", "--n", 1, "--trials", 20, "--out", "ref", env=env,
                       cwd=tmp_path)
    assert json.loads(result.stdout)["n_datasets"] == 1
    lines = result.stderr.splitlines()
    assert "\r" not in result.stderr  # not a terminal: plain lines only
    assert lines[0].startswith("simulated 1 data sets of 20 trials")
    status = [line for line in lines if line.startswith("rlddm reference (")]
    assert 1 <= len(status) <= 4 and " in " in status[-1] and "(100%)" in status[-1]
    assert lines[-1].startswith("sampled 1 posteriors in")


@pytest.mark.slow
def test_ctrl_c_ends_a_fit_with_code_130_and_no_output(env, tmp_path):
    """SIGINT, as Ctrl-C sends it, while the exact fit samples: one line, exit code 130."""
    rlddm_cli("simulate", "--participants", 6, "--trials", 240, "--design", "selection",
              "--out", "data.csv", "--seed", 2, env=env, cwd=tmp_path)
    # a warm-up of 20,000 iterations: sampling outlasts the wait on any machine (the default
    # lengths finished these data within the wait once the likelihood was compiled)
    process = subprocess.Popen([sys.executable, "-m", "rlddm", "fit", "data.csv", "--method",
                                "exact", "--warmup", "20000", "--out", "fit"], env=env, cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(6.0)  # imports, reading, and the first seconds of sampling
    assert process.poll() is None, process.communicate()
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == "rlddm fit: interrupted; nothing was written"
    assert "Traceback" not in stderr
    assert sorted(set(os.listdir(tmp_path)) - {"cache"}) == ["data.csv", "data_truths.csv"]


def test_simulate_draws_from_a_given_prior_and_writes_hddm_columns(tmp_path, monkeypatch):
    """200 participants from drift ~ N(6, 2): their mean lies within 0.5 of 6 (SE 0.14; the
    default prior N(0, 2) would miss by 6); HDDMrl's columns, truths by subj_idx."""
    import pandas as pd

    monkeypatch.chdir(tmp_path)
    cli.main(["simulate", "--model", "dual_lr", "--design", "selection", "--participants", "200",
              "--trials", "12", "--prior", "drift=normal(6, 2)", "--layout", "hddm",
              "--out", "sel.csv", "--seed", "3"])
    truths = pd.read_csv("sel_truths.csv")
    assert list(truths.columns) == ["subj_idx", "drift", "alpha", "beta", "ter", "kappa_pos",
                                    "kappa_neg"]
    assert abs(truths["drift"].mean() - 6.0) < 0.5
    assert list(pd.read_csv("sel.csv").columns) == ["subj_idx", "trial", "rt", "response",
                                                    "feedback", "split_by", "q_init"]
    with pytest.raises(SystemExit, match="rlddm simulate: cannot set a prior for 'kappa' in "
                                         "model 'dual_lr': it is not a parameter"):
        cli.main(["simulate", "--model", "dual_lr", "--prior", "kappa=beta(2, 2)",
                  "--out", "other.csv"])
    assert not (tmp_path / "other.csv").exists()


@pytest.mark.slow
def test_an_exact_fit_does_not_load_keras(env, tmp_path):
    """TensorFlow's import alone takes seconds; the exact method needs no network."""
    rlddm_cli("simulate", "--participants", 1, "--trials", 40, "--out", "data.csv", "--seed", 1,
              env=env, cwd=tmp_path)
    script = ("import sys; from rlddm.cli import main; "
              "main(['fit', 'data.csv', '--method', 'exact', '--out', 'fit', '--draws', '100']); "
              "print(sorted(m for m in ('tensorflow', 'keras', 'bayesflow', 'jax') "
              "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_fit_takes_the_sampler_lengths_and_the_predictive_draws(tmp_path, monkeypatch, capsys):
    import arviz as az

    monkeypatch.chdir(tmp_path)
    cli.main(["simulate", "--participants", "1", "--trials", "40", "--out", "data.csv",
              "--seed", "2"])
    cli.main(["fit", "data.csv", "--method", "exact", "--out", "fit", "--chains", "2",
              "--warmup", "200", "--thin", "1", "--draws", "150", "--ppc-draws", "7"])
    posterior = az.from_netcdf("fit/posterior.nc").posterior
    assert (posterior.sizes["chain"], posterior.sizes["draw"]) == (2, 150)
    assert json.loads(open("fit/ppc.json").read())["settings"]["n_draws"] == 7
    with pytest.raises(SystemExit, match="n_chains must be"):
        cli.main(["fit", "data.csv", "--method", "exact", "--out", "other", "--chains", "1"])
    assert not (tmp_path / "other").exists()


def test_hierarchical_fit_writes_participants_and_population(tmp_path, monkeypatch, capsys):
    """A short run (not converged; the point is the wiring): summary.csv per participant,
    group_summary.csv with the population rows named as the issue asks, refusals."""
    import pandas as pd

    monkeypatch.chdir(tmp_path)
    cli.main(["simulate", "--participants", "4", "--trials", "40", "--out", "data.csv",
              "--seed", "4"])
    capsys.readouterr()
    frame = pd.read_csv("data.csv")
    frame["group"] = np.where(frame["participant"] % 2 == 1, "patient", "control")
    frame.to_csv("grouped.csv", index=False)
    cli.main(["fit", "grouped.csv", "--hierarchical", "--group-by", "group", "--out", "h",
              "--chains", "2", "--warmup", "100", "--draws", "50", "--thin", "1"])
    printed = capsys.readouterr().out
    assert printed.startswith("method: hierarchical exact MCMC (4 participants, population "
                              "mean by 'group' (control, patient; baseline 'control'))")
    names = ["drift", "alpha", "beta", "ter", "kappa"]
    population = pd.read_csv("h/group_summary.csv")
    assert list(population["parameter"]) == names + [f"{n}_sd" for n in names] + \
        [f"{n}[patient-control]" for n in names]
    assert list(population.columns[:5]) == ["parameter", "mean", "sd", "hdi_3%", "hdi_97%"]
    participants = pd.read_csv("h/summary.csv")
    assert len(participants) == 4 * 5 and set(participants["participant"]) == {1, 2, 3, 4}
    assert json.loads(open("h/hierarchical.json").read())["levels"] == ["control", "patient"]
    for prefix in ("", "population_"):  # predictive checks: participants', the population's
        for name in ("ppc.csv", "ppc.json", "ppc_learning_curves.png", "ppc_rt_quantiles.png"):
            assert (tmp_path / "h" / f"{prefix}{name}").is_file(), prefix + name
        checks = pd.read_csv(f"h/{prefix}ppc.csv")
        assert set(checks["participant"].astype(str)) == {"all", "1", "2", "3", "4"}
    assert "new participant" in json.loads(open("h/population_ppc.json").read())["settings"][
        "note"]
    for argv, message in (
            (["--group-by", "group"], "--group-by needs --hierarchical"),
            (["--hierarchical", "--method", "amortized"], "method='amortized': .*60"),
            (["--hierarchical", "--group-by", "trial"], "group column 'trial' varies within "
                                                        r"participant '1' \(values 1, 10, 11, 12, "
                                                        r"13, \.\.\. \(40 values\)\)")):
        with pytest.raises(SystemExit, match=message):
            cli.main(["fit", "grouped.csv", "--out", "refused", *argv])
    assert not (tmp_path / "refused").exists()
