"""Tests of adamdyn.kadam and the k-Adam chapter."""


import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import adamdyn as ad
from adamdyn import kadam as K
from adamdyn import kadam_sphere as KS
from adamdyn import landscapes as L
from adamdyn_book.ledger import gould_tanaka
from conftest import rerun_glue


@settings(max_examples=50, deadline=None)
@given(st.floats(0.0, 0.99), st.floats(0.0, 0.999), st.sampled_from([0.0, 1e-8, 1e-3]),
       st.booleans(), st.floats(0.0, 0.5), st.integers(0, 10**6))
def test_k1_equals_adam_bitwise(b1, b2, eps, bc, wd, seed):
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((60, 3, 2)) * np.exp(rng.uniform(-4, 4, (60, 3, 2)))
    ref = ad.updates_from_gradients(ad.adamw(lr=0.01, beta1=b1, beta2=b2, eps=eps, weight_decay=wd, bias_correction=bc), G)
    ours = K.kadam_updates_from_gradients(K.kadam(lr=0.01, k=1, beta1=b1, beta2=b2, eps=eps, weight_decay=wd,
                                                  bias_correction=bc), G)
    assert np.array_equal(ref, ours)


def test_k1_run_equals_ad_run():
    quad = L.from_function(lambda x: np.sum(x * x, -1), lambda x: 2 * x, dim=2)
    a = ad.run(ad.adam(lr=0.01), quad, [1.0, 2.0], 2000).path
    b = K.run_kadam(K.kadam(lr=0.01, k=1), quad, [1.0, 2.0], 2000).path
    assert np.array_equal(a, b)  # same numpy path: bitwise
    kern = ad.run(ad.adam(lr=0.01), L.quadratic([1.0, 1.0]), [1.0, 2.0], 2000).path
    assert np.abs(kern - b).max() < 1e-13  # compiled kernel: last-bit differences only


def test_first_step_is_sign_for_every_k():
    g = np.array([[3.0, -0.2, 1e-5]])
    for k in range(1, 5):
        u = K.kadam_updates_from_gradients(K.kadam(lr=1.0, k=k, eps=0.0), g[None])
        np.testing.assert_allclose(u[0], -np.sign(g), rtol=4e-16 * k)  # rounding only


def test_levels_differ_from_second_step_and_k2_is_adam_of_adam():
    rng = np.random.default_rng(3)
    G = rng.standard_normal((50, 1, 4))
    u1 = K.kadam_updates_from_gradients(K.kadam(lr=1.0, k=1), G)
    u2 = K.kadam_updates_from_gradients(K.kadam(lr=1.0, k=2), G)
    # feeding Adam's directions (-u1) to Adam again gives 2-Adam
    np.testing.assert_allclose(K.kadam_updates_from_gradients(K.kadam(lr=1.0, k=1), -u1), u2, rtol=1e-12, atol=1e-15)
    assert np.abs(u2 - u1)[1:].max() > 1e-3


def test_global_norm_is_rotation_equivariant_and_coordinate_is_not():
    rng = np.random.default_rng(5)
    G = rng.standard_normal((30, 1, 3))
    Q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    glob = K.kadam(lr=1.0, k=2, beta1=(0.9, 0.0), norm="global")
    np.testing.assert_allclose(K.kadam_updates_from_gradients(glob, G @ Q.T),
                               K.kadam_updates_from_gradients(glob, G) @ Q.T, atol=1e-12)
    coord = K.kadam(lr=1.0, k=1)
    assert np.abs(K.kadam_updates_from_gradients(coord, G @ Q.T) - K.kadam_updates_from_gradients(coord, G) @ Q.T).max() > 1e-3


def test_rayleigh_gradient_is_scale_invariant_and_orthogonal():
    rng = np.random.default_rng(0)
    h, w = np.linspace(1, 3, 5), rng.standard_normal((4, 5))
    g = KS.rayleigh_grad(w, h)
    np.testing.assert_allclose(np.sum(g * w, -1), 0, atol=1e-14)
    np.testing.assert_allclose(KS.rayleigh_grad(3 * w, h), g / 3, rtol=1e-13)
    eps = 1e-6  # central difference, second method
    e = np.eye(5)[2]
    fd = (KS.rayleigh_loss(w + eps * e, h) - KS.rayleigh_loss(w - eps * e, h)) / (2 * eps)
    np.testing.assert_allclose(fd, g[:, 2], rtol=1e-6, atol=1e-9)
    noisy = KS.noisy_rayleigh(h, np.zeros(1), np.zeros((1, 4, 5)))
    np.testing.assert_allclose(noisy(w), g, rtol=1e-12)


