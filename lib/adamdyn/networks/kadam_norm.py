r"""k-Adam against a normalisation layer on digits, and the derived 2-Adam as an optax transformation.

The Part II chapter on k-Adam (:mod:`adamdyn.kadam`) derives, for a scale-invariant weight under
AdamW with step :math:`\eta` and weight decay :math:`\lambda`, a second, *global*, momentum-free
normalisation with decay :math:`\rho = (1-\eta\lambda)^2` (:func:`adamdyn.kadam_sphere.sphere_two_adam`):

.. math::

    V_t = \rho V_{t-1} + (1-\rho)\|u_t\|^2,\quad V_0 = (1-\rho)\,n_0^2/\eta^2,\quad
    \Delta_t = -\alpha_t u_t,\quad \alpha_t = \frac{\sqrt{1-\rho}}{(1-\eta\lambda)\sqrt{V_{t-1}}},

with :math:`u_t` Adam's direction.  :func:`scale_by_two_adam` writes it with
:math:`S_t = V_t/(1-\rho)`, i.e. :math:`S_t = \rho S_{t-1} + \|u_t\|^2`, :math:`S_0 = n_0^2/\eta^2`,
:math:`\alpha_t = 1/((1-\eta\lambda)\sqrt{S_{t-1}})`, which is the same number and also defined at
:math:`\lambda = 0` (then :math:`\alpha_t = \eta/\sqrt{n_0^2 + \eta^2\sum_{s<t}\|u_s\|^2}`, the angular
rate :math:`\eta/\|w_{t-1}\|` of a scale-invariant weight whose norm grows by the orthogonal steps).
On the sphere (a projection after each step) it is :func:`adamdyn.kadam_sphere.sphere_two_adam`; here it is
applied to an MLP *without* a normalisation layer, whose whole parameter vector is the one group
(``n_0 = 1``: the first step is Adam's first step at rate :math:`\eta`).

:func:`arms` packs Adam = 1-Adam, the cascade k-Adam for k = 2, 3 (:func:`adamdyn.networks.transforms.kadam`)
and the derived 2-Adam into one transformation selected by a traced index, so that all of them, at
every learning rate and seed, train in one compiled sweep.  :func:`norm_experiment` adds Adam on the
same MLP with a LayerNorm and with a scale-invariant layer (:func:`adamdyn.networks.models.mlp`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from ..validation import check_int, check_nonnegative, check_positive
from . import data as D
from . import models as M
from . import training
from . import transforms as T
from ._memo import memoised

__all__ = ["TwoAdamState", "scale_by_two_adam", "two_adam", "ARMS", "arms", "NORMS", "SETUPS", "apply_selectable",
           "NormExperiment", "norm_experiment", "rate_grid", "tune", "at_rate", "readings", "large_rate_excess",
           "TOLERANCE", "SHARED_RATE", "DEFAULT_RATE", "SHARED_LABEL", "DEFAULT_LABEL",]

#: The optimizers of the plain MLP, in the order of :func:`arms`'s index.
ARMS = ("Adam (k=1)", "k-Adam k=2", "k-Adam k=3", "derived 2-Adam")


class TwoAdamState(NamedTuple):
    """State of :func:`scale_by_two_adam`: the step count, Adam's moments and the global sum :math:`S`."""

    count: jax.Array
    mu: optax.Updates
    nu: optax.Updates
    s: jax.Array


def _adam_direction(mu, nu, g, count, beta1, beta2, eps):
    mu = T.moment_update(mu, g, beta1, 1.0 - beta1)
    nu = T.squared_moment_update(nu, g, beta2, 1.0 - beta2)
    mhat, vhat = T.bias_correct(mu, beta1, count), T.bias_correct(nu, beta2, count)
    return T.normalised_direction(mhat, T.denominator(vhat, eps)), mu, nu


def _sq_norm(tree):
    return sum(jnp.sum(x * x) for x in jax.tree.leaves(tree))


