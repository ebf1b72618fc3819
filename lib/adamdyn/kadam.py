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

The module also holds the scale-invariant toy of the chapter: for a loss with
:math:`L(cw) = L(w)`, AdamW's norm obeys
:math:`\|w_t\|^2 \approx \rho\|w_{t-1}\|^2 + \eta^2\|u_t\|^2` with
:math:`\rho = (1-\eta\lambda)^2`, so the angular step :math:`\eta/\|w\|` is Adam's
direction divided by a running RMS of its own size: a second, global
normalisation (:func:`sphere_two_adam`).

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
from .validation import as_param, check_beta, check_int, check_nonnegative, check_points, check_positive

__all__ = [
    "KAdam",
    "KAdamTrajectory",
    "kadam",
    "kadam_direction",
    "kadam_updates_from_gradients",
    "run_kadam",
    "rayleigh_loss",
    "rayleigh_grad",
    "norm_recursion",
    "sphere_two_adam",
    "noisy_rayleigh",
    "angular_step_size",
    "noisy_quadratic",
    "compare_k",
    "tune_on_rayleigh",
    "interior_best",
    "claims",
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
    b1 = tuple(float(check_beta("beta1", b)[0]) for b in _per_level("beta1", beta1, k))
    b2 = tuple(float(check_beta("beta2", b)[0]) for b in _per_level("beta2", beta2, k))
    ep = tuple(float(check_nonnegative("eps", e)[0]) for e in _per_level("eps", eps, k))
    bc = tuple(bool(b) for b in _per_level("bias_correction", bias_correction, k))
    nm = _per_level("norm", norm, k)
    for s in nm:
        if s not in _NORMS:
            raise ValueError(f"norm must be one of {_NORMS}, got {s!r}")
    return KAdam(np.broadcast_to(lr, (n,)).copy(), np.broadcast_to(wd, (n,)).copy(), k, b1, b2, ep, bc, nm)


def kadam_direction(opt: KAdam, g, m, v, t):
    r"""The k-fold normalised direction :math:`u^{(k)}_t` and the new moments.

    ``g`` has shape ``(runs, dim)``; ``m`` and ``v`` have shape ``(k, runs, dim)``.
    The operations at each level are, in order, those of Adam's update in
    :mod:`adamdyn.optimizers`, so ``k = 1`` reproduces it to the last bit.
    """
    mn, vn = np.empty_like(m), np.empty_like(v)
    u = g
    for j in range(opt.k):
        b1 = np.full(1, opt.beta1[j])
        b2 = np.full(1, opt.beta2[j])
        c1, c2 = 1.0 - b1, 1.0 - b2
        mn[j] = b1[:, None] * m[j] + c1[:, None] * u
        if opt.norm[j] == "global":
            vn[j] = b2[:, None] * v[j] + c2[:, None] * np.mean(u * u, axis=-1, keepdims=True)
        else:
            # same association as adamdyn.optimizers, (c2 * u) * u, for bitwise k = 1
            vn[j] = b2[:, None] * v[j] + c2[:, None] * u * u
        den1 = np.where(opt.bias_correction[j], 1.0 - b1**t, 1.0)[:, None]
        den2 = np.where(opt.bias_correction[j], 1.0 - b2**t, 1.0)[:, None]
        mh, vh = mn[j] / den1, vn[j] / den2
        d = np.sqrt(vh) + opt.eps[j]
        with np.errstate(divide="ignore", invalid="ignore"):
            u = np.where(d > 0.0, mh / np.where(d > 0.0, d, 1.0), 0.0)
    return u, mn, vn


def _step(opt: KAdam, x, m, v, g, t):
    u, mn, vn = kadam_direction(opt, g, m, v, t)
    lr, wd = opt.lr[:, None], opt.weight_decay[:, None]
    delta = -lr * wd * x - lr * u
    xn = x * (1.0 - lr * wd) - lr * u
    return xn, mn, vn, delta


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
    for t in range(1, T + 1):
        x, m, v, out[t - 1] = _step(opt, x, m, v, G[t - 1], t)
    return out.reshape(shape)


def _expand(opt: KAdam, R: int) -> KAdam:
    if len(opt) == R:
        return opt
    if len(opt) == 1:
        return KAdam(np.repeat(opt.lr, R), np.repeat(opt.weight_decay, R), opt.k, opt.beta1, opt.beta2,
                     opt.eps, opt.bias_correction, opt.norm)
    raise ValueError(f"there are {R} runs but the optimizer has {len(opt)}; they must match or it must have 1")


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
    for t in range(1, steps + 1):
        with np.errstate(all="ignore"):
            g = np.asarray(gfun(x), float)
            if g.shape != x.shape:
                raise ValueError(f"grad must return shape {x.shape}, got {g.shape}")
            xn, mn, vn, _ = _step(opt, x, m, v, g, t)
            bad = ~(np.all(np.abs(xn) <= DIVERGENCE_LIMIT, axis=1) & np.all(np.abs(mn) <= DIVERGENCE_LIMIT, axis=(0, 2))
                    & np.all(vn <= DIVERGENCE_LIMIT, axis=(0, 2)))
        newly = ~div & bad
        div[newly], divstep[newly] = True, t
        ok = ~div
        x[ok], m[:, ok], v[:, ok] = xn[ok], mn[:, ok], vn[:, ok]
        if t % record_every == 0:
            path[k] = x
            k += 1
    times = np.arange(K, dtype=np.int64) * record_every
    return KAdamTrajectory(times, path, x, div, divstep)


# ---------------------------------------------------------------- scale-invariant toy
def rayleigh_loss(w, h):
    r"""The scale-invariant loss :math:`L(w) = \tfrac12\, w^\top H w / \|w\|^2`, :math:`H = \mathrm{diag}(h)`,
    evaluated on arrays ``(..., dim)``.  Its minimum is :math:`\tfrac12\min_i h_i`."""
    w = np.asarray(w, float)
    return 0.5 * np.sum(h * w * w, axis=-1) / np.sum(w * w, axis=-1)


def rayleigh_grad(w, h):
    r""":math:`\nabla L(w) = (Hw - 2L(w)\,w)/\|w\|^2`: orthogonal to :math:`w`, of size :math:`\propto 1/\|w\|`."""
    w = np.asarray(w, float)
    n2 = np.sum(w * w, axis=-1, keepdims=True)
    return (h * w - 2.0 * rayleigh_loss(w, h)[..., None] * w) / n2


def norm_recursion(u, n0, lr, weight_decay):
    r"""Predicted :math:`\|w_t\|` of AdamW on a scale-invariant loss from its directions :math:`u_t`.

    Dropping the cross term :math:`-2\eta(1-\eta\lambda)\, w\cdot u` (zero when
    :math:`u \perp w`),

    .. math:: n_t^2 = (1-\eta\lambda)^2 n_{t-1}^2 + \eta^2 \|u_t\|^2 .

    ``u`` has shape ``(T, runs, dim)``; returns ``(T+1, runs)`` starting at ``n0``.
    """
    lr = float(check_positive("lr", lr)[0])
    wd = float(check_nonnegative("weight_decay", weight_decay)[0])
    u = np.asarray(u, float)
    rho = (1.0 - lr * wd) ** 2
    out = np.empty((u.shape[0] + 1, u.shape[1]))
    out[0] = as_param("n0", n0) ** 2
    for t in range(u.shape[0]):
        out[t + 1] = rho * out[t] + lr**2 * np.sum(u[t] ** 2, axis=-1)
    return np.sqrt(out)


def sphere_two_adam(grad_on_sphere, z0, steps, lr, weight_decay, n0, beta1=0.9, beta2=0.999, eps=1e-8,
                    second_level=True):
    r"""Explicit 2-Adam on the unit sphere that AdamW on a scale-invariant loss approximates.

    Level 1 is Adam on the unit-norm gradients :math:`h_t` (the gradient of
    :math:`L` at :math:`\hat w`).  Level 2 is a *global* normalisation without
    momentum, :math:`V_t = \rho V_{t-1} + (1-\rho)\|u_t\|^2` with
    :math:`\rho = (1-\eta\lambda)^2` and :math:`V_0 = (1-\rho) n_0^2/\eta^2`, and the
    step is

    .. math:: z_t = \frac{z_{t-1} - \alpha_t u_t}{\|z_{t-1} - \alpha_t u_t\|},
       \qquad \alpha_t = \frac{\sqrt{1-\rho}}{(1-\eta\lambda)\sqrt{V_{t-1}}} .

    Since :math:`n_{t-1} = \eta\sqrt{V_{t-1}/(1-\rho)}` under :func:`norm_recursion`,
    :math:`\alpha_t = \eta/((1-\eta\lambda) n_{t-1})`, AdamW's angular step.
    With ``second_level=False`` the step is frozen at :math:`\alpha = \eta/((1-\eta\lambda)n_0)`:
    Adam on the sphere with a fixed angular rate, for comparison.
    ``lr`` may hold one value per run (then :math:`\rho` is per run too).
    Returns ``(path, alphas)``: unit vectors ``(steps+1, runs, dim)`` and steps ``(steps, runs)``.
    """
    lr = check_positive("lr", lr)
    wd = float(check_positive("weight_decay", weight_decay)[0])
    steps = check_int("steps", steps, 0)
    z = check_points("z0", z0).copy()
    if lr.size not in (1, z.shape[0]):
        raise ValueError(f"lr must be a scalar or have one value per run ({z.shape[0]}), got {lr.size}")
    lr = lr if lr.size == z.shape[0] else np.full(z.shape[0], lr[0])
    if np.any(lr * wd >= 1.0):
        raise ValueError("lr * weight_decay must be < 1")
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    rho = (1.0 - lr * wd) ** 2
    V = (1.0 - rho) * as_param("n0", n0) ** 2 / lr**2
    inner = kadam(lr=1.0, k=1, beta1=beta1, beta2=beta2, eps=eps)
    inner = _expand(inner, z.shape[0])
    m = np.zeros((1,) + z.shape)
    v = np.zeros((1,) + z.shape)
    path = np.empty((steps + 1,) + z.shape)
    alphas = np.empty((steps, z.shape[0]))
    path[0] = z
    for t in range(1, steps + 1):
        h = np.asarray(grad_on_sphere(z), float)
        u, m, v = kadam_direction(inner, h, m, v, t)
        alpha = np.sqrt(1.0 - rho) / ((1.0 - lr * wd) * np.sqrt(V))
        z = z - alpha[:, None] * u
        z /= np.linalg.norm(z, axis=1, keepdims=True)
        if second_level:
            V = rho * V + (1.0 - rho) * np.sum(u * u, axis=1)
        path[t], alphas[t - 1] = z, alpha
    return path, alphas


def noisy_rayleigh(h, sigmas, noise):
    r"""Stochastic gradient of :func:`rayleigh_loss`: :math:`\|w\|^{-1} P_\perp(H\hat w + \sigma_t \xi_t)`.

    ``sigmas`` (T,) is the noise level at each call and ``noise`` (T, runs, dim)
    the pre-drawn :math:`\xi_t`; the closure counts its calls, so two optimizers
    given fresh closures see the same noise sequence.  The projection
    :math:`P_\perp = I - \hat w\hat w^\top` keeps the gradient orthogonal to
    :math:`w`, as for every scale-invariant loss.  At :math:`\|w\| = 1` it is the
    gradient on the sphere.
    """
    h = as_param("h", h)
    sigmas = np.asarray(sigmas, float)
    noise = np.asarray(noise, float)
    if noise.ndim != 3 or sigmas.shape != (noise.shape[0],):
        raise ValueError("noise must have shape (T, runs, dim) and sigmas shape (T,)")
    calls = [0]

    def grad(w):
        t = calls[0]
        if t >= sigmas.size:
            raise ValueError(f"noisy_rayleigh was called more than T={sigmas.size} times")
        calls[0] = t + 1
        n = np.linalg.norm(w, axis=-1, keepdims=True)
        wh = w / n
        gg = h * wh + sigmas[t] * noise[t]
        return (gg - np.sum(gg * wh, axis=-1, keepdims=True) * wh) / n

    return grad


def angular_step_size(path, lr, weight_decay):
    r"""AdamW's angular learning rate on a scale-invariant loss, :math:`\eta/((1-\eta\lambda)\|w_{t-1}\|)`.

    ``path`` has shape ``(T+1, runs, dim)``; returns ``(T, runs)``.
    """
    lr = float(check_positive("lr", lr)[0])
    wd = float(check_nonnegative("weight_decay", weight_decay)[0])
    return lr / ((1.0 - lr * wd) * np.linalg.norm(np.asarray(path)[:-1], axis=-1))


def noisy_quadratic(h, sigma, noise):
    r"""Stochastic gradient :math:`Hx + \sigma\xi_t` of :math:`f(x) = \tfrac12 x^\top H x`, :math:`H=\mathrm{diag}(h)`.

    ``noise`` (T, runs, dim) holds the pre-drawn :math:`\xi_t`; the closure counts its calls.
    """
    h = as_param("h", h)
    sigma = float(check_nonnegative("sigma", sigma)[0])
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
    noise = np.random.default_rng(seed).standard_normal((steps, seeds, h.size))
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


def interior_best(scores):
    """Index of the smallest score and whether it lies strictly inside the grid (not on an edge)."""
    scores = np.asarray(scores, float)
    i = int(np.nanargmin(np.where(np.isfinite(scores), scores, np.nan)))
    return i, bool(0 < i < scores.size - 1)


def tune_on_rayleigh(h, sigma, steps, lrs, seeds, weight_decay, beta1=0.9, beta2=0.999, eps=1e-8, seed=0,
                     tail=0.2):
    r"""Tune the step size of four optimizers on the noisy Rayleigh quotient (:func:`noisy_rayleigh`).

    ``"AdamW"``: :func:`adamdyn.adamw` on :math:`w` (its norm adapts the angular rate).
    ``"derived 2-Adam"``: :func:`sphere_two_adam`, the second level the meta-adaptive
    derivation gives (global, no momentum, decay :math:`\rho = (1-\eta\lambda)^2`).
    ``"cascade 2-Adam"``: :func:`kadam` with ``k=2`` and the same :math:`(\beta_1,\beta_2)`
    per coordinate at both levels, with weight decay, on :math:`w`.
    ``"fixed angular rate"``: :func:`sphere_two_adam` with ``second_level=False``.
    All see the same noise (constant level ``sigma``) from the same unit start per seed.
    The score of a run is the mean loss gap :math:`L(\hat w) - \min L` over the last ``tail``
    of the steps; a step size's score is its mean over seeds, with the standard error.

    Returns
    -------
    dict
        Method name to ``{"scores", "stderr"}`` arrays over ``lrs``.
    """
    from .landscapes import from_function
    from .optimizers import adamw, run

    h = as_param("h", h)
    lrs = check_positive("lrs", lrs)
    seeds = check_int("seeds", seeds, 2)
    steps = check_int("steps", steps, 10)
    rng = np.random.default_rng(seed)
    z0 = rng.standard_normal((seeds, h.size))
    z0 /= np.linalg.norm(z0, axis=1, keepdims=True)
    noise = rng.standard_normal((steps, seeds, h.size))
    Z0 = np.tile(z0, (lrs.size, 1))
    noise = np.tile(noise, (1, lrs.size, 1))
    lr_runs = np.repeat(lrs, seeds)
    sig = np.full(steps, float(sigma))
    fresh = lambda: noisy_rayleigh(h, sig, noise)
    gap = lambda P: rayleigh_loss(P, h) - h.min() / 2
    paths = {}
    tr = run(adamw(lr=lr_runs, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay),
             from_function(lambda w: rayleigh_loss(w, h), fresh(), dim=h.size), Z0, steps)
    paths["AdamW"] = (tr.path, tr.diverged)
    P2, _ = sphere_two_adam(fresh(), Z0, steps, lr_runs, weight_decay, 1.0, beta1, beta2, eps)
    paths["derived 2-Adam"] = (P2, np.zeros(lr_runs.size, bool))
    trc = run_kadam(kadam(lr=lr_runs, k=2, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay), fresh(), Z0,
                    steps)
    paths["cascade 2-Adam"] = (trc.path, trc.diverged)
    P1, _ = sphere_two_adam(fresh(), Z0, steps, lr_runs, weight_decay, 1.0, beta1, beta2, eps, second_level=False)
    paths["fixed angular rate"] = (P1, np.zeros(lr_runs.size, bool))
    last = max(1, int(round(tail * steps)))
    out = {}
    for name, (P, div) in paths.items():
        per_run = gap(P[-last:]).mean(axis=0)
        per_run = np.where(div, np.inf, per_run).reshape(lrs.size, seeds)
        with np.errstate(invalid="ignore"):
            out[name] = {"scores": per_run.mean(axis=1), "stderr": per_run.std(axis=1, ddof=1) / np.sqrt(seeds)}
    return out
