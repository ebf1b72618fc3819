"""Every ValueError path of the library names the offending parameter (and its allowed range)."""

import re

import numpy as np
import pytest

import adamdyn as ad
from adamdyn import landscapes as L
from adamdyn import validation as V


def raises(match):
    return pytest.raises(ValueError, match=match)


@pytest.mark.parametrize("make,name", [
    (lambda b: ad.adam(beta1=b), "beta1"),
    (lambda b: ad.adam(beta2=b), "beta2"),
    (lambda b: ad.adamw(beta1=b), "beta1"),
    (lambda b: ad.rmsprop(beta2=b), "beta2"),
    (lambda b: ad.momentum(beta=b), "beta"),
])
@pytest.mark.parametrize("bad", [1.0, -0.1, 1.5, [0.9, 1.0]])
def test_beta_outside_unit_interval(make, name, bad):
    with raises(rf"^{name} must lie in \[0, 1\)"):
        make(bad)


@pytest.mark.parametrize("make", [ad.sgd, ad.momentum, ad.adagrad, ad.rmsprop, ad.adam, ad.adamw])
@pytest.mark.parametrize("bad", [0.0, -1e-3, [1e-3, 0.0]])
def test_lr_not_positive(make, bad):
    with raises(r"^lr must be > 0"):
        make(lr=bad)


@pytest.mark.parametrize("make", [ad.adagrad, ad.rmsprop, ad.adam, ad.adamw])
def test_eps_negative(make):
    with raises(r"^eps must be >= 0"):
        make(eps=-1e-8)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_hyperparameters(bad):
    with raises(r"^lr must be finite"):
        ad.adam(lr=bad)
    with raises(r"^beta2 must be finite"):
        ad.adam(beta2=bad)


def test_hyperparameter_shapes():
    with raises(r"^lr must be a scalar or a 1-D array"):
        ad.adam(lr=np.ones((2, 2)))
    with raises(r"per-run hyperparameters must have equal lengths.*'lr': 2.*'beta1': 3"):
        ad.adam(lr=[1e-3, 1e-2], beta1=[0.1, 0.2, 0.3])
    with raises(r"^weight_decay must be >= 0"):
        ad.adamw(weight_decay=-1.0)
    with raises(r"^weight_decay must have length 1 or the number of runs"):
        ad.adamw(lr=[1e-3, 1e-2], weight_decay=[0.1, 0.2, 0.3])


@pytest.mark.parametrize("bad", [[np.nan, 0.0], [0.0, np.inf], [[1.0, 1.0], [1.0, -np.inf]]])
def test_non_finite_x0(bad):
    with raises(r"^x0 must be finite"):
        ad.run(ad.adam(), L.smooth_valley(), x0=bad, steps=1)


def test_x0_shapes():
    with raises(r"^x0 must have 2 coordinates per run"):
        ad.run(ad.adam(), L.smooth_valley(), x0=[1.0, 2.0, 3.0], steps=1)
    with raises(r"^x0 must have shape \(dim,\) or \(runs, dim\)"):
        ad.run(ad.adam(), L.smooth_valley(), x0=np.ones((1, 2, 2)), steps=1)
    with raises(r"^x0 must have shape"):
        ad.run(ad.adam(), L.smooth_valley(), x0=[], steps=1)
    with raises(r"^x0 has 3 runs but the optimizer has 2"):
        ad.run(ad.combine(ad.sgd(), ad.adam()), L.smooth_valley(), x0=np.ones((3, 2)), steps=1)


@pytest.mark.parametrize("bad", [-1, 1.5, 10.0, True, "10"])
def test_bad_steps(bad):
    with raises(r"^steps must be an integer >= 0"):
        ad.run(ad.adam(), L.smooth_valley(), x0=[1.0, 1.0], steps=bad)


@pytest.mark.parametrize("bad", [0, -3, 2.0, None])
def test_bad_record_every(bad):
    with raises(r"^record_every must be an integer >= 1"):
        ad.run(ad.adam(), L.smooth_valley(), x0=[1.0, 1.0], steps=10, record_every=bad)


def test_target_center_radius():
    kw = dict(x0=[1.0, 1.0], steps=3)
    with raises(r"^radius must be given with center"):
        ad.run(ad.adam(), L.smooth_valley(), center=[0, 0], **kw)
    with raises(r"^radius must be > 0"):
        ad.run(ad.adam(), L.smooth_valley(), center=[0, 0], radius=0.0, **kw)
    with raises(r"^center must have 2 coordinates"):
        ad.run(ad.adam(), L.smooth_valley(), center=[0, 0, 0], radius=1.0, **kw)
    with raises(r"^target must have 2 coordinates"):
        ad.run(ad.adam(), L.smooth_valley(), target=[0], tol=1e-3, **kw)
    with raises(r"^tol must be >= 0"):
        ad.run(ad.adam(), L.smooth_valley(), target=[0, 0], tol=-1.0, **kw)
    with raises(r"^target must be finite"):
        ad.run(ad.adam(), L.smooth_valley(), target=[0, np.nan], tol=1.0, **kw)


