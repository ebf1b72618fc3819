"""Section 3 (noise profile): moments of Adam's averages, the variance limit, bias correction, corners.

Monte Carlo tolerances are in standard errors (estimated from the samples); 4.5 s.e. for a single
check and for the maximum over ~40 correlated checks (two-sided normal tail ~7e-6 each).
"""

from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import adamdyn as ad
from adamdyn import noise as N
from adamdyn.ledger import Claim
from adamdyn.notebooks import execute_chapter, glued

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "chapters/noise.md"
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


def test_monte_carlo_matches_sympy_within_error_bars():
    T_values = (1, 10, 100, 1000)
    mc = N.monte_carlo_moments(0.9, 0.999, T_values, n_paths=8000, sigma=1.3, mean=0.4, seed=11)
    Tv = np.array(T_values, float)
    theory = {"m_mean": 0.4 * (1 - 0.9**Tv), "m_var": N.first_moment_variance(0.9, Tv, 1.3),
              "v_mean": N.second_moment_mean(0.999, Tv, 1.3, 0.4), "v_var": N.second_moment_variance(0.999, Tv, 1.3, 0.4)}
    for k, th in theory.items():
        assert np.all(np.abs(mc[k] - th) < 4.5 * mc[k + "_se"]), k
    # the second-moment sympy forms agree with the numeric ones
    f = sp.lambdify(T, N.second_moment_variance_expr().subs({b2: 0.999, N.sigma: 1.3, N.mu: 0.4}))
    assert np.allclose(f(Tv), theory["v_var"], rtol=1e-12)


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
    s = N.constant_gradient_steps(g, steps=50, eps=1e-8)
    np.testing.assert_allclose(s, np.broadcast_to(g / (g + 1e-8), s.shape), rtol=1e-12)
    s0 = N.constant_gradient_steps([2.0], steps=50, eps=0.0, bias_correction=False)[:, 0]
    t = np.arange(1, 51)
    np.testing.assert_allclose(s0, (1 - 0.9**t) / np.sqrt(1 - 0.999**t), rtol=1e-12)
    assert sp.simplify(N.constant_gradient_step_expr(True) - 1) == 0


def test_bad_input():
    with pytest.raises(ValueError, match="beta1"):
        N.monte_carlo_moments(beta1=1.0)
    with pytest.raises(ValueError, match="n_paths"):
        N.monte_carlo_moments(n_paths=1)
    with pytest.raises(ValueError, match="T_values"):
        N.monte_carlo_moments(T_values=(0, 5))


def test_claims_rows():
    rows = {r.id: r for r in N.claims()}
    assert all(isinstance(r, Claim) and r.section == "3" for r in rows.values())
    assert rows["S3-var-limit"].status == "not reproduced" and "0.0526" in rows["S3-var-limit"].ours


@pytest.fixture(scope="module")
def g():
    return glued(execute_chapter(CHAPTER))


@pytest.mark.chapter
def test_chapter_numbers(g):
    assert abs(g["no_var_limit_ratio"] - 1 / 19) < 1e-12
    assert abs(g["no_ess"] - 19) < 1e-9
    assert g["no_max_z"] < 4.5 and g["no_ramp_z"] < 4.5 and g["no_stat_z"] < 4.5
    assert abs(g["no_mc_var_last"] - 1 / 19) < 4.5 * g["no_mc_var_last_se"]
    assert g["no_mc_var_last"] > 10 * g["no_mean_var_last"]      # far above a plain average's sigma^2/T
    assert abs(g["no_lag_steps"] - 9) < 1e-9
    assert g["no_quad_max_z"] > 10
    t = np.arange(1, 61)
    assert abs(g["no_plain_peak"] - np.max((1 - 0.9**t) / np.sqrt(1 - 0.999**t))) < 1e-12
    assert g["no_corner_min"] > 0.9999 - 1e-12 and g["no_corner_max"] <= 1.0
    assert abs(g["no_step_eps"] - 0.5) < 1e-12


@pytest.mark.chapter
def test_changed_parameter_moves_limit_as_theory_says():
    g2 = glued(execute_chapter(CHAPTER, {"beta1": 0.5, "n_paths": 4000, "quad_paths": 300}))
    assert abs(g2["no_var_limit_ratio"] - 1 / 3) < 1e-12          # (1 - 0.5)/(1 + 0.5)
    assert abs(g2["no_lag_steps"] - 1) < 1e-9
    assert g2["no_max_z"] < 4.5
