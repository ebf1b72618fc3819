"""Part III's toolkit: the optax transformations against optax and the library kernel, data, models, sweeps.

Tolerances: our transformations and optax's compute the same float64 formulas with a few
operations in another order (optax's ``(1 - b) * g + b * m``, AdaGrad's ``rsqrt``), so the
parameters of a real network agree to a relative ~1e-14 after 300 steps; the library kernel
accumulates ``b**t`` as a running product, so it agrees to rounding as well (rtol 1e-12).
"""

import numpy as np
import pytest

import adamdyn as ad
from adamdyn import landscapes as L
from adamdyn.networks import curvature, data, gradient_noise, models, training
from adamdyn.networks import transforms as T

import jax  # noqa: E402  (after adamdyn.networks, which selects the CPU and float64)
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402
from jax.flatten_util import ravel_pytree  # noqa: E402

# JAX compiles every network and training loop: minutes, not seconds (excluded from `make test-fast`)
pytestmark = pytest.mark.slow

STEPS = 300


@pytest.fixture(scope="module")
def digits():
    return data.digits()


def _train(opt, model, d, steps=STEPS, batch=32, seed=0):
    """Plain optax loop (no sweep machinery): minibatch steps on digits; returns flat params per step."""
    params = model.init(jax.random.PRNGKey(seed))
    state = opt.init(params)
    idx = data.batch_indices(d.n_train, batch, steps, seed)

    @jax.jit
    def step(params, state, b):
        g = jax.grad(model.loss)(params, d.x_train[b], d.y_train[b])
        upd, state = opt.update(g, state, params)
        return optax.apply_updates(params, upd), state

    out = []
    for b in idx:
        params, state = step(params, state, b)
        out.append(ravel_pytree(params)[0])
    return np.asarray(jnp.stack(out))


PAIRS = {
    "sgd": (lambda: T.sgd(0.05), lambda: optax.sgd(0.05)),
    "momentum": (lambda: T.momentum(0.02, 0.9), lambda: optax.sgd(0.02, momentum=0.9)),
    "adagrad eps=0": (lambda: T.adagrad(0.02, eps=0.0), lambda: optax.adagrad(0.02, initial_accumulator_value=0.0, eps=0.0)),
    "rmsprop": (lambda: T.rmsprop(1e-3, 0.99, 1e-8), lambda: optax.rmsprop(1e-3, decay=0.99, eps=1e-8, eps_in_sqrt=False)),
    "rmsprop inside": (lambda: T.rmsprop(1e-3, 0.9, 1e-6, eps_inside=True), lambda: optax.rmsprop(1e-3, decay=0.9, eps=1e-6)),
    "adam": (lambda: T.adam(1e-3, 0.9, 0.999, 1e-8), lambda: optax.adam(1e-3, b1=0.9, b2=0.999, eps=1e-8)),
    "adam inside": (lambda: T.adam(1e-3, 0.8, 0.99, 1e-6, eps_inside=True),
                    lambda: optax.adam(1e-3, b1=0.8, b2=0.99, eps=0.0, eps_root=1e-6)),
    "adamw": (lambda: T.adamw(1e-3, 0.9, 0.999, 1e-8, weight_decay=0.1),
              lambda: optax.adamw(1e-3, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.1)),
    "kadam k=1": (lambda: T.kadam(1e-3, k=1, weight_decay=0.1),
                  lambda: optax.adamw(1e-3, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.1)),
}


@pytest.mark.parametrize("name", list(PAIRS))
def test_transforms_match_optax_on_a_real_network(name, digits):
    ours, theirs = PAIRS[name]
    model = models.mlp((64, 32, 10))
    a = _train(ours(), model, digits)
    b = _train(theirs(), model, digits)
    moved = np.max(np.abs(a[-1] - a[0]))
    assert moved > 1e-2, "the network must actually train for the comparison to mean something"
    err = np.max(np.abs(a - b)) / np.max(np.abs(b))
    assert err < 1e-12, f"{name}: relative error {err:.2e}"