def scale_by_two_adam(lr, weight_decay=0.0, beta1=0.9, beta2=0.999, eps=1e-8, n0=1.0):
    r"""The derived 2-Adam's update :math:`-\alpha_t u_t` (module docstring); no further scaling needed.

    ``lr`` and ``weight_decay`` enter only through :math:`\rho = (1-\eta\lambda)^2` and :math:`S_0`; the
    weights are not decayed (on the sphere the decay acts on the norm only).  All arguments may be traced.
    """
    for name, value, check in (("lr", lr, check_positive), ("weight_decay", weight_decay, check_nonnegative),
                               ("n0", n0, check_positive)):
        if isinstance(value, (int, float)):
            check(name, value)
    if isinstance(lr, (int, float)) and isinstance(weight_decay, (int, float)) and lr * weight_decay >= 1:
        raise ValueError("lr * weight_decay must be < 1")

    def init(params):
        dtype = jax.tree.leaves(params)[0].dtype
        zeros = lambda: jax.tree.map(jnp.zeros_like, params)  # noqa: E731
        s0 = jnp.asarray(n0, dtype) ** 2 / jnp.asarray(lr, dtype) ** 2
        return TwoAdamState(jnp.zeros([], jnp.int32), zeros(), zeros(), s0)

    def update(updates, state, params=None):
        count = optax.safe_increment(state.count)
        u, mu, nu = _adam_direction(state.mu, state.nu, updates, count, beta1, beta2, eps)
        shrink = 1.0 - lr * weight_decay
        alpha = 1.0 / (shrink * jnp.sqrt(state.s))
        s = shrink**2 * state.s + _sq_norm(u)
        return jax.tree.map(lambda x: -alpha * x, u), TwoAdamState(count, mu, nu, s)

    return optax.GradientTransformation(init, update)


two_adam = scale_by_two_adam


class ArmsState(NamedTuple):
    """State of :func:`arms`: three cascade levels and the derived 2-Adam's sum."""

    count: jax.Array
    mu: tuple
    nu: tuple
    s: jax.Array


def arms(lr, arm, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, n0=1.0):
    r"""One transformation for every optimizer of :data:`ARMS`; ``arm`` (possibly traced) selects the update.

    ``arm = 0, 1, 2``: k-Adam with k = 1, 2, 3 (the cascade, every level with the same
    :math:`(\beta_1, \beta_2, \epsilon)`), then decoupled weight decay, times :math:`-\eta`
    (:func:`adamdyn.networks.transforms.kadam`; ``params`` must be passed to ``update``); ``arm = 3``: the derived
    2-Adam :func:`scale_by_two_adam` on the level-1 direction.  Every candidate is computed and one selected,
    the same numbers as the separate transformations (three cascade levels cost little beside the network).
    """

    def init(params):
        dtype = jax.tree.leaves(params)[0].dtype
        zeros = lambda: jax.tree.map(jnp.zeros_like, params)  # noqa: E731
        return ArmsState(jnp.zeros([], jnp.int32), tuple(zeros() for _ in range(3)), tuple(zeros() for _ in range(3)),
                         jnp.asarray(n0, dtype) ** 2 / jnp.asarray(lr, dtype) ** 2)

    def update(updates, state, params=None):
        count = optax.safe_increment(state.count)
        u, levels, mus, nus = updates, [], [], []
        for j in range(3):
            u, mu, nu = _adam_direction(state.mu[j], state.nu[j], u, count, beta1, beta2, eps)
            levels.append(u)
            mus.append(mu)
            nus.append(nu)
        shrink = 1.0 - lr * weight_decay
        alpha = 1.0 / (shrink * jnp.sqrt(state.s))
        s = shrink**2 * state.s + _sq_norm(levels[0])
        a = jnp.round(jnp.asarray(arm))
        # the cascade as adamw / transforms.kadam: -lr (u + lambda w); the derived 2-Adam decays only its S
        cands = [jax.tree.map(lambda x, w: -lr * (x + weight_decay * w), lv, params) for lv in levels]
        cands.append(jax.tree.map(lambda x: -alpha * x, levels[0]))
        out = cands[3]
        for j in (2, 1, 0):
            out = jax.tree.map(lambda c, o, j=j: jnp.where(a == j, c, o), cands[j], out)
        return out, ArmsState(count, tuple(mus), tuple(nus), s)

    return optax.GradientTransformation(init, update)


#: Normalisations of :func:`apply_selectable`, in the order of its traced index.
NORMS = (None, "layernorm", "scale_invariant")
#: Every (model, optimizer) pair of the experiment: (name, normalisation index, arm index).
SETUPS = (("Adam + LayerNorm", 1, 0), ("Adam + scale-invariant layer", 2, 0)) + tuple((a, 0, i) for i, a in enumerate(ARMS))


def apply_selectable(params, x, norm):
    r"""The ReLU MLP of :func:`adamdyn.networks.models.mlp` with its normalisation chosen by a traced index.

    ``norm`` indexes :data:`NORMS`: 0 none, 1 LayerNorm (no gain, :math:`\epsilon = 10^{-5}`), 2 the
    scale-invariant layer :math:`W/\|W\|_F`, after each hidden affine map.  One compiled loop then trains
    all three networks (the same initialisation: :func:`~adamdyn.networks.models.mlp` does not depend on it).
    """
    h = x
    for i, layer in enumerate(params):
        w, last = layer["w"], i == len(params) - 1
        if not last:
            w = jnp.where(norm == 2, w / jnp.sqrt(jnp.sum(w * w)), w)
        h = h @ w + layer["b"]
        if last:
            return h
        mu = jnp.mean(h, axis=1, keepdims=True)
        ln = (h - mu) / jnp.sqrt(jnp.mean((h - mu) ** 2, axis=1, keepdims=True) + 1e-5)
        h = jax.nn.relu(jnp.where(norm == 1, ln, h))


