"""Generated inputs at the public boundaries: every outcome is a result or a ValueError that names
the argument, line or column, never another exception, a NaN where a number is promised, or a
partial result.

The hypothesis profile (``tests/conftest.py``) fixes the examples per test and derandomises them;
``HYPOTHESIS_PROFILE=rlddm-deep`` runs many more. The regression tests at the end keep one case
of each failure class the fuzzing passes found.
"""

import csv
import io
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from rlddm import simulate
from rlddm.data import LAYOUTS, DataError, read_trials
from rlddm.designs import get_design
from rlddm.likelihood import loglik, loglik_batch, loglik_trials
from rlddm.model import MODELS, get_model
from rlddm.priors import Prior

MODEL_NAMES = tuple(MODELS)

# Values a caller may pass where a number is expected, valid or not.
ODD_SCALARS = [10**400, -10**400, 2**64, 2**31, True, False, None, "0.5", "", 1 + 2j, [0.5],
               np.array(0.5), np.float32(0.5), np.int64(3), np.nan, np.inf, -np.inf]
EDGE_FLOATS = [0.0, -0.0, 5e-324, -5e-324, 1e-300, 1e300, -1e300, 1.7976931348623157e308,
               np.inf, -np.inf, np.nan, 1 - 1e-16, 1e-16, 0.5, 1.0, 2.0**53]


def result_or_named_error(call, names):
    """``call()``'s result, or None after a ValueError whose message names one of ``names``."""
    try:
        result = call()
    except ValueError as error:
        message = str(error)
        assert any(name in message for name in names), (
            f"a ValueError should name one of {sorted(names)}, got: {message}")
        event("ValueError")
        return None
    event("result")
    return result


def odd(strategy):
    """``strategy``, or one of the values a caller may pass by mistake."""
    return st.one_of(strategy, st.sampled_from(ODD_SCALARS))


def draw_arguments(data, valid, broken_by):
    """Keyword arguments: each from ``valid``, except at most two (or none) from ``broken_by``,
    so that a third of the examples are wholly valid and reach the result checks."""
    broken = data.draw(st.sets(st.sampled_from(sorted(broken_by)), max_size=2), label="broken")
    return {name: data.draw(broken_by[name] if name in broken else strategy, label=name)
            for name, strategy in valid.items()}


def parameter_value(parameter):
    """Values in the parameter's support: inside, and its bounds and edge floats that lie in it."""
    low = None if math.isinf(parameter.lower) else parameter.lower
    high = None if math.isinf(parameter.upper) else parameter.upper
    inside = st.floats(low if low is not None else -50.0, high if high is not None else 50.0,
                       exclude_min=parameter.lower_open, exclude_max=parameter.upper_open)
    edges = [x for x in [parameter.lower, parameter.upper] + EDGE_FLOATS
             if np.isfinite(x) and parameter.contains(np.array(x))]
    return st.one_of(inside, inside, inside, st.sampled_from(edges))


@st.composite
def theta_arrays(draw, spec, form="rows", max_rows=3):
    """Parameter rows of ``spec`` in the support; ``form`` other than "rows" breaks them."""
    rows = draw(st.integers(1, max_rows))
    cells = [[draw(parameter_value(p)) for p in spec.free_parameters] for _ in range(rows)]
    if form == "odd":
        form = draw(st.sampled_from(["outside", "wrong_width", "object", "text", "empty",
                                     "ragged"]))
    if form == "vector":
        return np.array(cells[0])
    if form == "outside":
        cells[0][draw(st.integers(0, spec.n_free - 1))] = draw(st.sampled_from(EDGE_FLOATS))
    if form == "wrong_width":
        return np.array(cells)[:, :-1]
    if form == "object":
        cells[0][draw(st.integers(0, spec.n_free - 1))] = draw(st.sampled_from(ODD_SCALARS))
        return cells
    if form == "ragged":
        cells[0] = cells[0][:-1]
        return cells
    if form == "text":
        return np.array(cells).astype(str)
    if form == "empty":
        return np.empty((0, spec.n_free))
    return np.array(cells)


