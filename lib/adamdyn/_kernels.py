r"""Compiled drivers of the update rule (private; :func:`adamdyn.run` is the public entry).

Every driver composes the pieces of :mod:`adamdyn.update_rule` and nothing
else, in the same order, so that all of them give the same bits:

- :func:`sweep`: many runs on a built-in landscape.  Blocked: the runs are cut
  into blocks of about ``BLOCK_COORDINATES`` coordinates, a block's state is
  held transposed (coordinate-major, so that the inner loop runs over runs
  with unit stride and vectorizes), steps are the outer loop and the block the
  inner one; blocks run in parallel on numba's thread count (Python threads, the
  compiled code releasing the GIL).
- :func:`trajectory`: a few runs, one after another (steps inner); the
  fastest layout for a single long trajectory.
- :func:`user_step`: one step of all runs given their gradients, for
  landscapes whose gradient is a Python function.
- :func:`gradient_updates`: the updates produced by a given gradient history.
- :func:`bare_adam_sweep`: Adam alone, blocked and parallel, without
  diagnostics; only the benchmark uses it, to show how close :func:`sweep`
  runs to the arithmetic's limit.

The diagnostics of :func:`sweep`, :func:`trajectory` and :func:`user_step`
are the same: a run whose new parameters or moments leave
``[-limit, limit]`` (or are not finite) is frozen at its last finite state and
its step is stored in ``marks[DIVERGED_AT]``; ``marks[HIT]`` and
``marks[EXIT]`` record the first step within ``tol`` of ``target`` and
farther than ``radius`` from ``center`` (``watch`` holds the switches and
radii at the indices ``HAS_TARGET``, ``TOL``, ``HAS_CENTER``, ``RADIUS``).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numba import types
from numba.extending import overload

from .update_rule import (
    ADAPTIVE, B1, B2, BIAS1, BIAS2, C1, C2, EPS, EPS_INSIDE, LR, WD,
    advance_power, bias_denominator, coordinate_update, debias, decayed_step, denominator, direction,
    first_moment, second_moment,
)

#: Indices of the ``watch`` array.
HAS_TARGET, TOL, HAS_CENTER, RADIUS = range(4)
#: Rows of the ``marks`` array (int64, -1 where the event did not happen).
HIT, EXIT, DIVERGED_AT = range(3)
#: Coordinates per block of :func:`sweep`: the block's state (about eight
#: arrays of this many float64) stays in the L1/L2 cache.
BLOCK_COORDINATES = 512


# ---------------------------------------------------------------- gradients of the built-in landscapes

@numba.njit(cache=True, error_model="numpy")
def _gradient(kind, p, x, g):
    """Gradient of built-in landscape ``kind`` (see adamdyn.landscapes) at one point ``x``."""
    D = x.shape[0]
    if kind == 0:
        for i in range(D):
            g[i] = 2.0 * p[i] * x[i]
    elif kind == 1:
        for i in range(D):
            xi = x[i]
            g[i] = p[i] if xi > 0.0 else (-p[i] if xi < 0.0 else 0.0)
    elif kind == 2:
        e, c, pw = p[0], p[1], p[2]
        for i in range(D):
            d = e - x[i]
            if d > 0.0:
                g[i] = -c if pw == 1.0 else -c * d ** (pw - 1.0)
            else:
                g[i] = 0.0
    else:
        # cubes as products (numba's integer power); NumPy's ``** 3`` in landscapes.quartic().grad calls pow
        u = 4.0 * (x[0] + x[1]) ** 3
        w = 2.0 * (0.5 * x[0] - 0.5 * x[1]) ** 3
        g[0] = u + w
        g[1] = u - w


@numba.njit(cache=True, error_model="numpy")
def _gradient_block(kind, p, X, G):
    """The same gradients for a block held coordinate-major, ``X[i, b]`` (runs inner)."""
    D, B = X.shape
    if kind == 0:
        for i in range(D):
            a = 2.0 * p[i]
            for b in range(B):
                G[i, b] = a * X[i, b]
    elif kind == 1:
        for i in range(D):
            pi = p[i]
            for b in range(B):
                xi = X[i, b]
                G[i, b] = pi if xi > 0.0 else (-pi if xi < 0.0 else 0.0)
    elif kind == 2:
        e, c, pw = p[0], p[1], p[2]
        for i in range(D):
            for b in range(B):
                d = e - X[i, b]
                if d > 0.0:
                    G[i, b] = -c if pw == 1.0 else -c * d ** (pw - 1.0)
                else:
                    G[i, b] = 0.0
    else:
        for b in range(B):
            u = 4.0 * (X[0, b] + X[1, b]) ** 3
            w = 2.0 * (0.5 * X[0, b] - 0.5 * X[1, b]) ** 3
            G[0, b] = u + w
            G[1, b] = u - w


# ---------------------------------------------------------------- one run, one step (trajectory, user_step)

@numba.njit(cache=True, error_model="numpy")
def _step_one(h, x, m, v, g, pw, t, target, center, watch, mark, limit, xn, mn, vn):
    """Advance one live run by step ``t`` with gradient ``g``; all arrays are the run's own (1-D).

    ``h`` is the run's column of the packed hyperparameters, ``pw`` its two powers,
    ``mark`` its [hit, exit, diverged-at] steps.
    """
    D = x.shape[0]
    pw[0] = advance_power(pw[0], h[B1])
    pw[1] = advance_power(pw[1], h[B2])
    den1 = bias_denominator(pw[0], h[BIAS1])
    den2 = bias_denominator(pw[1], h[BIAS2])
    ok = True
    for i in range(D):
        xi, mi, vi, _ = coordinate_update(x[i], m[i], v[i], g[i], h[LR], h[B1], h[C1], h[B2], h[C2], h[EPS],
                                          h[WD], h[EPS_INSIDE], h[ADAPTIVE], den1, den2)
        if not (abs(xi) <= limit and abs(mi) <= limit and vi <= limit):
            ok = False
        xn[i] = xi
        mn[i] = mi
        vn[i] = vi
    if not ok:
        mark[DIVERGED_AT] = t
        return
    for i in range(D):
        x[i] = xn[i]
        m[i] = mn[i]
        v[i] = vn[i]
    if watch[HAS_TARGET] and mark[HIT] < 0:
        acc = 0.0
        for i in range(D):
            acc += (x[i] - target[i]) ** 2
        if acc <= watch[TOL] * watch[TOL]:
            mark[HIT] = t
    if watch[HAS_CENTER] and mark[EXIT] < 0:
        acc = 0.0
        for i in range(D):
            acc += (x[i] - center[i]) ** 2
        if acc > watch[RADIUS] * watch[RADIUS]:
            mark[EXIT] = t


@numba.njit(cache=True, error_model="numpy")
def _load_run(H, x, m, v, pw, marks, r, h, xr, mr, vr, pr, mark):
    for j in range(H.shape[0]):
        h[j] = H[j, r]
    for i in range(x.shape[1]):
        xr[i] = x[r, i]
        mr[i] = m[r, i]
        vr[i] = v[r, i]
    pr[0], pr[1] = pw[0, r], pw[1, r]
    for j in range(3):
        mark[j] = marks[j, r]


@numba.njit(cache=True, error_model="numpy")
def _store_run(x, m, v, pw, marks, r, xr, mr, vr, pr, mark):
    for i in range(x.shape[1]):
        x[r, i] = xr[i]
        m[r, i] = mr[i]
        v[r, i] = vr[i]
    pw[0, r], pw[1, r] = pr[0], pr[1]
    for j in range(3):
        marks[j, r] = mark[j]


@numba.njit(cache=True, error_model="numpy")
def trajectory(kind, lp, H, x, m, v, pw, t0, steps, record_every, path, target, center, watch, marks, limit):
    """Runs one after another, steps inner; records every ``record_every``-th iterate into ``path[1:]``."""
    R, D = x.shape
    h, pr, mark = np.empty(H.shape[0]), np.empty(2), np.empty(3, dtype=np.int64)
    xr, mr, vr, g = np.empty(D), np.empty(D), np.empty(D), np.empty(D)
    xn, mn, vn = np.empty(D), np.empty(D), np.empty(D)
    for r in range(R):
        _load_run(H, x, m, v, pw, marks, r, h, xr, mr, vr, pr, mark)
        k = 1
        countdown = record_every
        for s in range(1, steps + 1):
            if mark[DIVERGED_AT] < 0:
                _gradient(kind, lp, xr, g)
                _step_one(h, xr, mr, vr, g, pr, t0 + s, target, center, watch, mark, limit, xn, mn, vn)
            countdown -= 1
            if countdown == 0:
                countdown = record_every
                for i in range(D):
                    path[k, r, i] = xr[i]
                k += 1
        _store_run(x, m, v, pw, marks, r, xr, mr, vr, pr, mark)


@numba.njit(cache=True, error_model="numpy")
def user_step(H, x, m, v, g, pw, t, target, center, watch, marks, limit):
    """One step ``t`` of every run given the gradients ``g`` (shape of ``x``), for user landscapes."""
    R, D = x.shape
    h, pr, mark = np.empty(H.shape[0]), np.empty(2), np.empty(3, dtype=np.int64)
    xr, mr, vr, gr = np.empty(D), np.empty(D), np.empty(D), np.empty(D)
    xn, mn, vn = np.empty(D), np.empty(D), np.empty(D)
    for r in range(R):
        if marks[DIVERGED_AT, r] >= 0:
            continue
        _load_run(H, x, m, v, pw, marks, r, h, xr, mr, vr, pr, mark)
        for i in range(D):
            gr[i] = g[r, i]
        _step_one(h, xr, mr, vr, gr, pr, t, target, center, watch, mark, limit, xn, mn, vn)
        _store_run(x, m, v, pw, marks, r, xr, mr, vr, pr, mark)


# ---------------------------------------------------------------- blocked sweep

def _flag(f, b):
    """Run ``b``'s flag: ``f[b]`` for a per-run array, ``f`` itself for one flag for all runs."""


