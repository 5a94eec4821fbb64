"""Old import path ``rlddm.exact_fit``, kept working: exact (MCMC) fits of real participants.

The code now lives in ``rlddm.fit.exact``; this module only re-exports it, and new code
imports from there.
"""

from .fit.exact import (CHUNK_TRIALS, ExactPosteriors, SAMPLER_DEFAULTS, chunk_participants,
                        fit_exact, parse_prior)

__all__ = ["CHUNK_TRIALS", "ExactPosteriors", "SAMPLER_DEFAULTS", "chunk_participants",
           "fit_exact", "parse_prior"]
