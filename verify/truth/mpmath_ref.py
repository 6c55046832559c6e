"""Readable mpmath reference: unrolled forward mode at a chosen precision (not certified).

This is the textbook computation written as plainly as possible -- GD with its tangent
recurrences in mpmath floating point at ``prec_bits`` -- for reading and for cross-checking the
certified engine. It is *not* ground truth: agreement of two precisions is a heuristic, and
this module never claims more. Cost O(t d^2) mpmath operations.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import mpmath

from ..objectives import compose
from ..problems import LeastSquares, Problem
from ..validation import validate_point

__all__ = ["meta_derivatives"]


def _data(problem: Problem, ctx: Any) -> tuple[Any, Any, Any, Any]:
    if isinstance(problem, LeastSquares):
        X = ctx.matrix(problem.X.tolist())
        y = ctx.matrix(problem.y.tolist())
        H = X.T * X / problem.n
        b = X.T * y / problem.n
        c = (y.T * y)[0] / (2 * problem.n)
        w0 = ctx.matrix(problem.w0.tolist())
    else:
        H = ctx.matrix(problem.H.tolist())
        b = ctx.matrix(problem.b_vector.tolist())
        c = ctx.mpf(problem.c)
        w0 = ctx.matrix(problem.w0.tolist())
    return H, b, c, w0


def meta_derivatives(
    problem: Problem,
    eta: float | Fraction,
    t: int,
    *,
    objective: str = "log",
    eval_problem: Problem | None = None,
    prec_bits: int = 200,
) -> list[Any]:
    """[F, F', F''] by unrolled forward mode in mpmath at ``prec_bits`` (a local context).

    Accuracy
    --------
    Not certified. Each of the 3t matrix-vector steps rounds at ``prec_bits``; for moderate t
    and well-scaled problems the result typically has about ``prec_bits - 2 log2(t) -
    log2(cond)`` correct bits, but no bound is proven here. Use :mod:`verify.truth` for
    ground truth.
    """
    point = validate_point(problem, eta, t, objective, eval_problem)
    q, ti = point.eta, point.t
    ctx = mpmath.mp.clone()
    ctx.prec = prec_bits  # a private context: the global mpmath.mp is never touched
    H, b, _c, w = _data(problem, ctx)
    e = ctx.mpf(q.numerator) / q.denominator
    d = problem.d
    w1 = ctx.matrix(d, 1)
    w2 = ctx.matrix(d, 1)
    for _ in range(ti):
        g = H * w - b
        w2 = w2 - e * (H * w2) - 2 * (H * w1)
        w1 = w1 - e * (H * w1) - g
        w = w - e * g
    Hev, bev, cev, _ = _data(point.evaluated_on, ctx)
    r = Hev * w - bev
    gval = (w.T * (Hev * w))[0] / 2 - (bev.T * w)[0] + cev
    g1 = (r.T * w1)[0]
    g2 = (w1.T * (Hev * w1))[0] + (r.T * w2)[0]
    return compose(point.objective, ti, gval, g1, g2, log=ctx.log, order=2)
