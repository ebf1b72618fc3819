"""adamdyn.bounds: Propositions 1 and 2 and the bias lemma (Kaiser, section 4), library level.

Tolerances: closed forms are compared to 1e-12 relative (float64 rounding of a few dozen
operations); Adam's simulated updates to the bounds to 1e-9 relative (a history of up to a few
hundred steps accumulates rounding of order T * 1e-16).
"""

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import adamdyn as ad
from adamdyn import flat_distance as FD
from adamdyn import bounds as B
from adamdyn_book.ledger import STATUSES, Claim
from adamdyn_book.ledger import kaiser_s4

b1, b2 = B.beta1, B.beta2


def series_p1(x1, x2, terms=200_000):
    """Proposition 1's bound as the Cauchy-Schwarz series summed term by term (not the closed form)."""
    q = x1**2 / x2
    total, term = 0.0, 1.0
    for _ in range(terms):
        total += term
        term *= q
        if term < 1e-18 * total:
            break
    return (1 - x1) / np.sqrt(1 - x2) * np.sqrt(total)


# ------------------------------------------------------------------ symbolic
def test_symbols_are_positive_and_shared():
    assert b1.is_positive and b2.is_positive and str(b1) == "beta1" and str(b2) == "beta2"
    from adamdyn import noise
    assert noise.beta1 is b1 and noise.beta2 is b2


def test_step_bound_expr_is_the_limit_of_the_finite_sup():
    P1 = B.step_bound_expr()
    assert P1.free_symbols == {b1, b2}
    # independent route: the finite Cauchy-Schwarz sup at t = 400, numerically, approaches the limit
    fin = B.finite_step_sup_expr(400).subs({b1: sp.Rational(9, 10), b2: sp.Rational(999, 1000)})
    lim = P1.subs({b1: sp.Rational(9, 10), b2: sp.Rational(999, 1000)})
    q = 0.81 / 0.999
    assert abs(float(fin) / float(lim) - np.sqrt(1 - q**400)) < 1e-12
    # by hand at the defaults: 0.1^2 * 0.999 / (0.001 * (0.999 - 0.81)) = 0.00999 / 0.000189 = 370/7
    assert sp.simplify(lim - sp.sqrt(sp.Rational(370, 7))) == 0
    # limits: beta1 -> 0 is RMSProp's worst step 1/sqrt(1 - beta2) (v sees the one nonzero gradient);
    # (0.5, 0.5) by hand: 0.5 sqrt(0.5) / sqrt(0.5 * 0.25) = 1
    assert sp.simplify(sp.limit(P1, b1, 0) - 1 / sp.sqrt(1 - b2)) == 0
    assert P1.subs({b1: sp.Rational(1, 2), b2: sp.Rational(1, 2)}) == 1
    # beta1^2 -> beta2: the bound blows up like 1/sqrt(beta2 - beta1^2), since P1^2 (beta2 - beta1^2) tends to
    # beta2 (1 - sqrt(beta2))^2 / (1 - beta2) > 0; at beta2 = 0.81 that is 0.81 * 0.01 / 0.19 = 81/1900
    at = P1.subs(b2, sp.Rational(81, 100))
    assert sp.limit(at**2 * (sp.Rational(81, 100) - b1**2), b1, sp.Rational(9, 10)) == sp.Rational(81, 1900)


def test_defaults_symbolic_numeric_and_paper_agree():
    sym = float(B.step_bound_expr().subs({b1: sp.Rational(9, 10), b2: sp.Rational(999, 1000)}))
    num = float(B.step_bound(0.9, 0.999))
    assert abs(sym - num) < 1e-12 and abs(num - series_p1(0.9, 0.999)) < 1e-12
    assert abs(num - np.sqrt(370 / 7)) < 1e-12        # by hand: 0.00999 / 0.000189 = 370/7
    assert abs(num - 7.3) < 0.05                       # the paper prints "about 7.3 eta" (2 digits)
    D = float(FD.flat_distance_bound(0.9, 0.999))
    symD = float(FD.flat_distance_bound_expr().subs({b1: sp.Rational(9, 10), b2: sp.Rational(999, 1000)}))
    assert abs(symD - D) < 1e-11
    assert abs(D - 73) < 0.5                           # the paper prints "about 73 eta"
    rho = 0.9 / np.sqrt(0.999)
    assert abs(D / (series_p1(0.9, 0.999) * sum(rho**i for i in range(20000))) - 1) < 1e-12
    # Prop 2 / Prop 1 = 1 / (1 - beta1/sqrt(beta2)): the "about 10 steps"
    assert abs(D / num - 1 / (1 - 0.9 / np.sqrt(0.999))) < 1e-12
    assert abs(float(B.step_bound(0.9, 0.999, eta=1e-3)) - 1e-3 * num) < 1e-15


