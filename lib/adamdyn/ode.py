r"""Belotto da Silva & Gazeau's general ODE for adaptive methods: its coefficient families and its solutions.

The poster of :cite:t:`belotto2020ode` studies the non-autonomous system

.. math::

    \dot\theta = -\frac{m}{\sqrt{v+\varepsilon}},\qquad
    \dot m = h(t)\,\nabla f(\theta) - r(t)\,m,\qquad
    \dot v = p(t)\,[\nabla f(\theta)]^2 - q(t)\,v,                         \tag{2}

(squares and roots coordinate-wise), its forward Euler scheme with step :math:`s`
on the grid :math:`t_k`,

.. math::

    \theta_{k+1} = \theta_k - s\,\frac{m_k}{\sqrt{v_k+\varepsilon}},\quad
    m_{k+1} = (1 - s\,r(t_{k+1}))\,m_k + s\,h(t_{k+1})\,\nabla f(\theta_{k+1}),\quad
    v_{k+1} = (1 - s\,q(t_{k+1}))\,v_k + s\,p(t_{k+1})\,[\nabla f(\theta_{k+1})]^2,  \tag{3}

and Adam's coefficients :math:`h = r = g_1^A`, :math:`p = q = g_2^A`,

.. math::

    g_i^A(t, \lambda, \alpha_1, \alpha_2) = \frac{1 - e^{-\lambda/\alpha_i}}{\lambda\,(1 - e^{-t/\alpha_i})},

with :math:`\beta_i = e^{-\lambda/\alpha_i}` and :math:`\lambda = s`.  This module holds the
coefficient families (:func:`adam_coefficients` and the others, named ``*_coefficients`` so that
they do not read as the optimizers of :mod:`adamdyn.optimizers`) and the solutions of (2).  The
discrete algorithms, the poster's (4) among them, are in :mod:`adamdyn.ode_discrete`; the Lyapunov
function and the poster's hyperparameter condition in :mod:`adamdyn.ode_lyapunov`.

The pole of :math:`g_i^A` at :math:`t = 0`
------------------------------------------
Near :math:`t=0`, :math:`g_1^A(t) \approx \kappa_1/t` with
:math:`\kappa_1 = \alpha_1(1-\beta_1)/\lambda`.  Writing :math:`m = \nabla f(\theta_0) + d`, the
deviation obeys :math:`\dot d \approx -(\kappa_1/t)\,d`, so :math:`d(t) = d(t_0)\,(t_0/t)^{\kappa_1}`:
every solution except one blows up as :math:`t \to 0^+`, and the single bounded one has
:math:`m(0) = \nabla f(\theta_0)`, :math:`v(0) = \nabla f(\theta_0)^2` (our reading; the poster only
says the pole is simple).  :func:`solve_adam` therefore starts at a tiny :math:`t_0 = \delta > 0`
with :math:`m = \nabla f(\theta_0)`, :math:`v = \nabla f(\theta_0)^2`,
:math:`\theta = \theta_0 - \delta\,\nabla f(\theta_0)/\sqrt{\nabla f(\theta_0)^2 + \varepsilon}`:
the :math:`O(\delta)` mismatch in :math:`m, v` decays like :math:`(\delta/t)^{\kappa}`, so the
error it leaves in :math:`\theta` is :math:`O(\delta\log(T/\delta))`.  The start is stiff
(rate :math:`\kappa/\delta`), hence LSODA, which switches to the implicit BDF method there (:data:`ODE_METHOD`) with the
tolerances :data:`ODE_RTOL`, :data:`ODE_ATOL`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.integrate import solve_ivp

from .validation import (
    check_betas,
    check_callable,
    check_choice,
    check_instance,
    check_scalar,
    check_vector,
    real_array,
    scalar_nonnegative,
    scalar_positive,
)

#: The methods :func:`scipy.integrate.solve_ivp` offers.
_METHODS = ("RK45", "RK23", "DOP853", "Radau", "BDF", "LSODA")


def _times(name, value, lo=0.0, lo_open=False):
    """Sample times: finite reals above ``lo``, as a float array (shape kept)."""
    t = real_array(name, value)
    if t.size == 0 or not np.all(np.isfinite(t)) or np.any(t < lo) or (lo_open and np.any(t == lo)):
        raise ValueError(f"{name} must be finite times {'>' if lo_open else '>='} {lo:g}, got {value!r}")
    return t

__all__ = [
    "ODE_METHOD", "ODE_RTOL", "ODE_ATOL",
    "Coefficients", "heavy_ball_coefficients", "nesterov_coefficients", "rmsprop_coefficients",
    "adagrad_coefficients", "adam_coefficients", "adam_alphas", "g_adam",
    "OdeSolution", "solve", "solve_adam", "pole_deviation",
]

#: Integrator for (2): LSODA switches between Adams (non-stiff) and BDF (stiff); the Adam
#: start is stiff (rates up to kappa/delta), the rest mostly is not.  Against DOP853 at
#: rtol 1e-13 it agrees to < 2e-8 at a fraction of Radau's cost (measured in the chapter).
ODE_METHOD = "LSODA"
#: Relative tolerance used by :func:`solve` unless told otherwise.
ODE_RTOL = 1e-10
#: Absolute tolerance used by :func:`solve` unless told otherwise.
ODE_ATOL = 1e-12


# --------------------------------------------------------------------------- coefficient families

@dataclass(frozen=True)
class Coefficients:
    r"""The coefficient functions of (2).

    Attributes
    ----------
    name : str
    h, r, p, q : callable
        Functions of :math:`t > 0` (floats) returning floats.
    m_is_gradient : bool
        True for the "modification" that gives RMSProp/AdaGrad: :math:`\dot\theta =
        -\nabla f/\sqrt{v+\varepsilon}` (no momentum; ``h``, ``r`` unused).
    pole_at_zero : bool
        True if some coefficient has a pole at :math:`t = 0` (start at ``t0 > 0``).
    """

    name: str
    h: Callable
    r: Callable
    p: Callable
    q: Callable
    m_is_gradient: bool = False
    pole_at_zero: bool = False


def _const(c):
    return lambda t: c


def heavy_ball_coefficients(gamma=1.0):
    r"""Heavy ball: :math:`h \equiv 1`, :math:`r \equiv \gamma`, :math:`p \equiv q \equiv 0` (v frozen)."""
    gamma = scalar_positive("gamma", gamma)
    return Coefficients("heavy ball", _const(1.0), _const(gamma), _const(0.0), _const(0.0))


def nesterov_coefficients(r=3.0):
    r"""Nesterov (Su-Boyd-Candès): :math:`h \equiv 1`, :math:`r(t) = r/t`, :math:`p \equiv q \equiv 0`.

    The pole of :math:`r/t` at 0 forces :math:`m(0) = 0` for the bounded solution.
    """
    r = scalar_positive("r", r)
    return Coefficients("Nesterov", _const(1.0), lambda t: r / t, _const(0.0), _const(0.0), pole_at_zero=True)


def rmsprop_coefficients(alpha2=1.0):
    r"""RMSProp: :math:`p \equiv q \equiv \alpha_2` (the poster's notation: a rate), no momentum."""
    a = scalar_positive("alpha2", alpha2)
    return Coefficients("RMSProp", _const(1.0), _const(0.0), _const(a), _const(a), m_is_gradient=True)


def adagrad_coefficients(p=1.0):
    r"""AdaGrad: :math:`q \equiv 0`, :math:`p` constant, no momentum (:math:`v = v_0 + p\int g^2`)."""
    p = scalar_positive("p", p)
    return Coefficients("AdaGrad", _const(1.0), _const(0.0), _const(p), _const(0.0), m_is_gradient=True)


def g_adam(t, lam, alpha):
    r"""Adam's coefficient :math:`g^A(t,\lambda,\alpha) = (1-e^{-\lambda/\alpha})/(\lambda(1-e^{-t/\alpha}))`.

    ``lam = 0`` gives the limit :math:`1/(\alpha(1-e^{-t/\alpha}))`.  Computed with ``expm1``
    so that small :math:`t/\alpha` keeps full relative accuracy.  Simple pole at :math:`t=0`, so
    ``t > 0`` (``inf`` allowed); ``lam >= 0``, ``alpha > 0``.
    """
    t = real_array("t", t)
    if t.size == 0 or np.any(np.isnan(t)) or np.any(t <= 0):
        raise ValueError(f"t must be > 0 (the coefficient has a pole at t = 0), got {t!r}")
    lam, alpha = scalar_nonnegative("lam", lam), scalar_positive("alpha", alpha)
    with np.errstate(over="ignore", divide="ignore"):  # t / alpha below float64's range: the pole, inf
        num = 1.0 / alpha if lam == 0 else -np.expm1(-lam / alpha) / lam
        return num / -np.expm1(-t / alpha)


def adam_coefficients(lam, alpha1, alpha2):
    r"""Adam's family: :math:`h = r = g_1^A`, :math:`p = q = g_2^A` (``lam = 0``: the :math:`\lambda\to0` limit)."""
    lam = scalar_nonnegative("lam", lam)
    a1 = scalar_positive("alpha1", alpha1)
    a2 = scalar_positive("alpha2", alpha2)
    g1, g2 = _g_adam_of(lam, a1), _g_adam_of(lam, a2)
    return Coefficients("Adam", g1, g1, g2, g2, pole_at_zero=True)


def _g_adam_of(lam, alpha):
    """:func:`g_adam` as a function of ``t`` alone, for validated ``lam`` and ``alpha``.

    The ODE solvers evaluate the coefficients tens of thousands of times at one float ``t``;
    there the checks of :func:`g_adam` would cost more than the arithmetic.  A float ``t > 0``
    away from the pole takes the same operations in the same order (the same bits); anything
    else goes through :func:`g_adam` and its checks.
    """
    num = 1.0 / alpha if lam == 0 else -np.expm1(-lam / alpha) / lam

    def g(t):
        if isinstance(t, float) and t > 0:
            den = -np.expm1(-t / alpha)
            if den > 0:
                return num / den
        return g_adam(t, lam, alpha)

    return g


def adam_alphas(beta1, beta2, s):
    r""":math:`\alpha_i = s/\ln(1/\beta_i)`, i.e. :math:`\beta_i = e^{-s/\alpha_i}` with :math:`\lambda = s`."""
    b1, b2 = check_betas(beta1, beta2, positive=True)
    s = scalar_positive("s", s)
    return float(s / -np.log(b1)), float(s / -np.log(b2))


# --------------------------------------------------------------------------- ODE solutions

@dataclass(frozen=True)
class OdeSolution:
    """Samples of a solution of (2): ``t`` (K,), ``theta``, ``m``, ``v`` (K, d); ``success``, ``message``."""

    t: np.ndarray
    theta: np.ndarray
    m: np.ndarray
    v: np.ndarray
    success: bool
    message: str


def solve(coeffs: Coefficients, grad, theta0, m0, v0, t_span, *, eps=1e-8, t_eval=None,
          method=ODE_METHOD, rtol=ODE_RTOL, atol=ODE_ATOL):
    r"""Integrate (2) with :func:`scipy.integrate.solve_ivp` from ``t_span[0]`` to ``t_span[1]``.

    Parameters
    ----------
    coeffs : Coefficients
    grad : callable
        :math:`\nabla f`, maps shape (d,) to (d,).
    theta0, m0, v0 : array_like, shape (d,)
        State at ``t_span[0]`` (must be > 0 when ``coeffs.pole_at_zero``).
    t_span : (float, float)
    eps : float
        :math:`\varepsilon > 0` inside the root.
    t_eval, method, rtol, atol
        Passed to ``solve_ivp``; defaults LSODA, rtol 1e-10, atol 1e-12.

    Returns
    -------
    OdeSolution
        ``success`` False (and ``message`` saying why) if the integrator stopped early or
        produced non-finite values; never silent NaNs.
    """
    check_instance("coeffs", coeffs, Coefficients)
    check_callable("grad", grad)
    method = check_choice("method", method, _METHODS)
    rtol, atol = scalar_positive("rtol", rtol), scalar_positive("atol", atol)
    theta0, m0, v0 = (check_vector(n, x) for n, x in (("theta0", theta0), ("m0", m0), ("v0", v0)))
    if not (theta0.shape == m0.shape == v0.shape):
        raise ValueError("theta0, m0 and v0 must have the same shape")
    if np.any(v0 < 0):
        raise ValueError(f"v0 must be >= 0, got {v0!r}")
    eps = scalar_positive("eps", eps)
    span = real_array("t_span", t_span)
    if span.shape != (2,) or not np.all(np.isfinite(span)):
        raise ValueError(f"t_span must be a pair of finite times (t0, t1), got {t_span!r}")
    t0, t1 = map(float, span)
    if t_eval is not None:
        t_eval = _times("t_eval", t_eval, t0)
        if np.any(t_eval > t1):
            raise ValueError(f"t_eval must lie in t_span = [{t0:g}, {t1:g}], got {t_eval!r}")
    if not t1 > t0 or (coeffs.pole_at_zero and t0 <= 0):
        raise ValueError(f"t_span must satisfy 0{' <' if coeffs.pole_at_zero else ' <='} t0 < t1, got {t_span!r}")
    d = theta0.size

    h, r, p, q = coeffs.h, coeffs.r, coeffs.p, coeffs.q

    # called tens of thousands of times per solve: fill one output array, and evaluate a
    # coefficient once where two of them are one function (Adam: h = r, p = q)
    def rhs(t, y):
        th, m, v = y[:d], y[d:2 * d], y[2 * d:]
        gr = grad(th)
        den = np.sqrt(np.maximum(v, 0.0) + eps)
        out = np.empty(3 * d)
        if coeffs.m_is_gradient:
            out[:d] = -gr / den
            out[d:2 * d] = 0.0
        else:
            out[:d] = -m / den
            ht = h(t)
            out[d:2 * d] = ht * gr - (ht if r is h else r(t)) * m
        pt = p(t)
        out[2 * d:] = pt * gr**2 - (pt if q is p else q(t)) * v
        return out

    y0 = np.concatenate([theta0, m0, v0])
    with np.errstate(all="ignore"):
        sol = solve_ivp(rhs, (t0, t1), y0, method=method, t_eval=t_eval, rtol=rtol, atol=atol)
    ok = bool(sol.success and np.all(np.isfinite(sol.y)))
    msg = sol.message if ok else f"integration failed: {sol.message}"
    Y = sol.y.T
    return OdeSolution(sol.t, Y[:, :d], Y[:, d:2 * d], Y[:, 2 * d:], ok, msg)


def solve_adam(grad, theta0, alpha1, alpha2, T, *, lam=0.0, eps=1e-8, t_eval=None, delta=None,
               rtol=ODE_RTOL, atol=ODE_ATOL):
    r"""The bounded solution of Adam's ODE on :math:`(0, T]`, through the pole at :math:`t=0`.

    Starts at :math:`t_0 = \delta` (default :math:`10^{-9}\min\alpha_i`) with
    :math:`m = \nabla f(\theta_0)`, :math:`v = \nabla f(\theta_0)^2` and one Euler step of
    :math:`\theta`; see the module docstring for why the :math:`O(\delta)` mismatch decays.
    ``t_eval`` values below :math:`\delta` are clipped to :math:`\delta`.
    """
    check_callable("grad", grad)
    theta0 = check_vector("theta0", theta0)
    coeffs = adam_coefficients(lam, alpha1, alpha2)
    T = scalar_positive("T", T)
    eps = scalar_positive("eps", eps)
    delta = 1e-9 * min(alpha1, alpha2) if delta is None else scalar_positive("delta", delta)
    g0 = np.asarray(grad(theta0), dtype=float)
    th = theta0 - delta * g0 / np.sqrt(g0**2 + eps)
    if t_eval is not None:
        t_eval = np.clip(_times("t_eval", t_eval), delta, T)
    return solve(coeffs, grad, th, g0, g0**2, (delta, T), eps=eps, t_eval=t_eval, rtol=rtol, atol=atol)


def pole_deviation(grad, theta0, alpha1, alpha2, t_eval, *, lam=0.0, eps=1e-8, delta=None, kick=1e-3):
    r"""How a wrong start at :math:`t_0=\delta` decays through the pole: :math:`|m_{kick}(t) - m(t)|`.

    Two solutions start at :math:`\delta` (default :math:`10^{-6}\alpha_1`), one with
    :math:`m = \nabla f(\theta_0)`, one with :math:`m = \nabla f(\theta_0) + \text{kick}`.  Near the
    pole the gap should fall like :math:`(\delta/t)^{\kappa_1}`,
    :math:`\kappa_1 = \alpha_1(1-e^{-\lambda/\alpha_1})/\lambda` (1 for :math:`\lambda = 0`).

    Returns
    -------
    gap : ndarray, shape (len(t_eval),)
    kappa : float
    """
    check_callable("grad", grad)
    theta0 = check_vector("theta0", theta0)
    coeffs = adam_coefficients(lam, alpha1, alpha2)
    delta = 1e-6 * alpha1 if delta is None else scalar_positive("delta", delta)
    kick = check_scalar("kick", kick)
    g0 = np.asarray(grad(theta0), dtype=float)
    t_eval = _times("t_eval", t_eval, delta)
    T = float(t_eval.max())
    runs = [solve(coeffs, grad, theta0, g0 + dm, g0**2, (delta, T), eps=eps, t_eval=t_eval) for dm in (0.0, kick)]
    gap = np.linalg.norm(runs[1].m - runs[0].m, axis=1)
    kappa = 1.0 if lam == 0 else alpha1 * -np.expm1(-lam / alpha1) / lam
    return gap, float(kappa)


# --------------------------------------------------------------------------- ledger rows

def _quartic_grad(X):
    X = np.asarray(X, float)
    x, y = X[..., 0], X[..., 1]
    a, b = 4 * (x + y) ** 3, 2 * (x / 2 - y / 2) ** 3
    return np.stack([a + b, a - b], axis=-1)
