r"""Escaping a saddle (Kaiser, section 5, Figure 2a).

The saddle is :math:`f(x, y) = \tfrac12(-x^2 + y^2)`, Hessian
:math:`\mathrm{diag}(-1, 1)`, with the unstable direction :math:`x = w_1` and
the stable direction :math:`y = w_2`.  A run starts at
:math:`w_0 = (\delta, y_0)`, close to the stable manifold :math:`x = 0`; its
*escape time* is the first step :math:`t` with :math:`\lVert w_t\rVert > R`.

Gradient descent has a closed form here: :math:`x_t = \delta(1+\eta)^t`,
:math:`y_t = y_0(1-\eta)^t`, so its escape time is the smallest integer with
:math:`\delta^2(1+\eta)^{2t} + y_0^2(1-\eta)^{2t} > R^2`
(:func:`sgd_escape_time`), about :math:`\ln(R/\delta)/\eta`.

Proposition 3 (how Adam weighs recent gradients) is in :mod:`adamdyn.gradient_memory`.

References
----------
A. Kaiser, "Exploring the Dynamics of Adam", section 5.
D. P. Kingma and J. Ba, "Adam", ICLR 2015.
"""

from __future__ import annotations

import numpy as np

from . import landscapes as L
from . import optimizers as _opt
from .validation import (
    check_beta,
    check_choice,
    check_instance,
    check_int,
    check_positive,
    check_scalar,
    scalar_positive,
)

__all__ = [
    "START", "RADIUS", "NAMES",
    "four_optimizers", "escape_runs", "sgd_escape_time", "closest_approach",
    "TORCH_DEFAULTS", "reading_optimizers", "time_near", "escape_table", "lr_scan", "ranking",
    "ablation", "diagonal_defect", "step_ratios",
]

#: Our documented start (the paper does not state one): a point just off the
#: stable manifold x = 0, at unit distance along the stable direction.
START = (1e-3, 1.0)
#: Escape radius around the saddle at the origin.
RADIUS = 2.0
#: The optimizers of Figure 2a, in the order of :func:`four_optimizers`.
NAMES = ("SGD", "AdaGrad", "RMSProp", "Adam")


def four_optimizers(lr=1e-3, rmsprop_beta2=0.99, beta1=0.9, beta2=0.999, eps=1e-8):
    """SGD, AdaGrad, RMSProp and Adam with one learning rate, batched in one :class:`~adamdyn.Optimizer`.

    Kaiser does not state learning rates or RMSProp's decay; we use Adam's
    default :math:`\\eta = 10^{-3}` for all four and ``torch``'s RMSProp default
    decay 0.99.
    """
    check_beta("rmsprop_beta2", rmsprop_beta2)
    return _opt.combine(
        _opt.sgd(lr=lr), _opt.adagrad(lr=lr, eps=1e-10), _opt.rmsprop(lr=lr, beta2=rmsprop_beta2, eps=eps),
        _opt.adam(lr=lr, beta1=beta1, beta2=beta2, eps=eps),
    )


def escape_runs(optimizer, x0=START, steps=10**6, radius=RADIUS, record_every=100):
    """Run ``optimizer`` on the saddle and record when each run leaves the ball of ``radius``.

    Returns the :class:`~adamdyn.Trajectory`; ``exit_step`` holds the escape times
    (-1 if a run stays inside for all ``steps``).
    """
    check_instance("optimizer", optimizer, _opt.Optimizer)
    radius = scalar_positive("radius", radius)
    return _opt.run(optimizer, L.saddle(), x0, steps, record_every=record_every,
                    center=[0.0, 0.0], radius=radius)


