r"""The one update rule: the generic first-order update, written once as small compiled pieces.

At step :math:`t = 1, 2, \dots`, with gradient :math:`g_t` and per-run
hyperparameters (see :mod:`adamdyn.optimizers` for the table of optimizers),
every coordinate advances as

.. math::

    m_t &= b_1 m_{t-1} + c_1 g_t                       && \text{(first\_moment)}\\
    v_t &= b_2 v_{t-1} + c_2 g_t^2                     && \text{(second\_moment)}\\
    p^{(j)}_t &= p^{(j)}_{t-1}\, b_j,\quad p^{(j)}_0 = 1 && \text{(advance\_power: } p^{(j)}_t = b_j^t)\\
    \hat m_t &= m_t / (1 - p^{(1)}_t),\quad \hat v_t = v_t / (1 - p^{(2)}_t)
                                                       && \text{(bias\_denominator, debias)}\\
    d_t &= \sqrt{\hat v_t} + \epsilon \ \text{or}\ \sqrt{\hat v_t + \epsilon}
                                                       && \text{(denominator)}\\
    u_t &= \hat m_t / d_t \ (0 \text{ if } d_t = 0)    && \text{(direction)}\\
    w_t &= (1 - \eta\lambda)\, w_{t-1} - \eta\, u_t     && \text{(decayed\_step)}

Non-adaptive methods (SGD, momentum) take :math:`u_t = \hat m_t`.  The
powers :math:`b_j^t` are kept as running products, one multiplication a step,
in every caller: the compiled kernels, the path for user landscapes and
:func:`adamdyn.updates_from_gradients` all execute exactly these operations in
exactly this order, so that their results agree bit for bit.

Each piece is written once, below, as a plain Python function of its
arguments and of two primitives, a square root and an element-wise select.
:func:`bind` turns the pieces into one implementation per array library by
supplying those two primitives; nothing else differs between them:

- the module-level names (:func:`first_moment`, ..., :func:`coordinate_update`)
  are the **numba twins**: scalar functions compiled with ``numba.njit`` and
  inlined by the kernels of :mod:`adamdyn._kernels` (and callable from Python
  with floats);
- :data:`numpy_rule` holds the same pieces for NumPy arrays (``np.sqrt``,
  ``np.where``), for the modules that iterate the update in NumPy (k-Adam, the
  discrete algorithms beside the ODE, the noise Monte Carlo);
- :func:`jax_rule` binds them to ``jax.numpy`` for the optax transformations of
  :mod:`adamdyn.networks.transforms`, and :func:`sympy_rule` to sympy for symbolic
  derivations of the map (its Jacobian in :mod:`adamdyn.valley_orbits`).

Switches (``inside``, ``corrected``) are Python booleans or 0.0 / 1.0 flags;
:func:`denominator` branches on its switch (a compiled kernel must not pay
for two square roots), so a traced JAX switch selects between the two
values of the piece (what :mod:`adamdyn.networks.transforms` does).
Like optax's ``scale_by_adam``, the pieces are shared by every optimizer
instead of being retyped; ``tests/test_update_rule.py`` fails if another module
writes the update out.  The one deliberately independent implementation, used
only to check this one, is :mod:`adamdyn.torch_reference` (and the plain-loop
reference in ``tests/test_optimizers.py``).

One exception to "the same operations everywhere": an optax state carries only
the step count, so the JAX transformations compute :math:`b^t` as one power
``b ** t`` instead of a running product (they may differ from the compiled
kernels in the last bit of the bias correction).

The hyperparameters of a batch of runs travel as one float64 array of shape
``(N_HYPER, runs)``; the row of each field is a named constant (``LR``, ``B1``,
...).  Flags are stored as 0.0 / 1.0.  :func:`pack` builds it from an
:class:`adamdyn.Optimizer`.

References
----------
D. P. Kingma and J. Ba, "Adam: A method for stochastic optimization", ICLR 2015,
Algorithm 1.  I. Loshchilov and F. Hutter, "Decoupled weight decay
regularization", ICLR 2019.
"""

