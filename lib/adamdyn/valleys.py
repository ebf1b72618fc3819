r"""Valleys and oscillations (Kaiser, section 6: Figures 3-5 and Proposition 4).

The smooth valley is :math:`f = x^2 + 10^{-3}y^2` and the sharp valley
:math:`f = |x| + 10^{-4}|y|`.  Both are separable, and every optimizer here is
coordinate-wise, so each coordinate evolves on its own: the :math:`x`
dynamics of Adam is a map of :math:`(w, m, v)` in three dimensions.

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
of 2-cycles.  The paper's condition has :math:`C^2+\epsilon` for
:math:`|C|+\epsilon` and the two gradients swapped; for a convex loss it only
admits :math:`C = 0`.

The step counts over the unstated settings (start, RMSProp's decay, Adam's variant) are in
:mod:`adamdyn.valley_counts`; :func:`headline` runs the chapter's figures from their best joint match.
With :math:`v` frozen, the 2-cycle sits exactly at the preconditioned-sharpness limit
:math:`2(1+\beta_1)/((1-\beta_1)\eta)` of Cohen et al. (2022) (:func:`edge_of_stability_symbolic`).

References
----------
A. Kaiser, "Exploring the Dynamics of Adam", section 6.
D. P. Kingma and J. Ba, "Adam", ICLR 2015.
J. M. Cohen et al., "Adaptive gradient methods at the edge of stability", 2022.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp
from scipy.optimize import fsolve

from . import landscapes as L
from . import optimizers as _opt
from . import valley_counts as _vc
from .saddle import NAMES, four_optimizers
from .validation import check_beta, check_int, check_nonnegative, check_points, check_positive

__all__ = [
    "START", "TOL", "PAPER_COUNTS", "PAPER_PERIODS", "NAMES",
    "valley", "LongRun", "long_runs", "second_moment_along", "frozen_v_threshold_symbolic", "edge_of_stability_symbolic", "period_map",
    "marker_points", "headline_optimizers", "flow_distance_at_matched_loss",
    "detect_period", "burst_intervals", "tail_summary",
    "adagrad_diagonal_arrival", "adagrad_sharp_arrival", "headline", "gradient_flow_symbolic", "gradient_flow_path", "flow_deviation",
    "subnormal_count", "sgd_underflow_stall", "subnormal_timing", "rmsprop_underflow",
    "alternating_moments_symbolic", "corrected_condition_quadratic", "paper_condition_quadratic",
    "two_cycle_amplitude", "adam_map", "two_cycle_state", "find_two_cycle", "two_step_jacobian",
    "cycle_spectral_radius", "square_wave_cycles", "claims",
]

#: Our documented start for both valleys (the paper does not state one).
START = (1.0, 1.0)
#: "within 1e-3 of the origin", and the paper's printed step counts (see :mod:`adamdyn.valley_counts`)
TOL, PAPER_COUNTS = _vc.TOL, _vc.PAPER_COUNTS
#: The paper's printed periods of Adam's long-run oscillation.
PAPER_PERIODS = {"smooth": 2, "sharp": 12}

_TINY = np.finfo(np.float64).tiny


def valley(kind: str) -> L.Landscape:
    """``"smooth"`` (:math:`x^2 + 10^{-3}y^2`) or ``"sharp"`` (:math:`|x| + 10^{-4}|y|`)."""
    if kind == "smooth":
        return L.smooth_valley()
    if kind == "sharp":
        return L.sharp_valley()
    raise ValueError(f"kind must be 'smooth' or 'sharp', got {kind!r}")


# ------------------------------------------------------------------- long runs
@dataclass(frozen=True)
class LongRun:
    """A :math:`10^6`-step run of several optimizers, kept at three resolutions.

    Attributes
    ----------
    times, path : coarse record (every ``coarse`` steps, start and end included)
    early_path : every step of the first ``early`` steps, shape (early+1, runs, 2)
    tail_times, tail_path : every step of the last ``tail`` steps
    hit_step : first step within :data:`TOL` of the origin (-1 never)
    tail_state : the :class:`~adamdyn.State` where the tail window starts
    state : final :class:`~adamdyn.State`
    seconds : wall-clock time of the three compiled calls
    """

    names: tuple
    steps: int
    times: np.ndarray
    path: np.ndarray
    early_path: np.ndarray
    tail_times: np.ndarray
    tail_path: np.ndarray
    hit_step: np.ndarray
    tail_state: _opt.State
    state: _opt.State
    seconds: float


def long_runs(landscape, optimizer=None, x0=START, steps=10**6, coarse=1000, early=4000, tail=2**14,
              tol=TOL) -> LongRun:
    """Run all optimizers together for ``steps`` steps, recording coarse, early and tail paths.

    One compiled call per piece; the pieces continue each other's state, so the
    result is the same as one uninterrupted run.
    """
    steps = check_int("steps", steps, 1)
    coarse, early, tail = check_int("coarse", coarse, 1), check_int("early", early, 0), check_int("tail", tail, 0)
    if early + tail > steps:
        raise ValueError(f"early + tail must be <= steps = {steps}, got {early + tail}")
    opt = optimizer if optimizer is not None else four_optimizers()
    kw = dict(target=[0.0, 0.0], tol=tol)
    t0 = time.perf_counter()
    a = _opt.run(opt, landscape, x0, early, record_every=1, **kw)
    b = _opt.run(opt, landscape, None, steps - early - tail, record_every=coarse, state=a.state, **kw)
    c = _opt.run(opt, landscape, None, tail, record_every=1, state=b.state, **kw)
    seconds = time.perf_counter() - t0
    hit = a.hit_step.copy()
    for later in (b, c):
        hit = np.where(hit < 0, later.hit_step, hit)
    times = np.concatenate([a.times, b.times[1:], c.times[1:]])
    path = np.concatenate([a.path, b.path[1:], c.path[1:]])
    keep = (times % coarse == 0) | (times == times[-1])
    return LongRun(opt.names, steps, times[keep], path[keep], a.path, c.times, c.path, hit, b.state, c.state,
                   seconds)


def second_moment_along(run: LongRun, landscape, index: int, beta2: float) -> np.ndarray:
    r"""Second moment :math:`v_t` of run ``index`` (an Adam or RMSProp run with decay ``beta2``) over the tail.

    Rebuilt from the recorded iterates and the state at the window's start with the
    optimizer's own recursion :math:`v_t = \beta_2 v_{t-1} + (1-\beta_2)\,\nabla f(w_{t-1})^2`.
    Returns shape (tail+1, 2); row 0 is the state at the window's start.
    """
    if not 0 <= index < len(run.names):
        raise ValueError(f"index must lie in [0, {len(run.names) - 1}], got {index}")
    b2 = float(check_beta("beta2", beta2)[0])
    x = run.tail_path[:, index, :]
    g2 = landscape.grad(x[:-1]) ** 2
    v = np.empty_like(x)
    v[0] = run.tail_state.v[index]
    for t in range(1, x.shape[0]):
        v[t] = b2 * v[t - 1] + (1 - b2) * g2[t - 1]
    return v


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


def marker_points(run: LongRun, fractions=(0.25, 0.5, 0.75)) -> np.ndarray:
    """Positions at the given fractions of the run (the paper's x-markers), shape (len(fractions), runs, 2)."""
    idx = [int(np.argmin(np.abs(run.times - f * run.steps))) for f in fractions]
    return run.path[idx]


def headline_optimizers(lr=1e-3, rmsprop_beta2=0.999, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True,
                        eps_inside=False):
    """SGD, AdaGrad, RMSProp and Adam with one learning rate, Adam in the given reading (see :mod:`adamdyn.valley_counts`)."""
    return _opt.combine(_opt.sgd(lr=lr), _opt.adagrad(lr=lr, eps=1e-10), _opt.rmsprop(lr=lr, beta2=rmsprop_beta2, eps=eps),
                        _opt.adam(lr=lr, beta1=beta1, beta2=beta2, eps=eps, bias_correction=bias_correction,
                                  eps_inside=eps_inside))


# --------------------------------------------------------------- gradient flow
def gradient_flow_symbolic():
    r"""Sympy: the gradient flow :math:`\dot w = -\nabla f(w)` of :math:`a x^2 + b y^2` from :math:`(x_0, y_0)`.

    Returns the two solutions ``(x(tau), y(tau))`` from ``dsolve``.
    """
    tau = sp.Symbol("tau", nonnegative=True)
    a, b, x0, y0 = sp.symbols("a b x_0 y_0", positive=True)
    x, y = sp.Function("x"), sp.Function("y")
    sx = sp.dsolve(sp.Eq(x(tau).diff(tau), -2 * a * x(tau)), x(tau), ics={x(0): x0})
    sy = sp.dsolve(sp.Eq(y(tau).diff(tau), -2 * b * y(tau)), y(tau), ics={y(0): y0})
    return sx, sy


def gradient_flow_path(kind: str, x0=START, tau_max=2e4) -> np.ndarray:
    r"""Points of the gradient-flow path from ``x0``, dense enough to measure distances.

    Smooth valley: :math:`(x_0 e^{-2\tau}, y_0 e^{-2\cdot 10^{-3}\tau})`.  Sharp valley: both
    coordinates move at their constant slopes (1 and :math:`10^{-4}`) until :math:`x = 0`, then the
    flow slides down the kink :math:`x = 0` (Filippov sliding mode).
    """
    x0 = check_points("x0", x0, 2)[0]
    sign, x0 = np.where(x0 < 0, -1.0, 1.0), np.abs(x0)  # both valleys are symmetric in each coordinate
    tau = np.concatenate([np.linspace(0.0, 20.0, 20_001), np.linspace(20.0, float(tau_max), 40_001)[1:]])
    if kind == "smooth":
        return sign * np.column_stack([x0[0] * np.exp(-2 * tau), x0[1] * np.exp(-2e-3 * tau)])
    if kind == "sharp":
        return sign * np.column_stack([np.maximum(x0[0] - tau, 0.0), np.maximum(x0[1] - 1e-4 * tau, 0.0)])
    raise ValueError(f"kind must be 'smooth' or 'sharp', got {kind!r}")


def flow_deviation(kind: str, path, x0=START) -> np.ndarray:
    """Largest distance from each run's recorded points to the gradient-flow path, shape (runs,).

    This metric saturates: every method that takes a diagonal reaches the same largest distance,
    so it cannot rank them (use :func:`flow_distance_at_matched_loss`).
    """
    from scipy.spatial import cKDTree

    P = np.asarray(path, float)
    if P.ndim != 3 or P.shape[2] != 2:
        raise ValueError(f"path must have shape (K, runs, 2), got {P.shape}")
    tree = cKDTree(gradient_flow_path(kind, x0))
    return np.array([tree.query(P[:, r, :])[0].max() for r in range(P.shape[1])])


def flow_distance_at_matched_loss(kind: str, path, x0=START, levels=60) -> np.ndarray:
    r"""Mean distance to the gradient flow at matched loss, shape (runs,).

    The loss decreases strictly along the flow, so each loss level :math:`\ell` names one flow point
    :math:`\phi(\ell)`.  For each of ``levels`` levels, geometrically spaced from the loss at the start
    down to the lowest loss that *every* run reaches, take the first recorded iterate of a run with
    :math:`f \le \ell` and its distance to :math:`\phi(\ell)`; return the mean over the levels.  Two
    methods are compared where they have made the same progress, whatever their speed.
    """
    P = np.asarray(path, float)
    if P.ndim != 3 or P.shape[2] != 2:
        raise ValueError(f"path must have shape (K, runs, 2), got {P.shape}")
    levels = check_int("levels", levels, 2)
    land = valley(kind)
    flow = gradient_flow_path(kind, x0)
    f_flow = land.value(flow)
    f_run = land.value(P)                                 # (K, runs)
    top = float(land.value(np.asarray(x0, float)[None])[0])
    bottom = max(float(np.min(f_run, axis=0).max()), float(f_flow.min()), 1e-300)
    ell = np.geomspace(top, bottom, levels)[1:]
    # the flow's loss is non-increasing: the first flow point at or below each level
    i_flow = np.searchsorted(-f_flow, -ell, side="left")
    i_flow = np.minimum(i_flow, flow.shape[0] - 1)
    out = np.empty(P.shape[1])
    for r in range(P.shape[1]):
        below = f_run[:, r][:, None] <= ell[None, :]
        first = np.argmax(below, axis=0)
        out[r] = np.mean(np.linalg.norm(P[first, r, :] - flow[i_flow], axis=1))
    return out


def adagrad_diagonal_arrival(s=1.0, lr=1e-3, tol=TOL, max_steps=10**7) -> int:
    r"""Sharp valley, AdaGrad from :math:`(s, s)`: the step at which it comes within ``tol`` of the origin.

    With a constant gradient sign AdaGrad's step in each coordinate is :math:`\eta/\sqrt{t}`
    (up to :math:`\epsilon`), the same in both coordinates, so after :math:`t` steps each has moved
    :math:`\eta\sum_{k\le t}k^{-1/2}` (about :math:`2\eta\sqrt t`).  It arrives when the common
    remaining distance :math:`r` satisfies :math:`\sqrt2\,r \le` ``tol``.  Exact partial sums, no simulation.
    """
    s = float(check_positive("s", s)[0])
    need = s - float(check_positive("tol", tol)[0]) / np.sqrt(2.0)
    moved = float(check_positive("lr", lr)[0]) * np.cumsum(1.0 / np.sqrt(np.arange(1, check_int("max_steps", max_steps, 1) + 1)))
    idx = int(np.searchsorted(moved, need))
    if idx >= moved.size:
        raise ValueError(f"max_steps must be larger: AdaGrad does not arrive within {max_steps} steps")
    return idx + 1


def adagrad_sharp_arrival(x0, lr=1e-3, tol=TOL, max_steps=10**7) -> int:
    r"""Sharp valley, AdaGrad from ``x0``: the step at which the farther coordinate has come within ``tol``.

    Each coordinate moves :math:`\eta\sum_{k\le t}k^{-1/2}` while its sign is fixed, and afterwards
    bounces across zero with steps :math:`\eta/\sqrt t` (a few :math:`10^{-5}` here, negligible next to
    ``tol``).  For a start off the diagonal the arrival is therefore the first :math:`t` at which the
    partial sum reaches :math:`\max(|x_0|, |y_0|) - ` ``tol``, up to a step or two.  Partial sums only.
    """
    x0 = check_points("x0", x0, 2)[0]
    need = float(np.max(np.abs(x0))) - float(check_positive("tol", tol)[0])
    moved = float(check_positive("lr", lr)[0]) * np.cumsum(1.0 / np.sqrt(np.arange(1, check_int("max_steps", max_steps, 1) + 1)))
    idx = int(np.searchsorted(moved, need))
    if idx >= moved.size:
        raise ValueError(f"max_steps must be larger: AdaGrad does not arrive within {max_steps} steps")
    return idx + 1


# ------------------------------------------------------------------ period map
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


# ------------------------------------------------------------- long-run shape
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


def rmsprop_underflow(x0=(0.766, 0.904), decay=0.999, lr=1e-3, eps=1e-8, steps=40_000, seed=1e-300):
    r"""Does RMSProp's :math:`w_1` on the smooth valley reach exactly zero before the frozen-:math:`v` threshold?

    For :math:`\beta_1 = 0` on :math:`w^2` the frozen-:math:`v` recursion turns unstable once
    :math:`\sqrt{v} < \eta - \epsilon` (the 2-cycle's gradient).  Returns a dict: ``t_zero`` (first step
    with :math:`w_1 = 0` exactly, -1 none), ``t_threshold`` (first step with :math:`\sqrt{v_t}` below
    the threshold, :math:`v` rebuilt by RMSProp's own recursion from the recorded iterates), and, after
    replacing the zero by ``seed`` at the end and running ``steps`` more steps, ``reseed_peak`` (largest
    :math:`|w_1|`) and ``reseed_zero`` (steps until :math:`w_1` is exactly zero again, -1 none).
    """
    o = _opt.rmsprop(lr=lr, beta2=decay, eps=eps)
    land = valley("smooth")
    tr = _opt.run(o, land, x0, check_int("steps", steps, 1), record_every=1)
    w1 = tr.path[:, 0, 0]
    v = np.zeros(w1.size)
    for t in range(1, w1.size):
        v[t] = decay * v[t - 1] + (1 - decay) * (2 * w1[t - 1]) ** 2
    below = (np.arange(w1.size) > 0) & (np.sqrt(v) < lr - eps)
    st = _opt.State(tr.state.x.copy(), tr.state.m.copy(), tr.state.v.copy(), tr.state.t)
    st.x[0, 0] = seed if st.x[0, 0] == 0.0 else st.x[0, 0]
    re = _opt.run(o, land, None, steps, record_every=1, state=st)
    z = re.path[1:, 0, 0] == 0.0
    return dict(t_zero=int(np.argmax(w1 == 0.0)) if np.any(w1 == 0.0) else -1,
                t_threshold=int(np.argmax(below)) if below.any() else -1,
                reseed_peak=float(np.abs(re.path[:, 0, 0]).max()),
                reseed_zero=int(np.argmax(z)) + 1 if z.any() else -1)


# ------------------------------------------------------------------ subnormals
def subnormal_count(a) -> int:
    """Number of subnormal entries: non-zero with magnitude below the smallest normal float64."""
    a = np.abs(np.asarray(a, float))
    return int(np.sum((a > 0.0) & (a < _TINY)))


def sgd_underflow_stall(lr=1e-3, a=1.0) -> float:
    r"""Where SGD on :math:`a x^2` stops moving in float64: the largest :math:`x` with
    :math:`\mathrm{fl}(\eta\cdot 2ax) = 0`, i.e. the step rounds to zero.

    Computed from the rounding rule alone (a multiple of the smallest subnormal), not by running SGD.
    """
    eta = float(check_positive("lr", lr)[0])
    unit = np.float64(2.0**-1074)
    # largest integer n with fl(eta * 2a * n * unit) == 0; the product is monotone in n
    n = int(np.floor(0.5 / (eta * 2 * a))) + 2
    while n > 0 and np.float64(eta) * (np.float64(2 * a) * (n * unit)) != 0.0:
        n -= 1
    return float(n * unit)


def subnormal_timing(steps=10**6, repeats=3, lr=1e-3):
    """Best-of-``repeats`` seconds for SGD on the smooth valley from (1, 1) (x underflows) and from (0, 1) (x stays 0).

    The y coordinate is identical in both runs, so the difference is the cost of subnormal arithmetic.
    """
    land, o = L.smooth_valley(), _opt.sgd(lr=lr)
    _opt.run(o, land, [1.0, 1.0], 10)  # compile outside the timing
    out = []
    for x0 in ([1.0, 1.0], [0.0, 1.0]):
        best = np.inf
        for _ in range(check_int("repeats", repeats, 1)):
            t0 = time.perf_counter()
            _opt.run(o, land, x0, steps, record_every=steps)
            best = min(best, time.perf_counter() - t0)
        out.append(best)
    return tuple(out)


# ------------------------------------------------------------- Proposition 4
_b1, _b2, _eta, _eps, _a = sp.symbols("beta_1 beta_2 eta epsilon a", positive=True)
_C, _w = sp.symbols("C w", positive=True)
_i = sp.symbols("i", integer=True, nonnegative=True)


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


def paper_condition_quadratic(denominator="paper"):
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
    b1 = float(check_beta("beta1", beta1)[0])
    check_positive("a", a)
    w = lr * (1 - b1) / (1 + b1) / 2 - eps / (2 * a)
    return w if w > 0 else float("nan")


def adam_map(state, a=1.0, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One long-run Adam step (no bias correction) of one coordinate on :math:`a w^2`: (w, m, v) -> (w', m', v')."""
    w, m, v = state
    g = 2 * a * w
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    return np.array([w - lr * m / (np.sqrt(v) + eps), m, v])


def two_cycle_state(a=1.0, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """The state (w, m, v) of the corrected 2-cycle just before the step taken at +w* (closed form)."""
    w = two_cycle_amplitude(a, lr, beta1, eps)
    C = 2 * a * w
    return np.array([w, -C * (1 - beta1) / (1 + beta1), C * C])


def find_two_cycle(a=1.0, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, guess_factor=1.3):
    """Solve F(F(p)) = p numerically (scipy ``fsolve``) from a guess off the closed form; returns p.

    The unknowns are scaled to order one so that the solver's tolerance is relative.
    """
    p0 = two_cycle_state(a, lr, beta1, beta2, eps)
    scale = np.abs(p0)
    kw = dict(a=a, lr=lr, beta1=beta1, beta2=beta2, eps=eps)

    def resid(z):
        p = z * scale
        return (adam_map(adam_map(p, **kw), **kw) - p) / scale

    guess = np.array([guess_factor, 1 / guess_factor, guess_factor**2])
    z, info, ier, msg = fsolve(resid, guess, full_output=True, xtol=1e-13)
    if ier != 1:
        raise RuntimeError(f"fsolve did not converge: {msg}")
    return z * scale


@lru_cache(maxsize=1)
def _jacobian_function():
    w, m, v = sp.symbols("w m v", real=True)
    a, lr, b1, b2, eps = sp.symbols("a eta beta_1 beta_2 epsilon", positive=True)

    def F(s):
        w_, m_, v_ = s
        g = 2 * a * w_
        mn = b1 * m_ + (1 - b1) * g
        vn = b2 * v_ + (1 - b2) * g**2
        return sp.Matrix([w_ - lr * mn / (sp.sqrt(vn) + eps), mn, vn])

    FF = F(F(sp.Matrix([w, m, v])))
    J = FF.jacobian([w, m, v])
    return sp.lambdify((w, m, v, a, lr, b1, b2, eps), J, "numpy")


def two_step_jacobian(state, a=1.0, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8) -> np.ndarray:
    """Exact (sympy-differentiated) Jacobian of the two-step map F∘F at ``state``."""
    return np.asarray(_jacobian_function()(*state, a, lr, beta1, beta2, eps), dtype=float)


def cycle_spectral_radius(a=1.0, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8) -> float:
    """Largest |eigenvalue| of F∘F at the corrected 2-cycle: < 1 stable, > 1 unstable."""
    p = two_cycle_state(a, lr, beta1, beta2, eps)
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
    b1 = float(check_beta("beta1", beta1)[0])
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


# --------------------------------------------------------------------- ledger
@lru_cache(maxsize=1)
def headline():
    """The chapter's headline setting and runs, computed once: ``(study, optimizer, start, runs by valley)``.

    The start and reading are the best joint match of :func:`adamdyn.valley_counts.count_study`
    (the chapter's defaults); the runs are the :math:`10^6`-step :func:`long_runs` from there.
    """
    study = _vc.count_study()
    bc, inside = _vc.ADAM_READINGS[study.reading[0]]
    opt = headline_optimizers(rmsprop_beta2=study.reading[1], bias_correction=bc, eps_inside=inside)
    runs = {k: long_runs(valley(k), opt, study.start) for k in ("smooth", "sharp")}
    return study, opt, study.start, runs


@lru_cache(maxsize=1)
def _measured():
    study, opt, start, runs = headline()
    res = {"study": study, "start": start}
    for kind, run in runs.items():
        res[kind] = dict(hits=dict(zip(run.names, run.hit_step.tolist())),
                         tails={n: tail_summary(run.tail_path[:, i, 0]) for i, n in enumerate(run.names)},
                         final=run.state.x.copy(),
                         flow_dev=dict(zip(run.names, flow_distance_at_matched_loss(
                             kind, np.concatenate([run.early_path, run.path]), start).tolist())))
    res["adagrad_from_11"] = adagrad_diagonal_arrival(START[1])
    alt = long_runs(valley("smooth"), _opt.rmsprop(lr=1e-3, beta2=0.99), START, 10**6)
    res["rms_alt"] = tail_summary(alt.tail_path[:, 0, 0])
    res["rms_underflow"] = rmsprop_underflow(start, study.reading[1])
    return res
