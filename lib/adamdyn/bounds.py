r"""Kaiser's section 4: the largest Adam step (Proposition 1) and the bias-correction lemma.

Notation
--------
Coordinate-wise, Adam (Kingma & Ba, Algorithm 1) with a gradient history
:math:`\delta_1, \dots, \delta_t` has moments
:math:`m_t = (1-\beta_1)\sum_{i=0}^{t-1}\beta_1^i\delta_{t-i}` and
:math:`v_t = (1-\beta_2)\sum_{i=0}^{t-1}\beta_2^i\delta_{t-i}^2`, and its update is

.. math::

    w_t - w_{t-1} = -\eta\,\frac{m_t/(1-\beta_1^t)}{\sqrt{v_t/(1-\beta_2^t)}+\epsilon}
                  = -\eta\,\frac{m_t}{\sqrt{v_t} + \hat\epsilon_t}\,r_t(\beta_1, \beta_2),
    \qquad r_t = \frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t}.

Results (each derived in sympy by a function below)
---------------------------------------------------
* Cauchy-Schwarz with :math:`u_i = \beta_2^{i/2}\delta_{t-i}`, :math:`v_i = \beta_1^i\beta_2^{-i/2}`
  gives, without bias correction and with :math:`\epsilon = 0`,
  :math:`|m_t|/\sqrt{v_t} \le \frac{1-\beta_1}{\sqrt{1-\beta_2}}\sqrt{\frac{1-q^t}{1-q}}`,
  :math:`q = \beta_1^2/\beta_2`, with equality for :math:`\delta_{t-i}\propto(\beta_1/\beta_2)^i`.
* Proposition 1 (the limit :math:`t\to\infty`, which exists iff :math:`\beta_1^2 < \beta_2`):
  :math:`|w_t - w_{t-1}| \le \eta\,\frac{\sqrt{\beta_2}(1-\beta_1)}{\sqrt{(1-\beta_2)(\beta_2-\beta_1^2)}}`.
* Kaiser's lemma :math:`r_t \le 1\ \forall t\ge 1` holds **iff** :math:`1-\beta_2 \le (1-\beta_1)^2`
  (its own base case); :math:`\beta_2 > \beta_1^2` is not enough (e.g. :math:`\beta_1=\beta_2=0.9`).
  Sufficiency: with :math:`c = 1-\beta_1` and :math:`\beta_2 = 1-c^2` the claim is
  :math:`(1+c)^t + (1-c)^t \ge 2` (convexity), and :math:`r_t` decreases in :math:`\beta_2`.
* Proposition 1 nevertheless holds *with* bias correction for every :math:`\beta_1^2<\beta_2` and every
  :math:`t`: the bias-corrected finite supremum is the bound times
  :math:`\sqrt{(1-q^t)(1-\beta_2^t)}/(1-\beta_1^t) \le 1`, because
  :math:`(1-\beta_1^t)^2 - (1-q^t)(1-\beta_2^t) = (\beta_2^t-\beta_1^t)^2/\beta_2^t \ge 0` (AM-GM).
  The lemma is not needed.  :math:`\epsilon \ge 0` only shrinks the step.
* Proposition 2 (the distance crossed on a flat) is in :mod:`adamdyn.flat_distance`.

Outside the region
------------------
Where :math:`\beta_1^2 \ge \beta_2` the suprema of Propositions 1 and 2 are infinite, and
:func:`step_bound` and :func:`adamdyn.flat_distance.flat_distance_bound` return ``inf`` there (not NaN: the value is
known, and it is :math:`+\infty`).  Functions that *simulate* return NaN for runs they did not make.

References
----------
A. Kaiser, "Exploring the dynamics of Adam", section 4.  D. P. Kingma and J. Ba, "Adam: a method for
stochastic optimization", ICLR 2015.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy as sp
from scipy import optimize

from . import optimizers as _opt
from .relations import NEAR_BOUNDARY, decide_exactly
from .symbols import beta1, beta2
from .validation import (
    check_betas,
    check_bool,
    check_int,
    check_positive,
    check_seed,
    integer_values,
    real_array,
    scalar_beta,
    scalar_nonnegative,
    scalar_positive,
)

__all__ = [
    "beta1", "beta2", "t", "s", "i", "bias_factor_expr", "lemma_rearranged", "lemma_paper_rearranged", "bias_lemma_condition_expr", "bias_lemma_holds", "bias_lemma_first_failure", "bias_factor", "finite_step_sup_expr", "step_bound_expr", "step_bound", "step_bound_exists", "bias_corrected_sup_expr", "am_gm_gap_expr", "finite_step_sup", "extremal_history", "extremal_moments", "max_step_history",
]

t = sp.Symbol("t", integer=True, positive=True)
s = sp.Symbol("s", integer=True, nonnegative=True)
i = sp.Symbol("i", integer=True, nonnegative=True)
_q = sp.Symbol("q", positive=True)

DEFAULTS = (0.9, 0.999)


# ----------------------------------------------------------------------------- inputs
def _out(x):
    """A 0-d result as a scalar, anything else unchanged."""
    x = np.asarray(x)
    return x[()] if x.ndim == 0 else x


def _symbolic_n(n):
    """A step count for a sympy formula: a sympy expression (a symbol such as :data:`t`) or an integer >= 1."""
    if isinstance(n, sp.Expr) and not n.is_Number:
        return n
    if isinstance(n, sp.Integer):
        n = int(n)
    return sp.Integer(check_int("n", n, 1))


def _positive_beta2(b1, b2):
    r"""The extremal history needs :math:`\beta_2 > 0`: with :math:`\beta_2 = 0` the supremum is infinite
    (from two gradients on, unless :math:`\beta_1 = 0`) and no history attains it."""
    if np.any(b2 == 0.0):
        raise ValueError("beta2 must lie in (0, 1) for the extremal history (at beta2 = 0 the supremum is "
                         "infinite and not attained), got 0")


# ----------------------------------------------------------------------------- the lemma
def bias_factor_expr(n=t):
    r"""The bias-correction factor :math:`r_n = \sqrt{1-\beta_2^n}/(1-\beta_1^n)` of Kaiser's Eq. (4)."""
    n = _symbolic_n(n)
    return sp.sqrt(1 - beta2**n) / (1 - beta1**n)


