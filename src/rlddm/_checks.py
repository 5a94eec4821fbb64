"""Argument checks shared by the modules (the parameter table has its own in ``parameters``)."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
from numpy.typing import NDArray


def check_flag(value: Any, name: str) -> bool:
    """``value`` if it is True or False; a ValueError naming ``name`` otherwise."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def participant_coords(participants: Any) -> NDArray:
    """Participant ids as NetCDF coordinates: integers stay integers, any other id is text.

    Raises
    ------
    ValueError
        If two ids become the same text (NetCDF has no object coordinates).
    """
    if all(isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in participants):
        return np.array(participants, dtype=np.int64)
    text = np.array([str(p) for p in participants])
    if np.unique(text).size != text.size:
        raise ValueError(f"participant ids must stay distinct as text, got {list(participants)!r}")
    return text


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


MAX_REWARD = sys.float_info.max / 2
"""Largest magnitude of a reward, outcome or initial Q-value: every Q-value lies between q0
and past rewards, so prediction errors ``r - Q`` and Q differences stay finite."""

MAX_BYTES = 8 * 2**30
"""Largest allocation one call may plan; larger requests are refused before they start."""


def _real(value: Any, name: str, requirement: str) -> float:
    """``value`` as a float (an integer beyond the float range as an infinity), or ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be {requirement}, got {value!r}")
    try:
        return float(value)
    except OverflowError:
        return float("inf") if value > 0 else float("-inf")


def check_finite(value: Any, name: str) -> float:
    """Return ``value`` as a float if it is a real, finite number (not a bool).

    Raises
    ------
    ValueError
        Naming ``name`` and the bad value otherwise (strings, arrays, NaN, infinities
        and integers beyond the float range included).
    """
    number = _real(value, name, "a finite number")
    if not np.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return number


def check_bound(value: Any, name: str) -> float:
    """Return ``value`` as a float if it is a real number or an infinity (not NaN, not a bool).

    Raises
    ------
    ValueError
        Naming ``name`` and the bad value otherwise.
    """
    number = _real(value, name, "a number or an infinity")
    if np.isnan(number):
        raise ValueError(f"{name} must be a number or an infinity, got {value!r}")
    return number


def check_size(n_bytes: int, what: str, advice: str) -> None:
    """Refuse to allocate ``n_bytes`` (an estimate, before allocating) beyond :data:`MAX_BYTES`.

    Raises
    ------
    ValueError
        Naming ``what`` would be allocated, its size in GiB, and ``advice``.
    """
    if n_bytes > MAX_BYTES:
        gib = n_bytes / 2**30 if n_bytes < 2**1000 else float("inf")
        raise ValueError(f"{what} would take {gib:.3g} GiB, more than "
                         f"{MAX_BYTES / 2**30:g} GiB; {advice}")


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


def outside_reward_range(values: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Where rewards are infinite or beyond :data:`MAX_REWARD` (NaN, no feedback, is inside)."""
    with np.errstate(invalid="ignore"):
        return np.abs(values) > MAX_REWARD


def check_q0(value: Any) -> float:
    """Return the initial Q-value as a float: a finite number within :data:`MAX_REWARD`.

    Raises
    ------
    ValueError
        Naming ``q0`` and the bad value otherwise.
    """
    q0 = check_finite(value, "q0")
    if abs(q0) > MAX_REWARD:
        raise ValueError(f"q0 must be at most {MAX_REWARD:g} in magnitude, got {value!r}")
    return q0