def test_bounds_are_infinite_exactly_where_they_do_not_exist():
    x1, x2 = np.meshgrid(np.linspace(0, 0.99, 50), np.linspace(0, 0.999, 50))
    ex = B.step_bound_exists(x1, x2)
    np.testing.assert_array_equal(ex, x1**2 < x2)
    np.testing.assert_array_equal(np.isposinf(B.step_bound(x1, x2)), ~ex)
    np.testing.assert_array_equal(np.isposinf(FD.flat_distance_bound(x1, x2)), ~ex)
    np.testing.assert_array_equal(FD.flat_distance_bound_exists(x1, x2), ex)
    assert np.isposinf(B.step_bound(0.9, 0.81)) and np.isfinite(B.step_bound(0.9, 0.8101))


def test_lemma_rearrangement_and_the_papers_sign_slip():
    t = B.t
    assert sp.simplify(B.lemma_rearranged().rhs - (2 * b1**t - b1 ** (2 * t))) == 0
    paper = B.lemma_paper_rearranged()
    # the paper's right-hand side is negative for every beta1 in (0, 1): its inequality is vacuous
    for x in (0.1, 0.5, 0.9, 0.999):
        for n in (1, 2, 10):
            assert float(paper.rhs.subs({b1: x, t: n})) < 0


def _lemma_fails_somewhere(x1, x2, horizon):
    """Brute force, written here: is sqrt(1 - b2^t)/(1 - b1^t) > 1 for some t <= horizon?"""
    import math

    for t in range(1, horizon + 1):
        if math.sqrt(1 - x2**t) > (1 - x1**t) * (1 + 1e-13):
            return True
    return False


def test_lemma_exact_condition_against_brute_force():
    rng = np.random.default_rng(3)
    x1, x2 = rng.uniform(0, 0.99, 600), rng.uniform(0, 0.999, 600)
    # and points on both sides of the boundary 1 - beta2 = (1 - beta1)^2, where a wrong condition would show
    b = rng.uniform(0.05, 0.95, 200)
    edge = 1 - (1 - b) ** 2
    x1 = np.concatenate([x1, b, b])
    x2 = np.concatenate([x2, edge * (1 + 1e-6), edge * (1 - 1e-4)])
    brute = np.array([_lemma_fails_somewhere(a, c, 2000) for a, c in zip(x1, x2)])
    np.testing.assert_array_equal(~brute, B.bias_lemma_holds(x1, x2))
    assert brute[-200:].all() and not brute[-400:-200].any()   # just below the boundary fails, just above holds
    # the library's own brute force agrees, and a failure is already at t = 1 (the base case decides)
    first = B.bias_lemma_first_failure(x1, x2, horizon=2000)
    np.testing.assert_array_equal(first > 0, brute)
    assert np.all(first[first > 0] == 1)
    cond = B.bias_lemma_condition_expr()
    assert bool(cond.subs({b1: sp.Rational(9, 10), b2: sp.Rational(999, 1000)}))
    assert not bool(cond.subs({b1: sp.Rational(9, 10), b2: sp.Rational(9, 10)}))


def test_counterexample_satisfies_papers_hypothesis_but_fails_lemma():
    assert 0.9 > 0.9**2 and not B.bias_lemma_holds(0.9, 0.9)
    assert abs(float(B.bias_factor(0.9, 0.9, 1)) - np.sqrt(0.1) / 0.1) < 1e-12
    assert B.bias_lemma_holds(0.9, 0.999) and abs(float(B.bias_factor(0.9, 0.999, 1)) - 10**-0.5) < 1e-12


