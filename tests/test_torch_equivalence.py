"""adamdyn's optimizers against torch.optim, following the table in adamdyn.torch_reference.

Tests that need torch skip themselves (``pytest.importorskip("torch")``) where it is not
installed; the table's own consistency and the reference chapter are tested everywhere.
Tolerance: both sides compute the same float64 formulas in a different order, so the
iterates differ by rounding only, a relative 1e-15 per step on contracting landscapes;
1e-12 over 2000 steps leaves room for the saddle's expansion.
"""

import inspect
from pathlib import Path

import numpy as np
import pytest

import adamdyn as ad
from adamdyn import landscapes as L
from adamdyn import torch_reference as R

ROOT = Path(__file__).resolve().parents[1]
WITH_TORCH = [e.variant for e in R.TABLE if e.torch_class is not None]
# Not the sharp valley: its gradient jumps at 0, so a last-bit rounding difference that puts an
# iterate on the other side of 0 flips the gradient's sign and the paths part (AdaGrad: 5e-3 after
# 2000 steps).  The random gradient sequence below covers sign-like gradients instead.
LANDSCAPES = {"smooth": (L.smooth_valley(), [1.0, 1.0]), "saddle": (L.saddle(), [1e-3, 0.8]),
              "quartic": (L.quartic(), [0.6, -0.2])}


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


# ---------------------------------------------------------------- the table itself (no torch needed)

def test_table_covers_every_optimizer_and_variant():
    assert set(WITH_TORCH) == {"SGD", "momentum", "AdaGrad", "RMSProp", "Adam", "AdamW"}
    none = [e for e in R.TABLE if e.torch_class is None]
    assert {e.variant for e in none} == {"Adam without bias correction", "Adam, eps inside the root"}
    for e in R.TABLE:
        opt = e.build(**e.defaults)
        assert isinstance(opt, ad.Optimizer) and len(opt) == 1
        assert (e.torch_kwargs is None) == (e.torch_class is None) == (e.nearest is not None)
    table = R.markdown_table()
    assert table.count("\n") == len(R.TABLE) + 2 and table.count("**none**") == len(none)
    assert "alpha=0.9" in R.equivalence("RMSProp").torch_call()
    with pytest.raises(ValueError, match="^variant must be one of"):
        R.equivalence("Nadam")


def test_gap_to_nearest_is_zero_only_where_the_variants_coincide():
    valley = L.smooth_valley()
    # eps inside vs outside coincide exactly at eps = 0
    assert R.gap_to_nearest("Adam, eps inside the root", valley, [1.0, 1.0], 500, eps=0.0) == 0.0
    assert R.gap_to_nearest("Adam, eps inside the root", valley, [1.0, 1.0], 500, eps=1e-4) > 1e-3
    assert R.gap_to_nearest("Adam without bias correction", valley, [1.0, 1.0], 500) > 1e-2
    with pytest.raises(ValueError, match="has a torch equivalent"):
        R.gap_to_nearest("Adam", valley, [1.0, 1.0], 5)


# ---------------------------------------------------------------- against torch

@pytest.mark.parametrize("land", list(LANDSCAPES))
@pytest.mark.parametrize("variant", WITH_TORCH)
def test_torch_reproduces_iterates(torch, variant, land):
    landscape, x0 = LANDSCAPES[land]
    dev = R.max_deviation(variant, landscape, x0, 2000)
    assert dev["rel"] < 1e-12, dev


@pytest.mark.parametrize("variant", WITH_TORCH)
def test_torch_reproduces_updates_on_a_random_gradient_sequence(torch, variant):
    grads = np.random.default_rng(7).standard_cauchy(size=(400, 3))  # heavy tails: large and tiny gradients
    assert R.deviation_on_gradients(variant, grads) < 1e-12


