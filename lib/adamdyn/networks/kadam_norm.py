r"""k-Adam against a normalisation layer on digits, and the derived 2-Adam as an optax transformation.

The Part II chapter on k-Adam (:mod:`adamdyn.kadam`) derives, for a scale-invariant weight under
AdamW with step :math:`\eta` and weight decay :math:`\lambda`, a second, *global*, momentum-free
normalisation with decay :math:`\rho = (1-\eta\lambda)^2` (:func:`adamdyn.kadam.sphere_two_adam`):

.. math::

    V_t = \rho V_{t-1} + (1-\rho)\|u_t\|^2,\quad V_0 = (1-\rho)\,n_0^2/\eta^2,\quad
    \Delta_t = -\alpha_t u_t,\quad \alpha_t = \frac{\sqrt{1-\rho}}{(1-\eta\lambda)\sqrt{V_{t-1}}},

with :math:`u_t` Adam's direction.  :func:`scale_by_two_adam` writes it with
:math:`S_t = V_t/(1-\rho)`, i.e. :math:`S_t = \rho S_{t-1} + \|u_t\|^2`, :math:`S_0 = n_0^2/\eta^2`,
:math:`\alpha_t = 1/((1-\eta\lambda)\sqrt{S_{t-1}})`, which is the same number and also defined at
:math:`\lambda = 0` (then :math:`\alpha_t = \eta/\sqrt{n_0^2 + \eta^2\sum_{s<t}\|u_s\|^2}`, the angular
rate :math:`\eta/\|w_{t-1}\|` of a scale-invariant weight whose norm grows by the orthogonal steps).
On the sphere (a projection after each step) it is :func:`adamdyn.kadam.sphere_two_adam`; here it is
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

from ..validation import check_int, check_nonnegative, check_positive
from . import data as D
from . import models as M
from . import training
from . import transforms as T
from ._memo import memoised

__all__ = ["TwoAdamState", "scale_by_two_adam", "two_adam", "ARMS", "arms", "NormExperiment", "norm_experiment",
           "tune", "claims"]

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
    :math:`(\beta_1, \beta_2, \epsilon)`, no weight decay), times :math:`-\eta`; ``arm = 3``: the derived
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
        cands = [jax.tree.map(lambda x: -lr * x, lv) for lv in levels] + [jax.tree.map(lambda x: -alpha * x, levels[0])]
        out = cands[3]
        for j in (2, 1, 0):
            out = jax.tree.map(lambda c, o, j=j: jnp.where(a == j, c, o), cands[j], out)
        return out, ArmsState(count, tuple(mus), tuple(nus), s)

    return optax.GradientTransformation(init, update)


@dataclass(frozen=True)
class NormExperiment:
    """Result of :func:`norm_experiment`: ``names`` and ``lr`` per grid point, one sweep per model, the setting."""

    plain: training.SweepResult
    layernorm: training.SweepResult
    scale_invariant: training.SweepResult
    lrs: np.ndarray
    setting: dict

    def curves(self, name, field="train_loss"):
        """``field`` per learning rate and seed, (n_lrs, seeds, ...), for one optimizer/model name."""
        n = self.lrs.size
        if name == "Adam + LayerNorm":
            return self.layernorm.by_point(field)
        if name == "Adam + scale-invariant layer":
            return self.scale_invariant.by_point(field)
        i = ARMS.index(name)
        return self.plain.by_point(field)[i * n:(i + 1) * n]

    @property
    def names(self):
        return ("Adam + LayerNorm", "Adam + scale-invariant layer") + ARMS


def rate_grid(lo=-3.0, hi=0.0, per_decade=2):
    """Learning rates :math:`10^{lo}, \\dots, 10^{hi}` in steps of 1/per_decade decades."""
    n = int(round((hi - lo) * per_decade)) + 1
    return 10.0 ** np.round(np.linspace(lo, hi, n), 6)


@memoised
def norm_experiment(*, sizes=(64, 16, 16, 10), steps=150, batch_size=32, eval_every=150, seeds=(0, 1, 2, 3, 4),
                    lr_range=(-3.5, -0.5), beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0) -> NormExperiment:
    """Every optimizer of :data:`ARMS` on the plain ReLU MLP and Adam on its two normalised versions (float32)."""
    steps = check_int("steps", steps, 1)
    lrs = rate_grid(*lr_range)
    d = D.digits(dtype=jnp.float32)
    kw = dict(seeds=tuple(seeds), steps=steps, batch_size=batch_size, eval_every=eval_every)
    hp = training.grid(arm=np.arange(len(ARMS)), lr=lrs)
    plain = training.sweep(M.mlp(sizes, activation="relu"),
                           lambda lr, arm: arms(lr, arm, beta1, beta2, eps, weight_decay), d, hp, **kw)
    adam = lambda lr: T.adamw(lr, beta1, beta2, eps, weight_decay)  # noqa: E731  (adamw with 0 decay is adam)
    ln = training.sweep(M.mlp(sizes, activation="relu", norm="layernorm"), adam, d, {"lr": lrs}, **kw)
    si = training.sweep(M.mlp(sizes, activation="relu", norm="scale_invariant"), adam, d, {"lr": lrs}, **kw)
    setting = dict(model=M.mlp(sizes, activation="relu").name, steps=steps, batch_size=batch_size, seeds=tuple(seeds),
                   beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay, n_train=d.n_train,
                   n_params=M.n_params(jax.tree.map(lambda p: p[0], plain.params)))
    return NormExperiment(plain, ln, si, lrs, setting)


def _final(exp, name, field="train_loss"):
    c = exp.curves(name, field)[..., -1]
    div = exp.curves(name, "diverged")
    return np.where(div, np.inf if field == "train_loss" else 0.0, c)


def tune(exp: NormExperiment, subset=None) -> dict:
    """Per optimizer: the rate with the lowest mean final training loss, ``(best index, mean, std-error, on edge)``.

    Also the test accuracy at that rate (mean, std-error) and the whole curve of means over the rates.
    """
    out = {}
    idx = np.arange(exp.lrs.size) if subset is None else np.asarray(subset)
    for name in exp.names:
        loss, acc = _final(exp, name)[idx], _final(exp, name, "test_accuracy")[idx]
        n = loss.shape[1]
        mean, se = loss.mean(axis=1), loss.std(axis=1, ddof=1) / np.sqrt(n)
        b = int(np.argmin(mean))
        out[name] = dict(best=int(idx[b]), lr=float(exp.lrs[idx[b]]), loss=float(mean[b]), loss_se=float(se[b]),
                         acc=float(acc[b].mean()), acc_se=float(acc[b].std(ddof=1) / np.sqrt(n)),
                         edge=b in (0, idx.size - 1), mean=mean, se=se)
    return out


def at_rate(exp: NormExperiment, lr) -> dict:
    """Per optimizer, the mean and standard error of the final training loss at one shared rate."""
    i = int(np.flatnonzero(np.isclose(exp.lrs, lr))[0])
    return tune(exp, subset=[i])


def _z(a, b):
    return (a["loss"] - b["loss"]) / max(np.hypot(a["loss_se"], b["loss_se"]), 1e-300)


def readings(exp: NormExperiment) -> dict:
    """Tuned (full grid, even and odd sub-grids), shared 1e-2, and Adam's default 1e-3."""
    n = exp.lrs.size
    return {"tuned": tune(exp), "tuned, even grid": tune(exp, np.arange(0, n, 2)),
            "tuned, odd grid": tune(exp, np.arange(1, n, 2)), "shared 1e-2": at_rate(exp, 1e-2),
            "default 1e-3": at_rate(exp, 1e-3)}