def test_am_gm_identity():
    gap, factored = B.am_gm_gap_expr()
    n = B.t
    # the gap as defined, typed from the derivation: (1 - b1^n)^2 - (1 - b1^2n / b2^n)(1 - b2^n) ...
    typed_gap = (1 - b1**n) ** 2 - (1 - b1 ** (2 * n) / b2**n) * (1 - b2**n)
    assert sp.simplify(gap - typed_gap) == 0
    # ... and its factored form, by hand: expanding, the gap is b1^2n/b2^n - 2 b1^n + b2^n = (b2^n - b1^n)^2 / b2^n
    assert sp.simplify(factored - (b2**n - b1**n) ** 2 / b2**n) == 0
    # exact values at points computed by hand (x = b1^n, y = b2^n; gap = (y - x)^2 / y):
    # (1/2, 1/4, n=1): (1/4)^2 * 4 = 1/4;  (1/3, 2/3, 1): (1/3)^2 * 3/2 = 1/6;
    # (1/2, 3/4, 2): x = 1/4, y = 9/16: (5/16)^2 * 16/9 = 25/144;  (1/2, 1/2, 3): x = y, 0
    R = sp.Rational
    for x1, x2, k, value in ((R(1, 2), R(1, 4), 1, R(1, 4)), (R(1, 3), R(2, 3), 1, R(1, 6)),
                             (R(1, 2), R(3, 4), 2, R(25, 144)), (R(1, 2), R(1, 2), 3, 0)):
        vals = {b1: x1, b2: x2, n: k}
        assert sp.nsimplify(gap.subs(vals)) == value and sp.nsimplify(factored.subs(vals)) == value
    for x1, x2, k in ((0.9, 0.95, 3), (0.5, 0.3, 7), (0.2, 0.9, 1)):
        assert float(factored.subs({b1: x1, b2: x2, n: k})) >= 0


# ------------------------------------------------------------------ Adam against the bounds
@pytest.mark.parametrize("bc", [False, True])
@pytest.mark.parametrize("x1,x2", [(0.9, 0.999), (0.9, 0.95), (0.5, 0.6), (0.0, 0.5)])
def test_extremal_history_attains_the_finite_sup(x1, x2, bc):
    opt = ad.adam(lr=1.0, beta1=x1, beta2=x2, eps=0.0, bias_correction=bc)
    for T in (1, 5, 60):
        step = -ad.updates_from_gradients(opt, B.extremal_history(x1, x2, T))[-1]
        assert abs(step / B.finite_step_sup(x1, x2, T, bias_correction=bc) - 1) < 1e-12


def test_long_extremal_history_attains_the_limit():
    opt = ad.adam(lr=1.0, beta1=0.9, beta2=0.999, eps=0.0, bias_correction=False)
    step = -ad.updates_from_gradients(opt, B.extremal_history(0.9, 0.999, 300))[-1]
    assert abs(step / B.step_bound(0.9, 0.999) - 1) < 1e-12  # q^300 ~ 1e-27


def test_bias_corrected_sup_never_exceeds_bound_where_lemma_fails():
    x1, x2 = np.meshgrid(np.linspace(0.01, 0.99, 60), np.linspace(0.01, 0.999, 60))
    m = (x1**2 < x2) & ~B.bias_lemma_holds(x1, x2)
    assert m.sum() > 500
    n = np.arange(1, 2001).reshape(-1, 1)
    ratio = B.finite_step_sup(x1[m], x2[m], n, bias_correction=True) / B.step_bound(x1[m], x2[m])
    assert ratio.max() <= 1 + 1e-12
    # and the bias factor does exceed 1 there, so the lemma really is not what saves the bound
    assert np.all(B.bias_factor(x1[m], x2[m], 1) > 1)


@pytest.mark.parametrize("bc,eps", [(False, 0.0), (True, 0.0), (True, 1e-8)])
def test_optimized_history_approaches_but_never_exceeds(bc, eps):
    best, hist = B.max_step_history(0.9, 0.999, 20, eps=eps, bias_correction=bc, restarts=2, seed=1)
    sup = float(B.finite_step_sup(0.9, 0.999, 20, bias_correction=bc))
    assert best <= sup * (1 + 1e-12)
    assert best >= sup * (1 - 1e-6)  # L-BFGS-B on a smooth objective; the box [-1, 1] costs < eps/|g| ~ 1e-7
    assert np.all(np.abs(hist) <= 1.0)


# Hypothesis: for ANY finite history, any eps >= 0, with or without bias correction,
# whenever beta1^2 < beta2, every Adam update is at most eta * Prop. 1 bound.
@settings(max_examples=50, deadline=None)
@given(st.floats(0.0, 0.99), st.floats(0.001, 0.999), st.sampled_from([0.0, 1e-8, 1e-3]), st.booleans(),
       st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=80))
