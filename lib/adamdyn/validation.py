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
    "check_bool",
    "check_integers",
    "check_seed",
    "integer_values",
    "check_callable",
    "check_choice",
    "check_instance",
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


def check_int(name: str, value, minimum: int = 0, maximum: int | None = None) -> int:
    """One integer (Python or NumPy, not a bool, not a float) in ``[minimum, maximum]``."""
    allowed = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer {allowed}, got {value!r}")  # noqa: TRY004
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be an integer {allowed}, got {value!r}")
    return int(value)


def check_seed(name: str, value) -> int:
    """A seed for :func:`numpy.random.default_rng`: an integer >= 0 (NumPy refuses negative seeds)."""
    return check_int(name, value, 0)


def check_bool(name: str, value) -> bool:
    """A switch: ``True`` or ``False`` (a NumPy bool too).

    Strings and numbers are refused: ``bool('no')`` is ``True``, so a switch given as a
    string would silently mean the opposite of what it says.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")  # noqa: TRY004
    return bool(value)


def integer_values(name: str, value, minimum: int = 0) -> np.ndarray:
    """Whole numbers >= ``minimum`` (a scalar or an array; floats with integer values allowed),
    as a float64 array of the same shape.  Refuses NaN, inf, fractions such as 2.5 and booleans."""
    arr = real_array(name, value)
    if arr.size == 0:
        raise ValueError(f"{name} must hold at least one integer >= {minimum}, got an empty array")
    if not np.all(np.isfinite(arr)) or np.any(arr != np.floor(arr)) or np.any(arr < minimum):
        raise ValueError(f"{name} must be integers >= {minimum}, got {value!r}")
    return arr


def check_callable(name: str, value):
    """A function (anything callable)."""
    if not callable(value):
        raise ValueError(f"{name} must be callable (a function), got {value!r}")  # noqa: TRY004
    return value


def check_choice(name: str, value, choices) -> str:
    """One of the strings ``choices``."""
    if not isinstance(value, str) or value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def check_instance(name: str, value, cls):
    """An instance of ``cls`` (a class or a tuple of classes)."""
    if not isinstance(value, cls):
        names = " or ".join(c.__name__ for c in (cls if isinstance(cls, tuple) else (cls,)))
        raise ValueError(f"{name} must be a {names}, got {type(value).__name__}")  # noqa: TRY004
    return value


def check_points(name: str, value, dim: int | None = None) -> np.ndarray:
    """Starting points: finite, shape ``(dim,)`` or ``(runs, dim)``; returned as ``(runs, dim)``."""
    arr = real_array(name, value)
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
    x = np.atleast_1d(real_array(name, value))
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
    if high == np.inf and low > -np.inf:
        allowed = f"be > {low:g}" if low_open else f"be >= {low:g}"
    elif low == -np.inf and high < np.inf:
        allowed = f"be < {high:g}" if high_open else f"be <= {high:g}"
    elif low == -np.inf and high == np.inf:
        allowed = "be finite"
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


def check_integers(name: str, value, low: int, high: int | None = None) -> np.ndarray:
    """An array of integers (integer dtype, or floats that are whole numbers) in ``[low, high]``, as int64."""
    arr = np.asarray(value)
    allowed = f">= {low}" if high is None else f"in [{low}, {high}]"
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ValueError(f"{name} must hold integers {allowed}, got {value!r}")
    if np.issubdtype(arr.dtype, np.floating) and not (np.all(np.isfinite(arr)) and np.all(arr == np.round(arr))):
        raise ValueError(f"{name} must hold integers {allowed}, got {value!r}")
    if arr.size and (arr.min() < low or (high is not None and arr.max() > high)):
        raise ValueError(f"{name} must hold integers {allowed}, got values from {arr.min()} to {arr.max()}")
    return arr.astype(np.int64)
