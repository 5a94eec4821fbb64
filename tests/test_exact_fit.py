"""Tests of rlddm.exact_fit: --prior values, chunks, the parallel exact fit and its
round trip on simulated selection-task participants.

The mechanics tests run chains too short to converge, with the checks switched off
(no reruns); the round trip runs 800 warm-up iterations and 200 draws per chain without
reruns (a rerun of one participant costs more than the whole first pass), so that it
takes seconds. The production settings are measured in bench/exact_fit_speed.py and
bench/exact_fit_recovery.py.
"""

import numpy as np
import pytest
from scipy import stats

from rlddm.data import DataError, read_trials, simulate_participants
from rlddm.exact_fit import CHUNK_TRIALS, chunk_participants, fit_exact, parse_prior
from rlddm.likelihood import loglik
from rlddm.model import get_model
from rlddm.priors import Prior

SHORT = dict(n_warmup=100, n_draws=25, thin=1, rhat_max=100.0, min_ess=1.0, n_jobs=1)
ROUND_TRIP = dict(n_warmup=800, n_draws=200, thin=1, retry=False, n_jobs=1)
N_ROUND_TRIP = 10  # participants per model in the round trip


# ---------------------------------------------------------------------------------------
# command-line values


@pytest.mark.parametrize(("text", "name", "prior"), [
    ("drift=normal(0, 5)", "drift", Prior.normal(0.0, 5.0)),
    ("alpha=normal(1, 0.5, lower=0, upper=5)", "alpha", Prior.normal(1.0, 0.5, lower=0, upper=5)),
    ("kappa=beta(2, 2)", "kappa", Prior.beta(2.0, 2.0)),
    ("v_max=uniform(0, 10)", "v_max", Prior.uniform(0.0, 10.0)),
    # a normal without bounds takes the parameter's support (alpha > 0)
    (" alpha = normal(1, 0.5) ", "alpha", Prior.normal(1.0, 0.5, lower=0.0)),
    ("ter=normal(0.3, 1e-1, upper=1.5)", "ter", Prior.normal(0.3, 0.1, lower=0.0, upper=1.5)),
])
def test_parse_prior_reads_each_family(text, name, prior):
    assert parse_prior(text) == (name, prior)


@pytest.mark.parametrize(("text", "message"), [
    ("drift normal(0, 5)", r"'drift normal\(0, 5\)' is not NAME=DISTRIBUTION"),
    ("drift=normal(0, 5", r"is not NAME=DISTRIBUTION"),
    ("drit=normal(0, 5)", r"unknown parameter 'drit'"),
    ("drift=cauchy(0, 5)", r"unknown distribution 'cauchy'"),
    ("drift=normal(0)", r"'drift=normal\(0\)': normal takes two numbers"),
    ("drift=normal(0, five)", r"'five' is not a number"),
    ("drift=normal(0, -1)", r"'drift=normal\(0, -1\)': scale must be > 0"),
    ("kappa=beta(2, 2, lower=0, upper=2)", r"outside|support"),
    ("v_max=uniform(10, 0)", r"lower must be < upper"),
    ("alpha=normal(1, 0.5, left=0)", r"'left=0' is not a number or lower=/upper="),
])
def test_parse_prior_names_the_text_on_errors(text, message):
    with pytest.raises(ValueError, match=message):
        name, prior = parse_prior(text)
        get_model("sigmoid_drift").priors(**{name: prior})  # support checked by the model


# ---------------------------------------------------------------------------------------
# chunks


def test_chunks_balance_trials_and_depend_on_the_counts_alone():
    counts = np.array([113, 119] + [120] * 11 + [179] + [180] * 5 + [238] + [240] * 3
                      + [274, 338, 359, 360, 360])
    chunks = chunk_participants(counts)
    assert len(chunks) == round(counts.sum() / CHUNK_TRIALS) == 2
    assert sorted(np.concatenate(chunks).tolist()) == list(range(counts.size))
    loads = [counts[c].sum() for c in chunks]
    assert max(loads) - min(loads) <= counts.max()
    assert all(np.array_equal(a, b) for a, b in zip(chunks, chunk_participants(counts)))
    assert [c.tolist() for c in chunk_participants(np.array([5, 5]))] == [[0, 1]]
    assert len(chunk_participants(np.array([100, 100, 100]), chunk_trials=10)) == 3


# ---------------------------------------------------------------------------------------
# fits


@pytest.fixture(scope="module")
def selection():
    """Six selection-task participants of 60-100 trials (three pairs), one missed response."""
    frame, truths = simulate_participants(6, [60, 100, 80, 60, 90, 70], design="selection",
                                          seed=3)
    frame.loc[5, ["rt", "choice"]] = [np.nan, -1]
    return read_trials(frame), truths


@pytest.fixture(scope="module")
def serial(selection):
    return fit_exact(selection[0], seed=7, chunk_trials=150, **SHORT)