def test_torch_with_library_defaults(torch):
    # the mapping must also hold at adamdyn's own default hyperparameters
    builders = {"SGD": ad.sgd, "momentum": ad.momentum, "AdaGrad": ad.adagrad, "RMSProp": ad.rmsprop,
                "Adam": ad.adam, "AdamW": ad.adamw}
    for variant, fn in builders.items():
        params = inspect.signature(fn).parameters
        hyper = {k: params[k].default for k in R.equivalence(variant).defaults}
        dev = R.max_deviation(variant, L.smooth_valley(), [1.0, 1.0], 1000, **hyper)
        assert dev["rel"] < 1e-12, (variant, hyper, dev)


def test_torch_defaults_are_as_the_table_says(torch):
    defaults = lambda cls: {k: p.default for k, p in inspect.signature(cls).parameters.items()}  # noqa: E731
    rms = defaults(torch.optim.RMSprop)
    assert rms["alpha"] == 0.99 and rms["momentum"] == 0 and rms["centered"] is False
    ada = defaults(torch.optim.Adagrad)
    assert ada["lr_decay"] == 0 and ada["initial_accumulator_value"] == 0
    adam = defaults(torch.optim.Adam)
    assert adam["betas"] == (0.9, 0.999) and adam["eps"] == 1e-8 and adam["amsgrad"] is False
    sgd = defaults(torch.optim.SGD)
    assert sgd["dampening"] == 0 and sgd["nesterov"] is False


def test_torch_adam_weight_decay_is_not_adamw(torch):
    # torch.optim.Adam(weight_decay) is L2 on the gradient: it must NOT match adamdyn's AdamW
    hyper = dict(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.5)
    ours = ad.run(ad.adamw(**hyper), L.smooth_valley(), x0=[1.0, 1.0], steps=300).path[:, 0]
    p = torch.tensor([1.0, 1.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([p], lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.5)
    coeffs2 = torch.tensor([2.0, 2e-3], dtype=torch.float64)
    theirs = np.empty_like(ours)
    theirs[0] = [1.0, 1.0]
    for k in range(1, 301):
        p.grad = coeffs2 * p.detach()
        opt.step()
        theirs[k] = p.detach().numpy()
    assert np.abs(theirs - ours).max() > 1e-3
    # while torch's AdamW does match
    assert R.max_deviation("AdamW", L.smooth_valley(), [1.0, 1.0], 300, **hyper)["rel"] < 1e-12


def test_lambda_lr_turns_torch_adam_into_eq5_at_eps_zero(torch):
    b1, b2, lr, T = 0.9, 0.999, 1e-3, 300
    grads = np.random.default_rng(3).normal(size=(T, 2))
    ours = ad.updates_from_gradients(ad.adam(lr, b1, b2, 0.0, bias_correction=False), grads[:, None, :])[:, 0]
    p = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([p], lr=lr, betas=(b1, b2), eps=0.0)
    # LambdaLR multiplies lr by f(epoch); scheduler.step() after optimizer step k sets the factor for step k + 1
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: (1 - b1 ** (k + 1)) / np.sqrt(1 - b2 ** (k + 1)))
    theirs = np.empty_like(grads)
    for k in range(T):
        before = p.detach().numpy().copy()
        p.grad = torch.from_numpy(grads[k].copy())
        opt.step()
        sched.step()
        theirs[k] = p.detach().numpy() - before
    np.testing.assert_allclose(theirs, ours, rtol=1e-10, atol=1e-18)
    # with eps > 0 the same schedule does not give Eq. (5)
    ours_eps = ad.updates_from_gradients(ad.adam(lr, b1, b2, 1e-2, bias_correction=False), grads[:, None, :])[:, 0]
    assert np.abs(theirs - ours_eps).max() > 1e-6


# ---------------------------------------------------------------- the chapter

@pytest.mark.chapter
def test_reference_chapter_runs_and_glues():
    from adamdyn_book.rerun import execute_chapter, glued

    g = glued(execute_chapter(ROOT / "chapters" / "reference_implementations.md", {"steps": 3000, "torch_steps": 300}))
    assert g["ref_n_rows"] == len(R.TABLE) and g["ref_n_none"] == 2
    assert g["ref_gap_nobc"] > 0.1
    assert 0 < g["ref_gap_inside"] < g["ref_gap_inside_large"]
    if R.torch_available():
        assert g["ref_worst"] < 1e-12
