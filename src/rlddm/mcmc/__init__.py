"""The exact posterior by MCMC: the sampler, its convergence diagnostics, reference runs.

``sampler`` draws posteriors on the exact likelihood, ``diagnostics`` holds R-hat and
ESS, ``runs`` the reference runs and :func:`recovery_metrics`. Importing this package
needs no Keras.
"""

from .diagnostics import MIN_ESS, RHAT_MAX, ess_bulk, ess_tail, rhat
from .runs import recovery_metrics, reference_run
from .sampler import (NotConvergedError, PosteriorBatch, PosteriorResult, sample_posterior,
                      sample_posteriors)

__all__ = ["MIN_ESS", "NotConvergedError", "PosteriorBatch", "PosteriorResult", "RHAT_MAX",
           "ess_bulk", "ess_tail", "recovery_metrics", "reference_run", "rhat",
           "sample_posterior", "sample_posteriors"]
