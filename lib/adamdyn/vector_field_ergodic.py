r"""The Adam vector field by a second, independent method: ergodic averages of the frozen moment chain.

For the field :math:`h(\theta) = -\mathbb E[m/\sqrt{v+\epsilon}]` of :mod:`adamdyn.vector_field`
(our reading of Dereich, Jentzen & Kassing), run the moment chain

.. math::

    m_n = \beta_1 m_{n-1} + (1-\beta_1) G_n,\qquad v_n = \beta_2 v_{n-1} + (1-\beta_2) G_n^2

with :math:`\theta` frozen, from :math:`m_0 = v_0 = 0`, for a burn-in of :math:`K` steps
(:func:`adamdyn.vector_field.truncation_length`; afterwards :math:`(m, v)` has exactly the law of
the sums truncated after :math:`K` terms) and average the direction over time, in independent
replicas; the error bar is the replicas' standard error.  The same samples of :math:`X` are used
for every :math:`\theta` (common random numbers), so the estimate is a smooth function of
:math:`\theta`.  Monte Carlo, and therefore independent of the series of
:func:`adamdyn.vector_field.field_series`, which the tests compare it with.

References
----------
S. Dereich, A. Jentzen, S. Kassing, "ODE approximation for the Adam algorithm:
general and overparametrized setting", arXiv:2511.04622, 2025 (abstract only).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from .update_rule import denominator, direction, first_moment, second_moment
from .validation import check_int, check_integers, check_seed, scalar_beta, scalar_nonnegative
from .vector_field import _discrete_law, truncation_length

__all__ = ["ErgodicField", "field_ergodic"]


def _draw_indices(rng, cdf, shape):
    # inverse-cdf sampling: the same uniforms give the same X for every theta (common random numbers)
    idx = np.searchsorted(cdf, rng.random(shape), side="right")
    return np.minimum(idx, cdf.size - 1)


@numba.njit(cache=True, error_model="numpy")
def _ergodic_kernel(g, idx, b1, b2, eps, burn, outside=False):
    """Time average of m/sqrt(v+eps) along the frozen chain; g (B, n), idx (R, T) -> (B, R)."""
    B = g.shape[0]
    R, T = idx.shape
    out = np.zeros((B, R))
    for i in range(B):
        for r in range(R):
            m = 0.0
            v = 0.0
            acc = 0.0
            for t in range(T):
                x = g[i, idx[r, t]]
                m = first_moment(m, x, b1, 1.0 - b1)
                v = second_moment(v, x, b2, 1.0 - b2)
                if t >= burn:
                    acc += direction(m, denominator(v, eps, not outside))
            out[i, r] = acc / (T - burn)
    return out


@dataclass(frozen=True)
class ErgodicField:
    """Result of :func:`field_ergodic`.

    Attributes
    ----------
    value : ndarray
        Mean over replicas of the time-averaged :math:`-m/\\sqrt{v+\\epsilon}`.
    stderr : ndarray
        Standard error over the independent replicas.
    replicas : ndarray, shape (..., R)
        Each replica's estimate (each is smooth in the values: common random numbers).
    """

    value: np.ndarray
    stderr: np.ndarray
    replicas: np.ndarray


def field_ergodic(values, probs, beta1=0.9, beta2=0.99, eps=0.0, steps=20000, replicas=32, seed=0,
                  tol=1e-13, indices=None, eps_placement="inside") -> ErgodicField:
    r"""The Adam field as an ergodic average of the frozen moment chain.

    Each replica starts at :math:`m=v=0`, discards :math:`K` steps
    (:func:`truncation_length`; afterwards :math:`(m,v)` has the law of the
    sums truncated after :math:`K` terms, as in :func:`field_series`) and
    averages :math:`-m/\sqrt{v+\epsilon}` over ``steps`` further steps.  The
    sample indices depend on ``seed`` only, never on ``values``: every law in
    the batch, and every call with the same seed, sees the same draws of
    :math:`X` (common random numbers).

    Parameters
    ----------
    values : array_like, shape (..., n)
    probs : array_like, shape (n,)
    steps, replicas : int
        Averaging length per replica and number of independent replicas.
    seed : int
        Seed of the numpy Generator drawing the indices.
    indices : ndarray of int, shape (replicas, K + steps), optional
        Pre-drawn sample indices (overrides ``seed``).
    """
    g, p = _discrete_law(values, probs)
    b1 = scalar_beta("beta1", beta1)
    b2 = scalar_beta("beta2", beta2)
    eps = scalar_nonnegative("eps", eps)
    steps = check_int("steps", steps, minimum=1)
    replicas = check_int("replicas", replicas, minimum=2)
    seed = check_seed("seed", seed)
    if eps_placement not in ("inside", "outside"):
        raise ValueError(f"eps_placement must be 'inside' or 'outside', got {eps_placement!r}")
    if not np.all(np.isfinite(g)):
        raise ValueError("values must be finite")
    K = truncation_length(b1, b2, tol)
    if indices is None:
        indices = _draw_indices(np.random.default_rng(seed), np.cumsum(p), (replicas, K + steps))
    else:
        # checked here: the compiled kernel reads g[:, indices] without bounds checks
        indices = check_integers("indices", indices, 0, p.size - 1)
        if indices.ndim != 2 or indices.shape[0] < 2 or indices.shape[1] != K + steps:
            raise ValueError(f"indices must have shape (replicas >= 2, K + steps) = (R, {K + steps}) "
                             f"(K = {K} burn-in steps), got {indices.shape}")
    indices = np.ascontiguousarray(indices, dtype=np.int64)
    shape = g.shape[:-1]
    est = -_ergodic_kernel(np.ascontiguousarray(g.reshape(-1, p.size)), indices, b1, b2, eps, K,
                           eps_placement == "outside")
    R = est.shape[1]
    mean = est.mean(axis=1)
    se = est.std(axis=1, ddof=1) / np.sqrt(R)
    return ErgodicField(mean.reshape(shape), se.reshape(shape), est.reshape(shape + (R,)))
