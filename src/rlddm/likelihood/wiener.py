"""Wiener first-passage densities and distributions, in log space: the model-free part of the likelihood.

The density here is that of the continuous-time model: a Wiener process with unit
diffusion coefficient between absorbing boundaries at 0 and ``a``. The simulator's
default Euler walk (``dt = 0.01``) only approximates this process (its discretely
monitored boundaries make decisions late); ``rlddm.simulate(..., method="exact")``
samples this very process, and is what this module should be compared with.
The RLDDM's per-trial likelihood built on these series is ``rlddm.likelihood.trials``.

Conventions
-----------
``choice == 0`` is the upper boundary ``a`` and ``choice == 1`` the lower boundary 0.
Functions take decision times (RT minus non-decision time). All series work in the
standardised time ``u = t / a**2`` with the scaled drift ``s = v * a``; the upper-boundary
quantities are the lower-boundary ones with ``v -> -v`` and ``w -> 1 - w``.

Accuracy
--------
Both series of Navarro & Fuss (2009) are truncated adaptively, as in Gondan, Blurton
& Kesselmeier (2014), but with a *relative* criterion suited to log space: terms are
added until a rigorous bound on the omitted remainder is below ``1e-14`` of the
partial sum, so the criterion holds in the far tails too, where the density
underflows in linear space. The image (small-time) series serves ``u < 0.5`` and the
Fourier (large-time) series the rest; at the switch each needs three corrections,
away from it one or two. Images are summed in pairs chosen so that no cancellation
is left near either boundary (pairs around the mirror copies of the lower boundary
for ``w <= 1/2``, of the upper one for ``w > 1/2``), and ``1 - w`` is carried along
rather than recomputed. Rounding then dominates: against 50-digit evaluation at
random points (both boundaries, ``u`` from 0.005 to 20, ``w`` down to 1e-12 from
either boundary, ``|v a|`` up to 40) the log density was off by at most
``2e-15 * (1 + |log density|)``; start points a subnormal distance from a boundary
(down to 5e-324) keep that accuracy, the series' small products being formed from
their factors there.

The per-boundary CDF follows the same truncation rule: the image series of Blurton,
Kesselmeier & Gondan (2012) for ``u < 0.5``, otherwise the boundary probability minus
the Fourier survival series (the survival is then below 0.17 of the probability, so
the subtraction is well conditioned). It matched adaptive quadrature of the density
to ``2e-14`` relative. Its images are not re-paired, so when the start point is within
``d`` of the opposite boundary its relative accuracy degrades to about ``1e-16 / d``.
``log_prob_response`` adds both boundaries; for ``u >= 0.5`` it uses one survival
series for both.

References
----------
Navarro, D. J., & Fuss, I. G. (2009). Fast and accurate calculations for first-passage
times in Wiener diffusion models. J. Math. Psychol., 53, 222-230.
Blurton, S. P., Kesselmeier, M., & Gondan, M. (2012). Fast and accurate calculations
for cumulative first-passage time distributions in Wiener diffusion models.
J. Math. Psychol., 56, 470-475.
Gondan, M., Blurton, S. P., & Kesselmeier, M. (2014). Even faster and even more
accurate first-passage time densities and distributions for the Wiener diffusion
model. J. Math. Psychol., 60, 20-22.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import log_ndtr

from ..simulator import _sim

__all__ = ["wfpt_logpdf", "wfpt_logcdf", "wfpt_conditional_cdf", "log_prob_response"]

_LOG_EPS = np.log(1e-14)  # relative truncation error of every series
_U_SWITCH = 0.5  # standardised time at which the large-time series takes over
_LOG_2PI = np.log(2.0 * np.pi)
_PI2_HALF = 0.5 * np.pi**2
# Simulated rt = max_steps * dt + ter, once rounded (to float32 in a network's input
# pipeline, say), can give rt - ter slightly above t_max; such decision times still
# count as inside the response window.
_T_MAX_RTOL = 1e-6
# Safety net only: the remainder bounds need at most ~10 terms for any valid input.
_MAX_TERMS = 50
# Smallest normal double: below it a product such as 2 gap / u keeps too few digits.
_TINY = np.finfo(float).tiny


def _extremes_ok() -> np.errstate:
    """Silence overflow and divide-by-zero, keep invalid (NaN) loud.

    Valid but extreme inputs (u near the ends of the float range, |v a| ~ 1e150)
    overflow inside the series to the correct limits: log density -inf,
    probabilities 0 or 1.
    """
    return np.errstate(over="ignore", divide="ignore", under="ignore")


# ----------------------------------------------------------------------------------
# Series kernels. Inputs are 1-d float arrays of one shape, already validated:
# u > 0 finite, s finite, 0 < w < 1, and gap = 1 - w passed separately: for the upper
# boundary w becomes 1 - w, and recomputing 1 - (1 - w) would lose a small w to
# rounding. All values refer to the lower boundary.
# ----------------------------------------------------------------------------------


def _log1mexp(x: NDArray) -> NDArray:
    """``log(1 - exp(x))`` for x <= 0, accurate at both ends (Maechler, 2012).

    Positive x can only come from rounding in a difference of two nearly equal
    probabilities, so it is treated as 0 (giving -inf).
    """
    x = np.minimum(x, 0.0)
    out = np.empty_like(x)
    near_zero = x > -np.log(2.0)
    with np.errstate(divide="ignore"):
        out[near_zero] = np.log(-np.expm1(x[near_zero]))
    out[~near_zero] = np.log1p(-np.exp(x[~near_zero]))
    return out


def _log_small_remainder(k: int, u: NDArray, w: NDArray) -> NDArray:
    """Log of a bound on the image pairs after pair ``k``, relative to the image at w.

    Used for w <= 1/2 (and for the CDF at any w). Pair j contributes at most
    ``8 j**2 / u * exp(-2 j (j - w) / u)`` relative to the image at w; for u <= 1
    successive bounds shrink by a factor below 1/2, so twice the first omitted bound
    bounds the whole remainder.
    """
    j = k + 1
    return np.log(16.0 * j * j) - np.log(u) - 2.0 * j * (j - w) / u


def _log_pair_ratio(k: int, u: NDArray, w: NDArray) -> NDArray:
    """Log of minus image pair k (images at w - 2k and w + 2k) over the image at w.

    Pairing images around the lower boundary's copies keeps every correction of one
    sign and, written with ``expm1``/``log1p``, accurate for w -> 0, where the two
    images cancel to O(w).
    """
    z = 4.0 * k * w / u
    log_bracket = np.log1p((2.0 * k * -np.expm1(-z) - w * (2.0 + np.exp(-z))) / w)
    # Below the normal range z carries too few digits; there 1 - exp(-z) = z and
    # 2 + exp(-z) = 3 to double precision.
    tiny = z < _TINY
    if tiny.any():
        log_bracket[tiny] = np.log1p(8.0 * k * k / u[tiny] - 3.0)
    # A subnormal w with u near the underflow limit overflows the bracket; 2 + exp(-z)
    # is negligible in it there.
    huge = np.isinf(log_bracket)
    if huge.any():
        log_bracket[huge] = np.log(2.0 * k * -np.expm1(-z[huge])) - np.log(w[huge])
    return -2.0 * k * (k - w) / u + log_bracket


def _log_fstd_small_low(u: NDArray, w: NDArray, gap: NDArray) -> NDArray:
    """Small-time series for w <= 1/2: the image at w minus image pairs.

    For w <= 1/2 and u < 1/2 the pairs remove at most 40 % of the leading image, so
    stopping once the remainder bound (increasing in u and w) is below ``eps / 2`` at
    the largest u and w keeps the relative error below eps for every element.
    """
    u_max, w_max = np.max(u), np.max(w)
    one_minus = -np.expm1(_log_pair_ratio(1, u, w))
    k = 1
    while _log_small_remainder(k, u_max, w_max) > _LOG_EPS + np.log(0.5):
        k += 1
        one_minus -= np.exp(_log_pair_ratio(k, u, w))
    return np.log(w) - w * w / (2.0 * u) + np.log(one_minus)


def _log_upper_bracket(m: int, u: NDArray, gap: NDArray) -> NDArray:
    """Log of ``m (1 - e) - gap (1 + e)``, ``e = exp(-2 m gap / u)``: see `_log_fstd_small_high`.

    Where ``x = 2 m gap / u`` is below the normal range (gap within about 1e-308 of the
    upper boundary) x carries too few digits; there ``1 - e = x`` and ``1 + e = 2`` to
    double precision, so the bracket is ``gap (2 m**2 / u - 2)``, formed from gap (exact
    as given) and a normal number.
    """
    x = 2.0 * m * gap / u
    out = np.log(m * -np.expm1(-x) - gap * (1.0 + np.exp(-x)))
    tiny = x < _TINY
    if tiny.any():
        out[tiny] = np.log(gap[tiny]) + np.log(2.0 * m * m / u[tiny] - 2.0)
    return out


def _log_fstd_small_high(u: NDArray, w: NDArray, gap: NDArray) -> NDArray:
    """Small-time series for w > 1/2, with images paired around the upper boundary's copies.

    With ``gap = 1 - w`` and m odd, the images at ``m - gap`` and ``-(m + gap)`` sum
    to ``exp(-(m - gap)**2 / 2u)`` times a bracket (`_log_upper_bracket`), positive for u < 1.
    Near w = 1 the density is O(gap) while single images are O(1); these pairs leave
    no cancellation. The bracket is at most ``m min(1, 2 m gap / u)`` and the pairs
    shrink by more than half from one m to the next, which bounds the remainder;
    the partial sum is at least the first pair. Ratios to the first pair are formed
    analytically so that nothing is computed as ``-inf - -inf`` when u underflows, and
    in log space so that a first pair near the underflow limit cannot make them overflow.
    """
    log_first = _log_upper_bracket(1, u, gap)
    acc = np.ones_like(u)
    for m in range(3, 2 * _MAX_TERMS, 2):
        log_ratio_exp = -(m - 1) * (m + 1 - 2.0 * gap) / (2.0 * u)  # exp part of pair m / pair 1
        log_bound = np.log(2.0 * m * np.minimum(1.0, 2.0 * m * gap / u)) + log_ratio_exp - log_first
        if np.all(log_bound <= _LOG_EPS):
            return -w * w / (2.0 * u) + log_first + np.log(acc)
        acc += np.exp(_log_upper_bracket(m, u, gap) - log_first + log_ratio_exp)
    raise RuntimeError(f"image series did not converge in {_MAX_TERMS} terms; please report")


def _log_fstd_small(u: NDArray, w: NDArray, gap: NDArray) -> NDArray:
    """Log of the drift-free unit-boundary density, small-time (image) series."""
    log_f = _piecewise(w > 0.5, _log_fstd_small_high, _log_fstd_small_low, u, w, gap)
    return log_f - 0.5 * _LOG_2PI - 1.5 * np.log(u)


def _n_fourier_terms(u_min: float) -> int:
    """Fourier terms needed for a relative remainder below eps at every u >= u_min.

    ``|sin(j pi w)| <= j sin(pi w)`` and every ``coef`` is at most 1 in modulus, so
    term j is at most ``j**2 exp(-(j**2 - 1) pi**2 u / 2)`` times term 1. For
    u >= 0.5 these bounds fall by more than half from one j to the next (twice the
    first omitted one bounds the remainder) and sum to under 0.003, so the partial
    sum is at least 0.99 times term 1.
    """
    k = 1
    while np.log(2.0 * (k + 1) ** 2) - ((k + 1) ** 2 - 1) * _PI2_HALF * u_min > _LOG_EPS + np.log(0.99):
        k += 1
    return k


def _fourier_sum(u: NDArray, w: NDArray, gap: NDArray, coef) -> tuple[NDArray, NDArray]:
    """Series ``sum_k k sin(k pi w) exp(-k**2 pi**2 u / 2) coef(k)``, factored.

    Returns ``(log_lead, acc)`` with the series equal to ``exp(log_lead) * acc``: the
    leading term is k = 1 (``coef(1) = 1``) and ``acc = 1 + corrections``.
    ``sin(k pi w) / sin(pi w)`` is the Chebyshev polynomial ``U_{k-1}(cos(pi w))``,
    evaluated by recurrence so that w near 0 or 1 loses no accuracy.
    """
    cos_pw = np.cos(np.pi * w)
    # sin(pi w) = sin(pi gap); the smaller argument carries the relative accuracy. Below
    # the normal range pi * smaller would lose digits, and sin(x) = x there anyway.
    smaller = np.minimum(w, gap)
    log_lead = np.log(np.sin(np.pi * smaller)) - _PI2_HALF * u
    tiny = np.pi * smaller < _TINY
    if tiny.any():
        log_lead[tiny] = np.log(np.pi) + np.log(smaller[tiny]) - _PI2_HALF * u[tiny]
    acc = np.ones_like(u)
    cheb_prev, cheb = 1.0, 2.0 * cos_pw  # U_0, U_1
    for k in range(2, _n_fourier_terms(np.min(u)) + 1):
        acc += k * cheb * coef(k) * np.exp(-(k * k - 1) * _PI2_HALF * u)
        cheb_prev, cheb = cheb, 2.0 * cos_pw * cheb - cheb_prev
    return log_lead, acc


def _log_fstd_large(u: NDArray, w: NDArray, gap: NDArray) -> NDArray:
    """Log of the drift-free unit-boundary density, large-time (Fourier) series."""
    log_lead, acc = _fourier_sum(u, w, gap, lambda k: 1.0)
    return np.log(np.pi) + log_lead + np.log(acc)


def _piecewise(cond: NDArray, fn_true, fn_false, *args: NDArray) -> NDArray:
    """``fn_true(*args)`` where cond holds and ``fn_false(*args)`` elsewhere, elementwise."""
    if args[0].size == 0:
        return np.empty_like(args[0])
    if cond.all():
        return fn_true(*args)
    if not cond.any():
        return fn_false(*args)
    out = np.empty_like(args[0])
    out[cond] = fn_true(*(x[cond] for x in args))
    out[~cond] = fn_false(*(x[~cond] for x in args))
    return out


def _split(u: NDArray, small_fn, large_fn, *args: NDArray) -> NDArray:
    """Evaluate ``small_fn`` where u < _U_SWITCH and ``large_fn`` elsewhere."""
    return _piecewise(u < _U_SWITCH, small_fn, large_fn, u, *args)


def _log_density_lower(u: NDArray, s: NDArray, w: NDArray, gap: NDArray) -> NDArray:
    """Log lower-boundary density in standardised time (multiply by 1/a**2 for t)."""
    log_fstd = _split(u, _log_fstd_small, _log_fstd_large, w, gap)
    return log_fstd - s * w - 0.5 * s * s * u


def _log_p_lower(s: NDArray, w: NDArray, gap: NDArray) -> NDArray:
    """Log probability of ever absorbing at the lower boundary.

    ``(exp(-2 s w) - exp(-2 s)) / (1 - exp(-2 s))``, rearranged per sign of s so that
    no exponential exceeds 1.
    """
    out = np.log(gap)  # the s = 0 limit
    pos = s > 0
    neg = s < 0
    sp, wp, gp = s[pos], w[pos], gap[pos]
    out[pos] = -2.0 * sp * wp + np.log(-np.expm1(-2.0 * sp * gp)) - np.log(-np.expm1(-2.0 * sp))
    sn, gn = s[neg], gap[neg]
    out[neg] = np.log(-np.expm1(2.0 * sn * gn)) - np.log(-np.expm1(2.0 * sn))
    return out


_S2_CAP = 1e300


def _capped_square(s: NDArray) -> NDArray:
    """``s**2``, capped at 1e300 so that ratios of ``s**2 + c`` never become inf / inf.

    Where the cap applies (|s| > 1e150) the Fourier series carry ``exp(-s**2 u / 2)``
    with u >= 0.5, which is 0: `_vanishing_beyond_cap` sets their logs to -inf there,
    since the capped square no longer outweighs the terms linear in s (|s| > 2.5e299).
    """
    return np.minimum(s * s, _S2_CAP)


def _vanishing_beyond_cap(log_value: NDArray, s: NDArray) -> NDArray:
    """``log_value``, with -inf where ``s**2`` exceeds the cap of `_capped_square`."""
    with np.errstate(over="ignore"):
        return np.where(s * s > _S2_CAP, -np.inf, log_value)


def _log_tail_large(u: NDArray, s: NDArray, w: NDArray, gap: NDArray) -> NDArray:
    """Log probability of absorbing at the lower boundary after standardised time u.

    Term-wise integral of the large-time density series (Blurton et al., 2012).
    """
    s2 = _capped_square(s)
    log_lead, acc = _fourier_sum(u, w, gap, lambda k: (s2 + np.pi**2) / (s2 + (k * np.pi) ** 2))
    return _vanishing_beyond_cap(
        _LOG_2PI - s * w - 0.5 * s2 * u + log_lead - np.log(s2 + np.pi**2) + np.log(acc), s)


def _log_survival_large(u: NDArray, s: NDArray, w: NDArray, gap: NDArray) -> NDArray:
    """Log probability of no absorption at either boundary by standardised time u.

    The two boundaries' tails share every term up to the factor
    ``exp(-s w) + (-1)**(k+1) exp(s (1 - w))``, which is ``exp(s (1/2 - w))`` times
    ``2 cosh(s/2)`` for odd k and ``-2 sinh(s/2)`` for even k; one series serves both.
    """
    s2 = _capped_square(s)
    minus_tanh = -np.tanh(0.5 * s)

    def coef(k):
        ratio = (s2 + np.pi**2) / (s2 + (k * np.pi) ** 2)
        return ratio if k % 2 else minus_tanh * ratio

    log_lead, acc = _fourier_sum(u, w, gap, coef)
    half = 0.5 * np.abs(s)
    log_2cosh = half + np.log1p(np.exp(-2.0 * half))
    return _vanishing_beyond_cap(
        _LOG_2PI + s * (0.5 - w) + log_2cosh - 0.5 * s2 * u + log_lead - np.log(s2 + np.pi**2)
        + np.log(acc), s)


def _log_cdf_large(u: NDArray, s: NDArray, w: NDArray, gap: NDArray) -> NDArray:
    """Log P(absorb at lower boundary before u): boundary probability minus tail."""
    log_p = _log_p_lower(s, w, gap)
    return log_p + _log1mexp(_log_tail_large(u, s, w, gap) - log_p)


def _log_cdf_small(u: NDArray, s: NDArray, w: NDArray, gap: NDArray) -> NDArray:
    """Log P(absorb at lower boundary before u), small-time image series.

    Each image of the density series integrates to an inverse-Gaussian CDF; images
    are added in the pairs of `_log_fstd_small_low`, whose remainder bound (valid for
    any w, and increasing in time for u <= 1) bounds the truncation error relative to
    the integrated leading image. ``gap`` is unused; the signature matches `_split`.
    """
    su = s * u
    root_u = np.sqrt(u)
    log_lead = np.logaddexp(log_ndtr((-su - w) / root_u), -2.0 * s * w + log_ndtr((su - w) / root_u))
    log_pos = log_lead
    log_neg = np.full_like(u, -np.inf)
    # log_lead underflows to -inf only for subnormal u; the CDF is then 0.
    vanishing = np.isneginf(log_lead)
    for k in range(1, _MAX_TERMS):
        near, far = 2.0 * k - w, 2.0 * k + w  # |image positions| of pair k
        log_neg = np.logaddexp(
            log_neg,
            np.logaddexp(
                -2.0 * k * s + log_ndtr((su - near) / root_u),
                2.0 * s * (k - w) + log_ndtr((-su - near) / root_u),
            ),
        )
        log_pos = np.logaddexp(
            log_pos,
            np.logaddexp(
                2.0 * k * s + log_ndtr((-su - far) / root_u),
                -2.0 * s * (k + w) + log_ndtr((su - far) / root_u),
            ),
        )
        with np.errstate(invalid="ignore"):
            log_cdf = log_pos + _log1mexp(np.where(vanishing, -np.inf, log_neg - log_pos))
        # A CDF that cancels to 0 (start point within rounding of the other
        # boundary) cannot be refined by more terms.
        if np.all((_log_small_remainder(k, u, w) + log_lead <= _LOG_EPS + log_cdf) | np.isneginf(log_cdf)):
            return log_cdf
    raise RuntimeError(f"image series of the CDF did not converge in {_MAX_TERMS} terms; please report")


def _log_cdf_lower(u: NDArray, s: NDArray, w: NDArray, gap: NDArray) -> NDArray:
    """Log P(absorb at lower boundary before standardised time u), u > 0 (may be inf)."""
    out = _log_p_lower(s, w, gap)
    finite = np.isfinite(u)
    # Rounding with extreme drifts can push the CDF a few ulp-of-s above its limit.
    log_cdf = _split(u[finite], _log_cdf_small, _log_cdf_large, s[finite], w[finite], gap[finite])
    out[finite] = np.minimum(log_cdf, out[finite])
    return out


def _log_response_finite(u: NDArray, s: NDArray, w: NDArray, gap: NDArray) -> NDArray:
    """Log P(absorb at either boundary before u), finite u > 0."""

    def small(u, s, w, gap):
        return np.logaddexp(_log_cdf_small(u, s, w, gap), _log_cdf_small(u, -s, gap, w))

    def large(u, s, w, gap):
        return _log1mexp(_log_survival_large(u, s, w, gap))

    # Rounding with extreme drifts (|v a| ~ 1e4) can give log P a hair above 0.
    return np.minimum(_split(u, small, large, s, w, gap), 0.0)


# ----------------------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------------------


def _wiener_log_density(t: NDArray, choice: NDArray, v: NDArray, a: NDArray,
                        w: NDArray, n_threads: int = 1) -> NDArray:
    """``log f(t | choice; v, a, w)`` by the compiled kernel (``_sim.wiener_log_density``).

    The series of `_log_density_lower` (less ``2 log a``), each element truncated on its
    own; ``-inf`` where t <= 0 or ``t / a**2`` or ``v a`` leave the float range. Inputs
    are 1-d, of one length, already valid (0 < w < 1, a > 0). ``tests/test_wiener_kernel.py``
    holds it against the NumPy series to 1e-12. ``n_threads`` splits the elements (the
    same result for any count).
    """
    arrays = [np.ascontiguousarray(x, dtype=np.float64) for x in (t, v, a, w)]
    out = np.empty(arrays[0].shape)
    n_failed = _sim.wiener_log_density(arrays[0], np.ascontiguousarray(choice, dtype=np.int8),
                                       arrays[1], arrays[2], arrays[3], out, n_threads)
    if n_failed:
        raise RuntimeError(f"image series did not converge in {_MAX_TERMS} terms; please report")
    return out


def _log_response(u: NDArray, s: NDArray, w: NDArray, n_threads: int = 1) -> NDArray:
    """`_log_response_finite(u, s, w, 1 - w)`: compiled (``_sim.wiener_log_response``) where
    u >= _U_SWITCH, |s| <= 1e150 and min(w, 1 - w) >= 1e-10, the NumPy series elsewhere."""
    arrays = [np.ascontiguousarray(x, dtype=np.float64) for x in (u, s, w)]
    out = np.empty(arrays[0].shape)
    if _sim.wiener_log_response(*arrays, out, n_threads):
        left = np.isnan(out)
        with _extremes_ok():
            out[left] = _log_response_finite(u[left], s[left], w[left], 1.0 - w[left])
    return out


def _raise_at(name: str, requirement: str, values: NDArray, bad: NDArray) -> None:
    """Raise a ValueError naming the argument and its first offending value."""
    if not np.any(bad):
        return
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    where = f" at index {index}" if index else ""
    raise ValueError(f"{name} must be {requirement}, got {values[index].item()!r}{where}")


def _as_array(x: ArrayLike, name: str) -> NDArray:
    """``np.asarray(x)``, with NumPy's error on ragged nesting naming the argument."""
    try:
        return np.asarray(x)
    except ValueError as err:
        raise ValueError(f"{name} must be a real numeric array: {err}") from None


