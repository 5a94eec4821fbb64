"""Fitting real participants: amortized or exact posteriors, predictive checks, outputs.

``fitting`` reads a trial table and fits it (:func:`fit_csv`), ``exact`` runs the MCMC
fits (:func:`fit_exact`), ``ppc`` simulates the posterior predictive checks and
``model_comparison`` compares saved fits by PSIS-LOO.
"""

from .fitting import (AMORTIZED_DRAWS, FORCE_FLAG, HDI_PROB, LOG_LIKELIHOOD_NOTE, METHODS,
                      MISSED_NOTE, FitResult, check_fit_range, fit_csv, fit_participants,
                      save_fit, shipped_model)
from .ppc import (CHOICE_PLOTS, MAX_PANELS, PAIR_BIN, PPC_DRAWS, PPC_INTERVAL,
                  REVERSAL_OFFSETS, RT_QUANTILES, PredictiveChecks, better_arm,
                  predictive_checks, reversal_windows)

__all__ = ["FitResult", "METHODS", "PredictiveChecks", "check_fit_range", "fit_csv",
           "fit_participants", "predictive_checks", "save_fit", "shipped_model"]
