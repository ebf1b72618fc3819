r"""Loss landscapes: objective and analytic gradient, vectorized over runs.

Every landscape evaluates on arrays of shape ``(..., dim)``: one row per
independent run.  The built-in ones also carry an integer ``kind`` and a
parameter vector so that the compiled optimizer kernel
(:func:`adamdyn.optimizers.run`) evaluates their gradient without calling back
into Python.  :func:`from_function` wraps any user function; those run through
the vectorized NumPy path instead.

=====================  ==========================================================
landscape              objective
=====================  ==========================================================
:func:`saddle`         :math:`\tfrac12(-x^2 + y^2)`, Hessian :math:`\mathrm{diag}(-1, 1)`
:func:`smooth_valley`  :math:`x^2 + 10^{-3} y^2` (Kaiser, section 6)
:func:`sharp_valley`   :math:`|x| + 10^{-4} |y|` (Kaiser, section 6)
:func:`plateau`        a slope that ends in an exactly flat plateau (Kaiser, section 4)
:func:`quartic`        :math:`(x+y)^4 + (x/2 - y/2)^4` (Belotto da Silva & Gazeau, Fig. 2)
=====================  ==========================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .validation import (
    as_param,
    check_int,
    check_positive,
    check_scalar,
    scalar_positive,
)

__all__ = [
    "Landscape",
    "quadratic",
    "weighted_abs",
    "saddle",
    "smooth_valley",
    "sharp_valley",
    "plateau",
    "quartic",
    "from_function",
    "KIND_USER",
    "KIND_QUADRATIC",
    "KIND_ABS",
    "KIND_PLATEAU",
    "KIND_QUARTIC",
]

KIND_USER = -1
KIND_QUADRATIC = 0
KIND_ABS = 1
KIND_PLATEAU = 2
KIND_QUARTIC = 3


@dataclass(frozen=True)
class Landscape:
    """An objective with its gradient.

    Attributes
    ----------
    name : str
        Short label used in figures and tables.
    value, grad : callable
        ``value(X)`` maps ``(..., dim)`` to ``(...)``; ``grad(X)`` maps
        ``(..., dim)`` to ``(..., dim)``.
    dim : int or None
        Number of coordinates, or ``None`` if any dimension works
        (separable landscapes).
    kind : int
        Identifier of the compiled gradient (``KIND_USER`` for user functions).
    params : ndarray
        Parameters of the compiled gradient.
    minimizer : ndarray or None
        A global minimizer, where one exists.
    latex : str
        The objective in LaTeX, for captions.
    """

    name: str
    value: Callable[[np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray], np.ndarray]
    dim: int | None
    kind: int = KIND_USER
    params: np.ndarray = field(default_factory=lambda: np.zeros(0))
    minimizer: np.ndarray | None = None
    latex: str = ""


def _check_name(name) -> str:
    if not isinstance(name, str):
        raise ValueError(f"name must be a string (a label for figures), got {name!r}")
    return name


def _quiet(f):
    """``f`` without floating-point warnings: beyond float64's range a landscape's value or gradient
    is inf (or NaN where two infinities meet), and the runs flag such points as diverged."""

    def wrapped(X):
        with np.errstate(all="ignore"):
            return f(X)

    wrapped.__doc__ = f.__doc__
    return wrapped


def quadratic(coeffs, name: str = "quadratic") -> Landscape:
    r"""Separable quadratic :math:`f(w) = \sum_i a_i w_i^2`, gradient :math:`2 a_i w_i`."""
    _check_name(name)
    a = as_param("coeffs", coeffs)
    terms = " + ".join(f"{c:g} w_{{{i + 1}}}^2" for i, c in enumerate(a))
    return Landscape(
        name=name,
        value=_quiet(lambda X: np.sum(a * np.asarray(X) ** 2, axis=-1)),
        grad=_quiet(lambda X: 2.0 * a * np.asarray(X)),
        dim=a.size,
        kind=KIND_QUADRATIC,
        params=a.copy(),
        minimizer=np.zeros(a.size) if np.all(a > 0) else None,
        latex=terms,
    )


def weighted_abs(coeffs, name: str = "weighted_abs") -> Landscape:
    r"""Separable :math:`f(w) = \sum_i a_i |w_i|`, gradient :math:`a_i\,\mathrm{sign}(w_i)` (0 at 0)."""
    _check_name(name)
    a = check_positive("coeffs", coeffs)
    terms = " + ".join(f"{c:g} |w_{{{i + 1}}}|" for i, c in enumerate(a))
    return Landscape(
        name=name,
        value=_quiet(lambda X: np.sum(a * np.abs(X), axis=-1)),
        grad=_quiet(lambda X: a * np.sign(X)),
        dim=a.size,
        kind=KIND_ABS,
        params=a.copy(),
        minimizer=np.zeros(a.size),
        latex=terms,
    )


def saddle() -> Landscape:
    r"""The saddle :math:`f(x, y) = \tfrac12(-x^2 + y^2)` with Hessian :math:`\mathrm{diag}(-1, 1)` (Kaiser, section 5)."""
    return quadratic([-0.5, 0.5], name="saddle")


def smooth_valley(a: float = 1.0, b: float = 1e-3) -> Landscape:
    r"""Kaiser's smooth valley :math:`f(x, y) = a x^2 + b y^2`, by default :math:`x^2 + 10^{-3} y^2`."""
    return quadratic([scalar_positive("a", a), scalar_positive("b", b)], name="smooth valley")


