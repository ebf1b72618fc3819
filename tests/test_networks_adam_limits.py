"""Tests of adamdyn.networks.adam_limits against independently derived values.

- the minimiser: numpy's least-squares solver (an SVD), not the normal equations;
- the field's zero for antithetic noise: the data-generating weights (the field is odd there);
- the field's zero for skewed noise: the ergodic estimate of the field (method (a), Monte Carlo)
  vanishes there within its standard errors, and the second-order prediction is close;
- the scheduled Adam transform: a plain Python loop of Kingma & Ba's Algorithm 1 with gamma_n;
- the squared loss: a NumPy forward pass; the loss exponent: a synthetic power law.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from adamdyn import vector_field as V
from adamdyn import stochastic_adam as SA
from adamdyn import vector_field_ergodic as VE
from adamdyn.networks import adam_limits as L
from adamdyn_book.ledger import networks_limits

# JAX compiles every network and training loop: minutes, not seconds (excluded from `make test-fast`)
pytestmark = pytest.mark.slow


def test_minimiser_is_the_least_squares_solution():
    A, y, _ = L.regression_problem("skewed", n_images=10)
    np.testing.assert_allclose(L.least_squares_minimiser(A, y), np.linalg.lstsq(A, y, rcond=None)[0], rtol=1e-12)


def test_antithetic_noise_zero_is_the_generating_weights():
    A, y, w = L.regression_problem("antithetic", n_images=6)
    np.testing.assert_allclose(L.least_squares_minimiser(A, y), w, atol=1e-12)
    z = L.field_zero_nd(A, y, 0.5, 0.9)
    np.testing.assert_allclose(z.zero, w, atol=1e-10)


def test_skewed_zero_agrees_with_the_ergodic_field_and_leaves_the_minimiser():
    A, y, _ = L.regression_problem("skewed", n_images=6)
    b1, b2 = 0.5, 0.9
    z = L.field_zero_nd(A, y, b1, b2)
    assert z.residual < 1e-10
    w_star = L.least_squares_minimiser(A, y)
    p = np.full(A.shape[0], 1 / A.shape[0])
    erg = lambda w: VE.field_ergodic(V.least_squares_gradient_values(w, A, y), p, b1, b2, steps=20000,  # noqa: E731
                                    replicas=16, seed=3)
    at_zero, at_min = erg(z.zero), erg(w_star)
    assert np.all(np.abs(at_zero.value) < 4 * at_zero.stderr + 1e-12)
    assert np.max(np.abs(at_min.value) / at_min.stderr) > 10      # the minimiser is not a zero
    # the second-order prediction: closer to the zero than the minimiser is
    d = L.delta_method_zero(A, y, b1, b2)
    assert np.abs(d - z.zero).max() < 0.5 * np.abs(w_star - z.zero).max()


def test_step_size_is_the_library_schedule():
    n = np.arange(1, 50)
    np.testing.assert_allclose(L.step_size(n, 0.02, 30.0, 0.75), SA.step_sizes(n, 0.02, 0.75, 30.0), rtol=1e-14)
    # by hand: gamma_n = 0.02 (1 + n/30)^-0.75 is 0.02 at n = 0, 0.02 / 2^0.75 at n = 30, 0.02 / 4^0.75 = 0.02 / 2^1.5 at n = 90
    np.testing.assert_allclose(L.step_size([0, 30, 90], 0.02, 30.0, 0.75), [0.02, 0.02 * 2**-0.75, 0.02 / 8**0.5],
                               rtol=1e-14)


@pytest.mark.parametrize("inside", [False, True])
def test_scheduled_adam_matches_a_plain_loop(inside):
    rng = np.random.default_rng(0)
    grads = rng.standard_normal((40, 3))
    lr, b1, b2, eps, n0, pw = 0.05, 0.8, 0.95, 1e-3, 7.0, 0.6
    tx = L.scheduled_adam(lr, b1, b2, eps, inside, n0, pw)
    w = jnp.zeros(3)
    state = tx.init(w)
    for g in grads:
        u, state = tx.update(jnp.asarray(g), state, w)
        w = optax.apply_updates(w, u)
    # plain loop: Kingma & Ba's Algorithm 1 with gamma_n = lr (1 + n/n0)^-p
    m = v = ref = np.zeros(3)
    for n, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mh, vh = m / (1 - b1**n), v / (1 - b2**n)
        den = np.sqrt(vh + eps) if inside else np.sqrt(vh) + eps
        ref = ref - lr / (1 + n / n0) ** pw * mh / den
    np.testing.assert_allclose(np.asarray(w), ref, rtol=1e-12, atol=1e-14)


def test_mse_loss_is_the_numpy_squared_loss():
    model = L.mse_mlp((5, 4, 3))
    params = model.init(jax.random.PRNGKey(1))
    x = np.random.default_rng(2).standard_normal((7, 5))
    y = np.array([0, 1, 2, 0, 1, 2, 0])
    h = np.tanh(x @ np.asarray(params[0]["w"]) + np.asarray(params[0]["b"]))
    out = h @ np.asarray(params[1]["w"]) + np.asarray(params[1]["b"])
    ref = 0.5 * np.mean(np.sum((out - np.eye(3)[y]) ** 2, axis=1))
    assert float(model.loss(params, jnp.asarray(x), jnp.asarray(y))) == pytest.approx(ref, rel=1e-12)


def test_loss_exponent_recovers_a_power_law():
    steps = np.arange(0, 2001, 100)
    g = L.step_size(steps, 0.01, 100.0, 1.0)
    assert L.loss_exponent(steps, 3.0 * g**2.5, 0.01, 100.0, 1.0) == pytest.approx(2.5, rel=1e-10)
    assert np.isnan(L.loss_exponent(steps, g, 0.01, 100.0, 0.0))


def test_bad_input_names_the_parameter():
    with pytest.raises(ValueError, match="noise"):
        L.regression_problem("uniform")
    with pytest.raises(ValueError, match="n_train"):
        L.digits_subset(100000)
    with pytest.raises(ValueError, match="lr"):
        L.scheduled_adam(-1.0)
    with pytest.raises(ValueError, match="power"):
        L.scheduled_adam(0.1, power=-1.0)


def test_claims_rows_are_well_formed():
    rows = networks_limits.claims()
    assert [r.id for r in rows] == ["DJK-net-overparametrised", "DJK-net-limit-zero"]
    assert {r.where for r in rows} == {"net-limits-over", "net-limits-under"}
