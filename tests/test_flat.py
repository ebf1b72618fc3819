"""The chapter "Crossing a flat" (Kaiser, section 4): its glued numbers, read from the session build.

Tolerances: the paper prints 2 significant digits (7.3, 73); symbolic and numeric values are
compared to 1e-12; simulations of the flat to 1e-9 relative (a sum of ~2e4 float64 steps).
"""


import numpy as np
import pytest

from conftest import rerun_glue



@pytest.fixture(scope="module")
def g(book_glue):
    return book_glue("flat")


def _series_p1(x1, x2):
    """Proposition 1's bound as the Cauchy-Schwarz series summed term by term (independent of adamdyn)."""
    q = x1**2 / x2
    return (1 - x1) / np.sqrt(1 - x2) * np.sqrt(sum(q**i for i in range(5000)))


def _series_p2(x1, x2):
    rho = x1 / np.sqrt(x2)
    return _series_p1(x1, x2) * sum(rho**i for i in range(20000))


@pytest.mark.book
def test_prop1_symbolic_numeric_paper(g):
    assert abs(g["p1_default"] - 7.3) < 0.05
    assert abs(g["p1_default"] - _series_p1(0.9, 0.999)) < 1e-12
    assert g["p1_sym_minus_num"] < 1e-12


@pytest.mark.book
def test_extremal_history_attains_prop1(g):
    assert g["fl_ext_gap_finite"] < 1e-12
    # 1 - sqrt(1 - q^200) at the defaults, in 50-digit arithmetic: ~3.0e-19, below float64 resolution
    import mpmath

    mpmath.mp.dps = 50
    q = mpmath.mpf("0.81") / mpmath.mpf("0.999")
    assert abs(g["fl_ext_gap_limit_pred"] / float(1 - mpmath.sqrt(1 - q**200)) - 1) < 1e-9
    assert g["fl_ext_gap_limit"] < 1e-15          # the measured gap is rounding
    assert abs(g["fl_ext_step"] / g["p1_default"] - 1) < 1e-12


@pytest.mark.book
def test_no_history_exceeds_prop1(g):
    assert g["fl_worst_random"] <= 1.0
    assert g["fl_opt_worst_ratio"] <= 1.0
    assert abs(g["fl_opt_best_plain"] / g["fl_opt_sup_plain"] - 1) < 1e-6
    assert abs(g["fl_opt_best_bc_eps"] / g["fl_opt_sup_bc"] - 1) < 1e-6
    assert g["fl_fail_worst"] <= 1 + 1e-12


@pytest.mark.book
def test_lemma_findings(g):
    assert g["fl_induction_holds"] is False
    assert g["fl_cx_r1"] > 1 and g["fl_cx_b2"] > g["fl_cx_b1"] ** 2
    assert abs(g["fl_r1_default"] - 10**-0.5) < 1e-12
    assert g["fl_lemma_agree"] == 1.0
    assert g["fl_identity_zero"] is True


@pytest.mark.book
def test_prop2_symbolic_simulated_paper(g):
    assert abs(g["p2_default"] - 73) < 0.5
    assert abs(g["p2_default"] / _series_p2(0.9, 0.999) - 1) < 1e-12
    assert abs(g["fl_ext_dist"] / g["p2_default"] - 1) < 1e-9
    assert abs(g["fl_ext_dist_flat"] / g["p2_from_flat"] - 1) < 1e-9
    # with bias correction and eps the extremal arrival stays below the bound, by less than eps-size effects
    assert g["fl_ext_dist_bc"] <= g["p2_default"] and g["fl_ext_dist_bc"] > g["p2_default"] * (1 - 1e-5)
    assert g["fl_map_rel_limit"] < 1e-8 and g["fl_map_rel_exact"] < 1e-8
    assert g["fl_map_points"] > 0.6 * g["fl_grid_side"] ** 2


@pytest.mark.book
def test_ten_steps_and_realistic_arrivals(g):
    rho = 0.9 / np.sqrt(0.999)
    assert abs(g["fl_ten_steps"] - 1 / (1 - rho)) < 1e-9
    # constant slope: unit last step, then geometric decay; the bias factors r_{T+s}/r_T move it < 1%
    assert abs(g["fl_const_from_slope"] / g["fl_const_pred"] - 1) < 0.01
    assert g["fl_const_from_slope"] < g["p2_default"] / 5
    assert 0 < g["fl_bowl_gap"] < 1e-6           # the bowl run has not reached the flat
    # the start -1.0005 is off the eta grid: last slope point, edge and first flat point are 0.5 eta apart
    # (each slope step is eta/(1 + eps): 1000 of them fall short by 1e-5 eta)
    assert abs(g["fl_const_from_slope"] - g["fl_const_from_edge"] - 0.5) < 1e-4
    assert abs(g["fl_const_from_edge"] - g["fl_const_from_flat"] - 0.5) < 1e-4


def _plain_adam_near_flat(slope, K, steps, b1=0.9, b2=0.999, eps=1e-8):
    """A plain-loop Adam (not adamdyn's): K unit gradients, then `steps` gradients of size `slope`; the steps / eta."""
    m = v = 0.0
    out = []
    for t in range(1, K + steps + 1):
        g = 1.0 if t <= K else slope
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        if t > K:
            out.append((m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps))
    return np.array(out)


@pytest.mark.book
def test_near_flat_against_a_plain_loop(g):
    assert g["fl_nf_K"] == 1001                                   # 1.0005 / 1e-3 slope steps, rounded up
    for tag, s in (("6", 1e-6), ("9", 1e-9)):
        x = _plain_adam_near_flat(s, g["fl_nf_K"], g["fl_nf_steps"])
        target = s / (s + 1e-8) / 2
        below = int(np.flatnonzero(x < target)[0])
        half = below + int(np.flatnonzero(x[below:] >= target)[0]) + 1
        assert g[f"fl_nf_half_{tag}"] == half
        assert abs(g[f"fl_nf_final_{tag}"] / x[-1] - 1) < 1e-9
        assert abs(g[f"fl_nf_adam_{tag}"] / x.sum() - 1) < 1e-9
        assert abs(g[f"fl_nf_sgd_{tag}"] - s * g["fl_nf_steps"]) < 1e-9 * s * g["fl_nf_steps"] + 1e-12
    assert abs(g["fl_nf_final_9"] - 1 / 11) < 1e-9                # eps takes over: s/(s + eps) at s = eps/10
    assert g["fl_nf_half_err"] <= 1


@pytest.mark.chapter
def test_changed_parameter_moves_bounds_as_theory_says():
    g2 = rerun_glue("flat", {"beta1": 0.8, "grid_side": 8, "n_random": 100, "random_length": 100,
                             "arrival_steps": 3000, "flat_steps": 3000, "restarts": 1})
    assert abs(g2["p1_default"] - _series_p1(0.8, 0.999)) < 1e-12
    assert abs(g2["p2_default"] / _series_p2(0.8, 0.999) - 1) < 1e-12
    assert g2["p2_default"] < 73                 # a smaller beta1 coasts less far
    assert abs(g2["fl_ten_steps"] - 1 / (1 - 0.8 / np.sqrt(0.999))) < 1e-9
