r"""Kaiser's valley step counts (section 6) over the settings the paper does not state.

The paper prints four counts: steps to come within :math:`10^{-3}` of the origin for
Adam (3113 smooth, 900 sharp) and RMSProp (1086 smooth, 220 sharp).  It states
neither the start, nor RMSProp's decay, nor whether Adam's bias correction is on,
nor where :math:`\epsilon` sits.  This module counts the steps for every start of a
grid and every *reading* of those choices, and finds the settings at which the most
printed counts come out at once (within a relative tolerance).

Both valleys are separable and every optimizer is coordinate-wise, so a run from
:math:`(x_0, y_0)` is the pair of one-dimensional orbits of :math:`x_0` and
:math:`y_0`; the count is the first :math:`t` with :math:`x_t^2 + y_t^2 \le 10^{-6}`.
It is **not** monotone in the start: where a coordinate bounces across zero with
steps of order :math:`\eta`, the phase of its bounce when the other one arrives
decides the count, and on the sharp valley that phase changes below
:math:`10^{-4}` of the start.

References
----------
A. Kaiser, "Exploring the Dynamics of Adam", section 6.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import landscapes as _L
from . import optimizers as _opt
from .memo import memoised
from .validation import (
    check_beta,
    check_bool,
    check_instance,
    check_int,
    check_points,
    real_array,
    scalar_nonnegative,
    scalar_positive,
)


def _axis_values(name, value):
    """A grid axis: a non-empty 1-D array of finite reals."""
    a = np.atleast_1d(real_array(name, value))
    if a.ndim != 1 or a.size == 0 or not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be a non-empty 1-D array of finite numbers, got {value!r}")
    return a

__all__ = [
    "TOL", "PAPER_COUNTS", "COUNT_KEYS", "ADAM_READINGS", "RMSPROP_DECAYS",
    "arrival_steps", "reading_optimizers", "CountScan", "count_scan", "match_mask", "JointMatch", "joint_match",
]

#: "within 1e-3 of the origin"
TOL = 1e-3
#: The paper's printed step counts.
PAPER_COUNTS = {("smooth", "Adam"): 3113, ("smooth", "RMSProp"): 1086,
                ("sharp", "Adam"): 900, ("sharp", "RMSProp"): 220}
#: The four counts in a fixed order.
COUNT_KEYS = (("smooth", "Adam"), ("smooth", "RMSProp"), ("sharp", "Adam"), ("sharp", "RMSProp"))
#: Readings of Adam: (bias correction, epsilon inside the square root).
ADAM_READINGS = {"bias-corrected": (True, False), "no bias correction": (False, False),
                 "eps inside": (True, True), "no bias correction, eps inside": (False, True)}
#: RMSProp decays: torch's 0.99, Adam's 0.999 (the paper's own beta_2 in Eq. 3), and others.
RMSPROP_DECAYS = (0.9, 0.99, 0.995, 0.999)


def arrival_steps(optimizer, landscape, starts, horizon, chunk=200, tol=TOL) -> np.ndarray:
    """First step within ``tol`` of the origin for every run, -1 if none within ``horizon``.

    Runs the library kernel (:func:`adamdyn.run`) in chunks of ``chunk`` steps and
    continues only the runs that have not arrived, so the cost is about the sum of
    the counts, not ``runs * horizon``.  ``optimizer`` has one run per start, or one
    run for all.
    """
    check_instance("optimizer", optimizer, _opt.Optimizer)
    check_instance("landscape", landscape, _L.Landscape)
    starts = check_points("starts", starts, 2)
    horizon, chunk = check_int("horizon", horizon, 1), check_int("chunk", chunk, 1)
    opt = optimizer if len(optimizer) == starts.shape[0] else optimizer.take(np.zeros(starts.shape[0], int))
    if len(opt) != starts.shape[0]:
        raise ValueError(f"optimizer must have 1 run or one per start ({starts.shape[0]}), got {len(optimizer)}")
    hit = np.full(starts.shape[0], -1, dtype=np.int64)
    idx = np.arange(starts.shape[0])
    kw = dict(target=[0.0, 0.0], tol=scalar_positive("tol", tol))
    n = min(chunk, horizon)
    tr = _opt.run(opt, landscape, starts, n, record_every=n, **kw)
    while True:
        arrived = tr.hit_step >= 0
        hit[idx[arrived]] = tr.hit_step[arrived]
        st = tr.state
        if st.t >= horizon or arrived.all():
            return hit
        keep = ~arrived
        idx = idx[keep]
        n = min(chunk, horizon - st.t)
        rest = _opt.State(st.x[keep], st.m[keep], st.v[keep], st.t, st.pow1[keep], st.pow2[keep])
        tr = _opt.run(opt.take(idx), landscape, None, n, record_every=n, state=rest, **kw)


def reading_optimizers(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, adam_readings=None, rmsprop_decays=RMSPROP_DECAYS):
    """The single-run optimizers of every reading: ``{("Adam", name): opt, ("RMSProp", decay): opt}``."""
    readings = ADAM_READINGS if adam_readings is None else adam_readings
    if not isinstance(readings, dict) or not all(
            isinstance(v, tuple) and len(v) == 2 for v in readings.values()):
        raise ValueError(f"adam_readings must be a dict name -> (bias_correction, eps_inside), got {readings!r}")
    for bc, inside in readings.values():
        check_bool("adam_readings", bc), check_bool("adam_readings", inside)
    out = {}
    for name, (bc, inside) in readings.items():
        out[("Adam", name)] = _opt.adam(lr=lr, beta1=beta1, beta2=beta2, eps=eps, bias_correction=bc, eps_inside=inside)
    for d in check_beta("rmsprop_decays", rmsprop_decays):
        out[("RMSProp", float(d))] = _opt.rmsprop(lr=lr, beta2=float(d), eps=eps)
    return out


@dataclass(frozen=True)
class CountScan:
    """Counts on a grid of starts.

    Attributes
    ----------
    xs, ys : the grid axes (starts are every ``(x, y)``)
    counts : dict ``(valley, optimizer, reading) -> int array (len(ys), len(xs))``, -1 = not within horizon
    horizon : int
    """

    xs: np.ndarray
    ys: np.ndarray
    counts: dict
    horizon: int


def count_scan(landscapes, xs, ys, readings, horizon=8000, chunk=200) -> CountScan:
    """Count the steps from every start of the grid ``xs`` x ``ys`` for every reading and valley.

    Parameters
    ----------
    landscapes : dict ``valley name -> Landscape``
    readings : dict from :func:`reading_optimizers`
    """
    if not isinstance(landscapes, dict) or not landscapes or not all(
            isinstance(v, _L.Landscape) for v in landscapes.values()):
        raise ValueError(f"landscapes must be a non-empty dict name -> Landscape, got {landscapes!r}")
    if not isinstance(readings, dict) or not readings or not all(
            isinstance(v, _opt.Optimizer) for v in readings.values()):
        raise ValueError("readings must be a non-empty dict key -> Optimizer (see reading_optimizers)")
    xs, ys = _axis_values("xs", xs), _axis_values("ys", ys)
    horizon, chunk = check_int("horizon", horizon, 1), check_int("chunk", chunk, 1)
    X, Y = np.meshgrid(xs, ys)
    starts = np.column_stack([X.ravel(), Y.ravel()])
    keys = list(readings)
    # one batched call per valley: every reading's runs advance together
    opt = _opt.combine(*[readings[k].take(np.zeros(len(starts), int)) for k in keys])
    big = np.vstack([starts] * len(keys))
    counts = {}
    for kind, land in landscapes.items():
        h = arrival_steps(opt, land, big, horizon, chunk).reshape(len(keys), *X.shape)
        for j, (name, reading) in enumerate(keys):
            counts[(kind, name, reading)] = h[j]
    return CountScan(xs, ys, counts, horizon)


def match_mask(count, paper, rtol=0.02) -> np.ndarray:
    """Where ``count`` arrived and lies within ``rtol`` (relative) of the paper's number."""
    c = real_array("count", count)
    paper, rtol = scalar_positive("paper", paper), scalar_nonnegative("rtol", rtol)
    return (c > 0) & (np.abs(c - paper) <= rtol * paper)


