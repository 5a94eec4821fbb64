"""Old import path ``rlddm.simulation``, kept working: the validated wrapper of the compiled simulator.

The code now lives in ``rlddm.simulator.simulation``; this module only re-exports it, and
new code imports from there.
"""

from .simulator.simulation import (DEFAULT_MAX_RETRIES, METHODS, SimulationInputs,
                                   SimulationResult, broadcast_batch, check_options,
                                   check_outcomes, check_output_size, check_simulation_inputs,
                                   check_simulation_options, owned_copy, simulate)
