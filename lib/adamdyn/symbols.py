r"""The sympy symbols of Adam's hyperparameters, shared by every derivation of the book.

One symbol per quantity, so that an expression derived in one module can be
substituted into, compared with, or lambdified beside an expression derived in
another (sympy treats two symbols as equal only if their names *and* assumptions
agree).  All are positive reals: the decay rates :math:`\beta_1, \beta_2`
(restrict to :math:`(0, 1)` where a derivation needs it), the learning rate
:math:`\eta` and the denominator's :math:`\epsilon`.

Symbols that belong to a single derivation (a step index, a gradient value, a
noise level) stay in the module of that derivation.

Examples
--------
>>> from adamdyn.symbols import beta1, beta2
>>> from adamdyn import bounds
>>> float(bounds.step_bound_expr().subs({beta1: 0.9, beta2: 0.999}))  # doctest: +ELLIPSIS
7.270...
"""

from __future__ import annotations

import sympy as sp

__all__ = ["beta1", "beta2", "eta", "eps"]

#: First- and second-moment decay rates :math:`\beta_1, \beta_2`.
beta1, beta2 = sp.symbols("beta1 beta2", positive=True)
#: Learning rate :math:`\eta`.
eta = sp.Symbol("eta", positive=True)
#: The :math:`\epsilon` of Adam's denominator.
eps = sp.Symbol("epsilon", positive=True)
