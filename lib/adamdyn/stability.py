r"""The region of bounded Adam updates, in discrete time (our reconstruction of Gould & Tanaka).

Gould & Tanaka (arXiv 2411.05746) state, in their abstract, a continuous-time
model of Adam/AdamW and a "stable region" of the decay rates in which updates
stay bounded, with exponential growth of the updates outside it.  Only the
abstract is available to us, so everything in this module is **our
reconstruction** from first principles.

Stable region
-------------
Without :math:`\epsilon` and bias correction the update is the ratio

.. math::

    u_t = \frac{m_t}{\sqrt{v_t}} = \frac{1-\beta_1}{\sqrt{1-\beta_2}}\,
          \frac{\sum_{i<t}\beta_1^i g_{t-i}}{\sqrt{\sum_{i<t}\beta_2^i g_{t-i}^2}}
    \le \frac{1-\beta_1}{\sqrt{1-\beta_2}}\sqrt{\sum_{i<t} q^i},\qquad q = \beta_1^2/\beta_2,

by Cauchy-Schwarz, with equality for :math:`g_s \propto (\beta_2/\beta_1)^s`.
That one history attains the supremum at every :math:`t` at once, so the
worst-case update is bounded iff :math:`q<1`, i.e. :math:`\beta_1^2 < \beta_2`,
and otherwise grows like :math:`q^{t/2}`: a rate of
:math:`\tfrac12\ln(\beta_1^2/\beta_2)` per step.  In continuous time the same
argument gives :math:`2a > b`, which is the same inequality under
:math:`\beta_i = e^{-a_i\eta}` (:mod:`adamdyn.continuous_adam`, which holds the continuous-time
model).  :mod:`adamdyn.relations` evaluates such conditions on grids and decides them exactly.

References
----------
R. Gould, H. Tanaka, "Continuous-Time Analysis of Adaptive Optimization and
Normalization", arXiv 2411.05746 (2024).  D. P. Kingma, J. Ba, "Adam", ICLR 2015.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from . import bounds as _bounds
from . import optimizers as _opt
from .symbols import beta1, beta2
from .validation import (
    check_beta,
    check_bool,
    check_int,
    check_nonnegative,
    check_positive,
    check_scalar,
    integer_values,
    real_array,
    scalar_positive,
)

__all__ = [
    "beta1", "beta2",
    "discrete_sup_series", "discrete_stable_condition", "discrete_growth_rate_expr",
    "stable_region_holds", "worst_case_ratio", "growth_rate",
    "extremal_gradients", "extremal_second_moment", "measured_growth_slopes", "predicted_window_slopes",
    "closed_loop_updates",
]

_i, _t = sp.symbols("i t", integer=True, nonnegative=True)
_s = sp.Symbol("s", positive=True)


def _betas_keep_shape(beta1, beta2):
    """Both decay rates checked (each in [0, 1)), returned as float arrays of their own shapes."""
    b1, b2 = real_array("beta1", beta1), real_array("beta2", beta2)
    check_beta("beta1", b1.ravel()), check_beta("beta2", b2.ravel())
    return b1, b2


# ---------------------------------------------------------------- symbolic, discrete
def discrete_sup_series(t=None):
    r"""The Cauchy-Schwarz factor :math:`\sum_{i=0}^{t-1} (\beta_1^2/\beta_2)^i` as sympy evaluates it.

    With ``t=None`` the infinite series (a ``Piecewise`` whose first branch
    carries the convergence condition); otherwise the finite sum up to ``t-1``.
    """
    if t is not None and not (isinstance(t, sp.Expr) and not t.is_Number):  # a number: an integer >= 1
        t = sp.Integer(check_int("t", int(t) if isinstance(t, sp.Integer) else t, 1))
    q = beta1**2 / beta2
    upper = sp.oo if t is None else t - 1
    return sp.summation(q**_i, (_i, 0, upper))


def discrete_stable_condition():
    r"""The condition under which the series of :func:`discrete_sup_series` converges,
    solved for :math:`\beta_2`: sympy returns :math:`\beta_1^2 < \beta_2`."""
    series = discrete_sup_series()
    cond = series.args[0].cond
    return sp.solve_univariate_inequality(cond, beta2, relational=True)


def discrete_growth_rate_expr():
    r"""Per-step growth rate of :math:`\log` of the worst-case update outside the region.

    The worst case is :math:`\sqrt{S_t}` with :math:`S_t=(q^t-1)/(q-1)`; writing
    :math:`q=e^{s}` (:math:`s>0`), :math:`\lim_{t\to\infty}\tfrac12\ln(S_{t+1}/S_t) = s/2`,
    returned in terms of the betas: :math:`\tfrac12\ln(\beta_1^2/\beta_2)`.
    """
    S = lambda n: (sp.exp(_s * n) - 1) / (sp.exp(_s) - 1)  # noqa: E731
    rate = sp.limit(sp.log(S(_t + 1) / S(_t)) / 2, _t, sp.oo)
    return rate.subs(_s, sp.log(beta1**2 / beta2))


# ---------------------------------------------------------------- numeric
def stable_region_holds(beta1, beta2):
    r"""True where :math:`\beta_1^2 < \beta_2` (elementwise): worst-case updates stay bounded.

    The same inequality as the existence of Kaiser's Proposition 1 bound, so it is computed by
    :func:`adamdyn.bounds.step_bound_exists`; arrays come back flattened to 1-D, scalars as ``bool``.
    The boundary :math:`\beta_2 = \beta_1^2` is outside (the worst case grows like :math:`\sqrt t`
    there), decided exactly at the decimal each float prints as: ``stable_region_holds(0.9, 0.81)`` is
    ``False`` although the double ``0.81`` exceeds the square of the double ``0.9``
    (:func:`adamdyn.relations.decide_exactly`).
    """
    out = np.asarray(_bounds.step_bound_exists(check_beta("beta1", beta1), check_beta("beta2", beta2)))
    return bool(out[0]) if out.size == 1 and np.ndim(beta1) == 0 and np.ndim(beta2) == 0 else out


def worst_case_ratio(beta1, beta2, t):
    r"""Supremum over gradient histories of :math:`|m_t|/\sqrt{v_t}` (no bias correction, :math:`\epsilon=0`).

    .. math:: \frac{1-\beta_1}{\sqrt{1-\beta_2}}\sqrt{\frac{1-q^t}{1-q}},\qquad q=\beta_1^2/\beta_2 .

    ``t`` may be an array (broadcast against the betas).  This is the flat chapter's
    :func:`adamdyn.bounds.finite_step_sup`; the stable-region chapter reads it as a growth law.  Its
    limit :math:`t\to\infty` is Kaiser's Proposition 1 bound, :func:`adamdyn.bounds.step_bound`
    (``inf`` outside the region).
    """
    b1, b2 = _betas_keep_shape(beta1, beta2)
    t = integer_values("t", t, 1)
    return _bounds.finite_step_sup(b1, b2, t)


def growth_rate(beta1, beta2):
    r"""Predicted asymptotic slope of :math:`\ln|u_t|` per step: :math:`\max(0, \tfrac12\ln(\beta_1^2/\beta_2))`.

    ``beta1`` in (0, 1), ``beta2`` in [0, 1): at :math:`\beta_2 = 0` the rate is ``inf`` (the limit).
    """
    b1, b2 = check_beta("beta1", beta1), check_beta("beta2", beta2)
    if np.any(b1 == 0):
        raise ValueError("beta1 must lie in (0, 1) here, got 0")
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # beta2 -> 0+: the rate is inf
        return np.where(b2 == 0.0, np.inf, np.maximum(0.0, 0.5 * np.log(b1**2 / b2)))


def extremal_gradients(beta1, beta2, steps, scale=1.0, centered=False):
    r"""The history :math:`g_s = \text{scale}\cdot(\beta_2/\beta_1)^s`, :math:`s=1..T`, shape ``(T, runs)``.

    It is the Cauchy-Schwarz equality case for every :math:`t` simultaneously,
    so the update it produces *is* the worst case :func:`worst_case_ratio`.
    With ``centered=True`` the exponent is :math:`s - T/2`; without :math:`\epsilon`
    the update is scale invariant, and centring halves the range of magnitudes
    so that longer histories stay within floating point.
    """
    b1, b2 = check_beta("beta1", beta1), check_beta("beta2", beta2)
    if np.any(b1 == 0):
        raise ValueError("beta1 must lie in (0, 1) here, got 0")
    if np.any(b2 == 0):
        raise ValueError("beta2 must lie in (0, 1) here (the history grows by beta2/beta1), got 0")
    steps = check_int("steps", steps, 1)
    scale = check_positive("scale", scale)
    centered = check_bool("centered", centered)
    s = np.arange(1, steps + 1, dtype=float)[:, None]
    if centered:
        s = s - steps / 2.0
    with np.errstate(over="ignore"):  # beta2/beta1 = inf for a subnormal beta1: refused below
        expo = s * np.log(b2 / b1)
    if float(np.max(expo + np.log(np.max(scale)))) > 709.0:  # exp(709.8) is float64's largest
        raise ValueError(f"steps={steps} is too large for these betas: the history's largest gradient "
                         f"(beta2/beta1)^steps * scale would leave float64; lower steps or scale")
    return scale * np.exp(expo)


def _window(steps, start_fraction):
    start_fraction = check_scalar("start_fraction", start_fraction, 0.0, 1.0, high_open=True)
    t0 = max(1, int(np.floor(steps * start_fraction)))
    return np.arange(t0, steps + 1)


def _ls_slope(t, y):
    tc = t - t.mean()
    return (tc[:, None] * (y - y.mean(axis=0))).sum(axis=0) / (tc**2).sum()


def measured_growth_slopes(beta1, beta2, steps=200, eps=0.0, bias_correction=False, scale=1.0,
                           start_fraction=0.5):
    r"""Least-squares slope of :math:`\ln|w_t-w_{t-1}|` over steps ``[start_fraction*T, T]``.

    One vectorized call of :func:`adamdyn.updates_from_gradients` with per-run
    betas, fed the extremal history :func:`extremal_gradients`.  Returns the
    slopes (per step) and the updates, shape ``(T, runs)``.
    """
    b1, b2 = check_beta("beta1", beta1), check_beta("beta2", beta2)
    b1, b2 = np.broadcast_arrays(b1, b2)
    steps = check_int("steps", steps, 1)
    eps = check_nonnegative("eps", eps)
    bias_correction = check_bool("bias_correction", bias_correction)
    check_positive("scale", scale)
    check_scalar("start_fraction", start_fraction, 0.0, 1.0, high_open=True)
    centered = bool(np.all(eps == 0.0))
    # v_t spans (beta2/beta1)^(2s) (times scale^2): keep it inside float64 (|log| < 690)
    span = (1.0 if centered else 2.0) * steps * np.abs(np.log(b2 / np.where(b1 > 0, b1, 1.0))).max()
    if span + 2 * abs(np.log(float(np.max(scale)))) > 690:
        raise ValueError(f"steps={steps} is too large for these betas: the extremal history's squared "
                         f"magnitudes would leave float64; lower steps or narrow beta2/beta1 around 1")
    G = extremal_gradients(b1, b2, steps, scale, centered=centered)
    opt = _opt.adam(lr=1.0, beta1=b1, beta2=b2, eps=eps, bias_correction=bias_correction)
    U = np.abs(_opt.updates_from_gradients(opt, G))
    if not np.all(np.isfinite(U)) or np.any(U == 0):
        raise ValueError("updates under- or overflowed: lower steps or choose betas with beta2/beta1 not tiny")
    t = _window(steps, start_fraction)
    return _ls_slope(t.astype(float), np.log(U[t - 1])), U


def predicted_window_slopes(beta1, beta2, steps=200, start_fraction=0.5):
    """The same least-squares slope computed from the closed form :func:`worst_case_ratio`
    (the finite-window prediction, exact for ``eps=0`` without bias correction)."""
    b1, b2 = check_beta("beta1", beta1), check_beta("beta2", beta2)
    b1, b2 = np.broadcast_arrays(b1, b2)
    t = _window(check_int("steps", steps, 1), start_fraction).astype(float)
    y = np.log(worst_case_ratio(b1[None, :], b2[None, :], t[:, None]))
    return _ls_slope(t, y)


# ---------------------------------------------------------------- continuous-time Adam(W)
def extremal_second_moment(beta1, beta2, t, scale=1.0):
    r"""Closed form of :math:`v_t` (no bias correction) under :func:`extremal_gradients`:

    .. math:: v_t = (1-\beta_2)\,\text{scale}^2\,\beta_2^t \sum_{s=1}^t p^s,\qquad p = \beta_2/\beta_1^2 .

    Where :math:`\sqrt{v_t}` falls below :math:`\epsilon` the update stops following the worst case.
    """
    b1, b2 = _betas_keep_shape(beta1, beta2)
    if np.any(b1 * b1 == 0):  # 0, or so small that its square underflows
        raise ValueError("beta1 must lie in [1.5e-154, 1) here (p = beta2/beta1^2), got a smaller value")
    t = integer_values("t", t, 0)
    scale = scalar_positive("scale", scale)
    p = b2 / b1**2
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        geo = np.where(np.isclose(p, 1.0, rtol=0, atol=1e-14), t * np.ones_like(p), p * np.expm1(t * np.log(p)) / (p - 1.0))
    return (1.0 - b2) * float(scale) ** 2 * b2**t * geo


# ---------------------------------------------------------------- closed loop
def closed_loop_updates(landscape, x0, beta1, beta2, lr, steps, eps=1e-8, bias_correction=True, burst=3):
    r"""Largest update :math:`\max_t \|w_t - w_{t-1}\|_\infty/\eta` of Adam run on a landscape.

    The open-loop region (:func:`stable_region_holds`) bounds the update over *every*
    gradient history.  Here the gradients come from the iterates themselves (closed loop):
    one call of :func:`adamdyn.run` with per-run arrays ``beta1``, ``beta2``.

    Returns
    -------
    u_max : ndarray (runs,)
        The largest update of each run, in units of ``lr``.
    burst_slope : ndarray (runs,)
        Slope of :math:`\ln|u_t|` per step over the ``burst`` steps that end at the largest
        update (NaN if the largest update comes earlier): the growth rate of the burst, to set
        beside :func:`growth_rate`.
    diverged : ndarray of bool (runs,)
        Runs flagged as diverged (frozen by :func:`adamdyn.run`).
    """
    b1 = np.asarray(check_beta("beta1", beta1), float).ravel()
    b2 = np.asarray(check_beta("beta2", beta2), float).ravel()
    steps = check_int("steps", steps, minimum=2)
    lr = scalar_positive("lr", lr)
    burst = check_int("burst", burst, minimum=1)
    bias_correction = check_bool("bias_correction", bias_correction)
    tr = _opt.run(_opt.adam(lr=lr, beta1=b1, beta2=b2, eps=eps, bias_correction=bias_correction),
                  landscape, x0, steps)
    u = np.abs(np.diff(tr.path, axis=0)).max(axis=-1) / lr
    t_max = u.argmax(axis=0)
    lu = np.log(np.maximum(u, np.finfo(float).tiny))
    cols = np.arange(u.shape[1])
    start = np.maximum(t_max - burst, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(t_max >= burst, (lu[t_max, cols] - lu[start, cols]) / burst, np.nan)
    return u.max(axis=0), slope, np.asarray(tr.diverged)
