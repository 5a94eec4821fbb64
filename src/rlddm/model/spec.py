"""The model specification: parameter table, learning rule, drift map and fixed values.

Every layer (simulator, reference, likelihood, priors, MCMC, data, fit, CLI) reads a
:class:`ModelSpec` instead of knowing a model by heart. The kernel and the likelihood
never see a model's own parameter names: :meth:`ModelSpec.slots` fills the canonical
kernel slots (:data:`SLOTS`) from theta and the fixed values, and the learning rule
and drift map are the enums :class:`LearningRule` and :class:`DriftMap`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import IntEnum
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .parameters import PARAMETER_TABLE, Parameter, check_columns
from .priors import Prior, Priors

__all__ = ["DriftMap", "LearningRule", "ModelSpec", "SLOTS", "SLOT_DEFAULTS", "DEFAULT_Q0"]

DEFAULT_Q0 = 0.5
"""Initial Q-value of every option (a design setting; see :class:`rlddm.designs.TaskDesign`)."""

SLOTS: tuple[str, ...] = ("drift", "alpha", "beta", "ter", "kappa_pos", "kappa_neg", "phi",
                          "v_max", "p_outlier")
"""Columns of the kernel's parameter array, in order; the kernel reads them by position."""

SLOT_DEFAULTS: Mapping[str, float] = MappingProxyType({"phi": 0.0, "v_max": 0.0,
                                                       "p_outlier": 0.0})
"""Values of the slots a model does not fill: no forgetting, no sigmoid, no lapses."""


class LearningRule(IntEnum):
    """How the chosen (and unchosen) option's Q-value moves after feedback.

    ``d = r - Q_c`` is the prediction error of the chosen option ``c``.

    - ``DELTA``: ``Q_c <- Q_c + kappa * d``.
    - ``DUAL``: ``Q_c <- Q_c + kappa_pos * d`` if ``d > 0``, ``+ kappa_neg * d`` if ``d < 0``.
    - ``FORGETTING``: ``DELTA``, then the unchosen presented option ``u`` decays toward
      its initial value: ``Q_u <- Q_u + phi * (q0 - Q_u)``.

    All three are one update in the kernel, through the slots ``kappa_pos``,
    ``kappa_neg`` and ``phi`` (``DELTA`` fills both rates with ``kappa`` and ``phi``
    with 0), so a missed response or a trial without feedback changes nothing in any
    of them.
    """

    DELTA = 0
    DUAL = 1
    FORGETTING = 2


class DriftMap(IntEnum):
    """How the presented options' Q difference ``dq = Q0 - Q1`` becomes the drift rate.

    - ``LINEAR``: ``v = drift * dq``.
    - ``SIGMOID`` (Fontanesi et al., 2019): ``v = v_max / (1 + exp(-drift * dq)) - v_max / 2``,
      which has slope ``v_max * drift / 4`` at ``dq = 0``.
    """

    LINEAR = 0
    SIGMOID = 1


