r"""Adam with vanishing step sizes on sampled least squares, and its distance to the flow of the Adam field.

Dereich, Jentzen & Kassing's abstract says that Adam with step sizes :math:`\gamma_n \to 0`
follows the flow :math:`\dot\theta = h(\theta)` of the Adam vector field
(:mod:`adamdyn.vector_field`).  :func:`adam_least_squares` runs Adam on
:math:`F(\theta, i) = \tfrac12(A_i\cdot\theta - y_i)^2` with one sampled row per step, on the
flow's clock :math:`t_n = \sum_{i\le n}\gamma_i`; :func:`window_distances` measures the
pseudo-trajectory distance to the flow over windows of ODE time.

The compiled loop draws one sampled row per step and takes per-step step sizes, which the
library's batched kernel does not; the update itself is composed of the pieces of
:mod:`adamdyn.update_rule`, so with constant steps it equals ``adamdyn.adam`` bit for bit
(see the tests).  A diverged run is flagged and frozen at its last finite state, as in
:func:`adamdyn.run`.

References
----------
S. Dereich, A. Jentzen, S. Kassing, "ODE approximation for the Adam algorithm:
general and overparametrized setting", arXiv:2511.04622, 2025 (abstract only).
M. Benaïm, "Dynamics of stochastic approximation algorithms", 1999 (pseudo-trajectories).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from .field_flow import flow
from .memo import memoised
from .optimizers import DIVERGENCE_LIMIT
from .update_rule import (
    advance_power,
    bias_denominator,
    debias,
    decayed_step,
    denominator,
    direction,
    first_moment,
    second_moment,
)
from .validation import (
    check_bool,
    check_int,
    check_seed,
    real_array,
    scalar_beta,
    scalar_nonnegative,
    scalar_positive,
)

__all__ = ["step_sizes", "AdamRun", "adam_least_squares", "mean_confidence", "window_distances"]


def step_sizes(n, gamma0, power, n0):
    r""":math:`\gamma_n = \gamma_0\,(n_0/(n_0 + n))^{a}` for steps :math:`n = 1, 2, \dots` (array ``n``)."""
    gamma0 = scalar_positive("gamma0", gamma0)
    power = scalar_nonnegative("power", power)
    n0 = scalar_positive("n0", n0)
    n = real_array("n", n)
    if np.any(~np.isfinite(n)) or np.any(n < 0):
        raise ValueError(f"n must hold step numbers >= 0, got {n!r}")
    return gamma0 * (n0 / (n0 + n)) ** power


@numba.njit(cache=True, error_model="numpy")
def _bias_denominators(powers, b1, b2, bias, T):
    """The next ``T`` bias denominators from the running powers ``powers`` (advanced in place)."""
    den = np.empty((2, T))
    for s in range(T):                  # one multiplication a step, as every driver of the rule
        powers[0] = advance_power(powers[0], b1)
        powers[1] = advance_power(powers[1], b2)
        den[0, s] = bias_denominator(powers[0], bias)
        den[1, s] = bias_denominator(powers[1], bias)
    return den


@numba.njit(cache=True, error_model="numpy", inline="always")
def _sampled_row(u, cdf):
    """The row drawn by the uniform ``u``: the inverse of the increasing ``cdf``, branch-free."""
    i = 0
    for q in range(cdf.shape[0] - 1):
        i += u >= cdf[q]
    return i


@numba.njit(cache=True, error_model="numpy")
def _record(row, theta):
    """``row[...] = theta`` written as a loop: numba's whole-array assignment costs seconds to compile."""
    for r in range(theta.shape[0]):
        for j in range(theta.shape[1]):
            row[r, j] = theta[r, j]


@numba.njit(cache=True, error_model="numpy")
def _adam_ls_kernel(theta, m, v, den, A, y, unif, cdf, gam, b1, b2, eps, every, path, clock, tnow, diverged):
    """Adam on F(theta, i) = (A_i.theta - y_i)^2/2, one sampled row per step, per-step step sizes.

    Composed of the pieces of :mod:`adamdyn.update_rule`; ``den`` holds the bias denominators
    of the steps (:func:`_bias_denominators`).  A run whose new state or moments leave
    :math:`[-10^{150}, 10^{150}]` (or are not finite) is flagged in ``diverged`` and keeps its
    last finite state.  Steps outer, runs inner: consecutive runs are independent, so the
    processor overlaps their dependency chains.
    """
    T, R = unif.shape
    D = theta.shape[1]
    c1, c2 = 1.0 - b1, 1.0 - b2
    one_d = D == 1
    new = np.empty((3, D))
    k = 0
    for s in range(T):
        den1, den2, step = den[0, s], den[1, s], gam[s]
        for r in range(R):
            if diverged[r]:
                continue
            i = _sampled_row(unif[s, r], cdf)
            res = -y[i]
            for j in range(D):
                res += A[i, j] * theta[r, j]
            ok = True
            for j in range(D):
                g = res * A[i, j]
                mn = first_moment(m[r, j], g, b1, c1)
                vn = second_moment(v[r, j], g, b2, c2)
                u = direction(debias(mn, den1), denominator(debias(vn, den2), eps, False))
                wn = decayed_step(theta[r, j], step, 0.0, u)
                if not (abs(wn) <= DIVERGENCE_LIMIT and abs(mn) <= DIVERGENCE_LIMIT and vn <= DIVERGENCE_LIMIT):
                    ok = False
                if one_d:
                    if ok:
                        theta[r, 0], m[r, 0], v[r, 0] = wn, mn, vn
                else:
                    new[0, j], new[1, j], new[2, j] = wn, mn, vn
            if not ok:
                diverged[r] = True
            elif not one_d:
                for j in range(D):
                    theta[r, j], m[r, j], v[r, j] = new[0, j], new[1, j], new[2, j]
        tnow += step
        if (s + 1) % every == 0:
            _record(path[k], theta)
            clock[k] = tnow
            k += 1
    return tnow


