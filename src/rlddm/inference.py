"""Old import path ``rlddm.inference``, kept working: the BayesFlow wiring of the amortized posterior.

The code now lives in ``rlddm.amortized.networks``; this module only re-exports it, and new
code imports from there. Importing it imports Keras, as it always did;
``rlddm.amortized.features`` has the NumPy-only part without Keras.
"""

from .amortized.networks import (AmortizedPosterior, BASIC_FEATURES, CONFIG_FILE,
                                 DEFAULT_BACKEND, DEFAULT_TIME_BUDGET, FEATURE_SETS, GRUSummary,
                                 INFERENCE_NETWORKS, InferenceConfig, KAPPA_GRID, MODEL_FILE,
                                 OnlineBatches, RLDDMSimulator, RT_QUANTILES, STATISTICS_GRID,
                                 STATISTIC_NAMES, SUMMARY_NETWORKS, SetSummary, SimulatorState,
                                 TER_NETWORK_NAME, TimeBudget, bf, build_adapter,
                                 build_approximator, build_optimizer, encode_trials, keras,
                                 likelihood_statistics, replayed_q_differences,
                                 ter_from_network, ter_to_network, train, validate)
