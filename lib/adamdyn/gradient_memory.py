r"""How Adam weighs recent and old gradients: Kaiser's Proposition 3 (section 5).

Proposition 3 concerns the long-run update of Adam without bias correction and
:math:`\epsilon`,

.. math::

    \frac{|w_{t+1}-w_t|}{\eta} = \frac{1-\beta_1}{\sqrt{1-\beta_2}}\,
    \frac{\left|\sum_{i\ge 0}\beta_1^{i}\delta_{t-i}\right|}{\sqrt{\sum_{i\ge 0}\beta_2^{i}\delta_{t-i}^2}} .

For a history with one non-zero gradient of age :math:`k` this is
:math:`\frac{1-\beta_1}{\sqrt{1-\beta_2}}(\beta_1/\sqrt{\beta_2})^k`
(:func:`single_impulse_ratio`), decreasing in :math:`k` iff
:math:`\beta_1 < \sqrt{\beta_2}`.  For a geometric history
:math:`\delta_{t-i} = r^{-i}` (growing when :math:`r > 1`) the infinite sums give
:func:`geometric_history_ratio`.

References
----------
A. Kaiser, "Exploring the Dynamics of Adam", section 5.
D. P. Kingma and J. Ba, "Adam", ICLR 2015.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from . import optimizers as _opt
from .symbols import beta1 as _b1
from .symbols import beta2 as _b2
from .validation import (
    check_beta,
    check_bool,
    check_int,
    check_seed,
    integer_values,
    real_array,
    scalar_beta,
)

__all__ = ["single_impulse_symbolic", "single_impulse_ratio", "impulse_updates",
           "geometric_history_symbolic", "geometric_history_ratio", "reversal_gaps", "reversal_violation_map"]

_k = sp.Symbol("k", positive=True)
_r = sp.Symbol("r", positive=True)
_i = sp.Symbol("i", integer=True, nonnegative=True)


def single_impulse_symbolic():
    r"""Sympy: the long-run update (in units of :math:`\eta`) when the only non-zero gradient has age :math:`k`.

    Derived from the two sums of the update with :math:`\delta_{t-i} = \delta\,[i = k]`.
    Returns ``(expr, k)``.
    """
    d = sp.symbols("delta", positive=True)
    num = (1 - _b1) * _b1**_k * d
    den = sp.sqrt((1 - _b2) * _b2**_k * d**2)
    return sp.simplify(sp.powsimp(num / den, force=True)), _k


def single_impulse_ratio(beta1, beta2, age):
    r""":math:`\frac{1-\beta_1}{\sqrt{1-\beta_2}}\,(\beta_1/\sqrt{\beta_2})^{k}` for integer ages ``age >= 0``.

    ``beta2`` lies in (0, 1): at :math:`\beta_2 = 0` the second moment has forgotten the impulse after one step.
    """
    b1, b2 = check_beta("beta1", beta1), check_beta("beta2", beta2)
    if np.any(b2 == 0.0):
        raise ValueError("beta2 must lie in (0, 1) here (the formula divides by sqrt(beta2)), got 0")
    k = integer_values("age", age, 0)
    with np.errstate(over="ignore"):  # beta1 > sqrt(beta2) and a large age: the ratio exceeds float64, inf
        return (1 - b1) / np.sqrt(1 - b2) * (b1 / np.sqrt(b2)) ** k


def impulse_updates(beta1=0.9, beta2=0.999, T=200, ages=(0, 1, 5, 20, 100), bias_correction=False, eps=0.0):
    """Adam's update at step ``T`` (in units of lr) after a unit gradient ``age`` steps earlier, zeros otherwise.

    Runs the real update rule (:func:`adamdyn.updates_from_gradients`), one
    history per age, batched.
    """
    T = check_int("T", T, 1)
    ages = np.atleast_1d(integer_values("ages", ages, 0)).astype(int)
    if ages.ndim != 1:
        raise ValueError(f"ages must be a 1-D list of integers, got shape {ages.shape}")
    beta1, beta2 = scalar_beta("beta1", beta1), scalar_beta("beta2", beta2)
    bias_correction = check_bool("bias_correction", bias_correction)
    if np.any((ages < 0) | (ages >= T)):
        raise ValueError(f"ages must lie in [0, T-1] = [0, {T - 1}], got {ages.tolist()}")
    G = np.zeros((T, ages.size))
    G[T - 1 - ages, np.arange(ages.size)] = 1.0
    opt = _opt.adam(lr=1.0, beta1=beta1, beta2=beta2, eps=eps, bias_correction=bias_correction)
    return -_opt.updates_from_gradients(opt, G)[-1]


def geometric_history_symbolic():
    r"""Sympy: the update ratio for the infinite history :math:`\delta_{t-i} = r^{-i}`.

    Sums :math:`\sum_i (\beta_1/r)^i` and :math:`\sum_i (\beta_2/r^2)^i` (convergent for
    :math:`r > \beta_1`, :math:`r^2 > \beta_2`).  Returns ``(expr, r)``.
    """
    num = (1 - _b1) * sp.summation((_b1 / _r) ** _i, (_i, 0, sp.oo))
    den = sp.sqrt((1 - _b2) * sp.summation((_b2 / _r**2) ** _i, (_i, 0, sp.oo)))
    conds = {sp.Abs(_b1 / _r) < 1: True, sp.Abs(_b2 / _r**2) < 1: True}
    expr = (num / den).subs(conds) if conds else num / den
    expr = sp.piecewise_fold(expr)
    if isinstance(expr, sp.Piecewise):
        expr = expr.args[0][0]
    return sp.simplify(expr), _r


def geometric_history_ratio(beta1, beta2, r):
    r""":math:`\frac{1-\beta_1}{\sqrt{1-\beta_2}}\,\frac{\sqrt{1-\beta_2/r^2}}{1-\beta_1/r}`: the long-run update
    (units of :math:`\eta`) for gradients growing by a factor :math:`r` per step."""
    b1, b2 = check_beta("beta1", beta1), check_beta("beta2", beta2)
    r = real_array("r", r)
    if not np.all(np.isfinite(r)):
        raise ValueError(f"r must be finite, got {r!r}")
    with np.errstate(over="ignore"):  # r**2 = inf for huge r: beta2 / r**2 = 0, the limit
        r2 = r**2
        if np.any(r <= b1) or np.any(r2 <= b2):
            raise ValueError("r must satisfy r > beta1 and r**2 > beta2 for the infinite sums to converge")
        return (1 - b1) / np.sqrt(1 - b2) * np.sqrt(1 - b2 / r2) / (1 - b1 / r)


def reversal_gaps(n_histories=2000, T=60, beta1=0.9, beta2=0.999, seed=0):
    """Update for a random positive history sorted increasing (recent mass) minus the same history decreasing.

    Tests Proposition 3 beyond single impulses: the same gradients, put in the
    opposite order in time.  Returns the array of gaps (units of lr); a negative
    gap is a counterexample to "recent mass gives the larger step".
    """
    n = check_int("n_histories", n_histories, 1)
    T = check_int("T", T, 1)
    beta1, beta2 = scalar_beta("beta1", beta1), scalar_beta("beta2", beta2)
    rng = np.random.default_rng(check_seed("seed", seed))
    # heavy-tailed magnitudes so that some histories are dominated by a few large gradients
    G = np.sort(rng.lognormal(0.0, 1.5, size=(T, n)), axis=0)
    opt = _opt.adam(lr=1.0, beta1=beta1, beta2=beta2, eps=0.0, bias_correction=False)
    up = -_opt.updates_from_gradients(opt, G)[-1]
    down = -_opt.updates_from_gradients(opt, G[::-1])[-1]
    return up - down


def reversal_violation_map(beta1s, beta2s, n_histories=200, T=30, seed=0) -> np.ndarray:
    """Fraction of random histories for which recent mass gives the *smaller* step, over a (beta2, beta1) grid.

    Returns an array of shape (len(beta2s), len(beta1s)); all grid points share the same histories.
    """
    b1 = check_beta("beta1s", beta1s)
    b2 = check_beta("beta2s", beta2s)
    n = check_int("n_histories", n_histories, 1)
    rng = np.random.default_rng(check_seed("seed", seed))
    G = np.sort(rng.lognormal(0.0, 1.5, size=(check_int("T", T, 1), n)), axis=0)
    B1, B2 = np.meshgrid(b1, b2)
    opt = _opt.adam(lr=1.0, beta1=np.repeat(B1.ravel(), n), beta2=np.repeat(B2.ravel(), n), eps=0.0,
                    bias_correction=False)
    Gs = np.tile(G, (1, B1.size))
    up = -_opt.updates_from_gradients(opt, Gs)[-1]
    down = -_opt.updates_from_gradients(opt, Gs[::-1])[-1]
    return (up < down).reshape(B1.size, n).mean(axis=1).reshape(B1.shape)
