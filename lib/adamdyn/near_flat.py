r"""Adam on a *near*-flat plateau: a slope of 1 that gives way to a tiny slope :math:`s` (Kaiser's section 4).

Propositions 1 and 2 concern an exactly flat region, where the gradient is 0 and Adam only coasts on its
decaying first moment.  A region that is flat to the eye usually still has a tiny slope :math:`s`.  There the
gradient Adam sees is :math:`-s` at every step, so :math:`\hat m \to -s` within a few :math:`1/(1-\beta_1)`
steps, while :math:`v` forgets the steep approach only at the rate :math:`\beta_2`.  With
:math:`v_0` the second moment at the edge (1 minus :math:`\beta_2^K` after :math:`K` unit gradients) and
bias correction negligible, :math:`k` steps past the edge the step per :math:`\eta` is about

.. math:: \frac{s}{\sqrt{\beta_2^k v_0 + s^2} + \epsilon}\ \longrightarrow\ \frac{s}{s + \epsilon}.

It reaches half its final value after

.. math:: k_{1/2} = \frac{\log\big(((2s+\epsilon)^2 - s^2)/v_0\big)}{\log\beta_2}
          \;\approx\; \frac{\log(3 s^2/v_0)}{\log \beta_2}\quad(\epsilon \ll s)

steps (derived by :func:`half_recovery_steps_expr`).  So Adam's step recovers to order :math:`\eta` while SGD
moves :math:`\eta s` per step, unless :math:`s \lesssim \epsilon`, where :math:`\epsilon` caps it at
:math:`\eta s/(s+\epsilon)`.  This is the normalisation by :math:`\sqrt v`, not the momentum: RMSProp recovers
in the same way.

:func:`near_flat_steps` runs the library's optimizers down the slope and on along the tiny slope.

References
----------
A. Kaiser, "Exploring the dynamics of Adam", section 4.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from . import landscapes as _L
from . import optimizers as _opt
from .memo import memoised
from .symbols import beta2, eps
from .validation import (
    check_instance,
    check_int,
    check_positive,
    check_scalar,
    real_array,
    scalar_beta,
    scalar_nonnegative,
    scalar_positive,
)

__all__ = ["s", "k", "v0", "eps", "half_recovery_steps_expr", "half_recovery_steps", "final_step",
           "edge_steps", "near_flat_steps", "recovery_steps", "near_flat_check"]

s = sp.Symbol("s", positive=True)
k = sp.Symbol("k", positive=True)
v0 = sp.Symbol("v_0", positive=True)


@lru_cache(maxsize=None)
def half_recovery_steps_expr():
    r"""Solve :math:`s/(\sqrt{\beta_2^k v_0 + s^2} + \epsilon) = \tfrac12\, s/(s+\epsilon)` for :math:`k` (sympy)."""
    step = s / (sp.sqrt(beta2**k * v0 + s**2) + eps)
    sols = sp.solve(sp.Eq(step, s / (2 * (s + eps))), k)
    if len(sols) != 1:
        raise RuntimeError(f"expected one solution, got {sols}")
    return sp.simplify(sols[0])


def half_recovery_steps(slope, eps_=1e-8, beta2_=0.999, v0_=1.0):
    """Numeric :func:`half_recovery_steps_expr` (broadcast over ``slope`` > 0; ``eps_ >= 0``,
    ``beta2_`` in (0, 1), ``v0_ > 0``)."""
    sl = _slopes("slope", slope)
    eps_ = scalar_nonnegative("eps_", eps_)
    beta2_ = check_scalar("beta2_", beta2_, 0.0, 1.0, low_open=True, high_open=True)
    v0_ = scalar_positive("v0_", v0_)
    f = sp.lambdify((s, eps, beta2, v0), half_recovery_steps_expr(), "numpy")
    return f(sl, eps_, beta2_, v0_)


def _slopes(name, value):
    """Slopes: finite numbers > 0, any shape (the shape is kept)."""
    sl = real_array(name, value)
    check_positive(name, sl.ravel())
    return sl


def final_step(slope, eps_=1e-8):
    r"""The step per :math:`\eta` long after the edge: :math:`s/(s+\epsilon)` (slope > 0, ``eps_ >= 0``)."""
    sl = _slopes("slope", slope)
    return sl / (sl + scalar_nonnegative("eps_", eps_))


def edge_steps(optimizer, approach=1.0005):
    """How many slope steps ``optimizer`` (one run) takes on :func:`adamdyn.landscapes.plateau` (slope 1)
    from ``-approach`` before its iterate passes the edge at 0 (the library's compiled kernel)."""
    check_instance("optimizer", optimizer, _opt.Optimizer)
    approach = scalar_positive("approach", approach)
    n = int(3 * approach / float(optimizer.lr[0])) + 10
    tr = _opt.run(optimizer, _L.plateau(0.0, 1.0, 1.0), x0=[-float(approach)], steps=n)
    past = np.flatnonzero(tr.path[:, 0, 0] >= 0.0)
    if past.size == 0:
        raise RuntimeError("the run did not reach the edge")
    return int(past[0])


def near_flat_steps(optimizer, slopes, approach=1.0005, flat_steps=60_000, travel_bound=None):
    r"""Steps per learning rate of one optimizer past the edge of the near-flat plateau, one coordinate per slope.

    The run goes down the slope of :func:`adamdyn.landscapes.plateau` until it passes the edge (``K`` steps),
    then continues from that state on :func:`adamdyn.landscapes.weighted_abs` with coefficients :math:`s_i`,
    whose gradient is :math:`-s_i` on :math:`w < 0`.  The update rule depends on the iterate only through the
    gradient, so the iterate is moved to :math:`-\text{travel\_bound}_i` first (the run must stay where
    :math:`w < 0`; a small offset keeps the recorded positions precise).  Returns ``(K, steps)`` with
    ``steps`` of shape ``(flat_steps, len(slopes))``, positive towards :math:`+w`.
    """
    check_instance("optimizer", optimizer, _opt.Optimizer)
    sl = np.atleast_1d(_slopes("slopes", slopes))
    if sl.ndim != 1:
        raise ValueError(f"slopes must be a scalar or a 1-D array, got shape {sl.shape}")
    S = check_int("flat_steps", flat_steps, 1)
    if travel_bound is not None and np.size(_slopes("travel_bound", travel_bound)) != sl.size:
        raise ValueError(f"travel_bound must hold one value > 0 per slope ({sl.size}), got {travel_bound!r}")
    lr = float(optimizer.lr[0])
    K = edge_steps(optimizer, approach)
    edge = _opt.run(optimizer, _L.plateau(0.0, 1.0, 1.0), x0=np.full(sl.size, -float(approach)), steps=K).state
    bound = np.full(sl.size, 10.0 * lr * S) if travel_bound is None else np.asarray(travel_bound, float)
    start = _opt.State(-bound[None, :].copy(), edge.m, edge.v, edge.t, edge.pow1, edge.pow2)
    tr = _opt.run(optimizer, _L.weighted_abs(sl), x0=None, steps=S, state=start)
    if np.any(tr.path[:, 0, :] >= 0):
        raise RuntimeError("travel_bound too small: the run reached w = 0")
    return K, np.diff(tr.path[:, 0, :], axis=0) / lr


def recovery_steps(steps_per_eta, target):
    """Per coordinate: the first step (1-based) past the edge at which the step, after first falling below
    ``target``, climbs back to it; -1 where it never does."""
    x = real_array("steps_per_eta", steps_per_eta)
    if x.ndim != 2:
        raise ValueError(f"steps_per_eta must have shape (steps, coordinates), got {x.shape}")
    tgt = real_array("target", target)
    if not np.all(np.isfinite(tgt)) or tgt.ndim > 1 or tgt.size not in (1, x.shape[1]):
        raise ValueError(f"target must be finite, one value or one per coordinate ({x.shape[1]}), got {target!r}")
    tgt = np.broadcast_to(tgt, x.shape[1:])
    out = np.full(x.shape[1], -1)
    for i in range(x.shape[1]):
        below = np.flatnonzero(x[:, i] < tgt[i])
        if below.size:
            back = np.flatnonzero(x[below[0]:, i] >= tgt[i])
            if back.size:
                out[i] = below[0] + back[0] + 1
    return out


SLOPES = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-11, 1e-12)  # the chapter's scan


