"""Trial tables: layouts and their choice coding, options and conditions, validation messages,
simulate -> CSV -> read."""

import gzip

import numpy as np
import pandas as pd
import pytest

from rlddm.data import (LAYOUTS, DataError, Layout, TrialData, read_trials,
                        simulate_participants, write_trials)

ARRAYS = ("offsets", "trial", "rt", "choice", "reward", "options")

THETA = np.array([[2.0, 1.0, 0.5, 0.3, 0.4],
                  [-1.0, 1.5, 0.6, 0.2, 0.7],
                  [4.0, 0.8, 0.4, 0.4, 0.2]])


def rlddm_frame(**changes) -> pd.DataFrame:
    """Two participants, three trials each, in the "rlddm" layout."""
    frame = pd.DataFrame({
        "participant": ["a", "a", "a", "b", "b", "b"],
        "trial": [1, 2, 3, 1, 2, 3],
        "rt": [0.5, 0.7, 0.6, 0.9, 0.4, 1.1],
        "choice": [0, 1, 0, 1, 1, 0],
        "reward": [1, 0, 1, 0, 1, 1],
    })
    for column, (row, value) in changes.items():
        frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value
    return frame


def write_csv(tmp_path, frame: pd.DataFrame, name: str = "trials.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def assert_same_trials(actual: TrialData, expected: TrialData) -> None:
    assert actual.participants == expected.participants
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(actual, name), getattr(expected, name))
    assert actual.option_labels == expected.option_labels
    assert actual.conditions == expected.conditions


# ---------------------------------------------------------------------------------------
# round trip


def test_simulate_write_read_round_trip(tmp_path):
    trials, truths = simulate_participants(3, 40, theta=THETA, seed=11)
    assert list(trials.columns) == ["participant", "trial", "rt", "choice", "reward"]
    assert list(truths.columns) == ["participant", "drift", "alpha", "beta", "ter", "kappa"]
    np.testing.assert_array_equal(truths.iloc[:, 1:].to_numpy(), THETA)

    from_frame = read_trials(trials)
    path = write_trials(trials, tmp_path / "sim.csv")
    from_file = read_trials(path)
    assert from_file.participants == from_frame.participants == (1, 2, 3)
    assert_same_trials(from_file, from_frame)
    np.testing.assert_array_equal(from_file.rt, trials["rt"].to_numpy())  # bit for bit
    np.testing.assert_array_equal(from_file.choice, trials["choice"].to_numpy())
    assert from_file.choice.dtype == np.int8 and from_file.reward.dtype == np.float64
    assert from_file.options.dtype == np.int32 and from_file.option_labels == ((0, 1),) * 3
    np.testing.assert_array_equal(from_file.options, np.tile([0, 1], (120, 1)))
    # writing the validated data again gives the same file
    again = write_trials(from_file, tmp_path / "again.csv")
    assert again.read_text() == path.read_text()


def test_simulation_matches_rlddm_simulate_and_is_seeded():
    first, _ = simulate_participants(3, 30, theta=THETA, seed=5)
    second, _ = simulate_participants(3, 30, theta=THETA, seed=5)
    pd.testing.assert_frame_equal(first, second)
    assert not first.equals(simulate_participants(3, 30, theta=THETA, seed=6)[0])
    trials, truths = simulate_participants(4, 30, seed=5)
    assert truths.shape == (4, 6) and trials.shape == (120, 5)


def test_different_trial_counts_per_participant(tmp_path):
    trials, _ = simulate_participants(3, [20, 35, 50], theta=THETA, seed=3)
    data = read_trials(write_trials(trials, tmp_path / "ragged.csv"))
    np.testing.assert_array_equal(data.n_trials, [20, 35, 50])
    np.testing.assert_array_equal(data.participant(2).trial, np.arange(1, 36))
    assert [p.n_trials for p in data] == [20, 35, 50]
    # truncation keeps the start of each learning sequence: the first 20 trials agree
    full, _ = simulate_participants(3, 50, theta=THETA, seed=3)
    np.testing.assert_array_equal(data.participant(1).rt, full["rt"].to_numpy()[:20])


def test_missed_responses_are_counted_not_dropped(tmp_path):
    # One Euler step of sd 0.1 must cover 0.33 to answer: p = 0.001 per try, so a trial
    # fails all 1001 tries (missed) with probability 0.37.
    trials, _ = simulate_participants(2, 30, theta=[0.0, 0.66, 0.5, 0.2, 0.5], seed=1,
                                      method="euler", max_steps=1)
    n_missed = int((trials["choice"] == -1).sum())
    assert 0 < n_missed < len(trials)
    path = write_trials(trials, tmp_path / "missed.csv")
    assert ",-1," in path.read_text()  # written as choice -1 with an empty rt
    data = read_trials(path)
    assert data.choice.size == len(trials) and int(data.n_missed.sum()) == n_missed
    assert np.isnan(data.rt[data.choice == -1]).all()
    assert (data.reward[data.choice == -1] == 0).all()
    np.testing.assert_array_equal(data.summary()["n_missed"], data.n_missed)
    with pytest.raises(DataError, match="missed='error'"):
        read_trials(path, missed="error")


