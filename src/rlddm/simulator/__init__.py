"""The simulator: the compiled kernel (``_sim``), its validated wrapper and the reference.

``simulation`` checks the inputs and calls the kernel (:func:`simulate`); ``reference``
is the same model in plain Python, written to be read and to test the kernel against,
never a fallback.
"""

from .simulation import METHODS, SimulationResult, simulate

__all__ = ["METHODS", "SimulationResult", "simulate"]
