"""Part III: Kaiser's section 6 and Cohen et al.: Adam at the edge of stability.

Decided in the networks_eos chapter; computed from :mod:`adamdyn.networks.eos` (the
chapter's memoised runs, at its default parameters).
"""

from __future__ import annotations

from adamdyn.networks.eos import (
    alternation,
    eos_runs,
    hover_stats,
    top_flips,
)

from .claim import Claim

__all__ = ["claims"]


def claims() -> list[Claim]:
    """Part III rows for Kaiser's section 6 / Proposition 4 at the edge of stability, at the chapter's defaults."""

    runs = eos_runs()
    rows = []
    stats = {i: hover_stats(runs, i) for i in range(len(runs.names))}
    alt = {i: alternation(runs.loss[i]) for i in range(len(runs.names))}

    def hovering(i):
        mx, med, _ = stats[i]
        return 0.8 <= med <= 1.25

    def cells(kind):
        return "; ".join(f"{runs.names[i]} lr {runs.lr[i]:g}: median {stats[i][1]:.2f}, max {stats[i][0]:.2f}"
                         for i in range(len(runs.names)) if runs.names[i].startswith(kind))

    for kind, thr, cid in (("Adam", "38/eta", "E6-adam"), ("RMSProp", "2/eta", "E6-rmsprop")):
        idx = [i for i in range(len(runs.names)) if runs.names[i].startswith(kind)]
        n_hover = sum(hovering(i) for i in idx)
        status = ("verified" if n_hover == len(idx) else "not reproduced" if n_hover == 0
                  else "depends on an unstated setting")
        rows.append(Claim(cid, "6 (network), Cohen et al. 2022", f"{kind}'s preconditioned sharpness "
                          f"lambda_max(P^-1 H) rises to {thr} and hovers there (full-batch MLP on digits)", thr,
                          f"lambda/threshold over the last half: {cells(kind)}; hovering (median in [0.8, 1.25]) in "
                          f"{n_hover} of {len(idx)} runs", status, "net-eos-sharpness"))
    idx = [i for i in range(len(runs.names)) if runs.names[i].startswith("Adam")]
    at_edge = [i for i in idx if hovering(i)]
    per2 = [i for i in at_edge if alt[i][0] > 0.8]
    top = {i: top_flips(runs, i) for i in idx}
    per2_top = [i for i in at_edge if top[i][0] > 0.8]
    cells2 = "; ".join(f"lr {runs.lr[i]:g} ({runs.names[i][5:]}): loss flips {alt[i][0]:.0%}, top-eigenvector "
                       f"update flips {top[i][0]:.0%}" for i in idx)
    status = ("untestable" if not at_edge else "verified" if len(per2) == len(at_edge)
              else "not reproduced" if not per2 else "depends on an unstated setting")
    rows.append(Claim("E6-period2", "6, Prop. 4 (network)", "At the edge Adam oscillates with period 2 "
                      "(Proposition 4's orbit): the loss change flips sign every step", "",
                      f"fraction of sign flips over the last half, Adam: {cells2}; the loss is 2-periodic (flips "
                      f"> 80%) in {len(per2)} of the {len(at_edge)} runs at the edge, the update along the top "
                      f"eigenvector of P^-1 H in {len(per2_top)} of {len(at_edge)}", status, "net-eos-period2"))
    return rows