def test_kadam_k1_is_adam_bitwise(digits):
    model = models.mlp((64, 16, 10))
    a = _train(T.kadam(1e-3, k=1), model, digits, steps=100)
    b = _train(T.adam(1e-3), model, digits, steps=100)
    assert np.array_equal(a, b)


def test_kadam_k2_differs_from_adam_and_matches_the_library(digits):
    """Level 2 normalises level 1's direction: the library's NumPy k-Adam on the same gradients agrees."""
    from adamdyn import kadam as K
    rng = np.random.default_rng(0)
    G = rng.standard_normal((200, 1, 5)) * np.logspace(-3, 2, 5)
    opt = T.kadam(1.0, k=2, beta1=(0.9, 0.8), beta2=(0.999, 0.99))
    params = jnp.zeros(5)
    state = opt.init(params)
    ours = []
    for g in G[:, 0]:
        u, state = opt.update(jnp.asarray(g), state, params)
        ours.append(np.asarray(u))
    ref = K.kadam_updates_from_gradients(K.kadam(1.0, k=2, beta1=(0.9, 0.8), beta2=(0.999, 0.99)), G)[:, 0]
    np.testing.assert_allclose(np.array(ours), ref, rtol=1e-12, atol=1e-15)
    adam_ref = ad.updates_from_gradients(ad.adam(1.0), G)[:, 0]
    assert np.max(np.abs(ref - adam_ref)) > 1e-2


LIBRARY = {
    "sgd": (lambda: T.sgd(1e-2), lambda: ad.sgd(1e-2)),
    "momentum": (lambda: T.momentum(1e-2, 0.9), lambda: ad.momentum(1e-2, 0.9)),
    "adagrad": (lambda: T.adagrad(0.1, 1e-10), lambda: ad.adagrad(0.1, 1e-10)),
    "rmsprop": (lambda: T.rmsprop(1e-2, 0.9, 1e-8), lambda: ad.rmsprop(1e-2, 0.9, 1e-8)),
    "adam": (lambda: T.adam(1e-2), lambda: ad.adam(1e-2)),
    "adam no bias": (lambda: T.adam(1e-2, bias_correction=False), lambda: ad.adam(1e-2, bias_correction=False)),
    "adam inside": (lambda: T.adam(1e-2, eps=1e-4, eps_inside=True), lambda: ad.adam(1e-2, eps=1e-4, eps_inside=True)),
    "adamw": (lambda: T.adamw(1e-2, weight_decay=0.5), lambda: ad.adamw(1e-2, weight_decay=0.5)),
}


LANDS = {"smooth": (L.smooth_valley(), [1.0, 1.0]), "quartic": (L.quartic(), [0.5, -2.5]),
         "saddle": (L.saddle(), [1e-3, 0.8])}


@pytest.mark.parametrize("land", list(LANDS))
@pytest.mark.parametrize("name", list(LIBRARY))
def test_transforms_match_the_library_kernel(name, land):
    landscape, x0 = LANDS[land]
    ours, ref = LIBRARY[name]
    # RMSProp (no momentum) ends in a sign-like oscillation around the quartic's flat minimum that
    # amplifies a last-bit difference: 4e-16 until step 160, then 8e-3.  Compare it before that.
    steps = 150 if (name, land) == ("rmsprop", "quartic") else 2000
    traj = ad.run(ref(), landscape, x0, steps)
    opt = ours()
    x = jnp.asarray(x0, jnp.float64)
    state = opt.init(x)
    update = jax.jit(opt.update)
    path = []
    for _ in range(steps):
        g = jnp.asarray(landscape.grad(np.asarray(x)[None])[0])
        u, state = update(g, state, x)
        x = optax.apply_updates(x, u)
        path.append(np.asarray(x))
    path = np.array(path)
    # relative to the largest coordinate so far (momentum leaves the saddle exponentially)
    scale = np.maximum.accumulate(np.max(np.abs(traj.path[1:, 0]), axis=1))
    assert np.all(np.max(np.abs(path - traj.path[1:, 0]), axis=1) <= 1e-12 * scale)


