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

Each piece is a numba-compiled scalar function: call it from other compiled
code (it is inlined) or from Python with floats.  :func:`coordinate_update`
composes them into one coordinate's step.  Like optax's ``scale_by_adam``,
the pieces are shared by every optimizer instead of being retyped.

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
    "coordinate_update",
    "pack",
    "FIELDS",
    "N_HYPER",
    "LR", "B1", "C1", "B2", "C2", "EPS", "WD", "EPS_INSIDE", "BIAS1", "BIAS2", "ADAPTIVE",
]

#: Rows of the packed hyperparameter array, in order.
FIELDS = ("lr", "b1", "c1", "b2", "c2", "eps", "weight_decay", "eps_inside", "bias1", "bias2", "adaptive")
LR, B1, C1, B2, C2, EPS, WD, EPS_INSIDE, BIAS1, BIAS2, ADAPTIVE = range(len(FIELDS))
N_HYPER = len(FIELDS)


@numba.njit(cache=True, error_model="numpy")
def first_moment(m, g, b1, c1):
    r""":math:`m_t = b_1 m_{t-1} + c_1 g_t` (Adam: :math:`c_1 = 1 - \beta_1`; momentum: :math:`c_1 = 1`)."""
    return b1 * m + c1 * g


@numba.njit(cache=True, error_model="numpy")
def second_moment(v, g, b2, c2):
    r""":math:`v_t = b_2 v_{t-1} + c_2 g_t^2`, evaluated as ``b2*v + (c2*g)*g``."""
    return b2 * v + c2 * g * g


@numba.njit(cache=True, error_model="numpy")
def advance_power(power, b):
    r"""One step of the running power: :math:`b^t = b^{t-1} \cdot b`."""
    return power * b


@numba.njit(cache=True, error_model="numpy")
def bias_denominator(power, corrected):
    r""":math:`1 - b^t` if bias correction is on (``corrected`` nonzero), else 1."""
    return 1.0 - power if corrected else 1.0


@numba.njit(cache=True, error_model="numpy")
def debias(moment, denominator):
    r"""The bias-corrected moment :math:`\hat m_t = m_t / (1 - b^t)`."""
    return moment / denominator


@numba.njit(cache=True, error_model="numpy")
def denominator(v_hat, eps, inside):
    r""":math:`\sqrt{\hat v_t + \epsilon}` if ``inside`` (the ODE papers' convention),
    else :math:`\sqrt{\hat v_t} + \epsilon` (Kingma & Ba's Algorithm 1)."""
    return np.sqrt(v_hat + eps) if inside else np.sqrt(v_hat) + eps


@numba.njit(cache=True, error_model="numpy")
def direction(m_hat, d):
    r"""The normalised step :math:`\hat m_t / d_t`; a zero denominator (all gradients zero so far) gives 0."""
    return m_hat / d if d > 0.0 else 0.0


@numba.njit(cache=True, error_model="numpy")
def decayed_step(w, lr, weight_decay, u):
    r"""Decoupled weight decay and the step: :math:`w_t = (1 - \eta\lambda) w_{t-1} - \eta u_t`."""
    return w * (1.0 - lr * weight_decay) - lr * u


@numba.njit(cache=True, error_model="numpy")
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


def pack(optimizer) -> np.ndarray:
    """The hyperparameters of ``optimizer`` as one C-contiguous float64 array of shape ``(N_HYPER, runs)``.

    Row ``LR`` holds the learning rates, row ``B1`` the first decay rates, and so
    on in the order of ``FIELDS``; flags are 0.0 or 1.0.
    """
    return np.ascontiguousarray(np.stack([np.asarray(getattr(optimizer, f), dtype=np.float64) for f in FIELDS]))
