r"""Discrete algorithms beside Adam's ODE: the poster's algorithm (4), Kingma & Ba's Adam, the Euler scheme (3).

With step :math:`s` and :math:`\beta_i = e^{-s/\alpha_i}` the poster's algorithm (4) is the forward
Euler scheme (3) of the system (2) of :mod:`adamdyn.ode` with Adam's coefficients
(:func:`euler_identity` checks the identity in sympy).  The functions here run (4), Kingma & Ba's
Adam and the Euler scheme of any coefficient family, measure their distance to the ODE's solutions
(:func:`discretization_errors`) and to the library's optimizers (:func:`family_gaps`), and test the
poster's conclusion that Adam beats gradient descent (:func:`gd_against_adam`).

Every step below is composed of the pieces of the one update rule (:mod:`adamdyn.update_rule`,
its NumPy binding): the algorithms differ only in their coefficients (the poster's :math:`\mu_k,
\nu_k`, the Euler scheme's :math:`1 - s\,r(t)`, ...), never in how a moment or a step is formed.
:func:`kingma_adam` therefore takes exactly the operations of :func:`adamdyn.run` with
:func:`adamdyn.adam` (running powers for :math:`\beta_i^t`), and :func:`family_gaps` measures
the Euler scheme against the library's optimizers.

References
----------
A. Belotto da Silva, M. Gazeau, "A general system of differential equations to model first order
adaptive algorithms", JMLR 21 (2020).  D. P. Kingma, J. Ba, "Adam", ICLR 2015.
"""

from __future__ import annotations

import functools

import numpy as np
import sympy as sp

from .ode import (
    Coefficients,
    adagrad_coefficients,
    heavy_ball_coefficients,
    rmsprop_coefficients,
    solve_adam,
)
from .update_rule import numpy_rule as _rule
from .validation import (
    check_betas,
    check_int,
    check_positive,
    check_vector,
    scalar_nonnegative,
    scalar_positive,
)

__all__ = [
    "ReferenceRun", "euler_identity", "poster_adam", "kingma_adam", "forward_euler", "loglog_slope", "discretization_errors",
    "family_gaps", "steps_to_tolerance", "gd_against_adam", "conclusion_verdict",
]


def euler_identity():
    r"""Sympy check of :math:`s\,g_i^A((k+1)s, \lambda=s) = 1 - \mu_{k+1}` with :math:`\beta_i=e^{-s/\alpha_i}`.

    Returns
    -------
    dict
        ``lhs`` (:math:`s g^A((k+1)s)` rewritten in :math:`\beta`), ``rhs``
        (:math:`1-\mu_{k+1}`, :math:`\mu_k = \beta(1-\beta^{k-1})/(1-\beta^k)`) and ``difference``
        (simplified; zero when the identity holds), and the symbols.
    """
    s, alpha = sp.symbols("s alpha", positive=True)
    k = sp.Symbol("k", integer=True, nonnegative=True)
    b = sp.Symbol("beta", positive=True)
    lam = s
    g = (1 - sp.exp(-lam / alpha)) / (lam * (1 - sp.exp(-(k + 1) * s / alpha)))
    # beta = exp(-s/alpha) <=> alpha = s / log(1/beta)
    lhs = sp.powsimp(sp.expand_log(sp.simplify((s * g).subs(alpha, s / sp.log(1 / b))), force=True), force=True)
    lhs = sp.simplify(lhs)
    mu = lambda n: b * (1 - b ** (n - 1)) / (1 - b**n)
    rhs = sp.simplify(1 - mu(k + 1))
    return dict(lhs=lhs, rhs=rhs, difference=sp.simplify(lhs - rhs), k=k, beta=b, s=s, mu=mu)


def _check_run(beta1, beta2, s, eps, steps):
    b1, b2 = (float(b) for b in check_betas(beta1, beta2, positive=True))
    s = scalar_positive("s", s)
    eps = scalar_positive("eps", eps)
    steps = check_int("steps", steps, minimum=1)
    return b1, b2, s, eps, steps


#: Where a run counts as diverged: :data:`adamdyn.optimizers.DIVERGENCE_LIMIT` (not imported, so that
#: this module does not load the compiled kernels).
DIVERGENCE_LIMIT = 1e150


