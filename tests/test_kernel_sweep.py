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
