"""Tests of adamdyn.ode and the chapter "Adam as an ODE".

Tolerances and where they come from:
- identities that hold exactly (Euler (3) on the shifted grid vs algorithm (4), Kingma-Ba with
  eps inside vs (4)): same floating-point operations up to order, so 1e-12 absolute on O(1) data;
- ODE solutions: rtol 1e-10 / atol 1e-12 (ODE_RTOL, ODE_ATOL), so comparisons at 1e-7;
- forward Euler is first order: the least-squares order over s = 0.01 / 2^j, j < 6 must lie in
  [0.9, 1.1] (the local slopes approach 1 from below as s shrinks).
"""


import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings, strategies as st

import adamdyn as ad
from adamdyn import landscapes as L
from adamdyn import ode as O
from adamdyn_book.ledger import belotto_gazeau
from conftest import rerun_glue
from adamdyn import ode_discrete as OD
from adamdyn import ode_lyapunov as OL
from adamdyn import symbols as sym

QUARTIC = L.quartic()
THETA0 = np.array([0.5, -2.5])
QUAD = L.quadratic([0.5, 2.0])

betas = st.floats(0.01, 0.999)


# ---------------------------------------------------------------- conditions

def test_conditions_are_vectorized_and_named():
    b1, b2 = np.meshgrid(np.linspace(0.05, 0.95, 7), np.linspace(0.05, 0.95, 5))
    for fn in (OL.poster_condition, OL.lyapunov_condition):
        out = fn(b1, b2)
        assert out.shape == b1.shape and out.dtype == bool
    assert OL.poster_condition(0.9, 0.999) and not OL.poster_condition(0.99, 0.5)
    # the boundary 3 + beta2 = 4 beta1 is excluded (strict inequality)
    assert not OL.poster_condition(0.8, 0.2) and OL.poster_condition(0.8, 0.2 + 1e-9)
    with pytest.raises(ValueError, match="beta1"):
        OL.poster_condition(1.0, 0.5)
    with pytest.raises(ValueError, match="beta2"):
        OL.lyapunov_condition(0.5, 0.0)


def test_eventual_lyapunov_condition_is_the_posters():
    lyap = OL.lyapunov_derivative()
    # the derived limit tau -> oo, by hand: 1 - (1 - beta2) / (4 (1 - beta1)) = (3 + beta2 - 4 beta1) / (4 (1 - beta1))
    by_hand = 1 - (1 - sym.beta2) / (4 * (1 - sym.beta1))
    assert sp.simplify(lyap["adam_c_inf"] - by_hand) == 0
    # the stated condition holds exactly where that derived limit is positive (exact rationals on a grid,
    # the boundary 3 + beta2 = 4 beta1 included: (4/5, 1/5), (17/20, 2/5), (9/10, 3/5), (19/20, 4/5) lie on it)
    cond = OL.lyapunov_condition_expr(uniform=False)
    grid = [sp.Rational(k, 20) for k in range(1, 20)]
    for x1 in grid:
        for x2 in grid:
            at = {sym.beta1: x1, sym.beta2: x2}
            assert bool(cond.subs(at)) == bool(lyap["adam_c_inf"].subs(at) > 0)
    assert not bool(cond.subs({sym.beta1: sp.Rational(4, 5), sym.beta2: sp.Rational(1, 5)}))   # 3.2 > 3.2 is false
    # hand values of c(inf) = 1 - (1 - beta2) / (4 (1 - beta1)) (not the code's own inequality):
    # (0.9, 0.999): 1 - 0.001/0.4 = 0.9975; (0.9, 0.5): 1 - 0.5/0.4 = -0.25; (0.5, 0.1): 1 - 0.9/2 = 0.55
    for (b1, b2), c in [((0.9, 0.999), 0.9975), ((0.9, 0.5), -0.25), ((0.5, 0.1), 0.55)]:
        assert float(OL.lyapunov_margin(b1, b2, np.inf)) == pytest.approx(c, abs=1e-14)
        assert bool(OL.lyapunov_condition(b1, b2, uniform=False)) == (c > 0)
    # Barakat & Bianchi: beta1 = 1 - a gamma, beta2 = 1 - b gamma; on b = 4a the poster's margin is exactly 0
    a, gam = 0.7, 0.05
    assert 3 + (1 - 4 * a * gam) - 4 * (1 - a * gam) == pytest.approx(0.0, abs=1e-15)


