"""Section 5 (saddle): escape times, Proposition 3, ablation, and the chapter's glued numbers."""

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import adamdyn as ad
from adamdyn import gradient_memory as GM
from adamdyn import saddle as S
from conftest import rerun_glue
from adamdyn import symbols as sym

#: Kaiser's Proposition 1 bound at the defaults (0.9, 0.999), by hand: 0.1^2 * 0.999 / (0.001 * 0.189) = 370/7
PROP1_DEFAULT = np.sqrt(370 / 7)


def _brute_force_sup(b1, b2, T=400):
    """Largest long-run Adam step (eps = 0, no bias correction) over geometric histories g_{T-i} = r^-i.

    A scan over r with the sums m_T, v_T done term by term, not the library's closed forms; Cauchy-Schwarz
    says the maximiser over all histories is of this form (r = beta2 / beta1), so the scan reaches the sup.
    """
    i = np.arange(T)
    best = 0.0
    for r in np.linspace(1.0001, 1.5, 5001):
        g = r ** -i.astype(float)
        m = (1 - b1) * np.sum(b1**i * g)
        v = (1 - b2) * np.sum(b2**i * g * g)
        best = max(best, m / np.sqrt(v))
    return best


# ------------------------------------------------------------------ escape times
@pytest.mark.parametrize("delta", [1e-1, 1e-3, 1e-6])
def test_sgd_escape_closed_form_matches_simulation(delta):
    tr = S.escape_runs(ad.sgd(lr=1e-3), (delta, 1.0), 30_000, 2.0, record_every=30_000)
    assert tr.exit_step[0] == S.sgd_escape_time(delta, 1.0, 1e-3, 2.0)


def test_sgd_escape_time_near_log_rule():
    # for small delta, y has decayed at escape, so t ~ ln(R/delta)/ln(1+eta) (within a few steps)
    for d in (1e-4, 1e-8):
        approx = np.log(2.0 / d) / np.log1p(1e-3)
        assert abs(S.sgd_escape_time(d) - approx) < 5


def test_four_optimizers_escape_times_and_bounds():
    tr = S.escape_runs(S.four_optimizers(), S.START, 10**6, S.RADIUS, record_every=10**5)
    esc = dict(zip(tr.names, tr.exit_step))
    assert esc["SGD"] == S.sgd_escape_time(S.START[0])
    # Adam moves each coordinate by at most the Prop. 1 bound (~7.3 lr) per step, and starts at distance ~1
    min_steps = (S.RADIUS - np.hypot(*S.START)) / (np.sqrt(2) * PROP1_DEFAULT * 1e-3)
    assert esc["Adam"] > min_steps
    assert esc["Adam"] == _plain_escape(1e-3, 0.9, 0.999, True) and esc["RMSProp"] == _plain_escape(1e-3, 0.0, 0.99, False)
    assert esc["AdaGrad"] > 100 * esc["Adam"]


def _plain_escape(lr, b1, b2, bias, eps=1e-8, x0=(1e-3, 1.0), radius=2.0, horizon=20_000):
    """Escape step on the saddle 0.5(-x^2 + y^2): a plain scalar loop written independently of the library."""
    w, m, v, p1, p2 = list(x0), [0.0, 0.0], [0.0, 0.0], 1.0, 1.0
    for t in range(1, horizon + 1):
        p1 *= b1
        p2 *= b2
        for i, h in enumerate((-1.0, 1.0)):
            g = 2.0 * (0.5 * h) * w[i]
            m[i] = b1 * m[i] + ((1.0 - b1) if b1 > 0 else 1.0) * g
            v[i] = b2 * v[i] + (1.0 - b2) * g * g
            mh, vh = (m[i] / (1.0 - p1), v[i] / (1.0 - p2)) if bias else (m[i], v[i])
            w[i] = w[i] * 1.0 - lr * (mh / (math.sqrt(vh) + eps))
        if w[0] ** 2 + w[1] ** 2 > radius**2:
            return t
    return -1


