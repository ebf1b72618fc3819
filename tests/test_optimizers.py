"""Unit tests of adamdyn.optimizers against closed forms, invariances and a second method.

Tolerances come from the arithmetic: a recurrence of T contracting float64
updates carries a relative rounding error of at most a few T * 2^-53, so
closed forms are asserted to 1e-12 relative for T <= 10^4; "bitwise" means
the same floating-point operations in the same order.
"""

import math
import tracemalloc
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import adamdyn as ad
from adamdyn import landscapes as L
from adamdyn.optimizers import DIVERGENCE_LIMIT

FAST = settings(max_examples=50, deadline=None)
RTOL = 1e-12


def constant(g, T):
    return np.full(T, float(g))


# ---------------------------------------------------------------- closed forms under a constant gradient

@pytest.mark.parametrize("g", [3.0, -0.25, 1e-4])
def test_adam_bias_corrected_constant_gradient_steps_exactly_lr_g_over_abs_g_plus_eps(g):
    lr, eps, T = 1e-3, 1e-8, 2000
    u = ad.updates_from_gradients(ad.adam(lr=lr, eps=eps), constant(g, T))
    np.testing.assert_allclose(u, -lr * g / (abs(g) + eps), rtol=RTOL)


@pytest.mark.parametrize("b1,b2", [(0.9, 0.999), (0.5, 0.6), (0.0, 0.99)])
def test_adam_without_bias_correction_constant_gradient_closed_form(b1, b2):
    lr, eps, g, T = 1e-3, 1e-8, 0.7, 3000
    u = ad.updates_from_gradients(ad.adam(lr, b1, b2, eps, bias_correction=False), constant(g, T))
    t = np.arange(1, T + 1)
    expect = -lr * (1 - b1**t) * g / (np.sqrt(1 - b2**t) * abs(g) + eps)
    np.testing.assert_allclose(u, expect, rtol=RTOL)
    # at eps = 0 the ratio to the bias-corrected step is (1 - b1^t)/sqrt(1 - b2^t), > 1 early on (defaults)
    u0 = ad.updates_from_gradients(ad.adam(lr, b1, b2, 0.0, bias_correction=False), constant(g, T))
    u1 = ad.updates_from_gradients(ad.adam(lr, b1, b2, 0.0), constant(g, T))
    np.testing.assert_allclose(u0 / u1, (1 - b1**t) / np.sqrt(1 - b2**t), rtol=RTOL)


def test_adam_eps_inside_constant_gradient():
    lr, eps, g, T = 1e-2, 1e-3, 0.05, 500
    u = ad.updates_from_gradients(ad.adam(lr=lr, eps=eps, eps_inside=True), constant(g, T))
    np.testing.assert_allclose(u, -lr * g / np.sqrt(g * g + eps), rtol=RTOL)


@given(g=st.floats(1e-3, 1e3) | st.floats(-1e3, -1e-3),
       b1=st.floats(0.0, 0.999), b2=st.floats(0.0, 0.9999))
@FAST
def test_adam_first_step_is_lr_sign_g_up_to_eps(g, b1, b2):
    lr, eps = 1e-3, 1e-8
    u = ad.updates_from_gradients(ad.adam(lr, b1, b2, eps), np.array([g]))[0]
    assert abs(u - (-lr * g / (abs(g) + eps))) <= 1e-15 * lr
    assert abs(u + lr * np.sign(g)) <= lr * eps / abs(g) + 4e-16 * lr  # plus rounding of the difference


def test_adagrad_constant_unit_gradient_steps_lr_over_sqrt_t():
    lr, T = 0.1, 10_000
    t = np.arange(1, T + 1)
    u = ad.updates_from_gradients(ad.adagrad(lr=lr, eps=0.0), constant(1.0, T))
    np.testing.assert_allclose(u, -lr / np.sqrt(t), rtol=RTOL)
    u = ad.updates_from_gradients(ad.adagrad(lr=lr, eps=1e-3), constant(1.0, T))
    np.testing.assert_allclose(u, -lr / (np.sqrt(t) + 1e-3), rtol=RTOL)


