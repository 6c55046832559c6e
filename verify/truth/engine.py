"""Certified meta-objective, meta-gradient and meta-Hessian with python-flint (Arb balls).

Two engines compute the end of the GD trajectory w_t(eta) together with its first and second
eta-derivatives as Arb ball vectors; the meta-objective is then composed in ball arithmetic.

``"eigen"`` (default)
    Uses the refined eigendecomposition H~ = Q diag(mu) Q^{-1} of :mod:`verify.certified.eigen`
    (``problem.certified_eig``).
    In eigen-coordinates everything is a scalar power: with a_i = 1 - eta mu_i,
    x_i = a_i^t z_i + phi_i beta_i, phi_i = (1 - a_i^t)/mu_i (= t eta at mu_i = 0),
    x'_i = t a_i^{t-1} (beta_i - mu_i z_i), x''_i = -t(t-1) mu_i a_i^{t-2} (beta_i - mu_i z_i),
    with z = Q^{-1} w0, beta = Q^{-1} b; then w^(j)_t = Q x^(j). Cost O(d^3) once per problem and
    precision, O(d^2) per (eta, t), independent of t (powers by Arb's exact exponentiation).
    The difference between the exact H and H~ is accounted for by a proven perturbation bound
    (see :func:`_perturbation_radii`), added as a radius to every component.

``"power"``
    Repeated squaring of the tangent-augmented GD map
    s_{k+1} = M s_k, s = (w, w', w'', 1), M = [[A,0,0,eta b],[-H,A,0,b],[0,-2H,A,0],[0,0,0,1]]
    in ball arithmetic. Needs no eigendecomposition, but ball radii grow with the entrywise
    |A|^t, so it is only practical for small t; it is the independent cross-check.

Both run inside local precision contexts (``flint.ctx.workprec``); the global context is never
assigned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from typing import Any, Literal

from ..certified.enclosure import Enclosure
from ..errors import (
    NotCertifiedError,
    NotPositiveDefiniteError,
    UnknownOptionError,
    UnsupportedOptionError,
    ZeroLossError,
)
from ..floats import frobenius_upper
from ..objectives import compose
from ..problems import LeastSquares, Problem, Quadratic
from ..validation import (
    Point,
    validate_beta,
    validate_optimizer,
    validate_point,
    validate_rel_tol,
    validate_wrt,
)
from . import momentum, rational

__all__ = [
    "DEFAULT_MAX_PREC_BITS",
    "DEFAULT_REL_TOL",
    "Momentum",
    "meta_gradient",
    "meta_hessian",
    "meta_objective",
]

Engine = Literal["auto", "eigen", "power"]
DEFAULT_REL_TOL = Fraction(1, 2**80)
DEFAULT_MAX_PREC_BITS = 8192


@dataclass(frozen=True)
class Momentum:
    """The validated inner optimizer: heavy ball with momentum ``beta`` (exact), derivatives
    along ``wrt``. ``None`` in place of a Momentum means plain GD along eta."""

    beta: Fraction
    wrt: str


def validate_momentum(optimizer: object, beta: object, wrt: object) -> Momentum | None:
    """The optimizer settings, or ``None`` when they describe plain GD along eta.

    ``optimizer="gd"`` takes no momentum (``beta`` must be 0) and has no ``wrt="beta"``;
    heavy ball with ``beta = 0`` and ``wrt="eta"`` *is* GD and returns ``None`` too, so that
    its enclosures are GD's exactly.

    Raises
    ------
    UnknownOptionError
        ``optimizer`` or ``wrt`` not one of the names.
    InvalidStepSizeError
        ``beta`` not a finite real in [0, 1).
    UnsupportedOptionError
        ``optimizer="gd"`` with ``beta != 0`` or ``wrt="beta"``.
    """
    opt = validate_optimizer(optimizer, ("gd", "heavy_ball"))
    q = validate_beta(beta)
    direction = validate_wrt(wrt)
    if opt == "gd":
        if q != 0:
            raise UnsupportedOptionError(
                "beta", beta, "optimizer='gd' has no momentum; use optimizer='heavy_ball'"
            )
        if direction != "eta":
            raise UnsupportedOptionError(
                "wrt", wrt, "optimizer='gd' has no beta; use optimizer='heavy_ball'"
            )
    if q == 0 and direction == "eta":
        return None
    return Momentum(q, direction)


# --------------------------------------------------------------------------- Arb data
def _col(values: Any) -> Any:
    from flint import arb_mat

    return arb_mat([[float(v)] for v in values])


def _arb_matrix(problem: Problem, name: str) -> Any:
    """The float64 matrix ``name`` ("H" or "X") of ``problem`` as an exact Arb matrix (memo)."""
    from flint import arb_mat

    return problem.cached(f"truth.engine:{name}", lambda: arb_mat(getattr(problem, name).tolist()))


def _hessian(problem: Problem, prec: int) -> Any:
    """Enclosure of the exact H at ``prec``, built once per problem and precision (for least
    squares it is the product X^T X / n: too costly to repeat for every (eta, t))."""
    return problem.cached(f"truth.engine:hessian@{prec}", lambda: problem.hessian_arb(prec))


def _problem_vectors(problem: Problem, prec: int) -> tuple[Any, Any | None]:
    """(w0, b) as Arb column vectors (b None when zero); b is a ball for least squares."""
    return problem.cached(
        f"truth.engine:vectors@{prec}", lambda: _make_problem_vectors(problem, prec)
    )


def _make_problem_vectors(problem: Problem, prec: int) -> tuple[Any, Any | None]:
    from flint import ctx

    with ctx.workprec(prec):
        if isinstance(problem, LeastSquares):
            X = _arb_matrix(problem, "X")
            b = (X.transpose() * _col(problem.y)) / problem.n
            return _col(problem.w0), b
        return _col(problem.w0), None if problem.b is None else _col(problem.b)


def _dot(u: Any, v: Any) -> Any:
    return (u.transpose() * v)[0, 0]


def _loss_derivatives(problem: Problem, w: Any, w1: Any, w2: Any, order: int) -> list[Any]:
    """g, g', g'' of the loss of ``problem`` along (w, w1, w2) in ball arithmetic."""
    if isinstance(problem, LeastSquares):
        X = _arb_matrix(problem, "X")
        r = X * w - _col(problem.y)
        n = problem.n
        out = [_dot(r, r) / (2 * n)]
        if order >= 1:
            Xw1 = X * w1
            out.append(_dot(Xw1, r) / n)
        if order >= 2:
            out.append((_dot(Xw1, Xw1) + _dot(X * w2, r)) / n)
        return out

    H = _arb_matrix(problem, "H")
    Hw = H * w
    if problem.b is None:
        g = _dot(w, Hw) / 2 + problem.c
        r = Hw
    else:
        bcol = _col(problem.b)
        g = _dot(w, Hw) / 2 - _dot(bcol, w) + problem.c
        r = Hw - bcol
    out = [g]
    if order >= 1:
        out.append(_dot(r, w1))
    if order >= 2:
        out.append(_dot(w1, H * w1) + _dot(r, w2))
    return out


