r"""Periodic orbits of Adam in the valleys: finding them in runs, and Proposition 4 (Kaiser, section 6).

Finding periods
---------------
:func:`detect_period` names the smallest period of a recorded window,
:func:`tail_summary` classifies a window (still, periodic, creeping, bursting,
irregular) and :func:`period_map` maps the long-run period over a grid of starts.

Two-periodic orbits (Proposition 4, corrected)
-----------------------------------------------
If the gradient alternates, :math:`\nabla f(w_t) = (-1)^t C`, the long-run
averages (no bias correction, as in the paper) are

.. math::

    m_t = (-1)^t C\,\frac{1-\beta_1}{1+\beta_1},\qquad v_t = C^2,

so the step alternates with size :math:`s = \eta\,\kappa\,|C|/(|C|+\epsilon)`,
:math:`\kappa = (1-\beta_1)/(1+\beta_1)`.  A 2-cycle through :math:`w` exists iff

.. math::

    \nabla f(w) = C, \qquad \nabla f\!\left(w - \eta\,\frac{C\,\kappa}{|C|+\epsilon}\right) = -C .

On :math:`a\,w^2` this gives the orbit :math:`\pm w^\ast` with
:math:`w^\ast = \eta\kappa/2 - \epsilon/(2a)`; on :math:`a|w|` a whole interval
of 2-cycles (:func:`square_wave_cycles` gives every even period).  The paper's
condition has :math:`C^2+\epsilon` for :math:`|C|+\epsilon` and the two gradients
swapped; for a convex loss it only admits :math:`C = 0`.

With :math:`v` frozen, the 2-cycle sits exactly at the preconditioned-sharpness limit
:math:`2(1+\beta_1)/((1-\beta_1)\eta)` of Cohen et al. (2022) (:func:`edge_of_stability_symbolic`).

References
----------
A. Kaiser, "Exploring the Dynamics of Adam", section 6.
J. M. Cohen et al., "Adaptive gradient methods at the edge of stability", 2022.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp
from scipy.optimize import fsolve

from . import optimizers as _opt
from .memo import memoised
from .symbols import beta1 as _b1
from .symbols import beta2 as _b2
from .symbols import eps as _eps
from .symbols import eta as _eta
from .update_rule import numpy_rule as _rule
from .update_rule import sympy_rule
from .validation import check_int, check_positive, scalar_beta

__all__ = [
    "a", "C",
    "detect_period", "burst_intervals", "tail_summary", "period_map",
    "frozen_v_threshold_symbolic", "edge_of_stability_symbolic",
    "alternating_moments_symbolic", "corrected_condition_quadratic", "paper_condition_quadratic",
    "two_cycle_amplitude", "adam_map", "two_cycle_state", "find_two_cycle", "two_step_jacobian",
    "cycle_spectral_radius", "square_wave_cycles",
]

#: The curvature :math:`a` of :math:`a w^2` and the orbit's gradient :math:`C` in the derivations below.
a, C = sp.symbols("a C", positive=True)
_a, _C = a, C
_w = sp.Symbol("w", positive=True)
_i = sp.symbols("i", integer=True, nonnegative=True)

# ------------------------------------------------------------- periods in runs
def detect_period(x, max_period=64, rtol=1e-6) -> int:
    """Smallest p <= ``max_period`` with ``max|x[t+p] - x[t]| <= rtol * max|x|`` over the window, else 0.

    p = 1 means the sequence is (numerically) still.
    """
    x = np.asarray(x, float)
    max_period = check_int("max_period", max_period, 1)
    if x.ndim != 1 or x.size <= 2 * max_period:
        raise ValueError(f"x must be 1-D and longer than 2*max_period = {2 * max_period}")
    scale = np.max(np.abs(x))
    if scale == 0.0:
        return 1
    for p in range(1, max_period + 1):
        if np.max(np.abs(x[p:] - x[:-p])) <= rtol * scale:
            return p
    return 0


def burst_intervals(x, threshold=0.5, min_gap=50) -> np.ndarray:
    """Steps between successive bursts: local maxima of |x| above ``threshold`` times the window's maximum."""
    from scipy.signal import find_peaks

    a = np.abs(np.asarray(x, float))
    peaks, _ = find_peaks(a, height=threshold * a.max(), distance=min_gap)
    return np.diff(peaks)


