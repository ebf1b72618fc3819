r"""Saddle-to-saddle plateaus of a deep linear network (Kaiser, section 5, on a network).

Kaiser motivates section 5 by the saddle-to-saddle dynamics of deep linear networks trained
from a small initialisation (Jacot et al. 2022).  This module builds that experiment (our
construction; the paper runs none): a deep linear network :math:`x \mapsto x W_1 \cdots W_L`
learns a teacher :math:`A = U \operatorname{diag}(s) V^\top` with well-separated singular
values :math:`s_1 > s_2 > \dots > s_r` from *whitened* inputs (:math:`X^\top X/n = I`), so that
the loss is exactly

.. math::

    L(W) = \tfrac12 \|P - A\|_F^2 + \text{const},\qquad P = W_1 \cdots W_L ,

and the mode strengths :math:`a_k(t) = u_k^\top P(t)\, v_k` are the coordinates the saddles
are made of: the origin is a saddle, and after mode :math:`k` is learned the dynamics linger
near the next saddle until mode :math:`k+1` grows (Saxe et al. 2014; Jacot et al. 2022).

For gradient descent from a *balanced, aligned* start (:math:`P(0) = a_0 \sum_k u_k v_k^\top`,
depth 2) each mode obeys, to first order in the learning rate :math:`\eta`,
:math:`\dot a = 2\eta\, a (s - a)`, a logistic curve; it reaches :math:`s/2` after

.. math::

    t_{1/2} = \frac{\ln(s/a_0 - 1)}{2 s \eta}\ \text{steps},

the plateau length (:func:`gd_escape_time`, derived in sympy in the chapter).  The *escape
step* of mode :math:`k` is the first step with :math:`a_k \ge s_k/2` (:func:`escape_steps`).

:func:`plateau_experiment` trains every optimizer of :data:`CENTRES` at every rate of its grid,
at every init scale and seed, in one compiled, vmapped ``lax.scan`` (float64), recording the
loss and the mode strengths at every step.  The toolkit's :func:`~adamdyn.networks.training.sweep`
records neither the mode strengths nor takes the init scale as a traced value, so this module
has its own loop; the update rule is the toolkit's (:func:`~adamdyn.networks.transforms.generic`).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from .. import optimizers as O
from ..validation import check_int, scalar_positive
from . import models as M
from .grids import optimizer_by_name, rate_grid
from . import transforms as T
from ._memo import memoised
from .training import DIVERGENCE_LIMIT, LOOP_EMITTER_OPTIONS, _stacked_keys, compile_cpu

__all__ = ["TEACHER", "CENTRES", "SHARED_RATE", "teacher_problem", "gd_escape_time", "escape_steps",
           "plateau_experiment", "PlateauExperiment", "tune", "at_rate", "order_stats",]

#: Singular values of the teacher (a factor 2 apart: well separated, and the largest keeps GD stable).
TEACHER = (2.0, 1.0, 0.5, 0.25)
#: log10 of the centre of each optimizer's learning-rate grid (rates half a decade apart).
CENTRES = {"GD": -1.0, "momentum": -1.0, "AdaGrad": -1.5, "RMSProp 0.999": -1.5, "RMSProp 0.99": -1.5,
           "Adam": -1.5, "Adam, beta1 = 0": -1.5}
#: A rate on every grid (the middle of their common range), shared by all optimizers.
SHARED_RATE = float(10.0 ** np.round(-1.5, 6))


def teacher_problem(d=8, n=64, singular_values=TEACHER, seed=0):
    r"""Whitened inputs :math:`X` (n, d) with :math:`X^\top X = n I`, the teacher :math:`A` and its singular vectors.

    Returns ``(X, Y, U, V, s)`` with :math:`Y = X A`, :math:`A = U \operatorname{diag}(s) V^\top`
    (``U``, ``V`` of shape (d, r), orthonormal columns, from a seeded QR).
    """
    d, n = check_int("d", d, 2), check_int("n", n, 2)
    s = np.asarray(singular_values, float)
    if s.ndim != 1 or s.size < 1 or s.size > d or np.any(s <= 0):
        raise ValueError(f"singular_values must be 1 to d={d} positive numbers, got {singular_values}")
    if n < d:
        raise ValueError(f"n must be at least d={d} (whitened inputs), got {n}")
    rng = np.random.default_rng(check_int("seed", seed, 0))
    q, _ = np.linalg.qr(rng.standard_normal((n, d)))
    X = np.sqrt(n) * q
    U, _ = np.linalg.qr(rng.standard_normal((d, s.size)))
    V, _ = np.linalg.qr(rng.standard_normal((d, s.size)))
    A = U @ np.diag(s) @ V.T
    return X, X @ A, U, V, s


def gd_escape_time(s, a0, lr, depth=2):
    r"""Continuous-time plateau length (steps) of a mode from a balanced aligned start.

    Depth 2: :math:`\ln(s/a_0 - 1)/(2 s\eta)`.  Depth :math:`L \ge 3`: the balanced flow
    :math:`\dot a = L\eta\, a^{2-2/L}(s-a)` integrated from :math:`a_0` to :math:`s/2` (quadrature).
    """
    s, a0, lr = float(s), float(a0), float(lr)
    if depth == 2:
        return np.log(s / a0 - 1.0) / (2.0 * s * lr)
    from scipy.integrate import quad

    depth = check_int("depth", depth, 2)
    # substitute a = exp(y): da/(a^(2-2/L)(s-a)) = exp(y)^(2/L - 1) dy/(s - exp(y))
    f = lambda y: np.exp(y * (2.0 / depth - 1.0)) / (s - np.exp(y))  # noqa: E731
    val, _ = quad(f, np.log(a0), np.log(s / 2), limit=200)
    return val / (depth * lr)


def _product(params):
    P = params[0]["w"]
    for layer in params[1:]:
        P = P @ layer["w"]
    return P


def _make_run(model, X, Y, U, V, steps, dtype):
    def one_run(hp, scale, key):
        hp = {k: jnp.asarray(v, dtype) for k, v in hp.items()}
        opt = T.generic(**hp)
        params = jax.tree.map(lambda w: scale * w, model.init(key, dtype))
        w0, unravel = ravel_pytree(params)
        state = opt.init(w0)

        def loss(w):
            return model.loss(unravel(w), X, Y)

        def modes(w):
            return jnp.einsum("ik,ij,jk->k", U, _product(unravel(w)), V)

        def step(carry, _):
            w, st, bad = carry
            f, g = jax.value_and_grad(loss)(w)
            upd, new_st = opt.update(g, st, w)
            new_w = w + upd
            leaves = [new_w] + [x for x in jax.tree.leaves(new_st) if jnp.issubdtype(x.dtype, jnp.inexact)]
            ok = jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves])) & (jnp.max(jnp.abs(new_w))
                                                                                   <= DIVERGENCE_LIMIT)
            now_bad = bad | ~ok | ~jnp.isfinite(f)
            w = jnp.where(now_bad, w, new_w)
            st = jax.tree.map(lambda a, b: jnp.where(now_bad, a, b), st, new_st)
            return (w, st, now_bad), (jnp.where(now_bad, jnp.nan, f), modes(w))

        (w, _, bad), (losses, strengths) = jax.lax.scan(step, (w0, state, jnp.asarray(False)), None, length=steps)
        # diverged runs: the loss after divergence repeats the last good value (no NaN leaves the loop)
        last = jnp.max(jnp.where(jnp.isfinite(losses), jnp.arange(steps), 0))
        losses = jnp.where(jnp.isfinite(losses), losses, losses[last])
        return losses, strengths, modes(w0), bad

    return one_run


@dataclass(frozen=True)
class PlateauExperiment:
    """Result of :func:`plateau_experiment`: one row per run (optimizer, rate, init scale, seed).

    ``loss`` (R, steps) is :math:`L(w_{t-1})` at step t; ``modes`` (R, steps, r) the mode strengths
    after step t; ``modes0`` (R, r) at the start; ``escape`` (R, r) the escape step of every mode
    (``inf`` if not within the run); ``diverged`` (R,).
    """

    names: np.ndarray
    lr: np.ndarray
    scale: np.ndarray
    seed: np.ndarray
    loss: np.ndarray
    modes: np.ndarray
    modes0: np.ndarray
    escape: np.ndarray
    diverged: np.ndarray
    s: np.ndarray
    setting: dict


def escape_steps(modes, s):
    """The step (1-based) from which each mode strength stays at or above half its singular value.

    ``modes`` has shape (..., steps, r), ``s`` shape (r,).  ``inf`` where the mode is below
    :math:`s_k/2` at the last step (not learned, or still oscillating across :math:`s_k/2`): a
    transient overshoot of a large first step does not count as an escape.
    """
    hit = np.asarray(modes) >= 0.5 * np.asarray(s)
    steps = hit.shape[-2]
    miss = ~hit
    # index of the last step below s/2 (-1 if none)
    last_miss = steps - 1 - np.argmax(miss[..., ::-1, :], axis=-2)
    last_miss = np.where(miss.any(axis=-2), last_miss, -1)
    return np.where(last_miss < steps - 1, last_miss + 2.0, np.inf)


@memoised
def plateau_experiment(*, depth=2, d=8, width=8, n=64, singular_values=TEACHER, scales=(1e-2, 1e-3, 1e-4),
                       seeds=(0, 1), steps=1500, n_rates=5, names=tuple(CENTRES)) -> PlateauExperiment:
    """Every optimizer x rate x init scale x seed on the teacher problem, one compiled call (float64)."""
    depth, width, steps = check_int("depth", depth, 2), check_int("width", width, 1), check_int("steps", steps, 1)
    scales = [scalar_positive("scales", x) for x in np.atleast_1d(scales)]
    for nm in names:
        if nm not in CENTRES:
            raise ValueError(f"names must be among {tuple(CENTRES)}, got {nm!r}")
    X, Y, U, V, s = teacher_problem(d, n, singular_values)
    model = M.deep_linear((d,) + (width,) * (depth - 1) + (d,), init_scale=1.0)
    opts, labels, lrs = [], [], []
    for nm in names:
        grid = rate_grid(CENTRES[nm], n_rates)
        opts.append(optimizer_by_name(nm, grid))
        labels += [nm] * grid.size
        lrs.append(grid)
    hp = T.library_hparams(O.combine(*opts))
    n_opt = len(labels)
    # runs: optimizer-rate (slowest) x scale x seed (fastest)
    reps = len(scales) * len(seeds)
    run_hp = {k: np.repeat(v, reps) for k, v in hp.items()}
    run_scale = np.tile(np.repeat(scales, len(seeds)), n_opt)
    run_seed = np.tile(np.asarray(seeds), n_opt * len(scales))
    keys = _stacked_keys(run_seed)
    arrs = [jnp.asarray(a) for a in (X, Y, U, V)]
    one = _make_run(model, *arrs, steps, jnp.float64)
    args = (run_hp, jnp.asarray(run_scale), keys)
    run = compile_cpu(jax.vmap(one), *args, options=LOOP_EMITTER_OPTIONS)
    losses, strengths, modes0, bad = (np.asarray(a) for a in run(*args))
    setting = dict(depth=depth, width=width, n=n, d=d, steps=steps, scales=tuple(scales), seeds=tuple(seeds),
                   n_rates=n_rates, n_runs=int(losses.shape[0]), model=model.name.split(" (")[0])
    return PlateauExperiment(np.repeat(np.array(labels), reps), np.repeat(np.concatenate(lrs), reps), run_scale,
                             run_seed, losses, strengths, modes0, escape_steps(strengths, s), bad, s, setting)


def _total(exp):
    """Escape step of the last mode (all modes learned), ``inf`` if diverged or not within the run."""
    t = exp.escape.max(axis=1)
    return np.where(exp.diverged, np.inf, t)


def tune(exp: PlateauExperiment, scale) -> dict:
    """Per optimizer at init ``scale``: ``(best rate, mean steps to learn all modes, per-rate means, rates)``.

    The criterion is the escape step of the last mode, averaged over seeds (``inf`` if any seed fails).
    """
    tot = _total(exp)
    out = {}
    for nm in dict.fromkeys(exp.names):
        sel = (exp.names == nm) & np.isclose(exp.scale, scale)
        rates = np.unique(exp.lr[sel])
        means = np.array([tot[sel & np.isclose(exp.lr, r)].mean() for r in rates])
        b = int(np.argmin(means))
        out[nm] = (float(rates[b]), float(means[b]), means, rates)
    return out


def at_rate(exp: PlateauExperiment, name, lr, scale):
    """Run indices of ``name`` at rate ``lr`` and init ``scale`` (one per seed)."""
    sel = np.flatnonzero((exp.names == name) & np.isclose(exp.lr, lr, rtol=1e-9) & np.isclose(exp.scale, scale))
    if sel.size == 0:
        raise ValueError(f"{name} was not run at lr={lr:g}, scale={scale:g}")
    return sel


def order_stats(exp: PlateauExperiment, idx):
    """For runs ``idx``: fraction escaping in decreasing singular value, and the median ratio t_2/t_1."""
    esc = exp.escape[idx]
    ok = np.all(np.isfinite(esc), axis=1)
    if not ok.any():
        return float("nan"), float("nan")
    e = esc[ok]
    ordered = np.all(np.diff(e, axis=1) >= 0, axis=1)
    return float(ordered.mean()), float(np.median(e[:, 1] / e[:, 0]))
