"""Fitting real participants: amortized or exact posteriors, predictive checks, outputs.

``fitting`` reads a trial table and fits it (:func:`fit_csv`); ``exact`` runs the MCMC
fits (:func:`fit_exact`); ``model_comparison`` compares saved fits by PSIS-LOO.
"""

from .fitting import (AMORTIZED_DRAWS, CHOICE_PLOTS, FORCE_FLAG, HDI_PROB, LOG_LIKELIHOOD_NOTE,
                      MAX_PANELS, METHODS, MISSED_NOTE, PAIR_BIN, PPC_DRAWS, PPC_INTERVAL,
                      REVERSAL_OFFSETS, RT_QUANTILES, FitResult, PredictiveChecks, better_arm,
                      check_fit_range, fit_csv, fit_participants, predictive_checks,
                      reversal_windows, save_fit, shipped_model)

__all__ = ["FitResult", "METHODS", "PredictiveChecks", "check_fit_range", "fit_csv",
           "fit_participants", "predictive_checks", "save_fit", "shipped_model"]