@dataclass(frozen=True)
class NormExperiment:
    """Result of :func:`norm_experiment`.

    ``train_loss``, ``test_accuracy`` (final, full sets) and ``diverged`` have shape
    (setups, weight decays, rates, seeds), in the order of :data:`SETUPS`, ``wds`` and ``lrs``.
    """

    train_loss: np.ndarray
    test_accuracy: np.ndarray
    diverged: np.ndarray
    lrs: np.ndarray
    wds: np.ndarray
    setting: dict

    @property
    def names(self):
        return tuple(n for n, _, _ in SETUPS)

    def final(self, name, wd, field="train_loss"):
        """(rates, seeds) of one setup at weight decay ``wd``; diverged runs count as loss inf, accuracy 0."""
        i, j = self.names.index(name), int(np.flatnonzero(np.isclose(self.wds, wd))[0])
        a = getattr(self, field)[i, j]
        return np.where(self.diverged[i, j], np.inf if field == "train_loss" else 0.0, a)


def rate_grid(lo=-3.0, hi=0.0, per_decade=2):
    """Learning rates :math:`10^{lo}, \\dots, 10^{hi}` in steps of 1/per_decade decades."""
    n = int(round((hi - lo) * per_decade)) + 1
    return 10.0 ** np.round(np.linspace(lo, hi, n), 6)


def _make_run(init, dtype, beta1, beta2, eps):
    def one_run(hp, key, idx, arrays):
        x_tr, y_tr, x_te, y_te = arrays
        lr, wd = jnp.asarray(hp["lr"], dtype), jnp.asarray(hp["wd"], dtype)
        opt = arms(lr, hp["arm"], beta1, beta2, eps, wd)
        w0, unravel = ravel_pytree(init(key, dtype))
        st0 = opt.init(w0)

        def loss(w, x, y):
            return M.cross_entropy(apply_selectable(unravel(w), x, hp["norm"]), y)

        def step(carry, bidx):
            w, st, div = carry
            ell, g = jax.value_and_grad(loss)(w, x_tr[bidx], y_tr[bidx])
            upd, new_st = opt.update(g, st, w)
            new_w = w + upd
            ok = (jnp.all(jnp.isfinite(new_w)) & jnp.isfinite(ell)
                  & (jnp.max(jnp.abs(new_w)) <= training.DIVERGENCE_LIMIT))
            bad = div | ~ok
            keep = lambda old, new: jnp.where(bad, old, new)  # noqa: E731  (frozen after divergence)
            return (keep(w, new_w), jax.tree.map(keep, st, new_st), bad), None

        (w, _, div), _ = jax.lax.scan(step, (w0, st0, jnp.asarray(False)), idx)
        p = unravel(w)
        return (M.cross_entropy(apply_selectable(p, x_tr, hp["norm"]), y_tr),
                M.accuracy(apply_selectable(p, x_te, hp["norm"]), y_te), div)

    return one_run


@memoised
def norm_experiment(*, sizes=(64, 16, 16, 10), steps=150, batch_size=32, seeds=(0, 1, 2, 3, 4),
                    lr_range=(-3.5, -0.5), wds=(0.0, 0.1), beta1=0.9, beta2=0.999, eps=1e-8) -> NormExperiment:
    r"""Every setup of :data:`SETUPS` at every rate, weight decay and seed, in one compiled call (float32).

    The weight decay is decoupled (AdamW's) for Adam and k-Adam, and sets :math:`\rho = (1-\eta\lambda)^2`
    for the derived 2-Adam.  Each seed sets the initialisation and the minibatches, shared by every setup.
    """
    steps = check_int("steps", steps, 1)
    seeds = [check_int("seeds", x, 0) for x in seeds]
    if len(seeds) < 2:
        raise ValueError("seeds must hold at least two seeds (error bars)")
    check_nonnegative("wds", wds)
    lrs, wds = rate_grid(*lr_range), np.asarray(wds, float)
    d = D.digits(dtype=jnp.float32)
    model = M.mlp(sizes, activation="relu")
    rows = [(nm, ar, wd, lr, sd) for _, nm, ar in SETUPS for wd in wds for lr in lrs for sd in seeds]
    hp = {k: jnp.asarray([r[i] for r in rows], jnp.float32) for i, k in enumerate(("norm", "arm", "wd", "lr"))}
    by_seed = {sd: D.batch_indices(d.n_train, batch_size, steps, sd) for sd in seeds}
    idx = jnp.asarray(np.stack([by_seed[r[4]] for r in rows]))
    keys = training._stacked_keys([r[4] for r in rows])
    one_run = _make_run(model.init, jnp.float32, beta1, beta2, eps)
    args = (hp, keys, idx, (d.x_train, d.y_train, d.x_test, d.y_test))
    run = training.compile_cpu(jax.vmap(one_run, in_axes=(0, 0, 0, None)), *args)
    loss, acc, div = (np.asarray(x) for x in run(*args))
    shape = (len(SETUPS), wds.size, lrs.size, len(seeds))
    setting = dict(model=model.name, steps=steps, batch_size=batch_size, seeds=tuple(seeds), beta1=beta1,
                   beta2=beta2, eps=eps, n_train=d.n_train, n_runs=len(rows),
                   n_params=M.n_params(jax.eval_shape(lambda k: model.init(k, jnp.float32), jax.random.PRNGKey(0))))
    return NormExperiment(loss.reshape(shape).astype(float), acc.reshape(shape).astype(float),
                          div.reshape(shape), lrs, wds, setting)


