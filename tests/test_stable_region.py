"""Tests of adamdyn.stability and the stable-region chapter.

Tolerances come from the derivation in the chapter: over the window [T/2, T]
the least-squares slope of log|u_t| misses the asymptotic rate by at most 1/T
(eps = 0, no bias correction) and 3/T with bias correction.
"""


import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

import adamdyn as ad
from adamdyn import landscapes as L
from adamdyn import bounds as B
from adamdyn import continuous_adam as CA
from adamdyn import convergence as K
from adamdyn import stability as S
from adamdyn_book.ledger import gould_tanaka
from conftest import rerun_glue


def test_symbolic_region_is_beta1_squared_below_beta2():
    cond = S.discrete_stable_condition()
    assert sp.simplify(cond.lhs - S.beta1**2) == 0 and cond.rhs == S.beta2
    assert CA.stable_region_expr() == cond
    lin = CA.linear_rate_region_expr()
    assert sp.simplify(lin.lhs - (2 * S.beta1 - 1)) == 0 and lin.rhs == S.beta2


def test_continuous_limits_and_rates():
    cond, finite, infinite = CA.continuous_stable_condition()
    c = sp.Symbol("c", positive=True)
    assert finite == 1 / c and infinite == sp.oo
    assert sp.simplify(CA.continuous_growth_rate_expr() - (CA.rate2 / 2 - CA.rate1)) == 0
    assert sp.simplify(S.discrete_growth_rate_expr() - sp.log(S.beta1**2 / S.beta2) / 2) == 0


def test_symbolic_region_against_simulation_on_grid():
    b1, b2 = (g.ravel() for g in np.meshgrid(np.linspace(0.3, 0.99, 25), np.linspace(0.3, 0.999, 25)))
    T = 400
    slopes, _ = S.measured_growth_slopes(b1, b2, T)
    q = b1**2 / b2
    clear = np.abs(0.5 * np.log(q)) > 2 / T  # outside the band where a finite window cannot decide
    assert clear.sum() > 500
    growing = slopes > 1 / T
    np.testing.assert_array_equal(growing[clear], (b1**2 > b2)[clear])
    np.testing.assert_array_equal(S.stable_region_holds(b1, b2), b1**2 < b2)


def test_growth_slopes_match_prediction_within_derived_tolerance():
    rng = np.random.default_rng(1)
    b1, b2 = rng.uniform(0.3, 0.99, 1200), rng.uniform(0.3, 0.999, 1200)
    T = 200
    slopes, _ = S.measured_growth_slopes(b1, b2, T)
    pred = S.growth_rate(b1, b2)
    assert np.abs(slopes - pred).max() <= 1 / T
    slopes_bc, _ = S.measured_growth_slopes(b1, b2, T, bias_correction=True)
    assert np.abs(slopes_bc - pred).max() <= 3 / T
    # the finite-window closed form is exact up to rounding
    assert np.abs(slopes - S.predicted_window_slopes(b1, b2, T)).max() < 1e-12
    # far outside, the rate is large and clearly measured
    far = pred > 0.2
    assert far.sum() > 50 and np.all(slopes[far] > 0.2 - 1 / T)