@pytest.mark.slow
def test_draws_do_not_depend_on_the_number_of_processes(selection, serial):
    parallel = fit_exact(selection[0], seed=7, chunk_trials=150, **(SHORT | {"n_jobs": 2}))
    assert len(serial.chunks) == 3
    np.testing.assert_array_equal(parallel.batch.draws, serial.batch.draws)
    for a, b in zip(parallel.log_likelihood, serial.log_likelihood):
        np.testing.assert_array_equal(a, b)
    other = fit_exact(selection[0], seed=8, chunk_trials=150, **SHORT)
    assert not np.array_equal(other.batch.draws, serial.batch.draws)


def test_pointwise_log_likelihood_is_the_likelihood_of_each_answered_trial(selection, serial):
    trials = selection[0]
    batch = serial.batch
    assert batch.draws.shape == (6, 4, 25, 5) and batch.names == get_model("rlddm").names
    for k, participant in enumerate(trials):
        answered = participant.choice != -1
        values = serial.log_likelihood[k]
        assert values.shape == (100, int(answered.sum()))
        some = batch.draws[k].reshape(-1, 5)[[0, 42, 99]]
        expected = loglik(some, np.where(answered, participant.rt, 0.0), participant.choice,
                          participant.reward, options=participant.options,
                          n_options=participant.n_options)
        np.testing.assert_allclose(values[[0, 42, 99]].sum(axis=1), expected, rtol=1e-10)
    assert serial.log_likelihood[0].shape[1] == 59  # the missed response is not an observation


def test_rt_beyond_the_deadline_names_participant_and_trial(selection):
    frame = selection[0].to_frame()
    # the deadline is on the decision time: 9 s plus ter's prior upper bound (1.5 s)
    frame.loc[frame.index[70], "rt"] = 10.6
    with pytest.raises(DataError, match=r"participant 2, trial 11: rt 10.6 s is beyond the "
                                        r"response deadline max_steps \* dt = 9 s plus the "
                                        r"largest ter allowed \(1.5 s\)"):
        fit_exact(read_trials(frame), **SHORT)


def test_bad_options_raise():
    trials = read_trials(simulate_participants(1, 20, seed=1)[0])
    for option, value, message in (("n_jobs", 0, "n_jobs must be an integer >= 1"),
                                   ("n_chains", 1, "n_chains must be an integer >= 2"),
                                   ("min_ess", "a", "min_ess must be a finite number")):
        with pytest.raises(ValueError, match=message):
            fit_exact(trials, **(SHORT | {option: value}))
    with pytest.raises(ValueError, match="model must be one of"):
        fit_exact(trials, "nope", **SHORT)
    with pytest.raises(ValueError, match="trials must be a TrialData"):
        fit_exact(trials.to_frame(), **SHORT)


def _round_trip(model, theta, seed):
    frame, truths = simulate_participants(N_ROUND_TRIP, 120, theta=theta, model=model,
                                          design="selection", seed=seed)
    fitted = fit_exact(read_trials(frame), model, seed=seed, **ROUND_TRIP)
    spec = get_model(model)
    draws = fitted.batch.draws.reshape(N_ROUND_TRIP, -1, spec.n_free)
    truth = truths[list(spec.names)].to_numpy()
    low, high = np.quantile(draws, [0.025, 0.975], axis=1)
    return truth, low, high, draws.std(axis=1)


@pytest.mark.slow
@pytest.mark.statistical
@pytest.mark.parametrize(("model", "theta"), [
    ("rlddm", None),
    # clearly different learning rates, drift away from 0 so that they are identified
    ("dual_lr", np.column_stack([np.linspace(2, 5, N_ROUND_TRIP), np.full(N_ROUND_TRIP, 1.5),
                                 np.full(N_ROUND_TRIP, 0.5), np.full(N_ROUND_TRIP, 0.3),
                                 np.full(N_ROUND_TRIP, 0.6), np.full(N_ROUND_TRIP, 0.1)])),
])
def test_round_trip_truths_fall_inside_95_percent_intervals(model, theta):
    """Coverage of central 95% intervals over 10 participants x P parameters.

    rlddm: truths from the prior (50 pairs); dual_lr: kappa_pos 0.6, kappa_neg 0.1
    (60 pairs). A calibrated posterior covers each truth with probability 0.95; counting
    the pairs as independent, coverage below 0.85 has probability
    ``binom.cdf(0.85 n - 1, n, 0.95)`` < 0.01 for both, while a sampler that returned
    intervals half as wide would cover about 0.68 and fail. Negative control: truths
    moved by 3 posterior SDs must mostly fall outside (expected coverage about 0.15).
    """
    truth, low, high, sd = _round_trip(model, theta, seed=21)
    inside = (truth >= low) & (truth <= high)
    n = inside.size
    assert stats.binom.cdf(np.ceil(0.85 * n) - 1, n, 0.95) < 0.01
    assert inside.mean() >= 0.85, inside.mean(axis=0)
    shifted = truth + 3 * sd
    assert np.mean((shifted >= low) & (shifted <= high)) < 0.5
