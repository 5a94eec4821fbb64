"""The exact posterior by MCMC: the sampler, its convergence diagnostics, reference runs.

Importing this package needs no Keras.
"""

from .sampler import (NotConvergedError, PosteriorBatch, PosteriorResult, ess_bulk, ess_tail,
                      recovery_metrics, reference_run, rhat, sample_posterior,
                      sample_posteriors)

__all__ = ["NotConvergedError", "PosteriorBatch", "PosteriorResult", "ess_bulk", "ess_tail",
           "recovery_metrics", "reference_run", "rhat", "sample_posterior", "sample_posteriors"]
