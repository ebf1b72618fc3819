"""Kaiser, section 5 (saddles): Figure 2a, escape times, Proposition 3, the momentum ablation.

Decided in the saddle chapter; computed from :mod:`adamdyn.saddle`.
"""

from __future__ import annotations

import numpy as np

from functools import lru_cache

from adamdyn.gradient_memory import reversal_gaps, reversal_violation_map, single_impulse_ratio
from adamdyn.saddle import (
    NAMES,
    RADIUS,
    START,
    ablation,
    diagonal_defect,
    escape_runs,
    escape_table,
    four_optimizers,
    lr_scan,
    ranking,
)

from .claim import Claim

__all__ = ["claims"]


@lru_cache(maxsize=1)
def _measured():
    """The saddle chapter's escape runs, ablation and Proposition 3 checks the rows report (computed once)."""
    opt = four_optimizers()
    tr = escape_runs(opt, START, 10**6, RADIUS, record_every=1000)
    esc = dict(zip(NAMES, tr.exit_step.tolist()))
    abl = ablation()
    gaps = reversal_gaps()
    diag = diagonal_defect(opt)
    b1 = np.linspace(0.0, 0.99, 12)
    b2 = np.linspace(0.05, 0.999, 12)
    viol = reversal_violation_map(b1, b2, 100, 30)
    B1, B2 = np.meshgrid(b1, b2)
    between = float(viol[(B1 > B2) & (B1 < np.sqrt(B2))].mean())
    table = escape_table(horizon=10**6)
    lscan = lr_scan(np.geomspace(1e-4, 1e-1, 13))
    return esc, abl, gaps, diag, between, table, lscan


def claims() -> list[Claim]:
    """The section-5 rows of the ledger, computed from :mod:`adamdyn.saddle`."""
    esc, abl, gaps, diag, between, table, lscan = _measured()
    fastest_by = {k: ranking({n: e for n, (e, _) in row.items()})[0] for k, row in table.items()}
    adam_rows = [k for k, f in fastest_by.items() if f == "Adam"]
    top = {k: int(v[-1]) for k, v in lscan.items()}
    near_sgd = table[("shared", 0.99)]["SGD"][1]
    near_adaptive = max(row[n][1] for row in table.values() for n in NAMES[1:])
    rms999 = abl[(False, 0.0, 0.999)]
    mom_gain = abl[(True, 0.0, 0.999)] - abl[(True, 0.9, 0.999)]
    k = np.arange(0, 50)
    decreasing = bool(np.all(np.diff(single_impulse_ratio(0.9, 0.999, k)) < 0))
    n_bad = int(np.sum(gaps < 0))
    rows = [
        Claim("S5-fig2a", "5", "Figure 2a: Adam is the most favourable optimizer on the saddle",
              "(figure)", f"escape steps from {START}, radius {RADIUS:g}, shared lr 1e-3, RMSProp decay 0.99: "
              + ", ".join(f"{n} {esc[n]}" for n in NAMES)
              + f"; Adam fastest in {len(adam_rows)} of {len(fastest_by)} (lr reading, RMSProp decay) settings: "
              + ", ".join(f"{rd} {d:g}" for rd, d in adam_rows)
              + f"; RMSProp with decay 0.999 escapes in {rms999}",
              "depends on an unstated setting" if 0 < len(adam_rows) < len(fastest_by)
              else ("verified" if adam_rows else "not reproduced"), "saddle-escape"),
        Claim("S5-lr", "5", "Adam escapes the saddle fastest whatever the learning rates", "",
              f"torch defaults (RMSProp lr 1e-2, decay 0.99): RMSProp {table[('torch', 0.99)]['RMSProp'][0]}, "
              f"Adam {table[('torch', 0.99)]['Adam'][0]}; tuned per method on 1e-4..1e-1 (escape falls monotonically "
              f"with lr, so tuning picks 1e-1): " + ", ".join(f"{k} {v}" for k, v in sorted(top.items(), key=lambda kv: kv[1]))
              + f"; steps within 0.3 of the saddle: SGD {near_sgd}, adaptive methods at most {near_adaptive}",
              "depends on an unstated setting" if 0 < len(adam_rows) < len(fastest_by) else "not reproduced",
              "saddle-escape"),
        Claim("S5-diagonal", "5", "AdaGrad, RMSProp and Adam move along a diagonal (closer to it than to an axis), unlike SGD", "",
              "largest angle to the diagonal over the first 10 steps (degrees): "
              + ", ".join(f"{n} {d:.2g}" for n, d in zip(NAMES, diag)),
              "verified" if np.all(diag[1:] < 22.5) and diag[0] > 22.5 else "not reproduced", "saddle-figure"),
        Claim("P3", "5", "Proposition 3: a single gradient impulse moves Adam most when it is recent",
              "(beta_1/sqrt(beta_2))^(t-i)",
              f"derived in sympy; decreasing in age for beta_1 < sqrt(beta_2): {decreasing}", "verified", "saddle-prop3"),
        Claim("P3-general", "5", "Adam's step is largest when the mass of the history is recent (general histories)", "",
              f"defaults: {n_bad} of {gaps.size} random histories give a larger step in decreasing order; "
              f"for beta_2 < beta_1 < sqrt(beta_2) early mass wins in {between:.0%} of histories",
              "corrected" if between > 0.05 else ("verified" if n_bad == 0 else "not reproduced"), "saddle-prop3"),
        Claim("S5-momentum", "5", "Momentum (Prop. 3) explains why Adam beats AdaGrad and RMSProp on the saddle", "",
              f"switching momentum on changes Adam's escape by {mom_gain:+d} steps; the second-moment decay and "
              f"bias correction decide the ranking", "not reproduced" if abs(mom_gain) < 0.1 * esc["Adam"] else "verified",
              "saddle-ablation"),
    ]
    return rows
