r"""Adam's step under gradient noise: the signal-to-noise law (Kaiser's section 3, "corners of a hypercube").

Model (Kaiser's Eq. 6, one coordinate): the gradient at every step is :math:`g_t = \mu + N_t` with a
constant mean :math:`\mu` and i.i.d. :math:`N_t \sim \mathcal N(0, \sigma^2)`.  Adam's bias-corrected
moments :math:`\hat m_T, \hat v_T` are then random, and the step per :math:`\eta` is
:math:`X_T = \hat m_T/(\sqrt{\hat v_T} + \epsilon)`.

Expansion.  :math:`X` is linear in :math:`\hat m` and smooth in :math:`\hat v`; expanding it to second order
around the means :math:`(\mu, V)`, :math:`V = \mu^2 + \sigma^2`, and taking expectations gives

.. math::

    \mathbb E[X] \approx f + \partial_{mv} f\,\operatorname{Cov}(\hat m, \hat v)
                 + \tfrac12\,\partial_{vv} f\,\operatorname{Var}(\hat v),\qquad
    \operatorname{Var}[X] \approx (\partial_m f)^2\operatorname{Var}\hat m
                 + 2\,\partial_m f\,\partial_v f\operatorname{Cov}(\hat m, \hat v)
                 + (\partial_v f)^2 \operatorname{Var}\hat v,

with :math:`f = \mu/(\sqrt V + \epsilon)`.  The moments of :math:`\hat m, \hat v` are exact sums (derived
below); the corrections to the leading term are of order :math:`1-\beta_2`.  As :math:`T\to\infty` and
:math:`\epsilon\to 0` the leading terms are

.. math::

    \mathbb E[X] \to \frac{\mu}{\sqrt{\mu^2+\sigma^2}},\qquad
    \operatorname{sd}[X] \to \sqrt{\frac{1-\beta_1}{1+\beta_1}}\;\frac{\sigma}{\sqrt{\mu^2+\sigma^2}} .

So under noise the step is not a corner :math:`\pm\eta` of a hypercube: its mean is :math:`\eta` times the
signal-to-noise factor of Balles & Hennig (2018), and its spread does not vanish with :math:`T`.

References
----------
A. Kaiser, "Exploring the dynamics of Adam", section 3.  L. Balles and P. Hennig, "Dissecting Adam: the
sign, magnitude and variance of stochastic gradients", ICML 2018.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from . import landscapes as _L
from . import optimizers as _opt
from .symbols import beta1, beta2, eps
from .validation import check_beta, check_int, check_nonnegative, check_positive, check_seed
from .memo import memoised

__all__ = [
    "mu", "sigma", "eps", "T",
    "moment_sums_expr", "step_moments_expr", "snr_law_expr", "snr_spread_expr",
    "predicted_step_moments", "monte_carlo_steps",
]

mu = sp.Symbol("mu", real=True)
sigma = sp.Symbol("sigma", positive=True)
T = sp.Symbol("T", integer=True, positive=True)
_j = sp.Symbol("j", integer=True, nonnegative=True)


_r = sp.Symbol("r", positive=True)


@lru_cache(maxsize=None)
def _geometric(upper):
    """sympy's sum of ``r**j`` for j = 0..upper, its generic branch (r != 1, or the convergent one)."""
    s = sp.summation(_r**_j, (_j, 0, upper))
    if isinstance(s, sp.Piecewise):  # finite: (T, r = 1), (closed form, True); infinite: (1/(1-r), |r| < 1), ...
        s = s.args[0][0] if upper == sp.oo else next(e for e, c in s.args if c == True)  # noqa: E712
    return s


def _geo(ratio, upper):
    """The geometric sum of :func:`_geometric` at the ratio ``ratio`` (summed once, for a plain symbol)."""
    return _geometric(upper).subs(_r, ratio)


def _gauss_mean(poly, N):
    r""":math:`\mathbb E` of a polynomial in :math:`N \sim \mathcal N(0, \sigma^2)`: each :math:`N^k` becomes
    its moment, 0 for odd :math:`k` and :math:`(k-1)!!\,\sigma^k` for even :math:`k`."""
    p = sp.Poly(sp.expand(poly), N)
    return sp.factor(sum(c * (sp.factorial2(k - 1) * sigma**k if k % 2 == 0 else 0)
                         for (k,), c in p.terms()))


