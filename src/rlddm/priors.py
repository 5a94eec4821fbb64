"""Old import path ``rlddm.priors``, kept working: the prior families and the joint prior.

The code now lives in ``rlddm.model.priors``; this module only re-exports it, and new code
imports from there.
"""

from .model.priors import DEFAULT_PRIORS, FAMILIES, LARGEST, Prior, Priors
