"""Tests of adamdyn.symbolic (Kaiser, section 2) and of the preliminaries chapter.

Expected values come from independent reasoning: closed forms solved by hand
(e.g. t = log(delta (2 - delta)) / log(beta2)), geometric series, and the
library's optimizers as a second method.
"""

from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

import adamdyn as ad
from adamdyn import landscapes as L
from adamdyn import symbolic as S
from adamdyn_book.ledger import STATUSES, Claim
from adamdyn_book.ledger import kaiser_s2
from conftest import rerun_glue

ROOT = Path(__file__).resolve().parents[1]
FAST = settings(max_examples=50, deadline=None)


def test_eq4_equals_algorithm1_symbolically_and_plain_eps_does_not():
    assert S.eq4_minus_algorithm1() == 0
    d = S.eq4_plain_eps_minus_algorithm1()
    assert d != 0
    assert sp.simplify(d.subs(S.eps, 0)) == 0  # the discrepancy is entirely an epsilon effect
    assert sp.nan == S.bias_factor_at_start()


@given(t=st.integers(1, 5000), m=st.floats(-10, 10), logv=st.floats(-30, 4), b1=st.floats(0, 0.999),
       b2=st.floats(0, 0.9999), logeps=st.floats(-12, -1))
@FAST
def test_eq4_and_algorithm1_evaluate_equal(t, m, logv, b1, b2, logeps):
    vals = {S.t: t, S.m: m, S.v: 10.0**logv, S.beta1: b1, S.beta2: b2, S.eps: 10.0**logeps, S.eta: 1.0}
    a = float(S.algorithm1_update().subs(vals))
    b = float(S.eq4_update().subs(vals))
    assert b == pytest.approx(a, rel=1e-12, abs=1e-300)


def test_eq4_check_is_rounding_only():
    chk = S.eq4_check(steps=500, n_random=2000, seed=1)
    assert chk["rel_formula"] < 1e-13 and chk["abs_path"] < 1e-13 and chk["rel_path_early"] < 1e-12


def test_eq4_path_matches_library_adam():
    land = L.sharp_valley()
    a = ad.run(ad.adam(lr=1e-2), land, x0=[0.7, -1.0], steps=2000).path
    b = S.eq4_path(land.grad, [0.7, -1.0], 2000, lr=1e-2)
    assert np.abs(a - b).max() < 1e-13


def test_explicit_sums_equal_recursions():
    for T in range(1, 7):
        assert S.explicit_minus_recursive(T) == (0, 0)
    # the sum as printed, with a stray nabla, is a different object: with sigma_t^2 summed over t it is not a moment
    mt, vt = S.constant_gradient_moments()
    assert sp.simplify(mt - S.g * (1 - S.beta1**S.t)) == 0
    assert sp.simplify(vt - S.g**2 * (1 - S.beta2**S.t)) == 0


def test_no_bias_correction_gain_and_its_maximum():
    gain = S.no_bias_correction_gain()
    assert sp.simplify(gain - (1 - S.beta1**S.t) / sp.sqrt(1 - S.beta2**S.t)) == 0
    assert sp.simplify(gain * S.bias_factor() - 1) == 0
    measured = 1 / S.simulated_bias_factor(200)
    t = np.arange(1, 201)
    np.testing.assert_allclose(measured, (1 - 0.9**t) / np.sqrt(1 - 0.999**t), rtol=1e-12)
    assert int(t[measured.argmax()]) == 12 and measured.max() == pytest.approx(6.5685, abs=1e-4)


@pytest.mark.parametrize("tol", [0.05, 0.01, 0.001])
@pytest.mark.parametrize("b1,b2", [(0.9, 0.999), (0.9, 0.99), (0.5, 0.9)])
def test_negligible_bias_time_closed_form_against_scan(tol, b1, b2):
    closed = float(S.negligible_bias_time().subs({S.delta: tol, S.beta2: b2}))
    # the defining equation, not the formula: at the closed-form t, sqrt(1 - beta2^t) = 1 - delta
    assert np.sqrt(1 - b2**closed) == pytest.approx(1 - tol, rel=1e-13)
    exact = S.first_negligible_step(tol, b1, b2)
    # beta1^t is negligible long before beta2^t here, so the exact step is the closed form rounded up
    assert exact == int(np.ceil(closed))
    sim = S.simulated_bias_factor(int(1.5 * exact) + 10, b1, b2)
    assert int(np.flatnonzero(np.abs(sim - 1) > tol)[-1]) + 2 == exact


def test_loss_scale_ratios():
    assert S.loss_scale_ratio(S.adagrad_update_printed()) == 1 / S.c
    assert S.loss_scale_ratio(S.adagrad_update_corrected(), epsilon=0) == 1
    assert sp.simplify(S.algorithm1_scale_ratio().subs(S.eps, 0)) == 1
    r = S.rmsprop_printed_step_ratio().subs({S.beta1: sp.Rational(9, 10), S.beta2: sp.Rational(999, 1000)})
    assert sp.nsimplify(r) == sp.Rational(1, 10)
    assert sp.simplify(S.rmsprop_fixed_point_corrected() - S.g**2) == 0