def _eta_arb(eta: Fraction) -> Any:
    from flint import arb, fmpq

    return arb(fmpq(eta.numerator, eta.denominator))


# --------------------------------------------------------------------------- eigen engine
def _perturbation_radii(eig: Any, eta: Any, t: int, order: int, w0n: Any, bn: Any) -> list[Any]:
    """Proven bounds on ||w^(j)_t(H) - w^(j)_t(H~)||_2 for j = 0..order.

    Notation: E = H - H~ with ||E|| <= eps; kappa >= ||Q|| ||Q^-1||; rho~ = max|1 - eta mu_i|,
    h~ = max|mu_i|; by Bauer--Fike every eigenvalue of the exact (symmetric) H is within
    kappa eps of some mu_i, so ||A|| <= rho^ = rho~ + eta kappa eps and ||H|| <= h^ = h~ + kappa
    eps, while ||A~^k|| <= kappa rho~^k, ||H~|| <= kappa h~, ||H~^2|| <= kappa h~^2.

    * X_k = A^k - A~^k = sum_{j<k} A^j (A - A~) A~^{k-1-j}, so
      ||X_k|| <= e_k = k eta eps kappa rho^^{k-1}.
    * Homogeneous part (w0): w_t = A^t w0, w'_t = -t H A^{t-1} w0,
      w''_t = t(t-1) H^2 A^{t-2} w0. Writing H A^{t-1} - H~ A~^{t-1} = E A^{t-1} + H~ X_{t-1}
      and H^2 A^{t-2} - H~^2 A~^{t-2} = (H E + E H~) A^{t-2} + H~^2 X_{t-2}:
      hom0 = e_t, hom1 = t (eps rho^^{t-1} + kappa h~ e_{t-1}),
      hom2 = t(t-1) (eps (h^ + kappa h~) rho^^{t-2} + kappa h~^2 e_{t-2}), each times ||w0||.
    * Affine part (b, exact in both): eta sum_{k<t} A^k b and its eta-derivatives
      sum A^k b - eta sum k H A^{k-1} b and -2 sum k H A^{k-1} b + eta sum k(k-1) H^2 A^{k-2} b.
      With M = max(1, rho^)^t bounding every rho^^j (0 <= j < t):
      S1 = t^2 eta eps kappa M >= sum e_k,
      S2 = t^2 (eps + kappa h~ t eta eps kappa) M >= sum k ||H A^{k-1} - H~ A~^{k-1}||,
      S3 = t^3 (eps (h^ + kappa h~) + kappa h~^2 t eta eps kappa) M, likewise for H^2 A^{k-2};
      aff0 = eta S1, aff1 = S1 + eta S2, aff2 = 2 S2 + eta S3, each times ||b||.
    """
    from flint import arb

    eps, kappa = eig.eps, eig.kappa
    # the largest *upper end* (exact numbers, so the comparisons are decided): the ball with
    # the largest midpoint need not have it when eta is a ball and two of them overlap
    rho_t = max((abs(1 - eta * mu).abs_upper() for mu in eig.mu), key=lambda z: z.mid())
    h_t = max((abs(mu).abs_upper() for mu in eig.mu), key=lambda z: z.mid())
    rho = (rho_t + eta * kappa * eps).abs_upper()
    h = (h_t + kappa * eps).abs_upper()

    def e(k: int) -> Any:
        return arb(0) if k <= 0 else k * eta * eps * kappa * rho ** (k - 1)

    hom = [e(t)]
    if order >= 1:
        hom.append(t * (eps * rho ** (t - 1) + kappa * h_t * e(t - 1)))
    if order >= 2:
        second = eps * (h + kappa * h_t) * rho ** (t - 2) + kappa * h_t**2 * e(t - 2)
        hom.append(arb(0) if t < 2 else t * (t - 1) * second)
    out = [x * w0n for x in hom]
    if bn is not None:
        M = rho.max(arb(1)) ** t
        S1 = t * t * eta * eps * kappa * M
        S2 = t * t * (eps + kappa * h_t * t * eta * eps * kappa) * M
        S3 = t**3 * (eps * (h + kappa * h_t) + kappa * h_t**2 * t * eta * eps * kappa) * M
        aff = [eta * S1, S1 + eta * S2, 2 * S2 + eta * S3][: order + 1]
        out = [x + a * bn for x, a in zip(out, aff, strict=True)]
    return [x.abs_upper() for x in out]