def test_missed_flag_column():
    frame = rlddm_frame()
    frame["missed"] = [0, 1, 0, 0, 0, 0]
    frame["rt"] = frame["rt"].astype(object)
    frame.loc[1, ["rt", "choice", "reward"]] = [None, None, None]
    data = read_trials(frame)
    np.testing.assert_array_equal(data.participant("a").choice, [0, -1, 0])
    np.testing.assert_array_equal(data.n_missed, [1, 0])


def test_empty_choice_and_rt_is_a_missed_response():
    frame = rlddm_frame(choice=(4, None), rt=(4, None))
    np.testing.assert_array_equal(read_trials(frame).participant("b").choice, [1, -1, 0])


def test_participant_access_and_iteration():
    data = read_trials(rlddm_frame())
    assert isinstance(data, TrialData) and len(data) == 2
    b = data.participant("b")
    np.testing.assert_array_equal(b.rt, [0.9, 0.4, 1.1])
    np.testing.assert_array_equal(b.reward, [0, 1, 1])
    assert [p.participant for p in data] == ["a", "b"]
    with pytest.raises(KeyError, match="no participant 'c'"):
        data.participant("c")


def test_interleaved_participants_keep_each_participants_order():
    frame = rlddm_frame().iloc[[0, 3, 1, 4, 2, 5]]
    data = read_trials(frame)
    np.testing.assert_array_equal(data.participant("a").rt, [0.5, 0.7, 0.6])
    np.testing.assert_array_equal(data.participant("b").trial, [1, 2, 3])


def test_without_trial_column_row_order_is_trial_order():
    data = read_trials(rlddm_frame().drop(columns="trial"))
    np.testing.assert_array_equal(data.participant("a").trial, [1, 2, 3])
    np.testing.assert_array_equal(data.participant("a").choice, [0, 1, 0])


def test_participant_ids_keep_leading_zeros(tmp_path):
    frame = rlddm_frame()
    frame["participant"] = ["007"] * 3 + ["12"] * 3
    path = tmp_path / "ids.csv"
    frame.to_csv(path, index=False)
    assert read_trials(path).participants == ("007", "12")


def test_csv_with_byte_order_mark(tmp_path):
    path = tmp_path / "excel.csv"
    rlddm_frame().to_csv(path, index=False, encoding="utf-8-sig")
    assert read_trials(path).participants == ("a", "b")


# ---------------------------------------------------------------------------------------
# layouts


def test_hddm_layout_response_1_is_the_upper_boundary():
    frame = pd.DataFrame({
        "subj_idx": [3, 3, 3], "response": [1.0, 0.0, 1.0], "cond": ["AB"] * 3,
        "rt": [0.6, 0.8, 0.7], "trial": [1.0, 2.0, 3.0], "split_by": [0, 0, 0],
        "feedback": [1.0, 0.0, 0.0], "q_init": [0.5] * 3,
    })
    data = read_trials(frame, layout="hddm")
    np.testing.assert_array_equal(data.choice, [0, 1, 0])
    np.testing.assert_array_equal(data.reward, [1, 0, 0])
    assert data.participants == (3,)


def test_hddm_split_by_conditions_keep_separate_options():
    """Issue 11 changed this: several split_by values were rejected, now each is a pair."""
    frame = pd.DataFrame({
        "subj_idx": [1, 1, 1, 1], "response": [1, 0, 1, 0], "rt": [0.6, 0.8, 0.7, 0.5],
        "trial": [1, 1, 2, 2], "split_by": [1, 0, 1, 0], "feedback": [1, 0, 0, 1],
    })
    data = read_trials(frame, layout="hddm")
    # split_by 0 presents options 0 and 1, split_by 1 options 2 and 3; response 1 = option 2c
    np.testing.assert_array_equal(data.options, [[2, 3], [0, 1], [2, 3], [0, 1]])
    np.testing.assert_array_equal(data.choice, [0, 1, 0, 1])
    assert data.conditions == ((0, 1),)
    assert data.option_labels == (("0:upper", "0:lower", "1:upper", "1:lower"),)
    np.testing.assert_array_equal(data.trial, [1, 1, 2, 2])  # numbered within each condition


