r"""A Lyapunov function for Adam's ODE and the poster's hyperparameter condition (Belotto da Silva & Gazeau).

The poster's Theorem 1 asks :math:`3 + \beta_2 > 4\beta_1` (:func:`poster_condition`) and says a
Lyapunov function proves convergence, without giving it.  Below is ours, for the system (2)
of :mod:`adamdyn.ode`.

The Lyapunov function (our reconstruction)
-----------------------------------------
For (2) with :math:`h > 0` put :math:`E = f(\theta) + \sum_i m_i^2 / (2h\sqrt{v_i+\varepsilon})`.
Along solutions (:func:`lyapunov_derivative` derives it in sympy)

.. math::

    \dot E = -\sum_i \frac{m_i^2}{(v_i+\varepsilon)^{3/2}}\Big[
        \big(\tfrac{r}{h} + \tfrac{\dot h}{2h^2} - \tfrac{q}{4h}\big) v_i
        + \big(\tfrac{r}{h} + \tfrac{\dot h}{2h^2}\big)\varepsilon + \tfrac{p}{4h} g_i^2\Big].

For Adam with :math:`\lambda = s` and :math:`\tau = t/s` the coefficient of :math:`v_i` is
:func:`lyapunov_margin` :math:`c(\tau)`.  As :math:`\tau\to\infty`,
:math:`c \to 1 - (1-\beta_2)/(4(1-\beta_1))`, positive iff :math:`3+\beta_2 > 4\beta_1`: the
poster's condition, exactly.  Non-increase from :math:`t = 0` on needs :math:`c(\tau)\ge 0`
for all :math:`\tau`, which is stricter (:func:`lyapunov_condition`).

References
----------
A. Belotto da Silva, M. Gazeau, "A general system of differential equations to model first order
adaptive algorithms", JMLR 21 (2020).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .relations import decide_exactly
from .symbols import beta1, beta2
from .symbols import eps as _eps
from .validation import (
    check_betas,
    check_bool,
    check_callable,
    check_scalar,
    real_array,
    scalar_beta,
    scalar_nonnegative,
)

__all__ = ["poster_condition", "lyapunov_margin", "interior_margin_gap", "lyapunov_condition", "lyapunov_condition_expr",
           "lyapunov_derivative", "lyapunov_values"]


def poster_condition(beta1, beta2):
    r"""The poster's hyperparameter condition of Theorem 1, :math:`3 + \beta_2 > 4\beta_1`.

    Parameters
    ----------
    beta1, beta2 : array_like
        Decay rates in (0, 1); any broadcastable shapes.

    Returns
    -------
    ndarray of bool
        True where :math:`3 + \beta_2 > 4\beta_1` (Belotto da Silva & Gazeau, Theorem 1).  The
        boundary :math:`3 + \beta_2 = 4\beta_1` is excluded, and decided exactly at the decimal each
        float prints as (:func:`adamdyn.relations.decide_exactly`): ``(0.8, 0.2)`` is ``False``.
    """
    b1, b2 = check_betas(beta1, beta2, positive=True)
    return decide_exactly(3.0 + b2 - 4.0 * b1, lambda x1, x2: 3 + x2 - 4 * x1, (b1, b2), strict=True)


def lyapunov_margin(beta1, beta2, tau):
    r"""Coefficient :math:`c(\tau)` of :math:`v_i` in :math:`-\dot E` for Adam's ODE, :math:`\lambda = s`.

    .. math::

        c(\tau) = 1 - \frac{x_1 e^{-x_1\tau}}{2(1-\beta_1)}
                  - \frac{1-\beta_2}{4(1-\beta_1)}\,\frac{1-e^{-x_1\tau}}{1-e^{-x_2\tau}},
        \qquad x_i = \ln(1/\beta_i),\ \tau = t/s.

    It is :math:`r/h + \dot h/(2h^2) - q/(4h)` with :math:`h=r=g_1^A`, :math:`p=q=g_2^A`
    (our derivation, see :func:`lyapunov_derivative`).  ``tau = np.inf`` gives the limit
    :math:`1 - (1-\beta_2)/(4(1-\beta_1))`; ``tau = 0`` the limit at the pole.
    """
    b1, b2 = check_betas(beta1, beta2, positive=True)
    tau = real_array("tau", tau)
    if np.any(tau < 0) or np.any(np.isnan(tau)):
        raise ValueError(f"tau must be >= 0, got {tau!r}")
    return _margin(b1, b2, tau)


def _margin(b1, b2, tau):
    """:func:`lyapunov_margin` for validated float arrays (a minimiser calls it thousands of times)."""
    x1, x2 = -np.log(b1), -np.log(b2)
    ratio_inf = 0.25 * (1.0 - b2) / (1.0 - b1)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        e1, e2 = -np.expm1(-x1 * tau), -np.expm1(-x2 * tau)
        phi = np.where(tau > 0, e1 / np.where(tau > 0, e2, 1.0), x1 / x2)
        decay = np.where(np.isinf(tau), 0.0, np.exp(-x1 * np.where(np.isinf(tau), 0.0, tau)))
        phi = np.where(np.isinf(tau), 1.0, phi)
    return 1.0 - 0.5 * x1 * decay / (1.0 - b1) - ratio_inf * phi


def interior_margin_gap(beta1, beta2, log_tau_bounds=(-10.0, 10.0)):
    r"""How far an interior minimum of :math:`c(\tau)` lies below both end values.

    Minimises :func:`lyapunov_margin` over :math:`\ln\tau` in ``log_tau_bounds`` (scipy's
    bounded scalar minimiser) and returns the minimum minus :math:`\min(c(0), c(\infty))`:
    negative if the minimiser found a :math:`\tau` where :math:`c` is below both end points,
    i.e. where the two-end-point condition of :func:`lyapunov_condition` would not decide.

    Parameters
    ----------
    beta1, beta2 : float
        Decay rates in (0, 1).
    log_tau_bounds : (float, float)
        Interval of :math:`\ln\tau` searched.
    """
    from scipy.optimize import minimize_scalar

    b1, b2 = check_betas(scalar_beta("beta1", beta1), scalar_beta("beta2", beta2), positive=True)
    lo, hi = (check_scalar("log_tau_bounds", x) for x in log_tau_bounds)
    if not lo < hi:
        raise ValueError(f"log_tau_bounds must be an interval (lo, hi) with lo < hi, got {log_tau_bounds!r}")
    res = minimize_scalar(lambda lt: float(_margin(b1, b2, real_array("tau", np.exp(lt)))),
                          bounds=(lo, hi), method="bounded")
    ends = min(float(_margin(b1, b2, real_array("tau", 0.0))), float(_margin(b1, b2, real_array("tau", np.inf))))
    return res.fun - ends


def lyapunov_condition(beta1, beta2, *, uniform=True):
    r"""Where our Lyapunov function for Adam's ODE (:math:`\lambda = s`) does not increase.

    Parameters
    ----------
    beta1, beta2 : array_like
        Decay rates in (0, 1); any broadcastable shapes.
    uniform : bool, default True
        True: :math:`\dot E \le 0` for all :math:`t > 0` and all states, i.e.
        :math:`c(\tau) \ge 0` for every :math:`\tau` (see :func:`lyapunov_margin`). This is
        :math:`c(0)\ge 0` and :math:`c(\infty) > 0`:

        .. math::

            4(1-\beta_1)\,x_2 - 2x_1x_2 - (1-\beta_2)\,x_1 \ge 0 \ \text{ and }\
            3 + \beta_2 > 4\beta_1,\qquad x_i = \ln(1/\beta_i)

        (that the two end points decide is checked on a 400 x 400 grid in the tests).
        False: :math:`\dot E < 0` for all large :math:`t` only, i.e. :math:`c(\infty) > 0`,
        which is exactly the poster's :math:`3 + \beta_2 > 4\beta_1`.

    Returns
    -------
    ndarray of bool
    """
    b1, b2 = check_betas(beta1, beta2, positive=True)
    uniform = check_bool("uniform", uniform)
    eventual = poster_condition(b1, b2)   # c(infinity) > 0 is the poster's condition itself
    if not uniform:
        return eventual
    x1, x2 = -np.log(b1), -np.log(b2)
    at_pole = 4.0 * (1.0 - b1) * x2 - 2.0 * x1 * x2 - (1.0 - b2) * x1 >= 0.0
    return eventual & at_pole


def lyapunov_condition_expr(uniform=True):
    r"""The condition of :func:`lyapunov_condition` as a sympy relational in ``beta1, beta2``.

    ``uniform=True`` returns an ``And`` of the pole condition and :math:`3+\beta_2>4\beta_1`;
    ``uniform=False`` returns :math:`3+\beta_2>4\beta_1` (as ``4*beta1 < beta2 + 3``).
    """
    eventual = sp.StrictLessThan(4 * beta1, beta2 + 3)
    if not check_bool("uniform", uniform):
        return eventual
    x1, x2 = sp.log(1 / beta1), sp.log(1 / beta2)
    at_pole = sp.GreaterThan(4 * (1 - beta1) * x2 - 2 * x1 * x2 - (1 - beta2) * x1, 0)
    return sp.And(at_pole, eventual)


def lyapunov_derivative():
    r"""Derive :math:`\dot E` for (2) with :math:`E = f + m^2/(2h\sqrt{v+\varepsilon})` (one coordinate).

    Returns
    -------
    dict
        ``E`` (the function), ``dE`` (its derivative along (2), simplified),
        ``coeff_v``, ``coeff_eps``, ``coeff_g2`` (the bracket
        :math:`-\dot E\,(v+\varepsilon)^{3/2}/m^2 = c_v v + c_\varepsilon \varepsilon + c_g g^2`),
        ``adam_coeff_v`` (``coeff_v`` for Adam, :math:`\lambda = s`, as a rational function of
        ``beta1, beta2``, ``x_i = ln(1/beta_i)`` and ``w_i = beta_i**tau``, ``tau = t/s``),
        its limits ``adam_c_inf`` (:math:`\tau\to\infty`) and ``adam_c_0`` (:math:`\tau\to0`),
        and the symbols used.
    """
    t = sp.Symbol("t", positive=True)
    m, g, F = sp.symbols("m g f", real=True)
    v, eps = sp.Symbol("v", positive=True), _eps
    h, r, p, q = (sp.Function(n, positive=True)(t) for n in "hrpq")
    S = sp.Symbol("S", positive=True)          # S = sqrt(v + eps), dS/dv = 1/(2S)
    E = F + m**2 / (2 * h * S)
    theta_dot = -m / S
    m_dot = h * g - r * m
    v_dot = p * g**2 - q * v
    # f(theta(t)) changes at rate g * theta_dot; E depends on t also through h(t)
    dE = g * theta_dot + sp.diff(E, m) * m_dot + sp.diff(E, S) * v_dot / (2 * S) + sp.diff(E, t)
    bracket = sp.expand(sp.expand(-dE * S**3 / m**2).subs(S, sp.sqrt(v + eps)))
    poly = sp.Poly(bracket, v, eps, g)
    coeff_v = sp.expand(poly.coeff_monomial(v))
    coeff_eps = sp.expand(poly.coeff_monomial(eps))
    coeff_g2 = sp.expand(poly.coeff_monomial(g**2))
    # Adam, lambda = s, tau = t/s: h = r = g1, p = q = g2, with x_i = ln(1/beta_i) and
    # w_i = beta_i**tau = exp(-x_i tau) kept as symbols so that the limits are rational
    s, tau = sp.symbols("s tau", positive=True)
    x1, x2, w1, w2 = sp.symbols("x1 x2 w1 w2", positive=True)
    g1 = (1 - beta1) / (s * (1 - sp.exp(-x1 * t / s)))
    g2 = (1 - beta2) / (s * (1 - sp.exp(-x2 * t / s)))
    adam_v = coeff_v.subs(sp.Derivative(h, t), sp.diff(g1, t)).subs({h: g1, r: g1, p: g2, q: g2}).subs(t, s * tau)
    adam_v = sp.factor(sp.cancel(adam_v.subs({sp.exp(-x1 * tau): w1, sp.exp(-x2 * tau): w2})))
    c_inf = sp.factor(adam_v.subs({w1: 0, w2: 0}))
    # tau -> 0: w_i = 1 - x_i tau + O(tau^2); the first order decides the 0/0
    c_0 = sp.factor(sp.limit(adam_v.subs({w1: 1 - x1 * tau, w2: 1 - x2 * tau}), tau, 0))
    S_val = sp.sqrt(v + eps)
    return dict(E=E.subs(S, S_val), dE=-m**2 / S_val**3 * (coeff_v * v + coeff_eps * eps + coeff_g2 * g**2),
                dE_raw=dE.subs(S, S_val), coeff_v=coeff_v, coeff_eps=coeff_eps, coeff_g2=coeff_g2,
                adam_coeff_v=adam_v, adam_c_inf=c_inf, adam_c_0=c_0, t=t, tau=tau, s=s, m=m, v=v, g=g,
                eps=eps, h=h, r=r, p=p, q=q, x1=x1, x2=x2, w1=w1, w2=w2)


def lyapunov_values(f, t, theta, m, v, h, eps):
    r""":math:`E = f(\theta) + \sum_i m_i^2/(2h(t)\sqrt{v_i+\varepsilon})` along samples (K,), (K, d).

    At the pole (:math:`h = \infty`) the second term is 0.  ``v >= 0`` and ``eps >= 0`` with
    :math:`v + \varepsilon > 0`.
    """
    check_callable("f", f), check_callable("h", h)
    eps = scalar_nonnegative("eps", eps)
    m, v = real_array("m", m), real_array("v", v)
    if np.any(~(v >= 0)) or (eps == 0 and np.any(v == 0)):
        raise ValueError("v must be >= 0 (and > 0 where eps = 0), got negative, NaN or zero values")
    t = real_array("t", t)
    with np.errstate(divide="ignore"):
        inv_h = 1.0 / np.asarray(h(t), dtype=float)
    kinetic = np.sum(m**2 / np.sqrt(v + eps), axis=-1) * 0.5 * inv_h
    return np.asarray(f(theta), dtype=float) + kinetic
