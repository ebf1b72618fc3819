"""Section 3 (noise profile): moments of Adam's averages, the variance limit, bias correction, corners.

Monte Carlo tolerances are in standard errors (estimated from the samples); 4.5 s.e. for a single
check and for the maximum over ~40 correlated checks (two-sided normal tail ~7e-6 each).
"""


import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import adamdyn as ad
from adamdyn import constant_gradient as CG
from adamdyn import correlated_noise as CN
from adamdyn import noise as N
from adamdyn_book.ledger import Claim
from adamdyn_book.ledger import kaiser_s3
from conftest import rerun_glue

b1, b2, T = N.beta1, N.beta2, N.T


def test_variance_formula_and_its_nonzero_limit():
    lim = N.first_moment_variance_limit_expr()
    assert sp.simplify(lim - N.sigma**2 * (1 - b1) / (1 + b1)) == 0
    assert lim.subs({b1: sp.Rational(9, 10), N.sigma: 1}) == sp.Rational(1, 19)
    var = N.first_moment_variance_expr()
    assert sp.limit(var.subs(b1, sp.Rational(9, 10)), T, sp.oo) == sp.Rational(1, 19) * N.sigma**2
    # the paper's claim (-> 0 like 1/sqrt(T)) is false: at T = 10^4 the variance is the limit, not ~1e-2
    assert abs(N.first_moment_variance(0.9, 10_000) - 1 / 19) < 1e-15
    # bias-corrected: sigma^2 at T = 1, same limit
    bc = N.bias_corrected_variance_expr()
    assert sp.simplify(bc.subs(T, 1) - N.sigma**2) == 0
    assert abs(N.first_moment_variance(0.9, 5000, bias_correction=True) - 1 / 19) < 1e-15


@settings(max_examples=50, deadline=None)
@given(st.floats(0.0, 0.999), st.integers(1, 300))
def test_variance_equals_sum_of_squared_impulse_weights(x1, n):
    # second method: the weight of gradient k in m_T is Adam's first moment after a unit impulse at k
    opt = ad.momentum(lr=1.0, beta=x1)
    G = np.eye(n)  # column k: an impulse at step k; updates of heavy-ball momentum = -m_t / (1 - beta1)
    w = -ad.updates_from_gradients(opt, G)[-1] * (1 - x1)
    assert abs(np.sum(w**2) - N.first_moment_variance(x1, n)) <= 1e-12 * max(1.0, np.sum(w**2))


def _ema_weights(beta, T):
    """The weights of the gradients in an EMA after T steps, by a plain loop (impulse responses)."""
    w = []
    for k in range(T):           # impulse at step k + 1
        m = 0.0
        for t in range(T):
            m = beta * m + (1 - beta) * (1.0 if t == k else 0.0)
        w.append(m)
    return np.array(w)


def test_monte_carlo_matches_independent_moments_within_error_bars():
    T_values = (1, 10, 100, 1000)
    mu, sd = 0.4, 1.3
    mc = N.monte_carlo_moments(0.9, 0.999, T_values, n_paths=8000, sigma=sd, mean=mu, seed=11)
    # expected values from the EMA weights (plain loops above) and the Gaussian moments of g and g^2:
    # E g = mu, Var g = sd^2, E g^2 = mu^2 + sd^2, Var g^2 = 4 mu^2 sd^2 + 2 sd^4
    w1 = {T: _ema_weights(0.9, T) for T in T_values[:3]}
    w2 = {T: _ema_weights(0.999, T) for T in T_values[:3]}
    for i, T in enumerate(T_values[:3]):
        exp = {"m_mean": mu * w1[T].sum(), "m_var": sd**2 * (w1[T] ** 2).sum(),
               "v_mean": (mu**2 + sd**2) * w2[T].sum(), "v_var": (4 * mu**2 * sd**2 + 2 * sd**4) * (w2[T] ** 2).sum()}
        for k, e in exp.items():
            assert abs(mc[k][i] - e) < 4.5 * mc[k + "_se"][i], (k, T)
    # at T = 1000 the m-variance is the sum of a geometric series by hand: sd^2 (1-b)/(1+b) (1 - b^2000)
    assert abs(mc["m_var"][3] - sd**2 * 0.1 / 1.9 * (1 - 0.9**2000)) < 4.5 * mc["m_var_se"][3]