def lemma_rearranged(n=t):
    r"""The lemma :math:`r_n \le 1` squared and rearranged correctly:
    :math:`\beta_2^n \ge 2\beta_1^n - \beta_1^{2n}` (as a sympy ``GreaterThan``).

    Squaring is allowed (both sides positive); expanding :math:`(1-\beta_1^n)^2` and moving terms gives
    this.  The paper prints :math:`\beta_2^n \ge \beta_1^{2n} - 2\beta_1^n` (see :func:`lemma_paper_rearranged`),
    whose right side is negative, so the paper's induction proves a statement that is always true.
    """
    n = _symbolic_n(n)
    rhs = sp.expand((1 - beta1**n) ** 2)
    # 1 - b2^n <= rhs  <=>  b2^n >= 1 - rhs
    return sp.Ge(beta2**n, sp.expand(1 - rhs))


def lemma_paper_rearranged(n=t):
    r"""The paper's printed rearrangement :math:`\beta_2^n \ge \beta_1^{2n} - 2\beta_1^n` (sign slip)."""
    n = _symbolic_n(n)
    return sp.Ge(beta2**n, beta1 ** (2 * n) - 2 * beta1**n)


def bias_lemma_condition_expr():
    r"""The exact condition for :math:`\sqrt{1-\beta_2^t}/(1-\beta_1^t) \le 1` for all integers :math:`t \ge 1`.

    .. math:: 1 - \beta_2 \le (1 - \beta_1)^2 \quad\Longleftrightarrow\quad \beta_2 \ge 2\beta_1 - \beta_1^2 .

    Necessity is the case :math:`t = 1`.  Sufficiency: put :math:`c = 1-\beta_1`; at the boundary
    :math:`\beta_2 = 1-c^2` the inequality :math:`1-\beta_2^t \le (1-\beta_1^t)^2` reads
    :math:`(1-c)^t\,[(1+c)^t + (1-c)^t - 2] \ge 0`, true by convexity of :math:`x^t`; and
    :math:`1-\beta_2^t` decreases as :math:`\beta_2` grows.  Kaiser's hypothesis :math:`\beta_2 > \beta_1^2`
    is weaker: :math:`2\beta_1 - \beta_1^2 \ge \beta_1^2`.
    """
    return sp.Le(1 - beta2, (1 - beta1) ** 2)


