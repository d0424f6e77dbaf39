"""Argument checks shared by the pure models: they name the field, the bad value and what is allowed."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hashrisk.errors import InputError


def _as_float(field: str, value: npt.ArrayLike) -> npt.NDArray[np.float64]:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(field, value, "a number or an array of numbers") from None
    return arr


def _first_bad(arr: npt.NDArray[np.float64], bad: npt.NDArray[np.bool_]) -> float:
    return float(arr[bad].flat[0]) if arr.ndim else float(arr)


def check_positive(field: str, value: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """`value` as a float array; every element finite and > 0, else :class:`InputError`."""
    arr = _as_float(field, value)
    bad = ~(np.isfinite(arr) & (arr > 0))
    if bad.any():
        raise InputError(field, _first_bad(arr, bad), "a finite number > 0")
    return arr


def check_nonnegative(field: str, value: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """`value` as a float array; every element finite and >= 0, else :class:`InputError`."""
    arr = _as_float(field, value)
    bad = ~(np.isfinite(arr) & (arr >= 0))
    if bad.any():
        raise InputError(field, _first_bad(arr, bad), "a finite number >= 0")
    return arr


def check_fraction(field: str, value: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """`value` as a float array; every element in [0, 1], else :class:`InputError`."""
    arr = _as_float(field, value)
    bad = ~(np.isfinite(arr) & (arr >= 0) & (arr <= 1))
    if bad.any():
        raise InputError(field, _first_bad(arr, bad), "a fraction in [0, 1]")
    return arr


def check_pue(field: str, value: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Power usage effectiveness: finite and >= 1, else :class:`InputError`."""
    arr = _as_float(field, value)
    bad = ~(np.isfinite(arr) & (arr >= 1))
    if bad.any():
        raise InputError(
            field, _first_bad(arr, bad), "a power usage effectiveness >= 1 (1.10 = 10% overhead)"
        )
    return arr