@settings(max_examples=50, deadline=None)
@given(betas, betas)
def test_condition_expr_matches_numeric(b1, b2):
    expr = OL.lyapunov_condition_expr()
    val = bool(expr.subs({sym.beta1: b1, sym.beta2: b2}))
    margin = OL.lyapunov_margin(b1, b2, 0.0)
    assume(abs(margin) > 1e-9 and abs(3 + b2 - 4 * b1) > 1e-9)
    assert val == bool(OL.lyapunov_condition(b1, b2))


def test_uniform_condition_is_decided_by_end_points():
    g = np.linspace(0.005, 0.995, 120)
    b1, b2 = np.meshgrid(g, g)
    tau = np.concatenate([[0.0], np.logspace(-5, 5, 300), [np.inf]])[:, None, None]
    brute = OL.lyapunov_margin(b1, b2, tau).min(axis=0) >= 0
    assert np.array_equal(brute, OL.lyapunov_condition(b1, b2))
    # a strict subset of the poster's region
    assert np.all(OL.poster_condition(b1, b2)[brute]) and brute.sum() < OL.poster_condition(b1, b2).sum()


def test_symbolic_margin_and_limits_match_numeric():
    lyap = OL.lyapunov_derivative()
    sub = {lyap["x1"]: sp.log(1 / sym.beta1), lyap["x2"]: sp.log(1 / sym.beta2),
           lyap["w1"]: sym.beta1 ** lyap["tau"], lyap["w2"]: sym.beta2 ** lyap["tau"]}
    f = sp.lambdify((sym.beta1, sym.beta2, lyap["tau"]), lyap["adam_coeff_v"].subs(sub))
    f0 = sp.lambdify((sym.beta1, sym.beta2), lyap["adam_c_0"].subs(sub))
    for b1, b2 in [(0.9, 0.999), (0.3, 0.999), (0.99, 0.5)]:
        taus = np.array([0.01, 1.0, 50.0])
        np.testing.assert_allclose(f(b1, b2, taus), OL.lyapunov_margin(b1, b2, taus), rtol=1e-9)
        np.testing.assert_allclose(f0(b1, b2), OL.lyapunov_margin(b1, b2, 0.0), rtol=1e-9)
        # continuity at both ends of the closed-form limits
        np.testing.assert_allclose(OL.lyapunov_margin(b1, b2, 1e-7), OL.lyapunov_margin(b1, b2, 0.0), atol=1e-5)
        np.testing.assert_allclose(OL.lyapunov_margin(b1, b2, 1e5), OL.lyapunov_margin(b1, b2, np.inf), atol=1e-9)


def test_general_lyapunov_derivative_matches_finite_differences():
    """dE/dt from the symbolic formula against a centred difference of E along a solution."""
    b1, b2, s, eps = 0.9, 0.99, 0.01, 1e-4
    a1, a2 = O.adam_alphas(b1, b2, s)
    t = np.linspace(0.05, 0.5, 10)
    h = 1e-5
    tt = np.sort(np.concatenate([t - h, t, t + h]))
    sol = O.solve_adam(QUAD.grad, np.ones(2), a1, a2, 1.0, lam=s, eps=eps, t_eval=tt, rtol=1e-12, atol=1e-14)
    E = OL.lyapunov_values(QUAD.value, sol.t, sol.theta, sol.m, sol.v, lambda x: O.g_adam(x, s, a1), eps)
    fd = (E[2::3] - E[0::3]) / (2 * h)
    th, m, v = sol.theta[1::3], sol.m[1::3], sol.v[1::3]
    g = QUAD.grad(th)
    c = OL.lyapunov_margin(b1, b2, t / s)[:, None]
    g1, g2 = O.g_adam(t, s, a1)[:, None], O.g_adam(t, s, a2)[:, None]
    c_eps = c + g2 / (4 * g1)
    exact = -np.sum(m**2 / (v + eps) ** 1.5 * (c * v + c_eps * eps + g2 / (4 * g1) * g**2), axis=1)
    np.testing.assert_allclose(fd, exact, rtol=1e-5)


