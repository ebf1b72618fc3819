"""Input checks shared by every public function of :mod:`adamdyn`.

Each check raises :class:`ValueError` naming the parameter and the range it
must lie in, so that a reader who mistypes a hyperparameter learns at once
what went wrong instead of meeting a NaN a million steps later.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "as_param",
    "check_beta",
    "check_betas",
    "check_positive",
    "check_nonnegative",
    "check_int",
    "check_points",
    "check_vector",
]


def as_param(name: str, value) -> np.ndarray:
    """Return ``value`` as a 1-D float64 array (a scalar becomes length 1)."""
    arr = np.atleast_1d(np.asarray(value, dtype=np.float64))
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a scalar or a 1-D array of per-run values, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return arr


def check_beta(name: str, value) -> np.ndarray:
    """Decay rates live in the half-open interval [0, 1)."""
    arr = as_param(name, value)
    if np.any((arr < 0.0) | (arr >= 1.0)):
        raise ValueError(f"{name} must lie in [0, 1), got {value!r}")
    return arr


def check_betas(beta1, beta2, *, positive: bool = False) -> tuple[np.ndarray, np.ndarray]:
    r"""The pair of decay rates as float arrays of their common (broadcast) shape.

    Each lies in [0, 1); with ``positive=True`` in the open interval (0, 1), for
    formulas that take :math:`\ln\beta`.  Any broadcastable shapes; the shape is kept.
    """
    out = []
    for name, value in (("beta1", beta1), ("beta2", beta2)):
        b = np.asarray(value, dtype=float)
        if not np.all(np.isfinite(b)) or np.any((b <= 0.0 if positive else b < 0.0) | (b >= 1.0)):
            raise ValueError(f"{name} must lie in {'(0, 1)' if positive else '[0, 1)'}, got {value!r}")
        out.append(b)
    return tuple(np.broadcast_arrays(*out))


def check_positive(name: str, value) -> np.ndarray:
    arr = as_param(name, value)
    if np.any(arr <= 0.0):
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return arr


def check_nonnegative(name: str, value) -> np.ndarray:
    arr = as_param(name, value)
    if np.any(arr < 0.0):
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return arr


def check_int(name: str, value, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_points(name: str, value, dim: int | None = None) -> np.ndarray:
    """Starting points: finite, shape ``(dim,)`` or ``(runs, dim)``; returned as ``(runs, dim)``."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} must have shape (dim,) or (runs, dim), got {np.shape(value)}")
    if dim is not None and arr.shape[1] != dim:
        raise ValueError(f"{name} must have {dim} coordinates per run for this landscape, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or inf), got {value!r}")
    return np.ascontiguousarray(arr)


def check_vector(name: str, value) -> np.ndarray:
    """A finite state vector of shape ``(d,)`` (a scalar becomes length 1)."""
    x = np.atleast_1d(np.asarray(value, dtype=float))
    if x.ndim != 1 or not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be a finite vector of shape (d,), got {value!r}")
    return x
