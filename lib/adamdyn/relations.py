r"""Conditions on :math:`(\beta_1, \beta_2)` as sympy relations: evaluated on grids, decided exactly.

The sources state their hyperparameter conditions as inequalities in the decay rates
(:math:`\beta_1^2 < \beta_2`, :math:`3 + \beta_2 > 4\beta_1`, ...).  The functions here turn a
sympy relation into a signed margin on arrays (:func:`relation_margin`), decide it exactly at decimal
points (:func:`relation_at`), and derive the region where an expression is positive
(:func:`positivity_condition`).  The conditions map chapter compares every condition with them.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .symbols import beta1, beta2

__all__ = ["relation_margin", "relation_at", "positivity_condition"]


def relation_margin(relation, beta1_values, beta2_values, symbols=None):
    r"""Evaluate a sympy relation in :math:`(\beta_1, \beta_2)` on arrays.

    Returns ``(holds, margin)``: the truth value and a signed distance
    ``lhs - rhs`` oriented so that positive means "holds" (for an ``And``, the
    smallest margin of its parts).  Points with a tiny ``|margin|`` sit on the
    boundary, where floating point may decide either way.
    """
    s1, s2 = symbols if symbols is not None else (beta1, beta2)
    b1 = np.asarray(beta1_values, float)
    b2 = np.asarray(beta2_values, float)
    if isinstance(relation, sp.And):
        parts = [relation_margin(r, b1, b2, (s1, s2)) for r in relation.args]
        holds = np.logical_and.reduce([p[0] for p in parts])
        margin = np.minimum.reduce([p[1] for p in parts])
        return holds, margin
    if not isinstance(relation, sp.core.relational.Relational):
        raise ValueError(f"relation must be a sympy relational or And, got {relation!r}")
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
    not the nearest double), so a point on a boundary is decided correctly.
    """
    s1, s2 = symbols if symbols is not None else (beta1, beta2)
    val = relation.subs({s1: sp.Rational(str(b1)), s2: sp.Rational(str(b2))})
    val = sp.simplify(val)
    if val not in (sp.true, sp.false):
        raise ValueError(f"could not decide {relation} at ({b1}, {b2}): got {val}")
    return bool(val)


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
