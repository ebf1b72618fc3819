r"""Adam at the edge of stability: the preconditioned sharpness of a full-batch MLP (Kaiser, section 6).

Freeze Adam's second moment.  Then Adam is heavy-ball momentum
:math:`m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t`, :math:`w_t = w_{t-1} - \eta P^{-1} m_t` with the
diagonal preconditioner :math:`P = \operatorname{diag}(\sqrt{\hat v} + \epsilon)`, and on a
quadratic its iteration is stable exactly while every eigenvalue of :math:`P^{-1}H` is below

.. math::

    \lambda_{\mathrm{crit}} = \frac{2(1+\beta_1)}{(1-\beta_1)\,\eta}
    \quad(38/\eta \text{ at } \beta_1 = 0.9;\ 2/\eta \text{ for RMSProp}, \beta_1 = 0),

where a root of the momentum recursion's characteristic polynomial crosses :math:`z = -1`: a
period-2 instability (the valleys chapter's frozen-:math:`v` threshold, and Proposition 4's
2-cycle).  Cohen et al. (2022) observe that in full-batch training the *preconditioned
sharpness* :math:`\lambda_{\max}(P^{-1}H)` rises to this threshold and hovers there.

:func:`eos_runs` trains an MLP on a subset of the digits, full batch, with Adam and RMSProp at
several learning rates (one compiled, vmapped ``lax.scan``, float64), and every
``every`` steps estimates :math:`\lambda_{\max}(P^{-1}H)` with :math:`P` the optimizer's own
current preconditioner by power iteration on Hessian-vector products
(:func:`~adamdyn.networks.curvature.hvp`), warm-started from the previous eigenvector (the
toolkit's :func:`~adamdyn.networks.curvature.sharpness` restarts from a random vector, which
needs more iterations per estimate).  The loss is the mean squared error against one-hot
labels, the setting in which the edge of stability is cleanest (Cohen et al. 2021); the
cross-entropy is a reading (``loss="ce"``).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from .. import optimizers as O
from ..validation import check_int
from . import curvature
from . import data as D
from . import models as M
from . import transforms as T
from ._memo import memoised
from .training import DIVERGENCE_LIMIT, LOOP_EMITTER_OPTIONS, _stacked_keys, compile_cpu

__all__ = ["threshold", "threshold_symbolic", "power_iteration", "eos_runs", "EoSRuns", "hover_stats",
           "alternation", "top_flips",]


def threshold(lr, beta1):
    r""":math:`2(1+\beta_1)/((1-\beta_1)\eta)`, the frozen-preconditioner stability limit of :math:`\lambda_{\max}(P^{-1}H)`."""
    return 2.0 * (1.0 + beta1) / ((1.0 - beta1) * lr)


def threshold_symbolic():
    r"""Sympy: the curvature :math:`\lambda` at which heavy ball (EMA momentum) on :math:`\tfrac12\lambda x^2` loses stability.

    The iteration :math:`(m, x) \mapsto (\beta_1 m + (1-\beta_1)\lambda x,\ x - \eta(\beta_1 m + (1-\beta_1)\lambda x))`
    has characteristic polynomial :math:`z^2 - (1 + \beta_1 - \eta(1-\beta_1)\lambda) z + \beta_1`; a root
    leaves the unit disc through :math:`z = -1`.  Returns ``(polynomial, critical lambda)``.
    """
    import sympy as sp

    from ..symbols import beta1 as b1, eta

    z, lam = sp.symbols("z lambda", positive=True)
    A = sp.Matrix([[b1, (1 - b1) * lam], [-eta * b1, 1 - eta * (1 - b1) * lam]])
    poly = sp.expand((A - z * sp.eye(2)).det())
    crit = sp.solve(sp.Eq(poly.subs(z, -1), 0), lam)
    return sp.collect(poly, z), sp.simplify(crit[0])


def power_iteration(op, q, iters):
    """``iters`` steps of power iteration of the symmetric ``op`` from ``q``; returns (Rayleigh quotient, vector)."""

    def body(_, q):
        z = op(q)
        return z / jnp.linalg.norm(z)

    q = jax.lax.fori_loop(0, iters, body, q / jnp.linalg.norm(q))
    return jnp.vdot(q, op(q)), q


def _mse(logits, y, n_classes):
    return 0.5 * jnp.mean(jnp.sum((logits - jax.nn.one_hot(y, n_classes, dtype=logits.dtype)) ** 2, axis=1))


def _make_run(model, loss_kind, n_classes, steps, every, iters, dtype):
    def one_run(hp, key, x, y):
        hp = {k: jnp.asarray(v, dtype) for k, v in hp.items()}
        opt = T.generic(**hp)
        w0, unravel = ravel_pytree(model.init(key, dtype))

        def loss(w):
            logits = model.apply(unravel(w), x)
            return _mse(logits, y, n_classes) if loss_kind == "mse" else M.cross_entropy(logits, y)

        def precond_sharpness(w, state, q):
            count, _, nu = T.moments_of(state)
            vhat = jnp.where(hp["bias2"] > 0.5, nu / (1.0 - hp["b2"] ** count.astype(dtype)), nu)
            scale = 1.0 / jnp.sqrt(jnp.sqrt(vhat) + hp["eps"])
            op = lambda u: scale * curvature.hvp(loss, w, scale * u)  # noqa: E731  P^-1/2 H P^-1/2
            return power_iteration(op, q, iters)

        def step(carry, _):
            w, st, bad, _, u_last = carry  # (the update before last drops out)
            f, g = jax.value_and_grad(loss)(w)
            upd, new_st = opt.update(g, st, w)
            new_w = w + upd
            ok = jnp.all(jnp.isfinite(new_w)) & (jnp.max(jnp.abs(new_w)) <= DIVERGENCE_LIMIT) & jnp.isfinite(f)
            now_bad = bad | ~ok
            w = jnp.where(now_bad, w, new_w)
            st = jax.tree.map(lambda a, b: jnp.where(now_bad, a, b), st, new_st)
            upd = jnp.where(now_bad, u_last, upd)
            return (w, st, now_bad, u_last, upd), f

        def chunk(carry, _):
            inner, q = carry
            inner, fs = jax.lax.scan(step, inner, None, length=every)
            w, st, _, u_prev, u_last = inner
            lam, q = precond_sharpness(w, st, q)
            # the last two updates along the top eigenvector of P^-1/2 H P^-1/2, mapped back (P^-1/2 q)
            count, _, nu = T.moments_of(st)
            vhat = jnp.where(hp["bias2"] > 0.5, nu / (1.0 - hp["b2"] ** count.astype(dtype)), nu)
            direction = q / jnp.sqrt(jnp.sqrt(vhat) + hp["eps"])
            direction = direction / jnp.linalg.norm(direction)
            proj = jnp.stack([jnp.vdot(u_prev, direction), jnp.vdot(u_last, direction), jnp.linalg.norm(u_last)])
            return (inner, q), (fs, lam, proj)

        q0 = jax.random.normal(jax.random.fold_in(key, 1), w0.shape, dtype)
        zero = jnp.zeros_like(w0)
        carry = ((w0, opt.init(w0), jnp.asarray(False), zero, zero), q0)
        (carry, _), (fs, lam, proj) = jax.lax.scan(chunk, carry, None, length=steps // every)
        return fs.reshape(-1), lam, proj, carry[2]

    return one_run


@dataclass(frozen=True)
class EoSRuns:
    """Result of :func:`eos_runs`, one row per run.

    ``loss`` (R, steps) is :math:`L(w_{t-1})` at step t (the full batch); ``sharpness`` (R, K) is
    :math:`\\lambda_{\\max}(P^{-1}H)` after steps ``eval_steps``; ``threshold`` (R,) is
    :math:`2(1+\\beta_1)/((1-\\beta_1)\\eta)`; ``top_projection`` (R, K, 3) holds, at the same
    steps, the last two updates' components along the top eigenvector (in weight space) and the last
    update's norm; ``names``, ``lr``, ``beta1``, ``beta2`` per run.
    """

    names: tuple
    lr: np.ndarray
    beta1: np.ndarray
    beta2: np.ndarray
    loss: np.ndarray
    sharpness: np.ndarray
    top_projection: np.ndarray
    eval_steps: np.ndarray
    threshold: np.ndarray
    diverged: np.ndarray
    setting: dict


def _optimizers(adam_lrs, rmsprop_lrs, adam_beta2s, rmsprop_decays, eps):
    opts, names, b1, b2, lrs = [], [], [], [], []
    for beta2 in adam_beta2s:
        opts.append(O.adam(np.asarray(adam_lrs, float), 0.9, beta2, eps))
        names += [f"Adam (beta2 {beta2:g})"] * len(adam_lrs)
        b1 += [0.9] * len(adam_lrs)
        b2 += [beta2] * len(adam_lrs)
        lrs += list(adam_lrs)
    for decay in rmsprop_decays:
        opts.append(O.rmsprop(np.asarray(rmsprop_lrs, float), decay, eps))
        names += [f"RMSProp (decay {decay:g})"] * len(rmsprop_lrs)
        b1 += [0.0] * len(rmsprop_lrs)
        b2 += [decay] * len(rmsprop_lrs)
        lrs += list(rmsprop_lrs)
    return O.combine(*opts), tuple(names), np.array(lrs, float), np.array(b1), np.array(b2)


@memoised
def eos_runs(*, n_train=200, sizes=(64, 32, 10), activation="tanh", loss="mse", steps=1000, every=20, iters=8,
             adam_lrs=(1e-3, 3e-3, 1e-2), rmsprop_lrs=(1e-3, 3e-3, 1e-2), adam_beta2s=(0.999, 0.99),
             rmsprop_decays=(0.999, 0.99), eps=1e-8, seed=0) -> EoSRuns:
    """Full-batch Adam and RMSProp runs with the preconditioned sharpness every ``every`` steps (float64)."""
    steps, every = check_int("steps", steps, 1), check_int("every", every, 1)
    iters, n_train = check_int("iters", iters, 1), check_int("n_train", n_train, 10)
    if steps % every:
        raise ValueError(f"steps ({steps}) must be a multiple of every ({every})")
    if loss not in ("mse", "ce"):
        raise ValueError(f"loss must be 'mse' or 'ce', got {loss!r}")
    if not eps > 0:
        raise ValueError(f"eps must be > 0 (the preconditioner sqrt(v) + eps), got {eps}")
    d = D.digits()
    if n_train > d.n_train:
        raise ValueError(f"n_train must be at most {d.n_train}, got {n_train}")
    x, y = d.x_train[:n_train], d.y_train[:n_train]
    model = M.mlp(sizes, activation=activation)
    batch, names, lrs, b1, b2 = _optimizers(adam_lrs, rmsprop_lrs, adam_beta2s, rmsprop_decays, eps)
    hp = T.library_hparams(batch)
    keys = _stacked_keys([seed] * lrs.size)
    one = _make_run(model, loss, d.n_classes, steps, every, iters, jnp.float64)
    args = (hp, keys, x, y)
    run = compile_cpu(jax.vmap(one, in_axes=(0, 0, None, None)), *args, options=LOOP_EMITTER_OPTIONS)
    fs, lam, proj, bad = (np.asarray(a) for a in run(*args))
    setting = dict(n_train=n_train, model=model.name, loss=loss, steps=steps, every=every, iters=iters, eps=eps,
                   seed=seed, n_params=M.n_params(jax.eval_shape(model.init, jax.random.PRNGKey(0))))
    return EoSRuns(names, lrs, b1, b2, fs, lam, proj, np.arange(every, steps + 1, every), threshold(lrs, b1), bad,
                   setting)


def hover_stats(runs: EoSRuns, i, window=0.5):
    """Run ``i``: max and median of :math:`\\lambda/\\lambda_{crit}` over the last ``window`` of the run, and the first
    evaluation step where it reaches 0.9 (``inf`` if never)."""
    r = runs.sharpness[i] / runs.threshold[i]
    tail = r[int((1 - window) * r.size):]
    hit = np.flatnonzero(r >= 0.9)
    return float(np.max(r)), float(np.median(tail)), float(runs.eval_steps[hit[0]]) if hit.size else np.inf


def alternation(loss, window=0.5):
    r"""Fraction of steps in the last ``window`` where the loss change flips sign (1: period 2; 0: monotone).

    Also returns the relative amplitude of the alternating part, the median of
    :math:`|L_{t+1} - 2L_t + L_{t-1}| / (4 L_t)`.
    """
    f = np.asarray(loss)[int((1 - window) * len(loss)):]
    d = np.diff(f)
    flips = np.mean(d[1:] * d[:-1] < 0)
    amp = np.median(np.abs(f[2:] - 2 * f[1:-1] + f[:-2]) / (4 * np.abs(f[1:-1])))
    return float(flips), float(amp)


def top_flips(runs: EoSRuns, i, window=0.5):
    """Run ``i``: fraction of evaluation points in the last ``window`` where the update along the top eigenvector
    flips sign between consecutive steps, and the median share of the update's norm along it."""
    p = runs.top_projection[i][int((1 - window) * runs.top_projection.shape[1]):]
    flips = np.mean(p[:, 0] * p[:, 1] < 0)
    share = np.median(np.abs(p[:, 1]) / np.maximum(p[:, 2], 1e-300))
    return float(flips), float(share)