def bias_lemma_holds(beta1, beta2):
    r"""Elementwise: does :math:`\sqrt{1-\beta_2^t}/(1-\beta_1^t) \le 1` hold for every :math:`t \ge 1`?

    Exactly when :math:`1-\beta_2 \le (1-\beta_1)^2` (:func:`bias_lemma_condition_expr`).
    At the defaults (0.9, 0.999): :math:`10^{-3} \le 10^{-2}`, true.  At (0.9, 0.9): false.

    The boundary :math:`1-\beta_2 = (1-\beta_1)^2` belongs to the region (there :math:`r_1 = 1` and
    :math:`r_t \le 1` for every :math:`t`).  It is decided exactly: each float is read as the decimal it
    prints as (:func:`adamdyn.relations.decimal_fraction`), so ``(0.9, 0.99)``, where
    :math:`\sqrt{1-99/100} = 1-9/10`, is ``True`` although in doubles ``1 - 0.99 > (1 - 0.9)**2``
    (:func:`adamdyn.relations.decide_exactly`).
    """
    b1, b2 = check_betas(beta1, beta2)
    margin = (1.0 - b1) ** 2 - (1.0 - b2)
    return _out(decide_exactly(margin, lambda x1, x2: (1 - x1) ** 2 - (1 - x2), (b1, b2), strict=False))


def bias_factor(beta1, beta2, n):
    r"""Numeric :math:`r_n = \sqrt{1-\beta_2^n}/(1-\beta_1^n)`, broadcast over betas and ``n`` (>= 1)."""
    b1, b2 = check_betas(beta1, beta2)
    n = integer_values("n", n, 1)
    with np.errstate(divide="ignore"):  # beta = 0: log is -inf and beta^n = 0, as it should
        return np.sqrt(-np.expm1(n * np.log(b2))) / -np.expm1(n * np.log(b1))


def bias_lemma_first_failure(beta1, beta2, horizon=10_000):
    """Brute force: the first ``n <= horizon`` with :math:`r_n > 1` (0 if none), elementwise.

    An independent check of :func:`bias_lemma_holds` (used in the tests).
    """
    horizon = check_int("horizon", horizon, 1)
    b1, b2 = check_betas(beta1, beta2)
    # blocks of n: the same elementwise r_n, with temporaries that stay in the cache (a whole
    # horizon x grid array is ~65 MB per temporary for the flat chapter's 90 x 90 grid)
    first = np.zeros(b1.shape, dtype=np.intp)
    for start in range(1, horizon + 1, _FIRST_FAILURE_BLOCK):
        n = np.arange(start, min(start + _FIRST_FAILURE_BLOCK, horizon + 1), dtype=float)
        bad = bias_factor(b1, b2, n.reshape((-1,) + (1,) * b1.ndim)) > 1.0 + 1e-13
        first = np.where((first == 0) & bad.any(axis=0), bad.argmax(axis=0) + start, first)
    return _out(first)


#: Steps per block of :func:`bias_lemma_first_failure`.
_FIRST_FAILURE_BLOCK = 64


# ----------------------------------------------------------------------------- Proposition 1
def finite_step_sup_expr(n=t):
    r"""Cauchy-Schwarz supremum of :math:`|m_n|/\sqrt{v_n}` over histories of length ``n`` (sympy).

    .. math:: \frac{1-\beta_1}{\sqrt{1-\beta_2}}\sqrt{\sum_{i=0}^{n-1}\Big(\frac{\beta_1^2}{\beta_2}\Big)^i}

    The sum is evaluated by sympy (a ``Piecewise`` for :math:`q = 1`; we keep the :math:`q \ne 1` branch).
    Kaiser sums over :math:`i = 0..t` (``n = t + 1`` gradients).
    """
    n = _symbolic_n(n)
    geo = sp.summation(_q**i, (i, 0, n - 1))
    if isinstance(geo, sp.Piecewise):
        geo = next(e for e, c in geo.args if c == True)  # noqa: E712  (the q != 1 branch)
    geo = geo.subs(_q, beta1**2 / beta2)
    return (1 - beta1) / sp.sqrt(1 - beta2) * sp.sqrt(geo)