def claims() -> list:
    """Part III rows for 2-Adam against a normalisation layer and for k-Adam against Adam, at the chapter's defaults."""
    from ..claims import Claim

    exp = norm_experiment()
    reads = readings(exp)
    norm_names = ("Adam + LayerNorm", "Adam + scale-invariant layer")
    rep, beats = [], []
    for label, t in reads.items():
        d2, adam = t["derived 2-Adam"], t["Adam (k=1)"]
        # "reproduces the layer's effect": 2-Adam's gain over Adam is at least half the layer's, and 2-Adam is
        # not more than 2 standard errors worse than the normalised network
        for nn in norm_names:
            gain_layer = adam["loss"] - t[nn]["loss"]
            gain_two = adam["loss"] - d2["loss"]
            rep.append((label, nn, gain_layer > 0 and gain_two >= 0.5 * gain_layer and _z(d2, t[nn]) < 2))
        for k in ("k-Adam k=2", "k-Adam k=3", "derived 2-Adam"):
            beats.append((label, k, _z(t[k], adam) < -2))
    tuned = reads["tuned"]
    cell = ", ".join(f"{n} {tuned[n]['loss']:.4f} ± {tuned[n]['loss_se']:.4f} (lr {tuned[n]['lr']:.3g}"
                     f"{', edge' if tuned[n]['edge'] else ''}; test acc {tuned[n]['acc']:.1%})" for n in exp.names)
    n_rep = sum(r[2] for r in rep)
    n_beat = sum(b[2] for b in beats)
    rep_status = ("verified" if n_rep == len(rep) else "not reproduced" if n_rep == 0
                  else "depends on an unstated setting")
    beat_status = ("verified" if n_beat == len(beats) else "not reproduced" if n_beat == 0
                   else "depends on an unstated setting")
    hi = exp.lrs[-2:]
    robust = "; ".join(f"{n} at lr {hi[0]:.3g}/{hi[1]:.3g}: {tuned[n]['mean'][-2]:.3f}/{tuned[n]['mean'][-1]:.3f}"
                       for n in ("Adam + LayerNorm", "Adam (k=1)", "derived 2-Adam"))
    st = exp.setting
    where = f"{st['model']}, {st['steps']} steps, {len(st['seeds'])} seeds, tuned final training loss (mean ± s.e.)"
    return [
        Claim("GT-2adam-norm", "Gould & Tanaka, abstract", "2-Adam corresponds to Adam with a normalisation layer "
              "(our derived 2-Adam on a plain MLP against Adam on the MLP with LayerNorm / a scale-invariant layer)",
              "", f"{where}: {cell}; 2-Adam matches the layer's gain in {n_rep} of {len(rep)} (reading, layer) pairs "
              f"({len(reads)} readings: {', '.join(reads)}); the layer's gain over Adam is nil or negative at the tuned rate, "
              f"what 2-Adam shares with LayerNorm is tolerance of large rates: {robust}", rep_status, "net-ka-norm"),
        Claim("GT-kadam-beats", "Gould & Tanaka, abstract", "k-Adam (k >= 2) improves on Adam", "",
              f"{where}: k-Adam / derived 2-Adam more than 2 s.e. below Adam in {n_beat} of {len(beats)} "
              f"(reading, optimizer) pairs", beat_status, "net-ka-kadam"),
    ]