def sharp_valley(a: float = 1.0, b: float = 1e-4) -> Landscape:
    r"""Kaiser's sharp valley :math:`f(x, y) = a|x| + b|y|`, by default :math:`|x| + 10^{-4}|y|`."""
    return weighted_abs([scalar_positive("a", a), scalar_positive("b", b)], name="sharp valley")


def plateau(edge: float = 0.0, slope: float = 1.0, power: float = 1.0) -> Landscape:
    r"""A slope that ends in an exactly flat plateau, applied to every coordinate.

    .. math::

        f(w) = \sum_i \begin{cases} \frac{c}{p}\,(e - w_i)^p & w_i < e,\\ 0 & w_i \ge e,\end{cases}
        \qquad
        \partial_i f(w) = \begin{cases} -c\,(e - w_i)^{p-1} & w_i < e,\\ 0 & w_i \ge e.\end{cases}

    With ``power=1`` the approach is a constant slope ``c``; with ``power=2``
    it is the right half of a quadratic bowl whose gradient reaches zero at
    the edge ``e``.  Descent moves in the ``+w`` direction and enters the flat
    at ``w = e``.
    """
    e = check_scalar("edge", edge)
    c = scalar_positive("slope", slope)
    p = check_scalar("power", power, 1.0)

    def value(X):
        d = np.maximum(e - np.asarray(X, dtype=float), 0.0)
        return np.sum(c / p * d**p, axis=-1)

    def grad(X):
        d = np.maximum(e - np.asarray(X, dtype=float), 0.0)
        return np.where(d > 0.0, -c * d ** (p - 1.0), 0.0)

    return Landscape(
        name="plateau",
        value=_quiet(value),
        grad=_quiet(grad),
        dim=None,
        kind=KIND_PLATEAU,
        params=np.array([e, c, p]),
        minimizer=None,
        latex=rf"\tfrac{{{c:g}}}{{{p:g}}}\,\max({e:g} - w, 0)^{{{p:g}}}",
    )


def quartic() -> Landscape:
    r"""Belotto da Silva & Gazeau's :math:`f(x, y) = (x + y)^4 + (x/2 - y/2)^4`, minimum 0 at the origin."""

    def value(X):
        X = np.asarray(X, dtype=float)
        x, y = X[..., 0], X[..., 1]
        return (x + y) ** 4 + (x / 2 - y / 2) ** 4

    def grad(X):
        X = np.asarray(X, dtype=float)
        x, y = X[..., 0], X[..., 1]
        # cubes as products, in the order of the compiled kernel and the explorer's JavaScript,
        # so that every path rounds alike (``** 3`` calls pow, which rounds differently)
        s, q = x + y, x / 2 - y / 2
        u, w = 4 * (s * s * s), 2 * (q * q * q)
        return np.stack([u + w, u - w], axis=-1)

    return Landscape(
        name="quartic",
        value=_quiet(value),
        grad=_quiet(grad),
        dim=2,
        kind=KIND_QUARTIC,
        params=np.zeros(0),
        minimizer=np.zeros(2),
        latex=r"(x+y)^4 + (x/2 - y/2)^4",
    )


def from_function(value, grad=None, dim: int | None = None, name: str = "user", step: float = 1e-6) -> Landscape:
    """Wrap a user objective.

    Parameters
    ----------
    value : callable
        Maps ``(..., dim)`` to ``(...)``.
    grad : callable, optional
        Maps ``(..., dim)`` to ``(..., dim)``.  If omitted, central differences
        with step ``step`` are used (error :math:`O(\\text{step}^2)`).
    dim : int, optional
        Required number of coordinates, if fixed.
    """
    if not callable(value):
        raise ValueError("value must be callable, mapping arrays (..., dim) to (...)")
    if dim is not None:
        dim = check_int("dim", dim, 1)
    _check_name(name)
    if grad is not None and not callable(grad):
        raise ValueError("grad must be callable or None")
    if grad is None:
        h = scalar_positive("step", step)

        def grad(X):
            X = np.asarray(X, dtype=float)
            G = np.empty_like(X)
            for i in range(X.shape[-1]):
                E = np.zeros(X.shape[-1])
                E[i] = h
                G[..., i] = (value(X + E) - value(X - E)) / (2 * h)
            return G

    return Landscape(name=name, value=value, grad=grad, dim=dim)
