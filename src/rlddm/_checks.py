"""Argument checks shared by the modules (the parameter table has its own in ``parameters``)."""

from __future__ import annotations

from typing import Any

import numpy as np


def check_count(value: Any, name: str, minimum: int) -> int:
    """Return ``value`` as an int if it is an integer (not a bool) >= ``minimum``.

    Raises
    ------
    ValueError
        Naming ``name`` and the bad value otherwise.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