def _diverged(theta, m, v):
    if theta.size <= _SHORT:
        # checked after every step of runs in a few dimensions, where comparing Python floats
        # costs a fraction of three NumPy reductions; a NaN fails its comparison (diverged)
        lim = DIVERGENCE_LIMIT
        return not (all(abs(x) <= lim for x in theta.tolist()) and all(abs(x) <= lim for x in m.tolist())
                    and all(x <= lim for x in v.tolist()))
    # one reduction per array: a max is NaN (and the comparison False) if any entry is NaN
    return not (np.max(np.abs(theta)) <= DIVERGENCE_LIMIT and np.max(np.abs(m)) <= DIVERGENCE_LIMIT
                and np.max(v) <= DIVERGENCE_LIMIT)


#: States up to this many coordinates are checked by :func:`_diverged` in plain Python.
_SHORT = 16


class ReferenceRun(tuple):
    """``(theta, m, v)`` of one run of a reference algorithm, each of shape (steps + 1, d).

    Unpacks as the three arrays.  ``diverged`` says whether the state (:math:`\theta`, :math:`m` or
    :math:`v`) left :math:`[-10^{150}, 10^{150}]` (or became non-finite); ``diverged_at`` is the first such step
    (-1 if none).  A diverged run is frozen: the rows from ``diverged_at`` on repeat the last
    finite state, as :func:`adamdyn.run` freezes a diverged run.
    """

    def __new__(cls, theta, m, v, diverged_at=-1):
        run = super().__new__(cls, (theta, m, v))
        run.diverged_at = int(diverged_at)
        return run

    @property
    def diverged(self) -> bool:
        return self.diverged_at >= 0


def _quiet(algorithm):
    """Run ``algorithm`` without floating-point warnings: a diverging run overflows, and is flagged
    and frozen instead (a warning per step would flood the output)."""

    @functools.wraps(algorithm)
    def quiet(*args, **kwargs):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return algorithm(*args, **kwargs)

    return quiet


def _freeze(arrays, k):
    """Rows k + 1 on of each array repeat row k (the last finite state)."""
    for a in arrays:
        a[k + 1:] = a[k]


@_quiet
def poster_adam(grad, theta0, beta1, beta2, s, steps, *, eps=1e-8):
    r"""The poster's algorithm (4).

    .. math::

        \theta_{k+1} = \theta_k - s\,m_k/\sqrt{v_k+\varepsilon},\quad g_{k+1} = \nabla f(\theta_{k+1}),\\
        m_{k+1} = \mu_{k+2} m_k + (1-\mu_{k+2}) g_{k+1},\quad
        v_{k+1} = \nu_{k+2} v_k + (1-\nu_{k+2}) g_{k+1}^2,

    :math:`\mu_k = \beta_1(1-\beta_1^{k-1})/(1-\beta_1^k)`, :math:`\nu_k` likewise with
    :math:`\beta_2`, :math:`m_0 = \nabla f(\theta_0)`, :math:`v_0 = \nabla f(\theta_0)^2`.

    Returns
    -------
    ReferenceRun
        ``theta, m, v`` of shape (steps + 1, d); row :math:`k` is the state after :math:`k`
        steps.  A diverging run is flagged (``diverged``, ``diverged_at``) and frozen at its
        last finite state (never NaNs, never an exception).
    """
    b1, b2, s, eps, steps = _check_run(beta1, beta2, s, eps, steps)
    theta = check_vector("theta0", theta0)
    d = theta.size
    TH, M, V = (np.empty((steps + 1, d)) for _ in range(3))
    m = np.asarray(grad(theta), dtype=float)
    v = m**2
    TH[0], M[0], V[0] = theta, m, v
    for k in range(steps):
        n = k + 2
        mu = b1 * -np.expm1((n - 1) * np.log(b1)) / -np.expm1(n * np.log(b1))
        nu = b2 * -np.expm1((n - 1) * np.log(b2)) / -np.expm1(n * np.log(b2))
        theta = _rule.decayed_step(theta, s, 0.0, _rule.direction(m, _rule.denominator(v, eps, True)))
        g = np.asarray(grad(theta), dtype=float)
        m = _rule.first_moment(m, g, mu, 1 - mu)
        v = _rule.second_moment(v, g, nu, 1 - nu)
        if _diverged(theta, m, v):
            _freeze((TH, M, V), k)
            return ReferenceRun(TH, M, V, k + 1)
        TH[k + 1], M[k + 1], V[k + 1] = theta, m, v
    return ReferenceRun(TH, M, V)