def test_argument_checks():
    with pytest.raises(ValueError, match="^tol must"):
        S.first_negligible_step(1.5)
    with pytest.raises(ValueError, match="^b2 must lie in"):
        S.first_negligible_step(0.01, 0.9, 1.0)
    with pytest.raises(ValueError, match="^T must be an integer"):
        S.explicit_minus_recursive(0)
    with pytest.raises(ValueError, match="^x0 must be finite"):
        S.eq4_path(L.smooth_valley().grad, [np.nan, 0.0], 3)


@pytest.mark.slow
def test_claims_rows():
    rows = kaiser_s2.claims()
    assert all(isinstance(r, Claim) and r.status in STATUSES for r in rows)
    ids = {r.id: r for r in rows}
    assert {"S2-eq2", "S2-eq3", "S2-eq4", "S2-sums", "S2-eq5", "S2-units"} <= set(ids)
    assert ids["S2-eq4"].status == "verified"
    # the ledger reuses the chapter's check (10000 steps from (1, 1), 100000 random points)
    assert "100000 random points" in ids["S2-eq4"].ours and "10000 steps" in ids["S2-eq4"].ours
    assert ids["S2-eq2"].status == ids["S2-eq3"].status == "corrected"
    assert "3916" in ids["S2-eq5"].ours and "6213" in ids["S2-eq5"].ours
    text = (ROOT / "chapters" / "preliminaries.md").read_text()
    for r in rows:
        assert f"({r.where})=" in text


# ---------------------------------------------------------------- the chapter

@pytest.fixture(scope="module")
def chapter(book_glue):
    return book_glue("preliminaries")


@pytest.mark.book
def test_chapter_glued_numbers(chapter):
    g = chapter
    assert g["pre_exact_a"] == 3916 and g["pre_exact_b"] == 6213   # scanned by hand at the defaults
    assert g["pre_sim_a"] == 3916 and g["pre_sim_b"] == 6213
    # the defining equation of the closed form: sqrt(1 - beta2^t) = 1 - delta at t = closed
    assert np.sqrt(1 - 0.999 ** g["pre_closed_a"]) == pytest.approx(0.99, rel=1e-12)
    assert g["pre_rel_formula"] < 1e-13
    assert g["pre_abs_path"] < 1e-13 and g["pre_rel_path_early"] < 1e-12
    assert g["pre_rms_ratio"] == pytest.approx(0.1, rel=1e-12)
    assert g["pre_rms_ratio_measured"] == pytest.approx(0.1, rel=1e-6)
    assert g["pre_ada_err_printed"] < 1e-13 and g["pre_ada_err_corrected"] < 1e-13
    assert g["pre_sums_ok"] is True
    assert g["pre_gain_max"] == pytest.approx(6.5685, abs=1e-4) and g["pre_gain_argmax"] == 12
    assert g["pre_gain_formula_err"] < 1e-12
    # both variants reach the valley's minimum; without bias correction sooner
    assert 0 < g["pre_hit_nobc"] < g["pre_hit_bc"] < 10_000
    assert g["pre_gap_max"] > 0.1
    # scale experiment: Adam(eps=0) invariant to rounding, Adam(eps) ~ K eps / c, SGD changed
    assert g["pre_adam0_dev_max"] < 1e-14
    assert 1e-4 < g["pre_adam_dev_small"] < 1e-1
    assert g["pre_sgd_dev_small"] > 0.5 and g["pre_sgd_dev_large"] == pytest.approx(1.998, abs=1e-9)
    assert g["pre_n_diverged"] == 0
    assert g["pre_param_scale_dev"] > 0.1
    # the paths start at (1, 1): distance sqrt(2), not 1
    assert g["pre_start_dist"] == pytest.approx(np.sqrt(2), rel=1e-15)
    assert 0 < g["pre_gap_frac"] < 1
    assert g["pre_hit_ratio"] == pytest.approx(g["pre_hit_bc"] / g["pre_hit_nobc"], rel=1e-15)
    assert g["pre_n_random"] == 100_000


@pytest.mark.chapter
def test_chapter_with_other_beta2_moves_as_theory_says():
    g = rerun_glue("preliminaries", {"beta2": 0.99})

    def first_negligible(tol, b1=0.9, b2=0.99, horizon=20_000):   # a scan written here, not the library's
        last_bad = 0
        for t in range(1, horizon + 1):
            if abs(np.sqrt(1 - b2**t) / (1 - b1**t) - 1) > tol:
                last_bad = t
        return last_bad + 1

    assert g["pre_exact_a"] == first_negligible(0.01)
    assert g["pre_exact_b"] == first_negligible(0.001)