def test_bad_arguments_raise_value_errors():
    with pytest.raises(ValueError, match="lr"):
        T.adam(-1.0)
    with pytest.raises(ValueError, match="beta1"):
        T.adam(1e-3, beta1=1.5)
    with pytest.raises(ValueError, match="k must be"):
        T.kadam(k=0)
    with pytest.raises(ValueError, match="norm"):
        T.kadam(k=2, norm="batch")
    with pytest.raises(ValueError, match="dropout"):
        models.mlp(dropout=1.0)
    with pytest.raises(ValueError, match="sampling"):
        data.batch_indices(10, 2, 3, 0, sampling="stratified")
    with pytest.raises(ValueError, match="batch_size"):
        data.batch_indices(10, 20, 3, 0)
    with pytest.raises(ValueError, match="lr"):
        training.sweep(models.mlp(), lambda b: T.sgd(1e-3), data.digits(), {"b": [1.0]})
    with pytest.raises(ValueError, match="share_seed_draws"):
        training.sweep(models.mlp(), lambda lr: T.sgd(lr), data.digits(), {"lr": [1.0]}, share_seed_draws="yes")


def test_digits_split_and_batches(digits):
    assert digits.n_train + digits.x_test.shape[0] == 1797 and digits.n_features == 64
    # standardised on the training set: mean 0, and std 1 except for always-blank pixels
    x = np.asarray(digits.x_train)
    assert np.max(np.abs(x.mean(axis=0))) < 1e-12
    sd = x.std(axis=0)
    assert np.all((np.abs(sd - 1) < 1e-12) | (sd == 0))
    # every class appears in the test set in about its share
    counts = np.bincount(np.asarray(digits.y_test), minlength=10)
    assert counts.min() >= 35
    idx = data.batch_indices(digits.n_train, 64, 50, seed=3)
    assert np.array_equal(idx, data.batch_indices(digits.n_train, 64, 50, seed=3))
    # an epoch's batches are disjoint
    per_epoch = digits.n_train // 64
    assert len(np.unique(idx[:per_epoch])) == per_epoch * 64


def test_raw_digits_are_scikit_learns_without_importing_it():
    from sklearn.datasets import load_digits

    x, y = data.raw_digits()
    x_ref, y_ref = load_digits(return_X_y=True)
    assert x.dtype == x_ref.dtype and y.dtype == y_ref.dtype
    assert np.array_equal(x, x_ref) and np.array_equal(y, y_ref)
    assert x.shape == (1797, 64) and x.max() == 16 and sorted(set(y.tolist())) == list(range(10))


def test_sweep_is_deterministic_and_flags_divergence(digits):
    model = models.mlp((64, 16, 10), dropout=0.1)
    hp = training.grid(lr=[1e-2, 1e10])  # the second overshoots DIVERGENCE_LIMIT at once
    r1 = training.sweep(model, lambda lr: T.sgd(lr), digits, hp, seeds=[0, 1], steps=40, eval_every=20)
    r2 = training.sweep(model, lambda lr: T.sgd(lr), digits, hp, seeds=[0, 1], steps=40, eval_every=20)
    assert np.array_equal(r1.train_loss, r2.train_loss) and np.array_equal(r1.batch_loss, r2.batch_loss)
    assert list(r1.diverged) == [False, False, True, True]
    assert np.all(r1.diverged_step[2:] >= 1) and np.all(r1.diverged_step[:2] == -1)
    for f in ("train_loss", "test_loss", "test_accuracy", "batch_loss", "grad_norm", "update_norm",
              "max_update_over_lr"):
        assert np.all(np.isfinite(getattr(r1, f))), f
    # SGD's update is lr * gradient: max |update|/lr equals the gradient's largest entry, at most its norm
    assert np.all(r1.max_update_over_lr[:2] <= r1.grad_norm[:2] * (1 + 1e-12))
    np.testing.assert_allclose(r1.update_norm[:2], 1e-2 * r1.grad_norm[:2], rtol=1e-10)
    assert r1.train_loss[0, -1] < r1.train_loss[0, 0]
    assert r1.by_point("train_loss").shape == (2, 2, 3)


