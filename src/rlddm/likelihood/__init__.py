"""The exact likelihood: Wiener first-passage densities and the RLDDM's per-trial likelihood.

Importing this package needs no Keras.
"""

from .wiener import (log_prob_response, loglik, loglik_batch, loglik_trials, rt_pit,
                     wfpt_conditional_cdf, wfpt_logcdf, wfpt_logpdf)

__all__ = ["wfpt_logpdf", "wfpt_logcdf", "wfpt_conditional_cdf", "log_prob_response", "loglik",
           "loglik_trials", "loglik_batch", "rt_pit"]
