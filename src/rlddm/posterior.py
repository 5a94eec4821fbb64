"""Old import path ``rlddm.posterior``, kept working: the MCMC sampler, its diagnostics and reference runs.

The code now lives in ``rlddm.mcmc.diagnostics``, ``rlddm.mcmc.sampler``,
``rlddm.mcmc.runs``, ``rlddm.likelihood``; this module only re-exports it, and new code
imports from there.
"""

from .mcmc.diagnostics import MIN_ESS, RHAT_MAX, ess_bulk, ess_tail, rhat
from .mcmc.sampler import (INDEPENDENT_SHARE, NotConvergedError, PosteriorBatch,
                           PosteriorResult, RETRY_FACTOR, TARGET_ACCEPTANCE, T_DOF,
                           sample_posterior, sample_posteriors)
from .mcmc.runs import (DRIFT_BINS, INTERVAL_LEVELS, LEARNING_RATES, recovery_metrics,
                        reference_run)
from .likelihood import loglik_batch

__all__ = ["NotConvergedError", "PosteriorBatch", "PosteriorResult", "ess_bulk", "ess_tail",
           "loglik_batch", "recovery_metrics", "reference_run", "rhat", "sample_posterior",
           "sample_posteriors"]