def seeds():
    return st.one_of(st.none(), st.integers(0, 2**130), st.just(10**400), st.just(np.int64(4)),
                     st.just(np.random.SeedSequence(3)),
                     st.builds(np.random.default_rng, st.integers(0, 10)),
                     st.builds(np.random.Philox, st.integers(0, 10)))


ODD_SEEDS = st.sampled_from([-1, 1.5, 2.0, "7", True, [1, 2], np.float64(3.0), np.array([1])])


# ---------------------------------------------------------------------------------------
# simulate


@st.composite
def outcome_arrays(draw, n_trials, broken=False):
    batched = draw(st.booleans())
    shape = ((draw(st.integers(1, 2)),) if batched else ()) + (n_trials, 2)
    valid = st.one_of(st.sampled_from([0.0, 1.0, np.nan]), st.floats(-5, 5),
                      st.sampled_from([x for x in EDGE_FLOATS if not np.isinf(x)]))
    values = st.one_of(valid, st.sampled_from([np.inf, -np.inf])) if broken else valid
    array = np.array(draw(st.lists(values, min_size=int(np.prod(shape)),
                                   max_size=int(np.prod(shape))))).reshape(shape)
    forms = [array, array[..., :1], array.astype(str), array[None, None]] if broken else [array]
    if (np.abs(np.nan_to_num(array)) < 2**62).all() and not np.isnan(array).any():
        forms.append(array.astype(np.int64))
    return draw(st.sampled_from(forms))


@st.composite
def option_arrays(draw, n_trials, broken=False):
    if not broken and draw(st.booleans()):
        return None
    pairs = draw(st.lists(st.lists(st.integers(0, 4), min_size=2, max_size=2, unique=True),
                          min_size=n_trials, max_size=n_trials))
    array = np.array(pairs)
    if broken:
        array = draw(st.sampled_from([array.astype(float), -array, np.zeros_like(array),
                                      array[:-1], array + 2**40, array.astype(str)]))
    return array


@given(data=st.data(), model=st.sampled_from(MODEL_NAMES), n_trials=st.integers(1, 8))
def test_simulate_returns_whole_results_or_names_the_argument(data, model, n_trials):
    spec = get_model(model)
    valid = dict(
        theta=st.sampled_from(["rows", "vector"]).flatmap(lambda form: theta_arrays(spec, form)),
        outcomes=outcome_arrays(n_trials),
        options=option_arrays(n_trials),
        n_options=st.one_of(st.none(), st.integers(5, 7)),
        q0=st.floats(-2, 2),
        dt=st.floats(1e-4, 0.1) | st.sampled_from([5e-324, 1e-300, 1.0]),
        max_steps=st.integers(1, 1500),
        max_retries=st.integers(0, 3),
        seed=seeds(),
        n_threads=st.sampled_from([None, 1, 2, 100000, 2**40]),
        return_q=st.sampled_from([False, True, np.bool_(True)]),
        method=st.sampled_from(["euler", "exact"]),
        first_index=st.sampled_from([0, 5, 2**64 - 10]),
    )
    broken_by = dict(
        theta=theta_arrays(spec, "odd"),
        outcomes=outcome_arrays(n_trials, broken=True),
        options=option_arrays(n_trials, broken=True),
        n_options=st.sampled_from([0, 1, 2, 2**31, 10**400, 2.0, True]),
        q0=st.sampled_from(ODD_SCALARS),
        dt=odd(st.sampled_from([0.0, -0.01, 1e300])),
        max_steps=odd(st.sampled_from([0, -1, 2**31, 1.5])),
        max_retries=odd(st.sampled_from([-1, 2**31])),
        seed=ODD_SEEDS,
        n_threads=st.sampled_from([0, -1, 1.0, True, "2"]),
        return_q=st.sampled_from([1, "yes", None]),
        method=st.sampled_from(["EXACT", "", None, 1]),
        first_index=st.sampled_from([2**64, -1, 1.5]),
    )
    kwargs = draw_arguments(data, valid, broken_by)
    result = result_or_named_error(lambda: simulate(model=model, **kwargs), {"model", *kwargs})
    if result is None:
        return
    n_sets = result.rt.shape[0]
    assert result.rt.shape == result.choice.shape == result.reward.shape == (n_sets, n_trials)
    assert np.isin(result.choice, (-1, 0, 1)).all()
    answered = result.choice != -1
    assert (np.isfinite(result.rt[answered]) & (result.rt[answered] >= 0)).all()
    assert np.isnan(result.rt[~answered]).all()
    assert not np.isinf(result.reward).any()
    assert (result.retries >= 0).all() and (result.retries <= kwargs["max_retries"]).all()
    if kwargs["return_q"]:
        assert np.isfinite(result.q).all()


