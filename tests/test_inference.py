"""Tests of rlddm.inference: simulator, adapter, options that take effect, save/load, resume, errors.

Trainings here are a few steps on tiny networks (seconds); long trainings belong to `rlddm train`.
"""

import io
import json
import zipfile

import numpy as np
import pytest

import h5py
import bayesflow as bf
import keras

import rlddm
import rlddm.inference as inf
from rlddm.likelihood import loglik
from rlddm.likelihood.trials import _check_trials, _replay
from rlddm.model import get_model
from rlddm.priors import DEFAULT_PRIORS, Prior


class StepCounter(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.steps = 0
        self.epochs = 0

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1

    def on_epoch_end(self, epoch, logs=None):
        self.epochs += 1


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_network):
    directory = tmp_path_factory.mktemp("run")
    config = inf.InferenceConfig(min_trials=20, max_trials=40, **tiny_network)
    counter = StepCounter()
    posterior = inf.train(config, directory, verbose=0, callbacks=[counter])
    return posterior, directory, counter


def observed(n=3, n_trials=30, seed=0):
    rng = np.random.default_rng(seed)
    result = rlddm.simulate(DEFAULT_PRIORS.sample(n, seed=rng),
                            rlddm.ReversalDesign().sample(n, n_trials=n_trials, seed=rng), seed=rng)
    return result.rt, result.choice, result.reward


@pytest.mark.slow
def test_options_take_effect(trained):
    # epochs and batches_per_epoch reach Keras (bayesflow drops unknown keywords silently)
    _, directory, counter = trained
    assert (counter.epochs, counter.steps) == (2, 6)
    timing = json.loads((directory / "timing.json").read_text())
    assert timing["steps"] == 6
    assert timing["backend"] == keras.backend.backend()


def test_simulator_batches_have_one_trial_count(tiny_network):
    config = inf.InferenceConfig(min_trials=10, max_trials=50, **tiny_network)
    simulator = inf.RLDDMSimulator(config, seed=1)
    counts = {simulator.sample(4)["trials"].shape[1] for _ in range(30)}
    assert len(counts) > 5 and min(counts) >= 10 and max(counts) <= 50
    batch = simulator.sample((4,))
    assert batch["trials"].shape[::2] == (4, len(inf.FEATURE_SETS[config.features]))
    assert batch["n_trials"].shape == (4, 1)
    assert batch["statistics"].shape == (4, len(inf.STATISTIC_NAMES))
    assert all(batch[name].shape == (4, 1) for name in DEFAULT_PRIORS.names)


def test_simulator_is_seeded_and_resumable(tiny_network):
    config = inf.InferenceConfig(**tiny_network)
    a, b = inf.RLDDMSimulator(config, seed=3), inf.RLDDMSimulator(config, seed=3)
    np.testing.assert_array_equal(a.sample(5)["trials"], b.sample(5)["trials"])
    state = json.loads(json.dumps(a.get_state()))
    expected = a.sample(5)["trials"]
    b.set_state(state)
    np.testing.assert_array_equal(b.sample(5)["trials"], expected)


def test_network_never_sees_counterfactual_outcomes():
    theta = DEFAULT_PRIORS.sample(6, seed=1)
    outcomes = rlddm.ReversalDesign().sample(6, seed=2)
    first = rlddm.simulate(theta, outcomes, seed=3)
    flipped = outcomes.copy()
    rows, trials = np.indices(first.choice.shape)
    unchosen = 1 - first.choice
    flipped[rows, trials, unchosen] = 1 - flipped[rows, trials, unchosen]
    second = rlddm.simulate(theta, flipped, seed=3)
    design = rlddm.ReversalDesign()
    a = inf.encode_trials(first.rt, first.choice, first.reward, design, 60)
    b = inf.encode_trials(second.rt, second.choice, second.reward, design, 60)
    assert sorted(a) == ["n_trials", "statistics", "trials"]
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    # negative control: flipping the chosen arm's outcomes does change the input
    flipped[rows, trials, first.choice] = 1 - flipped[rows, trials, first.choice]
    third = rlddm.simulate(theta, flipped, seed=3)
    c = inf.encode_trials(third.rt, third.choice, third.reward, design, 60)
    assert not np.array_equal(a["trials"], c["trials"])
    assert not np.array_equal(a["statistics"], c["statistics"])