@overload(_flag, jit_options={"cache": True})
def _flag_impl(f, b):
    if isinstance(f, types.Array):
        return lambda f, b: f[b]
    return lambda f, b: f


@numba.njit(cache=True, error_model="numpy")
def _update_uniform(X, M, V, G, Xn, Mn, Vn, ok, lr, b1, c1, b2, c2, eps, wd, inside, adaptive, den1, den2, limit):
    """:func:`_update_mixed` for a block whose runs share ``inside`` and ``adaptive``: each combination is a
    call with constant flags, which the compiler folds, so only one denominator is computed."""
    if adaptive and not inside:
        _update_mixed(X, M, V, G, Xn, Mn, Vn, ok, lr, b1, c1, b2, c2, eps, wd, False, True, den1, den2, limit)
    elif adaptive:
        _update_mixed(X, M, V, G, Xn, Mn, Vn, ok, lr, b1, c1, b2, c2, eps, wd, True, True, den1, den2, limit)
    else:
        _update_mixed(X, M, V, G, Xn, Mn, Vn, ok, lr, b1, c1, b2, c2, eps, wd, False, False, den1, den2, limit)


@numba.njit(cache=True, error_model="numpy")
def _update_mixed(X, M, V, G, Xn, Mn, Vn, ok, lr, b1, c1, b2, c2, eps, wd, inside, adaptive, den1, den2, limit):
    """The block's new state into ``Xn, Mn, Vn`` and ``ok[b]``: is run ``b``'s new state within ``limit``?

    ``inside`` and ``adaptive`` are per-run arrays or one bool for the whole block.
    """
    D, B = X.shape
    for b in range(B):
        ok[b] = True
    for i in range(D):
        for b in range(B):
            xi, mi, vi, _ = coordinate_update(X[i, b], M[i, b], V[i, b], G[i, b], lr[b], b1[b], c1[b], b2[b], c2[b],
                                              eps[b], wd[b], _flag(inside, b), _flag(adaptive, b), den1[b], den2[b])
            Xn[i, b] = xi
            Mn[i, b] = mi
            Vn[i, b] = vi
            ok[b] = ok[b] & (abs(xi) <= limit) & (abs(mi) <= limit) & (vi <= limit)