# ---------------------------------------------------------------------------------------
# likelihood


def trial_values(n_trials, values):
    return st.lists(values, min_size=n_trials, max_size=n_trials).map(np.array)


@given(data=st.data(), model=st.sampled_from(MODEL_NAMES), n_trials=st.integers(1, 8))
def test_loglik_is_a_number_or_names_the_argument(data, model, n_trials):
    spec = get_model(model)
    finite = [x for x in EDGE_FLOATS if np.isfinite(x)]
    valid = dict(
        theta=st.sampled_from(["rows", "vector"]).flatmap(lambda form: theta_arrays(spec, form)),
        rt=trial_values(n_trials, st.floats(0.01, 5.0) | st.sampled_from(finite)),
        choice=trial_values(n_trials, st.sampled_from([0, 1, 1, 0, -1])),
        reward=trial_values(n_trials, st.sampled_from([0.0, 1.0, np.nan]) | st.sampled_from(finite)),
        options=option_arrays(n_trials),
        n_options=st.one_of(st.none(), st.integers(5, 7)),
        q0=st.floats(-2, 2),
        dt=st.floats(1e-4, 0.1) | st.sampled_from([5e-324, 1.0]),
        max_steps=st.integers(1, 2**31 - 1),
    )
    broken_by = dict(
        theta=theta_arrays(spec, "odd"),
        rt=trial_values(n_trials, st.sampled_from([np.nan, np.inf, -np.inf, 0.5])),
        choice=trial_values(n_trials, st.sampled_from([2, 0.5, np.nan, -2, 0])),
        reward=trial_values(n_trials, st.sampled_from([np.inf, -np.inf, 1.0])),
        options=option_arrays(n_trials, broken=True),
        n_options=st.sampled_from([1, 2, 10**400, 2.0]),
        q0=st.sampled_from(ODD_SCALARS),
        dt=odd(st.sampled_from([0.0, -1.0, 1e300])),
        max_steps=odd(st.sampled_from([0, 2**31, 1.5])),
    )
    kwargs = draw_arguments(data, valid, broken_by)
    kwargs["model"] = model
    total = result_or_named_error(lambda: loglik(**kwargs), set(kwargs))
    if total is None:
        return
    total = np.atleast_1d(total)
    assert not np.isnan(total).any() and not (total == np.inf).any(), total
    # the per-trial terms and the batch form are the same likelihood
    per_trial = np.atleast_2d(loglik_trials(**kwargs))
    np.testing.assert_allclose(per_trial.sum(axis=-1), total, rtol=1e-12)
    batched = {name: np.asarray(kwargs[name])[None] for name in ("rt", "choice", "reward")}
    batched["theta"] = np.atleast_2d(kwargs["theta"])[None]
    batch = loglik_batch(**(kwargs | batched))
    np.testing.assert_array_equal(batch[0], total)


# ---------------------------------------------------------------------------------------
# priors