@pytest.mark.slow
@settings(max_examples=12, deadline=None)
@given(st.floats(0.5, 0.99), st.floats(0.5, 0.999))
def test_lyapunov_nonincreasing_inside_region(b1, b2):
    assume(OL.lyapunov_condition(b1, b2) and OL.lyapunov_margin(b1, b2, 0.0) > 1e-3)
    s, eps = 0.01, 1e-8
    a1, a2 = O.adam_alphas(b1, b2, s)
    sol = O.solve_adam(QUAD.grad, np.array([1.0, -0.5]), a1, a2, 3.0, lam=s, eps=eps, t_eval=np.linspace(0, 3, 301))
    assert sol.success
    E = OL.lyapunov_values(QUAD.value, sol.t, sol.theta, sol.m, sol.v, lambda x: O.g_adam(x, s, a1), eps)
    assert np.max(np.diff(E)) <= 1e-8 * E[0]
    assert E[-1] < E[0]


def test_uniform_condition_is_necessary_from_a_bad_state():
    """At (0.3, 0.999) c(0.1) < 0: from theta = 0 (critical), m = 1, v = 100 at tau = 0.1, E must rise."""
    s, eps = 0.01, 1e-8
    assert OL.lyapunov_margin(0.3, 0.999, 0.1) < 0 < OL.lyapunov_margin(0.9, 0.999, 0.1)
    f = L.quadratic([0.5])
    rises = []
    for b1 in (0.3, 0.9):
        a1, a2 = O.adam_alphas(b1, 0.999, s)
        t = s * np.linspace(0.1, 0.12, 5)
        sol = O.solve(O.adam_coefficients(s, a1, a2), f.grad, [0.0], [1.0], [100.0], (t[0], t[-1]), eps=eps, t_eval=t)
        E = OL.lyapunov_values(f.value, sol.t, sol.theta, sol.m, sol.v, lambda x: O.g_adam(x, s, a1), eps)
        rises.append(np.diff(E).max())
    assert rises[0] > 1e-7 and rises[1] < 0


def test_lyapunov_increases_outside_posters_region():
    b1, b2, s, eps = 0.99, 0.5, 0.01, 1e-8
    a1, a2 = O.adam_alphas(b1, b2, s)
    sol = O.solve_adam(QUAD.grad, np.ones(2), a1, a2, 5.0, lam=s, eps=eps, t_eval=np.linspace(0, 5, 501))
    E = OL.lyapunov_values(QUAD.value, sol.t, sol.theta, sol.m, sol.v, lambda x: O.g_adam(x, s, a1), eps)
    assert np.max(np.diff(E)) > 1e-2


# ---------------------------------------------------------------- Euler and algorithm (4)

def test_euler_identity_symbolic():
    ident = OD.euler_identity()
    assert ident["difference"] == 0
    b, k = ident["beta"], ident["k"]
    assert sp.simplify(ident["rhs"] - (1 - b) / (1 - b ** (k + 1))) == 0
    assert ident["mu"](1) == 0


@settings(max_examples=50, deadline=None)
@given(st.floats(0.05, 0.9999), st.integers(0, 10_000), st.floats(1e-4, 1.0))
def test_euler_identity_numeric(beta, k, s):
    alpha = s / -np.log(beta)
    lhs = s * O.g_adam((k + 1) * s, s, alpha)
    mu = beta * (1 - beta**k) / (1 - beta ** (k + 1))
    assert lhs == pytest.approx(1 - mu, rel=1e-9)


def test_forward_euler_reproduces_algorithm_4_on_shifted_grid():
    b1, b2, s, eps, n = 0.9, 0.999, 1e-3, 1e-8, 800
    th4, m4, v4 = OD.poster_adam(QUARTIC.grad, THETA0, b1, b2, s, n, eps=eps)
    coeffs = O.adam_coefficients(s, *O.adam_alphas(b1, b2, s))
    g0 = QUARTIC.grad(THETA0)
    thE, mE, vE = OD.forward_euler(coeffs, QUARTIC.grad, THETA0, g0, g0**2, s, n, t_start=s, eps=eps)
    assert np.abs(thE - th4).max() < 1e-12 and np.abs(mE - m4).max() < 1e-11 and np.abs(vE - v4).max() < 1e-9
    # the poster's grid t_k = k s is one step off: first Euler step has mu_1 = 0, (4) has mu_2
    thP, mP, _ = OD.forward_euler(coeffs, QUARTIC.grad, THETA0, g0, g0**2, s, n, t_start=0.0, eps=eps)
    np.testing.assert_allclose(mP[1], QUARTIC.grad(thP[1]), rtol=1e-13)
    assert np.abs(thP - th4).max() > 1e-5


