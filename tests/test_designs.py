"""Task designs: counts per pair, trial order, reversals, no-feedback phases, rewards, files."""

import math

import numpy as np
import pytest

import rlddm
from rlddm.designs import (Option, Phase, TaskDesign, get_design, list_designs, load_design,
                           save_design)

# A design with a test phase of novel pairings, as a design file is written by hand.
SELECTION_WITH_TEST = """\
kind = "task"
name = "selection with test"
q0 = 0.5

[options]
A = { p = 0.8 }
B = { p = 0.2 }
C = { p = 0.7 }
D = { p = 0.3 }

[[phases]]
name = "training"
pairs = [["A", "B"], ["C", "D"]]
count = 20

[[phases]]
name = "test"
pairs = [["A", "C"], ["A", "D"], ["B", "C"], ["B", "D"]]
count = 3
feedback = false
"""


def two_pairs(**phase) -> TaskDesign:
    options = (Option("good", 0.9), Option("bad", 0.1), Option("big", mean=2.0, sd=0.5),
               Option("small", mean=-1.0, sd=0.25))
    return TaskDesign(options, (Phase((("good", "bad"), ("big", "small")), **phase),))


def test_named_designs():
    assert list_designs() == ("reversal", "selection", "selection_test")
    assert get_design("reversal") == rlddm.ReversalDesign()
    selection = get_design("selection")
    assert selection.n_trials == 120 and selection.n_options == 6
    assert selection.option_names == tuple("ABCDEF")
    assert selection.pairs == ((0, 1), (2, 3), (4, 5))
    assert [o.p for o in selection.options] == [0.8, 0.2, 0.7, 0.3, 0.6, 0.4]
    test = get_design("selection_test")
    assert test.n_trials == 120 + 12 * 4 and not test.phases[1].feedback
    assert len(test.pairs) == 15  # the three training pairs and the twelve novel ones
    design = two_pairs(count=5)
    assert get_design(design) is design
    with pytest.raises(ValueError, match=r"design must be one of \['reversal', 'selection'"):
        get_design("bandit")


def test_selection_counts_per_pair_and_interleaving():
    outcomes, options = get_design("selection").sample(50, seed=1)
    assert outcomes.shape == options.shape == (50, 120, 2)
    assert outcomes.dtype == np.float64 and options.dtype == np.int32
    first = options[..., 0]
    for option in (0, 2, 4):
        assert ((first == option).sum(axis=1) == 40).all()
    np.testing.assert_array_equal(options[..., 1], first + 1)  # pairs keep their order
    # interleaved: the first 12 trials show all three pairs in most data sets, and the
    # orders differ between data sets
    assert np.mean([len(set(row[:12])) == 3 for row in first]) > 0.9
    assert len({tuple(row) for row in first}) == 50
    _, rescaled = get_design("selection").sample(4, n_trials=360, seed=1)
    assert rescaled.shape == (4, 360, 2) and ((rescaled[..., 0] == 2).sum(axis=1) == 120).all()


def test_rescaling_rounds_up_per_pair_then_truncates():
    _, options = get_design("selection").sample(3, n_trials=100, seed=2)
    assert options.shape == (3, 100, 2)
    assert ((options[..., 0] == 0).sum(axis=1) <= math.ceil(100 / 3)).all()
    _, blocked = two_pairs(count=5, order="blocked").sample(2, n_trials=7, seed=0)
    np.testing.assert_array_equal(blocked[0, :, 0], [0, 0, 0, 0, 2, 2, 2])


def test_blocked_order():
    _, options = two_pairs(count=6, order="blocked").sample(3, seed=0)
    expected = np.repeat([[0, 1], [2, 3]], 6, axis=0)
    for data_set in options:
        np.testing.assert_array_equal(data_set, expected)


def test_reversals_swap_a_pairs_distributions_every_n_presentations():
    design = TaskDesign((Option("A", 1.0), Option("B", 0.0), Option("C", 1.0), Option("D", 0.0)),
                        (Phase((("A", "B"), ("C", "D")), 30, reversal_every=10),))
    outcomes, options = design.sample(20, seed=3)
    for pair in (0, 2):
        shown = options[..., 0] == pair
        per_pair = outcomes[shown].reshape(20, 30, 2)  # each pair's trials, in order
        expected = np.repeat([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]], 10, axis=0)
        for data_set in per_pair:
            np.testing.assert_array_equal(data_set, expected)