def test_epsilon_breaks_growth_where_sqrt_v_falls_below_eps():
    b1, b2 = np.array([0.95, 0.95]), np.array([0.5, 0.85])
    T = 200
    with_eps, _ = S.measured_growth_slopes(b1, b2, T, eps=1e-8)
    pred = S.growth_rate(b1, b2)
    dom = np.sqrt(S.extremal_second_moment(b1, b2, T // 2)) < 1e-8
    assert dom[0] and not dom[1]
    assert with_eps[0] < 0  # eps regime: update decays with the gradients
    assert abs(with_eps[1] - pred[1]) < 1 / T


@settings(max_examples=50, deadline=None)
@given(st.floats(0.05, 0.99), st.floats(0.05, 0.999), st.integers(2, 60))
def test_extremal_history_attains_bound_and_random_ones_do_not_exceed(b1, b2, T):
    opt = ad.adam(lr=1.0, beta1=b1, beta2=b2, eps=0.0, bias_correction=False)
    bound = S.worst_case_ratio(b1, b2, np.arange(1, T + 1))
    u = np.abs(ad.updates_from_gradients(opt, S.extremal_gradients(b1, b2, T)))[:, 0]
    np.testing.assert_allclose(u, bound, rtol=1e-9)
    g = np.random.default_rng(T).standard_normal((T, 50))
    ur = np.abs(ad.updates_from_gradients(opt, g))
    assert np.all(ur <= bound[:, None] * (1 + 1e-12))


def test_worst_case_bound_is_kaiser_proposition_1():
    # hand values: (0.9, 0.999): 0.1^2 * 0.999 / (0.001 * 0.189) = 370/7; (0.5, 0.5): 0.5 sqrt(0.5) / sqrt(0.5 * 0.25) = 1;
    # beta1 = 0 (RMSProp): the step g / sqrt((1 - beta2) g^2) = 1 / sqrt(1 - beta2), 2 at beta2 = 0.75
    assert B.step_bound(0.9, 0.999) == pytest.approx(np.sqrt(370 / 7), rel=1e-14)
    assert B.step_bound(0.5, 0.5) == pytest.approx(1.0, rel=1e-14)
    assert B.step_bound(0.0, 0.75) == pytest.approx(2.0, rel=1e-14)
    assert np.isposinf(B.step_bound(0.9, 0.8))
    np.testing.assert_allclose(S.worst_case_ratio(0.9, 0.999, 10**6), B.step_bound(0.9, 0.999), rtol=1e-12)


def test_ode_matches_discrete_adamw_at_first_order():
    land, c = L.quadratic([1.0, 0.1]), np.array([1.0, 0.1])
    a, b = -np.log(0.9) / 0.01, -np.log(0.999) / 0.01
    errs = []
    for eta in (0.004, 0.002):
        t, p = CA.discrete_adam_path(land, [1.0, 2.0], 1.0, a, b, eta, weight_decay=0.1)
        w = CA.adam_ode(lambda x: 2 * c * x, [1.0, 2.0], 1.0, a, b, weight_decay=0.1, times=t)
        errs.append(np.abs(p - w).max())
    assert errs[1] < 0.6 * errs[0]  # halving eta roughly halves the gap (first order)
    assert errs[1] > 0.4 * errs[0]


def test_continuous_worst_case_against_integrated_averages():
    taus = np.linspace(0.1, 8.0, 30)
    for a, b in [(1.0, 0.5), (1.0, 2.0), (1.0, 3.0)]:
        np.testing.assert_allclose(CA.continuous_extremal_ratio(a, b, taus), CA.continuous_worst_case_ratio(a, b, taus),
                                   rtol=1e-7)
    # at 2a = b the worst case grows like sqrt(tau); inside it saturates at a / sqrt(b (2a - b))
    assert CA.continuous_worst_case_ratio(1.0, 2.0, 4.0) == pytest.approx(1.0 / np.sqrt(2.0) * np.sqrt(4.0), rel=1e-14)
    assert CA.continuous_worst_case_ratio(1.0, 0.5, 1e3) == pytest.approx(1.0 / np.sqrt(0.5 * 1.5), rel=1e-12)


def test_bad_input_raises():
    with pytest.raises(ValueError, match="beta1"):
        S.growth_rate(1.2, 0.9)
    with pytest.raises(ValueError, match="beta1"):
        S.extremal_gradients(0.0, 0.9, 10)
    with pytest.raises(ValueError, match="steps"):
        S.measured_growth_slopes(0.9, 0.9, 0)
    with pytest.raises(ValueError, match="mapping"):
        CA.rates_from_betas("cubic")


@pytest.fixture(scope="module")
def chapter(book_glue):
    return book_glue("stable_region")


@pytest.mark.book
def test_chapter_numbers(chapter):
    g = chapter
    assert g["sr_n_points"] >= 1000
    assert g["sr_err_pure"] <= g["sr_tol_pure"]
    assert g["sr_err_bc"] <= g["sr_tol_bc"]
    assert g["sr_err_window"] < 1e-12
    assert abs(g["sr_ode_order"] - 1) < 0.05
    assert abs(g["sr_bound_default"] - 7.27029) < 1e-4  # Kaiser's "~7.3"
    assert g["sr_rand_max_frac"] <= 1.0
    assert g["sr_eps_fail_in_dom"] == 1.0
    assert g["sr_mismatch_max_rate"] < g["sr_two_over_T"]


@pytest.mark.chapter
def test_chapter_reacts_to_horizon():
    g = rerun_glue("stable_region", {"sweep_steps": 250, "grid_side": 32})
    assert g["sr_err_pure"] <= 1 / 250  # the tolerance tightens as 1/T
    assert g["sr_tol_pure"] == pytest.approx(1 / 250)
    assert g["sr_n_points"] == 32**2


# ---------------------------------------------------------------- closed loop and Reddi et al.

def test_closed_loop_updates_stay_under_the_open_loop_bound_inside():
    # inside the region the Cauchy-Schwarz bound (closed form) holds for any history, so also for Adam's own
    from adamdyn import landscapes as L
    b1 = np.array([0.5, 0.9, 0.9]); b2 = np.array([0.9, 0.99, 0.999])
    umax, burst, div = S.closed_loop_updates(L.quadratic([1.0, 0.1]), [1.0, 2.0], b1, b2, 0.01, 500)
    # Proposition 1 at the three pairs, summed as the Cauchy-Schwarz series term by term (not the closed form)
    q = b1**2 / b2
    bound = (1 - b1) / np.sqrt(1 - b2) * np.sqrt(np.sum(q[:, None] ** np.arange(20_000), axis=1))
    assert np.all(umax <= bound * (1 + 1e-12)) and not div.any()
    with pytest.raises(ValueError, match="lr"):
        S.closed_loop_updates(L.quadratic([1.0]), [1.0], [0.9], [0.999], 0.0, 10)


def test_reddi_counterexample():
    # the paper's pair beta1 = 0, beta2 = 1/(1 + C^2) drives x to the worst point +1; the optimum is -1
    late = lambda b1, b2: K.reddi_counterexample(3.0, 9000, beta1=b1, beta2=b2, eps=1e-8)[0][-3000:].mean()
    assert late(0.0, 1 / (1 + 9.0)) > 0.95
    assert late(0.9, 0.999) < -0.95


@pytest.mark.slow
def test_claims_rows():
    rows = {c.id: c for c in gould_tanaka.claims()}
    assert rows["GT-region"].status == "verified" and rows["GT-growth-open"].status == "verified"
    assert rows["GT-growth-closed"].where == "sr-closed-loop"


@pytest.mark.book
def test_chapter_closed_loop(chapter):
    g = chapter
    assert g["sr_cl_in_ratio"] <= 1 + 1e-9          # the open-loop bound holds in the closed loop
    assert g["sr_cl_diverged"] == 0 and g["sr_cl_n_burst"] > 0
    assert 0.3 < g["sr_cl_burst_med"] <= 1.0 + 1e-9  # bursts grow at most at the open-loop rate