def test_each_run_of_a_sweep_is_the_run_trained_alone(digits):
    """Run r of a sweep is grid point r // n_seeds at seed seeds[r % n_seeds] (shared per-seed draws,
    one matrix product per seed for all grid points): the same numbers, to rounding, as a sweep of
    that single point and seed."""
    model = models.mlp((64, 16, 10), dropout=0.1)
    hp = training.grid(lr=[1e-2, 3e-2, 1e-1])
    seeds = [3, 0]
    kw = {"steps": 30, "eval_every": 10, "batch_size": 32}
    both = training.sweep(model, lambda lr: T.adam(lr), digits, hp, seeds=seeds, **kw)
    for r in (1, 4):  # point 0 at the second seed, point 2 at the first
        point, seed = r // 2, seeds[r % 2]
        alone = training.sweep(model, lambda lr: T.adam(lr), digits, {"lr": hp["lr"][point:point + 1]},
                               seeds=[seed], **kw)
        assert both.seeds[r] == seed and both.hparams["lr"][r] == hp["lr"][point]
        for f in ("train_loss", "test_accuracy", "batch_loss", "grad_norm", "update_norm"):
            np.testing.assert_allclose(getattr(both, f)[r], getattr(alone, f)[0], rtol=1e-9, atol=1e-12,
                                       err_msg=f"{f}, run {r}")
        for a, b in zip(jax.tree.leaves(both.params), jax.tree.leaves(alone.params)):
            np.testing.assert_allclose(a[r], b[0], rtol=1e-9, atol=1e-12)


def test_loop_emitters_give_the_same_bits_where_the_book_uses_them(monkeypatch):
    """LOOP_EMITTER_OPTIONS compile faster and agree to rounding in the programs that use them.

    (Bit for bit at the chapters' default sizes, which the glued values were compared at; at other
    sizes a loss may differ in its last bit.)
    """
    from adamdyn.networks import adam_limits, eos, saddles

    def both(module, call):
        fast = call()
        monkeypatch.setattr(module, "LOOP_EMITTER_OPTIONS", training.COMPILER_OPTIONS)
        ref = call()
        monkeypatch.undo()
        return fast, ref

    fast, ref = both(training, lambda: adam_limits.overparametrised_runs.__wrapped__(
        n_train=20, steps=40, eval_every=20, powers=(0.0, 1.0), seeds=(0,)).sweep)
    for f in ("train_loss", "batch_loss", "grad_norm", "update_norm", "max_update_over_lr"):
        np.testing.assert_allclose(getattr(fast, f), getattr(ref, f), rtol=1e-13, atol=0, err_msg=f)
    fast, ref = both(eos, lambda: eos.eos_runs.__wrapped__(n_train=50, steps=40, every=20))
    np.testing.assert_allclose(fast.loss, ref.loss, rtol=1e-13, atol=0)
    np.testing.assert_allclose(fast.sharpness, ref.sharpness, rtol=1e-13, atol=0)
    fast, ref = both(saddles, lambda: saddles.plateau_experiment.__wrapped__(steps=40, scales=(1e-2,), n_rates=1))
    np.testing.assert_allclose(fast.loss, ref.loss, rtol=1e-13, atol=0)
    np.testing.assert_allclose(fast.modes, ref.modes, rtol=1e-13, atol=0)


