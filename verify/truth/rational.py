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

:func:`heavy_ball_forward` is the same forward mode for heavy-ball momentum
w_{k+1} = w_k - eta (H w_k - b) + beta (w_k - w_{k-1}), w_{-1} = w_0, with exact derivatives
in eta or in beta.

:func:`structured` is exact at *any* t, in O(d^2) operations, on the inputs where GD reaches
a fixed point in one step: w0 and b in ker(H (eta H - I)) (e.g. 1 - eta lambda = 0 exactly
for the only mode w0 excites). :func:`exact_value` picks whichever route is cheap enough.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from ..objectives import compose
from ..problems import LeastSquares, Problem
from ..validation import Point, validate_point

__all__ = [
    "FORWARD_WORK_LIMIT",
    "HEAVY_BALL_MAX_T",
    "ExactData",
    "closed_form",
    "exact_value",
    "forward",
    "heavy_ball_forward",
    "loss_derivatives",
    "reverse",
    "structured",
]

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
    w, w1, w2 = _trajectory(data, point.eta, point.t)
    return _results(point, ev, w, w1, w2, eta)


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


def _in_fixed_space(data: ExactData, eta: Fraction, v: Vec) -> bool:
    """Whether H (eta H - I) v = 0 exactly, i.e. v lies in ker H + ker(eta H - I)."""
    hv = data.matvec(v)
    return not any(data.matvec([eta * x - y for x, y in zip(hv, v, strict=True)]))


def _structured_trajectory(data: ExactData, q: Fraction, t: int) -> tuple[Vec, Vec, Vec]:
    """(w_t, w'_t, w''_t) when w0 and b lie in V = ker H + ker(q H - I) (see structured)."""
    d = data.d
    zero = [Fraction(0)] * d
    w0, b = data.w0, data.b
    Hw0, Hb = data.matvec(w0), data.matvec(b)
    Aw0 = [x - q * h for x, h in zip(w0, Hw0, strict=True)]
    Ab = [x - q * h for x, h in zip(b, Hb, strict=True)]
    # S0 = sum_{k<t} A^k b = b + (t-1) A b (t >= 1): A^k v = A v for v in V, k >= 1
    S0 = zero if t == 0 else _axpy(Fraction(t - 1), Ab, b)
    w = _axpy(q, S0, Aw0 if t >= 1 else w0)
    # H A^j v = 0 for v in V, j >= 1: only the first terms of the sums survive
    w1 = list(S0)
    if t == 1:
        w1 = _axpy(Fraction(-1), Hw0, w1)
    if t >= 2:
        w1 = _axpy(-q, Hb, w1)
    w2 = list(zero)
    if t == 2:
        w2 = _axpy(Fraction(2), data.matvec(Hw0), w2)
    if t >= 2:
        w2 = _axpy(Fraction(-2), Hb, w2)
    if t >= 3:
        w2 = _axpy(2 * q, data.matvec(Hb), w2)
    return w, w1, w2


