"""Registered RLDDM variants: one :class:`ModelSpec` each, read by every layer.

A new variant is one entry in :data:`MODELS` (its parameters, the kernel slots they
fill, its learning rule and drift map, its default priors) plus, where it needs one,
a case in the kernel's small inline functions and a branch in ``rlddm.reference``;
``tests/test_models.py`` runs every entry through the same checks.

Default priors
--------------
The seed's five parameters keep the forum post's priors (drift ~ N(0, 2),
alpha ~ N(1, 0.5) on [0, 5], beta ~ Beta(2, 2), ter ~ N(0.5, 0.25) on [0, 1.5],
kappa ~ Beta(2, 2)). Learning and forgetting rates (``kappa_pos``, ``kappa_neg``,
``phi``) get the same Beta(2, 2): weakly informative on [0, 1], as hBayesDM's
``pstRT_rlddm6`` and HDDMrl leave the rates without strong prior information.
``v_max`` gets N(3, 1.5) on [0, 10]: Fontanesi et al. (2019) report drift
asymptotes of a few units on the selection-task scale, and rlssm's default (a
normal of SD 50 on a softplus scale) is too vague to carry the drift's scale.
``p_outlier`` (fixed at 0 unless freed) gets Beta(1, 19): mean 0.05, HDDM's and HSSM's
usual fixed value, 95 % of its mass below 0.15.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from .priors import Prior
from .spec import (DEFAULT_Q0, SLOT_DEFAULTS, SLOTS, DriftMap, LearningRule, ModelSpec)

__all__ = ["DEFAULT_MODEL", "DEFAULT_Q0", "DriftMap", "LearningRule", "MODELS", "ModelSpec",
           "SLOTS", "SLOT_DEFAULTS", "get_model", "list_models", "parse_fixed"]

DEFAULT_MODEL = "rlddm"

_PRIORS: dict[str, Prior] = {
    "drift": Prior.normal(0.0, 2.0),
    "alpha": Prior.normal(1.0, 0.5, lower=0.0, upper=5.0),
    "beta": Prior.beta(2.0, 2.0),
    "ter": Prior.normal(0.5, 0.25, lower=0.0, upper=1.5),
    "kappa": Prior.beta(2.0, 2.0),
    "kappa_pos": Prior.beta(2.0, 2.0),
    "kappa_neg": Prior.beta(2.0, 2.0),
    "phi": Prior.beta(2.0, 2.0),
    "v_max": Prior.normal(3.0, 1.5, lower=0.0, upper=10.0),
    "p_outlier": Prior.beta(1.0, 19.0),
}

_DDM = ("drift", "alpha", "beta", "ter")
_DDM_SLOTS = {name: (name,) for name in _DDM}
_NO_LAPSES = {"p_outlier": 0.0}


def _entry(name: str, extra: tuple[str, ...], slots: Mapping[str, tuple[str, ...]],
           learning: LearningRule, drift_map: DriftMap, description: str) -> ModelSpec:
    names = _DDM + extra + ("p_outlier",)
    return ModelSpec(name=name, parameter_names=names,
                     slot_map={**_DDM_SLOTS, **slots, "p_outlier": ("p_outlier",)},
                     learning=learning, drift_map=drift_map,
                     default_priors={n: _PRIORS[n] for n in names}, fixed=_NO_LAPSES,
                     description=description)


MODELS: Mapping[str, ModelSpec] = {spec.name: spec for spec in (
    _entry("rlddm", ("kappa",), {"kappa": ("kappa_pos", "kappa_neg")},
           LearningRule.DELTA, DriftMap.LINEAR,
           "delta rule Q_c += kappa (r - Q_c); drift = drift * (Q0 - Q1)"),
    _entry("dual_lr", ("kappa_pos", "kappa_neg"),
           {"kappa_pos": ("kappa_pos",), "kappa_neg": ("kappa_neg",)},
           LearningRule.DUAL, DriftMap.LINEAR,
           "separate learning rates for positive and negative prediction errors"),
    _entry("forgetting", ("kappa", "phi"),
           {"kappa": ("kappa_pos", "kappa_neg"), "phi": ("phi",)},
           LearningRule.FORGETTING, DriftMap.LINEAR,
           "delta rule; the unchosen presented option decays toward q0 by phi"),
    _entry("sigmoid_drift", ("kappa", "v_max"),
           {"kappa": ("kappa_pos", "kappa_neg"), "v_max": ("v_max",)},
           LearningRule.DELTA, DriftMap.SIGMOID,
           "delta rule; drift = v_max / (1 + exp(-drift (Q0 - Q1))) - v_max / 2"),
)}
"""The registered models by name; theta columns are each entry's ``names``."""


def list_models() -> tuple[str, ...]:
    """Names of the registered models."""
    return tuple(MODELS)


def get_model(model: str | ModelSpec = DEFAULT_MODEL, *,
              fixed: Mapping[str, float] | None = None,
              free: tuple[str, ...] = ()) -> ModelSpec:
    """Look up a registered model, optionally fixing or freeing parameters.

    Parameters
    ----------
    model : str or ModelSpec
        A registered name (see :func:`list_models`) or a spec (returned as is, with
        ``fixed`` and ``free`` applied).
    fixed : mapping of str to float, optional
        Parameters to hold constant, e.g. ``{"beta": 0.5, "p_outlier": 0.05}``.
    free : tuple of str
        Parameters to estimate that the entry fixes by default (``"p_outlier"``).

    Returns
    -------
    ModelSpec

    Raises
    ------
    ValueError
        On an unknown model name (listing the registered ones), a parameter the model
        does not have, or a fixed value outside its support.
    """
    if isinstance(model, ModelSpec):
        spec = model
    elif isinstance(model, str) and model in MODELS:
        spec = MODELS[model]
    else:
        raise ValueError(f"model must be one of {list(MODELS)} (or a ModelSpec), got {model!r}")
    if isinstance(free, str):
        free = (free,)
    spec = spec.free(*free)
    return spec.fix(**dict(fixed)) if fixed else spec


def parse_fixed(assignments: list[str] | tuple[str, ...] | None) -> dict[str, float]:
    """Parse ``NAME=VALUE`` texts (the CLI's repeated ``--fix``) into a mapping.

    Parameters
    ----------
    assignments : sequence of str, optional
        Texts such as ``"beta=0.5"`` and ``"p_outlier=0.05"``.

    Returns
    -------
    dict of str to float
        In the order given; whether each name belongs to a model is checked by
        :func:`get_model`.

    Raises
    ------
    ValueError
        On a text without ``=``, an empty name, a value that is not a finite number,
        or a name given twice.
    """
    fixed: dict[str, float] = {}
    for text in assignments or ():
        name, sep, value = str(text).partition("=")
        name = name.strip()
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not sep or not name or not math.isfinite(number):
            raise ValueError(f"--fix takes NAME=VALUE with a finite number, e.g. beta=0.5; "
                             f"got {text!r}")
        if name in fixed:
            raise ValueError(f"--fix names {name!r} twice")
        fixed[name] = number
    return fixed
