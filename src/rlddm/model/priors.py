"""Priors of the RLDDM's parameters as one table: sampling, log-density, map to unbounded space."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special, stats

from .._checks import check_bound, check_count, check_finite, check_size
from .._seeding import SeedLike, generator
from .parameters import PARAMETER_TABLE, PARAMETERS, Parameter

# Names of each family's shape arguments, in the order they are stored.
FAMILIES: dict[str, tuple[str, ...]] = {
    "normal": ("loc", "scale"),
    "beta": ("a", "b"),
    "uniform": (),
}


LARGEST = 1e100
"""Largest magnitude of a prior's arguments and finite bounds (and the inverse of the smallest
scale or beta shape): its moments stay finite and non-zero."""
_POSITIVE = ("scale", "a", "b")


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _log_gauss_mass(a: float, b: float) -> float:
    """``log(Phi(b) - Phi(a))`` for a < b (either may be infinite), accurate in both tails.

    SciPy's truncnorm formula (``scipy.stats._continuous_distns._log_gauss_mass``):
    the left tail as a difference of log CDFs, the right one by symmetry, a window
    around 0 as ``log1p(-Phi(a) - Phi(-b))``. Evaluated once per prior, at setup.
    """
    if b <= 0 or a > 0:
        if a > 0:
            a, b = -b, -a
        log_b, log_a = float(special.log_ndtr(b)), float(special.log_ndtr(a))
        if log_a == -math.inf:
            return log_b
        return log_b + math.log(-math.expm1(log_a - log_b))
    return float(special.log1p(-special.ndtr(a) - special.ndtr(-b)))


# Gauss-Legendre nodes for the moments of a normal cut to a window narrower than its SD,
# where SciPy's truncnorm moments cancel away (its SD is NaN for N(0, 1e5) on [0, 1]): on
# such a window the density is exp(k x) times a slowly varying factor, |k| < 20 while the
# window holds any mass, which 64 nodes integrate to rounding.
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(64)


def _truncated_normal_moments(a: float, b: float) -> tuple[float, float]:
    """Mean and SD of the standard normal cut to [a, b] (bounds may be infinite)."""
    if not b - a < 1.0:
        unit = stats.truncnorm(a, b)
        return float(unit.mean()), float(unit.std())
    center, half = 0.5 * (a + b), 0.5 * (b - a)
    # the density at center + half * x, relative to its value at the center
    weights = _WEIGHTS * np.exp(-center * half * _NODES - 0.5 * half**2 * _NODES**2)
    mean = np.sum(weights * _NODES) / np.sum(weights)
    variance = np.sum(weights * (_NODES - mean) ** 2) / np.sum(weights)
    return center + half * mean, half * math.sqrt(variance)


@dataclass(frozen=True)
class Prior:
    """The prior of one parameter: a distribution family, its arguments and its support.

    Use the constructors :meth:`normal`, :meth:`beta` and :meth:`uniform`.

    Parameters
    ----------
    family : {"normal", "beta", "uniform"}
        ``"normal"`` is truncated to ``[lower, upper]`` (which may be infinite);
        ``"beta"`` is stretched from ``[0, 1]`` onto ``[lower, upper]``;
        ``"uniform"`` is flat on ``[lower, upper]``.
    args : tuple of float
        The family's arguments in the order of ``FAMILIES[family]``: ``(loc, scale)``
        for the normal, ``(a, b)`` for the beta, ``()`` for the uniform.
    lower, upper : float
        Bounds of the support. Infinite bounds are allowed for the normal only.

    Raises
    ------
    ValueError
        If the family is unknown, an argument is not a finite number or is out of
        range, an argument or finite bound exceeds :data:`LARGEST` in magnitude, the
        bounds are not ordered, or the normal keeps no probability mass between them.
    """

    family: str
    args: tuple[float, ...]
    lower: float = -math.inf
    upper: float = math.inf
    _dist: Any = field(init=False, repr=False, compare=False)
    _mass: float = field(init=False, repr=False, compare=False)
    # The closed-form log-density (:meth:`log_prob`) on the standardised value
    # ``xs = (x - shift) / scale``: ``quad xs**2 + xlogy(am1, xs) + xlog1py(bm1, -xs) + const``
    # on ``lo <= xs <= up``, -inf elsewhere (SciPy's formulas and support test).
    _standard: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"family must be one of {sorted(FAMILIES)}, got {self.family!r}")
        names = FAMILIES[self.family]
        if not isinstance(self.args, (tuple, list)) or len(self.args) != len(names):
            raise ValueError(
                f"a {self.family} prior takes {len(names)} arguments {names}, got {self.args!r}"
            )
        args = tuple(check_finite(value, f"the {self.family} prior's {name}")
                     for value, name in zip(self.args, names))
        lower = check_bound(self.lower, f"the {self.family} prior's lower bound")
        upper = check_bound(self.upper, f"the {self.family} prior's upper bound")
        if self.family == "normal" and args[1] <= 0:
            raise ValueError(f"scale must be > 0, got {args[1]}")
        if self.family == "beta" and min(args) <= 0:
            raise ValueError(f"beta arguments a and b must be > 0, got {args}")
        for value, name in zip(args + (lower, upper), names + ("lower bound", "upper bound")):
            prefix = f"the {self.family} prior's {name}"
            if name in _POSITIVE and not 1 / LARGEST <= value <= LARGEST:
                raise ValueError(f"{prefix} must be in [{1 / LARGEST:g}, {LARGEST:g}] (outside, "
                                 f"its moments overflow or vanish), got {value!r}")
            if math.isfinite(value) and abs(value) > LARGEST:
                raise ValueError(f"{prefix} must be at most {LARGEST:g} in magnitude (beyond, "
                                 f"its moments overflow), got {value!r}")
        if not lower < upper:  # also catches NaN
            raise ValueError(f"lower must be < upper, got lower={self.lower!r}, "
                             f"upper={self.upper!r}")
        if self.family != "normal" and not (math.isfinite(lower) and math.isfinite(upper)):
            raise ValueError(
                f"a {self.family} prior needs finite bounds, got lower={lower}, upper={upper}"
            )
        if self.family == "normal":
            loc, scale = args
            a, b = (lower - loc) / scale, (upper - loc) / scale
            # the difference of survival functions keeps precision in the upper tail
            mass = max(stats.norm.cdf(b) - stats.norm.cdf(a),
                       stats.norm.sf(a) - stats.norm.sf(b))
            if not mass > 0:
                raise ValueError(
                    f"N({loc:g}, {scale:g}) has no probability mass in [{lower:g}, {upper:g}]"
                )
            dist = stats.truncnorm(a, b, loc=loc, scale=scale)
        elif self.family == "beta":
            dist = stats.beta(*args, loc=lower, scale=upper - lower)
        else:
            dist = stats.uniform(loc=lower, scale=upper - lower)
        object.__setattr__(self, "_mass", mass if self.family == "normal" else 1.0)
        if self.family == "normal":
            # (shift, scale, lo, up, quad, am1, bm1, const)
            standard = (args[0], args[1], a, b, -0.5, 0.0, 0.0,
                        -_LOG_SQRT_2PI - _log_gauss_mass(a, b) - math.log(args[1]))
        elif self.family == "beta":
            standard = (lower, upper - lower, 0.0, 1.0, 0.0, args[0] - 1.0, args[1] - 1.0,
                        -float(special.betaln(*args)) - math.log(upper - lower))
        else:
            standard = (lower, upper - lower, 0.0, 1.0, 0.0, 0.0, 0.0, -math.log(upper - lower))
        object.__setattr__(self, "_standard", standard)
        object.__setattr__(self, "args", args)
        object.__setattr__(self, "lower", lower)
        object.__setattr__(self, "upper", upper)
        object.__setattr__(self, "_dist", dist)

    @classmethod
    def normal(cls, loc: float, scale: float, *, lower: float = -math.inf,
               upper: float = math.inf) -> Prior:
        """A normal prior ``N(loc, scale)``, truncated to ``[lower, upper]``."""
        return cls("normal", (loc, scale), lower, upper)

    @classmethod
    def beta(cls, a: float, b: float, *, lower: float = 0.0, upper: float = 1.0) -> Prior:
        """A ``Beta(a, b)`` prior stretched onto ``[lower, upper]``."""
        return cls("beta", (a, b), lower, upper)

    @classmethod
    def uniform(cls, lower: float, upper: float) -> Prior:
        """A flat prior on ``[lower, upper]``."""
        return cls("uniform", (), lower, upper)

    def __str__(self) -> str:
        if self.family == "normal":
            text = "N({:g}, {:g})".format(*self.args)
            if math.isfinite(self.lower) or math.isfinite(self.upper):
                left = "[" if math.isfinite(self.lower) else "("
                right = "]" if math.isfinite(self.upper) else ")"
                text += f" truncated to {left}{self.lower:g}, {self.upper:g}{right}"
            return text
        if self.family == "beta":
            text = "Beta({:g}, {:g})".format(*self.args)
            if (self.lower, self.upper) != (0.0, 1.0):
                text += f" on [{self.lower:g}, {self.upper:g}]"
            return text
        return f"Uniform({self.lower:g}, {self.upper:g})"

    @property
    def mean(self) -> float:
        """Mean of the prior."""
        if self.family != "normal":
            return float(self._dist.mean())
        loc, scale = self.args
        return float(np.clip(loc + scale * _truncated_normal_moments(*self._window)[0],
                             self.lower, self.upper))

    @property
    def std(self) -> float:
        """Standard deviation of the prior."""
        if self.family != "normal":
            return float(self._dist.std())
        return float(self.args[1] * _truncated_normal_moments(*self._window)[1])

    @property
    def _window(self) -> tuple[float, float]:
        """The normal's bounds in standard units."""
        loc, scale = self.args
        return (self.lower - loc) / scale, (self.upper - loc) / scale

    def sample(self, n: int, rng: np.random.Generator) -> NDArray[np.float64]:
        """Draw ``n`` values with the Generator ``rng``; shape (n,).

        NumPy's own samplers, about ten times faster than SciPy's ``rvs`` on the small
        batches of online training: a truncated normal by rejection from the normal
        while the truncation keeps at least a quarter of the mass (SciPy's inverse-CDF
        sampler otherwise).
        """
        if self.family == "beta":
            return self._stretch(rng.beta(*self.args, size=n))
        if self.family == "uniform":
            return self._stretch(rng.random(n))
        if self._mass < 0.25:
            return np.asarray(self._dist.rvs(size=n, random_state=rng), dtype=np.float64)
        loc, scale = self.args
        kept = np.empty(0)
        while kept.size < n:
            draws = rng.normal(loc, scale, size=int(1.2 * (n - kept.size) / self._mass) + 8)
            kept = np.concatenate([kept, draws[(draws >= self.lower) & (draws <= self.upper)]])
        return kept[:n]

    def _stretch(self, unit: NDArray[np.float64]) -> NDArray[np.float64]:
        """Values in [0, 1] mapped onto [lower, upper]; clipped, since rounding may step over
        a bound (``-1 + 1.0 * (1 - 1e-17)`` is 0.0, beyond an upper bound of -5e-324)."""
        return np.clip(self.lower + (self.upper - self.lower) * unit, self.lower, self.upper)

    def log_prob(self, x: ArrayLike) -> NDArray[np.float64]:
        """Log-density at ``x`` (elementwise; ``-inf`` outside the support).

        Closed form (SciPy's formulas, agreeing with ``scipy.stats`` to rounding): a
        normal's ``-xs**2 / 2`` less its log mass in the window, a beta's
        ``(a - 1) log xs + (b - 1) log(1 - xs) - log B(a, b)`` on the stretched unit
        value ``xs``, a uniform's ``-log(upper - lower)``.
        """
        shift, scale, lo, up, quad, am1, bm1, const = self._standard
        x = np.asarray(x, dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            xs = (x - shift) / scale
            if self.family == "normal":
                value = quad * (xs * xs) + const
            elif self.family == "beta":
                value = special.xlog1py(bm1, -xs) + special.xlogy(am1, xs) + const
            else:
                value = np.full_like(xs, const)
        return np.asarray(np.where((xs >= lo) & (xs <= up), value, -np.inf), dtype=np.float64)

    def to_unbounded(self, x: ArrayLike) -> NDArray[np.float64]:
        """Map values in the support to the real line (elementwise).

        Identity for an unbounded support, ``log(x - lower)`` or ``-log(upper - x)``
        for a half-bounded one, and ``logit((x - lower) / (upper - lower))`` for an
        interval; the same maps as BayesFlow's ``Adapter.constrain``.
        """
        x = np.asarray(x, dtype=np.float64)
        low, up = math.isfinite(self.lower), math.isfinite(self.upper)
        with np.errstate(divide="ignore", invalid="ignore"):
            if low and up:
                return special.logit((x - self.lower) / (self.upper - self.lower))
            if low:
                return np.log(x - self.lower)
            if up:
                return -np.log(self.upper - x)
        return x.copy()

    def from_unbounded(self, z: ArrayLike) -> NDArray[np.float64]:
        """Inverse of :meth:`to_unbounded` (elementwise)."""
        z = np.asarray(z, dtype=np.float64)
        low, up = math.isfinite(self.lower), math.isfinite(self.upper)
        if low and up:
            return self._stretch(special.expit(z))
        # far out in z the value overflows to an infinite bound, where the density is 0
        with np.errstate(over="ignore"):
            if low:
                return self.lower + np.exp(z)
            if up:
                return self.upper - np.exp(-z)
        return z.copy()

    def log_abs_det_jacobian(self, z: ArrayLike) -> NDArray[np.float64]:
        """``log |d from_unbounded(z) / dz|`` (elementwise)."""
        z = np.asarray(z, dtype=np.float64)
        low, up = math.isfinite(self.lower), math.isfinite(self.upper)
        if low and up:
            return (math.log(self.upper - self.lower)
                    + special.log_expit(z) + special.log_expit(-z))
        if low:
            return z.copy()
        if up:
            return -z
        return np.zeros_like(z)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description (infinite bounds become ``None``)."""
        data: dict[str, Any] = {"family": self.family}
        data.update(zip(FAMILIES[self.family], self.args, strict=True))
        data["lower"] = _finite_or_none(self.lower)
        data["upper"] = _finite_or_none(self.upper)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Prior:
        """Rebuild a prior written by :meth:`to_dict`."""
        if not isinstance(data, Mapping) or "family" not in data:
            raise ValueError(f"a prior must be a mapping with a 'family' key, got {data!r}")
        family = data["family"]
        if family not in FAMILIES:
            raise ValueError(f"family must be one of {sorted(FAMILIES)}, got {family!r}")
        expected = {"family", "lower", "upper", *FAMILIES[family]}
        missing = expected - {"lower", "upper"} - set(data)
        unknown = set(data) - expected
        if missing or unknown:
            raise ValueError(
                f"a {family} prior needs keys {sorted(expected - {'family'})}, "
                f"got missing {sorted(missing)} and unknown {sorted(unknown)}"
            )
        lower = data.get("lower")
        upper = data.get("upper")
        return cls(
            family,
            tuple(data[name] for name in FAMILIES[family]),
            -math.inf if lower is None else lower,
            math.inf if upper is None else upper,
        )


class Priors:
    """The joint prior: one independent :class:`Prior` per parameter, in column order.

    Parameters
    ----------
    priors : mapping of str to Prior
        One prior for each parameter of ``parameters``. Each prior's support must lie
        inside the parameter's support.
    parameters : tuple of Parameter, optional
        The columns, in order: a model's free parameters
        (:meth:`rlddm.model.ModelSpec.priors` passes them); the default model's five
        (``rlddm.parameters.PARAMETERS``) if omitted.

    Raises
    ------
    ValueError
        If a name is missing or unknown, an entry is not a :class:`Prior`, or a
        prior's support reaches outside its parameter's support.

    Examples
    --------
    The forum post's priors with a drift scaling kept positive:

    >>> from rlddm.priors import DEFAULT_PRIORS, Prior
    >>> priors = DEFAULT_PRIORS.replace(drift=Prior.normal(0.0, 2.0, lower=0.0))
    >>> priors.sample(3, seed=1).shape
    (3, 5)
    """

    def __init__(self, priors: Mapping[str, Prior], *,
                 parameters: tuple[Parameter, ...] | None = None) -> None:
        if not isinstance(priors, Mapping):
            raise ValueError(f"priors must be a mapping of parameter name to Prior, got {priors!r}")
        parameters = PARAMETERS if parameters is None else tuple(parameters)
        names = [parameter.name for parameter in parameters]
        missing = [name for name in names if name not in priors]
        unknown = [name for name in priors if name not in names]
        if missing or unknown:
            raise ValueError(
                f"priors must name exactly {names}, "
                f"got missing {missing} and unknown {unknown}"
            )
        self.parameters = parameters
        for parameter in parameters:
            prior = priors[parameter.name]
            if not isinstance(prior, Prior):
                raise ValueError(f"priors[{parameter.name!r}] must be a Prior, got {prior!r}")
            if prior.lower < parameter.lower or prior.upper > parameter.upper:
                raise ValueError(
                    f"the prior of {parameter.name} has support [{prior.lower:g}, {prior.upper:g}] "
                    f"outside the parameter's support {parameter.support_text()}"
                )
        self._priors: dict[str, Prior] = {name: priors[name] for name in names}
        self._vector = _VectorPrior(tuple(self._priors.values()))

    @classmethod
    def default(cls) -> Priors:
        """The priors of the forum post (see :data:`DEFAULT_PRIORS`)."""
        return cls({
            "drift": Prior.normal(0.0, 2.0),
            "alpha": Prior.normal(1.0, 0.5, lower=0.0, upper=5.0),
            "beta": Prior.beta(2.0, 2.0),
            "ter": Prior.normal(0.5, 0.25, lower=0.0, upper=1.5),
            "kappa": Prior.beta(2.0, 2.0),
        })

    def replace(self, **priors: Prior) -> Priors:
        """A copy with the named parameters' priors replaced."""
        return Priors(self._priors | priors, parameters=self.parameters)

    @property
    def names(self) -> tuple[str, ...]:
        """Parameter names, in column order."""
        return tuple(self._priors)

    @property
    def lower(self) -> NDArray[np.float64]:
        """Lower bounds of the supports, shape (5,)."""
        return np.array([p.lower for p in self._priors.values()])

    @property
    def upper(self) -> NDArray[np.float64]:
        """Upper bounds of the supports, shape (5,)."""
        return np.array([p.upper for p in self._priors.values()])

    @property
    def mean(self) -> NDArray[np.float64]:
        """Prior means, shape (5,)."""
        return np.array([p.mean for p in self._priors.values()])

    @property
    def std(self) -> NDArray[np.float64]:
        """Prior standard deviations, shape (5,)."""
        return np.array([p.std for p in self._priors.values()])

    def __getitem__(self, name: str) -> Prior:
        if name not in self._priors:
            raise KeyError(f"no parameter named {name!r}; names are {list(self._priors)}")
        return self._priors[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._priors)

    def __len__(self) -> int:
        return len(self._priors)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Priors) and self._priors == other._priors

    def __repr__(self) -> str:
        body = ", ".join(f"{name}={prior}" for name, prior in self._priors.items())
        return f"Priors({body})"

    def sample(self, n: int, seed: SeedLike = None) -> NDArray[np.float64]:
        """Draw parameter vectors.

        Parameters
        ----------
        n : int
            Number of draws.
        seed : None, int, SeedSequence, BitGenerator or Generator
            Seed, following NumPy's conventions; a Generator is advanced.

        Returns
        -------
        theta : ndarray of float64, shape (n, 5)
            Columns in ``names`` order, drawn column by column from one stream.

        Raises
        ------
        ValueError
            On a bad ``n`` or ``seed``, or draws that would take more than
            :data:`rlddm._checks.MAX_BYTES`.
        """
        n = check_count(n, "n", 1)
        # a truncated normal draws up to 1.2 / mass candidates per value (at least 0.25)
        check_size(n * len(self) * 8 * 6, f"{n} draws of {len(self)} parameters",
                   "draw in smaller batches")
        rng = generator(seed)
        return np.column_stack([prior.sample(n, rng) for prior in self._priors.values()])

    def _columns(self, values: ArrayLike, name: str, *,
                 require: str = "not NaN") -> NDArray[np.float64]:
        """``values`` as a float64 array of shape (..., P), checked.

        ``require`` is ``"not NaN"`` (theta on the natural scale, where a value outside the
        support has density 0), ``"in support"`` (theta to map to the real line) or
        ``"finite"`` (z: the unbounded space is the real line).
        """
        array = np.asarray(values)
        if array.dtype.kind not in "biuf":
            raise ValueError(f"{name} must be a real numeric array, got dtype {array.dtype}")
        array = array.astype(np.float64)
        if array.ndim == 0 or array.shape[-1] != len(self):
            raise ValueError(
                f"{name} must have shape (..., {len(self)}) (order {', '.join(self.names)}), "
                f"got shape {array.shape}"
            )
        bad = ~np.isfinite(array) if require == "finite" else np.isnan(array)
        if require == "in support":
            for i, prior in enumerate(self._priors.values()):
                column = array[..., i]
                bad[..., i] |= (column < prior.lower) | (column > prior.upper)
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            column = self.names[index[-1]]
            rule = {"not NaN": "not be NaN", "finite": "be finite",
                    "in support": f"lie in its prior's support [{self[column].lower:g}, "
                                  f"{self[column].upper:g}]"}[require]
            raise ValueError(f"{name}: {column} must {rule}, got {array[index].item()!r} at index "
                             f"{index}")
        return array

    def log_prob(self, theta: ArrayLike) -> NDArray[np.float64]:
        """Joint log-density of parameter vectors on the natural scale.

        Parameters
        ----------
        theta : array_like, shape (..., 5)
            Parameter vectors in ``names`` order.

        Returns
        -------
        ndarray of float64, shape (...)
            ``-inf`` where a value lies outside its prior's support.

        Raises
        ------
        ValueError
            On a wrong shape or dtype, or NaN, naming the parameter and index.
        """
        return self._vector.log_prob(self._columns(theta, "theta"))

    def to_unbounded(self, theta: ArrayLike) -> NDArray[np.float64]:
        """Map parameter vectors to the real line, column by column.

        Parameters
        ----------
        theta : array_like, shape (..., 5)
            Values inside the priors' supports.

        Returns
        -------
        z : ndarray of float64, shape (..., 5)
            Infinite where a value lies on a closed bound of its support.

        Raises
        ------
        ValueError
            On a wrong shape or dtype, or a value outside its prior's support (where the
            map has no value), naming the parameter and index.
        """
        theta = self._columns(theta, "theta", require="in support")
        return np.stack([prior.to_unbounded(theta[..., i])
                         for i, prior in enumerate(self._priors.values())], axis=-1)

    def from_unbounded(self, z: ArrayLike) -> NDArray[np.float64]:
        """Inverse of :meth:`to_unbounded`.

        Parameters
        ----------
        z : array_like, shape (..., 5)

        Returns
        -------
        theta : ndarray of float64, shape (..., 5)

        Raises
        ------
        ValueError
            On a wrong shape or dtype, or a value of ``z`` that is not finite.
        """
        return self._vector.from_unbounded(self._columns(z, "z", require="finite"))

    def log_abs_det_jacobian(self, z: ArrayLike) -> NDArray[np.float64]:
        """``log |det d from_unbounded(z) / dz|``, summed over the parameters.

        Parameters
        ----------
        z : array_like, shape (..., 5)

        Returns
        -------
        ndarray of float64, shape (...)

        Raises
        ------
        ValueError
            On a wrong shape or dtype, or a value of ``z`` that is not finite.
        """
        return self._vector.log_abs_det_jacobian(self._columns(z, "z", require="finite"))

    def log_prob_unbounded(self, z: ArrayLike) -> NDArray[np.float64]:
        """Log-density of the prior pushed to unbounded space (for samplers working there).

        Parameters
        ----------
        z : array_like, shape (..., 5)

        Returns
        -------
        ndarray of float64, shape (...)
            ``log_prob(from_unbounded(z)) + log_abs_det_jacobian(z)``.
        """
        return self._unbounded_terms(self._columns(z, "z", require="finite"))[1]

    def _unbounded_terms(self, z: NDArray[np.float64]
                         ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(from_unbounded(z), log_prob_unbounded(z))`` of a float64 array of shape
        (..., P), unchecked: the sampler's hot path (its z are finite by construction)."""
        vector = self._vector
        theta = vector.from_unbounded(z)
        return theta, vector.log_prob(theta) + vector.log_abs_det_jacobian(z)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """A JSON-serialisable description: parameter name to :meth:`Prior.to_dict`."""
        return {name: prior.to_dict() for name, prior in self._priors.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Mapping[str, Any]]) -> Priors:
        """Rebuild priors written by :meth:`to_dict`."""
        if not isinstance(data, Mapping):
            raise ValueError(f"priors data must be a mapping, got {data!r}")
        unknown = [name for name in data if name not in PARAMETER_TABLE]
        if unknown:
            raise ValueError(f"priors data name unknown parameters {unknown}; known are "
                             f"{list(PARAMETER_TABLE)}")
        return cls({name: Prior.from_dict(entry) for name, entry in data.items()},
                   parameters=tuple(PARAMETER_TABLE[name] for name in data))