def test_rmsprop_constant_gradient_closed_form():
    lr, b2, eps, g, T = 1e-2, 0.9, 1e-8, -2.0, 400
    t = np.arange(1, T + 1)
    u = ad.updates_from_gradients(ad.rmsprop(lr=lr, beta2=b2, eps=eps), constant(g, T))
    np.testing.assert_allclose(u, -lr * g / (np.sqrt(1 - b2**t) * abs(g) + eps), rtol=RTOL)
    assert abs(u[0]) > 3 * lr  # no bias correction: the first step is lr/sqrt(1-b2), about 3.16 lr


def test_momentum_and_sgd_constant_gradient_closed_form():
    lr, mu, g, T = 1e-2, 0.9, 1.5, 500
    t = np.arange(1, T + 1)
    u = ad.updates_from_gradients(ad.momentum(lr=lr, beta=mu), constant(g, T))
    np.testing.assert_allclose(u, -lr * g * (1 - mu**t) / (1 - mu), rtol=RTOL)
    u = ad.updates_from_gradients(ad.sgd(lr=lr), constant(g, T))
    np.testing.assert_array_equal(u, -lr * g)


def test_momentum_on_quadratic_matches_linear_recurrence():
    # heavy ball on f = a x^2: x_{t+1} = (1 + mu - 2 a lr) x_t - mu x_{t-1}; roots of the characteristic polynomial
    a, lr, mu, T = 1.0, 0.05, 0.8, 300
    tr = ad.run(ad.momentum(lr=lr, beta=mu), L.quadratic([a]), x0=[1.0], steps=T)
    p = np.poly1d([1.0, -(1 + mu - 2 * a * lr), mu])
    r1, r2 = p.roots
    x1 = 1.0 - 2 * a * lr
    c2 = (x1 - r1) / (r2 - r1)
    c1 = 1 - c2
    t = np.arange(T + 1)
    closed = np.real(c1 * r1**t + c2 * r2**t)
    np.testing.assert_allclose(tr.path[:, 0, 0], closed, rtol=1e-9, atol=1e-14)


# ---------------------------------------------------------------- invariances

@given(k=st.integers(-30, 30), lr=st.floats(1e-4, 1e-1), x0=st.floats(-5, 5).filter(lambda v: abs(v) > 1e-3))
@FAST
def test_adam_eps0_path_bitwise_invariant_under_power_of_two_loss_scaling(k, lr, x0):
    # multiplying by 2^k is exact in float64, so with eps = 0 every operation commutes with it exactly
    c = 2.0**k
    base = ad.run(ad.adam(lr=lr, eps=0.0), L.smooth_valley(), x0=[x0, 1.0], steps=300)
    scaled = ad.run(ad.adam(lr=lr, eps=0.0), L.smooth_valley(c, c * 1e-3), x0=[x0, 1.0], steps=300)
    np.testing.assert_array_equal(base.path, scaled.path)


@given(logc=st.floats(-3, 3), lr=st.floats(1e-3, 5e-2))
@FAST
def test_adam_eps0_path_invariant_under_loss_scaling_sgd_not(logc, lr):
    c = 10.0**logc
    T = 300
    land, scaled = L.quadratic([1.0, 0.3]), L.quadratic([c, 0.3 * c])
    a = ad.run(ad.adam(lr=lr, eps=0.0), land, x0=[1.0, -2.0], steps=T).path
    b = ad.run(ad.adam(lr=lr, eps=0.0), scaled, x0=[1.0, -2.0], steps=T).path
    # rounding in c*g is relative 2^-53 per step; the map is Lipschitz with constant ~1 over T steps
    np.testing.assert_allclose(b, a, rtol=0, atol=1e-11)
    if abs(logc) > 0.5:  # SGD's step scales with c, so its path moves
        s0 = ad.run(ad.sgd(lr=lr), land, x0=[1.0, -2.0], steps=T).path
        s1 = ad.run(ad.sgd(lr=lr), scaled, x0=[1.0, -2.0], steps=T).path
        assert np.abs(s1 - s0).max() > 1e-3


