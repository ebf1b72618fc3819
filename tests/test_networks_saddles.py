"""The saddle-to-saddle experiment (adamdyn.networks.saddles): closed forms and plain loops, not its own output."""

import numpy as np
import pytest

from adamdyn.networks import models, saddles

import jax  # noqa: E402  (after adamdyn.networks: float64)

# JAX compiles every network and training loop: minutes, not seconds (excluded from `make test-fast`)
pytestmark = pytest.mark.slow


def plain_balanced_gd(s, a0, lr, depth):
    """Gradient descent on one aligned mode of a balanced depth-L product (a plain loop): first step at s/2."""
    w = np.full(depth, a0 ** (1.0 / depth))
    for k in range(1, 10**7):
        r = s - np.prod(w)
        w = w + lr * r * np.array([np.prod(np.delete(w, j)) for j in range(depth)])
        if np.prod(w) >= s / 2:
            return k


@pytest.mark.parametrize("s", [2.0, 0.5])
def test_depth2_plateau_closed_form_against_a_plain_loop(s):
    lr, a0 = 1e-3, 1e-6
    closed = np.log(s / a0 - 1) / (2 * s * lr)
    assert abs(saddles.gd_escape_time(s, a0, lr) - closed) < 1e-9 * closed
    assert abs(plain_balanced_gd(s, a0, lr, 2) - closed) < 0.01 * closed


def test_depth3_quadrature_against_a_plain_loop():
    s, a0, lr = 1.0, 1e-6, 1e-3
    t = saddles.gd_escape_time(s, a0, lr, depth=3)
    # depth 3 escapes like 1/a0^(1/3) (a power law, not a logarithm): from 1e-6 it takes ~ 3/(2 a0^(1/3) 3 lr)
    assert 0.3 / (a0 ** (1 / 3) * lr) < t < 1.0 / (a0 ** (1 / 3) * lr)
    assert abs(plain_balanced_gd(s, a0, lr, 3) - t) < 0.01 * t


def test_teacher_is_whitened_and_has_the_stated_singular_values():
    X, Y, U, V, s = saddles.teacher_problem(d=6, n=30, singular_values=(3.0, 1.0, 0.2))
    np.testing.assert_allclose(X.T @ X, 30 * np.eye(6), atol=1e-10)
    A = np.linalg.lstsq(X, Y, rcond=None)[0]
    np.testing.assert_allclose(np.linalg.svd(A, compute_uv=False)[:3], [3.0, 1.0, 0.2], rtol=1e-12)
    np.testing.assert_allclose(np.linalg.svd(A, compute_uv=False)[3:], 0.0, atol=1e-12)
    # whitened inputs: the network's loss is exactly 0.5 ||P - A||_F^2
    model = models.deep_linear((6, 5, 6), init_scale=1.0)
    p = model.init(jax.random.PRNGKey(3))
    P = np.asarray(p[0]["w"]) @ np.asarray(p[1]["w"])
    assert abs(float(model.loss(p, X, Y)) - 0.5 * np.sum((P - A) ** 2)) < 1e-10


def test_escape_ignores_a_transient_overshoot():
    s = np.array([1.0])
    traj = np.array([0.0, 0.6, 0.2, 0.3, 0.55, 0.7, 0.9])[:, None]  # up at step 2, back, up for good at step 5
    assert saddles.escape_steps(traj, s)[0] == 5.0
    assert saddles.escape_steps(np.array([0.1, 0.9, 0.4])[:, None], s)[0] == np.inf


def test_gd_plateau_moves_with_the_init_scale_as_the_closed_form_says():
    """A tenfold smaller init scale divides a_k(0) by 100 (depth 2): escape later by ln(100)/(2 s eta) steps."""
    exp = saddles.plateau_experiment(names=("GD",), n_rates=1, scales=(1e-2, 1e-3), seeds=(0,), steps=800)
    lr = exp.lr[0]
    e = exp.escape
    shift = e[1] - e[0]
    pred = np.log(100.0) / (2 * exp.s * lr)
    assert np.all(np.isfinite(e))
    np.testing.assert_allclose(shift, pred, rtol=0.1, atol=2.0)
    # and gradient descent learns the modes in decreasing singular value
    assert np.all(np.diff(e, axis=1) > 0)


def test_bad_input_is_refused_with_the_parameter_named():
    with pytest.raises(ValueError, match="names"):
        saddles.plateau_experiment(names=("SGD",))
    with pytest.raises(ValueError, match="singular_values"):
        saddles.teacher_problem(singular_values=(1.0, -1.0))
    with pytest.raises(ValueError, match="n must"):
        saddles.teacher_problem(d=8, n=4)