def test_reversal_design_schedule_matches_sample():
    design = rlddm.ReversalDesign()
    outcomes, options = design.schedule(6, n_trials=30, seed=9)
    np.testing.assert_array_equal(outcomes, design.sample(6, n_trials=30, seed=9))
    assert outcomes.dtype == np.float64 and options.dtype == np.int32
    np.testing.assert_array_equal(options, np.tile([0, 1], (6, 30, 1)))
    assert design.n_options == 2 and design.pairs == ((0, 1),) and design.q0 == 0.5


def test_no_feedback_phase_gives_nan_outcomes():
    outcomes, options = get_design("selection_test").sample(10, seed=4)
    assert not np.isnan(outcomes[:, :120]).any()
    assert np.isnan(outcomes[:, 120:]).all()
    test_pairs = {tuple(pair) for pair in options[:, 120:].reshape(-1, 2).tolist()}
    assert len(test_pairs) == 12 and not test_pairs & {(0, 1), (2, 3), (4, 5)}


@pytest.mark.statistical
def test_reward_frequencies_and_means():
    """4000 data sets x 20 presentations per pair: 80,000 draws per option. The Bernoulli
    frequency's SE is at most sqrt(.09 / 80000) = 0.0011 and the normal mean's SE is
    0.5 / sqrt(80000) = 0.0018 (0.0009 for sd .25): a tolerance of 0.01 is over 5 SE."""
    design = two_pairs(count=20)
    outcomes, options = design.sample(4000, seed=5)
    for k, option in enumerate(design.options):
        values = outcomes[options == k]
        assert values.size == 80_000
        np.testing.assert_allclose(values.mean(), option.expected, atol=0.01)
        if option.p is None:
            np.testing.assert_allclose(values.std(), option.sd, rtol=0.02)
        else:
            assert set(np.unique(values)) == {0.0, 1.0}
    # negative control: the means are told apart at this tolerance
    assert abs(outcomes[options == 2].mean() - 2.05) > 0.01


def test_seeds_are_reproducible():
    design = get_design("selection_test")
    first = design.sample(5, seed=7)
    for a, b in zip(first, design.sample(5, seed=7)):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[1], design.sample(5, seed=8)[1])
    rng = np.random.default_rng(7)
    assert not np.array_equal(design.sample(5, seed=rng)[1], design.sample(5, seed=rng)[1])
    # schedule is the same method under the name ReversalDesign shares
    np.testing.assert_array_equal(design.schedule(5, seed=7)[1], first[1])


def test_multi_phase_design_refuses_another_trial_count():
    design = get_design("selection_test")
    assert design.sample(1, n_trials=168, seed=0)[0].shape == (1, 168, 2)
    with pytest.raises(ValueError, match=r"n_trials = 100 cannot rescale design "
                                         r"'selection_test': it has 2 phases \(168 trials\)"):
        design.sample(1, n_trials=100)
    with pytest.raises(ValueError, match="n must be"):
        design.sample(0)


@pytest.mark.parametrize("name", list_designs())
def test_toml_round_trip_of_every_named_design(tmp_path, name):
    design = get_design(name)
    path = save_design(design, tmp_path / f"{name}.toml")
    assert load_design(path) == design
    assert get_design(path) == design and get_design(str(path)) == design
    assert type(design).load(path) == design
    with pytest.raises(FileExistsError, match="overwrite=True"):
        design.save(path)
    design.save(path, overwrite=True)


def test_hand_written_design_with_a_test_phase(tmp_path):
    path = tmp_path / "selection_with_test.toml"
    path.write_text(SELECTION_WITH_TEST)
    design = TaskDesign.load(path)
    assert design.n_trials == 40 + 12 and design.name == "selection with test"
    assert design.phases[0].order == "interleaved" and design.phases[1].feedback is False
    outcomes, _ = design.sample(2, seed=0)
    assert np.isnan(outcomes[:, 40:]).all() and not np.isnan(outcomes[:, :40]).any()
    real = TaskDesign((Option("x", mean=0.5, sd=1.0), Option("y", 0.3)), (Phase([("x", "y")], 2),),
                      q0=0.0, description='quotes " and \\ and unicode \u00e9')
    assert load_design(save_design(real, tmp_path / "real.toml")) == real
    with pytest.raises(ValueError, match="kind is 'task', not 'reversal'"):
        rlddm.ReversalDesign.load(path)


