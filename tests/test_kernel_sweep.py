"""The blocked sweep kernel (adamdyn._kernels): bitwise agreement with the NumPy path and the sequential kernel.

"Bitwise" means the same floating-point operations in the same order; the independent check is
the path for user landscapes, which composes the update rule's pieces through
``coordinate_update`` one run at a time, with the gradient computed by NumPy.
"""

import adamdyn as ad
import numpy as np
import pytest
from adamdyn import _kernels as K
from adamdyn import landscapes as L


def _all_optimizers():
    return ad.combine(ad.sgd(1e-3), ad.momentum(1e-3, 0.9), ad.adagrad(1e-2), ad.rmsprop(1e-3, 0.99),
                      ad.adam(1e-2), ad.adam(1e-3, bias_correction=False), ad.adam(1e-2, eps=1e-4, eps_inside=True),
                      ad.adamw(1e-2, weight_decay=0.1))


@pytest.mark.parametrize("runs", [1, 24])
def test_quartic_and_from_function_of_its_gradient_agree_bitwise_over_ten_thousand_steps(runs):
    # the case: the same optimizer on quartic() (compiled gradient) and on
    # from_function(quartic().grad) (NumPy gradient, pow for the cubes, beta^t as a running product)
    q = L.quartic()
    user = L.from_function(q.value, q.grad, dim=2)
    opt = _all_optimizers()
    opt = opt.take(np.arange(runs) % len(opt))
    x0 = np.random.default_rng(1).uniform(-1, 1, size=(runs, 2))
    a = ad.run(opt, q, x0, 10_000, record_every=10)
    b = ad.run(opt, user, x0, 10_000, record_every=10)
    np.testing.assert_array_equal(a.path, b.path)
    for f in ("x", "m", "v", "pow1", "pow2"):
        np.testing.assert_array_equal(getattr(a.state, f), getattr(b.state, f))
    assert np.abs(a.path[-1] - a.path[0]).max() > 1e-2  # the runs moved


def test_sweep_equals_user_path_bitwise_with_divergence_in_a_chunk_events_and_continuation():
    # runs that diverge at different steps inside one chunk (CHUNK_STEPS) and across chunks, more
    # runs than a block, events, a strided path, then a continuation from the state with frozen runs
    rng = np.random.default_rng(7)
    n = 3 * K.BLOCK_COORDINATES // 2 + 5
    lr = 10.0 ** rng.uniform(-2, 1, n)
    opt = ad.combine(ad.adam(lr=lr[: n // 2]), ad.sgd(lr=lr[n // 2:] / 5))
    land = L.quadratic([-50.0, 0.5])  # SGD multiplies x by 1 + 100 lr a step: divergence after 60..2000 steps
    user = L.from_function(land.value, land.grad, dim=2)
    x0 = rng.uniform(-1, 1, size=(n, 2))
    kw = {"record_every": 5, "target": [0.0, 0.0], "tol": 0.3, "center": [0.0, 0.0], "radius": 1e3}
    a, b = ad.run(opt, land, x0, 300, **kw), ad.run(opt, user, x0, 300, **kw)
    assert 10 < a.diverged.sum() < n - 10
    assert len(np.unique(a.diverged_step[a.diverged] // K.CHUNK_STEPS)) > 1
    np.testing.assert_array_equal(a.path, b.path)
    for f in ("hit_step", "exit_step", "diverged_step"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
    a2, b2 = ad.run(opt, land, None, 200, state=a.state, **kw), ad.run(opt, user, None, 200, state=b.state, **kw)
    np.testing.assert_array_equal(a2.path, b2.path)
    np.testing.assert_array_equal(a2.diverged_step, b2.diverged_step)
    frozen = a.diverged
    np.testing.assert_array_equal(a2.path[:, frozen], np.broadcast_to(a.final[frozen], a2.path[:, frozen].shape))


def test_path_memory_of_a_million_recorded_steps_stays_below_100_MB():
    import tracemalloc

    tracemalloc.start()
    tr = ad.run(ad.adam(), L.smooth_valley(), [1.0, 1.0], 10**6)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert tr.path.shape == (10**6 + 1, 1, 2)
    assert peak <= 100e6


@pytest.mark.parametrize("landscape", [L.quadratic([-50.0, 0.5]), L.weighted_abs([3.0, 1.0]), L.plateau(edge=0.5),
                                       L.quartic()], ids=lambda land: land.name)
@pytest.mark.parametrize("make", [lambda n: ad.momentum(0.02, 0.9), lambda n: ad.adam(1e-2, eps=1e-3, eps_inside=True),
                                  lambda n: ad.adamw(np.full(n, 0.05), weight_decay=0.1)], ids=["momentum", "adam", "adamw"])
def test_blocks_of_runs_sharing_their_hyperparameters_agree_bitwise_with_the_user_path(landscape, make):
    # the kernel's path for blocks whose runs share hyperparameters and powers (held in
    # registers): start points over many scales, so that on the quadratic's
    # unstable direction the runs diverge at different steps of one chunk and of several; then
    # a continuation from the state (the frozen runs' powers are those of their last step)
    n = 3 * K.BLOCK_COORDINATES // 2 + 5
    rng = np.random.default_rng(3)
    x0 = rng.choice([-1.0, 1.0], size=(n, 2)) * 10.0 ** rng.uniform(-120, 0, size=(n, 2))
    opt = make(n)
    user = L.from_function(landscape.value, landscape.grad, dim=2)
    kw = {"record_every": 7, "target": [0.0, 0.0], "tol": 1e-3, "center": [0.0, 0.0], "radius": 0.5}
    a, b = ad.run(opt, landscape, x0, 400, **kw), ad.run(opt, user, x0, 400, **kw)
    if landscape.name == "quadratic" and opt.adaptive[0] == 0.0:  # momentum on the unstable direction
        assert 10 < a.diverged.sum() and len(np.unique(a.diverged_step[a.diverged] // K.CHUNK_STEPS)) > 2
        assert len(np.unique(a.state.pow1[a.diverged])) > 2  # frozen at different powers of beta1
    for tr, other in ((a, b), (ad.run(opt, landscape, None, 150, state=a.state, **kw),
                               ad.run(opt, user, None, 150, state=b.state, **kw))):
        np.testing.assert_array_equal(tr.path, other.path)
        for f in ("hit_step", "exit_step", "diverged_step"):
            np.testing.assert_array_equal(getattr(tr, f), getattr(other, f))
        for f in ("x", "m", "v", "pow1", "pow2"):
            np.testing.assert_array_equal(getattr(tr.state, f), getattr(other.state, f))