def test_escape_table_against_plain_loop_and_the_ranking_flip():
    tab = S.escape_table(decays=(0.99, 0.999), horizon=20_000, near_steps=2000)
    adam = _plain_escape(1e-3, 0.9, 0.999, True)
    for rd, lr_rms in (("shared", 1e-3), ("torch", 1e-2)):
        for d in (0.99, 0.999):
            assert tab[(rd, d)]["Adam"][0] == adam
            assert tab[(rd, d)]["RMSProp"][0] == _plain_escape(lr_rms, 0.0, d, False)
    # the verdict: Adam first only with one shared rate and decay 0.99
    assert tab[("shared", 0.99)]["Adam"][0] < tab[("shared", 0.99)]["RMSProp"][0]
    assert tab[("shared", 0.999)]["RMSProp"][0] < adam and tab[("torch", 0.99)]["RMSProp"][0] < adam
    # time near the saddle: SGD lingers there, the adaptive methods never come within 0.3
    t = np.arange(1, 2001)
    sgd_near = int(np.sum(1e-6 * (1 + 1e-3) ** (2 * t) + (1 - 1e-3) ** (2 * t) < 0.3**2))   # closed form of SGD
    assert tab[("shared", 0.99)]["SGD"][1] == sgd_near and all(tab[("shared", 0.99)][n][1] == 0 for n in S.NAMES[1:])


def test_escape_is_monotone_in_the_learning_rate():
    lrs = np.geomspace(1e-4, 1e-1, 7)
    sc = S.lr_scan(lrs, decays=(0.99,), horizon=200_000)
    for k in ("SGD", "Adam", "RMSProp 0.99"):
        assert np.all(sc[k] > 0) and np.all(np.diff(sc[k]) < 0)
    # SGD's closed form at every rate (second method)
    assert sc["SGD"].tolist() == [S.sgd_escape_time(1e-3, 1.0, lr, 2.0) for lr in lrs]


def test_adam_escape_insensitive_to_offset():
    offs = [1e-2, 1e-5, 1e-8]
    tr = S.escape_runs(ad.adam(lr=1e-3), [[d, 1.0] for d in offs], 20_000, 2.0, record_every=20_000)
    e = tr.exit_step
    assert np.all(e > 0) and (e.max() - e.min()) <= 0.01 * e.min()


def test_adam_without_momentum_and_bias_correction_is_rmsprop():
    abl = S.ablation(beta1s=(0.0,), beta2s=(0.99,))
    tr = S.escape_runs(ad.rmsprop(lr=1e-3, beta2=0.99), S.START, 20_000, S.RADIUS, record_every=20_000)
    assert abl[(False, 0.0, 0.99)] == tr.exit_step[0]


def test_momentum_is_not_what_makes_adam_fast():
    abl = S.ablation()
    assert abs(abl[(True, 0.0, 0.999)] - abl[(True, 0.9, 0.999)]) < 0.1 * abl[(True, 0.9, 0.999)]
    assert abl[(False, 0.0, 0.999)] < abl[(True, 0.9, 0.999)]   # RMSProp at Adam's decay beats Adam


def test_diagonal_start_of_adaptive_methods():
    d = S.diagonal_defect(S.four_optimizers(), S.START, 1)
    # first step: each adaptive method moves by |g|/(c|g| + eps) in both coordinates; eps against the
    # small gradient |g_x| = 1e-3 tilts it by at most eps/(sqrt(1-0.99) * 1e-3) = 1e-4 rad ~ 0.006 degrees
    assert np.all(d[1:] < 0.01) and abs(d[0] - 45) < 0.1


# --------------------------------------------------------------- Proposition 3
@settings(max_examples=50, deadline=None)
@given(st.floats(0.0, 0.95), st.floats(0.9, 0.9999), st.integers(0, 150))
def test_single_impulse_formula_matches_update_rule(b1, b2, age):
    num = GM.impulse_updates(b1, b2, T=200, ages=[age])[0]
    formula = GM.single_impulse_ratio(b1, b2, age)[0]
    assert num == pytest.approx(formula, rel=1e-10, abs=1e-300)


def test_single_impulse_symbolic_and_numeric_by_hand():
    # by hand at (0.9, 0.999): age 0 gives 0.1 / sqrt(0.001) = sqrt(10); each year of age multiplies the
    # update by 0.9 / sqrt(0.999), so age 2 gives sqrt(10) * 0.81 / 0.999 = sqrt(10) * 30/37
    expr, k = GM.single_impulse_symbolic()
    at = {sym.beta1: sp.Rational(9, 10), sym.beta2: sp.Rational(999, 1000)}
    assert sp.simplify(expr.subs({**at, k: 0}) - sp.sqrt(10)) == 0
    assert sp.simplify(expr.subs({**at, k: 2}) - sp.sqrt(10) * sp.Rational(30, 37)) == 0
    np.testing.assert_allclose(GM.single_impulse_ratio(0.9, 0.999, [0, 2]), [np.sqrt(10), np.sqrt(10) * 30 / 37],
                               rtol=1e-14)


