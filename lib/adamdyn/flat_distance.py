r"""Kaiser's Proposition 2: the distance Adam crosses on a flat, bounded, in closed form and simulated.

On a flat (zero gradient) the moments decay as :math:`\beta_1^s, \beta_2^s`, each step is the
previous one times :math:`\rho = \beta_1/\sqrt{\beta_2}`, and the distance from the point where the last
step with a nonzero gradient *starts* (the last point on the slope) is at most
:math:`\eta\,\frac{\beta_2(1-\beta_1)}{(\sqrt{\beta_2}-\beta_1)\sqrt{(1-\beta_2)(\beta_2-\beta_1^2)}}`;
from the first point on the flat it is at most :math:`\rho` times that.  Both are suprema (approached by the
extremal history) and hold with bias correction and any :math:`\epsilon \ge 0`.

Where :math:`\beta_1^2 \ge \beta_2` the bound is ``inf`` (as Proposition 1's,
:func:`adamdyn.bounds.step_bound`); simulated quantities are NaN for runs not made.
The largest step that enters the flat, and the extremal history that attains it, are
Proposition 1's (:mod:`adamdyn.bounds`).

References
----------
A. Kaiser, "Exploring the dynamics of Adam", section 4.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from . import landscapes as _L
from . import optimizers as _opt
from .bounds import (
    _exists,
    _out,
    bias_factor,
    extremal_moments,
    finite_step_sup,
    s,
    step_bound,
    step_bound_exists,
    step_bound_expr,
)
from .symbols import beta1, beta2
from .validation import (
    check_betas,
    check_bool,
    check_int,
    check_scalar,
    integer_values,
    real_array,
    scalar_nonnegative,
    scalar_positive,
)

__all__ = [
    "flat_distance_bound_expr", "flat_distance_bound", "flat_distance_bound_exists", "flat_distance_from_flat_expr",
    "flat_distance_finite", "arrival_state", "simulate_flat_map", "crossing_distances", "plateau_arrival",
]


def flat_distance_bound_expr():
    r"""Proposition 2's bound divided by :math:`\eta`, derived in sympy.

    On the flat :math:`m_s = \beta_1^s m_0`, :math:`v_s = \beta_2^s v_0`, so the steps are
    :math:`(m_0/\sqrt{v_0})\rho^s`, :math:`\rho = \beta_1/\sqrt{\beta_2}`; summing :math:`s = 0..\infty`
    (the series converges iff :math:`\rho < 1 \iff \beta_1^2 < \beta_2`) and bounding :math:`m_0/\sqrt{v_0}`
    by :func:`step_bound_expr`:

    .. math:: \frac{\beta_2(1-\beta_1)}{(\sqrt{\beta_2}-\beta_1)\sqrt{(1-\beta_2)(\beta_2-\beta_1^2)}} .

    The distance is measured from the point where the last step with a nonzero gradient starts.
    """
    rho = sp.Symbol("rho", positive=True)
    series = sp.summation(rho**s, (s, 0, sp.oo))
    if isinstance(series, sp.Piecewise):
        series = series.args[0][0]
    expr = step_bound_expr() * series.subs(rho, beta1 / sp.sqrt(beta2))
    paper = beta2 * (1 - beta1) / ((sp.sqrt(beta2) - beta1) * sp.sqrt((1 - beta2) * (beta2 - beta1**2)))
    if sp.simplify(expr - paper) != 0:
        raise ArithmeticError("the summed series does not simplify to the paper's form of Proposition 2")
    return paper


def flat_distance_from_flat_expr():
    r"""The tight bound measured from the first point *on* the flat: :math:`\rho` times
    :func:`flat_distance_bound_expr` (equivalently that bound minus Proposition 1's)."""
    return beta1 / sp.sqrt(beta2) * flat_distance_bound_expr()


def flat_distance_bound_exists(beta1, beta2):
    r"""Elementwise: :math:`\rho = \beta_1/\sqrt{\beta_2} < 1` (equivalently :math:`\beta_1^2 < \beta_2`)."""
    return step_bound_exists(beta1, beta2)


def flat_distance_bound(beta1, beta2, eta=1.0):
    r"""Numeric Proposition 2 bound
    :math:`\eta\,\beta_2(1-\beta_1)/((\sqrt{\beta_2}-\beta_1)\sqrt{(1-\beta_2)(\beta_2-\beta_1^2)})`.

    Vectorized; ``inf`` where :math:`\beta_1^2 \ge \beta_2`.  At the defaults :math:`73.03\,\eta`
    (the paper: "about 73 eta").
    """
    b1, b2 = check_betas(beta1, beta2)
    ok = _exists(b1, b2)  # the boundary beta2 = beta1^2 is decided exactly (bounds.step_bound_exists)
    rho = np.divide(b1, np.sqrt(b2), out=np.zeros_like(b1), where=ok)
    with np.errstate(divide="ignore"):  # rho rounds to 1 only within rounding of the boundary: inf is right
        return _out(np.where(ok, step_bound(b1, b2, eta) / (1 - rho), np.inf))


def flat_distance_finite(beta1, beta2, n, steps, bias_correction=False):
    r"""Exact supremum (:math:`\epsilon = 0`) of the distance covered by ``steps`` steps counted from the last
    slope point (the last slope step, then ``steps - 1`` steps on the flat), over slope histories of
    length ``n``: :math:`\sum_{k=0}^{S-1}\text{sup}_n\,\rho^k\,(r_{n+k})`.

    ``n >= 1`` whole numbers (broadcast against the betas), ``steps >= 0`` an integer.  At
    :math:`\beta_2 = 0` the second moment is 0 on the flat, so with :math:`\beta_1 > 0` every flat step is
    infinite (the distance is ``inf`` from ``steps = 2`` on); with :math:`\beta_1 = 0` the first moment is 0
    too and the flat steps are taken as their :math:`\epsilon \to 0^+` limit, 0.
    """
    b1, b2 = check_betas(beta1, beta2)
    n = integer_values("n", n, 1)
    steps = check_int("steps", steps, 0)
    bias_correction = check_bool("bias_correction", bias_correction)
    with np.errstate(divide="ignore", invalid="ignore"):  # beta2 = 0: rho is set by hand below
        rho = np.where(b2 > 0, b1 / np.sqrt(b2), 0.0)
    flat_inf = (b2 == 0.0) & (b1 > 0.0) & (steps >= 2)
    base = finite_step_sup(b1, b2, n)
    if not bias_correction:  # a finite geometric sum in closed form
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            geo = np.where(np.abs(rho - 1) < 1e-15, float(steps), -np.expm1(steps * np.log(np.where(rho > 0, rho, 1e-300))) / (1 - rho))
        return _out(np.where(flat_inf, np.inf, base * np.where(rho > 0, geo, 1.0)))
    k = np.arange(steps, dtype=float).reshape((-1,) + (1,) * np.broadcast(b1, n).ndim)
    with np.errstate(over="ignore", invalid="ignore"):  # rho > 1: the distance is unbounded
        terms = base * rho**k
        total = (terms * bias_factor(b1, b2, n + k)).sum(axis=0)
    return _out(np.where(flat_inf, np.inf, total))


def arrival_state(beta1, beta2, steps, edge=0.0, eta=1e-3, bias_correction=False, eps=0.0):
    r"""A :class:`~adamdyn.State` as if Adam had just taken its last slope step after :func:`extremal_history`.

    The iterate sits exactly on the edge (where the plateau gradient is already 0), the moments are
    :func:`extremal_moments` with the sign of the slope's gradients (negative: descent moves to :math:`+w`)
    and ``t = steps``.  The last slope point (where that step started) lies one
    step behind, at ``edge - step``; the step is returned with the state.
    """
    b1, b2 = (np.atleast_1d(a) for a in check_betas(beta1, beta2))
    steps = check_int("steps", steps, 1)
    edge = check_scalar("edge", edge)
    eta = scalar_positive("eta", eta)
    bias_correction = check_bool("bias_correction", bias_correction)
    eps = scalar_nonnegative("eps", eps)
    m, v = extremal_moments(b1, b2, steps)
    den1 = 1 - b1**steps if bias_correction else 1.0
    den2 = 1 - b2**steps if bias_correction else 1.0
    step = eta * (m / den1) / (np.sqrt(v / den2) + eps)
    x = np.full((b1.size, 1), edge)
    # descent on the plateau's slope moves towards +w: the gradients there, and so m, are negative
    return _opt.State(x, -m[:, None].copy(), v[:, None].copy(), steps), step


def simulate_flat_map(beta1, beta2, arrival_steps=20_000, flat_steps=20_000, eta=1e-3):
    r"""Proposition 2 over a grid, simulated: one batched :func:`adamdyn.run` on the plateau.

    Every run (one per :math:`(\beta_1, \beta_2)` with :math:`\beta_1^2 < \beta_2`) starts from
    :func:`arrival_state` (extremal history of ``arrival_steps`` gradients, :math:`\epsilon = 0`, no bias
    correction) and takes ``flat_steps`` steps on the flat.

    Returns
    -------
    simulated, exact, limit : ndarray
        Distance per :math:`\eta` from the last slope point: simulated; the finite-horizon closed form
        :func:`flat_distance_finite`; the bound :func:`flat_distance_bound`.  Where no bound exists the
        first two are NaN (no run) and the bound is ``inf``.
    underflow : ndarray of bool
        Where :math:`v_s` underflows to 0 in float64 (about :math:`\beta_2^s v_0 < 10^{-308}`) before
        :math:`\rho^s` is below :math:`10^{-9}`: the run then stops early and falls short of the
        closed form.  A floating-point limit, not a property of Adam.
    """
    b1, b2 = check_betas(beta1, beta2)
    shape = b1.shape
    b1, b2 = b1.ravel(), b2.ravel()
    arrival_steps = check_int("arrival_steps", arrival_steps, 1)
    flat_steps = check_int("flat_steps", flat_steps, 1)
    eta = scalar_positive("eta", eta)
    ok = _exists(b1, b2)
    sim = np.full(b1.shape, np.nan)
    if ok.any():
        st, step = arrival_state(b1[ok], b2[ok], arrival_steps, eta=eta)
        opt = _opt.adam(lr=eta, beta1=b1[ok], beta2=b2[ok], eps=0.0, bias_correction=False)
        tr = _opt.run(opt, _L.plateau(0.0, 1.0, 1.0), x0=None, steps=flat_steps, record_every=flat_steps,
                      state=st)
        sim[ok] = (tr.final[:, 0] + step) / eta
        if tr.diverged.any():
            raise RuntimeError("a flat-crossing run diverged")
    # the last slope step plus flat_steps steps on the flat: flat_steps + 1 terms
    exact = np.where(ok, flat_distance_finite(b1, b2, arrival_steps, flat_steps + 1), np.nan)
    limit = flat_distance_bound(b1, b2)
    v0 = np.ones_like(b1)
    if ok.any():
        v0[ok] = extremal_moments(b1[ok], b2[ok], arrival_steps)[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        s_under = np.log(1e-308 / v0) / np.log(b2)
        rho = np.where(ok, b1 / np.sqrt(b2), 0.0)
        underflow = ok & (s_under < flat_steps) & (rho ** np.minimum(s_under, flat_steps) > 1e-9)
    return sim.reshape(shape), exact.reshape(shape), limit.reshape(shape), underflow.reshape(shape)


def crossing_distances(path, edge):
    """From a recorded 1-D path (``(K, runs, 1)``, every step) on a plateau: distances travelled past
    the last slope point, past the edge, and past the first flat point, to the final iterate.

    NaN for a run that is still on the slope at the end (it has not reached the flat).
    """
    path = real_array("path", path)
    if path.ndim != 3 or path.shape[2] != 1 or path.shape[0] == 0 or path.shape[1] == 0:
        raise ValueError(f"path must have shape (K, runs, 1) with K, runs >= 1, got {path.shape}")
    edge = check_scalar("edge", edge)
    w = path[:, :, 0]
    on_slope = w < edge
    never = on_slope[-1]  # still on the slope at the end: nothing crossed (NaN)
    last = on_slope.shape[0] - 1 - np.argmax(on_slope[::-1], axis=0)  # last index with w < edge
    runs = np.arange(w.shape[1])
    first = np.minimum(last + 1, w.shape[0] - 1)
    final = w[-1]
    out = final - w[last, runs], final - edge, final - w[first, runs]
    return tuple(np.where(never, np.nan, d) for d in out)


def plateau_arrival(beta1, beta2, power, lr=1e-3, approach=1.0005, flat_steps=3000, eps=1e-8, bias_correction=True):
    r"""Adam arriving at the edge of :func:`adamdyn.landscapes.plateau` from ``-approach`` (the flat chapter's
    "realistic arrivals"): ``power=1`` is a constant slope, ``power=2`` a quadratic bowl.

    The default start lies off the :math:`\eta` grid, so that the last slope point, the edge and the first
    flat point are three different places.  Runs ``3 approach / lr + flat_steps`` steps and returns
    ``(crossing_distances(path, 0), trajectory)``.
    """
    power = check_scalar("power", power, 1.0)
    lr = scalar_positive("lr", lr)
    approach = scalar_positive("approach", approach)
    flat_steps = check_int("flat_steps", flat_steps, 0)
    bias_correction = check_bool("bias_correction", bias_correction)
    lan = _L.plateau(edge=0.0, slope=1.0, power=power)
    opt = _opt.adam(lr=lr, beta1=beta1, beta2=beta2, eps=eps, bias_correction=bias_correction)
    steps = int(approach / lr * 3) + flat_steps
    tr = _opt.run(opt, lan, x0=[-approach], steps=steps)
    return crossing_distances(tr.path, 0.0), tr