def _minimizer(problem: Problem, b: Any, prec: int) -> Any | None:
    """Ball enclosure of w* = H^{-1} b, or None when H is not proven invertible here.

    Guarantee: Arb's ball Gaussian elimination on the enclosure of the exact H; every exact
    solution of H w = b for H, b in their balls lies in the result.
    """

    def make() -> Any | None:
        from flint import ctx

        with ctx.workprec(prec):
            try:
                return _hessian(problem, prec).solve(b)
            except ZeroDivisionError:  # singular, or not proven nonsingular at this precision
                return None

    return problem.cached(f"truth.engine:wstar@{prec}", make)


def _eigen_start(problem: Problem, eig: Any, prec: int) -> tuple[Any, Any, Any, Any, Any]:
    """(start, z, beta, wstar, b) for the eigen engines, at working precision ``prec``.

    With b != 0 and H proven invertible the trajectory runs in the deviation from
    w* = H^{-1} b: start = w0 - w*, z = Q^{-1} start, beta = None. Otherwise start = w0,
    z = Q^{-1} w0 and beta = Q^{-1} b (None when b = 0), wstar None.
    """
    w0, b = _problem_vectors(problem, prec)
    wstar = _minimizer(problem, b, prec) if b is not None else None
    if wstar is not None:
        start = w0 - wstar
        z = problem.cached(f"truth.engine:z-shifted@{prec}", lambda: eig.solve(start))
        beta = None
    else:
        start = w0
        z = problem.cached(f"truth.engine:z@{prec}", lambda: eig.solve(w0))
        beta = (
            problem.cached(f"truth.engine:beta@{prec}", lambda: eig.solve(b))
            if b is not None
            else None
        )
    return start, z, beta, wstar, b


