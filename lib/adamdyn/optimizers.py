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
hyperparameter grid advance together in one compiled call.  The update itself
is written once, in :mod:`adamdyn.update_rule`; the compiled drivers that
apply it (a blocked, parallel sweep over any number of runs, one step for user
landscapes) are private, in
``adamdyn._kernels``.

References
----------
D. P. Kingma and J. Ba, "Adam: A method for stochastic optimization", ICLR 2015,
Algorithm 1.  I. Loshchilov and F. Hutter, "Decoupled weight decay
regularization", ICLR 2019 (AdamW).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from . import _kernels as _K
from . import update_rule as _rule
from .landscapes import KIND_USER, Landscape
from .validation import (
    as_param,
    check_beta,
    check_int,
    check_nonnegative,
    check_points,
    check_positive,
    real_array,
    scalar_nonnegative,
    scalar_positive,
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

    def packed(self) -> np.ndarray:
        """The hyperparameters as one float64 array, shape ``(N_HYPER, runs)``; see :func:`adamdyn.update_rule.pack`."""
        return _rule.pack(self)

    def take(self, index) -> "Optimizer":
        """The runs selected by ``index`` (an integer array or slice)."""
        idx = np.arange(len(self))[index]
        idx = np.atleast_1d(idx)
        return Optimizer(
            names=tuple(self.names[i] for i in idx),
            **{f: getattr(self, f)[idx] for f in _ARRAY_FIELDS},
        )


_ARRAY_FIELDS = _rule.FIELDS


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


def _check_flag(name: str, value) -> np.ndarray:
    """A switch: ``True``/``False`` or an array of booleans (one per run).

    Anything else is refused, also ``'no'`` or ``0``: NumPy would read any non-empty string as True.
    """
    arr = np.asarray(value) if isinstance(value, (bool, np.bool_, np.ndarray, list, tuple)) else None
    if arr is None or arr.dtype != np.bool_ or arr.ndim > 1 or arr.size == 0:
        raise ValueError(f"{name} must be True or False (or a 1-D array of booleans, one per run), got {value!r}")
    return np.atleast_1d(arr)


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
    bc, inside = _check_flag("bias_correction", bias_correction), _check_flag("eps_inside", eps_inside)
    _broadcast(lr=lr, beta1=beta1, beta2=beta2, eps=eps, bias_correction=bc, eps_inside=inside)
    return _make("Adam", lr, beta1, 1.0 - beta1, beta2, 1.0 - beta2, eps,
                 eps_inside=inside, bias1=bc, bias2=bc)


def adamw(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2, bias_correction=True, eps_inside=False) -> Optimizer:
    r"""AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay,
    :math:`w_t = (1 - \eta\lambda) w_{t-1} - \eta\,\hat m_t/(\sqrt{\hat v_t}+\epsilon)`.

    torch equivalent: ``torch.optim.AdamW(params, lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay)``.

    The decay factor :math:`1 - \eta\lambda` must be :math:`\ge 0`: with :math:`\eta\lambda > 1`
    each step would flip the weights' sign instead of shrinking them, which is no decay, so such
    a pair is refused (ValueError), per run.
    """
    wd = check_nonnegative("weight_decay", weight_decay)
    base = adam(lr, beta1, beta2, eps, bias_correction, eps_inside)
    n = max(len(base), wd.size)
    if len(base) not in (1, n) or wd.size not in (1, n):
        raise ValueError(f"weight_decay must have length 1 or the number of runs ({n}), got {wd.size}")
    with np.errstate(over="ignore"):  # an overflowing product is > 1 and refused below
        factor = 1.0 - base.lr * wd
    if np.any(factor < 0.0):
        bad = int(np.argmax(factor < 0.0)) if factor.size > 1 else 0
        raise ValueError(
            "weight_decay must satisfy lr * weight_decay <= 1 (the decay factor 1 - lr * weight_decay "
            f"must be >= 0, else every step flips the weights' sign), got lr = "
            f"{np.broadcast_to(base.lr, factor.shape)[bad]:g}, weight_decay = {np.broadcast_to(wd, factor.shape)[bad]:g}")
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
    update rule accumulates them (a running product, one multiplication a step,
    on every path); if omitted they are recomputed as powers.  A diverged run's
    powers stay at its divergence step.
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


class _Watch(NamedTuple):
    """The events :func:`run` records: arrival within ``tol`` of ``target``, exit beyond ``radius`` of ``center``."""

    target: np.ndarray
    center: np.ndarray
    switches: np.ndarray  # [has_target, tol, has_center, radius], indexed by _kernels.HAS_TARGET, ...

    @property
    def has_target(self) -> bool:
        return bool(self.switches[_K.HAS_TARGET])

    @property
    def has_center(self) -> bool:
        return bool(self.switches[_K.HAS_CENTER])


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


def _fresh_start(optimizer: Optimizer, landscape: Landscape, x0):
    """Runs paired with starting points, zero moments, step 0, powers b^0 = 1."""
    x = _start_points("x0", x0, landscape.dim)
    optimizer, x = _pair(optimizer, x)
    x = x.copy()
    return optimizer, x, np.zeros_like(x), np.zeros_like(x), 0, np.ones((2, x.shape[0]))


def _continued_start(optimizer: Optimizer, landscape: Landscape, state: State):
    """The same from a previous run's final :class:`State` (powers recomputed as b^t if absent)."""
    if not isinstance(state, State):
        raise ValueError(f"state must be a State (a previous run's Trajectory.state), got {type(state).__name__}")
    x = _start_points("state.x", state.x, landscape.dim).copy()
    optimizer, x = _pair(optimizer, x, "state.x")
    m = _moment("state.m", state.m, x.shape, DIVERGENCE_LIMIT)
    v = _moment("state.v", state.v, x.shape, DIVERGENCE_LIMIT)
    if np.any(v < 0.0):
        raise ValueError("state.v must be >= 0 (a running mean of squared gradients), got negative entries")
    t0 = check_int("state.t", state.t, 0)
    pows = []
    for name, given, b in (("state.pow1", state.pow1, optimizer.b1), ("state.pow2", state.pow2, optimizer.b2)):
        if given is None:
            with np.errstate(under="ignore"):  # b^t underflows to 0 for long runs, as the running product does
                pows.append(b**t0)
            continue
        p = real_array(name, given)
        if p.shape != (x.shape[0],) or not np.all((p >= 0.0) & (p <= 1.0)):
            raise ValueError(f"{name} must hold {x.shape[0]} values in [0, 1] (the powers b^t), got {given!r}")
        pows.append(p)
    return optimizer, x, m, v, t0, np.stack(pows)


def _start_points(name: str, value, dim) -> np.ndarray:
    """Starting points as ``(runs, dim)``: real, finite and within the divergence limit."""
    x = check_points(name, real_array(name, value), dim)
    if not np.all(np.abs(x) <= DIVERGENCE_LIMIT):
        raise ValueError(f"{name} must lie in [-{DIVERGENCE_LIMIT:g}, {DIVERGENCE_LIMIT:g}], got {value!r}")
    return x


def _moment(name: str, value, shape, limit) -> np.ndarray:
    """A moment of a continued state: real, of the state's shape, finite and within the limit."""
    arr = real_array(name, value)
    if arr.shape != shape:
        raise ValueError(f"{name} must have the shape of state.x, {shape}, got {arr.shape}")
    if not np.all(np.abs(arr) <= limit):
        raise ValueError(f"{name} must be finite and lie in [-{limit:g}, {limit:g}], got {value!r}")
    return arr.copy()


def _event_point(name: str, point, dim: int) -> np.ndarray:
    """An event's point (the target to arrive at, the center to leave) with ``dim`` coordinates."""
    point = as_param(name, point)
    if point.size != dim:
        raise ValueError(f"{name} must have {dim} coordinates, got {point.size}")
    if not np.all(np.abs(point) <= DIVERGENCE_LIMIT):
        raise ValueError(f"{name} must lie in [-{DIVERGENCE_LIMIT:g}, {DIVERGENCE_LIMIT:g}], got {point!r}")
    return point


def _watch(dim: int, target, tol, center, radius) -> _Watch:
    """Check the optional target/tol and center/radius; absent events are switched off."""
    switches = np.zeros(4)
    if target is None:
        if tol is not None:
            raise ValueError("tol needs a target (the point to arrive at, with dim coordinates)")
        target = np.zeros(dim)
    else:
        target = _event_point("target", target, dim)
        switches[_K.HAS_TARGET] = 1.0
        switches[_K.TOL] = scalar_nonnegative("tol", 0.0 if tol is None else tol)
    if center is None:
        if radius is not None:
            raise ValueError("radius needs a center (the point to leave, with dim coordinates)")
        center = np.zeros(dim)
    else:
        center = _event_point("center", center, dim)
        if radius is None:
            raise ValueError("radius must be given with center (a distance > 0)")
        switches[_K.HAS_CENTER] = 1.0
        switches[_K.RADIUS] = scalar_positive("radius", radius)
    return _Watch(target, center, switches)


def _initial_marks(x: np.ndarray, t0: int, watch: _Watch) -> np.ndarray:
    """Rows HIT, EXIT, DIVERGED_AT of int64 step numbers, -1 for "not yet"; a start may already hit or exit."""
    marks = np.full((3, x.shape[0]), -1, dtype=np.int64)
    with np.errstate(over="ignore"):  # many coordinates near the limit: the distance is inf, as in the kernels
        if watch.has_target:
            marks[_K.HIT, np.linalg.norm(x - watch.target, axis=1) <= watch.switches[_K.TOL]] = t0
        if watch.has_center:
            marks[_K.EXIT, np.linalg.norm(x - watch.center, axis=1) > watch.switches[_K.RADIUS]] = t0
    return marks


def _advance_compiled(landscape, H, x, m, v, powers, t0, steps, record_every, path, watch, marks):
    """Built-in landscapes: the whole run in one compiled call (blocks of runs, in parallel)."""
    _K.sweep(landscape.kind, np.asarray(landscape.params, dtype=np.float64), H, x, m, v, powers, t0, steps,
           record_every, path, watch.target, watch.center, watch.switches, marks, DIVERGENCE_LIMIT)


def _advance_user(grad, H, x, m, v, powers, t0, steps, record_every, path, watch, marks):
    """User landscapes: the gradient in Python, then the same compiled step as the kernels, once per step."""
    k = 1
    for s in range(1, steps + 1):
        with np.errstate(all="ignore"):
            g = np.array(grad(x), dtype=np.float64)  # a copy: the step writes x in place
        if g.shape != x.shape:
            raise ValueError(f"grad must return shape {x.shape}, got {g.shape}")
        args = (H, x, m, v, g, powers, t0 + s, watch.target, watch.center, watch.switches, marks, DIVERGENCE_LIMIT)
        if s == 1:
            _K._compile_once(_K.user_step, args)
        _K.user_step(*args)
        if s % record_every == 0:
            path[k] = x
            k += 1


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
        (:func:`adamdyn.landscapes.from_function`) call their Python gradient
        each step and then the same compiled update, so both give the same bits.
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
        optimizer, x, m, v, t0, powers = _fresh_start(optimizer, landscape, x0)
    else:
        optimizer, x, m, v, t0, powers = _continued_start(optimizer, landscape, state)
    watch = _watch(x.shape[1], target, tol, center, radius)
    K = steps // record_every + 1
    path = np.empty((K,) + x.shape)
    path[0] = x
    times = np.arange(K, dtype=np.int64) * record_every + t0
    marks = _initial_marks(x, t0, watch)
    H = optimizer.packed()
    if landscape.kind != KIND_USER:
        _advance_compiled(landscape, H, x, m, v, powers, t0, steps, record_every, path, watch, marks)
    else:
        _advance_user(landscape.grad, H, x, m, v, powers, t0, steps, record_every, path, watch, marks)
    diverged_step = marks[_K.DIVERGED_AT]
    return Trajectory(times, path, State(x, m, v, t0 + steps, powers[0], powers[1]),
                      marks[_K.HIT], marks[_K.EXIT], diverged_step >= 0, diverged_step, optimizer.names)


def gradient_history(grads):
    """Check a gradient history and view it as ``(T, runs, dim)``; also return its original shape.

    Accepts shapes ``(T,)``, ``(T, runs)`` and ``(T, runs, dim)``; entries must satisfy
    :math:`|g| \\le 10^{150}` so that their squares fit in float64.
    """
    G = real_array("grads", grads)
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
    if not isinstance(optimizer, Optimizer):
        raise ValueError("optimizer must be an Optimizer (use adamdyn.adam(...), sgd(...), ...)")
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
        x = _start_points("x0", x0, D)
        if x.shape[0] not in (1, R):
            raise ValueError(f"x0 must have 1 or {R} rows (one per run), got {x.shape[0]}")
        x = np.broadcast_to(x, (R, D)).copy()
    out = np.empty(G.shape)  # C order whatever G's: one compiled version of the kernel
    args = (opt.packed(), np.ascontiguousarray(G), x, out)
    _K._compile_once(_K.gradient_updates, args)
    _K.gradient_updates(*args)
    return out.reshape(shape)
