r"""Small models as pure functions of parameter pytrees.

A :class:`Model` bundles ``init(key, dtype) -> params``, ``apply(params, x, key) -> outputs``
and ``loss(params, x, y, key) -> scalar``; ``key`` drives dropout (``None``: evaluation,
no dropout).  Classification losses are the mean softmax cross-entropy
:math:`-\frac1n\sum_i \log \operatorname{softmax}(f(x_i))_{y_i}`, computed with a stable
log-sum-exp; the deep linear network's is the mean squared error.

- :func:`mlp`: dense layers with tanh or ReLU, optional inverted dropout on the hidden
  layers, optionally a LayerNorm (without gain) or a scale-invariant layer (weights divided
  by their norm, :math:`W/\|W\|_F`) after each hidden affine map.  Initialisation:
  :math:`W_{ij} \sim N(0, 1/\text{fan-in})`, biases 0 (LeCun's).
- :func:`deep_linear`: :math:`x \mapsto W_L \cdots W_1 x`, every entry
  :math:`N(0, s^2/\text{fan-in})` with an init scale :math:`s`.
- :func:`logistic_regression`: multinomial logistic regression with an optional L2 penalty
  :math:`\frac{\lambda}{2}\|W\|^2` (strongly convex for :math:`\lambda > 0`), initialised at 0.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable

import jax
import jax.numpy as jnp

from ..validation import check_int, scalar_nonnegative, scalar_positive

__all__ = ["Model", "mlp", "deep_linear", "logistic_regression", "cross_entropy", "accuracy", "n_params"]

_NORMS = (None, "layernorm", "scale_invariant")


@dataclass(frozen=True)
class Model:
    """A model as three pure functions (see the module docstring) and a description."""

    init: Callable
    apply: Callable
    loss: Callable
    name: str
    classifier: bool = True


def cross_entropy(logits, y):
    """Mean softmax cross-entropy of integer labels ``y`` (stable log-sum-exp)."""
    logp = jax.nn.log_softmax(logits)
    return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))


def accuracy(logits, y):
    """Fraction of rows whose largest logit is the label."""
    return jnp.mean(jnp.argmax(logits, axis=1) == y)


def n_params(params) -> int:
    """Number of scalar parameters of a pytree."""
    return int(sum(p.size for p in jax.tree.leaves(params)))


def _standard_normals(key, shapes, dtype):
    keys = jax.random.split(key, len(shapes))
    return [jax.random.normal(k, shape, dtype) for k, shape in zip(keys, shapes)]


# The same draws as one compiled program, for an initialisation outside a traced function: run op
# by op, each draw of a new shape compiles on its own (about a second each).  The scaling stays
# outside: XLA would fold it into the draws' own constant factor (a different rounding).
_standard_normals_compiled = jax.jit(_standard_normals, static_argnums=(1, 2),
                                     compiler_options={"xla_backend_optimization_level": 1})


def _dense_init(key, sizes, dtype, scale=1.0, bias=True):
    shapes = tuple(itertools.pairwise(sizes))
    layers = []
    draw = _standard_normals if isinstance(key, jax.core.Tracer) else _standard_normals_compiled
    for z, (n_in, n_out) in zip(draw(key, shapes, jnp.dtype(dtype)), shapes):
        w = z * (scale / jnp.sqrt(n_in)).astype(dtype)
        layers.append({"w": w, "b": jnp.zeros(n_out, dtype)} if bias else {"w": w})
    return layers


def mlp(sizes=(64, 64, 10), activation="tanh", dropout=0.0, norm=None) -> Model:
    """A multilayer perceptron classifier.

    Parameters
    ----------
    sizes : sequence of int
        Widths from the input to the output, at least two entries, all >= 1.
    activation : {"tanh", "relu"}
    dropout : float
        Probability in [0, 1) of dropping a hidden unit in training (inverted dropout).
    norm : {None, "layernorm", "scale_invariant"}
        Normalisation after each hidden affine map.
    """
    sizes = tuple(check_int("sizes", s, 1) for s in sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes must have at least two entries (input and output), got {sizes}")
    if activation not in ("tanh", "relu"):
        raise ValueError(f"activation must be 'tanh' or 'relu', got {activation!r}")
    p = scalar_nonnegative("dropout", dropout)
    if p >= 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {p}")
    if norm not in _NORMS:
        raise ValueError(f"norm must be one of {_NORMS}, got {norm!r}")
    act = jnp.tanh if activation == "tanh" else jax.nn.relu

    def init(key, dtype=jnp.float64):
        return _dense_init(key, sizes, dtype)

    def apply(params, x, key=None):
        h = x
        for i, layer in enumerate(params):
            w = layer["w"]
            last = i == len(params) - 1
            if norm == "scale_invariant" and not last:
                w = w / jnp.sqrt(jnp.sum(w * w))
            h = h @ w + layer["b"]
            if last:
                return h
            if norm == "layernorm":
                mu = jnp.mean(h, axis=1, keepdims=True)
                h = (h - mu) / jnp.sqrt(jnp.mean((h - mu) ** 2, axis=1, keepdims=True) + 1e-5)
            h = act(h)
            if key is not None and p > 0.0:
                key, sub = jax.random.split(key)
                keep = jax.random.bernoulli(sub, 1.0 - p, h.shape)
                h = jnp.where(keep, h / (1.0 - p), 0.0)

    def loss(params, x, y, key=None):
        return cross_entropy(apply(params, x, key), y)

    name = "MLP " + "-".join(map(str, sizes)) + f" ({activation}" + (f", dropout {p:g}" if p else "") \
        + (f", {norm}" if norm else "") + ")"
    return Model(init, apply, loss, name)


def deep_linear(sizes=(16, 16, 16), init_scale=1e-2) -> Model:
    """A deep linear network :math:`W_L\\cdots W_1 x` with squared loss against targets ``y`` (n, out)."""
    sizes = tuple(check_int("sizes", s, 1) for s in sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes must have at least two entries, got {sizes}")
    s = scalar_positive("init_scale", init_scale)

    def init(key, dtype=jnp.float64):
        return _dense_init(key, sizes, dtype, scale=s, bias=False)

    def apply(params, x, key=None):
        for layer in params:
            x = x @ layer["w"]
        return x

    def loss(params, x, y, key=None):
        return 0.5 * jnp.mean(jnp.sum((apply(params, x) - y) ** 2, axis=1))

    return Model(init, apply, loss, "deep linear " + "-".join(map(str, sizes)) + f" (init scale {s:g})", False)


def logistic_regression(n_features=64, n_classes=10, l2=1e-3, init_scale=0.0) -> Model:
    r"""Multinomial logistic regression, loss :math:`\text{CE} + \frac{\lambda}{2}\|W\|_F^2` (bias unpenalised).

    ``init_scale`` > 0 draws the initial weights :math:`N(0, s^2)` (so that seeds differ); 0 starts at 0.
    """
    n_features, n_classes = check_int("n_features", n_features, 1), check_int("n_classes", n_classes, 2)
    lam = scalar_nonnegative("l2", l2)
    s = scalar_nonnegative("init_scale", init_scale)

    def init(key=None, dtype=jnp.float64):
        w = jnp.zeros((n_features, n_classes), dtype)
        if s > 0:
            w = s * jax.random.normal(key, (n_features, n_classes), dtype)
        return {"w": w, "b": jnp.zeros(n_classes, dtype)}

    def apply(params, x, key=None):
        return x @ params["w"] + params["b"]

    def loss(params, x, y, key=None):
        return cross_entropy(apply(params, x), y) + 0.5 * lam * jnp.sum(params["w"] ** 2)

    return Model(init, apply, loss, f"logistic regression (L2 {lam:g})")