@st.composite
def prior_inputs(draw, width):
    shape = draw(st.sampled_from([(width,), (2, width), (2, 1, width), (width + 1,), ()]))
    values = draw(st.lists(st.one_of(st.floats(-3, 3), st.floats(0, 1),
                                     st.sampled_from(EDGE_FLOATS)),
                           min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
    array = np.array(values, dtype=float).reshape(shape)
    return draw(st.sampled_from([array, array, array.tolist(), array.astype(str)]))


@given(data=st.data(), model=st.sampled_from(MODEL_NAMES),
       method=st.sampled_from(["log_prob", "to_unbounded", "from_unbounded",
                               "log_abs_det_jacobian", "log_prob_unbounded"]))
def test_prior_maps_are_numbers_or_name_the_argument(data, model, method):
    priors = get_model(model).priors()
    values = data.draw(prior_inputs(len(priors)), label="values")
    out = result_or_named_error(lambda: getattr(priors, method)(values), {"theta", "z"})
    if out is None:
        return
    assert not np.isnan(out).any(), out
    if method in ("log_prob", "log_prob_unbounded"):
        assert not (out == np.inf).any(), out
    if method == "from_unbounded":
        assert ((out >= priors.lower) & (out <= priors.upper)).all(), out
    if method == "to_unbounded":
        finite = np.isfinite(out).all(axis=-1)
        np.testing.assert_allclose(priors.from_unbounded(out[finite]),
                                   np.asarray(values, dtype=float)[finite], rtol=1e-6, atol=1e-9)


@given(model=st.sampled_from(MODEL_NAMES),
       n=st.sampled_from([1, 2, 7, 0, -1, 2.0, True, "3", 10**400, None]), seed=seeds())
def test_prior_samples_lie_in_the_support_or_name_the_argument(model, n, seed):
    priors = get_model(model).priors()
    draws = result_or_named_error(lambda: priors.sample(n, seed=seed), {"n", "seed"})
    if draws is None:
        return
    assert draws.shape == (n, len(priors))
    assert np.isfinite(draws).all() and ((draws >= priors.lower) & (draws <= priors.upper)).all()


@given(data=st.data(), family=st.sampled_from(["normal", "beta", "uniform"]))
def test_prior_constructors_give_usable_priors_or_name_the_argument(data, family):
    edges = odd(st.sampled_from(EDGE_FLOATS))
    valid = dict(first=st.floats(-5, 5) if family == "normal" else st.floats(0.1, 5),
                 second=st.floats(0.1, 5), lower=st.floats(-5, 0),
                 upper=st.floats(0.5, 5) | st.just(np.inf) if family == "normal"
                 else st.floats(0.5, 5))
    kwargs = draw_arguments(data, valid, dict.fromkeys(valid, edges))
    args, lower, upper = (kwargs["first"], kwargs["second"]), kwargs["lower"], kwargs["upper"]

    def build():
        if family == "normal":
            return Prior.normal(*args, lower=lower, upper=upper)
        if family == "beta":
            return Prior.beta(*args, lower=lower, upper=upper)
        return Prior.uniform(lower, upper)

    prior = result_or_named_error(build, {"loc", "scale", "lower", "upper", "argument",
                                          "bounds", "mass", family})
    if prior is None:
        return
    draws = prior.sample(64, np.random.default_rng(0))
    assert np.isfinite(draws).all() and (draws >= prior.lower).all() and (draws <= prior.upper).all()
    assert np.isfinite(prior.mean) and np.isfinite(prior.std) and prior.std >= 0
    assert prior.lower <= prior.mean <= prior.upper


# ---------------------------------------------------------------------------------------
# trial tables


JUNK_CELLS = ["", " ", "nan", "NaN", "NA", "null", "inf", "-inf", "Infinity", "-1", "0", "-0",
              "1e400", "-1e400", "1e19", "9223372036854775808", "5e-324", "abc", "1,5",
              " 0.5 ", "0x10", "\uff11", "\u0663", "True", "30", "30.0", "-999", "2.5e", "\u00bd",
              "0.7\u00a0", "2", "0.5"]
ODD_IDS = ["007", " a ", "a", "\u00e4", "\u03a91", "\u2003b", "b\t", "1.0", "-0", "", "p,1",
           'q"1', "\U0001f600", "nan", "1e3", "7"]


def ids():
    return st.one_of(st.integers(-3, 50).map(str), st.sampled_from(ODD_IDS),
                     st.text(min_size=1, max_size=4))


@st.composite
def trial_tables(draw):
    """A CSV text (and its layout) from a valid table with some of its columns and cells broken."""
    layout = LAYOUTS[draw(st.sampled_from(list(LAYOUTS)))]
    names = layout.columns
    n_participants = draw(st.integers(1, 3))
    participants = draw(st.lists(ids(), min_size=n_participants, max_size=n_participants))
    with_trial = draw(st.booleans())
    with_options = layout.name == "rlddm" and draw(st.booleans())
    with_condition = names.get("condition") is not None and draw(st.booleans())
    with_missed = draw(st.booleans()) and draw(st.booleans())
    upper = next(code for code, choice in layout.choice_codes.items() if choice == 0)
    lower = draw(st.sampled_from([c for c, choice in layout.choice_codes.items() if choice == 1]))
    header = [names["participant"]] + ([names["trial"]] if with_trial else []) + [
        names["rt"], names["choice"], names["reward"]]
    header += ["option0", "option1"] if with_options else []
    header += [names["condition"]] if with_condition else []
    header += [names["missed"]] if with_missed else []
    rows = []
    for participant in participants:
        n_trials = draw(st.integers(2, 6))
        for trial in range(1, n_trials + 1):
            missed = draw(st.integers(0, 9)) == 0
            row = [participant] + ([str(trial)] if with_trial else []) + [
                "" if missed and not with_missed else repr(draw(st.floats(0.05, 3.0))),
                "" if missed and not with_missed else str(draw(st.sampled_from([upper, lower]))),
                draw(st.sampled_from(["0", "1", "0.25", ""] if with_options else ["0", "1"]))]
            if with_options:
                row += draw(st.lists(st.sampled_from(["x", "y", "z", "7"]), min_size=2,
                                     max_size=2, unique=True))
            if with_condition:  # two conditions alternate when each gets two trials
                row.append(draw(st.sampled_from([["A", "B"], [" A", "3"]]))[trial % 2]
                           if n_trials >= 4 else "A")
            if with_missed:
                row.append("1" if missed else "0")
            rows.append(row)
    table = [header] + rows
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2, 3]))):
        line = draw(st.integers(0, len(table) - 1))
        column = draw(st.integers(0, len(header) - 1))
        table[line][column] = draw(st.one_of(st.sampled_from(JUNK_CELLS), st.text(max_size=3)))
    mutation = draw(st.sampled_from(["none"] * 8 + ["drop", "duplicate", "rename", "reorder",
                                     "shuffle", "repeat_row", "blank_line", "bom", "semicolon"]))
    if mutation in ("drop", "duplicate", "rename", "reorder"):
        column = draw(st.integers(0, len(header) - 1))
        for row in table:
            if mutation == "drop":
                del row[column]
            elif mutation == "duplicate":
                row.append(row[column])
        if mutation == "rename":
            table[0][column] = draw(st.sampled_from([table[0][column].upper(),
                                                     f" {table[0][column]}", "rt", "choice",
                                                     table[0][column][:-1] or "x"]))
        if mutation == "reorder":
            permutation = draw(st.permutations(range(len(header))))
            table = [[row[i] for i in permutation] for row in table]
    elif mutation == "shuffle" and len(table) > 2:
        table = [table[0]] + draw(st.permutations(table[1:]))
    elif mutation == "repeat_row" and len(table) > 1:
        table.append(list(table[draw(st.integers(1, len(table) - 1))]))
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";" if mutation == "semicolon" else ",",
               lineterminator="\n").writerows(table)
    text = buffer.getvalue()
    if mutation == "blank_line":
        lines = text.split("\n")
        lines.insert(draw(st.integers(1, len(lines))), "")
        text = "\n".join(lines)
    if mutation == "bom":
        text = "\ufeff" + text
    return layout.name, text