def test_single_impulse_with_bias_correction_scales_by_correction_factor():
    T, age = 50, 3
    with_bc = GM.impulse_updates(0.9, 0.999, T=T, ages=[age], bias_correction=True)[0]
    without = GM.impulse_updates(0.9, 0.999, T=T, ages=[age])[0]
    assert with_bc / without == pytest.approx(np.sqrt(1 - 0.999**T) / (1 - 0.9**T), rel=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("r", [1.001, 1.05, 0.999 / 0.9, 1.3])
def test_geometric_ratio_closed_form_vs_long_history(r):
    T = 12_000   # truncation: (beta2/r^2)^T <= (0.999/1.001^2)^T < 1e-12
    G = r ** (np.arange(T) - (T - 1.0))   # the newest gradient is 1; old ones underflow harmlessly
    opt = ad.adam(lr=1.0, beta1=0.9, beta2=0.999, eps=0.0, bias_correction=False)
    num = -ad.updates_from_gradients(opt, G)[-1]
    assert num == pytest.approx(GM.geometric_history_ratio(0.9, 0.999, r), rel=1e-9)


def test_geometric_ratio_max_is_prop1_bound():
    rr = np.linspace(1.0001, 1.5, 20001)
    vals = GM.geometric_history_ratio(0.9, 0.999, rr)
    assert vals.max() == pytest.approx(PROP1_DEFAULT, rel=1e-6)
    # a second route: the same maximisation with the sums done term by term (no closed form)
    assert _brute_force_sup(0.9, 0.999) == pytest.approx(PROP1_DEFAULT, rel=1e-6)
    assert rr[vals.argmax()] == pytest.approx(0.999 / 0.9, abs=1e-4)


def test_recent_mass_ordering_at_defaults_and_its_failure():
    assert np.all(GM.reversal_gaps(500, 40, 0.9, 0.999, seed=3) > 0)
    # beta2 < beta1 < sqrt(beta2): single impulses still favour recency, whole histories do not
    assert np.mean(GM.reversal_gaps(500, 40, 0.95, 0.91, seed=3) < 0) > 0.5


def test_bad_inputs_name_the_parameter():
    with pytest.raises(ValueError, match="radius"):
        S.escape_runs(ad.sgd(), S.START, 10, radius=0.0)
    with pytest.raises(ValueError, match="ages"):
        GM.impulse_updates(T=10, ages=[10])
    with pytest.raises(ValueError, match="r must"):
        GM.geometric_history_ratio(0.9, 0.999, 0.95)
    with pytest.raises(ValueError, match="delta"):
        S.sgd_escape_time(-1.0)


# ------------------------------------------------------------------- chapter
@pytest.fixture(scope="module")
def chapter(book_glue):
    return book_glue("saddle")


@pytest.mark.book
def test_chapter_numbers(chapter):
    g = chapter
    assert g["sad_esc_SGD"] == g["sad_sgd_exact"] == S.sgd_escape_time(1e-3)
    assert g["sad_scan_sgd_match"] is True
    assert g["sad_p3_maxerr"] < 1e-12
    assert g["sad_geo_zero"] is True
    assert g["sad_geo_extremal"] == pytest.approx(PROP1_DEFAULT, rel=1e-9)
    assert g["sad_p3_recent"] == pytest.approx(np.sqrt(10), rel=1e-12)        # 0.1 / sqrt(0.001), by hand
    assert g["sad_rev_bad"] == 0
    assert g["sad_esc_Adam"] == _plain_escape(1e-3, 0.9, 0.999, True) < g["sad_esc_RMSProp"] < g["sad_esc_SGD"]
    assert g["sad_n_adam_fastest"] == 2 and g["sad_n_readings"] == 6 and g["sad_lr_monotone"] is True
    assert g["sad_tab_torch_0.99_RMSProp"] == _plain_escape(1e-2, 0.0, 0.99, False)
    assert g["sad_near_SGD"] < 0.1 < g["sad_near_Adam"]
    assert g["sad_viol_between"] > 0.5 and g["sad_viol_below"] < 0.05


@pytest.mark.chapter
def test_chapter_rerun_with_other_offset_moves_only_sgd():
    g = rerun_glue("saddle", {"delta": 1e-6, "lr_grid": [1e-4, 1e-1, 4]})
    assert g["sad_esc_SGD"] == S.sgd_escape_time(1e-6)      # ln(R/delta)/eta: longer for a smaller offset
    assert g["sad_esc_Adam"] == _plain_escape(1e-3, 0.9, 0.999, True, x0=(1e-6, 1.0))   # Adam barely cares