def tune(exp: NormExperiment, wd=0.0, subset=None) -> dict:
    """Per setup at weight decay ``wd``: the rate with the lowest mean final training loss.

    Returns ``{name: dict(best, lr, loss, loss_se, acc, acc_se, edge, mean, se)}`` (``se``: standard error
    over seeds); ``subset`` restricts the grid to those rate indices.
    """
    out = {}
    idx = np.arange(exp.lrs.size) if subset is None else np.asarray(subset)
    for name in exp.names:
        loss, acc = exp.final(name, wd)[idx], exp.final(name, wd, "test_accuracy")[idx]
        n = loss.shape[1]
        with np.errstate(invalid="ignore"):
            mean, se = loss.mean(axis=1), loss.std(axis=1, ddof=1) / np.sqrt(n)
        b = int(np.argmin(mean))
        out[name] = dict(best=int(idx[b]), lr=float(exp.lrs[idx[b]]), loss=float(mean[b]), loss_se=float(se[b]),
                         acc=float(acc[b].mean()), acc_se=float(acc[b].std(ddof=1) / np.sqrt(n)),
                         edge=idx.size > 1 and b in (0, idx.size - 1), mean=mean, se=se)
    return out


def at_rate(exp: NormExperiment, lr, wd=0.0) -> dict:
    """Per setup, the final training loss (mean, standard error) at one shared rate."""
    i = int(np.flatnonzero(np.isclose(exp.lrs, lr))[0])
    return tune(exp, wd, subset=[i])


def _z(a, b):
    return (a["loss"] - b["loss"]) / max(np.hypot(a["loss_se"], b["loss_se"]), 1e-300)


def _rate_tag(lr: float) -> str:
    """A rate in the readings' short form: 0.01 as ``1e-2``."""
    mantissa, exponent = f"{lr:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


#: The rate of the "shared" reading of :func:`readings` (one rate for every setup).
SHARED_RATE = 1e-2
#: torch's default rate for Adam, the "default" reading of :func:`readings` (for every setup).
DEFAULT_RATE = 1e-3
#: The labels of the two readings in :func:`readings` (each followed by ``", wd <weight decay>"``).
SHARED_LABEL = f"shared {_rate_tag(SHARED_RATE)}"
DEFAULT_LABEL = f"default {_rate_tag(DEFAULT_RATE)}"


def readings(exp: NormExperiment) -> dict:
    """For every weight decay: tuned (full grid, even and odd sub-grids), the shared rate
    (:data:`SHARED_RATE`) and Adam's default (:data:`DEFAULT_RATE`), keyed ``"<reading>, wd <wd>"``."""
    n, out = exp.lrs.size, {}
    for wd in exp.wds:
        tag = f", wd {wd:g}"
        out.update({"tuned" + tag: tune(exp, wd), "tuned, even grid" + tag: tune(exp, wd, np.arange(0, n, 2)),
                    "tuned, odd grid" + tag: tune(exp, wd, np.arange(1, n, 2)),
                    SHARED_LABEL + tag: at_rate(exp, SHARED_RATE, wd),
                    DEFAULT_LABEL + tag: at_rate(exp, DEFAULT_RATE, wd)})
    return out


def large_rate_excess(t: dict, lrs, reference_lr) -> dict:
    """Per setup, the largest ratio of its mean final loss to its own tuned loss over the rates >= 10x ``reference_lr``."""
    big = np.asarray(lrs) >= 10 * reference_lr * (1 - 1e-9)
    return {n: float(np.max(v["mean"][big]) / v["loss"]) if big.any() else np.nan for n, v in t.items()}


#: A setup "tolerates" large rates when its loss stays within this factor of its own tuned loss there.
TOLERANCE = 3.0
