r"""First-order optimizers as one generic, batched, float64 update.

Every optimizer of the book is an instance of one update rule, applied
coordinate-wise at step :math:`t = 1, 2, \dots` with gradient :math:`g_t`:

.. math::

    m_t &= b_1 m_{t-1} + c_1 g_t, \qquad
    v_t = b_2 v_{t-1} + c_2 g_t^2,\\
    \hat m_t &= m_t / (1 - b_1^t)\ \text{(if bias-corrected)}, \qquad
    \hat v_t = v_t / (1 - b_2^t)\ \text{(if bias-corrected)},\\
    d_t &= \begin{cases} \sqrt{\hat v_t} + \epsilon & \text{(epsilon outside, Kingma \& Ba's Algorithm 1)}\\
                         \sqrt{\hat v_t + \epsilon} & \text{(epsilon inside, as in the ODE papers)}\\
                         1 & \text{(non-adaptive methods)}\end{cases}\\
    w_t &= (1 - \eta\lambda)\, w_{t-1} - \eta\, \hat m_t / d_t .

=====================  ===============  ===============  ============================
optimizer              :math:`b_1, c_1`  :math:`b_2, c_2`  denominator
=====================  ===============  ===============  ============================
:func:`sgd`            0, 1             --               1
:func:`momentum`       :math:`\mu`, 1   --               1
:func:`adagrad`        0, 1             1, 1             :math:`\sqrt{v}+\epsilon`
:func:`rmsprop`        0, 1             :math:`\rho, 1-\rho`  :math:`\sqrt{v}+\epsilon`
:func:`adam`           :math:`\beta_1, 1-\beta_1`  :math:`\beta_2, 1-\beta_2`  bias-corrected
:func:`adamw`          as Adam, with decoupled weight decay :math:`\lambda`
=====================  ===============  ===============  ============================

A quotient :math:`0/0` (a zero denominator, which can only occur when every
gradient so far was zero) is taken as a zero step.

Runs are independent rows of a ``(runs, dim)`` state, and every
hyperparameter is a per-run vector, so that different optimizers and a whole
hyperparameter grid advance together in one compiled call.

References
----------
D. P. Kingma and J. Ba, "Adam: A method for stochastic optimization", ICLR 2015,
Algorithm 1.  I. Loshchilov and F. Hutter, "Decoupled weight decay
regularization", ICLR 2019 (AdamW).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from .landscapes import KIND_USER, Landscape
from .validation import (
    as_param,
    check_beta,
    check_int,
    check_nonnegative,
    check_points,
    check_positive,
)

__all__ = [
    "Optimizer",
    "State",
    "Trajectory",
    "sgd",
    "momentum",
    "adagrad",
    "rmsprop",
    "adam",
    "adamw",
    "combine",
    "run",
    "updates_from_gradients",
    "gradient_history",
    "DIVERGENCE_LIMIT",
]

#: A run whose parameters or moments leave ``[-DIVERGENCE_LIMIT, DIVERGENCE_LIMIT]``
#: (or become non-finite) is flagged as diverged and frozen at its last good state.
DIVERGENCE_LIMIT = 1e150


@dataclass(frozen=True)
class Optimizer:
    """Per-run hyperparameters of the generic update (see the module docstring).

    Build one with :func:`sgd`, :func:`momentum`, :func:`adagrad`,
    :func:`rmsprop`, :func:`adam` or :func:`adamw`, and join several with
    :func:`combine`.  All arrays have length ``len(self)``.
    """

    names: tuple
    lr: np.ndarray
    b1: np.ndarray
    c1: np.ndarray
    b2: np.ndarray
    c2: np.ndarray
    eps: np.ndarray
    weight_decay: np.ndarray
    eps_inside: np.ndarray
    bias1: np.ndarray
    bias2: np.ndarray
    adaptive: np.ndarray

    def __len__(self) -> int:
        return len(self.names)

    def take(self, index) -> "Optimizer":
        """The runs selected by ``index`` (an integer array or slice)."""
        idx = np.arange(len(self))[index]
        idx = np.atleast_1d(idx)
        return Optimizer(
            names=tuple(self.names[i] for i in idx),
            **{f: getattr(self, f)[idx] for f in _ARRAY_FIELDS},
        )


_ARRAY_FIELDS = ("lr", "b1", "c1", "b2", "c2", "eps", "weight_decay", "eps_inside", "bias1", "bias2", "adaptive")


def _make(name, lr, b1, c1, b2, c2, eps, weight_decay=0.0, eps_inside=False, bias1=False, bias2=False, adaptive=True):
    arrays = np.broadcast_arrays(
        np.asarray(lr, float), np.asarray(b1, float), np.asarray(c1, float),
        np.asarray(b2, float), np.asarray(c2, float), np.asarray(eps, float),
        np.asarray(weight_decay, float), np.asarray(eps_inside, bool),
        np.asarray(bias1, bool), np.asarray(bias2, bool), np.asarray(adaptive, bool),
    )
    arrays = [np.atleast_1d(a).astype(a.dtype, copy=True) for a in arrays]
    if arrays[0].ndim != 1:
        raise ValueError("hyperparameters must be scalars or 1-D arrays of per-run values")
    n = arrays[0].size
    return Optimizer((name,) * n, *arrays)


def _broadcast(**params):
    """Check that per-run arrays have compatible lengths (1 or a common R)."""
    sizes = {k: v.size for k, v in params.items()}
    big = {s for s in sizes.values() if s != 1}
    if len(big) > 1:
        raise ValueError(f"per-run hyperparameters must have equal lengths or length 1, got {sizes}")


def sgd(lr=1e-3) -> Optimizer:
    r"""Plain gradient descent, Kaiser's Eq. (1): :math:`w_t = w_{t-1} - \eta g_t`.

    torch equivalent: ``torch.optim.SGD(params, lr=lr)``.
    """
    lr = check_positive("lr", lr)
    return _make("SGD", lr, 0.0, 1.0, 0.0, 0.0, 0.0, adaptive=False)


def momentum(lr=1e-3, beta=0.9) -> Optimizer:
    r"""Heavy-ball momentum in torch's convention:
    :math:`m_t = \mu m_{t-1} + g_t,\ w_t = w_{t-1} - \eta m_t`.

    torch equivalent: ``torch.optim.SGD(params, lr=lr, momentum=beta)``.
    """
    lr, beta = check_positive("lr", lr), check_beta("beta", beta)
    _broadcast(lr=lr, beta=beta)
    return _make("momentum", lr, beta, 1.0, 0.0, 0.0, 0.0, adaptive=False)


def adagrad(lr=1e-2, eps=1e-10) -> Optimizer:
    r"""AdaGrad (Duchi, Hazan & Singer 2011):
    :math:`v_t = v_{t-1} + g_t^2,\ w_t = w_{t-1} - \eta g_t / (\sqrt{v_t} + \epsilon)`.

    torch equivalent: ``torch.optim.Adagrad(params, lr=lr, eps=eps)`` (with the
    defaults ``lr_decay=0``, ``initial_accumulator_value=0``).
    """
    lr, eps = check_positive("lr", lr), check_nonnegative("eps", eps)
    _broadcast(lr=lr, eps=eps)
    return _make("AdaGrad", lr, 0.0, 1.0, 1.0, 1.0, eps)


def rmsprop(lr=1e-2, beta2=0.99, eps=1e-8) -> Optimizer:
    r"""RMSProp (Tieleman & Hinton 2012), Kaiser's Eq. (3) corrected:
    :math:`v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\ w_t = w_{t-1} - \eta g_t/(\sqrt{v_t}+\epsilon)`.

    torch equivalent: ``torch.optim.RMSprop(params, lr=lr, alpha=beta2, eps=eps)``.
    """
    lr, beta2, eps = check_positive("lr", lr), check_beta("beta2", beta2), check_nonnegative("eps", eps)
    _broadcast(lr=lr, beta2=beta2, eps=eps)
    return _make("RMSProp", lr, 0.0, 1.0, beta2, 1.0 - beta2, eps)


def adam(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True, eps_inside=False) -> Optimizer:
    r"""Adam, Algorithm 1 of Kingma & Ba (2015).

    .. math::

        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\quad
        w_t = w_{t-1} - \eta\,\frac{m_t/(1-\beta_1^t)}{\sqrt{v_t/(1-\beta_2^t)} + \epsilon}.

    Parameters
    ----------
    bias_correction : bool
        If False, :math:`\hat m_t = m_t` and :math:`\hat v_t = v_t` (Kaiser's Eq. 5).
    eps_inside : bool
        If True the denominator is :math:`\sqrt{\hat v_t + \epsilon}`, the
        convention of Belotto da Silva & Gazeau's ODE.

    torch equivalent (``bias_correction=True``, ``eps_inside=False`` only):
    ``torch.optim.Adam(params, lr=lr, betas=(beta1, beta2), eps=eps)``.
    """
    lr, eps = check_positive("lr", lr), check_nonnegative("eps", eps)
    beta1, beta2 = check_beta("beta1", beta1), check_beta("beta2", beta2)
    _broadcast(lr=lr, beta1=beta1, beta2=beta2, eps=eps)
    bc = np.asarray(bias_correction, bool)
    return _make("Adam", lr, beta1, 1.0 - beta1, beta2, 1.0 - beta2, eps,
                 eps_inside=eps_inside, bias1=bc, bias2=bc)


def adamw(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2, bias_correction=True, eps_inside=False) -> Optimizer:
    r"""AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay,
    :math:`w_t = (1 - \eta\lambda) w_{t-1} - \eta\,\hat m_t/(\sqrt{\hat v_t}+\epsilon)`.

    torch equivalent: ``torch.optim.AdamW(params, lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay)``.
    """
    wd = check_nonnegative("weight_decay", weight_decay)
    base = adam(lr, beta1, beta2, eps, bias_correction, eps_inside)
    n = max(len(base), wd.size)
    if len(base) not in (1, n) or wd.size not in (1, n):
        raise ValueError("weight_decay must have length 1 or the number of runs")
    fields = {f: np.broadcast_to(getattr(base, f), (n,)).copy() for f in _ARRAY_FIELDS}
    fields["weight_decay"] = np.broadcast_to(wd, (n,)).copy()
    return Optimizer(("AdamW",) * n, **fields)


def combine(*optimizers: Optimizer) -> Optimizer:
    """Concatenate the runs of several optimizers so that they advance together."""
    if not optimizers or not all(isinstance(o, Optimizer) for o in optimizers):
        raise ValueError("combine takes one or more Optimizer objects")
    return Optimizer(
        names=sum((o.names for o in optimizers), ()),
        **{f: np.concatenate([getattr(o, f) for o in optimizers]) for f in _ARRAY_FIELDS},
    )


@dataclass(frozen=True)
class State:
    """Where a batch of runs stands: parameters, moments, and steps taken so far.

    ``pow1`` and ``pow2`` hold :math:`b_1^t` and :math:`b_2^t` per run as the
    compiled kernel accumulates them (a running product, cheaper than a power
    each step); if omitted they are recomputed as powers.
    """

    x: np.ndarray
    m: np.ndarray
    v: np.ndarray
    t: int
    pow1: np.ndarray | None = None
    pow2: np.ndarray | None = None


@dataclass(frozen=True)
class Trajectory:
    """The result of :func:`run`.

    Attributes
    ----------
    times : ndarray, shape (K,)
        Step numbers at which ``path`` was recorded (0 is the start).
    path : ndarray, shape (K, runs, dim)
        Recorded iterates.  A diverged run repeats its last finite iterate.
    state : State
        Final state; pass it back to :func:`run` to continue.
    hit_step : ndarray of int, shape (runs,)
        First step ``t`` with ``||w_t - target|| <= tol``, or -1.
    exit_step : ndarray of int, shape (runs,)
        First step ``t`` with ``||w_t - center|| > radius``, or -1.
    diverged : ndarray of bool, shape (runs,)
        True where the run overflowed and was frozen.
    diverged_step : ndarray of int, shape (runs,)
        The step at which it overflowed, or -1.
    names : tuple of str
        The optimizer of each run.
    """

    times: np.ndarray
    path: np.ndarray
    state: State
    hit_step: np.ndarray
    exit_step: np.ndarray
    diverged: np.ndarray
    diverged_step: np.ndarray
    names: tuple

    @property
    def final(self) -> np.ndarray:
        return self.state.x


@numba.njit(cache=True)
def _grad(kind, p, x, g):
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
        u = 4.0 * (x[0] + x[1]) ** 3
        w = 2.0 * (0.5 * x[0] - 0.5 * x[1]) ** 3
        g[0] = u + w
        g[1] = u - w


@numba.njit(cache=True)
def _kernel(kind, lp, x, m, v, pow1, pow2, t0, steps, lr, b1, c1, b2, c2, eps, wd, eps_inside, bias1, bias2,
            adaptive, record_every, path, target, tol, has_target, center, radius, has_center,
            hit, exit_, div, divstep, limit):
    R, D = x.shape
    g = np.empty(D)
    xn = np.empty(D)
    mn = np.empty(D)
    vn = np.empty(D)
    for r in range(R):
        k = 1
        countdown = record_every
        p1 = pow1[r]
        p2 = pow2[r]
        for s in range(1, steps + 1):
            if not div[r]:
                t = t0 + s
                _grad(kind, lp, x[r], g)
                p1 *= b1[r]
                p2 *= b2[r]
                den1 = 1.0 - p1 if bias1[r] else 1.0
                den2 = 1.0 - p2 if bias2[r] else 1.0
                ok = True
                for i in range(D):
                    gi = g[i]
                    mi = b1[r] * m[r, i] + c1[r] * gi
                    vi = b2[r] * v[r, i] + c2[r] * gi * gi
                    mh = mi / den1
                    if adaptive[r]:
                        vh = vi / den2
                        d = np.sqrt(vh + eps[r]) if eps_inside[r] else np.sqrt(vh) + eps[r]
                        u = mh / d if d > 0.0 else 0.0
                    else:
                        u = mh
                    xi = x[r, i] * (1.0 - lr[r] * wd[r]) - lr[r] * u
                    if not (abs(xi) <= limit and abs(mi) <= limit and vi <= limit):
                        ok = False
                    xn[i] = xi
                    mn[i] = mi
                    vn[i] = vi
                if ok:
                    for i in range(D):
                        x[r, i] = xn[i]
                        m[r, i] = mn[i]
                        v[r, i] = vn[i]
                    if has_target and hit[r] < 0:
                        acc = 0.0
                        for i in range(D):
                            acc += (x[r, i] - target[i]) ** 2
                        if acc <= tol * tol:
                            hit[r] = t
                    if has_center and exit_[r] < 0:
                        acc = 0.0
                        for i in range(D):
                            acc += (x[r, i] - center[i]) ** 2
                        if acc > radius * radius:
                            exit_[r] = t
                else:
                    div[r] = True
                    divstep[r] = t
            countdown -= 1
            if countdown == 0:
                countdown = record_every
                for i in range(D):
                    path[k, r, i] = x[r, i]
                k += 1
        pow1[r] = p1
        pow2[r] = p2


def _step_numpy(opt: Optimizer, x, m, v, g, t):
    """One generic update for all runs at once; returns new (x, m, v) and the update x_new - x."""
    lr, wd = opt.lr[:, None], opt.weight_decay[:, None]
    with np.errstate(all="ignore"):
        mn = opt.b1[:, None] * m + opt.c1[:, None] * g
        vn = opt.b2[:, None] * v + opt.c2[:, None] * g * g
        den1 = np.where(opt.bias1, 1.0 - opt.b1**t, 1.0)[:, None]
        den2 = np.where(opt.bias2, 1.0 - opt.b2**t, 1.0)[:, None]
        mh, vh = mn / den1, vn / den2
        eps = opt.eps[:, None]
        d = np.where(opt.eps_inside[:, None], np.sqrt(vh + eps), np.sqrt(vh) + eps)
        d = np.where(opt.adaptive[:, None], d, 1.0)
        u = np.where(d > 0.0, mh / np.where(d > 0.0, d, 1.0), 0.0)
        delta = -lr * wd * x - lr * u
        xn = x * (1.0 - lr * wd) - lr * u
    return xn, mn, vn, delta


def _pair(opt: Optimizer, x0: np.ndarray, name: str = "x0"):
    """Broadcast a batch of optimizers against a batch of starting points."""
    R_opt, R_x = len(opt), x0.shape[0]
    if R_opt == R_x:
        return opt, x0
    if R_x == 1:
        return opt, np.repeat(x0, R_opt, axis=0)
    if R_opt == 1:
        return opt.take(np.zeros(R_x, dtype=int)), x0
    raise ValueError(f"{name} has {R_x} runs but the optimizer has {R_opt}; they must match or one must be 1")


def run(optimizer: Optimizer, landscape: Landscape, x0, steps: int, *, record_every: int = 1,
        target=None, tol: float | None = None, center=None, radius: float | None = None,
        state: State | None = None) -> Trajectory:
    """Advance a batch of independent runs on a landscape.

    Parameters
    ----------
    optimizer : Optimizer
        One or several runs' hyperparameters (``len(optimizer)`` runs).
    landscape : Landscape
        Built-in landscapes run in a compiled kernel; user ones
        (:func:`adamdyn.landscapes.from_function`) in vectorized NumPy.
    x0 : array_like, shape (dim,) or (runs, dim)
        Starting points; broadcast against the optimizer's runs.
    steps : int
        Number of updates.
    record_every : int
        Keep every ``record_every``-th iterate (and the start), so that a
        :math:`10^6`-step path stays small in memory.
    target, tol : optional
        Record the first step within Euclidean distance ``tol`` of ``target``.
    center, radius : optional
        Record the first step farther than ``radius`` from ``center``.
    state : State, optional
        Continue from a previous run's ``Trajectory.state`` (``x0`` is then ignored).

    Returns
    -------
    Trajectory
    """
    if not isinstance(optimizer, Optimizer):
        raise ValueError("optimizer must be an Optimizer (use adamdyn.adam(...), sgd(...), ...)")
    if not isinstance(landscape, Landscape):
        raise ValueError("landscape must be a Landscape (use adamdyn.landscapes.*)")
    steps = check_int("steps", steps, 0)
    record_every = check_int("record_every", record_every, 1)
    if state is None:
        x = check_points("x0", x0, landscape.dim)
        optimizer, x = _pair(optimizer, x)
        x = x.copy()
        m = np.zeros_like(x)
        v = np.zeros_like(x)
        t0 = 0
        pow1, pow2 = np.ones(len(optimizer)), np.ones(len(optimizer))
    else:
        x = check_points("state.x", state.x, landscape.dim).copy()
        optimizer, x = _pair(optimizer, x, "state.x")
        for name, arr in (("state.m", state.m), ("state.v", state.v)):
            if np.shape(arr) != x.shape:
                raise ValueError(f"{name} must have the shape of state.x, {x.shape}, got {np.shape(arr)}")
        m = np.array(state.m, dtype=np.float64)
        v = np.array(state.v, dtype=np.float64)
        t0 = check_int("state.t", state.t, 0)
        pow1 = optimizer.b1**t0 if state.pow1 is None else np.array(state.pow1, dtype=np.float64)
        pow2 = optimizer.b2**t0 if state.pow2 is None else np.array(state.pow2, dtype=np.float64)
        if pow1.shape != (x.shape[0],) or pow2.shape != (x.shape[0],):
            raise ValueError(f"state.pow1 and state.pow2 must have shape ({x.shape[0]},)")
    R, D = x.shape

    has_target = target is not None
    if has_target:
        target = as_param("target", target)
        if target.size != D:
            raise ValueError(f"target must have {D} coordinates, got {target.size}")
        tol = float(check_nonnegative("tol", 0.0 if tol is None else tol)[0])
    else:
        target, tol = np.zeros(D), 0.0
    has_center = center is not None
    if has_center:
        center = as_param("center", center)
        if center.size != D:
            raise ValueError(f"center must have {D} coordinates, got {center.size}")
        if radius is None:
            raise ValueError("radius must be given with center (a distance > 0)")
        radius = float(check_positive("radius", radius)[0])
    else:
        center, radius = np.zeros(D), 0.0

    K = steps // record_every + 1
    path = np.empty((K, R, D))
    path[0] = x
    times = np.arange(K, dtype=np.int64) * record_every + t0
    hit = np.full(R, -1, dtype=np.int64)
    exit_ = np.full(R, -1, dtype=np.int64)
    if has_target:
        hit[np.linalg.norm(x - target, axis=1) <= tol] = t0
    if has_center:
        exit_[np.linalg.norm(x - center, axis=1) > radius] = t0
    div = np.zeros(R, dtype=np.bool_)
    divstep = np.full(R, -1, dtype=np.int64)

    o = optimizer
    if landscape.kind != KIND_USER:
        _kernel(landscape.kind, np.asarray(landscape.params, float), x, m, v, pow1, pow2, t0, steps,
                o.lr, o.b1, o.c1, o.b2, o.c2, o.eps, o.weight_decay, o.eps_inside, o.bias1, o.bias2,
                o.adaptive, record_every, path, target, tol, has_target, center, radius, has_center,
                hit, exit_, div, divstep, DIVERGENCE_LIMIT)
    else:
        _run_numpy(o, landscape.grad, x, m, v, t0, steps, record_every, path,
                   target if has_target else None, tol, center if has_center else None, radius,
                   hit, exit_, div, divstep)
        pow1, pow2 = o.b1 ** (t0 + steps), o.b2 ** (t0 + steps)
    return Trajectory(times, path, State(x, m, v, t0 + steps, pow1, pow2), hit, exit_, div, divstep, o.names)


def _run_numpy(o, grad, x, m, v, t0, steps, record_every, path, target, tol, center, radius,
               hit, exit_, div, divstep):
    k = 1
    for s in range(1, steps + 1):
        t = t0 + s
        live = ~div
        with np.errstate(all="ignore"):
            g = np.asarray(grad(x), dtype=float)
            if g.shape != x.shape:
                raise ValueError(f"grad must return shape {x.shape}, got {g.shape}")
            xn, mn, vn, _ = _step_numpy(o, x, m, v, g, t)
            bad = ~(np.all(np.abs(xn) <= DIVERGENCE_LIMIT, axis=1)
                    & np.all(np.abs(mn) <= DIVERGENCE_LIMIT, axis=1)
                    & np.all(vn <= DIVERGENCE_LIMIT, axis=1))
        newly = live & bad
        div[newly] = True
        divstep[newly] = t
        ok = live & ~bad
        x[ok], m[ok], v[ok] = xn[ok], mn[ok], vn[ok]
        if target is not None:
            h = ok & (hit < 0) & (np.linalg.norm(x - target, axis=1) <= tol)
            hit[h] = t
        if center is not None:
            e = ok & (exit_ < 0) & (np.linalg.norm(x - center, axis=1) > radius)
            exit_[e] = t
        if s % record_every == 0:
            path[k] = x
            k += 1


def gradient_history(grads):
    """Check a gradient history and view it as ``(T, runs, dim)``; also return its original shape.

    Accepts shapes ``(T,)``, ``(T, runs)`` and ``(T, runs, dim)``; entries must satisfy
    :math:`|g| \\le 10^{150}` so that their squares fit in float64.
    """
    G = np.asarray(grads, dtype=float)
    shape = G.shape
    if G.ndim == 1:
        G = G[:, None, None]
    elif G.ndim == 2:
        G = G[:, :, None]
    elif G.ndim != 3:
        raise ValueError(f"grads must have shape (T,), (T, runs) or (T, runs, dim), got {shape}")
    if not np.all(np.abs(G) <= DIVERGENCE_LIMIT):
        raise ValueError(f"grads must be finite with |g| <= {DIVERGENCE_LIMIT:g} (their squares must fit in float64)")
    return G, shape


def updates_from_gradients(optimizer: Optimizer, grads, x0=None) -> np.ndarray:
    """The updates :math:`w_t - w_{t-1}` that ``optimizer`` makes on a given gradient history.

    Parameters
    ----------
    grads : array_like, shape (T,), (T, runs) or (T, runs, dim)
        The gradients :math:`g_1, \\dots, g_T` seen at steps 1..T.  The
        landscape plays no role: this isolates the update rule, as
        Kaiser's Propositions 1-3 do.  Entries must satisfy
        :math:`|g| \\le 10^{150}` so that their squares fit in float64.
    x0 : array_like, shape (runs, dim) or (dim,), optional
        Starting parameters (default 0); they matter only for weight decay.

    Returns
    -------
    ndarray of the same shape as ``grads``.
    """
    G, shape = gradient_history(grads)
    T, R, D = G.shape
    opt = optimizer
    if len(opt) == 1 and R > 1:
        opt = opt.take(np.zeros(R, dtype=int))
    if len(opt) != R:
        raise ValueError(f"grads has {R} runs but the optimizer has {len(optimizer)}")
    if x0 is None:
        x = np.zeros((R, D))
    else:
        x = np.broadcast_to(check_points("x0", x0, D), (R, D)).copy()
    m = np.zeros((R, D))
    v = np.zeros((R, D))
    out = np.empty_like(G)
    for t in range(1, T + 1):
        x, m, v, out[t - 1] = _step_numpy(opt, x, m, v, G[t - 1], t)
    return out.reshape(shape)
