"""The closed-loop stable-region experiment: its reference recursion, growth measure and training loop.

Checked against the library's Adam kernel (a second implementation), closed forms and a property
that holds for every gradient history (Kaiser's Proposition 1 bound inside the region).
"""

import numpy as np
import pytest

import adamdyn as ad
from adamdyn import bounds
from adamdyn.networks import beta_grid as B

# JAX compiles every network and training loop: minutes, not seconds (excluded from `make test-fast`)
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("b1, b2, eps", [(0.95, 0.5, 1e-8), (0.9, 0.999, 1e-8), (0.99, 0.3, 1e-3)])
def test_silent_coordinate_matches_the_library_kernel(b1, b2, eps):
    hist = np.concatenate([np.linspace(1.0, 0.3, 20), np.zeros(100)])[:, None, None]
    lib = np.abs(ad.updates_from_gradients(ad.adam(lr=1.0, beta1=b1, beta2=b2, eps=eps), hist))[20:, 0, 0]
    m = v = 0.0
    for x in hist[:20, 0, 0]:
        m, v = b1 * m + (1 - b1) * x, b2 * v + (1 - b2) * x * x
    ref = B.silent_coordinate_updates(b1, b2, eps, m, v, 20, 100)
    np.testing.assert_allclose(ref, lib, rtol=1e-12)


def test_silent_coordinate_grows_at_the_open_loop_rate_with_eps_zero():
    """eps = 0, bias corrections ~1 (t0 large): ln|u| rises by exactly 1/2 ln(b1^2/b2) per step."""
    b1, b2 = 0.9, 0.5
    u = B.silent_coordinate_updates(b1, b2, 0.0, 1.0, 1.0, 2000, 50)
    np.testing.assert_allclose(np.diff(np.log(u)), 0.5 * np.log(b1**2 / b2), rtol=1e-10)


def test_burst_slopes_of_an_exponential():
    t = np.arange(1, 101)
    u = np.where(t <= 60, np.exp(0.3 * t), np.exp(0.3 * 60) * 0.5)[None, :]
    assert abs(B.burst_slopes(u, 10)[0] - 0.3) < 1e-12
    assert abs(B.burst_slopes(u, 10, fastest=True)[0] - 0.3) < 1e-12
    assert np.isnan(B.burst_slopes(u[:, :5], 10)[0])


@pytest.fixture(scope="module")
def small_grid():
    return B.beta_grid_experiment(n_beta1=3, n_beta2=3, beta1_range=(0.5, 0.99), beta2_range=(0.3, 0.999),
                                  eps_values=(1e-8,), lrs=(1e-2,), steps=60, sizes=(64, 8, 10))


def test_inside_the_region_updates_respect_the_open_loop_bound(small_grid):
    g = small_grid
    peak = g.max_update.max(axis=1)
    bound = bounds.step_bound(g.beta1, g.beta2)
    assert g.inside.any() and (~g.inside).any()
    # float32 training: the bound holds to float32 rounding
    assert np.all(peak[g.inside] <= bound[g.inside] * (1 + 1e-5))


def test_the_grid_is_deterministic_and_finite(small_grid):
    again = B.beta_grid_experiment.__wrapped__(n_beta1=3, n_beta2=3, beta1_range=(0.5, 0.99),
                                               beta2_range=(0.3, 0.999), eps_values=(1e-8,), lrs=(1e-2,), steps=60,
                                               sizes=(64, 8, 10))
    assert np.array_equal(again.max_update, small_grid.max_update)
    assert np.all(np.isfinite(small_grid.max_update)) and np.all(np.isfinite(small_grid.train_loss))
    assert small_grid.coord_max.shape == (9, small_grid.setting["n_params"])


def test_bad_arguments_raise_value_errors():
    with pytest.raises(ValueError, match="beta1"):
        B.silent_coordinate_updates(1.5, 0.5, 0.0, 1.0, 1.0, 1, 3)
    with pytest.raises(ValueError, match="window"):
        B.burst_slopes(np.ones((1, 20)), 0)