def test_adam_steps_obey_proposition_1_in_a_sweep(digits):
    """Kaiser's bound on |update|/eta on real gradients: sqrt(370/7) = 7.27 at the defaults, by hand
    (0.1^2 * 0.999 / (0.001 * 0.189) = 370/7)."""
    r = training.sweep(models.mlp((64, 16, 10)), lambda lr: T.adam(lr), digits, {"lr": [1e-3]}, steps=100,
                       eval_every=50)
    assert 0.5 < r.max_update_over_lr.max() <= np.sqrt(370 / 7)


def test_sharpness_of_a_quadratic_is_its_largest_eigenvalue():
    rng = np.random.default_rng(1)
    Q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    lam = np.array([5.0, 2.0, 1.0, 0.5, 0.1, 0.01])
    A = jnp.asarray(Q @ np.diag(lam) @ Q.T)
    loss = lambda w: 0.5 * w["x"] @ A @ w["x"]  # noqa: E731
    p = {"x": jnp.ones(6)}
    assert abs(float(curvature.sharpness(loss, p, iters=300)) - 5.0) < 1e-8
    d = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    expected = np.max(np.linalg.eigvals(np.diag(1 / d) @ np.asarray(A)).real)
    got = float(curvature.sharpness(loss, p, preconditioner={"x": jnp.asarray(d)}, iters=500))
    assert abs(got - expected) < 1e-6 * expected
    np.testing.assert_allclose(np.asarray(curvature.hvp(loss, p, {"x": jnp.eye(6)[0]})["x"]), np.asarray(A)[:, 0])


