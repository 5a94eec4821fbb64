"""rlddm: simulation and amortized Bayesian inference for reinforcement-learning DDMs.

``import rlddm`` loads the compiled simulator and nothing heavier; the BayesFlow
wiring lives in ``rlddm.inference`` and imports Keras only when used.
"""

from importlib.metadata import version as _version

from .model.parameters import PARAMETER_NAMES, PARAMETERS
from .simulator.simulation import SimulationResult, simulate
from .task import ReversalDesign, reversal_outcomes

__all__ = [
    "PARAMETERS",
    "PARAMETER_NAMES",
    "ReversalDesign",
    "SimulationResult",
    "reversal_outcomes",
    "simulate",
]
__version__ = _version("rlddm")
