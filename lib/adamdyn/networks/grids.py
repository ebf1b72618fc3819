"""Learning-rate grids and the optimizers Part III's chapters name, shared by their experiments.

A Part III experiment sweeps each optimizer over a log-spaced grid of learning rates centred on
a stated value, :math:`\\eta_j = 10^{c + j/k}` for :math:`j = -(n-1)/2, \\dots, (n-1)/2`
(``k`` rates per decade), and names optimizers by the short labels its tables print.
"""

from __future__ import annotations

import numpy as np

from .. import optimizers as O

__all__ = ["rate_grid", "optimizer_by_name", "NAMED"]

#: The labels :func:`optimizer_by_name` knows ("RMSProp <decay>" takes any decay in [0, 1)).
NAMED = ("GD", "momentum", "AdaGrad", "RMSProp <decay>", "Adam", "Adam, beta1 = 0", "AdamW")


def rate_grid(centre, n_rates=5, per_decade=2):
    """``n_rates`` learning rates :math:`10^{c + j/\\text{per\\_decade}}` centred on :math:`10^c`."""
    j = np.arange(n_rates) - (n_rates - 1) / 2
    return 10.0 ** np.round(centre + j / per_decade, 6)


def optimizer_by_name(name, lr, weight_decay=1e-2):
    """The library optimizer a Part III table calls ``name``, at learning rate(s) ``lr``.

    Heavy ball uses beta = 0.9; Adam and AdamW use Kingma & Ba's defaults (0.9, 0.999, 1e-8);
    ``"RMSProp 0.99"`` is RMSProp with that decay.
    """
    if name == "GD":
        return O.sgd(lr)
    if name == "momentum":
        return O.momentum(lr, 0.9)
    if name == "AdaGrad":
        return O.adagrad(lr)
    if isinstance(name, str) and name.startswith("RMSProp "):
        return O.rmsprop(lr, float(name.split()[1]))
    if name == "Adam":
        return O.adam(lr, 0.9, 0.999)
    if name == "Adam, beta1 = 0":
        return O.adam(lr, 0.0, 0.999)
    if name == "AdamW":
        return O.adamw(lr, weight_decay=weight_decay)
    raise ValueError(f"name must be one of {NAMED}, got {name!r}")