def _trajectory_eigen(
    problem: Problem, eta: Fraction, t: int, order: int, prec: int
) -> tuple[list[Any], Any | None]:
    """(w_t, w'_t, w''_t) as Arb vectors, and the deviation w_t - w* when b != 0 and H is
    invertible (else None).

    With b != 0 and H invertible, the trajectory is computed in the deviation e = w - w*:
    e_t = A^t (w0 - w*) is homogeneous, so its enclosure (and those of the derivatives, which
    equal e's) carries radii proportional to rho^t, and the self-evaluated loss
    f(w*) + e^T H e / 2 has no cancellation. Computing w_t itself and then H w_t - b would
    lose every digit once rho^t falls below the radius of w_t (paper notes §4.7: the meta-
    gradient of a converged least-squares run is exponentially small).
    """
    from flint import arb, ctx

    eig = problem.certified_eig(prec)
    with ctx.workprec(prec):
        e = _eta_arb(eta)
        start, z, beta, wstar, b = _eigen_start(problem, eig, prec)
        d = problem.d
        cols: list[list[Any]] = [[], [], []]
        for i in range(d):
            mu = eig.mu[i]
            a = 1 - e * mu
            at = a**t
            zi = z[i, 0]
            bi = beta[i, 0] if beta is not None else arb(0)
            # phi = (1 - a^t)/mu computed without cancellation for small eta*mu
            if beta is None:
                phi = arb(0)
            elif mu == 0:
                phi = t * e
            elif a > arb(1) / 2:
                phi = -((t * (-e * mu).log1p()).expm1()) / mu
            else:
                phi = (1 - at) / mu
            cols[0].append(at * zi + phi * bi)
            if order >= 1:
                at1 = a ** (t - 1) if t >= 1 else arb(0)
                cols[1].append(t * at1 * (bi - mu * zi))
            if order >= 2:
                at2 = a ** (t - 2) if t >= 2 else arb(0)
                cols[2].append(-t * (t - 1) * mu * at2 * (bi - mu * zi))
        w0n = frobenius_upper(start)
        bn = frobenius_upper(b) if beta is not None else None
        radii = _perturbation_radii(eig, e, t, order, w0n, bn)
        return _assemble(eig, cols, radii, order, wstar)


def _assemble(
    eig: Any, cols: list[list[Any]], radii: list[Any], order: int, wstar: Any | None
) -> tuple[list[Any], Any | None]:
    """w^(j)_t = Q x^(j) plus the proven perturbation radius in every component; the deviation
    split as in :func:`_trajectory_eigen`. Runs in the caller's precision context."""
    from flint import arb, arb_mat

    d = len(cols[0])
    vecs = []
    for j in range(order + 1):
        vecs.append(eig.Q * arb_mat([[x] for x in cols[j]]))
    for v, rad in zip(vecs, radii, strict=True):
        bump = arb(0, rad)
        for i in range(d):
            v[i, 0] = v[i, 0] + bump
    while len(vecs) < 3:
        vecs.append(arb_mat(d, 1))
    deviation = None
    if wstar is not None:
        deviation = vecs[0]
        vecs[0] = wstar + deviation
    return vecs, deviation


def _trajectory_heavy_ball(
    problem: Problem, eta: Fraction, mom: Momentum, t: int, order: int, prec: int
) -> tuple[list[Any], Any | None]:
    """Heavy ball's (w_t, w'_t, w''_t) (derivatives along ``mom.wrt``) and the deviation, as
    :func:`_trajectory_eigen` does for GD.

    Per eigenmode the 2x2 companion recurrence is raised to the t-th power with its
    derivatives (:func:`verify.truth.momentum.mode_derivatives`) at ``prec`` plus
    (log2 t)^2 / 2 + 16 bits, what binary powering can lose to cancellation at a double root;
    the eigendecomposition's error is bounded by
    :func:`verify.truth.momentum.perturbation_radii` (Daleckii--Krein, no normality needed).
    With b != 0 and H invertible the iteration runs in the deviation from w*, which heavy
    ball shares with GD (a fixed point of both), so the start is w0 - w* and there is no
    forcing.
    """
    from flint import ctx

    eig = problem.certified_eig(prec)
    mode_prec = prec + t.bit_length() ** 2 // 2 + 16
    with ctx.workprec(prec):
        e, bt = _eta_arb(eta), _eta_arb(mom.beta)
        start, z, forcing, wstar, b = _eigen_start(problem, eig, prec)
    cols: list[list[Any]] = [[], [], []]
    with ctx.workprec(mode_prec):
        for i, mu in enumerate(eig.mu):
            bi = forcing[i, 0] if forcing is not None else None
            xs = momentum.mode_derivatives(mu, e, bt, t, mom.wrt, order, z[i, 0], bi)
            for j, x in enumerate(xs):
                cols[j].append(x)
    with ctx.workprec(prec):
        w0n = frobenius_upper(start)
        bn = frobenius_upper(b) if forcing is not None else None
        radii = momentum.perturbation_radii(eig, e, bt, t, mom.wrt, order, w0n, bn)
        return _assemble(eig, cols, radii, order, wstar)


