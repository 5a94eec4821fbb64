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


def check_finite(value: Any, name: str) -> float:
    """Return ``value`` as a float if it is a real, finite number (not a bool).

    Raises
    ------
    ValueError
        Naming ``name`` and the bad value otherwise (strings, arrays, NaN, infinities
        and integers beyond the float range included).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:
        number = float("inf")
    if not np.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return number


def check_deadline(dt: Any, max_steps: Any) -> float:
    """Validate the simulator's step and step limit; return the deadline ``max_steps * dt``.

    The one check of ``dt`` and ``max_steps`` for every module that takes them (the
    simulators, the likelihood, the sampler): ``dt`` a finite number > 0, ``max_steps``
    an integer in ``[1, 2**31)`` (the kernel's int), and their product finite.

    Raises
    ------
    ValueError
        Naming the argument and the bad value.
    """
    step = check_finite(dt, "dt")
    if step <= 0:
        raise ValueError(f"dt must be a finite number > 0, got {dt!r}")
    steps = check_count(max_steps, "max_steps", 1)
    if steps >= 2**31:
        raise ValueError(f"max_steps must be < 2**31, got {max_steps!r}")
    t_max = steps * step
    if not np.isfinite(t_max):
        raise ValueError(f"dt * max_steps (the response deadline) must be finite, got dt = "
                         f"{dt!r} and max_steps = {max_steps!r}")
    return t_max