def structured(
    problem: Problem,
    eta: float | Fraction,
    t: int,
    *,
    objective: str = "naive",
    eval_problem: Problem | None = None,
) -> dict[str, Any] | None:
    """Exact results at any t when GD is at a fixed point after one step; else ``None``.

    With A = I - eta H and V = ker(H (eta H - I)) = ker H + ker(eta H - I) (H symmetric, so
    the two kernels are complementary eigenspaces of H): for v in V, A v is v's component in
    ker H, so A^k v = A v and H A^k v = 0 for every k >= 1. When w0 and b lie in V, the sums
    of :func:`closed_form` and their eta-derivatives
    (w''_t = t(t-1) H^2 A^{t-2} w0 - 2 sum k H A^{k-1} b + eta sum k(k-1) H^2 A^{k-2} b)
    keep only their first terms:
    w_t = A^t w0 + eta S, S = [t >= 1](b + (t-1) A b),
    w'_t = -[t = 1] H w0 + S - [t >= 2] eta H b,
    w''_t = [t = 2] 2 H^2 w0 - [t >= 2] 2 H b + [t >= 3] 2 eta H^2 b.
    The typical case is 1 - eta lambda = 0 exactly for an eigenvalue lambda of H: that mode
    is annihilated in one step, so the loss can be exactly 0 at every t, where no ball ever
    reaches a relative tolerance.

    Returns
    -------
    dict or None
        As :func:`forward` (``loss``, ``dloss``, ``d2loss``, ``F``, ``dF``, ``d2F``,
        ``w_t``), or ``None`` when w0 or b is not in V.

    Guarantee
    ---------
    Exact rational arithmetic, O(d^2) operations at any t (the membership test
    H (eta H - I) v = 0 is exact too).

    Raises
    ------
    ZeroLossError
        ``objective="log"`` where the exact loss at w_t is <= 0.
    """
    point, data, ev = _exact_point(problem, eta, t, objective, eval_problem)
    q = point.eta
    if not (_in_fixed_space(data, q, data.w0) and _in_fixed_space(data, q, data.b)):
        return None
    w, w1, w2 = _structured_trajectory(data, q, point.t)
    return _results(point, ev, w, w1, w2, eta)


def _results(point: Point, ev: ExactData, w: Vec, w1: Vec, w2: Vec, eta: object) -> dict[str, Any]:
    g, g1, g2 = loss_derivatives(ev, w, w1, w2)
    if point.objective == "log" and g <= 0:
        from ..errors import ZeroLossError

        raise ZeroLossError(
            "eta", eta, f"the loss at w_t (t={point.t}) is {float(g)!r} <= 0; log undefined"
        )
    F = compose(point.objective, point.t, g, g1, g2, log=None, order=2)
    out: dict[str, Any] = {"loss": g, "dloss": g1, "d2loss": g2, "w_t": w}
    out.update(F=F[0], dF=F[1], d2F=F[2])
    return out


FORWARD_WORK_LIMIT = 200_000
"""Largest d^2 ((t+1)^2 + n) for which :func:`exact_value` unrolls GD in Fractions.

The numbers grow by ~100 bits a step, so forward unrolling costs ~ d^2 t^2 word operations:
about 1.7 microseconds per unit measured at d = 10, t = 64 (0.67 s); the limit keeps one
call under half a second (n: rows of a least-squares X, for forming H exactly)."""


def exact_value(
    problem: Problem,
    eta: float | Fraction,
    t: int,
    *,
    objective: str = "naive",
    eval_problem: Problem | None = None,
) -> dict[str, Any] | None:
    """Exact results by :func:`structured` (any t) or :func:`forward` (small problems only).

    Returns ``None`` when neither applies (no fixed-point structure, and
    d^2 ((t+1)^2 + n) > :data:`FORWARD_WORK_LIMIT`).

    Guarantee
    ---------
    Exact rational arithmetic (see the two routes).
    """
    got = structured(problem, eta, t, objective=objective, eval_problem=eval_problem)
    if got is not None:
        return got
    n = sum(p.n for p in (problem, eval_problem) if isinstance(p, LeastSquares))
    if problem.d**2 * ((int(t) + 1) ** 2 + n) > FORWARD_WORK_LIMIT:
        return None
    return forward(problem, eta, t, objective=objective, eval_problem=eval_problem)


HEAVY_BALL_MAX_T = 50
"""Largest horizon :func:`heavy_ball_forward` accepts (exact numbers grow ~100 bits a step)."""