def test_norm_recursion_exact_for_orthogonal_updates():
    # SGD-like orthogonal steps: w.u = 0, so the recursion is exact
    w = np.array([[1.0, 0.0]])
    lr, wd, norms = 0.1, 0.5, [1.0]
    us = []
    for _ in range(20):
        u = np.array([[-w[0, 1], w[0, 0]]]) * 0.7
        us.append(u)
        w = (1 - lr * wd) * w - lr * u
        norms.append(np.linalg.norm(w))
    pred = KS.norm_recursion(np.array(us), 1.0, lr, wd)[:, 0]
    np.testing.assert_allclose(pred, norms, rtol=1e-13)


def test_divergence_flagged_not_nan():
    tr = K.run_kadam(K.kadam(lr=np.array([1e-3, 1e200]), k=2), lambda x: x, [1.0], 5)
    assert tr.diverged.tolist() == [False, True] and np.all(np.isfinite(tr.path))


def test_bad_input():
    with pytest.raises(ValueError, match="k"):
        K.kadam(k=0)
    with pytest.raises(ValueError, match="beta1"):
        K.kadam(k=2, beta1=(0.9, 1.0))
    with pytest.raises(ValueError, match="length k"):
        K.kadam(k=3, beta2=(0.9, 0.99))
    with pytest.raises(ValueError, match="norm"):
        K.kadam(norm="layer")
    with pytest.raises(ValueError, match="lr"):
        K.kadam(lr=-1.0)


@pytest.fixture(scope="module")
def chapter(book_glue):
    return book_glue("k_adam")


@pytest.mark.book
def test_chapter_numbers(chapter):
    g = chapter
    assert g["ka_k1_bitwise"] is True
    assert g["ka_k1_kernel_diff"] < 1e-13
    assert g["ka_identity_err"] < 1e-12
    # meta-adaptation: the angular rate rises on clean gradients and falls when noise arrives
    assert g["ka_rate_adamw_clean"] > 2 * g["ka_rate0"]
    assert g["ka_rate_adamw_noisy"] < 0.5 * g["ka_rate_adamw_clean"]
    # the orthogonal reading misses the level: cross term dominates
    assert g["ka_cross_over_quad"] > 5
    for k in (1, 2, 3, 4):
        assert 0 < g[f"ka_best_k{k}"] < 0.1
    assert g["ka_diverged"] == 0


@pytest.mark.chapter
def test_chapter_with_less_noise_moves_comparison_floor():
    g = rerun_glue("k_adam", {"cmp_sigma": 0.01, "toy_steps": 2000})
    # the noise floor of the quadratic scales like sigma (times the step): 10x less noise, much lower loss
    assert g["ka_best_k1"] < 0.3 * 0.0034


# ---------------------------------------------------------------- the derived 2-Adam

def test_interior_best_by_hand():
    assert KS.interior_best([3.0, 1.0, 2.0]) == (1, True)
    assert KS.interior_best([1.0, 2.0, 3.0]) == (0, False)
    assert KS.interior_best([np.inf, 2.0, 1.0]) == (2, False)


def test_sphere_two_adam_per_run_rates_equal_separate_runs():
    h = np.linspace(1.0, 3.0, 4)
    z0 = np.random.default_rng(1).standard_normal((2, 4))
    noise = np.random.default_rng(2).standard_normal((50, 2, 4))
    sig = np.full(50, 0.5)
    both, _ = KS.sphere_two_adam(KS.noisy_rayleigh(h, sig, noise), z0, 50, np.array([0.01, 0.03]), 0.1, 1.0)
    for i, lr in enumerate((0.01, 0.03)):
        one, _ = KS.sphere_two_adam(KS.noisy_rayleigh(h, sig, noise[:, i:i + 1]), z0[i:i + 1], 50, lr, 0.1, 1.0)
        np.testing.assert_allclose(both[:, i], one[:, 0], rtol=0, atol=1e-14)