def test_adamw_decay_closed_form_on_zero_gradient():
    lr, wd, T = 1e-2, 0.5, 1000
    flat = L.quadratic([0.0, 0.0])
    for eps in (1e-8, 0.0):
        tr = ad.run(ad.adamw(lr=lr, eps=eps, weight_decay=wd), flat, x0=[3.0, -1.0], steps=T)
        t = np.arange(T + 1)[:, None]
        np.testing.assert_allclose(tr.path[:, 0, :], np.array([3.0, -1.0]) * (1 - lr * wd) ** t, rtol=RTOL)


def test_adamw_is_decay_plus_adam_step():
    lr, wd = 1e-2, 0.1
    land, x0 = L.smooth_valley(), np.array([[0.4, -2.0], [1.5, 0.3]])
    w = ad.run(ad.adamw(lr=lr, weight_decay=wd), land, x0=x0, steps=1).final
    a = ad.run(ad.adam(lr=lr), land, x0=x0, steps=1).final
    np.testing.assert_allclose(w, a - lr * wd * x0, rtol=0, atol=1e-16)
    # weight_decay = 0 is Adam, bitwise
    z = ad.run(ad.adamw(lr=lr, weight_decay=0.0), land, x0=x0, steps=200).path
    np.testing.assert_array_equal(z, ad.run(ad.adam(lr=lr), land, x0=x0, steps=200).path)


# ---------------------------------------------------------------- compiled kernel = numpy path

def _all_optimizers():
    return ad.combine(ad.sgd(lr=1e-2), ad.momentum(lr=1e-2, beta=0.9), ad.adagrad(lr=5e-2),
                      ad.rmsprop(lr=1e-2), ad.adam(lr=1e-2), ad.adam(lr=1e-2, bias_correction=False),
                      ad.adam(lr=1e-2, eps=1e-4, eps_inside=True), ad.adamw(lr=1e-2, weight_decay=0.1))


BUILTINS = {
    "saddle": (L.saddle(), [1e-3, 0.8]),
    "smooth": (L.smooth_valley(), [1.0, 1.0]),
    "sharp": (L.sharp_valley(), [0.7, 1.0]),
    "plateau1": (L.plateau(edge=0.3, slope=2.0, power=1.0), [-0.4, 0.1]),
    "plateau2": (L.plateau(edge=0.3, slope=1.0, power=2.0), [-0.4, 0.1]),
    "quartic": (L.quartic(), [0.6, -0.2]),
    "quadratic3": (L.quadratic([1.0, 0.1, 0.01]), [1.0, -1.0, 2.0]),
    "abs3": (L.weighted_abs([1.0, 0.5, 0.1]), [1.0, -1.0, 2.0]),
}


def _user_copy(land):
    # the landscape's own NumPy gradient: the compiled gradients do the same arithmetic (the quartic's
    # cubes as pow(s, 3.0), as NumPy's ``** 3``)
    return L.from_function(land.value, land.grad, dim=land.dim)


@pytest.mark.parametrize("name", list(BUILTINS))
def test_compiled_kernel_equals_user_landscape_path_bitwise(name):
    # the same update rule (adamdyn.update_rule) on both paths and the same gradient arithmetic:
    # every bit agrees, state and events included
    land, x0 = BUILTINS[name]
    opt = _all_optimizers()
    user = _user_copy(land)
    kw = dict(x0=x0, steps=400, record_every=3, target=np.zeros(len(x0)), tol=0.05,
              center=np.zeros(len(x0)), radius=1.5)
    a, b = ad.run(opt, land, **kw), ad.run(opt, user, **kw)
    np.testing.assert_array_equal(a.path, b.path)
    for f in ("x", "m", "v", "pow1", "pow2"):
        np.testing.assert_array_equal(getattr(a.state, f), getattr(b.state, f))
    for f in ("hit_step", "exit_step", "diverged", "diverged_step"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))