@pytest.mark.parametrize("ter_below_fastest_rt", [True, False])
def test_adapter_uses_the_priors_bijection(ter_below_fastest_rt, tiny_network):
    priors = DEFAULT_PRIORS.replace(drift=Prior.normal(0.0, 2.0, lower=0.0))
    config = inf.InferenceConfig(priors=priors, ter_below_fastest_rt=ter_below_fastest_rt,
                                 **tiny_network)
    data = inf.RLDDMSimulator(config, seed=4).sample(50)
    theta = np.column_stack([data[name][:, 0] for name in priors.names])
    adapter = inf.build_adapter(priors, config.features, ter_below_fastest_rt)
    adapted = adapter(data)
    assert sorted(adapted) == ["inference_conditions", "inference_variables", "summary_variables"]
    np.testing.assert_array_equal(adapted["inference_conditions"],
                                  np.concatenate([data["n_trials"], data["statistics"]], axis=1))
    expected = priors.to_unbounded(theta)
    if ter_below_fastest_rt:
        expected[:, 3] = data[inf.TER_NETWORK_NAME][:, 0]
    np.testing.assert_allclose(adapted["inference_variables"], expected, rtol=1e-6, atol=1e-6)
    back = adapter({"inference_variables": adapted["inference_variables"]}, inverse=True,
                   strict=False)
    names = [inf.TER_NETWORK_NAME if name == "ter" and ter_below_fastest_rt else name
             for name in priors.names]
    np.testing.assert_allclose(np.column_stack([back[n][:, 0] for n in names]),
                               np.where(np.arange(5) == 3, expected, theta) if ter_below_fastest_rt
                               else theta, rtol=1e-5)


def test_ter_below_fastest_rt_round_trip_and_bounds():
    priors = DEFAULT_PRIORS
    fastest = np.array([0.2, 0.9, 2.0])  # the last one is above the prior's upper bound 1.5
    ter = np.array([0.15, 0.3, 1.2])
    z = inf.ter_to_network(ter, fastest, priors)
    np.testing.assert_allclose(inf.ter_from_network(z, fastest, priors), ter, rtol=1e-12)
    # log of the gap to the fastest response when ter is close to it
    close = inf.ter_to_network(0.2 - 1e-4, 0.2, priors)
    assert close == pytest.approx(np.log(1e-4 / 0.2), abs=1e-3)
    extremes = inf.ter_from_network(np.array([-40.0, 0.0, 40.0]), fastest, priors)
    assert np.all(extremes >= 0) and np.all(extremes <= np.minimum(fastest, 1.5))


@pytest.mark.slow
@pytest.mark.parametrize("n_trials", [20, 33, 40])
def test_sample_shapes_and_support(trained, n_trials):
    posterior, _, _ = trained
    rt, choice, reward = observed(n_trials=n_trials)
    draws = posterior.sample(rt, choice, reward, n_samples=15, seed=1)
    assert draws.shape == (3, 15, 5)
    assert np.all(np.isfinite(draws))
    assert np.all((draws >= DEFAULT_PRIORS.lower) & (draws <= DEFAULT_PRIORS.upper))
    assert np.all(draws[:, :, 3] < rt.min(axis=1)[:, None])  # ter below the fastest response


@pytest.mark.slow
def test_save_load_gives_same_draws(trained, recwarn):
    posterior, directory, _ = trained
    loaded = inf.AmortizedPosterior.load(directory)
    assert not [w for w in recwarn if "optimizer" in str(w.message)]
    with zipfile.ZipFile(directory / "approximator.keras") as archive:
        weights = h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r")
        stored = []
        weights.visititems(lambda name, item: stored.append(name)
                           if isinstance(item, h5py.Dataset) else None)
    assert stored and not [name for name in stored if name.startswith("optimizer")]
    assert loaded.config == posterior.config
    assert isinstance(loaded.approximator.summary_network, inf.SetSummary)  # the default
    data = observed()
    np.testing.assert_allclose(loaded.sample(*data, n_samples=10, seed=7),
                               posterior.sample(*data, n_samples=10, seed=7), rtol=1e-6)