def step_bound_expr():
    r"""Proposition 1's bound divided by :math:`\eta`, derived in sympy.

    .. math:: \lim_{t\to\infty}\frac{1-\beta_1}{\sqrt{1-\beta_2}}\sqrt{\sum_{i=0}^{t}q^i}
              = \frac{\sqrt{\beta_2}(1-\beta_1)}{\sqrt{(1-\beta_2)(\beta_2-\beta_1^2)}},\qquad q=\beta_1^2/\beta_2<1 .

    The infinite geometric series is summed by sympy under its convergence condition :math:`q < 1`.
    """
    series = sp.summation(_q**i, (i, 0, sp.oo))
    if isinstance(series, sp.Piecewise):
        series = series.args[0][0]  # the branch valid for |q| < 1
    expr = (1 - beta1) / sp.sqrt(1 - beta2) * sp.sqrt(series.subs(_q, beta1**2 / beta2))
    # (1-b1)/sqrt(1-b2) * sqrt(b2/(b2-b1^2)) is the paper's form; write it the paper's way
    paper = sp.sqrt(beta2) * (1 - beta1) / sp.sqrt((1 - beta2) * (beta2 - beta1**2))
    if sp.simplify(expr**2 - paper**2) != 0:
        raise ArithmeticError("the summed series does not simplify to the paper's form of Proposition 1")
    return paper


def step_bound_exists(beta1, beta2):
    r"""Elementwise: the series of Proposition 1 converges, i.e. :math:`\beta_1^2 < \beta_2`.

    Outside, the extremal history :math:`\delta_{t-i}\propto(\beta_1/\beta_2)^i` makes the step grow like
    :math:`q^{t/2}` without bound.  The boundary :math:`\beta_2 = \beta_1^2` lies outside (the worst case
    grows like :math:`\sqrt t` there).  It is decided exactly: each float is read as the decimal it prints
    as, so ``(0.9, 0.81)`` is ``False`` and ``(0.9, 0.8100000000000002)`` is ``True``
    (:func:`adamdyn.relations.decide_exactly`).
    """
    b1, b2 = check_betas(beta1, beta2)
    return _out(_exists(b1, b2))


def _exists(b1, b2):
    return decide_exactly(b2 - b1**2, lambda x1, x2: x2 - x1**2, (b1, b2), strict=True)


def _gap(b1, b2, ok):
    r""":math:`\beta_2 - \beta_1^2` where ``ok`` (1 elsewhere); exact at points within rounding of the boundary."""
    gap = np.where(ok, b2 - b1**2, 1.0)
    near = np.flatnonzero(ok & (gap <= NEAR_BOUNDARY))
    if near.size:
        flat, x1, x2 = gap.reshape(-1).copy(), b1.reshape(-1), b2.reshape(-1)
        for k in near:
            flat[k] = float(Fraction(repr(float(x2[k]))) - Fraction(repr(float(x1[k]))) ** 2)
        gap = flat.reshape(gap.shape)
    return gap


def step_bound(beta1, beta2, eta=1.0):
    r"""Numeric Proposition 1 bound :math:`\eta\sqrt{\beta_2}(1-\beta_1)/\sqrt{(1-\beta_2)(\beta_2-\beta_1^2)}`.

    Vectorized; ``inf`` where :math:`\beta_1^2 \ge \beta_2` (the supremum is infinite).  At the defaults it is
    :math:`7.2703\,\eta` (the paper: "about 7.3 eta").
    """
    b1, b2 = check_betas(beta1, beta2)
    eta = real_array("eta", eta)
    check_positive("eta", eta.ravel())
    b1, b2, eta = np.broadcast_arrays(b1, b2, eta)
    ok = _exists(b1, b2)
    gap = _gap(b1, b2, ok)
    out = np.where(ok, eta * np.sqrt(b2) * (1 - b1) / np.sqrt((1 - b2) * gap), np.inf)
    return _out(out)


