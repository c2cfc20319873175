"""Input checks shared by every entry point: each returns a clean float64 array or raises InputError."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import InputError


def finite_array(name: str, value: Any, ndim: int | tuple[int, ...]) -> np.ndarray:
    """`value` as a float64 array of the given rank(s), non-empty and finite."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be numeric, got {type(value).__name__}") from None
    ranks = (ndim,) if isinstance(ndim, int) else ndim
    if array.ndim not in ranks:
        want = " or ".join(f"{r}-D" for r in ranks)
        raise InputError(f"{name} must be {want}, got shape {array.shape}")
    if array.size == 0 or 0 in array.shape:
        raise InputError(f"{name} is empty (shape {array.shape})")
    if not np.all(np.isfinite(array)):
        bad = np.argwhere(~np.isfinite(array))[0]
        raise InputError(f"{name} has a non-finite value (NaN or inf) at index {tuple(int(i) for i in bad)}")
    return array


def finite_number(name: str, value: Any, *, minimum: float | None = None, maximum: float | None = None,
                  strict_minimum: bool = False) -> float:
    """`value` as a finite float within [minimum, maximum] (or (minimum, ...] when strict)."""
    if isinstance(value, bool):
        raise InputError(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise InputError(f"{name} must be finite, got {value!r}")
    if minimum is not None:
        if strict_minimum and number <= minimum:
            raise InputError(f"{name} must be > {minimum:g}, got {number:g}")
        if not strict_minimum and number < minimum:
            raise InputError(f"{name} must be >= {minimum:g}, got {number:g}")
    if maximum is not None and number > maximum:
        raise InputError(f"{name} must be <= {maximum:g}, got {number:g}")
    return number


def whole_number(name: str, value: Any, minimum: int) -> int:
    """An integer setting (a float like 3.0 is accepted, True is not)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value or value < minimum:
        raise InputError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)
