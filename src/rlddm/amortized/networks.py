"""Amortized posterior of the RLDDM with BayesFlow 2: simulator, summary networks, adapter.

Importing this module imports Keras (through ``rlddm.amortized._keras``, which sets the
backend default first).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._checks import check_count
from .._seeding import SeedLike, generator
from ..model.priors import Priors
from ..simulator.simulation import simulate
from ._keras import bf, keras
from .config import InferenceConfig
from .features import TER_NETWORK_NAME, _encode_trials, ter_to_network

class RLDDMSimulator(bf.simulators.Simulator):
    """The generative model for training: priors -> design -> compiled simulator -> network input.

    Each call to :meth:`sample` (one training batch) draws one number of trials from
    ``[min_trials, max_trials]``, so every batch is unpadded and one network serves
    data sets of different lengths.

    Parameters
    ----------
    config : InferenceConfig
        Priors, design, trial range and simulator options.
    seed : None, int, SeedSequence, BitGenerator or Generator
        Seed of the simulator's stream (``config.seed`` if None).
    """

    def __init__(self, config: InferenceConfig, seed: SeedLike = None) -> None:
        self.config = config
        self.rng = generator(config.seed if seed is None else seed)
        self.seconds = 0.0  # spent in sample(), to show that training is not simulation-bound

    def sample(self, batch_shape: int | tuple[int, ...], *, n_trials: int | None = None,
               **kwargs: Any) -> dict[str, NDArray]:
        """Simulate a batch.

        Parameters
        ----------
        batch_shape : int or tuple of one int
            Number of data sets B.
        n_trials : int, optional
            Trials per data set; drawn from ``[min_trials, max_trials]`` if None.
        **kwargs
            Ignored (BayesFlow passes none during training).

        Returns
        -------
        dict
            One (B, 1) float64 array per parameter name (the truths), with
            ``ter_below_fastest_rt`` also :data:`TER_NETWORK_NAME` (the network's ter),
            plus the network input from :func:`encode_trials`.
        """
        shape = (batch_shape,) if isinstance(batch_shape, (int, np.integer)) else tuple(batch_shape)
        if len(shape) != 1:
            raise ValueError(f"batch_shape must be one integer, got {batch_shape!r}")
        n = check_count(shape[0], "batch_shape", 1)
        config = self.config
        start = time.perf_counter()
        if n_trials is None:
            n_trials = int(self.rng.integers(config.min_trials, config.max_trials, endpoint=True))
        elif not config.min_trials <= check_count(n_trials, "n_trials", 1) <= config.max_trials:
            raise ValueError(f"n_trials must be in [{config.min_trials}, {config.max_trials}], "
                             f"got {n_trials}")
        theta = config.priors.sample(n, seed=self.rng)
        outcomes = config.design.sample(n, n_trials=n_trials, seed=self.rng)
        # one thread: on 2 busy cores OpenMP's second thread made a batch 3x slower, not 2x faster
        result = simulate(theta, outcomes, dt=config.dt, max_steps=config.max_steps,
                          seed=self.rng, n_threads=1, method=config.method)
        if (result.choice < 0).any():  # possible only with absurd priors: refuse, as encode_trials
            raise ValueError("a simulated trial stayed unanswered after every retry; "
                             "the priors allow boundaries no walk reaches")
        data = {name: theta[:, i:i + 1] for i, name in enumerate(config.priors.names)}
        if config.ter_below_fastest_rt:
            data[TER_NETWORK_NAME] = ter_to_network(data["ter"], result.rt.min(axis=1)[:, None],
                                                    config.priors)
        # the simulator's output is valid by construction: skip encode_trials' checks
        data.update(_encode_trials(result.rt, result.choice, result.reward, config.design,
                                   config.max_trials, config.features))
        self.seconds += time.perf_counter() - start
        return data

    def get_state(self) -> dict[str, Any]:
        """The stream's state (JSON-serialisable), for resuming training."""
        return self.rng.bit_generator.state

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore a state from :meth:`get_state`."""
        self.rng.bit_generator.state = state


@keras.saving.register_keras_serializable(package="rlddm")
class GRUSummary(bf.networks.SummaryNetwork):
    """A small recurrent summary network: GRU -> Dense(silu) -> Dense(summary_dim).

    Parameters
    ----------
    summary_dim : int
        Size of the summary.
    units : int
        GRU units (and width of the hidden dense layer).
    **kwargs
        Passed to ``bayesflow.networks.SummaryNetwork`` (name, dtype, trainable).
    """

    def __init__(self, summary_dim: int = 24, units: int = 64, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.summary_dim = check_count(summary_dim, "summary_dim", 1)
        self.units = check_count(units, "units", 1)
        self.recurrent = keras.layers.GRU(self.units)
        self.hidden = keras.layers.Dense(self.units, activation="silu")
        self.projector = keras.layers.Dense(self.summary_dim)

    def call(self, x: Any, training: bool = False, **kwargs: Any) -> Any:
        """Summaries of shape (B, summary_dim) from trials of shape (B, T, features)."""
        return self.projector(self.hidden(self.recurrent(x, training=training)))

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {"summary_dim": self.summary_dim, "units": self.units}


@keras.saving.register_keras_serializable(package="rlddm")
class SetSummary(bf.networks.SummaryNetwork):
    """A permutation-invariant summary: per-trial MLP -> mean over trials -> MLP.

    Given the statistics of :func:`likelihood_statistics`, which carry the order of
    the trials (through the replayed Q), what the likelihood still needs is a sum over
    trials of a function of each trial's response time and choice (the drift-free
    Wiener term). This network has that form (a deep set, Zaheer et al. 2017). Each
    trial's embedding also sees its response time minus the data set's fastest one,
    since the drift-free term depends on ``rt - ter`` and ter lies just below the
    fastest response.

    Parameters
    ----------
    summary_dim : int
        Size of the summary.
    units : int
        Width of the per-trial and pooled hidden layers.
    **kwargs
        Passed to ``bayesflow.networks.SummaryNetwork`` (name, dtype, trainable).
    """

    def __init__(self, summary_dim: int = 24, units: int = 64, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.summary_dim = check_count(summary_dim, "summary_dim", 1)
        self.units = check_count(units, "units", 1)
        self.embedding = [keras.layers.Dense(self.units, activation="silu") for _ in range(3)]
        self.hidden = keras.layers.Dense(self.units, activation="silu")
        self.projector = keras.layers.Dense(self.summary_dim)

    def call(self, x: Any, training: bool = False, **kwargs: Any) -> Any:
        """Summaries of shape (B, summary_dim) from trials of shape (B, T, features)."""
        ops = keras.ops
        rt = x[..., :1]  # the first per-trial column is the response time
        since_fastest = rt - ops.min(rt, axis=1, keepdims=True)
        h = ops.concatenate([x, since_fastest, ops.log(since_fastest + 0.01)], axis=-1)
        for layer in self.embedding:
            h = layer(h)
        return self.projector(self.hidden(ops.mean(h, axis=1)))

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {"summary_dim": self.summary_dim, "units": self.units}


def build_adapter(priors: Priors, features: str = "basic",
                  ter_below_fastest_rt: bool = False) -> bf.Adapter:
    """The adapter: parameters to unbounded space (the priors' own maps), inputs renamed.

    ``Adapter.constrain`` with ``inclusive="none"`` applies exactly
    :meth:`Priors.to_unbounded` (scaled logit on intervals, log on half-lines), so the
    network and the likelihood-based reference sampler work on one scale. With
    ``ter_below_fastest_rt`` the network's ter is :data:`TER_NETWORK_NAME`, already
    unbounded (:func:`ter_to_network`), and the truth ``ter`` is dropped. The
    per-trial array feeds the summary network; ``n_trials`` (and with ``"q_stats"``
    features the statistics) condition the inference network directly.
    """
    adapter = bf.Adapter()
    variables = list(priors.names)
    for name in priors.names:
        if name == "ter" and ter_below_fastest_rt:
            variables[variables.index("ter")] = TER_NETWORK_NAME
            continue
        prior = priors[name]
        finite_lower, finite_upper = math.isfinite(prior.lower), math.isfinite(prior.upper)
        if finite_lower and finite_upper:
            adapter.constrain(name, lower=prior.lower, upper=prior.upper, method="sigmoid",
                              inclusive="none")
        elif finite_lower:
            adapter.constrain(name, lower=prior.lower, method="log", inclusive="none")
        elif finite_upper:
            adapter.constrain(name, upper=prior.upper, method="log", inclusive="none")
    if ter_below_fastest_rt:
        adapter = adapter.drop("ter")
    adapter = (adapter
               .concatenate(variables, into="inference_variables")
               .rename("trials", "summary_variables"))
    if features == "q_stats":
        adapter = adapter.concatenate(["n_trials", "statistics"], into="inference_conditions")
    else:
        adapter = adapter.rename("n_trials", "inference_conditions")
    return adapter.convert_dtype("float64", "float32")


def build_approximator(config: InferenceConfig) -> bf.ContinuousApproximator:
    """An untrained approximator for ``config``.

    The unbounded parameters are standardised, and with ``"q_stats"`` features so are
    the direct conditions (BayesFlow's running moments, frozen after training).
    """
    if config.summary_network == "gru":
        summary = GRUSummary(summary_dim=config.summary_dim, units=config.recurrent_units)
    elif config.summary_network == "set":
        summary = SetSummary(summary_dim=config.summary_dim, units=config.recurrent_units)
    else:
        summary = bf.networks.TimeSeriesNetwork(summary_dim=config.summary_dim,
                                                recurrent_dim=config.recurrent_units)
    if config.inference_network == "coupling_flow":
        inference = bf.networks.CouplingFlow(subnet_kwargs={"dropout": config.flow_dropout})
    else:
        inference = bf.networks.FlowMatching()
    standardize = ["inference_variables"]
    if config.features == "q_stats":
        standardize.append("inference_conditions")
    return bf.ContinuousApproximator(inference_network=inference, summary_network=summary,
                                     adapter=build_adapter(config.priors, config.features,
                                                           config.ter_below_fastest_rt),
                                     standardize=standardize)