@pytest.mark.parametrize("lower", [-1, 0])
def test_hssm_layout_maps_1_to_upper_and_minus1_or_0_to_lower(lower):
    frame = pd.DataFrame({
        "participant_id": [0, 0, 0, 0], "trial_id": [0, 1, 2, 3],
        "rt": [0.6, 0.8, 0.7, 0.5], "response": [1, lower, lower, 1], "feedback": [1, 0, 1, 0],
    })
    data = read_trials(frame, layout="hssm")
    np.testing.assert_array_equal(data.choice, [0, 1, 1, 0])
    np.testing.assert_array_equal(data.trial, [0, 1, 2, 3])


def test_simulated_trials_read_the_same_in_every_layout():
    """Recoding rlddm's table by HDDM's and HSSM's conventions must give back the same arrays."""
    trials, _ = simulate_participants(3, 25, theta=THETA, seed=8)
    expected = read_trials(trials)
    upper = trials["choice"] == 0
    hddm = pd.DataFrame({"subj_idx": trials["participant"], "trial": trials["trial"],
                         "rt": trials["rt"], "response": upper.astype(int),
                         "feedback": trials["reward"], "split_by": 0, "q_init": 0.5})
    for lower in (-1, 0):
        hssm = pd.DataFrame({"participant_id": trials["participant"], "trial_id": trials["trial"],
                             "rt": trials["rt"], "response": np.where(upper, 1, lower),
                             "feedback": trials["reward"]})
        for frame, layout in ((hddm, "hddm"), (hssm, "hssm")):
            data = read_trials(frame, layout=layout)
            for name in ("offsets", "trial", "rt", "choice", "reward"):
                np.testing.assert_array_equal(getattr(data, name), getattr(expected, name))


def test_hssm_layout_rejects_mixed_lower_codes():
    frame = pd.DataFrame({
        "participant_id": [0, 0, 0], "rt": [0.6, 0.8, 0.7], "response": [1, -1, 0],
        "feedback": [1, 0, 1],
    })
    with pytest.raises(DataError, match=r"^index 2, column 'response': mixes the codes \[-1, 0\]"):
        read_trials(frame, layout="hssm")


def test_columns_override_and_custom_layout():
    frame = rlddm_frame().rename(columns={"participant": "subj", "rt": "RT_s"})
    data = read_trials(frame, columns={"participant": "subj", "rt": "RT_s"})
    np.testing.assert_array_equal(data.rt, rlddm_frame()["rt"])
    # a trial column can be switched off: row order then decides
    shuffled = rlddm_frame(trial=(1, 9))
    np.testing.assert_array_equal(read_trials(shuffled, columns={"trial": None}).trial,
                                  [1, 2, 3, 1, 2, 3])
    one_two = Layout("one_two", LAYOUTS["rlddm"].columns, {1: 0, 2: 1})
    np.testing.assert_array_equal(read_trials(rlddm_frame().assign(choice=[1, 2, 1, 2, 2, 1]),
                                              layout=one_two).choice, [0, 1, 0, 1, 1, 0])


# ---------------------------------------------------------------------------------------
# validation: every bad input names its row and column


def test_missing_columns_list_present_and_expected_and_suggest_layout(tmp_path):
    frame = pd.DataFrame({"subj_idx": [1, 1], "rt": [0.5, 0.6], "response": [1, 0],
                          "feedback": [1, 0]})
    with pytest.raises(DataError) as error:
        read_trials(write_csv(tmp_path, frame))
    message = str(error.value)
    assert "missing column(s) ['participant', 'choice', 'reward']" in message
    assert "['subj_idx', 'rt', 'response', 'feedback']" in message
    assert "layout='hddm'" in message


def test_misnamed_column_gets_a_suggestion():
    with pytest.raises(DataError, match=r"'rt' may be 'RT' \(pass columns=\{'rt': 'RT'\}\)"):
        read_trials(rlddm_frame().rename(columns={"rt": "RT"}))


def test_semicolon_file_is_recognised(tmp_path):
    path = tmp_path / "semi.csv"
    rlddm_frame().to_csv(path, index=False, sep=";")
    with pytest.raises(DataError, match="does not look comma-separated"):
        read_trials(path)


@pytest.mark.parametrize("text", ["", "participant,trial,rt,choice,reward\n"])
def test_empty_file(tmp_path, text):
    path = tmp_path / "empty.csv"
    path.write_text(text)
    with pytest.raises(DataError, match="empty|no trials"):
        read_trials(path)


