"""Old import path ``rlddm.designs``, kept working: task designs (TaskDesign, named designs, TOML files).

The code now lives in ``rlddm.task.designs``; this module only re-exports it, and new code
imports from there.
"""

from .task.designs import (Design, ORDERS, Option, PathLike, Phase, TaskDesign, get_design,
                           list_designs, load_design, save_design)

__all__ = ["Design", "ORDERS", "Option", "Phase", "TaskDesign", "get_design", "list_designs",
           "load_design", "save_design"]