def _shifted_loss_derivatives(
    problem: Problem, dev: Any, w1: Any, w2: Any, order: int, prec: int
) -> list[Any]:
    """g, g', g'' of the problem's own loss from the deviation dev = w_t - w*.

    f(w* + e) = f(w*) + e^T H e / 2 exactly (the gradient vanishes at w*), so the gradient
    H w_t - b is evaluated as H e: no cancellation between H w_t and b.
    """
    H = _hessian(problem, prec)
    _, b = _problem_vectors(problem, prec)
    wstar = _minimizer(problem, b, prec)
    if isinstance(problem, LeastSquares):
        X = _arb_matrix(problem, "X")
        res = X * wstar - _col(problem.y)
        fstar = _dot(res, res) / (2 * problem.n)
    else:
        fstar = problem.c - _dot(b, wstar) / 2
    r = H * dev
    out = [fstar + _dot(dev, r) / 2]
    if order >= 1:
        out.append(_dot(r, w1))
    if order >= 2:
        out.append(_dot(w1, H * w1) + _dot(r, w2))
    return out


# --------------------------------------------------------------------------- power engine
def _trajectory_power(
    problem: Problem, eta: Fraction, t: int, order: int, prec: int
) -> tuple[list[Any], None]:
    from flint import arb_mat, ctx

    d = problem.d
    with ctx.workprec(prec):
        e = _eta_arb(eta)
        H = _hessian(problem, prec)
        w0, b = _problem_vectors(problem, prec)
        nb = order + 1
        n = nb * d + 1
        M = arb_mat(n, n)
        for blk in range(nb):
            for i in range(d):
                for j in range(d):
                    hij = H[i, j]
                    M[blk * d + i, blk * d + j] = (1 if i == j else 0) - e * hij
                    if blk >= 1:
                        M[blk * d + i, (blk - 1) * d + j] = -blk * hij
        M[n - 1, n - 1] = 1
        if b is not None:
            for i in range(d):
                M[i, n - 1] = e * b[i, 0]
                if nb >= 2:
                    M[d + i, n - 1] = b[i, 0]
        s0 = arb_mat(n, 1)
        for i in range(d):
            s0[i, 0] = w0[i, 0]
        s0[n - 1, 0] = 1
        st = (M**t) * s0
        vecs = [arb_mat([[st[blk * d + i, 0]] for i in range(d)]) for blk in range(nb)]
        while len(vecs) < 3:
            vecs.append(arb_mat(d, 1))
    return vecs, None


# --------------------------------------------------------------------------- driver
def _compute(point: Point, order: int, engine: str, prec: int, mom: Momentum | None) -> Any:
    """The requested derivative of the meta-objective as an Arb ball at precision ``prec``."""
    from flint import ctx

    problem, eta, t, objective = point.problem, point.eta, point.t, point.objective
    if mom is not None:
        (w, w1, w2), deviation = _trajectory_heavy_ball(problem, eta, mom, t, order, prec)
    else:
        traj = _trajectory_eigen if engine == "eigen" else _trajectory_power
        (w, w1, w2), deviation = traj(problem, eta, t, order, prec)
    ev = point.evaluated_on
    with ctx.workprec(prec):
        if deviation is not None and ev is problem:
            g = _shifted_loss_derivatives(problem, deviation, w1, w2, order, prec)
        else:
            g = _loss_derivatives(ev, w, w1, w2, order)
        while len(g) < 3:
            g.append(None)
        if objective == "log":
            if g[0].is_zero():
                raise ZeroLossError(
                    "eta",
                    float(eta),
                    f"the loss at w_t (t={t}) is exactly 0; log objective undefined",
                )
            if g[0] < 0:
                raise ZeroLossError(
                    "eta",
                    float(eta),
                    f"the loss at w_t (t={t}) is negative; log objective undefined",
                )
            if not g[0] > 0:
                return None  # sign of the loss not yet resolved: caller raises precision
        F = compose(objective, t, g[0], g[1], g[2], log=lambda x: x.log(), order=order)
    return F[order]


