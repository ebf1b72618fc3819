r"""Kaiser's section 3: how Adam's moving averages treat gradient noise.

Model (Kaiser's Eq. 6): the gradient seen at step :math:`t` is :math:`\mu_t + N_t`, with a
deterministic mean :math:`\mu_t` and unbiased noise, :math:`\mathbb E N_t = 0`; here the
:math:`N_t` are independent with variance :math:`\sigma^2` (Gaussian where a fourth moment is needed).
With :math:`m_0 = v_0 = 0` (Kaiser writes :math:`g_T, \sigma_T^2`):

.. math::

    \mathbb E[m_T] &= (1-\beta_1)\sum_{j=0}^{T-1}\beta_1^j\mu_{T-j},\qquad
    \operatorname{Var}[m_T] = (1-\beta_1)^2\sigma^2\sum_{j=0}^{T-1}\beta_1^{2j}
        = \sigma^2\,\frac{1-\beta_1}{1+\beta_1}\,(1-\beta_1^{2T}),\\
    \mathbb E[v_T] &= (1-\beta_2)\sum_{j=0}^{T-1}\beta_2^j(\mu_{T-j}^2+\sigma^2),\qquad
    \operatorname{Var}[v_T] = (1-\beta_2)^2\sum_{j=0}^{T-1}\beta_2^{2j}\,2\sigma^2(2\mu_{T-j}^2+\sigma^2).

As :math:`T\to\infty`, :math:`\operatorname{Var}[m_T] \to \sigma^2(1-\beta_1)/(1+\beta_1)`, a positive
constant (:math:`\sigma^2/19` at :math:`\beta_1 = 0.9`), reached exponentially fast: an exponential moving
average does not average noise away.  Kaiser's "tends to zero as :math:`1/\sqrt T`" is not what happens
(a plain average of :math:`T` gradients has variance :math:`\sigma^2/T`, standard deviation
:math:`\sigma/\sqrt T`).

Correlated (AR(1)) noise is in :mod:`adamdyn.correlated_noise`; the noiseless limit, Adam's step
under a constant gradient (Kaiser's Eq. 5, the "corner of a hypercube"), in
:mod:`adamdyn.constant_gradient`.

References
----------
A. Kaiser, "Exploring the dynamics of Adam", section 3.  D. P. Kingma and J. Ba, "Adam", ICLR 2015, section 3.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import sympy as sp

from . import landscapes as _L
from . import optimizers as _opt
from .update_rule import numpy_rule as _rule
from .validation import (
    check_beta,
    check_int,
    check_integers,
    check_scalar,
    check_seed,
    real_array,
    scalar_beta,
    scalar_positive,
)

__all__ = [
    "beta1", "beta2", "sigma", "mu", "T", "j",
    "first_moment_mean_expr", "first_moment_variance_expr", "first_moment_variance_limit_expr",
    "bias_corrected_variance_expr", "second_moment_mean_expr", "second_moment_variance_expr",
    "squared_gradient_moments_expr", "ramp_lag_expr", "ramp_lag_limit_expr",
    "first_moment_variance", "first_moment_variance_limit",
    "second_moment_mean", "second_moment_variance",
    "monte_carlo_moments", "ramp_monte_carlo", "noisy_quadratic_lag",
    "noise_free_phase", "early_training_check",
]

from .memo import memoised
from .symbols import beta1, beta2

sigma = sp.Symbol("sigma", positive=True)
mu = sp.Symbol("mu", real=True)
T = sp.Symbol("T", integer=True, positive=True)
j = sp.Symbol("j", integer=True, nonnegative=True)
_slope = sp.Symbol("b", real=True)


def _branch(expr):
    """The generic branch of a sympy ``Piecewise`` sum (ratio != 1, or the convergent one)."""
    if not isinstance(expr, sp.Piecewise):
        return expr
    for e, c in expr.args:
        if c == True or isinstance(c, sp.core.relational.StrictLessThan):  # noqa: E712
            return e
    return expr.args[-1][0]


# ----------------------------------------------------------------------------- symbolic
@cache  # derived once per process: the chapter and its checks ask again
def first_moment_mean_expr(mean=mu):
    r""":math:`\mathbb E[m_T] = (1-\beta_1)\sum_{j<T}\beta_1^j\mu` for a constant mean: :math:`\mu(1-\beta_1^T)`."""
    return sp.simplify((1 - beta1) * _branch(sp.summation(beta1**j * mean, (j, 0, T - 1))))


@cache
def first_moment_variance_expr():
    r""":math:`\operatorname{Var}[m_T] = (1-\beta_1)^2\sigma^2\sum_{j<T}\beta_1^{2j}` (independent noise), summed by sympy."""
    return sp.factor((1 - beta1) ** 2 * sigma**2 * _branch(sp.summation(beta1 ** (2 * j), (j, 0, T - 1))))


@cache
def first_moment_variance_limit_expr():
    r""":math:`\lim_{T\to\infty}\operatorname{Var}[m_T] = \sigma^2(1-\beta_1)/(1+\beta_1)` (the infinite series)."""
    return sp.factor((1 - beta1) ** 2 * sigma**2 * _branch(sp.summation(beta1 ** (2 * j), (j, 0, sp.oo))))


@cache
def bias_corrected_variance_expr():
    r""":math:`\operatorname{Var}[\hat m_T] = \operatorname{Var}[m_T]/(1-\beta_1^T)^2
    = \sigma^2\frac{(1-\beta_1)(1+\beta_1^T)}{(1+\beta_1)(1-\beta_1^T)}`: :math:`\sigma^2` at :math:`T = 1`."""
    return sp.factor(sp.cancel(first_moment_variance_expr() / (1 - beta1**T) ** 2))


@cache
def squared_gradient_moments_expr():
    r"""Mean and variance of one squared gradient :math:`(\mu + N)^2`, :math:`N\sim\mathcal N(0,\sigma^2)`
    (``sympy.stats``): :math:`\mu^2+\sigma^2` and :math:`2\sigma^2(2\mu^2+\sigma^2)`."""
    from sympy.stats import E, Normal, variance

    N = Normal("N", 0, sigma)
    return sp.simplify(E((mu + N) ** 2)), sp.factor(sp.simplify(variance((mu + N) ** 2)))


@cache
def second_moment_mean_expr():
    r""":math:`\mathbb E[v_T]` for a constant mean: :math:`(\mu^2+\sigma^2)(1-\beta_2^T)`."""
    mean_sq, _ = squared_gradient_moments_expr()
    return sp.factor((1 - beta2) * mean_sq * _branch(sp.summation(beta2**j, (j, 0, T - 1))))


@cache
def second_moment_variance_expr():
    r""":math:`\operatorname{Var}[v_T]` for a constant mean and Gaussian noise:
    :math:`2\sigma^2(2\mu^2+\sigma^2)\frac{1-\beta_2}{1+\beta_2}(1-\beta_2^{2T})`."""
    _, var_sq = squared_gradient_moments_expr()
    return sp.factor((1 - beta2) ** 2 * var_sq * _branch(sp.summation(beta2 ** (2 * j), (j, 0, T - 1))))


@cache
def ramp_lag_expr():
    r"""Bias of the bias-corrected :math:`\hat m_T` when the mean gradient is a ramp :math:`\mu_t = a + b t`.

    .. math:: \mathbb E[\hat m_T] - \mu_T = \frac{(1-\beta_1)\sum_{j<T}\beta_1^j(\mu_{T-j}-\mu_T)}{1-\beta_1^T}
              = -b\,\frac{(1-\beta_1)\sum_{j<T} j\beta_1^j}{1-\beta_1^T}.

    Kingma & Ba's correction removes the bias only for a stationary mean (:math:`b = 0`).
    """
    return sp.simplify(-_slope * (1 - beta1) * _branch(sp.summation(j * beta1**j, (j, 0, T - 1))) / (1 - beta1**T))


@memoised
def ramp_lag_limit_expr():
    r""":math:`\lim_{T\to\infty}` of :func:`ramp_lag_expr`: :math:`-b\,\beta_1/(1-\beta_1)` (a lag of
    :math:`\beta_1/(1-\beta_1)` steps: 9 at :math:`\beta_1 = 0.9`)."""
    return sp.simplify(-_slope * (1 - beta1) * _branch(sp.summation(j * beta1**j, (j, 0, sp.oo))))


# ----------------------------------------------------------------------------- numeric
def first_moment_variance(beta1, T, sigma=1.0, bias_correction=False):
    r"""Numeric :math:`\operatorname{Var}[m_T] = \sigma^2\frac{1-\beta_1}{1+\beta_1}(1-\beta_1^{2T})`
    (divided by :math:`(1-\beta_1^T)^2` if ``bias_correction``); broadcast over arrays."""
    b1 = check_beta("beta1", np.ravel(beta1)).reshape(np.shape(beta1))
    T = _step_counts("T", T)
    sigma = _scale("sigma", sigma)
    out = sigma**2 * (1 - b1) / (1 + b1) * (1 - b1 ** (2 * T))
    return out / (1 - b1**T) ** 2 if bias_correction else out


def first_moment_variance_limit(beta1, sigma=1.0):
    r""":math:`\sigma^2(1-\beta_1)/(1+\beta_1)`."""
    b1 = check_beta("beta1", np.ravel(beta1)).reshape(np.shape(beta1))
    sigma = _scale("sigma", sigma)
    return sigma**2 * (1 - b1) / (1 + b1)


def second_moment_mean(beta2, T, sigma=1.0, mean=0.0):
    r""":math:`(\mu^2+\sigma^2)(1-\beta_2^T)`."""
    b2 = check_beta("beta2", np.ravel(beta2)).reshape(np.shape(beta2))
    T = _step_counts("T", T)
    sigma, mean = _scale("sigma", sigma), _scale("mean", mean, -_MAX_SCALE)
    return (mean**2 + sigma**2) * (1 - b2**T)


def second_moment_variance(beta2, T, sigma=1.0, mean=0.0):
    r""":math:`2\sigma^2(2\mu^2+\sigma^2)\frac{1-\beta_2}{1+\beta_2}(1-\beta_2^{2T})` (Gaussian noise)."""
    b2 = check_beta("beta2", np.ravel(beta2)).reshape(np.shape(beta2))
    T = _step_counts("T", T)
    sigma, mean = _scale("sigma", sigma), _scale("mean", mean, -_MAX_SCALE)
    return 2 * sigma**2 * (2 * mean**2 + sigma**2) * (1 - b2) / (1 + b2) * (1 - b2 ** (2 * T))


#: Largest noise level or mean accepted: their squares (and fourth powers' sums) stay finite.
_MAX_SCALE = 1e75


def _scale(name, value, low=0.0, *, low_open=False):
    """A noise level or mean: one number in [low, 1e75] (its fourth power fits in float64)."""
    return check_scalar(name, value, low, _MAX_SCALE, low_open=low_open)


def _step_counts(name, T):
    """Step counts: whole numbers >= 1 (an array or a number), as floats."""
    return check_integers(name, real_array(name, T), 1).astype(float)


def _var_and_se(x):
    """Sample variance along axis 0 and its standard error from the sample fourth central moment."""
    n = x.shape[0]
    d = x - x.mean(axis=0)
    var = (d**2).sum(axis=0) / (n - 1)
    m4 = (d**4).mean(axis=0)
    se = np.sqrt(np.maximum(m4 - var**2 * (n - 3) / (n - 1), 0.0) / n)
    return var, se


@memoised
def monte_carlo_moments(beta1=0.9, beta2=0.999, T_values=(1, 10, 100, 1000), n_paths=20_000, sigma=1.0,
                        mean=0.0, seed=0):
    r"""Monte Carlo of :math:`m_T, v_T` under i.i.d. Gaussian noise around a constant mean.

    The two moving averages are iterated here with the moment pieces of :mod:`adamdyn.update_rule`
    alone, without the rest of the optimizer (:func:`adamdyn.noisy_step.monte_carlo_steps` runs that).

    Returns a dict of arrays over ``T_values``: ``m_mean, m_mean_se, m_var, m_var_se, v_mean, v_mean_se,
    v_var, v_var_se``.  Standard errors: :math:`s/\sqrt n` for means; for variances
    :math:`\sqrt{(\hat\mu_4 - \tfrac{n-3}{n-1}s^4)/n}`.
    """
    beta1, beta2 = scalar_beta("beta1", beta1), scalar_beta("beta2", beta2)
    sigma, mean = _scale("sigma", sigma, low_open=True), _scale("mean", mean, -_MAX_SCALE)
    n_paths = check_int("n_paths", n_paths, 2)
    T_values = check_integers("T_values", real_array("T_values", T_values), 1)
    if T_values.ndim != 1 or T_values.size == 0:
        raise ValueError(f"T_values must be a 1-D list of integers >= 1, got {T_values!r}")
    rng = np.random.default_rng(check_seed("seed", seed))
    m = np.zeros(n_paths)
    v = np.zeros(n_paths)
    keep = {int(k): i for i, k in enumerate(T_values)}
    ms = np.empty((len(T_values), n_paths))
    vs = np.empty((len(T_values), n_paths))
    for t in range(1, int(T_values.max()) + 1):
        g = mean + sigma * rng.standard_normal(n_paths)
        m = _rule.first_moment(m, g, beta1, 1 - beta1)
        v = _rule.second_moment(v, g, beta2, 1 - beta2)
        if t in keep:
            ms[keep[t]], vs[keep[t]] = m, v
    out = {}
    for name, x in (("m", ms.T), ("v", vs.T)):
        out[f"{name}_mean"] = x.mean(axis=0)
        out[f"{name}_mean_se"] = x.std(axis=0, ddof=1) / np.sqrt(n_paths)
        out[f"{name}_var"], out[f"{name}_var_se"] = _var_and_se(x)
    return out


def ramp_monte_carlo(beta1=0.9, steps=60, a=1.0, b=-0.02, sigma=1.0, n_paths=20_000, seed=0):
    r"""Monte Carlo of the bias-corrected :math:`\hat m_t` for gradients :math:`a + b t + N_t`.

    Returns ``(t, mean of m_hat, its standard error, mu_t)``.
    """
    beta1 = scalar_beta("beta1", beta1)
    steps = check_int("steps", steps, 1)
    a, b, sigma = _scale("a", a, -_MAX_SCALE), _scale("b", b, -_MAX_SCALE), _scale("sigma", sigma)
    n_paths = check_int("n_paths", n_paths, 2)
    rng = np.random.default_rng(check_seed("seed", seed))
    tt = np.arange(1, steps + 1)
    mu_t = a + b * tt
    g = mu_t[:, None] + sigma * rng.standard_normal((steps, n_paths))
    m = np.zeros(n_paths)
    mh = np.empty((steps, n_paths))
    for k in range(steps):
        m = _rule.first_moment(m, g[k], beta1, 1 - beta1)
        mh[k] = _rule.debias(m, _rule.bias_denominator(beta1 ** (k + 1), True))
    return tt, mh.mean(axis=1), mh.std(axis=1, ddof=1) / np.sqrt(n_paths), mu_t


def noisy_quadratic_lag(beta1=0.9, beta2=0.999, lr=0.05, steps=150, sigma=0.5, n_paths=2000, seed=0, w0=3.0):
    r"""Adam on :math:`f(w) = w^2/2` with gradient noise :math:`\mathcal N(0, \sigma^2)`: does
    :math:`\mathbb E[\hat m_t]` track the mean true gradient :math:`\mathbb E[\nabla f(w_{t-1})]`?

    The noisy gradient is a :func:`adamdyn.landscapes.from_function` closure over a seeded generator
    that also logs each gradient it hands out, so the bias-corrected first moment can be rebuilt from
    exactly what Adam saw.  Returns ``(t, mean m_hat_t, se, mean true gradient at w_{t-1}, se)``.
    """
    beta1, beta2 = scalar_beta("beta1", beta1), scalar_beta("beta2", beta2)
    lr, sigma = scalar_positive("lr", lr), _scale("sigma", sigma)
    steps, n_paths = check_int("steps", steps, 1), check_int("n_paths", n_paths, 2)
    w0 = check_scalar("w0", w0)
    rng = np.random.default_rng(check_seed("seed", seed))
    seen, true = [], []

    def grad(X):
        g_true = np.asarray(X, float)
        g = g_true + sigma * rng.standard_normal(g_true.shape)
        seen.append(g[:, 0].copy())
        true.append(g_true[:, 0].copy())
        return g

    lan = _L.from_function(lambda X: 0.5 * np.sum(np.asarray(X) ** 2, axis=-1), grad=grad, dim=1)
    opt = _opt.adam(lr=lr, beta1=beta1, beta2=beta2)
    _opt.run(opt.take(np.zeros(n_paths, dtype=int)), lan, x0=np.full((n_paths, 1), w0), steps=steps)
    G, Gt = np.array(seen), np.array(true)
    m = np.zeros(n_paths)
    mh = np.empty_like(G)
    for k in range(steps):
        m = _rule.first_moment(m, G[k], beta1, 1 - beta1)
        mh[k] = _rule.debias(m, _rule.bias_denominator(beta1 ** (k + 1), True))
    se = lambda x: x.std(axis=1, ddof=1) / np.sqrt(n_paths)  # noqa: E731
    return np.arange(1, steps + 1), mh.mean(axis=1), se(mh), Gt.mean(axis=1), se(Gt)


def noise_free_phase(noisy_mean_iterate, noiseless_iterate, sigma, rel=0.05):
    r"""How long a noisy run tracks the noiseless one: the first step at which the mean noisy iterate
    leaves the noiseless iterate by more than ``rel`` of the noiseless one's size, and the noiseless
    gradient there in units of the noise, :math:`|\nabla f|/\sigma` (here :math:`|w|/\sigma`)."""
    sigma, rel = _scale("sigma", sigma, low_open=True), scalar_positive("rel", rel)
    w_noisy, w0 = real_array("noisy_mean_iterate", noisy_mean_iterate), real_array("noiseless_iterate", noiseless_iterate)
    if w_noisy.ndim != 1 or w_noisy.shape != w0.shape or w0.size == 0:
        raise ValueError(f"noisy_mean_iterate and noiseless_iterate must be 1-D of one length, got "
                         f"{w_noisy.shape} and {w0.shape}")
    off = np.flatnonzero(np.abs(w_noisy - w0) > rel * np.abs(w0))
    k = int(off[0]) if off.size else len(w0) - 1
    return k, float(abs(w0[k]) / sigma)


@memoised
def early_training_check(beta1=0.9, beta2=0.999, lr=0.05, steps=150, sigma=0.5, n_paths=2000, seed=0, w0=3.0,
                         rel=0.05):
    r"""The chapter's "early in training" check on the noisy quadratic :math:`w^2/2`.

    Runs :func:`noisy_quadratic_lag` and the same Adam without noise; returns a dict with ``lag`` (the
    five arrays of :func:`noisy_quadratic_lag`), ``clean`` (:math:`w_0..w_{T-1}` without noise), and
    ``steps``, ``snr`` and ``w`` from :func:`noise_free_phase`.
    """
    lag = noisy_quadratic_lag(beta1, beta2, lr, steps, sigma, n_paths, seed, w0)
    clean = _opt.run(_opt.adam(lr=lr, beta1=beta1, beta2=beta2), _L.quadratic([0.5]), x0=[w0],
                     steps=steps).path[:-1, 0, 0]
    k, snr = noise_free_phase(lag[3], clean, sigma, rel)
    return {"lag": lag, "clean": clean, "steps": k, "snr": snr, "w": float(clean[k])}