@pytest.mark.parametrize("column, row, value, message", [
    ("rt", 2, "fast", r"^line 4, column 'rt': must be a number, got 'fast'$"),
    ("rt", 2, None, r"^line 4, column 'rt': is empty \(only a missed response"),
    ("rt", 2, -0.3, r"^line 4, column 'rt': must be > 0 seconds, got -0.3 \(negative RTs"),
    ("rt", 2, 0.0, r"^line 4, column 'rt': must be > 0 seconds, got 0$"),
    ("rt", 2, -999.0, r"^line 4, column 'rt': .*-999 is HSSM's missing-RT code"),
    ("rt", 2, 31.0, r"^line 4, column 'rt': must be < max_rt = 30 seconds, got 31$"),
    ("rt", 2, 30.0, r"^line 4, column 'rt': must be < max_rt = 30 seconds, got 30 \(an RT at "
                    r"the limit is usually a deadline"),
    ("rt", 2, 650.0, r"^line 4, column 'rt': .*look like milliseconds"),
    ("choice", 4, 2, r"^line 6, column 'choice': must be one of \[0, 1, -1\] .*got 2$"),
    ("choice", 4, "left", r"^line 6, column 'choice': must be a number, got 'left'$"),
    ("reward", 5, "inf", r"^line 7, column 'reward': must be a finite number of magnitude at most "
                         r"8\.98847e\+307, got inf$"),
    ("reward", 5, "-inf", r"^line 7, column 'reward': must be a finite number of magnitude at "
                          r"most 8\.98847e\+307, got -inf$"),
    ("reward", 5, "1,5", r"^line 7, column 'reward': must be a number, got '1,5'$"),
    ("reward", 5, None, r"^line 7, column 'reward': is empty"),
    ("trial", 1, 1, r"^line 3, column 'trial': trial 1 repeats within a participant \(after "
                    r"trial 1 at line 2\)"),
    ("trial", 1, 5, r"^line 4, column 'trial': trial 3 goes backwards within a participant "
                    r"\(after trial 5 at line 3\)"),
    ("trial", 1, 1.5, r"^line 3, column 'trial': must be an integer trial number, got 1.5$"),
    ("trial", 2, 1e19, r"^line 4, column 'trial': must be a trial number of at most 2\*\*53"),
    ("trial", 2, "10000000000000000003", r"^line 4, column 'trial': must be a trial number of "
                                          r"at most 2\*\*53"),
    ("participant", 0, None, r"^line 2, column 'participant': is empty"),
])
def test_bad_value_names_line_and_column(tmp_path, column, row, value, message):
    path = write_csv(tmp_path, rlddm_frame(**{column: (row, value)}))
    with pytest.raises(DataError, match=message) as error:
        read_trials(path)
    assert error.value.column == column
    assert isinstance(error.value, ValueError)


def test_dataframe_errors_name_the_index_label():
    frame = rlddm_frame(rt=(3, -1.0)).set_axis([10, 11, 12, 13, 14, 15])
    with pytest.raises(DataError, match=r"^index 13, column 'rt'") as error:
        read_trials(frame)
    assert error.value.row == 13


def test_errors_count_further_bad_rows(tmp_path):
    frame = rlddm_frame()
    frame["reward"] = [1, np.inf, 1, np.inf, -np.inf, 1]
    with pytest.raises(DataError, match=r"^line 3, .*\(2 more row\(s\) fail this check\)$"):
        read_trials(write_csv(tmp_path, frame))


def test_blank_lines_do_not_shift_line_numbers(tmp_path):
    path = write_csv(tmp_path, rlddm_frame(rt=(4, "x")))
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:3] + [""] + lines[3:]) + "\n\n")
    with pytest.raises(DataError, match="^line 7, column 'rt'"):
        read_trials(path)


def test_rt_without_a_choice_is_an_error():
    with pytest.raises(DataError, match=r"column 'rt': is given but the choice is empty or -1"):
        read_trials(rlddm_frame(choice=(2, -1)))


def test_missed_flag_contradicting_the_choice_is_an_error():
    frame = rlddm_frame(choice=(2, None)).assign(missed=0)
    with pytest.raises(DataError, match=r"column 'choice': is empty or -1 .* 'missed' is 0"):
        read_trials(frame)
    with pytest.raises(DataError, match=r"^index 0, column 'missed': must be 0 or 1$"):
        read_trials(rlddm_frame().assign(missed=[2, 0, 0, 0, 0, 0]))


def test_too_few_trials_and_only_missed_responses():
    with pytest.raises(DataError, match=r"fewer than min_trials = 4 trials: 'a' \(3\), 'b' \(3\)"):
        read_trials(rlddm_frame(), min_trials=4)
    frame = rlddm_frame().assign(missed=[1, 1, 1, 0, 0, 0])
    with pytest.raises(DataError, match=r"participant\(s\) 'a' have only missed responses"):
        read_trials(frame)