def test_algorithm_4_is_kingma_adam_with_eps_inside():
    b1, b2, s, eps, n = 0.9, 0.999, 1e-2, 1e-8, 500
    th4, _, _ = OD.poster_adam(QUARTIC.grad, THETA0, b1, b2, s, n, eps=eps)
    thK = OD.kingma_adam(QUARTIC.grad, THETA0, b1, b2, s, n, eps=eps, eps_inside=True)
    assert np.abs(th4 - thK).max() < 1e-12
    # and the shared library's Adam, an independent implementation
    tr = ad.run(ad.adam(lr=s, beta1=b1, beta2=b2, eps=eps, eps_inside=True), QUARTIC, x0=THETA0, steps=n)
    assert np.abs(tr.path[:, 0, :] - th4).max() < 1e-12
    thOut = OD.kingma_adam(QUARTIC.grad, THETA0, b1, b2, s, n, eps=eps, eps_inside=False)
    assert 0 < np.abs(th4 - thOut).max() < 1e-4


def test_first_steps_of_algorithm_4_by_hand():
    grad = lambda th: np.array([2.0 * th[0]])
    b1, b2, s, eps = 0.8, 0.9, 0.1, 1e-2
    th, m, v = OD.poster_adam(grad, [1.0], b1, b2, s, 2, eps=eps)
    th1 = 1.0 - s * 2.0 / np.sqrt(4.0 + eps)
    mu2, nu2 = b1 / (1 + b1), b2 / (1 + b2)
    assert th[1, 0] == pytest.approx(th1, rel=1e-14)
    assert m[1, 0] == pytest.approx(mu2 * 2.0 + (1 - mu2) * 2 * th1, rel=1e-14)
    assert v[1, 0] == pytest.approx(nu2 * 4.0 + (1 - nu2) * (2 * th1) ** 2, rel=1e-14)


# ---------------------------------------------------------------- ODE solutions

@pytest.mark.parametrize("landscape, x0", [(QUARTIC, THETA0), (QUAD, np.array([1.0, 1.0]))])
def test_euler_of_other_families_is_the_library_optimizer(landscape, x0):
    gaps = OD.family_gaps(landscape, x0, 0.01, 300)
    assert set(gaps) == {"heavy ball", "RMSProp", "AdaGrad"}
    assert max(gaps.values()) < 1e-12


def test_pole_is_attracting_with_exponent_kappa():
    t = 0.05 * np.logspace(-5, -3, 7)
    for lam in (0.0, 2e-3):
        gap, kappa = O.pole_deviation(QUARTIC.grad, THETA0, 0.05, 0.5, t, lam=lam)
        assert -OD.loglog_slope(t, gap) == pytest.approx(kappa, abs=1e-3)


def test_solve_adam_against_second_integrator():
    a1, a2 = O.adam_alphas(0.9, 0.99, 0.01)
    te = np.linspace(0.1, 2.0, 5)
    ref = O.solve_adam(QUARTIC.grad, THETA0, a1, a2, 2.0, lam=0.01, t_eval=te)
    c = O.adam_coefficients(0.01, a1, a2)
    d = 1e-9 * min(a1, a2)
    g0 = QUARTIC.grad(THETA0)
    alt = O.solve(c, QUARTIC.grad, THETA0 - d * g0 / np.sqrt(g0**2 + 1e-8), g0, g0**2, (d, 2.0),
                  t_eval=te, method="DOP853", rtol=1e-13, atol=1e-15)
    assert ref.success and alt.success
    assert np.abs(ref.theta - alt.theta).max() < 1e-7