def _float_array(x: ArrayLike, name: str) -> NDArray[np.float64]:
    """``x`` as a float64 array if it is real numeric (bool, int or float); else ValueError.

    Strings are refused even where NumPy would parse them, and so are integers beyond
    the float range (NumPy keeps them as objects).
    """
    array = _as_array(x, name)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be a real numeric array, got dtype {array.dtype}")
    return array.astype(np.float64, copy=False)


def _as_float_arrays(**named: ArrayLike) -> list[NDArray]:
    """Float arrays broadcast against each other; NaN anywhere raises, naming the argument."""
    arrays = []
    for name, x in named.items():
        arr = _float_array(x, name)
        _raise_at(name, "a number (not NaN)", arr, np.isnan(arr))
        arrays.append(arr)
    return np.broadcast_arrays(*arrays)


def _check_process(v: NDArray, a: NDArray, w: NDArray) -> None:
    _raise_at("v", "finite", v, ~np.isfinite(v))
    _raise_at("a", "finite and > 0", a, ~(np.isfinite(a) & (a > 0)))
    _raise_at("w", "in (0, 1)", w, ~((w > 0) & (w < 1)))
    with np.errstate(over="ignore"):
        scaled_drift = v * a
    _raise_at("v * a", "finite", scaled_drift, ~np.isfinite(scaled_drift))


