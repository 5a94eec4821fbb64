"""Tests of rlddm.inference: simulator, adapter, options that take effect, save/load, resume, errors.

Trainings here are a few steps on tiny networks (seconds); long trainings belong to `rlddm train`.
"""

import json

import numpy as np
import pytest

import keras

import rlddm
import rlddm.inference as inf
from rlddm.priors import DEFAULT_PRIORS, Prior

TINY = dict(summary_dim=4, recurrent_units=8, epochs=2, batches_per_epoch=3, batch_size=8)


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
def trained(tmp_path_factory):
    directory = tmp_path_factory.mktemp("run")
    config = inf.InferenceConfig(min_trials=20, max_trials=40, **TINY)
    counter = StepCounter()
    posterior = inf.train(config, directory, verbose=0, callbacks=[counter])
    return posterior, directory, counter


def observed(n=3, n_trials=30, seed=0):
    rng = np.random.default_rng(seed)
    result = rlddm.simulate(DEFAULT_PRIORS.sample(n, seed=rng),
                            rlddm.ReversalDesign().sample(n, n_trials=n_trials, seed=rng), seed=rng)
    return result.rt, result.choice, result.reward


def test_options_take_effect(trained):
    # epochs and batches_per_epoch reach Keras (bayesflow drops unknown keywords silently)
    _, directory, counter = trained
    assert (counter.epochs, counter.steps) == (2, 6)
    timing = json.loads((directory / "timing.json").read_text())
    assert timing["steps"] == 6
    assert timing["backend"] == keras.backend.backend()


def test_simulator_batches_have_one_trial_count():
    config = inf.InferenceConfig(min_trials=10, max_trials=50, **TINY)
    simulator = inf.RLDDMSimulator(config, seed=1)
    counts = {simulator.sample(4)["trials"].shape[1] for _ in range(30)}
    assert len(counts) > 5 and min(counts) >= 10 and max(counts) <= 50
    batch = simulator.sample((4,))
    assert batch["trials"].shape[::2] == (4, len(inf.FEATURE_SETS[config.features]))
    assert batch["n_trials"].shape == (4, 1)
    assert all(batch[name].shape == (4, 1) for name in DEFAULT_PRIORS.names)


def test_simulator_is_seeded_and_resumable():
    config = inf.InferenceConfig(**TINY)
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
    np.testing.assert_array_equal(a["trials"], b["trials"])
    # negative control: flipping the chosen arm's outcomes does change the input
    flipped[rows, trials, first.choice] = 1 - flipped[rows, trials, first.choice]
    third = rlddm.simulate(theta, flipped, seed=3)
    c = inf.encode_trials(third.rt, third.choice, third.reward, design, 60)
    assert not np.array_equal(a["trials"], c["trials"])


def test_adapter_uses_the_priors_bijection():
    priors = DEFAULT_PRIORS.replace(drift=Prior.normal(0.0, 2.0, lower=0.0))
    config = inf.InferenceConfig(priors=priors, **TINY)
    data = inf.RLDDMSimulator(config, seed=4).sample(50)
    theta = np.column_stack([data[name][:, 0] for name in priors.names])
    adapter = inf.build_adapter(priors)
    adapted = adapter(data)
    assert sorted(adapted) == ["inference_conditions", "inference_variables", "summary_variables"]
    np.testing.assert_allclose(adapted["inference_variables"], priors.to_unbounded(theta),
                               rtol=1e-6, atol=1e-6)
    back = adapter({"inference_variables": adapted["inference_variables"]}, inverse=True,
                   strict=False)
    np.testing.assert_allclose(np.column_stack([back[n][:, 0] for n in priors.names]), theta,
                               rtol=1e-5)


@pytest.mark.parametrize("n_trials", [20, 33, 40])
def test_sample_shapes_and_support(trained, n_trials):
    posterior, _, _ = trained
    draws = posterior.sample(*observed(n_trials=n_trials), n_samples=15, seed=1)
    assert draws.shape == (3, 15, 5)
    assert np.all(np.isfinite(draws))
    assert np.all((draws >= DEFAULT_PRIORS.lower) & (draws <= DEFAULT_PRIORS.upper))


def test_save_load_gives_same_draws(trained):
    posterior, directory, _ = trained
    loaded = inf.AmortizedPosterior.load(directory)
    assert loaded.config == posterior.config
    data = observed()
    np.testing.assert_allclose(loaded.sample(*data, n_samples=10, seed=7),
                               posterior.sample(*data, n_samples=10, seed=7), rtol=1e-6)


def test_loaded_model_refuses_other_design_and_lengths(trained):
    posterior, _, _ = trained
    with pytest.raises(ValueError, match="trained on"):
        posterior.sample(*observed(), design=rlddm.ReversalDesign(reversal_every=10))
    with pytest.raises(ValueError, match="trained on 20 to 40"):
        posterior.sample(*observed(n_trials=60))


def test_missed_responses_are_refused(trained):
    posterior, _, _ = trained
    rt, choice, reward = observed()
    choice = choice.copy()
    choice[1, 4] = -1
    with pytest.raises(ValueError, match=r"choice must be 0 or 1 \(missed.*row 1, trial 4"):
        posterior.sample(rt, choice, reward)


def test_resume_after_interruption(tmp_path):
    config = inf.InferenceConfig(**(TINY | {"epochs": 3}))

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


def test_run_folder_with_other_config_is_refused(trained):
    _, directory, _ = trained
    with pytest.raises(ValueError, match="another configuration"):
        inf.train(inf.InferenceConfig(**(TINY | {"epochs": 5})), directory, verbose=0)


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
def test_simulator_uses_the_configured_method(method):
    """Euler RTs are whole multiples of dt after ter; exact ones almost never are."""
    config = inf.InferenceConfig(method=method, **TINY)
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
    assert encoded["trials"].shape == (5, 60, len(inf.FEATURE_SETS["q_grid"]))
    basic = inf.encode_trials(result.rt, result.choice, result.reward, rlddm.ReversalDesign(), 60,
                              features="basic")
    np.testing.assert_array_equal(basic["trials"], encoded["trials"][:, :, :6])


def test_configurations_saved_before_feature_sets_load_as_basic():
    data = inf.InferenceConfig().to_dict()
    del data["features"]
    assert inf.InferenceConfig.from_dict(data).features == "basic"
