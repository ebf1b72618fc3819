r"""Symbolic derivations for Kaiser's section 2 (Preliminaries), and its ledger rows.

Every formula the preliminaries chapter shows is built here with sympy, so the
chapter displays what was derived rather than what was typed, and the tests
and the ledger use the same objects.

Notation.  Kingma & Ba's Algorithm 1 (the reference) writes the gradient
:math:`g_t = \nabla f(\theta_{t-1})`, the moments :math:`m_t, v_t` and the step
size :math:`\alpha`.  Kaiser writes :math:`\eta` for the step size, uses
:math:`g_t` for the *first moment* (Algorithm 1's :math:`m_t`) and
:math:`\sigma_t^2` for the second (Algorithm 1's :math:`v_t`).  Here the
moments are :math:`m_t, v_t` and the step size :math:`\eta`.

Bias-correction denominators :math:`1-\beta_i^t` are positive for
:math:`t \ge 1` and :math:`\beta_i \in [0, 1)`; sympy does not know that from
the symbols alone, so :func:`simplify_positive` substitutes
:math:`\beta_i^t = 1 - B_i` with :math:`B_i > 0` before simplifying.

References
----------
A. Kaiser, *Exploring the Dynamics of Adam*, section 2, Eqs. (1)-(5).
D. P. Kingma and J. Ba, *Adam: a method for stochastic optimization*, ICLR 2015,
Algorithm 1 and section 2.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from .memo import memoised
from .symbols import beta1, beta2, eps, eta
from .validation import (
    check_bool,
    check_callable,
    check_int,
    check_points,
    check_seed,
    scalar_beta,
    scalar_nonnegative,
    scalar_positive,
)


def _sympy(name, value):
    """A sympy expression, or a real number (turned into one).  Strings are refused: sympify would parse them."""
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a sympy expression or a real number, got {value!r}")  # noqa: TRY004
    return sp.sympify(value)

__all__ = [
    "beta1", "beta2", "eta", "eps", "t", "m", "v", "g", "c", "delta",
    "simplify_positive",
    "algorithm1_update", "eps_hat", "eq4_update", "eq4_minus_algorithm1", "eq4_plain_eps_minus_algorithm1",
    "bias_factor", "bias_factor_at_start",
    "recursive_moment", "explicit_moment", "explicit_minus_recursive",
    "constant_gradient_moments", "no_bias_correction_gain",
    "negligible_bias_time", "first_negligible_step", "simulated_bias_factor",
    "adagrad_update_printed", "adagrad_update_corrected", "loss_scale_ratio",
    "rmsprop_fixed_point_printed", "rmsprop_fixed_point_corrected", "rmsprop_printed_step_ratio",
    "algorithm1_scale_ratio",
    "eq4_path", "eq4_check",
]

t = sp.Symbol("t", positive=True, integer=True)
m = sp.Symbol("m_t", real=True)
v = sp.Symbol("v_t", positive=True)
g = sp.Symbol("g", real=True, nonzero=True)
c = sp.Symbol("c", positive=True)
delta = sp.Symbol("delta", positive=True)
_B1, _B2 = sp.symbols("B_1 B_2", positive=True)
_S = sp.Symbol("S", positive=True)  # a sum of squared gradients


def simplify_positive(expr):
    r"""Simplify ``expr`` using :math:`1-\beta_1^t > 0` and :math:`1-\beta_2^t > 0` (valid for :math:`t\ge 1`)."""
    sub = sp.simplify(_sympy("expr", expr).subs({beta1**t: 1 - _B1, beta2**t: 1 - _B2}))
    return sp.simplify(sub.subs({_B1: 1 - beta1**t, _B2: 1 - beta2**t}))


# ------------------------------------------------------------------ Algorithm 1 and Eq. (4)

def algorithm1_update():
    r"""Kingma & Ba's Algorithm 1 update :math:`\theta_t - \theta_{t-1}`:

    .. math:: -\eta\,\frac{m_t/(1-\beta_1^t)}{\sqrt{v_t/(1-\beta_2^t)} + \epsilon}.
    """
    return -eta * (m / (1 - beta1**t)) / (sp.sqrt(v / (1 - beta2**t)) + eps)


def eps_hat():
    r"""Kaiser's :math:`\hat\epsilon = \epsilon\sqrt{1-\beta_2^t}` (section 2.2, below Eq. 4)."""
    return eps * sp.sqrt(1 - beta2**t)


