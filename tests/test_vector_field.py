"""Tests of adamdyn.vector_field and the Adam-vector-field chapter."""


import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st

import adamdyn as ad
from adamdyn import bounds as B
from adamdyn import field_flow as FF
from adamdyn import vector_field as V
from adamdyn_book.ledger import dereich_jentzen_kassing
from conftest import rerun_glue
from adamdyn import field_symmetry as FS
from adamdyn import stochastic_adam as SA
from adamdyn import vector_field_ergodic as VE

X_ASYM, P_ASYM = np.array([-1.0, 9.0]), np.array([0.9, 0.1])


# --- the update rule -------------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(st.floats(0.0, 0.99), st.floats(0.0, 0.999), st.sampled_from([0.0, 1e-8, 1e-3]), st.booleans(),
       st.integers(0, 10**6))
@example(0.5, 0.0, 0.0, False, 146276)  # theta reaches ~1e5 here: a fixed rtol of 1e-9 once failed
def test_adam_loop_is_ad_adam_at_constant_step(b1, b2, eps, bc, seed):
    # same rule: the gradients our loop saw, fed to the shared library's Adam, give the same updates
    rng = np.random.default_rng(seed)
    A, y = rng.standard_normal((3, 2)), rng.standard_normal(3)
    r = SA.adam_least_squares(A, y, [0.5, -0.5], 200, gamma=0.01, beta1=b1, beta2=b2, eps=eps,
                             bias_correction=bc, runs=3, seed=seed, record_every=1)
    upd = np.diff(r.path, axis=0)                                      # (T, runs, d)
    # recover the sampled row at each step from the residual structure: recompute through the seed
    cdf = np.cumsum(np.full(3, 1 / 3))
    draws = np.random.default_rng(seed)
    idx = VE._draw_indices(draws, cdf, (200, 3))
    res = np.einsum("trd,trd->tr", r.path[:-1], A[idx]) - y[idx]
    grads = res[..., None] * A[idx]
    ref = ad.updates_from_gradients(ad.adam(lr=0.01, beta1=b1, beta2=b2, eps=eps, bias_correction=bc), grads)
    # upd is a difference of iterates, exact only to rounding of the iterates themselves: with
    # beta2 = 0 a run can wander to |theta| ~ 1e5 while taking steps of 1e-3, so the comparison
    # allows 2 ulp of |theta| on top of a 1e-9 relative floor for the accumulated moments.
    ulp = np.finfo(float).eps * np.maximum(np.abs(r.path[:-1]), np.abs(r.path[1:]))
    assert np.all(np.abs(upd - ref) <= 1e-9 * np.abs(ref) + 2 * ulp + 1e-15)


def test_adam_loop_matches_ad_run_on_deterministic_quadratic():
    # one sample with A = I: F is the quadratic |theta - y|^2 / 2 and ad.run's landscape is the same
    A, y = np.ones((1, 1)), np.array([1.5])
    quad = ad.landscapes.from_function(lambda x: 0.5 * np.sum((x - 1.5) ** 2, -1), lambda x: x - 1.5, dim=1)
    ours = SA.adam_least_squares(A, y, [0.0], 3000, gamma=0.003, beta1=0.9, beta2=0.999, runs=1, record_every=1)
    ref = ad.run(ad.adam(lr=0.003), quad, [0.0], 3000)
    np.testing.assert_allclose(ours.path[:, 0, 0], ref.path[:, 0, 0], rtol=1e-12, atol=1e-14)


# --- the field ---------------------------------------------------------------

def test_sign_limit_beta_zero():
    # beta1 = beta2 = 0: h = -E sign(G), a closed form
    th = np.array([-0.5, 0.3, 5.0])
    s = V.field_series(V.quadratic_gradient_values(th, X_ASYM), P_ASYM, 0.0, 0.0)
    np.testing.assert_allclose(s.value, -(0.9 * np.sign(th + 1) + 0.1 * np.sign(th - 9)), atol=1e-7)


@pytest.mark.slow
def test_two_methods_agree_within_errors():
    th = np.linspace(-0.5, 0.5, 5)
    for b1, b2 in [(0.9, 0.99), (0.5, 0.9)]:
        g = V.quadratic_gradient_values(th, X_ASYM)
        s = V.field_series(g, P_ASYM, b1, b2)
        e = VE.field_ergodic(g, P_ASYM, b1, b2, steps=20000, replicas=32, seed=3)
        assert np.all(s.error < 1e-5)
        assert np.all(np.abs(s.value - e.value) <= 4 * e.stderr + s.error), (b1, b2)
        # and the two are not trivially equal: ergodic error bars are real
        assert np.all(e.stderr > 1e-5)