def test_trial_range_names_participant_and_count():
    trials, _ = simulate_participants(3, [20, 35, 50], theta=THETA, seed=3)
    assert len(read_trials(trials, trial_range=(20, 50))) == 3
    with pytest.raises(DataError, match=r"range \[30, 60\]: 1 \(20 trials\)"):
        read_trials(trials, trial_range=(30, 60))
    with pytest.raises(DataError, match=r"2 participant\(s\).*1 \(20 trials\), 3 \(50 trials\)"):
        read_trials(trials).check_trial_range((25, 40))


@pytest.mark.parametrize("kwargs, message", [
    ({"layout": "stan"}, "layout must be one of"),
    ({"columns": {"subject": "subj"}}, "unknown role"),
    ({"columns": {"rt": None}}, "required column"),
    ({"missed": "drop"}, "missed must be"),
    ({"max_rt": -1.0}, "max_rt"),
    ({"min_trials": 0}, "min_trials"),
    ({"trial_range": (50, 20)}, "min <= max"),
])
def test_bad_options_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        read_trials(rlddm_frame(), **kwargs)


def test_write_refuses_to_overwrite_and_to_write_invalid_data(tmp_path):
    path = write_trials(rlddm_frame(), tmp_path / "t.csv")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_trials(rlddm_frame(), path)
    write_trials(rlddm_frame(), path, overwrite=True)
    with pytest.raises(DataError):
        write_trials(rlddm_frame(reward=(0, np.inf)), tmp_path / "bad.csv")
    assert not (tmp_path / "bad.csv").exists()


@pytest.mark.parametrize("kwargs, message", [
    ({"n_participants": 0, "n_trials": 10}, "n_participants"),
    ({"n_participants": 2, "n_trials": [10, 0]}, "n_trials"),
    ({"n_participants": 2, "n_trials": [10, 20, 30]}, "n_trials must be one count or 2"),
    ({"n_participants": 2, "n_trials": 10, "theta": THETA}, "theta must have 1 or 2 rows"),
])
def test_bad_simulation_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        simulate_participants(**kwargs)


# ---------------------------------------------------------------------------------------
# presented options and conditions


def options_frame(**changes) -> pd.DataFrame:
    """Two participants presenting labelled options; participant b also has a test trial."""
    frame = rlddm_frame().assign(option0=["B", "A", "C", "high", "high", "low"],
                                 option1=["A", "C", "B", "low", "low", "mid"])
    for column, (row, value) in changes.items():
        frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value
    return frame


def test_option_columns_number_options_in_sorted_label_order(tmp_path):
    data = read_trials(options_frame())
    a, b = data
    assert a.option_labels == ("A", "B", "C") and b.option_labels == ("high", "low", "mid")
    np.testing.assert_array_equal(a.options, [[1, 0], [0, 2], [2, 1]])
    np.testing.assert_array_equal(b.options, [[0, 1], [0, 1], [1, 2]])
    np.testing.assert_array_equal(data.n_options, [3, 3])
    assert data.conditions is None and a.conditions is None
    # choice 0 picks option0: the chosen option of a's first trial (choice 0) is "B"
    assert a.option_labels[a.options[0, a.choice[0]]] == "B"
    assert list(data.summary()["n_options"]) == [3, 3]
    # the written file keeps the labels and reads back the same
    path = write_trials(data, tmp_path / "options.csv")
    assert "option0,option1" in path.read_text().splitlines()[0]
    assert_same_trials(read_trials(path), data)


def test_integer_option_labels_sort_as_numbers(tmp_path):
    frame = rlddm_frame().assign(option0=[10, 2, 10, 1, 1, 1], option1=[2, 10, 9, 0, 0, 0])
    data = read_trials(write_csv(tmp_path, frame))
    assert data.option_labels == ((2, 9, 10), (0, 1))
    np.testing.assert_array_equal(data.participant("a").options, [[2, 0], [0, 2], [2, 1]])


def condition_frame(**columns) -> pd.DataFrame:
    """Two participants, four trials each, with the given extra columns."""
    return pd.DataFrame({
        "participant": ["a"] * 4 + ["b"] * 4,
        "rt": [0.5, 0.7, 0.6, 0.8, 0.9, 0.4, 1.1, 0.6],
        "choice": [0, 1, 0, 0, 1, 1, 0, 1],
        "reward": [1, 0, 1, 1, 0, 1, 1, 0],
        **columns,
    })