def _check_choice(choice: NDArray) -> None:
    bad = ~((choice == 0) | (choice == 1))
    _raise_at("choice", "0 (upper boundary) or 1 (lower boundary)", choice, bad)


def _to_lower(choice: NDArray, s: NDArray, w: NDArray) -> tuple[NDArray, NDArray, NDArray]:
    """``(s, w, 1 - w)`` for which the lower-boundary formulas give the chosen boundary."""
    upper = choice == 0
    gap = 1.0 - w
    return np.where(upper, -s, s), np.where(upper, gap, w), np.where(upper, w, gap)


def _standardised_time(t: NDArray, a: NDArray) -> NDArray:
    """``t / a**2``, 0 where t <= 0; overflow to inf and underflow to 0 are the right limits."""
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        return np.where(t > 0, t / a**2, 0.0)


def _scalar_or_array(out: NDArray) -> NDArray | float:
    """NumPy's convention: 0-d results come back as scalars."""
    return out[()] if out.ndim == 0 else out


# ----------------------------------------------------------------------------------
# Public functions
# ----------------------------------------------------------------------------------


def wfpt_logpdf(
    t: ArrayLike, choice: ArrayLike, v: ArrayLike, a: ArrayLike, w: ArrayLike
) -> NDArray | float:
    """Log density of a Wiener first passage at time ``t`` through boundary ``choice``.

    The process starts at ``a * w``, has drift ``v`` and unit diffusion coefficient,
    and is absorbed at 0 and ``a``. The density is defective: integrated over ``t``
    and summed over both boundaries it gives 1.

    Parameters
    ----------
    t : array_like
        Decision time (RT minus non-decision time), in seconds. ``t <= 0`` and
        ``t = inf`` give ``-inf``.
    choice : array_like of {0, 1}
        0 for the upper boundary ``a``, 1 for the lower boundary 0.
    v : array_like
        Drift rate, finite; positive drift points to the upper boundary.
    a : array_like
        Boundary separation, ``> 0`` and finite.
    w : array_like
        Relative start point, in ``(0, 1)``.

    Returns
    -------
    ndarray or float
        Log density, shape of the broadcast inputs; a float if all are scalars.

    Raises
    ------
    ValueError
        If an input is NaN, ``choice`` is not 0 or 1, ``v`` is not finite, ``a`` is
        not finite and positive, or ``w`` is outside ``(0, 1)``.
    """
    t, choice, v, a, w = _as_float_arrays(t=t, choice=choice, v=v, a=a, w=w)
    _check_choice(choice)
    _check_process(v, a, w)
    u = _standardised_time(t, a)
    out = np.full(t.shape, -np.inf)
    ok = (u > 0) & np.isfinite(u)  # the density vanishes as u -> 0 and u -> inf
    with _extremes_ok():
        log_density = _log_density_lower(u[ok], *_to_lower(choice[ok], v[ok] * a[ok], w[ok]))
        out[ok] = log_density - 2.0 * np.log(a[ok])  # from standardised to real time
    return _scalar_or_array(out)


