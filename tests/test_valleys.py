"""Section 6 (valleys): counts, periods, the corrected Proposition 4, underflow, and the chapter's glued numbers."""


import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import math

import adamdyn as ad
from adamdyn import valley_counts as VC
from adamdyn import valleys as V
from conftest import rerun_glue
from adamdyn import valley_orbits as VO
from adamdyn import floating_point as FP
from adamdyn.symbols import beta1, eps, eta


@pytest.fixture(scope="module")
def long():
    """The paper-scale runs (10^6 steps per optimizer); the tests that use them are marked slow."""
    return {k: V.long_runs(V.valley(k)) for k in ("smooth", "sharp")}


# ------------------------------------------------------------------- long runs
def test_long_run_pieces_equal_one_uninterrupted_run():
    land, opt = V.valley("smooth"), ad.adam(lr=1e-3)
    pieces = V.long_runs(land, opt, V.START, 20_000, coarse=1000, early=3000, tail=2000)
    whole = ad.run(opt, land, V.START, 20_000, record_every=1000, target=[0, 0], tol=V.TOL)
    assert np.array_equal(pieces.state.x, whole.state.x) and np.array_equal(pieces.state.v, whole.state.v)
    assert np.array_equal(pieces.path, whole.path) and pieces.hit_step[0] == whole.hit_step[0]


@pytest.mark.slow
def test_sgd_closed_forms_at_paper_scale(long):
    sm, sh = long["smooth"], long["sharp"]
    assert sm.state.x[0, 1] == pytest.approx((1 - 2e-6) ** 10**6, rel=1e-9)   # y_t = (1 - 2b lr)^t
    assert sh.state.x[0, 1] == pytest.approx(1.0 - 10**6 * 1e-7, rel=1e-9)    # |y| moves lr*b per step
    assert sm.hit_step[0] == -1 and sh.hit_step[0] == -1


@pytest.mark.slow
def test_sharp_valley_adam_count_closed_form(long):
    # constant gradient sign => bias-corrected m/sqrt(v) = g/|g| exactly; each y step is lr*b/(b+eps)
    pred = (1.0 - V.TOL) / (1e-3 * 1e-4 / (1e-4 + 1e-8))
    assert abs(long["sharp"].hit_step[3] - pred) <= 2


@pytest.mark.slow
def test_adagrad_sharp_arrival_closed_form(long):
    assert long["sharp"].hit_step[1] == V.adagrad_sharp_arrival((1.0, 1.0))
    # and the continuum estimate 2 lr sqrt(t) + lr zeta(1/2) = 1 - tol/sqrt(2)
    t = ((1 - V.TOL / np.sqrt(2)) / 1e-3 + 1.4603545088) ** 2 / 4
    assert abs(V.adagrad_sharp_arrival((1.0, 1.0)) - t) < 2


@pytest.mark.parametrize("x0", [(0.3, 0.3004), (0.3, 0.2), (-0.25, 0.3)])
def test_adagrad_sharp_arrival_off_the_diagonal_matches_a_run(x0):
    # both coordinates still moving at arrival (|x0| within tol of each other), or one already bouncing
    run = ad.run(ad.adagrad(lr=1e-3), V.valley("sharp"), x0, 60_000, record_every=60_000, target=[0.0, 0.0], tol=V.TOL)
    assert abs(int(run.hit_step[0]) - V.adagrad_sharp_arrival(x0)) <= 2


@pytest.mark.parametrize("s", [0.5, 1.5])
def test_sharp_valley_adam_count_scales_with_start(s):
    tr = ad.run(ad.adam(lr=1e-3), V.valley("sharp"), [s, s], 5000, record_every=5000, target=[0, 0], tol=V.TOL)
    assert abs(tr.hit_step[0] - (s - V.TOL) * 1.0001 / 1e-3) <= 2