@numba.njit(cache=True, error_model="numpy")
def _adam_ls_kernel_1d(theta, m, v, den, A, y, unif, cdf, gam, b1, b2, eps, every, path, clock, tnow, diverged):
    """:func:`_adam_ls_kernel` for one-dimensional problems (the chapter's): the same operations,
    without the per-coordinate loop and temporaries (about 1.5x faster)."""
    T, R = unif.shape
    c1, c2 = 1.0 - b1, 1.0 - b2
    k = 0
    for s in range(T):
        den1, den2, step = den[0, s], den[1, s], gam[s]
        for r in range(R):
            if diverged[r]:
                continue
            i = _sampled_row(unif[s, r], cdf)
            g = (-y[i] + A[i, 0] * theta[r, 0]) * A[i, 0]
            mn = first_moment(m[r, 0], g, b1, c1)
            vn = second_moment(v[r, 0], g, b2, c2)
            u = direction(debias(mn, den1), denominator(debias(vn, den2), eps, False))
            wn = decayed_step(theta[r, 0], step, 0.0, u)
            if abs(wn) <= DIVERGENCE_LIMIT and abs(mn) <= DIVERGENCE_LIMIT and vn <= DIVERGENCE_LIMIT:
                theta[r, 0], m[r, 0], v[r, 0] = wn, mn, vn
            else:
                diverged[r] = True
        tnow += step
        if (s + 1) % every == 0:
            _record(path[k], theta)
            clock[k] = tnow
            k += 1
    return tnow


@dataclass(frozen=True)
class AdamRun:
    """Result of :func:`adam_least_squares`.

    Attributes
    ----------
    steps : ndarray (K,)
        Step numbers recorded (0 = start).
    ode_time : ndarray (K,)
        :math:`t_n = \\sum_{i\\le n}\\gamma_i` at those steps: the flow's clock.
    path : ndarray (K, runs, d)
    final : ndarray (runs, d)
    diverged : ndarray of bool (runs,)
    """

    steps: np.ndarray
    ode_time: np.ndarray
    path: np.ndarray
    final: np.ndarray
    diverged: np.ndarray


