"""Part III: Kaiser's section 3 on a real network (minibatch noise, the signal-to-noise law).

Decided in the networks_noise chapter; computed from :mod:`adamdyn.networks.section3` (the
chapter's memoised runs, at its default parameters).
"""

from __future__ import annotations

import numpy as np

from adamdyn.networks.section3 import (
    checkpoint_noise,
    moment_variance,
    proposition1,
    run_kwargs,
    snr_errors,
    traced_run,
    window_ratios,
)

from .claim import Claim

__all__ = ["claims"]


def claims() -> list[Claim]:
    """Part III rows for Kaiser's section 3, computed on the chapter's default run."""

    run = traced_run()
    ep, rep = moment_variance(run, 0), moment_variance(run, 1)
    late = window_ratios(run, 1)
    p1 = proposition1(run)
    cks = [checkpoint_noise(checkpoint=k, run=run_kwargs()) for k in (1, len(run.checkpoint_steps) - 1)]
    errs = [snr_errors(c) for c in cks]
    live = [c.sigma > 0 for c in cks]
    skew = [float(np.median(np.abs(c.example_skew[l]))) for c, l in zip(cks, live)]
    bskew = [float(np.median(np.abs(c.batch_skew[l]))) for c, l in zip(cks, live)]
    kurt = [float(np.median(c.example_kurt[l])) for c, l in zip(cks, live)]
    B = run.setting["batch_size"]
    tol = 0.15
    var_ok = abs(rep["ratio_median"] / rep["independent"] - 1) < tol
    decays = late[-1] < 0.5 * late[0]
    dep_lower = ep["ratio_median"] < 0.8 * ep["independent"] and ep["rho"][1] < 0
    snr_ok = all(e["snr"] < 0.1 and e["hypercube"] > 3 * e["snr"] for e in errs)
    return [
        Claim("N3-var", "3 (network)", "Var[m_T] under unbiased independent noise: sigma^2 (1-beta_1)/(1+beta_1) "
              "(the noise chapter's limit), on a real run", f"{rep['independent']:.4f}",
              f"independent batches: median Var[xi]/Var[N] = {rep['ratio_median']:.4f} "
              f"({rep['ratio_median'] / rep['independent']:.2f} x the prediction; tolerance {tol:.0%})",
              "verified" if var_ok else "not reproduced", "net-noise-variance"),
        Claim("N3-var-limit", "3 (network)", "The variance of g_T tends to zero (as 1/sqrt(T))", "1/sqrt(T)",
              f"Var[xi]/Var[N] in the two halves of the run after burn-in: {late[0]:.4f}, {late[-1]:.4f} "
              "(no decay)" if not decays else f"decays: {late[0]:.4f} -> {late[-1]:.4f}",
              "verified" if decays else "not reproduced", "net-noise-variance"),
        Claim("N3-dependence", "3 (network)", "Minibatches are not independent of past samples, which adds to the "
              "time to reach zero variance", "",
              f"epoch shuffling correlates successive noises (lag 1: {ep['rho'][1]:.3f}, closed form "
              f"{ep['epoch_rho'][1]:.3f}); this lowers Var[xi]/Var[N] to {ep['ratio_median']:.4f} "
              f"(predicted from the correlations {ep['from_rho']:.4f}), {ep['ratio_median'] / ep['independent']:.2f} x "
              "the independent value: dependence reduces the variance",
              "corrected" if dep_lower else "verified", "net-noise-dependence"),
        Claim("N3-hypercube", "3 (network)", "Steps lie on the corners of a hypercube: each coordinate moves about "
              "eta sgn(grad)", "+-eta",
              f"on real gradients the mean step follows mu/sqrt(mu^2+sigma^2): RMS error "
              f"{errs[0]['snr']:.3f} and {errs[1]['snr']:.3f} at steps {cks[0].step} and {cks[1].step}, against "
              f"{errs[0]['hypercube']:.2f} and {errs[1]['hypercube']:.2f} for sgn(mu)",
              "corrected" if snr_ok else "not reproduced", "net-noise-snr"),
        Claim("N3-prop1", "4 (network)", "Proposition 1: every per-coordinate step is at most "
              "eta sqrt(beta_2)(1-beta_1)/sqrt((1-beta_2)(beta_2-beta_1^2))", f"{p1['bound']:.2f} eta",
              f"largest |update|/eta over all {run.setting['n_params']} weights and {run.setting['steps']} steps "
              f"of both runs: {p1['worst']:.2f} ({p1['fraction_of_bound']:.0%} of the bound)",
              "verified" if p1["worst"] <= p1["bound"] else "not reproduced", "net-noise-prop1"),
        Claim("N3-noise-shape", "3 (network)", "Eq. (6): the minibatch gradient is the full gradient plus unbiased "
              "noise (no distribution assumed)", "",
              f"unbiased by construction; per-example gradients are skewed and heavy-tailed (median |skew| "
              f"{skew[0]:.1f}-{skew[1]:.1f}, excess kurtosis {kurt[0]:.0f}-{kurt[1]:.0f}), batches of {B} much less "
              f"(median |skew| {bskew[0]:.2f}-{bskew[1]:.2f}, as |skew|/sqrt(B) predicts)",
              "verified", "net-noise-shape"),
    ]
