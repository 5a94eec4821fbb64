"""Old import path ``rlddm.posterior``, kept working: the MCMC sampler, its diagnostics and reference runs.

The code now lives in ``rlddm.mcmc.sampler``; this module only re-exports it, and new code
imports from there.
"""

from .mcmc.sampler import (DRIFT_BINS, INDEPENDENT_SHARE, INTERVAL_LEVELS, LEARNING_RATES,
                           MIN_ESS, NotConvergedError, PosteriorBatch, PosteriorResult,
                           RETRY_FACTOR, RHAT_MAX, TARGET_ACCEPTANCE, T_DOF, ess_bulk, ess_tail,
                           loglik_batch, recovery_metrics, reference_run, rhat,
                           sample_posterior, sample_posteriors)

__all__ = ["NotConvergedError", "PosteriorBatch", "PosteriorResult", "ess_bulk", "ess_tail",
           "loglik_batch", "recovery_metrics", "reference_run", "rhat", "sample_posterior",
           "sample_posteriors"]