def test_condition_column_gives_each_condition_its_own_pair(tmp_path):
    # numbered within each condition, as HDDM does
    frame = condition_frame(condition=["CD", "AB", "CD", "AB", "2", "2", "2", "2"],
                            trial=[1, 1, 2, 2, 1, 2, 3, 4])
    data = read_trials(frame)
    a = data.participant("a")
    assert a.conditions == ("AB", "CD")
    assert a.option_labels == ("AB:upper", "AB:lower", "CD:upper", "CD:lower")
    np.testing.assert_array_equal(a.options, [[2, 3], [0, 1], [2, 3], [0, 1]])
    assert data.participant("b").option_labels == ("2:upper", "2:lower")
    path = write_trials(data, tmp_path / "conditions.csv")
    assert path.read_text().splitlines()[0] == "participant,trial,rt,choice,reward,condition"
    assert_same_trials(read_trials(path), data)


def test_condition_and_option_columns_together(tmp_path):
    frame = condition_frame(condition=["x", "y", "x", "y", "z", "z", "w", "w"],
                            option0=["B", "C", "A", "D", "high", "low", "mid", "top"],
                            option1=["A", "D", "B", "C", "low", "high", "top", "mid"])
    data = read_trials(frame)
    a, b = data
    assert a.option_labels == ("A", "B", "C", "D") and a.conditions == ("x", "y")
    np.testing.assert_array_equal(a.options, [[1, 0], [2, 3], [0, 1], [3, 2]])
    # b: condition w (sorted first) presents mid/top -> 0, 1; condition z high/low -> 2, 3
    assert b.option_labels == ("mid", "top", "high", "low") and b.conditions == ("w", "z")
    np.testing.assert_array_equal(b.options, [[2, 3], [3, 2], [0, 1], [1, 0]])
    path = write_trials(data, tmp_path / "both.csv")
    assert path.read_text().splitlines()[0].endswith("reward,condition,option0,option1")
    assert_same_trials(read_trials(path), data)


def test_trial_without_feedback_needs_option_columns(tmp_path):
    data = read_trials(options_frame(reward=(5, None)))
    b = data.participant("b")
    assert np.isnan(b.reward[2]) and not np.isnan(b.reward[:2]).any()
    path = write_trials(data, tmp_path / "test_phase.csv")
    assert path.read_text().splitlines()[-1].endswith(",0,,low,mid")
    assert_same_trials(read_trials(path), data)
    # with options 0/1 only the option columns must still be written for the empty reward
    binary = read_trials(rlddm_frame(reward=(1, None)).assign(option0=0, option1=1))
    assert_same_trials(read_trials(write_trials(binary, tmp_path / "binary.csv")), binary)
    with pytest.raises(DataError, match=r"^line 7, column 'reward': is empty .*option0 and "
                                        r"option1 columns an empty reward marks a trial without"):
        read_trials(write_csv(tmp_path, rlddm_frame(reward=(5, None))))


def test_real_valued_rewards(tmp_path):
    frame = rlddm_frame().assign(reward=[0.25, -1.5, 3.0, 0.0, 1e-3, 12.75])
    data = read_trials(write_csv(tmp_path, frame))
    np.testing.assert_array_equal(data.reward, frame["reward"])


@pytest.mark.parametrize("frame, message", [
    (options_frame(option1=(1, "A")),
     r"^line 3, column 'option1': names option 'A', as column 'option0' does; a trial presents "
     r"two different options$"),
    (options_frame(option0=(4, None)),
     r"^line 6, column 'option0': is empty; every trial needs the two options it presents$"),
    (options_frame(option1=(4, "  ")),
     r"^line 6, column 'option1': is empty"),
    (options_frame().drop(columns="option1"),
     r"column 'option0' names one presented option but there is no column 'option1'"),
    (condition_frame(condition=["x"] * 4 + ["y"] * 4, option0=["B", "A", "A", "B"] + ["u"] * 4,
                     option1=["A", "C", "B", "A"] + ["v"] * 4),
     r"^line 3, column 'option0': participant 'a', condition 'x': presents 'A' and 'C', but 'B' "
     r"and 'A' at line 2; a condition presents one pair"),
    (condition_frame(condition=["x", "y", "x", "y"] + ["y"] * 4,
                     option0=["B", "A", "A", "C"] + ["u"] * 4, option1=["A", "C", "B", "A"] + ["v"] * 4),
     r"^line 3, column 'option0': participant 'a': option 'A' is presented in conditions 'x' "
     r"and 'y'; conditions present disjoint pairs"),
    (rlddm_frame().assign(condition=["x", "x", "q", "y", "y", "y"]),
     r"^line 4, column 'condition': condition 'q' of participant 'a' has a single trial"),
    (rlddm_frame().assign(condition=["x", None, "x", "y", "y", "y"]),
     r"^line 3, column 'condition': is empty; every trial needs its condition"),
])
def test_inconsistent_options_and_conditions(tmp_path, frame, message):
    with pytest.raises(DataError, match=message):
        read_trials(write_csv(tmp_path, frame))