def check_trial_data(trials, max_rt):
    """What a TrialData promises: whole, consistent, finite where it says so."""
    n = trials.choice.size
    assert trials.offsets[0] == 0 and trials.offsets[-1] == n and (np.diff(trials.offsets) >= 1).all()
    assert len(set(trials.participants)) == len(trials.participants)
    assert trials.trial.dtype == np.int64 and trials.trial.shape == (n,)
    assert np.isin(trials.choice, (-1, 0, 1)).all()
    answered = trials.choice != -1
    rt = trials.rt[answered]
    assert (np.isfinite(rt) & (rt > 0) & (rt < max_rt)).all()
    assert np.isnan(trials.rt[~answered]).all() and (trials.reward[~answered] == 0).all()
    assert not np.isinf(trials.reward).any()
    assert (trials.options[:, 0] != trials.options[:, 1]).all()
    for participant in trials:
        assert (participant.options >= 0).all()
        assert (participant.options < participant.n_options).all()
        assert participant.n_missed < participant.n_trials


@given(table=trial_tables(), max_rt=st.sampled_from([30.0, 2.0]))
def test_read_trials_gives_valid_trials_or_names_line_or_column(table, max_rt, tmp_path_factory):
    layout, text = table
    path = tmp_path_factory.getbasetemp() / "fuzzed.csv"
    path.write_text(text, encoding="utf-8")
    try:
        trials = read_trials(path, layout=layout, max_rt=max_rt)
    except DataError as error:
        assert error.row is not None or error.column is not None or str(path) in str(error), \
            str(error)
        event("DataError")
        return
    event("result")
    check_trial_data(trials, max_rt)
    # what was read reads back the same from rlddm's own layout
    again = read_trials(trials.to_frame(), max_rt=max_rt)
    assert again.participants == trials.participants
    for name in ("offsets", "trial", "rt", "choice", "reward", "options"):
        np.testing.assert_array_equal(getattr(again, name), getattr(trials, name))


