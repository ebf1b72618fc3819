r"""Conditions on :math:`(\beta_1, \beta_2)` as sympy relations: evaluated on grids, decided exactly.

The sources state their hyperparameter conditions as inequalities in the decay rates
(:math:`\beta_1^2 < \beta_2`, :math:`3 + \beta_2 > 4\beta_1`, ...).  The functions here turn a
sympy relation into a signed margin on arrays (:func:`relation_margin`), decide it exactly at decimal
points (:func:`relation_at`), and derive the region where an expression is positive
(:func:`positivity_condition`).  The conditions map chapter compares every condition with them.

What "exact" means for a float
------------------------------
A double such as ``0.99`` is not :math:`99/100` but the nearest binary fraction, so a point
typed on a boundary (:math:`\beta_2 = \beta_1^2` at ``(0.9, 0.81)``, :math:`1-\beta_2 =
(1-\beta_1)^2` at ``(0.9, 0.99)``) would be decided by rounding.  Here a float stands for the
decimal it prints as, its shortest round-trip representation (``repr``): ``0.99`` is
:math:`99/100` and ``0.8100000000000002`` is :math:`8100000000000002/10^{16}`
(:func:`decimal_fraction`).  That is the number the reader typed, and it lies within half
a unit in the last place of the double.  :func:`decide_exactly` decides a predicate in floating
point where its margin is clearly non-zero and in rational arithmetic on those decimals where it
is within :data:`NEAR_BOUNDARY` of zero, so that boundary points get the side the mathematics
gives them, whatever their binary rounding.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy as sp

from .symbols import beta1, beta2
from .validation import check_bool, check_callable, check_scalar, real_array

__all__ = ["relation_margin", "relation_at", "positivity_condition", "NEAR_BOUNDARY", "decimal_fraction",
           "decide_exactly"]

#: Margins this close to 0 are re-decided in exact arithmetic by :func:`decide_exactly`.  The margins
#: used here are polynomials of degree <= 2 in numbers of [0, 1), whose float rounding error is a few
#: 1e-16: 1e-12 leaves a wide safety factor and costs nothing away from the boundaries.
NEAR_BOUNDARY = 1e-12


def decimal_fraction(x) -> Fraction:
    r"""The decimal a float stands for (its shortest round-trip ``repr``) as an exact :class:`~fractions.Fraction`.

    ``decimal_fraction(0.99) == Fraction(99, 100)``, whereas ``Fraction(0.99)`` is the binary
    double :math:`0.98999999999999999111\ldots`.
    """
    return Fraction(repr(check_scalar("x", x)))


def decide_exactly(margin, exact_margin, values, *, strict):
    r"""Decide ``margin > 0`` (``strict``) or ``margin >= 0`` elementwise, exactly near the boundary.

    Parameters
    ----------
    margin : ndarray
        The predicate's signed margin in floating point (positive means "holds").
    exact_margin : callable
        The same margin on :class:`~fractions.Fraction` arguments (exact rational arithmetic).
    values : tuple of ndarray
        The arguments, broadcastable to ``margin``'s shape; entries where
        :math:`|	ext{margin}| \le` :data:`NEAR_BOUNDARY` are re-decided as the sign of
        ``exact_margin`` at their :func:`decimal_fraction`.
    strict : bool
        Whether the boundary itself (exact margin 0) is excluded (``True``) or included.

    Returns
    -------
    ndarray of bool, the shape of ``margin``.
    """
    check_callable("exact_margin", exact_margin)
    strict = check_bool("strict", strict)
    margin = real_array("margin", margin)
    holds = margin > 0 if strict else margin >= 0
    near = np.abs(margin) <= NEAR_BOUNDARY
    if near.any():
        flat = holds.reshape(-1).copy()
        args = [np.broadcast_to(real_array("values", v), margin.shape).reshape(-1) for v in values]
        for k in np.flatnonzero(near):
            e = exact_margin(*(Fraction(repr(float(a[k]))) for a in args))
            flat[k] = e > 0 if strict else e >= 0
        holds = flat.reshape(margin.shape)
    return holds


def relation_margin(relation, beta1_values, beta2_values, symbols=None):
    r"""Evaluate a sympy relation in :math:`(\beta_1, \beta_2)` on arrays.

    Returns ``(holds, margin)``: the truth value and a signed distance
    ``lhs - rhs`` oriented so that positive means "holds" (for an ``And``, the
    smallest margin of its parts).  Points with a tiny ``|margin|`` sit on the
    boundary, where floating point may decide either way.
    """
    s1, s2 = _symbols(symbols)
    b1 = real_array("beta1_values", beta1_values)
    b2 = real_array("beta2_values", beta2_values)
    if isinstance(relation, sp.And):
        parts = [relation_margin(r, b1, b2, (s1, s2)) for r in relation.args]
        holds = np.logical_and.reduce([p[0] for p in parts])
        margin = np.minimum.reduce([p[1] for p in parts])
        return holds, margin
    if not isinstance(relation, sp.core.relational.Relational):
        raise ValueError(f"relation must be a sympy relational or And, got {relation!r}")  # noqa: TRY004
    if isinstance(relation, (sp.StrictGreaterThan, sp.GreaterThan)):
        expr = relation.lhs - relation.rhs
    else:
        expr = relation.rhs - relation.lhs
    f = sp.lambdify((s1, s2), expr, "numpy")
    with np.errstate(all="ignore"):
        margin = np.broadcast_to(np.asarray(f(b1, b2), float), np.broadcast(b1, b2).shape)
    strict = isinstance(relation, (sp.StrictGreaterThan, sp.StrictLessThan))
    holds = margin > 0 if strict else margin >= 0
    return holds, margin


def relation_at(relation, b1, b2, symbols=None):
    r"""Decide a relation exactly at decimal :math:`(\beta_1, \beta_2)`, e.g. ``(0.9, 0.99)``.

    The decimals are converted to exact rationals (``"0.99"`` is :math:`99/100`,
    not the nearest double), so a point on a boundary is decided correctly.  A float is read as the
    decimal it prints as (:func:`decimal_fraction`).
    """
    s1, s2 = _symbols(symbols)
    if not isinstance(relation, (sp.And, sp.core.relational.Relational)):
        raise ValueError(f"relation must be a sympy relational or And, got {relation!r}")  # noqa: TRY004
    b1, b2 = check_scalar("b1", b1), check_scalar("b2", b2)
    val = relation.subs({s1: sp.Rational(str(b1)), s2: sp.Rational(str(b2))})
    val = sp.simplify(val)
    if val not in (sp.true, sp.false):
        raise ValueError(f"could not decide {relation} at ({b1}, {b2}): got {val}")
    return bool(val)


def _symbols(symbols):
    if symbols is None:
        return beta1, beta2
    if (not isinstance(symbols, (tuple, list)) or len(symbols) != 2
            or not all(isinstance(x, sp.Symbol) for x in symbols)):
        raise ValueError(f"symbols must be a pair of sympy symbols, got {symbols!r}")
    return tuple(symbols)


def positivity_condition(expr):
    r"""Where a rational expression in :math:`(\beta_1, \beta_2) \in (0,1)^2` is positive, solved for :math:`\beta_2`.

    The numerator and denominator are factored.  The sign of each factor that
    is sign-definite on the open square is decided by sympy after the
    substitution :math:`\beta_i = 1/(1+r_i)`, :math:`r_i > 0` (a bijection onto
    :math:`(0,1)`); their signs multiply into the sign the single remaining
    factor must have, and that inequality is solved for :math:`\beta_2`.
    Raises ``ValueError`` if more than one factor has an undetermined sign, or
    if it is not linear in :math:`\beta_2`.
    """
    if not isinstance(expr, sp.Expr):
        raise ValueError(f"expr must be a sympy expression in beta1, beta2, got {expr!r}")  # noqa: TRY004
    r1, r2 = sp.symbols("r1 r2", positive=True)
    num, den = sp.fraction(sp.factor(sp.together(expr)))
    if not (num * den).is_polynomial(beta1, beta2) or (num * den).is_number:
        raise ValueError(f"expr must be a non-constant rational function of beta1, beta2 (square roots: pass "
                         f"the square), got {expr}")
    coeff, factors = sp.factor_list(num * den)
    sign = 1 if coeff > 0 else -1
    unknown = []
    for f, mult in factors:
        g = sp.simplify(f.subs({beta1: 1 / (1 + r1), beta2: 1 / (1 + r2)}))
        if g.is_positive:
            continue
        if g.is_negative:
            sign *= (-1) ** mult
            continue
        unknown.append((f, mult))
    if not unknown:
        return sp.true if sign > 0 else sp.false
    if len(unknown) > 1 or unknown[0][1] != 1 or sp.degree(unknown[0][0], beta2) != 1:
        raise ValueError(f"cannot decide the sign of {expr}: undetermined factors {unknown}")
    f = unknown[0][0]
    return sp.solve_univariate_inequality(f > 0 if sign > 0 else f < 0, beta2, relational=True)