from __future__ import annotations

import types
from types import SimpleNamespace

import numba
import numpy as np

__all__ = [
    "first_moment",
    "second_moment",
    "advance_power",
    "bias_denominator",
    "debias",
    "denominator",
    "direction",
    "decayed_step",
    "decayed_update",
    "coordinate_update",
    "bind",
    "numpy_rule",
    "jax_rule",
    "sympy_rule",
    "pack",
    "FIELDS",
    "N_HYPER",
    "LR", "B1", "C1", "B2", "C2", "EPS", "WD", "EPS_INSIDE", "BIAS1", "BIAS2", "ADAPTIVE",
]

#: Rows of the packed hyperparameter array, in order.
FIELDS = ("lr", "b1", "c1", "b2", "c2", "eps", "weight_decay", "eps_inside", "bias1", "bias2", "adaptive")
LR, B1, C1, B2, C2, EPS, WD, EPS_INSIDE, BIAS1, BIAS2, ADAPTIVE = range(len(FIELDS))
N_HYPER = len(FIELDS)


_PIECES: dict = {}


def _piece(source):
    """Register ``source`` as one piece of the rule (compiled and bound by :func:`bind`)."""
    _PIECES[source.__name__] = source
    return source


# The primitives every piece is written in; :func:`bind` replaces them per array library.
_sqrt = np.sqrt
_where = np.where


@_piece
def first_moment(m, g, b1, c1):
    r""":math:`m_t = b_1 m_{t-1} + c_1 g_t` (Adam: :math:`c_1 = 1 - \beta_1`; momentum: :math:`c_1 = 1`).

    Also any exponential moving average, e.g. of a mean square (k-Adam's global level).
    """
    return b1 * m + c1 * g


@_piece
def second_moment(v, g, b2, c2):
    r""":math:`v_t = b_2 v_{t-1} + c_2 g_t^2`, evaluated as ``b2*v + (c2*g)*g``."""
    return b2 * v + c2 * g * g


@_piece
def advance_power(power, b):
    r"""One step of the running power: :math:`b^t = b^{t-1} \cdot b`."""
    return power * b


@_piece
def bias_denominator(power, corrected):
    r""":math:`1 - b^t` if bias correction is on (``corrected`` true or nonzero), else 1."""
    return _where(corrected, 1 - power, 1)      # integer literals keep sympy expressions exact


@_piece
def debias(moment, denominator):
    r"""The bias-corrected moment :math:`\hat m_t = m_t / (1 - b^t)`."""
    return moment / denominator


@_piece
def denominator(v_hat, eps, inside):
    r""":math:`\sqrt{\hat v_t + \epsilon}` if ``inside`` (the ODE papers' convention),
    else :math:`\sqrt{\hat v_t} + \epsilon` (Kingma & Ba's Algorithm 1)."""
    return _sqrt(v_hat + eps) if inside else _sqrt(v_hat) + eps


@_piece
def direction(m_hat, d):
    r"""The normalised step :math:`\hat m_t / d_t`; a zero denominator (all gradients zero so far) gives 0."""
    return _where(d > 0.0, m_hat / _where(d > 0.0, d, 1.0), 0.0)


@_piece
def decayed_step(w, lr, weight_decay, u):
    r"""Decoupled weight decay and the step: :math:`w_t = (1 - \eta\lambda) w_{t-1} - \eta u_t`."""
    return w * (1 - lr * weight_decay) - lr * u


@_piece
def decayed_update(w, lr, weight_decay, u):
    r"""The same step as an increment, :math:`w_t - w_{t-1} = -\eta\lambda w_{t-1} - \eta u_t`
    (what :func:`adamdyn.updates_from_gradients` reports)."""
    return -lr * weight_decay * w - lr * u


