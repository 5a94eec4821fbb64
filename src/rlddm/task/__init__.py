"""Task designs: what a participant is shown and what it pays.

``reversal`` holds the two-armed reversal design (:class:`ReversalDesign`, the package's
original task); ``designs`` holds general multi-option designs (:class:`TaskDesign`, the
probabilistic selection task), named designs and their TOML files.
"""

from .designs import (ORDERS, Design, Option, PathLike, Phase, TaskDesign, get_design,
                      list_designs, load_design, save_design)
from .reversal import ReversalDesign, reversal_outcomes

__all__ = ["Design", "ORDERS", "Option", "PathLike", "Phase", "ReversalDesign", "TaskDesign",
           "get_design", "list_designs", "load_design", "reversal_outcomes", "save_design"]