def test_heavy_ball_euler_and_ode_agree_to_first_order():
    c = O.heavy_ball_coefficients(2.0)
    grad = lambda th: th
    ode = O.solve(c, grad, [1.0], [0.0], [0.0], (0.0, 1.0), eps=1.0, t_eval=[1.0])
    errs = []
    for s in (0.01, 0.005):
        th, _, _ = OD.forward_euler(c, grad, [1.0], [0.0], [0.0], s, int(round(1 / s)), eps=1.0)
        errs.append(abs(th[-1, 0] - ode.theta[-1, 0]))
    assert errs[0] / errs[1] == pytest.approx(2.0, rel=0.05)
    # theta'' + 2 theta' + theta = 0 with theta(0)=1, theta'(0)=0: (1 + t) e^{-t}
    assert ode.theta[-1, 0] == pytest.approx(2 * np.exp(-1.0), rel=1e-8)


def test_nesterov_family_matches_bessel_closed_form():
    """theta'' + (3/t) theta' + theta = 0, theta(0) = 1: theta = 2 J1(t) / t (t^-1 J1 solves it)."""
    from scipy.special import j1

    t = np.linspace(0.5, 20.0, 40)
    sol = O.solve(O.nesterov_coefficients(3.0), lambda th: th, [1.0], [0.0], [0.0], (1e-8, 20.0), eps=1.0, t_eval=t)
    assert sol.success and np.abs(sol.theta[:, 0] - 2 * j1(t) / t).max() < 1e-7


def test_measured_convergence_order_within_band():
    s_values = 0.01 * 2.0 ** -np.arange(6)
    err = OD.discretization_errors(QUARTIC.grad, THETA0, 0.05, 0.5, 1.0, s_values)
    assert 0.9 <= OD.loglog_slope(s_values, err) <= 1.1
    # halving s halves the error, more exactly as s shrinks
    assert err[-2] / err[-1] == pytest.approx(2.0, rel=0.02)


def test_bad_inputs_raise_valueerror():
    with pytest.raises(ValueError, match="s"):
        OD.poster_adam(QUARTIC.grad, THETA0, 0.9, 0.999, -1.0, 10)
    with pytest.raises(ValueError, match="steps"):
        OD.poster_adam(QUARTIC.grad, THETA0, 0.9, 0.999, 0.1, 0)
    with pytest.raises(ValueError, match="t_span"):
        O.solve(O.adam_coefficients(0.1, 1.0, 1.0), QUARTIC.grad, THETA0, THETA0, THETA0**2, (0.0, 1.0))
    with pytest.raises(ValueError, match="alpha1"):
        O.adam_coefficients(0.1, 0.0, 1.0)
    with pytest.raises(ValueError, match="multiples"):
        OD.discretization_errors(QUARTIC.grad, THETA0, 0.05, 0.5, 1.0, [0.01, 0.003])


# ---------------------------------------------------------------- the chapter

@pytest.fixture(scope="module")
def chapter_glue(book_glue):
    return book_glue("ode")


@pytest.mark.book
def test_chapter_euler_and_kingma(chapter_glue):
    g = chapter_glue
    assert g["eu_gap_shift"] < 1e-12 and g["eu_gap_poster"] > 1e-5
    assert g["kb_gap_inside"] < 1e-12 and g["fam_gap_max"] < 1e-12
    assert g["kb_f_inside"] > g["kb_f_outside"]


@pytest.mark.book
def test_chapter_convergence_and_pole(chapter_glue):
    g = chapter_glue
    assert 0.9 <= g["conv_order"] <= 1.1 and 0.9 <= g["conv_order_lam"] <= 1.1
    assert g["pole_decay0"] == pytest.approx(g["pole_kappa0"], abs=1e-3)
    assert g["pole_decay_s"] == pytest.approx(g["pole_kappa_s"], abs=1e-3)


@pytest.mark.book
def test_chapter_theorem(chapter_glue):
    g = chapter_glue
    assert g["lyap_cinf_minus_poster"] == 0 or g["lyap_cinf_minus_poster"] == "0"
    assert g["lyap_endpoint_mismatch"] == 0
    assert g["area_uniform"] < g["area_poster"]
    assert g["th_rise_in"] < 1e-12 and g["th_rise_outa"] > 1e-2
    assert g["p0_grad_T"] < 1e-8 and g["p2_escaped"] == g["p2_n"] and g["p2_on_axis_end"] < 1e-8
    assert g["p3_slope"] < -1.0
    assert g["p3_factor_slope"] == pytest.approx(-1.0, abs=1e-9) and g["p3_plateau_slope"] > 0


