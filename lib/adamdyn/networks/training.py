r"""One compiled training loop, vmapped over hyperparameter grids and seeds.

:func:`sweep` trains ``R = (grid points) x (seeds)`` independent runs in one call: the
training loop is a ``lax.scan`` over steps (inside a scan over evaluation points), the runs
are a ``vmap`` over seeds of a ``vmap`` over grid points of it (a seed's minibatches,
initialisation and dropout masks are drawn once for all its grid points), and the whole is
``jit``-compiled once, so the same code would run
unchanged on an accelerator.  Each hyperparameter is an array of per-grid-point values,
passed (as traced scalars) to an optimizer factory such as
``lambda lr, beta1: transforms.adam(lr, beta1)``.

Per step it records, cheaply: the minibatch loss :math:`L_B(w_{t-1})`, the gradient norm
:math:`\|g_t\|`, the update norm :math:`\|\Delta w_t\|` and the largest per-coordinate
:math:`|\Delta w_{t,i}|/\eta` (Kaiser's Proposition 1 bounds it).  Every ``eval_every``
steps it evaluates the full training loss, the test loss and the test accuracy (no dropout).

A run whose parameters, optimizer state or loss leave the finite range (or whose
parameters exceed :data:`DIVERGENCE_LIMIT` in absolute value) is flagged and frozen at its
last good state; its later diagnostics repeat its last good values, so no NaN is ever
recorded.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from ..validation import check_int
from .data import Dataset, batch_indices
from .models import Model, accuracy

__all__ = ["SweepResult", "sweep", "grid", "compile_cpu", "DIVERGENCE_LIMIT", "COMPILER_OPTIONS",
           "LOOP_EMITTER_OPTIONS"]

#: A run with a parameter larger than this in absolute value is flagged as diverged and frozen.
DIVERGENCE_LIMIT = 1e8


@dataclass(frozen=True)
class SweepResult:
    """The result of :func:`sweep`; run ``r`` is grid point ``r // n_seeds``, seed ``seeds[r % n_seeds]``.

    Attributes
    ----------
    hparams : dict of ndarray, each (R,)
        The hyperparameters of every run.
    seeds : ndarray (R,)
    eval_steps : ndarray (K,)
        Steps at which the ``train_loss``, ``test_loss`` and ``test_accuracy`` (R, K) were evaluated.
    batch_loss, grad_norm, update_norm, max_update_over_lr : ndarray (R, steps)
        Per-step diagnostics (step ``t`` in column ``t - 1``).
    diverged : ndarray of bool (R,); diverged_step : ndarray of int (R,), -1 if never.
    params : pytree of arrays with a leading axis R (the final parameters).
    """

    hparams: dict
    seeds: np.ndarray
    eval_steps: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray
    test_accuracy: np.ndarray
    batch_loss: np.ndarray
    grad_norm: np.ndarray
    update_norm: np.ndarray
    max_update_over_lr: np.ndarray
    diverged: np.ndarray
    diverged_step: np.ndarray
    params: object
    n_seeds: int

    def by_point(self, field: str) -> np.ndarray:
        """``field`` reshaped to ``(grid points, seeds, ...)``."""
        a = np.asarray(getattr(self, field))
        return a.reshape((-1, self.n_seeds) + a.shape[1:])


def grid(**axes) -> dict:
    """The Cartesian product of named 1-D value lists, as flat arrays (the last name varies fastest)."""
    if not axes:
        raise ValueError("grid needs at least one named axis, e.g. grid(lr=[1e-3, 1e-2])")
    names = list(axes)
    values = [np.atleast_1d(np.asarray(v, float)) for v in axes.values()]
    for n, v in zip(names, values):
        if v.ndim != 1 or v.size == 0:
            raise ValueError(f"{n} must be a non-empty 1-D list of values")
    prod = list(itertools.product(*values))
    return {n: np.array([p[i] for p in prod]) for i, n in enumerate(names)}


#: XLA options for the book's sweeps: LLVM's -O1 compiles about twice as fast as the default -O3 here,
#: and the compiled loops run as fast (compilation, not execution, dominates a chapter's time).
COMPILER_OPTIONS = {"xla_backend_optimization_level": 1}


#: :data:`COMPILER_OPTIONS` with XLA's older loop emitters instead of its fusion emitters: about a third
#: less compilation here.  Elementary functions may then differ in the last bit; in the programs that use
#: these options (tanh networks and squared losses) the results agree to rounding (a test checks it), and
#: at the chapters' default sizes bit for bit; softmax programs (``exp``, ``log``) keep the default.
LOOP_EMITTER_OPTIONS = {**COMPILER_OPTIONS, "xla_cpu_use_fusion_emitters": False}


def compile_cpu(fn, *args, options=None):
    """``jax.jit(fn)`` compiled ahead of time for ``args`` with ``options`` (default :data:`COMPILER_OPTIONS`)."""
    return jax.jit(fn).lower(*args).compile(compiler_options=COMPILER_OPTIONS if options is None else options)


def _stacked_keys(seeds):
    """``jnp.stack([jax.random.PRNGKey(s) for s in seeds])``, the same keys, stacked on the host.

    One key per distinct seed; a ``jnp.stack`` of one key per run compiles a program of that many
    operands (seconds for a few hundred runs).
    """
    seeds = [int(s) for s in seeds]
    key_of = {s: np.asarray(jax.random.PRNGKey(s)) for s in dict.fromkeys(seeds)}
    return jnp.asarray(np.stack([key_of[s] for s in seeds]))


def _all_finite(tree):
    leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree) if jnp.issubdtype(x.dtype, jnp.inexact)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.asarray(True)


def _max_abs(tree):
    return jnp.max(jnp.stack([jnp.max(jnp.abs(x)) for x in jax.tree.leaves(tree)]))


def _norm(tree):
    return jnp.sqrt(sum(jnp.sum(x * x) for x in jax.tree.leaves(tree)))


def _select(flag, old, new):
    return jax.tree.map(lambda a, b: jnp.where(flag, a, b), old, new)


def _make_run(model: Model, optimizer: Callable, n_evals: int, eval_every: int, dtype):
    # The data arrive as arguments, never as closed-over constants: XLA would fold the gathers
    # from a constant training set at compile time, which takes minutes.

    def one_run(hp, key, idx, arrays):
        x_tr, y_tr, x_te, y_te = arrays
        hp = {k: jnp.asarray(v, dtype) for k, v in hp.items()}
        opt = optimizer(**hp)
        k_init, k_drop = jax.random.split(key)
        # The optimizer sees one flat vector (every rule here acts per coordinate or on the whole
        # vector): a sixth of the operations of a per-leaf update, and a much faster compilation.
        params, unravel = ravel_pytree(model.init(k_init, dtype))
        state = opt.init(params)
        zero = jnp.zeros([], dtype)

        def flat_loss(w, x, y, key=None):
            return model.loss(unravel(w), x, y, key)

        def evaluate(w):
            p = unravel(w)
            logits = model.apply(p, x_te)
            return (model.loss(p, x_tr, y_tr), model.loss(p, x_te, y_te),
                    accuracy(logits, y_te) if model.classifier else jnp.asarray(jnp.nan, dtype))

        def step(carry, xs):
            params, state, div, div_step, last = carry
            t, bidx = xs
            loss, g = jax.value_and_grad(flat_loss)(params, x_tr[bidx], y_tr[bidx], jax.random.fold_in(k_drop, t))
            upd, new_state = opt.update(g, state, params)
            new_params = optax.apply_updates(params, upd)
            ok = (_all_finite(new_params) & _all_finite(new_state) & jnp.isfinite(loss)
                  & (_max_abs(new_params) <= DIVERGENCE_LIMIT))
            bad = div | ~ok
            diag = jnp.stack([loss, _norm(g), _norm(upd), _max_abs(upd) / hp["lr"]]).astype(dtype)
            diag = jnp.where(bad, last, diag)
            return (_select(bad, params, new_params), _select(bad, state, new_state), bad,
                    jnp.where(~div & ~ok, t, div_step), diag), diag

        steps = idx.shape[0]
        ts = jnp.arange(1, steps + 1).reshape(n_evals, eval_every)
        bidx = idx.reshape(n_evals, eval_every, -1)

        def chunk(carry, k):
            # Evaluation k precedes chunk k; the last pass (k = n_evals) only evaluates.  One copy of
            # the evaluation in the program (not one before the loop and one inside): a smaller,
            # faster-compiling program.  ``k`` is not batched, so under vmap the cond stays a branch.
            ev = evaluate(carry[0])
            xs = (ts[jnp.minimum(k, n_evals - 1)], bidx[jnp.minimum(k, n_evals - 1)])
            carry, diags = jax.lax.cond(k < n_evals, lambda c: jax.lax.scan(step, c, xs),
                                        lambda c: (c, jnp.zeros((eval_every, 4), dtype)), carry)
            return carry, (diags, ev)

        carry0 = (params, state, jnp.asarray(False), jnp.asarray(-1), jnp.stack([zero] * 4))
        carry, (diags, evals) = jax.lax.scan(chunk, carry0, jnp.arange(n_evals + 1))
        return unravel(carry[0]), carry[2], carry[3], diags[:n_evals].reshape(steps, 4), list(evals)

    return one_run


def sweep(model: Model, optimizer: Callable, data: Dataset, hparams: dict, *, seeds=(0,), steps=1000,
          batch_size=64, eval_every=50, sampling="epoch", dtype=None, compiler_options=None,
          share_seed_draws=True) -> SweepResult:
    """Train every (grid point, seed) pair in one compiled, vmapped call.

    Parameters
    ----------
    model : Model
    optimizer : callable
        ``optimizer(**point) -> optax.GradientTransformation``; ``point`` has the keys of ``hparams``.
    data : Dataset
    hparams : dict of 1-D arrays of equal length
        One entry per grid point (use :func:`grid`); must contain ``"lr"``.
    seeds : sequence of int
        Each seed sets the initialisation, the dropout masks and the minibatches.
    steps, batch_size, eval_every : int
        ``steps`` must be a multiple of ``eval_every``.
    sampling : {"epoch", "replacement"}
        See :func:`adamdyn.networks.data.batch_indices`.
    dtype : jax dtype, optional
        Parameter dtype; defaults to the data's.
    compiler_options : dict, optional
        XLA options of :func:`compile_cpu` (default :data:`COMPILER_OPTIONS`).
    share_seed_draws : bool
        True (default): a ``vmap`` over seeds of a ``vmap`` over grid points, so that a seed's
        minibatches, initialisation and dropout masks are drawn once for all its grid points and each
        layer's product with a minibatch is one matrix product for all of them (faster).  False: one
        ``vmap`` over all runs.  The two agree to rounding (their matrix products round differently).

    Returns
    -------
    SweepResult
    """
    if not isinstance(model, Model):
        raise ValueError("model must be an adamdyn.networks.models.Model (use models.mlp(...), ...)")
    if not isinstance(data, Dataset):
        raise ValueError("data must be an adamdyn.networks.data.Dataset (use data.digits())")
    if "lr" not in hparams:
        raise ValueError("hparams must contain 'lr' (the learning rate, used for max |update|/lr)")
    hp = {k: np.atleast_1d(np.asarray(v, float)) for k, v in hparams.items()}
    sizes = {v.size for v in hp.values()}
    if len(sizes) != 1 or any(v.ndim != 1 for v in hp.values()):
        raise ValueError(f"hparams must be 1-D arrays of one common length, got sizes {sorted(sizes)}")
    if np.any(hp["lr"] <= 0):
        raise ValueError("lr must be > 0")
    steps = check_int("steps", steps, 1)
    eval_every = check_int("eval_every", eval_every, 1)
    if steps % eval_every:
        raise ValueError(f"steps ({steps}) must be a multiple of eval_every ({eval_every})")
    if not isinstance(share_seed_draws, (bool, np.bool_)):
        raise ValueError(f"share_seed_draws must be True or False, got {share_seed_draws!r}")
    seeds = [check_int("seeds", s, 0) for s in np.atleast_1d(seeds)]
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    dtype = data.x_train.dtype if dtype is None else dtype
    n_points, n_seeds = sizes.pop(), len(seeds)

    run_hp = {k: np.repeat(v, n_seeds) for k, v in hp.items()}
    run_seed = np.tile(np.asarray(seeds), n_points)

    one_run = _make_run(model, optimizer, steps // eval_every, eval_every, dtype)
    arrays = (data.x_train, data.y_train, data.x_test, data.y_test)
    idx_by_seed = {s: batch_indices(data.n_train, batch_size, steps, s, sampling) for s in seeds}
    if share_seed_draws:
        # The minibatches, the initialisation and the dropout masks depend on the seed only.
        idx = np.stack([idx_by_seed[s] for s in seeds])
        keys = _stacked_keys(seeds)
        args = ({k: jnp.asarray(v) for k, v in hp.items()}, keys, jnp.asarray(idx), arrays)
        by_seed = jax.vmap(jax.vmap(one_run, in_axes=(0, None, None, None)), in_axes=(None, 0, 0, None))
        run = compile_cpu(by_seed, *args, options=compiler_options)
        # (seeds, points, ...) -> runs, run r = point r // n_seeds, seed r % n_seeds
        params, div, div_step, diags, evals = jax.tree.map(
            lambda a: np.swapaxes(np.asarray(a), 0, 1).reshape((-1,) + a.shape[2:]), run(*args))
    else:
        idx = np.stack([idx_by_seed[s] for s in run_seed])
        keys = _stacked_keys(run_seed)
        args = (run_hp, keys, jnp.asarray(idx), arrays)
        run = compile_cpu(jax.vmap(one_run, in_axes=(0, 0, 0, None)), *args, options=compiler_options)
        params, div, div_step, diags, evals = run(*args)
    diags = np.asarray(diags)
    return SweepResult(
        hparams=run_hp, seeds=run_seed, eval_steps=np.arange(0, steps + 1, eval_every),
        train_loss=np.asarray(evals[0]), test_loss=np.asarray(evals[1]), test_accuracy=np.asarray(evals[2]),
        batch_loss=diags[..., 0], grad_norm=diags[..., 1], update_norm=diags[..., 2],
        max_update_over_lr=diags[..., 3], diverged=np.asarray(div), diverged_step=np.asarray(div_step),
        params=jax.tree.map(np.asarray, params), n_seeds=n_seeds,
    )