def edit(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


@pytest.mark.parametrize("old, new, message", [
    ('kind = "task"\n', "", r"kind is missing"),
    ('kind = "task"', 'kind = "bandit"', r"kind must be 'task' or 'reversal', got 'bandit'"),
    ("count = 20\n", "", r"phases\[0\]\.count is missing \(a required field\)"),
    ("count = 20", 'count = "20"', r"phases\[0\]\.count must be an integer >= 1, got '20'"),
    ("count = 20", "count = 2.5", r"phases\[0\]\.count must be an integer >= 1, got 2\.5"),
    ("count = 20", "cout = 20", r"phases\[0\]\.count is missing"),
    ("count = 3", "count = 3\ncout = 3", r"phases\[1\]\.cout is not a field; fields are"),
    ("feedback = false", 'feedback = "no"', r"phases\[1\]\.feedback must be true or false"),
    ('["C", "D"]]', '["C", "G"]]', r"phases\[0\]\.pairs\[1\] names unknown option 'G'; options "
                                   r"are \['A', 'B', 'C', 'D'\]"),
    ('["A", "C"]', '["A", "A"]', r"phases\[1\]\.pairs\[0\] names option 'A' twice"),
    ('["A", "C"]', '["A", "C", "D"]', r"phases\[1\]\.pairs\[0\] must be two option names"),
    ("A = { p = 0.8 }", "A = { p = 1.8 }", r"options\.A\.p must be in \[0, 1\], got 1\.8"),
    ("A = { p = 0.8 }", 'A = { p = "high" }', r"options\.A\.p must be a finite number, got "
                                                r"'high'"),
    ("A = { p = 0.8 }", "A = { mean = 1.0 }", r"options\.A\.sd is missing"),
    ("A = { p = 0.8 }", "A = { p = 0.8, sd = 1 }", r"options\.A\.p: option 'A' gives p and a "
                                                    r"normal reward"),
    ("A = { p = 0.8 }", "A = { q = 0.8 }", r"options\.A\.q is not a field; fields are \['p', "),
    ("q0 = 0.5", "q0 = nan", r"q0 must be a finite number, got nan"),
    ('name = "training"', 'name = "training"\norder = "random"', r"phases\[0\]\.order must be one of \['interleaved', "
                                            r"'blocked'\], got 'random'"),
    ("count = 20", "count = 20 count", r"is not a valid TOML design file"),
])
def test_bad_design_files_name_the_file_and_field(tmp_path, old, new, message):
    path = tmp_path / "bad.toml"
    path.write_text(edit(SELECTION_WITH_TEST, old, new))
    with pytest.raises(ValueError, match=message) as error:
        load_design(path)
    assert str(error.value).startswith(str(path))


def test_bad_reversal_files_and_missing_file(tmp_path):
    path = tmp_path / "reversal.toml"
    text = rlddm.ReversalDesign().save(path).read_text()
    assert 'kind = "reversal"' in text
    path.write_text(edit(text, "reversal_every = 12\n", ""))
    with pytest.raises(ValueError, match=r"reversal\.toml: reversal_every is missing"):
        rlddm.ReversalDesign.load(path)
    path.write_text(edit(text, "[0.8, 0.2]", '["0.8", "0.2"]'))
    with pytest.raises(ValueError, match=r"reward_probabilities must be a list of two numbers"):
        load_design(path)
    with pytest.raises(ValueError, match=r"nowhere\.toml: no such design file"):
        get_design(tmp_path / "nowhere.toml")
    with pytest.raises(ValueError, match="reward_probabilities"):
        rlddm.ReversalDesign(("0.8", "0.2"))


@pytest.mark.parametrize("build, message", [
    (lambda: Option("A"), "mean is missing"),
    (lambda: Option("", 0.5), "name must be a non-empty string"),
    (lambda: Option("A", mean=0.0, sd=-1.0), "sd must be >= 0"),
    (lambda: Phase((), 5), "pairs must be a non-empty list"),
    (lambda: Phase((("A", "B"), ("A", "B")), 5), r"pairs\[1\] repeats pair \['A', 'B'\]"),
    (lambda: Phase((("A", "B"),), 0), "count must be an integer >= 1"),
    (lambda: Phase((("A", "B"),), 5, reversal_every=-1), "reversal_every must be"),
    (lambda: TaskDesign((Option("A", 0.5),), (Phase((("A", "A"),), 1),)), "twice"),
    (lambda: TaskDesign((Option("A", 0.5),), ()), "at least two options"),
    (lambda: TaskDesign((Option("A", 0.5), Option("A", 0.2)), ()), r"names \['A'\] more than"),
    (lambda: TaskDesign((Option("A", 0.5), Option("B", 0.2)), ()), "at least one phase"),
    (lambda: TaskDesign([{"name": "A"}], ()), "options must be a sequence of Option"),
])
def test_bad_designs_in_python(build, message):
    with pytest.raises(ValueError, match=message):
        build()
