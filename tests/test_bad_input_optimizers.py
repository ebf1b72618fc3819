"""Bad input to adamdyn.optimizers and adamdyn.landscapes: refused with a ValueError naming the parameter.

Each case of the book's issue on the optimizer core that lives in these two modules, plus the
neighbouring ones (strings, complex numbers, booleans, non-integer or negative step counts), and a
property test: no public function of the two modules emits a RuntimeWarning on any input it accepts.
"""

import warnings

import adamdyn as ad
import numpy as np
import pytest
from adamdyn import landscapes as L
from adamdyn.optimizers import DIVERGENCE_LIMIT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def _state(x=((1.0, 1.0),), m=((0.0, 0.0),), v=((0.0, 0.0),), t=0, pow1=None, pow2=None):
    return ad.State(np.array(x), np.array(m), np.array(v), t, pow1, pow2)


def _run(**kw):
    args = {"optimizer": ad.adam(), "landscape": L.smooth_valley(), "x0": [1.0, 1.0], "steps": 3}
    args.update(kw)
    return ad.run(args.pop("optimizer"), args.pop("landscape"), args.pop("x0"), args.pop("steps"), **args)


CASES = [
    # (call, parameter named in the message)
    (lambda: ad.adam(lr=True), "lr"),
    (lambda: ad.adam(lr="0.1"), "lr"),
    (lambda: ad.adam(lr=[]), "lr"),
    (lambda: ad.adam(lr=1j), "lr"),
    (lambda: ad.adam(lr=-1e-3), "lr"),
    (lambda: ad.adam(lr=np.nan), "lr"),
    (lambda: ad.adam(beta1=1.0), "beta1"),
    (lambda: ad.adam(beta2="0.999"), "beta2"),
    (lambda: ad.adam(eps=-1.0), "eps"),
    (lambda: ad.adam(bias_correction="no"), "bias_correction"),
    (lambda: ad.adam(bias_correction=0), "bias_correction"),
    (lambda: ad.adam(bias_correction=None), "bias_correction"),
    (lambda: ad.adam(bias_correction=[]), "bias_correction"),
    (lambda: ad.adam(eps_inside="yes"), "eps_inside"),
    (lambda: ad.adam(eps_inside=1.0), "eps_inside"),
    (lambda: ad.adam(lr=[1e-3, 1e-2], bias_correction=[True, False, True]), "bias_correction"),
    (lambda: ad.adamw(lr=0.5, weight_decay=3.0), "weight_decay"),
    (lambda: ad.adamw(lr=[1e-3, 1.0], weight_decay=2.0), "weight_decay"),
    (lambda: ad.adamw(lr=1e300, weight_decay=1e300), "weight_decay"),
    (lambda: ad.adamw(weight_decay=-0.1), "weight_decay"),
    (lambda: ad.adamw(bias_correction="no"), "bias_correction"),
    (lambda: ad.sgd(lr="1"), "lr"),
    (lambda: ad.momentum(beta=1.5), "beta"),
    (lambda: ad.rmsprop(beta2=True), "beta2"),
    (lambda: ad.adagrad(eps=1j), "eps"),
    (lambda: L.plateau(edge=[0, 1]), "edge"),
    (lambda: L.plateau(edge="0"), "edge"),
    (lambda: L.plateau(power=[1, 2]), "power"),
    (lambda: L.plateau(power=0.5), "power"),
    (lambda: L.plateau(slope=0), "slope"),
    (lambda: L.from_function(lambda X: X.sum(-1), dim=0), "dim"),
    (lambda: L.from_function(lambda X: X.sum(-1), dim=2.5), "dim"),
    (lambda: L.from_function(lambda X: X.sum(-1), dim="2"), "dim"),
    (lambda: L.from_function(lambda X: X.sum(-1), dim=True), "dim"),
    (lambda: L.from_function(lambda X: X.sum(-1), name=3), "name"),
    (lambda: L.from_function(lambda X: X.sum(-1), step=0), "step"),
    (lambda: L.from_function(3.0), "value"),
    (lambda: L.sharp_valley(a=0), "a"),
    (lambda: L.sharp_valley(b=-1e-4), "b"),
    (lambda: L.sharp_valley(a=[1.0, 2.0]), "a"),
    (lambda: L.smooth_valley(a=0), "a"),
    (lambda: L.smooth_valley(b="1e-3"), "b"),
    (lambda: L.quadratic([]), "coeffs"),
    (lambda: L.quadratic([1j, 1.0]), "coeffs"),
    (lambda: L.weighted_abs([1.0, 0.0]), "coeffs"),
    (lambda: _run(tol=0.1), "tol"),
    (lambda: _run(radius=0.1), "radius"),
    (lambda: _run(target=[0, 0], tol=-1.0), "tol"),
    (lambda: _run(target=[0, 0], tol=[0.1, 0.2]), "tol"),
    (lambda: _run(target="ab", tol=0.1), "target"),
    (lambda: _run(target=[0, 0, 0], tol=0.1), "target"),
    (lambda: _run(target=[1e200, 0], tol=0.1), "target"),
    (lambda: _run(center=[0, 0], radius=True), "radius"),
    (lambda: _run(steps="10"), "steps"),
    (lambda: _run(steps=2.5), "steps"),
    (lambda: _run(steps=-1), "steps"),
    (lambda: _run(steps=1j), "steps"),
    (lambda: _run(steps=True), "steps"),
    (lambda: _run(record_every=0), "record_every"),
    (lambda: _run(record_every=1.5), "record_every"),
    (lambda: _run(x0="ab"), "x0"),
    (lambda: _run(x0=[1j, 1.0]), "x0"),
    (lambda: _run(x0=[True, False]), "x0"),
    (lambda: _run(x0=None), "x0"),
    (lambda: _run(x0=[np.nan, 1.0]), "x0"),
    (lambda: _run(x0=[1e200, 1.0]), "x0"),
    (lambda: _run(x0=[1.0, 1.0, 1.0]), "x0"),
    (lambda: _run(optimizer="adam"), "optimizer"),
    (lambda: _run(landscape=lambda X: X), "landscape"),
    (lambda: _run(state=_state(v=((np.nan, 0.0),))), "state.v"),
    (lambda: _run(state=_state(v=((-1.0, 0.0),))), "state.v"),
    (lambda: _run(state=_state(m=((np.nan, 0.0),))), "state.m"),
    (lambda: _run(state=_state(m=((np.inf, 0.0),))), "state.m"),
    (lambda: _run(state=_state(m=((1.0, 0.0, 0.0),))), "state.m"),
    (lambda: _run(state=_state(x=((np.nan, 0.0),))), "state.x"),
    (lambda: _run(state=_state(t=-1)), "state.t"),
    (lambda: _run(state=_state(t=1.5)), "state.t"),
    (lambda: _run(state=_state(t="3")), "state.t"),
    (lambda: _run(state=_state(t=2, pow1=np.array([np.nan]), pow2=np.array([0.5]))), "state.pow1"),
    (lambda: _run(state=_state(t=2, pow1=np.array([0.5]), pow2=np.array([1.5]))), "state.pow2"),
    (lambda: _run(state={"x": [1.0, 1.0]}), "state"),
    (lambda: ad.updates_from_gradients(ad.adam(), "ab"), "grads"),
    (lambda: ad.updates_from_gradients(ad.adam(), [1j, 1.0]), "grads"),
    (lambda: ad.updates_from_gradients(ad.adam(), [np.nan]), "grads"),
    (lambda: ad.updates_from_gradients(ad.adam(), np.ones((2, 2, 2, 2))), "grads"),
    (lambda: ad.updates_from_gradients(ad.adam(), [1.0, 2.0], x0=[np.nan]), "x0"),
    (lambda: ad.updates_from_gradients("adam", [1.0, 2.0]), "optimizer"),
    (lambda: ad.combine(), "combine"),
    (lambda: ad.combine(ad.adam(), "sgd"), "combine"),
]