@lru_cache(maxsize=None)
def moment_sums_expr(finite=True):
    r"""Mean and (co)variances of the bias-corrected :math:`\hat m_T, \hat v_T` under Gaussian noise (sympy).

    Each is a weighted sum over the history with weights :math:`(1-\beta_1)\beta_1^j`, :math:`(1-\beta_2)\beta_2^j`,
    divided by the bias corrections; the single-gradient moments :math:`\operatorname{Var} g = \sigma^2`,
    :math:`\operatorname{Cov}(g, g^2) = 2\mu\sigma^2`, :math:`\operatorname{Var} g^2 = 2\sigma^2(2\mu^2+\sigma^2)`
    are the Gaussian moments of polynomials in the noise (:func:`_gauss_mean`).  ``finite=False`` gives the limit :math:`T\to\infty`.

    Returns a dict with keys ``m, v, var_m, cov_mv, var_v``.
    """
    N = sp.Symbol("N", real=True)
    g = mu + N
    var_g = _gauss_mean((g - mu) ** 2, N)
    cov_g_g2 = _gauss_mean((g - mu) * (g**2 - _gauss_mean(g**2, N)), N)
    var_g2 = _gauss_mean((g**2 - _gauss_mean(g**2, N)) ** 2, N)
    upper = T - 1 if finite else sp.oo
    c1 = 1 - beta1**T if finite else 1
    c2 = 1 - beta2**T if finite else 1
    return {
        "m": mu,
        "v": mu**2 + sigma**2,
        "var_m": sp.factor((1 - beta1) ** 2 * var_g * _geo(beta1**2, upper) / c1**2),
        "cov_mv": sp.factor((1 - beta1) * (1 - beta2) * cov_g_g2 * _geo(beta1 * beta2, upper) / (c1 * c2)),
        "var_v": sp.factor((1 - beta2) ** 2 * var_g2 * _geo(beta2**2, upper) / c2**2),
    }


@lru_cache(maxsize=None)
def step_moments_expr(finite=True):
    r"""Second-order (delta-method) mean and variance of :math:`X = \hat m/(\sqrt{\hat v}+\epsilon)` (sympy).

    Returns ``(mean, variance)`` as expressions in :math:`\mu, \sigma, \beta_1, \beta_2, \epsilon` (and
    :math:`T` if ``finite``).  :math:`\partial_{mm} X = 0`, so the expansion is exact in :math:`\hat m`.
    """
    mm, vv = sp.symbols("m v", positive=True)
    f = mm / (sp.sqrt(vv) + eps)
    mo = moment_sums_expr(finite)
    at = {mm: mo["m"], vv: mo["v"]}
    d = lambda *xs: sp.diff(f, *xs).subs(at)  # noqa: E731
    mean = f.subs(at) + d(mm, vv) * mo["cov_mv"] + sp.Rational(1, 2) * d(vv, vv) * mo["var_v"]
    var = d(mm) ** 2 * mo["var_m"] + 2 * d(mm) * d(vv) * mo["cov_mv"] + d(vv) ** 2 * mo["var_v"]
    return mean, var


def snr_law_expr():
    r"""The leading term of :math:`\mathbb E[X]` as :math:`T\to\infty`, :math:`\epsilon = 0`:
    the signal-to-noise factor :math:`\mu/\sqrt{\mu^2+\sigma^2}` (derived from :func:`step_moments_expr`)."""
    mean, _ = step_moments_expr(False)
    return sp.simplify(mean.subs({eps: 0, beta2: 1}))  # the corrections carry a factor 1 - beta2


def snr_spread_expr():
    r"""The leading standard deviation of :math:`X` as :math:`T\to\infty`, :math:`\epsilon = 0`:
    :math:`\sqrt{(1-\beta_1)/(1+\beta_1)}\,\sigma/\sqrt{\mu^2+\sigma^2}`."""
    _, var = step_moments_expr(False)
    return sp.simplify(sp.sqrt(sp.factor(var.subs({eps: 0, beta2: 1}))))


@lru_cache(maxsize=None)
def _lambdified(finite):
    mean, var = step_moments_expr(finite)
    args = (mu, sigma, beta1, beta2, eps) + ((T,) if finite else ())
    return sp.lambdify(args, mean, "numpy"), sp.lambdify(args, var, "numpy")


