r"""Continuous-time Adam and the region of bounded updates (our reconstruction of Gould & Tanaka).

Gould & Tanaka (arXiv 2411.05746) state, in their abstract, a continuous-time
model of Adam/AdamW and a "stable region" of the decay rates in which updates
stay bounded, with exponential growth of the updates outside it.  Only the
abstract is available to us, so everything in this module is **our
reconstruction** from first principles.

Continuous-time model
---------------------
With step size :math:`\eta`, physical time :math:`\tau = t\eta` and rates
:math:`a = -\ln\beta_1/\eta`, :math:`b = -\ln\beta_2/\eta`, the moving averages
become

.. math::

    \dot m = a\,(g(w) - m),\qquad \dot v = b\,(g(w)^2 - v),\qquad
    \dot w = -\frac{m/(1-e^{-a\tau})}{\sqrt{v/(1-e^{-b\tau})}+\epsilon} - \lambda w,

with :math:`m(0)=v(0)=0`.  Discrete Adam(W) is the step
:math:`m_t = \beta_1 m_{t-1} + (1-\beta_1) g(w_{t-1})` (the exact flow of the
:math:`m`-equation over one step with :math:`g` frozen) followed by an Euler
step of :math:`w`; its bias corrections :math:`1-\beta_i^t = 1-e^{-a_i\tau_t}`
are the continuous ones sampled at :math:`\tau_t`.

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
:math:`\beta_i = e^{-a_i\eta}`.

References
----------
R. Gould, H. Tanaka, "Continuous-Time Analysis of Adaptive Optimization and
Normalization", arXiv 2411.05746 (2024).  D. P. Kingma, J. Ba, "Adam", ICLR 2015.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from scipy.integrate import solve_ivp

from . import bounds as _bounds
from . import optimizers as _opt
from .symbols import beta1, beta2, eta
from .validation import as_param, check_beta, check_int, check_nonnegative, check_positive

__all__ = [
    "beta1", "beta2", "rate1", "rate2", "eta",
    "discrete_sup_series", "discrete_stable_condition", "discrete_growth_rate_expr",
    "continuous_sup_integral", "continuous_stable_condition", "continuous_growth_rate_expr",
    "rates_from_betas", "betas_from_rates", "stable_region_expr", "linear_rate_region_expr",
    "stable_region_holds", "worst_case_ratio", "growth_rate",
    "extremal_gradients", "measured_growth_slopes", "predicted_window_slopes",
    "adam_ode", "discrete_adam_path", "extremal_second_moment",
    "relation_margin", "relation_at",
    "positivity_condition", "continuous_worst_case_ratio", "continuous_extremal_ratio", "ODE_RTOL",
    "closed_loop_updates",
    "reddi_online_adam",
    "claims",
]

rate1, rate2 = sp.symbols("a b", positive=True)
_i, _t = sp.symbols("i t", integer=True, nonnegative=True)
_s, _tau = sp.symbols("s tau", positive=True)


# ---------------------------------------------------------------- symbolic, discrete
def discrete_sup_series(t=None):
    r"""The Cauchy-Schwarz factor :math:`\sum_{i=0}^{t-1} (\beta_1^2/\beta_2)^i` as sympy evaluates it.

    With ``t=None`` the infinite series (a ``Piecewise`` whose first branch
    carries the convergence condition); otherwise the finite sum up to ``t-1``.
    """
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


# ---------------------------------------------------------------- symbolic, continuous
def continuous_sup_integral(tau=None):
    r"""The continuous Cauchy-Schwarz factor :math:`\int_0^\tau e^{-(2a-b)\sigma}\,d\sigma`.

    For the ratio :math:`m/\sqrt v` with :math:`m = a\int_0^\tau e^{-a(\tau-s)}g`,
    :math:`v = b\int_0^\tau e^{-b(\tau-s)}g^2`, Cauchy-Schwarz gives
    :math:`m/\sqrt v \le (a/\sqrt b)\sqrt{\int_0^\tau e^{-(2a-b)\sigma}d\sigma}`.
    """
    tau = _tau if tau is None else tau
    return sp.integrate(sp.exp(-(2 * rate1 - rate2) * _s), (_s, 0, tau))


def continuous_stable_condition():
    r"""Bounded iff the integral of :func:`continuous_sup_integral` stays finite as :math:`\tau\to\infty`.

    sympy is asked both cases: with :math:`2a-b=c>0` the limit is :math:`1/c`;
    with :math:`2a-b=-c<0` it is :math:`\infty`.  Returns ``(condition, limit_if_positive,
    limit_if_negative)`` with condition :math:`2a > b`.
    """
    c = sp.Symbol("c", positive=True)
    finite = sp.limit(sp.integrate(sp.exp(-c * _s), (_s, 0, _tau)), _tau, sp.oo)
    infinite = sp.limit(sp.integrate(sp.exp(c * _s), (_s, 0, _tau)), _tau, sp.oo)
    return sp.StrictGreaterThan(2 * rate1, rate2), finite, infinite


def continuous_growth_rate_expr():
    r"""Growth rate per unit time of :math:`\log` of the worst-case ratio outside :math:`2a>b`:
    :math:`\lim_{\tau\to\infty}\tfrac{d}{d\tau}\tfrac12\ln\int_0^\tau e^{(b-2a)\sigma}d\sigma = (b-2a)/2`."""
    c = sp.Symbol("c", positive=True)  # c = b - 2a > 0 outside the region
    integral = sp.integrate(sp.exp(c * _s), (_s, 0, _tau))
    rate = sp.limit(sp.diff(sp.log(integral) / 2, _tau), _tau, sp.oo)
    return rate.subs(c, rate2 - 2 * rate1)


def rates_from_betas(mapping="exp"):
    r"""Rates :math:`(a, b)` in terms of the betas and the step :math:`\eta`.

    ``"exp"``: :math:`\beta_i = e^{-a_i\eta}` (exact flow of the averages);
    ``"linear"``: :math:`\beta_i = 1 - a_i\eta` (first order in :math:`\eta`).
    """
    if mapping == "exp":
        return -sp.log(beta1) / eta, -sp.log(beta2) / eta
    if mapping == "linear":
        return (1 - beta1) / eta, (1 - beta2) / eta
    raise ValueError(f"mapping must be 'exp' or 'linear', got {mapping!r}")


def betas_from_rates(a, b, eta_value):
    """Numeric inverse of the exponential map: :math:`\\beta_i = e^{-a_i\\eta}`."""
    a, b = check_positive("a", a), check_positive("b", b)
    eta_value = check_positive("eta", eta_value)
    return np.exp(-a * eta_value), np.exp(-b * eta_value)


def _condition_in_betas(mapping):
    a, b = rates_from_betas(mapping)
    lhs = sp.logcombine(sp.expand_log(sp.expand(eta * (2 * a - b)), force=True), force=True)
    if mapping == "exp":
        # eta (2a - b) = log(beta2 / beta1^2) > 0  <=>  beta2 / beta1^2 > 1
        lhs = sp.simplify(lhs)
        arg = lhs.args[0] if isinstance(lhs, sp.log) else sp.exp(lhs)
        return sp.solve_univariate_inequality(arg > 1, beta2, relational=True)
    return sp.solve_univariate_inequality(lhs > 0, beta2, relational=True)


def stable_region_expr():
    r"""The continuous condition :math:`2a > b` under :math:`\beta_i = e^{-a_i\eta}`,
    solved by sympy for :math:`\beta_2`: :math:`\beta_1^2 < \beta_2` (the discrete condition)."""
    return _condition_in_betas("exp")


def linear_rate_region_expr():
    r"""The continuous condition under the first-order map :math:`\beta_i = 1 - a_i\eta`:
    :math:`\beta_2 > 2\beta_1 - 1`, the tangent of :math:`\beta_2=\beta_1^2` at :math:`(1,1)`."""
    return _condition_in_betas("linear")


# ---------------------------------------------------------------- numeric
def stable_region_holds(beta1, beta2):
    r"""True where :math:`\beta_1^2 < \beta_2` (elementwise): worst-case updates stay bounded."""
    b1 = check_beta("beta1", beta1)
    b2 = check_beta("beta2", beta2)
    out = b1**2 < b2
    return bool(out[0]) if out.size == 1 and np.ndim(beta1) == 0 and np.ndim(beta2) == 0 else out


def worst_case_ratio(beta1, beta2, t):
    r"""Supremum over gradient histories of :math:`|m_t|/\sqrt{v_t}` (no bias correction, :math:`\epsilon=0`).

    .. math:: \frac{1-\beta_1}{\sqrt{1-\beta_2}}\sqrt{\frac{1-q^t}{1-q}},\qquad q=\beta_1^2/\beta_2 .

    ``t`` may be an array (broadcast against the betas).  This is the flat chapter's
    :func:`adamdyn.bounds.finite_step_sup`; the stable-region chapter reads it as a growth law.  Its
    limit :math:`t\to\infty` is Kaiser's Proposition 1 bound, :func:`adamdyn.bounds.step_bound`
    (``inf`` outside the region).
    """
    b1, b2 = np.asarray(beta1, float), np.asarray(beta2, float)
    check_beta("beta1", b1.ravel()), check_beta("beta2", b2.ravel())
    t = np.asarray(t, float)
    if np.any(t < 1):
        raise ValueError("t must be >= 1")
    return _bounds.finite_step_sup(b1, b2, t)


def growth_rate(beta1, beta2):
    r"""Predicted asymptotic slope of :math:`\ln|u_t|` per step: :math:`\max(0, \tfrac12\ln(\beta_1^2/\beta_2))`."""
    b1, b2 = check_beta("beta1", beta1), check_beta("beta2", beta2)
    if np.any(b1 == 0):
        raise ValueError("beta1 must lie in (0, 1) here, got 0")
    return np.maximum(0.0, 0.5 * np.log(b1**2 / b2))


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
    steps = check_int("steps", steps, 1)
    scale = check_positive("scale", scale)
    s = np.arange(1, steps + 1, dtype=float)[:, None]
    if centered:
        s = s - steps / 2.0
    return scale * np.exp(s * np.log(b2 / b1))


def _window(steps, start_fraction):
    if not 0.0 <= start_fraction < 1.0:
        raise ValueError(f"start_fraction must lie in [0, 1), got {start_fraction!r}")
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
    t = _window(steps, start_fraction).astype(float)
    y = np.log(worst_case_ratio(b1[None, :], b2[None, :], t[:, None]))
    return _ls_slope(t, y)


# ---------------------------------------------------------------- continuous-time Adam(W)
#: Tolerances of :func:`adam_ode` (LSODA) unless told otherwise.
ODE_RTOL, ODE_ATOL = 1e-10, 1e-12


def adam_ode(grad, x0, horizon, a, b, eps=1e-8, weight_decay=0.0, times=None, rtol=ODE_RTOL, atol=ODE_ATOL):
    r"""Solve continuous-time Adam(W) (module docstring) on ``[0, horizon]``.

    Parameters
    ----------
    grad : callable
        ``grad(w)`` for ``w`` of shape ``(dim,)``.
    a, b : float
        Rates of the first and second moment (per unit time :math:`\tau`).
    times : array_like, optional
        Times at which to return :math:`w`.

    Returns
    -------
    ndarray, shape ``(len(times), dim)``
    """
    a, b = float(check_positive("a", a)[0]), float(check_positive("b", b)[0])
    eps = float(check_nonnegative("eps", eps)[0])
    lam = float(check_nonnegative("weight_decay", weight_decay)[0])
    horizon = float(check_positive("horizon", horizon)[0])
    w0 = as_param("x0", x0)
    d = w0.size

    def rhs(tau, y):
        w, m, v = y[:d], y[d:2 * d], y[2 * d:]
        g = np.asarray(grad(w), float)
        if tau == 0.0:
            # limits m/(1-e^{-a tau}) -> g and v/(1-e^{-b tau}) -> g^2 as tau -> 0
            mh, vh = g, g * g
        else:
            mh, vh = m / -np.expm1(-a * tau), v / -np.expm1(-b * tau)
        den = np.sqrt(vh) + eps
        u = np.divide(mh, den, out=np.zeros_like(mh), where=den > 0)
        return np.concatenate([-u - lam * w, a * (g - m), b * (g * g - v)])

    times = np.linspace(0, horizon, 101) if times is None else np.asarray(times, float)
    y0 = np.concatenate([w0, np.zeros(d), np.zeros(d)])
    sol = solve_ivp(rhs, (0.0, horizon), y0, method="LSODA", t_eval=times, rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(f"the ODE solver failed: {sol.message}")
    return sol.y[:d].T


def discrete_adam_path(landscape, x0, horizon, a, b, eta_value, eps=1e-8, weight_decay=0.0):
    r"""Discrete Adam(W) with :math:`\beta_i = e^{-a_i\eta}` for :math:`\lceil\text{horizon}/\eta\rceil` steps.

    Returns ``(times, path)`` with times :math:`\tau_t = t\eta` and path shape ``(steps+1, dim)``.
    """
    eta_value = float(check_positive("eta", eta_value)[0])
    b1, b2 = betas_from_rates(a, b, eta_value)
    steps = int(round(float(horizon) / eta_value))
    opt = _opt.adamw(lr=eta_value, beta1=b1, beta2=b2, eps=eps, weight_decay=weight_decay)
    tr = _opt.run(opt, landscape, x0, steps)
    return tr.times * eta_value, tr.path[:, 0, :]


def extremal_second_moment(beta1, beta2, t, scale=1.0):
    r"""Closed form of :math:`v_t` (no bias correction) under :func:`extremal_gradients`:

    .. math:: v_t = (1-\beta_2)\,\text{scale}^2\,\beta_2^t \sum_{s=1}^t p^s,\qquad p = \beta_2/\beta_1^2 .

    Where :math:`\sqrt{v_t}` falls below :math:`\epsilon` the update stops following the worst case.
    """
    b1, b2 = np.asarray(beta1, float), np.asarray(beta2, float)
    check_beta("beta1", b1.ravel()), check_beta("beta2", b2.ravel())
    t = np.asarray(t, float)
    p = b2 / b1**2
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        geo = np.where(np.isclose(p, 1.0, rtol=0, atol=1e-14), t * np.ones_like(p), p * np.expm1(t * np.log(p)) / (p - 1.0))
    return (1.0 - b2) * float(scale) ** 2 * b2**t * geo


# ---------------------------------------------------------------- relations in (beta1, beta2)
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


def continuous_worst_case_ratio(a, b, tau):
    r"""Continuous-time worst case of :math:`m/\sqrt v` (no bias correction, :math:`\epsilon=0`):

    .. math:: \frac{a}{\sqrt b}\sqrt{\frac{1-e^{-(2a-b)\tau}}{2a-b}}

    (the limit :math:`\tfrac{a}{\sqrt b}\sqrt{\tau}` at :math:`2a=b`).
    """
    a, b = float(check_positive("a", a)[0]), float(check_positive("b", b)[0])
    tau = np.asarray(tau, float)
    c = 2 * a - b
    integral = tau if c == 0 else -np.expm1(-c * tau) / c
    return a / np.sqrt(b) * np.sqrt(integral)


def continuous_extremal_ratio(a, b, taus, rtol=ODE_RTOL, atol=ODE_ATOL):
    r"""Integrate :math:`\dot m = a(g-m)`, :math:`\dot v = b(g^2-v)` from zero with the extremal
    input :math:`g(s) = e^{(a-b)s}` (Cauchy-Schwarz equality case) and return :math:`m/\sqrt v` at ``taus``.

    A second method for :func:`continuous_worst_case_ratio`.  Outside the region
    :math:`g` decays and :math:`v` underflows any absolute tolerance, so the
    solver integrates the rescaled :math:`\mu = m e^{-(a-b)\tau}`,
    :math:`\nu = v e^{-2(a-b)\tau}`, which obey
    :math:`\dot\mu = a - (2a-b)\mu`, :math:`\dot\nu = b - (2a-b)\nu` and give
    :math:`m/\sqrt v = \mu/\sqrt\nu`.
    """
    a, b = float(check_positive("a", a)[0]), float(check_positive("b", b)[0])
    taus = np.asarray(taus, float)
    if np.any(taus <= 0):
        raise ValueError("taus must be > 0")
    c = 2 * a - b

    def rhs(s, y):
        return [a - c * y[0], b - c * y[1]]

    sol = solve_ivp(rhs, (0.0, float(taus.max())), [0.0, 0.0], method="LSODA", t_eval=taus, rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(f"the ODE solver failed: {sol.message}")
    return sol.y[0] / np.sqrt(sol.y[1])


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
    lr = float(check_positive("lr", lr)[0])
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


def reddi_online_adam(C, beta1, beta2, steps=30000, alpha=0.5, eps=1e-8, x0=0.0):
    r"""Projected Adam on Reddi, Kale & Kumar's online problem; the mean iterate over the last third.

    :math:`f_t(x) = Cx` if :math:`t \bmod 3 = 1`, else :math:`-x`, on :math:`[-1, 1]` (the best
    fixed point is :math:`-1` for :math:`C > 2`).  The step is :math:`\alpha/\sqrt t`, without
    bias correction, as in their analysis; our implementation of their setting.
    """
    C = float(check_positive("C", C)[0])
    b1 = float(check_nonnegative("beta1", beta1)[0])
    b2 = float(check_beta("beta2", beta2)[0])
    if b1 >= 1.0:
        raise ValueError(f"beta1 must lie in [0, 1), got {beta1!r}")
    steps = check_int("steps", steps, minimum=3)
    x, m, v = float(x0), 0.0, 0.0
    xs = np.empty(steps)
    for t in range(1, steps + 1):
        g = C if t % 3 == 1 else -1.0
        m = b1 * m + (1.0 - b1) * g
        v = b2 * v + (1.0 - b2) * g * g
        x = min(1.0, max(-1.0, x - alpha / np.sqrt(t) * m / (np.sqrt(v) + eps)))
        xs[t - 1] = x
    return float(xs[-(steps // 3):].mean())


# ---------------------------------------------------------------- ledger rows
def claims():
    r"""Ledger rows for Gould & Tanaka's continuous-time model and stable region (our reconstruction).

    The region is ours: open loop, worst case over gradient histories, with
    :math:`(\beta, \gamma) = (\beta_1, \beta_2)` assumed.
    """
    from . import landscapes as _L
    from .claims import Claim

    rows = []
    a, b = -np.log(0.9) / 0.01, -np.log(0.999) / 0.01
    land = _L.quadratic([1.0, 0.1])
    errs = []
    for e in (0.01, 0.005):
        times, path = discrete_adam_path(land, [1.0, 2.0], 3.0, a, b, e, weight_decay=0.1)
        exact = adam_ode(lambda x: 2 * np.array([1.0, 0.1]) * x, [1.0, 2.0], 3.0, a, b, weight_decay=0.1, times=times)
        errs.append(float(np.abs(path - exact).max()))
    order = float(np.log(errs[0] / errs[1]) / np.log(2.0))
    rows.append(Claim("GT-continuous", "GT abstract", "A continuous-time formulation of Adam and AdamW", "",
                      f"our ODE (fixed rates a, b): discrete AdamW converges to it at order {order:.2f} in eta",
                      "verified" if 0.8 < order < 1.2 else "not reproduced", "stable-region"))
    cond = sp.simplify(stable_region_expr().rhs - discrete_stable_condition().rhs)
    ext = np.abs(np.asarray(_opt.updates_from_gradients(_opt.adam(lr=1.0, beta1=0.9, beta2=0.999, eps=0.0,
                                                                   bias_correction=False),
                                                         extremal_gradients(0.9, 0.999, 200)))[:, 0])
    rel = float(np.abs(ext / worst_case_ratio(0.9, 0.999, np.arange(1, 201)) - 1).max())
    rows.append(Claim("GT-region", "GT abstract", "A stable region for Adam's hyperparameters (beta, gamma) that ensures bounded "
                      "updates", "not given",
                      f"ours (open loop, (beta, gamma) = (beta1, beta2) assumed): beta1^2 < beta2, the same in discrete and "
                      f"continuous time (sympy difference {cond}); the extremal history attains the bound to {rel:.0e}",
                      "verified" if cond == 0 and rel < 1e-10 else "not reproduced", "stable-region"))
    g1, g2 = np.meshgrid(np.linspace(0.3, 0.99, 10), np.linspace(0.3, 0.999, 10))
    b1s, b2s = g1.ravel(), g2.ravel()
    err = float(np.abs(measured_growth_slopes(b1s, b2s, 200)[0] - growth_rate(b1s, b2s)).max())
    rows.append(Claim("GT-growth-open", "GT abstract", "Unstable exponential growth of parameter updates outside this region", "",
                      f"open loop, eps = 0: the worst-case update grows at 1/2 ln(beta1^2/beta2) per step (largest gap "
                      f"{err:.1e}, tolerance 1/T = 0.005); eps > 0 caps the growth of a fixed history",
                      "verified" if err < 1 / 200 else "not reproduced", "stable-region"))
    c1, c2 = b1s, b2s
    inside = stable_region_holds(c1, c2)
    umax, burst, _ = closed_loop_updates(_L.quartic(), [0.5, -2.5], c1, c2, 0.01, 1000, eps=1e-8)
    big = ~inside & (umax > 2 * umax[inside].max()) & np.isfinite(burst)
    ratio = float(np.median(burst[big] / growth_rate(c1, c2)[big])) if big.any() else float("nan")
    rows.append(Claim("GT-growth-closed", "GT abstract", "(the same, observed in training: gradients from the iterates)", "",
                      f"closed loop on the quartic, eps = 1e-8: largest update {umax[~inside].max():.1f} lr outside against "
                      f"{umax[inside].max():.2f} inside; growth in transient bursts at {ratio:.2f} times the open-loop rate, "
                      "not sustained; networks are tested in the book's network part",
                      "depends on an unstated setting", "sr-closed-loop"))
    return rows
