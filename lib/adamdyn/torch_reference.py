r"""Which ``torch.optim`` class, with which arguments, gives the same iterates as each adamdyn optimizer.

:data:`TABLE` is the data behind the book's reference table: one
:class:`Equivalence` per optimizer variant, with the torch class and the
keyword arguments that reproduce adamdyn's iterates (in float64), or ``None``
and the reason where no torch optimizer does.  :func:`max_deviation` and
:func:`deviation_on_gradients` run both side by side when torch is importable;
the book itself does not need torch.

This is the library's one **independent reference implementation** of the update: torch's own
optimizers, which share no code with :mod:`adamdyn.update_rule` (the tests also keep a plain-loop
reference written from Kingma & Ba's Algorithm 1).  Every other module composes the rule's pieces.

Why the arguments matter (torch 2.x defaults):

* ``RMSprop``'s decay rate is called ``alpha`` and defaults to 0.99;
  Tieleman & Hinton's lecture used 0.9.  ``momentum`` and ``centered`` must stay off.
* ``Adagrad`` must keep ``lr_decay=0`` (else the step size is
  :math:`\eta/(1+(t-1)\,\mathrm{lr\_decay})`) and ``initial_accumulator_value=0``
  (else :math:`v_0 \ne 0`).
* ``Adam`` always applies both bias corrections and puts :math:`\epsilon`
  outside the root; ``Adam(weight_decay=...)`` is an L2 penalty added to the
  gradient, not AdamW's decoupled decay.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import optimizers as _opt
from .validation import check_int, check_points

__all__ = ["Equivalence", "TABLE", "VARIANTS", "torch_available", "equivalence", "markdown_table",
           "gap_to_nearest", "run_torch", "max_deviation", "deviation_on_gradients"]


@dataclass(frozen=True)
class Equivalence:
    """One optimizer variant and its torch counterpart.

    Attributes
    ----------
    variant : str
        Name used in the book's table (and as key of :data:`VARIANTS`).
    adamdyn : str
        The adamdyn call, with the hyperparameter names used in ``defaults``.
    build : callable
        ``build(**hyper)`` returns the :class:`adamdyn.optimizers.Optimizer`.
    torch_class : str or None
        Name of the ``torch.optim`` class, or ``None`` where none gives the same iterates.
    torch_kwargs : callable or None
        ``torch_kwargs(**hyper)`` returns the keyword arguments of ``torch_class``.
    defaults : dict
        Hyperparameters used when none are given (non-default values, so that a
        wrong mapping cannot pass by accident).
    note : str
        Why the mapping holds, which torch defaults it overrides, or why there is none.
    nearest : str or None
        For a variant without torch equivalent, the variant with one that comes closest.
    """

    variant: str
    adamdyn: str
    build: Callable
    torch_class: str | None
    torch_kwargs: Callable | None
    defaults: dict = field(default_factory=dict)
    note: str = ""
    nearest: str | None = None

    def torch_call(self, **hyper) -> str:
        """The torch call as text, e.g. ``torch.optim.SGD(params, lr=0.01)``."""
        if self.torch_class is None:
            return "none"
        kw = self.torch_kwargs(**{**self.defaults, **hyper})
        args = ", ".join(f"{k}={v!r}" for k, v in kw.items())
        return f"torch.optim.{self.torch_class}(params, {args})"


TABLE = (
    Equivalence(
        "SGD", "sgd(lr)", lambda lr: _opt.sgd(lr=lr),
        "SGD", lambda lr: {"lr": lr},
        {"lr": 0.05}, "Kaiser's Eq. (1)."),
    Equivalence(
        "momentum", "momentum(lr, beta)", lambda lr, beta: _opt.momentum(lr=lr, beta=beta),
        "SGD", lambda lr, beta: {"lr": lr, "momentum": beta},
        {"lr": 0.02, "beta": 0.8},
        "Heavy ball m_t = beta m_(t-1) + g_t; torch's dampening=0 and nesterov=False (its defaults) are required."),
    Equivalence(
        "AdaGrad", "adagrad(lr, eps)", lambda lr, eps: _opt.adagrad(lr=lr, eps=eps),
        "Adagrad", lambda lr, eps: {"lr": lr, "eps": eps, "lr_decay": 0.0, "initial_accumulator_value": 0.0},
        {"lr": 0.1, "eps": 1e-6},
        "Kaiser's Eq. (2) corrected (root and eps). torch's lr_decay and initial_accumulator_value must be 0 "
        "(their defaults)."),
    Equivalence(
        "RMSProp", "rmsprop(lr, beta2, eps)", lambda lr, beta2, eps: _opt.rmsprop(lr=lr, beta2=beta2, eps=eps),
        "RMSprop", lambda lr, beta2, eps: {"lr": lr, "alpha": beta2, "eps": eps, "momentum": 0.0, "centered": False},
        {"lr": 0.01, "beta2": 0.9, "eps": 1e-6},
        "Kaiser's Eq. (3) corrected. torch calls beta2 alpha and defaults it to 0.99 (Tieleman & Hinton: 0.9); "
        "momentum=0 and centered=False are required."),
    Equivalence(
        "Adam", "adam(lr, beta1, beta2, eps)",
        lambda lr, beta1, beta2, eps: _opt.adam(lr=lr, beta1=beta1, beta2=beta2, eps=eps),
        "Adam", lambda lr, beta1, beta2, eps: {"lr": lr, "betas": (beta1, beta2), "eps": eps},
        {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6},
        "Algorithm 1 of Kingma & Ba; torch's amsgrad=False and weight_decay=0 (its defaults) are required."),
    Equivalence(
        "AdamW", "adamw(lr, beta1, beta2, eps, weight_decay)",
        lambda lr, beta1, beta2, eps, weight_decay: _opt.adamw(lr=lr, beta1=beta1, beta2=beta2, eps=eps,
                                                               weight_decay=weight_decay),
        "AdamW", lambda lr, beta1, beta2, eps, weight_decay: {"lr": lr, "betas": (beta1, beta2), "eps": eps,
                                                              "weight_decay": weight_decay},
        {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.5},
        "Decoupled decay w <- (1 - lr wd) w before the Adam step. torch.optim.Adam(weight_decay=wd) is "
        "different: it adds wd w to the gradient (L2), which then passes through the normalization."),
    Equivalence(
        "Adam without bias correction", "adam(lr, beta1, beta2, eps, bias_correction=False)",
        lambda lr, beta1, beta2, eps: _opt.adam(lr=lr, beta1=beta1, beta2=beta2, eps=eps, bias_correction=False),
        None, None, {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6},
        "torch.optim.Adam always divides by 1 - beta1^t and 1 - beta2^t. A LambdaLR schedule "
        "lr (1 - beta1^t)/sqrt(1 - beta2^t) undoes both only when eps = 0; for eps > 0 it would also "
        "rescale eps by sqrt(1 - beta2^t). This is Kaiser's Eq. (5).", nearest="Adam"),
    Equivalence(
        "Adam, eps inside the root", "adam(lr, beta1, beta2, eps, eps_inside=True)",
        lambda lr, beta1, beta2, eps: _opt.adam(lr=lr, beta1=beta1, beta2=beta2, eps=eps, eps_inside=True),
        None, None, {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6},
        "torch puts eps outside the root, sqrt(v_hat) + eps; the ODE papers' sqrt(v_hat + eps) "
        "differs wherever v_hat is not large compared with eps.", nearest="Adam"),
)

#: The rows of :data:`TABLE` by variant name.
VARIANTS = {e.variant: e for e in TABLE}


def equivalence(variant: str) -> Equivalence:
    """The row of :data:`TABLE` for ``variant``."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {sorted(VARIANTS)}, got {variant!r}")
    return VARIANTS[variant]