@given(cells=st.lists(st.one_of(st.floats(allow_nan=True), st.integers(-2**70, 2**70),
                                st.sampled_from([10**400, None, True, "0.5", "x", b"1", 1 + 1j,
                                                 pd.NA, pd.NaT])),
                      min_size=3, max_size=3),
       column=st.sampled_from(["participant", "trial", "rt", "choice", "reward"]),
       row=st.integers(0, 3))
def test_read_trials_from_a_dataframe_of_python_objects(cells, column, row):
    frame = pd.DataFrame({"participant": ["a", "a", "b", "b"], "trial": [1, 2, 1, 2],
                          "rt": [0.5, 0.6, 0.7, 0.8], "choice": [0, 1, 1, 0],
                          "reward": [1, 0, 1, 1]}).astype(object)
    for value in cells:
        frame.at[row, column] = value
    try:
        trials = read_trials(frame)
    except DataError as error:
        assert error.column is not None or error.row is not None, str(error)
        event("DataError")
        return
    event("result")
    check_trial_data(trials, 30.0)


# ---------------------------------------------------------------------------------------
# regression tests: one per failure class the fuzzing passes found (others live beside the
# module they concern: test_likelihood for beta = 5e-324 and alpha = 1e300, test_data for the
# trial number 1e19, the empty split_by cell, missing files, directories and plain *.gz files)


def test_n_threads_beyond_the_machine_is_capped(outcomes):
    theta = [2.0, 1.0, 0.5, 0.3, 0.5]
    many = simulate(theta, outcomes[0], seed=3, n_threads=100000)
    one = simulate(theta, outcomes[0], seed=3, n_threads=1)
    np.testing.assert_array_equal(many.rt, one.rt)


@pytest.mark.parametrize("seed", [1.5, "7", True, [1, 2], -1, np.float64(2.0)])
def test_odd_seeds_name_the_seed(seed, outcomes):
    """Floats, strings and sequences gave NumPy's TypeError, or were read as entropy."""
    with pytest.raises(ValueError, match="seed must be"):
        simulate([2.0, 1.0, 0.5, 0.3, 0.5], outcomes[0], seed=seed)
    with pytest.raises(ValueError, match="seed must be"):
        get_model().priors().sample(3, seed=seed)
    with pytest.raises(ValueError, match="seed must be"):
        get_design("selection").schedule(2, seed=seed)