def _check_log_definiteness(problem: Problem, name: str) -> None:
    if isinstance(problem, Quadratic) and problem.definiteness != "positive_definite":
        raise NotPositiveDefiniteError(
            name,
            problem,
            "the log objective requires a positive definite H; certified class is "
            f"{problem.definiteness!r}",
        )


def _certify(
    problem: Problem,
    eta: object,
    t: object,
    *,
    objective: str,
    eval_problem: Problem | None,
    rel_tol: object,
    order: int,
    engine: str,
    max_prec_bits: int,
    optimizer: object = "gd",
    beta: object = 0,
    wrt: object = "eta",
) -> Enclosure:
    point = validate_point(problem, eta, t, objective, eval_problem)
    mom = validate_momentum(optimizer, beta, wrt)
    if isinstance(max_prec_bits, bool) or not isinstance(max_prec_bits, int) or max_prec_bits < 64:
        from ..errors import InvalidPrecisionError

        raise InvalidPrecisionError("max_prec_bits", max_prec_bits, "must be an int >= 64")
    tol = validate_rel_tol(rel_tol, max_prec_bits=max_prec_bits)
    if engine not in ("auto", "eigen", "power"):
        raise UnknownOptionError("engine", engine, "must be 'auto', 'eigen' or 'power'")
    if mom is not None and engine == "power":
        raise UnsupportedOptionError(
            "engine", engine, "heavy ball is certified by the eigen engine only"
        )
    if point.objective == "log":
        _check_log_definiteness(
            point.evaluated_on, "problem" if eval_problem is None else "eval_problem"
        )
    ti = point.t
    if order >= 1 and ti == 0:
        return Enclosure.exact(0)  # w_0 does not depend on eta
    tol_bits = tol.denominator.bit_length() - tol.numerator.bit_length()
    # the perturbation bounds grow like t^2 (order 2, affine: t^4): a few log2(t) bits
    start = min(max_prec_bits, max(128, tol_bits + 32 + 2 * ti.bit_length()))
    engines = ["eigen", "power"] if engine == "auto" else [engine]
    last_error: NotCertifiedError | None = None
    exact = cache(lambda: _exact_enclosure(point, order, tol, max_prec_bits, mom))
    for eng in engines:
        if eng == "power" and engine == "auto" and (problem.d > 60 or ti > 4096 or mom):
            break
        try:
            return _adaptive(point, order, eng, tol, start, max_prec_bits, exact, mom)
        except NotCertifiedError as exc:
            last_error = exc
    assert last_error is not None
    raise last_error


# --------------------------------------------------------------------------- exact routes
def _exact_results(point: Point, mom: Momentum | None) -> dict[str, Any] | None:
    """verify.truth.rational's exact results at ``point`` when a cheap route exists."""
    if mom is not None:
        n = sum(p.n for p in (point.problem, point.eval_problem) if isinstance(p, LeastSquares))
        work = point.problem.d**2 * ((point.t + 1) ** 2 + n)
        if point.t > rational.HEAVY_BALL_MAX_T or work > rational.FORWARD_WORK_LIMIT:
            return None
        return rational.heavy_ball_forward(
            point.problem,
            point.eta,
            point.t,
            beta=mom.beta,
            wrt=mom.wrt,
            objective=point.objective,
            eval_problem=point.eval_problem,
        )
    return rational.exact_value(
        point.problem,
        point.eta,
        point.t,
        objective=point.objective,
        eval_problem=point.eval_problem,
    )