def eq4_update(epsilon_hat=None):
    r"""Kaiser's Eq. (4) update, in Algorithm 1's moments:

    .. math:: -\eta\,\frac{m_t}{\sqrt{v_t} + \hat\epsilon}\,\frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t}.

    ``epsilon_hat`` defaults to :func:`eps_hat`; pass :data:`eps` to get the
    variant with a plain epsilon.
    """
    e = eps_hat() if epsilon_hat is None else _sympy("epsilon_hat", epsilon_hat)
    return -eta * m / (sp.sqrt(v) + e) * sp.sqrt(1 - beta2**t) / (1 - beta1**t)


@lru_cache(maxsize=None)  # sympy expressions are immutable; simplification is the slow part
def eq4_minus_algorithm1():
    r"""Eq. (4) minus Algorithm 1, simplified: exactly 0 when :math:`\hat\epsilon = \epsilon\sqrt{1-\beta_2^t}`."""
    return simplify_positive(eq4_update() - algorithm1_update())


@lru_cache(maxsize=None)  # sympy expressions are immutable; simplification is the slow part
def eq4_plain_eps_minus_algorithm1():
    r"""Eq. (4) with :math:`\epsilon` in place of :math:`\hat\epsilon`, minus Algorithm 1 (not zero)."""
    return simplify_positive(eq4_update(eps) - algorithm1_update())


def bias_factor():
    r"""The bias-correction factor of Eq. (4), :math:`\sqrt{1-\beta_2^t}/(1-\beta_1^t)`."""
    return sp.sqrt(1 - beta2**t) / (1 - beta1**t)


def bias_factor_at_start():
    r"""The factor at :math:`t=0`, where Eq. (4) read from :math:`w_0` would start: :math:`0/0`, undefined (``nan``)."""
    return (sp.sqrt(1 - beta2**t) / (1 - beta1**t)).subs(t, 0)


# ------------------------------------------------------------------ explicit sums

def recursive_moment(T: int, beta, weight, squared: bool = False):
    r"""Unroll :math:`s_k = \beta s_{k-1} + w\, d_k^{(2)}` from :math:`s_0 = 0` to :math:`k = T`.

    ``d_1..d_T`` are symbols for the gradient history; ``squared`` uses :math:`d_k^2`.
    """
    T = check_int("T", T, 1)
    beta, weight = _sympy("beta", beta), _sympy("weight", weight)
    squared = check_bool("squared", squared)
    d = sp.symbols(f"d_1:{T + 1}", real=True)
    s = sp.Integer(0)
    for k in range(T):
        s = beta * s + weight * (d[k] ** 2 if squared else d[k])
    return s


def explicit_moment(T: int, beta, weight, squared: bool = False):
    r"""Kaiser's explicit sum :math:`w \sum_{k=1}^T d_k^{(2)} \beta^{T-k}` (with :math:`\sigma_T`, not :math:`\sigma_t`, and no stray :math:`\nabla`)."""
    T = check_int("T", T, 1)
    beta, weight = _sympy("beta", beta), _sympy("weight", weight)
    squared = check_bool("squared", squared)
    d = sp.symbols(f"d_1:{T + 1}", real=True)
    return weight * sum((d[k - 1] ** 2 if squared else d[k - 1]) * beta ** (T - k) for k in range(1, T + 1))


@lru_cache(maxsize=None)  # sympy expressions are immutable; simplification is the slow part
def explicit_minus_recursive(T: int):
    """Both moments' explicit sums minus their recursions, expanded: ``(0, 0)`` for every ``T``."""
    first = sp.expand(explicit_moment(T, beta1, 1 - beta1) - recursive_moment(T, beta1, 1 - beta1))
    second = sp.expand(explicit_moment(T, beta2, 1 - beta2, True) - recursive_moment(T, beta2, 1 - beta2, True))
    return first, second