@pytest.mark.book
def test_chapter_figures(chapter_glue):
    g = chapter_glue
    assert g["f2_gd_1000"] < g["f2_adam_1000"] and g["f2_overtake"] > 1000
    assert g["f2_short_2000"] < g["f2_adam_2000"]
    assert g["f3_gap_max"] > g["f3_gap_2"] > 0


@pytest.mark.chapter
def test_chapter_rerun_small_beta1_leaves_uniform_region():
    """Theory: at beta1 = 0.3 the pole margin c(0) is negative (outside the uniform region), while
    the poster's condition still holds; the Euler identity and the order do not depend on beta."""
    g = rerun_glue("ode", {"beta1": 0.3})
    assert g["lyap_c0"] == pytest.approx(float(OL.lyapunov_margin(0.3, 0.999, 0.0)), rel=1e-9)
    assert g["lyap_c0"] < 0
    assert g["eu_gap_shift"] < 1e-12 and 0.9 <= g["conv_order"] <= 1.1


# ---------------------------------------------------------------- the errata: scheme (3), conclusions, ledger

def test_forward_euler_gradient_new_and_old_by_hand():
    # heavy ball (h = 1, r = gamma = 2, p = q = 0) with eps = 1 and v = 0 on f = theta^2 / 2, s = 0.1:
    # theta_1 = 1 - 0.1 * 0.5 = 0.95; m_1 = (1 - 0.2) 0.5 + 0.1 g with g = theta_1 (poster) or theta_0 (plain Euler)
    grad = lambda th: np.asarray(th, float)
    th_new, m_new, _ = OD.forward_euler(O.heavy_ball_coefficients(2.0), grad, [1.0], [0.5], [0.0], 0.1, 1, eps=1.0)
    th_old, m_old, _ = OD.forward_euler(O.heavy_ball_coefficients(2.0), grad, [1.0], [0.5], [0.0], 0.1, 1, eps=1.0, gradient_at="old")
    assert th_new[1, 0] == pytest.approx(0.95) and th_old[1, 0] == pytest.approx(0.95)
    assert m_new[1, 0] == pytest.approx(0.4 + 0.095) and m_old[1, 0] == pytest.approx(0.4 + 0.1)
    with pytest.raises(ValueError, match="gradient_at"):
        OD.forward_euler(O.heavy_ball_coefficients(2.0), grad, [1.0], [0.5], [0.0], 0.1, 1, gradient_at="middle")


def test_steps_to_tolerance_and_gd_count_by_hand():
    f = np.array([[1.0, 1.0], [0.5, 1.0], [1e-7, 1.0]])
    assert OD.steps_to_tolerance(f, 0.0, 1e-6).tolist() == [2.0, np.inf]
    # GD on f = x^2/2 with rate 0.1: f_k = 0.81^k f_0 <= 1e-6 f_0 first at k = ceil(ln 1e-6 / ln 0.81) = 66
    r = OD.gd_against_adam(L.quadratic([0.5]), [1.0], 0.0, np.array([0.1]), 200)
    assert r["gd"][0] == 66 == int(np.ceil(np.log(1e-6) / np.log(0.81)))


def test_conclusion_verdict_vocabulary():
    assert OD.conclusion_verdict([True, True]) == "verified"
    assert OD.conclusion_verdict([False]) == "not reproduced"
    assert OD.conclusion_verdict([True, False]) == "depends on an unstated setting"
    with pytest.raises(ValueError):
        OD.conclusion_verdict([])


@pytest.mark.slow
def test_claims_rows():
    rows = {c.id: c for c in belotto_gazeau.claims()}
    assert rows["BG-euler-identity"].status == "verified" and rows["BG-euler-recovers"].status == "corrected"
    assert rows["BG-concl-convex"].status == "depends on an unstated setting"
    assert rows["BG-fig1"].status == "untestable"


@pytest.mark.book
def test_chapter_conclusions(chapter_glue):
    g = chapter_glue
    assert g["cv_interior"] is True and g["cv_n_cases"] == 8
    assert 0 < g["cv_gd_wins"] < g["cv_n_cases"]          # holds on some convex problems only
    assert g["hist_steps_1"] != g["hist_steps_100"]
    assert 1.8 < g["eu_semi_ratio"] < 2.2                  # the two schemes differ at O(s)
    assert g["lyap_interior_below"] == 0


