"""What defines a trained amortized posterior: :class:`InferenceConfig` and file names.

NumPy only, like ``rlddm.amortized.features``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._checks import check_count
from ..model.priors import Priors
from ..simulator.simulation import METHODS
from ..task.reversal import ReversalDesign
from .features import FEATURE_SETS

# ``rlddm train`` with no budget options: 30 epochs x 1,000 batches of 64 (GRU 64 on
# TensorFlow takes about 30 ms a step on the 2-core reference machine: ~15 minutes),
# stopped after 17 minutes at the latest so that validation ends within 20.
DEFAULT_TIME_BUDGET = 17 * 60.0

CONFIG_FILE = "config.json"
MODEL_FILE = "approximator.keras"
SUMMARY_NETWORKS = ("gru", "set", "time_series")
INFERENCE_NETWORKS = ("coupling_flow", "flow_matching")


@dataclass(frozen=True)
class InferenceConfig:
    """Everything that defines a trained posterior: priors, design, trial range, networks, budget.

    Parameters
    ----------
    priors : Priors
        Joint prior of the parameters.
    design : ReversalDesign
        Task design of the simulated (and later the observed) data.
    min_trials, max_trials : int
        Each training batch draws its number of trials uniformly from this range.
    features : {"q_stats", "q_grid", "basic"}
        Network input (:data:`FEATURE_SETS`): ``"q_stats"`` gives the summary network
        the recorded trials plus Q0 - Q1 replayed at :data:`KAPPA_GRID`, and the
        inference network :func:`likelihood_statistics` directly; ``"q_grid"`` omits
        the statistics and ``"basic"`` the replayed Q too. Models saved before the
        feature sets existed used ``"basic"``.
    summary_network : {"set", "gru", "time_series"}
        A permutation-invariant set network (:class:`SetSummary`, the default), a small
        GRU (:class:`GRUSummary`, the default of models saved before the set network) or
        BayesFlow's ``TimeSeriesNetwork``.
    summary_dim : int
        Size of the learned summary.
    recurrent_units : int
        Width of the summary network: hidden layers of the set network, units of the
        GRU or of the ``TimeSeriesNetwork``'s recurrent layer.
    inference_network : {"coupling_flow", "flow_matching"}
        BayesFlow inference network.
    epochs, batches_per_epoch, batch_size : int
        Online training budget; the learning-rate schedule spans all of it.
    learning_rate : float
        Peak learning rate of the warm-up + cosine schedule.
    time_budget : float or None
        Wall-clock seconds after which training stops (mid-epoch if need be).
    seed : int
        Seed of the training: its simulations and the network's initialisation, so that
        a rerun on the same machine, backend and library versions gives the same weights.
    method : {"exact", "euler"}
        How the training data are simulated (:func:`rlddm.simulate`). ``"exact"``
        (the default) is the continuous-time DDM that real response times and the
        exact likelihood describe; ``"euler"`` is the forum post's walk.
    dt, max_steps : float, int
        Options of :func:`rlddm.simulate` (with ``"exact"`` they only set the
        missed-response deadline ``dt * max_steps``).
    ter_below_fastest_rt : bool
        Learn ter as its place between its prior's lower bound and the fastest response
        of the data set (:func:`ter_to_network`) rather than on the prior's scale. The
        exact posterior of ter is a few milliseconds wide just below the fastest
        response; on the prior's scale a flow draws it several times too wide. Models
        saved before this option existed used ``False``.
    flow_dropout : float
        Dropout rate in the coupling flow's subnetworks (unused by flow matching).
        Online training never sees a data set twice, so there is nothing to regularise
        against; models saved before this option existed used BayesFlow's default, 0.05.
    """

    priors: Priors = field(default_factory=Priors.default)
    design: ReversalDesign = field(default_factory=ReversalDesign)
    min_trials: int = 60
    max_trials: int = 60
    features: str = "q_stats"
    summary_network: str = "set"
    summary_dim: int = 24
    recurrent_units: int = 128
    inference_network: str = "coupling_flow"
    epochs: int = 30
    batches_per_epoch: int = 1000
    batch_size: int = 64
    learning_rate: float = 5e-4
    time_budget: float | None = None
    seed: int = 0
    method: str = "exact"
    dt: float = 0.01
    max_steps: int = 900
    ter_below_fastest_rt: bool = True
    flow_dropout: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.priors, Priors):
            raise ValueError(f"priors must be a Priors table, got {self.priors!r}")
        if not isinstance(self.design, ReversalDesign):
            raise ValueError(f"design must be a ReversalDesign, got {self.design!r}")
        for name, minimum in (("min_trials", 1), ("max_trials", 1), ("summary_dim", 1),
                              ("recurrent_units", 1), ("epochs", 1), ("batches_per_epoch", 1),
                              ("batch_size", 1), ("seed", 0), ("max_steps", 1)):
            check_count(getattr(self, name), name, minimum)
        if self.max_trials < self.min_trials:
            raise ValueError(
                f"max_trials must be >= min_trials, got {self.max_trials} < {self.min_trials}"
            )
        if self.features not in FEATURE_SETS:
            raise ValueError(f"features must be one of {tuple(FEATURE_SETS)}, "
                             f"got {self.features!r}")
        if self.summary_network not in SUMMARY_NETWORKS:
            raise ValueError(
                f"summary_network must be one of {SUMMARY_NETWORKS}, got {self.summary_network!r}"
            )
        if self.inference_network not in INFERENCE_NETWORKS:
            raise ValueError(f"inference_network must be one of {INFERENCE_NETWORKS}, "
                             f"got {self.inference_network!r}")
        if not (isinstance(self.learning_rate, (int, float)) and self.learning_rate > 0):
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate!r}")
        if self.time_budget is not None and not self.time_budget > 0:
            raise ValueError(f"time_budget must be > 0 seconds or None, got {self.time_budget!r}")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if not (isinstance(self.dt, (int, float)) and self.dt > 0):
            raise ValueError(f"dt must be > 0, got {self.dt!r}")
        if not isinstance(self.ter_below_fastest_rt, bool):
            raise ValueError(f"ter_below_fastest_rt must be True or False, "
                             f"got {self.ter_below_fastest_rt!r}")
        if isinstance(self.flow_dropout, bool) or not (
                isinstance(self.flow_dropout, (int, float)) and 0 <= self.flow_dropout < 1):
            raise ValueError(f"flow_dropout must be in [0, 1), got {self.flow_dropout!r}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["priors"] = self.priors.to_dict()
        data["design"] = self.design.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InferenceConfig:
        """Rebuild a configuration written by :meth:`to_dict`."""
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown configuration keys {sorted(unknown)}")
        # keys missing from configurations written before these options existed
        values = {"features": "basic", "ter_below_fastest_rt": False,
                  "flow_dropout": 0.05} | dict(data)
        if "priors" in values:
            values["priors"] = Priors.from_dict(values["priors"])
        if "design" in values:
            values["design"] = ReversalDesign.from_dict(values["design"])
        return cls(**values)