def wfpt_logcdf(
    t: ArrayLike, choice: ArrayLike, v: ArrayLike, a: ArrayLike, w: ArrayLike
) -> NDArray | float:
    """Log probability of absorbing at boundary ``choice`` before time ``t``.

    This is the defective first-passage CDF of one boundary: at ``t = inf`` it is the
    log probability of ever choosing that boundary, and the two boundaries' CDFs sum
    to ``P(decision before t)``.

    Parameters
    ----------
    t : array_like
        Decision time, in seconds; ``t <= 0`` gives ``-inf``, ``t = inf`` is allowed.
    choice : array_like of {0, 1}
        0 for the upper boundary ``a``, 1 for the lower boundary 0.
    v, a, w : array_like
        Drift, boundary separation and relative start point, as in `wfpt_logpdf`.

    Returns
    -------
    ndarray or float
        Log CDF, shape of the broadcast inputs; a float if all are scalars.

    Raises
    ------
    ValueError
        On the same inputs as `wfpt_logpdf`.
    """
    t, choice, v, a, w = _as_float_arrays(t=t, choice=choice, v=v, a=a, w=w)
    _check_choice(choice)
    _check_process(v, a, w)
    u = _standardised_time(t, a)
    out = np.full(t.shape, -np.inf)
    ok = u > 0
    with _extremes_ok():
        out[ok] = _log_cdf_lower(u[ok], *_to_lower(choice[ok], v[ok] * a[ok], w[ok]))
    return _scalar_or_array(out)


