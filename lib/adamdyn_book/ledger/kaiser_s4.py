"""Kaiser, section 4 (flats): the bias-correction lemma, Propositions 1 and 2, near-flat plateaus.

Decided in the flat chapter; computed from :mod:`adamdyn.bounds` and :mod:`adamdyn.near_flat`.
"""

from __future__ import annotations

import numpy as np

from adamdyn.bounds import (
    DEFAULTS,
    bias_factor,
    bias_lemma_first_failure,
    bias_lemma_holds,
    finite_step_sup,
    step_bound,
)
from adamdyn.flat_distance import flat_distance_bound, plateau_arrival

from .claim import Claim

__all__ = ["claims"]


def claims() -> list[Claim]:
    """The section-4 rows of the ledger, computed from :mod:`adamdyn.bounds`."""
    b1, b2 = DEFAULTS
    P1 = float(step_bound(b1, b2))
    P2 = float(flat_distance_bound(b1, b2))
    from_flat = P2 * b1 / np.sqrt(b2)
    ok_def = bool(bias_lemma_holds(b1, b2))
    counter = bool(bias_lemma_holds(0.9, 0.9))
    first = int(bias_lemma_first_failure(0.9, 0.9, 10))
    # Proposition 1 with bias correction where the lemma fails, on a grid (worst ratio to the bound)
    g1, g2 = np.meshgrid(np.linspace(0.05, 0.99, 40), np.linspace(0.05, 0.999, 40))
    ok = (g1**2 < g2) & ~bias_lemma_holds(g1, g2)
    n = np.arange(1, 3001).reshape(-1, 1)
    worst = float(np.nanmax(finite_step_sup(g1[ok], g2[ok], n, bias_correction=True) / step_bound(g1[ok], g2[ok])))
    (d_slope, _, _), _ = plateau_arrival(b1, b2, 1.0)   # the chapter's run, with its defaults
    from adamdyn.near_flat import near_flat_check

    nf = near_flat_check()
    i6 = int(np.argmin(np.abs(np.log(nf["slopes"] / 1e-6))))
    return [
        Claim("S4-lemma-base", "4", "Base case: sqrt(1-beta_2)/(1-beta_1) = 10^(-1/2) < 1 at the defaults",
              "10^(-1/2)", f"{float(bias_factor(b1, b2, 1)):.4f}", "verified", "flat-lemma"),
        Claim("S4-lemma", "4", "sqrt(1-beta_2^t)/(1-beta_1^t) <= 1 for all t >= 1, by induction from beta_2 > beta_1^2",
              "<= 1", f"true at the defaults ({ok_def}); the rearrangement has a sign slip and the induction "
              f"step reverses an inequality; beta_2 > beta_1^2 is not enough: at (0.9, 0.9) it fails at t = {first} "
              f"(holds: {counter}). Exact condition: 1 - beta_2 <= (1 - beta_1)^2", "corrected", "flat-lemma"),
        Claim("P1", "4", "Proposition 1: |w_{t+1} - w_t| <= eta sqrt(beta_2)(1-beta_1)/sqrt((1-beta_2)(beta_2-beta_1^2))",
              "7.3 eta", f"{P1:.4f} eta; attained in the limit by the extremal history; holds for every "
              f"beta_1^2 < beta_2 with bias correction even where the lemma fails (worst ratio {worst:.12f})",
              "verified", "flat-prop1"),
        Claim("P2", "4", "Proposition 2: the distance crossed on a flat is at most "
              "eta beta_2(1-beta_1)/((sqrt(beta_2)-beta_1) sqrt((1-beta_2)(beta_2-beta_1^2)))", "73 eta",
              f"{P2:.3f} eta from the last point on the slope (tight); {from_flat:.3f} eta from the first point "
              "on the flat; the Lipschitz hypothesis is not used", "verified", "flat-prop2"),
        Claim("S4-10-steps", "4", "Adam can cross a distance of about 10 steps once it reaches a flat", "10 steps",
              f"{P2 / P1:.3f} maximal steps (= 1/(1 - beta_1/sqrt(beta_2))); arriving from a constant slope "
              f"it crosses {d_slope[0] / 1e-3:.2f} eta", "verified", "flat-ten-steps"),
        Claim("S4-insignificant", "4", "Compared with thousands of training steps, 10 steps seem insignificant", "",
              f"true on an exactly flat region only: past an edge onto a slope of 1e-6 Adam's step recovers to "
              f"{nf['final'][i6]:.3f} eta (half of it after {int(nf['half'][i6])} steps; log(s^2)/log(beta_2) = "
              f"{np.log(1e-12) / np.log(b2):.0f}) while SGD moves 1e-6 eta per step; eps caps the step at "
              "eta s/(s + eps) below s ~ eps; RMSProp does the same (it is the normalisation, not the momentum)",
              "corrected", "flat-near"),
    ]