@pytest.mark.slow
def test_loaded_model_refuses_other_design_and_lengths(trained):
    posterior, _, _ = trained
    with pytest.raises(ValueError, match="trained on"):
        posterior.sample(*observed(), design=rlddm.ReversalDesign(reversal_every=10))
    with pytest.raises(ValueError, match="trained on 20 to 40"):
        posterior.sample(*observed(n_trials=60))


@pytest.mark.slow
def test_missed_responses_are_refused(trained):
    posterior, _, _ = trained
    rt, choice, reward = observed()
    choice = choice.copy()
    choice[1, 4] = -1
    with pytest.raises(ValueError, match=r"choice must be 0 or 1 \(missed.*row 1, trial 4"):
        posterior.sample(rt, choice, reward)


@pytest.mark.slow
def test_resume_after_interruption(tmp_path, tiny_network):
    config = inf.InferenceConfig(**(tiny_network | {"epochs": 3}))

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        inf.train(config, tmp_path, verbose=0, callbacks=[Interrupt()])
    counter = StepCounter()
    posterior = inf.train(config, tmp_path, verbose=0, callbacks=[counter])
    assert counter.epochs == 2  # epochs 1 and 2 only
    assert int(keras.ops.convert_to_numpy(posterior.approximator.optimizer.iterations)) == 9
    assert not (tmp_path / "backup").exists()


@pytest.mark.slow
def test_rerun_on_a_finished_run_trains_nothing(trained):
    posterior, directory, _ = trained
    model_bytes = (directory / "approximator.keras").read_bytes()
    counter = StepCounter()
    again = inf.train(posterior.config, directory, verbose=0, callbacks=[counter])
    assert counter.steps == 0
    assert (directory / "approximator.keras").read_bytes() == model_bytes
    data = observed()
    np.testing.assert_allclose(again.sample(*data, n_samples=5, seed=3),
                               posterior.sample(*data, n_samples=5, seed=3), rtol=1e-6)


@pytest.mark.slow
def test_run_folder_with_other_config_is_refused(trained, tiny_network):
    _, directory, _ = trained
    with pytest.raises(ValueError, match="another configuration"):
        inf.train(inf.InferenceConfig(**(tiny_network | {"epochs": 5})), directory, verbose=0)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"min_trials": 0}, "min_trials must be an integer >= 1, got 0"),
        ({"min_trials": 50, "max_trials": 40}, "max_trials must be >= min_trials"),
        ({"summary_network": "transformer"}, "summary_network must be one of"),
        ({"inference_network": "flow"}, "inference_network must be one of"),
        ({"learning_rate": -1.0}, "learning_rate must be > 0"),
        ({"time_budget": 0}, "time_budget must be > 0"),
        ({"priors": {"drift": 1}}, "priors must be a Priors table"),
        ({"method": "milstein"}, "method must be one of"),
        ({"features": "raw"}, "features must be one of"),
        ({"ter_below_fastest_rt": 1}, "ter_below_fastest_rt must be True or False"),
        ({"flow_dropout": 1.0}, r"flow_dropout must be in \[0, 1\), got 1.0"),
        ({"flow_dropout": -0.1}, "flow_dropout must be in"),
        ({"flow_dropout": False}, "flow_dropout must be in"),
    ],
)
def test_bad_configuration_raises(options, message):
    with pytest.raises(ValueError, match=message):
        inf.InferenceConfig(**options)


def test_config_round_trip():
    config = inf.InferenceConfig(priors=DEFAULT_PRIORS.replace(drift=Prior.normal(0, 2, lower=0)),
                                 min_trials=40, time_budget=60.0, method="euler")
    assert inf.InferenceConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


@pytest.mark.parametrize("method", ["exact", "euler"])
def test_simulator_uses_the_configured_method(method, tiny_network):
    """Euler RTs are whole multiples of dt after ter; exact ones almost never are."""
    config = inf.InferenceConfig(method=method, **tiny_network)
    data = inf.RLDDMSimulator(config, seed=5).sample(20, n_trials=60)
    steps = (data["trials"][:, :, 0] - data["ter"].astype(np.float32)) / 0.01
    on_grid = np.isclose(steps, np.round(steps), atol=1e-3).mean()
    assert on_grid > 0.99 if method == "euler" else on_grid < 0.2


