r"""Part III's toolkit: small networks on real data, in JAX and optax, on the CPU.

One concept per module:

- :mod:`~adamdyn.networks.transforms`: the book's generic update rule as optax
  gradient transformations (SGD, momentum, AdaGrad, RMSProp, Adam, AdamW, k-Adam);
- :mod:`~adamdyn.networks.data`: the digits data set, standardised, split and batched;
- :mod:`~adamdyn.networks.models`: MLP (dropout, LayerNorm or a scale-invariant layer),
  deep linear network and logistic regression, as pure functions of parameter pytrees;
- :mod:`~adamdyn.networks.training`: one compiled training loop (``lax.scan``) vmapped
  over hyperparameter grids and seeds, with per-step diagnostics and divergence freezing;
- :mod:`~adamdyn.networks.curvature`: Hessian-vector products and power iteration for
  the (preconditioned) sharpness;
- :mod:`~adamdyn.networks.gradient_noise`: per-example and minibatch gradients and the
  statistics of their noise.

Importing this package selects JAX's CPU backend (unless ``JAX_PLATFORMS`` is already
set), so that JAX does not look for accelerators and log that it found none, and enables
float64 (``jax_enable_x64``) so that results can be compared with the float64 library
kernel.  Arrays keep the dtype they are created with: pass ``dtype=jnp.float32`` to the
data and models for faster sweeps.
"""

import os

# Before the first import of jax: the CPU backend, chosen explicitly (no accelerator probe).
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

from . import curvature, data, gradient_noise, models, training, transforms  # noqa: E402

__all__ = ["curvature", "data", "gradient_noise", "models", "training", "transforms"]
