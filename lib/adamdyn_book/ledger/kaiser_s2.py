"""Kaiser, section 2 (Preliminaries): the update rules, Eq. (4), the bias correction, units.

Decided in the preliminaries chapter; computed from :mod:`adamdyn.symbolic`.
"""

from __future__ import annotations

import sympy as sp

from adamdyn.symbolic import (
    _fmt,
    adagrad_update_corrected,
    adagrad_update_printed,
    algorithm1_scale_ratio,
    eq4_check,
    eq4_minus_algorithm1,
    explicit_minus_recursive,
    first_negligible_step,
    loss_scale_ratio,
    rmsprop_printed_step_ratio,
    simulated_bias_factor,
)
from adamdyn.symbols import beta1, beta2, eps

from .claim import Claim

__all__ = ["claims"]


def claims() -> list[Claim]:
    """Section 2's claims, decided by the derivations above (see the preliminaries chapter)."""

    rows = []
    rows.append(Claim(
        "S2-eq1-lr", "2.1", "Eq. (1), SGD; the text then scales the step 'by some learning rate lambda'",
        "Eq. (1)", "the learning rate is eta in Eq. (1) and every later equation; lambda is a misnomer",
        "corrected", "prelim-rules"))
    ada_ratio = loss_scale_ratio(adagrad_update_printed())
    ada_fixed = loss_scale_ratio(adagrad_update_corrected(), epsilon=0)
    rows.append(Claim(
        "S2-eq2", "2.1", "AdaGrad, Eq. (2): the step divides by the sum of squared gradients", "Eq. (2)",
        f"AdaGrad divides by sqrt(sum)+eps; as printed the step scales by {ada_ratio} under loss scale c "
        f"(corrected: {ada_fixed}), contradicting section 2.3", "corrected", "prelim-rules"))
    ratio = rmsprop_printed_step_ratio().subs({beta1: sp.Rational(9, 10), beta2: sp.Rational(999, 1000)})
    rows.append(Claim(
        "S2-eq3", "2.1", "RMSProp, Eq. (3): the second moment is averaged with weights beta_2 and (1 - beta_1)",
        "Eq. (3)", f"the weight is (1 - beta_2); with (1 - beta_1) the long-run step shrinks by "
        f"sqrt((1-beta_2)/(1-beta_1)) = {_fmt(float(ratio))} at the defaults", "corrected", "prelim-rules"))
    zero = eq4_minus_algorithm1()
    chk = eq4_check()  # the chapter's call, with its defaults
    rows.append(Claim(
        "S2-eq4", "2.2", "Eq. (4) with eps-hat = eps sqrt(1 - beta_2^t) restates Algorithm 1", "Eq. (4)",
        f"sympy: Eq. (4) - Algorithm 1 = {zero}; at {chk['n_random']} random points the formulas agree to "
        f"{chk['rel_formula']:.1e}; iterated for {chk['steps']} steps on the smooth valley the paths differ by at "
        f"most {chk['abs_path']:.1e} (relative {chk['rel_path_early']:.1e} while coordinates exceed 1e-3): "
        "rounding (with w_t = theta_(t-1): Eq. (4) cannot start at t = 0, where the factor is 0/0)",
        "verified" if zero == 0 and chk["abs_path"] < 1e-12 else "not reproduced", "prelim-eq4"))
    f1, f2 = explicit_minus_recursive(6)
    rows.append(Claim(
        "S2-sums", "2.2", "Explicit sums for g_T and sigma_T^2 in terms of the gradient history", "",
        f"first sum verified (difference {f1}); the second is printed as sigma_t^2 and with a stray nabla: "
        f"sigma_T^2 = (1-beta_2) sum_t (grad f(w_t))^2 beta_2^(T-t) (difference {f2})",
        "corrected" if f1 == 0 and f2 == 0 else "not reproduced", "prelim-eq4"))
    t1, t01 = first_negligible_step(0.01), first_negligible_step(0.001)
    gain = max(1 / simulated_bias_factor(100))
    rows.append(Claim(
        "S2-eq5", "2.2", "For large t the bias correction is negligible, giving Eq. (5)", "Eq. (5)",
        f"factor within 1% of 1 from t = {t1}, within 0.1% from t = {t01} (defaults); before that Eq. (5)'s "
        f"steps are up to {gain:.2f}x Algorithm 1's", "verified", "prelim-bias"))
    rows.append(Claim(
        "S2-units", "2.3", "The step eta g/(sigma + eps) has no units", "",
        f"the ratio's change under loss scale c is {algorithm1_scale_ratio().subs(eps, 0)} at eps = 0 "
        "(bitwise for c = 2^k); eps carries the gradient's units, so the invariance breaks where c|g| ~ eps; "
        "eta carries the parameters' units", "verified", "prelim-units"))
    return rows