@dataclass(frozen=True)
class ModelSpec:
    """One registered RLDDM variant, possibly with some parameters fixed.

    Parameters
    ----------
    name : str
        Registered name (``"rlddm"``, ``"dual_lr"``, ...).
    parameter_names : tuple of str
        Every parameter of the model in theta-column order (fixed ones included);
        supports come from :data:`rlddm.parameters.PARAMETER_TABLE`.
    slot_map : mapping of str to tuple of str
        Kernel slots (:data:`SLOTS`) each parameter fills.
    learning : LearningRule
    drift_map : DriftMap
    default_priors : mapping of str to Prior
        Default prior of every parameter.
    fixed : mapping of str to float
        Parameters held at a constant: they leave theta, the priors and the posterior.
    description : str
        One line on what the variant adds.
    """

    name: str
    parameter_names: tuple[str, ...]
    slot_map: Mapping[str, tuple[str, ...]]
    learning: LearningRule
    drift_map: DriftMap
    default_priors: Mapping[str, Prior]
    fixed: Mapping[str, float] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        unknown = [n for n in self.parameter_names if n not in PARAMETER_TABLE]
        if unknown:
            raise ValueError(f"model {self.name!r}: unknown parameters {unknown}")
        filled = [slot for n in self.parameter_names for slot in self.slot_map[n]]
        missing = [s for s in SLOTS if s not in filled and s not in SLOT_DEFAULTS]
        if missing or len(filled) != len(set(filled)) or set(filled) - set(SLOTS):
            raise ValueError(f"model {self.name!r}: slots {filled} must fill each of {SLOTS} "
                             f"at most once and {missing} at least")
        object.__setattr__(self, "slot_map", MappingProxyType(dict(self.slot_map)))
        object.__setattr__(self, "default_priors", MappingProxyType(dict(self.default_priors)))
        object.__setattr__(self, "fixed", MappingProxyType(
            {n: self._checked_value(n, v) for n, v in dict(self.fixed).items()}))

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # the read-only mapping views do not pickle; rebuild from plain dicts (spawned
        # worker processes, multiprocessing pools and joblib receive specs this way)
        return (type(self), (self.name, self.parameter_names, dict(self.slot_map), self.learning,
                             self.drift_map, dict(self.default_priors), dict(self.fixed),
                             self.description))

    # -- parameter table ------------------------------------------------------------

    def _checked_value(self, name: str, value: Any) -> float:
        if name not in self.parameter_names:
            raise ValueError(f"model {self.name!r} has no parameter {name!r}; its parameters "
                             f"are {list(self.parameter_names)}")
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ValueError(f"the fixed value of {name} must be a number, got {value!r}")
        number = float(value)
        parameter = PARAMETER_TABLE[name]
        if not math.isfinite(number) or not parameter.contains(np.array(number)):
            raise ValueError(f"the fixed value of {name} must be in {parameter.support_text()}, "
                             f"got {value!r}")
        return number

    @property
    def parameters(self) -> tuple[Parameter, ...]:
        """Every parameter, fixed ones included, in theta-column order."""
        return tuple(PARAMETER_TABLE[n] for n in self.parameter_names)

    @property
    def free_parameters(self) -> tuple[Parameter, ...]:
        """The parameters in theta (not fixed), in column order."""
        return tuple(p for p in self.parameters if p.name not in self.fixed)

    @property
    def names(self) -> tuple[str, ...]:
        """Names of theta's columns: the free parameters in order."""
        return tuple(p.name for p in self.free_parameters)

    @property
    def n_free(self) -> int:
        """Width of theta."""
        return len(self.free_parameters)

    @property
    def has_lapses(self) -> bool:
        """Whether ``p_outlier`` is estimated or fixed above 0."""
        return self.fixed.get("p_outlier", 1.0) != 0.0

    def fix(self, **values: float) -> ModelSpec:
        """A copy with the named parameters fixed at the given values.

        Raises
        ------
        ValueError
            On a name the model does not have or a value outside its support.
        """
        return replace(self, fixed={**self.fixed, **values})

    def free(self, *names: str) -> ModelSpec:
        """A copy with the named parameters estimated (no longer fixed)."""
        for name in names:
            if name not in self.parameter_names:
                self._checked_value(name, 0.0)
        return replace(self, fixed={n: v for n, v in self.fixed.items() if n not in names})

    def label(self) -> str:
        """The name with its fixed values, e.g. ``rlddm[beta=0.5, p_outlier=0.05]``."""
        shown = {n: v for n, v in self.fixed.items()
                 if not (n == "p_outlier" and v == 0.0)}
        if not shown:
            return self.name
        return f"{self.name}[{', '.join(f'{n}={v:g}' for n, v in shown.items())}]"

    # -- theta and the kernel slots ---------------------------------------------------

    def check_theta(self, theta: ArrayLike, *, name: str = "theta") -> NDArray[np.float64]:
        """Validate theta for this model; return a C-contiguous (B, n_free) float64 copy.

        Raises
        ------
        ValueError
            Naming the model's parameters on a wrong width, and the parameter, value
            and row on a non-finite value or one outside the support.
        """
        return check_columns(theta, self.free_parameters, name=name, model=self.name)

    def in_support(self, theta: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Rows of a (N, n_free) array whose every value is finite and in its support."""
        ok = np.isfinite(theta).all(axis=1)
        for j, parameter in enumerate(self.free_parameters):
            ok &= parameter.contains(theta[:, j])
        return ok

    def slots(self, theta: NDArray[np.float64]) -> NDArray[np.float64]:
        """The kernel's parameter array for validated theta.

        Parameters
        ----------
        theta : ndarray, shape (B, n_free)
            Output of :meth:`check_theta` (or rows known to be in the support).

        Returns
        -------
        ndarray of float64, shape (B, len(SLOTS))
            Columns in :data:`SLOTS` order; fixed parameters and unused slots filled in.
        """
        theta = np.asarray(theta, dtype=np.float64)
        out = np.empty((theta.shape[0], len(SLOTS)))
        for slot, value in SLOT_DEFAULTS.items():
            out[:, SLOTS.index(slot)] = value
        columns = iter(range(theta.shape[1]))
        for name in self.parameter_names:
            values = self.fixed[name] if name in self.fixed else theta[:, next(columns)]
            for slot in self.slot_map[name]:
                out[:, SLOTS.index(slot)] = values
        return out

    def full_theta(self, theta: NDArray[np.float64]) -> NDArray[np.float64]:
        """Theta with the fixed parameters put back, columns in ``parameter_names`` order."""
        theta = np.asarray(theta, dtype=np.float64)
        out = np.empty(theta.shape[:-1] + (len(self.parameter_names),))
        columns = iter(range(theta.shape[-1]))
        for j, name in enumerate(self.parameter_names):
            out[..., j] = self.fixed[name] if name in self.fixed else theta[..., next(columns)]
        return out

    # -- priors -------------------------------------------------------------------------

    def priors(self, **replacements: Prior) -> Priors:
        """The joint prior of the free parameters: the defaults with ``replacements``.

        Raises
        ------
        ValueError
            If a replacement names a parameter that is fixed or not in the model.
        """
        for name in replacements:
            if name not in self.names:
                why = "fixed" if name in self.fixed else "not a parameter of this model"
                raise ValueError(f"cannot set a prior for {name!r} in model {self.label()!r}: "
                                 f"it is {why}; free parameters are {list(self.names)}")
        return Priors({n: replacements.get(n, self.default_priors[n]) for n in self.names},
                      parameters=self.free_parameters)

    def check_priors(self, priors: Priors, *, name: str = "priors") -> Priors:
        """Return ``priors`` if it names exactly the free parameters in order, else raise."""
        if not isinstance(priors, Priors):
            raise ValueError(f"{name} must be a Priors, got {priors!r}")
        if priors.names != self.names:
            raise ValueError(f"{name} name {list(priors.names)}, but model {self.label()!r} "
                             f"has free parameters {list(self.names)} (in this order)")
        return priors

    # -- description --------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description: the registered name and the fixed values."""
        return {"name": self.name, "fixed": dict(self.fixed)}

    def describe(self) -> str:
        """A few lines for listings: name, theta columns, fixed values, rule and map."""
        fixed = ", ".join(f"{n} = {v:g}" for n, v in self.fixed.items()) or "none"
        lines = [f"{self.name}: {self.description}",
                 f"  theta: {', '.join(self.names)}",
                 f"  fixed: {fixed}",
                 f"  learning: {self.learning.name.lower()}, drift map: {self.drift_map.name.lower()}"]
        for parameter in self.free_parameters:
            lines.append(f"    {parameter.name:<10} {parameter.support_text():<11} "
                         f"prior {self.default_priors[parameter.name]}  {parameter.description}")
        return "\n".join(lines)
