"""Plain-Python mirror of ``_wiener.h``, the exact first-passage sampler of the kernel.

Same algorithm, same constants, same draws in the same order from a NumPy
``Generator``, same floating-point operations in the same order: given the stream
the compiled kernel uses, it returns the same (decision time, boundary) bit for bit
(with the kernel built with -ffp-contract=off, as CMakeLists.txt does).
The algorithm and its accuracy are described in ``_wiener.h``; the comments here
only point at the matching step.
"""

from __future__ import annotations

import math

import numpy as np

# Keep in step with the RLDDM_WIENER_* macros in _wiener.h.
TAU_SWITCH = 0.5
MAX_TERMS = 40
MAX_PROPOSALS = 100_000

_SQRT_2PI = 2.50662827463100050242
_HALF_PI_SQ = 4.93480220054467930942


def first_passage(gen: np.random.Generator, v: float, a: float, w: float) -> tuple[float, int]:
    """Draw one exact first passage of a Wiener diffusion through 0 or ``a``.

    Parameters
    ----------
    gen : numpy.random.Generator
        Stream to draw from: one uniform for the boundary, then per proposal one
        standard normal, one uniform if ``v != 0``, and one uniform for the test.
    v : float
        Drift (unit diffusion coefficient); positive drifts towards ``a``.
    a : float
        Boundary separation, > 0.
    w : float
        Relative start point in (0, 1); the walk starts at ``a * w``.

    Returns
    -------
    decision_time : float
        First-passage time in the units of ``v`` and ``a`` (seconds).
    upper : int
        1 if the walk left through ``a`` (choice 0), 0 if through 0 (choice 1).
    """
    nu = v * a
    # Boundary from its exact probability; expm1 of a negative argument never
    # overflows and keeps the ratio accurate for small drifts.
    if nu > 0.0:
        p_upper = math.expm1(-2.0 * nu * w) / math.expm1(-2.0 * nu)
    elif nu < 0.0:
        p_upper = 1.0 - math.expm1(2.0 * nu * (1.0 - w)) / math.expm1(2.0 * nu)
    else:
        p_upper = w
    if gen.random() < p_upper:
        upper, x = 1, 1.0 - w
    else:
        upper, x = 0, w
    return a * a * _conditional_time(gen, abs(nu), x), upper


def _conditional_time(gen: np.random.Generator, anu: float, x: float) -> float:
    """Normalised passage time through the boundary at distance ``x`` (width 1)."""
    lam = x * x
    k = x * anu
    tau = math.inf
    for _ in range(MAX_PROPOSALS):
        # Inverse-Gaussian proposal IG(x / anu, x^2) (Michael, Schucany & Haas 1976),
        # root written without cancellation so that anu = 0 gives the Levy law.
        y = gen.standard_normal()
        y = y * y
        den = y + 2.0 * k + math.sqrt(y * y + 4.0 * k * y)
        tau = 2.0 * lam / den if den > 0.0 else math.inf
        if anu > 0.0:
            mu = x / anu
            if gen.random() * (mu + tau) > mu:
                tau = mu * mu / tau
        if _accept(gen.random(), tau, x):
            return tau
    return tau


def _accept(u: float, tau: float, x: float) -> bool:
    """Series test of ``u < f0(tau; x) / levy(tau; x)``, decided on rigorous bounds."""
    if tau <= TAU_SWITCH:
        # Small-time (image) series divided by its first term: alternating, and
        # decreasing from the second term on because tau <= 1 < (2 - x)^2.
        s = 1.0
        for j in range(1, MAX_TERMS + 1):
            r = j + x if j % 2 == 0 else j + 1 - x
            c = r / x * math.exp(-(r * r - x * x) / (2.0 * tau))
            if j % 2 == 1:
                s -= c
                if u < s:
                    return True
            else:
                s += c
                if u >= s:
                    return False
        return u < s
    # Large-time (Fourier) series with the tail bound
    # sum_{k > K} k e^{-k^2 h} <= e^{-(K+1)^2 h} (K + 1 + 1 / (2 h)),
    # after the cheaper test with |sin| <= 1 and e^{-z} >= 1 - z.
    h = _HALF_PI_SQ * tau
    inv_2h = 0.5 / h
    e = math.exp(-h)
    e_next = (e * e) * (e * e)
    levy = x / (_SQRT_2PI * tau * math.sqrt(tau))
    if u * (levy * (1.0 - x * x / (2.0 * tau))) >= math.pi * (e + e_next * (2.0 + inv_2h)):
        return False
    target = u * (levy * math.exp(-x * x / (2.0 * tau)))
    s = 0.0
    for k in range(1, MAX_TERMS + 1):
        s += k * math.sin(k * math.pi * x) * e
        k1 = k + 1
        if k > 1:
            e_next = math.exp(-(k1 * k1) * h)
        bound = e_next * (k1 + inv_2h)
        if target < math.pi * (s - bound):
            return True
        if target >= math.pi * (s + bound):
            return False
        e = e_next
    return target < math.pi * s
