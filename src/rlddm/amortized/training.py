"""Training and loading an amortized posterior: optimizer, callbacks, online batches.

Importing this module imports Keras.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_count
from ..model.parameters import PARAMETER_NAMES
from ..task.reversal import ReversalDesign
from ._keras import bf, keras
from .config import CONFIG_FILE, MODEL_FILE, InferenceConfig
from .features import TER_NETWORK_NAME, encode_trials, ter_from_network
from .networks import RLDDMSimulator, build_approximator

def build_optimizer(learning_rate: float, total_steps: int) -> keras.optimizers.Optimizer:
    """Adam with 5% linear warm-up and cosine decay to 0 (BayesFlow's online default)."""
    warmup = int(0.05 * total_steps)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.1 * learning_rate, decay_steps=max(total_steps - warmup, 1),
        alpha=0.0, warmup_target=learning_rate, warmup_steps=warmup)
    return keras.optimizers.Adam(schedule, clipnorm=1.5)


class TimeBudget(keras.callbacks.Callback):
    """Stop training after ``seconds`` of wall-clock time, checked after every batch."""

    def __init__(self, seconds: float | None) -> None:
        super().__init__()
        self.seconds = seconds
        self.start = 0.0
        self.stopped_at: int | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.start = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.seconds is not None and time.perf_counter() - self.start > self.seconds:
            self.model.stop_training = True
            self.stopped_at = batch


class OnlineBatches(bf.OnlineDataset):
    """BayesFlow's online dataset, except for the batches drawn before the first epoch.

    Those (BayesFlow's build batch and the two by which Keras fixes the shapes of its
    ``tf.data`` pipeline) come from a probe simulator of their own, with the shortest
    and the longest trial count in turn: Keras fixes every axis on which its two probes
    agree, so with one count drawn per batch two equal draws (odds 1 in ``max_trials -
    min_trials + 1``) fixed the trial axis and stopped the training at the first batch
    of another length. The training stream is then also what it would be without probes.
    """

    def __init__(self, simulator: RLDDMSimulator, *args: Any, **kwargs: Any) -> None:
        super().__init__(simulator, *args, **kwargs)
        self._probe = RLDDMSimulator(simulator.config,
                                     seed=np.random.SeedSequence([simulator.config.seed, 1]))
        self._probes = 0
        self._training = False

    def on_epoch_begin(self) -> None:
        self._training = True
        super().on_epoch_begin()

    def __getitem__(self, item: int) -> dict[str, NDArray]:
        if self._training:
            return super().__getitem__(item)
        config = self._probe.config
        n_trials = (config.min_trials, config.max_trials)[self._probes % 2]
        self._probes += 1
        return self.adapter(self._probe.sample(self.batch_size, n_trials=n_trials))


class SimulatorState(keras.callbacks.Callback):
    """Save the simulator's stream with every epoch and restore it when training resumes.

    Keras' ``BackupAndRestore`` restores weights, optimizer and epoch; this adds the
    one state it does not know, so a resumed run draws the batches it would have drawn.
    """

    def __init__(self, simulator: RLDDMSimulator, path: Path) -> None:
        super().__init__()
        self.simulator = simulator
        self.path = Path(path)

    def on_train_begin(self, logs: dict | None = None) -> None:
        if self.path.exists():
            self.simulator.set_state(json.loads(self.path.read_text()))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.simulator.get_state()))


