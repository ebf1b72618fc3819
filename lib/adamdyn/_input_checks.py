"""Checks of switches and seeds shared by the modules of the update rule (each raises a ValueError
that names the parameter and what it may be).

They complement :mod:`adamdyn.validation` (numbers and arrays) and belong there once that module
takes them.
"""

from __future__ import annotations

import numpy as np

__all__ = ["check_flag", "check_seed", "check_integers"]


def check_flag(name: str, value) -> bool:
    """A switch: ``True`` or ``False`` (a NumPy bool too); strings such as ``'no'`` are refused."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_seed(name: str, value) -> int:
    """A seed of ``numpy.random.default_rng``: an integer >= 0 (no None: runs must be reproducible)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    return int(value)


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
