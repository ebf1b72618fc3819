r"""The flow :math:`\dot\theta = h(\theta)` of the Adam vector field, and the loss as its Lyapunov function.

The field :math:`h` is that of :mod:`adamdyn.vector_field` (our reading of Dereich, Jentzen &
Kassing).  :func:`flow` integrates it; :func:`field_spline_1d` interpolates a one-dimensional field
so that the flow is cheap.  On sampled least squares, :math:`f` decreases along the flow where
:func:`lyapunov_rate` :math:`= \langle\nabla f, h\rangle < 0`; with :math:`\epsilon` inside the root
that holds below the radius :func:`lyapunov_crossover_radius` (a second-order expansion).

References
----------
S. Dereich, A. Jentzen, S. Kassing, "ODE approximation for the Adam algorithm:
general and overparametrized setting", arXiv:2511.04622, 2025 (abstract only).
"""

from __future__ import annotations

import numpy as np

from .memo import memoised
from .validation import (
    check_callable,
    check_int,
    check_scalar,
    real_array,
    scalar_positive,
)


def _finite(name, value, ndim=None):
    arr = real_array(name, value)
    if arr.size == 0 or not np.all(np.isfinite(arr)) or (ndim is not None and arr.ndim != ndim):
        shape = "" if ndim is None else f" with {ndim} dimension(s)"
        raise ValueError(f"{name} must be a non-empty array of finite numbers{shape}, got {value!r}")
    return arr
from .vector_field import (
    field_series,
    least_squares_field,
    quadratic_gradient_values,
    stationary_mv_moment,
)

__all__ = ["field_spline_1d", "flow", "least_squares_objective", "lyapunov_rate", "lyapunov_crossover_radius"]


@memoised
def field_spline_1d(x, probs, beta1, beta2, lo, hi, points=61, eps=0.0):
    r"""Cubic spline of the 1-D field :math:`h(\theta)` of :math:`F = (\theta-X)^2/2` on [lo, hi].

    Built from :func:`field_series` at ``points`` nodes; returns ``(spline, max_error)``
    where ``max_error`` is the largest error bound at the nodes.
    """
    lo, hi = check_scalar("lo", lo), check_scalar("hi", hi)
    if not hi > lo:
        raise ValueError(f"hi must be > lo, got lo={lo!r}, hi={hi!r}")
    nodes = np.linspace(lo, hi, check_int("points", points, minimum=4))
    s = field_series(quadratic_gradient_values(nodes, x), probs, beta1, beta2, eps)
    from scipy.interpolate import CubicSpline

    return CubicSpline(nodes, s.value), float(s.error.max())


def flow(field, theta0, times):
    r"""Solve :math:`\dot\theta = h(\theta)` from ``theta0`` (array, any shape) at ``times`` (from 0)."""
    from scipy.integrate import solve_ivp

    check_callable("field", field)
    th0 = _finite("theta0", theta0)
    times = _finite("times", times, 1)
    if np.any(times < 0) or np.any(np.diff(times) < 0) or times[-1] <= 0:
        raise ValueError(f"times must be increasing, >= 0 and end after 0, got {times!r}")
    sol = solve_ivp(lambda t, z: field(z), (0.0, float(times[-1])), th0.ravel(), t_eval=times,
                    rtol=1e-9, atol=1e-11, method="RK45")
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    return sol.y.T.reshape((times.size,) + th0.shape)


def least_squares_objective(theta, A, y):
    r""":math:`f(\theta) = \frac1n\sum_i \tfrac12(A_i\cdot\theta - y_i)^2` and its gradient."""
    A = _finite("A", A, 2)
    y = _finite("y", y, 1)
    theta = _finite("theta", theta)
    if y.shape[0] != A.shape[0] or theta.shape[-1] != A.shape[1]:
        raise ValueError(f"A must have shape (n, d) with y of shape (n,) and theta of shape (..., d), got "
                         f"A {A.shape}, y {y.shape}, theta {theta.shape}")
    res = theta @ A.T - y
    return 0.5 * np.mean(res**2, axis=-1), res @ A / A.shape[0]


def lyapunov_rate(theta, A, y, beta1=0.9, beta2=0.99, eps=0.0, **kw):
    r""":math:`\langle\nabla f(\theta), h(\theta)\rangle`: the rate of change of :math:`f` along the field.

    Negative at every point off the set of minima near it means :math:`f` is
    a (local) Lyapunov function of :math:`\dot\theta = h(\theta)`.
    """
    _, grad = least_squares_objective(theta, A, y)
    h = least_squares_field(theta, A, y, beta1=beta1, beta2=beta2, eps=eps, **kw).value
    return np.sum(grad * h, axis=-1)


def lyapunov_crossover_radius(values, probs, beta1, beta2, eps, grad):
    r"""Radius below which :math:`f` decreases along the field (eps inside the root, second order).

    For per-sample gradients :math:`\rho\,\tilde G` (``values`` at unit radius, shape (..., d, n))
    and :math:`\rho^2\tilde v \ll \epsilon`,
    :math:`\langle\nabla f, h\rangle = -\frac{\rho^2}{\sqrt\epsilon}|\tilde\nabla f|^2
    + \frac{\rho^4}{2\epsilon^{3/2}}\langle\tilde\nabla f, \mathbb E[\tilde m\tilde v]\rangle + O(\rho^6)`,
    so the rate is negative for :math:`\rho < \rho_c = \sqrt{2\epsilon|\tilde\nabla f|^2 /
    \langle\tilde\nabla f, \mathbb E[\tilde m\tilde v]\rangle}` (infinite if the bracket is
    :math:`\le 0`).  ``grad`` is :math:`\tilde\nabla f` (..., d).
    """
    eps = scalar_positive("eps", eps)
    gr = _finite("grad", grad)
    lead = np.sum(gr * gr, axis=-1)
    second = np.sum(gr * stationary_mv_moment(values, probs, beta1, beta2), axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(second > 0, np.sqrt(2.0 * eps * lead / np.where(second > 0, second, 1.0)), np.inf)