def test_huge_seed_is_a_seed():
    priors = get_model().priors()
    np.testing.assert_array_equal(priors.sample(2, seed=10**400), priors.sample(2, seed=10**400))


@pytest.mark.parametrize("name", ["dt", "max_steps", "q0", "max_retries"])
@pytest.mark.parametrize("value", [10**400, "1", 1 + 2j])
def test_odd_numbers_name_the_argument(name, value, outcomes):
    with pytest.raises(ValueError, match=name):
        simulate([2.0, 1.0, 0.5, 0.3, 0.5], outcomes[0], **{name: value})


def test_ragged_theta_names_theta(outcomes):
    with pytest.raises(ValueError, match="theta must be a real numeric array"):
        simulate([[2.0, 1.0, 0.5, 0.3, 0.5], [2.0, 1.0, 0.5]], outcomes[0])


def test_allocations_are_bounded_before_they_start():
    theta = np.tile([2.0, 1.0, 0.5, 0.3, 0.5], (10**6, 1))
    with pytest.raises(ValueError, match="GiB"):
        simulate(theta, np.zeros((10**4, 2)))
    rt, choice = np.full(10**4, 0.5), np.zeros(10**4)
    with pytest.raises(ValueError, match=r"likelihood of 1000000 parameter row\(s\).* GiB"):
        loglik(theta, rt, choice, choice)
    with pytest.raises(ValueError, match=r"10000000000 draws of 5 parameters would take .* GiB"):
        get_model().priors().sample(10**10)
    with pytest.raises(ValueError, match="GiB"):
        get_model().priors().sample(10**400)


def test_rewards_near_the_float_range_are_refused():
    """Rewards of +-1.7e308 made a prediction error overflow: Q = -inf, loglik NaN."""
    reward = np.array([1.7e308, -1.7e308, 1.0])
    with pytest.raises(ValueError, match=r"reward must be a finite number of magnitude at most "
                                         r"8.98847e\+307.*got 1.7e\+308 at index \(0,\)"):
        loglik([1.0, 1.0, 0.5, 0.2, 1.0], np.full(3, 0.5), np.zeros(3), reward)
    with pytest.raises(ValueError, match="q0 must be at most"):
        loglik([1.0, 1.0, 0.5, 0.2, 1.0], np.full(3, 0.5), np.zeros(3), np.ones(3), q0=1e308)
    frame = pd.DataFrame({"participant": [1, 1], "rt": [0.5, 0.6], "choice": [0, 1],
                          "reward": [1.0, -1e308]})
    with pytest.raises(DataError, match=r"index 1, column 'reward': must be a finite number of "
                                        r"magnitude at most"):
        read_trials(frame)


