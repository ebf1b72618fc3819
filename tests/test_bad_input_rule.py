"""Bad input to the modules of the update rule (issue 14): refused with a ValueError that names the
parameter, or handled; and no RuntimeWarning on any input that is accepted."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from adamdyn import correlated_noise as CN
from adamdyn import kadam as K
from adamdyn import landscapes as L
from adamdyn import noise as N
from adamdyn import noisy_step as NS
from adamdyn import stochastic_adam as SA
from adamdyn import vector_field as V
from adamdyn import vector_field_ergodic as VE
from adamdyn.stability import closed_loop_updates
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

X, P = np.array([-1.0, 9.0]), np.array([0.9, 0.1])


def refused(name, call):
    with pytest.raises(ValueError, match=name):
        call()


# ------------------------------------------------------------------ the probe's cases
@pytest.mark.parametrize("indices, why", [
    (np.full((4, 10), 5), "an index past the law's values"),
    (np.full((4, 10), -1), "a negative index"),
    (np.zeros((4, 3), int), "too short for the burn-in"),
    (np.zeros(10, int), "one-dimensional"),
    (np.full((4, 10), 0.5), "not integers"),
])
def test_field_ergodic_checks_indices_before_the_kernel(indices, why):
    refused("indices", lambda: VE.field_ergodic(X, P, 0.5, 0.5, steps=5, replicas=4, indices=indices))


def test_field_ergodic_accepts_indices_of_the_documented_shape():
    K_ = V.truncation_length(0.5, 0.5)
    r = VE.field_ergodic(X, P, 0.5, 0.5, steps=5, replicas=4, indices=np.ones((4, K_ + 5), int))
    assert np.isfinite(r.value)


def test_kadam_refuses_switches_that_are_not_booleans():
    refused("bias_correction", lambda: K.kadam(bias_correction="no"))
    refused("bias_correction", lambda: K.kadam(k=2, bias_correction=(True, "yes")))
    assert K.kadam(bias_correction=np.bool_(False)).bias_correction == (False, False)


def test_run_kadam_refuses_wrong_dimensions():
    refused("x0", lambda: K.run_kadam(K.kadam(), L.quartic(), [1.0, 2.0, 3.0], 5))
    refused("x0", lambda: K.run_kadam(K.kadam(), L.quartic(), np.ones((2, 2, 2)), 5))
    refused("grad", lambda: K.run_kadam(K.kadam(), lambda x: x[:, :1], [1.0, 2.0], 5))
    refused("runs", lambda: K.run_kadam(K.kadam(lr=[0.1, 0.2, 0.3]), L.quartic(), np.ones((2, 2)), 5))


def test_noise_helpers_check_their_ranges():
    refused("T", lambda: N.first_moment_variance(0.9, 0))
    refused("T", lambda: N.first_moment_variance(0.9, [1, 2.5]))
    refused("beta2", lambda: N.second_moment_mean(1.5, 3))
    refused("beta2", lambda: N.second_moment_variance(-0.1, 3))
    refused("T_values", lambda: N.monte_carlo_moments(T_values=[2.5]))
    refused("T_values", lambda: N.monte_carlo_moments(T_values=[0, 3]))
    refused("n_paths", lambda: N.noisy_quadratic_lag(n_paths=0))
    refused("sigma", lambda: N.noise_free_phase([1.0, 2.0], [1.0, 2.0], 0.0))
    refused("T_values", lambda: CN.ar1_monte_carlo(T_values=[1.5]))
    refused("T", lambda: CN.ar1_first_moment_variance(0.9, 0.5, 0))


def test_step_sizes_refuse_negative_steps():
    refused("n", lambda: SA.step_sizes([-1, 2], 0.1, 1.0, 10.0))
    refused("n", lambda: SA.step_sizes(np.nan, 0.1, 1.0, 10.0))
    refused("n", lambda: SA.step_sizes("3", 0.1, 1.0, 10.0))
    assert SA.step_sizes(0, 0.1, 1.0, 10.0) == 0.1


def test_least_squares_adam_refuses_bad_switches_and_seeds():
    A, y = np.ones((2, 1)), X
    refused("bias_correction", lambda: SA.adam_least_squares(A, y, [0.0], 5, bias_correction="no"))
    refused("chunk", lambda: SA.adam_least_squares(A, y, [0.0], 5, chunk=0))


def test_field_series_refuses_nan_probabilities():
    refused("probs", lambda: V.field_series(X, [np.nan, 1.0]))
    refused("probs", lambda: VE.field_ergodic(X, [np.inf, 0.1], steps=5, replicas=2))
    refused("values", lambda: VE.field_ergodic([np.nan, 1.0], P, steps=5, replicas=2))


@pytest.mark.parametrize("scale", [1e154, 1e300, 1e-200, 1e-300])
def test_field_series_is_scale_invariant_at_eps_zero(scale):
    # h(cG) = h(G) for eps = 0: huge and tiny laws are rescaled (by a power of two) first
    ref = V.field_series(X + 0.1, P, 0.9, 0.99)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = V.field_series((X + 0.1) * scale, P, 0.9, 0.99)
    assert np.isfinite(r.error) and r.error < 1e-6
    assert abs(r.value - ref.value) <= r.error + ref.error


def test_field_series_with_eps_and_huge_gradients_matches_the_rescaled_eps():
    # inside the root, h(cG; eps) = h(G; eps/c^2): eps = 1e-8 at c = 2^512 is eps = 0 at c = 1
    c = 2.0**512
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = V.field_series(X * c, P, 0.9, 0.99, eps=1e-8)
    ref = V.field_series(X, P, 0.9, 0.99, eps=0.0)
    assert abs(r.value - ref.value) <= r.error + ref.error


@pytest.mark.parametrize("seed", ["0", 1.5, -1, 2 + 0j, None, True])
def test_seeds_must_be_nonnegative_integers(seed):
    refused("seed", lambda: SA.adam_least_squares(np.ones((2, 1)), X, [0.0], 5, seed=seed))
    refused("seed", lambda: VE.field_ergodic(X, P, steps=5, replicas=2, seed=seed))
    refused("seed", lambda: N.monte_carlo_moments(T_values=(1,), n_paths=4, seed=seed))
    refused("seed", lambda: N.ramp_monte_carlo(steps=3, n_paths=4, seed=seed))
    refused("seed", lambda: N.noisy_quadratic_lag(steps=3, n_paths=4, seed=seed))
    refused("seed", lambda: CN.ar1_monte_carlo(T_values=(1,), n_paths=4, seed=seed))
    refused("seed", lambda: NS.monte_carlo_steps([0.5], steps=3, n_paths=4, seed=seed))
    refused("seed", lambda: K.compare_k([1], [1.0], 0.1, 20, [0.1], 2, seed=seed))


def test_closed_loop_updates_checks_its_switches():
    refused("bias_correction", lambda: closed_loop_updates(L.quartic(), [1.0, 1.0], 0.9, 0.999, 1e-2, 5,
                                                           bias_correction="no"))
    refused("burst", lambda: closed_loop_updates(L.quartic(), [1.0, 1.0], 0.9, 0.999, 1e-2, 5, burst=0))


# ------------------------------------------------------------------ no RuntimeWarning on accepted input
_real = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, -0.0, 1e-300, 1e300, 1e154]))
_beta = st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, 0.999999, 1.0]))
# the field's series and chain take ~log(1e-13)/log(beta) terms: keep those betas moderate (speed only)
_beta_field = st.one_of(st.floats(0.0, 0.95), st.sampled_from([0.0, 1.0, -0.1]))
_int = st.integers(-2, 6)

_CALLS = {
    "first_moment_variance": (lambda b, x, n: N.first_moment_variance(b, n, x), (_beta, _real, _int)),
    "first_moment_variance_bc": (lambda b, x, n: N.first_moment_variance(b, n, x, True), (_beta, _real, _int)),
    "second_moment_mean": (lambda b, x, n: N.second_moment_mean(b, n, 1.0, x), (_beta, _real, _int)),
    "second_moment_variance": (lambda b, x, n: N.second_moment_variance(b, n, x, 1.0), (_beta, _real, _int)),
    "first_moment_variance_limit": (lambda b, x, n: N.first_moment_variance_limit(b, x), (_beta, _real, _int)),
    "monte_carlo_moments": (lambda b, x, n: N.monte_carlo_moments(b, b, (1, max(n, 1)), 3, x, x), (_beta, _real, _int)),
    "ramp_monte_carlo": (lambda b, x, n: N.ramp_monte_carlo(b, n, x, x, 1.0, 3), (_beta, _real, _int)),
    "noisy_quadratic_lag": (lambda b, x, n: N.noisy_quadratic_lag(b, b, x, n, 1.0, 3), (_beta, _real, _int)),
    "ar1_first_moment_variance": (lambda b, x, n: CN.ar1_first_moment_variance(b, 0.5, n, x), (_beta, _real, _int)),
    "step_sizes": (lambda b, x, n: SA.step_sizes(n, x, b, x), (_beta, _real, _int)),
    "adam_least_squares": (lambda b, x, n: SA.adam_least_squares(np.ones((2, 1)), [x, 1.0], [0.0], n, gamma=x,
                                                                  beta1=b, beta2=b, runs=2, record_every=1),
                           (_beta, _real, _int)),
    "field_series": (lambda b, x, n: V.field_series([x, 1.0], [0.5, 0.5], b, b, error=True),
                     (_beta_field, _real, _int)),
    "field_series_outside": (lambda b, x, n: V.field_series([x, -1.0], [0.5, 0.5], b, 0.5, eps=1e-8,
                                                             eps_placement="outside"), (_beta_field, _real, _int)),
    "field_ergodic": (lambda b, x, n: VE.field_ergodic([x, 1.0], [0.5, 0.5], b, b, steps=max(n, 1) * 5, replicas=2),
                      (_beta_field, _real, _int)),
    "kadam": (lambda b, x, n: K.run_kadam(K.kadam(lr=x, k=max(n, 1), beta1=b), L.quartic(), [1.0, x], 5),
              (_beta, _real, _int)),
}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(_CALLS)), st.data())
def test_no_runtime_warning_on_accepted_input(name, data):
    call, strategies = _CALLS[name]
    args = [data.draw(s) for s in strategies]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            call(*args)
        except ValueError:
            pass                                  # refused, with a message: fine
