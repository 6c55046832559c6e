"""Exact rational oracle: GD, its eta-derivatives and the meta-objectives in ``Fraction``.

For small problems (d <= ~8, t <= ~100) everything here is *exact*. Three independent routes
compute the same derivatives so that they can be checked against each other:

* :func:`forward` -- unroll GD together with the tangent recurrences
  w'_{k+1} = A w'_k - H w_k + b and w''_{k+1} = A w''_k - 2 H w'_k (forward mode);
* :func:`reverse` -- store the trajectory and run the adjoint pass exactly as an autodiff
  framework does (paper notes §4.5): bar w_t = grad g(w_t), bar w_k = A bar w_{k+1},
  dF/deta = sum_k <bar w_{k+1}, -(H w_k - b)>;
* :func:`closed_form` -- matrix powers: w_t = A^t w0 + eta sum_{k<t} A^k b and
  w'_t = -t H A^{t-1} w0 + sum_{k<t} (A^k - eta k H A^{k-1}) b.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from ..objectives import compose
from ..problems import LeastSquares, Problem
from ..validation import Point, validate_point

__all__ = ["ExactData", "closed_form", "forward", "loss_derivatives", "reverse"]

Vec = list[Fraction]
Mat = list[list[Fraction]]


class ExactData:
    """H, b, c, w0 of a problem as exact rationals (H = X^T X / n exactly for least squares)."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        if isinstance(problem, LeastSquares):
            X = [[Fraction(float(v)) for v in row] for row in problem.X]
            y = [Fraction(float(v)) for v in problem.y]
            n = problem.n
            d = problem.d
            self.H: Mat = [
                [sum((X[k][i] * X[k][j] for k in range(n)), Fraction(0)) / n for j in range(d)]
                for i in range(d)
            ]
            self.b: Vec = [
                sum((X[k][i] * y[k] for k in range(n)), Fraction(0)) / n for i in range(d)
            ]
            self.c = sum((v * v for v in y), Fraction(0)) / (2 * n)
            self.w0: Vec = [Fraction(float(v)) for v in problem.w0]
        else:
            self.H = [[Fraction(float(v)) for v in row] for row in problem.H]
            self.b = [Fraction(float(v)) for v in problem.b_vector]
            self.c = Fraction(problem.c)
            self.w0 = [Fraction(float(v)) for v in problem.w0]
        self.d = len(self.w0)

    def matvec(self, v: Vec) -> Vec:
        return [
            sum((hij * vj for hij, vj in zip(row, v, strict=True)), Fraction(0)) for row in self.H
        ]

    def grad(self, w: Vec) -> Vec:
        return [x - bi for x, bi in zip(self.matvec(w), self.b, strict=True)]

    def loss(self, w: Vec) -> Fraction:
        return _dot(w, self.matvec(w)) / 2 - _dot(self.b, w) + self.c


def _exact_point(
    problem: Problem,
    eta: float | Fraction,
    t: int,
    objective: str,
    eval_problem: Problem | None,
) -> tuple[Point, ExactData, ExactData]:
    """The validated point and the exact data of its training and evaluation problems."""
    point = validate_point(problem, eta, t, objective, eval_problem)
    data = ExactData(problem)
    ev = data if eval_problem is None else ExactData(eval_problem)
    return point, data, ev


def _dot(u: Vec, v: Vec) -> Fraction:
    return sum((a * b for a, b in zip(u, v, strict=True)), Fraction(0))


def _axpy(a: Fraction, x: Vec, y: Vec) -> Vec:
    return [a * xi + yi for xi, yi in zip(x, y, strict=True)]


def loss_derivatives(
    data: ExactData, w: Vec, w1: Vec, w2: Vec
) -> tuple[Fraction, Fraction, Fraction]:
    """g, g', g'' of the quadratic loss along a curve with derivatives (w, w1, w2)."""
    r = data.grad(w)
    g = data.loss(w)
    g1 = _dot(r, w1)
    g2 = _dot(w1, data.matvec(w1)) + _dot(r, w2)
    return g, g1, g2


def _trajectory(data: ExactData, eta: Fraction, t: int) -> tuple[Vec, Vec, Vec]:
    w = list(data.w0)
    w1 = [Fraction(0)] * data.d
    w2 = [Fraction(0)] * data.d
    for _ in range(t):
        gw = data.grad(w)
        Hw1 = data.matvec(w1)
        Hw2 = data.matvec(w2)
        # w'' <- w'' - eta H w'' - 2 H w'; w' <- w' - eta H w' - (H w - b); w <- w - eta (H w - b)
        w2 = [a - eta * h2 - 2 * h1 for a, h2, h1 in zip(w2, Hw2, Hw1, strict=True)]
        w1 = [a - eta * h1 - g for a, h1, g in zip(w1, Hw1, gw, strict=True)]
        w = [a - eta * g for a, g in zip(w, gw, strict=True)]
    return w, w1, w2


