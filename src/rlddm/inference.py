"""Old import path ``rlddm.inference``, kept working: the amortized posterior with BayesFlow.

The code now lives in ``rlddm.amortized._keras``, ``rlddm.amortized.features``,
``rlddm.amortized.config``, ``rlddm.amortized.networks``, ``rlddm.amortized.training``,
``rlddm.amortized.diagnostics``; this module only re-exports it, and new code imports from
there. Importing it imports Keras, as it always did; ``rlddm.amortized.features`` has the
NumPy-only part without Keras.
"""

from .amortized._keras import DEFAULT_BACKEND, bf, keras
from .amortized.features import (BASIC_FEATURES, FEATURE_SETS, KAPPA_GRID, RT_QUANTILES,
                                 STATISTICS_GRID, STATISTIC_NAMES, TER_NETWORK_NAME,
                                 encode_trials, likelihood_statistics, replayed_q_differences,
                                 ter_from_network, ter_to_network)
from .amortized.config import (CONFIG_FILE, DEFAULT_TIME_BUDGET, INFERENCE_NETWORKS,
                               InferenceConfig, MODEL_FILE, SUMMARY_NETWORKS)
from .amortized.networks import (GRUSummary, RLDDMSimulator, SetSummary, build_adapter,
                                 build_approximator)
from .amortized.training import (AmortizedPosterior, OnlineBatches, SimulatorState, TimeBudget,
                                 build_optimizer, train)
from .amortized.diagnostics import validate
