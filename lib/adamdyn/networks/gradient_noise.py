r"""Minibatch gradient noise of a real network, and the statistics Kaiser's section 3 needs.

At fixed weights :math:`w` the minibatch gradient is :math:`g_B = G + N_B`, with
:math:`G = \nabla L(w)` the full-batch gradient and :math:`N_B` the noise (Kaiser's Eq. 6).
Per-example gradients :math:`g_i` give the noise's population exactly: a batch of :math:`B`
examples drawn without repeats from :math:`n` has

.. math::

    \operatorname{Var}[g_B] = \frac{s^2}{B}\,\frac{n-B}{n-1}, \qquad
    \operatorname{Corr}[g_B, g_{B'}] = -\frac{B}{n-B}\ \text{for disjoint batches of one epoch},

with :math:`s^2` the per-example variance (denominator :math:`n`).  An exponential moving
average :math:`\xi_T = (1-\beta_1)\sum_j \beta_1^j N_{T-j}` of a stationary noise with
autocorrelation :math:`\rho_k` has, as :math:`T\to\infty`,

.. math::

    \frac{\operatorname{Var}[\xi]}{\sigma^2} = \frac{1-\beta_1}{1+\beta_1}
    \Bigl(1 + 2\sum_{k\ge1} \rho_k \beta_1^k\Bigr),

which is Kaiser's independent-noise value :math:`(1-\beta_1)/(1+\beta_1)` when
:math:`\rho_k = 0` (:func:`ema_variance_factor`, derived in :func:`ema_variance_expr`).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp
from jax.flatten_util import ravel_pytree

from ..validation import check_int, scalar_beta

__all__ = [
    "per_example_gradients",
    "minibatch_gradients",
    "full_gradient",
    "standardised_moments",
    "autocorrelation",
    "epoch_autocorrelation",
    "ema",
    "ema_variance_expr",
    "ema_variance_factor",
]


@functools.lru_cache(maxsize=8)
def _per_example_program(model):
    # The weights are an argument, not closed-over constants: one compilation per model serves
    # every checkpoint (a closure over the weights would compile again for each).
    def one(params, xi, yi):
        g = jax.grad(model.loss)(params, xi[None], yi[None])
        return ravel_pytree(g)[0]
    return jax.jit(jax.vmap(one, in_axes=(None, 0, 0)))


def per_example_gradients(model, params, x, y):
    """Flattened gradients of every example's loss, shape ``(n, n_params)`` (no dropout)."""
    return _per_example_program(model)(params, x, y)


def minibatch_gradients(model, params, x, y, idx):
    """Flattened minibatch gradients for every row of ``idx`` (shape ``(K, B)``), shape ``(K, n_params)``."""
    def one(b):
        return ravel_pytree(jax.grad(model.loss)(params, x[b], y[b]))[0]
    return jax.jit(jax.vmap(one))(jnp.asarray(idx))


def full_gradient(model, params, x, y):
    """The flattened full-batch gradient :math:`G = \\nabla L(w)`."""
    return ravel_pytree(jax.grad(model.loss)(params, x, y))[0]


def standardised_moments(samples, axis=0):
    """Mean, standard deviation, skewness and excess kurtosis along ``axis`` (float64, population moments)."""
    a = np.asarray(samples, np.float64)
    mean = a.mean(axis=axis)
    d = a - np.expand_dims(mean, axis)
    var = np.mean(d * d, axis=axis)
    safe = np.where(var > 0, var, 1.0)
    skew = np.where(var > 0, np.mean(d**3, axis=axis) / safe**1.5, 0.0)
    kurt = np.where(var > 0, np.mean(d**4, axis=axis) / safe**2 - 3.0, 0.0)
    return mean, np.sqrt(var), skew, kurt


def autocorrelation(series, max_lag):
    """Autocorrelation at lags ``0..max_lag`` of each column of ``series`` (T, K), then averaged over columns."""
    s = np.asarray(series, np.float64)
    max_lag = check_int("max_lag", max_lag, 0)
    if s.ndim != 2 or s.shape[0] <= max_lag + 1:
        raise ValueError(f"series must have shape (T, K) with T > max_lag + 1, got {s.shape}")
    d = s - s.mean(axis=0)
    var = np.mean(d * d, axis=0)
    keep = var > 0
    d, var = d[:, keep], var[keep]
    T = d.shape[0]
    return np.array([np.mean(np.mean(d[k:] * d[: T - k], axis=0) / var) for k in range(max_lag + 1)])


def epoch_autocorrelation(n, batch_size, max_lag):
    r"""Autocorrelation of the noise of epoch-shuffled disjoint batches at fixed weights.

    Two batches of the same epoch correlate by :math:`-B/(n-B)` (module docstring); a pair at lag
    :math:`k` lies in the same epoch with probability :math:`(n_b - k)/n_b`, :math:`n_b = \lfloor n/B\rfloor`.
    The formula counts a partial final epoch as if it were complete.
    """
    n, b = check_int("n", n, 2), check_int("batch_size", batch_size, 1)
    nb = n // b
    k = np.arange(check_int("max_lag", max_lag, 0) + 1)
    rho = -b / (n - b) * np.clip(nb - k, 0, None) / nb
    rho[0] = 1.0
    return rho


def ema(series, beta):
    """The moving average :math:`\\xi_t = \\beta\\xi_{t-1} + (1-\\beta) x_t`, :math:`\\xi_0 = 0`, along axis 0."""
    beta = scalar_beta("beta", beta)
    s = np.asarray(series, np.float64)
    out = np.empty_like(s)
    acc = np.zeros(s.shape[1:])
    for t in range(s.shape[0]):
        acc = beta * acc + (1.0 - beta) * s[t]
        out[t] = acc
    return out


def ema_variance_expr():
    r"""sympy: :math:`\lim_T \operatorname{Var}[\xi_T]/\sigma^2` for noise with :math:`\rho_k = \rho\, r^k` (geometric).

    Summing :math:`(1-\beta)^2\sum_{i,j}\beta^{i+j}\rho_{|i-j|}` with a geometric :math:`\rho_k`
    checks :func:`ema_variance_factor` in closed form (``r = 0`` is independent noise).
    """
    b, r, rho, i, k = sp.symbols("beta r rho i k", nonnegative=True)
    # sum over pairs (i, i + k): diagonal, plus twice the off-diagonal lags k >= 1
    diag = sp.summation(b ** (2 * i), (i, 0, sp.oo))
    off = sp.summation(b ** (2 * i), (i, 0, sp.oo)) * sp.summation(rho * r**k * b**k, (k, 1, sp.oo))
    expr = sp.piecewise_fold((1 - b) ** 2 * (diag + 2 * off))
    if isinstance(expr, sp.Piecewise):  # the convergent branch (beta < 1, beta r < 1)
        expr = expr.args[0][0]
    return sp.factor(sp.simplify(expr)), (b, r, rho)


def ema_variance_factor(beta, rho):
    r""":math:`\frac{1-\beta}{1+\beta}(1 + 2\sum_{k\ge1}\rho_k\beta^k)` for ``rho`` = :math:`(\rho_0=1, \rho_1, \dots)`."""
    beta = scalar_beta("beta", beta)
    rho = np.asarray(rho, np.float64)
    k = np.arange(1, rho.size)
    return (1 - beta) / (1 + beta) * (1.0 + 2.0 * np.sum(rho[1:] * beta**k))