@pytest.mark.parametrize("k", range(len(CASES)))
def test_bad_input_is_refused_naming_the_parameter(k):
    call, name = CASES[k]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=rf"(^|\W){name}\W"):
            call()


def test_adamw_at_the_boundary_lr_times_weight_decay_one_is_accepted_and_zeroes_the_weights():
    # 1 - lr * weight_decay = 0 is the last allowed decay factor: with a zero gradient the weight
    # goes to 0 in one step (0.5 * 2 = 1 exactly in binary)
    tr = ad.run(ad.adamw(lr=0.5, weight_decay=2.0), L.from_function(lambda X: 0 * X.sum(-1), lambda X: 0 * X, dim=1),
                [3.0], 1)
    assert tr.final[0, 0] == 0.0


def test_flags_accept_booleans_and_per_run_boolean_arrays():
    opt = ad.adam(lr=[1e-3, 1e-2], bias_correction=np.array([True, False]), eps_inside=[False, True])
    assert opt.bias1.tolist() == [True, False] and opt.eps_inside.tolist() == [False, True]
    assert ad.adam(bias_correction=np.bool_(False)).bias1.tolist() == [False]


def test_from_function_accepts_numpy_integer_dims():
    assert L.from_function(lambda X: X.sum(-1), dim=np.int64(3)).dim == 3


