r"""Floating-point effects in the valley runs: underflow to zero and subnormal numbers (Kaiser, section 6).

Long runs on :math:`x^2 + 10^{-3}y^2` drive the fast coordinate to magnitudes far
below :math:`10^{-300}`.  There float64 stops being a model of the reals: the
iterate passes through subnormal numbers (non-zero, below the smallest normal
:math:`2^{-1022}`), which are slow on most CPUs, and then rounds to exactly zero,
where every optimizer here stays for good.  This module measures both effects (their cost in
time is measured by ``benchmarks/bench_subnormals.py``, since the book's pages carry no timings); the
RMSProp "convergence" of the smooth valley is one of them (:func:`rmsprop_underflow`).

References
----------
A. Kaiser, "Exploring the Dynamics of Adam", section 6.
IEEE 754-2008, subnormal numbers.
"""

from __future__ import annotations

import numpy as np

from . import landscapes as L
from . import optimizers as _opt
from .validation import (
    check_int,
    real_array,
    scalar_beta,
    scalar_nonnegative,
    scalar_positive,
)

__all__ = ["subnormal_count", "sgd_underflow_stall", "rmsprop_underflow"]

_TINY = np.finfo(np.float64).tiny

def rmsprop_underflow(x0=(0.766, 0.904), decay=0.999, lr=1e-3, eps=1e-8, steps=40_000, seed=1e-300):
    r"""Does RMSProp's :math:`w_1` on the smooth valley reach exactly zero before the frozen-:math:`v` threshold?

    For :math:`\beta_1 = 0` on :math:`w^2` the frozen-:math:`v` recursion turns unstable once
    :math:`\sqrt{v} < \eta - \epsilon` (the 2-cycle's gradient).  Returns a dict: ``t_zero`` (first step
    with :math:`w_1 = 0` exactly, -1 none), ``t_threshold`` (first step with :math:`\sqrt{v_t}` below
    the threshold, :math:`v` rebuilt by RMSProp's own recursion from the recorded iterates), and, after
    replacing the zero by ``seed`` at the end and running ``steps`` more steps, ``reseed_peak`` (largest
    :math:`|w_1|`) and ``reseed_zero`` (steps until :math:`w_1` is exactly zero again, -1 none).
    """
    decay, lr, eps = scalar_beta("decay", decay), scalar_positive("lr", lr), scalar_nonnegative("eps", eps)
    seed = scalar_positive("seed", seed)
    o = _opt.rmsprop(lr=lr, beta2=decay, eps=eps)
    land = L.smooth_valley()
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
    a = np.abs(real_array("a", a))
    return int(np.sum((a > 0.0) & (a < _TINY)))


def sgd_underflow_stall(lr=1e-3, a=1.0) -> float:
    r"""Where SGD on :math:`a x^2` stops moving in float64: the largest :math:`x` with
    :math:`\mathrm{fl}(\eta\cdot 2ax) = 0`, i.e. the step rounds to zero.

    Computed from the rounding rule alone (a multiple of the smallest subnormal), not by running SGD.
    """
    eta = scalar_positive("lr", lr)
    a = scalar_positive("a", a)
    if not np.isfinite(0.5 / (eta * 2 * a)):
        raise ValueError(f"lr and a must have a product lr * a >= 1e-300 (else no step rounds to zero below "
                         f"float64's range), got lr={lr!r}, a={a!r}")
    unit = np.float64(2.0**-1074)

    def moves(n):
        return np.float64(eta) * (np.float64(2 * a) * (n * unit)) != 0.0

    # largest integer n with fl(eta * 2a * n * unit) == 0: the product is monotone in n, so
    # bisect (a countdown from the estimate never ends once n exceeds 2^53, where n - 1 and n
    # are the same double)
    lo, hi = 0, int(np.floor(1.0 / (eta * 2 * a))) + 2
    while not moves(hi):  # guard: the estimate must already move
        hi *= 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if moves(mid) else (mid, hi)
    return float(lo * unit)
