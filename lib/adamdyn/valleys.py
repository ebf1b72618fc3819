r"""Long runs in the valleys and the gradient flow (Kaiser, section 6: Figures 3-5).

The smooth valley is :math:`f = x^2 + 10^{-3}y^2` and the sharp valley
:math:`f = |x| + 10^{-4}|y|`.  Both are separable, and every optimizer here is
coordinate-wise, so each coordinate evolves on its own: the :math:`x`
dynamics of Adam is a map of :math:`(w, m, v)` in three dimensions.

This module holds the long runs of Figures 3-5 and what is measured on them: the
gradient flow they are compared with, and AdaGrad's arrival in closed form.  The
other topics of the section have their own modules:

* :mod:`adamdyn.valley_counts`: the printed step counts over the unstated settings
  (start, RMSProp's decay, Adam's variant); :func:`headline` runs the chapter's figures
  from their best joint match;
* :mod:`adamdyn.valley_orbits`: periods found in runs, Proposition 4 (corrected) and the
  frozen-:math:`v` edge of stability;
* :mod:`adamdyn.floating_point`: underflow to zero and subnormal numbers in the long runs.

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

from . import landscapes as L
from . import memo
from . import optimizers as _opt
from . import valley_counts as _vc
from .saddle import NAMES, four_optimizers
from .validation import (
    check_beta,
    check_bool,
    check_choice,
    check_instance,
    check_int,
    check_points,
    check_scalar,
    real_array,
    scalar_beta,
    scalar_positive,
)

_KINDS = ("smooth", "sharp")


def _path(name, value):
    """A recorded path of 2-D runs: finite reals of shape (K, runs, 2)."""
    P = real_array(name, value)
    if P.ndim != 3 or P.shape[2] != 2 or P.shape[0] == 0 or P.shape[1] == 0:
        raise ValueError(f"{name} must have shape (K, runs, 2) with K, runs >= 1, got {P.shape}")
    if not np.all(np.isfinite(P)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return P

__all__ = [
    "START", "TOL", "PAPER_COUNTS", "PAPER_PERIODS", "NAMES",
    "valley", "LongRun", "long_runs", "second_moment_along", "marker_points", "headline_optimizers",
    "gradient_flow_symbolic", "gradient_flow_path", "flow_deviation", "flow_distance_at_matched_loss",
    "adagrad_sharp_arrival", "headline", "valley_long_runs",
]

#: Our documented start for both valleys (the paper does not state one).
START = (1.0, 1.0)
#: "within 1e-3 of the origin", and the paper's printed step counts (see :mod:`adamdyn.valley_counts`)
TOL, PAPER_COUNTS = _vc.TOL, _vc.PAPER_COUNTS
#: The paper's printed periods of Adam's long-run oscillation.
PAPER_PERIODS = {"smooth": 2, "sharp": 12}


def valley(kind: str) -> L.Landscape:
    """``"smooth"`` (:math:`x^2 + 10^{-3}y^2`) or ``"sharp"`` (:math:`|x| + 10^{-4}|y|`)."""
    check_choice("kind", kind, _KINDS)
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
    check_instance("landscape", landscape, L.Landscape)
    if optimizer is not None:
        check_instance("optimizer", optimizer, _opt.Optimizer)
    tol = scalar_positive("tol", tol)
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
    check_instance("run", run, LongRun)
    check_instance("landscape", landscape, L.Landscape)
    index = check_int("index", index, 0, len(run.names) - 1)
    if not 0 <= index < len(run.names):
        raise ValueError(f"index must lie in [0, {len(run.names) - 1}], got {index}")
    b2 = scalar_beta("beta2", beta2)
    x = run.tail_path[:, index, :]
    g2 = landscape.grad(x[:-1]) ** 2
    v = np.empty_like(x)
    v[0] = run.tail_state.v[index]
    for t in range(1, x.shape[0]):
        v[t] = b2 * v[t - 1] + (1 - b2) * g2[t - 1]
    return v


def marker_points(run: LongRun, fractions=(0.25, 0.5, 0.75)) -> np.ndarray:
    """Positions at the given fractions of the run (the paper's x-markers), shape (len(fractions), runs, 2)."""
    check_instance("run", run, LongRun)
    fr = np.atleast_1d(real_array("fractions", fractions))
    if fr.ndim != 1 or fr.size == 0 or not np.all((fr >= 0) & (fr <= 1)):
        raise ValueError(f"fractions must be a non-empty 1-D list of numbers in [0, 1], got {fractions!r}")
    idx = [int(np.argmin(np.abs(run.times - f * run.steps))) for f in fractions]
    return run.path[idx]


def headline_optimizers(lr=1e-3, rmsprop_beta2=0.999, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True,
                        eps_inside=False):
    """SGD, AdaGrad, RMSProp and Adam with one learning rate, Adam in the given reading (see :mod:`adamdyn.valley_counts`)."""
    check_beta("rmsprop_beta2", rmsprop_beta2)
    check_bool("bias_correction", bias_correction), check_bool("eps_inside", eps_inside)
    return _opt.combine(_opt.sgd(lr=lr), _opt.adagrad(lr=lr, eps=1e-10), _opt.rmsprop(lr=lr, beta2=rmsprop_beta2, eps=eps),
                        _opt.adam(lr=lr, beta1=beta1, beta2=beta2, eps=eps, bias_correction=bias_correction,
                                  eps_inside=eps_inside))


def valley_long_runs(kind, lr=1e-3, rmsprop_beta2=0.999, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True,
                     eps_inside=False, x0=START, steps=10**6, *, rmsprop_only=False) -> LongRun:
    """:func:`long_runs` of :func:`headline_optimizers` on :func:`valley` ``(kind)``, memoised.

    The valleys chapter and the ledger run the same :math:`10^6`-step runs; with plain numbers
    for arguments the run is stored once (:mod:`adamdyn.memo`) and read by the other.
    ``rmsprop_only=True`` runs RMSProp alone (``lr``, ``rmsprop_beta2``, ``eps``), as the
    chapter's check of Figure 5's transient does.
    """
    check_choice("kind", kind, _KINDS)
    # plain numbers, checked here: they are the memo's key
    points = check_points("x0", x0, 2)
    if points.shape[0] != 1:
        raise ValueError(f"x0 must be one point (x, y), got shape {np.shape(x0)}")
    x0 = tuple(float(v) for v in points[0])
    args = (scalar_positive("lr", lr), scalar_beta("rmsprop_beta2", rmsprop_beta2), scalar_beta("beta1", beta1),
            scalar_beta("beta2", beta2), check_scalar("eps", eps, 0.0), check_bool("bias_correction", bias_correction),
            check_bool("eps_inside", eps_inside), x0, check_int("steps", steps, 1),
            check_bool("rmsprop_only", rmsprop_only))
    return memo.call(_valley_long_runs, kind, *args)


def _valley_long_runs(kind, lr, rmsprop_beta2, beta1, beta2, eps, bias_correction, eps_inside, x0, steps,
                      rmsprop_only):
    if rmsprop_only:
        opt = _opt.rmsprop(lr=lr, beta2=rmsprop_beta2, eps=eps)
    else:
        opt = headline_optimizers(lr, rmsprop_beta2, beta1, beta2, eps, bias_correction=bias_correction,
                                  eps_inside=eps_inside)
    return long_runs(valley(kind), opt, x0, steps)


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
    check_choice("kind", kind, _KINDS)
    x0 = check_points("x0", x0, 2)[0]
    tau_max = check_scalar("tau_max", tau_max, 20.0, low_open=True)
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

    check_choice("kind", kind, _KINDS)
    P = _path("path", path)
    if P.ndim != 3 or P.shape[2] != 2:
        raise ValueError(f"path must have shape (K, runs, 2), got {P.shape}")
    # the sharp flow rests at x = 0 for most of its points: duplicates make the tree slow (about
    # 40x for the diagonal runs) and cannot change a nearest distance, so the tree holds each point once
    tree = cKDTree(np.unique(gradient_flow_path(kind, x0), axis=0))
    return np.array([tree.query(P[:, r, :])[0].max() for r in range(P.shape[1])])


def flow_distance_at_matched_loss(kind: str, path, x0=START, levels=60) -> np.ndarray:
    r"""Mean distance to the gradient flow at matched loss, shape (runs,).

    The loss decreases strictly along the flow, so each loss level :math:`\ell` names one flow point
    :math:`\phi(\ell)`.  For each of ``levels`` levels, geometrically spaced from the loss at the start
    down to the lowest loss that *every* run reaches, take the first recorded iterate of a run with
    :math:`f \le \ell` and its distance to :math:`\phi(\ell)`; return the mean over the levels.  Two
    methods are compared where they have made the same progress, whatever their speed.
    """
    check_choice("kind", kind, _KINDS)
    P = _path("path", path)
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


def adagrad_sharp_arrival(x0, lr=1e-3, tol=TOL, max_steps=10**7) -> int:
    r"""Sharp valley, AdaGrad from ``x0``: the first step within ``tol`` of the origin (partial sums, no run).

    With a constant gradient sign AdaGrad's step in each coordinate is :math:`\eta/\sqrt{t}` (up to
    :math:`\epsilon`), the same in both coordinates, so after :math:`t` steps each has moved
    :math:`S_t = \eta\sum_{k\le t}k^{-1/2}` (about :math:`2\eta\sqrt t`).  A coordinate that has reached
    zero bounces across it with steps :math:`\eta/\sqrt t` (a few :math:`10^{-5}` here, negligible next to
    ``tol``), so the remaining distances are :math:`r_i = \max(|x_{0,i}| - S_t, 0)` and the run arrives at
    the first :math:`t` with :math:`\sqrt{r_1^2 + r_2^2} \le` ``tol``.  With :math:`a \ge b` the larger and
    smaller :math:`|x_{0,i}|` and :math:`d = a - b`, that is :math:`S_t \ge a - u`, where

    .. math::

        u = \text{tol}\ \ (d \ge \text{tol}),\qquad
        u = \tfrac12\bigl(d + \sqrt{2\,\text{tol}^2 - d^2}\bigr)\ \ (d < \text{tol}):

    the nearer coordinate has arrived first, or both are still moving (on the diagonal,
    :math:`u = \text{tol}/\sqrt2`).
    """
    x0 = np.abs(check_points("x0", x0, 2)[0])
    tol = scalar_positive("tol", tol)
    far, d = float(x0.max()), float(x0.max() - x0.min())
    reach = tol if d >= tol else tol / np.sqrt(2.0) if d == 0.0 else (d + np.sqrt(2 * tol**2 - d**2)) / 2
    moved = scalar_positive("lr", lr) * np.cumsum(1.0 / np.sqrt(np.arange(1, check_int("max_steps", max_steps, 1) + 1)))
    idx = int(np.searchsorted(moved, far - reach))
    if idx >= moved.size:
        raise ValueError(f"max_steps must be larger: AdaGrad does not arrive within {max_steps} steps")
    return idx + 1


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
    runs = {k: valley_long_runs(k, rmsprop_beta2=study.reading[1], bias_correction=bc, eps_inside=inside,
                                x0=study.start) for k in ("smooth", "sharp")}
    return study, opt, study.start, runs
