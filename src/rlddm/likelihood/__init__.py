"""The exact likelihood: Wiener first-passage series and the RLDDM's per-trial likelihood.

``wiener`` holds the model-free first-passage densities and distributions, ``trials``
the one log-likelihood of every registered model (Q replay + per-trial densities),
batched over parameter rows and data sets. Importing this package needs no Keras.
"""

from .trials import loglik, loglik_batch, loglik_trials, rt_pit
from .wiener import log_prob_response, wfpt_conditional_cdf, wfpt_logcdf, wfpt_logpdf

__all__ = ["wfpt_logpdf", "wfpt_logcdf", "wfpt_conditional_cdf", "log_prob_response", "loglik",
           "loglik_trials", "loglik_batch", "rt_pit"]