def test_state_and_type_errors():
    tr = ad.run(ad.combine(ad.sgd(), ad.adam()), L.smooth_valley(), x0=[1.0, 1.0], steps=3)
    with raises(r"^state\.x has 2 runs but the optimizer has 3"):
        ad.run(ad.combine(ad.sgd(), ad.adam(), ad.adam()), L.smooth_valley(), x0=None, steps=3, state=tr.state)
    with raises(r"^optimizer must be an Optimizer"):
        ad.run("adam", L.smooth_valley(), x0=[1.0, 1.0], steps=3)
    with raises(r"^landscape must be a Landscape"):
        ad.run(ad.adam(), lambda x: x, x0=[1.0, 1.0], steps=3)
    with raises(r"^combine takes one or more Optimizer"):
        ad.combine()


def test_updates_from_gradients_errors():
    with raises(r"^grads must have shape \(T,\), \(T, runs\) or \(T, runs, dim\)"):
        ad.updates_from_gradients(ad.adam(), np.zeros((2, 2, 2, 2)))
    with raises(r"^grads must be finite"):
        ad.updates_from_gradients(ad.adam(), [1.0, np.nan])
    with raises(r"^grads has 3 runs but the optimizer has 2"):
        ad.updates_from_gradients(ad.combine(ad.sgd(), ad.adam()), np.zeros((5, 3)))


def test_user_grad_with_wrong_shape():
    bad = L.from_function(lambda X: X.sum(-1), lambda X: np.zeros(3), dim=2)
    with raises(r"^grad must return shape \(1, 2\)"):
        ad.run(ad.adam(), bad, x0=[1.0, 1.0], steps=2)


def test_landscape_constructors():
    with raises(r"^power must be >= 1"):
        L.plateau(power=0.5)
    with raises(r"^slope must be > 0"):
        L.plateau(slope=0.0)
    with raises(r"^coeffs must be > 0"):
        L.weighted_abs([1.0, -1.0])
    with raises(r"^a must be > 0"):
        L.smooth_valley(a=0.0)
    with raises(r"^value must be callable"):
        L.from_function(3.0)
    with raises(r"^grad must be callable or None"):
        L.from_function(np.sum, grad=1.0)
    with raises(r"^step must be > 0"):
        L.from_function(np.sum, step=-1.0)
    with raises(r"^coeffs must be finite"):
        L.quadratic([1.0, np.inf])


def test_validation_helpers_directly():
    np.testing.assert_array_equal(V.check_beta("b", 0.0), [0.0])  # 0 is allowed, 1 is not
    np.testing.assert_array_equal(V.check_nonnegative("e", 0.0), [0.0])
    assert V.check_int("n", np.int64(5), 1) == 5
    assert V.check_points("p", [1.0, 2.0]).shape == (1, 2)
    for fn, arg in [(V.check_positive, 0.0), (V.check_beta, 1.0), (V.check_nonnegative, -1.0)]:
        with pytest.raises(ValueError, match=re.escape("myname")):
            fn("myname", arg)


# ---------------------------------------------------------------- state continuation and extreme inputs

def test_continuation_of_a_broadcast_run():
    tr = ad.run(ad.adam(), L.smooth_valley(), x0=np.ones((3, 2)), steps=5)
    more = ad.run(ad.adam(), L.smooth_valley(), x0=None, steps=5, state=tr.state)
    assert more.state.t == 10


def test_state_moment_shapes_are_checked():
    import dataclasses

    tr = ad.run(ad.combine(ad.adam(), ad.adam()), L.smooth_valley(), x0=[1.0, 1.0], steps=5)
    bad = dataclasses.replace(tr.state, m=np.zeros((2, 3)))
    with raises(r"state\.m"):
        ad.run(ad.combine(ad.adam(), ad.adam()), L.smooth_valley(), x0=None, steps=5, state=bad)


def test_negative_state_step_is_rejected():
    import dataclasses

    tr = ad.run(ad.adam(), L.smooth_valley(), x0=[1.0, 1.0], steps=5)
    with raises(r"state\.t"):
        ad.run(ad.adam(), L.smooth_valley(), x0=None, steps=5, state=dataclasses.replace(tr.state, t=-4))


def test_check_betas_ranges_and_shapes():
    b1, b2 = V.check_betas(np.zeros((2, 1)), [0.5, 0.9, 0.99])
    assert b1.shape == b2.shape == (2, 3)                     # broadcast, shape kept
    with raises(r"^beta1 must lie in \(0, 1\)"):
        V.check_betas(0.0, 0.9, positive=True)               # logs of beta need beta > 0
    with raises(r"^beta2 must lie in \[0, 1\)"):
        V.check_betas(0.9, [0.5, 1.0])
    with raises(r"^beta1 must lie in"):
        V.check_betas(np.nan, 0.9)


def test_check_vector():
    assert V.check_vector("theta0", 2.0).shape == (1,)
    with raises(r"^theta0 must be a finite vector of shape \(d,\)"):
        V.check_vector("theta0", [[1.0, 2.0]])
    with raises(r"^m0 must be a finite vector"):
        V.check_vector("m0", [1.0, np.inf])