def torch_available() -> bool:
    """Whether ``import torch`` works in this environment."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def markdown_table() -> str:
    """:data:`TABLE` as a Markdown table (variant, adamdyn call, torch call, note)."""
    def cell(s):
        return str(s).replace("|", r"\|").replace("\n", " ")

    head = "| variant | adamdyn | torch.optim | note |\n|---|---|---|---|\n"
    rows = []
    for e in TABLE:
        torch_call = "**none**" if e.torch_class is None else f"`{e.torch_call()}`"
        rows.append(f"| {cell(e.variant)} | `ad.{cell(e.adamdyn)}` | {cell(torch_call)} | {cell(e.note)} |\n")
    return head + "".join(rows)


def gap_to_nearest(variant: str, landscape, x0, steps: int, **hyper) -> float:
    """How far a variant without torch equivalent strays from its nearest variant with one.

    Both run in adamdyn with the same hyperparameters (torch is not needed);
    returns the largest distance between their iterates, :math:`\\max_t \\|w_t - w'_t\\|_\\infty`.
    """
    e = equivalence(variant)
    if e.nearest is None:
        raise ValueError(f"variant {variant!r} has a torch equivalent; nothing to compare")
    hyper = {**e.defaults, **hyper}
    near = equivalence(e.nearest)
    opt = _opt.combine(e.build(**hyper), near.build(**{k: hyper[k] for k in near.defaults}))
    path = _opt.run(opt, landscape, x0=x0, steps=steps).path
    return float(np.abs(path[:, 0] - path[:, 1]).max())


def _torch_optimizer(e: Equivalence, param, hyper):
    import torch

    cls = getattr(torch.optim, e.torch_class)
    # foreach=False: the plain per-tensor loop, the reference implementation
    return cls([param], **e.torch_kwargs(**hyper), foreach=False)


def run_torch(variant: str, grad, x0, steps: int, **hyper) -> np.ndarray:
    """Iterate ``torch.optim`` on a float64 parameter with gradients from ``grad`` (no autograd).

    Parameters
    ----------
    grad : callable
        Maps an array of shape ``(dim,)`` to the gradient ``(dim,)`` (a landscape's ``grad``).

    Returns
    -------
    ndarray, shape (steps + 1, dim)
        The iterates, starting with ``x0``.
    """
    import torch

    e = equivalence(variant)
    if e.torch_class is None:
        raise ValueError(f"variant {variant!r} has no torch equivalent: {e.note}")
    hyper = {**e.defaults, **hyper}
    x = check_points("x0", x0)[0]
    steps = check_int("steps", steps, 0)
    p = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    opt = _torch_optimizer(e, p, hyper)
    out = np.empty((steps + 1, x.size))
    out[0] = x
    for k in range(1, steps + 1):
        p.grad = torch.from_numpy(np.asarray(grad(p.detach().numpy().copy()), dtype=np.float64))
        opt.step()
        out[k] = p.detach().numpy()
    return out


def max_deviation(variant: str, landscape, x0, steps: int, **hyper) -> dict:
    """Run adamdyn and torch side by side on ``landscape`` and return their largest differences.

    Returns
    -------
    dict
        ``abs``: max absolute difference of the iterates; ``rel``: the same divided by
        the largest iterate magnitude; ``steps``; ``torch``: the torch call used.
    """
    e = equivalence(variant)
    hyper = {**e.defaults, **hyper}
    ours = _opt.run(e.build(**hyper), landscape, x0=x0, steps=steps).path[:, 0, :]
    theirs = run_torch(variant, landscape.grad, x0, steps, **hyper)
    diff = float(np.abs(ours - theirs).max())
    return {"abs": diff, "rel": diff / float(np.abs(ours).max()), "steps": steps, "torch": e.torch_call(**hyper)}


def deviation_on_gradients(variant: str, grads, **hyper) -> float:
    """Largest relative difference between adamdyn's and torch's updates on a given gradient sequence.

    ``grads`` has shape ``(T, dim)``; both start from ``w_0 = 0`` (which matters
    only for AdamW's decay), the setting of :func:`adamdyn.optimizers.updates_from_gradients`.
    """
    import torch

    e = equivalence(variant)
    if e.torch_class is None:
        raise ValueError(f"variant {variant!r} has no torch equivalent: {e.note}")
    hyper = {**e.defaults, **hyper}
    G = np.asarray(grads, dtype=float)
    if G.ndim != 2 or not np.all(np.isfinite(G)):
        raise ValueError(f"grads must be a finite array of shape (T, dim), got shape {G.shape}")
    ours = _opt.updates_from_gradients(e.build(**hyper), G[:, None, :])[:, 0, :]
    p = torch.zeros(G.shape[1], dtype=torch.float64, requires_grad=True)
    opt = _torch_optimizer(e, p, hyper)
    theirs = np.empty_like(G)
    for k in range(G.shape[0]):
        before = p.detach().numpy().copy()
        p.grad = torch.from_numpy(G[k].copy())
        opt.step()
        theirs[k] = p.detach().numpy() - before
    return float(np.abs(ours - theirs).max() / np.abs(ours).max())