def test_counts_are_symmetric_under_sign_flips():
    starts = np.array([[0.7, 1.3], [-0.7, 1.3], [0.7, -1.3], [-0.7, -1.3]])
    for kind in ("smooth", "sharp"):
        tr = ad.run(ad.adam(lr=1e-3), V.valley(kind), starts, 8000, record_every=8000, target=[0, 0], tol=V.TOL)
        assert len(set(tr.hit_step.tolist())) == 1


def _plain_count(kind, x0, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8, bias=True, inside=False, horizon=8000, tol=1e-3):
    """Steps to come within tol of the origin: a plain scalar loop, written independently of the library."""
    coef = (1.0, 1e-3) if kind == "smooth" else (1.0, 1e-4)
    w, m, v = list(map(float, x0)), [0.0, 0.0], [0.0, 0.0]
    p1 = p2 = 1.0
    for t in range(1, horizon + 1):
        p1 *= b1
        p2 *= b2
        for i in range(2):
            if kind == "smooth":
                g = 2.0 * coef[i] * w[i]
            else:
                g = coef[i] if w[i] > 0 else (-coef[i] if w[i] < 0 else 0.0)
            m[i] = b1 * m[i] + ((1.0 - b1) if b1 > 0 else 1.0) * g
            v[i] = b2 * v[i] + (1.0 - b2) * g * g
            mh = m[i] / (1.0 - p1) if bias else m[i]
            vh = v[i] / (1.0 - p2) if bias else v[i]
            d = math.sqrt(vh + eps) if inside else math.sqrt(vh) + eps
            w[i] = w[i] * 1.0 - lr * (mh / d)
        if w[0] ** 2 + w[1] ** 2 <= tol * tol:
            return t
    return -1


def _plain_rmsprop(kind, x0, decay, **kw):
    return _plain_count(kind, x0, b1=0.0, b2=decay, bias=False, **kw)


@pytest.mark.parametrize("start", [(1.0, 1.0), (0.5, 1.3), (0.766, 0.904), (0.9, 0.3)])
def test_arrival_steps_match_a_plain_loop(start):
    for kind in ("smooth", "sharp"):
        readings = VC.reading_optimizers()
        for (name, r), o in readings.items():
            got = VC.arrival_steps(o, V.valley(kind), [start], 8000)[0]
            if name == "Adam":
                bc, inside = VC.ADAM_READINGS[r]
                want = _plain_count(kind, start, bias=bc, inside=inside)
            else:
                want = _plain_rmsprop(kind, start, r)
            assert got == want, (kind, name, r, start)


@pytest.fixture(scope="module")
def study():
    return VC.count_study()


@pytest.mark.slow
def test_joint_match_three_of_four_checked_by_plain_loop(study):
    # the best joint match: 3 of the 4 printed counts at once, bias-corrected Adam and RMSProp decay 0.999
    assert study.window_match.best == 3 and study.coarse_match.best == 3
    assert study.reading == ("bias-corrected", 0.999)
    x0 = study.start
    plain = {("smooth", "Adam"): _plain_count("smooth", x0), ("sharp", "Adam"): _plain_count("sharp", x0),
             ("smooth", "RMSProp"): _plain_rmsprop("smooth", x0, 0.999), ("sharp", "RMSProp"): _plain_rmsprop("sharp", x0, 0.999)}
    assert plain == study.start_counts
    paper = {("smooth", "Adam"): 3113, ("smooth", "RMSProp"): 1086, ("sharp", "Adam"): 900, ("sharp", "RMSProp"): 220}
    within = {k: abs(plain[k] - paper[k]) <= 0.02 * paper[k] for k in paper}
    assert within == {("smooth", "Adam"): False, ("smooth", "RMSProp"): True, ("sharp", "Adam"): True,
                      ("sharp", "RMSProp"): True}