def bias_corrected_sup_expr(n=t):
    r"""Supremum over histories of the bias-corrected :math:`|\hat m_n|/\sqrt{\hat v_n}` (sympy).

    .. math:: r_n\,\frac{1-\beta_1}{\sqrt{1-\beta_2}}\sqrt{\frac{1-q^n}{1-q}}
        = \frac{\sqrt{\beta_2}(1-\beta_1)}{\sqrt{(1-\beta_2)(\beta_2-\beta_1^2)}}\cdot
          \frac{\sqrt{(1-q^n)(1-\beta_2^n)}}{1-\beta_1^n}.
    """
    n = _symbolic_n(n)
    return bias_factor_expr(n) * finite_step_sup_expr(n)


def am_gm_gap_expr(n=t):
    r""":math:`(1-\beta_1^n)^2 - (1-q^n)(1-\beta_2^n)`, simplified by sympy to :math:`(\beta_2^n-\beta_1^n)^2/\beta_2^n`.

    It is nonnegative, so the bias-corrected supremum never exceeds Proposition 1's bound (for every
    :math:`\beta_1^2 < \beta_2`, whether or not the lemma holds).  Returns ``(gap, factored)``.
    """
    n = _symbolic_n(n)
    x, y = sp.symbols("x y", positive=True)  # x = beta1^n, y = beta2^n
    gap = (1 - x) ** 2 - (1 - x**2 / y) * (1 - y)
    factored = sp.factor(gap)
    if sp.simplify(factored - (y - x) ** 2 / y) != 0:
        raise ArithmeticError("the AM-GM gap does not factor as (beta2^n - beta1^n)^2 / beta2^n")
    return gap.subs({x: beta1**n, y: beta2**n}), factored.subs({x: beta1**n, y: beta2**n})


def finite_step_sup(beta1, beta2, n, bias_correction=False):
    r"""Numeric supremum of :math:`|w_n - w_{n-1}|/\eta` over histories of length ``n`` (:math:`\epsilon = 0`).

    Without bias correction: :math:`\frac{1-\beta_1}{\sqrt{1-\beta_2}}\sqrt{\sum_{i<n}q^i}`, the Cauchy-Schwarz
    bound :math:`\sqrt{\sum_{i<n} a_i^2/b_i}` with :math:`a_i = (1-\beta_1)\beta_1^i`, :math:`b_i = (1-\beta_2)\beta_2^i`;
    with it, times :math:`r_n`.  Finite for every :math:`\beta_2 > 0` (the sum is finite); attained by
    :func:`extremal_history`.  For :math:`\beta_2 = 0` the second moment sees only the last gradient, and the
    supremum is ``inf`` from :math:`n = 2` on unless :math:`\beta_1 = 0`.  The stable-region chapter reads it as a
    growth law in :math:`n` (:func:`adamdyn.stability.worst_case_ratio`), the vector-field chapter as the
    truncation constant :math:`R_K`.

    ``n`` are whole numbers >= 1 (any broadcastable shape).  At :math:`\beta_2 = 0` the value is derived,
    not evaluated: :math:`v_n = \delta_n^2` and :math:`m_n = (1-\beta_1)\sum_i\beta_1^i\delta_{n-i}`, so
    the ratio is :math:`1-\beta_1` for ``n = 1``, 1 for :math:`\beta_1 = 0`, and :math:`+\infty` for
    :math:`n \ge 2`, :math:`\beta_1 > 0` (let :math:`\delta_n \to 0` with the older gradients fixed).
    """
    b1, b2 = check_betas(beta1, beta2)
    n = integer_values("n", n, 1)
    bias_correction = check_bool("bias_correction", bias_correction)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # q > 1: the sum is huge, inf is right
        q = b1**2 / b2
        geo = np.where(np.abs(q - 1) < 1e-15, n, np.expm1(n * np.log(np.where(q > 0, q, 1e-300))) / (q - 1))
    geo = np.where(q > 0, geo, 1.0)
    # beta2 = 0: v is the last squared gradient alone, m remembers older ones: unbounded once n >= 2
    geo = np.where(b2 == 0.0, np.where((n < 2) | (b1 == 0.0), 1.0, np.inf), geo)
    out = (1 - b1) / np.sqrt(1 - b2) * np.sqrt(geo)
    if bias_correction:
        out = out * bias_factor(b1, b2, n)
    return _out(out)


