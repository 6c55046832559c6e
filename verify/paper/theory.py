"""The paper's bounds and thresholds as plain functions of a problem, on certified numbers.

Every function returns an :class:`~verify.truth.Enclosure` computed in ball arithmetic from
the certified spectral constants (L, alpha, c_1, c_d, c_min) of the problem, so a bound can be
compared with a certified meta-gradient rigorously: "bound holds" means
``meta_gradient.upper <= bound.lower`` style comparisons, never float comparisons.

Theorem numbers follow the ICLR/arXiv-v1 numbering used in the paper notes (§3). Where the paper
assumes ||w0|| = 1 the functions use ||w0||^2 explicitly, which reduces to the paper's
statement for a unit w0 and stays valid for a float64-normalized w0 (||w0|| = 1 only up to
rounding).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from ..certified.enclosure import Enclosure
from ..problems import Problem
from ..validation import validate_eta, validate_horizon

__all__ = [
    "corollary1_predicted_horizon",
    "eta_star_limit",
    "large_t_log_gradient_limit",
    "loss_out_of_range_horizon",
    "mode_enclosures",
    "rho",
    "spectral",
    "theorem3_explosion_difference",
    "theorem3_lower_bound",
    "theorem3_upper_bound",
    "theorem3_upper_bound_rho",
    "theorem4_bound",
    "theorem4_bound_uniform",
]

_PREC = 192


def _arb(x: Enclosure | Fraction | float | int) -> Any:
    from flint import arb, fmpq

    if isinstance(x, Enclosure):
        mid, rad = x.mid, x.rad
        ball = arb(fmpq(mid.numerator, mid.denominator))
        if rad:
            ball = ball + arb(0, arb(fmpq(rad.numerator, rad.denominator)).abs_upper())
        return ball
    q = Fraction(x)
    return arb(fmpq(q.numerator, q.denominator))


def _enc(x: Any) -> Enclosure:
    return Enclosure.from_arb(x, _PREC)


def spectral(problem: Problem) -> dict[str, Enclosure]:
    """Certified L, alpha, c_1 = |<w0,u_1>|, c_d = |<w0,u_d>|, c_min (paper notes §2.3)."""
    return problem.spectral_enclosures()


def _w0_norm2(problem: Problem) -> Any:
    from flint import arb

    total = arb(0)
    for v in problem.w0:
        total += _arb(float(v)) ** 2
    return total


def rho(problem: Problem, eta: float | Fraction) -> Enclosure:
    """rho(eta) = max_i |1 - eta lambda_i| = max(|1 - eta alpha|, |1 - eta L|) (notes §4.3).

    Guarantee
    ---------
    Proven enclosure (ball arithmetic on certified L and alpha).
    """
    from flint import ctx

    e = validate_eta(eta)
    s = spectral(problem)
    with ctx.workprec(_PREC):
        E = _arb(e)
        return _enc(abs(1 - E * _arb(s["alpha"])).max(abs(1 - E * _arb(s["L"]))))


def theorem3_upper_bound(
    eigenvalues: Sequence[float | Fraction],
    c: Sequence[float | Fraction],
    eta: float | Fraction,
    t: int,
) -> Enclosure:
    """Theorem 3 (vanishing side): |F'(eta)| <= t sum_i c_i^2 lambda_i^2 |1 - eta lambda_i|^(2t-1).

    Takes exact eigen-data (e.g. of a diagonal H, where c_i = w0_i exactly). The inequality is
    the triangle inequality on the closed form, so it holds for every eta >= 0; it is
    exponentially small only for 0 < eta < 2/L.

    Guarantee
    ---------
    Proven enclosure of the right-hand side.
    """
    from flint import arb, ctx

    e = validate_eta(eta)
    ti = validate_horizon(t)
    with ctx.workprec(_PREC):
        E = _arb(e)
        total = arb(0)
        for lam, ci in zip(eigenvalues, c, strict=True):
            L_i = _arb(lam)
            total += _arb(ci) ** 2 * L_i**2 * abs(1 - E * L_i) ** (2 * ti - 1)
        return _enc(ti * total)


def theorem3_upper_bound_rho(problem: Problem, eta: float | Fraction, t: int) -> Enclosure:
    """Theorem 3, basis-free form (notes §4.2): |F'(eta)| <= t L^2 rho(eta)^(2t-1) ||w0||^2.

    Guarantee
    ---------
    Proven enclosure of the right-hand side.
    """
    from flint import ctx

    ti = validate_horizon(t)
    s = spectral(problem)
    r = _arb(rho(problem, eta))
    with ctx.workprec(_PREC):
        L = _arb(s["L"])
        return _enc(ti * L**2 * r ** (2 * ti - 1) * _w0_norm2(problem))


def theorem3_lower_bound(problem: Problem, eta: float | Fraction, t: int) -> Enclosure:
    """Theorem 3 (explosion side), eta > 2/L: F' >= c_1^2 L^2 t (eta L-1)^(2t-1) - L^2 t ||w0||^2.

    With ||w0|| = 1 this is the paper's bound. It is vacuous (negative) unless
    c_1^2 (eta L - 1)^(2t-1) > ||w0||^2.

    Guarantee
    ---------
    Proven enclosure of the right-hand side (c_1 = |<w0, u_1>| certified).
    """
    from flint import ctx

    e = validate_eta(eta)
    ti = validate_horizon(t)
    s = spectral(problem)
    with ctx.workprec(_PREC):
        L = _arb(s["L"])
        c1 = _arb(s["c_1"]).max(_arb(0))
        E = _arb(e)
        return _enc(
            c1**2 * L**2 * ti * (E * L - 1) ** (2 * ti - 1) - L**2 * ti * _w0_norm2(problem)
        )


def mode_enclosures(problem: Problem) -> list[tuple[Any, Any]]:
    """Certified (lambda_i, c_i^2) of every eigenpair of H, largest eigenvalue first.

    lambda_i: Bauer-Fike disk of the refined Ritz value (radius kappa eps); the disks must be
    disjoint, so each holds exactly one eigenvalue. c_i^2 = <w0, u_i>^2 with u_i the exact unit
    eigenvector: |<w0, q/||q||>| +- 2 sin(theta) ||w0||, sin(theta) <= ||H q - mu q|| / (||q||
    gap) (Davis-Kahan), gap the certified distance to the neighbouring eigenvalues. Returned as
    flint ``arb`` balls at 192 bits; cached on the problem.

    Guarantee
    ---------
    Every ball contains the exact value. Raises :class:`~verify.errors.NotCertifiedError`
    when two eigenvalues are not certified distinct (then u_i is not unique).
    """
    return problem.cached("paper.theory:modes", lambda: _mode_enclosures(problem))


def _mode_enclosures(problem: Problem) -> list[tuple[Any, Any]]:
    """The computation behind :func:`mode_enclosures` (not cached)."""
    from flint import arb, arb_mat, ctx

    from ..errors import NotCertifiedError
    from ..floats import frobenius_upper

    eig = problem.certified_eig(_PREC)
    d = problem.d
    with ctx.workprec(_PREC):
        pert = (eig.kappa * eig.eps).abs_upper()
        srt = [eig.mu[i] for i in eig.order]  # ascending
        w0 = arb_mat([[float(x)] for x in problem.w0])
        w0n = frobenius_upper(w0)
        H = problem.hessian_arb(_PREC)
        out: list[tuple[Any, Any]] = []
        for pos in range(d - 1, -1, -1):
            col = eig.order[pos]
            mu = srt[pos]
            gaps = []
            if pos > 0:
                gaps.append(mu - srt[pos - 1] - 2 * pert)
            if pos < d - 1:
                gaps.append(srt[pos + 1] - mu - 2 * pert)
            gap = min(gaps, key=lambda g: g.lower()) if gaps else arb("inf")
            if d > 1 and not gap > 0:
                raise NotCertifiedError(
                    f"eigenvalue {pos} of H is not certified simple: its eigenvector is not unique",
                    prec_bits=_PREC,
                    achieved_rel=math.inf,
                )
            q = arb_mat([[eig.Q[i, col]] for i in range(d)])
            nq = (q.transpose() * q)[0, 0].sqrt()
            rn = frobenius_upper(H * q - q * mu) / nq
            sin_bound = (rn / gap).abs_upper() if d > 1 else arb(0)
            proj = abs((q.transpose() * w0)[0, 0] / nq)
            c = proj + arb(0, (2 * sin_bound * w0n).abs_upper())
            c2 = (c * c).union(arb(0)) if c.lower() < 0 else c * c
            out.append((mu + arb(0, pert), c2))
    return out


def theorem3_explosion_difference(problem: Problem, eta: float | Fraction, t: int) -> Enclosure:
    """F'_naive(eta) minus Theorem 3's explosion bound, computed without cancellation.

    In the eigenbasis F' = -t sum_i c_i^2 lambda_i^2 (1 - eta lambda_i)^(2t-1); its i = 1 term
    is exactly c_1^2 L^2 t (eta L - 1)^(2t-1), the leading term of the bound
    c_1^2 L^2 t (eta L - 1)^(2t-1) - L^2 t ||w0||^2. So the difference is

        D = L^2 t ||w0||^2 - t sum_{i >= 2} c_i^2 lambda_i^2 (1 - eta lambda_i)^(2t-1),

    which this function encloses from the certified eigenpairs of :func:`mode_enclosures`
    (the top mode never enters, so no digits are lost where it dominates F' by 10^600).
    ``D >= 0`` proves ``|F'| >= F' >= bound``; ``D < 0`` proves the bound violated.

    Guarantee
    ---------
    Proven enclosure of D (192-bit ball arithmetic on certified eigen-data).
    """
    from flint import arb, ctx

    e = validate_eta(eta)
    ti = validate_horizon(t)
    modes = mode_enclosures(problem)
    with ctx.workprec(_PREC):
        E = _arb(e)
        L = modes[0][0]
        rest = arb(0)
        for lam, c2 in modes[1:]:
            rest += c2 * lam**2 * (1 - E * lam) ** (2 * ti - 1)
        return _enc(L**2 * ti * _w0_norm2(problem) - ti * rest)


def theorem4_bound(problem: Problem, eta: float | Fraction) -> Enclosure:
    """Theorem 4, explicit constant (notes §4.3): |F'_log| <= 2 L^2 ||w0||^2 / (c_min^2 alpha rho).

    Independent of t. (The log objective is invariant under scaling w0, and so is
    ||w0||^2 / c_min^2.)

    Guarantee
    ---------
    Proven enclosure of the right-hand side.
    """
    from flint import ctx

    s = spectral(problem)
    r = _arb(rho(problem, eta))
    with ctx.workprec(_PREC):
        L, a, cm = _arb(s["L"]), _arb(s["alpha"]), _arb(s["c_min"])
        return _enc(2 * L**2 * _w0_norm2(problem) / (cm**2 * a * r))


def theorem4_bound_uniform(problem: Problem) -> Enclosure:
    """Theorem 4, uniform in eta (notes §4.3): 4 L^3 ||w0||^2 / (c_min^2 alpha (L - alpha)).

    Uses min_eta rho(eta) = (L - alpha)/(L + alpha) and L + alpha <= 2L.

    Guarantee
    ---------
    Proven enclosure of the right-hand side.
    """
    from flint import ctx

    s = spectral(problem)
    with ctx.workprec(_PREC):
        L, a, cm = _arb(s["L"]), _arb(s["alpha"]), _arb(s["c_min"])
        return _enc(4 * L**3 * _w0_norm2(problem) / (cm**2 * a * (L - a)))


def eta_star_limit(problem: Problem) -> Enclosure:
    """lim_{t -> inf} eta*(t) = 2/(L + alpha) (notes §4.4, a reconstruction).

    Guarantee
    ---------
    Proven enclosure.
    """
    from flint import ctx

    s = spectral(problem)
    with ctx.workprec(_PREC):
        return _enc(2 / (_arb(s["L"]) + _arb(s["alpha"])))


def large_t_log_gradient_limit(problem: Problem, eta: float | Fraction) -> Enclosure:
    """lim_{t -> inf} F'_log(eta): -2 alpha/(1 - eta alpha) below 2/(L+alpha), 2L/(eta L - 1) above.

    Requires c_1, c_d != 0 (notes §4.4).

    Guarantee
    ---------
    Proven enclosure. Raises :class:`~verify.errors.NotCertifiedError` when eta is not
    certified to lie on one side of 2/(L + alpha).
    """
    from flint import ctx

    e = validate_eta(eta)
    s = spectral(problem)
    side = Enclosure.from_arb(_arb(e) - _arb(eta_star_limit(problem))).sign()
    with ctx.workprec(_PREC):
        E, L, a = _arb(e), _arb(s["L"]), _arb(s["alpha"])
        return _enc(-2 * a / (1 - E * a) if side < 0 else 2 * L / (E * L - 1))


def corollary1_predicted_horizon(problem: Problem, eta: float | Fraction, dtype: str) -> float:
    """Corollary 1 / notes §4.5: the horizon past which f(w_t) ~ rho^(2t) leaves ``dtype``'s range.

    Plain backprop of the log objective forms f(w_t), whose magnitude is
    ~ (1/2) c^2 lambda rho(eta)^(2t); it overflows once 2t ln rho > ln(max finite) (rho > 1) and
    underflows to zero once 2t |ln rho| > |ln(min subnormal)| (rho < 1). Returns that t as a
    real number (``inf`` when rho = 1 exactly or eta = 0). This is the asymptotic prediction
    (it ignores the O(1) prefactor); :func:`loss_out_of_range_horizon` gives the exact first
    horizon on certified values.
    """
    from ..floats import get_format

    fmt = get_format(dtype)
    r = float(rho(problem, eta).mid)
    if r == 1.0 or r == 0.0:
        return math.inf
    lr = math.log(r)
    return fmt.ln_max / (2 * lr) if lr > 0 else -fmt.ln_min_subnormal / (2 * -lr)


def loss_out_of_range_horizon(
    problem: Problem, eta: float | Fraction, dtype: str, *, t_max: int = 10**7
) -> int | None:
    """The first t at which the exact f(w_t), correctly rounded to ``dtype``, is inf or 0.

    Searches from the asymptotic prediction of :func:`corollary1_predicted_horizon` with
    certified values of f(w_t) (naive meta-objective). Returns ``None`` when f(w_t) stays in
    range up to ``t_max``.

    Guarantee
    ---------
    The returned t is exact for the monotone tail: f(w_t) rounds out of range at t and in range
    at t - 1 (both certified). ``None`` means certified in range at ``t_max``.
    """
    from .. import truth

    def out(t: int) -> bool:
        x = truth.meta_objective(problem, eta, t, objective="naive", rel_tol=Fraction(1, 2**30))
        v = x.to_float(dtype)
        return v == 0.0 or math.isinf(v)

    if not out(t_max):
        return None
    guess = corollary1_predicted_horizon(problem, eta, dtype)
    lo = 0
    hi = t_max
    if math.isfinite(guess):
        g = max(1, min(t_max, int(guess)))
        # widen a bracket around the prediction: [lo, hi] with out(lo) False, out(hi) True
        step = 1
        while g - step > 0 and out(g - step):
            step *= 2
        lo = max(0, g - step)
        step = 1
        while g + step < t_max and not out(g + step):
            step *= 2
        hi = min(t_max, g + step)
    if out(lo):
        return lo
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if out(mid):
            hi = mid
        else:
            lo = mid
    return hi