@_piece
def coordinate_update(w, m, v, g, lr, b1, c1, b2, c2, eps, weight_decay, eps_inside, adaptive, den1, den2):
    r"""One coordinate's step of the generic update; returns :math:`(w_t, m_t, v_t, u_t)`.

    ``den1`` and ``den2`` are the bias denominators :math:`1 - b_1^t` and
    :math:`1 - b_2^t` (or 1), computed once per run and step by
    :func:`bias_denominator`.
    """
    mn = first_moment(m, g, b1, c1)
    vn = second_moment(v, g, b2, c2)
    mh = debias(mn, den1)
    if adaptive:
        u = direction(mh, denominator(debias(vn, den2), eps, eps_inside))
    else:
        u = mh
    return decayed_step(w, lr, weight_decay, u), mn, vn, u


def bind(sqrt, where, compile=None) -> SimpleNamespace:
    """The pieces of the rule written with the primitives ``sqrt`` and ``where``.

    Each piece keeps its code and docstring; only the two primitives (and the
    pieces it calls) are looked up in the new namespace.  ``compile``, if
    given, is applied to every piece (``numba.njit`` for the kernels).
    """
    scope = {"_sqrt": sqrt, "_where": where, "__name__": __name__}
    for name, source in _PIECES.items():
        piece = types.FunctionType(source.__code__, scope, name, source.__defaults__)
        piece.__doc__, piece.__qualname__, piece.__module__ = source.__doc__, source.__qualname__, __name__
        scope[name] = compile(piece) if compile is not None else piece
    return SimpleNamespace(**{name: scope[name] for name in _PIECES})


@numba.njit(cache=True, error_model="numpy")
def _select(condition, if_true, if_false):
    """Scalar ``where`` for the numba twins."""
    return if_true if condition else if_false


#: The pieces for NumPy arrays (and floats).
numpy_rule = bind(np.sqrt, np.where)

_numba_rule = bind(np.sqrt, _select, numba.njit(cache=True, error_model="numpy"))
first_moment = _numba_rule.first_moment  # noqa: F811 (the compiled twin replaces the source)
second_moment = _numba_rule.second_moment  # noqa: F811 (the compiled twin replaces the source)
advance_power = _numba_rule.advance_power  # noqa: F811 (the compiled twin replaces the source)
bias_denominator = _numba_rule.bias_denominator  # noqa: F811 (the compiled twin replaces the source)
debias = _numba_rule.debias  # noqa: F811 (the compiled twin replaces the source)
denominator = _numba_rule.denominator  # noqa: F811 (the compiled twin replaces the source)
direction = _numba_rule.direction  # noqa: F811 (the compiled twin replaces the source)
decayed_step = _numba_rule.decayed_step  # noqa: F811 (the compiled twin replaces the source)
decayed_update = _numba_rule.decayed_update  # noqa: F811 (the compiled twin replaces the source)
coordinate_update = _numba_rule.coordinate_update  # noqa: F811 (the compiled twin replaces the source)


def _symbolic_where(condition, if_true, if_false):
    """``where`` for sympy: a Python or sympy boolean selects; a symbolic condition (``d > 0``) is
    taken as true, since the derivations divide by positive denominators."""
    if isinstance(condition, (bool, np.bool_)) or getattr(condition, "is_Boolean", False) and condition in (True, False):
        return if_true if bool(condition) else if_false
    return if_true


def sympy_rule() -> SimpleNamespace:
    """The pieces for sympy expressions (symbolic derivations of the map), with ``sympy.sqrt``."""
    import sympy as sp

    return bind(sp.sqrt, _symbolic_where)


def jax_rule() -> SimpleNamespace:
    """The pieces for ``jax.numpy`` arrays (imports JAX on first use)."""
    import jax.numpy as jnp

    return bind(jnp.sqrt, jnp.where)


def pack(optimizer) -> np.ndarray:
    """The hyperparameters of ``optimizer`` as one C-contiguous float64 array of shape ``(N_HYPER, runs)``.

    Row ``LR`` holds the learning rates, row ``B1`` the first decay rates, and so
    on in the order of ``FIELDS``; flags are 0.0 or 1.0.
    """
    return np.ascontiguousarray(np.stack([np.asarray(getattr(optimizer, f), dtype=np.float64) for f in FIELDS]))
