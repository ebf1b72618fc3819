r"""The poster's Figure 1 rerun on digits, and its convex conclusion (logistic regression).

Belotto da Silva & Gazeau's poster shows, as its Figure 1, Kingma & Ba's experiment:
multilayer networks with dropout trained on MNIST by several optimizers.  We rerun it on
the digits (:mod:`adamdyn.networks.data`): an MLP with two hidden ReLU layers and dropout,
minibatches of 64, heavy-ball momentum, AdaGrad, RMSProp (decay 0.99, torch's default, and
0.999, the paper's :math:`\beta_2`), Adam and AdamW at their default :math:`\beta`'s, every
optimizer at every learning rate of its own grid (half-decade steps), five seeds each, all in
one compiled sweep (:func:`adamdyn.networks.transforms.generic`).

The poster also concludes that "with the standard choices of hyperparameters, adaptivity
degrades the rate of convergence to the global minimum of a convex function compared to
gradient descent".  :func:`convex_runs` tests it on L2-regularised multinomial logistic
regression on the digits (strongly convex, full batch), whose minimum :math:`f^\star` we
compute independently by Newton's method.

Everything a chapter reads is computed by :func:`mlp_experiment` and :func:`convex_runs`
(memoised, :mod:`adamdyn.memo`); :func:`claims` turns them into ledger rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from .. import optimizers as O
from . import curvature
from . import data as D
from .grids import optimizer_by_name, rate_grid
from . import models as M
from . import training
from . import transforms as T
from ._memo import memoised

__all__ = ["CENTRES", "DEFAULT_RATES", "rate_grid", "mlp_experiment", "Tuning", "tune", "readings",
           "convex_runs", "convex_tuning", "convex_at_rate", "minimum", "shared_rates", "SHARED_RATE",]

#: Centre (log10 of the learning rate) of each optimizer's grid (5 rates in half decades: +-1 decade).
CENTRES = {"momentum": -1.5, "AdaGrad": -1.0, "RMSProp 0.99": -2.5, "RMSProp 0.999": -2.5,
           "Adam": -2.5, "AdamW": -2.5}
#: torch's defaults (momentum: a common choice, torch has no default rate for SGD).
DEFAULT_RATES = {"momentum": 1e-2, "AdaGrad": 1e-2, "RMSProp 0.99": 1e-2, "RMSProp 0.999": 1e-2,
                 "Adam": 1e-3, "AdamW": 1e-3}


@dataclass(frozen=True)
class MLPExperiment:
    """Result of :func:`mlp_experiment`: ``names`` and ``lr`` per grid point, the sweep, and its setting."""

    names: tuple
    lr: np.ndarray
    sweep: training.SweepResult
    setting: dict


@memoised
def mlp_experiment(*, sizes=(64, 32, 32, 10), dropout=0.2, steps=300, batch_size=64, eval_every=25,
                   seeds=(0, 1, 2, 3, 4), n_rates=5, weight_decay=1e-2, names=tuple(CENTRES)) -> MLPExperiment:
    """Every optimizer of ``names`` at every rate of its grid, every seed: one compiled sweep (float32)."""
    opts, labels, lrs = [], [], []
    for name in names:
        grid = rate_grid(CENTRES[name], n_rates)
        opts.append(optimizer_by_name(name, grid, weight_decay))
        labels += [name] * grid.size
        lrs.append(grid)
    batch = O.combine(*opts)
    d = D.digits(dtype=jnp.float32)
    model = M.mlp(sizes, activation="relu", dropout=dropout)
    res = training.sweep(model, T.generic, d, T.library_hparams(batch), seeds=seeds, steps=steps,
                         batch_size=batch_size, eval_every=eval_every)
    setting = dict(model=model.name, n_params=M.n_params(jax.tree.map(lambda p: p[0], res.params)), steps=steps,
                   batch_size=batch_size, n_train=d.n_train, n_test=int(d.x_test.shape[0]), seeds=tuple(seeds),
                   n_rates=n_rates, weight_decay=weight_decay)
    return MLPExperiment(tuple(labels), np.concatenate(lrs), res, setting)


@dataclass(frozen=True)
class Tuning:
    """The tuned rate of one optimizer: per-rate mean and std (over seeds) of the criterion, the best index."""

    name: str
    lr: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    best: int

    @property
    def on_edge(self) -> bool:
        return self.best in (0, self.lr.size - 1)

    @property
    def best_lr(self) -> float:
        return float(self.lr[self.best])


def _criterion(exp: MLPExperiment, at_step=None):
    """Full-batch training loss at ``at_step`` (default the last), per grid point and seed."""
    steps = exp.sweep.eval_steps
    k = -1 if at_step is None else int(np.searchsorted(steps, at_step))
    loss = exp.sweep.by_point("train_loss")[:, :, k]
    div = exp.sweep.by_point("diverged")
    return np.where(div, np.inf, loss)


def tune(exp: MLPExperiment, subset=None, at_step=None) -> dict:
    """For every optimizer, the rate with the lowest mean final training loss (on ``subset`` of its grid indices)."""
    crit = _criterion(exp, at_step)
    names = np.array(exp.names)
    out = {}
    for name in dict.fromkeys(exp.names):
        idx = np.flatnonzero(names == name)
        if subset is not None:
            idx = idx[subset]
        mean, std = crit[idx].mean(axis=1), crit[idx].std(axis=1)
        out[name] = Tuning(name, exp.lr[idx], mean, std, int(np.argmin(mean)))
    return out


def _at_rate(exp, rates: dict, at_step=None):
    crit = _criterion(exp, at_step)
    names = np.array(exp.names)
    out = {}
    for name, lr in rates.items():
        i = np.flatnonzero((names == name) & np.isclose(exp.lr, lr, rtol=1e-9))
        if i.size != 1:
            raise ValueError(f"{name} was not run at lr={lr:g}")
        out[name] = (float(crit[i[0]].mean()), float(crit[i[0]].std()), int(i[0]))
    return out


#: The rate of the "shared" reading of :func:`readings` (torch's default for all but Adam and AdamW).
SHARED_RATE = 1e-2


def shared_rates(exp: MLPExperiment) -> tuple:
    """The learning rates that lie on every optimizer's grid, in increasing order."""
    names = np.array(exp.names)
    return tuple(sorted(set.intersection(*(set(exp.lr[names == n].tolist()) for n in dict.fromkeys(exp.names)))))


