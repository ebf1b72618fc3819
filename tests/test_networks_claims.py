"""Part III's experiment modules: the laws and helpers their verdicts rest on, checked independently.

The chapters' full experiments run in the book build (and, memoised, in the ledger); these tests check
the pieces on small problems with answers known in advance.
"""

import numpy as np
import pytest

import adamdyn as ad
from adamdyn.networks import data, figure1, models, section3

import jax  # noqa: E402  (after adamdyn.networks)


def test_snr_law_limits():
    assert section3.snr_law(2.0, 0.0) == 1.0 and section3.snr_law(-2.0, 0.0) == -1.0
    assert section3.snr_law(0.0, 0.0) == 0.0
    assert abs(section3.snr_law(1e-3, 1.0) - 1e-3) < 1e-9


@pytest.mark.parametrize("ratio", [0.1, 0.5, 1.0, 3.0])
def test_snr_law_against_a_simulated_adam_stream(ratio):
    """Adam on i.i.d. Gaussian gradients N(mu, sigma^2): the mean step is close to mu/sqrt(mu^2 + sigma^2)."""
    rng = np.random.default_rng(0)
    mu, sigma = ratio, 1.0
    g = mu + sigma * rng.standard_normal((3000, 400))
    u = -ad.updates_from_gradients(ad.adam(1.0), g[:, None, :])[:, 0, :]
    mean_step = u[500:].mean()
    assert abs(mean_step - section3.snr_law(mu, sigma)) < 0.03


def test_rate_grid_is_centred_in_half_decades():
    g = figure1.rate_grid(-2.0, 5)
    np.testing.assert_allclose(np.log10(g), [-3.0, -2.5, -2.0, -1.5, -1.0])


def test_steps_to_a_target():
    steps = np.array([0, 10, 20, 30])
    curves = np.array([[1.0, 0.5, 0.05, 0.01], [1.0, 0.9, 0.8, 0.7]])
    out = figure1.steps_to(steps, curves, 0.1)
    assert out[0] == 20 and np.isinf(out[1])


def test_logistic_minimum_is_a_stationary_point_below_other_points():
    d = data.digits()
    model = models.logistic_regression(l2=1e-2)
    x, y = d.x_train[:300], d.y_train[:300]
    f_star, w_star, gnorm = figure1.minimum(model, model.init(), x, y)
    assert gnorm < 1e-8
    rng = np.random.default_rng(0)
    for _ in range(3):
        w = jax.tree.map(lambda a: a + 0.01 * rng.standard_normal(a.shape), w_star)
        assert float(model.loss(w, x, y)) > f_star


def test_run_kwargs_are_canonical():
    assert section3.run_kwargs() == section3.run_kwargs(lr=1e-3)
    with pytest.raises(ValueError, match="no parameters"):
        section3.run_kwargs(learning_rate=1.0)


def test_part3_ledger_rows_are_well_formed_and_linked():
    """The Part III rows (the chapters' default experiments, memoised) name existing labels."""
    from pathlib import Path

    from adamdyn_book import ledger

    rep = ledger.collect_report(ledger.PART3_MODULES)
    assert not rep.errors and not rep.missing, (rep.errors, rep.missing)
    # every registered module delivers rows; the first two chapters' counts are known by hand
    assert set(rep.by_module) == set(ledger.PART3_MODULES) and min(rep.by_module.values()) >= 1
    assert rep.by_module["adamdyn_book.ledger.networks_figure1"] == 3
    assert rep.by_module["adamdyn_book.ledger.networks_noise"] == 6
    labels = ledger.known_labels(Path(__file__).resolve().parents[1] / "chapters")
    assert {c.where for c in rep.claims} <= labels
    assert len({c.id for c in rep.claims}) == len(rep.claims)


def test_named_optimizers_are_the_library_constructors():
    from adamdyn import optimizers as O
    from adamdyn.networks.grids import optimizer_by_name

    # each label against the constructor call it stands for, written out by hand
    cases = {"GD": O.sgd(0.1), "momentum": O.momentum(0.1, beta=0.9), "AdaGrad": O.adagrad(0.1),
             "RMSProp 0.99": O.rmsprop(0.1, beta2=0.99), "Adam": O.adam(0.1),
             "Adam, beta1 = 0": O.adam(0.1, beta1=0.0), "AdamW": O.adamw(0.1, weight_decay=1e-2)}
    for name, expected in cases.items():
        got = optimizer_by_name(name, 0.1)
        assert repr(got) == repr(expected), name
    with pytest.raises(ValueError, match="name"):
        optimizer_by_name("Nesterov", 0.1)