def test_replayed_q_differences_equal_the_simulated_ones():
    """At a learning rate on the grid, replaying choices and rewards gives the simulator's Q."""
    kappa = inf.KAPPA_GRID[1]
    theta = DEFAULT_PRIORS.sample(5, seed=8)
    theta[:, 4] = kappa
    result = rlddm.simulate(theta, rlddm.ReversalDesign().sample(5, seed=9), seed=10,
                            return_q=True)
    replayed = inf.replayed_q_differences(result.choice, result.reward)
    np.testing.assert_allclose(replayed[:, :, 1], result.q[:, :-1, 0] - result.q[:, :-1, 1],
                               atol=1e-12)
    assert not np.allclose(replayed[:, :, 0], replayed[:, :, 1])
    encoded = inf.encode_trials(result.rt, result.choice, result.reward, rlddm.ReversalDesign(), 60)
    assert encoded["trials"].shape == (5, 60, len(inf.FEATURE_SETS["q_stats"]))
    q_grid = inf.encode_trials(result.rt, result.choice, result.reward, rlddm.ReversalDesign(),
                               60, features="q_grid")
    assert sorted(q_grid) == ["n_trials", "trials"]
    np.testing.assert_array_equal(q_grid["trials"], encoded["trials"])
    basic = inf.encode_trials(result.rt, result.choice, result.reward, rlddm.ReversalDesign(), 60,
                              features="basic")
    np.testing.assert_array_equal(basic["trials"], encoded["trials"][:, :, :6])


def test_compiled_replay_matches_the_likelihood_recursion_with_missed_trials():
    rng = np.random.default_rng(11)
    choice = rng.integers(-1, 2, size=(7, 45))  # -1: missed, leaves Q unchanged
    reward = rng.integers(0, 2, size=(7, 45))
    rates = (0.0, 0.25, 1.0)
    replayed = inf.replayed_q_differences(choice, reward, rates)
    # the likelihood's drifts at drift = 1 are its replayed Q0 - Q1
    theta = np.broadcast_to([1.0, 1.0, 0.5, 0.0, 0.0], (7, 3, 5)).copy()
    theta[..., 4] = rates
    trials = _check_trials(np.ones(choice.shape), choice, reward, batched=True)
    drifts = _replay(get_model("rlddm"), theta, trials)[2]
    np.testing.assert_array_equal(replayed, drifts.transpose(0, 2, 1))
    assert np.all(replayed[:, :, 0] == 0.0)
    with pytest.raises(ValueError, match="learning_rates must be"):
        inf.replayed_q_differences(choice, reward, (0.5, 1.5))
    with pytest.raises(ValueError, match="one shape"):
        inf.replayed_q_differences(choice, reward[:, :-1])