@pytest.mark.slow
def test_3113_never_with_an_rmsprop_count(study):
    sc = study.coarse
    for a in VC.ADAM_READINGS:
        m3113 = VC.match_mask(sc.counts[("smooth", "Adam", a)], 3113)
        for d in VC.RMSPROP_DECAYS:
            for kind, paper in (("smooth", 1086), ("sharp", 220)):
                assert not np.any(m3113 & VC.match_mask(sc.counts[(kind, "RMSProp", d)], paper))


def test_implied_start_of_the_sharp_900():
    # closed form by hand: each y step is lr * b / (b + eps) = 1e-3 * 1e-4 / (1e-4 + 1e-8)
    s = 900 * 1e-3 * 1e-4 / (1e-4 + 1e-8) + 1e-3
    assert s == pytest.approx(0.9009100089991, rel=1e-12)
    assert abs(_plain_count("sharp", (0.5, s)) - 900) <= 1


def test_sharp_rmsprop_count_is_not_monotone_in_the_start():
    xs = np.linspace(0.85, 0.95, 201)
    c = VC.arrival_steps(ad.rmsprop(lr=1e-3, beta2=0.999), V.valley("sharp"), np.column_stack([xs, np.full_like(xs, 0.901)]), 8000)
    d = np.diff(c)
    assert np.any(d > 500) and np.any(d < -500)          # jumps by hundreds of steps, both ways
    assert c.min() < 230 and c.max() > 2000


def test_match_mask_and_joint_match_on_a_made_up_scan():
    xs = ys = np.array([0.0, 1.0])
    counts = {("smooth", "Adam", "a"): np.array([[3113, 1], [1, 1]]), ("sharp", "Adam", "a"): np.array([[900, 1], [900, 1]]),
              ("smooth", "RMSProp", 0.9): np.array([[1, 1], [1086, 1]]), ("sharp", "RMSProp", 0.9): np.array([[224, 225], [1, 1]])}
    jm = VC.joint_match(VC.CountScan(xs, ys, counts, 10))
    assert jm.best == 3 and jm.settings == [("a", 0.9, 0.0, 0.0, (("smooth", "Adam"), ("sharp", "Adam"), ("sharp", "RMSProp")))]
    assert VC.match_mask([-1, 215, 216], 220).tolist() == [False, False, True]


def test_gradient_flow_symbolic_solves_the_ode():
    sx, sy = V.gradient_flow_symbolic()
    tau, a = sp.Symbol("tau", nonnegative=True), sp.Symbol("a", positive=True)
    assert sp.simplify(sx.rhs.diff(tau) + 2 * a * sx.rhs) == 0 and sx.rhs.subs(tau, 0) == sp.Symbol("x_0", positive=True)


def test_gradient_flow_path_symmetry_and_endpoints():
    p = V.gradient_flow_path("sharp", (1.0, 1.0))
    assert np.allclose(p[0], [1.0, 1.0]) and p[-1, 1] == 0.0 and np.all(np.diff(p[:, 0]) <= 0)
    q = V.gradient_flow_path("smooth", (-0.5, 2.0))
    assert np.allclose(q, V.gradient_flow_path("smooth", (0.5, 2.0)) * [-1, 1])


@pytest.mark.slow
def test_sgd_stays_on_the_gradient_flow(long):
    # SGD is the flow's Euler scheme: on the sharp valley it bounces at most lr across the kink;
    # on the smooth one its discretisation error stays below lr
    for kind, run in long.items():
        dev = V.flow_deviation(kind, np.concatenate([run.early_path, run.path]))
        assert dev[0] < 1e-3 and np.all(dev[1:] > 100 * dev[0])


# ---------------------------------------------------------------- long-run shape
def test_detect_period_on_constructed_sequences():
    t = np.arange(500)
    assert VO.detect_period(np.sin(2 * np.pi * t / 12)) == 12
    assert VO.detect_period((-1.0) ** t) == 2
    assert VO.detect_period(np.full(500, 3.0)) == 1
    assert VO.detect_period(np.random.default_rng(0).normal(size=500)) == 0


