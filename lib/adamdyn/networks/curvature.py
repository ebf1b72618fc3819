r"""Hessian-vector products and power iteration: the sharpness and the preconditioned sharpness.

The sharpness is the largest eigenvalue :math:`\lambda_{\max}(H)` of the loss Hessian; the
preconditioned sharpness is :math:`\lambda_{\max}(P^{-1} H)` for a diagonal preconditioner
:math:`P` (for Adam, :math:`P = \operatorname{diag}(\sqrt{\hat v} + \epsilon)`; Cohen et al.
2022).  :math:`P^{-1}H` has the eigenvalues of the symmetric :math:`P^{-1/2} H P^{-1/2}`, on
which power iteration runs.  A Hessian-vector product costs about two gradients
(forward-over-reverse, :func:`jax.jvp` of :func:`jax.grad`); the Hessian is never formed.

Power iteration converges to the eigenvalue of largest *modulus*; near a minimum this is the
largest eigenvalue, but at a saddle it may be a large negative one: :func:`sharpness`
returns the Rayleigh quotient, whose sign tells which.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from ..validation import check_int

__all__ = ["hvp", "sharpness"]


def hvp(loss, params, vector):
    """The Hessian-vector product :math:`\\nabla^2 L(w)\\, v` (pytrees shaped like ``params``)."""
    return jax.jvp(jax.grad(loss), (params,), (vector,))[1]


def sharpness(loss, params, *, preconditioner=None, iters=50, seed=0):
    r"""Largest-modulus eigenvalue of :math:`H` or :math:`P^{-1}H` by power iteration (jit-compatible).

    Parameters
    ----------
    loss : callable
        ``loss(params) -> scalar``.
    params : pytree
    preconditioner : pytree shaped like ``params``, optional
        The positive diagonal of :math:`P`.
    iters : int
        Number of power iterations (fixed, so that the function can be vmapped and jitted).
    seed : int
        Seed of the random start vector.

    Returns
    -------
    scalar
        The Rayleigh quotient :math:`q^\top A q` of the last iterate (``A`` the symmetric operator).
    """
    iters = check_int("iters", iters, 1)
    flat, unravel = ravel_pytree(params)
    scale = jnp.ones_like(flat) if preconditioner is None else 1.0 / jnp.sqrt(ravel_pytree(preconditioner)[0])

    def op(q):
        return scale * ravel_pytree(hvp(loss, params, unravel(scale * q)))[0]

    q = jax.random.normal(jax.random.PRNGKey(seed), flat.shape, flat.dtype)
    q = q / jnp.linalg.norm(q)

    def body(_, q):
        z = op(q)
        return z / jnp.linalg.norm(z)

    q = jax.lax.fori_loop(0, iters, body, q)
    return jnp.vdot(q, op(q))
