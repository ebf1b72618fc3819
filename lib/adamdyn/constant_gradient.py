r"""Adam's step under a constant gradient: Kaiser's Eq. (5) and the corner of a hypercube.

Without noise and with a constant gradient :math:`g`, Adam's step per :math:`\eta` is
:math:`\operatorname{sgn}(g)(1-\beta_1^T)/\sqrt{1-\beta_2^T}` without bias correction (Kaiser's Eq. 5)
and exactly :math:`\operatorname{sgn}(g)` with it (:math:`\epsilon = 0`): every coordinate moves by
:math:`\eta` whatever the size of its gradient, as long as :math:`|g| \gg \epsilon`.

References
----------
A. Kaiser, "Exploring the dynamics of Adam", section 3.  D. P. Kingma and J. Ba, "Adam", ICLR 2015.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from . import optimizers as _opt
from .noise import T, _branch, j
from .symbols import beta1, beta2
from .update_rule import sympy_rule
from .validation import check_int, check_nonnegative

__all__ = ["constant_gradient_step_expr", "constant_gradient_steps", "corner_check"]


def constant_gradient_step_expr(bias_correction=False):
    r"""Adam's step per :math:`\eta` under a constant gradient :math:`g \ne 0`, :math:`\epsilon = 0`.

    Without bias correction (Kaiser's Eq. 5) it is :math:`\operatorname{sgn}(g)(1-\beta_1^T)/\sqrt{1-\beta_2^T}`,
    the paper's expression; with it, exactly :math:`\operatorname{sgn}(g)`: every coordinate moves by
    :math:`\eta` whatever its gradient, a corner of a hypercube.
    """
    g = sp.Symbol("g", positive=True)
    m = (1 - beta1) * g * _branch(sp.summation(beta1**j, (j, 0, T - 1)))
    v = (1 - beta2) * g**2 * _branch(sp.summation(beta2**j, (j, 0, T - 1)))
    rule = sympy_rule()
    if bias_correction:
        m = rule.debias(m, rule.bias_denominator(beta1**T, True))
        v = rule.debias(v, rule.bias_denominator(beta2**T, True))
    return sp.simplify(rule.direction(m, rule.denominator(v, 0, False)))


def constant_gradient_steps(gradient, steps=100, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True):
    r"""Adam's updates per :math:`\eta` (``-update/lr``) under a constant gradient vector.

    ``gradient`` of shape ``(dim,)`` gives ``(steps, dim)``; ``(runs, dim)`` gives ``(steps, runs, dim)``.

    With bias correction each coordinate moves by :math:`\eta\,|g_i|/(|g_i| + \epsilon)` in the direction
    :math:`-\operatorname{sgn} g_i`: :math:`\eta` for every :math:`|g_i|\gg\epsilon`.
    """
    g = np.asarray(gradient, float)
    if g.ndim not in (1, 2):
        raise ValueError(f"gradient must have shape (dim,) or (runs, dim), got {g.shape}")
    steps = check_int("steps", steps, 1)
    check_nonnegative("eps", eps)
    opt = _opt.adam(lr=1.0, beta1=beta1, beta2=beta2, eps=eps, bias_correction=bias_correction)
    # a C-ordered copy, not the broadcast view: the kernel's output then has the layout every other
    # caller's has, and a cold build compiles one specialisation of it instead of three
    G = np.ascontiguousarray(np.broadcast_to(np.atleast_2d(g), (steps,) + np.atleast_2d(g).shape))
    out = -_opt.updates_from_gradients(opt, G)
    return out[:, 0, :] if g.ndim == 1 else out


def corner_check(gradients=(1e-12, 1e-8, 1e-4, 1.0, 1e4), steps=300, beta1=0.9, beta2=0.999, eps=1e-8,
                 threshold=1e-4):
    r"""The chapter's noiseless corner check: Adam's steps per :math:`\eta` under constant gradients.

    Returns a dict: ``min``/``max`` of the bias-corrected step over all ``steps`` and all gradients with
    :math:`|g| \ge` ``threshold``; the last step for :math:`|g| = 10^{-8}` and :math:`10^{-12}` (where
    :math:`\epsilon` matters); and the full step arrays with and without bias correction.
    """
    g = np.asarray(gradients, float)
    with_bc = constant_gradient_steps(g, steps=steps, beta1=beta1, beta2=beta2, eps=eps)
    without = constant_gradient_steps(g, steps=steps, beta1=beta1, beta2=beta2, eps=eps, bias_correction=False)
    big = np.abs(g) >= threshold
    return {"min": float(with_bc[:, big].min()), "max": float(with_bc[:, big].max()),
            "gradients": g, "with_bc": with_bc, "without_bc": without}