def test_hddm_layout_empty_split_by_cell(tmp_path):
    """Was an IndexError; now the line and column."""
    path = tmp_path / "hddm.csv"
    path.write_text("subj_idx,response,rt,trial,split_by,feedback\n"
                    "1,1,0.6,1,0,1\n1,0,0.7,2,,0\n1,1,0.8,3,0,1\n")
    with pytest.raises(DataError, match=r"^line 3, column 'split_by': is empty") as error:
        read_trials(path, layout="hddm")
    assert error.value.row == 3


def test_hddm_selection_task_file(tmp_path):
    """Invented trials in the shape of HDDM's RL tutorial data (hddm/examples/rlddm_data.csv):
    trials numbered within each split_by condition, conditions interleaved, gaps where trials
    were dropped, a participant without one condition, floats in response and feedback, RTs
    just above 0.2 s, extra columns (cond, q_init)."""
    path = tmp_path / "rlddm_data.csv"
    path.write_text(
        "subj_idx,response,cond,rt,trial,split_by,feedback,q_init\n"
        "42,0.0,CD,1.1,1.0,1,0.0,0.5\n"
        "42,1.0,EF,0.8,1.0,2,0.0,0.5\n"
        "42,1.0,AB,0.6,1.0,0,1.0,0.5\n"
        "42,1.0,AB,0.7,2.0,0,1.0,0.5\n"
        "42,0.0,EF,0.9,2.0,2,1.0,0.5\n"
        "42,1.0,CD,0.5,2.0,1,0.0,0.5\n"
        "42,1.0,AB,0.4,4.0,0,1.0,0.5\n"
        "42,0.0,EF,0.201,4.0,2,1.0,0.5\n"
        "43,1.0,AB,1.9,1.0,0,0.0,0.5\n"
        "43,1.0,EF,3.7,1.0,2,0.0,0.5\n"
        "43,0.0,AB,3.3,2.0,0,0.0,0.5\n"
        "43,0.0,EF,5.2,3.0,2,0.0,0.5\n")
    data = read_trials(path, layout="hddm")
    assert data.participants == (42, 43) and list(data.n_trials) == [8, 4]
    assert data.conditions == ((0, 1, 2), (0, 2))
    first = data.participant(42)
    np.testing.assert_array_equal(first.trial, [1, 1, 1, 2, 2, 2, 4, 4])
    np.testing.assert_array_equal(first.options[:, 0], [2, 4, 0, 0, 4, 2, 0, 4])
    np.testing.assert_array_equal(first.choice, [1, 0, 0, 0, 1, 0, 0, 1])
    # participant 43 saw two conditions: they are its options 0..3
    np.testing.assert_array_equal(data.participant(43).options[:, 0], [0, 2, 0, 2])
    # a trial number that repeats within a condition is still an error
    text = path.read_text().replace("42,1.0,AB,0.4,4.0", "42,1.0,AB,0.4,2.0")
    path.write_text(text)
    with pytest.raises(DataError, match=r"^line 8, column 'trial': trial 2 repeats within a "
                                        r"participant's condition \(after trial 2 at line 5\)"):
        read_trials(path, layout="hddm")


def test_unreadable_files_name_the_path(tmp_path):
    with pytest.raises(DataError, match=r"missing\.csv: no such file"):
        read_trials(tmp_path / "missing.csv")
    with pytest.raises(DataError, match=r"is a directory, not a CSV file"):
        read_trials(tmp_path)
    plain = tmp_path / "plain.csv.gz"
    plain.write_text(rlddm_frame().to_csv(index=False))
    with pytest.raises(DataError, match=r"plain\.csv\.gz could not be read \(a name ending in "
                                        r"'\.gz' makes pandas decompress"):
        read_trials(plain)
    packed = tmp_path / "packed.csv.gz"
    with gzip.open(packed, "wt") as handle:
        rlddm_frame().to_csv(handle, index=False)
    assert read_trials(packed).participants == ("a", "b")


def test_rts_at_max_rt_are_refused():
    frame = rlddm_frame().assign(rt=[2.5] * 6)
    with pytest.raises(DataError, match=r"^index 0, column 'rt': must be < max_rt = 2.5 seconds, "
                                        r"got 2.5 \(an RT at the limit .*\(5 more row"):
        read_trials(frame, max_rt=2.5)
    assert len(read_trials(frame, max_rt=2.51)) == 2


def test_only_missed_responses_names_the_first_line(tmp_path):
    frame = rlddm_frame().assign(missed=[0, 0, 0, 1, 1, 1])
    with pytest.raises(DataError, match=r"participant\(s\) 'b' have only missed responses \(the "
                                        r"first participant's trials start at line 5\)") as error:
        read_trials(write_csv(tmp_path, frame))
    assert error.value.row == 5


