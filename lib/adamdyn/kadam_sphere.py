r"""Scale invariance: AdamW on the sphere, where weight decay and the norm make a second normalisation.

For a loss with
:math:`L(cw) = L(w)`, AdamW's norm obeys
:math:`\|w_t\|^2 \approx \rho\|w_{t-1}\|^2 + \eta^2\|u_t\|^2` with
:math:`\rho = (1-\eta\lambda)^2`, so the angular step :math:`\eta/\|w\|` is Adam's
direction divided by a running RMS of its own size: a second, global
normalisation (:func:`sphere_two_adam`).

:func:`tune_on_rayleigh` compares AdamW, that derived two-level method, k-Adam with ``k=2``
(:mod:`adamdyn.kadam`) and a fixed angular rate on the noisy Rayleigh quotient.

References
----------
R. Gould, H. Tanaka, "Continuous-Time Analysis of Adaptive Optimization and
Normalization", arXiv 2411.05746 (2024).  I. Loshchilov, F. Hutter, "Decoupled weight decay
regularization", ICLR 2019.
"""

from __future__ import annotations

import numpy as np

from .kadam import _expand, _out_of_range, kadam, kadam_direction, run_kadam
from .optimizers import DIVERGENCE_LIMIT
from .validation import (
    as_param,
    check_int,
    check_points,
    check_positive,
    check_seed,
    scalar_nonnegative,
    scalar_positive,
)

__all__ = ["rayleigh_loss", "rayleigh_grad", "norm_recursion", "sphere_two_adam", "SpherePath", "noisy_rayleigh",
           "angular_step_size", "interior_best", "tune_on_rayleigh"]


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
    lr = scalar_positive("lr", lr)
    wd = scalar_nonnegative("weight_decay", weight_decay)
    u = np.asarray(u, float)
    rho = (1.0 - lr * wd) ** 2
    out = np.empty((u.shape[0] + 1, u.shape[1]))
    out[0] = as_param("n0", n0) ** 2
    for t in range(u.shape[0]):
        out[t + 1] = rho * out[t] + lr**2 * np.sum(u[t] ** 2, axis=-1)
    return np.sqrt(out)


def _row_norms(x):
    """Euclidean norms along the last axis, kept as a length-1 axis: the operations
    ``np.linalg.norm(x, axis=-1, keepdims=True)`` performs for a real array (the same bits),
    without its dispatch, which costs more than the arithmetic at every step of a run."""
    return np.sqrt(np.add.reduce(x * x, axis=-1, keepdims=True))