# ----------------------------------------------------------------------------- histories
def extremal_history(beta1, beta2, steps, scale=1.0):
    r"""The Cauchy-Schwarz equality case :math:`\delta_k = \text{scale}\,(\beta_1/\beta_2)^{T-k}`, :math:`k=1..T`.

    Shape ``(T,)`` for scalar betas, ``(T, runs)`` otherwise.  The last gradient equals ``scale``; the
    history grows by :math:`\beta_2/\beta_1` per step towards the present.  It attains
    :func:`finite_step_sup` at step :math:`T` (with or without bias correction, :math:`\epsilon=0`).
    """
    b1, b2 = check_betas(beta1, beta2)
    _positive_beta2(b1, b2)
    steps = check_int("steps", steps, 1)
    scale = scalar_positive("scale", scale)
    age = np.arange(steps - 1, -1, -1, dtype=float).reshape((-1,) + (1,) * b1.ndim)
    with np.errstate(divide="ignore", over="ignore"):
        hist = scale * np.where(age == 0, 1.0, (b1 / b2) ** age)
    if not np.all(np.isfinite(hist)):
        raise ValueError(f"steps={steps} is too large for these betas: (beta1/beta2)^(steps-1) * scale "
                         f"leaves float64; lower steps")
    return hist


def extremal_moments(beta1, beta2, steps, scale=1.0):
    """The moments ``(m_T, v_T)`` after :func:`extremal_history` (closed-form geometric sums)."""
    b1, b2 = check_betas(beta1, beta2)
    _positive_beta2(b1, b2)
    steps = check_int("steps", steps, 1)
    scale = scalar_positive("scale", scale)
    with np.errstate(over="ignore"):
        geo = finite_step_sup(b1, b2, steps) ** 2 * (1 - b2) / (1 - b1) ** 2
    if not np.all(np.isfinite(geo)):
        raise ValueError(f"steps={steps} is too large for these betas (beta1^2 > beta2): the extremal "
                         f"moments leave float64; lower steps")
    return scale * (1 - b1) * geo, scale**2 * (1 - b2) * geo


def _step_in_eta(opt, grads):
    """The last update of ``opt`` on each column of ``grads``, in units of -lr (positive = forward)."""
    return -_opt.updates_from_gradients(opt, grads)[-1] / opt.lr[0]


def max_step_history(beta1=0.9, beta2=0.999, steps=30, *, eps=0.0, bias_correction=False, restarts=3,
                     seed=0, box=1.0):
    r"""Maximise Adam's last update over histories in :math:`[-\text{box}, \text{box}]^T` with scipy.

    L-BFGS-B from ``restarts`` seeded random starts; the objective (the update of
    :func:`adamdyn.updates_from_gradients`, :math:`\eta = 1`) and its finite-difference gradient are
    evaluated in one batched call.  Returns ``(best_value, best_history)``.
    """
    beta1, beta2 = scalar_beta("beta1", beta1), scalar_beta("beta2", beta2)
    eps = scalar_nonnegative("eps", eps)
    bias_correction = check_bool("bias_correction", bias_correction)
    steps = check_int("steps", steps, 1)
    restarts = check_int("restarts", restarts, 1)
    seed = check_seed("seed", seed)
    box = scalar_positive("box", box)
    opt = _opt.adam(lr=1.0, beta1=beta1, beta2=beta2, eps=eps, bias_correction=bias_correction)
    h = 1e-7

    def neg_and_grad(d):
        cols = np.repeat(d[:, None], steps + 1, axis=1)
        cols[np.arange(steps), np.arange(1, steps + 1)] += h
        vals = _step_in_eta(opt, cols)
        return -vals[0], -(vals[1:] - vals[0]) / h

    rng = np.random.default_rng(seed)
    best, best_d = -np.inf, None
    for _ in range(restarts):
        res = optimize.minimize(neg_and_grad, rng.uniform(-box, box, steps), jac=True, method="L-BFGS-B",
                                bounds=[(-box, box)] * steps, options={"maxiter": 500})
        val = _step_in_eta(opt, res.x)
        if val > best:
            best, best_d = float(val), res.x
    return best, best_d