@lru_cache(maxsize=None)  # sympy expressions are immutable; simplification is the slow part
def constant_gradient_moments():
    r"""Moments under a constant gradient :math:`g`: :math:`m_t = (1-\beta_1^t) g`, :math:`v_t = (1-\beta_2^t) g^2`.

    Summed in closed form by sympy from the explicit sums.
    """
    k = sp.Symbol("k", integer=True, positive=True)
    mt = sp.simplify((1 - beta1) * sp.summation(g * beta1 ** (t - k), (k, 1, t)))
    vt = sp.simplify((1 - beta2) * sp.summation(g**2 * beta2 ** (t - k), (k, 1, t)))
    return mt, vt


@lru_cache(maxsize=None)  # sympy expressions are immutable; simplification is the slow part
def no_bias_correction_gain():
    r"""Step of Eq. (5) (no bias correction) over Algorithm 1's, under a constant gradient with :math:`\epsilon = 0`:
    :math:`(1-\beta_1^t)/\sqrt{1-\beta_2^t}`, the reciprocal of :func:`bias_factor`."""
    mt, vt = constant_gradient_moments()
    eq5 = -eta * mt / sp.sqrt(vt)
    alg = algorithm1_update().subs({m: mt, v: vt, eps: 0})
    return simplify_positive(sp.simplify(eq5 / alg))


@lru_cache(maxsize=None)  # sympy expressions are immutable; simplification is the slow part
def negligible_bias_time():
    r"""The :math:`t` at which :math:`\sqrt{1-\beta_2^t} = 1-\delta`, solved by sympy:
    :math:`t = \log(\delta(2-\delta))/\log\beta_2`.

    Past it (and once :math:`\beta_1^t \ll \delta`) the factor is within
    :math:`\delta` of 1, since :math:`\beta_2^t` dominates at the defaults.
    """
    sols = sp.solve(sp.Eq(sp.sqrt(1 - beta2**t), 1 - delta), t)
    if len(sols) != 1:
        raise RuntimeError(f"expected one solution, got {sols}")
    return sp.simplify(sols[0])


def first_negligible_step(tol, b1=0.9, b2=0.999, horizon: int | None = None) -> int:
    r"""The smallest :math:`T` with :math:`|\sqrt{1-\beta_2^t}/(1-\beta_1^t) - 1| \le` ``tol`` for every :math:`t \ge T`.

    Evaluated exactly on :math:`t = 1..` ``horizon`` (default: ten times the
    closed-form time of :func:`negligible_bias_time`, beyond which the factor
    only approaches 1).
    """
    tol = scalar_positive("tol", tol)
    if tol >= 1:
        raise ValueError(f"tol must lie in (0, 1), got {tol!r}")
    b1, b2 = scalar_beta("b1", b1), scalar_beta("b2", b2)
    if horizon is None:
        guess = np.log(tol * (2 - tol)) / np.log(b2) if b2 > 0 else 1.0
        horizon = int(10 * max(guess, np.log(tol / 2) / np.log(b1) if b1 > 0 else 1.0, 10.0))
    horizon = check_int("horizon", horizon, 1)
    tt = np.arange(1, horizon + 1)
    f = np.sqrt(1 - b2**tt) / (1 - b1**tt)
    bad = np.flatnonzero(np.abs(f - 1) > tol)
    return 1 if bad.size == 0 else int(tt[bad[-1]] + 1)


def simulated_bias_factor(T: int, b1=0.9, b2=0.999) -> np.ndarray:
    """The factor measured from the library: Adam's step with bias correction over its step without,
    under a constant unit gradient and ``eps = 0`` (steps 1..T)."""
    from .optimizers import adam, updates_from_gradients

    b1, b2 = scalar_beta("b1", b1), scalar_beta("b2", b2)
    G = np.ones((check_int("T", T, 1), 2))  # two runs side by side: with and without bias correction
    u = updates_from_gradients(adam(1.0, b1, b2, 0.0, bias_correction=[True, False]), G)
    return u[:, 0] / u[:, 1]