def test_squared_gradient_moments():
    mean_sq, var_sq = N.squared_gradient_moments_expr()
    assert sp.simplify(mean_sq - (N.mu**2 + N.sigma**2)) == 0
    assert sp.simplify(var_sq - 2 * N.sigma**2 * (2 * N.mu**2 + N.sigma**2)) == 0


def test_ramp_lag_formula_and_monte_carlo():
    lim = N.ramp_lag_limit_expr().subs({b1: sp.Rational(9, 10)})
    assert sp.simplify(lim + 9 * N._slope) == 0
    lag = N.ramp_lag_expr()
    assert lag.subs({T: 1}) == 0 or sp.simplify(lag.subs({T: 1})) == 0   # one gradient: no lag
    t, mh, se, mu_t = N.ramp_monte_carlo(0.9, 40, a=1.0, b=0.05, sigma=1.0, n_paths=8000, seed=5)
    pred = np.array([float(lag.subs({b1: 0.9, N._slope: 0.05, T: int(k)})) for k in t])
    assert np.all(np.abs(mh - mu_t - pred) < 4.5 * se)


def test_noisy_quadratic_lag_is_deterministic_and_biased():
    a = N.noisy_quadratic_lag(steps=60, n_paths=500, seed=2)
    b = N.noisy_quadratic_lag(steps=60, n_paths=500, seed=2)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    t, mq, mq_se, gq, gq_se = a
    assert abs(mq[0] - gq[0]) < 4.5 * np.hypot(mq_se[0], gq_se[0])   # step 1: m_hat_1 = g_1, unbiased
    assert np.max(np.abs(mq - gq) / np.hypot(mq_se, gq_se)) > 10       # later: a clear lag


def test_constant_gradient_steps_closed_forms():
    g = np.array([1e-12, 1e-8, 1e-3, 1.0, 1e5])
    s = CG.constant_gradient_steps(g, steps=50, eps=1e-8)
    np.testing.assert_allclose(s, np.broadcast_to(g / (g + 1e-8), s.shape), rtol=1e-12)
    s0 = CG.constant_gradient_steps([2.0], steps=50, eps=0.0, bias_correction=False)[:, 0]
    t = np.arange(1, 51)
    np.testing.assert_allclose(s0, (1 - 0.9**t) / np.sqrt(1 - 0.999**t), rtol=1e-12)
    assert sp.simplify(CG.constant_gradient_step_expr(True) - 1) == 0


def test_bad_input():
    with pytest.raises(ValueError, match="beta1"):
        N.monte_carlo_moments(beta1=1.0)
    with pytest.raises(ValueError, match="n_paths"):
        N.monte_carlo_moments(n_paths=1)
    with pytest.raises(ValueError, match="T_values"):
        N.monte_carlo_moments(T_values=(0, 5))


@pytest.mark.slow
def test_claims_rows():
    rows = {r.id: r for r in kaiser_s3.claims()}
    assert all(isinstance(r, Claim) and r.section == "3" for r in rows.values())
    # a mathematical error with a corrected limit: "corrected", with the limit 1/19 = 0.0526
    assert rows["S3-var-limit"].status == "corrected" and "0.0526" in rows["S3-var-limit"].ours
    for rid in ("S3-early", "S3-correlated", "S3-proof", "S3-corners-noise"):
        assert rows[rid].status == "corrected", rid
    assert rows["S3-flat-enough"].status == "verified" and "3.8e-04" in rows["S3-flat-enough"].ours  # 2*1.9/0.1*1e-5
    assert "17.3" in rows["S3-correlated"].ours          # (1 + 0.891)/(1 - 0.891) by hand
    assert "x = 1.000" in rows["S3-proof"].ours          # Reddi et al.: Adam goes to the worst point +1
    assert "0.229" in rows["S3-corners-noise"].ours      # sqrt(0.1/1.9)
    assert "0.999900..1.000000" in rows["S3-corners"].ours  # 1e-4/(1e-4 + 1e-8) = 0.99990001


# ---------------------------------------------------------------- correlated noise (AR(1))
def test_ar1_limit_against_a_brute_force_double_sum():
    lim = CN.ar1_variance_limit_expr()
    for b, r in ((0.9, 0.0), (0.9, 0.9), (0.5, -0.5), (0.99, 0.7)):
        n = 4000
        w = (1 - b) * b ** np.arange(n)
        total = np.sum(w**2) + 2 * sum(r**d * np.sum(w[:-d] * w[d:]) for d in range(1, 400))
        assert abs(float(lim.subs({b1: b, CN.rho: r, N.sigma: 1})) - total) < 1e-12


