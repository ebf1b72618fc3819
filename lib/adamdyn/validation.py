"""Input checks shared by every public function of :mod:`adamdyn`.

Each check raises :class:`ValueError` naming the parameter and the range it
must lie in, so that a reader who mistypes a hyperparameter learns at once
what went wrong instead of meeting a NaN a million steps later.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "real_array",
    "as_param",
    "check_scalar",
    "scalar_beta",
    "scalar_positive",
    "scalar_nonnegative",
    "check_beta",
    "check_betas",
    "check_positive",
    "check_nonnegative",
    "check_int",
    "check_points",
    "check_vector",
]


def real_array(name: str, value) -> np.ndarray:
    """``value`` as a float64 array, refusing what only looks numeric.

    NumPy would turn ``True`` into 1.0, ``'0.1'`` into 0.1 (with ``dtype=float``) and drop
    the imaginary part of a complex number with a warning; a hyperparameter given as any of
    these is a mistake, so booleans, strings, complex numbers, ``None`` and other objects
    raise :class:`ValueError` naming the parameter.
    """
    if value is None or isinstance(value, (bool, np.bool_, str, bytes)):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as err:  # ragged nested sequences
        raise ValueError(f"{name} must be a real number or an array of real numbers, got {value!r}") from err
    if arr.dtype.kind not in "iuf":  # b: booleans, c: complex, U/S: strings, O: objects
        raise ValueError(f"{name} must be real numbers, got {value!r} (dtype {arr.dtype})")
    return arr.astype(np.float64)


def as_param(name: str, value) -> np.ndarray:
    """Return ``value`` as a non-empty 1-D float64 array of finite reals (a scalar becomes length 1)."""
    arr = np.atleast_1d(real_array(name, value))
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a scalar or a 1-D array of per-run values, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must hold at least one value, got an empty array")
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
        b = real_array(name, value)
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


def check_scalar(name: str, value, low: float = -np.inf, high: float = np.inf, *,
                 low_open: bool = False, high_open: bool = False) -> float:
    """One finite real number in the interval from ``low`` to ``high``, as a Python float.

    The ends are closed unless ``low_open`` / ``high_open``.  A vector of two or more values is
    refused, not cut to its first element: a scalar parameter given per-run values is a mistake
    the caller should see (a one-element array is taken as its element).
    """
    if low == 0.0 and high == np.inf:
        allowed = "be > 0" if low_open else "be >= 0"
    else:
        allowed = f"lie in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    arr = real_array(name, value)
    if arr.ndim > 1 or arr.size != 1:
        raise ValueError(f"{name} must be one number (a scalar) and {allowed}, got shape {arr.shape}")
    x = float(arr.reshape(()))
    if not np.isfinite(x) or x < low or x > high or (low_open and x == low) or (high_open and x == high):
        raise ValueError(f"{name} must {allowed}, got {value!r}")
    return x


def scalar_beta(name: str, value) -> float:
    """A decay rate: one number in [0, 1)."""
    return check_scalar(name, value, 0.0, 1.0, high_open=True)


def scalar_positive(name: str, value) -> float:
    """One finite number > 0."""
    return check_scalar(name, value, 0.0, np.inf, low_open=True)


def scalar_nonnegative(name: str, value) -> float:
    """One finite number >= 0."""
    return check_scalar(name, value, 0.0, np.inf)