@_quiet
def kingma_adam(grad, theta0, beta1, beta2, s, steps, *, eps=1e-8, eps_inside=False, return_diverged=False):
    r"""Kingma & Ba's Adam (bias-corrected, :math:`m_0 = v_0 = 0`), positions only, shape (steps+1, d).

    A diverging run (state outside :math:`[-10^{150}, 10^{150}]` or non-finite) is frozen at its
    last finite position; ``return_diverged=True`` returns ``(positions, diverged_at)``, the first
    such step or -1, as the flag.

    :math:`\theta_t = \theta_{t-1} - s\,\hat m_t/(\sqrt{\hat v_t}+\varepsilon)`; with
    ``eps_inside=True`` the denominator is :math:`\sqrt{\hat v_t+\varepsilon}`.  Same loop as
    :func:`poster_adam`, so the two differ only where the algorithms do.
    """
    b1, b2, s, eps, steps = _check_run(beta1, beta2, s, eps, steps)
    theta = check_vector("theta0", theta0)
    TH = np.empty((steps + 1, theta.size))
    TH[0] = theta
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    p1 = p2 = 1.0
    for t in range(1, steps + 1):
        g = np.asarray(grad(theta), dtype=float)
        m = _rule.first_moment(m, g, b1, 1.0 - b1)
        v = _rule.second_moment(v, g, b2, 1.0 - b2)
        p1, p2 = _rule.advance_power(p1, b1), _rule.advance_power(p2, b2)
        mh = _rule.debias(m, _rule.bias_denominator(p1, True))
        vh = _rule.debias(v, _rule.bias_denominator(p2, True))
        u = _rule.direction(mh, _rule.denominator(vh, eps, bool(eps_inside)))
        theta = _rule.decayed_step(theta, s, 0.0, u)
        if _diverged(theta, m, v):
            _freeze((TH,), t - 1)
            return (TH, t) if return_diverged else TH
        TH[t] = theta
    return (TH, -1) if return_diverged else TH


@_quiet
def forward_euler(coeffs: Coefficients, grad, theta0, m0, v0, s, steps, *, t_start=0.0, eps=1e-8,
                  gradient_at="new"):
    r"""The Euler scheme (3) of (2) with step ``s`` on the grid :math:`t_k = t_{start} + ks`.

    The poster's grid is ``t_start = 0`` (coefficients at :math:`t_{k+1} = (k+1)s`).
    ``gradient_at="new"`` is the poster's scheme: :math:`m_{k+1}, v_{k+1}` use
    :math:`\nabla f(\theta_{k+1})`, the gradient at the point just computed, so the scheme is
    semi-implicit (explicit in :math:`\theta`, then in :math:`m, v` with the new :math:`\theta`).
    ``gradient_at="old"`` is plain forward Euler, :math:`\nabla f(\theta_k)` throughout.
    Returns a :class:`ReferenceRun` (``theta, m, v`` of shape (steps + 1, d)); a diverging run is
    flagged and frozen at its last finite state.
    """
    if gradient_at not in ("new", "old"):
        raise ValueError(f"gradient_at must be 'new' or 'old', got {gradient_at!r}")
    s = scalar_positive("s", s)
    eps = scalar_positive("eps", eps)
    steps = check_int("steps", steps, minimum=1)
    t_start = scalar_nonnegative("t_start", t_start)
    theta, m, v = (check_vector(n, x).copy() for n, x in (("theta0", theta0), ("m0", m0), ("v0", v0)))
    d = theta.size
    TH, M, V = (np.empty((steps + 1, d)) for _ in range(3))
    TH[0], M[0], V[0] = theta, m, v
    for k in range(steps):
        t = t_start + (k + 1) * s
        drive = grad(theta) if coeffs.m_is_gradient else m
        g_old = np.asarray(grad(theta), dtype=float) if gradient_at == "old" else None
        theta = _rule.decayed_step(theta, s, 0.0, _rule.direction(drive, _rule.denominator(v, eps, True)))
        g = np.asarray(grad(theta), dtype=float) if g_old is None else g_old
        if not coeffs.m_is_gradient:
            m = _rule.first_moment(m, g, 1 - s * coeffs.r(t), s * coeffs.h(t))
        v = _rule.second_moment(v, g, 1 - s * coeffs.q(t), s * coeffs.p(t))
        if _diverged(theta, m, v):
            _freeze((TH, M, V), k)
            return ReferenceRun(TH, M, V, k + 1)
        TH[k + 1], M[k + 1], V[k + 1] = theta, m, v
    return ReferenceRun(TH, M, V)


