"""Part III: Dereich, Jentzen & Kassing's limits on an overparametrised network and on least squares.

Decided in the networks_limits chapter; computed from :mod:`adamdyn.networks.adam_limits` (the
chapter's memoised runs, at its default parameters).
"""

from __future__ import annotations

import numpy as np

from adamdyn.networks.adam_limits import (
    distances,
    over_verdict,
    overparametrised_runs,
    overparametrised_summary,
    reaches_minima,
    regression_experiment,
    symmetry_verdict,
    which_limit,
)

from .claim import Claim

__all__ = ["claims"]


def claims() -> list[Claim]:
    """Part III rows for the overparametrised and the skewed-noise claims, at the chapter's defaults."""

    runs = overparametrised_runs()
    summ = overparametrised_summary(runs)
    st = runs.setting
    dec = {k: s for k, s in summ.items() if s["power"] > 0}
    const = [s for s in summ.values() if s["power"] == 0]
    per = "; ".join(f"{k}: {s['final_max']:.1e}, q = {s['q']:.1f}{'' if reaches_minima(s) else ' (not reached)'}"
                    for k, s in dec.items())
    rows = [Claim(
        "DJK-net-overparametrised", "DJK abstract (network)",
        "In the overparametrized ERM setting Adam (fixed momentum parameters, vanishing steps) is able to find the "
        "set of minima", "",
        f"{st['model']} ({st['n_params']} weights) on {st['n_train']} digits, squared loss (minimum 0), minibatches of "
        f"{st['batch_size']}, {st['steps']} steps, gamma_n = {st['gamma0']:g}(1+n/{st['n0']:g})^-p; largest final "
        f"training loss over seeds (start {next(iter(dec.values()))['initial']:.2f}) and slope q of log loss against "
        f"log gamma_n: {per}; constant steps stall at {min(s['final'] for s in const):.1e} to "
        f"{max(s['final'] for s in const):.1e}",
        over_verdict(summ), "net-limits-over")]
    exp = regression_experiment()
    main = [r for r in exp.rows if r["power"] == 1.0 and r["bias_correction"]]
    cells = []
    for r in main:
        to_zero, to_min = distances(r)
        cells.append(f"{r['noise']} ({r['beta1']:g}, {r['beta2']:g}): |zero - min| = "
                     f"{np.abs(r['zero'] - r['minimiser']).max():.1e}, Adam {to_zero:.1f} from the zero and "
                     f"{to_min:.1f} from the minimiser -> {which_limit(r)}")
    rows.append(Claim(
        "DJK-net-limit-zero", "DJK abstract; Dereich et al. 2025 (network data)",
        "Not interpolating: Adam's limit is a zero of the Adam vector field; by the Adam symmetry theorem it is the "
        "minimiser for symmetric noise and not for skewed noise", "",
        f"linear regression on two digits features, {exp.setting['n_samples']} samples, {exp.setting['runs']} runs "
        f"of {exp.setting['steps']} steps, Polyak averages, distances in 95% half-widths: " + "; ".join(cells),
        symmetry_verdict(exp.rows), "net-limits-under"))
    return rows