def test_noise_statistics_closed_forms():
    # epoch sampling: the variance of the mean of disjoint batches, checked by brute force
    rng = np.random.default_rng(0)
    n, b = 40, 8
    pop = rng.standard_normal(n)
    perms = np.array([rng.permutation(n) for _ in range(40000)])
    means = pop[perms].reshape(-1, n // b, b).mean(axis=2)
    corr = np.corrcoef(means[:, 0], means[:, 1])[0, 1]
    nb = n // b
    # at lag 1 a pair of steps shares an epoch with probability (nb - 1)/nb; these two always do
    same_epoch = gradient_noise.epoch_autocorrelation(n, b, 1)[1] * nb / (nb - 1)
    assert abs(same_epoch - (-b / (n - b))) < 1e-15 and abs(corr - same_epoch) < 0.02
    # the moving-average variance factor: closed form (sympy, geometric rho) against the series
    expr, (beta, r, rho) = gradient_noise.ema_variance_expr()
    val = float(expr.subs({beta: 0.9, r: 0.5, rho: -0.3}))
    series = np.r_[1.0, -0.3 * 0.5 ** np.arange(1, 400)]
    assert abs(gradient_noise.ema_variance_factor(0.9, series) - val) < 1e-12
    assert abs(gradient_noise.ema_variance_factor(0.9, [1.0]) - 0.1 / 1.9) < 1e-15
    # and against a simulation of AR(1) noise
    phi, T = 0.5, 200_000
    e = rng.standard_normal(T)
    x = np.empty(T)
    x[0] = e[0]
    for t in range(1, T):
        x[t] = phi * x[t - 1] + np.sqrt(1 - phi**2) * e[t]
    xi = gradient_noise.ema(x[:, None], 0.9)[1000:, 0]
    pred = gradient_noise.ema_variance_factor(0.9, phi ** np.arange(200))
    assert abs(xi.var() / x.var() - pred) < 0.05 * pred
    _, sd, skew, kurt = gradient_noise.standardised_moments(rng.exponential(size=(200_000, 1)))
    assert abs(skew[0] - 2) < 0.1 and abs(kurt[0] - 6) < 0.6 and abs(sd[0] - 1) < 0.01


def test_per_example_gradients_average_to_the_full_gradient(digits):
    model = models.mlp((64, 8, 10))
    params = model.init(jax.random.PRNGKey(0))
    x, y = digits.x_train[:100], digits.y_train[:100]
    G = gradient_noise.per_example_gradients(model, params, x, y)
    np.testing.assert_allclose(np.asarray(G.mean(axis=0)), np.asarray(gradient_noise.full_gradient(model, params, x, y)),
                               rtol=1e-10, atol=1e-14)
    mb = gradient_noise.minibatch_gradients(model, params, x, y, np.arange(100).reshape(4, 25))
    np.testing.assert_allclose(np.asarray(mb[1]), np.asarray(G[25:50].mean(axis=0)), rtol=1e-10, atol=1e-14)


def test_logistic_regression_and_deep_linear_models():
    d = data.digits()
    lr_model = models.logistic_regression(l2=1e-2)
    p = lr_model.init()
    assert abs(float(lr_model.loss(p, d.x_train, d.y_train)) - np.log(10)) < 1e-12
    dl = models.deep_linear((64, 8, 4), init_scale=0.5)
    q = dl.init(jax.random.PRNGKey(0))
    y = jnp.zeros((d.n_train, 4))
    assert float(dl.loss(q, d.x_train, y)) > 0 and not dl.classifier
    assert models.n_params(q) == 64 * 8 + 8 * 4


def test_generic_runs_a_batch_of_library_optimizers_in_one_vmap():
    """SGD, momentum, AdaGrad, RMSProp, Adam, AdamW and Adam variants, vmapped, against the kernel."""
    batch = ad.combine(ad.sgd(1e-2), ad.momentum(1e-2, 0.9), ad.adagrad(0.1), ad.rmsprop(1e-2, 0.9),
                       ad.adam(1e-2), ad.adam(1e-2, bias_correction=False), ad.adam(1e-2, eps=1e-4, eps_inside=True),
                       ad.adamw(1e-2, weight_decay=0.5))
    landscape, x0 = LANDS["smooth"]
    steps = 500
    ref = ad.run(batch, landscape, x0, steps).path[1:]
    hp = {k: jnp.asarray(v) for k, v in T.library_hparams(batch).items()}
    R = len(batch)
    x = jnp.tile(jnp.asarray(x0, jnp.float64), (R, 1))
    state = jax.vmap(lambda h, x: T.generic(**h).init(x))(hp, x)
    update = jax.jit(jax.vmap(lambda h, g, s, x: T.generic(**h).update(g, s, x)))
    path = []
    for _ in range(steps):
        g = jnp.asarray(landscape.grad(np.asarray(x)))
        u, state = update(hp, g, state, x)
        x = x + u
        path.append(np.asarray(x))
    err = np.max(np.abs(np.array(path) - ref))
    assert err <= 1e-12 * np.max(np.abs(ref)), err
    with pytest.raises(ValueError, match="adamdyn.Optimizer"):
        T.library_hparams({"lr": 1.0})


def test_normalised_mlps_are_invariant_to_the_scale_of_their_hidden_weights(digits):
    """A scale-invariant layer divides W by its norm; a LayerNorm removes the scale of the pre-activations."""
    x = digits.x_train[:50]
    for norm in ("scale_invariant", "layernorm"):
        model = models.mlp((64, 16, 10), norm=norm)
        p = model.init(jax.random.PRNGKey(0))
        scaled = [{"w": p[0]["w"] * 7.0, "b": p[0]["b"] * (7.0 if norm == "layernorm" else 1.0)}, p[1]]
        out, out_scaled = model.apply(p, x), model.apply(scaled, x)
        tol = 1e-12 if norm == "scale_invariant" else 1e-4  # LayerNorm's 1e-5 inside the root
        np.testing.assert_allclose(np.asarray(out_scaled), np.asarray(out), rtol=tol, atol=tol)
    plain = models.mlp((64, 16, 10))
    p = plain.init(jax.random.PRNGKey(0))
    scaled = [{"w": p[0]["w"] * 7.0, "b": p[0]["b"]}, p[1]]
    assert np.max(np.abs(np.asarray(plain.apply(scaled, x) - plain.apply(p, x)))) > 1e-2