class AmortizedPosterior:
    """A trained approximator together with the configuration it was trained for.

    Parameters
    ----------
    approximator : bayesflow.ContinuousApproximator
        Trained (or loaded) approximator.
    config : InferenceConfig
        Its configuration.
    """

    def __init__(self, approximator: bf.ContinuousApproximator, config: InferenceConfig) -> None:
        self.approximator = approximator
        self.config = config

    def sample(self, rt: ArrayLike, choice: ArrayLike, reward: ArrayLike, *,
               design: ReversalDesign | None = None, n_samples: int = 1000,
               seed: int | None = None) -> NDArray[np.float64]:
        """Posterior draws for data sets of one length.

        Parameters
        ----------
        rt, choice, reward : array_like, shape (B, T)
            Observed data (see :func:`encode_trials`); fit participants of different
            lengths in separate calls, never padded.
        design : ReversalDesign, optional
            Design the data come from; must be the training design (default: it is).
        n_samples : int
            Draws per data set.
        seed : int, optional
            Seed of the network's sampling.

        Returns
        -------
        ndarray of float64, shape (B, n_samples, 5)
            Draws on the natural scale, columns in ``PARAMETER_NAMES`` order.

        Raises
        ------
        ValueError
            If ``design`` has another reward schedule than the training design (its
            ``n_trials`` may differ), the trial count is outside
            the training range, or the data are malformed.
        """
        config = self.config
        if design is not None and not config.design.same_task(design):
            raise ValueError(
                f"data come from design {design.to_dict()}, but this posterior was trained "
                f"on {config.design.to_dict()}"
            )
        n_trials = np.shape(rt)[-1]
        if not config.min_trials <= n_trials <= config.max_trials:
            raise ValueError(
                f"data have {n_trials} trials; this posterior was trained on "
                f"{config.min_trials} to {config.max_trials}"
            )
        check_count(n_samples, "n_samples", 1)
        conditions = encode_trials(rt, choice, reward, config.design, config.max_trials,
                                   config.features)
        fastest_rt = np.min(rt, axis=-1)
        ter_lower = config.priors["ter"].lower
        if config.ter_below_fastest_rt and np.any(fastest_rt <= ter_lower):
            raise ValueError(f"rt has a response at or below {ter_lower:g} s, the lowest "
                             "non-decision time of this posterior's prior: the data are "
                             "impossible under it")
        return self.sample_encoded(conditions, fastest_rt, n_samples=n_samples,
                                   seed=seed)

    def sample_encoded(self, conditions: dict[str, NDArray], fastest_rt: NDArray, *,
                       n_samples: int, seed: int | None = None,
                       batch_size: int | None = None) -> NDArray[np.float64]:
        """Posterior draws for network input from :func:`encode_trials` (no checks).

        Parameters
        ----------
        conditions : dict
            Output of :func:`encode_trials`.
        fastest_rt : ndarray, shape (B,)
            Each data set's fastest response time (to map ter back when
            ``config.ter_below_fastest_rt``).
        n_samples : int
            Draws per data set.
        seed : int, optional
            Seed of the network's sampling.
        batch_size : int, optional
            Data sets per network call (all at once if None).

        Returns
        -------
        ndarray of float64, shape (B, n_samples, 5)
            Draws on the natural scale, columns in ``PARAMETER_NAMES`` order.
        """
        draws = self.approximator.sample(num_samples=n_samples, conditions=conditions, seed=seed,
                                         batch_size=batch_size)
        columns = []
        for name in PARAMETER_NAMES:
            if name == "ter" and self.config.ter_below_fastest_rt:
                column = ter_from_network(draws[TER_NETWORK_NAME],
                                          np.reshape(fastest_rt, (-1, 1, 1)), self.config.priors)
            else:
                column = draws[name]
            columns.append(np.asarray(column, dtype=np.float64))
        return np.concatenate(columns, axis=-1)

    def save(self, directory: str | os.PathLike) -> Path:
        """Write ``approximator.keras`` and ``config.json`` (with the backend) to ``directory``.

        The optimizer's state is left out (two thirds of the file): a saved posterior is
        for sampling; an interrupted training resumes from its run folder's backup.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        optimizer = self.approximator.optimizer
        self.approximator.optimizer = None
        try:
            self.approximator.save(directory / MODEL_FILE)
        finally:
            self.approximator.optimizer = optimizer
        info = {"config": self.config.to_dict(), "backend": keras.backend.backend(),
                "bayesflow": bf.__version__, "keras": keras.__version__}
        (directory / CONFIG_FILE).write_text(json.dumps(info, indent=2))
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike) -> AmortizedPosterior:
        """Load a posterior written by :meth:`save` (on any Keras backend)."""
        directory = Path(directory)
        for name in (MODEL_FILE, CONFIG_FILE):
            if not (directory / name).exists():
                raise ValueError(f"{directory} has no {name}; is it a directory written by save()?")
        info = json.loads((directory / CONFIG_FILE).read_text())
        with warnings.catch_warnings():  # save() leaves the optimizer's state out on purpose
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            approximator = keras.saving.load_model(directory / MODEL_FILE)
        return cls(approximator, InferenceConfig.from_dict(info["config"]))


def train(config: InferenceConfig, directory: str | os.PathLike, *, verbose: int | str = "auto",
          callbacks: list[keras.callbacks.Callback] | None = None) -> AmortizedPosterior:
    """Train online, checkpointing every epoch; rerun with the same directory to resume.

    Rerunning on a finished run folder (one with ``approximator.keras``) trains nothing
    and returns the trained posterior.

    Parameters
    ----------
    config : InferenceConfig
        What to train and for how long.
    directory : path
        Run folder: ``config.json``, ``history.csv``, ``backup/`` (resume state, removed
        when training ends) and, at the end, ``approximator.keras``.
    verbose : int or "auto"
        Keras progress display.
    callbacks : list of keras.callbacks.Callback, optional
        Extra callbacks.

    Returns
    -------
    AmortizedPosterior

    Raises
    ------
    ValueError
        If ``directory`` holds a run with a different configuration.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config_path = directory / CONFIG_FILE
    if config_path.exists():
        previous = json.loads(config_path.read_text())["config"]
        if previous != json.loads(json.dumps(config.to_dict())):
            raise ValueError(f"{directory} holds a run with another configuration; "
                             "use a new directory or the same configuration to resume")
        if (directory / MODEL_FILE).exists():  # finished: resuming it leaves nothing to do
            return AmortizedPosterior.load(directory)
    config_path.write_text(json.dumps({"config": config.to_dict(),
                                       "backend": keras.backend.backend()}, indent=2))
    simulator = RLDDMSimulator(config)
    # Keras' initialisers, dropout and BayesFlow's noise take their seeds from Python's
    # global stream unless given one: seeding it here fixes the weights by config.seed
    keras.utils.set_random_seed(config.seed)
    approximator = build_approximator(config)
    approximator.compile(optimizer=build_optimizer(config.learning_rate,
                                                   config.epochs * config.batches_per_epoch))
    dataset = OnlineBatches(simulator, batch_size=config.batch_size,
                            num_batches=config.batches_per_epoch, adapter=approximator.adapter)
    backup = directory / "backup"
    all_callbacks = [
        keras.callbacks.BackupAndRestore(str(backup)),
        SimulatorState(simulator, backup / "simulator.json"),
        keras.callbacks.CSVLogger(str(directory / "history.csv"), append=True),
        TimeBudget(config.time_budget),
        *(callbacks or []),
    ]
    start = time.perf_counter()
    approximator.fit(dataset=dataset, epochs=config.epochs, callbacks=all_callbacks,
                     verbose=verbose)
    seconds = time.perf_counter() - start
    posterior = AmortizedPosterior(approximator, config)
    posterior.save(directory)
    timing = {"backend": keras.backend.backend(), "train_seconds": seconds,
              "simulation_seconds": simulator.seconds,
              "simulation_fraction": simulator.seconds / seconds,
              "steps": int(keras.ops.convert_to_numpy(approximator.optimizer.iterations))}
    (directory / "timing.json").write_text(json.dumps(timing, indent=2))
    return posterior