def sgd_escape_time(delta, y0=1.0, lr=1e-3, radius=RADIUS) -> int:
    r"""Exact escape time of gradient descent from :math:`(\delta, y_0)` on the saddle.

    Smallest integer :math:`t` with :math:`\delta^2(1+\eta)^{2t} + y_0^2(1-\eta)^{2t} > R^2`,
    found by bisection on the closed-form iterates (no simulation).
    """
    d = scalar_positive("delta", delta)
    eta = scalar_positive("lr", lr)
    if eta >= 1.0:
        raise ValueError(f"lr must lie in (0, 1) for the closed form, got {lr!r}")
    R = scalar_positive("radius", radius)
    y0 = check_scalar("y0", y0)

    def outside(t):
        return d**2 * (1 + eta) ** (2 * t) + y0**2 * (1 - eta) ** (2 * t) > R**2

    if outside(0):
        return 0
    hi = 1
    while not outside(hi):
        hi *= 2
    lo = hi // 2
    while hi - lo > 1:  # outside() is monotone once y has decayed; the bracket holds the first crossing
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if outside(mid) else (mid, hi)
    return hi


def closest_approach(trajectory) -> np.ndarray:
    """Smallest distance to the saddle point along each recorded path, shape (runs,)."""
    check_instance("trajectory", trajectory, _opt.Trajectory)
    return np.linalg.norm(trajectory.path, axis=2).min(axis=0)


#: torch.optim's default learning rates (and epsilons) of the four methods.
TORCH_DEFAULTS = {"SGD": 1e-3, "AdaGrad": 1e-2, "RMSProp": 1e-2, "Adam": 1e-3}


def reading_optimizers(reading="shared", lr=1e-3, rmsprop_beta2=0.99, beta1=0.9, beta2=0.999, eps=1e-8):
    """The four optimizers under a learning-rate reading: ``"shared"`` (all use ``lr``) or ``"torch"``.

    ``"torch"`` uses :data:`TORCH_DEFAULTS`: ``SGD(lr=1e-3)``, ``Adagrad(lr=1e-2, eps=1e-10)``,
    ``RMSprop(lr=1e-2, eps=1e-8)`` with ``alpha = rmsprop_beta2``, ``Adam(lr=1e-3)``.
    """
    check_choice("reading", reading, ("shared", "torch"))
    check_beta("rmsprop_beta2", rmsprop_beta2)
    lrs = dict.fromkeys(NAMES, lr) if reading == "shared" else TORCH_DEFAULTS
    return _opt.combine(
        _opt.sgd(lr=lrs["SGD"]), _opt.adagrad(lr=lrs["AdaGrad"], eps=1e-10),
        _opt.rmsprop(lr=lrs["RMSProp"], beta2=rmsprop_beta2, eps=eps),
        _opt.adam(lr=lrs["Adam"], beta1=beta1, beta2=beta2, eps=eps),
    )


def time_near(optimizer, x0=START, near_radius=0.3, steps=20_000):
    """Steps spent within ``near_radius`` of the saddle over the first ``steps`` steps, per run.

    The paper's intuition is about time spent *near* the saddle, where the dynamics are slow; a run
    that leaves the ball for good early, or never enters it, scores low.
    """
    check_instance("optimizer", optimizer, _opt.Optimizer)
    r = scalar_positive("near_radius", near_radius)
    tr = _opt.run(optimizer, L.saddle(), x0, check_int("steps", steps, 1), record_every=1)
    return (np.linalg.norm(tr.path[1:], axis=2) < r).sum(axis=0)


def escape_table(decays=(0.9, 0.99, 0.999), lr=1e-3, x0=START, radius=RADIUS, near_radius=0.3, horizon=10**6,
                 near_steps=20_000, beta1=0.9, beta2=0.999, eps=1e-8):
    """Escape step and time near the saddle of the four methods, for each lr reading and RMSProp decay.

    Returns ``{(reading, decay): {name: (escape step or -1, steps within near_radius)}}`` for
    ``reading`` in ``("shared", "torch")``; one batched call for all escapes.
    """
    keys = [(rd, float(d)) for rd in ("shared", "torch") for d in check_beta("decays", decays)]
    horizon, near_steps = check_int("horizon", horizon, 1), check_int("near_steps", near_steps, 1)
    opts = [reading_optimizers(rd, lr, d, beta1, beta2, eps) for rd, d in keys]
    big = _opt.combine(*opts)
    esc = escape_runs(big, x0, horizon, radius, record_every=horizon).exit_step.reshape(len(keys), len(NAMES))
    near = time_near(big, x0, near_radius, near_steps).reshape(len(keys), len(NAMES))
    return {k: {n: (int(esc[i, j]), int(near[i, j])) for j, n in enumerate(NAMES)} for i, k in enumerate(keys)}