def test_quartic_and_its_user_copy_never_separate():
    # Before the update rule was shared, the compiled path took b^t as a running product and the NumPy
    # path as a power, and the compiled quartic took its cubes as products where NumPy calls pow: Adam
    # on quartic() and on from_function(quartic().grad) parted within tens of steps; now they agree
    # bitwise over 20000 steps, with and without bias correction.
    q = L.quartic()
    user = _user_copy(q)
    opt = ad.combine(ad.adam(lr=1e-2), ad.adam(lr=1e-3, eps_inside=True), ad.adam(lr=1e-2, bias_correction=False))
    a = ad.run(opt, q, [0.6, -0.2], 20_000, record_every=100)
    b = ad.run(opt, user, [0.6, -0.2], 20_000, record_every=100)
    np.testing.assert_array_equal(a.path, b.path)
    assert np.abs(a.path[-1] - a.path[0]).min() > 1e-3  # the runs did move


def test_batched_runs_equal_separate_runs_bitwise():
    land = L.sharp_valley()
    opt = _all_optimizers()
    x0 = np.random.default_rng(3).normal(size=(len(opt), 2))
    batch = ad.run(opt, land, x0=x0, steps=500, target=[0, 0], tol=1e-2)
    for r in range(len(opt)):
        one = ad.run(opt.take([r]), land, x0=x0[r], steps=500, target=[0, 0], tol=1e-2)
        np.testing.assert_array_equal(batch.path[:, r], one.path[:, 0])
        assert batch.hit_step[r] == one.hit_step[0]


def test_per_run_hyperparameters_equal_separate_runs_bitwise():
    b1 = np.array([0.0, 0.5, 0.9, 0.99])
    b2 = np.array([0.9, 0.99, 0.999, 0.9999])
    grid = ad.run(ad.adam(lr=1e-2, beta1=b1, beta2=b2), L.smooth_valley(), x0=[1.0, 1.0], steps=300)
    for i in range(4):
        one = ad.run(ad.adam(lr=1e-2, beta1=b1[i], beta2=b2[i]), L.smooth_valley(), x0=[1.0, 1.0], steps=300)
        np.testing.assert_array_equal(grid.path[:, i], one.path[:, 0])


def test_deterministic_bitwise():
    opt = _all_optimizers()
    for land in (L.quartic(), L.from_function(L.quartic().value, L.quartic().grad, dim=2)):
        a = ad.run(opt, land, x0=[0.6, -0.2], steps=300)
        b = ad.run(opt, land, x0=[0.6, -0.2], steps=300)
        np.testing.assert_array_equal(a.path, b.path)


# ---------------------------------------------------------------- divergence

