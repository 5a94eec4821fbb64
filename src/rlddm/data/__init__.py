"""Real trials in and out: read and validate trial tables, simulate and write them.

``trials`` holds the validated containers (:class:`TrialData`), ``reading`` the layouts
and :func:`read_trials` (the layouts, options and rules are described there),
``writing`` :func:`simulate_participants` and :func:`write_trials`.
"""

from .reading import LAYOUTS, REQUIRED_ROLES, ROLES, Layout, PathLike, read_trials
from .trials import DataError, ParticipantTrials, TrialData
from .writing import simulate_participants, write_trials

__all__ = ["LAYOUTS", "DataError", "Layout", "ParticipantTrials", "TrialData", "read_trials",
           "simulate_participants", "write_trials"]