@pytest.mark.slow
def test_long_run_periods_and_amplitudes(long):
    sm, sh = long["smooth"], long["sharp"]
    s_adam = VO.tail_summary(sh.tail_path[:, 3, 0])
    assert s_adam["period"] == 12
    amp12 = next(c["amplitude"] for c in VO.square_wave_cycles() if c["period"] == 12)
    assert s_adam["amplitude"] == pytest.approx(amp12, rel=1e-6)     # second method: square-wave orbit
    s_rms = VO.tail_summary(sm.tail_path[:, 2, 0])
    assert s_rms["period"] == 2
    assert s_rms["amplitude"] == pytest.approx(1e-3 / 2 - 1e-8 / 2, rel=1e-6)        # eta/2 - eps/2, by hand
    y = sm.tail_path[:, 2, 1]
    assert (y.max() - y.min()) / 2 == pytest.approx(1e-3 / 2 - 1e-8 / (2 * 1e-3), rel=1e-6)   # eta/2 - eps/(2a)
    b = VO.tail_summary(sm.tail_path[:, 3, 0])
    assert b["kind"] == "bursting" and 400 < b["burst_mean"] < 600
    # bursts peak far above the unstable 2-cycle and stay well inside the lr scale
    assert 3 * VO.two_cycle_amplitude() < b["max_abs"] < 1e-3


@pytest.mark.slow
def test_adam_smooth_sqrt_v_hovers_at_the_critical_value(long):
    run = long["smooth"]
    v = V.second_moment_along(run, V.valley("smooth"), 3, 0.999)
    assert np.allclose(v[-1], run.state.v[3], rtol=1e-12)         # rebuilt recursion ends on the true state
    r = np.sqrt(v[:, 0]) / (2 * VO.two_cycle_amplitude())
    assert 0.8 < r.min() < 1.0 < r.max() < 1.5


# ---------------------------------------------------------------- Proposition 4
def test_alternating_moments_and_paper_sigma_typo():
    mom = VO.alternating_moments_symbolic()
    C, b1 = VO.C, beta1
    assert sp.simplify(mom["m"] - C * (1 - b1) / (1 + b1)) == 0
    assert sp.simplify(mom["v"] - C**2) == 0 and sp.simplify(mom["v_paper"] - C**2) == 0


def test_corrected_orbit_closed_form_and_paper_condition():
    C, w = VO.corrected_condition_quadratic()
    val = float(w.subs({VO.a: 1, eta: 1e-3, beta1: 0.9, eps: 1e-8}))
    assert val == pytest.approx(1e-3 * (0.1 / 1.9) / 2 - 0.5e-8, rel=1e-12)
    assert VO.paper_condition_quadratic() == []


@settings(max_examples=30, deadline=None)
@given(st.floats(0.5, 0.99), st.floats(0.9, 0.9999), st.floats(1e-3, 10.0))
def test_orbit_is_a_fixed_point_of_the_two_step_map(b1, b2, a):
    kappa = (1 - b1) / (1 + b1)
    if a * 1e-3 * kappa <= 1e-8:   # the orbit exists iff a eta kappa > eps
        assert np.isnan(VO.two_cycle_amplitude(a, 1e-3, b1, 1e-8))
        return
    p = VO.two_cycle_state(a, 1e-3, b1, 1e-8)
    q = VO.adam_map(VO.adam_map(p, a, 1e-3, b1, b2, 1e-8), a, 1e-3, b1, b2, 1e-8)
    assert np.allclose(q, p, rtol=1e-9, atol=0)


def test_numerical_orbit_matches_closed_form():
    assert VO.find_two_cycle()[0] == pytest.approx(VO.two_cycle_amplitude(), rel=1e-10)


