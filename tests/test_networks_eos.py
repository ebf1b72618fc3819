"""The edge-of-stability experiment (adamdyn.networks.eos): the threshold and the sharpness, checked independently."""

import numpy as np
import pytest
import sympy as sp

from adamdyn.networks import data, eos, models

import jax  # noqa: E402  (after adamdyn.networks: float64)
import jax.numpy as jnp  # noqa: E402
from jax.flatten_util import ravel_pytree  # noqa: E402

# JAX compiles every network and training loop: minutes, not seconds (excluded from `make test-fast`)
pytestmark = pytest.mark.slow


def test_threshold_symbolic_equals_the_hand_value():
    _, crit = eos.threshold_symbolic()
    from adamdyn.symbols import beta1 as b1, eta
    assert sp.simplify(crit - 2 * (1 + b1) / ((1 - b1) * eta)) == 0
    assert abs(eos.threshold(1e-2, 0.9) - 3800.0) < 1e-9
    assert abs(eos.threshold(1e-2, 0.0) - 200.0) < 1e-12


@pytest.mark.parametrize("beta1", [0.0, 0.9])
def test_heavy_ball_loses_stability_at_the_threshold(beta1):
    """A plain loop of EMA heavy ball on lambda x^2 / 2: bounded just below the threshold, growing just above."""
    lr = 1e-2
    crit = 2 * (1 + beta1) / ((1 - beta1) * lr)

    def final(lam):
        m, x = 0.0, 1.0
        for _ in range(200):
            m = beta1 * m + (1 - beta1) * lam * x
            x = x - lr * m
        return abs(x)

    assert final(0.98 * crit) < 1.0
    assert final(1.02 * crit) > 1e3


def test_alternation_of_hand_sequences():
    t = np.arange(100)
    assert eos.alternation(1.0 + 0.1 * (-1.0) ** t)[0] == 1.0
    assert eos.alternation(np.exp(-0.01 * t))[0] == 0.0


def test_recorded_sharpness_matches_a_dense_eigenvalue_after_a_plain_adam_loop():
    """Plain-loop Adam (numpy) for the same steps, then the dense Hessian: lambda_max(P^-1/2 H P^-1/2)."""
    n, sizes, steps, lr, b1, b2, eps = 30, (64, 3, 10), 40, 3e-3, 0.9, 0.99, 1e-8
    runs = eos.eos_runs(n_train=n, sizes=sizes, steps=steps, every=20, iters=200, adam_lrs=(lr,), rmsprop_lrs=(),
                        adam_beta2s=(b2,), rmsprop_decays=())
    d = data.digits()
    x, y = d.x_train[:n], d.y_train[:n]
    model = models.mlp(sizes)
    w0, unravel = ravel_pytree(model.init(jax.random.PRNGKey(0), jnp.float64))

    def loss(w):
        logits = model.apply(unravel(w), x)
        return 0.5 * jnp.mean(jnp.sum((logits - jax.nn.one_hot(y, 10, dtype=logits.dtype)) ** 2, axis=1))

    grad = jax.jit(jax.grad(loss))
    w, m, v = np.asarray(w0), np.zeros(w0.size), np.zeros(w0.size)
    for t in range(1, steps + 1):
        g = np.asarray(grad(jnp.asarray(w)))
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        w = w - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
    H = np.asarray(jax.hessian(loss)(jnp.asarray(w)))
    s = 1.0 / np.sqrt(np.sqrt(v / (1 - b2 ** steps)) + eps)
    ev = np.linalg.eigvalsh(s[:, None] * H * s[None, :])
    top = ev[np.argmax(np.abs(ev))]
    assert abs(runs.sharpness[0, -1] - top) < 1e-6 * abs(top)
    assert runs.threshold[0] == pytest.approx(38 / lr)


def test_eps_must_be_positive():
    with pytest.raises(ValueError, match="eps"):
        eos.eos_runs(eps=0.0)
