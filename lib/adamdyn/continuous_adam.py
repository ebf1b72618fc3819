r"""Continuous-time Adam(W) and its stable region (our reconstruction of Gould & Tanaka).

Gould & Tanaka (arXiv 2411.05746) state, in their abstract, a continuous-time model of Adam/AdamW
and a stable region of the decay rates.  Only the abstract is available to us; this module is
**our reconstruction**.  The discrete-time region is in :mod:`adamdyn.stability`.

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

Stable region in continuous time
--------------------------------
Without :math:`\epsilon` and bias correction, Cauchy-Schwarz bounds
:math:`m/\sqrt v` by :math:`(a/\sqrt b)\sqrt{\int_0^\tau e^{-(2a-b)\sigma}d\sigma}`, bounded iff
:math:`2a > b`: under :math:`\beta_i = e^{-a_i\eta}` exactly the discrete :math:`\beta_1^2 < \beta_2`
(:func:`stable_region_expr`).

References
----------
R. Gould, H. Tanaka, "Continuous-Time Analysis of Adaptive Optimization and
Normalization", arXiv 2411.05746 (2024).  D. P. Kingma, J. Ba, "Adam", ICLR 2015.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from scipy.integrate import solve_ivp

from . import optimizers as _opt
from .landscapes import Landscape
from .ode import ODE_ATOL, ODE_RTOL  # the book's one pair of LSODA tolerances
from .symbols import beta1, beta2, eta
from .validation import (
    as_param,
    check_callable,
    check_choice,
    check_instance,
    check_positive,
    real_array,
    scalar_nonnegative,
    scalar_positive,
)


def _nonnegative_times(name, value):
    t = real_array(name, value)
    if t.size == 0 or not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError(f"{name} must be finite times >= 0, got {value!r}")
    return t

__all__ = [
    "rate1", "rate2",
    "continuous_sup_integral", "continuous_stable_condition", "continuous_growth_rate_expr",
    "rates_from_betas", "betas_from_rates", "stable_region_expr", "linear_rate_region_expr",
    "continuous_worst_case_ratio", "continuous_extremal_ratio", "adam_ode", "discrete_adam_path",
]

#: The rates :math:`a, b` of the first and second moment per unit time.
rate1, rate2 = sp.symbols("a b", positive=True)
_s, _tau = sp.symbols("s tau", positive=True)



def continuous_sup_integral(tau=None):
    r"""The continuous Cauchy-Schwarz factor :math:`\int_0^\tau e^{-(2a-b)\sigma}\,d\sigma`.

    For the ratio :math:`m/\sqrt v` with :math:`m = a\int_0^\tau e^{-a(\tau-s)}g`,
    :math:`v = b\int_0^\tau e^{-b(\tau-s)}g^2`, Cauchy-Schwarz gives
    :math:`m/\sqrt v \le (a/\sqrt b)\sqrt{\int_0^\tau e^{-(2a-b)\sigma}d\sigma}`.
    """
    if tau is None:
        tau = _tau
    elif not (isinstance(tau, sp.Expr) and not tau.is_Number):  # a number: finite and >= 0
        scalar_nonnegative("tau", float(tau) if isinstance(tau, sp.Number) else tau)
        tau = sp.sympify(tau)
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
    check_choice("mapping", mapping, ("exp", "linear"))
    if mapping == "exp":
        return -sp.log(beta1) / eta, -sp.log(beta2) / eta
    return (1 - beta1) / eta, (1 - beta2) / eta


def betas_from_rates(a, b, eta_value):
    """Numeric inverse of the exponential map: :math:`\\beta_i = e^{-a_i\\eta}`."""
    a, b = check_positive("a", a), check_positive("b", b)
    eta_value = check_positive("eta_value", eta_value)
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
    check_callable("grad", grad)
    a, b = scalar_positive("a", a), scalar_positive("b", b)
    eps = scalar_nonnegative("eps", eps)
    lam = scalar_nonnegative("weight_decay", weight_decay)
    horizon = scalar_positive("horizon", horizon)
    rtol, atol = scalar_positive("rtol", rtol), scalar_positive("atol", atol)
    if times is not None:
        times = _nonnegative_times("times", times)
        if np.any(times > horizon):
            raise ValueError(f"times must lie in [0, horizon] = [0, {horizon:g}], got {times!r}")
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
    check_instance("landscape", landscape, Landscape)
    eta_value = scalar_positive("eta_value", eta_value)
    horizon = scalar_positive("horizon", horizon)
    b1, b2 = betas_from_rates(a, b, eta_value)
    steps = int(round(horizon / eta_value))
    if steps < 1:
        raise ValueError(f"horizon must be at least eta_value / 2 (one step), got horizon={horizon!r}")
    opt = _opt.adamw(lr=eta_value, beta1=b1, beta2=b2, eps=eps, weight_decay=weight_decay)
    tr = _opt.run(opt, landscape, x0, steps)
    return tr.times * eta_value, tr.path[:, 0, :]


def continuous_worst_case_ratio(a, b, tau):
    r"""Continuous-time worst case of :math:`m/\sqrt v` (no bias correction, :math:`\epsilon=0`):

    .. math:: \frac{a}{\sqrt b}\sqrt{\frac{1-e^{-(2a-b)\tau}}{2a-b}}

    (the limit :math:`\tfrac{a}{\sqrt b}\sqrt{\tau}` at :math:`2a=b`).
    """
    a, b = scalar_positive("a", a), scalar_positive("b", b)
    tau = _nonnegative_times("tau", tau)
    c = 2 * a - b
    with np.errstate(over="ignore"):  # outside the region the integral exceeds float64: inf is right
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
    a, b = scalar_positive("a", a), scalar_positive("b", b)
    taus = _nonnegative_times("taus", taus)
    rtol, atol = scalar_positive("rtol", rtol), scalar_positive("atol", atol)
    if np.any(taus <= 0):
        raise ValueError(f"taus must be > 0, got {taus!r}")
    c = 2 * a - b

    def rhs(s, y):
        return [a - c * y[0], b - c * y[1]]

    sol = solve_ivp(rhs, (0.0, float(taus.max())), [0.0, 0.0], method="LSODA", t_eval=taus, rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(f"the ODE solver failed: {sol.message}")
    return sol.y[0] / np.sqrt(sol.y[1])