@numba.njit(cache=True, error_model="numpy")
def _first_within(X, point, radius2, inside, live, step, marks_row):
    """Mark ``step`` for live, unmarked runs whose squared distance to ``point`` is within (or beyond) ``radius2``."""
    D, B = X.shape
    acc = np.zeros(B)
    for i in range(D):
        for b in range(B):
            acc[b] += (X[i, b] - point[i]) ** 2
    for b in range(B):
        hit = acc[b] <= radius2 if inside else acc[b] > radius2
        if live[b] and marks_row[b] < 0 and hit:
            marks_row[b] = step


@numba.njit(cache=True, error_model="numpy")
def _sweep_block(kind, lp, H, x, m, v, pw, t0, steps, record_every, path, target, center, watch, marks,
                 limit, r0, r1):
    """Advance runs ``r0:r1`` by ``steps`` steps, the state held coordinate-major in the block.

    Two buffers per state array: a step writes the new state beside the old one,
    frozen (diverged) runs copy their old state across, and the buffers swap.
    """
    D = x.shape[1]
    B = r1 - r0
    X, M, V = np.empty((D, B)), np.empty((D, B)), np.empty((D, B))
    Xn, Mn, Vn = np.empty((D, B)), np.empty((D, B)), np.empty((D, B))
    G = np.empty((D, B))
    for i in range(D):
        for b in range(B):
            X[i, b] = x[r0 + b, i]
            M[i, b] = m[r0 + b, i]
            V[i, b] = v[r0 + b, i]
    lr, b1, c1 = H[LR, r0:r1].copy(), H[B1, r0:r1].copy(), H[C1, r0:r1].copy()
    b2, c2, eps = H[B2, r0:r1].copy(), H[C2, r0:r1].copy(), H[EPS, r0:r1].copy()
    wd, inside, adaptive = H[WD, r0:r1].copy(), H[EPS_INSIDE, r0:r1].copy(), H[ADAPTIVE, r0:r1].copy()
    bias1, bias2 = H[BIAS1, r0:r1].copy(), H[BIAS2, r0:r1].copy()
    uniform = inside.min() == inside.max() and adaptive.min() == adaptive.max()
    p1, p2 = pw[0, r0:r1].copy(), pw[1, r0:r1].copy()
    hit, exit_ = marks[HIT, r0:r1].copy(), marks[EXIT, r0:r1].copy()
    div = marks[DIVERGED_AT, r0:r1].copy()
    live = div < 0
    n_frozen = B - live.sum()
    ok = np.empty(B, dtype=np.bool_)
    den1, den2 = np.empty(B), np.empty(B)
    has_target, tol2 = watch[HAS_TARGET] != 0.0, watch[TOL] * watch[TOL]
    has_center, radius2 = watch[HAS_CENTER] != 0.0, watch[RADIUS] * watch[RADIUS]
    k = 1
    countdown = record_every
    for s in range(1, steps + 1):
        t = t0 + s
        _gradient_block(kind, lp, X, G)
        for b in range(B):
            # frozen runs keep their powers (as in _step_one)
            p1[b] = advance_power(p1[b], b1[b]) if live[b] else p1[b]
            p2[b] = advance_power(p2[b], b2[b]) if live[b] else p2[b]
            den1[b] = bias_denominator(p1[b], bias1[b])
            den2[b] = bias_denominator(p2[b], bias2[b])
        if uniform:
            _update_uniform(X, M, V, G, Xn, Mn, Vn, ok, lr, b1, c1, b2, c2, eps, wd, inside[0], adaptive[0],
                            den1, den2, limit)
        else:
            _update_mixed(X, M, V, G, Xn, Mn, Vn, ok, lr, b1, c1, b2, c2, eps, wd, inside, adaptive,
                          den1, den2, limit)
        for b in range(B):
            if live[b] and not ok[b]:
                live[b] = False
                div[b] = t
                n_frozen += 1
        if n_frozen > 0:
            for i in range(D):
                for b in range(B):
                    if not live[b]:
                        Xn[i, b] = X[i, b]
                        Mn[i, b] = M[i, b]
                        Vn[i, b] = V[i, b]
        X, Xn = Xn, X
        M, Mn = Mn, M
        V, Vn = Vn, V
        if has_target:
            _first_within(X, target, tol2, True, live, t, hit)
        if has_center:
            _first_within(X, center, radius2, False, live, t, exit_)
        countdown -= 1
        if countdown == 0:
            countdown = record_every
            for b in range(B):
                for i in range(D):
                    path[k, r0 + b, i] = X[i, b]
            k += 1
    for i in range(D):
        for b in range(B):
            x[r0 + b, i] = X[i, b]
            m[r0 + b, i] = M[i, b]
            v[r0 + b, i] = V[i, b]
    pw[0, r0:r1] = p1
    pw[1, r0:r1] = p2
    marks[HIT, r0:r1] = hit
    marks[EXIT, r0:r1] = exit_
    marks[DIVERGED_AT, r0:r1] = div


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _sweep_runs(kind, lp, H, x, m, v, pw, t0, steps, record_every, path, target, center, watch, marks, limit,
                r0, r1):
    """The blocks of runs ``r0:r1``, one after another (one thread's share of :func:`sweep`)."""
    B = _block_runs(x.shape[1])
    for b0 in range(r0, r1, B):
        _sweep_block(kind, lp, H, x, m, v, pw, t0, steps, record_every, path, target, center, watch, marks,
                     limit, b0, min(r1, b0 + B))


