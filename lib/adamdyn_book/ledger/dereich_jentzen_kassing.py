"""Dereich, Jentzen & Kassing's abstract and the Adam symmetry theorem: the Adam vector field.

Decided in the vector-field chapter; computed from :mod:`adamdyn.vector_field` (our
reconstruction).  The runs are the chapter's own calls at its default parameters, so they are
read from the disk memo (:mod:`adamdyn.memo`) that the chapter filled.
"""

from __future__ import annotations

import numpy as np

from adamdyn.stochastic_adam import adam_least_squares, mean_confidence, window_distances
from adamdyn.vector_field import (
    field_series,
    field_zero,
    quadratic_gradient_values,
    residual_gradient_values,
    sign_field,
)
from adamdyn.field_flow import field_spline_1d
from adamdyn.field_symmetry import symmetry_gaps, symmetry_verdict

from .claim import Claim

__all__ = ["claims"]


def claims() -> list[Claim]:
    r"""Ledger rows for the abstract of Dereich, Jentzen & Kassing and the Adam symmetry theorem.

    Our side comes from :mod:`adamdyn.vector_field` and :mod:`adamdyn.stochastic_adam`, with the
    vector-field chapter's calls at its defaults (the runs are read from the memo it filled).
    """

    b1, b2 = 0.9, 0.99
    x, p = np.array([-1.0, 9.0]), np.array([0.9, 0.1])
    mean = float(p @ x)
    rows = []
    # claim 1: pseudo-trajectory, distance to the flow over a window at two constant steps
    # the chapter's pseudo-trajectory runs (its pt_gammas, seeds 10 + index, 32 runs): steps 0.1 and 0.01
    spline, _ = field_spline_1d(x, p, b1, b2, -0.6, 6.5)
    dist = []
    ones = np.ones((2, 1))
    for i, g in ((0, 0.1), (2, 0.01)):
        n = int(np.ceil(4.0 / g))
        r = adam_least_squares(ones, x, [6.0], n, gamma=g, probs=p, beta1=b1, beta2=b2, eps=1e-8, runs=32,
                               seed=10 + i, record_every=max(1, n // 400))
        dist.append(float(np.median(window_distances(r.ode_time, r.path, spline, [0.0], 4.0 * 0.999)[0])))
    slope = float(np.log(dist[0] / dist[1]) / np.log(10.0))
    rows.append(Claim("DJK-pseudo-trajectory", "DJK abstract", "For fixed momentum parameters and vanishing step sizes, Adam "
                      "is an asymptotic pseudo-trajectory of the flow of the Adam vector field", "",
                      f"our field (reconstruction), skewed 1-D noise: the distance to the flow over a window falls from "
                      f"{dist[0]:.3f} to {dist[1]:.4f} as the step goes from 0.1 to 0.01 (slope {slope:.2f})",
                      "verified" if dist[1] < dist[0] else "not reproduced", "vf-pseudo-trajectory"))
    # claim 2: the limit is a zero of the field, not the minimizer
    field = lambda t: float(field_series(quadratic_gradient_values(t, x), p, b1, b2, error=False).value)
    zero = field_zero(field, -0.45, 0.45)
    # the chapter's vanishing-step run (2 * 10^6 steps, 32 runs)
    run = adam_least_squares(ones, x, [3.0], 2000000, gamma0=0.02, power=1.0, n0=10000, probs=p, beta1=b1, beta2=b2,
                             eps=1e-8, runs=32, seed=0, record_every=1000)
    # each run's average over its second half (Polyak averaging), then a confidence interval over runs
    mid, half = mean_confidence(run.path[run.path.shape[0] // 2:, :, 0].mean(axis=0))
    rows.append(Claim("DJK-limit-zero", "DJK abstract", "If Adam converges, the limit is a zero of the Adam vector field "
                      "rather than a local minimizer or critical point", "",
                      f"skewed noise: field zero {zero:.4f}, minimizer {mean:.3f}; Adam's averaged late iterates "
                      f"{mid:.4f} +- {half:.4f} (95%, {run.final.shape[0]} runs)",
                      "verified" if abs(mid - zero) < half + 1e-3 < abs(mid - mean) else "not reproduced", "vf-adam-converges"))
    # claim 3: overparametrised, locally finds the set of minima: f decreases along the field near it, eps > 0
    A5 = np.random.default_rng(4).standard_normal((3, 5))
    d = np.random.default_rng(5).standard_normal((2000, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    g5 = residual_gradient_values(d, A5)
    grad5 = g5.mean(axis=-1)
    p3 = np.full(3, 1 / 3)
    frac = lambda rho, eps: float((np.sum(grad5 * sign_field(rho * g5, p3, eps, "inside"), -1) > 0).mean())
    f0, f8 = frac(1e-6, 0.0), frac(1e-6, 1e-8)
    rows.append(Claim("DJK-overparametrised", "DJK abstract", "In the overparametrized ERM setting, Adam is able to locally "
                      "find the set of minima", "",
                      f"n = 3, d = 5, sign descent at radius 1e-6: f increases along the field in {f0:.4f} of the directions "
                      f"with eps = 0, in {f8:.4f} with eps = 1e-8; with eps > 0, f is a local Lyapunov function within "
                      "~sqrt(eps) (inside) or ~eps (outside) of the set, for every (beta1, beta2) tried",
                      "verified" if f8 == 0.0 else "not reproduced", "vf-eps-positive"))
    laws = {"symmetric four-point": ([-2.0, -0.5, 0.5, 2.0], [0.2, 0.3, 0.3, 0.2]),
            "asymmetric, zero skewness": ([-3.0, -1.0, 2.0], [0.1, 0.5, 0.4])}
    sym = symmetry_gaps(laws, [(b1, b2)])
    zs = sym["asymmetric, zero skewness"][0]
    rows.append(Claim("DDJW-symmetry", "Dereich et al. 2025", "Adam symmetry theorem: on simple quadratic problems Adam "
                      "converges to the minimiser iff the data are symmetrically distributed", "",
                      f"exact field zeros for (theta - X)^2/2: gap {sym['symmetric four-point'][0]['gap']:.0e} for a symmetric "
                      f"law (five laws in the chapter); for the asymmetric "
                      f"law with zero skewness {zs['gap']:.1e}, {zs['z']:.0f} error bounds from 0 (the delta method predicts 0)",
                      symmetry_verdict(sym), "vf-symmetry"))
    return rows
