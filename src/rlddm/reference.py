"""Old import path ``rlddm.reference``, kept working: the plain-Python reference simulator.

The code now lives in ``rlddm.simulator.reference``; this module only re-exports it, and new
code imports from there.
"""

from .simulator.reference import (euler_trial, exact_trial, lapse_trial, learn, simulate,
                                  trial_drift)