def predicted_step_moments(mean_gradient, sigma_=1.0, beta1_=0.9, beta2_=0.999, eps_=1e-8, steps=None):
    r"""Numeric delta-method mean and standard deviation of the step per :math:`\eta` at step ``steps``
    (``None``: the limit :math:`T\to\infty`).  Broadcast over ``mean_gradient``."""
    check_beta("beta1", beta1_), check_beta("beta2", beta2_), check_positive("sigma", sigma_)
    check_nonnegative("eps", eps_)
    mu_ = np.asarray(mean_gradient, float)
    fm, fv = _lambdified(steps is not None)
    extra = () if steps is None else (check_int("steps", steps, 1),)
    mean = fm(mu_, sigma_, beta1_, beta2_, eps_, *extra)
    var = fv(mu_, sigma_, beta1_, beta2_, eps_, *extra)
    return np.broadcast_to(mean, mu_.shape) * 1.0, np.sqrt(np.broadcast_to(var, mu_.shape))


def monte_carlo_steps(mean_gradients, sigma_=1.0, steps=3000, n_paths=4000, beta1_=0.9, beta2_=0.999,
                      eps_=1e-8, seed=0):
    r"""Monte Carlo of Adam's step at step ``steps`` under :math:`g = \mu + \mathcal N(0, \sigma^2)`.

    One coordinate per mean gradient :math:`\mu_i`, ``n_paths`` independent runs of the library's Adam
    (:func:`adamdyn.run` on a linear loss whose gradient is the seeded noisy one; the loss's value never
    enters).  Returns ``(mean, its standard error, standard deviation)`` of :math:`-\Delta w/\eta` per
    :math:`\mu_i`.
    """
    mus = np.atleast_1d(np.asarray(mean_gradients, float))
    check_positive("sigma", sigma_)
    steps = check_int("steps", steps, 2)
    n_paths = check_int("n_paths", n_paths, 2)
    rng = np.random.default_rng(check_seed("seed", seed))

    def grad(X):
        return mus + sigma_ * rng.standard_normal(np.shape(X))

    lan = _L.from_function(lambda X: np.asarray(X) @ mus, grad=grad, dim=mus.size)
    opt = _opt.adam(lr=1.0, beta1=beta1_, beta2=beta2_, eps=eps_).take(np.zeros(n_paths, dtype=int))
    before = _opt.run(opt, lan, x0=np.zeros((n_paths, mus.size)), steps=steps - 1, record_every=steps)
    last = _opt.run(opt, lan, x0=None, steps=1, state=before.state)
    x = -(last.final - before.final)
    return x.mean(axis=0), x.std(axis=0, ddof=1) / np.sqrt(n_paths), x.std(axis=0, ddof=1)


@memoised
def snr_check(snr_values=(0.0, 0.1, 0.3, 1.0, 3.0, 10.0), steps=1000, n_paths=1500, beta1_=0.9, beta2_=0.999,
              eps_=1e-8, seed=0):
    r"""The chapter's check of the signal-to-noise law, with :math:`\sigma = 1` and :math:`\mu` = ``snr_values``.

    Returns a dict of arrays over the values: Monte Carlo ``mc_mean``, ``mc_se``, ``mc_sd``; the
    delta-method ``pred_mean``, ``pred_sd`` at step ``steps``; the law ``law`` = :math:`\mu/\sqrt{\mu^2+1}`
    and its spread ``law_sd``; and scalars ``max_z`` (largest :math:`|\text{MC} - \text{prediction}|`
    in standard errors), ``max_law_gap`` (largest :math:`|\text{prediction} - \text{law}|`) and
    ``min_sd`` (the smallest Monte Carlo spread).
    """
    r = np.asarray(snr_values, float)
    mc_mean, mc_se, mc_sd = monte_carlo_steps(r, 1.0, steps, n_paths, beta1_, beta2_, eps_, seed)
    pred_mean, pred_sd = predicted_step_moments(r, 1.0, beta1_, beta2_, eps_, steps)
    law = r / np.sqrt(r**2 + 1)
    law_sd = np.sqrt((1 - beta1_) / (1 + beta1_)) / np.sqrt(r**2 + 1)
    return {"snr": r, "mc_mean": mc_mean, "mc_se": mc_se, "mc_sd": mc_sd, "pred_mean": pred_mean,
            "pred_sd": pred_sd, "law": law, "law_sd": law_sd,
            "max_z": float(np.max(np.abs(mc_mean - pred_mean) / mc_se)),
            "max_law_gap": float(np.max(np.abs(pred_mean - law))),
            "min_sd": float(mc_sd.min())}