@pytest.mark.parametrize("numpy_path", [False, True])
def test_divergence_flagged_at_closed_form_step_without_warnings(numpy_path):
    lr = 3.0
    land = L.smooth_valley()
    if numpy_path:
        land = L.from_function(land.value, land.grad, dim=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tr = ad.run(ad.combine(ad.sgd(lr=lr), ad.adam(lr=1e-3)), land, x0=[1.0, 1.0], steps=400)
    # x_t = (1 - 2 lr)^t: the first t with 5^t > DIVERGENCE_LIMIT
    q = abs(1 - 2 * lr)
    expect = int(np.floor(np.log(DIVERGENCE_LIMIT) / np.log(q))) + 1
    assert expect == 215
    assert tr.diverged.tolist() == [True, False]
    assert tr.diverged_step.tolist() == [expect, -1]
    assert np.all(np.isfinite(tr.path))
    # frozen at the last good iterate (-5)^(expect-1)
    np.testing.assert_allclose(tr.path[expect - 1:, 0, 0], (-5.0) ** (expect - 1), rtol=1e-12)
    assert np.all(tr.path[expect:, 0] == tr.path[expect - 1, 0])


# ---------------------------------------------------------------- hit and exit steps

@given(a=st.floats(0.1, 2.0), lr=st.floats(1e-3, 0.2), x0=st.floats(0.5, 10.0), logtol=st.floats(-8, -1))
@FAST
def test_hit_step_matches_closed_form_for_sgd_on_quadratic(a, lr, x0, logtol):
    tol = 10.0**logtol
    q = abs(1 - 2 * a * lr)
    exact = np.log(tol / x0) / np.log(q)
    t_star = max(0, int(np.ceil(exact)))
    if abs(exact - round(exact)) < 1e-6:  # too close to an integer for rounding to decide
        return
    tr = ad.run(ad.sgd(lr=lr), L.quadratic([a]), x0=[x0], steps=t_star + 5, target=[0.0], tol=tol, record_every=10**9)
    assert tr.hit_step[0] == t_star


def test_exit_step_matches_closed_form_on_saddle():
    # SGD on the saddle: x_t = (1 + lr)^t x_0, y_t = (1 - lr)^t y_0
    lr, x0, radius = 1e-2, 1e-3, 0.5
    tr = ad.run(ad.sgd(lr=lr), L.saddle(), x0=[x0, 0.0], steps=2000, center=[0, 0], radius=radius)
    exact = np.log(radius / x0) / np.log(1 + lr)
    assert tr.exit_step[0] == int(np.floor(exact)) + 1
    assert tr.hit_step[0] == -1


def test_start_inside_target_is_step_zero_and_continuation_offsets():
    tr = ad.run(ad.sgd(lr=0.1), L.quadratic([1.0]), x0=[1e-4], steps=3, target=[0.0], tol=1e-3)
    assert tr.hit_step[0] == 0


# ---------------------------------------------------------------- recording, memory, continuation

@pytest.mark.parametrize("steps,every", [(1000, 1), (1000, 7), (999, 10), (5, 10), (0, 1)])
def test_strided_path_shape_and_values(steps, every):
    opt = ad.adam(lr=1e-2)
    full = ad.run(opt, L.smooth_valley(), x0=[1.0, 1.0], steps=steps)
    part = ad.run(opt, L.smooth_valley(), x0=[1.0, 1.0], steps=steps, record_every=every)
    K = steps // every + 1
    assert part.path.shape == (K, 1, 2) and part.times.shape == (K,)
    np.testing.assert_array_equal(part.times, np.arange(K) * every)
    np.testing.assert_array_equal(part.path, full.path[::every][:K])
    np.testing.assert_array_equal(part.final, full.final)


def test_million_step_path_is_16_MB():
    steps = 10**6
    tracemalloc.start()
    try:
        tr = ad.run(ad.adam(), L.smooth_valley(), x0=[1.0, 1.0], steps=steps)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert tr.path.nbytes == (steps + 1) * 2 * 8 == 16_000_016
    # the path (16 MB) and its int64 step numbers (8 MB), plus O(1) bookkeeping: far below 100 MB
    assert tr.times.nbytes == (steps + 1) * 8
    assert peak <= tr.path.nbytes + tr.times.nbytes + 1e6
    strided = ad.run(ad.adam(), L.smooth_valley(), x0=[1.0, 1.0], steps=steps, record_every=1000)
    assert strided.path.nbytes == 1001 * 16
    np.testing.assert_array_equal(strided.path, tr.path[::1000])


@pytest.mark.parametrize("numpy_path", [False, True])
def test_state_continuation_equals_one_long_run_bitwise(numpy_path):
    land = L.quartic()
    if numpy_path:
        land = L.from_function(land.value, land.grad, dim=2)
    opt = _all_optimizers()
    kw = dict(target=[0, 0], tol=0.3)
    long = ad.run(opt, land, x0=[0.6, -0.2], steps=300, **kw)
    first = ad.run(opt, land, x0=[0.6, -0.2], steps=120, **kw)
    second = ad.run(opt, land, x0=None, steps=180, state=first.state, **kw)
    np.testing.assert_array_equal(second.final, long.final)
    np.testing.assert_array_equal(np.concatenate([first.path, second.path[1:]]), long.path)
    np.testing.assert_array_equal(second.times, np.arange(120, 301))
    assert second.state.t == 300
    hit = np.where(first.hit_step >= 0, first.hit_step, second.hit_step)
    np.testing.assert_array_equal(hit, long.hit_step)


# ---------------------------------------------------------------- updates_from_gradients

def _reference_updates(name, lr, grads, w0=0.0, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.0,
                       bias_correction=True, eps_inside=False):
    """INDEPENDENT REFERENCE for tests only: one coordinate, plain Python floats, powers by ``**``.

    Written from the textbook statements (Kingma & Ba's Algorithm 1; torch's SGD-momentum, AdaGrad and
    RMSprop pages; Loshchilov & Hutter's AdamW), not from adamdyn.update_rule.  Returns w_t - w_{t-1}.
    """
    w, m, v, out = w0, 0.0, 0.0, []
    for t, g in enumerate(grads, start=1):
        if name == "sgd":
            step = lr * g
        elif name == "momentum":
            m = b1 * m + g
            step = lr * m
        elif name == "adagrad":
            v = v + g * g
            step = lr * g / (math.sqrt(v) + eps)
        elif name == "rmsprop":
            v = b2 * v + (1 - b2) * g * g
            step = lr * g / (math.sqrt(v) + eps)
        else:  # adam / adamw
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            mh, vh = (m / (1 - b1**t), v / (1 - b2**t)) if bias_correction else (m, v)
            d = math.sqrt(vh + eps) if eps_inside else math.sqrt(vh) + eps
            step = lr * weight_decay * w + lr * mh / d
        out.append(-step)
        w = w - step
    return np.array(out)


REFERENCE_CASES = [
    (ad.sgd(lr=0.1), dict(name="sgd", lr=0.1)),
    (ad.momentum(lr=0.05, beta=0.8), dict(name="momentum", lr=0.05, b1=0.8)),
    (ad.adagrad(lr=0.1, eps=1e-10), dict(name="adagrad", lr=0.1, eps=1e-10)),
    (ad.rmsprop(lr=1e-2, beta2=0.9, eps=1e-8), dict(name="rmsprop", lr=1e-2, b2=0.9, eps=1e-8)),
    (ad.adam(lr=1e-2), dict(name="adam", lr=1e-2)),
    (ad.adam(lr=1e-2, beta1=0.5, beta2=0.7, eps=1e-3, bias_correction=False),
     dict(name="adam", lr=1e-2, b1=0.5, b2=0.7, eps=1e-3, bias_correction=False)),
    (ad.adam(lr=1e-2, eps=1e-4, eps_inside=True), dict(name="adam", lr=1e-2, eps=1e-4, eps_inside=True)),
    (ad.adamw(lr=1e-2, weight_decay=0.3), dict(name="adam", lr=1e-2, weight_decay=0.3)),
]


@pytest.mark.parametrize("k", range(len(REFERENCE_CASES)))
def test_run_and_updates_from_gradients_match_the_independent_reference(k):
    # a linear landscape w -> c . w has the constant gradient c, so its updates are known without
    # running the library; the reference above computes them coordinate by coordinate
    opt, ref = REFERENCE_CASES[k]
    c, w0, T = np.array([0.3, -2.0]), np.array([1.5, -0.5]), 300
    linear = L.from_function(lambda X: np.asarray(X) @ c, lambda X: np.broadcast_to(c, np.shape(X)).copy(), dim=2)
    tr = ad.run(opt, linear, x0=w0, steps=T)
    u = ad.updates_from_gradients(opt, np.broadcast_to(c, (T, 1, 2)), x0=w0)
    expect = np.stack([_reference_updates(grads=[ci] * T, w0=wi, **ref) for ci, wi in zip(c, w0)], axis=-1)
    scale = np.abs(expect).max()
    np.testing.assert_allclose(np.diff(tr.path[:, 0], axis=0), expect, rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(u[:, 0], expect, rtol=0, atol=1e-12 * scale)


def test_first_two_adam_steps_by_hand():
    # g = 1 twice, lr = 0.1, b1 = 0.5, b2 = 0.75, eps = 0: m = 1/2, 3/4; v = 1/4, 7/16.
    # Bias-corrected: m/(1-b1^t) = 1, 1 and v/(1-b2^t) = 1, 1, so both steps are -0.1.
    # Uncorrected: -0.1 * (1/2)/(1/2) = -0.1, then -0.1 * (3/4)/sqrt(7/16) = -0.3/sqrt(7).
    u = ad.updates_from_gradients(ad.adam(lr=0.1, beta1=0.5, beta2=0.75, eps=0.0), [1.0, 1.0])
    np.testing.assert_array_equal(u, [-0.1, -0.1])
    u = ad.updates_from_gradients(ad.adam(lr=0.1, beta1=0.5, beta2=0.75, eps=0.0, bias_correction=False), [1.0, 1.0])
    np.testing.assert_allclose(u, [-0.1, -0.3 / np.sqrt(7.0)], rtol=1e-15)


def test_updates_from_gradients_reproduce_a_run_from_its_gradient_history():
    land = L.smooth_valley()
    opt = ad.combine(ad.sgd(lr=0.1), ad.momentum(lr=0.05), ad.adagrad(lr=0.1), ad.rmsprop(lr=1e-2), ad.adam(lr=1e-2))
    tr = ad.run(opt, land, x0=[1.0, 1.0], steps=400)
    grads = land.grad(tr.path[:-1])
    u = ad.updates_from_gradients(opt, grads)
    np.testing.assert_allclose(u, np.diff(tr.path, axis=0), rtol=0, atol=1e-15)


def test_updates_from_gradients_shapes():
    g = np.linspace(-1, 1, 20)
    u1 = ad.updates_from_gradients(ad.adam(), g)
    u2 = ad.updates_from_gradients(ad.adam(), g[:, None])
    u3 = ad.updates_from_gradients(ad.adam(), g[:, None, None])
    assert u1.shape == (20,) and u2.shape == (20, 1) and u3.shape == (20, 1, 1)
    np.testing.assert_array_equal(u1, u2[:, 0])
    np.testing.assert_array_equal(u1, u3[:, 0, 0])


def test_updates_from_gradients_with_huge_gradients_warns_not_and_is_not_silently_zero():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            u = ad.updates_from_gradients(ad.adam(lr=1e-3), [1e200, 1.0])
        except ValueError as err:  # refusing with a clear message is acceptable
            assert "grads" in str(err)
            return
    assert u[0] == pytest.approx(-1e-3, rel=1e-12)


def test_benchmark_script_runs_at_small_size():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_optimizers.py"
    spec = importlib.util.spec_from_file_location("bench_optimizers", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = bench.bench_adamdyn(single_steps=10_000, runs=100, batch_steps=10, repeats=1)
    assert out["path_bytes"] == 10_001 * 2 * 8 and out["times_bytes"] == 10_001 * 8
    assert out["single_steps_per_s"] > 0 and out["batched_elem_steps_per_s"] > 0


# ---------------------------------------------------------------- the blocked kernel and the update rule's pieces

def test_blocked_sweep_equals_one_run_at_a_time_bitwise_across_blocks_threads_and_events():
    # more runs than one block (BLOCK_COORDINATES // 2 runs), blocks with one and with mixed epsilon
    # placements, runs that diverge mid-way, targets, exits and a strided path: the parallel blocked sweep
    # and one run per call (a block of one) agree in every bit, whatever numba's thread count
    import numba

    from adamdyn import _kernels

    rng = np.random.default_rng(5)
    n = 700
    lr = 10.0 ** rng.uniform(-3, 0.7, n)  # the largest rates diverge on the saddle's expanding side
    opt = ad.combine(ad.adam(lr=lr[:300]), ad.adam(lr=lr[300:500], eps_inside=True, bias_correction=False),
                     ad.sgd(lr=lr[500:600]), ad.momentum(lr=lr[600:650]), ad.adamw(lr=lr[650:], weight_decay=0.2))
    x0 = rng.uniform(-1, 1, size=(n, 2))
    kw = dict(record_every=7, target=[0, 0], tol=1e-2, center=[0, 0], radius=50.0)
    assert n > 2 * (_kernels.BLOCK_COORDINATES // 2)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = ad.run(opt, L.saddle(), x0, 400, **kw)
        numba.set_num_threads(threads)
        many = ad.run(opt, L.saddle(), x0, 400, **kw)
    finally:
        numba.set_num_threads(threads)
    assert 0 < many.diverged.sum() < n and (many.exit_step >= 0).sum() > many.diverged.sum()
    np.testing.assert_array_equal(one.path, many.path)
    for r in rng.choice(n, 40, replace=False):
        single = ad.run(opt.take([r]), L.saddle(), x0[r], 400, **kw)
        np.testing.assert_array_equal(single.path[:, 0], many.path[:, r])
        for f in ("hit_step", "exit_step", "diverged_step"):
            assert getattr(single, f)[0] == getattr(many, f)[r]
        assert single.state.pow1[0] == many.state.pow1[r] and single.state.pow2[0] == many.state.pow2[r]


def test_bare_benchmark_kernel_does_the_same_arithmetic_as_run():
    from adamdyn import _kernels

    x0 = np.random.default_rng(2).uniform(-1, 1, size=(600, 2))
    tr = ad.run(ad.adam(lr=1e-3), L.smooth_valley(), x0, 300, record_every=300)
    x, m, v = x0.copy(), np.zeros_like(x0), np.zeros_like(x0)
    _kernels.bare_adam_sweep(x, m, v, np.array([1.0, 1e-3]), 1e-3, 0.9, 0.999, 1e-8, 300)
    np.testing.assert_array_equal(x, tr.final)
    np.testing.assert_array_equal(v, tr.state.v)


def test_update_rule_pieces_by_hand():
    from adamdyn import update_rule as U

    assert U.first_moment(2.0, 4.0, 0.5, 0.25) == 2.0
    assert U.second_moment(1.0, 2.0, 0.5, 0.25) == 1.5
    assert U.bias_denominator(0.25, True) == 0.75 and U.bias_denominator(0.25, False) == 1.0
    assert U.debias(3.0, 0.75) == 4.0
    assert U.denominator(16.0, 9.0, True) == 5.0 and U.denominator(16.0, 9.0, False) == 13.0
    assert U.direction(0.0, 0.0) == 0.0 and U.direction(3.0, 2.0) == 1.5
    assert U.decayed_step(2.0, 0.5, 0.5, 1.0) == 1.0  # 2 (1 - 1/4) - 1/2
    assert U.advance_power(0.5, 0.5) == 0.25
    w, m, v, u = U.coordinate_update(1.0, 0.0, 0.0, 2.0, 0.1, 0.5, 0.5, 0.75, 0.25, 0.0, 0.0, False, True, 0.5, 0.25)
    assert (m, v, u) == (1.0, 1.0, 1.0) and w == pytest.approx(0.9, abs=1e-16)
    H = ad.combine(ad.sgd(0.1), ad.adam(0.2, eps_inside=True)).packed()
    assert H.shape == (U.N_HYPER, 2) and H.flags.c_contiguous
    assert H[U.LR].tolist() == [0.1, 0.2] and H[U.ADAPTIVE].tolist() == [0.0, 1.0]
    assert H[U.EPS_INSIDE].tolist() == [0.0, 1.0] and H[U.BIAS1].tolist() == [0.0, 1.0]


def test_tol_without_target_and_radius_without_center_are_refused():
    with pytest.raises(ValueError, match="tol"):
        ad.run(ad.adam(), L.smooth_valley(), [1.0, 1.0], 3, tol=0.1)
    with pytest.raises(ValueError, match="radius"):
        ad.run(ad.adam(), L.smooth_valley(), [1.0, 1.0], 3, radius=0.1)