def sweep(kind, lp, H, x, m, v, pw, t0, steps, record_every, path, target, center, watch, marks, limit):
    """Blocked :func:`trajectory`, the blocks shared among numba's threads: the same results, bit for bit."""
    _in_parallel(_sweep_runs, (kind, lp, H, x, m, v, pw, t0, steps, record_every, path, target, center, watch,
                               marks, limit), x.shape[0], x.shape[1])


@numba.njit(cache=True)
def _block_runs(D):
    return max(1, BLOCK_COORDINATES // D)


def _in_parallel(kernel, args, R, D):
    """Call ``kernel(*args, r0, r1)`` on contiguous shares of whole blocks, one per thread.

    The kernels release the GIL (``nogil``) and write disjoint rows, so Python threads
    run them in parallel; ``numba.set_num_threads`` sets their number.  (numba's own
    ``parallel=True`` would do the same but costs about half a minute of extra compilation.)
    """
    B = _block_runs(D)
    nblocks = -(-R // B)
    n = max(1, min(numba.get_num_threads(), nblocks))
    if n == 1:
        kernel(*args, 0, R)
        return
    edges = [min(R, (nblocks * j // n) * B) for j in range(n + 1)]
    with ThreadPoolExecutor(n) as pool:
        for f in [pool.submit(kernel, *args, edges[j], edges[j + 1]) for j in range(n)]:
            f.result()


# ---------------------------------------------------------------- gradient histories

@numba.njit(cache=True, error_model="numpy")
def gradient_updates(H, G, x, out):
    r"""``out[t-1] = w_t - w_{t-1}`` (as :math:`-\eta\lambda w_{t-1} - \eta u_t`) for the gradient history ``G``.

    ``G`` and ``out`` have shape ``(T, runs, dim)``; ``x`` holds :math:`w_0` and is advanced in place.
    """
    T, R, D = G.shape
    for r in range(R):
        p1 = 1.0
        p2 = 1.0
        lr, wd = H[LR, r], H[WD, r]
        m = np.zeros(D)
        v = np.zeros(D)
        for t in range(T):
            p1 = advance_power(p1, H[B1, r])
            p2 = advance_power(p2, H[B2, r])
            den1 = bias_denominator(p1, H[BIAS1, r])
            den2 = bias_denominator(p2, H[BIAS2, r])
            for i in range(D):
                xi, m[i], v[i], u = coordinate_update(x[r, i], m[i], v[i], G[t, r, i], lr, H[B1, r], H[C1, r],
                                                      H[B2, r], H[C2, r], H[EPS, r], wd, H[EPS_INSIDE, r],
                                                      H[ADAPTIVE, r], den1, den2)
                out[t, r, i] = -lr * wd * x[r, i] - lr * u
                x[r, i] = xi


# ---------------------------------------------------------------- the bare kernel (benchmark only)

@numba.njit(cache=True, error_model="numpy")
def _bare_block(x, m, v, a2, lr, b1, b2, eps, steps, r0, r1):
    D = x.shape[1]
    B = r1 - r0
    X = np.empty((D, B))
    M = np.empty((D, B))
    V = np.empty((D, B))
    for i in range(D):
        for b in range(B):
            X[i, b] = x[r0 + b, i]
            M[i, b] = m[r0 + b, i]
            V[i, b] = v[r0 + b, i]
    c1, c2 = 1.0 - b1, 1.0 - b2
    p1 = 1.0
    p2 = 1.0
    for _ in range(steps):
        p1 = advance_power(p1, b1)
        p2 = advance_power(p2, b2)
        den1, den2 = 1.0 - p1, 1.0 - p2
        for i in range(D):
            for b in range(B):
                g = a2[i] * X[i, b]
                M[i, b] = first_moment(M[i, b], g, b1, c1)
                V[i, b] = second_moment(V[i, b], g, b2, c2)
                u = direction(debias(M[i, b], den1), denominator(debias(V[i, b], den2), eps, False))
                X[i, b] = decayed_step(X[i, b], lr, 0.0, u)
    for i in range(D):
        for b in range(B):
            x[r0 + b, i] = X[i, b]
            m[r0 + b, i] = M[i, b]
            v[r0 + b, i] = V[i, b]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _bare_runs(x, m, v, a2, lr, b1, b2, eps, steps, r0, r1):
    B = _block_runs(x.shape[1])
    for b0 in range(r0, r1, B):
        _bare_block(x, m, v, a2, lr, b1, b2, eps, steps, b0, min(r1, b0 + B))


def bare_adam_sweep(x, m, v, coeffs, lr, b1, b2, eps, steps):
    """Bias-corrected Adam from the start on :math:`\\sum_i a_i w_i^2`, shared hyperparameters, no diagnostics.

    Benchmark only: no divergence check, no hit or exit steps, no recording; blocked
    and shared among threads as :func:`sweep`.
    """
    _in_parallel(_bare_runs, (x, m, v, 2.0 * np.asarray(coeffs, dtype=np.float64), lr, b1, b2, eps, steps),
                 x.shape[0], x.shape[1])
