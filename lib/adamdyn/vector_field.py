r"""The Adam vector field of a stochastic objective (our reconstruction of Dereich, Jentzen & Kassing).

Setting
-------
Adam sees gradients :math:`G_n = \nabla_\theta F(\theta_{n-1}, X_n)` with
:math:`X_1, X_2, \dots` i.i.d., fixed momentum parameters
:math:`\beta_1, \beta_2` and step sizes :math:`\gamma_n \to 0`.  On the fast
time scale :math:`\theta` is frozen, and the moment averages

.. math::

    m_n = \beta_1 m_{n-1} + (1-\beta_1) G_n, \qquad
    v_n = \beta_2 v_{n-1} + (1-\beta_2) G_n^2

(coordinate-wise) form a Markov chain driven by i.i.d. inputs.  Its stationary
law is the law of the infinite sums

.. math::

    m = \sum_{k\ge 0} a_k G_k,\quad v = \sum_{k \ge 0} b_k G_k^2,\qquad
    a_k = (1-\beta_1)\beta_1^k,\ b_k = (1-\beta_2)\beta_2^k,

with :math:`G_k` i.i.d. copies of :math:`G = \nabla_\theta F(\theta, X)`.  We
call the **Adam vector field**

.. math::

    h(\theta) = -\,\mathbb E\Bigl[\frac{m}{\sqrt{v + \epsilon}}\Bigr]
    \qquad\text{(coordinate-wise, stationary law, no bias correction).}

Bias correction multiplies :math:`m_n, v_n` by factors that tend to 1, so it
does not change :math:`h`.  Coordinate :math:`j` of :math:`h` depends only on
the law of :math:`G_j`, so every routine below works on one-dimensional
gradient laws, batched over leading axes.  The abstract of
:cite:p:`dereich2025ode` names the field but does not define it; this
definition is *our reading*.

Two independent methods
-----------------------
:func:`field_series` (no Monte Carlo, for a discrete law of :math:`G`): with
:math:`v^{-1/2} = \pi^{-1/2}\int_0^\infty s^{-1/2} e^{-sv}\,ds` and independence,

.. math::

    \mathbb E\bigl[m_K\, e^{-s(v_K+\epsilon)}\bigr]
    = e^{-s\epsilon} \prod_{j<K}\varphi(s b_j)\,
      \sum_{k<K} a_k\,\frac{\psi(s b_k)}{\varphi(s b_k)},\qquad
    \varphi(t) = \mathbb E e^{-tG^2},\ \psi(t) = \mathbb E\, G e^{-tG^2},

for the sums truncated after :math:`K` terms, and a one-dimensional quadrature
in :math:`s` gives :math:`\mathbb E[m_K/\sqrt{v_K+\epsilon}]`.  The
truncation error is bounded by :func:`truncation_bound`.

:func:`adamdyn.vector_field_ergodic.field_ergodic` (the second method, its own module): run the frozen chain from :math:`m_0 = v_0 = 0` for a
burn-in of :math:`K` steps (after which :math:`(m, v)` has exactly the law of
the truncated sums) and average the direction over time, in independent
replicas; the error bar is the replicas' standard error.  The same samples of
:math:`X` are used for every :math:`\theta` (common random numbers), so the
estimate is a smooth function of :math:`\theta`.

Adam itself, run with vanishing step sizes on sampled least squares, is in
:mod:`adamdyn.stochastic_adam`; the symmetry theorem's test (the field's zero against the
minimiser) in :mod:`adamdyn.field_symmetry`; the flow of the field and :math:`f` as its Lyapunov
function in :mod:`adamdyn.field_flow`.

References
----------
S. Dereich, A. Jentzen, S. Kassing, "ODE approximation for the Adam algorithm:
general and overparametrized setting", arXiv:2511.04622, 2025 (abstract only).
D. P. Kingma, J. Ba, "Adam", ICLR 2015.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numba
import numpy as np
from scipy.optimize import brentq
from scipy.special import erfc, erfcx

from .bounds import finite_step_sup
from .validation import check_int, scalar_beta, scalar_nonnegative, scalar_positive

__all__ = [
    "truncation_length", "stationary_weights", "truncation_bound", "SeriesField", "field_series", "epsilon_kernel",
    "quadratic_gradient_values", "least_squares_gradient_values", "residual_gradient_values", "least_squares_field", "field_zero", "delta_method_coefficient",
    "sign_field", "stationary_mv_moment",
]


# ---------------------------------------------------------------------------
# stationary law of the moment averages
# ---------------------------------------------------------------------------


def _discrete_law(values, probs):
    """Gradient values ``(..., n)`` and their probabilities ``(n,)`` as float arrays, checked."""
    g = np.asarray(values, dtype=float)
    p = np.asarray(probs, dtype=float)
    if g.ndim == 0 or g.shape[-1] != p.size or p.ndim != 1:
        raise ValueError(f"values must have shape (..., n) with n = len(probs) = {p.size}, got {g.shape}")
    if not np.all(np.isfinite(p)) or np.any(p <= 0) or abs(p.sum() - 1.0) > 1e-12:
        raise ValueError(f"probs must be finite, positive and sum to 1, got {probs!r}")
    return g, p

def truncation_length(beta1, beta2, tol=1e-13) -> int:
    r"""Smallest :math:`K \ge 1` with :math:`\beta_1^K \le` tol and :math:`\beta_2^K \le` tol."""
    b1 = scalar_beta("beta1", beta1)
    b2 = scalar_beta("beta2", beta2)
    tol = scalar_positive("tol", tol)
    if tol >= 1.0:
        raise ValueError(f"tol must lie in (0, 1), got {tol!r}")
    K = 1
    for b in (b1, b2):
        if b > 0.0:
            K = max(K, int(np.ceil(np.log(tol) / np.log(b))))
    return K


def stationary_weights(beta1, beta2, K):
    r"""Weights :math:`a_k = (1-\beta_1)\beta_1^k`, :math:`b_k = (1-\beta_2)\beta_2^k`, :math:`k < K`."""
    b1 = scalar_beta("beta1", beta1)
    b2 = scalar_beta("beta2", beta2)
    K = check_int("K", K, minimum=1)
    k = np.arange(K)
    return (1.0 - b1) * b1**k, (1.0 - b2) * b2**k


def truncation_bound(beta1, beta2, K, g_max, v_low) -> float:
    r"""Bound on :math:`|\mathbb E[m/\sqrt{v+\epsilon}] - \mathbb E[m_K/\sqrt{v_K+\epsilon}]|`.

    With :math:`V = v+\epsilon \ge V_K = v_K+\epsilon \ge v_{\rm low}`,
    :math:`|m-m_K| \le \beta_1^K g_{\max}` and
    :math:`V - V_K \le \beta_2^K g_{\max}^2`,

    .. math::

        \Bigl|\frac{m}{\sqrt V}-\frac{m_K}{\sqrt{V_K}}\Bigr|
        \le \frac{\beta_1^K g_{\max}}{\sqrt{v_{\rm low}}}
        + R_K\,\frac{\beta_2^K g_{\max}^2}{v_{\rm low}},

    using :math:`1-\sqrt x \le 1-x` and the Cauchy-Schwarz bound
    :math:`R_K = \sqrt{\sum_{k<K} a_k^2/b_k} \ge |m_K|/\sqrt{v_K}`, which is
    :func:`adamdyn.bounds.finite_step_sup` (Kaiser's Proposition 1 before the limit).
    """
    if v_low <= 0.0:
        return float("inf")
    b1 = scalar_beta("beta1", beta1)
    b2 = scalar_beta("beta2", beta2)
    R = float(finite_step_sup(b1, b2, check_int("K", K, minimum=1)))
    return float(b1**K * g_max / np.sqrt(v_low) + R * b2**K * g_max**2 / v_low)


# ---------------------------------------------------------------------------
# method (b): truncated series + quadrature, no Monte Carlo
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class SeriesField:
    """Result of :func:`field_series`.

    Attributes
    ----------
    value : ndarray
        :math:`h = -\\mathbb E[m/\\sqrt{v+\\epsilon}]` for each gradient law.
    error : ndarray
        Error bound: truncation bound + quadrature difference (N vs 2N nodes) + cut-off bounds.
    K : int
        Number of terms kept.
    """

    value: np.ndarray
    error: np.ndarray
    K: int


@cache
def _legendre_nodes(N):
    """Gauss-Legendre nodes and weights on [-1, 1] (read-only; a root finder asks for the same N
    hundreds of times, and NumPy solves an eigenvalue problem each time)."""
    x, w = np.polynomial.legendre.leggauss(N)
    x.flags.writeable = w.flags.writeable = False
    return x, w


def _gauss_log_nodes(u_lo, u_hi, N):
    x, w = _legendre_nodes(int(N))
    half = 0.5 * (u_hi - u_lo)
    u = u_lo[..., None] + half[..., None] * (x + 1.0)
    return u, half[..., None] * w


@numba.njit(cache=True)
def _series_kernel(g, logp, a, b, eps, s, wr):
    """sum_q wr[i,q] exp(sum_k log phi(s b_k) - s eps) sum_k a_k psi/phi (s b_k), for each law i.

    The terms of the (law, node) pairs are independent; each law's sum over the nodes is then
    taken in node order.  Serial on purpose: ``parallel=True`` gave the same bits but cost
    about 1.7 s more CPU to compile and, on the chapters' small batches (a root finder's
    single laws), more CPU per call than it saved in wall time.
    """
    B, n = g.shape
    N = s.shape[1]
    K = b.shape[0]
    terms = np.empty(B * N)
    lw = np.empty(n)
    for iq in range(B * N):
        i, q = iq // N, iq % N
        sq = s[i, q]
        logprod = 0.0
        acc = 0.0
        for k in range(K):
            t = sq * b[k]
            mx = -np.inf
            top = -1
            for j in range(n):
                lw[j] = logp[j] - t * g[i, j] * g[i, j]
                if lw[j] > mx:
                    mx = lw[j]
                    top = j
            ssum = 0.0
            gsum = 0.0
            for j in range(n):
                # exp only where it is neither exactly 1 (the largest term: exp(0)) nor exactly 0
                # (an exponent below -746 underflows): the same bits with fewer exp calls; NaN
                # (no finite maximum) still goes through exp and stays NaN
                d = lw[j] - mx
                e = 1.0 if j == top else (0.0 if d < -746.0 else np.exp(d))
                ssum += e
                gsum += e * g[i, j]
            logprod += mx + (0.0 if ssum == 1.0 else np.log(ssum))   # log(1) = 0 exactly
            if a[k] != 0.0:
                acc += a[k] * gsum / ssum
        terms[iq] = wr[i, q] * np.exp(logprod - sq * eps) * acc
    out = np.zeros(B)
    for i in range(B):
        for q in range(N):
            out[i] += terms[i * N + q]
    return out


def epsilon_kernel(r, eps, placement="inside"):
    r"""Weight :math:`k_\epsilon(r)` with :math:`(\cdot)^{-1} = \tfrac{2}{\sqrt\pi}\int_0^\infty k_\epsilon(r) e^{-r^2 v}dr`.

    ``placement="inside"``: :math:`1/\sqrt{v+\epsilon}`, :math:`k = e^{-r^2\epsilon}`.
    ``placement="outside"``: :math:`1/(\sqrt v+\epsilon)`,
    :math:`k = 1 - \sqrt\pi\,\epsilon r\,\mathrm{erfcx}(\epsilon r)`, from
    :math:`1/(\sqrt v+\epsilon) = \int_0^\infty e^{-u\epsilon}e^{-u\sqrt v}du` and the
    subordination :math:`e^{-u\sqrt v} = \int_0^\infty \frac{u}{2\sqrt\pi}s^{-3/2}e^{-u^2/(4s)}e^{-sv}ds`
    (our derivation; the tests check it against direct quadrature).  Both lie in [0, 1].
    """
    r = np.asarray(r, dtype=float)
    if placement == "inside":
        return np.exp(-r * r * eps)
    if placement == "outside":
        x = eps * r
        return 1.0 - np.sqrt(np.pi) * x * erfcx(x)
    raise ValueError(f"placement must be 'inside' or 'outside', got {placement!r}")


def _series_integral(g, p, a, b, eps, r_lo, r_hi, N, placement="inside"):
    """(2/sqrt(pi)) int k_eps(r) E[m_K exp(-r^2 v_K)] dr over r in [r_lo, r_hi], nodes in u = log r."""
    u, w = _gauss_log_nodes(np.log(r_lo), np.log(r_hi), N)          # (B, N)
    r = np.exp(u)
    wr = np.ascontiguousarray(w * r * epsilon_kernel(r, eps, placement))   # dr = r du
    val = _series_kernel(np.ascontiguousarray(g), np.log(p), a, b, 0.0, np.ascontiguousarray(r * r), wr)
    return 2.0 / np.sqrt(np.pi) * val


#: Laws whose largest :math:`|g|` lies outside this range are rescaled before the quadrature.
_SAFE_SCALE = (1e-100, 1e100)


def _rescaled(gb, eps, placement):
    r"""Laws (rows of ``gb``) scaled by a power of two :math:`c` into :math:`|g| \approx 1` where their
    squares would overflow or underflow, with the :math:`\epsilon` that leaves the field unchanged.

    :math:`h` is invariant under :math:`G \to G/c` with :math:`\epsilon \to \epsilon/c^2` (inside the
    root) or :math:`\epsilon/c` (outside), exactly for a power of two.  Laws in the safe range keep
    :math:`c = 1` (their arithmetic is unchanged).  Tiny laws with :math:`\epsilon > 0` are left as
    they are: there :math:`\epsilon` dominates and the field is :math:`\approx -\mathbb E G/\sqrt\epsilon`.
    Returns the scaled values and :math:`\epsilon` per law, shape (B,).
    """
    top = np.abs(gb).max(axis=-1)
    scale = np.ones(gb.shape[0])
    big = top > _SAFE_SCALE[1]
    tiny = (top < _SAFE_SCALE[0]) & (top > 0.0) & (eps == 0.0)
    fix = big | tiny
    scale[fix] = np.exp2(np.round(np.log2(top[fix])))
    eps = eps / scale
    return gb / scale[:, None], eps / scale if placement == "inside" else eps


def field_series(values, probs, beta1=0.9, beta2=0.99, eps=0.0, tol=1e-13, nodes=64,
                 error=True, eps_placement="inside") -> SeriesField:
    r"""The Adam field for discrete gradient laws, without Monte Carlo.

    Parameters
    ----------
    values : array_like, shape (..., n)
        The values :math:`g_1,\dots,g_n` that :math:`G` takes (one law per leading index).
    probs : array_like, shape (n,)
        Their probabilities (positive, summing to 1).
    beta1, beta2 : float
        Momentum parameters in [0, 1).
    eps : float
        :math:`\epsilon \ge 0`.
    eps_placement : {"inside", "outside"}
        :math:`m/\sqrt{v+\epsilon}` (the poster's algorithm (4)) or
        :math:`m/(\sqrt v+\epsilon)` (Kingma & Ba); see :func:`epsilon_kernel`.
    tol : float
        Truncate the sums after :math:`K` terms with :math:`\beta_1^K,\beta_2^K\le` tol.
    nodes : int
        Gauss-Legendre nodes in :math:`\log r` (:math:`s=r^2`) per 12 decades of the range of
        :math:`r`; the error estimate doubles them.
    error : bool
        If False skip the error estimate (half the cost; ``error`` is then NaN).

    Returns
    -------
    SeriesField
    """
    g, p = _discrete_law(values, probs)
    if not np.all(np.isfinite(g)):
        raise ValueError("values must be finite")
    eps = scalar_nonnegative("eps", eps)
    nodes = check_int("nodes", nodes, minimum=8)
    if eps_placement not in ("inside", "outside"):
        raise ValueError(f"eps_placement must be 'inside' or 'outside', got {eps_placement!r}")
    K = truncation_length(beta1, beta2, tol)
    a, b = stationary_weights(beta1, beta2, K)
    shape = g.shape[:-1]
    gb = g.reshape(-1, p.size).copy()
    gb, eps = _rescaled(gb, eps, eps_placement)
    # a residual that is zero up to rounding is zero: keeps the quadrature range finite
    gb[np.abs(gb) <= 1e-13 * np.abs(gb).max(axis=-1, keepdims=True)] = 0.0
    g2 = gb * gb
    g_max = np.sqrt(g2.max(axis=-1))
    g_min2 = g2.min(axis=-1)
    pos = np.where(g2 > 0, g2, np.inf).min(axis=-1)
    # lowest value v_K + eps can take with v_K > 0 (all-zero histories give m_K = 0 and contribute 0)
    eps_v = eps if eps_placement == "inside" else 0.0     # what eps adds to v in the exponent
    v_low = np.where(g_min2 > 0, (1.0 - beta2**K) * g_min2, b[-1] * pos) + eps_v
    v_low = np.where(np.isfinite(v_low), v_low, 1.0)   # a law concentrated at 0: the field is 0
    v_high = g_max**2 + eps_v
    v_high = np.where(v_high > 0, v_high, 1.0)
    r_lo = 1e-9 / np.sqrt(v_high)
    r_hi = np.sqrt(80.0 / v_low)
    # `nodes` per 12 decades of r: laws with tiny gradients need a longer range and more nodes
    decades = float(np.max(np.log10(r_hi / r_lo)))
    nodes = max(nodes, int(np.ceil(nodes * decades / 12.0)))
    eps_col = eps[:, None]
    val = -_series_integral(gb, p, a, b, eps_col, r_lo, r_hi, nodes, eps_placement)
    if error:
        fine = -_series_integral(gb, p, a, b, eps_col, r_lo, r_hi, 2 * nodes, eps_placement)
        quad = np.abs(fine - val)
        cut = 2.0 / np.sqrt(np.pi) * g_max * r_lo + g_max * erfc(r_hi * np.sqrt(v_low)) / np.sqrt(v_low)
        exact_low = g_min2 + eps_v > 0
        trunc = np.array([truncation_bound(beta1, beta2, K, gm, vl) if ok else np.inf
                          for gm, vl, ok in zip(g_max, v_low, exact_low)])
        err = quad + cut + trunc
        val = fine
    else:
        err = np.full(val.shape, np.nan)
    return SeriesField(val.reshape(shape), err.reshape(shape), K)


# ---------------------------------------------------------------------------
# examples: per-sample least squares F(theta, i) = (A_i . theta - y_i)^2 / 2
# ---------------------------------------------------------------------------

def quadratic_gradient_values(theta, x):
    r"""Values of :math:`G = \partial_\theta \tfrac12(\theta - X)^2 = \theta - X`; shape (..., n)."""
    th = np.asarray(theta, dtype=float)
    return th[..., None] - np.asarray(x, dtype=float)


def least_squares_gradient_values(theta, A, y):
    r"""Per-sample gradients :math:`(A_i\cdot\theta - y_i)A_{ij}` arranged as (..., d, n)."""
    th = np.asarray(theta, dtype=float)
    A = np.asarray(A, dtype=float)
    res = th @ A.T - np.asarray(y, dtype=float)          # (..., n)
    return res[..., None, :] * A.T                       # (..., d, n)


def least_squares_field(theta, A, y, probs=None, beta1=0.9, beta2=0.99, eps=0.0, **kw) -> SeriesField:
    """The Adam field of sampled least squares at points ``theta`` (..., d), by :func:`field_series`."""
    A = np.asarray(A, dtype=float)
    p = np.full(A.shape[0], 1.0 / A.shape[0]) if probs is None else np.asarray(probs, float)
    return field_series(least_squares_gradient_values(theta, A, y), p, beta1, beta2, eps, **kw)


def field_zero(field, lo, hi, xtol=1e-12):
    """A zero of a scalar field on [lo, hi] by ``scipy.optimize.brentq`` (signs must differ)."""
    flo, fhi = field(lo), field(hi)
    if not np.sign(flo) * np.sign(fhi) < 0:
        raise ValueError(f"the field must change sign on [lo, hi] = [{lo}, {hi}], got {flo:.3g}, {fhi:.3g}")
    # brentq evaluates the two ends first: hand it the values just computed (a series
    # evaluation each) instead of computing them again
    known = {float(lo): flo, float(hi): fhi}
    return brentq(lambda t: known[t] if t in known else field(t), lo, hi, xtol=xtol)


def delta_method_coefficient(beta1, beta2) -> float:
    r""":math:`c = \sum_k a_k b_k = (1-\beta_1)(1-\beta_2)/(1-\beta_1\beta_2)`, so :math:`\mathrm{Cov}(m,v)=c\,\mathrm{Cov}(G,G^2)`."""
    b1 = scalar_beta("beta1", beta1)
    b2 = scalar_beta("beta2", beta2)
    return (1.0 - b1) * (1.0 - b2) / (1.0 - b1 * b2)


# ---------------------------------------------------------------------------
# closed forms
# ---------------------------------------------------------------------------


def residual_gradient_values(residuals, A):
    r"""Per-sample gradients :math:`G_{j} = r_i A_{ij}` for given residuals :math:`r` (..., n) -> (..., d, n).

    In an interpolating problem the residual :math:`r = A\theta - y` ranges over all of
    :math:`\mathbb R^n` as :math:`\theta` moves off the set of minima, so the
    field near that set can be probed direction by direction in residual space.
    """
    r = np.asarray(residuals, dtype=float)
    return r[..., None, :] * np.asarray(A, dtype=float).T


def sign_field(values, probs, eps=0.0, eps_placement="inside"):
    r"""Closed form of the field for :math:`\beta_1=\beta_2=0` (then :math:`m = G`, :math:`v = G^2`).

    :math:`h = -\mathbb E[G/\sqrt{G^2+\epsilon}]` (inside) or :math:`-\mathbb E[G/(|G|+\epsilon)]`
    (outside); for :math:`\epsilon = 0` both are :math:`-\mathbb E\,\mathrm{sign}(G)`.
    """
    g = np.asarray(values, dtype=float)
    eps = scalar_nonnegative("eps", eps)
    if eps_placement not in ("inside", "outside"):
        raise ValueError(f"eps_placement must be 'inside' or 'outside', got {eps_placement!r}")
    if eps == 0.0:
        d = np.sign(g)
    elif eps_placement == "inside":
        d = g / np.sqrt(g * g + eps)
    else:
        d = g / (np.abs(g) + eps)
    return -(d @ np.asarray(probs, dtype=float))


def stationary_mv_moment(values, probs, beta1, beta2):
    r""":math:`\mathbb E[m v] = \mathbb E G\,\mathbb E G^2 + c\,\mathrm{Cov}(G, G^2)` under the stationary law.

    Since :math:`\sum_k a_k = \sum_k b_k = 1`, only the diagonal :math:`j = k` of
    :math:`\mathbb E[\sum_j a_j G_j \sum_k b_k G_k^2]` differs from the product of means, with
    weight :math:`c = \sum_k a_k b_k` (:func:`delta_method_coefficient`).
    """
    g, p = _discrete_law(values, probs)
    m1, m2, m3 = g @ p, (g * g) @ p, (g**3) @ p
    return m1 * m2 + delta_method_coefficient(beta1, beta2) * (m3 - m1 * m2)
