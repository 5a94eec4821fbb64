"""Trial tables: layouts and their choice coding, validation messages, simulate -> CSV -> read."""

import numpy as np
import pandas as pd
import pytest

from rlddm.data import (LAYOUTS, DataError, Layout, TrialData, read_trials,
                        simulate_participants, write_trials)

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
    for name in ("offsets", "trial", "rt", "choice", "reward"):
        np.testing.assert_array_equal(getattr(from_file, name), getattr(from_frame, name))
    np.testing.assert_array_equal(from_file.rt, trials["rt"].to_numpy())  # bit for bit
    np.testing.assert_array_equal(from_file.choice, trials["choice"].to_numpy())
    assert from_file.choice.dtype == np.int8 and from_file.reward.dtype == np.int8
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


def test_hddm_layout_rejects_several_conditions_per_participant():
    frame = pd.DataFrame({
        "subj_idx": [1, 1, 1, 1], "response": [1, 0, 1, 0], "rt": [0.6, 0.8, 0.7, 0.5],
        "trial": [1, 1, 2, 2], "split_by": [0, 1, 0, 1], "feedback": [1, 0, 0, 1],
    })
    with pytest.raises(DataError, match=r"^index 1, column 'split_by': participant 1 has 2 "
                                        r"conditions \[0, 1\]") as error:
        read_trials(frame, layout="hddm")
    assert error.value.row == 1 and error.value.column == "split_by"


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
    ("rt", 2, 31.0, r"^line 4, column 'rt': must be <= max_rt = 30 seconds, got 31$"),
    ("rt", 2, 650.0, r"^line 4, column 'rt': .*look like milliseconds"),
    ("choice", 4, 2, r"^line 6, column 'choice': must be one of \[0, 1, -1\] .*got 2$"),
    ("choice", 4, "left", r"^line 6, column 'choice': must be a number, got 'left'$"),
    ("reward", 5, 0.5, r"^line 7, column 'reward': must be 0 or 1, got 0.5$"),
    ("reward", 5, None, r"^line 7, column 'reward': is empty"),
    ("trial", 1, 1, r"^line 3, column 'trial': trial 1 repeats within a participant \(after "
                    r"trial 1 at line 2\)"),
    ("trial", 1, 5, r"^line 4, column 'trial': trial 3 goes backwards within a participant "
                    r"\(after trial 5 at line 3\)"),
    ("trial", 1, 1.5, r"^line 3, column 'trial': must be an integer trial number, got 1.5$"),
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
    frame["reward"] = [1, 2, 1, 2, 2, 1]
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
        write_trials(rlddm_frame(reward=(0, 3)), tmp_path / "bad.csv")
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