def test_delta_method_predicts_small_gap():
    # for beta2 -> 1 the zero approaches mean + c kappa / (2 sigma2); here kappa/(2 sigma2) = -4
    f = lambda t: float(V.field_series(V.quadratic_gradient_values(t, X_ASYM), P_ASYM, 0.9, 0.99, error=False).value)
    z = V.field_zero(f, -0.3, 0.3)
    c = V.delta_method_coefficient(0.9, 0.99)
    assert abs(z - (-4 * c)) < 0.05 * abs(z)


def test_symmetric_noise_zero_at_mean():
    x, p = np.array([-1.0, 1.0]), np.array([0.5, 0.5])
    s = V.field_series(V.quadratic_gradient_values(np.array([0.0, 0.2]), x), p, 0.9, 0.99)
    assert abs(s.value[0]) < 1e-8 and s.value[1] < -0.05


@settings(max_examples=20, deadline=None)
@given(st.floats(0.1, 10.0), st.floats(-0.4, 0.4))
def test_field_scale_invariance(c, th):
    # eps = 0: m/sqrt(v) is invariant under G -> c G
    g = V.quadratic_gradient_values(np.array([th]), X_ASYM)
    a = V.field_series(g, P_ASYM, 0.5, 0.9, error=False).value
    b = V.field_series(c * g, P_ASYM, 0.5, 0.9, error=False).value
    np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


def test_truncation_bound_closed_form():
    K = V.truncation_length(0.9, 0.99, 1e-10)
    assert 0.99**K <= 1e-10 < 0.99 ** (K - 1)
    R = B.finite_step_sup(0.9, 0.99, 10**5)
    # by hand: R^2 = 0.1^2 / (0.01 (1 - 0.81/0.99)) = 1 / (1 - 9/11) = 11/2
    np.testing.assert_allclose(R, np.sqrt(11 / 2), rtol=1e-10)
    # and the finite sum term by term, a_k^2 / b_k = (1 - b1)^2 b1^2k / ((1 - b2) b2^k), for a short K
    k = np.arange(7)
    np.testing.assert_allclose(B.finite_step_sup(0.9, 0.99, 7), np.sqrt(np.sum(0.01 * 0.81**k / (0.01 * 0.99**k))),
                               rtol=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="beta1"):
        V.field_series([[1.0, 2.0]], [0.5, 0.5], beta1=1.0)
    with pytest.raises(ValueError, match="probs"):
        V.field_series([[1.0, 2.0]], [0.6, 0.6])
    with pytest.raises(ValueError, match="gamma0"):
        SA.step_sizes(10, -1.0, 0.5, 10)
    with pytest.raises(ValueError, match="lo, hi"):
        V.field_zero(lambda t: 1.0, 0.0, 1.0)


def test_determinism():
    a = SA.adam_least_squares(np.ones((2, 1)), X_ASYM, [3.0], 5000, probs=P_ASYM, runs=4, seed=7)
    b = SA.adam_least_squares(np.ones((2, 1)), X_ASYM, [3.0], 5000, probs=P_ASYM, runs=4, seed=7)
    assert np.array_equal(a.path, b.path)


# --- epsilon > 0, both placements, and the symmetry theorem ------------------------------

def test_epsilon_kernel_against_direct_quadrature():
    from scipy.integrate import quad
    for placement, exact in [("inside", lambda v, e: 1 / np.sqrt(v + e)), ("outside", lambda v, e: 1 / (np.sqrt(v) + e))]:
        for eps, v in [(0.3, 0.5), (0.01, 2.0), (1e-2, 1e-3)]:
            val = 2 / np.sqrt(np.pi) * quad(lambda r: V.epsilon_kernel(r, eps, placement) * np.exp(-r * r * v), 0, np.inf,
                                            limit=400)[0]
            assert val == pytest.approx(exact(v, eps), rel=1e-8)
    with pytest.raises(ValueError, match="placement"):
        V.epsilon_kernel(1.0, 0.1, "between")


