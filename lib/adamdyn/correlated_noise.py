r"""Adam's first moment under correlated gradient noise: a stationary AR(1) process (Kaiser, section 3, extended).

Kaiser's section 3 assumes independent noise (:mod:`adamdyn.noise`).  Gradient noise along a
trajectory is often correlated; with :math:`\operatorname{Cov}(N_s, N_{s+d}) = \sigma^2\rho^{d}` the
variance floor of :math:`m_T` rises by :math:`(1+\rho\beta_1)/(1-\rho\beta_1)`
(:func:`ar1_variance_limit_expr`), checked by an exact quadratic form and a Monte Carlo.

References
----------
A. Kaiser, "Exploring the dynamics of Adam", section 3.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from .memo import memoised
from .noise import _branch, _scale, _var_and_se, j, sigma
from .symbols import beta1
from .update_rule import numpy_rule as _rule
from .validation import check_beta, check_int, check_integers, check_seed, real_array

__all__ = ["rho", "ar1_variance_limit_expr", "ar1_first_moment_variance", "ar1_monte_carlo", "steps_to_limit",
           "ar1_check"]

#: Lag-one correlation of the AR(1) noise.
rho = sp.Symbol("rho", real=True)
_d = sp.Symbol("d", integer=True, positive=True)
beta1_sym, sigma_sym = beta1, sigma   # the symbols, where parameters of the same names shadow them


@lru_cache(maxsize=None)
def ar1_variance_limit_expr():
    r""":math:`\lim_T \operatorname{Var}[m_T]` under stationary AR(1) noise,
    :math:`\operatorname{Cov}(N_s, N_{s+d}) = \sigma^2\rho^{d}` (sympy).

    .. math:: (1-\beta_1)^2\sigma^2\Big[\sum_j\beta_1^{2j} + 2\sum_{d\ge1}\rho^d\beta_1^d\sum_j\beta_1^{2j}\Big]
              = \sigma^2\,\frac{1-\beta_1}{1+\beta_1}\cdot\frac{1+\rho\beta_1}{1-\rho\beta_1}.

    :math:`\rho = 0` is the independent case; positive correlation raises the floor.
    """
    r = sp.Symbol("r", positive=True)  # sum once over a plain ratio (fast), then substitute
    diag = _branch(sp.summation(r**j, (j, 0, sp.oo))).subs(r, beta1**2)
    off = _branch(sp.summation(r**_d, (_d, 1, sp.oo))).subs(r, rho * beta1)
    return sp.factor(sp.together((1 - beta1) ** 2 * sigma**2 * diag * (1 + 2 * off)))


def ar1_first_moment_variance(beta1, rho, T, sigma=1.0):
    r""":math:`\operatorname{Var}[m_T] = w^\top\Sigma w` with the EMA weights :math:`w_j = (1-\beta_1)\beta_1^j`,
    :math:`j < T`, and the AR(1) covariance :math:`\Sigma_{jk} = \sigma^2\rho^{|j-k|}` (a second method,
    independent of :func:`ar1_variance_limit_expr`).  ``T`` may be a 1-D array of step counts."""
    check_beta("beta1", beta1)
    if not -1 < rho < 1:
        raise ValueError(f"rho must lie in (-1, 1), got {rho!r}")
    Ts = np.atleast_1d(check_integers("T", real_array("T", T), 1))
    sigma = _scale("sigma", sigma)
    n = int(Ts.max())
    k = np.arange(n)
    w = (1 - beta1) * beta1**k
    S = sigma**2 * rho ** np.abs(k[:, None] - k[None, :])
    partial = np.cumsum(np.cumsum(np.outer(w, w) * S, axis=0), axis=1)  # [t-1, t-1]: the sum over j, k < t
    out = partial[Ts - 1, Ts - 1]
    return out if np.ndim(T) else float(out[0])


def ar1_monte_carlo(beta1=0.9, rho=0.9, T_values=(1, 10, 100), n_paths=20_000, sigma=1.0, seed=0):
    r"""Monte Carlo (the first-moment piece of :mod:`adamdyn.update_rule` iterated directly) of :math:`\operatorname{Var}[m_T]` with stationary AR(1) noise
    :math:`N_t = \rho N_{t-1} + \sqrt{1-\rho^2}\,\sigma\xi_t`, :math:`N_1 \sim \mathcal N(0,\sigma^2)`, zero mean.
    Returns ``(variance, standard error)`` over ``T_values``."""
    check_beta("beta1", beta1)
    if not -1 < rho < 1:
        raise ValueError(f"rho must lie in (-1, 1), got {rho!r}")
    n_paths = check_int("n_paths", n_paths, 2)
    sigma = _scale("sigma", sigma)
    T_values = check_integers("T_values", real_array("T_values", T_values), 1)
    if T_values.ndim != 1 or T_values.size == 0:
        raise ValueError(f"T_values must be a 1-D list of integers >= 1, got {T_values!r}")
    rng = np.random.default_rng(check_seed("seed", seed))
    noise = sigma * rng.standard_normal(n_paths)
    m = np.zeros(n_paths)
    keep = {int(k): i for i, k in enumerate(T_values)}
    ms = np.empty((len(T_values), n_paths))
    for t in range(1, int(T_values.max()) + 1):
        if t > 1:
            noise = rho * noise + np.sqrt(1 - rho**2) * sigma * rng.standard_normal(n_paths)
        m = _rule.first_moment(m, noise, beta1, 1 - beta1)
        if t in keep:
            ms[keep[t]] = m
    return _var_and_se(ms.T)


def steps_to_limit(variance, limit, rel=0.01):
    """First index (1-based step) from which ``variance`` stays within ``rel`` of ``limit``."""
    bad = np.flatnonzero(np.abs(np.asarray(variance) / limit - 1) > rel)
    return 1 if bad.size == 0 else int(bad[-1] + 2)


@memoised
def ar1_check(beta1=0.9, rhos=(0.0, 0.5, 0.9, 0.99), T=300, n_paths=20_000, sigma=1.0, seed=0, mc_T=(1, 10, 30)):
    r"""The chapter's correlated-noise check, per :math:`\rho`: the sympy limit, the exact curve
    :math:`w^\top\Sigma w` for :math:`T = 1..` ``T``, the steps it takes to come within 1% of the limit, and
    a Monte Carlo at ``mc_T`` and ``T`` with its largest distance from the curve in standard errors."""
    lim_expr = ar1_variance_limit_expr()
    Tc = np.arange(1, T + 1)
    at = np.array(tuple(mc_T) + (T,))
    out = {}
    for r in rhos:
        limit = float(lim_expr.subs({beta1_sym: beta1, rho: r, sigma_sym: sigma}))
        curve = ar1_first_moment_variance(beta1, r, Tc, sigma)
        mc, se = ar1_monte_carlo(beta1, r, at, n_paths=n_paths, sigma=sigma, seed=seed)
        out[r] = {"limit": limit, "curve": curve, "steps": steps_to_limit(curve, limit), "mc_T": at, "mc": mc,
                  "mc_se": se, "z": float(np.max(np.abs(mc - curve[at - 1]) / se))}
    return out