def test_stability_adam_unstable_rmsprop_stable():
    assert VO.cycle_spectral_radius() > 1.05
    assert VO.cycle_spectral_radius(beta1=0.0, beta2=0.99) < 1.0
    # a perturbed Adam orbit leaves (instability), a perturbed RMSProp orbit returns
    for b1, b2, grows in ((0.9, 0.999, True), (0.0, 0.99, False)):
        p = VO.two_cycle_state(1.0, 1e-3, b1, 1e-8)
        q = p * np.array([1.01, 1.0, 1.0])
        for _ in range(400):
            q = VO.adam_map(q, 1.0, 1e-3, b1, b2, 1e-8)
        dev = abs(abs(q[0]) - p[0]) / p[0]
        assert (dev > 0.02) if grows else (dev < 0.01)


def test_jacobian_matches_finite_differences():
    p = VO.two_cycle_state()
    F = lambda q: VO.adam_map(VO.adam_map(q))
    J = VO.two_step_jacobian(p)
    h = 1e-6 * np.abs(p)
    fd = np.column_stack([(F(p + h[i] * np.eye(3)[i]) - F(p - h[i] * np.eye(3)[i])) / (2 * h[i]) for i in range(3)])
    assert np.allclose(fd, J, rtol=1e-5, atol=1e-6 * np.abs(J).max())


def test_frozen_v_threshold_equals_orbit_gradient():
    _, crit = VO.frozen_v_threshold_symbolic()
    C, _ = VO.corrected_condition_quadratic()
    assert sp.simplify(crit - C) == 0


def test_square_wave_ladder():
    cyc = {c["period"]: c for c in VO.square_wave_cycles(0.9, 1e-3, 12)}
    assert [p for p, c in cyc.items() if c["width"] > 0] == [2, 4, 6, 8, 10, 12, 14]
    assert cyc[2]["amplitude"] == pytest.approx(VO.two_cycle_amplitude(eps=0.0), rel=1e-12)


# ------------------------------------------------------------------ subnormals
@pytest.mark.slow
def test_sgd_underflow_stall_from_rounding_rule(long):
    x = long["smooth"].state.x[0, 0]
    assert FP.subnormal_count([x]) == 1
    assert x == FP.sgd_underflow_stall() == 249 * 2.0**-1074
    # the same value by iterating the float64 update directly (second method)
    z = np.float64(1e-300)
    while True:
        zn = z - np.float64(1e-3) * (np.float64(2.0) * z)
        if zn == z:
            break
        z = zn
    assert z == x


def test_subnormal_count():
    assert FP.subnormal_count([0.0, 1e-310, -1e-320, 1e-300, np.finfo(float).tiny]) == 2


def test_bad_inputs_name_the_parameter():
    with pytest.raises(ValueError, match="kind"):
        V.valley("round")
    with pytest.raises(ValueError, match="early"):
        V.long_runs(V.valley("smooth"), steps=10, early=8, tail=8)
    with pytest.raises(ValueError, match="max_period"):
        VO.detect_period(np.zeros(10))
    with pytest.raises(ValueError, match="rmsprop_decays"):
        VC.reading_optimizers(rmsprop_decays=[1.0])
    with pytest.raises(ValueError, match="horizon"):
        VC.arrival_steps(ad.adam(), V.valley("smooth"), [[1.0, 1.0]], 0)


# ------------------------------------------------------------------- chapter
@pytest.fixture(scope="module")
def chapter(book_glue):
    return book_glue("valleys")