def test_ar1_curve_and_monte_carlo():
    T = np.arange(1, 41)
    curve = CN.ar1_first_moment_variance(0.9, 0.9, T)
    # T = 1: one weight 0.1; T = 2: weights 0.09, 0.1 with correlation 0.9
    assert abs(curve[0] - 0.01) < 1e-15 and abs(curve[1] - (0.01 + 0.0081 + 2 * 0.9 * 0.009)) < 1e-15
    v, se = CN.ar1_monte_carlo(0.9, 0.9, (1, 2, 40), n_paths=20000, seed=4)
    assert np.all(np.abs(v - curve[[0, 1, 39]]) < 4.5 * se)
    with pytest.raises(ValueError, match="rho"):
        CN.ar1_monte_carlo(0.9, 1.0)


def test_steps_to_limit_and_noise_free_phase():
    assert CN.steps_to_limit([0.5, 0.9, 0.995, 1.0], 1.0, rel=0.01) == 3
    assert N.noise_free_phase([1.0, 0.5, 0.3], [1.0, 0.5, 0.2], sigma=0.1, rel=0.05) == (2, pytest.approx(2.0))


# ---------------------------------------------------------------- the noisy step (signal-to-noise law)
def test_snr_law_and_spread_leading_terms():
    from adamdyn import noisy_step as Z

    assert sp.simplify(Z.snr_law_expr() - Z.mu / sp.sqrt(Z.mu**2 + Z.sigma**2)) == 0
    sd = Z.snr_spread_expr().subs({Z.beta1: sp.Rational(9, 10), Z.sigma: 1, Z.mu: 0})
    assert sp.simplify(sd - 1 / sp.sqrt(19)) == 0


def test_noisy_step_expansion_against_an_independent_monte_carlo():
    """A plain-loop Adam written here (not the library's) against the expansion, at mu/sigma = 0.5."""
    from adamdyn import noisy_step as Z

    rng = np.random.default_rng(21)
    n, T, mu_, b1_, b2_ = 6000, 400, 0.5, 0.9, 0.999
    m = np.zeros(n)
    v = np.zeros(n)
    for t in range(1, T + 1):
        g = mu_ + rng.standard_normal(n)
        m = b1_ * m + (1 - b1_) * g
        v = b2_ * v + (1 - b2_) * g * g
    x = (m / (1 - b1_**T)) / (np.sqrt(v / (1 - b2_**T)) + 1e-8)
    mean, sd = Z.predicted_step_moments(mu_, 1.0, b1_, b2_, 1e-8, steps=T)
    se = x.std(ddof=1) / np.sqrt(n)
    assert abs(x.mean() - mean) < 4.5 * se
    assert abs(x.std(ddof=1) / sd - 1) < 0.05
    # and the library's Monte Carlo agrees with the same expansion
    mc_mean, mc_se, _ = Z.monte_carlo_steps([mu_], 1.0, T, 3000, b1_, b2_, 1e-8, seed=3)
    assert abs(mc_mean[0] - mean) < 4.5 * mc_se[0]


# ---------------------------------------------------------------- convergence: "flat enough", Reddi et al.
def test_stability_threshold_against_a_frozen_preconditioner_loop():
    from adamdyn import convergence as K

    x_star = float(K.stability_threshold_expr().subs(K.beta1, 0.9))
    assert abs(x_star - 38.0) < 1e-12                          # 2 (1 + 0.9) / (1 - 0.9)

    def grows(pa, steps=4000):                                 # heavy ball on the EMA, w'' = a w, P fixed
        m, w = 0.0, 1.0
        for _ in range(steps):
            m = 0.9 * m + 0.1 * w
            w = w - pa * m
        return abs(w) > 1.0

    assert not grows(0.99 * x_star) and grows(1.01 * x_star)
    assert abs(K.curvature_threshold(0.9, 1e-3, 1e-8) - 38e-5) < 1e-15