@pytest.mark.parametrize("index", [0, 5, 18])
def test_statistics_are_sufficient_for_drift_at_each_grid_learning_rate(index):
    """loglik(drift) - loglik(0) is exactly drift*a*(U - w X) - drift^2/2 (R - ter S), times T.

    The deadline is pushed out (max_steps 1e7) so the retry truncation term vanishes;
    a wrong sign, boundary or rt term moves the difference by whole log units.
    """
    kappa = inf.STATISTICS_GRID[index]
    rng = np.random.default_rng(index)
    theta = DEFAULT_PRIORS.sample(4, seed=rng)
    theta[:, 4] = kappa
    result = rlddm.simulate(theta, rlddm.ReversalDesign().sample(4, seed=rng), seed=rng,
                            method="exact")
    statistics = inf.likelihood_statistics(result.rt, result.choice, result.reward)
    n_rates = len(inf.STATISTICS_GRID)
    for row, (_, a, w, ter, _) in enumerate(theta):
        upper, total, rt_weighted, squared = statistics[row, index::n_rates][:4]
        for drift in (-3.0, 0.7, 2.5):
            both = np.array([[drift, a, w, ter, kappa], [0.0, a, w, ter, kappa]])
            difference = np.subtract(*loglik(both, result.rt[row], result.choice[row],
                                             result.reward[row], max_steps=10**7))
            expected = 60 * (drift * a * (upper - w * total)
                             - drift**2 / 2 * (rt_weighted - ter * squared))
            assert difference == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_statistics_rt_summaries():
    rt = np.array([[0.5, 0.9, 0.7, 0.6, 1.1], [0.4, 0.8, 0.6, 0.3, 0.5]])
    choice = np.array([[0, 1, 0, 0, 1], [1, 1, 1, 1, 1]])
    statistics = dict(zip(inf.STATISTIC_NAMES,
                          inf.likelihood_statistics(rt, choice, np.zeros_like(choice)).T))
    np.testing.assert_allclose(statistics["p_upper"], [0.6, 0.0])
    np.testing.assert_allclose(statistics["min_rt"], [0.5, 0.3])
    np.testing.assert_allclose(statistics["rt_upper_q50"], [0.6, 0.5])  # row 1: all responses
    np.testing.assert_allclose(statistics["rt_lower_q50"], [1.0, 0.5])
    for name in ("rt_upper", "rt_lower"):
        got = np.column_stack([statistics[f"{name}_q{round(100 * q)}"] for q in inf.RT_QUANTILES])
        reached = choice == (0 if name == "rt_upper" else 1)
        for row in range(2):
            values = rt[row, reached[row]] if reached[row].any() else rt[row]
            np.testing.assert_allclose(got[row], np.quantile(values, inf.RT_QUANTILES))


def test_boundary_quantiles_equal_numpys_on_random_rows():
    """Rows with 0, 1, 2, ... or all trials at a boundary; one sort serves both boundaries."""
    rng = np.random.default_rng(3)
    rt = rng.uniform(0.2, 3.0, size=(400, 30))
    choice = (rng.uniform(size=(400, 30)) < rng.uniform(-0.2, 1.2, size=(400, 1))).astype(int)
    assert (choice.sum(axis=1) == 0).any() and (choice.sum(axis=1) == 30).any()
    statistics = inf.likelihood_statistics(rt, choice, np.zeros_like(choice))
    first = inf.STATISTIC_NAMES.index("rt_upper_q0")
    quantiles = statistics[:, first:].reshape(400, 2, len(inf.RT_QUANTILES))
    for row in range(400):
        for side in (0, 1):
            reached = choice[row] == side
            values = rt[row, reached] if reached.any() else rt[row]
            np.testing.assert_allclose(quantiles[row, side], np.quantile(values, inf.RT_QUANTILES),
                                       rtol=0, atol=1e-14)


def test_configurations_saved_before_feature_sets_load_as_basic():
    data = inf.InferenceConfig().to_dict()
    del data["features"], data["ter_below_fastest_rt"], data["flow_dropout"]
    config = inf.InferenceConfig.from_dict(data)
    assert (config.features, config.ter_below_fastest_rt, config.flow_dropout) == \
        ("basic", False, 0.05)


@pytest.mark.parametrize("rate", [0.0, 0.05])
def test_flow_dropout_reaches_the_coupling_subnetworks(rate):
    approximator = inf.build_approximator(inf.InferenceConfig(flow_dropout=rate))
    layers = list(approximator.inference_network._flatten_layers())
    subnets = [layer.dropout for layer in layers if isinstance(layer, bf.networks.MLP)]
    assert len(subnets) == 12 and set(subnets) == {rate}  # 6 dual couplings x 2 subnets
    assert sum(isinstance(layer, keras.layers.Dropout) for layer in layers) == \
        (0 if rate == 0 else 12 * 2)  # two hidden layers per subnet


@pytest.mark.slow
@pytest.mark.parametrize("features", ["q_grid", "basic"])
def test_earlier_feature_sets_still_train_and_sample(tmp_path, features, tiny_network):
    config = inf.InferenceConfig(features=features, ter_below_fastest_rt=False, min_trials=30,
                                 max_trials=30, **(tiny_network | {"epochs": 1}))
    posterior = inf.train(config, tmp_path, verbose=0)
    loaded = inf.AmortizedPosterior.load(tmp_path)
    assert loaded.config.features == features
    data = observed()
    np.testing.assert_allclose(loaded.sample(*data, n_samples=5, seed=2),
                               posterior.sample(*data, n_samples=5, seed=2), rtol=1e-6)