@pytest.mark.book
def test_chapter_numbers(chapter):
    g = chapter
    assert g["val_period_sharp_Adam"] == 12 and g["val_alt_period"] == 2
    assert g["val_alt_amp"] == pytest.approx(1e-3 / 2 - 1e-8 / 2, rel=1e-6)
    assert g["val_kind_smooth_adam"] == "bursting"
    assert g["val_p4_paper_nsol"] == 0 and g["val_p4_vpaper_same"] is True
    assert g["val_p4_wrel"] < 1e-10 and g["val_sv_crit_equals_C"] is True and g["val_cohen_equal"] is True
    assert g["val_cohen_value"] == pytest.approx(2 * 1.9 / (0.1 * 1e-3), rel=1e-12)
    assert g["val_rho_adam"] > 1 > g["val_rho_rms"]
    assert g["val_jac_fd_err"] < 1e-5
    assert g["val_sub_match"] is True
    assert g["val_sgd_smooth_y_exact"] == pytest.approx(g["val_final_smooth_SGD_y"], rel=1e-9)
    assert g["val_final_sharp_SGD_y"] == pytest.approx(g["val_start_y"] - 10**6 * 1e-3 * 1e-4, rel=1e-9)
    # the four hit counts of the headline runs, against the plain loop from the same start
    x0 = (g["val_start_x"], g["val_start_y"])
    assert g["val_hit_smooth_Adam"] == _plain_count("smooth", x0) and g["val_hit_sharp_Adam"] == _plain_count("sharp", x0)
    assert g["val_hit_smooth_RMSProp"] == _plain_rmsprop("smooth", x0, 0.999)
    assert g["val_hit_sharp_RMSProp"] == _plain_rmsprop("sharp", x0, 0.999)
    assert g["val_scan_consistent"] is True and g["val_coarse_best"] == 3 and g["val_missed"] == "3113"
    assert g["val_sharp_implied"] == pytest.approx(0.9009100089991, rel=1e-12)
    assert g["val_hit_sharp_AdaGrad"] == g["val_adagrad_pred"]
    assert g["val_flow_closest_sharp"] == "SGD"
    # RMSProp at 0.999 "converges" only by underflow: w1 hits 0 before sqrt(v) reaches the threshold
    assert g["val_sharp_rms_nb_zero99"] == 0 and g["val_pmap_12"] > 0
    assert 0 < g["val_zero_t"] < g["val_thr_t"] and g["val_reseed_peak"] > 10 * 1e-3 and g["val_reseed_zero"] > 0


@pytest.mark.chapter
def test_chapter_rerun_other_start_moves_sharp_count(chapter):
    g = rerun_glue("valleys", {"start_x": 0.5, "start_y": 0.5, "rmsprop_beta2": 0.99, "adam_reading": "bias-corrected",
                               "scan_coarse": [0.5, 1.5, 0.5], "scan_window": [[0.8, 0.92, 0.06], [0.89, 0.91, 0.02]],
                               "period_side": 3})
    # sharp valley, Adam: (s - tol) / (lr b/(b+eps)) steps, i.e. about half of the run from (1, 1)
    assert abs(g["val_hit_sharp_Adam"] - (0.5 - 1e-3) * 1.0001 / 1e-3) <= 2
    assert g["val_hit_sharp_Adam"] < chapter["val_hit_sharp_Adam"]


def test_flow_distance_at_matched_loss_is_zero_on_the_flow_and_sees_a_diagonal():
    x0 = (0.8, 0.9)
    flow = V.gradient_flow_path("sharp", x0)
    # a run that moves along the flow itself, and one that moves along the diagonal to (0, 0.1)
    n = flow.shape[0]
    diag = np.column_stack([np.linspace(0.8, 0.0, n), np.linspace(0.9, 0.1, n)])
    d = V.flow_distance_at_matched_loss("sharp", np.stack([flow, diag], axis=1), x0)
    assert d[0] < 1e-9 and d[1] > 0.1


def test_burst_intervals_of_hand_placed_spikes():
    # spikes at 100 (1.0), 130 (0.8, within min_gap of a taller one), 300 (0.9), 500 (0.3, below
    # half the maximum) and 700 (0.6): the bursts are at 100, 300 and 700
    x = np.zeros(1000)
    x[[100, 130, 300, 500, 700]] = [1.0, -0.8, 0.9, 0.3, -0.6]
    assert VO.burst_intervals(x, threshold=0.5, min_gap=50).tolist() == [200, 400]