def test_reddi_counterexample_against_a_plain_loop():
    from adamdyn import convergence as K

    x, regret = K.reddi_counterexample(C=3.0, steps=3000)
    b2_ = 1 / 10
    v, xt, xs = 0.0, 0.0, []
    for t in range(1, 3001):                                    # Reddi et al.'s Adam: beta1 = 0, no bias correction
        g = 3.0 if t % 3 == 1 else -1.0
        v = b2_ * v + (1 - b2_) * g * g
        xt = min(1.0, max(-1.0, xt - 0.5 / np.sqrt(t) * g / np.sqrt(v)))
        xs.append(xt)
    np.testing.assert_allclose(x, xs, rtol=0, atol=1e-12)
    assert x[-1] == 1.0 and regret > 0.3                       # the worst point, not the optimum -1
    with pytest.raises(ValueError, match="C"):
        K.reddi_counterexample(C=2.0)


@pytest.fixture(scope="module")
def g(book_glue):
    return book_glue("noise")


@pytest.mark.book
def test_chapter_numbers(g):
    assert abs(g["no_var_limit_ratio"] - 1 / 19) < 1e-12
    assert abs(g["no_ess"] - 19) < 1e-9
    assert g["no_max_z"] < 4.5 and g["no_ramp_z"] < 4.5 and g["no_stat_z"] < 4.5
    assert abs(g["no_mc_var_last"] - 1 / 19) < 4.5 * g["no_mc_var_last_se"]
    assert g["no_mc_var_last"] > 10 * g["no_mean_var_last"]      # far above a plain average's sigma^2/T
    assert abs(g["no_lag_steps"] - 9) < 1e-9
    assert g["no_quad_max_z"] > 10
    # the uncorrected step under a unit gradient, by a plain loop: m = 1 - 0.9^t, v = 1 - 0.999^t
    m_, v_, peak = 0.0, 0.0, 0.0
    for _ in range(60):
        m_, v_ = 0.9 * m_ + 0.1, 0.999 * v_ + 0.001
        peak = max(peak, m_ / np.sqrt(v_))
    assert abs(g["no_plain_peak"] - peak) < 1e-12 and g["no_plain_peak_t"] == 12
    assert g["no_corner_min"] > 0.9999 - 1e-12 and g["no_corner_max"] <= 1.0
    assert abs(g["no_step_eps"] - 0.5) < 1e-12
    # correlated noise: the floor ratio at rho = 0.99 is (1 + 0.891)/(1 - 0.891), by hand
    assert abs(g["no_ar1_floor_hi"] - 1.891 / 0.109) < 1e-9 and g["no_ar1_max_z"] < 4.5
    assert g["no_ar1_steps_0"] < g["no_ar1_steps_hi"] < 100
    # early training: the noisy run tracks the noiseless one while the gradient exceeds the noise
    assert g["no_early_steps"] > 20 and g["no_early_snr"] > 1
    # the noisy step: expansion within error bars; at mu = sigma the mean is 1/sqrt(2), not a corner
    assert g["no_snr_max_z"] < 4.5 and g["no_snr_law_gap"] < 1e-3
    assert abs(g["no_snr_mean_at1"] - 2**-0.5) < 4.5 * g["no_snr_mean_at1_se"] + 1e-3
    assert abs(g["no_snr_sd_zero"] / np.sqrt(1 / 19) - 1) < 0.05
    # "flat enough": a* = 2 (1 + 0.9)/(1 - 0.9) * 1e-8 / 1e-3, and the runs switch across it
    assert abs(g["no_astar"] - 38e-5) < 1e-15
    assert g["no_flat_settled"] < 1 < g["no_flat_unsettled"] and g["no_flat_burst"] > 1e-10
    # Reddi et al.'s convex counterexample: Adam ends at +1, the worst point
    assert g["no_reddi_x"] == 1.0 and g["no_reddi_regret"] > 0.3


@pytest.mark.chapter
def test_changed_parameter_moves_limit_as_theory_says():
    g2 = rerun_glue("noise", {"beta1": 0.5, "n_paths": 4000, "quad_paths": 300, "snr_paths": 500,
                              "curvature_steps": 20000})
    assert abs(g2["no_var_limit_ratio"] - 1 / 3) < 1e-12          # (1 - 0.5)/(1 + 0.5)
    assert abs(g2["no_lag_steps"] - 1) < 1e-9
    assert g2["no_max_z"] < 4.5
    assert abs(g2["no_astar"] - 2 * 1.5 / 0.5 * 1e-5) < 1e-15      # a* moves with beta1 as 2(1+b1)/(1-b1) eps/eta
