"""Meta-objectives on the end of a GD trajectory, and argument validation shared by every engine.

For a problem with loss f and GD w_{k+1} = w_k - eta grad f(w_k) from w0, and an evaluation
loss g (g = f by default; a validation loss for train-by-validation):

* ``"naive"``:  F(eta) = g(w_t)                      (paper notes §2.3)
* ``"log"``:    F(eta) = (1/t) log g(w_t)            (requires g(w_t) > 0 and t >= 1)

The chain rule from the loss derivatives (g, g', g'') along eta to (F, F', F'') is
:func:`compose`, written once for any number type (Fraction, mpmath, Arb).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any, Literal, TypeVar

import numpy as np

from .errors import (
    InvalidHorizonError,
    InvalidPrecisionError,
    InvalidStepSizeError,
    ShapeMismatchError,
    UnknownOptionError,
)
from .problems import LeastSquares, Quadratic

__all__ = [
    "OBJECTIVES",
    "Objective",
    "compose",
    "validate_eta",
    "validate_eval_problem",
    "validate_horizon",
    "validate_objective",
    "validate_rel_tol",
]

Objective = Literal["naive", "log"]
OBJECTIVES: tuple[str, ...] = ("naive", "log")

T = TypeVar("T")


def validate_objective(objective: object) -> Objective:
    """Return ``objective`` if it is ``"naive"`` or ``"log"``, else raise UnknownOptionError."""
    if objective not in OBJECTIVES:
        raise UnknownOptionError("objective", objective, f"must be one of {OBJECTIVES}")
    return objective  # type: ignore[return-value]


def validate_eta(eta: object) -> Fraction:
    """The exact value of a step size; must be a finite real >= 0.

    Accepts float, int, numpy scalars and :class:`fractions.Fraction`; never rounds.
    """
    if isinstance(eta, bool) or not isinstance(
        eta, (int, float, Fraction, np.floating, np.integer)
    ):
        raise InvalidStepSizeError("eta", eta, "must be a real number (float, int or Fraction)")
    if isinstance(eta, (float, np.floating)) and not math.isfinite(float(eta)):
        raise InvalidStepSizeError("eta", eta, "must be finite")
    q = (
        eta
        if isinstance(eta, Fraction)
        else Fraction(int(eta))
        if isinstance(eta, (int, np.integer))
        else Fraction(float(eta))
    )
    if q < 0:
        raise InvalidStepSizeError("eta", eta, "must be >= 0")
    return q


def validate_horizon(t: object, *, objective: str = "naive") -> int:
    """The horizon as an int; must be an integer >= 0 (>= 1 for the log objective)."""
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)):
        raise InvalidHorizonError(
            "t", t, "must be an integer (int or numpy integer), not " + type(t).__name__
        )
    ti = int(t)
    if ti < 0:
        raise InvalidHorizonError("t", t, "must be >= 0")
    if objective == "log" and ti == 0:
        raise InvalidHorizonError("t", t, "must be >= 1 for the log objective (1/t) log f(w_t)")
    return ti


def validate_rel_tol(rel_tol: object, *, max_prec_bits: int) -> Fraction:
    """A relative tolerance in (0, 1) that the precision cap can reach."""
    if isinstance(rel_tol, bool) or not isinstance(rel_tol, (int, float, Fraction, np.floating)):
        raise InvalidPrecisionError("rel_tol", rel_tol, "must be a real number")
    if isinstance(rel_tol, (float, np.floating)) and not math.isfinite(float(rel_tol)):
        raise InvalidPrecisionError("rel_tol", rel_tol, "must be finite")
    q = (
        Fraction(rel_tol)
        if not isinstance(rel_tol, (float, np.floating))
        else Fraction(float(rel_tol))
    )
    if not 0 < q < 1:
        raise InvalidPrecisionError("rel_tol", rel_tol, "must satisfy 0 < rel_tol < 1")
    needed = q.denominator.bit_length() - q.numerator.bit_length()
    if needed > max_prec_bits - 16:
        raise InvalidPrecisionError(
            "rel_tol", rel_tol, f"needs about {needed} bits, beyond max_prec_bits={max_prec_bits}"
        )
    return q


def validate_eval_problem(problem: object, eval_problem: object) -> None:
    """Check that ``problem`` is a problem and ``eval_problem`` (if any) has the same dimension."""
    if not isinstance(problem, (Quadratic, LeastSquares)):
        raise ShapeMismatchError("problem", problem, "must be a Quadratic or LeastSquares")
    if eval_problem is None:
        return
    if not isinstance(eval_problem, (Quadratic, LeastSquares)):
        raise ShapeMismatchError(
            "eval_problem", eval_problem, "must be a Quadratic, LeastSquares or None"
        )
    if eval_problem.d != problem.d:
        raise ShapeMismatchError(
            "eval_problem", eval_problem, f"has dimension {eval_problem.d}, problem has {problem.d}"
        )


def compose(
    objective: Objective,
    t: int,
    g: T,
    dg: T | None,
    d2g: T | None,
    *,
    log: Callable[[T], T] | None,
    order: int,
) -> list[Any]:
    """Chain rule from loss derivatives along eta to meta-objective derivatives.

    Parameters
    ----------
    objective : {"naive", "log"}
    t : int
        Horizon (>= 1 for ``"log"``).
    g, dg, d2g
        g(w_t(eta)) and its first and second derivatives in eta (``None`` when not needed).
    log : callable or None
        Natural log in the number type (only needed for the log objective's value; pass
        ``None`` to skip the value, e.g. in exact rational arithmetic).
    order : int
        Highest derivative wanted (0, 1 or 2).

    Returns
    -------
    list
        ``[F, F', F'']`` truncated to ``order + 1`` entries; ``F`` is ``None`` when
        ``log`` is ``None`` for the log objective.

    Notes
    -----
    log objective: F = log(g)/t, F' = g'/(t g), F'' = (g'' g - g'^2)/(t g^2).
    """
    if objective == "naive":
        return [g, dg, d2g][: order + 1]
    value = None if log is None else log(g) / t  # type: ignore[operator]
    out: list[Any] = [value]
    if order >= 1:
        out.append(dg / (t * g))  # type: ignore[operator]
    if order >= 2:
        out.append((d2g * g - dg * dg) / (t * g * g))  # type: ignore[operator]
    return out