def _exact_enclosure(
    point: Point, order: int, tol: Fraction, cap: int, mom: Momentum | None = None
) -> Enclosure | None:
    """The result from exact rational arithmetic, when :func:`rational.exact_value` has a
    cheap route (any t when GD reaches a fixed point in one step; small problems otherwise).

    This is what settles a value that is exactly zero (e.g. 1 - eta lambda = 0 exactly for
    the only excited mode, with eta = 1/3 not dyadic): no ball around it ever reaches a
    relative tolerance. Exact for the naive objective and for every derivative; the log
    objective's value log(g)/t is enclosed in Arb from the exact g.

    Raises
    ------
    ZeroLossError
        ``objective="log"`` where the exact loss is <= 0.
    """
    vals = _exact_results(point, mom)
    if vals is None:
        return None
    if order >= 1 or point.objective == "naive":
        return Enclosure.exact((vals["F"], vals["dF"], vals["d2F"])[order])
    from flint import arb, ctx, fmpq

    g: Fraction = vals["loss"]
    prec = 128
    while prec <= cap:
        with ctx.workprec(prec):
            x = arb(fmpq(g.numerator, g.denominator)).log() / point.t
        enc = Enclosure.from_arb(x, prec)
        if enc.meets_rel_tol(tol):
            return enc
        prec *= 2
    return None


def _oracle(point: Point, order: int, mom: Momentum | None) -> Callable[[], Fraction | None]:
    """The exact value for :meth:`Enclosure.to_float` to round when a ball cannot decide
    (a value that is itself a rounding tie), or None: log(g)/t is irrational unless g = 1."""

    def exact() -> Fraction | None:
        try:
            vals = _exact_results(point, mom)
        except ZeroLossError:
            return None
        if vals is None:
            return None
        if order == 0 and point.objective == "log":
            return Fraction(0) if vals["loss"] == 1 else None
        value: Fraction = (vals["F"], vals["dF"], vals["d2F"])[order]
        return value

    return exact


def _adaptive(
    point: Point,
    order: int,
    engine: str,
    tol: Fraction,
    start: int,
    cap: int,
    exact: Callable[[], Enclosure | None],
    mom: Momentum | None = None,
) -> Enclosure:
    oracle = _oracle(point, order, mom)

    def at(prec: int) -> Enclosure | None:
        x = _compute(point, order, engine, prec, mom)
        if x is None or not x.is_finite():
            return None
        return Enclosure.from_arb(x, prec, refine=refine, oracle=oracle)

    def refine(prec: int) -> Enclosure:
        p = prec
        while p <= cap:
            enc = at(p)
            if enc is not None:
                return enc
            p *= 2
        raise NotCertifiedError(
            "refinement exceeded the precision cap", prec_bits=cap, achieved_rel=float("inf")
        )

    prec = start
    achieved = float("inf")
    while prec <= cap:
        enc = at(prec)
        if enc is not None and enc.meets_rel_tol(tol):
            return enc
        if enc is None or enc.contains_zero():  # sign unresolved: maybe exactly zero
            settled = exact()
            if settled is not None:
                return settled
        if enc is not None:
            achieved = enc.rel_radius()
        prec *= 2
    raise NotCertifiedError(
        f"could not certify the {['meta-objective', 'meta-gradient', 'meta-Hessian'][order]} "
        f"(objective={point.objective!r}, eta={float(point.eta)!r}, t={point.t}, "
        f"engine={engine!r}{_momentum_text(mom)}) to relative "
        f"radius {float(tol):.3g} within max_prec_bits={cap}; reached {achieved:.3g}. The value "
        "may be exactly zero or extraordinarily close to it.",
        prec_bits=cap,
        achieved_rel=achieved,
    )


def _momentum_text(mom: Momentum | None) -> str:
    if mom is None:
        return ""
    return f", optimizer='heavy_ball', beta={float(mom.beta)!r}, wrt={mom.wrt!r}"