@memoised
def near_flat_check(slopes=SLOPES, flat_steps=60_000, approach=1.0005, lr=1e-3, beta1_=0.9,
                    beta2_=0.999, eps_=1e-8):
    r"""The flat chapter's near-flat run: Adam, RMSProp (the same :math:`\beta_2`) and SGD past the edge.

    Returns a dict: ``slopes``; per optimizer (``"Adam"``, ``"RMSProp"``, ``"SGD"``) the slope steps ``K``,
    the steps per :math:`\eta` past the edge (``steps``, shape ``(flat_steps, len(slopes))``) and the distance
    per :math:`\eta` (``distance``); Adam's measured half-recovery step ``half`` beside
    :func:`half_recovery_steps` with :math:`v_0 = 1-\beta_2^K` (``half_pred``); Adam's last step ``final``
    beside :func:`final_step` (``final_pred``).
    """
    sl = _slopes("slopes", slopes)
    flat_steps = check_int("flat_steps", flat_steps, 1)
    approach, lr = scalar_positive("approach", approach), scalar_positive("lr", lr)
    beta1_, beta2_ = scalar_beta("beta1_", beta1_), check_scalar("beta2_", beta2_, 0.0, 1.0, low_open=True,
                                                                 high_open=True)
    eps_ = scalar_nonnegative("eps_", eps_)
    opts = {"Adam": _opt.adam(lr=lr, beta1=beta1_, beta2=beta2_, eps=eps_),
            "RMSProp": _opt.rmsprop(lr=lr, beta2=beta2_, eps=eps_), "SGD": _opt.sgd(lr=lr)}
    out = {"slopes": sl}
    for name, opt in opts.items():
        bound = 2.0 * lr * sl * flat_steps + 1e-3 * lr if name == "SGD" else None
        K, st = near_flat_steps(opt, sl, approach, flat_steps, bound)
        out[name] = {"K": K, "steps": st, "distance": st.sum(axis=0)}
    adam = out["Adam"]["steps"]
    final_pred = final_step(sl, eps_)
    out.update(half=recovery_steps(adam, final_pred / 2),
               half_pred=half_recovery_steps(sl, eps_, beta2_, 1 - beta2_ ** out["Adam"]["K"]),
               final=adam[-1], final_pred=final_pred)
    return out
