"""Old import path ``rlddm.comparison``, kept working: the comparison of amortized and exact posteriors.

The code now lives in ``rlddm.amortized.validation``; this module only re-exports it, and
new code imports from there.
"""

from .amortized.validation import (MAX_MEDIAN_GAP, MAX_R_SHORTFALL, compare_with_reference,
                                   mmd_squared)
