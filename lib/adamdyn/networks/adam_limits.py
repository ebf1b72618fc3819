r"""Where Adam's long run ends, with fixed momentum parameters and vanishing steps.

Dereich, Jentzen & Kassing (arXiv 2511.04622, abstract only) claim that for fixed
:math:`(\beta_1, \beta_2)` and step sizes :math:`\gamma_n \to 0` a limit of Adam is a zero of
the *Adam vector field* (not, in general, a minimiser), and that "in the overparametrized
empirical risk minimization setting, the Adam algorithm is able to locally find the set of
minima".  The Adam symmetry theorem of Dereich, Do, Jentzen & von Wurstemberger (arXiv
2511.06675, abstract only) says that on simple quadratic problems Adam converges to the
minimiser if and only if the data are symmetrically distributed.  This module tests both on
the digits (:mod:`adamdyn.networks.data`); the field is the book's reconstruction in
:mod:`adamdyn.vector_field`, which this module imports and does not change.

Two experiments:

- :func:`overparametrised_runs`: an MLP with far more weights than training images, trained
  on the squared loss against one-hot targets (so the interpolating minima have loss exactly
  0 and every per-sample gradient vanishes on them), by Adam with

  .. math:: \gamma_n = \gamma_0\,(1 + n/n_0)^{-p},\qquad n = 1, 2, \dots

  (:func:`scheduled_adam`; :math:`p = 0` is a constant step), on minibatches drawn
  independently at every step, one compiled sweep over schedules, :math:`(\beta_1,\beta_2)`,
  :math:`\epsilon` and seeds.
- :func:`regression_experiment`: linear regression on two digits features (an intercept and
  the first principal component of the pixels), which cannot interpolate, with label noise
  that is skewed or symmetric.  The loss's minimiser (normal equations), the zero of the Adam
  field (:func:`field_zero_nd`, a Newton iteration on the exact series of
  :func:`adamdyn.vector_field.least_squares_field`) and the second-order prediction of that
  zero (:func:`delta_method_zero`) are set beside Adam's long-run iterates with vanishing
  steps (:func:`adamdyn.stochastic_adam.adam_least_squares`, Polyak-averaged over each run's
  second half, several independent runs).

Everything a chapter reads comes from the two memoised experiments; :func:`claims` turns
them into ledger rows.  All of it is our reconstruction: the papers' definitions and
hypotheses are not available to us.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax

from .. import vector_field as V
from .. import stochastic_adam as SA
from ..validation import check_beta, check_int, check_nonnegative, check_positive, scalar_positive
from . import data as D
from . import models as M
from . import training
from . import transforms as T
from ._memo import memoised

__all__ = ["mse_mlp", "scheduled_adam", "step_size", "digits_subset", "OverparametrisedRuns",
           "overparametrised_runs", "loss_exponent", "regression_features", "regression_problem",
           "least_squares_minimiser", "delta_method_zero", "FieldZero", "ratio_of_means_jacobian", "field_zero_nd",
           "RegressionExperiment", "regression_experiment", "distances", "which_limit",
           "overparametrised_summary", "reaches_minima", "over_verdict", "symmetry_verdict", "BETAS", "NOISES",]

#: (beta1, beta2) pairs of the regression experiment (the field's series costs grow like 1/(1 - beta2)).
BETAS = ((0.9, 0.95), (0.5, 0.9), (0.0, 0.9))


# ----------------------------------------------------------------------------- the interpolating case
def mse_mlp(sizes=(64, 32, 10), activation="tanh") -> M.Model:
    r"""An MLP regressing one-hot targets: :math:`f(w) = \frac1n\sum_i \tfrac12\|\mathrm{net}_w(x_i) - e_{y_i}\|^2`.

    Unlike the cross-entropy, whose infimum 0 is not attained, this loss has a set of global
    minima where the network interpolates (loss exactly 0), and there every per-sample gradient
    vanishes: the overparametrised setting of Dereich, Jentzen & Kassing.
    """
    base = M.mlp(sizes, activation=activation)
    k = base.apply  # the MLP's forward pass (no dropout)

    def loss(params, x, y, key=None):
        out = k(params, x)
        return 0.5 * jnp.mean(jnp.sum((out - jax.nn.one_hot(y, out.shape[1], dtype=out.dtype)) ** 2, axis=1))

    return M.Model(base.init, base.apply, loss, base.name.replace("MLP", "MLP, squared loss,"))


def step_size(n, gamma0, n0, power):
    r""":math:`\gamma_n = \gamma_0 (1 + n/n_0)^{-p}` at steps ``n`` (= :func:`adamdyn.stochastic_adam.step_sizes`)."""
    return gamma0 * (1.0 + np.asarray(n, float) / n0) ** (-power)


def scheduled_adam(lr, beta1=0.9, beta2=0.999, eps=1e-8, eps_inside=False, n0=100.0, power=1.0,
                   bias_correction=True) -> optax.GradientTransformation:
    r"""Adam (the book's rule, :func:`adamdyn.networks.transforms.scale_by_generic`) with steps :math:`\gamma_n`.

    At step :math:`n = 1, 2, \dots` the update is :math:`-\gamma_n\,\hat m_n/(\sqrt{\hat v_n}+\epsilon)`
    (or :math:`\sqrt{\hat v_n+\epsilon}` with ``eps_inside``) with
    :math:`\gamma_n = \mathrm{lr}\,(1 + n/n_0)^{-p}`.  Every argument may be a traced scalar
    (``eps_inside`` then a flag, > 0.5 meaning inside), so that a grid of schedules is one vmapped sweep.
    """
    for name, value, check in (("lr", lr, check_positive), ("beta1", beta1, check_beta), ("beta2", beta2, check_beta),
                               ("eps", eps, check_nonnegative), ("n0", n0, check_positive),
                               ("power", power, check_nonnegative)):
        if isinstance(value, (int, float)):
            check(name, value)
    flag = eps_inside if isinstance(eps_inside, (bool, np.bool_)) else jnp.asarray(eps_inside) > 0.5
    direction = T.scale_by_generic(beta1, 1.0 - beta1, beta2, 1.0 - beta2, eps, eps_inside=flag,
                                   bias_correction=(bool(bias_correction), bool(bias_correction)))
    # optax's schedule count is 0 at the first step, which is step n = 1 here
    return optax.chain(direction, optax.scale_by_schedule(lambda c: -lr * (1.0 + (c + 1) / n0) ** (-power)))


def digits_subset(n_train, seed=0, dtype=jnp.float64) -> D.Dataset:
    """The first ``n_train`` (a seeded permutation of) standardised training digits; the full test set."""
    d = D.digits(dtype=dtype)
    n_train = check_int("n_train", n_train, 10)
    if n_train > d.n_train:
        raise ValueError(f"n_train must be at most {d.n_train}, got {n_train}")
    idx = np.sort(np.random.default_rng(check_int("seed", seed, 0)).permutation(d.n_train)[:n_train])
    return D.Dataset(d.x_train[idx], d.y_train[idx], d.x_test, d.y_test, d.n_classes)


@dataclass(frozen=True)
class OverparametrisedRuns:
    """Result of :func:`overparametrised_runs`: per grid point its ``labels``, the sweep and the setting."""

    labels: tuple
    points: dict
    sweep: training.SweepResult
    setting: dict

    def loss(self):
        """Full training loss (grid points, seeds, evaluations)."""
        return self.sweep.by_point("train_loss")


@memoised
def overparametrised_runs(*, n_train=50, sizes=(64, 32, 10), steps=3000, batch_size=5, eval_every=150,
                          gamma0=1e-2, n0=100.0, powers=(0.0, 0.5, 1.0),
                          readings=((0.9, 0.999, 1e-8, False), (0.9, 0.999, 1e-4, True), (0.9, 0.99, 1e-8, False)),
                          seeds=(0, 1)) -> OverparametrisedRuns:
    """Every schedule x reading x seed, one compiled sweep (float64).

    ``readings`` are ``(beta1, beta2, eps, eps inside the root)``.  Minibatches are drawn independently at every
    step (``sampling="replacement"``): the i.i.d. sampling of the stochastic-approximation setting.
    """
    data = digits_subset(n_train)
    model = mse_mlp(sizes)
    pts = [(p, b1, b2, e, ins) for p in powers for (b1, b2, e, ins) in readings]
    hp = dict(lr=np.full(len(pts), float(gamma0)), beta1=np.array([q[1] for q in pts], float),
              beta2=np.array([q[2] for q in pts], float), eps=np.array([q[3] for q in pts], float),
              eps_inside=np.array([float(q[4]) for q in pts]), n0=np.full(len(pts), float(n0)),
              power=np.array([q[0] for q in pts], float))
    # One vmap over all runs: the shared-draws layout rounds its matrix products differently, which
    # the constant-step runs' final losses (a noisy plateau) amplify to about 10 %; their glued range
    # was computed with this layout (the decreasing-step runs agree to rounding either way).
    res = training.sweep(model, scheduled_adam, data, hp, seeds=seeds, steps=steps, batch_size=batch_size,
                         eval_every=eval_every, sampling="replacement",
                         compiler_options=training.LOOP_EMITTER_OPTIONS, share_seed_draws=False)
    labels = tuple(f"p={p:g}, beta=({b1:g}, {b2:g}), eps={e:g} {'inside' if ins else 'outside'}"
                   for p, b1, b2, e, ins in pts)
    points = dict(power=hp["power"], beta1=hp["beta1"], beta2=hp["beta2"], eps=hp["eps"],
                  eps_inside=hp["eps_inside"] > 0.5)
    setting = dict(model=model.name, n_params=M.n_params(jax.tree.map(lambda p: p[0], res.params)),
                   n_train=n_train, steps=steps, batch_size=batch_size, gamma0=gamma0, n0=n0, seeds=tuple(seeds))
    return OverparametrisedRuns(labels, points, res, setting)


def loss_exponent(eval_steps, loss, gamma0, n0, power, start_fraction=0.5):
    r"""Slope :math:`q` of :math:`\log f(w_n)` against :math:`\log\gamma_n` over the last part of a run.

    :math:`f \approx C\gamma_n^q` with :math:`q > 0` says the loss goes to 0 with the steps.
    ``loss`` (..., K) at ``eval_steps`` (K,); only steps past ``start_fraction`` of the run are fitted.
    For a constant step (``power = 0``) the slope is undefined and NaN is returned.
    """
    steps = np.asarray(eval_steps, float)
    keep = steps >= start_fraction * steps[-1]
    if power == 0 or keep.sum() < 2:
        return np.full(np.shape(loss)[:-1], np.nan)
    lg = np.log(step_size(steps[keep], gamma0, n0, power))
    lf = np.log(np.maximum(np.asarray(loss, float)[..., keep], 1e-300))
    lg_c = lg - lg.mean()
    return ((lf - lf.mean(axis=-1, keepdims=True)) * lg_c).sum(axis=-1) / (lg_c**2).sum()


# ----------------------------------------------------------------------------- the non-interpolating case
def regression_features(n_images=16, seed=0):
    r"""Design matrix :math:`(1, z_i)` with :math:`z_i` the first principal component of image :math:`i`.

    The component is that of the standardised training pixels, scaled to unit variance on the
    training set; ``n_images`` images are taken from a seeded permutation of the training set.
    """
    d = D.digits()
    n_images = check_int("n_images", n_images, 3)
    x = np.asarray(d.x_train)
    if n_images > x.shape[0]:
        raise ValueError(f"n_images must be at most {x.shape[0]}, got {n_images}")
    centred = x - x.mean(axis=0)
    pc = np.linalg.svd(centred, full_matrices=False)[2][0]
    z = centred @ pc
    z /= z.std()
    idx = np.sort(np.random.default_rng(check_int("seed", seed, 0)).permutation(x.shape[0])[:n_images])
    return np.stack([np.ones(n_images), z[idx]], axis=1)


NOISES = ("skewed", "antithetic", "gaussian")


def regression_problem(noise, n_images=16, noise_scale=4.0, w_true=(0.5, 1.0), seed=0):
    r"""Linear-regression data :math:`y = Aw + \xi` on digits features, two labels per image.

    Each image appears twice (``2 n_images`` samples), so that the three noises share one design:

    - ``"skewed"``: :math:`\xi = s(E - 1)` with :math:`E` standard exponential (mean 0, skewness 2), independent;
    - ``"antithetic"``: the pair of an image gets :math:`\pm s(E-1)`: the empirical law of the
      residuals at :math:`w` is exactly symmetric, so (the sums cancelling) the minimiser is exactly
      :math:`w` and every coordinate's per-sample gradient law there is symmetric about 0;
    - ``"gaussian"``: :math:`\xi = sZ`, :math:`Z` standard normal, independent (symmetric in law, but a
      finite sample is not exactly symmetric).

    Returns ``(A, y, w_true)``.
    """
    if noise not in NOISES:
        raise ValueError(f"noise must be one of {NOISES}, got {noise!r}")
    s = scalar_positive("noise_scale", noise_scale)
    A1 = regression_features(n_images, seed)
    A = np.concatenate([A1, A1])
    w = np.asarray(w_true, float)
    rng = np.random.default_rng(1000 + check_int("seed", seed, 0))
    e = rng.exponential(1.0, (2, n_images)) - 1.0
    if noise == "skewed":
        xi = s * e.ravel()
    elif noise == "antithetic":
        xi = s * np.concatenate([e[0], -e[0]])
    else:
        xi = s * rng.standard_normal(2 * n_images)
    return A, A @ w + xi, w


def least_squares_minimiser(A, y):
    r"""The minimiser of :math:`f(w) = \frac1n\sum_i\tfrac12(a_i\cdot w - y_i)^2`: :math:`A^\top A w = A^\top y`."""
    A = np.asarray(A, float)
    return np.linalg.solve(A.T @ A, A.T @ np.asarray(y, float))


def delta_method_zero(A, y, beta1, beta2):
    r"""Second-order prediction of the field's zero: :math:`w^\star + H^{-1}\delta` (ours).

    Coordinate :math:`j` of the field is :math:`-\mathbb E[m_j/\sqrt{v_j}]`.  Expanded to second order
    about :math:`(\mu_j, \sigma_j^2) = (\mathbb E G_j, \mathbb E G_j^2)` (as in the vector-field
    chapter), it vanishes where

    .. math::

        \mu_j = \delta_j = \frac{c\,\kappa_j}{2\sigma_j^2\,(1 + 3W_j/(8\sigma_j^4))},\qquad
        c = \frac{(1-\beta_1)(1-\beta_2)}{1-\beta_1\beta_2},\quad
        W_j = \frac{1-\beta_2}{1+\beta_2}\operatorname{Var}(G_j^2),

    :math:`\kappa_j = \operatorname{Cov}(G_j, G_j^2)`, the moments taken at the minimiser
    :math:`w^\star`.  For least squares :math:`\mu = \nabla f(w) = H(w - w^\star)` with
    :math:`H = A^\top A/n`, so the zero is :math:`w^\star + H^{-1}\delta`.
    """
    A, y = np.asarray(A, float), np.asarray(y, float)
    w_star = least_squares_minimiser(A, y)
    G = (A @ w_star - y)[:, None] * A                 # per-sample gradients (n, d) at the minimiser
    mu, s2 = G.mean(0), (G**2).mean(0)
    kappa = (G**3).mean(0) - mu * s2
    W = (1 - beta2) / (1 + beta2) * ((G**4).mean(0) - s2**2)
    delta = V.delta_method_coefficient(beta1, beta2) * kappa / (2 * s2 * (1 + 3 * W / (8 * s2**2)))
    H = A.T @ A / A.shape[0]
    return w_star + np.linalg.solve(H, delta)


@dataclass(frozen=True)
class FieldZero:
    """Result of :func:`field_zero_nd`: the zero, its uncertainty (per coordinate), the field there, iterations."""

    zero: np.ndarray
    uncertainty: np.ndarray
    residual: float
    iterations: int


def ratio_of_means_jacobian(A, y, w):
    r"""Jacobian of :math:`-\mathbb E G_j/\sqrt{\mathbb E G_j^2}` at :math:`\mathbb E G = 0`: :math:`-\mathrm{diag}(\sigma_j^{-1}) H`.

    A close, closed-form stand-in for the field's Jacobian near its zero (the field is the ratio of
    the means up to the second-order terms of :func:`delta_method_zero`).
    """
    A = np.asarray(A, float)
    G = (A @ np.asarray(w, float) - np.asarray(y, float))[:, None] * A
    return -(A.T @ A / A.shape[0]) / np.sqrt((G**2).mean(0))[:, None]


def field_zero_nd(A, y, beta1, beta2, eps=0.0, eps_placement="outside", start=None, tol=1e-11, max_iter=20,
                  nodes=64, series_tol=1e-10):
    r"""A zero of the Adam field of sampled least squares, by Broyden's method on the exact series.

    The field is :func:`adamdyn.vector_field.least_squares_field` (uniform sampling of the rows),
    one series evaluation per iteration.  The start is :func:`delta_method_zero` (or ``start``), the
    first Jacobian :func:`ratio_of_means_jacobian`, updated by Broyden's rank-one rule.  The
    uncertainty is :math:`|J^{-1}|\,e`, with :math:`e` the series' error bound at the zero.
    """
    A, y = np.asarray(A, float), np.asarray(y, float)
    kw = dict(beta1=beta1, beta2=beta2, eps=eps, eps_placement=eps_placement, nodes=nodes, tol=series_tol)
    field = lambda pts: V.least_squares_field(pts, A, y, error=False, **kw).value  # noqa: E731
    w = (delta_method_zero(A, y, beta1, beta2) if start is None else np.asarray(start, float)).copy()
    J = ratio_of_means_jacobian(A, y, w)
    hw = field(w)
    it = 0
    while np.linalg.norm(hw) >= tol and it < max_iter:
        it += 1
        dw = -np.linalg.solve(J, hw)
        h_new = field(w + dw)
        J = J + np.outer(h_new - hw - J @ dw, dw) / (dw @ dw)
        w, hw = w + dw, h_new
    err = V.least_squares_field(w, A, y, error=True, **kw).error
    unc = np.abs(np.linalg.inv(J)) @ np.abs(err)
    return FieldZero(w, unc, float(np.linalg.norm(hw)), it)


@dataclass(frozen=True)
class RegressionExperiment:
    """Result of :func:`regression_experiment`.

    ``rows`` is a list of dicts, one per (noise, (beta1, beta2), reading), with the minimiser, the
    field's zero (eps = 0, eps outside and inside), the delta-method prediction, and Adam's averaged
    iterates (mean over runs and 95% half-width, the per-run averages).
    """

    rows: list
    setting: dict


def _adam_average(A, y, start, beta1, beta2, eps, steps, runs, gamma0, n0, power, bias_correction, seed):
    run = SA.adam_least_squares(A, y, start, steps, gamma0=gamma0, power=power, n0=n0, beta1=beta1, beta2=beta2,
                               eps=eps, bias_correction=bias_correction, runs=runs, seed=seed,
                               record_every=max(1, steps // 1000))
    per_run = run.path[run.path.shape[0] // 2:].mean(axis=0)      # Polyak average over the second half
    mean, half = SA.mean_confidence(per_run.T)
    return per_run, mean, half, bool(run.diverged.any())


@memoised
def regression_experiment(*, n_images=16, noise_scale=4.0, steps=200000, runs=8, gamma0=0.02, n0=10000.0,
                          eps=1e-8, seed=0, betas=BETAS, schedules=((1.0, True), (0.5, True), (1.0, False))) -> RegressionExperiment:
    r"""Minimiser, field zero and Adam's long run for every noise and (beta1, beta2).

    ``schedules`` are ``(power, bias_correction)`` readings of Adam; the first is run for every
    noise and pair, the others for the skewed noise at the first pair only (the main comparison),
    where the zero is also computed with :math:`\epsilon` outside and inside the root.  Adam starts at
    the minimiser plus (1, -1) and has :math:`\epsilon` outside the root (Kingma & Ba).
    """
    rows = []
    for k, noise in enumerate(NOISES):
        A, y, w_true = regression_problem(noise, n_images, noise_scale, seed=seed)
        w_star = least_squares_minimiser(A, y)
        start = w_star + np.array([1.0, -1.0])
        for i, (b1, b2) in enumerate(betas):
            z0 = field_zero_nd(A, y, b1, b2, 0.0)
            main = noise == "skewed" and i == 0
            z_out = field_zero_nd(A, y, b1, b2, eps, "outside", start=z0.zero).zero if main else None
            z_in = field_zero_nd(A, y, b1, b2, eps, "inside", start=z0.zero).zero if main else None
            for j, (power, bc) in enumerate(schedules):
                if j > 0 and not main:
                    continue
                per_run, mean, half, div = _adam_average(A, y, start, b1, b2, eps, steps, runs, gamma0, n0, power,
                                                         bc, seed + 100 * k + 10 * i + j)
                rows.append(dict(noise=noise, beta1=b1, beta2=b2, power=power, bias_correction=bc,
                                 w_true=w_true, minimiser=w_star, zero=z0.zero, zero_unc=z0.uncertainty,
                                 zero_iterations=z0.iterations, zero_residual=z0.residual,
                                 zero_out=z_out, zero_in=z_in, delta=delta_method_zero(A, y, b1, b2),
                                 adam=mean, adam_half=half, adam_runs=per_run, diverged=div,
                                 last_gamma=float(step_size(steps, gamma0, n0, power))))
    setting = dict(n_images=n_images, n_samples=2 * n_images, noise_scale=noise_scale, steps=steps, runs=runs,
                   gamma0=gamma0, n0=n0, eps=eps)
    return RegressionExperiment(rows, setting)


def distances(row):
    """Adam's averaged iterate: distance to the zero and to the minimiser, in units of its 95% half-width.

    The unit is the larger coordinate's ratio (a box, not an ellipse), plus the zero's own uncertainty.
    """
    half = np.maximum(row["adam_half"], 1e-300)
    to_zero = float(np.max(np.abs(row["adam"] - row["zero"]) / (half + row["zero_unc"])))
    to_min = float(np.max(np.abs(row["adam"] - row["minimiser"]) / half))
    return to_zero, to_min


def which_limit(row, z=2.0):
    """'zero', 'minimiser', 'both' (indistinguishable) or 'neither', at ``z`` half-widths."""
    to_zero, to_min = distances(row)
    near_zero, near_min = to_zero <= z, to_min <= z
    return "both" if near_zero and near_min else "zero" if near_zero else "minimiser" if near_min else "neither"


# ----------------------------------------------------------------------------- ledger rows
def overparametrised_summary(runs: OverparametrisedRuns) -> dict:
    """Per grid point: initial and final training loss (median over seeds), loss exponent q (median), diverged."""
    loss = runs.loss()
    out = {}
    st = runs.setting
    for i, label in enumerate(runs.labels):
        p = float(runs.points["power"][i])
        q = loss_exponent(runs.sweep.eval_steps, loss[i], st["gamma0"], st["n0"], p)
        out[label] = dict(power=p, beta1=float(runs.points["beta1"][i]), beta2=float(runs.points["beta2"][i]),
                          eps=float(runs.points["eps"][i]), inside=bool(runs.points["eps_inside"][i]),
                          initial=float(np.median(loss[i, :, 0])), final=float(np.median(loss[i, :, -1])),
                          final_max=float(loss[i, :, -1].max()), q=float(np.median(q)) if p > 0 else np.nan,
                          diverged=bool(runs.sweep.by_point("diverged")[i].any()))
    return out


def reaches_minima(s, drop=1e-4):
    """A decreasing-step reading 'reaches the minima' if every seed ends below ``drop`` x the start, still falling (q > 0)."""
    return s["final_max"] < drop * s["initial"] and s["q"] > 0 and not s["diverged"]


def over_verdict(summary, drop=1e-4):
    """'verified' if every decreasing-step reading reaches the minima, 'depends on an unstated setting' if some do."""
    ok = [reaches_minima(s, drop) for s in summary.values() if s["power"] > 0]
    return "verified" if all(ok) else "depends on an unstated setting" if any(ok) else "not reproduced"


def symmetry_verdict(rows):
    """The symmetry theorem's prediction against Adam's averaged iterates (main schedule only).

    Antithetic (exactly symmetric): Adam at the minimiser.  Skewed: Adam away from the minimiser,
    at the zero.  A pair where Adam cannot tell the two apart does not count against the prediction
    but is reported.
    """
    main = [r for r in rows if r["power"] == 1.0 and r["bias_correction"]]
    sym_ok = all(which_limit(r) in ("minimiser", "both") for r in main if r["noise"] == "antithetic")
    skew = [which_limit(r) for r in main if r["noise"] == "skewed"]
    skew_ok = all(w in ("zero", "both") for w in skew) and "zero" in skew
    return "verified" if sym_ok and skew_ok else "not reproduced"