# ---------------------------------------------------------------- no RuntimeWarning on accepted input

finite = st.floats(allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=5e-324, max_value=1.7e308, allow_nan=False)
beta = st.floats(min_value=0.0, max_value=1.0, exclude_max=True)
coord = st.floats(min_value=-DIVERGENCE_LIMIT, max_value=DIVERGENCE_LIMIT)


def _optimizer(kind, lr, b1, b2, eps, wd, bc, inside):
    if kind == "adam":
        return ad.adam(lr, b1, b2, eps, bias_correction=bc, eps_inside=inside)
    if kind == "adamw":
        return ad.adamw(lr, b1, b2, eps, weight_decay=min(wd, 0.5 / lr) if lr > 1e-300 else wd,
                        bias_correction=bc, eps_inside=inside)
    if kind == "sgd":
        return ad.sgd(lr)
    if kind == "momentum":
        return ad.momentum(lr, b1)
    if kind == "rmsprop":
        return ad.rmsprop(lr, b2, eps)
    return ad.adagrad(lr, eps)


def _landscape(kind, a, b, edge, power):
    return {
        "saddle": lambda: L.saddle(),
        "smooth": lambda: L.smooth_valley(a, b),
        "sharp": lambda: L.sharp_valley(a, b),
        "plateau": lambda: L.plateau(edge, a, power),
        "quartic": lambda: L.quartic(),
        "quadratic": lambda: L.quadratic([a, -b]),
    }[kind]()


@given(
    opt_kind=st.sampled_from(["adam", "adamw", "sgd", "momentum", "rmsprop", "adagrad"]),
    lr=positive, b1=beta, b2=beta, eps=st.floats(0.0, 1e300), wd=st.floats(0.0, 1e300),
    bc=st.booleans(), inside=st.booleans(),
    land_kind=st.sampled_from(["saddle", "smooth", "sharp", "plateau", "quartic", "quadratic"]),
    a=positive, b=positive, edge=finite, power=st.floats(1.0, 50.0),
    x0=st.lists(coord, min_size=2, max_size=2), steps=st.integers(0, 40), every=st.integers(1, 7),
    events=st.booleans(), tol=st.floats(0.0, 1e300), radius=positive, user=st.booleans(),
)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_no_runtime_warning_on_accepted_input(opt_kind, lr, b1, b2, eps, wd, bc, inside, land_kind, a, b, edge,
                                              power, x0, steps, every, events, tol, radius, user):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt = _optimizer(opt_kind, lr, b1, b2, eps, wd, bc, inside)
        land = _landscape(land_kind, a, b, edge, power)
        land.value(np.array(x0))
        land.grad(np.array(x0))
        if user:
            land = L.from_function(land.value, land.grad, dim=2)
        kw = {"record_every": every}
        if events:
            kw.update(target=[0.0, 0.0], tol=tol, center=x0, radius=radius)
        tr = ad.run(opt, land, x0, steps, **kw)
        assert np.all(np.isfinite(tr.path)) and np.all(np.isfinite(tr.state.m)) and np.all(tr.state.v >= 0)
        more = ad.run(opt, land, None, 3, state=tr.state, **kw)
        assert np.all(np.isfinite(more.path))
        grads = np.clip(land.grad(tr.path[:-1]) if land_kind != "quartic" else tr.path[:-1], -1e150, 1e150)
        grads = np.nan_to_num(grads, nan=0.0)
        u = ad.updates_from_gradients(opt, grads)
        assert u.shape == grads.shape
