r"""Compiled drivers of the update rule (private; :func:`adamdyn.run` is the public entry).

Every driver composes the pieces of :mod:`adamdyn.update_rule` and nothing
else, in the same order, so that all of them give the same bits:

- :func:`sweep`: many runs on a built-in landscape.  Blocked: the runs are cut
  into blocks of about ``BLOCK_COORDINATES`` coordinates, a block's state is
  held transposed (coordinate-major, so that the inner loop runs over runs
  with unit stride and vectorizes), steps are the outer loop and the block the
  inner one; blocks run in parallel on numba's thread count (Python threads, the
  compiled code releasing the GIL).  A block's live runs are a contiguous prefix
  (diverged ones are swapped behind them); steps go in chunks that run a fast
  in-place step and are replayed from a checkpoint, with per-step backups, only
  where a run left the range (see :func:`_sweep_runs`).
- :func:`user_step`: one step of all runs given their gradients, for
  landscapes whose gradient is a Python function.
- :func:`gradient_updates`: the updates produced by a given gradient history.
- :func:`bare_adam_sweep`: Adam alone, blocked and parallel, without
  diagnostics; only the benchmark uses it, to show how close :func:`sweep`
  runs to the arithmetic's limit.

The diagnostics of :func:`sweep` and :func:`user_step`
are the same: a run whose new parameters or moments leave
``[-limit, limit]`` (or are not finite) is frozen at its last finite state and
its step is stored in ``marks[DIVERGED_AT]``; ``marks[HIT]`` and
``marks[EXIT]`` record the first step within ``tol`` of ``target`` and
farther than ``radius`` from ``center`` (``watch`` holds the switches and
radii at the indices ``HAS_TARGET``, ``TOL``, ``HAS_CENTER``, ``RADIUS``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from .update_rule import (
    ADAPTIVE,
    B1,
    B2,
    BIAS1,
    BIAS2,
    C1,
    C2,
    EPS,
    EPS_INSIDE,
    LR,
    N_HYPER,
    WD,
    advance_power,
    bias_denominator,
    coordinate_update,
    debias,
    decayed_step,
    decayed_update,
    denominator,
    direction,
    first_moment,
    second_moment,
)

#: Indices of the ``watch`` array.
HAS_TARGET, TOL, HAS_CENTER, RADIUS = range(4)
#: Rows of the ``marks`` array (int64, -1 where the event did not happen).
HIT, EXIT, DIVERGED_AT = range(3)
#: Coordinates per block of :func:`sweep`: the block's state (about eight
#: arrays of this many float64) stays in the L1/L2 cache.
BLOCK_COORDINATES = 256


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
        # cubes as products in this order, as landscapes.quartic().grad and the explorer's
        # JavaScript write them (pow(s, 3.0) rounds differently in about a quarter of all cases)
        s = x[0] + x[1]
        q = 0.5 * x[0] - 0.5 * x[1]
        u = 4.0 * (s * s * s)
        w = 2.0 * (q * q * q)
        g[0] = u + w
        g[1] = u - w


@numba.njit(cache=True, error_model="numpy")
def _gradient_block(kind, p, X, G, n):
    """The same gradients for the columns ``0..n-1`` of a block held coordinate-major, ``X[i, b]``."""
    D = X.shape[0]
    if kind == 0:
        for i in range(D):
            a = 2.0 * p[i]
            for b in range(n):
                G[i, b] = a * X[i, b]
    elif kind == 1:
        for i in range(D):
            pi = p[i]
            for b in range(n):
                xi = X[i, b]
                G[i, b] = pi if xi > 0.0 else (-pi if xi < 0.0 else 0.0)
    elif kind == 2:
        e, c, pw = p[0], p[1], p[2]
        for i in range(D):
            for b in range(n):
                d = e - X[i, b]
                if d > 0.0:
                    G[i, b] = -c if pw == 1.0 else -c * d ** (pw - 1.0)
                else:
                    G[i, b] = 0.0
    else:
        for b in range(n):
            s = X[0, b] + X[1, b]
            q = 0.5 * X[0, b] - 0.5 * X[1, b]
            u = 4.0 * (s * s * s)
            w = 2.0 * (q * q * q)
            G[0, b] = u + w
            G[1, b] = u - w


# ---------------------------------------------------------------- one run, one step (user_step)

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

#: Extra rows of a block's coefficient array ``Q`` (after the packed rows ``LR`` ... ``ADAPTIVE``):
#: epsilon split into the part added under the square root and the part added after it.
EPS_UNDER, EPS_AFTER = N_HYPER, N_HYPER + 1
#: Steps per chunk of :func:`_sweep_runs`: a checkpoint's cost is spread over this many steps.
CHUNK_STEPS = 64


@numba.njit(cache=True, error_model="numpy")
def _load_block(x, m, v, r0, r1):
    """Rows ``r0:r1`` of the state, transposed: ``X[i, b] = x[r0 + b, i]`` (runs inner, unit stride)."""
    D, B = x.shape[1], r1 - r0
    X, M, V = np.empty((D, B)), np.empty((D, B)), np.empty((D, B))
    for i in range(D):
        for b in range(B):
            X[i, b] = x[r0 + b, i]
            M[i, b] = m[r0 + b, i]
            V[i, b] = v[r0 + b, i]
    return X, M, V


@numba.njit(cache=True, error_model="numpy")
def _store_block(x, m, v, X, M, V, rows):
    """The inverse of :func:`_load_block`: column ``b`` goes back to row ``rows[b]``."""
    for b in range(rows.shape[0]):
        r = rows[b]
        for i in range(X.shape[0]):
            x[r, i] = X[i, b]
            m[r, i] = M[i, b]
            v[r, i] = V[i, b]


@numba.njit(cache=True, error_model="numpy")
def _same(a, b):
    """``a`` and ``b`` are the same double (equal and of the same sign, so ``0.0`` is not ``-0.0``)."""
    return (a == b) & (np.signbit(a) == np.signbit(b))


@numba.njit(cache=True, error_model="numpy")
def _compact(X, M, V, Q, P, K, rows, frozen, n):
    """Swap the frozen columns among ``0..n-1`` behind the live ones; returns the new live count.

    Frozen runs are never touched again, so the live ones stay a contiguous prefix.
    """
    for b in range(n - 1, -1, -1):  # downwards: the column swapped into b has been looked at
        if frozen[b]:
            c = n - 1
            for A in (X, M, V, Q, P):
                for j in range(A.shape[0]):
                    A[j, b], A[j, c] = A[j, c], A[j, b]
            for j in range(3):
                K[j, b], K[j, c] = K[j, c], K[j, b]
            rows[b], rows[c] = rows[c], rows[b]
            frozen[b], frozen[c] = frozen[c], False
            n = c
    return n


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _sweep_runs(kind, lp, H, x, m, v, pw, t0, steps, record_every, path, target, center, watch, marks, limit,
                r0, r1):
    """Advance runs ``r0:r1`` by ``steps`` steps, block by block (one thread's share of :func:`sweep`).

    A block's state is held coordinate-major, ``X[i, b]``, its live runs in the columns
    ``0..n-1``; a run that diverges is swapped behind them and never touched again, so the
    live ones stay a contiguous prefix that the loops over runs vectorize.  Steps go in chunks
    of ``CHUNK_STEPS``.  A chunk first runs the fast in-place step, which only counts values
    that left ``[-limit, limit]``; if there were any, the chunk is replayed from its checkpoint,
    each step's state backed up, and the runs that left the range are put back to their last
    finite state (their powers advanced, as in :func:`_step_one`), marked and frozen.  Both
    passes do the same arithmetic, so the other runs' bits do not change.

    One function on purpose: every separately compiled helper costs its own optimisation and
    code generation, and is optimised again inside each caller.
    """
    D = x.shape[1]
    Bmax = max(1, BLOCK_COORDINATES // D)
    has_target, tol2 = watch[HAS_TARGET] != 0.0, watch[TOL] * watch[TOL]
    has_center, radius2 = watch[HAS_CENTER] != 0.0, watch[RADIUS] * watch[RADIUS]
    for q0 in range(r0, r1, Bmax):
        q1 = min(r1, q0 + Bmax)
        B = q1 - q0
        X, M, V = _load_block(x, m, v, q0, q1)
        # Q: the packed hyperparameters, then epsilon split so that
        # denominator(v_hat + Q[EPS_UNDER], Q[EPS_AFTER], False) == denominator(v_hat, eps, inside)
        # bit for bit (adding 0.0 to v_hat >= 0 or to a square root is exact): one branch-free
        # expression with one square root serves blocks that mix the two placements
        Q = np.empty((N_HYPER + 2, B))
        for j in range(N_HYPER):
            for b in range(B):
                Q[j, b] = H[j, q0 + b]
        for b in range(B):
            inside = Q[EPS_INSIDE, b] != 0.0
            Q[EPS_UNDER, b] = Q[EPS, b] if inside else 0.0
            Q[EPS_AFTER, b] = 0.0 if inside else Q[EPS, b]
        # element loops, not slices, copy() and arange(): each array operation is one more
        # function for numba to compile
        P, K, rows = np.empty((2, B)), np.empty((3, B), dtype=np.int64), np.empty(B, dtype=np.int64)
        for b in range(B):
            P[0, b] = pw[0, q0 + b]
            P[1, b] = pw[1, q0 + b]
            K[0, b] = marks[0, q0 + b]
            K[1, b] = marks[1, q0 + b]
            K[2, b] = marks[2, q0 + b]
            rows[b] = q0 + b
        G = np.empty((D, B))
        S = np.empty((3, D, B))  # one step's backup (careful pass)
        C = np.empty((3, D, B))  # the chunk's checkpoint
        den, Pc, Kc, acc = np.empty((2, B)), np.empty((2, B)), np.empty((3, B), dtype=np.int64), np.empty(B)
        n = B
        frozen = np.zeros(B, dtype=np.bool_)
        for b in range(B):
            frozen[b] = K[DIVERGED_AT, b] >= 0  # before this call (a continued state)
        n = _compact(X, M, V, Q, P, K, rows, frozen, n)
        # the common case of a sweep over start points: the live runs share their hyperparameters
        # and powers, which then stay in registers (measured: 0.8 of the bare kernel against 0.6) (the same values, so the same bits; the powers
        # are written back to P wherever P is read)
        shared = n > 0
        for b in range(1, n):
            for j in range(N_HYPER + 2):
                shared &= _same(Q[j, b], Q[j, 0])
            shared &= _same(P[0, b], P[0, 0]) & _same(P[1, b], P[1, 0])
        b1, c1, b2, c2, lr, wd = Q[B1, 0], Q[C1, 0], Q[B2, 0], Q[C2, 0], Q[LR, 0], Q[WD, 0]
        bias1, bias2, adaptive = Q[BIAS1, 0], Q[BIAS2, 0], Q[ADAPTIVE, 0] != 0.0
        eps_under, eps_after = Q[EPS_UNDER, 0], Q[EPS_AFTER, 0]
        p1, p2 = P[0, 0], P[1, 0]
        k, countdown = 1, record_every
        s0, careful = 1, False
        n0, k0, countdown0, p10, p20 = n, k, countdown, p1, p2
        while True:
            if s0 > steps:
                break
            s1 = min(steps, s0 + CHUNK_STEPS - 1)
            if not careful:  # checkpoint
                for i in range(D):
                    for b in range(n):
                        C[0, i, b], C[1, i, b], C[2, i, b] = X[i, b], M[i, b], V[i, b]
                for b in range(n):
                    Pc[0, b], Pc[1, b] = P[0, b], P[1, b]
                    Kc[0, b], Kc[1, b], Kc[2, b] = K[0, b], K[1, b], K[2, b]
                n0, k0, countdown0, p10, p20 = n, k, countdown, p1, p2
            bad = 0
            for s in range(s0, s1 + 1):
                t = t0 + s
                if careful:
                    for i in range(D):
                        for b in range(n):
                            S[0, i, b], S[1, i, b], S[2, i, b] = X[i, b], M[i, b], V[i, b]
                # the pieces of adamdyn.update_rule in coordinate_update's order, the flags as values
                # (epsilon's placement through Q, the adaptive switch as a select)
                step_bad = 0
                # (measured: a separate gradient pass is faster than computing the quadratic's
                # gradient in the loops below, and an or faster than a count of the values out of
                # range); one call for both branches, since the gradient does not depend on the
                # powers: each call site is a copy of four landscapes' loops to compile
                _gradient_block(kind, lp, X, G, n)
                if shared:
                    p1 = advance_power(p1, b1)
                    p2 = advance_power(p2, b2)
                    den1, den2 = bias_denominator(p1, bias1), bias_denominator(p2, bias2)
                    for i in range(D):
                        for b in range(n):
                            g = G[i, b]
                            mn = first_moment(M[i, b], g, b1, c1)
                            vn = second_moment(V[i, b], g, b2, c2)
                            mh = debias(mn, den1)
                            u = direction(mh, denominator(debias(vn, den2) + eps_under, eps_after, False))
                            u = u if adaptive else mh
                            xn = decayed_step(X[i, b], lr, wd, u)
                            X[i, b] = xn
                            M[i, b] = mn
                            V[i, b] = vn
                            step_bad |= not ((abs(xn) <= limit) & (abs(mn) <= limit) & (vn <= limit))
                else:
                    for b in range(n):
                        P[0, b] = advance_power(P[0, b], Q[B1, b])
                        P[1, b] = advance_power(P[1, b], Q[B2, b])
                        den[0, b] = bias_denominator(P[0, b], Q[BIAS1, b])
                        den[1, b] = bias_denominator(P[1, b], Q[BIAS2, b])
                    for i in range(D):
                        for b in range(n):
                            g = G[i, b]
                            mn = first_moment(M[i, b], g, Q[B1, b], Q[C1, b])
                            vn = second_moment(V[i, b], g, Q[B2, b], Q[C2, b])
                            mh = debias(mn, den[0, b])
                            u = direction(mh, denominator(debias(vn, den[1, b]) + Q[EPS_UNDER, b], Q[EPS_AFTER, b],
                                                          False))
                            u = u if Q[ADAPTIVE, b] != 0.0 else mh
                            xn = decayed_step(X[i, b], Q[LR, b], Q[WD, b], u)
                            X[i, b] = xn
                            M[i, b] = mn
                            V[i, b] = vn
                            step_bad += not ((abs(xn) <= limit) & (abs(mn) <= limit) & (vn <= limit))
                bad += step_bad
                if careful and step_bad > 0:  # back to the last finite state, marked, frozen
                    if shared:  # the frozen runs keep this step's powers
                        for b in range(n):
                            P[0, b], P[1, b] = p1, p2
                    for b in range(n):
                        ok = True
                        for i in range(D):
                            ok &= (abs(X[i, b]) <= limit) & (abs(M[i, b]) <= limit) & (V[i, b] <= limit)
                        if not ok:
                            for i in range(D):
                                X[i, b], M[i, b], V[i, b] = S[0, i, b], S[1, i, b], S[2, i, b]
                            K[DIVERGED_AT, b] = t
                            frozen[b] = True
                    n = _compact(X, M, V, Q, P, K, rows, frozen, n)
                for e in range(2):  # arrival within tol of target (HIT), exit beyond radius of center (EXIT)
                    if (has_target, has_center)[e]:
                        point, r2 = (target, center)[e], (tol2, radius2)[e]
                        for b in range(n):
                            acc[b] = 0.0
                        for i in range(D):
                            for b in range(n):
                                acc[b] += (X[i, b] - point[i]) ** 2
                        row = K[HIT + e]
                        for b in range(n):
                            met = acc[b] <= r2 if e == 0 else acc[b] > r2
                            row[b] = t if (row[b] < 0) & met else row[b]
                countdown -= 1
                if countdown == 0:  # every column, frozen ones at their last finite state, at its run's row
                    countdown = record_every
                    for b in range(B):
                        for i in range(D):
                            path[k, rows[b], i] = X[i, b]
                    k += 1
            if bad > 0 and not careful:  # replay the chunk from its checkpoint
                for i in range(D):
                    for b in range(n0):
                        X[i, b], M[i, b], V[i, b] = C[0, i, b], C[1, i, b], C[2, i, b]
                for b in range(n0):
                    P[0, b], P[1, b] = Pc[0, b], Pc[1, b]
                    K[0, b], K[1, b], K[2, b] = Kc[0, b], Kc[1, b], Kc[2, b]
                n, k, countdown, p1, p2 = n0, k0, countdown0, p10, p20
                careful = True
            else:
                s0, careful = s1 + 1, False
        _store_block(x, m, v, X, M, V, rows)
        if shared:
            for b in range(n):
                P[0, b], P[1, b] = p1, p2
        for b in range(B):
            for j in range(2):
                pw[j, rows[b]] = P[j, b]
            for j in range(3):
                marks[j, rows[b]] = K[j, b]


def sweep(kind, lp, H, x, m, v, pw, t0, steps, record_every, path, target, center, watch, marks, limit):
    """Runs on a built-in landscape, blocked, the blocks shared among numba's threads.

    One run is one block of one column; that is also the fastest layout for a single long
    trajectory (measured: faster than a kernel that runs steps inner, one run after another).
    The results are those of :func:`user_step` with the same gradients, bit for bit.
    """
    _in_parallel(_sweep_runs, (kind, lp, H, x, m, v, pw, t0, steps, record_every, path, target, center, watch,
                               marks, limit), x.shape[0], x.shape[1])


#: Kernels this process has compiled or loaded from numba's cache through :func:`_compile_once`.
_READY: set = set()


@contextlib.contextmanager
def _compile_lock(kernel):
    """An exclusive lock on ``kernel``'s compilation, shared by every process of this checkout (``flock``;
    released when the holder closes it or dies).  Without a writable temporary folder: no lock."""
    where = hashlib.sha1(os.path.abspath(__file__).encode()).hexdigest()[:12]
    path = os.path.join(tempfile.gettempdir(), f"adamdyn-numba-{where}-{kernel.__name__}.lock")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        fd = None
    try:
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        if fd is not None:
            os.close(fd)


def _compile_once(kernel, args) -> None:
    """Compile ``kernel`` for ``args`` (or load it from numba's cache) before its first call in this
    process, holding :func:`_compile_lock`.

    Two chapters of a build that call a kernel for the first time at once would both compile it (the
    batched sweep kernel: about 15 s of CPU each, cold).  With the lock the second waits for the
    first and then loads what the first stored in numba's cache.  What is compiled is unchanged:
    the signature is the one numba's dispatch types the same arguments to.
    """
    if kernel in _READY:
        return
    signature = tuple(numba.typeof(a) for a in args)
    if signature not in kernel.overloads:
        with _compile_lock(kernel):
            kernel.compile(signature)
    _READY.add(kernel)


def _in_parallel(kernel, args, R, D):
    """Call ``kernel(*args, r0, r1)`` on contiguous shares of whole blocks, one per thread.

    The kernels release the GIL (``nogil``) and write disjoint rows, so Python threads
    run them in parallel; ``numba.set_num_threads`` sets their number.  (numba's own
    ``parallel=True`` would do the same but costs about half a minute of extra compilation.)
    """
    _compile_once(kernel, args + (0, R))
    B = max(1, BLOCK_COORDINATES // D)
    nblocks = -(-R // B)
    n = max(1, min(numba.get_num_threads(), nblocks))
    if n == 1:
        kernel(*args, 0, R)
        return
    edges = [min(R, (nblocks * j // n) * B) for j in range(n + 1)]
    pool = _pool(n)
    for f in [pool.submit(kernel, *args, edges[j], edges[j + 1]) for j in range(n)]:
        f.result()


_POOLS: dict[int, ThreadPoolExecutor] = {}


def _pool(n: int) -> ThreadPoolExecutor:
    """The process's pool of ``n`` threads for :func:`_in_parallel`, made on first use.

    Kept, not made per call: a sweep of a few hundred small calls (a chapter's scan) spent
    about 3 ms a call starting and joining threads.
    """
    if n not in _POOLS:
        _POOLS[n] = ThreadPoolExecutor(n, thread_name_prefix="adamdyn-kernel")
    return _POOLS[n]


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
                out[t, r, i] = decayed_update(x[r, i], lr, wd, u)
                x[r, i] = xi


# ---------------------------------------------------------------- the bare kernel (benchmark only)

@numba.njit(cache=True, error_model="numpy")
def _bare_block(x, m, v, a2, lr, b1, b2, eps, steps, r0, r1):
    D = x.shape[1]
    B = r1 - r0
    X, M, V = _load_block(x, m, v, r0, r1)
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
    _store_block(x, m, v, X, M, V, np.arange(r0, r1))


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _bare_runs(x, m, v, a2, lr, b1, b2, eps, steps, r0, r1):
    B = max(1, BLOCK_COORDINATES // x.shape[1])
    for b0 in range(r0, r1, B):
        _bare_block(x, m, v, a2, lr, b1, b2, eps, steps, b0, min(r1, b0 + B))


def bare_adam_sweep(x, m, v, coeffs, lr, b1, b2, eps, steps):
    """Bias-corrected Adam from the start on :math:`\\sum_i a_i w_i^2`, shared hyperparameters, no diagnostics.

    Benchmark only: no divergence check, no hit or exit steps, no recording; blocked
    and shared among threads as :func:`sweep`.
    """
    _in_parallel(_bare_runs, (x, m, v, 2.0 * np.asarray(coeffs, dtype=np.float64), lr, b1, b2, eps, steps),
                 x.shape[0], x.shape[1])