def _heavy_ball_trajectory(
    data: ExactData, eta: Fraction, beta: Fraction, t: int, wrt: str
) -> tuple[Vec, Vec, Vec]:
    """(w_t, w'_t, w''_t) of heavy ball, derivatives along ``wrt``, by exact forward mode.

    Differentiating w_{k+1} = w_k - eta (H w_k - b) + beta (w_k - w_{k-1}):
    along eta, w'_{k+1} = A w'_k - (H w_k - b) + beta (w'_k - w'_{k-1}) and
    w''_{k+1} = A w''_k - 2 H w'_k + beta (w''_k - w''_{k-1});
    along beta, w'_{k+1} = A w'_k + (w_k - w_{k-1}) + beta (w'_k - w'_{k-1}) and
    w''_{k+1} = A w''_k + 2 (w'_k - w'_{k-1}) + beta (w''_k - w''_{k-1}),
    with A = I - eta H and w_{-1} = w_0 (so every derivative starts at 0 twice).
    """
    zero = [Fraction(0)] * data.d
    w, w1, w2 = list(data.w0), list(zero), list(zero)
    p, p1, p2 = list(w), list(zero), list(zero)  # the previous iterate and its derivatives
    for _ in range(t):
        gw, Hw1, Hw2 = data.grad(w), data.matvec(w1), data.matvec(w2)
        if wrt == "eta":
            s1 = [-g for g in gw]
            s2 = [-2 * h for h in Hw1]
        else:
            s1 = [a - b for a, b in zip(w, p, strict=True)]
            s2 = [2 * (a - b) for a, b in zip(w1, p1, strict=True)]
        n2 = [a - eta * h + s + beta * (a - q) for a, h, s, q in zip(w2, Hw2, s2, p2, strict=True)]
        n1 = [a - eta * h + s + beta * (a - q) for a, h, s, q in zip(w1, Hw1, s1, p1, strict=True)]
        n0 = [a - eta * g + beta * (a - q) for a, g, q in zip(w, gw, p, strict=True)]
        p, p1, p2 = w, w1, w2
        w, w1, w2 = n0, n1, n2
    return w, w1, w2


def heavy_ball_forward(
    problem: Problem,
    eta: float | Fraction,
    t: int,
    *,
    beta: float | Fraction,
    wrt: str = "eta",
    objective: str = "naive",
    eval_problem: Problem | None = None,
) -> dict[str, Any]:
    """Exact heavy-ball results and their derivatives along eta or beta, by forward mode.

    Heavy ball: w_{k+1} = w_k - eta grad f(w_k) + beta (w_k - w_{k-1}), w_{-1} = w_0
    (beta = 0 is gradient descent, and then this equals :func:`forward` exactly).

    Parameters
    ----------
    problem, eta, t, objective, eval_problem
        As :func:`forward`; t <= :data:`HEAVY_BALL_MAX_T`.
    beta : float or Fraction
        Momentum, 0 <= beta < 1, used exactly.
    wrt : {"eta", "beta"}
        The hyperparameter the derivatives ``dloss``, ``d2loss``, ``dF``, ``d2F`` are taken in.

    Returns
    -------
    dict
        As :func:`forward`: ``loss``, ``dloss``, ``d2loss``, ``F``, ``dF``, ``d2F``, ``w_t``.

    Guarantee
    ---------
    Exact rational arithmetic; no rounding anywhere.

    Raises
    ------
    InvalidHorizonError
        ``t`` above :data:`HEAVY_BALL_MAX_T` (or any bad horizon).
    InvalidStepSizeError, UnknownOptionError
        Bad ``eta``, ``beta`` or ``wrt`` (each names the argument).
    ZeroLossError
        ``objective="log"`` where the exact loss at w_t is <= 0.
    """
    from ..errors import InvalidHorizonError
    from ..validation import validate_beta, validate_wrt

    q_beta = validate_beta(beta)
    direction = validate_wrt(wrt)
    point, data, ev = _exact_point(problem, eta, t, objective, eval_problem)
    if point.t > HEAVY_BALL_MAX_T:
        raise InvalidHorizonError(
            "t", t, f"the exact heavy-ball oracle unrolls at most {HEAVY_BALL_MAX_T} steps"
        )
    w, w1, w2 = _heavy_ball_trajectory(data, point.eta, q_beta, point.t, direction)
    arg = "eta" if direction == "eta" else "beta"
    return _results(point, ev, w, w1, w2, eta if arg == "eta" else beta)