def lr_scan(lrs, decays=(0.9, 0.99, 0.999), x0=START, radius=RADIUS, horizon=200_000, beta1=0.9, beta2=0.999, eps=1e-8):
    """Escape step of each method (RMSProp at each decay) over a grid of learning rates.

    Returns ``{label: array over lrs}`` with labels ``SGD``, ``AdaGrad``, ``Adam`` and ``RMSProp <decay>``;
    -1 where the run stays inside for ``horizon`` steps.
    """
    lrs = check_positive("lrs", lrs)
    d = check_beta("decays", decays)
    n = lrs.size
    opt = _opt.combine(_opt.sgd(lr=lrs), _opt.adagrad(lr=lrs, eps=1e-10),
                       _opt.adam(lr=lrs, beta1=beta1, beta2=beta2, eps=eps),
                       *[_opt.rmsprop(lr=lrs, beta2=float(b), eps=eps) for b in d])
    e = escape_runs(opt, x0, check_int("horizon", horizon, 1), radius, record_every=horizon).exit_step
    labels = ["SGD", "AdaGrad", "Adam"] + [f"RMSProp {b:g}" for b in d]
    return {lab: e[i * n:(i + 1) * n] for i, lab in enumerate(labels)}


def ranking(escapes: dict) -> list:
    """Names ordered by escape step (a run that never escapes comes last)."""
    if not isinstance(escapes, dict) or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in escapes.values()):
        raise ValueError(f"escapes must be a dict of name -> escape step (an integer, -1 for none), got {escapes!r}")
    big = np.iinfo(np.int64).max
    return sorted(escapes, key=lambda n: escapes[n] if escapes[n] >= 0 else big)


# ------------------------------------------------------------------- ablation
def ablation(beta1s=(0.0, 0.9), beta2s=(0.99, 0.999), lr=1e-3, x0=START, radius=RADIUS, steps=20_000):
    """Escape times of Adam over momentum (beta1), second-moment decay (beta2) and bias correction.

    ``beta1 = 0`` without bias correction is exactly RMSProp; with bias
    correction it is RMSProp with Adam's bias-corrected second moment.
    Returns a dict ``{(bias_correction, beta1, beta2): escape step}``.
    """
    beta1s, beta2s = check_beta("beta1s", beta1s), check_beta("beta2s", beta2s)
    steps = check_int("steps", steps, 1)
    keys, opts = [], []
    for bc in (False, True):
        for b1 in beta1s:
            for b2 in beta2s:
                keys.append((bc, float(b1), float(b2)))
                opts.append(_opt.adam(lr=lr, beta1=b1, beta2=b2, bias_correction=bc))
    tr = escape_runs(_opt.combine(*opts), x0, steps, radius, record_every=steps)
    return dict(zip(keys, tr.exit_step.tolist()))


def diagonal_defect(optimizer, x0=START, steps=10):
    """Largest angle (degrees) between an update and the diagonal |dx| = |dy| over the first ``steps`` updates.

    0 for steps exactly on a diagonal; 45 for steps along an axis.
    """
    r = step_ratios(optimizer, x0, check_int("steps", steps, 1))
    return np.degrees(np.abs(np.arctan2(r[:, :, 1], r[:, :, 0]) - np.pi / 4)).max(axis=0)


def step_ratios(optimizer, x0=START, steps=2000):
    """Per-coordinate |update| / lr at every step of the first ``steps``: shape (steps, runs, 2)."""
    check_instance("optimizer", optimizer, _opt.Optimizer)
    tr = _opt.run(optimizer, L.saddle(), x0, check_int("steps", steps, 1), record_every=1)
    return np.abs(np.diff(tr.path, axis=0)) / optimizer.lr[None, :, None]
