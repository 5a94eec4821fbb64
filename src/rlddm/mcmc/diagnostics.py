"""Convergence diagnostics of MCMC draws: rank-normalised split R-hat, bulk and tail ESS.

Rank-normalised split R-hat (the larger of the bulk and the folded, tail version),
bulk and tail effective sample size, all as in Vehtari, Gelman, Simpson, Carpenter &
Buerkner (2021), Bayesian Analysis 16, 667-718, with Geyer's initial monotone sequence
(ArviZ's estimator, reproduced to rounding). A posterior passes when, for every
parameter, R-hat <= ``RHAT_MAX`` (1.01) and both ESS >= ``MIN_ESS`` (400); the sampler
(``rlddm.mcmc.sampler``) samples a data set that fails once more.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special, stats

__all__ = ["MIN_ESS", "RHAT_MAX", "ess_bulk", "ess_tail", "rhat"]

RHAT_MAX = 1.01
MIN_ESS = 400.0


# ----------------------------------------------------------------------------------
# Convergence diagnostics (Vehtari et al., 2021)
# ----------------------------------------------------------------------------------


def _split_chains(x: NDArray) -> NDArray:
    """(..., M, N) -> (..., 2M, N // 2): each chain's first and last halves (odd N drops the middle)."""
    half = x.shape[-1] // 2
    return np.concatenate([x[..., :half], x[..., x.shape[-1] - half:]], axis=-2)


def _z_scale(x: NDArray) -> NDArray:
    """Rank-normalise over all chains and draws: ``Phi^-1((rank - 3/8) / (S + 1/4))``."""
    flat = x.reshape(x.shape[:-2] + (-1,))
    ranks = stats.rankdata(flat, axis=-1)
    return special.ndtri((ranks - 0.375) / (flat.shape[-1] + 0.25)).reshape(x.shape)


def _basic_rhat(x: NDArray) -> NDArray:
    """Potential scale reduction of (..., M, N) chains."""
    n = x.shape[-1]
    within = x.var(axis=-1, ddof=1).mean(axis=-1)
    between_over_n = x.mean(axis=-1).var(axis=-1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(((n - 1) / n * within + between_over_n) / within)


def _ess(x: NDArray) -> NDArray:
    """Effective sample size of (..., M, N) chains, Geyer's initial monotone sequence.

    Autocorrelations combine all chains as in Vehtari et al. (2021), eq. 10; pairs of
    consecutive autocorrelations are summed while positive and made non-increasing,
    and the next even lag is added if positive. This follows ArviZ 0.23's ``_ess``
    step by step (its values are reproduced to rounding), including its cap of the
    estimate at ``S log10 S`` draws.
    """
    n_chains, n = x.shape[-2:]
    size = n_chains * n
    centred = x - x.mean(axis=-1, keepdims=True)
    n_fft = 1 << (2 * n - 1).bit_length()
    spectrum = np.fft.rfft(centred, n=n_fft, axis=-1)
    acov = np.fft.irfft(spectrum * spectrum.conj(), n=n_fft, axis=-1)[..., :n] / n
    mean_var = acov[..., 0].mean(axis=-1) * n / (n - 1)
    var_plus = mean_var * (n - 1) / n
    if n_chains > 1:
        var_plus = var_plus + x.mean(axis=-1).var(axis=-1, ddof=1)
    constant = np.ptp(x, axis=(-2, -1)) < np.finfo(float).resolution
    var_plus = np.where(constant, 1.0, var_plus)
    rho = 1.0 - (mean_var[..., None] - acov.mean(axis=-2)) / var_plus[..., None]
    rho[..., 0] = 1.0
    n_pairs = (n - 1) // 2
    pairs = rho[..., : 2 * n_pairs].reshape(rho.shape[:-1] + (n_pairs, 2)).sum(axis=-1)
    positive = np.cumprod(pairs > 0, axis=-1)
    monotone = np.minimum.accumulate(pairs, axis=-1)
    # As in ArviZ, the last pair contributes its even lag only.
    n_used = np.minimum(positive.sum(axis=-1), n_pairs - 1)
    next_even = np.take_along_axis(rho, 2 * n_used[..., None], axis=-1)[..., 0]
    used = np.arange(n_pairs) < n_used[..., None]
    tau = -1.0 + 2.0 * np.where(used, monotone, 0.0).sum(axis=-1) + np.maximum(next_even, 0.0)
    tau = np.maximum(tau, 1.0 / np.log10(size))
    return np.where(constant, float(size), size / tau)


def _as_chains(draws: ArrayLike) -> NDArray:
    x = np.asarray(draws, dtype=float)
    if x.ndim < 2 or x.shape[-1] < 8:
        raise ValueError(f"draws must have shape (..., n_chains, n_draws) with n_draws >= 8, got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("draws must be finite")
    return x


def rhat(draws: ArrayLike) -> NDArray[np.float64]:
    """Rank-normalised split R-hat: the larger of the bulk and the folded (tail) version.

    Parameters
    ----------
    draws : array_like, shape (..., n_chains, n_draws)
        One quantity's chains; leading axes are independent quantities.

    Returns
    -------
    ndarray of float64, shape (...)
        Near 1 for chains that sample one distribution; ``> 1.01`` is the usual alarm.
    """
    x = _split_chains(_as_chains(draws))
    bulk = _basic_rhat(_z_scale(x))
    folded = np.abs(x - np.median(x, axis=(-2, -1), keepdims=True))
    return np.maximum(bulk, _basic_rhat(_z_scale(folded)))


def ess_bulk(draws: ArrayLike) -> NDArray[np.float64]:
    """Bulk effective sample size: ESS of the rank-normalised split chains.

    Parameters
    ----------
    draws : array_like, shape (..., n_chains, n_draws)

    Returns
    -------
    ndarray of float64, shape (...)
    """
    return _ess(_z_scale(_split_chains(_as_chains(draws))))


def ess_tail(draws: ArrayLike) -> NDArray[np.float64]:
    """Tail effective sample size: the smaller ESS of the 5 % and 95 % quantile indicators.

    Parameters
    ----------
    draws : array_like, shape (..., n_chains, n_draws)

    Returns
    -------
    ndarray of float64, shape (...)
    """
    x = _as_chains(draws)
    flat = x.reshape(x.shape[:-2] + (-1,))
    low, high = (np.quantile(flat, q, axis=-1)[..., None, None] for q in (0.05, 0.95))
    return np.minimum(_ess(_split_chains((x <= low).astype(float))),
                      _ess(_split_chains((x <= high).astype(float))))


def _diagnose(draws: NDArray, names: tuple[str, ...], rhat_max: float,
              min_ess: float) -> tuple[NDArray, NDArray, NDArray, list[str]]:
    """Diagnostics of (..., C, N, P) draws and the reason each posterior fails ('' if none)."""
    chains = np.moveaxis(draws, -1, -3)  # (..., P, C, N)
    r, bulk, tail = rhat(chains), ess_bulk(chains), ess_tail(chains)
    reasons = []
    for index in np.ndindex(r.shape[:-1]):
        problems = []
        for label, values, bad in (("R-hat", r[index], ~(r[index] <= rhat_max)),
                                   ("bulk ESS", bulk[index], ~(bulk[index] >= min_ess)),
                                   ("tail ESS", tail[index], ~(tail[index] >= min_ess))):
            problems += [f"{label} of {names[j]} = {values[j]:.3g}" for j in np.flatnonzero(bad)]
        reasons.append("; ".join(problems))
    return r, bulk, tail, reasons