# ---------------------------------------------------------------------------------------
# simulating other models and designs


def test_simulate_selection_design_writes_the_options(tmp_path):
    trials, truths = simulate_participants(2, design="selection", seed=4)
    assert list(trials.columns) == ["participant", "trial", "rt", "choice", "reward", "option0",
                                    "option1"]
    assert trials.shape[0] == 240
    assert set(zip(trials["option0"], trials["option1"])) == {("A", "B"), ("C", "D"), ("E", "F")}
    data = read_trials(write_trials(trials, tmp_path / "selection.csv"))
    assert data.option_labels == (tuple("ABCDEF"),) * 2
    assert_same_trials(data, read_trials(trials))
    counts = trials.groupby(["participant", "option0"]).size()
    assert (counts == 40).all() and len(counts) == 6  # 40 presentations of each pair


def test_simulate_test_phase_without_feedback(tmp_path):
    trials, _ = simulate_participants(1, design="selection_test", seed=2)
    assert len(trials) == 168
    answered = trials["choice"] != -1
    assert trials["reward"][:120][answered[:120]].notna().all()
    assert trials["reward"][120:][answered[120:]].isna().all()
    data = read_trials(write_trials(trials, tmp_path / "test.csv"))
    assert np.isnan(data.reward[120:][data.choice[120:] != -1]).all()
    with pytest.raises(ValueError, match="cannot rescale design 'selection_test'"):
        simulate_participants(1, 100, design="selection_test", seed=2)


def test_simulate_another_model():
    trials, truths = simulate_participants(3, 20, model="dual_lr", seed=1)
    assert list(truths.columns) == ["participant", "drift", "alpha", "beta", "ter", "kappa_pos",
                                    "kappa_neg"]
    with pytest.raises(ValueError, match="dual_lr"):
        simulate_participants(2, 20, model="dual_lr", theta=THETA[:2])


# ---------------------------------------------------------------------------------------
# writing HDDMrl's layout


def test_selection_trials_written_in_hddm_layout_read_back_with_the_same_likelihood(tmp_path):
    """Three disjoint pairs become split_by 0, 1, 2 (AB, CD, EF); response 1 = option 0."""
    from rlddm.likelihood import loglik

    frame, truths = simulate_participants(3, 60, design="selection", model="dual_lr", seed=1)
    trials = read_trials(frame)
    path = write_trials(trials, tmp_path / "hddm.csv", layout="hddm")
    written = pd.read_csv(path)
    assert list(written.columns) == ["subj_idx", "trial", "rt", "response", "feedback",
                                     "split_by", "q_init"]
    pairs = frame["option0"] + frame["option1"]
    assert dict(zip(pairs, written["split_by"])) == {"AB": 0, "CD": 1, "EF": 2}
    np.testing.assert_array_equal(written["response"], 1 - frame["choice"])
    back = read_trials(path, layout="hddm")
    for k, (original, read) in enumerate(zip(trials, back)):
        theta = truths.iloc[k][["drift", "alpha", "beta", "ter", "kappa_pos",
                                "kappa_neg"]].to_numpy(float)
        assert loglik(theta, read.rt, read.choice, read.reward, model="dual_lr",
                      options=read.options, n_options=6) == \
            loglik(theta, original.rt, original.choice, original.reward, model="dual_lr",
                   options=original.options, n_options=6)


def test_hddm_layout_keeps_missed_responses_and_read_conditions():
    frame = rlddm_frame(choice=(1, -1), rt=(1, np.nan))
    frame["condition"] = ["x", "x", "x", "y", "y", "y"]
    trials = read_trials(frame)
    written = trials.to_frame("hddm")
    assert written["response"].isna().tolist() == [False, True, False, False, False, False]
    assert written["split_by"].tolist() == ["x", "x", "x", "y", "y", "y"]
    back = read_trials(written, layout="hddm")
    np.testing.assert_array_equal(back.choice, trials.choice)
    np.testing.assert_array_equal(back.options, trials.options)


def test_hddm_layout_refuses_what_it_cannot_hold():
    """The selection task's test phase pairs A with D etc. (options in two pairs), and has no
    feedback: HDDMrl's split_by holds neither."""
    frame, _ = simulate_participants(1, 168, design="selection_test", seed=2)
    with pytest.raises(ValueError, match=r"participant 1 has trials without feedback"):
        read_trials(frame).to_frame("hddm")
    frame["reward"] = frame["reward"].fillna(0.0)
    with pytest.raises(ValueError, match=r"participant 1 is shown options in pairs that share"):
        read_trials(frame).to_frame("hddm")
    with pytest.raises(ValueError, match=r"layout must be 'rlddm' or 'hddm', got 'hssm'"):
        read_trials(frame).to_frame("hssm")