# ------------------------------------------------------------------ AdaGrad and RMSProp, as printed and corrected

def adagrad_update_printed():
    r"""Kaiser's Eq. (2) as printed: :math:`-\eta\, g / S` with :math:`S = \sum_i g_i^2` (no root, no epsilon)."""
    return -eta * g / _S


def adagrad_update_corrected():
    r"""AdaGrad (Duchi et al. 2011, diagonal form): :math:`-\eta\, g / (\sqrt{S} + \epsilon)`."""
    return -eta * g / (sp.sqrt(_S) + eps)


def loss_scale_ratio(update, epsilon=None):
    r"""How an update changes when the loss is multiplied by :math:`c>0`: gradients scale by :math:`c`,
    sums of squares by :math:`c^2`.  Returns update(scaled)/update, simplified (``epsilon`` substituted if given)."""
    update = _sympy("update", update)
    if update == 0:
        raise ValueError("update must be a non-zero sympy expression (the ratio divides by it)")
    u = update if epsilon is None else update.subs(eps, _sympy("epsilon", epsilon))
    scaled = u.subs({g: c * g, _S: c**2 * _S, m: c * m, v: c**2 * v}, simultaneous=True)
    return sp.simplify(scaled / u)


def rmsprop_fixed_point_printed():
    r"""Under a constant gradient, the fixed point of Eq. (3) as printed,
    :math:`\sigma^2 = \beta_2\sigma^2 + (1-\beta_1) g^2`: :math:`\sigma^2 = \frac{1-\beta_1}{1-\beta_2} g^2`."""
    s2 = sp.Symbol("sigma2", positive=True)
    return sp.solve(sp.Eq(s2, beta2 * s2 + (1 - beta1) * g**2), s2)[0]


def rmsprop_fixed_point_corrected():
    r"""The fixed point of the corrected recursion :math:`\sigma^2 = \beta_2\sigma^2 + (1-\beta_2) g^2`: :math:`g^2`."""
    s2 = sp.Symbol("sigma2", positive=True)
    return sp.solve(sp.Eq(s2, beta2 * s2 + (1 - beta2) * g**2), s2)[0]


@lru_cache(maxsize=None)  # sympy expressions are immutable; simplification is the slow part
def rmsprop_printed_step_ratio():
    r"""Long-run step of Eq. (3) as printed over RMSProp's (:math:`\epsilon = 0`): :math:`\sqrt{(1-\beta_2)/(1-\beta_1)}`."""
    return sp.simplify(sp.sqrt(rmsprop_fixed_point_corrected() / rmsprop_fixed_point_printed()))


@lru_cache(maxsize=None)  # sympy expressions are immutable; simplification is the slow part
def algorithm1_scale_ratio():
    r"""Algorithm 1's step with the loss scaled by :math:`c` over its step at :math:`c = 1`:
    :math:`(\sqrt{\hat v_t}+\epsilon)/(\sqrt{\hat v_t}+\epsilon/c)`, which is 1 at :math:`\epsilon = 0`."""
    return simplify_positive(loss_scale_ratio(algorithm1_update()))


# ------------------------------------------------------------------ Eq. (4) as an iteration