def forward(
    problem: Problem,
    eta: float | Fraction,
    t: int,
    *,
    objective: str = "naive",
    eval_problem: Problem | None = None,
) -> dict[str, Any]:
    """Exact loss derivatives and meta-objective derivatives by forward-mode unrolling.

    Returns
    -------
    dict
        ``loss``, ``dloss``, ``d2loss`` (the evaluation loss g and its eta-derivatives at
        w_t) and ``F``, ``dF``, ``d2F``. For the log objective ``F`` is ``None`` (irrational)
        while ``dF`` and ``d2F`` are exact.

    Guarantee
    ---------
    Exact rational arithmetic; no rounding anywhere.
    """
    point, data, ev = _exact_point(problem, eta, t, objective, eval_problem)
    obj, q, ti = point.objective, point.eta, point.t
    w, w1, w2 = _trajectory(data, q, ti)
    g, g1, g2 = loss_derivatives(ev, w, w1, w2)
    if obj == "log" and g <= 0:
        from ..errors import ZeroLossError

        raise ZeroLossError(
            "eta", eta, f"the loss at w_t (t={ti}) is {float(g)!r} <= 0; log undefined"
        )
    F = compose(obj, ti, g, g1, g2, log=None, order=2)
    out: dict[str, Any] = {"loss": g, "dloss": g1, "d2loss": g2, "w_t": w}
    out.update(F=F[0], dF=F[1], d2F=F[2])
    return out


def reverse(
    problem: Problem,
    eta: float | Fraction,
    t: int,
    *,
    objective: str = "naive",
    eval_problem: Problem | None = None,
) -> Fraction:
    """Exact meta-gradient dF/deta by reverse mode through the stored trajectory.

    Guarantee
    ---------
    Exact rational arithmetic.
    """
    point, data, ev = _exact_point(problem, eta, t, objective, eval_problem)
    obj, q, ti = point.objective, point.eta, point.t
    traj = [list(data.w0)]
    for _ in range(ti):
        w = traj[-1]
        traj.append([a - q * g for a, g in zip(w, data.grad(w), strict=True)])
    g = ev.loss(traj[-1])
    # adjoint of the meta-objective w.r.t. w_t
    scale = Fraction(1) if obj == "naive" else 1 / (ti * g)
    bar = [scale * r for r in ev.grad(traj[-1])]
    total = Fraction(0)
    for k in range(ti - 1, -1, -1):
        wk = traj[k]
        total += _dot(bar, [-x for x in data.grad(wk)])
        # bar w_k = (I - eta H)^T bar w_{k+1}, H symmetric
        Hb = data.matvec(bar)
        bar = [a - q * h for a, h in zip(bar, Hb, strict=True)]
    return total


def _matmul(A: Mat, B: Mat) -> Mat:
    n = len(B[0])
    return [
        [sum((row[k] * B[k][j] for k in range(len(B))), Fraction(0)) for j in range(n)] for row in A
    ]


def _matvec(A: Mat, v: Vec) -> Vec:
    return [_dot(row, v) for row in A]


def closed_form(
    problem: Problem,
    eta: float | Fraction,
    t: int,
    *,
    objective: str = "naive",
    eval_problem: Problem | None = None,
) -> Fraction:
    """Exact meta-gradient from the closed form in matrix powers of A = I - eta H.

    w_t = A^t w0 + eta sum_{k<t} A^k b,
    w'_t = -t H A^{t-1} w0 + sum_{k<t} (A^k - eta k H A^{k-1}) b.

    Guarantee
    ---------
    Exact rational arithmetic.
    """
    point, data, ev = _exact_point(problem, eta, t, objective, eval_problem)
    obj, q, ti = point.objective, point.eta, point.t
    d = data.d
    ident = [[Fraction(int(i == j)) for j in range(d)] for i in range(d)]
    A = [[ident[i][j] - q * data.H[i][j] for j in range(d)] for i in range(d)]
    powers = [ident]
    for _ in range(ti):
        powers.append(_matmul(powers[-1], A))
    HA = [_matmul(data.H, P) for P in powers]
    w = _matvec(powers[ti], data.w0)
    w1 = [Fraction(0)] * d if ti == 0 else [-ti * x for x in _matvec(HA[ti - 1], data.w0)]
    for k in range(ti):
        w = _axpy(q, _matvec(powers[k], data.b), w)
        w1 = _axpy(Fraction(1), _matvec(powers[k], data.b), w1)
        if k >= 1:
            w1 = _axpy(-q * k, _matvec(HA[k - 1], data.b), w1)
    r = ev.grad(w)
    g = ev.loss(w)
    dg = _dot(r, w1)
    if obj == "naive":
        return dg
    return dg / (ti * g)
