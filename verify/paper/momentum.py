"""Theorem 4 beyond GD: is the heavy-ball log meta-gradient polynomially bounded? (issue 19.4)

Theorem 4 bounds the GD log meta-gradient F'(eta) = d/deta (1/t) log f(w_t) by a constant
independent of t, 2 L^2 ||w0||^2 / (c_min^2 alpha rho(eta)). For heavy ball,
w_{k+1} = w_k - eta grad f(w_k) + beta (w_k - w_{k-1}) with w_{-1} = w_0, on
f(w) = w^T H w / 2, each eigenmode lambda follows x_k with x_t = z s^t q_t(u), where
s = sqrt(beta), u = a / (2 s), a = 1 + beta - eta lambda and q_t = U_t - s U_{t-1}
(Chebyshev polynomials of the second kind; x_{-1} = x_0 = z). q_t is quasi-orthogonal, so its
t zeros are real; it has no zero with |u| >= 1 (there |U_t| >= |U_{t-1}| and s < 1), so all of
them lie in (-1, 1). Hence, for a mode with real companion roots (|u| >= 1,
i.e. a^2 >= 4 beta),

    |d/du log q_t(u)| = |sum_j 1/(u - u_j)| <= min(q_t'(+-1)/q_t(+-1), t / (|u| - 1))
                                            <= min(t (t + 1), t / (|u| - 1)),

and with du/deta = -lambda / (2 s), |d/deta log x_t| <= lambda t min((t + 1)/(2 s),
1/(|a| - 2 s)) (at beta = 0 only the second term: GD's t lambda / |1 - eta lambda|). Since
f = sum lambda_i x_i^2 / 2 and |f'| <= sum lambda_i |x_i x_i'|,

    |F'(eta)| <= 2 max_i lambda_i min((t + 1)/(2 sqrt beta), 1/(|a_i| - 2 sqrt beta))   (*)

whenever every mode has real roots. (*) is a polynomial of degree 1 in t, and a constant in t
away from the double-root curve a^2 = 4 beta. On the curve the growth is attained:
(1/t) q_t'(1)/q_t(1) -> t/3 gives F'(eta) ~ -lambda t / (3 sqrt beta) at a dominant double
root, e.g. at the classical optimal tuning. With complex roots (|u| < 1) q_t has zeros: f(w_t)
vanishes at isolated (eta, beta) with rho = sqrt(beta) > 0, and no bound in terms of
rho(eta, beta), like Theorem 4's, can hold.

:func:`log_gradient_bound` evaluates (*) with certified spectral bounds;
:func:`momentum_log_claims` measures all three statements on certified numbers over a grid of
problems, (eta, beta) (stable, boundary, explosive) and horizons, and returns
:class:`~verify.claims.Claim` records.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from ..certified.enclosure import Enclosure
from ..claims import CONFIDENCE, Claim, decide, enclosure_interval, mean_interval
from ..errors import ZeroLossError
from ..problems import Quadratic
from ..validation import validate_beta, validate_eta, validate_horizon

__all__ = [
    "CONDITIONS",
    "GROWTH_BAND",
    "HORIZONS",
    "MOMENTA",
    "WITNESS",
    "GridPoint",
    "Witness",
    "bound_claim",
    "classical_tuning",
    "growth_claim",
    "log_gradient_bound",
    "momentum_log_claims",
    "momentum_log_grid",
    "witness_claim",
]

_PREC = 128
#: Condition numbers of the grid's problems (spectrum log-spaced in [1, kappa]).
CONDITIONS: tuple[float, ...] = (10.0, 1e2, 1e3, 1e4)
#: Momenta of the grid (exact); 0 is GD.
MOMENTA: tuple[Fraction, ...] = (Fraction(0), Fraction(1, 4), Fraction(1, 2), Fraction(9, 10))
#: Horizons of the grid.
HORIZONS: tuple[int, ...] = (10, 100, 1000, 10**4, 10**6)
#: Growth exponent p in |F'(10 t)| = 10^p |F'(t)| read as "linear in t": a degree-1 polynomial
#: gives p -> 1 with a correction O(1/t) (the ratio of q_t'(1)/q_t(1) to its t^2/3 limit);
#: at t = 10^3 that is far inside 1 +- 0.1, while a t-independent bound (Theorem 4) gives 0.
GROWTH_BAND = (0.9, 1.1)


#: The exact zero of f(w_2): d = 1, H = [[1]], eta = beta = 1/2 (a = 1 solves a^2 - a beta -
#: beta = 0), with complex roots (a^2 < 4 beta) of modulus sqrt(1/2); and the offset of the
#: certified gradient next to it.
@dataclass(frozen=True)
class Witness:
    """A point where f(w_t) = 0 exactly, and the offset at which the gradient is measured."""

    eta: Fraction
    beta: Fraction
    t: int
    offset: Fraction


WITNESS = Witness(Fraction(1, 2), Fraction(1, 2), 2, Fraction(1, 10**6))


def _arb(x: Fraction | float | int) -> Any:
    from flint import arb

    q = Fraction(x)
    return arb(q.numerator) / q.denominator


def log_gradient_bound(
    problem: Quadratic, eta: object, beta: object, t: object
) -> Enclosure | None:
    """The bound (*) of the module docstring on |d/deta (1/t) log f(w_t)| for heavy ball.

    Parameters
    ----------
    problem : Quadratic
        With b = 0 (f = w^T H w / 2), H certified positive definite.
    eta, beta : float or Fraction
        Step size >= 0 and momentum in [0, 1), used exactly.
    t : int
        Horizon >= 1.

    Returns
    -------
    Enclosure or None
        An enclosure of the bound (*): its ``upper`` end is a proven upper bound on
        |F'(eta)|; or ``None`` when some eigenvalue in the certified
        range [alpha, L] may have complex companion roots (no bound holds there) or the bound
        is infinite (beta = 0 with eta lambda = 1 possible).

    Guarantee
    ---------
    Proven (module docstring): ball arithmetic on certified alpha, L at 128 bits. Every
    eigenvalue lies in [alpha, L]; on the stable branch (eta L <= (1 - sqrt beta)^2) the
    bound lambda min(., .) grows with lambda (max at L); on the explosive branch
    (eta alpha >= (1 + sqrt beta)^2) lambda / (eta lambda - (1 + sqrt beta)^2) falls with
    lambda (max at alpha) and lambda (t + 1)/(2 s) grows (max at L).
    """
    from flint import ctx

    e, b, ti = validate_eta(eta), validate_beta(beta), validate_horizon(t, objective="log")
    spec = problem.spectral_enclosures()
    lam_hi, lam_lo = spec["L"].upper, spec["alpha"].lower
    # the regions, decided exactly: c >= 2 sqrt(beta) <=> c >= 0 and c^2 >= 4 beta
    stable, explosive = 1 + b - e * lam_hi, e * lam_lo - 1 - b
    if stable >= 0 and stable**2 >= 4 * b:
        lam, c = lam_hi, stable
    elif explosive >= 0 and explosive**2 >= 4 * b:
        lam, c = lam_lo, explosive
    else:
        return None
    with ctx.workprec(_PREC):
        s = _arb(b).sqrt()
        first = _arb(lam_hi) * (ti + 1) / (2 * s) if b > 0 else None  # t-linear branch
        gap = _arb(c) - 2 * s  # |a| - 2 sqrt(beta) at the worst eigenvalue
        second = _arb(lam) / gap if gap > 0 else None
        branches = [x for x in (first, second) if x is not None]
        if not branches:
            return None
        best = branches[0] if len(branches) == 1 else branches[0].min(branches[1])
        return Enclosure.from_arb(2 * best, _PREC)


def classical_tuning(problem: Quadratic) -> tuple[Fraction, Fraction]:
    """Polyak's optimal heavy-ball tuning eta = 4/(sqrt L + sqrt alpha)^2,
    beta = ((sqrt L - sqrt alpha)/(sqrt L + sqrt alpha))^2, as the float64 values' exact
    rationals (both extreme modes within float64 roundoff of their double root)."""
    spec = problem.spectral_enclosures()
    sl, sa = math.sqrt(float(spec["L"].mid)), math.sqrt(float(spec["alpha"].mid))
    return Fraction(4 / (sl + sa) ** 2), Fraction(((sl - sa) / (sl + sa)) ** 2)


# ------------------------------------------------------------------------------ the grid
@dataclass(frozen=True)
class GridPoint:
    """One certified measurement: F'_eta, F'_beta and the bound (*) where it applies."""

    kappa: float
    seed: int
    beta: Fraction
    where: str
    eta: Fraction
    t: int
    grad_eta: Enclosure
    grad_beta: Enclosure | None
    bound: Enclosure | None


def _etas(problem: Quadratic, beta: Fraction) -> dict[str, Fraction]:
    """Step sizes in units of the thresholds of the top mode: stable overdamped, the double
    root, underdamped, rho = 1 (eta L = 2 + 2 beta), beyond it, and all modes explosive."""
    spec = problem.spectral_enclosures()
    L, al = float(spec["L"].mid), float(spec["alpha"].mid)
    s = math.sqrt(float(beta))
    units = {
        "overdamped": 0.5 * (1 - s) ** 2 / L,
        "double root": (1 - s) ** 2 / L,
        "underdamped": (1 + float(beta)) / L,
        "rho = 1": (2 + 2 * float(beta)) / L,
        "beyond": 1.2 * (2 + 2 * float(beta)) / L,
        "all explosive": 1.5 * (1 + s) ** 2 / al,
    }
    return {k: Fraction(v) for k, v in units.items()}


def momentum_log_grid(
    *,
    conditions: Sequence[float] = CONDITIONS,
    seeds: Sequence[int] = (0, 1),
    d: int = 6,
    momenta: Sequence[Fraction] = MOMENTA,
    horizons: Sequence[int] = HORIZONS,
) -> list[GridPoint]:
    """Certified F'_eta and F'_beta (log objective) over problems x (eta, beta) x t.

    Problems: ``Quadratic.from_spectrum(geomspace(1, kappa, d), seed=seed)``.

    Guarantee
    ---------
    Every gradient is a certified enclosure (:func:`verify.truth.meta_gradient`, default
    rel_tol 2^-80); every bound is proven (:func:`log_gradient_bound`).
    """
    from .. import truth

    out: list[GridPoint] = []
    for kappa, seed, beta in itertools.product(conditions, seeds, momenta):
        q = Quadratic.from_spectrum(np.geomspace(1.0, kappa, d), seed=seed)
        for (where, eta), t in itertools.product(_etas(q, beta).items(), horizons):
            ge = truth.meta_gradient(q, eta, t, optimizer="heavy_ball", beta=beta)
            gb = (
                truth.meta_gradient(q, eta, t, optimizer="heavy_ball", beta=beta, wrt="beta")
                if beta > 0
                else None
            )
            bound = log_gradient_bound(q, eta, beta, t)
            out.append(GridPoint(kappa, seed, beta, where, eta, t, ge, gb, bound))
    return out


# ------------------------------------------------------------------------------ the claims
_PAPER = (
    "Theorem 4 (GD): |d/deta (1/t) log f(w_t)| <= 2 L^2 ||w0||^2 / (c_min^2 alpha rho(eta)), "
    "independent of t"
)
_DEVIATIONS = (
    "the paper treats GD only; heavy ball is our extension (w_{-1} = w_0, beta exact)",
    "problems from a log-spaced spectrum in a Haar basis, b = 0, not Wishart",
)


def _abs_upper(enc: Enclosure) -> float:
    return float(max(abs(enc.lower), abs(enc.upper)))


def _abs_lower(enc: Enclosure) -> float:
    return 0.0 if enc.contains_zero() else float(min(abs(enc.lower), abs(enc.upper)))


def bound_claim(points: Sequence[GridPoint]) -> Claim:
    """Claim (*): certified |F'_eta| <= bound at every grid point with real roots only.

    The statistic is max |F'| / bound over those points, enclosed (lower end from the lower
    ends, upper end from the upper ends, rounded outward by one float64 ulp); the verdict is
    ``decide(at_most=1)``; counts say how many points were proven, violated, undecided.
    """
    real = [p for p in points if p.bound is not None]
    proven = violated = 0
    lo = hi = 0.0
    for p in real:
        assert p.bound is not None
        b_lo, b_hi = float(p.bound.lower), float(p.bound.upper)
        g_lo, g_hi = _abs_lower(p.grad_eta), _abs_upper(p.grad_eta)
        proven += g_hi <= b_lo
        violated += g_lo > b_hi
        lo, hi = max(lo, g_lo / b_hi), max(hi, g_hi / b_lo)
    iv = enclosure_interval(math.nextafter(lo, 0.0), math.nextafter(hi, math.inf), nonnegative=True)
    ts = sorted({p.t for p in real})
    return Claim(
        claim="Heavy ball, real companion roots: |F'_eta| <= 2 max lambda min((t+1)/(2 sqrt "
        "beta), 1/(|a| - 2 sqrt beta))",
        statement="Where every mode has real roots (a^2 >= 4 beta), the heavy-ball log "
        "meta-gradient is bounded by a polynomial of degree 1 in t, and by a t-independent "
        "constant away from the double-root curve (our extension of Theorem 4)",
        source="finding",
        paper_setting=_PAPER,
        our_setting=f"{len(real)} certified grid points with real roots (of {len(points)}): "
        f"problems kappa in {sorted({p.kappa for p in points})}, beta in "
        f"{sorted({float(p.beta) for p in points})}, t in {ts}, eta stable, at the double "
        "root and all-explosive",
        deviations=_DEVIATIONS,
        instances=max(len(real), 1),
        unit="grid points",
        statistic="max over grid points of |F'_eta| / bound (certified); matches when <= 1",
        interval=iv,
        verdict=decide(iv, at_most=1.0),
        evidence="proof",
        can_fail=True,
        margin=f"largest |F'|/bound {hi:.3g}",
        counts={
            "points": len(real),
            "proven": proven,
            "violated": violated,
            "undecided": len(real) - proven - violated,
        },
    )


def growth_claim(
    problems: Sequence[Quadratic],
    t: int = 1000,
    confidence: float = CONFIDENCE,
    band: tuple[float, float] = GROWTH_BAND,
) -> Claim:
    """Claim: at the classical optimal tuning, F'_eta grows linearly in t (no t-free bound).

    Per problem, p = log10 |F'(10 t)| / |F'(t)| (certified enclosures, relative radius
    2^-80, read at their midpoints); the statistic is the mean of p with a BCa interval
    (:func:`verify.claims.mean_interval`); matches when the interval lies in
    ``band`` (default :data:`GROWTH_BAND`).
    """
    from .. import truth

    exps, slopes, exps_beta = [], [], []
    for q in problems:
        eta, beta = classical_tuning(q)
        g1, g2, b1, b2 = (
            float(truth.meta_gradient(q, eta, n, optimizer="heavy_ball", beta=beta, wrt=w).mid)
            for w in ("eta", "beta")
            for n in (t, 10 * t)
        )
        exps.append(math.log10(abs(g2) / abs(g1)))
        exps_beta.append(math.log10(abs(b2) / abs(b1)))
        slopes.append(abs(g2) / (10 * t) * 3 * math.sqrt(float(beta)) / q.L)
    iv = mean_interval(exps, confidence=confidence)
    lo, hi = band
    slope_iv = mean_interval(slopes, confidence=confidence, nonnegative=True)
    beta_iv = mean_interval(exps_beta, confidence=confidence)
    return Claim(
        claim="Heavy ball at the classical optimal tuning: F'_eta grows like t",
        statement="At Polyak's tuning (both extreme modes at a double root) the log "
        "meta-gradient is not bounded independently of t, unlike GD's Theorem 4: it grows "
        "linearly, F' ~ -L t / (3 sqrt beta)",
        source="finding",
        paper_setting=_PAPER,
        our_setting=f"{len(problems)} problems, t = {t} and {10 * t}, certified gradients",
        deviations=_DEVIATIONS,
        instances=len(problems),
        unit="problems",
        statistic=f"mean growth exponent log10 |F'({10 * t})/F'({t})|; matches in "
        f"[{lo}, {hi}] (degree 1)",
        interval=iv,
        verdict=decide(iv, at_least=lo, at_most=hi),
        evidence="statistic",
        can_fail=True,
        readings=(
            (
                "|F'| / (L t / (3 sqrt beta)) at the larger t (1 = the top mode's limit)",
                slope_iv,
                decide(slope_iv, at_least=0.5, at_most=1.5),
            ),
            (
                f"d/dbeta: mean growth exponent log10 |F'_beta({10 * t})/F'_beta({t})|",
                beta_iv,
                decide(beta_iv, at_least=lo, at_most=hi),
            ),
        ),
    )


def witness_claim() -> Claim:
    """Claim: no bound in rho(eta, beta) like Theorem 4's holds with complex roots.

    d = 1, H = [[1]], w0 = [1]: f(w_2) = 0 exactly at :data:`WITNESS` (the engine raises
    ZeroLossError on the exact zero) where rho = sqrt(1/2); next to it the certified gradient
    exceeds the analogue 2 L^2 ||w0||^2 / (c_min^2 alpha rho) = 2 sqrt 2 of Theorem 4.
    """
    from .. import truth

    q = Quadratic([[1.0]], [1.0])
    w = WITNESS
    zero = False
    try:
        truth.meta_gradient(q, w.eta, w.t, optimizer="heavy_ball", beta=w.beta)
    except ZeroLossError:
        zero = True
    g = truth.meta_gradient(q, w.eta + w.offset, w.t, optimizer="heavy_ball", beta=w.beta)
    iv = enclosure_interval(_abs_lower(g), _abs_upper(g), nonnegative=True)
    analogue = 2 / math.sqrt(float(w.beta))
    return Claim(
        claim="Heavy ball, complex roots: no Theorem-4-like bound in rho(eta, beta)",
        statement="The heavy-ball analogue of Theorem 4, |F'| <= 2 L^2 ||w0||^2 / (c_min^2 "
        "alpha rho(eta, beta)), fails: f(w_t) has exact zeros where rho = sqrt(beta) > 0",
        source="finding",
        paper_setting=_PAPER,
        our_setting="d = 1, H = [[1]], w0 = [1], beta = 1/2, t = 2: f(w_2) = 0 exactly at "
        f"eta = 1/2 (proven: {zero}); certified |F'| at eta = 1/2 + 10^-6",
        deviations=_DEVIATIONS,
        instances=1,
        unit="witness",
        statistic=f"certified |F'| next to the zero; differs when > {analogue:.4g}",
        interval=iv,
        verdict=decide(iv, at_most=analogue) if zero else "inconclusive",
        evidence="proof",
        can_fail=True,
        counts={"points": 1, "proven": 0, "violated": int(zero), "undecided": int(not zero)},
    )


def momentum_log_claims(
    *,
    conditions: Sequence[float] = CONDITIONS,
    seeds: Sequence[int] = (0, 1),
    d: int = 6,
    momenta: Sequence[Fraction] = MOMENTA,
    horizons: Sequence[int] = HORIZONS,
    confidence: float = CONFIDENCE,
) -> dict[str, Any]:
    """Run the grid and return the three claims (bound (*), growth, witness) and the data.

    Returns
    -------
    dict
        ``claims`` (the :class:`~verify.claims.Claim` records), ``points`` (the grid),
        ``sup_by_t`` (where -> t -> max certified |F'_eta| and |F'_beta| over the grid).

    Accuracy
    --------
    Certified gradients and proven bounds (see :func:`momentum_log_grid`); the growth claim's
    interval is a bootstrap over problems (a statistic, not a proof).
    """
    points = momentum_log_grid(
        conditions=conditions, seeds=seeds, d=d, momenta=momenta, horizons=horizons
    )
    problems = [
        Quadratic.from_spectrum(np.geomspace(1.0, k, d), seed=s)
        for k, s in itertools.product(conditions, seeds)
    ]
    sup: dict[str, dict[int, tuple[float, float]]] = {}
    for p in points:
        cur = sup.setdefault(p.where, {}).get(p.t, (0.0, 0.0))
        gb = _abs_upper(p.grad_beta) if p.grad_beta is not None else 0.0
        sup[p.where][p.t] = (max(cur[0], _abs_upper(p.grad_eta)), max(cur[1], gb))
    claims = [bound_claim(points), growth_claim(problems, confidence=confidence), witness_claim()]
    return {"claims": claims, "points": points, "sup_by_t": sup}
