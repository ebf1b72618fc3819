r"""The book's generic update rule as optax gradient transformations.

The rule is the one of :mod:`adamdyn.optimizers`: its pieces are those of
:mod:`adamdyn.update_rule`, bound to ``jax.numpy`` (:func:`adamdyn.update_rule.jax_rule`), and
the functions here (:func:`moment_update`, :func:`squared_moment_update`, :func:`bias_correct`,
:func:`denominator`, :func:`normalised_direction`, :func:`add_decayed_weights`) only map them
over pytrees and select traced switches.  At step :math:`t = 1, 2, \dots`, per coordinate,

.. math::

    m_t = b_1 m_{t-1} + c_1 g_t,\quad v_t = b_2 v_{t-1} + c_2 g_t^2,\quad
    \hat m_t = \frac{m_t}{1 - b_1^t},\quad \hat v_t = \frac{v_t}{1 - b_2^t}\ \text{(if bias-corrected)},

.. math::

    u_t = \hat m_t / d_t,\quad d_t = \sqrt{\hat v_t} + \epsilon \ \text{or}\ \sqrt{\hat v_t + \epsilon}
    \ \text{(1 for non-adaptive methods)},\quad
    \Delta w_t = -\eta\,(u_t + \lambda w_{t-1}).

:func:`scale_by_generic` is one level of this rule; :func:`scale_by_kadam` applies the
normalisation :math:`k` times, feeding each level's direction to the next as its
"gradient" (the book's reading of Gould & Tanaka's k-Adam, :mod:`adamdyn.kadam`); with
``k = 1`` it runs exactly the operations of :func:`adam`.  Every optimizer below is
``chain(scale_by_..., [add_decayed_weights], scale_by_learning_rate)``, so a reader can use
it in any optax training loop, and every hyperparameter may be a traced array (a
``vmap`` over a grid).

Conventions (as :mod:`adamdyn.optimizers`; optax's equivalents, where they exist, are in
:data:`OPTAX_EQUIVALENTS`):

- momentum is torch's heavy ball :math:`m_t = \mu m_{t-1} + g_t`;
- AdaGrad's accumulator starts at 0 and its epsilon is outside the root;
- a zero denominator (every gradient so far zero) gives a zero step;
- decoupled weight decay multiplies by the learning rate, as in AdamW and optax;
- :math:`b^t` is one power of the step count (an optax state carries the count, not a running
  product), so bias corrections may differ from the compiled kernels' in the last bit; and the
  step is optax's increment :math:`-\eta(u + \lambda w)`, added by ``optax.apply_updates``.

References
----------
D. P. Kingma and J. Ba, "Adam: A method for stochastic optimization", ICLR 2015.
I. Loshchilov and F. Hutter, "Decoupled weight decay regularization", ICLR 2019.
DeepMind et al., "The DeepMind JAX ecosystem" (optax), 2020.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..update_rule import jax_rule
from ..validation import check_beta, check_int, check_nonnegative, check_positive

#: The pieces of the one update rule for jax.numpy arrays.
_rule = jax_rule()

__all__ = [
    "GenericState",
    "KAdamState",
    "moment_update",
    "squared_moment_update",
    "bias_correct",
    "denominator",
    "normalised_direction",
    "add_decayed_weights",
    "scale_by_generic",
    "scale_by_kadam",
    "sgd",
    "momentum",
    "adagrad",
    "rmsprop",
    "adam",
    "adamw",
    "kadam",
    "generic",
    "library_hparams",
    "moments_of",
    "OPTAX_EQUIVALENTS",
]


class GenericState(NamedTuple):
    """State of :func:`scale_by_generic`: the step count and the two moment pytrees."""

    count: jax.Array
    mu: optax.Updates
    nu: optax.Updates


class KAdamState(NamedTuple):
    """State of :func:`scale_by_kadam`: the step count and one (mu, nu) pair per level."""

    count: jax.Array
    mu: tuple
    nu: tuple


# ----------------------------------------------------------------------------- the pieces
def moment_update(moment, g, decay, weight):
    r""":math:`m_t = b\, m_{t-1} + c\, g_t` leaf by leaf (in this order, as the library kernel)."""
    return jax.tree.map(lambda m, x: _rule.first_moment(m, x, decay, weight), moment, g)


def squared_moment_update(moment, g, decay, weight):
    r""":math:`v_t = b\, v_{t-1} + (c\, g_t)\, g_t` leaf by leaf (the kernel's association)."""
    return jax.tree.map(lambda v, x: _rule.second_moment(v, x, decay, weight), moment, g)


def _static(flag):
    return isinstance(flag, (bool, np.bool_))


def bias_correct(moment, decay, count, on=True):
    r""":math:`\hat m_t = m_t / (1 - b^t)`, or :math:`m_t` where ``on`` is False (a bool or a traced flag)."""
    if _static(on) and not on:
        return moment
    dtype = jax.tree.leaves(moment)[0].dtype
    # a float power, one operation (a traced integer exponent would unroll into repeated squaring)
    power = jnp.power(jnp.asarray(decay, dtype), jnp.asarray(count, dtype))
    den = _rule.bias_denominator(power, on)
    return jax.tree.map(lambda m: _rule.debias(m, den), moment)


def denominator(vhat, eps, eps_inside=False):
    r""":math:`\sqrt{\hat v} + \epsilon` (Kingma & Ba) or :math:`\sqrt{\hat v + \epsilon}` (the ODE papers).

    ``eps_inside`` is a bool or a traced flag.
    """
    if _static(eps_inside):
        return jax.tree.map(lambda v: _rule.denominator(v, eps, bool(eps_inside)), vhat)
    return jax.tree.map(lambda v: jnp.where(eps_inside, _rule.denominator(v, eps, True),
                                            _rule.denominator(v, eps, False)), vhat)


def normalised_direction(mhat, den):
    r""":math:`u = \hat m / d`, with :math:`u = 0` where :math:`d = 0` (no gradient seen yet)."""
    return jax.tree.map(_rule.direction, mhat, den)


def add_decayed_weights(weight_decay):
    r"""Decoupled weight decay :math:`u \mapsto u + \lambda w` (multiplied by :math:`-\eta` afterwards)."""

    def update(updates, state, params=None):
        if params is None:
            raise ValueError("params must be passed to update() when weight_decay is used")
        return jax.tree.map(lambda u, w: u + weight_decay * w, updates, params), state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


def _level(mu, nu, g, count, b1, c1, b2, c2, eps, adaptive, eps_inside, bias1, bias2, norm):
    """One normalisation level: new moments and the direction (the rule of the module docstring)."""
    mu = moment_update(mu, g, b1, c1)
    mhat = bias_correct(mu, b1, count, bias1)
    if _static(adaptive) and not adaptive:
        return mhat, mu, nu
    if norm == "global":
        leaves = jax.tree.leaves(g)
        mean_sq = sum(jnp.sum(x * x) for x in leaves) / sum(x.size for x in leaves)
        nu = _rule.first_moment(nu, mean_sq, b2, c2)
        vhat = bias_correct(nu, b2, count, bias2)
        vhat = jax.tree.map(lambda m: jnp.broadcast_to(vhat, m.shape), mu)
    else:
        nu = squared_moment_update(nu, g, b2, c2)
        vhat = bias_correct(nu, b2, count, bias2)
    u = normalised_direction(mhat, denominator(vhat, eps, eps_inside))
    if not _static(adaptive):
        u = jax.tree.map(lambda a, m: jnp.where(adaptive, a, m), u, mhat)
    return u, mu, nu


# ----------------------------------------------------------------------------- transformations
def scale_by_generic(b1, c1, b2=0.0, c2=0.0, eps=0.0, *, adaptive=True, eps_inside=False,
                     bias_correction=(False, False)) -> optax.GradientTransformation:
    r"""One level of the generic rule: the direction :math:`u_t` (to be scaled by :math:`-\eta`).

    Parameters
    ----------
    b1, c1, b2, c2, eps : float or scalar array
        The coefficients of the module docstring (they may be traced, for ``vmap``).
    adaptive, eps_inside : bool or traced flag
        Divide by :math:`d_t` at all; put :math:`\epsilon` inside the root.
    bias_correction : (bool or traced flag, bool or traced flag)
        Switches for :math:`\hat m` and :math:`\hat v`.  Python bools select the operations
        when tracing; traced flags select the values with ``jnp.where`` (the same numbers), so
        that different optimizers can share one compiled, vmapped sweep (:func:`generic`).
    """
    bias1, bias2 = bias_correction

    def init(params):
        zeros = jax.tree.map(jnp.zeros_like, params)
        return GenericState(jnp.zeros([], jnp.int32), zeros, jax.tree.map(jnp.zeros_like, params))

    def update(updates, state, params=None):
        count = optax.safe_increment(state.count)
        u, mu, nu = _level(state.mu, state.nu, updates, count, b1, c1, b2, c2, eps, adaptive, eps_inside,
                           bias1, bias2, "coordinate")
        return u, GenericState(count, mu, nu)

    return optax.GradientTransformation(init, update)


def scale_by_kadam(k=2, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True, norm="coordinate"):
    r"""k-Adam's direction :math:`u^{(k)}_t` (:mod:`adamdyn.kadam`): Adam's normalisation applied k times.

    ``beta1``, ``beta2``, ``eps``, ``bias_correction`` and ``norm`` are scalars or sequences of
    length ``k``; ``norm`` is ``"coordinate"`` (Adam) or ``"global"`` (one second moment for the
    whole parameter vector, as a normalisation layer).  Level 1 is :func:`adam`'s level exactly.
    """
    k = int(check_int("k", k, 1))

    def per_level(name, value):
        vals = list(value) if isinstance(value, (list, tuple)) else [value] * k
        if len(vals) != k:
            raise ValueError(f"{name} must be a scalar or a sequence of length k={k}, got length {len(vals)}")
        return vals

    b1s, b2s, epss = per_level("beta1", beta1), per_level("beta2", beta2), per_level("eps", eps)
    bcs, norms = per_level("bias_correction", bias_correction), per_level("norm", norm)
    for s in norms:
        if s not in ("coordinate", "global"):
            raise ValueError(f"norm must be 'coordinate' or 'global', got {s!r}")

    def init(params):
        mu = tuple(jax.tree.map(jnp.zeros_like, params) for _ in range(k))
        nu = tuple(jnp.zeros([], jax.tree.leaves(params)[0].dtype) if s == "global"
                   else jax.tree.map(jnp.zeros_like, params) for s in norms)
        return KAdamState(jnp.zeros([], jnp.int32), mu, nu)

    def update(updates, state, params=None):
        count = optax.safe_increment(state.count)
        u, mus, nus = updates, [], []
        for j in range(k):
            u, mu, nu = _level(state.mu[j], state.nu[j], u, count, b1s[j], 1.0 - b1s[j], b2s[j], 1.0 - b2s[j],
                               epss[j], True, False, bool(bcs[j]), bool(bcs[j]), norms[j])
            mus.append(mu)
            nus.append(nu)
        return u, KAdamState(count, tuple(mus), tuple(nus))

    return optax.GradientTransformation(init, update)


def _finish(direction, lr, weight_decay=None):
    parts = [direction]
    if weight_decay is not None:
        parts.append(add_decayed_weights(weight_decay))
    parts.append(optax.scale_by_learning_rate(lr))
    return optax.chain(*parts)


def _check(**kw):
    # Python numbers are checked (a ValueError naming the parameter); traced arrays pass through.
    for name, (value, check) in kw.items():
        if isinstance(value, (int, float)):
            check(name, value)


def sgd(lr=1e-3):
    r"""Gradient descent :math:`\Delta w = -\eta g` (``optax.sgd(lr)``)."""
    _check(lr=(lr, check_positive))
    return _finish(scale_by_generic(0.0, 1.0, adaptive=False), lr)


def momentum(lr=1e-3, beta=0.9):
    r"""Heavy ball, torch's convention :math:`m_t = \mu m_{t-1} + g_t` (``optax.sgd(lr, momentum=beta)``)."""
    _check(lr=(lr, check_positive), beta=(beta, check_beta))
    return _finish(scale_by_generic(beta, 1.0, adaptive=False), lr)


def adagrad(lr=1e-2, eps=1e-10):
    r"""AdaGrad :math:`v_t = v_{t-1} + g_t^2`, :math:`u = g/(\sqrt{v} + \epsilon)` (no optax equivalent for eps > 0)."""
    _check(lr=(lr, check_positive), eps=(eps, check_nonnegative))
    return _finish(scale_by_generic(0.0, 1.0, 1.0, 1.0, eps), lr)


def rmsprop(lr=1e-2, beta2=0.99, eps=1e-8, eps_inside=False):
    r"""RMSProp :math:`v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2` (``optax.rmsprop(lr, beta2, eps, eps_in_sqrt=False)``)."""
    _check(lr=(lr, check_positive), beta2=(beta2, check_beta), eps=(eps, check_nonnegative))
    return _finish(scale_by_generic(0.0, 1.0, beta2, 1.0 - beta2, eps, eps_inside=eps_inside), lr)


def adam(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True, eps_inside=False):
    r"""Adam, Kingma & Ba's Algorithm 1 (``optax.adam(lr, beta1, beta2, eps)``).

    ``bias_correction=False`` is Kaiser's Eq. (5) (no optax equivalent); ``eps_inside=True`` is
    the ODE papers' :math:`\sqrt{\hat v + \epsilon}` (``optax.adam(lr, beta1, beta2, eps=0, eps_root=eps)``).
    """
    _check(lr=(lr, check_positive), beta1=(beta1, check_beta), beta2=(beta2, check_beta),
           eps=(eps, check_nonnegative))
    bc = bool(bias_correction)
    return _finish(scale_by_generic(beta1, 1.0 - beta1, beta2, 1.0 - beta2, eps, eps_inside=eps_inside,
                                    bias_correction=(bc, bc)), lr)


def adamw(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2, bias_correction=True, eps_inside=False):
    r"""AdamW: Adam plus decoupled weight decay :math:`-\eta\lambda w` (``optax.adamw(lr, beta1, beta2, eps, weight_decay=...)``)."""
    _check(lr=(lr, check_positive), beta1=(beta1, check_beta), beta2=(beta2, check_beta),
           eps=(eps, check_nonnegative), weight_decay=(weight_decay, check_nonnegative))
    bc = bool(bias_correction)
    return _finish(scale_by_generic(beta1, 1.0 - beta1, beta2, 1.0 - beta2, eps, eps_inside=eps_inside,
                                    bias_correction=(bc, bc)), lr, weight_decay)


def kadam(lr=1e-3, k=2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, bias_correction=True,
          norm="coordinate"):
    r"""k-Adam (:func:`scale_by_kadam`), then decoupled weight decay and the learning rate; ``k = 1`` is :func:`adamw`."""
    _check(lr=(lr, check_positive), weight_decay=(weight_decay, check_nonnegative))
    wd = None if isinstance(weight_decay, (int, float)) and weight_decay == 0 else weight_decay
    return _finish(scale_by_kadam(k, beta1, beta2, eps, bias_correction, norm), lr, wd)


def generic(lr, b1, c1, b2, c2, eps, weight_decay, eps_inside, bias1, bias2, adaptive):
    r"""The whole rule with every coefficient and switch as a (possibly traced) value.

    The arguments are the fields of :class:`adamdyn.Optimizer`; :func:`library_hparams` turns a
    batch of library optimizers (``adamdyn.combine(adamdyn.sgd(...), adamdyn.adam(...))``) into
    per-run arrays for :func:`adamdyn.networks.training.sweep`, so that SGD, AdaGrad and Adam at
    many learning rates train in one compiled call.  Switches are flags (> 0.5 means on).
    """
    flag = lambda x: x if _static(x) else jnp.asarray(x) > 0.5  # noqa: E731
    direction = scale_by_generic(b1, c1, b2, c2, eps, adaptive=flag(adaptive), eps_inside=flag(eps_inside),
                                 bias_correction=(flag(bias1), flag(bias2)))
    return _finish(direction, lr, weight_decay)


def library_hparams(optimizer) -> dict:
    """Per-run arrays of an :class:`adamdyn.Optimizer` batch, as keyword arguments of :func:`generic`."""
    from ..optimizers import _ARRAY_FIELDS, Optimizer

    if not isinstance(optimizer, Optimizer):
        raise ValueError("optimizer must be an adamdyn.Optimizer (e.g. adamdyn.combine(adamdyn.sgd(...), ...))")
    return {f: np.asarray(getattr(optimizer, f), float) for f in _ARRAY_FIELDS}


def moments_of(state):
    """The first-level ``(count, mu, nu)`` of an optimizer state built by this module."""
    for s in jax.tree.leaves(state, is_leaf=lambda x: isinstance(x, (GenericState, KAdamState))):
        if isinstance(s, GenericState):
            return s.count, s.mu, s.nu
        if isinstance(s, KAdamState):
            return s.count, s.mu[0], s.nu[0]
    raise ValueError("state holds no GenericState or KAdamState (was it built by adamdyn.networks.transforms?)")


#: The optax call that computes the same update (``None`` where optax has none), with the reason.
OPTAX_EQUIVALENTS = {
    "sgd": ("optax.sgd(lr)", ""),
    "momentum": ("optax.sgd(lr, momentum=beta)", ""),
    "adagrad": ("optax.adagrad(lr, initial_accumulator_value=0, eps=0)",
                "only for eps = 0: optax puts eps inside the root and multiplies by rsqrt"),
    "rmsprop": ("optax.rmsprop(lr, decay=beta2, eps=eps, eps_in_sqrt=False)", ""),
    "rmsprop, eps inside": ("optax.rmsprop(lr, decay=beta2, eps=eps)", "optax's default eps_in_sqrt=True"),
    "adam": ("optax.adam(lr, b1=beta1, b2=beta2, eps=eps)", ""),
    "adam, eps inside": ("optax.adam(lr, b1=beta1, b2=beta2, eps=0, eps_root=eps)", ""),
    "adam without bias correction": (None, "optax's adam always corrects the bias"),
    "adamw": ("optax.adamw(lr, b1=beta1, b2=beta2, eps=eps, weight_decay=weight_decay)", ""),
    "kadam (k >= 2)": (None, "the book's reading of Gould & Tanaka; k = 1 is adamw"),
}