def test_set_summary_ignores_trial_order_but_not_response_times():
    network = inf.SetSummary(summary_dim=4, units=8)
    rt, choice, reward = observed(n=3, n_trials=25)
    trials = inf.encode_trials(rt, choice, reward, rlddm.ReversalDesign(), 25)["trials"]
    summary = keras.ops.convert_to_numpy(network(trials))
    shuffled = trials[:, np.random.default_rng(1).permutation(25)]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(network(shuffled)), summary,
                               rtol=1e-5, atol=1e-6)
    slower = trials.copy()
    slower[:, 3, 0] += 0.2  # one response 200 ms slower
    assert np.abs(keras.ops.convert_to_numpy(network(slower)) - summary).max() > 1e-4


@pytest.mark.slow
def test_gru_summary_still_trains_saves_and_loads(tmp_path, tiny_network):
    config = inf.InferenceConfig(summary_network="gru", min_trials=30, max_trials=30,
                                 **(tiny_network | {"epochs": 1}))
    posterior = inf.train(config, tmp_path, verbose=0)
    loaded = inf.AmortizedPosterior.load(tmp_path)
    assert isinstance(loaded.approximator.summary_network, inf.GRUSummary)
    data = observed()
    np.testing.assert_allclose(loaded.sample(*data, n_samples=5, seed=2),
                               posterior.sample(*data, n_samples=5, seed=2), rtol=1e-6)


@pytest.mark.slow
def test_cli_trains_and_validates_outside_the_designs_length(tmp_path, capsys):
    """30-trial networks validate on 30 trials (the design's 60 is outside their range)."""
    from rlddm.cli import main

    main(["train", "--out", str(tmp_path), "--epochs", "1", "--batches-per-epoch", "2",
          "--batch-size", "8", "--min-trials", "30", "--max-trials", "30", "--summary-dim", "4",
          "--recurrent-units", "8", "--positive-drift", "--validate-n", "20"])
    config = json.loads((tmp_path / "config.json").read_text())["config"]
    assert config["priors"]["drift"]["lower"] == 0.0
    assert config["features"] == "q_stats"
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert (metrics["n"], metrics["n_trials"]) == (20, 30)
    assert "kappa by 0 <= |drift| < 1" in capsys.readouterr().out
    assert metrics["metrics"] == "rlddm.mcmc.recovery_metrics"
    assert set(metrics["parameters"]["kappa"]) >= {"r", "nrmse", "contraction", "calibration_error"}


def test_statistics_and_ter_maps_refuse_bad_input():
    rt, choice, reward = observed()
    with pytest.raises(ValueError, match="one shape"):
        inf.likelihood_statistics(rt[:, :-1], choice, reward)
    missed = choice.copy()
    missed[0, 0] = -1
    with pytest.raises(ValueError, match="choice and reward must be 0 or 1"):
        inf.likelihood_statistics(rt, missed, reward)
    with pytest.raises(ValueError, match="rt must be finite"):
        inf.likelihood_statistics(np.where(rt > 0, np.nan, rt), choice, reward)
    with pytest.raises(ValueError, match=r"ter must lie in .*got ter 0\.5"):
        inf.ter_to_network(np.array([0.1, 0.5]), np.array([0.4, 0.45]), DEFAULT_PRIORS)


@pytest.mark.slow
def test_data_faster_than_the_ter_prior_allows_are_refused(tmp_path, tiny_network):
    priors = DEFAULT_PRIORS.replace(ter=Prior.normal(0.5, 0.25, lower=0.2, upper=1.5))
    config = inf.InferenceConfig(priors=priors, min_trials=30, max_trials=30,
                                 **(tiny_network | {"epochs": 1, "batches_per_epoch": 1}))
    posterior = inf.train(config, tmp_path, verbose=0)
    rt, choice, reward = observed()
    rt = rt.copy()
    rt[2, 5] = 0.15
    with pytest.raises(ValueError, match="at or below 0.2 s"):
        posterior.sample(rt, choice, reward, n_samples=5)