class _VectorPrior:
    """The priors' closed forms over all columns at once: one NumPy call per term rather
    than one per column (and none through SciPy's frozen distributions, whose per-call
    overhead was most of a sampler step's prior cost).

    Each column computes exactly what its :class:`Prior` does (the same operations, so
    the same rounding); a term that a column does not use is computed and discarded.
    """

    def __init__(self, priors: tuple[Prior, ...]) -> None:
        def column(values: Any) -> NDArray[np.float64]:
            return np.array(list(values), dtype=np.float64)

        (self.shift, self.scale, self.lo, self.up, self.quad, self.am1, self.bm1,
         self.const) = (column(values) for values in zip(*(p._standard for p in priors)))
        self.lower = column(p.lower for p in priors)
        self.upper = column(p.upper for p in priors)
        low, up = np.isfinite(self.lower), np.isfinite(self.upper)
        self.both, self.low_only, self.up_only = low & up, low & ~up, up & ~low
        with np.errstate(invalid="ignore"):
            self.width = self.upper - self.lower
            self.log_width = np.where(self.both, np.log(np.where(self.both, self.width, 1.0)),
                                      0.0)
        # the Jacobian of a half-bounded column is +z (lower bound) or -z (upper bound)
        self.sign = np.where(self.low_only, 1.0, np.where(self.up_only, -1.0, 0.0))
        self.any_beta = bool(np.any((self.am1 != 0) | (self.bm1 != 0)))
        self.any_normal = bool(np.any(self.quad != 0))

    def log_prob(self, theta: NDArray[np.float64]) -> NDArray[np.float64]:
        """Joint log-density of (..., P) values (``-inf`` outside a support)."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            xs = (theta - self.shift) / self.scale
            value = self.const + self.quad * (xs * xs) if self.any_normal else \
                np.broadcast_to(self.const, xs.shape)
            if self.any_beta:
                value = value + (special.xlog1py(self.bm1, -xs) + special.xlogy(self.am1, xs))
            inside = (xs >= self.lo) & (xs <= self.up)
        return np.where(inside, value, -np.inf).sum(axis=-1)

    def from_unbounded(self, z: NDArray[np.float64]) -> NDArray[np.float64]:
        """The columns' :meth:`Prior.from_unbounded`."""
        out = z
        with np.errstate(over="ignore", invalid="ignore"):
            if self.up_only.any():
                out = np.where(self.up_only, self.upper - np.exp(-z), out)
            if self.low_only.any():
                out = np.where(self.low_only, self.lower + np.exp(z), out)
            if self.both.any():
                stretched = np.clip(self.lower + self.width * special.expit(z), self.lower,
                                    self.upper)
                out = np.where(self.both, stretched, out)
        return np.array(out, dtype=np.float64, copy=out is z)

    def log_abs_det_jacobian(self, z: NDArray[np.float64]) -> NDArray[np.float64]:
        """The columns' :meth:`Prior.log_abs_det_jacobian`, summed."""
        terms = self.sign * z
        if self.both.any():
            terms = np.where(self.both,
                             self.log_width + special.log_expit(z) + special.log_expit(-z), terms)
        return terms.sum(axis=-1)


DEFAULT_PRIORS: Priors = Priors.default()
"""The forum post's priors: drift ~ N(0, 2); alpha ~ N(1, 0.5) on [0, 5]; beta ~ Beta(2, 2);
ter ~ N(0.5, 0.25) on [0, 1.5]; kappa ~ Beta(2, 2)."""
