"""The RLDDM's parameters: names, order and supports, defined once for every module."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True)
class Parameter:
    """One model parameter and its support.

    Attributes
    ----------
    name : str
        Name used in arrays, files and messages.
    lower, upper : float
        Bounds of the support (may be infinite).
    lower_open, upper_open : bool
        Whether the bound itself is excluded.
    description : str
        What the parameter does in the model.
    """

    name: str
    lower: float
    upper: float
    lower_open: bool
    upper_open: bool
    description: str

    def contains(self, values: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Elementwise test of whether ``values`` lie in the support."""
        above = values > self.lower if self.lower_open else values >= self.lower
        below = values < self.upper if self.upper_open else values <= self.upper
        return above & below

    def support_text(self) -> str:
        """The support in interval notation, e.g. ``(0, 1)``."""
        left = "(" if self.lower_open else "["
        right = ")" if self.upper_open else "]"
        return f"{left}{self.lower:g}, {self.upper:g}{right}"


PARAMETER_TABLE: dict[str, Parameter] = {p.name: p for p in (
    Parameter("drift", -np.inf, np.inf, True, True,
              "scaling of the Q-value difference into the trial's drift rate"),
    Parameter("alpha", 0.0, np.inf, True, True, "boundary separation"),
    Parameter("beta", 0.0, 1.0, True, True,
              "relative start point (share of alpha; above 0.5 favours choice 0)"),
    Parameter("ter", 0.0, np.inf, False, True, "non-decision time in seconds"),
    Parameter("kappa", 0.0, 1.0, False, False, "learning rate of the Q-value update"),
    Parameter("kappa_pos", 0.0, 1.0, False, False,
              "learning rate after a positive prediction error"),
    Parameter("kappa_neg", 0.0, 1.0, False, False,
              "learning rate after a negative prediction error"),
    Parameter("phi", 0.0, 1.0, False, False,
              "forgetting rate: share by which the unchosen presented option returns to q0"),
    Parameter("v_max", 0.0, np.inf, True, True,
              "asymptote of the sigmoid drift map (largest |drift rate| is v_max / 2)"),
    Parameter("p_outlier", 0.0, 1.0, False, True,
              "probability that a trial is a lapse: RT uniform on [0, deadline], choice 50/50"),
)}
"""Every parameter any registered model uses, by name; a name means the same in every model."""

PARAMETERS: tuple[Parameter, ...] = tuple(
    PARAMETER_TABLE[name] for name in ("drift", "alpha", "beta", "ter", "kappa"))
"""The default model's (``rlddm``'s) parameters in theta-column order."""

PARAMETER_NAMES: tuple[str, ...] = tuple(p.name for p in PARAMETERS)
N_PARAMETERS = len(PARAMETERS)


def check_columns(theta: ArrayLike, parameters: tuple[Parameter, ...], *, name: str = "theta",
                  model: str = "rlddm") -> NDArray[np.float64]:
    """Validate parameter vectors against a parameter table; return a (B, P) float64 copy.

    Parameters
    ----------
    theta : array_like, shape (P,) or (B, P)
        Parameters in the order of ``parameters``.
    parameters : tuple of Parameter
        The columns, in order.
    name : str
        Argument name used in error messages.
    model : str
        Model name used in error messages.

    Returns
    -------
    ndarray, shape (B, P)
        A C-contiguous float64 copy (a single vector gets B = 1).

    Raises
    ------
    ValueError
        If the dtype is not real numeric, the shape is wrong, a value is not
        finite, or a parameter is outside its support.
    """
    names = [p.name for p in parameters]
    width = len(parameters)
    try:
        array = np.asarray(theta)
    except ValueError as error:  # ragged nesting
        raise ValueError(f"{name} must be a real numeric array: {error}") from None
    if array.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be a real numeric array, got dtype {array.dtype}")
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] != width or array.shape[0] == 0:
        raise ValueError(
            f"{name} must have shape ({width},) or (B, {width}) with B >= 1 for model "
            f"{model!r} (order {', '.join(names)}), got shape {np.shape(theta)}"
        )
    with np.errstate(over="ignore"):
        array = np.ascontiguousarray(array, dtype=np.float64)
    bad = ~np.isfinite(array)
    if bad.any():
        row, column = np.argwhere(bad)[0]
        raise ValueError(
            f"{name} must be finite, got {names[column]} = {array[row, column].item()} at row {row}"
        )
    for column, parameter in enumerate(parameters):
        outside = ~parameter.contains(array[:, column])
        if outside.any():
            row = int(np.flatnonzero(outside)[0])
            raise ValueError(
                f"{name}: {parameter.name} must be in {parameter.support_text()}, "
                f"got {array[row, column].item()!r} at row {row}"
            )
    return array


def check_theta(theta: ArrayLike, *, name: str = "theta") -> NDArray[np.float64]:
    """Validate the default model's parameter vectors; return a (B, 5) float64 array.

    Parameters
    ----------
    theta : array_like, shape (5,) or (B, 5)
        Parameters in the order ``PARAMETER_NAMES``.
    name : str
        Argument name used in error messages.

    Returns
    -------
    ndarray, shape (B, 5)
        A float64 copy (a single vector gets B = 1).

    Raises
    ------
    ValueError
        If the dtype is not real numeric, the shape is wrong, a value is not
        finite, or a parameter is outside its support.
    """
    return check_columns(theta, PARAMETERS, name=name)