def test_sphere_two_adam_flags_and_freezes_a_run_whose_gradient_stops_being_finite():
    # run 1's gradient is NaN from step 6 on: frozen at its step-5 point, later steps recorded as 0;
    # run 0 is the same, bit for bit, as when it runs alone; no NaN and no warning anywhere
    import warnings

    h = np.linspace(1.0, 3.0, 4)
    z0 = np.random.default_rng(4).standard_normal((2, 4))
    calls = [0]

    def grad(z):
        calls[0] += 1
        g = KS.rayleigh_grad(z, h)
        if calls[0] >= 6:
            g[1] = np.nan
        return g

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = KS.sphere_two_adam(grad, z0, 20, 0.05, 0.1, 1.0)
    path, alphas = out
    alone, alone_alphas = KS.sphere_two_adam(lambda z: KS.rayleigh_grad(z, h), z0[:1], 20, 0.05, 0.1, 1.0)
    assert out.diverged.tolist() == [False, True] and out.diverged_step.tolist() == [-1, 6]
    assert np.all(np.isfinite(path)) and np.all(np.isfinite(alphas))
    np.testing.assert_array_equal(path[6:, 1], np.broadcast_to(path[5, 1], path[6:, 1].shape))
    assert np.all(alphas[5:, 1] == 0.0) and np.all(alphas[:5, 1] > 0.0)
    np.testing.assert_array_equal(path[:, 0], alone[:, 0])
    np.testing.assert_array_equal(alphas[:, 0], alone_alphas[:, 0])


def test_sphere_two_adam_freezes_a_run_whose_level_underflows_under_zero_gradients():
    # zero gradients: u = 0, so V_t = rho V_{t-1} with rho = (1 - 0.9)^2 = 0.01 decays towards 0 and
    # alpha_t = sqrt(1 - rho) / ((1 - 0.9) sqrt(V_{t-1})) grows past the divergence limit 1e150 (then to
    # inf, where inf * 0 = nan); the run is frozen at its start (it never moved), with no NaN or warning
    import warnings

    z0 = np.array([[0.6, 0.8]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = KS.sphere_two_adam(lambda z: np.zeros_like(z), z0, 400, 0.9, 1.0, 1.0)
    rho = (1.0 - 0.9) ** 2
    V, t = (1.0 - rho) / 0.81, 1  # V_0 = (1 - rho) n0^2 / eta^2
    while np.sqrt(1.0 - rho) / ((1.0 - 0.9) * np.sqrt(V)) <= 1e150:
        V, t = rho * V, t + 1
    assert 100 < t < 200 and out.diverged[0] and out.diverged_step[0] == t
    np.testing.assert_array_equal(out.path[:, 0], np.broadcast_to(z0[0], (401, 2)))
    assert np.all(np.isfinite(out.alphas)) and np.all(out.alphas[t - 1:, 0] == 0.0) and out.alphas[t - 2, 0] > 1e149


def test_derived_second_level_first_step_by_hand():
    # V_0 = (1 - rho) n0^2 / eta^2, so the first angular step is sqrt(1 - rho) / ((1 - eta lambda) sqrt(V_0))
    # = eta / ((1 - eta lambda) n0), AdamW's angular rate at |w| = n0
    h = np.linspace(1.0, 3.0, 4)
    z0 = np.ones((1, 4)) / 2.0
    _, alphas = KS.sphere_two_adam(lambda z: KS.rayleigh_grad(z, h), z0, 1, 0.02, 0.5, 3.0)
    assert alphas[0, 0] == pytest.approx(0.02 / ((1 - 0.01) * 3.0), rel=1e-14)


@pytest.mark.slow
def test_tune_on_rayleigh_shapes_and_claims():
    res = KS.tune_on_rayleigh(np.linspace(1.0, 3.0, 5), 0.5, 200, np.array([1e-3, 1e-2, 1e-1]), 3, 0.1)
    assert set(res) == {"AdamW", "derived 2-Adam", "cascade 2-Adam", "fixed angular rate"}
    assert all(r["scores"].shape == (3,) and np.all(np.isfinite(r["scores"])) for r in res.values())
    rows = {c.id: c for c in gould_tanaka.claims()}
    assert rows["GT-kadam-k1"].status == "verified"


@pytest.mark.book
def test_chapter_derived_two_adam(chapter):
    g = chapter
    assert g["ka_tune_all_interior"] is True and g["ka_cmp_all_interior"] is True
    for key in ("adamw", "derived", "cascade", "fixed"):
        assert 0 < g[f"ka_tune_{key}"] < 0.3 and g[f"ka_tune_{key}_se"] > 0
