"""Old import path ``rlddm.model_comparison``, kept working: PSIS-LOO comparison of saved fits.

The code now lives in ``rlddm.fit.model_comparison``; this module only re-exports it, and
new code imports from there.
"""

from .fit.model_comparison import (LOG_LIKELIHOOD_VARIABLE, PARETO_K_WARN, compare_fits,
                                   load_fit_loo, write_comparison)

__all__ = ["compare_fits", "load_fit_loo", "write_comparison"]
