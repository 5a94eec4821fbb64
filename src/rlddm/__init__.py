"""rlddm: simulation and amortized Bayesian inference for reinforcement-learning DDMs.

``import rlddm`` loads the compiled simulator and nothing heavier; the BayesFlow
wiring lives in ``rlddm.amortized`` (``rlddm.inference`` re-exports it) and imports
Keras only when used.

Layout
------
The folders follow the pipeline, each layer importing only those above it:

``model/``
    Model specification: the parameter table, priors, the registry of variants.
``task/``
    Task designs: the reversal bandit, multi-option designs, named designs.
``simulator/``
    The compiled kernel (``_sim.pyx`` and its headers), the validated
    :func:`simulate`, and the plain-Python reference.
``likelihood/``
    Wiener first-passage series (model-free) and the one per-trial log-likelihood.
``mcmc/``
    The exact posterior: sampler, convergence diagnostics, reference runs.
``amortized/``
    The amortized posterior: NumPy features and configuration (no Keras), BayesFlow
    networks, training, diagnostics, validation against the exact posterior.
``data/``
    Trial tables in and out.
``fit/``
    Fitting participants (amortized or exact), predictive checks, model comparison.
``pretrained/``
    Networks shipped with the package.
``cli.py``
    The ``rlddm`` command.

The old flat module names (``rlddm.posterior``, ``rlddm.inference``, ``rlddm.priors``,
...) still import and re-export every public name.
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
