"""The derived 2-Adam as an optax transformation, the selectable transformation and model of kadam_norm.

Each test checks against something computed another way: the Part II chapter's NumPy 2-Adam on the
sphere (`adamdyn.kadam.sphere_two_adam`), a closed form in the lambda = 0 limit, the toolkit's
`transforms.kadam` and `models.mlp`.
"""

import numpy as np
import pytest

from adamdyn import kadam_sphere as KS
from adamdyn.networks import kadam_norm as KN
from adamdyn.networks import models
from adamdyn.networks import transforms as T

import jax  # noqa: E402  (after adamdyn.networks: CPU and float64)
import jax.numpy as jnp  # noqa: E402

# JAX compiles every network and training loop: minutes, not seconds (excluded from `make test-fast`)
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("lr, wd", [(0.01, 0.1), (0.05, 0.5), (0.003, 1.0)])
def test_two_adam_on_the_sphere_is_the_k_adam_chapters_2adam(lr, wd):
    """Projected back onto the sphere after each step, the optax 2-Adam is KS.sphere_two_adam (float64)."""
    rng = np.random.default_rng(1)
    dim, steps = 6, 400
    h = np.linspace(1.0, 3.0, dim)
    z0 = rng.standard_normal((1, dim))
    noise = rng.standard_normal((steps, 1, dim))
    sig = np.full(steps, 0.5)
    ref_path, ref_alpha = KS.sphere_two_adam(KS.noisy_rayleigh(h, sig, noise), z0, steps, lr, wd, 1.0)
    grad = KS.noisy_rayleigh(h, sig, noise)
    opt = KN.two_adam(lr, wd)
    z = jnp.asarray(z0[0] / np.linalg.norm(z0[0]))
    state = opt.init(z)
    path = [np.asarray(z)]
    for _ in range(steps):
        upd, state = opt.update(jnp.asarray(grad(np.asarray(z)[None])[0]), state, z)
        z = (z + upd) / jnp.linalg.norm(z + upd)
        path.append(np.asarray(z))
    err = np.max(np.abs(np.array(path) - ref_path[:, 0]))
    assert err < 1e-10, err
    assert np.max(np.abs(ref_path[-1, 0] - ref_path[0, 0])) > 0.1  # it moved


def test_two_adam_without_decay_is_the_accumulated_norm_rate():
    """lambda = 0, beta1 = beta2 = 0, eps = 0: u_t = sign(g_t), so alpha_t = eta / sqrt(n0^2 + eta^2 P (t-1))."""
    eta, n0, P = 0.1, 2.0, 7
    rng = np.random.default_rng(0)
    opt = KN.two_adam(eta, 0.0, beta1=0.0, beta2=0.0, eps=0.0, n0=n0)
    w = jnp.zeros(P)
    state = opt.init(w)
    for t in range(1, 30):
        g = rng.standard_normal(P)
        upd, state = opt.update(jnp.asarray(g), state, w)
        alpha = eta / np.sqrt(n0**2 + eta**2 * P * (t - 1))
        np.testing.assert_allclose(np.asarray(upd), -alpha * np.sign(g), rtol=1e-13)


def test_arms_select_the_separate_transformations():
    """arm 0, 1, 2 is transforms.kadam with k = 1, 2, 3 (weight decay as AdamW's); arm 3 is two_adam."""
    rng = np.random.default_rng(2)
    G = rng.standard_normal((60, 9)) * np.logspace(-3, 1, 9)
    for wd in (0.0, 0.1):
        refs = [T.kadam(0.01, k=k, weight_decay=wd) for k in (1, 2, 3)] + [KN.two_adam(0.01, wd)]
        for arm, ref in enumerate(refs):
            sel = KN.arms(0.01, float(arm), weight_decay=wd)
            w1 = w2 = jnp.asarray(rng.standard_normal(9))
            s1, s2 = sel.init(w1), ref.init(w2)
            for g in G:
                u1, s1 = sel.update(jnp.asarray(g), s1, w1)
                u2, s2 = ref.update(jnp.asarray(g), s2, w2)
                w1, w2 = w1 + u1, w2 + u2
            np.testing.assert_allclose(np.asarray(w1), np.asarray(w2), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("index", [0, 1, 2])
def test_selectable_model_is_the_toolkits_mlp(index):
    norm = KN.NORMS[index]
    model = models.mlp((64, 8, 8, 10), activation="relu", norm=norm)
    params = model.init(jax.random.PRNGKey(3))
    x = jax.random.normal(jax.random.PRNGKey(4), (20, 64))
    np.testing.assert_allclose(np.asarray(KN.apply_selectable(params, x, jnp.asarray(float(index)))),
                               np.asarray(model.apply(params, x)), rtol=1e-13, atol=1e-13)


def test_two_adam_rejects_bad_arguments():
    with pytest.raises(ValueError, match="lr"):
        KN.two_adam(-1.0)
    with pytest.raises(ValueError, match="weight_decay"):
        KN.two_adam(0.1, -0.1)
    with pytest.raises(ValueError, match="lr \\* weight_decay"):
        KN.two_adam(2.0, 1.0)


def test_large_rate_excess_on_a_hand_example():
    t = {"a": {"mean": np.array([2.0, 1.0, 3.0, 8.0]), "loss": 1.0}}
    assert KN.large_rate_excess(t, [1e-3, 1e-2, 1e-1, 1.0], 1e-2)["a"] == 8.0