def test_adam_coefficients_equal_g_adam_bit_for_bit():
    # the solvers' fast path (float t) must give the very bits of the checked g_adam
    for lam in (0.0, 1e-3, 0.5):
        c = O.adam_coefficients(lam, 0.3, 7.0)
        for t in (1e-300, 1e-12, 0.01, 1.0, 123.4, 1e300, np.float64(2.5)):
            assert c.h(t) == O.g_adam(t, lam, 0.3) and c.p(t) == O.g_adam(t, lam, 7.0)
        ts = np.geomspace(1e-9, 1e3, 7)  # arrays go through g_adam itself
        assert np.array_equal(c.h(ts), O.g_adam(ts, lam, 0.3))
        with pytest.raises(ValueError, match="t must be > 0"):
            c.h(0.0)
        with pytest.raises(ValueError, match="t must be > 0"):
            c.p(-1.0)


def test_interior_margin_gap_is_the_bounded_minimum_minus_the_end_values():
    # the chapter's former inline computation, written out with the public lyapunov_margin
    from scipy.optimize import minimize_scalar

    for b1, b2 in [(0.9, 0.999), (0.3, 0.05), (0.97, 0.6)]:
        res = minimize_scalar(lambda lt, b1=b1, b2=b2: float(OL.lyapunov_margin(b1, b2, np.exp(lt))),
                              bounds=(-10, 10), method="bounded")
        ends = min(float(OL.lyapunov_margin(b1, b2, 0.0)), float(OL.lyapunov_margin(b1, b2, np.inf)))
        assert OL.interior_margin_gap(b1, b2) == res.fun - ends
    with pytest.raises(ValueError, match="beta1"):
        OL.interior_margin_gap(1.0, 0.5)
    with pytest.raises(ValueError, match="log_tau_bounds"):
        OL.interior_margin_gap(0.5, 0.5, (1.0, -1.0))


def test_reference_algorithms_flag_and_freeze_a_diverging_run():
    # gradient -exp(50 w): the runs climb until the gradient overflows (w > 14.2), then NaN

    def grad(w):
        with np.errstate(over="ignore"):
            return -np.exp(50.0 * np.asarray(w, dtype=float))

    assert OD.DIVERGENCE_LIMIT == ad.optimizers.DIVERGENCE_LIMIT
    th, m, v = run = OD.poster_adam(grad, [1.0], 0.9, 0.999, 0.5, 400)
    assert run.diverged and 0 < run.diverged_at <= 400
    k = run.diverged_at
    assert np.all(np.isfinite(th)) and np.all(np.isfinite(m)) and np.all(np.isfinite(v))
    assert np.all(th[k:] == th[k - 1]) and np.all(m[k:] == m[k - 1]) and np.all(v[k:] == v[k - 1])
    assert np.abs(th[:k]).max() <= OD.DIVERGENCE_LIMIT
    c = O.adam_coefficients(0.5, *O.adam_alphas(0.9, 0.999, 0.5))
    g0 = grad([1.0])
    e = OD.forward_euler(c, grad, [1.0], g0, g0**2, 0.5, 400)
    assert e.diverged and np.all(np.isfinite(e[0])) and np.all(e[0][e.diverged_at:] == e[0][e.diverged_at - 1])
    pk, at = OD.kingma_adam(grad, [1.0], 0.9, 0.999, 0.5, 400, return_diverged=True)
    assert 0 < at <= 400 and np.all(np.isfinite(pk)) and np.all(pk[at:] == pk[at - 1])
    assert np.array_equal(OD.kingma_adam(grad, [1.0], 0.9, 0.999, 0.5, 400), pk)
    # a converging run is not flagged and unpacks as before
    ok = OD.poster_adam(QUARTIC.grad, THETA0, 0.9, 0.999, 1e-3, 50)
    assert not ok.diverged and ok.diverged_at == -1 and len(ok) == 3
    assert OD.kingma_adam(QUARTIC.grad, THETA0, 0.9, 0.999, 1e-3, 50, return_diverged=True)[1] == -1