def eq4_path(grad, x0, steps: int, lr=1e-3, b1=0.9, b2=0.999, epsilon=1e-8) -> np.ndarray:
    r"""Iterate Kaiser's Eq. (4) literally and return :math:`w_1, \dots, w_{T+1}`, shape ``(steps+1, runs, dim)``.

    Eq. (4) computes :math:`w_{t+1}` from :math:`\nabla f(w_t)` with the
    moments and bias factors of step :math:`t`; it cannot start at
    :math:`t = 0` (the factor is :math:`0/0`), so the start is :math:`w_1 = x_0`
    and :math:`w_{t+1}` corresponds to Algorithm 1's :math:`\theta_t`.

    Parameters
    ----------
    grad : callable
        Maps ``(runs, dim)`` to ``(runs, dim)`` (a landscape's ``grad``).
    """
    check_callable("grad", grad)
    w = check_points("x0", x0)
    steps = check_int("steps", steps, 0)
    lr = scalar_positive("lr", lr)
    b1, b2 = scalar_beta("b1", b1), scalar_beta("b2", b2)
    epsilon = scalar_nonnegative("epsilon", epsilon)
    gm = np.zeros_like(w)  # Kaiser's g_t (first moment)
    s2 = np.zeros_like(w)  # Kaiser's sigma_t^2
    out = np.empty((steps + 1,) + w.shape)
    out[0] = w
    for k in range(1, steps + 1):
        d = np.asarray(grad(w), dtype=float)
        gm = b1 * gm + (1 - b1) * d
        s2 = b2 * s2 + (1 - b2) * d * d
        e_hat = epsilon * np.sqrt(1 - b2**k)
        w = w - lr * gm / (np.sqrt(s2) + e_hat) * np.sqrt(1 - b2**k) / (1 - b1**k)
        out[k] = w
    return out


@memoised
def eq4_check(steps: int = 10_000, x0=(1.0, 1.0), lr=1e-3, b1=0.9, b2=0.999, epsilon=1e-8, n_random: int = 100_000,
              seed: int = 0) -> dict:
    r"""The preliminaries chapter's two numerical checks that Eq. (4) is Algorithm 1.

    1. Both sympy formulas evaluated at ``n_random`` seeded random points :math:`(t, m_t, v_t, \beta_1,
       \beta_2, \epsilon)` (:math:`v_t` log-normal over many decades).
    2. :func:`eq4_path` beside the library's Adam for ``steps`` steps on the smooth valley from ``x0``.

    Returns a dict: ``rel_formula`` (largest relative difference of the formulas), ``abs_path`` (largest
    absolute difference of the paths), ``rel_path_early`` (largest relative difference while every
    coordinate is above 1e-3), ``rel_path`` (over the whole run) and ``smallest`` (the smallest coordinate).
    """
    from . import landscapes as L
    from .optimizers import adam, run

    steps = check_int("steps", steps, 1)
    n_random = check_int("n_random", n_random, 1)
    check_points("x0", x0, 2)
    lr, epsilon = scalar_positive("lr", lr), scalar_nonnegative("epsilon", epsilon)
    b1, b2 = scalar_beta("b1", b1), scalar_beta("b2", b2)
    rng = np.random.default_rng(check_seed("seed", seed))
    args = (rng.integers(1, 10_000, n_random), rng.normal(size=n_random), rng.lognormal(-10, 6, n_random),
            rng.uniform(0, 0.999, n_random), rng.uniform(0, 0.9999, n_random), 10.0 ** rng.uniform(-12, -2, n_random),
            1.0)
    symbols = (t, m, v, beta1, beta2, eps, eta)
    a = sp.lambdify(symbols, algorithm1_update(), "numpy")(*args)
    b = sp.lambdify(symbols, eq4_update(), "numpy")(*args)
    valley = L.smooth_valley()
    alg = run(adam(lr=lr, beta1=b1, beta2=b2, eps=epsilon), valley, x0=x0, steps=steps).path
    lit = eq4_path(valley.grad, x0, steps, lr=lr, b1=b1, b2=b2, epsilon=epsilon)
    rel = np.abs(alg - lit) / np.abs(alg)
    smallest = np.abs(alg).min(axis=(1, 2))
    return {"rel_formula": float(np.max(np.abs(a - b) / np.abs(a))), "abs_path": float(np.max(np.abs(alg - lit))),
            "rel_path_early": float(rel[smallest > 1e-3].max()), "rel_path": float(rel.max()),
            "smallest": float(smallest.min()), "steps": steps, "n_random": n_random}


# ------------------------------------------------------------------ the ledger

def _fmt(x, digits=3):
    return f"{x:.{digits}g}"