def test_series_with_eps_matches_the_closed_form_at_beta_zero():
    # beta1 = beta2 = 0: m = G, v = G^2, so h = -E[G/sqrt(G^2+eps)] or -E[G/(|G|+eps)] by hand
    g, p = np.array([[0.3, -2.0]]), np.array([0.4, 0.6])
    inside = -(0.4 * 0.3 / np.sqrt(0.09 + 0.01) + 0.6 * -2.0 / np.sqrt(4.0 + 0.01))
    outside = -(0.4 * 0.3 / 0.31 - 0.6 * 2.0 / 2.01)
    for placement, exact in [("inside", inside), ("outside", outside)]:
        f = V.field_series(g, p, 0.0, 0.0, eps=0.01, eps_placement=placement)
        assert abs(f.value[0] - exact) <= f.error[0] < 1e-5     # within its own error bound
    assert V.sign_field(g, p, 0.01, "inside")[0] == pytest.approx(inside, rel=1e-14)
    assert V.sign_field(g, p, 0.01, "outside")[0] == pytest.approx(outside, rel=1e-14)
    assert V.sign_field(g, p)[0] == pytest.approx(-(0.4 - 0.6), abs=1e-15)


def test_series_outside_placement_agrees_with_the_ergodic_chain():
    g, p = np.array([[0.3, -1.2, 2.0]]), np.array([0.5, 0.3, 0.2])
    s = V.field_series(g, p, 0.9, 0.99, eps=0.05, eps_placement="outside")
    e = VE.field_ergodic(g, p, 0.9, 0.99, eps=0.05, eps_placement="outside", steps=20000, replicas=16)
    assert abs(s.value[0] - e.value[0]) < 4 * e.stderr[0] + s.error[0]


def test_stationary_mv_moment_by_enumeration():
    # every history of length K of a two-point law, with the truncated weights (error beta^K ~ 5e-7)
    import itertools
    b1, b2, K = 0.3, 0.3, 12
    a, b = V.stationary_weights(b1, b2, K)
    x, p = np.array([-1.0, 2.5]), np.array([0.7, 0.3])
    total = 0.0
    for seq in itertools.product(range(2), repeat=K):
        idx = np.array(seq)
        total += np.prod(p[idx]) * (a @ x[idx]) * (b @ x[idx] ** 2)
    assert V.stationary_mv_moment(x, p, b1, b2) == pytest.approx(total, abs=1e-5)


