"""Part III: Gould & Tanaka's stable region on a (beta1, beta2) grid of an MLP.

Decided in the networks_stable_region chapter; computed from :mod:`adamdyn.networks.beta_grid`
(the chapter's memoised runs, at its default parameters).
"""

from __future__ import annotations

from adamdyn.networks.beta_grid import (
    beta_grid_experiment,
    summary,
)

from .claim import Claim

__all__ = ["claims"]


def claims() -> list[Claim]:
    """Part III rows for Gould & Tanaka's stable region, at the chapter's defaults."""

    g = beta_grid_experiment()
    window = 10
    s = summary(g, window=window)
    keys = list(s)
    grows = [k for k in keys if s[k]["n_burst"] > 0]
    bounded = all(s[k]["in_over_bound"] <= 1.0 + 1e-4 for k in keys)
    cells = "; ".join(f"eps {e:g}, lr {lr:g}: inside max {s[(e, lr)]['in_max']:.2f} "
                      f"({s[(e, lr)]['in_over_bound']:.2f} of the bound), outside max {s[(e, lr)]['out_max']:.3g}, "
                      f"{s[(e, lr)]['frac_out_above']:.0%} of outside points above 10x every inside one"
                      for e, lr in keys)
    rates = "; ".join(f"eps {e:g}, lr {lr:g}: {s[(e, lr)]['n_burst']} bursts, rate / prediction: window at the peak "
                      f"{s[(e, lr)]['rate_ratio_median']:.2f} (10-90% {s[(e, lr)]['rate_ratio_lo']:.2f}-"
                      f"{s[(e, lr)]['rate_ratio_hi']:.2f}), steepest {window}-step window {s[(e, lr)]['fast_ratio_median']:.2f}, "
                      f"peak coordinate's gradient exactly 0 in "
                      f"{s[(e, lr)]['silent_frac']:.0%}" for e, lr in grows)
    ratio_ok = [k for k in grows if 0.5 <= s[k]["fast_ratio_median"] <= 1.5]
    quiet = [f"eps {e:g}, lr {lr:g}" for e, lr in keys if (e, lr) not in grows]
    loss = "; ".join(f"eps {e:g}, lr {lr:g}: median final loss inside {s[(e, lr)]['loss_in']:.3f}, outside "
                     f"{s[(e, lr)]['loss_out']:.3f}, bursting runs {s[(e, lr)]['loss_burst']:.3f}; accuracy "
                     f"{s[(e, lr)]['acc_in']:.1%} vs {s[(e, lr)]['acc_out']:.1%}" for e, lr in keys)
    hurts = [k for k in keys if s[k]["loss_out"] > 2 * s[k]["loss_in"]]
    st = g.setting
    where = f"{st['n_beta1']}x{st['n_beta2']} (beta1, beta2) grid, {st['model']}, {st['steps']} steps"
    return [
        Claim("GT-closed-bounded", "Gould & Tanaka, abstract", "Inside the stable region the updates stay bounded "
              "(closed-loop training of a network)", "", f"{where}: {cells}",
              "verified" if bounded else "not reproduced", "net-sr-bounded"),
        Claim("GT-closed-growth", "Gould & Tanaka, abstract", "Outside the region the parameter updates grow "
              "exponentially (at our open-loop rate 1/2 ln(beta1^2/beta2))", "",
              f"{where}: {rates if rates else 'no burst above 10x the inside maximum'}"
              + (f"; no burst at {', '.join(quiet)}" if quiet else "") + "; the growth stops where sqrt(v) reaches eps",
              ("verified" if len(ratio_ok) == len(keys) else "depends on an unstated setting") if grows
              else "not reproduced", "net-sr-growth"),
        Claim("GT-closed-loss", "Gould & Tanaka, abstract", "Leaving the stable region harms training (their "
              "motivation for the region as a hyperparameter guide)", "", loss,
              "verified" if len(hurts) == len(keys) else ("depends on an unstated setting" if hurts
                                                           else "not reproduced"), "net-sr-loss"),
    ]