def readings(exp: MLPExperiment) -> dict:
    """The winner (lowest mean final training loss) under every reading of "each at its learning rate".

    Readings: tuned on the full grid; tuned on each of the two interleaved one-decade sub-grids; one
    shared rate (:data:`SHARED_RATE`, on every grid); torch's defaults (:data:`DEFAULT_RATES`).  Each value
    is ``(winner, {name: (mean, std)}, runner-up gap in standard deviations)``.
    """
    out = {}
    n = exp.setting["n_rates"]
    for label, subset in (("tuned", None), ("tuned, even grid", np.arange(0, n, 2)),
                          ("tuned, odd grid", np.arange(1, n, 2))):
        t = tune(exp, subset)
        out[label] = {k: (float(v.mean[v.best]), float(v.std[v.best]), v.best_lr) for k, v in t.items()}
    names = tuple(dict.fromkeys(exp.names))
    if not np.any(np.isclose(shared_rates(exp), SHARED_RATE, rtol=1e-9)):
        raise ValueError(f"SHARED_RATE={SHARED_RATE:g} is not on every grid (the grids share {shared_rates(exp)})")
    for label, rates in (("shared 1e-2", {k: SHARED_RATE for k in names}),
                         ("defaults", {k: DEFAULT_RATES[k] for k in names})):
        vals = _at_rate(exp, rates)
        out[label] = {k: (m, s, rates[k]) for k, (m, s, _) in vals.items()}
    return {label: (min(v, key=lambda k: v[k][0]), v) for label, v in out.items()}


# ----------------------------------------------------------------------------- the convex claim
def minimum(model, params, x, y):
    r"""The minimum :math:`f^\star` by L-BFGS (scipy, float64, to a gradient norm near rounding).

    Returns ``(f_star, minimiser, gradient norm there)``.  Independent of the optimizers under test.
    """
    from scipy.optimize import minimize

    flat, unravel = ravel_pytree(params)
    fg = jax.jit(jax.value_and_grad(lambda w: model.loss(unravel(w), x, y)))

    def fun(w):
        f, g = fg(jnp.asarray(w))
        return float(f), np.asarray(g, float)

    res = minimize(fun, np.asarray(flat), jac=True, method="L-BFGS-B",
                   options=dict(maxiter=20000, maxcor=50, ftol=0.0, gtol=1e-13))
    f, g = fun(res.x)
    return f, unravel(jnp.asarray(res.x)), float(np.linalg.norm(g))