def test_eps_field_scales_with_rho_over_sqrt_eps_and_is_gradient_descent_near_the_set():
    A = np.random.default_rng(4).standard_normal((3, 5))
    d = np.random.default_rng(5).standard_normal((50, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    g = V.residual_gradient_values(d, A)
    p3 = np.full(3, 1 / 3)
    # inside: h depends on (rho, eps) through rho / sqrt(eps) only; outside: through rho / eps only
    np.testing.assert_allclose(V.sign_field(1e-5 * g, p3, 1e-8, "inside"), V.sign_field(1e-4 * g, p3, 1e-6, "inside"),
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(V.sign_field(1e-8 * g, p3, 1e-8, "outside"), V.sign_field(1e-6 * g, p3, 1e-6, "outside"),
                               rtol=1e-12, atol=1e-15)
    hs = V.field_series(1e-5 * g[:3], p3, 0.9, 0.99, eps=1e-8, nodes=24, error=False).value
    hl = V.field_series(1e-4 * g[:3], p3, 0.9, 0.99, eps=1e-6, nodes=24, error=False).value
    np.testing.assert_allclose(hs, hl, rtol=1e-6, atol=1e-12)
    # rho -> 0: h -> -grad f / sqrt(eps) (the limit, derived by hand)
    rho, eps = 1e-9, 1e-8
    grad = rho * g.mean(axis=-1)
    np.testing.assert_allclose(V.sign_field(rho * g, p3, eps, "inside"), -grad / np.sqrt(eps), rtol=1e-6)
    # below the second-order radius every direction has a negative rate
    rc = FF.lyapunov_crossover_radius(g, p3, 0.0, 0.0, eps, g.mean(axis=-1))
    r = 0.5 * rc.min()
    rate = np.sum(r * g.mean(axis=-1) * V.sign_field(r * g, p3, eps, "inside"), -1)
    assert np.all(rate < 0)


@pytest.mark.slow
def test_symmetry_gaps_decide_by_symmetry():
    # the asymmetric law has mean 0 and third moment 0 (by hand: -0.3 - 0.5 + 0.8, -2.7 - 0.5 + 3.2)
    x, p = np.array([-3.0, -1.0, 2.0]), np.array([0.1, 0.5, 0.4])
    assert p @ x == pytest.approx(0, abs=1e-15) and p @ x**3 == pytest.approx(0, abs=1e-14)
    laws = {"symmetric": ([-2.0, -0.5, 0.5, 2.0], [0.2, 0.3, 0.3, 0.2]), "zero skew": (x, p),
            "skewed": ([-1.0, 9.0], [0.9, 0.1])}
    rows = FS.symmetry_gaps(laws, [(0.9, 0.99)])
    assert rows["symmetric"][0]["symmetric"] and not rows["zero skew"][0]["symmetric"]
    assert abs(rows["symmetric"][0]["gap"]) <= rows["symmetric"][0]["bound"]
    assert rows["zero skew"][0]["z"] > 100
    # the skewed law against the second-order (delta-method) prediction c kappa / (2 sigma^2) = -4 c
    assert rows["skewed"][0]["gap"] == pytest.approx(-4 * V.delta_method_coefficient(0.9, 0.99), rel=0.05)
    assert FS.symmetry_verdict(rows) == "verified"


@pytest.mark.slow
def test_claims_rows_are_well_formed():
    rows = dereich_jentzen_kassing.claims()
    assert {c.id for c in rows} == {"DJK-pseudo-trajectory", "DJK-limit-zero", "DJK-overparametrised", "DDJW-symmetry"}
    assert all(c.status == "verified" for c in rows)


# --- the chapter -------------------------------------------------------------

@pytest.fixture(scope="module")
def g(book_glue):
    return book_glue("vector_field")


@pytest.mark.book
def test_chapter_two_methods_agree(g):
    assert g["vf_series_err"] < 1e-5 and g["vf_erg_err"] > 1e-4
    assert g["vf_max_z"] < 4.0                        # within the error estimates
    assert abs(g["vf_rep_zero"] - g["vf_zero"]) < g["vf_rep_zero_half"] + g["vf_zero_band"]
    assert abs(g["vf_R"] - g["vf_R_sympy"]) < 1e-12   # the sum term by term and sympy's closed form
    assert abs(g["vf_R"] - np.sqrt(11 / 2)) < 1e-9     # by hand at (0.9, 0.99): R^2 = 1 / (1 - 9/11)


@pytest.mark.book
def test_chapter_adam_converges_to_field_zero_not_minimizer(g):
    assert g["vf_diverged"] == 0
    assert g["vf_final_to_zero"] < 1.0                # inside the 95% band of the zero
    assert g["vf_final_to_min"] > 3.0                 # and well away from the minimizer
    assert g["vf_zero"] < g["vf_mean_x"] - 0.02       # skewness kappa < 0 pushes the zero left


@pytest.mark.book
def test_chapter_symmetric_control(g):
    assert abs(g["vf_sym_zero"]) < 1e-8               # symmetry: h(0) = 0 exactly
    assert abs(g["vf_sym_mean"] - g["vf_sym_zero"]) < g["vf_sym_half"]


@pytest.mark.book
def test_chapter_second_order_gap(g):
    # c kappa / (2 sigma^2) with kappa = -72, sigma^2 = 9 at the minimizer
    assert g["vf_kappa"] == pytest.approx(-72.0, abs=1e-9)
    assert g["vf_pred_gap"] == pytest.approx(-4 * V.delta_method_coefficient(0.9, 0.99), rel=1e-12)
    assert abs(g["vf_gap"] / g["vf_pred_gap"] - 1) < 0.05
    assert abs(g["vf_gap_default_adam"]) < abs(g["vf_gap"])   # beta2 = 0.999 shrinks the gap
    assert g["vf_adam_vs_field"] < 1.5    # Adam's mean within ~1.5 half-widths of the zero on the whole grid


@pytest.mark.book
def test_chapter_pseudo_trajectory(g):
    assert g["vf_pt_small"] < g["vf_pt_big"] / 3
    assert 0.2 < g["vf_pt_slope"] < 0.8
    assert g["vf_moving_last"] < g["vf_moving_first"]


@pytest.mark.book
def test_chapter_overparametrised(g):
    assert g["vf_op_fmax"] < 1e-6                     # global minimum value is 0
    assert g["vf_scale_inv"] < 1e-8                   # eps = 0: h constant along rays
    assert g["vf_rate_over_frac"] == 1.0 and g["vf_rate_over_max"] < 0
    assert g["vf_rate5_sign_frac"] > 0 and g["vf_rate5_adam_max"] < 0
    # sign descent: a cone of zeros of the field off the minima; runs started there stall
    assert g["vf_row_product_min"] > 0 and g["vf_sign_cone_frac"] > 0 and g["vf_rate_sign_max"] <= 0
    assert g["vf_sign_cone_f_sign"] > 0.1 * g["vf_sign_cone_f0"]
    # eps > 0: the cone is gone within sqrt(eps), and f decreases along the field near the set
    assert g["vf_cone_eps_frac"] == 1.0
    assert g["vf_eps_frac_eps0"] > 0 and g["vf_eps_frac_in_small"] == 0 and g["vf_eps_adam_up"] == 0
    assert g["vf_sign_cone_f_adam"] < 1e-6
    assert g["vf_op_under_dist_zero"] < g["vf_op_under_dist_min"]
    assert g["vf_rate_under_frac"] > 0


def g_default_gap_bound():
    return -4 * V.delta_method_coefficient(0.9, 0.99)   # the default's predicted gap (negative)


@pytest.mark.chapter
def test_chapter_rerun_smaller_beta2_widens_gap():
    h = rerun_glue("vector_field", dict(beta2=0.9, steps=400000, runs=16, op_steps=100000, pt_gammas=[0.1, 0.01]))
    c = V.delta_method_coefficient(0.9, 0.9)
    assert h["vf_pred_gap"] == pytest.approx(-4 * c, rel=1e-12)
    # the gap widens with c; the second-order prediction is only first order in c,
    # so allow an O(c) relative error (c = 0.053 here, against 0.0092 at the default)
    assert h["vf_gap"] < 4 * g_default_gap_bound()
    assert 0.8 < h["vf_gap"] / h["vf_pred_gap"] < 1.5


@pytest.mark.parametrize("tol", [1e-2, 1e-4])
def test_truncation_bound_holds(tol):
    # a coarse truncation differs from a fine one by no more than the stated bound
    th = np.array([-0.3, 0.0, 0.4])
    g = V.quadratic_gradient_values(th, X_ASYM)
    coarse = V.field_series(g, P_ASYM, 0.9, 0.9, tol=tol, nodes=128, error=False)
    fine = V.field_series(g, P_ASYM, 0.9, 0.9, tol=1e-14, nodes=128)
    K = coarse.K
    g_max = np.abs(g).max(axis=-1)
    v_low = (1 - 0.9**K) * (g * g).min(axis=-1)
    bound = np.array([V.truncation_bound(0.9, 0.9, K, gm, vl) for gm, vl in zip(g_max, v_low)])
    diff = np.abs(coarse.value - fine.value)
    assert np.all(diff <= bound + fine.error + 1e-9)
    assert np.any(diff > 1e-3 * tol)          # the truncation does matter at this K


@settings(max_examples=10, deadline=None)
@given(st.lists(st.floats(-3.0, 3.0).filter(lambda x: abs(x) > 0.2), min_size=3, max_size=3),
       st.lists(st.floats(0.1, 1.0), min_size=3, max_size=3), st.floats(0.0, 0.8), st.floats(0.3, 0.9))
def test_series_matches_ergodic_random_laws(vals, w, b1, b2):
    p = np.array(w) / np.sum(w)
    g = np.array([vals])
    s = V.field_series(g, p, b1, b2)
    e = VE.field_ergodic(g, p, b1, b2, steps=20000, replicas=16, seed=11)
    assert abs(s.value[0] - e.value[0]) <= 5 * e.stderr[0] + s.error[0] + 1e-12


def test_mean_confidence_half_width_is_the_student_t_interval_of_scipy_stats():
    from scipy import stats

    from adamdyn.stochastic_adam import mean_confidence

    rng = np.random.default_rng(3)
    for n in (2, 3, 10, 57, 200):
        for level in (0.9, 0.95, 0.99):
            x = rng.standard_normal((4, n))
            mean, half = mean_confidence(x, level)
            lo, hi = stats.t.interval(level, n - 1, loc=x.mean(axis=-1), scale=stats.sem(x, axis=-1))
            np.testing.assert_array_equal(mean, x.mean(axis=-1))
            np.testing.assert_allclose(half, (hi - lo) / 2, rtol=1e-13)
            assert np.array_equal(half, stats.t.ppf(0.5 + level / 2, n - 1) * x.std(axis=-1, ddof=1) / np.sqrt(n))