@dataclass(frozen=True)
class JointMatch:
    """The best joint match of a scan.

    Attributes
    ----------
    best : int
        Most of the four printed counts reproduced at once, over all starts and readings.
    settings : list of (adam_reading, rmsprop_decay, x0, y0, matched keys)
        Every start and reading pair that reaches ``best``.
    table : dict ``(adam_reading, rmsprop_decay) -> (largest number matched, number of starts reaching it)``
    per_count : dict ``(valley, optimizer) -> number of (start, reading) cells matching that count alone``
    """

    best: int
    settings: list
    table: dict
    per_count: dict


def joint_match(scan: CountScan, rtol=0.02) -> JointMatch:
    """Score every start and every (Adam reading, RMSProp decay) pair by the printed counts it reproduces."""
    check_instance("scan", scan, CountScan)
    rtol = scalar_nonnegative("rtol", rtol)
    adam = sorted({r for (_, n, r) in scan.counts if n == "Adam"}, key=str)
    rms = sorted({r for (_, n, r) in scan.counts if n == "RMSProp"})
    masks = {k: match_mask(c, PAPER_COUNTS[(k[0], k[1])], rtol) for k, c in scan.counts.items()}
    per_count = {key: int(sum(m.sum() for k, m in masks.items() if (k[0], k[1]) == key)) for key in COUNT_KEYS}
    table, settings, best = {}, [], -1
    for a in adam:
        for d in rms:
            ms = [masks[(kind, n, a if n == "Adam" else d)] for kind, n in COUNT_KEYS]
            score = np.sum(ms, axis=0)
            top = int(score.max())
            table[(a, d)] = (top, int((score == top).sum()))
            if top > best:
                best, settings = top, []
            if top == best:
                for iy, ix in zip(*np.nonzero(score == top)):
                    hit = tuple(key for key, m in zip(COUNT_KEYS, ms) if m[iy, ix])
                    settings.append((a, d, float(scan.xs[ix]), float(scan.ys[iy]), hit))
    return JointMatch(best, settings, table, per_count)


