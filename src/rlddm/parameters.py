"""Old import path ``rlddm.parameters``, kept working: the parameter table.

The code now lives in ``rlddm.model.parameters``; this module only re-exports it, and new
code imports from there.
"""

from .model.parameters import (N_PARAMETERS, PARAMETERS, PARAMETER_NAMES, PARAMETER_TABLE,
                               Parameter, check_columns, check_theta)
