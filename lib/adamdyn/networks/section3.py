r"""Kaiser's section 3 (the noise profile) on the minibatch gradients of a real network.

:func:`traced_run` trains an MLP on the digits with Adam at its defaults, twice: with
epoch-shuffled disjoint minibatches (common practice) and with independently drawn ones.
At every step it computes the full-batch gradient :math:`G(w_t)` beside the minibatch
gradient :math:`g_t`, so that the noise :math:`N_t = g_t - G(w_t)` (Kaiser's Eq. 6) is known
exactly along the run; it records them, Adam's moments and the update for a fixed random
subset of coordinates, the largest :math:`|\Delta w|/\eta` over all coordinates at every step,
and the whole parameter vector at a few checkpoints.

:func:`checkpoint_noise` freezes the network at a checkpoint and computes every per-example
gradient: the exact mean and variance of the minibatch gradient, its skewness and tails (from
sampled minibatches), and an open-loop Adam run on a stream of independent minibatch
gradients at the frozen weights, for the signal-to-noise law of Adam's step
(Balles & Hennig 2018):

.. math::

    \mathbb{E}[u_i] \approx \frac{\mu_i}{\sqrt{\mu_i^2 + \sigma_i^2}}
    = \frac{\operatorname{sgn}\mu_i}{\sqrt{1 + \sigma_i^2/\mu_i^2}},

since :math:`\hat m_i \approx \mu_i` plus noise of mean zero and :math:`\hat v_i \approx
\mu_i^2 + \sigma_i^2`.  The hypercube claim (every step :math:`\pm\eta`) is its limit of large
signal-to-noise ratio.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from .. import optimizers as O
from ..bounds import step_bound
from ..noise import first_moment_variance_limit
from . import data as D
from . import gradient_noise as GN
from . import models as M
from . import training
from . import transforms as T
from ._memo import memoised

__all__ = ["TracedRun", "traced_run", "CheckpointNoise", "checkpoint_noise", "moment_variance", "snr_law", "run_kwargs",
           "window_ratios", "snr_errors", "proposition1",]


@dataclass(frozen=True)
class TracedRun:
    """Result of :func:`traced_run`; arrays have a leading axis over ``samplings``.

    ``g``, ``G``, ``m``, ``v``, ``u`` have shape (runs, steps, n_coords): minibatch gradient, full
    gradient, Adam's (uncorrected) moments and the update per learning rate, at ``coords``;
    ``max_update_over_lr`` is (runs, steps); ``checkpoints`` (runs, n_checkpoints, n_params) are the
    weights after the steps in ``checkpoint_steps`` (step 0 first); ``checkpoint_updates`` (runs, steps,
    n_coords) is |update|/lr of the recorded coordinates at every step.
    """

    samplings: tuple
    coords: np.ndarray
    g: np.ndarray
    G: np.ndarray
    m: np.ndarray
    v: np.ndarray
    u: np.ndarray
    batch_loss: np.ndarray
    full_loss: np.ndarray
    max_update_over_lr: np.ndarray
    checkpoint_steps: np.ndarray
    checkpoints: np.ndarray
    checkpoint_updates: np.ndarray
    setting: dict


@memoised
def traced_run(*, sizes=(64, 32, 32, 10), lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, steps=400, chunk=100,
               batch_size=64, n_coords=256, seed=0, samplings=("epoch", "replacement")) -> TracedRun:
    """Adam on the digits MLP with the full gradient beside the minibatch one at every step (float64)."""
    d = D.digits()
    model = M.mlp(sizes, activation="relu")
    w0, unravel = ravel_pytree(model.init(jax.random.PRNGKey(seed)))
    n_params = w0.size
    coords = np.sort(np.random.default_rng(seed).choice(n_params, size=min(n_coords, n_params), replace=False))
    opt = T.adam(lr, beta1, beta2, eps)
    idx = np.stack([D.batch_indices(d.n_train, batch_size, steps, seed, s) for s in samplings])
    n_chunks = steps // chunk
    if n_chunks * chunk != steps:
        raise ValueError(f"steps ({steps}) must be a multiple of chunk ({chunk})")
    c = jnp.asarray(coords)

    def run(idx, arrays):
        x, y = arrays

        def loss(w, xb, yb):
            return model.loss(unravel(w), xb, yb)

        def step(carry, b):
            w, state = carry
            lb, g = jax.value_and_grad(loss)(w, x[b], y[b])
            lf, G = jax.value_and_grad(loss)(w, x, y)
            upd, state = opt.update(g, state, w)
            _, mu, nu = T.moments_of(state)
            rec = (g[c], G[c], mu[c], nu[c], upd[c] / lr, lb, lf, jnp.max(jnp.abs(upd)) / lr)
            return (w + upd, state), rec

        def block(carry, bs):
            carry, rec = jax.lax.scan(step, carry, bs)
            return carry, (rec, carry[0])

        init = (w0, opt.init(w0))
        _, (rec, ws) = jax.lax.scan(block, init, idx.reshape(n_chunks, chunk, -1))
        rec = jax.tree.map(lambda a: a.reshape((steps,) + a.shape[2:]), rec)
        return rec, ws

    args = (jnp.asarray(idx), (d.x_train, d.y_train))
    rec, ws = training.compile_cpu(jax.vmap(run, in_axes=(0, None)), *args)(*args)
    rec = [np.asarray(a) for a in rec]
    ws = np.asarray(ws)
    ckpt_steps = np.arange(1, n_chunks + 1) * chunk
    ws = np.concatenate([np.broadcast_to(np.asarray(w0), (len(samplings), 1, n_params)), ws], axis=1)
    ckpt_steps = np.r_[0, ckpt_steps]
    setting = dict(model=model.name, n_params=int(n_params), lr=lr, beta1=beta1, beta2=beta2, eps=eps,
                   steps=steps, batch_size=batch_size, n_coords=int(coords.size), n_train=d.n_train, seed=seed)
    return TracedRun(tuple(samplings), coords, *rec[:5], rec[5], rec[6], rec[7], ckpt_steps, ws,
                     np.abs(rec[4]), setting)


def run_kwargs(**overrides) -> tuple:
    """The complete, canonical arguments of :func:`traced_run` (defaults filled in), for :func:`checkpoint_noise`."""
    import inspect

    params = {k: v.default for k, v in inspect.signature(traced_run.__wrapped__).parameters.items()}
    unknown = set(overrides) - set(params)
    if unknown:
        raise ValueError(f"traced_run has no parameters {sorted(unknown)}")
    params.update(overrides)
    return tuple(sorted(params.items()))


def moment_variance(run: TracedRun, which=0, burn_in=100, max_lag=60) -> dict:
    r"""The variance of Adam's first moment along the run against the independent-noise prediction.

    The noise part of :math:`m_t` is :math:`\xi_t = m_t - \text{EMA}_{\beta_1}(G)_t` (exactly
    :math:`\text{EMA}_{\beta_1}(N)_t`, by linearity).  Per coordinate, over the steps after
    ``burn_in``, the ratio :math:`\operatorname{Var}[\xi]/\operatorname{Var}[N]` is compared with
    :math:`(1-\beta_1)/(1+\beta_1)` (Kaiser, independent noise) and with the value that the measured
    autocorrelation of :math:`N` predicts (:func:`adamdyn.networks.gradient_noise.ema_variance_factor`).
    """
    b1 = run.setting["beta1"]
    N = run.g[which] - run.G[which]
    xi = run.m[which] - GN.ema(run.G[which], b1)
    xi_direct = GN.ema(N, b1)
    lin_err = float(np.max(np.abs(xi - xi_direct)) / np.max(np.abs(xi_direct)))
    N, xi = N[burn_in:], xi[burn_in:]
    keep = N.var(axis=0) > 0
    ratio = xi[:, keep].var(axis=0) / N[:, keep].var(axis=0)
    rho = GN.autocorrelation(N[:, keep], max_lag)
    nb = run.setting["n_train"] // run.setting["batch_size"]
    return dict(ratio_median=float(np.median(ratio)), ratio_q=np.quantile(ratio, [0.25, 0.75]), ratio=ratio,
                independent=float(first_moment_variance_limit(b1)),
                from_rho=float(GN.ema_variance_factor(b1, rho)), rho=rho,
                epoch_rho=GN.epoch_autocorrelation(run.setting["n_train"], run.setting["batch_size"], max_lag),
                epoch_factor=float(GN.ema_variance_factor(
                    b1, GN.epoch_autocorrelation(run.setting["n_train"], run.setting["batch_size"], 10 * nb))),
                linearity_error=lin_err)


@dataclass(frozen=True)
class CheckpointNoise:
    """Noise statistics at frozen weights (see :func:`checkpoint_noise`); arrays per coordinate."""

    step: int
    mu: np.ndarray
    sigma: np.ndarray
    example_skew: np.ndarray
    example_kurt: np.ndarray
    batch_skew: np.ndarray
    batch_kurt: np.ndarray
    standardised: np.ndarray
    mean_update: np.ndarray
    predicted_update: np.ndarray


@functools.lru_cache(maxsize=1)
def _checkpoint_model():
    # one Model object for every checkpoint, so that its compiled gradient program is reused
    return M.mlp((64, 32, 32, 10), activation="relu")


@memoised
def checkpoint_noise(*, checkpoint=1, which=0, n_batches=1000, stream_burn_in=200, seed=1,
                     run=None) -> CheckpointNoise:
    """Freeze the network of :func:`traced_run` at a checkpoint: per-example and minibatch gradient noise.

    ``run`` is :func:`run_kwargs` of the traced run (``None``: its defaults).  A stream of ``n_batches``
    independent minibatch gradients at the frozen weights feeds Adam (the library's NumPy rule) for the
    mean step after ``stream_burn_in`` steps.
    """
    run = traced_run(**dict(run if run is not None else run_kwargs()))
    st = run.setting
    d = D.digits()
    model = _checkpoint_model() if "64-32-32-10" in st["model"] else None
    if model is None:
        raise ValueError("checkpoint_noise supports the default traced_run model")
    # the shapes are all unravel needs (an initialisation run op by op would compile every operation)
    shapes = jax.eval_shape(model.init, jax.random.PRNGKey(0))
    _, unravel = ravel_pytree(jax.tree.map(lambda s: np.zeros(s.shape, s.dtype), shapes))
    w = jnp.asarray(run.checkpoints[which, checkpoint])
    P = np.asarray(GN.per_example_gradients(model, unravel(w), d.x_train, d.y_train))
    n, B = P.shape[0], st["batch_size"]
    mu = P.mean(axis=0)
    _, s_ex, skew_ex, kurt_ex = GN.standardised_moments(P)
    sigma = s_ex / np.sqrt(B) * np.sqrt((n - B) / (n - 1))
    idx = D.batch_indices(n, B, n_batches, seed, "replacement")
    S = np.zeros((n_batches, n))
    np.put_along_axis(S, idx, 1.0 / B, axis=1)
    gb = S @ P
    _, _, skew_b, kurt_b = GN.standardised_moments(gb)
    live = sigma > 0
    z = (gb[:, live] - mu[live]) / sigma[live]
    u = -O.updates_from_gradients(O.adam(1.0, st["beta1"], st["beta2"], st["eps"]), gb[:, None, :])[:, 0, :]
    return CheckpointNoise(int(run.checkpoint_steps[checkpoint]), mu, sigma, skew_ex, kurt_ex, skew_b, kurt_b,
                           z.ravel(), u[stream_burn_in:].mean(axis=0), snr_law(mu, sigma))


def snr_law(mu, sigma):
    r""":math:`\mu/\sqrt{\mu^2 + \sigma^2}` (0 where both vanish)."""
    mu, sigma = np.asarray(mu, float), np.asarray(sigma, float)
    den = np.sqrt(mu**2 + sigma**2)
    return np.where(den > 0, mu / np.where(den > 0, den, 1.0), 0.0)


def proposition1(run: TracedRun) -> dict:
    """Largest per-coordinate |update|/lr over the run (all coordinates) against Kaiser's bound."""
    st = run.setting
    bound = float(step_bound(st["beta1"], st["beta2"]))
    worst = float(run.max_update_over_lr.max())
    return dict(bound=bound, worst=worst, fraction_of_bound=worst / bound,
                q999=float(np.quantile(run.checkpoint_updates, 0.999)))


def window_ratios(run: TracedRun, which=0, burn_in=100, n_windows=2) -> np.ndarray:
    """Median over coordinates of Var[xi]/Var[N] in consecutive windows after ``burn_in`` (does it decay?)."""
    b1 = run.setting["beta1"]
    N = run.g[which] - run.G[which]
    xi = run.m[which] - GN.ema(run.G[which], b1)
    out = []
    for part_n, part_xi in zip(np.array_split(N[burn_in:], n_windows), np.array_split(xi[burn_in:], n_windows)):
        keep = part_n.var(axis=0) > 0
        out.append(np.median(part_xi[:, keep].var(axis=0) / part_n[:, keep].var(axis=0)))
    return np.array(out)


def snr_errors(c: CheckpointNoise) -> dict:
    """RMS error of the signal-to-noise law and of the hypercube law (sgn mu) for the mean open-loop step."""
    live = c.sigma > 0
    return dict(snr=float(np.sqrt(np.mean((c.mean_update - c.predicted_update)[live] ** 2))),
                hypercube=float(np.sqrt(np.mean((c.mean_update - np.sign(c.mu))[live] ** 2))))
