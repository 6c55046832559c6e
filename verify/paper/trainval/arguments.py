"""Argument checks shared by the modules of :mod:`verify.paper.trainval`.

Every public function of the package validates its arguments here, so one bad value gives
the same error type and message whichever entry point received it. Internal to the package:
:mod:`verify.paper.trainval` does not re-export these names.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...errors import (
    ArgumentError,
    InvalidPrecisionError,
    NonFiniteError,
    ShapeMismatchError,
    UnknownOptionError,
)
from ...validation import validate_eta

__all__ = [
    "F64",
    "KINDS",
    "Kind",
    "check_bracket",
    "check_confidence",
    "check_etas",
    "check_int",
    "check_kind",
    "check_positive",
    "check_rel_tol",
    "check_seed",
    "check_truncation",
    "real_array",
]

#: A float64 array (every array of the package).
F64 = NDArray[np.float64]
#: The two meta-objectives: train-by-train and train-by-validation.
Kind = Literal["tbt", "tbv"]
KINDS: tuple[str, ...] = ("tbt", "tbv")


def check_int(name: str, value: object, minimum: int) -> int:
    """An integer (not a bool) ``>= minimum``; ShapeMismatchError otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ShapeMismatchError(name, value, f"must be an integer >= {minimum}")
    if int(value) < minimum:
        raise ShapeMismatchError(name, value, f"must be an integer >= {minimum}")
    return int(value)


def check_positive(name: str, value: object) -> float:
    """A finite real number ``> 0`` as a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ArgumentError(name, value, "must be a real number")
    v = float(value)
    if not math.isfinite(v):
        raise NonFiniteError(name, value, "must be finite")
    if v <= 0:
        raise ArgumentError(name, value, "must be > 0")
    return v


def check_seed(value: object) -> int:
    """A seed: an integer ``>= 0``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < 0:
        raise ArgumentError("seed", value, "must be an integer >= 0")
    return int(value)


def check_confidence(value: object, name: str = "confidence") -> float:
    """A two-sided confidence level in (0, 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        raise InvalidPrecisionError(name, value, "must be a real number in (0, 1)")
    v = float(value)
    if not 0 < v < 1:
        raise InvalidPrecisionError(name, value, "must satisfy 0 < confidence < 1")
    return v


def check_kind(kind: object) -> Kind:
    """``"tbt"`` or ``"tbv"``."""
    if kind not in KINDS:
        raise UnknownOptionError("kind", kind, f"must be one of {KINDS}")
    return kind  # type: ignore[return-value]


def check_etas(etas: object, name: str = "etas") -> F64:
    """A 1-D float64 array of valid step sizes (each checked with ``validate_eta``)."""
    if isinstance(etas, (int, float, np.integer, np.floating)) and not isinstance(etas, bool):
        etas = [etas]
    try:
        items = list(etas)  # type: ignore[call-overload]
    except TypeError as exc:
        raise ShapeMismatchError(name, etas, "must be a sequence of step sizes") from exc
    if not items:
        raise ShapeMismatchError(name, etas, "must contain at least one step size")
    for e in items:
        try:
            validate_eta(e)
        except ArgumentError as exc:
            raise type(exc)(name, etas, f"entry {e!r}: {exc.reason}") from exc
    return np.array([float(e) for e in items], dtype=np.float64)


def check_truncation(truncation_factor: object) -> float | None:
    """A truncation factor ``> 0``, or None (truncation disabled)."""
    if truncation_factor is None:
        return None
    return check_positive("truncation_factor", truncation_factor)


def real_array(value: ArrayLike, name: str, ndim: int) -> F64:
    """``value`` as a finite float64 array with ``ndim`` dimensions."""
    try:
        raw = np.asarray(value)
    except Exception as exc:  # pragma: no cover - numpy raises many types here
        raise ShapeMismatchError(name, value, f"cannot be read as an array ({exc})") from exc
    if raw.dtype == object or raw.dtype.kind not in "biuf":
        raise ShapeMismatchError(name, value, f"must be a real numeric array, not {raw.dtype}")
    if raw.ndim != ndim:
        raise ShapeMismatchError(name, value, f"must have {ndim} dimensions, got {raw.shape}")
    arr = raw.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise NonFiniteError(name, value, "contains NaN or infinity")
    return arr


def check_bracket(bracket: object) -> tuple[float, float]:
    """A pair ``(lo, hi)`` of valid step sizes with ``0 < lo < hi``."""
    try:
        pair: tuple[object, ...] = tuple(bracket)  # type: ignore[arg-type]
    except TypeError as exc:
        raise ShapeMismatchError("bracket", bracket, "must be a pair (lo, hi)") from exc
    if len(pair) != 2:
        raise ShapeMismatchError("bracket", bracket, "must be a pair (lo, hi)")
    lo: object = pair[0]
    hi: object = pair[1]
    for v in (lo, hi):
        try:
            validate_eta(v)
        except ArgumentError as exc:
            raise type(exc)("bracket", bracket, exc.reason) from exc
    lo_f, hi_f = float(lo), float(hi)  # type: ignore[arg-type]
    if not 0 < lo_f < hi_f:
        raise ShapeMismatchError("bracket", bracket, "must satisfy 0 < lo < hi")
    return lo_f, hi_f


def check_rel_tol(rel_tol: object) -> float:
    """A relative tolerance in (0, 1) (of a float search, not of a certified result)."""
    if isinstance(rel_tol, bool) or not isinstance(rel_tol, (int, float, np.floating)):
        raise InvalidPrecisionError("rel_tol", rel_tol, "must be a real number in (0, 1)")
    v = float(rel_tol)
    if not 0 < v < 1:
        raise InvalidPrecisionError("rel_tol", rel_tol, "must satisfy 0 < rel_tol < 1")
    return v