@memoised
def adam_least_squares(A, y, theta0, steps, *, gamma=None, gamma0=0.05, power=0.75, n0=1000.0,
                       probs=None, beta1=0.9, beta2=0.99, eps=1e-8, bias_correction=True,
                       runs=16, seed=0, record_every=100, chunk=1 << 16) -> AdamRun:
    r"""Adam (Kingma & Ba's Algorithm 1) with step sizes :math:`\gamma_n` on sampled least squares.

    At step :math:`n` a row :math:`I_n \sim` ``probs`` is drawn and
    :math:`G_n = (A_{I_n}\cdot\theta_{n-1} - y_{I_n})A_{I_n}`; then

    .. math::

        m_n = \beta_1 m_{n-1} + (1-\beta_1)G_n,\ v_n = \beta_2 v_{n-1} + (1-\beta_2)G_n^2,\
        \theta_n = \theta_{n-1} - \gamma_n\frac{m_n/(1-\beta_1^n)}{\sqrt{v_n/(1-\beta_2^n)}+\epsilon}.

    The 1-D example :math:`F(\theta, X) = (\theta-X)^2/2` is ``A = ones((n, 1))``, ``y = x``.
    With constant ``gamma`` this is exactly ``ad.adam`` (see the tests).

    Parameters
    ----------
    A : array_like (n, d); y : array_like (n,)
    theta0 : array_like (d,) or (runs, d)
    steps : int
    gamma : array_like (steps,), optional
        Explicit step sizes; otherwise :func:`step_sizes` ``(n, gamma0, power, n0)``.
    runs, seed : int
        Independent runs, all driven by one seeded numpy Generator.
    """
    A = np.ascontiguousarray(A, dtype=float)
    y = np.ascontiguousarray(y, dtype=float)
    if A.ndim != 2 or y.shape != (A.shape[0],):
        raise ValueError(f"A must have shape (n, d) and y shape (n,), got {A.shape} and {y.shape}")
    n, D = A.shape
    p = np.full(n, 1.0 / n) if probs is None else np.asarray(probs, dtype=float)
    if p.shape != (n,) or np.any(p <= 0) or abs(p.sum() - 1) > 1e-12:
        raise ValueError(f"probs must be {n} positive numbers summing to 1, got {probs!r}")
    steps = check_int("steps", steps, minimum=1)
    runs = check_int("runs", runs, minimum=1)
    record_every = check_int("record_every", record_every, minimum=1)
    b1 = scalar_beta("beta1", beta1)
    b2 = scalar_beta("beta2", beta2)
    eps = scalar_nonnegative("eps", eps)
    bias = check_bool("bias_correction", bias_correction)
    seed = check_seed("seed", seed)
    chunk = check_int("chunk", chunk, minimum=1)
    if gamma is None:
        gam = step_sizes(np.arange(1, steps + 1), gamma0, power, n0)
    else:
        gam = np.broadcast_to(np.asarray(gamma, float), (steps,)).copy()
        if np.any(gam <= 0) or not np.all(np.isfinite(gam)):
            raise ValueError("gamma must be positive and finite")
    th0 = np.asarray(theta0, dtype=float)
    th = np.repeat(th0[None, :], runs, 0) if th0.ndim == 1 else th0.copy()
    if th.shape != (runs, D):
        raise ValueError(f"theta0 must have shape ({D},) or ({runs}, {D}), got {th0.shape}")
    th = np.ascontiguousarray(th)
    m = np.zeros_like(th)
    v = np.zeros_like(th)
    rng = np.random.default_rng(seed)
    cdf = np.cumsum(p)
    chunk = max(record_every, (chunk // record_every) * record_every)
    paths, clocks = [th.copy()[None]], [np.zeros(1)]
    diverged = np.zeros(runs, dtype=bool)
    powers = np.ones(2)
    tnow, done = 0.0, 0
    while done < steps:
        T = min(chunk, steps - done)
        unif = rng.random((T, runs))
        nrec = T // record_every
        path = np.empty((nrec, runs, D))
        clock = np.empty(nrec)
        den = _bias_denominators(powers, b1, b2, float(bias), T)
        kernel = _adam_ls_kernel_1d if D == 1 else _adam_ls_kernel
        tnow = kernel(th, m, v, den, A, y, unif, cdf, gam[done:done + T], b1, b2, eps, record_every,
                               path, clock, tnow, diverged)
        paths.append(path)
        clocks.append(clock)
        done += T
    path = np.concatenate(paths)
    rec = np.arange(path.shape[0]) * record_every
    return AdamRun(rec, np.concatenate(clocks), path, th, diverged)


def mean_confidence(samples, level=0.95):
    """Mean over the last axis and the half-width of its Student-t confidence interval.

    The t quantile is ``scipy.special.stdtrit`` (the function ``scipy.stats.t.ppf`` evaluates),
    called directly so that this does not import :mod:`scipy.stats` (about 0.8 s of CPU).
    """
    from scipy.special import stdtrit

    x = np.asarray(samples, dtype=float)
    n = x.shape[-1]
    if n < 2:
        raise ValueError(f"samples must hold at least 2 values along the last axis, got {n}")
    half = stdtrit(n - 1, 0.5 + level / 2) * x.std(axis=-1, ddof=1) / np.sqrt(n)
    return x.mean(axis=-1), half


def window_distances(ode_time, path, field, starts, length):
    r"""Pseudo-trajectory distances :math:`\sup_{0\le u\le T}|\theta(\tau+u) - \Phi_u(\theta(\tau))|`.

    Parameters
    ----------
    ode_time : ndarray (K,)
        Clock :math:`t_n = \sum_{i\le n}\gamma_i` of the recorded iterates.
    path : ndarray (K, runs) or (K, runs, 1)
        Recorded iterates (1-D problem).
    field : callable
        Vectorised field :math:`h`.
    starts : array_like
        Window starts :math:`\tau` (ODE time); ``length`` is :math:`T`.

    Returns
    -------
    ndarray (len(starts), runs)
        The sup over the recorded times in each window (NaN if the window runs past the record).
    """
    P = np.asarray(path, dtype=float).reshape(len(ode_time), -1)
    out = np.full((len(starts), P.shape[1]), np.nan)
    for w, tau in enumerate(np.asarray(starts, dtype=float)):
        i0 = int(np.searchsorted(ode_time, tau))
        i1 = int(np.searchsorted(ode_time, tau + length, side="right"))
        if i0 >= len(ode_time) or ode_time[-1] < tau + length or i1 - i0 < 2:
            continue
        times = ode_time[i0:i1] - ode_time[i0]
        ref = flow(field, P[i0], times)
        out[w] = np.abs(P[i0:i1] - ref).max(axis=0)
    return out