def test_simulated_outcomes_near_the_float_range_are_refused():
    """Outcomes of +-1.7e308 made Q = -inf and the drift NaN."""
    outcomes = np.array([[1.7e308, 0.0], [-1.7e308, 0.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match="outcomes"):
        simulate([0.0, 1.0, 0.5, 0.2, 1.0], outcomes, seed=1)


def test_exact_method_with_a_huge_boundary_answers_with_a_number_or_misses():
    """alpha = 1e200 overflowed alpha**2 in the exact sampler: answered trials with rt NaN."""
    result = simulate([0.0, 1e200, 1e-200, 0.0, 0.0], np.zeros((3, 2)), method="exact", seed=1)
    answered = result.choice != -1
    assert np.isfinite(result.rt[answered]).all()


def test_prior_arguments_of_odd_types_name_the_argument():
    for make, message in [
        (lambda: Prior.normal(0.0, ""), "the normal prior's scale must be a finite number"),
        (lambda: Prior.normal(0.0, 1.0, upper=None), "the normal prior's upper bound must be"),
        (lambda: Prior.normal(10**400, 1.0), "the normal prior's loc must be a finite number"),
        (lambda: Prior.normal(0.0, 1e300), r"the normal prior's scale must be in \[1e-100"),
        (lambda: Prior.beta(1e-166, 5e-324), r"the beta prior's a must be in \[1e-100"),
    ]:
        with pytest.raises(ValueError, match=message):
            make()


def test_prior_draws_stay_inside_bounds_after_rounding():
    """-1 + 1.0 * (1 - 1e-17) rounds to 0.0, beyond an upper bound of -5e-324."""
    prior = Prior.beta(1.0, 0.125, lower=-1.0, upper=-5e-324)
    assert prior.sample(10_000, np.random.default_rng(0)).max() <= -5e-324
    assert prior.from_unbounded(np.array([40.0])).max() <= -5e-324


def test_a_replayed_drift_near_the_float_range_gives_no_nan():
    """A reward of 1e300 learned at rate 1 made the drift 1e300: the large-time series of
    P(response by t_max) went to +2e299 in log space (s**2 capped below s), loglik NaN."""
    reward = np.array([0.0, 1e300, 0.0])
    total = loglik([1.0, 1.0, 0.25, 0.0, 1.0, 0.0], np.ones(3), np.zeros(3), reward,
                   model="dual_lr", q0=0.0, dt=0.09375, max_steps=11)
    assert total == -np.inf


@pytest.mark.parametrize("loc", [0.0, 0.5, 2.0**31])
def test_a_normal_much_wider_than_its_window_has_the_windows_moments(loc):
    """SciPy's truncnorm gave SD NaN and mean 512 for N(0, 2**31) on [0, 1]: flat there."""
    prior = Prior.normal(loc, 2.0**31, lower=0.0, upper=1.0)
    assert prior.mean == pytest.approx(0.5, abs=1e-9)
    assert prior.std == pytest.approx(1 / math.sqrt(12), rel=1e-9)


def test_prior_maps_refuse_what_has_no_image():
    """to_unbounded gave NaN outside the support; z = inf gave log_prob_unbounded NaN."""
    priors = get_model().priors()
    with pytest.raises(ValueError, match=r"theta: kappa must lie in its prior's support"):
        priors.to_unbounded([0.0, 1.0, 0.5, 0.3, 2.0])
    with pytest.raises(ValueError, match=r"z: drift must be finite, got inf"):
        priors.log_prob_unbounded([np.inf, 0.0, 0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match=r"theta must be a real numeric array, got dtype <U"):
        priors.log_prob(np.array(["0"] * 5))


@pytest.mark.parametrize("participant", ["\u00b2", "\u0663"])
def test_ids_of_non_ascii_digits_stay_text(participant, tmp_path):
    """"\u00b2".isdigit() is true but int() refuses it: read_trials raised int()'s ValueError."""
    path = tmp_path / "ids.csv"
    path.write_text(f"participant,rt,choice,reward\n{participant},0.5,0,1\n{participant},0.6,1,0\n",
                    encoding="utf-8")
    assert read_trials(path).participants == (participant,)


@pytest.mark.parametrize("value", [10**400, 1 + 1j, b"1"])
def test_dataframe_cells_that_are_no_real_numbers_name_the_cell(value):
    """A Python int beyond the float range gave OverflowError; complex values lost their
    imaginary part, bytes were read as numbers."""
    frame = pd.DataFrame({"participant": ["a", "a"], "trial": [1, 2], "rt": [0.5, 0.6],
                          "choice": [0, 1], "reward": [1, 0]}).astype(object)
    frame.at[1, "trial"] = value
    with pytest.raises(DataError, match=r"index 1, column 'trial': must be"):
        read_trials(frame)


def test_rts_at_max_rt_are_refused_by_name(tmp_path):
    """Participants whose RTs all equal max_rt passed, and got infinite posterior draws."""
    path = tmp_path / "deadline.csv"
    path.write_text("participant,rt,choice,reward\n1,30,0,1\n1,30,1,0\n1,30.0,0,1\n")
    with pytest.raises(DataError, match=r"line 2, column 'rt': must be < max_rt = 30 seconds.*"
                                        r"mark those trials missed"):
        read_trials(path)