def wfpt_conditional_cdf(t: ArrayLike, choice: ArrayLike, v: ArrayLike, a: ArrayLike,
                         w: ArrayLike, t_max: ArrayLike = np.inf) -> NDArray | float:
    """CDF of the decision time given the boundary reached and a decision before ``t_max``.

    ``P(T <= t | boundary = choice, T <= t_max)``: the probability integral transform
    of simulated decision times, uniform on (0, 1) under the continuous-time model.

    Parameters
    ----------
    t, choice, v, a, w : array_like
        As in `wfpt_logcdf` (broadcast together).
    t_max : array_like
        Response deadline of the decision time (``inf``: none).

    Returns
    -------
    ndarray or float
        Values in [0, 1], shape of the broadcast inputs.
    """
    return np.exp(wfpt_logcdf(np.minimum(t, t_max), choice, v, a, w)
                  - wfpt_logcdf(t_max, choice, v, a, w))


def log_prob_response(v: ArrayLike, a: ArrayLike, w: ArrayLike, t_max: ArrayLike) -> NDArray | float:
    """Log probability that the decision time is below ``t_max`` (either boundary).

    This is the normaliser of the RLDDM trial density: the simulator re-runs a trial
    whose decision time exceeds ``t_max``.

    Parameters
    ----------
    v, a, w : array_like
        Drift, boundary separation and relative start point, as in `wfpt_logpdf`.
    t_max : array_like
        Response deadline for the decision time, in seconds; ``<= 0`` gives ``-inf``
        and ``inf`` gives 0.

    Returns
    -------
    ndarray or float
        ``log P(T < t_max)``, shape of the broadcast inputs; a float if all are scalars.

    Raises
    ------
    ValueError
        If an input is NaN, or ``v``, ``a``, ``w`` are invalid as in `wfpt_logpdf`.
    """
    v, a, w, t_max = _as_float_arrays(v=v, a=a, w=w, t_max=t_max)
    _check_process(v, a, w)
    u = _standardised_time(t_max, a)
    out = np.where(u > 0, 0.0, -np.inf)
    ok = (u > 0) & np.isfinite(u)
    with _extremes_ok():
        out[ok] = _log_response_finite(u[ok], v[ok] * a[ok], w[ok], 1.0 - w[ok])
    return _scalar_or_array(out)