#: The coarse full scan: starts on [lo, hi]^2 with this spacing.
COARSE = (0.1, 2.0, 0.05)
#: The window scanned at full resolution: the band where bias-corrected Adam's sharp-valley count is
#: 900 (closed form: max(x0, y0) = 0.901), y0 the larger coordinate; ((x lo, x hi, dx), (y lo, y hi, dy)).
WINDOW = ((0.1, 0.92, 0.002), (0.885, 0.915, 0.001))


def _axis(lo, hi, step):
    n = int(round((hi - lo) / step)) + 1
    return np.round(lo + step * np.arange(n), 10)


@dataclass(frozen=True)
class CountStudy:
    """Everything the chapter and the ledger say about the four counts (one computation, two readers).

    Attributes
    ----------
    coarse, window : CountScan
        The full scan over every reading and the window scan at full resolution for the best coarse reading.
    coarse_match, window_match : JointMatch
    reading : (adam_reading, rmsprop_decay) of the best joint match
    start : (x0, y0) of the headline runs: among the best joint matches, the one whose four counts are
        closest to the paper's in the sum of |log(count / paper)|
    start_counts : dict ``(valley, optimizer) -> count`` at that start and reading
    """

    coarse: CountScan
    window: CountScan
    coarse_match: JointMatch
    window_match: JointMatch
    reading: tuple
    start: tuple
    start_counts: dict


@memoised
def count_study(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, coarse=COARSE, window=WINDOW, horizon=8000, rtol=0.02,
                landscapes=None) -> CountStudy:
    """Coarse scan of every reading, then the stated window at full resolution for the best reading pair."""
    from .landscapes import sharp_valley, smooth_valley

    lands = landscapes or {"smooth": smooth_valley(), "sharp": sharp_valley()}
    readings = reading_optimizers(lr, beta1, beta2, eps)
    g = _axis(*coarse)
    cs = count_scan(lands, g, g, readings, horizon)
    cm = joint_match(cs, rtol)
    # the best reading pair of the coarse scan (most counts; then most starts reaching them)
    a, d = max(cm.table, key=lambda k: cm.table[k])
    sub = {("Adam", a): readings[("Adam", a)], ("RMSProp", d): readings[("RMSProp", d)]}
    ws = count_scan(lands, _axis(*window[0]), _axis(*window[1]), sub, horizon)
    wm = joint_match(ws, rtol)
    scan, match = (ws, wm) if wm.best >= cm.best else (cs, cm)

    def counts_at(s):
        ix, iy = int(np.argmin(np.abs(scan.xs - s[2]))), int(np.argmin(np.abs(scan.ys - s[3])))
        return {(k, n): int(scan.counts[(k, n, s[0] if n == "Adam" else s[1])][iy, ix]) for k, n in COUNT_KEYS}

    def misfit(s):
        c = counts_at(s)
        return sum(abs(np.log(max(c[k], 1) / PAPER_COUNTS[k])) for k in COUNT_KEYS)

    best = min(match.settings, key=misfit)
    return CountStudy(cs, ws, cm, wm, (best[0], best[1]), (best[2], best[3]), counts_at(best))
