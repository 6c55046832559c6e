"""Meta-objectives on the end of a GD trajectory.

For a problem with loss f and GD w_{k+1} = w_k - eta grad f(w_k) from w0, and an evaluation
loss g (g = f by default; a validation loss for train-by-validation):

* ``"naive"``:  F(eta) = g(w_t)                      (paper notes §2.3)
* ``"log"``:    F(eta) = (1/t) log g(w_t)            (requires g(w_t) > 0 and t >= 1)

The chain rule from the loss derivatives (g, g', g'') along eta to (F, F', F'') is
:func:`compose`, written once for any number type (Fraction, mpmath, Arb). The objective names
(:data:`verify.validation.OBJECTIVES`) and the validation of a point are in
:mod:`verify.validation`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from .validation import Objective

__all__ = ["compose"]

T = TypeVar("T")


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