def _sphere_out_of_range(z, m, v, V, alpha):
    """Per run: is the new point not finite, or have ``|m|``, ``v``, ``V`` or ``alpha`` left
    ``[-DIVERGENCE_LIMIT, DIVERGENCE_LIMIT]`` (or become NaN)?

    ``z`` is normalised, so its entries are at most 1 in size unless it is not finite: k-Adam's
    check of ``|z|`` against the limit is its finiteness check.
    """
    return _out_of_range(z, m, v) | ~((V <= DIVERGENCE_LIMIT) & (alpha <= DIVERGENCE_LIMIT))


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

    A run whose new point, moments, level :math:`V_t` or step :math:`\alpha_t` is not
    finite or leaves ``[-DIVERGENCE_LIMIT, DIVERGENCE_LIMIT]`` (a gradient that is not
    finite; :math:`V_t` underflowing to 0 under zero gradients, so that
    :math:`\alpha_t = \infty`) is flagged and frozen at its last finite state, as
    :func:`adamdyn.run` does; its later steps :math:`\alpha` are recorded as 0 (no step).

    Returns
    -------
    SpherePath
        The pair ``(path, alphas)``: unit vectors ``(steps+1, runs, dim)`` and steps
        ``(steps, runs)``; also ``.diverged`` (runs,) and ``.diverged_step`` (runs,, -1 if never).
    """
    lr = check_positive("lr", lr)
    wd = scalar_positive("weight_decay", weight_decay)
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
    div = np.zeros(z.shape[0], bool)
    divstep = np.full(z.shape[0], -1, np.int64)
    root_gap, shrink = np.sqrt(1.0 - rho), 1.0 - lr * wd   # constant factors of the angular rate
    for t in range(1, steps + 1):
        with np.errstate(all="ignore"):  # a diverging run is caught below, not warned about
            h = np.asarray(grad_on_sphere(z), float)
            u, mn, vn = kadam_direction(inner, h, m, v, t)
            alpha = root_gap / (shrink * np.sqrt(V))
            zn = z - alpha[:, None] * u
            zn /= _row_norms(zn)
            Vn = rho * V + (1.0 - rho) * np.sum(u * u, axis=1) if second_level else V
            bad = _sphere_out_of_range(zn, mn, vn, Vn, alpha)
        newly = ~div & bad
        div[newly], divstep[newly] = True, t
        if div.any():
            ok = ~div
            z[ok], m[:, ok], v[:, ok], V[ok] = zn[ok], mn[:, ok], vn[:, ok], Vn[ok]
            path[t], alphas[t - 1] = z, np.where(ok, alpha, 0.0)
        else:  # no run frozen: the new state whole (the same values, without the masked copies)
            z, m, v, V = zn, mn, vn, Vn
            path[t], alphas[t - 1] = z, alpha
    return SpherePath(path, alphas, div, divstep)


class SpherePath(tuple):
    """The pair ``(path, alphas)`` of :func:`sphere_two_adam` (so ``path, alphas = ...`` unpacks it),
    with the divergence flags ``diverged`` and steps ``diverged_step`` (-1 if never) as attributes."""

    def __new__(cls, path, alphas, diverged, diverged_step):
        pair = super().__new__(cls, (path, alphas))
        pair.diverged, pair.diverged_step = diverged, diverged_step
        return pair

    @property
    def path(self):
        return self[0]

    @property
    def alphas(self):
        return self[1]


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
        n = _row_norms(w)
        wh = w / n
        gg = h * wh + sigmas[t] * noise[t]
        return (gg - np.sum(gg * wh, axis=-1, keepdims=True) * wh) / n

    return grad


def angular_step_size(path, lr, weight_decay):
    r"""AdamW's angular learning rate on a scale-invariant loss, :math:`\eta/((1-\eta\lambda)\|w_{t-1}\|)`.

    ``path`` has shape ``(T+1, runs, dim)``; returns ``(T, runs)``.
    """
    lr = scalar_positive("lr", lr)
    wd = scalar_nonnegative("weight_decay", weight_decay)
    return lr / ((1.0 - lr * wd) * np.linalg.norm(np.asarray(path)[:-1], axis=-1))


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
    rng = np.random.default_rng(check_seed("seed", seed))
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
    two = sphere_two_adam(fresh(), Z0, steps, lr_runs, weight_decay, 1.0, beta1, beta2, eps)
    paths["derived 2-Adam"] = (two.path, two.diverged)
    trc = run_kadam(kadam(lr=lr_runs, k=2, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay), fresh(), Z0,
                    steps)
    paths["cascade 2-Adam"] = (trc.path, trc.diverged)
    fixed = sphere_two_adam(fresh(), Z0, steps, lr_runs, weight_decay, 1.0, beta1, beta2, eps, second_level=False)
    paths["fixed angular rate"] = (fixed.path, fixed.diverged)
    last = max(1, int(round(tail * steps)))
    out = {}
    for name, (P, div) in paths.items():
        per_run = gap(P[-last:]).mean(axis=0)
        per_run = np.where(div, np.inf, per_run).reshape(lrs.size, seeds)
        with np.errstate(invalid="ignore"):
            out[name] = {"scores": per_run.mean(axis=1), "stderr": per_run.std(axis=1, ddof=1) / np.sqrt(seeds)}
    return out
