"""Part III: Kaiser's section 5 on a deep linear network (plateau lengths).

Decided in the networks_saddles chapter; computed from :mod:`adamdyn.networks.saddles` (the
chapter's memoised runs, at its default parameters).
"""

from __future__ import annotations

import numpy as np

from adamdyn.networks.saddles import (
    CENTRES,
    SHARED_RATE,
    at_rate,
    order_stats,
    plateau_experiment,
    tune,
)

from .claim import Claim

__all__ = ["claims"]


def claims() -> list[Claim]:
    """Part III rows for Kaiser's section 5 on a deep linear network, at the chapter's defaults."""

    exp = plateau_experiment()
    scales = exp.setting["scales"]
    tuned = {sc: tune(exp, sc) for sc in scales}
    # does Adam escape faster? reading 1: tuned per optimizer, at every init scale
    others = [k for k in CENTRES if k not in ("Adam", "Adam, beta1 = 0")]
    wins_tuned = [sc for sc in scales if tuned[sc]["Adam"][1] < min(tuned[sc][k][1] for k in others)]
    shared = {sc: {k: float(np.mean(np.where(exp.diverged, np.inf, exp.escape.max(axis=1))[at_rate(exp, k, SHARED_RATE, sc)]))
                   for k in CENTRES} for sc in scales}
    wins_shared = [sc for sc in scales if shared[sc]["Adam"] < min(shared[sc][k] for k in others)]
    cells = "; ".join(f"scale {sc:g}: " + ", ".join(f"{k} {tuned[sc][k][1]:.0f}" for k in CENTRES) for sc in scales)
    fast = len(wins_tuned) == len(scales) and len(wins_shared) == len(scales)
    slow = not wins_tuned and not wins_shared
    # is momentum the reason? Adam against Adam with beta1 = 0 (the same bias correction and beta2)
    mom = {sc: (tuned[sc]["Adam"][1], tuned[sc]["Adam, beta1 = 0"][1]) for sc in scales}
    mom_sh = {sc: (shared[sc]["Adam"], shared[sc]["Adam, beta1 = 0"]) for sc in scales}
    helps = [sc for sc in scales if mom[sc][0] < 0.8 * mom[sc][1]]
    helps_sh = [sc for sc in scales if mom_sh[sc][0] < 0.8 * mom_sh[sc][1]]
    mom_cells = "; ".join(f"scale {sc:g}: tuned {mom[sc][0]:.0f} vs {mom[sc][1]:.0f}, shared {mom_sh[sc][0]:.0f} vs "
                          f"{mom_sh[sc][1]:.0f}" for sc in scales)
    # Proposition 3: the mode whose gradient grows fastest (largest s) moves first; momentum sharpens it
    order, order_sh = {}, {}
    for k in ("GD", "Adam", "Adam, beta1 = 0", "RMSProp 0.999"):
        idx = np.concatenate([at_rate(exp, k, tuned[sc][k][0], sc) for sc in scales])
        order[k] = order_stats(exp, idx)
        order_sh[k] = order_stats(exp, np.concatenate([at_rate(exp, k, SHARED_RATE, sc) for sc in scales]))
    ord_cells = "; ".join(f"{k} {order[k][0]:.0%} tuned, {order_sh[k][0]:.0%} shared (t2/t1 {order[k][1]:.2f}, "
                          f"{order_sh[k][1]:.2f})" for k in order)
    prop3 = all(o["Adam"][0] == 1.0 and o["Adam"][1] > o["Adam, beta1 = 0"][1] for o in (order, order_sh))
    fast_status = "verified" if fast else "not reproduced" if slow else "depends on an unstated setting"
    mom_status = ("verified" if len(helps) == len(scales) and len(helps_sh) == len(scales)
                  else "not reproduced" if not helps and not helps_sh else "depends on an unstated setting")
    return [
        Claim("S5-net-escape", "5 (network)", "Adam escapes saddles faster than SGD, AdaGrad and RMSProp "
              "(deep linear network from a small initialisation)", "",
              f"steps to learn all {len(exp.s)} modes, tuned rates (mean of {len(exp.setting['seeds'])} seeds): "
              f"{cells}; Adam fastest at {len(wins_tuned)} of {len(scales)} scales tuned, "
              f"{len(wins_shared)} of {len(scales)} at the shared rate {SHARED_RATE:g}", fast_status,
              "net-saddle-escape"),
        Claim("S5-net-momentum", "5 (network)", "Adam's momentum (its drift across flats) is why it escapes faster",
              "", f"steps to learn all modes, Adam vs Adam with beta1 = 0: {mom_cells} (momentum counts as the "
              "reason where it saves more than 20%)", mom_status, "net-saddle-momentum"),
        Claim("S5-net-prop3", "5, Prop. 3 (network)", "Proposition 3's recency argument: coordinates whose gradients "
              "grow (recent mass) get the larger steps, so they move first", "",
              f"modes escape in decreasing singular value in: {ord_cells} (tuned rates, all scales and seeds); "
              "the order is that of gradient descent, and momentum "
              + ("separates the modes more" if prop3 else "does not separate the modes more"),
              "verified" if prop3 else "not reproduced", "net-saddle-prop3"),
    ]
