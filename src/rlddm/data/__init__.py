"""Real trials in and out: read and validate trial tables, simulate and write them.

The layouts, options and rules are described in :mod:`rlddm.data.reading`.
"""

from .reading import (LAYOUTS, REQUIRED_ROLES, ROLES, DataError, Layout, ParticipantTrials,
                      PathLike, TrialData, read_trials, simulate_participants, write_trials)

__all__ = ["LAYOUTS", "DataError", "Layout", "ParticipantTrials", "TrialData", "read_trials",
           "simulate_participants", "write_trials"]