def loglog_slope(x, y):
    r"""Least-squares slope of :math:`\log y` against :math:`\log x` (a measured order or rate)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.size < 2 or np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("x and y must be positive arrays of the same shape with at least 2 entries")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def discretization_errors(grad, theta0, alpha1, alpha2, T, s_values, *, eps=1e-8, lam=None):
    r"""Largest gap :math:`\max_{ks\le T}\|\theta_k - \theta(ks)\|` between (4) and Adam's ODE, per step size.

    The :math:`\alpha_i` are held fixed and :math:`\beta_i = e^{-s/\alpha_i}`.  The ODE is the
    :math:`\lambda\to 0` limit (``lam=None``, coefficients :math:`1/(\alpha_i(1-e^{-t/\alpha_i}))`),
    solved once on the finest grid; or, with ``lam="s"``, the poster's ODE with :math:`\lambda = s`
    solved once per step size.  Every ``s`` must be an integer multiple of the smallest and divide ``T``.
    """
    s_values = np.asarray(s_values, dtype=float)
    check_positive("s_values", s_values)
    T = scalar_positive("T", T)
    s_min = s_values.min()
    ratios = s_values / s_min
    n_fine = T / s_min
    if np.any(np.abs(ratios - np.round(ratios)) > 1e-9) or abs(n_fine - round(n_fine)) > 1e-6:
        raise ValueError("s_values must be integer multiples of the smallest one, which must divide T")
    theta0 = check_vector("theta0", theta0)
    fine = np.arange(int(round(n_fine)) + 1) * s_min
    ref = None if lam == "s" else solve_adam(grad, theta0, alpha1, alpha2, T, lam=0.0, eps=eps, t_eval=fine)
    errors = []
    for s, ratio in zip(s_values, np.round(ratios).astype(int)):
        steps = int(round(T / s))
        theta, _, _ = poster_adam(grad, theta0, np.exp(-s / alpha1), np.exp(-s / alpha2), s, steps, eps=eps)
        if ref is None:
            sol = solve_adam(grad, theta0, alpha1, alpha2, T, lam=s, eps=eps, t_eval=np.arange(steps + 1) * s)
            path = sol.theta
        else:
            path = ref.theta[::ratio]
        errors.append(np.linalg.norm(theta - path, axis=1).max())
    return np.array(errors)


def family_gaps(landscape, theta0, s, steps, *, gamma=2.0, alpha2=5.0):
    r"""Forward Euler (3) of the heavy-ball, RMSProp and AdaGrad families against :mod:`adamdyn.optimizers`.

    The maps (ours), with :math:`g_k = \nabla f(\theta_k)`:

    * heavy ball, :math:`v \equiv 0`, :math:`\varepsilon = 1`: Euler is torch-style momentum
      with :math:`\mu = 1 - s\gamma`, learning rate :math:`s^2`, and :math:`m_0 = s\,g_0`
      (Euler's :math:`m_k/s` is torch's buffer);
    * RMSProp, :math:`p = q = \alpha_2`: RMSProp with :math:`\beta_2 = 1 - s\alpha_2`, learning
      rate :math:`s`, :math:`v_0 = (1-\beta_2) g_0^2` (the library's first accumulator);
    * AdaGrad, :math:`p = 1/s`, :math:`q = 0`: AdaGrad with learning rate :math:`s`,
      :math:`v_0 = g_0^2`.

    For the adaptive two :math:`\varepsilon` is :math:`10^{-300}` in Euler and 0 in the library,
    so the root is the same in floating point.

    Returns
    -------
    dict
        Method name to :math:`\max_k\|\theta_k^{Euler} - \theta_k^{library}\|`.
    """
    from . import optimizers as opt

    theta0 = check_vector("theta0", theta0)
    s = scalar_positive("s", s)
    steps = check_int("steps", steps, minimum=1)
    grad = landscape.grad
    g0 = np.asarray(grad(theta0), dtype=float)
    zero = np.zeros_like(theta0)
    tiny = 1e-300
    b2 = 1.0 - s * alpha2
    if not 0.0 < b2 < 1.0:
        raise ValueError(f"s * alpha2 must lie in (0, 1), got {s * alpha2!r}")
    cases = {
        "heavy ball": (heavy_ball_coefficients(gamma), s * g0, zero, 1.0, opt.momentum(lr=s * s, beta=1.0 - s * gamma)),
        "RMSProp": (rmsprop_coefficients(alpha2), zero, (1.0 - b2) * g0**2, tiny, opt.rmsprop(lr=s, beta2=b2, eps=0.0)),
        "AdaGrad": (adagrad_coefficients(1.0 / s), zero, g0**2, tiny, opt.adagrad(lr=s, eps=0.0)),
    }
    gaps = {}
    for name, (coeffs, m0, v0, eps, optimizer) in cases.items():
        theta, _, _ = forward_euler(coeffs, grad, theta0, m0, v0, s, steps, eps=eps)
        lib = opt.run(optimizer, landscape, x0=theta0, steps=steps).path[:, 0, :]
        gaps[name] = float(np.abs(theta - lib).max())
    return gaps


def steps_to_tolerance(values, f_star, rel_tol):
    r"""First recorded index where :math:`f - f_\star \le` ``rel_tol`` :math:`(f_0 - f_\star)`, per run (inf if never).

    ``values`` has shape (K, runs): :math:`f` along each run.
    """
    gap = np.asarray(values, float) - f_star
    hit = gap <= rel_tol * gap[0]
    first = np.argmax(hit, axis=0).astype(float)
    first[~hit.any(axis=0)] = np.inf
    return first


def gd_against_adam(landscape, x0, f_star, lrs, steps, *, rel_tol=1e-6, beta1=0.9, beta2=0.999, eps=1e-8,
                    eps_inside=False):
    r"""Steps to reach a relative tolerance for gradient descent and Adam at each learning rate.

    One call of :func:`adamdyn.run` advances GD and Adam (bias-corrected, Kingma & Ba; with
    ``eps_inside`` the poster's :math:`\sqrt{\hat v+\varepsilon}`) at every rate of ``lrs``.
    Diverged runs count as never reaching the tolerance.

    Returns
    -------
    dict
        ``gd``, ``adam``: steps to tolerance per learning rate (inf if not reached);
        ``gd_best``, ``adam_best``: the tuned (smallest) counts and ``gd_lr``, ``adam_lr`` where.
    """
    from .optimizers import adam, combine, run, sgd

    lrs = check_positive("lrs", lrs)
    steps = check_int("steps", steps, minimum=2)
    opt = combine(sgd(lr=lrs), adam(lr=lrs, beta1=beta1, beta2=beta2, eps=eps, eps_inside=eps_inside))
    tr = run(opt, landscape, x0, steps)
    with np.errstate(over="ignore", invalid="ignore"):     # frozen diverged runs may overflow f
        f = np.asarray(landscape.value(tr.path), float)
    n = steps_to_tolerance(f, f_star, rel_tol)
    n[np.asarray(tr.diverged)] = np.inf
    gd, ad_ = n[: lrs.size], n[lrs.size:]
    return dict(gd=gd, adam=ad_, gd_best=float(gd.min()), adam_best=float(ad_.min()),
                gd_lr=float(lrs[np.argmin(gd)]), adam_lr=float(lrs[np.argmin(ad_)]))


def conclusion_verdict(holds) -> str:
    """'verified' if a claim holds in every case tried, 'not reproduced' if in none, else it depends on the setting."""
    holds = [bool(h) for h in holds]
    if not holds:
        raise ValueError("holds must not be empty")
    if all(holds):
        return "verified"
    if not any(holds):
        return "not reproduced"
    return "depends on an unstated setting"
