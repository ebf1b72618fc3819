r"""Does Adam converge?  Two checks behind Kaiser's section-3 remarks on Kingma & Ba's convergence proof.

1. **"Flat enough."**  Kaiser: the optimum must be "flat enough for the momentum to converge to order
   :math:`\epsilon` before leaving the optimum".  Near a minimum of curvature :math:`a` (loss
   :math:`a w^2/2`), once Adam has nearly converged its second moment :math:`\hat v` decays towards 0 and its
   step becomes that of heavy-ball momentum on the EMA :math:`m`, with preconditioned rate
   :math:`P = \eta/(\sqrt{\hat v}+\epsilon) \to \eta/\epsilon`.  The linearised map
   :math:`(m, w) \mapsto (\beta_1 m + (1-\beta_1) a w,\ w - P(\beta_1 m + (1-\beta_1) a w))` is stable iff
   :math:`P a < 2(1+\beta_1)/(1-\beta_1)` (Cohen et al. 2022's preconditioned-sharpness threshold).  So Adam
   can stay converged only if

   .. math:: a < a^* = \frac{2(1+\beta_1)}{1-\beta_1}\,\frac{\epsilon}{\eta},

   :math:`3.8\times10^{-4}` at the defaults.  Sharper minima are left again and again.
   :func:`stability_threshold_expr` derives the threshold from the Jury conditions with sympy;
   :func:`curvature_scan` measures it with the library's Adam.

2. **The flaw in the proof.**  Reddi, Kale & Kumar (2018) show that Kingma & Ba's convergence proof is
   wrong and give a convex online problem on :math:`[-1, 1]`, :math:`f_t(x) = Cx` if :math:`t \equiv 1
   \pmod 3`, else :math:`-x` (:math:`C > 2`; the best fixed point is :math:`x = -1`), on which Adam with
   :math:`\beta_1 = 0`, :math:`\beta_2 = 1/(1+C^2)` and :math:`\alpha_t = \alpha/\sqrt t` drifts to
   :math:`x = +1`.  :func:`reddi_counterexample` runs it.  The gradients do not depend on :math:`x`, so the
   library's Adam computes the directions from the gradient sequence; only the step schedule and the
   projection onto :math:`[-1, 1]`, which the library's optimizers do not have, are applied here.

References
----------
A. Kaiser, "Exploring the dynamics of Adam", section 3.  S. J. Reddi, S. Kale and S. Kumar, "On the
convergence of Adam and beyond", ICLR 2018.  J. M. Cohen et al., "Adaptive gradient methods at the edge of
stability", 2022.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from . import landscapes as _L
from . import optimizers as _opt
from .memo import memoised
from .symbols import beta1
from .validation import (
    check_bool,
    check_int,
    check_positive,
    check_scalar,
    real_array,
    scalar_beta,
    scalar_nonnegative,
    scalar_positive,
)

__all__ = ["stability_threshold_expr", "curvature_threshold", "curvature_scan", "reddi_counterexample"]


def stability_threshold_expr():
    r"""The largest stable :math:`Pa` of heavy-ball-on-EMA, :math:`2(1+\beta_1)/(1-\beta_1)` (sympy).

    The characteristic polynomial of the linearised map (see the module docstring) is
    :math:`\lambda^2 - (1+\beta_1 - (1-\beta_1)x)\lambda + \beta_1` with :math:`x = Pa`.  Its roots lie in
    the unit disc iff (Jury) :math:`p(1) > 0`, :math:`p(-1) > 0` and :math:`\beta_1 < 1`; :math:`p(1) =
    (1-\beta_1)x > 0` always, and :math:`p(-1) > 0` is solved for :math:`x` here.
    """
    x, lam = sp.symbols("x lambda", positive=True)
    A = sp.Matrix([[beta1, (1 - beta1)], [-beta1 * x, 1 - (1 - beta1) * x]])  # (m/a, w) scaled
    p = sp.expand((A - lam * sp.eye(2)).det())
    at_minus_one = sp.expand(p.subs(lam, -1))
    return sp.simplify(sp.solve(sp.Eq(at_minus_one, 0), x)[0])


def curvature_threshold(beta1_=0.9, eta=1e-3, eps=1e-8):
    r""":math:`a^* = \frac{2(1+\beta_1)}{1-\beta_1}\,\epsilon/\eta`: the sharpest curvature at which Adam can
    stay at a minimum.  ``beta1_`` in [0, 1), ``eta > 0``, ``eps >= 0``."""
    beta1_ = scalar_beta("beta1_", beta1_)
    eta, eps = scalar_positive("eta", eta), scalar_nonnegative("eps", eps)
    return float(stability_threshold_expr().subs(beta1, beta1_)) * eps / eta


def curvature_scan(curvatures, eta=1e-3, beta1_=0.9, beta2_=0.999, eps=1e-8, steps=60_000, w0=1.0,
                   record_every=100):
    r"""Adam on :math:`\sum_i a_i w_i^2/2` from :math:`w_i = w_0`: each coordinate is an independent 1-D
    minimum of curvature :math:`a_i` (Adam is coordinate-wise).

    Returns ``(times, |w|)`` with ``|w|`` of shape ``(K, len(curvatures))`` recorded every
    ``record_every`` steps, and the largest :math:`|w|` over the second half of the run per curvature.
    """
    a = np.atleast_1d(real_array("curvatures", curvatures))
    check_positive("curvatures", a)
    steps = check_int("steps", steps, 2)
    eta, eps = scalar_positive("eta", eta), scalar_nonnegative("eps", eps)
    beta1_, beta2_ = scalar_beta("beta1_", beta1_), scalar_beta("beta2_", beta2_)
    w0 = check_scalar("w0", w0)
    opt = _opt.adam(lr=eta, beta1=beta1_, beta2=beta2_, eps=eps)
    tr = _opt.run(opt, _L.quadratic(a / 2), x0=np.full(a.size, float(w0)), steps=steps, record_every=record_every)
    w = np.abs(tr.path[:, 0, :])
    return tr.times, w, w[w.shape[0] // 2:].max(axis=0)


def reddi_counterexample(C=3.0, steps=6000, alpha=0.5, beta2=None, eps=0.0, bias_correction=False, x0=0.0,
                         beta1=0.0):
    r"""Reddi et al.'s convex online problem (their Theorem 1 setting) with the library's Adam.

    :math:`f_t(x) = Cx` if :math:`t \bmod 3 = 1`, else :math:`-x`, on :math:`[-1, 1]`; the step is
    :math:`\alpha/\sqrt t` times Adam's direction, projected.  Their setting has :math:`\beta_1 = 0`
    and :math:`\beta_2 = 1/(1+C^2)` (the defaults); other pairs test where the failure ends.

    Returns ``(x, average_regret)``: the projected iterates :math:`x_1..x_T` and
    :math:`\frac1T\sum_t f_t(x_t) - f_t(-1)`, which tends to 0 for a convergent method.
    """
    C = scalar_positive("C", C)
    if C <= 2:
        raise ValueError(f"C must be > 2 (the best fixed point is then x = -1), got {C!r}")
    steps = check_int("steps", steps, 1)
    b1 = scalar_beta("beta1", beta1)
    b2 = 1.0 / (1.0 + C**2) if beta2 is None else scalar_beta("beta2", beta2)
    alpha, eps = scalar_positive("alpha", alpha), scalar_nonnegative("eps", eps)
    bias_correction = check_bool("bias_correction", bias_correction)
    x0 = check_scalar("x0", x0, -1.0, 1.0)
    g = np.where(np.arange(1, steps + 1) % 3 == 1, C, -1.0)
    direction = -_opt.updates_from_gradients(
        _opt.adam(lr=1.0, beta1=b1, beta2=b2, eps=eps, bias_correction=bias_correction), g)
    x = np.empty(steps)
    xt = float(x0)
    for k in range(steps):  # the projection makes this a sequential loop
        xt = min(1.0, max(-1.0, xt - alpha / np.sqrt(k + 1) * direction[k]))
        x[k] = xt
    return x, float(np.mean(g * (x + 1.0)))


@memoised
def curvature_check(ratios=(0.01, 0.1, 0.3, 0.6, 0.9, 1.1, 1.5, 3.0, 10.0, 1e3), eta=1e-3, beta1_=0.9,
                    beta2_=0.999, eps=1e-8, steps=60_000, settled=1e-200):
    r"""The chapter's "flat enough" check: :func:`curvature_scan` at :math:`a = ` ``ratios`` :math:`\times a^*`.

    A curvature counts as *settled* if :math:`|w|` stays below ``settled`` over the second half of the run
    (the runs that settle reach subnormal numbers; the others keep bursting to :math:`|w| \sim 10^{-4}`).
    Returns a dict: ``a_star``, ``ratios``, ``late`` (largest late :math:`|w|`), ``settles`` (bool),
    ``largest_settled`` and ``smallest_unsettled`` (as ratios to :math:`a^*`), and the recorded ``times``, ``w``.
    """
    a_star = curvature_threshold(beta1_, eta, eps)
    r = np.asarray(ratios, float)
    times, w, late = curvature_scan(r * a_star, eta, beta1_, beta2_, eps, steps)
    ok = late < settled
    return {"a_star": a_star, "ratios": r, "late": late, "settles": ok, "times": times, "w": w,
            "largest_settled": float(r[ok].max()) if ok.any() else float("nan"),
            "smallest_unsettled": float(r[~ok].min()) if (~ok).any() else float("nan")}