def test_no_history_exceeds_prop1(x1, x2, eps, bc, hist):
    assume(x2 > x1**2 * (1 + 1e-6))
    opt = ad.adam(lr=1e-3, beta1=x1, beta2=x2, eps=eps, bias_correction=bc)
    steps = np.abs(ad.updates_from_gradients(opt, np.array(hist)))
    assert steps.max() <= B.step_bound(x1, x2, eta=1e-3) * (1 + 1e-9)


# Hypothesis: after any history, the distance covered once the gradients vanish, counted from
# the start of the last step with a nonzero gradient, is at most eta * Prop. 2 bound (same conditions).
@settings(max_examples=50, deadline=None)
@given(st.floats(0.0, 0.99), st.floats(0.001, 0.999), st.sampled_from([0.0, 1e-8]), st.booleans(),
       st.lists(st.floats(-1e3, 1e3, allow_nan=False).filter(lambda v: v != 0), min_size=1, max_size=60))
def test_no_history_crosses_farther_than_prop2(x1, x2, eps, bc, hist):
    assume(x2 > x1**2 * (1 + 1e-6))
    rho = x1 / np.sqrt(x2)
    flat = int(min(4000, np.ceil(np.log(1e-12) / np.log(rho)))) if rho > 0 else 1
    g = np.concatenate([hist, np.zeros(flat)])
    opt = ad.adam(lr=1.0, beta1=x1, beta2=x2, eps=eps, bias_correction=bc)
    u = ad.updates_from_gradients(opt, g)
    travelled = abs(u[len(hist) - 1:].sum())
    assert travelled <= FD.flat_distance_bound(x1, x2) * (1 + 1e-9)


def test_arrival_state_and_map_agree_with_closed_forms():
    sim, exact, limit, under = FD.simulate_flat_map(np.array([0.9, 0.5, 0.95, 0.3]), np.array([0.999, 0.9, 0.9, 0.05]),
                                                   5000, 5000)
    assert np.isnan(sim[2]) and np.isposinf(limit[2])        # 0.95^2 > 0.9: no bound, no run
    ok = np.isfinite(limit) & ~under
    assert ok.sum() >= 2
    assert np.all(np.abs(sim[ok] / exact[ok] - 1) < 1e-9)
    assert abs(sim[0] / limit[0] - 1) < 1e-9                  # q^5000, rho^5000 negligible at the defaults


def test_crossing_distances_flags_runs_that_never_arrive():
    path = np.array([[-3.0, -3.0], [-2.0, -1.0], [-1.0, 0.5], [-0.5, 1.0]])[:, :, None]
    d_slope, d_edge, d_flat = FD.crossing_distances(path, 0.0)
    assert np.isnan(d_slope[0]) and np.isnan(d_edge[0])
    assert d_slope[1] == 2.0 and d_edge[1] == 1.0 and d_flat[1] == 0.5


def test_bad_input_names_the_parameter():
    with pytest.raises(ValueError, match="beta1"):
        B.step_bound(1.2, 0.9)
    with pytest.raises(ValueError, match="beta2"):
        FD.flat_distance_bound(0.9, -0.1)
    with pytest.raises(ValueError, match="eta"):
        B.step_bound(0.9, 0.999, eta=0.0)
    with pytest.raises(ValueError, match="steps"):
        B.extremal_history(0.9, 0.999, 0)


@pytest.mark.slow
def test_claims_rows():
    rows = kaiser_s4.claims()
    assert all(isinstance(r, Claim) and r.status in STATUSES and r.section == "4" for r in rows)
    ids = {r.id: r for r in rows}
    assert {"P1", "P2", "S4-lemma", "S4-10-steps"} <= set(ids)
    assert ids["S4-lemma"].status == "corrected" and ids["P1"].status == "verified"
    assert "7.2703" in ids["P1"].ours and "73.032" in ids["P2"].ours
    assert ids["S4-insignificant"].status == "corrected"
    assert "0.990 eta" in ids["S4-insignificant"].ours          # 1e-6 / (1e-6 + 1e-8), by hand


def test_plateau_arrival_starts_off_the_eta_grid():
    # from -1.0005 with unit steps of eta = 1e-3 the last slope point is -0.5 eta and the first flat point +0.5 eta
    (d_slope, d_edge, d_flat), tr = FD.plateau_arrival(0.9, 0.999, 1.0)
    # (each slope step is eta/(1 + eps): 1000 of them fall short by 1000 eps = 1e-5 eta)
    assert abs((d_slope[0] - d_edge[0]) / 1e-3 - 0.5) < 1e-4
    assert abs((d_edge[0] - d_flat[0]) / 1e-3 - 0.5) < 1e-4