@memoised
def tail_summary(x, max_period=64, rtol=1e-6, collapse=0.1, block=16) -> dict:
    """Classify a window of one coordinate and measure it.

    ``kind`` is one of: ``still`` (period 1); ``periodic`` (period 2..``max_period``, :func:`detect_period`);
    ``creeping`` (no period, but monotone: a slow one-way drift, as AdaGrad's); ``bursting`` (no period,
    and the envelope, the largest :math:`|x|` per block of ``block`` steps, collapses below ``collapse``
    times its peak between at least three recurring peaks); ``irregular`` otherwise.
    Also returns the amplitude ((max - min)/2), the largest :math:`|x|`, the sign-flip rate, and for
    bursting windows the mean and spread of the steps between bursts.
    """
    x = np.asarray(x, float)
    p = detect_period(x, max_period, rtol)
    d = np.diff(x)
    monotone = bool(np.all(d >= 0) or np.all(d <= 0))
    a = np.abs(x)
    env = a[: a.size // block * block].reshape(-1, block).max(axis=1)
    collapses = env.size > 0 and env.min() < collapse * a.max()
    gaps = burst_intervals(x) if (p == 0 and not monotone and collapses) else np.zeros(0, int)
    if p == 1:
        kind = "still"
    elif p > 1:
        kind = "periodic"
    elif monotone:
        kind = "creeping"
    else:
        kind = "bursting" if gaps.size >= 3 else "irregular"
    flips = np.mean(np.sign(x[1:]) != np.sign(x[:-1]))
    return dict(kind=kind, period=p, amplitude=float((x.max() - x.min()) / 2), max_abs=float(a.max()),
                sign_flip_rate=float(flips),
                burst_mean=float(gaps.mean()) if gaps.size else np.nan,
                burst_std=float(gaps.std()) if gaps.size else np.nan, bursts=int(gaps.size + (gaps.size > 0)))



def period_map(landscape, xs, ys, optimizer=None, steps=20_000, window=400, coord=0):
    """Long-run period (:func:`detect_period`, 0 = none up to 64) of ``coord`` from every start of a grid.

    Returns an int array of shape (len(ys), len(xs)).
    """
    opt = optimizer if optimizer is not None else _opt.adam(lr=1e-3)
    if len(opt) != 1:
        raise ValueError("optimizer must hold a single run; the grid supplies the runs")
    X, Y = np.meshgrid(np.asarray(xs, float), np.asarray(ys, float))
    starts = np.column_stack([X.ravel(), Y.ravel()])
    a = _opt.run(opt, landscape, starts, check_int("steps", steps, 1), record_every=steps)
    b = _opt.run(opt.take(np.zeros(len(starts), int)), landscape, None, check_int("window", window, 130),
                 record_every=1, state=a.state)
    per = [detect_period(b.path[:, r, coord]) for r in range(len(starts))]
    return np.array(per).reshape(X.shape)



# ------------------------------------------------- frozen v: the edge of stability
@lru_cache(maxsize=1)  # the chapter and edge_of_stability_symbolic both ask
def frozen_v_threshold_symbolic():
    r"""Sympy: linear stability of Adam's momentum recursion on :math:`a w^2` with :math:`v` frozen.

    With :math:`\alpha = \eta/(\sqrt v + \epsilon)`: :math:`m_{t} = \beta_1 m_{t-1} + (1-\beta_1)2a w_{t-1}`,
    :math:`w_t = w_{t-1} - \alpha m_t`.  The characteristic polynomial is
    :math:`z^2 - (1 + \beta_1 - h)z + \beta_1`, :math:`h = 2a\alpha(1-\beta_1)`; a root crosses
    :math:`z = -1` (period-2 instability) at the returned critical :math:`\sqrt v`.
    Returns ``(charpoly times (sqrt(v) + eps), sqrt_v_critical)``.
    """
    z = sp.Symbol("z")
    sv = sp.Symbol("s", positive=True)
    alpha = _eta / (sv + _eps)
    # (m, w) -> (m', w'): m' = b1 m + (1-b1) 2a w,  w' = w - alpha m'
    A = sp.Matrix([[_b1, (1 - _b1) * 2 * _a], [-alpha * _b1, 1 - alpha * (1 - _b1) * 2 * _a]])
    poly = sp.expand(sp.simplify((A - z * sp.eye(2)).det() * (sv + _eps)))
    crit = sp.solve(sp.Eq(poly.subs(z, -1), 0), sv)
    return sp.collect(poly, z), sp.simplify(crit[0])




def edge_of_stability_symbolic():
    r"""Sympy: the frozen-:math:`v` threshold as a preconditioned sharpness (Cohen et al. 2022).

    With :math:`v` frozen, Adam is heavy-ball momentum on the preconditioned problem; on :math:`a w^2`
    the preconditioned sharpness is :math:`\lambda = 2a/(\sqrt v + \epsilon)`.  Returns
    ``(lambda at the critical sqrt(v), 2(1+beta_1)/((1-beta_1) eta), their difference simplified)``.
    """
    _, crit = frozen_v_threshold_symbolic()
    lam = sp.simplify(2 * _a / (crit + _eps))
    cohen = 2 * (1 + _b1) / ((1 - _b1) * _eta)
    return lam, cohen, sp.simplify(lam - cohen)


# ------------------------------------------------------------- Proposition 4
def _geometric(expr):
    s = sp.summation(expr, (_i, 0, sp.oo))
    if isinstance(s, sp.Piecewise):  # the convergence condition holds for 0 < beta < 1
        s = s.args[0][0]
    return sp.simplify(s)


def alternating_moments_symbolic() -> dict:
    r"""Sympy: the long-run moments under the alternating history :math:`\nabla f(w_{t-i}) = (-1)^i C`.

    Returns ``{"m": ..., "v": ..., "v_paper": ...}`` where ``v_paper`` is the
    paper's sum :math:`(1-\beta_1)\sum_i \beta_1^i C^2` (decay of the wrong moment).
    """
    m = (1 - _b1) * _geometric((-_b1) ** _i) * _C
    v = (1 - _b2) * _geometric(_b2**_i) * _C**2
    v_paper = (1 - _b1) * _geometric(_b1**_i) * _C**2
    return {"m": sp.simplify(m), "v": sp.simplify(v), "v_paper": sp.simplify(v_paper)}


def _step(denominator):
    kappa = (1 - _b1) / (1 + _b1)
    return _eta * _C * kappa / denominator


def corrected_condition_quadratic():
    r"""Solve the corrected 2-cycle condition on :math:`a w^2`: returns ``(C, w)`` as sympy expressions."""
    s = _step(_C + _eps)  # C > 0, so |C| = C
    sol = sp.solve([sp.Eq(2 * _a * _w, _C), sp.Eq(2 * _a * (_w - s), -_C)], [_w, _C], dict=True)
    sol = [d for d in sol if d[_C] != 0]
    return sp.simplify(sol[0][_C]), sp.simplify(sol[0][_w])


@memoised
def paper_condition_quadratic():
    r"""Solve the paper's condition :math:`\nabla f(w - \eta C\kappa/(C^2+\epsilon)) = -\nabla f(w) = C`
    on :math:`a w^2` for real :math:`C \ne 0` (any sign).  Returns the list of real solutions (empty)."""
    C = sp.symbols("C", real=True, nonzero=True)
    w = sp.symbols("w", real=True)
    kappa = (1 - _b1) / (1 + _b1)
    s = _eta * C * kappa / (C**2 + _eps)
    eqs = [sp.Eq(2 * _a * w, -C), sp.Eq(2 * _a * (w - s), C)]
    sols = sp.solve(eqs, [w, C], dict=True)
    return [d for d in sols if d[C].is_real is not False and d[C] != 0 and sp.im(d[C]) == 0]


def two_cycle_amplitude(a=1.0, lr=1e-3, beta1=0.9, eps=1e-8):
    r""":math:`w^\ast = \eta\kappa/2 - \epsilon/(2a)`, the corrected 2-cycle on :math:`a w^2` (numeric).

    The orbit exists iff :math:`w^\ast > 0`, i.e. :math:`a\eta\kappa > \epsilon`; otherwise NaN.
    """
    b1 = scalar_beta("beta1", beta1)
    check_positive("a", a)
    w = lr * (1 - b1) / (1 + b1) / 2 - eps / (2 * a)
    return w if w > 0 else float("nan")


def adam_map(state, a=1.0, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One long-run Adam step (no bias correction) of one coordinate on :math:`a w^2`: (w, m, v) -> (w', m', v')."""
    w, m, v = state
    g = 2 * a * w
    m = _rule.first_moment(m, g, beta1, 1 - beta1)
    v = _rule.second_moment(v, g, beta2, 1 - beta2)
    return np.array([_rule.decayed_step(w, lr, 0.0, _rule.direction(m, _rule.denominator(v, eps, False))), m, v])


def two_cycle_state(a=1.0, lr=1e-3, beta1=0.9, eps=1e-8):
    """The state (w, m, v) of the corrected 2-cycle just before the step taken at +w* (closed form).

    :math:`v = C^2` whatever :math:`\beta_2` (the squared gradient is constant on the orbit).
    """
    w = two_cycle_amplitude(a, lr, beta1, eps)
    C = 2 * a * w
    return np.array([w, -C * (1 - beta1) / (1 + beta1), C * C])


def find_two_cycle(a=1.0, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, guess_factor=1.3):
    """Solve F(F(p)) = p numerically (scipy ``fsolve``) from a guess off the closed form; returns p.

    The unknowns are scaled to order one so that the solver's tolerance is relative.
    """
    p0 = two_cycle_state(a, lr, beta1, eps)
    scale = np.abs(p0)
    kw = dict(a=a, lr=lr, beta1=beta1, beta2=beta2, eps=eps)

    def resid(z):
        p = z * scale
        return (adam_map(adam_map(p, **kw), **kw) - p) / scale

    guess = np.array([guess_factor, 1 / guess_factor, guess_factor**2])
    z, _, ier, msg = fsolve(resid, guess, full_output=True, xtol=1e-13)
    if ier != 1:
        raise RuntimeError(f"fsolve did not converge: {msg}")
    return z * scale


@lru_cache(maxsize=1)
def _jacobian_function():
    w, m, v = sp.symbols("w m v", real=True)
    a, lr, b1, b2, eps = _a, _eta, _b1, _b2, _eps

    rule = sympy_rule()

    def F(s):                           # adam_map, symbolically: the same pieces
        w_, m_, v_ = s
        g = 2 * a * w_
        mn = rule.first_moment(m_, g, b1, 1 - b1)
        vn = rule.second_moment(v_, g, b2, 1 - b2)
        u = rule.direction(mn, rule.denominator(vn, eps, False))
        return sp.Matrix([rule.decayed_step(w_, lr, 0, u), mn, vn])

    FF = F(F(sp.Matrix([w, m, v])))
    J = FF.jacobian([w, m, v])
    return sp.lambdify((w, m, v, a, lr, b1, b2, eps), J, "numpy")


def two_step_jacobian(state, a=1.0, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8) -> np.ndarray:
    """Exact (sympy-differentiated) Jacobian of the two-step map F∘F at ``state``."""
    return np.asarray(_jacobian_function()(*state, a, lr, beta1, beta2, eps), dtype=float)


def cycle_spectral_radius(a=1.0, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8) -> float:
    """Largest |eigenvalue| of F∘F at the corrected 2-cycle: < 1 stable, > 1 unstable."""
    p = two_cycle_state(a, lr, beta1, eps)
    return float(np.abs(np.linalg.eigvals(two_step_jacobian(p, a, lr, beta1, beta2, eps))).max())


def square_wave_cycles(beta1=0.9, lr=1e-3, max_half=16) -> list[dict]:
    r"""Periodic orbits of long-run Adam on :math:`|w|` whose gradient signs are a square wave.

    On :math:`a|w|` the bias-corrected second moment is exactly :math:`a^2`, so
    :math:`w_t = w_{t-1} - \eta\,\hat m_t/a` with :math:`m` a moving average of
    signs.  For the pattern of :math:`p` plus signs then :math:`p` minus signs
    the steady momentum is periodic with zero mean, hence so is :math:`w` up to a
    constant :math:`c`.  The orbit exists iff some :math:`c` makes every sign
    consistent: ``width`` (the length of the interval of valid :math:`c`) > 0.

    Returns one dict per half-period p: ``period`` (2p), ``width``, ``amplitude``.
    """
    b1 = scalar_beta("beta1", beta1)
    out = []
    for p in range(1, check_int("max_half", max_half, 1) + 1):
        N = 2 * p
        s = np.r_[np.ones(p), -np.ones(p)]
        # steady state of m_j = b1 m_{j-1} + (1-b1) s_j over one period, in closed form
        m = np.array([(1 - b1) * sum(b1**i * s[(j - i) % N] for i in range(N)) / (1 - b1**N) for j in range(N)])
        x = -lr * np.cumsum(m)          # w_j - c, for j = 0..N-1 (w_j after the step using s_j)
        prev = np.roll(x, 1)            # w_{j-1} - c, whose sign must be s_j
        width = (-np.max(prev[s < 0])) - (-np.min(prev[s > 0]))
        out.append(dict(period=N, width=float(width), amplitude=float((x.max() - x.min()) / 2)))
    return out

