"""Tests of the (beta1, beta2) map: the symbolic helpers in adamdyn.stability and the chapter."""


import numpy as np
import pytest
import sympy as sp

from adamdyn import bounds, ode_lyapunov as OL, symbols as sym
from adamdyn import continuous_adam as CA
from adamdyn import relations as RL
from adamdyn import stability as S
from conftest import rerun_glue

b1, b2 = sym.beta1, sym.beta2


def test_positivity_condition_of_kaiser_bound_is_stable_region():
    bound = sp.sqrt(b2) * (1 - b1) / sp.sqrt((1 - b2) * (b2 - b1**2))
    cond = RL.positivity_condition(bound**2)
    assert cond == sp.StrictLessThan(b1**2, b2)
    # a sign-definite negative factor flips the required sign
    assert RL.positivity_condition((b2 - b1) / (b1 - 1)) == sp.StrictLessThan(b2, b1)
    with pytest.raises(ValueError, match="expr"):
        RL.positivity_condition(bound)  # square roots must be squared first
    with pytest.raises(ValueError, match="sign"):
        RL.positivity_condition((b2 - b1) * (b2 - b1**3))


def test_bias_corrected_sup_never_exceeds_step_bound_on_map_grid():
    # the identity the map relies on (from adamdyn.bounds), checked on a grid independent of the chapter's
    g = np.linspace(0.02, 0.98, 60)
    B1, B2 = np.meshgrid(g, g)
    inside = B1**2 < B2 * (1 - 1e-9)
    c1, c2 = B1[inside], B2[inside]
    t = np.unique(np.concatenate([np.arange(1, 200), np.geomspace(200, 1e5, 50).round()]))[:, None]  # step counts: integers
    ratio = bounds.finite_step_sup(c1, c2, t, bias_correction=True) / bounds.step_bound(c1, c2)
    assert ratio.max() <= 1 + 1e-12


def test_relation_margin_and_exact_decisions():
    rel = CA.linear_rate_region_expr()  # 2 beta1 - 1 < beta2
    holds, margin = RL.relation_margin(rel, np.array([0.5, 0.9]), np.array([0.2, 0.7]))
    np.testing.assert_allclose(margin, [0.2, -0.1], atol=1e-15)
    assert holds.tolist() == [True, False]
    assert RL.relation_at(rel, 0.75, 0.5) is False  # exactly on the line; strict inequality
    assert RL.relation_at(sp.GreaterThan(b2, 2 * b1 - b1**2), 0.9, 0.99) is True  # equality holds exactly
    poster = OL.lyapunov_condition_expr(uniform=False)
    # hand values of 3 + beta2 - 4 beta1: (0.5, 0.1) -> 1.1 > 0; (0.9, 0.5) -> -0.1; (0.8, 0.2) -> 0 (boundary, strict)
    holds, margin = RL.relation_margin(poster, np.array([0.5, 0.9]), np.array([0.1, 0.5]))
    assert holds.tolist() == [True, False] and np.abs(np.abs(margin) - [1.1, 0.1]).max() < 1e-12
    assert RL.relation_at(poster, 0.8, 0.2) is False
    assert OL.poster_condition(0.5, 0.1) and not OL.poster_condition(0.9, 0.5)
    # Zhang et al.'s beta1 < sqrt(beta2) is the stable region's beta1^2 < beta2 (by hand at two points)
    assert bool(S.stable_region_holds(0.9, 0.82)) and not bool(S.stable_region_holds(0.9, 0.80))


@pytest.fixture(scope="module")
def chapter(book_glue):
    return book_glue("conditions_map")


@pytest.mark.book
def test_chapter_numbers(chapter):
    g = chapter
    assert g["cm_min_agree"] == 1.0
    assert g["cm_lemma_dyn_agree"] == 1.0
    for k in ("GT_GT_linear", "GT_linear_poster", "lemma_P1", "lyapunov_poster"):
        assert g[f"cm_viol_{k}"] == 0
    assert g["cm_P1_equals_GT"] == 0
    assert g["cm_bc_ratio_max"] <= 1 + 1e-12
    # area of {4 beta1 - 3 < beta2 <= beta1^2} in the unit square:
    # int_0^{3/4} beta1^2 + int_{3/4}^1 (beta1^2 - 4 beta1 + 3) = 5/24 (grid tolerance 0.005)
    assert abs(g["cm_frac_poster_not_GT"] - 5 / 24) < 0.005


@pytest.mark.chapter
def test_chapter_coarser_grid_same_verdicts():
    g = rerun_glue("conditions_map", {"n_grid": 150, "n_check": 2000})
    assert g["cm_n_grid"] == 150 and g["cm_n_check"] == 2000
    assert g["cm_viol_GT_linear_poster"] == 0 and g["cm_P1_equals_GT"] == 0
    assert abs(g["cm_frac_poster_not_GT"] - 5 / 24) < 0.02


@pytest.mark.book
def test_chapter_reddi(chapter):
    assert chapter["cm_reddi_x"] > 0.9 and chapter["cm_reddi_default_x"] < -0.9
