r"""The digits data set: standardised, split once, and batched deterministically.

scikit-learn ships the UCI optical-recognition digits (Alpaydin & Kaynak 1998): 1797
images of 8x8 pixels with 17 grey levels, ten classes, nothing downloaded at run time.
The split is a fixed, stratified permutation; each pixel is standardised with the
training set's mean and standard deviation (pixels constant on the training set, the
always-blank corners, are only centred), so that the unit-free steps of the adaptive
methods meet unit-free inputs (Kaiser, section 2.3).

Minibatches come from a seeded NumPy generator, outside the compiled loop, as an
integer array ``(steps, batch_size)``: ``"epoch"`` shuffles the training set every
epoch and cuts it into disjoint batches (the common practice; a remainder smaller than
a batch is dropped), ``"replacement"`` draws every batch independently of the others (without repeats inside a
batch), which makes the minibatch noise of successive steps independent at fixed weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from ..validation import check_int

__all__ = ["Dataset", "digits", "raw_digits", "batch_indices", "SAMPLINGS"]

SAMPLINGS = ("epoch", "replacement")


@dataclass(frozen=True)
class Dataset:
    """Arrays of a split data set (``x_*`` of shape (n, features), integer labels ``y_*``)."""

    x_train: jnp.ndarray
    y_train: jnp.ndarray
    x_test: jnp.ndarray
    y_test: jnp.ndarray
    n_classes: int

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])


def raw_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1797 digits as scikit-learn ships them: pixels (1797, 64), float64 in 0..16, labels (1797,).

    The same arrays as ``sklearn.datasets.load_digits(return_X_y=True)``, read from the file
    that function reads (``sklearn/datasets/data/digits.csv.gz``) without importing scikit-learn,
    which costs about 2 s of CPU per process (every Part III chapter).  Should the file move in
    a future scikit-learn, ``load_digits`` is called instead.
    """
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("sklearn")
    folders = list(spec.submodule_search_locations or []) if spec else []
    csv = [Path(f) / "datasets" / "data" / "digits.csv.gz" for f in folders]
    if csv and csv[0].is_file():
        table = np.loadtxt(csv[0], delimiter=",")
        return table[:, :-1], table[:, -1].astype(int)
    from sklearn.datasets import load_digits

    return load_digits(return_X_y=True)


def digits(test_size=397, seed=0, dtype=jnp.float64) -> Dataset:
    """The standardised digits with a stratified train/test split (1400/397 by default).

    Parameters
    ----------
    test_size : int
        Number of test images, between 10 and 1787.
    seed : int
        Seed of the split's permutation.
    dtype : jax dtype
        float64 (comparisons with the library) or float32 (faster sweeps).
    """
    test_size = check_int("test_size", test_size, 10)
    if test_size > 1787:
        raise ValueError(f"test_size must be at most 1787 (leaving 10 training images), got {test_size}")
    x, y = raw_digits()
    rng = np.random.default_rng(check_int("seed", seed, 0))
    # stratified: every class is split in the proportion of the whole
    test = np.zeros(y.size, bool)
    order = rng.permutation(y.size)
    quota = np.round(np.bincount(y) * test_size / y.size).astype(int)
    quota[np.argmax(quota)] += test_size - quota.sum()
    for c in range(10):
        test[order[y[order] == c][: quota[c]]] = True
    train_idx, test_idx = np.flatnonzero(~test), np.flatnonzero(test)
    train_idx, test_idx = rng.permutation(train_idx), rng.permutation(test_idx)
    mean = x[train_idx].mean(axis=0)
    std = x[train_idx].std(axis=0)
    std[std == 0] = 1.0
    z = (x - mean) / std
    return Dataset(jnp.asarray(z[train_idx], dtype), jnp.asarray(y[train_idx], jnp.int32),
                   jnp.asarray(z[test_idx], dtype), jnp.asarray(y[test_idx], jnp.int32), 10)


def batch_indices(n, batch_size, steps, seed, sampling="epoch") -> np.ndarray:
    """Training-set indices of every minibatch, shape ``(steps, batch_size)``, from ``seed``.

    Parameters
    ----------
    n : int
        Size of the training set.
    batch_size : int
        Between 1 and ``n``.
    steps : int
        Number of minibatches.
    seed : int
        Seed of the NumPy generator (the same seed gives the same batches).
    sampling : {"epoch", "replacement"}
        Disjoint batches of a fresh shuffle each epoch, or independent draws.
    """
    n = check_int("n", n, 1)
    batch_size = check_int("batch_size", batch_size, 1)
    if batch_size > n:
        raise ValueError(f"batch_size must be at most n={n}, got {batch_size}")
    steps = check_int("steps", steps, 1)
    if sampling not in SAMPLINGS:
        raise ValueError(f"sampling must be one of {SAMPLINGS}, got {sampling!r}")
    rng = np.random.default_rng(check_int("seed", seed, 0))
    if sampling == "replacement":
        return np.stack([rng.choice(n, batch_size, replace=False) for _ in range(steps)]).astype(np.int32)
    per_epoch = n // batch_size
    epochs = -(-steps // per_epoch)
    out = [rng.permutation(n)[: per_epoch * batch_size].reshape(per_epoch, batch_size) for _ in range(epochs)]
    return np.concatenate(out)[:steps].astype(np.int32)