CONVEX_CENTRES = {"GD": 0.0, "Adam": -1.5, "RMSProp 0.99": -2.0, "RMSProp 0.999": -2.0}


@dataclass(frozen=True)
class ConvexRuns:
    """Result of :func:`convex_runs`: the sweep (full batch), ``names``/``lr`` per grid point, :math:`f^\\star`."""

    names: tuple
    lr: np.ndarray
    sweep: training.SweepResult
    f_star: float
    grad_norm_at_min: float
    setting: dict
    sharpness_at_min: float

    def suboptimality(self):
        """:math:`f(w_t) - f^\\star` for t = 0..steps per grid point and seed (floored at 1e-16 f*: rounding)."""
        curve = np.concatenate([self.sweep.by_point("batch_loss"), self.sweep.by_point("train_loss")[:, :, -1:]],
                               axis=2)
        return np.maximum(curve - self.f_star, 1e-16 * self.f_star)


@memoised
def convex_runs(*, l2=1e-2, steps=400, n_rates=7, init_scale=0.0, seeds=(0,),
                names=tuple(CONVEX_CENTRES)) -> ConvexRuns:
    """GD, Adam and RMSProp at every rate of their grids on full-batch logistic regression (float64).

    A full batch is the whole training set, so the step-``t`` batch loss is :math:`f(w_{t-1})`.
    With ``init_scale = 0`` every run starts at 0 and is deterministic (the seeds then coincide).
    """
    d = D.digits()
    model = M.logistic_regression(d.n_features, d.n_classes, l2=l2, init_scale=init_scale)
    f_star, w_star, gmin = minimum(model, model.init(jax.random.PRNGKey(0)), d.x_train, d.y_train)
    # one compiled program (run op by op, the 200 Hessian-vector products cost several times more)
    lam = float(training.compile_cpu(lambda w: curvature.sharpness(lambda p: model.loss(p, d.x_train, d.y_train),
                                                                   w, iters=200), w_star)(w_star))
    opts, labels, lrs = [], [], []
    for name in names:
        grid = rate_grid(CONVEX_CENTRES[name], n_rates)
        opts.append(optimizer_by_name(name, grid))
        labels += [name] * grid.size
        lrs.append(grid)
    res = training.sweep(model, T.generic, d, T.library_hparams(O.combine(*opts)), seeds=seeds, steps=steps,
                         batch_size=d.n_train, eval_every=steps)
    setting = dict(l2=l2, steps=steps, n_rates=n_rates, init_scale=init_scale, seeds=tuple(seeds), n_train=d.n_train)
    return ConvexRuns(tuple(labels), np.concatenate(lrs), res, f_star, gmin, setting, lam)


def convex_at_rate(runs: ConvexRuns, name, lr) -> float:
    """log10 of the final suboptimality of ``name`` at learning rate ``lr`` (mean over seeds)."""
    i = np.flatnonzero((np.array(runs.names) == name) & np.isclose(runs.lr, lr, rtol=1e-9))
    if i.size != 1:
        raise ValueError(f"{name} was not run at lr={lr:g}")
    return float(np.log10(runs.suboptimality()[i[0], :, -1]).mean())


def convex_tuning(runs: ConvexRuns) -> dict:
    """Per optimizer: the rate with the lowest mean (over seeds) log10 final suboptimality, and its curve."""
    sub = runs.suboptimality()
    logsub = np.log10(sub)
    div = runs.sweep.by_point("diverged")
    final = np.where(div, np.inf, logsub[:, :, -1])
    names = np.array(runs.names)
    out = {}
    for name in dict.fromkeys(runs.names):
        idx = np.flatnonzero(names == name)
        mean = final[idx].mean(axis=1)
        out[name] = Tuning(name, runs.lr[idx], mean, final[idx].std(axis=1), int(np.argmin(mean)))
    return out


def steps_to(curve_steps, curves, target):
    """First evaluation step at which each curve (rows) is at or below ``target``; ``inf`` if never."""
    below = curves <= target
    first = np.where(below.any(axis=-1), np.argmax(below, axis=-1), -1)
    return np.where(first >= 0, np.asarray(curve_steps)[np.maximum(first, 0)], np.inf)
