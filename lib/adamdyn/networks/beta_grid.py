r"""The stable region :math:`\beta_1^2 < \beta_2` in closed-loop training: a (beta1, beta2) grid on digits.

The Part II chapter on the stable region (:mod:`adamdyn.stability`) derives, open loop and
for :math:`\epsilon = 0`, that :math:`\sup_g |u_t|` stays bounded iff :math:`\beta_1^2 < \beta_2`
and otherwise grows like :math:`(\beta_1/\sqrt{\beta_2})^t`, a rate
:math:`\tfrac12\ln(\beta_1^2/\beta_2)` per step.  The worst history has gradients of one sign
shrinking by :math:`\beta_2/\beta_1` per step; a gradient that *vanishes* is the limiting case:
with :math:`g = 0` from step :math:`s` on, :math:`m` decays by :math:`\beta_1` and
:math:`\sqrt v` by :math:`\sqrt{\beta_2}` per step, so

.. math:: |u_{s+n}| \approx |u_s|\,\bigl(\beta_1/\sqrt{\beta_2}\bigr)^{n}
   \quad\text{while}\quad \sqrt{\hat v_{s+n}} \gg \epsilon

(up to the bias corrections), which grows at the open-loop rate until :math:`\sqrt{v}` falls to :math:`\epsilon`, after which the
update is :math:`\hat m/\epsilon` and decays by :math:`\beta_1` (:func:`silent_coordinate_updates`
is the exact recursion).  A ReLU unit that stops firing has exactly zero gradient, so an MLP
supplies such histories by itself.

:func:`beta_grid_experiment` trains one small ReLU MLP on digits at every point of a 2-D grid
of :math:`(\beta_1, \beta_2)`, for each :math:`\epsilon` and learning rate given, in one
compiled, vmapped loop (float32).  Per step it records the largest :math:`|\Delta w_i|/\eta`, the
update norm over :math:`\eta` and the gradient norm; over the run, each coordinate's largest
:math:`|\Delta w_i|/\eta`; at the step of the run's largest update, the gradient of that
coordinate (zero: a silent unit) and the fraction of exactly-zero gradients.
:func:`claims` turns the grid into ledger rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from .. import bounds as B
from ..validation import (
    check_beta,
    check_int,
    check_nonnegative,
    check_positive,
    scalar_beta,
    scalar_nonnegative,
)
from . import data as D
from . import models as M
from . import training
from . import transforms as T
from ._memo import memoised

__all__ = ["BetaGrid", "beta_grid_experiment", "silent_coordinate_updates", "burst_slopes", "summary",]


@dataclass(frozen=True)
class BetaGrid:
    """Result of :func:`beta_grid_experiment`; run ``r`` has ``beta1[r]``, ``beta2[r]``, ``eps[r]``, ``lr[r]``.

    Per-step arrays (R, steps): ``max_update`` (:math:`\\max_i|\\Delta w_i|/\\eta`), ``update_norm``
    (:math:`\\|\\Delta w\\|/\\eta`), ``grad_norm``.  Per run (R,): ``train_loss``, ``test_accuracy``
    (final), ``peak_grad`` (|g| of the coordinate of the run's largest update, at that step),
    ``peak_zero_frac`` (fraction of exactly zero gradient coordinates at that step), ``peak_coord``,
    ``diverged``.  ``coord_max`` (R, P): each coordinate's largest :math:`|\\Delta w_i|/\\eta`;
    ``coord_layer`` (P,): the name of the parameter array each coordinate belongs to.
    """

    beta1: np.ndarray
    beta2: np.ndarray
    eps: np.ndarray
    lr: np.ndarray
    max_update: np.ndarray
    update_norm: np.ndarray
    grad_norm: np.ndarray
    train_loss: np.ndarray
    test_accuracy: np.ndarray
    peak_grad: np.ndarray
    peak_zero_frac: np.ndarray
    peak_coord: np.ndarray
    coord_max: np.ndarray
    coord_layer: np.ndarray
    diverged: np.ndarray
    setting: dict

    @property
    def inside(self) -> np.ndarray:
        """True where :math:`\\beta_1^2 < \\beta_2` (our open-loop stable region)."""
        return self.beta1**2 < self.beta2

    @property
    def predicted_rate(self) -> np.ndarray:
        """Open-loop growth rate :math:`\\max(0, \\tfrac12\\ln(\\beta_1^2/\\beta_2))` per step."""
        return np.maximum(0.0, 0.5 * np.log(np.maximum(self.beta1, 1e-150) ** 2 / self.beta2))

    @property
    def open_loop_bound(self) -> np.ndarray:
        """Kaiser's Proposition 1 bound :func:`adamdyn.bounds.step_bound` (inf outside)."""
        return B.step_bound(self.beta1, self.beta2)


def _layer_names(params) -> np.ndarray:
    # ravel_pytree's order: the leaves in turn, each in C order
    flat_ids = np.concatenate([np.full(int(np.prod(p.shape)), i) for i, p in enumerate(jax.tree.leaves(params))])
    paths = [jax.tree_util.keystr(k) for k, _ in jax.tree_util.tree_flatten_with_path(params)[0]]
    # "[0]['w']" -> "layer 1 w"
    labels = [f"layer {int(p.split(']')[0][1:]) + 1} {p.split(chr(39))[1]}" for p in paths]
    return np.array(labels)[flat_ids]


def _make_run(model, dtype):
    def one_run(hp, key, idx, arrays):
        x_tr, y_tr, x_te, y_te = arrays
        lr = jnp.asarray(hp["lr"], dtype)
        opt = T.adam(lr, jnp.asarray(hp["beta1"], dtype), jnp.asarray(hp["beta2"], dtype), jnp.asarray(hp["eps"], dtype))
        w0, unravel = ravel_pytree(model.init(key, dtype))
        state = opt.init(w0)

        def loss(w, x, y):
            return model.loss(unravel(w), x, y)

        def step(carry, bidx):
            w, st, div, cmax, peak = carry
            ell, g = jax.value_and_grad(loss)(w, x_tr[bidx], y_tr[bidx])
            upd, new_st = opt.update(g, st, w)
            new_w = w + upd
            ok = (jnp.all(jnp.isfinite(new_w)) & jnp.isfinite(ell) & jnp.all(jnp.isfinite(upd))
                  & (jnp.max(jnp.abs(new_w)) <= training.DIVERGENCE_LIMIT))
            bad = div | ~ok
            a = jnp.abs(upd) / lr
            i = jnp.argmax(a)
            diag = jnp.stack([a[i], jnp.sqrt(jnp.sum(upd * upd)) / lr, jnp.sqrt(jnp.sum(g * g))])
            new_peak = jnp.where(a[i] > peak[0], jnp.stack([a[i], jnp.abs(g[i]), jnp.mean(g == 0),
                                                            i.astype(dtype)]), peak)
            keep = lambda old, new: jnp.where(bad, old, new)  # noqa: E731  (frozen after divergence)
            return (keep(w, new_w), jax.tree.map(keep, st, new_st), bad, keep(cmax, jnp.maximum(cmax, a)),
                    keep(peak, new_peak)), jnp.where(bad, jnp.zeros_like(diag), diag)

        carry0 = (w0, state, jnp.asarray(False), jnp.zeros_like(w0), jnp.zeros(4, dtype))
        (w, _, div, cmax, peak), diags = jax.lax.scan(step, carry0, idx)
        p = unravel(w)
        acc = M.accuracy(model.apply(p, x_te), y_te)
        return diags, model.loss(p, x_tr, y_tr), acc, peak, cmax, div

    return one_run


@memoised
def beta_grid_experiment(*, sizes=(64, 16, 10), n_beta1=10, n_beta2=10, beta1_range=(0.0, 0.99),
                         beta2_range=(0.1, 0.999), eps_values=(1e-8, 1e-3), lrs=(1e-3, 1e-2), steps=250,
                         batch_size=32, seed=0) -> BetaGrid:
    """Adam (bias-corrected, :math:`\\epsilon` outside the root) on a ReLU MLP at every grid point (float32).

    The grid is ``n_beta1 x n_beta2`` evenly spaced :math:`(\\beta_1, \\beta_2)` over the given ranges, times
    every ``eps`` and every learning rate; one seed (initialisation and minibatches are the same for all).
    """
    n1, n2 = check_int("n_beta1", n_beta1, 2), check_int("n_beta2", n_beta2, 2)
    b1s = np.linspace(*beta1_range, n1)
    b2s = np.linspace(*beta2_range, n2)
    check_beta("beta1_range", b1s), check_beta("beta2_range", b2s)
    check_nonnegative("eps_values", eps_values), check_positive("lrs", lrs)
    steps, batch_size = check_int("steps", steps, 2), check_int("batch_size", batch_size, 1)
    hp = training.grid(lr=list(lrs), eps=list(eps_values), beta1=b1s, beta2=b2s)
    d = D.digits(dtype=jnp.float32)
    model = M.mlp(sizes, activation="relu")
    idx = jnp.asarray(D.batch_indices(d.n_train, batch_size, steps, check_int("seed", seed, 0)))
    key = jax.random.PRNGKey(seed)
    one_run = _make_run(model, jnp.float32)
    arrays = (d.x_train, d.y_train, d.x_test, d.y_test)
    hp32 = {k: jnp.asarray(v, jnp.float32) for k, v in hp.items()}
    args = (hp32, key, idx, arrays)
    run = training.compile_cpu(jax.vmap(one_run, in_axes=(0, None, None, None)), *args)
    diags, loss, acc, peak, cmax, div = (np.asarray(x) for x in run(*args))
    params0 = jax.eval_shape(lambda k: model.init(k, jnp.float32), key)  # shapes only: nothing to compile
    setting = dict(model=model.name, n_params=M.n_params(params0), steps=steps, batch_size=batch_size,
                   seed=seed, n_beta1=n1, n_beta2=n2, beta1_values=b1s, beta2_values=b2s,
                   eps_values=tuple(eps_values), lrs=tuple(lrs), n_train=d.n_train)
    f64 = lambda a: np.asarray(a, float)  # noqa: E731
    return BetaGrid(hp["beta1"], hp["beta2"], hp["eps"], hp["lr"], f64(diags[..., 0]), f64(diags[..., 1]),
                    f64(diags[..., 2]), f64(loss), f64(acc), f64(peak[:, 1]), f64(peak[:, 2]),
                    peak[:, 3].astype(int), cmax, _layer_names(params0), div.astype(bool), setting)


def silent_coordinate_updates(beta1, beta2, eps, m0, v0, t0, n):
    r"""Exact :math:`|u|` of one Adam coordinate whose gradient is zero from step ``t0 + 1`` on.

    Plain recursion (a reference, independent of the optax code): :math:`m \leftarrow \beta_1 m`,
    :math:`v \leftarrow \beta_2 v`, :math:`u_t = \hat m_t/(\sqrt{\hat v_t}+\epsilon)` with bias
    correction at :math:`t = t_0+1, \dots, t_0+n`.  Returns an array of length ``n``.
    """
    b1, b2 = scalar_beta("beta1", beta1), scalar_beta("beta2", beta2)
    eps = scalar_nonnegative("eps", eps)
    m, v, out = float(m0), float(v0), []
    for t in range(int(t0) + 1, int(t0) + int(n) + 1):
        m, v = b1 * m, b2 * v
        mhat, vhat = m / (1 - b1**t), v / (1 - b2**t)
        out.append(abs(mhat) / (np.sqrt(vhat) + eps))
    return np.array(out)


def burst_slopes(max_update, window=10, fastest=False):
    r"""Slope of :math:`\ln\max_i|\Delta w_i|/\eta` per step over ``window`` steps, per run.

    ``fastest=False``: the window that ends at the run's peak; ``fastest=True``: the steepest window
    that ends at or before the peak.  NaN where the peak comes within the first ``window`` steps.
    """
    window = check_int("window", window, 1)
    u = np.asarray(max_update, float)
    t = u.argmax(axis=1)
    lu = np.log(np.maximum(u, 1e-300))
    rows = np.arange(u.shape[0])
    if fastest:
        d = (lu[:, window:] - lu[:, :-window]) / window  # d[:, j]: window ending at step j + window
        ends = np.arange(window, u.shape[1])[None, :]
        d = np.where(ends <= t[:, None], d, -np.inf)
        best = d.max(axis=1) if d.shape[1] else np.full(u.shape[0], -np.inf)
        return np.where(t >= window, best, np.nan)
    with np.errstate(invalid="ignore"):
        return np.where(t >= window, (lu[rows, t] - lu[rows, np.maximum(t - window, 0)]) / window, np.nan)


def summary(g: BetaGrid, window=10, grow_factor=10.0) -> dict:
    """The numbers the verdicts rest on, per (eps, lr) reading: see the chapter for each definition."""
    out = {}
    peak = g.max_update.max(axis=1)
    slope = burst_slopes(g.max_update, window)
    fast = burst_slopes(g.max_update, window, fastest=True)
    bound = g.open_loop_bound
    for e in g.setting["eps_values"]:
        for lr in g.setting["lrs"]:
            sel = np.isclose(g.eps, e) & np.isclose(g.lr, lr)
            ins, out_ = sel & g.inside, sel & ~g.inside
            top_in = peak[ins].max()
            burst = out_ & (peak > grow_factor * top_in) & np.isfinite(slope) & (g.predicted_rate > 0)
            ratio = slope[burst] / g.predicted_rate[burst]
            out[(e, lr)] = dict(
                n_inside=int(ins.sum()), n_outside=int(out_.sum()),
                in_over_bound=float(np.max(peak[ins] / bound[ins])), in_max=float(top_in),
                out_max=float(peak[out_].max()), out_median=float(np.median(peak[out_])),
                frac_out_above=float(np.mean(peak[out_] > grow_factor * top_in)),
                n_burst=int(burst.sum()), rate_ratio_median=float(np.median(ratio)) if ratio.size else np.nan,
                rate_ratio_lo=float(np.percentile(ratio, 10)) if ratio.size else np.nan,
                rate_ratio_hi=float(np.percentile(ratio, 90)) if ratio.size else np.nan,
                fast_ratio_median=float(np.median(fast[burst] / g.predicted_rate[burst])) if ratio.size else np.nan,
                silent_frac=float(np.mean(g.peak_grad[burst] == 0)) if burst.any() else np.nan,
                loss_in=float(np.median(g.train_loss[ins & ~g.diverged])),
                loss_out=float(np.median(g.train_loss[out_ & ~g.diverged])),
                acc_in=float(np.median(g.test_accuracy[ins & ~g.diverged])),
                acc_out=float(np.median(g.test_accuracy[out_ & ~g.diverged])),
                n_diverged=int(g.diverged[sel].sum()),
                loss_burst=float(np.median(g.train_loss[burst])) if burst.any() else np.nan,
            )
    return out
