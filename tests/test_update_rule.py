"""The one update rule (issue 14): written once, bound per array library, used by every module.

* a scan of the package's source fails if a module other than :mod:`adamdyn.update_rule` (and the
  labelled independent reference) writes the update out;
* the numba twins, the NumPy binding, the JAX binding and the sympy binding agree bit for bit;
* every routed function is compared with the code it replaced (frozen below as ``_before_*``):
  bit for bit where the order of the floating-point operations is unchanged, to a few units in the
  last place where routing changed it (the reason is given per test).
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import adamdyn as ad
import numpy as np
import pytest
from adamdyn import landscapes as L
from adamdyn import update_rule as U

PACKAGE = Path(ad.__file__).resolve().parent

# ---------------------------------------------------------------------------- the source scan
#: Code (strings and comments removed, spaces dropped) that writes a piece of the update out.
PATTERNS = {
    "denominator": re.compile(r"sqrt\(\w*v\w*(/\w+)?\)\+\w*eps|sqrt\(\w*v\w*\+\w*eps\w*\)"),
    "first moment": re.compile(r"\b(b|beta)1\w*(\[[^\]]*\])?\*\w+(\[[^\]]*\])?\+\(?1(\.0)?-(b|beta)1"),
    "second moment": re.compile(r"\b(b|beta)2\w*(\[[^\]]*\])?\*\w+(\[[^\]]*\])?\+\(?1(\.0)?-(b|beta)2"),
    "bias correction": re.compile(r"\w+/\(?1(\.0)?-(b|beta)[12]\w*\*\*"),
    "decayed update": re.compile(r"-\w*lr\w*(\[[^\]]*\])?\*\w*(wd|weight_decay)\w*(\[[^\]]*\])?\*\w"),
}
#: The rule itself and the one deliberately independent implementation (labelled in its docstring).
OWNERS = {"update_rule.py", "torch_reference.py"}
#: Known copies in modules outside this change, each with what it is; the lead routes them (issue 14).
#: The test fails on any copy not listed here, and on a listed one that has gone (so the list shrinks).
KNOWN = {
    ("continuous_adam.py", "denominator"): "the continuous-time field m_hat/(sqrt(v_hat)+eps), not the step",
    ("ode_lyapunov.py", "denominator"): "the ODE's Lyapunov function m^2/sqrt(v+eps), a closed form",
    ("flat_distance.py", "denominator"): "the step from closed-form extremal moments (to route)",
    ("networks/beta_grid.py", "bias correction"): "plain recursion of a decaying history (to route)",
    ("networks/beta_grid.py", "denominator"): "plain recursion of a decaying history (to route)",
    ("valleys.py", "second moment"): "v rebuilt along a recorded tail (to route)",
    ("noise.py", "bias correction"): "the closed form Var[m_hat_T] = Var[m_T]/(1-beta1^T)^2",
    ("symbolic.py", "first moment"): "Kaiser's eps-hat form of Adam, numeric loop (to route)",
    ("symbolic.py", "second moment"): "Kaiser's eps-hat form of Adam, numeric loop (to route)",
}


def _code_lines(path):
    lines = {}
    for tok in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
        if tok.type in (tokenize.STRING, tokenize.COMMENT):
            continue
        lines.setdefault(tok.start[0], []).append(tok.string)
    return {n: "".join(parts) for n, parts in lines.items()}


def _copies():
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        if name in OWNERS:
            continue
        for n, line in _code_lines(path).items():
            if "sp." in line:           # sympy: a derivation or closed form, not the numeric step
                continue
            for kind, pattern in PATTERNS.items():
                if pattern.search(line):
                    found.setdefault((name, kind), []).append(f"{name}:{n}: {line[:100]}")
    return found


def test_the_scan_finds_a_copy():
    line = ("m = beta1 * m + (1 - beta1) * g; v = b2 * v + (1 - b2) * g * g; d = np.sqrt(vh) + eps; "
            "h = m / (1 - b1**t); dw = -lr * wd * x[r, i] - lr * u")
    code = line.replace(" ", "")
    assert all(p.search(code) for p in PATTERNS.values())


def test_no_module_but_the_rule_writes_the_update_out():
    found = _copies()
    new = {k: v for k, v in found.items() if k not in KNOWN}
    assert not new, "the update written out outside adamdyn.update_rule:\n" + "\n".join(
        line for lines in new.values() for line in lines)
    gone = set(KNOWN) - set(found)
    assert not gone, f"no longer copies (remove them from KNOWN): {sorted(gone)}"


def test_the_reference_implementation_is_labelled_independent():
    text = (PACKAGE / "torch_reference.py").read_text().lower()
    assert "independent" in text and "reference" in text


# ---------------------------------------------------------------------------- the bindings agree
_PIECES = ("first_moment", "second_moment", "advance_power", "debias", "decayed_step", "decayed_update")


def _samples(n=200, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(n) * 10.0 ** rng.integers(-5, 5, n) for _ in range(4)]


@pytest.mark.parametrize("name", _PIECES)
def test_numba_twin_and_numpy_binding_agree_bitwise(name):
    a, b, c, d = _samples()
    twin, plain = getattr(U, name), getattr(U.numpy_rule, name)
    nargs = twin.py_func.__code__.co_argcount
    args = (a, b, c, d)[:nargs]
    expected = np.array([twin(*(float(x[i]) for x in args)) for i in range(a.size)])
    np.testing.assert_array_equal(plain(*args), expected)


def test_switched_pieces_agree_bitwise():
    a, b, c, _ = _samples()
    v, eps = np.abs(a), np.abs(c) * 1e-3
    for inside in (True, False):
        expected = np.array([U.denominator(float(x), float(e), inside) for x, e in zip(v, eps)])
        np.testing.assert_array_equal(U.numpy_rule.denominator(v, eps, inside), expected)
    d = np.where(np.arange(a.size) % 3 == 0, 0.0, np.abs(b))
    expected = np.array([U.direction(float(x), float(y)) for x, y in zip(a, d)])
    np.testing.assert_array_equal(U.numpy_rule.direction(a, d), expected)
    for on in (True, False, 1.0, 0.0):
        assert U.numpy_rule.bias_denominator(0.3, on) == U.bias_denominator(0.3, on) == (0.7 if on else 1.0)


def test_jax_binding_agrees_bitwise():
    jnp = pytest.importorskip("jax.numpy")
    R = U.jax_rule()
    a, b, c, _ = (x.astype(np.float32) for x in _samples())     # JAX computes in float32 here
    v = np.abs(a)
    for name in ("first_moment", "second_moment", "debias", "decayed_step"):
        args = (a, b, c, np.abs(b))[: getattr(U, name).py_func.__code__.co_argcount]
        np.testing.assert_array_equal(np.asarray(getattr(R, name)(*map(jnp.asarray, args))),
                                      getattr(U.numpy_rule, name)(*args))
    eps = np.float32(1e-8)
    np.testing.assert_array_equal(np.asarray(R.denominator(jnp.asarray(v), eps, False)),
                                  U.numpy_rule.denominator(v, eps, False))
    d = np.where(np.arange(a.size) % 3 == 0, 0.0, v)
    np.testing.assert_array_equal(np.asarray(R.direction(jnp.asarray(a), jnp.asarray(d))),
                                  U.numpy_rule.direction(a, d))


def test_sympy_binding_gives_the_textbook_step():
    import sympy as sp

    R = U.sympy_rule()
    m, v, g, b1, b2, eps, lr, w, t = sp.symbols("m v g beta1 beta2 epsilon eta w t", positive=True)
    mn, vn = R.first_moment(m, g, b1, 1 - b1), R.second_moment(v, g, b2, 1 - b2)
    u = R.direction(R.debias(mn, R.bias_denominator(b1**t, True)),
                    R.denominator(R.debias(vn, R.bias_denominator(b2**t, True)), eps, False))
    textbook = w - lr * (mn / (1 - b1**t)) / (sp.sqrt(vn / (1 - b2**t)) + eps)
    assert sp.simplify(R.decayed_step(w, lr, 0, u) - textbook) == 0
    assert R.bias_denominator(b1**t, False) == 1


# ---------------------------------------------------------------------------- routed == before
def _before_kingma(grad, theta, b1, b2, s, steps, eps=1e-8):
    """ode_discrete.kingma_adam before routing (powers by expm1, (s*m_hat)/den, (1-b2)*g**2)."""
    TH = [np.asarray(theta, float)]
    m = v = np.zeros_like(TH[0])
    for t in range(1, steps + 1):
        g = grad(TH[-1])
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        mh, vh = m / -np.expm1(t * np.log(b1)), v / -np.expm1(t * np.log(b2))
        TH.append(TH[-1] - s * mh / (np.sqrt(vh) + eps))
    return np.array(TH)


def _before_poster(grad, theta, b1, b2, s, steps, eps=1e-8):
    theta = np.asarray(theta, float)
    m = grad(theta)
    v = m**2
    TH = [theta]
    for k in range(steps):
        n = k + 2
        mu = b1 * -np.expm1((n - 1) * np.log(b1)) / -np.expm1(n * np.log(b1))
        nu = b2 * -np.expm1((n - 1) * np.log(b2)) / -np.expm1(n * np.log(b2))
        theta = theta - s * m / np.sqrt(v + eps)
        g = grad(theta)
        m = mu * m + (1 - mu) * g
        v = nu * v + (1 - nu) * g**2
        TH.append(theta)
    return np.array(TH)


def _quartic_grad(th):
    return np.array([4 * th[0] ** 3, 2 * th[1]])


def test_kingma_adam_is_the_library_adam_bitwise():
    # routed through the pieces with running powers, it is now adamdyn.run's Adam to the last bit
    from adamdyn.ode_discrete import kingma_adam

    lan = L.quadratic([0.5, 2.0])
    x0 = np.array([1.0, -0.5])
    tr = ad.run(ad.adam(lr=0.01), lan, x0, 300)
    np.testing.assert_array_equal(kingma_adam(lan.grad, x0, 0.9, 0.999, 0.01, 300), tr.path[:, 0, :])


def test_discrete_algorithms_against_their_code_before_routing():
    # the operations were reordered ((s*m)/d -> s*(m/d), (1-b2)*g**2 -> ((1-b2)*g)*g, expm1 powers ->
    # running products): equal to rounding, not bitwise
    from adamdyn.ode_discrete import kingma_adam, poster_adam

    x0 = [1.0, -0.5]
    new = kingma_adam(_quartic_grad, x0, 0.9, 0.999, 0.01, 300)
    np.testing.assert_allclose(new, _before_kingma(_quartic_grad, x0, 0.9, 0.999, 0.01, 300), rtol=1e-10, atol=0)
    new = poster_adam(_quartic_grad, x0, 0.9, 0.999, 0.01, 300)[0]
    np.testing.assert_allclose(new, _before_poster(_quartic_grad, x0, 0.9, 0.999, 0.01, 300), rtol=1e-11, atol=0)


def test_adam_map_against_its_code_before_routing():
    from adamdyn.valley_orbits import adam_map

    rng = np.random.default_rng(3)
    for _ in range(50):
        w, m, v = rng.standard_normal(3)
        state = (w, m, abs(v))
        g = 2 * 1.5 * w
        mb = 0.9 * m + (1 - 0.9) * g
        vb = 0.999 * abs(v) + (1 - 0.999) * g * g
        wb = w - 1e-3 * mb / (np.sqrt(vb) + 1e-8)       # before: (lr*m)/d; now lr*(m/d)
        new = adam_map(state, a=1.5)
        assert new[1] == mb and new[2] == vb             # the moments: same operations, bitwise
        assert new[0] == pytest.approx(wb, rel=1e-15, abs=1e-300)


def test_least_squares_adam_is_the_rule_bitwise():
    # one row, one coordinate: the compiled loop takes exactly kingma_adam's operations
    from adamdyn.ode_discrete import kingma_adam
    from adamdyn.stochastic_adam import adam_least_squares

    A, y = np.array([[1.5]]), np.array([0.5])
    r = adam_least_squares(A, y, [0.3], 400, gamma=0.01, beta1=0.9, beta2=0.99, runs=1, record_every=1)
    k = kingma_adam(lambda th: (-y[0] + A[0, 0] * th) * A[0, 0], [0.3], 0.9, 0.99, 0.01, 400)
    np.testing.assert_array_equal(r.path[:, 0, :], k)
    A2 = np.array([[1.5, -0.5]])
    r2 = adam_least_squares(A2, y, [0.3, 0.1], 400, gamma=0.01, beta1=0.9, beta2=0.99, runs=1, record_every=1)
    k2 = kingma_adam(lambda th: (-y[0] + A2[0, 0] * th[0] + A2[0, 1] * th[1]) * A2[0], [0.3, 0.1], 0.9, 0.99,
                     0.01, 400)
    np.testing.assert_array_equal(r2.path[:, 0, :], k2)


def test_least_squares_kernel_freezes_diverged_runs_at_their_last_finite_state():
    from adamdyn.stochastic_adam import adam_least_squares

    A, y = np.ones((2, 1)), np.array([0.0, 1.0])
    r = adam_least_squares(A, y, [0.3], 50, gamma=1e149, runs=3, record_every=1)
    assert r.diverged.all()
    assert np.all(np.isfinite(r.path)) and np.all(np.abs(r.path) <= ad.optimizers.DIVERGENCE_LIMIT)
    frozen = r.path[-1]
    np.testing.assert_array_equal(r.path[10], frozen)        # nothing moves after the flag
    fine = adam_least_squares(A, y, [0.3], 50, gamma=0.01, runs=3, record_every=1)
    assert not fine.diverged.any()


def _before_ergodic(g, idx, b1, b2, eps, burn, outside):
    out = np.zeros((g.shape[0], idx.shape[0]))
    for i in range(g.shape[0]):
        for r in range(idx.shape[0]):
            m = v = acc = 0.0
            for t in range(idx.shape[1]):
                x = g[i, idx[r, t]]
                m = b1 * m + (1.0 - b1) * x
                v = b2 * v + (1.0 - b2) * x * x
                if t >= burn:
                    d = np.sqrt(v) + eps if outside else np.sqrt(v + eps)
                    if d > 0.0:
                        acc += m / d
            out[i, r] = acc / (idx.shape[1] - burn)
    return out


@pytest.mark.parametrize("placement, eps", [("inside", 0.0), ("outside", 1e-3), ("inside", 1e-3)])
def test_ergodic_kernel_against_its_code_before_routing_bitwise(placement, eps):
    from adamdyn.vector_field import truncation_length
    from adamdyn.vector_field_ergodic import _draw_indices, field_ergodic

    g = np.array([[-1.0, 0.0, 2.0], [0.1, 0.3, -0.2]])
    p = np.array([0.2, 0.3, 0.5])
    K = truncation_length(0.5, 0.6)
    idx = _draw_indices(np.random.default_rng(1), np.cumsum(p), (3, K + 300))
    new = field_ergodic(g, p, 0.5, 0.6, eps, steps=300, replicas=3, indices=idx, eps_placement=placement)
    np.testing.assert_array_equal(new.replicas, -_before_ergodic(g, idx, 0.5, 0.6, eps, K, placement == "outside"))


def test_noise_monte_carlo_against_its_code_before_routing_bitwise():
    from adamdyn.correlated_noise import ar1_monte_carlo
    from adamdyn.noise import monte_carlo_moments, ramp_monte_carlo

    out = monte_carlo_moments(0.9, 0.99, (1, 5, 20), n_paths=300, seed=4)
    rng = np.random.default_rng(4)
    m = v = np.zeros(300)
    for t in range(1, 21):
        g = 0.0 + 1.0 * rng.standard_normal(300)
        m = 0.9 * m + (1 - 0.9) * g
        v = 0.99 * v + (1 - 0.99) * g * g
        if t == 20:
            assert out["m_mean"][-1] == m.mean() and out["v_mean"][-1] == v.mean()
    tt, mean, _, _ = ramp_monte_carlo(0.9, steps=30, n_paths=200, seed=2)
    rng = np.random.default_rng(2)
    g = (1.0 - 0.02 * np.arange(1, 31))[:, None] + rng.standard_normal((30, 200))
    m, mh = np.zeros(200), []
    for k in range(30):
        m = 0.9 * m + (1 - 0.9) * g[k]
        mh.append(m / (1 - 0.9 ** (k + 1)))
    np.testing.assert_array_equal(mean, np.mean(mh, axis=1))
    var, _ = ar1_monte_carlo(0.9, 0.5, (3,), n_paths=200, seed=5)
    rng = np.random.default_rng(5)
    noise, m = rng.standard_normal(200), np.zeros(200)
    for t in range(1, 4):
        if t > 1:
            noise = 0.5 * noise + np.sqrt(1 - 0.5**2) * rng.standard_normal(200)
        m = 0.9 * m + (1 - 0.9) * noise
    assert var[0] == np.var(m, ddof=1) or var[0] == pytest.approx(np.var(m, ddof=1), rel=1e-15)


def test_kadam_with_k1_is_adam_bitwise_and_k2_matches_its_code_before():
    from adamdyn.kadam import kadam, run_kadam

    x0 = np.array([[1.0, 0.5], [-0.3, 2.0]])
    lr = np.array([0.01, 0.05])
    quartic = L.from_function(L.quartic().value, L.quartic().grad, dim=2)   # the same NumPy gradients
    one = run_kadam(kadam(lr=lr, k=1, weight_decay=0.01), quartic, x0, 200)
    ref = ad.run(ad.adamw(lr=lr, weight_decay=0.01), quartic, x0, 200)
    np.testing.assert_array_equal(one.path, ref.path)
    # k = 2 by the code before routing: the same operations level by level
    two = run_kadam(kadam(lr=0.01, k=2, beta1=(0.9, 0.5), beta2=(0.999, 0.9)), L.quartic(), x0[:1], 100)
    x, ms, vs = x0[:1].copy(), [np.zeros((1, 2))] * 2, [np.zeros((1, 2))] * 2
    b1s, b2s, p1, p2 = (0.9, 0.5), (0.999, 0.9), [1.0, 1.0], [1.0, 1.0]
    for t in range(1, 101):
        u = L.quartic().grad(x)
        for j in range(2):
            p1[j], p2[j] = p1[j] * b1s[j], p2[j] * b2s[j]
            ms[j] = b1s[j] * ms[j] + (1.0 - b1s[j]) * u
            vs[j] = b2s[j] * vs[j] + (1.0 - b2s[j]) * u * u
            d = np.sqrt(vs[j] / (1.0 - p2[j])) + 1e-8
            u = np.where(d > 0, (ms[j] / (1.0 - p1[j])) / d, 0.0)
        x = x * (1.0 - 0.01 * 0.0) - 0.01 * u
    np.testing.assert_array_equal(two.final, x)


def test_transforms_against_their_code_before_routing_bitwise():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    from adamdyn.networks import transforms as T

    rng = np.random.default_rng(0)
    params = {"w": jnp.asarray(rng.standard_normal(5), jnp.float32)}
    opt = T.adam(lr=1e-2)
    state = opt.init(params)
    mu = nu = jnp.zeros(5, jnp.float32)
    for t in range(1, 20):
        g = {"w": jnp.asarray(rng.standard_normal(5), jnp.float32)}
        upd, state = opt.update(g, state, params)
        mu = 0.9 * mu + (1 - 0.9) * g["w"]
        nu = 0.999 * nu + (1 - 0.999) * g["w"] * g["w"]
        c = jnp.asarray(t, jnp.float32)
        mh = mu / (1.0 - jnp.power(jnp.asarray(0.9, jnp.float32), c))
        vh = nu / (1.0 - jnp.power(jnp.asarray(0.999, jnp.float32), c))
        d = jnp.sqrt(vh) + 1e-8
        u = jnp.where(d > 0, mh / jnp.where(d > 0, d, 1.0), 0.0)
        np.testing.assert_array_equal(np.asarray(upd["w"]), np.asarray(-1e-2 * u))
