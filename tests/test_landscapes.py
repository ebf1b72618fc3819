"""Landscape gradients against central finite differences, and the exact flatness of the plateau.

A central difference with step h has truncation error h^2/6 |f'''| and rounding
error ~ 2^-53 |f| / h; with h = 1e-5 both are below 1e-7 relative to the
gradient scale on the regions sampled, which is the tolerance used.
"""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import adamdyn as ad
from adamdyn import landscapes as L

FAST = settings(max_examples=50, deadline=None)
H = 1e-5


def central_difference(f, X, h=H):
    X = np.asarray(X, dtype=float)
    G = np.empty_like(X)
    for i in range(X.shape[-1]):
        E = np.zeros(X.shape[-1])
        E[i] = h
        G[..., i] = (f(X + E) - f(X - E)) / (2 * h)
    return G


coord = st.floats(-3.0, 3.0)
away = coord.filter(lambda v: abs(v) > 1e-3)  # the kinks of |x| lie at 0


@pytest.mark.parametrize("land", [L.saddle(), L.smooth_valley(), L.quartic(), L.quadratic([2.0, -0.3, 1e-3])],
                         ids=["saddle", "smooth", "quartic", "quadratic3"])
@given(data=st.data())
@FAST
def test_smooth_gradients_match_finite_differences(land, data):
    dim = land.dim
    X = np.array([data.draw(coord) for _ in range(2 * dim)]).reshape(2, dim)  # a batch of two runs
    fd = central_difference(land.value, X)
    scale = 1.0 + np.abs(land.grad(X)).max()
    np.testing.assert_allclose(land.grad(X), fd, rtol=0, atol=1e-7 * scale * (1 + np.abs(X).max() ** 2))


@given(x=away, y=away)
@FAST
def test_sharp_valley_gradient_matches_finite_differences_away_from_kinks(x, y):
    land = L.sharp_valley()
    X = np.array([x, y])
    np.testing.assert_allclose(land.grad(X), central_difference(land.value, X), rtol=0, atol=1e-9)
    np.testing.assert_array_equal(land.grad(X), [np.sign(x), 1e-4 * np.sign(y)])


@pytest.mark.parametrize("power", [1.0, 1.5, 2.0, 3.0])
@given(w=st.floats(-3.0, 0.299))
@FAST
def test_plateau_gradient_matches_finite_differences_on_the_slope(power, w):
    edge, slope = 0.3, 2.0
    land = L.plateau(edge=edge, slope=slope, power=power)
    X = np.array([[w, w - 0.5]])
    if edge - w < 2 * H:  # the difference stencil would straddle the edge
        return
    fd = central_difference(land.value, X)
    # truncation error h^2/6 max|f'''| over the stencil, with f''' = -c (p-1)(p-2) d^(p-3); plus rounding
    d = edge - X - H
    trunc = H**2 / 6 * slope * abs((power - 1) * (power - 2)) * d ** (power - 3)
    np.testing.assert_array_less(np.abs(land.grad(X) - fd), 1.01 * trunc + 1e-9)
    np.testing.assert_allclose(land.grad(X), -slope * (edge - X) ** (power - 1), rtol=1e-14)


@pytest.mark.parametrize("power", [1.0, 2.0])
@given(w=st.floats(0.3, 1e6))
@FAST
def test_plateau_is_exactly_flat_beyond_the_edge(power, w):
    land = L.plateau(edge=0.3, slope=1.0, power=power)
    X = np.array([[w, 0.3], [np.nextafter(0.3, 1.0), w]])
    assert np.all(land.grad(X) == 0.0)
    assert np.all(land.value(X) == 0.0)


def test_plateau_kernel_is_exactly_flat_too():
    # in the compiled kernel SGD stops dead on the flat: its step is lr * 0
    land = L.plateau(edge=0.0, slope=1.0, power=1.0)
    tr = ad.run(ad.sgd(lr=0.3), land, x0=[-1.0], steps=50)
    x = tr.path[:, 0, 0]
    first = int(np.argmax(x >= 0.0))
    assert first == 4 and np.all(x[first:] == x[first])  # -1 + 4*0.3 = 0.2 >= 0, then frozen
    # Adam keeps moving on momentum, and every step there shrinks by beta1/sqrt(beta2)
    tr = ad.run(ad.adam(lr=1e-2, eps=0.0), land, x0=[-0.05], steps=200)
    steps = np.diff(tr.path[:, 0, 0])
    on_flat = np.flatnonzero(tr.path[:-1, 0, 0] >= 0.0)
    k = on_flat[5:15]
    # ratio of successive steps on the flat: (b1^s m)/(sqrt(b2^s v)) times the bias-correction change
    t = k + 1
    bc = np.sqrt(1 - 0.999 ** (t + 1)) / (1 - 0.9 ** (t + 1)) / (np.sqrt(1 - 0.999**t) / (1 - 0.9**t))
    np.testing.assert_allclose(steps[k + 1] / steps[k], 0.9 / np.sqrt(0.999) * bc, rtol=1e-12)


def test_values_at_known_points():
    assert L.saddle().value(np.array([1.0, 2.0])) == pytest.approx(1.5)
    assert L.smooth_valley().value(np.array([1.0, 10.0])) == pytest.approx(1.1)
    assert L.sharp_valley().value(np.array([-2.0, 100.0])) == pytest.approx(2.01)
    assert L.quartic().value(np.array([1.0, 1.0])) == pytest.approx(16.0)
    assert L.quartic().value(np.array([1.0, -1.0])) == pytest.approx(1.0)
    assert L.plateau(edge=1.0, slope=3.0, power=2.0).value(np.array([-1.0])) == pytest.approx(6.0)
    np.testing.assert_array_equal(L.quartic().minimizer, [0.0, 0.0])


def test_saddle_hessian_is_diag_minus_one_one():
    land = L.saddle()
    X = np.array([0.3, -0.7])
    Hcols = [(land.grad(X + e) - land.grad(X - e)) / 2e-3 for e in np.eye(2) * 1e-3]
    np.testing.assert_allclose(np.array(Hcols).T, np.diag([-1.0, 1.0]), atol=1e-12)


def test_from_function_without_grad_uses_central_differences():
    f = lambda X: np.sin(X[..., 0]) * np.exp(X[..., 1])  # noqa: E731
    land = L.from_function(f, dim=2)
    X = np.array([[0.3, -0.2], [1.1, 0.5]])
    exact = np.stack([np.cos(X[:, 0]) * np.exp(X[:, 1]), np.sin(X[:, 0]) * np.exp(X[:, 1])], axis=-1)
    np.testing.assert_allclose(land.grad(X), exact, atol=1e-9)
    assert land.kind == L.KIND_USER