_DOC_PARAMS = """
    Parameters
    ----------
    problem : Quadratic or LeastSquares
        The training problem; GD runs on it from ``problem.w0``.
    eta : float, int or Fraction
        Step size, >= 0. Its exact value is used (a float is the dyadic rational it holds).
    t : int
        Number of GD steps, >= 0 (>= 1 for ``objective="log"``).
    objective : {"log", "naive"}
        ``"naive"``: F = g(w_t); ``"log"``: F = (1/t) log g(w_t).
    eval_problem : Quadratic or LeastSquares, optional
        Loss g evaluated at w_t (e.g. a validation set); defaults to ``problem``.
    rel_tol : float or Fraction
        Required relative radius of the enclosure (default 2**-80).
    engine : {"auto", "eigen", "power"}
        ``"auto"`` tries the eigen engine, then (small d and t only) the power engine.
    max_prec_bits : int
        Precision cap; past it :class:`~verify.errors.NotCertifiedError` is raised.
    optimizer : {"gd", "heavy_ball"}
        The inner optimizer: GD, or heavy-ball momentum
        w_{k+1} = w_k - eta grad f(w_k) + beta (w_k - w_{k-1}) with w_{-1} = w_0 (eigen engine
        only; ``beta = 0`` with ``wrt="eta"`` is GD and returns GD's enclosures exactly).
    beta : float, int or Fraction
        Momentum, 0 <= beta < 1, used exactly; must be 0 for ``optimizer="gd"``.
    wrt : {"eta", "beta"}
        (meta_gradient, meta_hessian) The hyperparameter to differentiate in; ``"beta"``
        needs ``optimizer="heavy_ball"``.

    Returns
    -------
    Enclosure
        A proven interval around the exact value, relative radius <= ``rel_tol``.

    Guarantee
    ---------
    Enclosure proven by ball arithmetic for the exact rational inputs (including, for the eigen
    engine, a proven bound on the eigendecomposition error); relative radius <= ``rel_tol``.
    Never returns an unproven number.

    Raises
    ------
    InvalidStepSizeError, InvalidHorizonError, InvalidPrecisionError, UnknownOptionError,
    UnsupportedOptionError, ShapeMismatchError
        Bad arguments (each names the argument and value): among them ``beta`` outside
        [0, 1), an unknown ``optimizer`` or ``wrt``, momentum with ``optimizer="gd"``.
    NotPositiveDefiniteError
        ``objective="log"`` on a quadratic whose H is not certified positive definite.
    ZeroLossError
        ``objective="log"`` where the loss at w_t is exactly zero or negative.
    NotCertifiedError
        The tolerance cannot be met within ``max_prec_bits``.
"""


def meta_objective(
    problem: Problem,
    eta: float | Fraction,
    t: int,
    *,
    objective: str = "log",
    eval_problem: Problem | None = None,
    rel_tol: float | Fraction = DEFAULT_REL_TOL,
    engine: Engine = "auto",
    max_prec_bits: int = DEFAULT_MAX_PREC_BITS,
    optimizer: str = "gd",
    beta: float | Fraction = 0,
) -> Enclosure:
    return _certify(
        problem,
        eta,
        t,
        objective=objective,
        eval_problem=eval_problem,
        rel_tol=rel_tol,
        order=0,
        engine=engine,
        max_prec_bits=max_prec_bits,
        optimizer=optimizer,
        beta=beta,
    )


def meta_gradient(
    problem: Problem,
    eta: float | Fraction,
    t: int,
    *,
    objective: str = "log",
    eval_problem: Problem | None = None,
    rel_tol: float | Fraction = DEFAULT_REL_TOL,
    engine: Engine = "auto",
    max_prec_bits: int = DEFAULT_MAX_PREC_BITS,
    optimizer: str = "gd",
    beta: float | Fraction = 0,
    wrt: str = "eta",
) -> Enclosure:
    return _certify(
        problem,
        eta,
        t,
        objective=objective,
        eval_problem=eval_problem,
        rel_tol=rel_tol,
        order=1,
        engine=engine,
        max_prec_bits=max_prec_bits,
        optimizer=optimizer,
        beta=beta,
        wrt=wrt,
    )


def meta_hessian(
    problem: Problem,
    eta: float | Fraction,
    t: int,
    *,
    objective: str = "log",
    eval_problem: Problem | None = None,
    rel_tol: float | Fraction = DEFAULT_REL_TOL,
    engine: Engine = "auto",
    max_prec_bits: int = DEFAULT_MAX_PREC_BITS,
    optimizer: str = "gd",
    beta: float | Fraction = 0,
    wrt: str = "eta",
) -> Enclosure:
    return _certify(
        problem,
        eta,
        t,
        objective=objective,
        eval_problem=eval_problem,
        rel_tol=rel_tol,
        order=2,
        engine=engine,
        max_prec_bits=max_prec_bits,
        optimizer=optimizer,
        beta=beta,
        wrt=wrt,
    )


meta_objective.__doc__ = "Certified meta-objective F(eta).\n" + _DOC_PARAMS
meta_gradient.__doc__ = "Certified meta-gradient dF/deta (or dF/dbeta).\n" + _DOC_PARAMS
meta_hessian.__doc__ = (
    "Certified second derivative d^2F/deta^2 or d^2F/dbeta^2 (for convexity checks).\n"
    + _DOC_PARAMS
)
