r"""k-Adam: Adam's adaptive normalisation applied k times (our reading of Gould & Tanaka).

Gould & Tanaka's abstract introduces "k-Adam — an optimizer that applies an
adaptive normalization procedure k times, encompassing Adam (k = 1) and Adam
with a normalization layer (k = 2)".  The definition is not in the abstract;
this module implements **our reading**: the output direction of one Adam
normalisation is fed as the "gradient" of the next.  With
:math:`u^{(0)}_t = g_t` and, for level :math:`j = 1, \dots, k`,

.. math::

    m^{(j)}_t &= \beta_{1,j}\, m^{(j)}_{t-1} + (1-\beta_{1,j})\, u^{(j-1)}_t, \qquad
    v^{(j)}_t = \beta_{2,j}\, v^{(j)}_{t-1} + (1-\beta_{2,j})\, \bigl(u^{(j-1)}_t\bigr)^2,\\
    u^{(j)}_t &= \frac{m^{(j)}_t/(1-\beta_{1,j}^t)}{\sqrt{v^{(j)}_t/(1-\beta_{2,j}^t)} + \epsilon_j},
    \qquad w_t = (1-\eta\lambda)\, w_{t-1} - \eta\, u^{(k)}_t .

With ``norm="global"`` a level averages the squared input over the coordinates
(one :math:`v` per run), as a normalisation layer normalises a whole vector.
For ``k = 1`` every floating point operation is the one of
:func:`adamdyn.adam` / :func:`adamdyn.adamw`, so the iterates agree bitwise.

The scale-invariant toy of the chapter (AdamW on the sphere, where weight decay
and the norm act as a second normalisation) is in :mod:`adamdyn.kadam_sphere`.

References
----------
R. Gould, H. Tanaka, "Continuous-Time Analysis of Adaptive Optimization and
Normalization", arXiv 2411.05746 (2024).  D. P. Kingma, J. Ba, "Adam", ICLR 2015.
I. Loshchilov, F. Hutter, "Decoupled weight decay regularization", ICLR 2019.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .landscapes import Landscape
from .optimizers import DIVERGENCE_LIMIT, gradient_history
from .update_rule import numpy_rule as _rule
from .validation import (
    as_param,
    check_bool,
    check_int,
    check_nonnegative,
    check_points,
    check_positive,
    check_seed,
    scalar_beta,
    scalar_nonnegative,
)

__all__ = [
    "KAdam", "KAdamTrajectory", "kadam", "kadam_direction", "kadam_updates_from_gradients", "run_kadam",
    "noisy_quadratic", "compare_k",
]

_NORMS = ("coordinate", "global")


@dataclass(frozen=True)
class KAdam:
    """Hyperparameters of k-Adam: per-run ``lr`` and ``weight_decay``; per-level tuples for the rest."""

    lr: np.ndarray
    weight_decay: np.ndarray
    k: int
    beta1: tuple
    beta2: tuple
    eps: tuple
    bias_correction: tuple
    norm: tuple

    def __len__(self) -> int:
        return self.lr.size


@dataclass(frozen=True)
class KAdamTrajectory:
    """Result of :func:`run_kadam`: recorded ``times`` (K,), ``path`` (K, runs, dim), ``final`` (runs, dim),
    ``diverged`` (runs,) and ``diverged_step`` (runs,, -1 if never)."""

    times: np.ndarray
    path: np.ndarray
    final: np.ndarray
    diverged: np.ndarray
    diverged_step: np.ndarray


def _per_level(name, value, k):
    vals = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value] * k
    if len(vals) != k:
        raise ValueError(f"{name} must be a scalar or a sequence of length k={k}, got length {len(vals)}")
    return tuple(vals)


def kadam(lr=1e-3, k=2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, bias_correction=True,
          norm="coordinate") -> KAdam:
    r"""Build k-Adam (module docstring).

    Parameters
    ----------
    lr, weight_decay : float or 1-D array
        Per-run step size :math:`\eta > 0` and decoupled weight decay :math:`\lambda \ge 0`.
    k : int
        Number of normalisation levels, ``k >= 1``.
    beta1, beta2, eps, bias_correction, norm : scalar or sequence of length k
        Per-level decay rates in [0, 1), :math:`\epsilon_j \ge 0`, bias correction on/off,
        and ``"coordinate"`` (Adam) or ``"global"`` (one second moment per run).
    """
    k = check_int("k", k, 1)
    lr = check_positive("lr", lr)
    wd = check_nonnegative("weight_decay", weight_decay)
    if lr.size != 1 and wd.size != 1 and lr.size != wd.size:
        raise ValueError(f"lr and weight_decay must have equal lengths or length 1, got {lr.size} and {wd.size}")
    n = max(lr.size, wd.size)
    b1 = tuple(scalar_beta("beta1", b) for b in _per_level("beta1", beta1, k))
    b2 = tuple(scalar_beta("beta2", b) for b in _per_level("beta2", beta2, k))
    ep = tuple(scalar_nonnegative("eps", e) for e in _per_level("eps", eps, k))
    bc = tuple(check_bool("bias_correction", b) for b in _per_level("bias_correction", bias_correction, k))
    nm = _per_level("norm", norm, k)
    for s in nm:
        if s not in _NORMS:
            raise ValueError(f"norm must be one of {_NORMS}, got {s!r}")
    return KAdam(np.broadcast_to(lr, (n,)).copy(), np.broadcast_to(wd, (n,)).copy(), k, b1, b2, ep, bc, nm)


def kadam_direction(opt: KAdam, g, m, v, t, powers=None):
    r"""The k-fold normalised direction :math:`u^{(k)}_t` and the new moments.

    ``g`` has shape ``(runs, dim)``; ``m`` and ``v`` have shape ``(k, runs, dim)``.
    ``powers`` is ``(beta1^t, beta2^t)``, one value per level, as the running products
    :func:`adamdyn.update_rule.advance_power` keeps (the runs of this module pass them); without
    it they are computed as powers ``beta**t``, which may differ in the last bit.
    The operations at each level are, in order, those of Adam's update in
    :mod:`adamdyn.update_rule`, so ``k = 1`` with running powers reproduces
    :func:`adamdyn.run` to the last bit.
    """
    mn, vn = np.empty_like(m), np.empty_like(v)
    u = g
    for j in range(opt.k):
        b1, b2 = opt.beta1[j], opt.beta2[j]
        mn[j] = _rule.first_moment(m[j], u, b1, 1.0 - b1)
        if opt.norm[j] == "global":
            # one moving average of the mean square per run
            vn[j] = _rule.first_moment(v[j], np.mean(u * u, axis=-1, keepdims=True), b2, 1.0 - b2)
        else:
            vn[j] = _rule.second_moment(v[j], u, b2, 1.0 - b2)
        p1, p2 = (b1**t, b2**t) if powers is None else (powers[0][j], powers[1][j])
        mh = _rule.debias(mn[j], _rule.bias_denominator(p1, opt.bias_correction[j]))
        vh = _rule.debias(vn[j], _rule.bias_denominator(p2, opt.bias_correction[j]))
        u = _rule.direction(mh, _rule.denominator(vh, opt.eps[j], False))
    return u, mn, vn


def _advance_powers(opt: KAdam, powers):
    """The running powers ``(beta1^t, beta2^t)`` per level one step on (``None``: the first step)."""
    b1, b2 = np.asarray(opt.beta1, float), np.asarray(opt.beta2, float)
    if powers is None:
        return b1.copy(), b2.copy()
    return _rule.advance_power(powers[0], b1), _rule.advance_power(powers[1], b2)


def _step(opt: KAdam, x, m, v, g, t, powers=None):
    u, mn, vn = kadam_direction(opt, g, m, v, t, powers)
    lr, wd = opt.lr[:, None], opt.weight_decay[:, None]
    return _rule.decayed_step(x, lr, wd, u), mn, vn, _rule.decayed_update(x, lr, wd, u)


def kadam_updates_from_gradients(opt: KAdam, grads) -> np.ndarray:
    """The updates k-Adam makes on a given gradient history, as :func:`adamdyn.updates_from_gradients`.

    ``grads`` has shape ``(T,)``, ``(T, runs)`` or ``(T, runs, dim)``; the result has the same shape.
    """
    G, shape = gradient_history(grads)
    T, R, D = G.shape
    opt = _expand(opt, R)
    x = np.zeros((R, D))
    m = np.zeros((opt.k, R, D))
    v = np.zeros((opt.k, R, D))
    out = np.empty_like(G)
    powers = None
    for t in range(1, T + 1):
        powers = _advance_powers(opt, powers)
        x, m, v, out[t - 1] = _step(opt, x, m, v, G[t - 1], t, powers)
    return out.reshape(shape)


def _expand(opt: KAdam, R: int) -> KAdam:
    if len(opt) == R:
        return opt
    if len(opt) == 1:
        return KAdam(np.repeat(opt.lr, R), np.repeat(opt.weight_decay, R), opt.k, opt.beta1, opt.beta2,
                     opt.eps, opt.bias_correction, opt.norm)
    raise ValueError(f"there are {R} runs but the optimizer has {len(opt)}; they must match or it must have 1")


def _out_of_range(x, m, v):
    """Per run (axis 0 of ``x``, axis 1 of ``m`` and ``v``): has ``|x|``, ``|m|`` or ``v`` left
    ``[-DIVERGENCE_LIMIT, DIVERGENCE_LIMIT]`` (or become NaN)?

    Checked every step: one reduction per array first (a max is NaN, and the comparison False,
    if any entry is NaN), the per-run mask only when that finds something.
    """
    if (x.size and m.size and np.abs(x).max() <= DIVERGENCE_LIMIT and np.abs(m).max() <= DIVERGENCE_LIMIT
            and v.max() <= DIVERGENCE_LIMIT):
        return np.zeros(x.shape[0], bool)
    return ~(np.all(np.abs(x) <= DIVERGENCE_LIMIT, axis=1) & np.all(np.abs(m) <= DIVERGENCE_LIMIT, axis=(0, 2))
             & np.all(v <= DIVERGENCE_LIMIT, axis=(0, 2)))


def run_kadam(opt: KAdam, grad, x0, steps: int, record_every: int = 1) -> KAdamTrajectory:
    """Run k-Adam from ``x0`` (shape ``(dim,)`` or ``(runs, dim)``) for ``steps`` steps.

    ``grad`` is a :class:`~adamdyn.landscapes.Landscape` or a callable mapping
    ``(runs, dim)`` to ``(runs, dim)`` (called once per step, in order, so a
    closure over a seeded Generator gives reproducible stochastic gradients).
    A run that leaves ``[-DIVERGENCE_LIMIT, DIVERGENCE_LIMIT]`` is flagged and frozen.
    """
    if not isinstance(opt, KAdam):
        raise ValueError("opt must be a KAdam (use adamdyn.kadam.kadam(...))")
    gfun = grad.grad if isinstance(grad, Landscape) else grad
    if not callable(gfun):
        raise ValueError("grad must be a Landscape or a callable grad(x)")
    steps = check_int("steps", steps, 0)
    record_every = check_int("record_every", record_every, 1)
    x = check_points("x0", x0).copy()
    if isinstance(grad, Landscape) and grad.dim is not None and x.shape[1] != grad.dim:
        raise ValueError(f"x0 must have {grad.dim} coordinates per run for this landscape, got shape {x.shape}")
    R = max(x.shape[0], len(opt))
    if x.shape[0] == 1 and R > 1:
        x = np.repeat(x, R, axis=0)
    opt = _expand(opt, R)
    if x.shape[0] != R:
        raise ValueError(f"x0 has {x.shape[0]} runs but the optimizer has {len(opt)}")
    D = x.shape[1]
    m = np.zeros((opt.k, R, D))
    v = np.zeros((opt.k, R, D))
    K = steps // record_every + 1
    path = np.empty((K, R, D))
    path[0] = x
    div = np.zeros(R, bool)
    divstep = np.full(R, -1, np.int64)
    k = 1
    powers = None
    for t in range(1, steps + 1):
        powers = _advance_powers(opt, powers)
        with np.errstate(all="ignore"):
            g = np.asarray(gfun(x), float)
            if g.shape != x.shape:
                raise ValueError(f"grad must return shape {x.shape}, got {g.shape}")
            xn, mn, vn, _ = _step(opt, x, m, v, g, t, powers)
            bad = _out_of_range(xn, mn, vn)
        newly = ~div & bad
        div[newly], divstep[newly] = True, t
        if div.any():
            ok = ~div
            x[ok], m[:, ok], v[:, ok] = xn[ok], mn[:, ok], vn[:, ok]
        else:  # no run frozen: the new state whole (the same values, without the masked copies)
            x, m, v = xn, mn, vn
        if t % record_every == 0:
            path[k] = x
            k += 1
    times = np.arange(K, dtype=np.int64) * record_every
    return KAdamTrajectory(times, path, x, div, divstep)


def noisy_quadratic(h, sigma, noise):
    r"""Stochastic gradient :math:`Hx + \sigma\xi_t` of :math:`f(x) = \tfrac12 x^\top H x`, :math:`H=\mathrm{diag}(h)`.

    ``noise`` (T, runs, dim) holds the pre-drawn :math:`\xi_t`; the closure counts its calls.
    """
    h = as_param("h", h)
    sigma = scalar_nonnegative("sigma", sigma)
    noise = np.asarray(noise, float)
    if noise.ndim != 3:
        raise ValueError(f"noise must have shape (T, runs, dim), got {noise.shape}")
    calls = [0]

    def grad(x):
        t = calls[0]
        if t >= noise.shape[0]:
            raise ValueError(f"noisy_quadratic was called more than T={noise.shape[0]} times")
        calls[0] = t + 1
        return h * x + sigma * noise[t]

    return grad


def compare_k(ks, h, sigma, steps, lrs, seeds, seed=0, tail=0.1, **levels):
    r"""Tune the step size of k-Adam for each ``k`` on a noisy quadratic.

    Every (lr, seed) pair is one run, all advanced together; every ``k`` sees
    the same noise.  The score of a run is the mean loss over the last
    ``tail`` fraction of steps; a step size's score is its mean over seeds.

    Returns
    -------
    dict
        ``scores`` (len(ks), len(lrs)), ``best_lr``, ``best_score`` and
        ``best_stderr`` (standard error over seeds of the best score) (len(ks),),
        ``stderr`` (len(ks), len(lrs)),
        ``diverged`` (len(ks),) counts.
    """
    ks = [check_int("k", k, 1) for k in ks]
    lrs = check_positive("lrs", lrs)
    seeds = check_int("seeds", seeds, 1)
    steps = check_int("steps", steps, 10)
    h = as_param("h", h)
    if not 0.0 < tail <= 1.0:
        raise ValueError(f"tail must lie in (0, 1], got {tail!r}")
    noise = np.random.default_rng(check_seed("seed", seed)).standard_normal((steps, seeds, h.size))
    noise = np.tile(noise, (1, lrs.size, 1))
    lr_runs = np.repeat(lrs, seeds)
    every = max(1, steps // 100)
    scores, div = np.empty((len(ks), lrs.size)), np.zeros(len(ks), int)
    stderr = np.empty((len(ks), lrs.size))
    for i, k in enumerate(ks):
        tr = run_kadam(kadam(lr=lr_runs, k=k, **levels), noisy_quadratic(h, sigma, noise), np.ones(h.size), steps,
                       record_every=every)
        loss = 0.5 * np.sum(h * tr.path**2, axis=-1)
        last = max(1, int(round(tail * (loss.shape[0] - 1))))
        per_run = loss[-last:].mean(axis=0)
        per_run[tr.diverged] = np.inf
        scores[i] = per_run.reshape(lrs.size, seeds).mean(axis=1)
        with np.errstate(invalid="ignore"):
            stderr[i] = per_run.reshape(lrs.size, seeds).std(axis=1, ddof=1 if seeds > 1 else 0) / np.sqrt(seeds)
        div[i] = tr.diverged.sum()
    best = np.argmin(scores, axis=1)
    rows = np.arange(len(ks))
    return {"scores": scores, "best_lr": lrs[best], "best_score": scores[rows, best],
            "best_stderr": stderr[rows, best], "stderr": stderr, "diverged": div}
