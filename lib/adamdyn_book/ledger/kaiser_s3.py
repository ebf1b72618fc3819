"""Kaiser, section 3 (noise): the moving averages' moments, the noisy step, Kingma and Ba's proof.

Decided in the noise chapter; computed from :mod:`adamdyn.noise`, :mod:`adamdyn.noisy_step`
and :mod:`adamdyn.convergence`, with the chapter's defaults.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from adamdyn.symbols import beta1
from adamdyn.noise import (
    _slope,
    early_training_check,
    first_moment_variance,
    first_moment_variance_limit,
    monte_carlo_moments,
    ramp_lag_limit_expr,
)
from adamdyn.correlated_noise import ar1_check
from adamdyn.constant_gradient import corner_check

from .claim import Claim

__all__ = ["claims"]


def claims() -> list[Claim]:
    """The section-3 rows of the ledger, from the same calls (and defaults) as the noise chapter."""
    from adamdyn import convergence, noisy_step

    b1, b2 = 0.9, 0.999
    lim = float(first_moment_variance_limit(b1))
    # the chapter's call (its T_values), so that the run is read from the memo; T = 1000 is the last
    mc = monte_carlo_moments(b1, b2, T_values=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000), n_paths=20_000,
                             sigma=1.0, mean=0.5, seed=0)
    z = float(abs(mc["m_var"][-1] - first_moment_variance(b1, 1000)) / mc["m_var_se"][-1])
    peak = np.max((1 - b1 ** np.arange(1, 61)) / np.sqrt(1 - b2 ** np.arange(1, 61)))
    lag = float(ramp_lag_limit_expr().subs({beta1: sp.Rational(9, 10), _slope: 1}))
    corner = corner_check()
    early = early_training_check()
    ar1 = ar1_check()
    snr = noisy_step.snr_check()
    reddi_x, reddi_regret = convergence.reddi_counterexample(C=3.0, steps=6000)
    flat = convergence.curvature_check()
    r_hi = max(ar1)
    return [
        Claim("S3-mean", "3", "E[g_T] = (1-beta_1) sum_t grad L(w_t) beta_1^(T-t) under unbiased noise", "",
              "derived in sympy; Monte Carlo agrees", "verified", "noise-moments"),
        Claim("S3-var", "3", "Var[g_T] = (1-beta_1)^2 E[(sum_t N_t beta_1^(T-t))^2]", "",
              f"= sigma^2 (1-beta_1)(1-beta_1^(2T))/(1+beta_1) for independent noise; Monte Carlo at T=1000 "
              f"within {z:.1f} standard errors", "verified", "noise-moments"),
        Claim("S3-var-limit", "3", "The variance of g_T tends to zero as 1/sqrt(T)", "1/sqrt(T)",
              f"a mathematical error: it tends to sigma^2 (1-beta_1)/(1+beta_1) = {lim:.4f} sigma^2 (exponentially "
              "fast), not to 0; 1/T (std 1/sqrt(T)) is the plain average's rate", "corrected", "noise-variance"),
        Claim("S3-early", "3", "Hence noise reduction is not terribly important early in training", "",
              f"on the noisy quadratic the mean noisy run stays within 5% of the noiseless one for {early['steps']} "
              f"steps, while |grad f|/sigma > {early['snr']:.2f}; the reason is the signal-to-noise law, not a slow "
              "variance decay", "corrected", "noise-early"),
        Claim("S3-correlated", "3", "Correlated mini-batches add to the time the variance takes to reach zero", "",
              f"AR(1) noise: the variance floor rises by (1+rho beta_1)/(1-rho beta_1) = "
              f"{ar1[r_hi]['limit'] / ar1[0.0]['limit']:.1f} at rho = {r_hi:g}; within 1% of it after "
              f"{ar1[0.0]['steps']} (rho = 0) to {ar1[r_hi]['steps']} steps; there is no decay to zero to delay",
              "corrected", "noise-correlated"),
        Claim("S3-KB", "3", "Kingma and Ba's bias correction assumes a gradient mean constant in time", "",
              f"verified: with a ramp of slope b the corrected m_hat lags by -b beta_1/(1-beta_1) = {lag:.0f} b",
              "verified", "noise-bias"),
        Claim("S3-proof", "3", "This almost contradicts Kingma and Ba's convergence proof for convex losses", "",
              f"the proof is flawed (Reddi et al. 2018): on their convex problem (C = 3) Adam ends at x = "
              f"{reddi_x[-1]:.3f} with average regret {reddi_regret:.3f}, optimum -1; but the flaw is not the "
              "constant-gradient argument: steps of size alpha/sqrt(t) still converge", "corrected", "noise-proof"),
        Claim("S3-corners", "3", "With a constant gradient the step is about -sgn(grad) eta (1-beta_1^t)/sqrt(1-beta_2^t): "
              "steps lie on the corners of a hypercube", "",
              f"the formula is the step without bias correction (peaks at {peak:.2f} eta); with bias correction "
              f"every coordinate moves {corner['min']:.6f}..{corner['max']:.6f} eta for |g| from 1e-4 to 1e4 "
              "(300 steps, no noise)", "verified", "noise-corners"),
        Claim("S3-corners-noise", "3", "The same under the noise model of Eq. (6)", "",
              f"not corners: mean step eta mu/sqrt(mu^2+sigma^2) (Balles & Hennig 2018; Monte Carlo within "
              f"{snr['max_z']:.2f} s.e. of the expansion), spread -> {snr['law_sd'][0]:.3f} eta at mu = 0, "
              "not vanishing", "corrected", "noise-snr"),
        Claim("S3-flat-enough", "3", "To converge, the optimum must be flat enough for the momentum to reach order eps",
              "", f"Adam stays at a minimum of curvature a iff a < 2(1+beta_1) eps/((1-beta_1) eta) = "
              f"{flat['a_star']:.1e}: runs settle up to {flat['largest_settled']:g} a*, keep leaving from "
              f"{flat['smallest_unsettled']:g} a* (noiseless)", "verified", "noise-flat-enough"),
    ]
