"""Judging float meta-gradients against certified truth: metrics, outcome classes, assertions.

The certified enclosure is rounded *once* to the result's dtype (:meth:`Enclosure.to_float`)
and only then compared, so ulp distances are counted in the result's own format (STYLE habit
3). Metrics (:func:`accuracy`): ulp distance in the dtype, bits of error log2(1 + ulps), and the
relative error against the exact value in units of the dtype's unit roundoff u.

Outcome classes (:func:`classify`) are exhaustive and exclusive; the first rule that applies
wins:

1. ``nan`` -- the meta-gradient is NaN.
2. ``overflow`` -- the meta-gradient is +-inf while the exact value rounds to a finite
   number in the dtype (an infinite result equal to the rounded truth falls to rule 5).
3. ``silently_wrong`` -- the meta-gradient is exactly 0 while the objective value overflowed
   (f(w_t) = inf makes d log f = 1/f = 0: a plausible-looking zero, nothing warns).
4. ``underflow`` -- the meta-gradient is 0 or subnormal while the exact value rounds to a
   normal number, and the diagnostics show an intermediate that underflowed to zero (or the
   loss f(w_t) rounded to 0).
5. ``accurate`` -- within the derived tolerance (:data:`TOLERANCES`, :func:`tolerance`), or
   at most 1 ulp from the correctly rounded truth.
6. ``silently_wrong`` -- finite, beyond the tolerance, and with the wrong (certified) sign,
   off by more than a factor of 2, or 0/subnormal without any flagged underflow.
7. ``inaccurate`` -- everything else: finite, right sign, within a factor 2, beyond the
   tolerance.

This module may import both :mod:`verify.truth` and :mod:`verify.backprop`.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from .backprop import BackpropResult, Sensitivity, sensitivity
from .errors import ShapeMismatchError
from .floats import FloatFormat, get_format
from .truth.enclosure import Enclosure

__all__ = [
    "MODEL_LIMIT",
    "STEPWISE_BACKENDS",
    "TOLERANCES",
    "Accuracy",
    "Outcome",
    "Tolerance",
    "accuracy",
    "assert_meta_gradient_accurate",
    "classify",
    "classify_all",
    "horizon_amplification",
    "tolerance",
    "ulp_distance",
]


class Outcome(enum.Enum):
    """How a float meta-gradient relates to the certified truth (see the module docstring)."""

    ACCURATE = "accurate"
    INACCURATE = "inaccurate"
    SILENTLY_WRONG = "silently_wrong"
    OVERFLOW = "overflow"
    UNDERFLOW = "underflow"
    NAN = "nan"

    @property
    def is_failure(self) -> bool:
        """True for the classes that mean the computation broke down (not mere inaccuracy)."""
        return self in (Outcome.SILENTLY_WRONG, Outcome.OVERFLOW, Outcome.UNDERFLOW, Outcome.NAN)


@dataclass(frozen=True)
class Tolerance:
    """Constants of the first-order error bound for one dtype (see :data:`TOLERANCES`).

    The allowed absolute error of a meta-gradient (:func:`tolerance`) is, for stepwise
    backprop and the paper's matrix powers::

        tol = u * (k_sum * d * max(kappa_f, kappa_grad) + k_horizon * h * sqrt(d) * kappa_eta)
                * kappa_aff * scale

    and for the stable closed form::

        tol = u * (k_sum * d * (kappa_f + kappa_data) + k_horizon * h * sqrt(d) * kappa_eta)
                * scale

    with u the dtype's unit roundoff, d the dimension, h the horizon amplification of the
    backend (:func:`horizon_amplification`) and the condition numbers of
    :class:`verify.backprop.Sensitivity`.
    """

    dtype: str
    k_sum: float
    k_horizon: float

    @property
    def u(self) -> float:
        """Unit roundoff of the dtype."""
        return get_format(self.dtype).unit_roundoff

    def derivation(self) -> str:
        """One line stating the bound, for failure reports."""
        return (
            f"|err| <= u*({self.k_sum:g}*d*kappa_f + {self.k_horizon:g}*h*sqrt(d)*kappa_eta)"
            "*scale (x kappa_aff, kappa_f >= kappa_grad for stepwise backprop), "
            f"u=2^{round(math.log2(self.u))} ({self.dtype}); h = t (stepwise backprop), "
            "2t (naive objective, paper powers), 2t*q+gap (stable log objective); "
            "see verify.compare.TOLERANCES"
        )


# Derivation (first order in u; Higham, "Accuracy and Stability of Numerical Algorithms",
# gamma_n = n u / (1 - n u)):
#
# * A length-d inner product or matrix-vector product has relative error <= gamma_d ~ d u in
#   each entry. F' is a ratio of two such sums (numerator and denominator: x2), and the loss
#   is sensitive to relative perturbations of the iterate by kappa_f; the eigensolver's
#   backward error (|delta lambda| <= p(d) u ||H||) enters the same way. With a factor 2
#   of safety: k_sum = 2 * 2 = 4.
# * One GD step w - eta (H w - b) perturbs the iterate by eta |H| |w| rounding errors plus
#   two more roundings, relative to the next iterate ||w'|| ~ rho ||w||. Entrywise the
#   worst case is gamma_d; in the 2-norm, with blocked/pairwise BLAS summation, the error of
#   one matrix-vector product behaves like sqrt(d) u (Higham & Mary, "A new approach to
#   probabilistic rounding error analysis", SISC 2019: lambda sqrt(n) u with probability
#   1 - 2 exp(-lambda^2 (1 - u)^2 / 2)), so one step contributes about sqrt(d) kappa_eta u.
#   Summed over t forward steps and t adjoint steps (both enter F') and doubled for
#   safety: k_horizon = 2 * 2 = 4, per unit of h * sqrt(d) (h = t for stepwise backprop).
#   A step's rounding is relative to ||w_k||; when w_k -> w* != 0 it is amplified relative
#   to the distance w_k - w* that F' depends on, by kappa_aff = ||w_t|| / ||w_t - w*||.
# * float16 and bfloat16: with t u up to 1/2 the first-order gamma_n = n u/(1 - n u) is up
#   to 2 n u, so both constants double (8). Beyond t kappa_eta u ~ 1/2 no accuracy can be
#   claimed and results classify by the factor-of-2 and sign rules.
#
# The bound is a model, not a proof: it is sized so that an implementation that rounds as
# analysed passes, and what exceeds it is recorded as ``inaccurate`` (data, not a crash).
TOLERANCES: dict[str, Tolerance] = {
    "float16": Tolerance("float16", k_sum=8.0, k_horizon=8.0),
    "bfloat16": Tolerance("bfloat16", k_sum=8.0, k_horizon=8.0),
    "float32": Tolerance("float32", k_sum=4.0, k_horizon=4.0),
    "float64": Tolerance("float64", k_sum=4.0, k_horizon=4.0),
}

#: Largest relative tolerance the first-order model may claim (gamma_n <= 2 n u needs n u <= 1/2);
#: beyond it :func:`tolerance` returns 0 and only a result within 1 ulp counts as accurate.
MODEL_LIMIT = 0.5

#: Backends that differentiate the unrolled trajectory step by step.
STEPWISE_BACKENDS: tuple[str, ...] = ("numpy", "torch", "jax")


def horizon_amplification(backend: str, objective: str, t: int, sens: Sensitivity) -> float:
    """The factor h of :class:`Tolerance`: how rounding errors grow with the horizon t.

    * stepwise backprop (numpy, torch, jax): each of the t steps adds its rounding, h = t;
    * ``"paper"``: matrix powers A^(2t-1), A^(2t) by repeated squaring; a relative error e in
      A becomes 2t e in A^(2t), h = 2t;
    * ``"stable"``, naive objective: rho^(2t) is formed explicitly, h = 2t;
    * ``"stable"``, log objective: the dominant mode has |r| = 1 exactly; an error e in r_i
      becomes 2t e in r_i^(2t) only for the weight q carried by the other modes, and the
      powers of rho left between numerator and denominator (``exponent_gap``, 1 when b = 0)
      carry the rounding of rho: h = 2t q + gap.
    """
    if backend in STEPWISE_BACKENDS:
        return float(t)
    if backend == "stable" and objective == "log":
        return 2.0 * t * sens.q + max(sens.exponent_gap, 1.0)
    return 2.0 * t


def tolerance(result: BackpropResult, sens: Sensitivity | None = None) -> float:
    """Allowed absolute error of a scalar result (0 where the model claims nothing).

    The formulas are in :class:`Tolerance` (stepwise backprop and the paper's powers round
    the iterate itself, so they carry kappa_grad and kappa_aff; the stable closed form
    rounds the modal data instead, so it carries kappa_data). Returns 0 when the relative
    bound exceeds :data:`MODEL_LIMIT` (the first-order model no longer holds) or is not
    finite; :func:`classify` then accepts only results within 1 ulp.

    Accuracy
    --------
    First-order model (see :data:`TOLERANCES`): the condition numbers are float64 estimates,
    not certified quantities.
    """
    if sens is None:
        sens = _sensitivity_of(result)[0]
    tol = TOLERANCES[get_format(result.dtype).name]
    d = _dim(result)
    h = horizon_amplification(result.backend, result.objective, result.t, sens)
    steps = tol.k_horizon * h * math.sqrt(d) * sens.kappa_eta
    if result.backend == "stable":
        units = tol.k_sum * d * (sens.kappa_f + sens.kappa_data) + steps
    else:
        units = (tol.k_sum * d * max(sens.kappa_f, sens.kappa_grad) + steps) * sens.kappa_aff
    rel = tol.u * units
    if not rel <= MODEL_LIMIT:
        # the first-order model has broken down: no accuracy is claimed beyond 1 ulp
        return 0.0
    val = rel * sens.scale
    return val if math.isfinite(val) else 0.0


@dataclass(frozen=True)
class Accuracy:
    """Error metrics of a float value against the exact value.

    Attributes
    ----------
    computed : float
        The value tested (exactly, as a Python float).
    truth_rounded : float
        The exact value rounded once to the dtype.
    ulps : float
        Number of dtype floats between ``computed`` and ``truth_rounded`` (0 when equal;
        ``inf`` when one is infinite or NaN and they differ).
    bits : float
        log2(1 + ulps) (Herbie's bits of error).
    rel_u : float
        |computed - exact| / |exact| in units of u (``inf`` when exact is 0 and computed is
        not, or when computed is not finite).
    abs_err : float
        |computed - exact| (float64, rounded up is not needed for reporting).
    """

    computed: float
    truth_rounded: float
    ulps: float
    bits: float
    rel_u: float
    abs_err: float


def _ordinal(x: float, fmt: FloatFormat) -> int:
    """Signed index of a finite float of ``fmt`` in the ordered set of its floats (0 -> 0)."""
    ax = abs(x)
    if ax == 0:
        return 0
    p, emin = fmt.precision, fmt.emin
    _, e = math.frexp(ax)  # ax = m 2^e, m in [0.5, 1): binade exponent e - 1
    be = e - 1
    if be < emin:
        idx = int(Fraction(ax) / Fraction(2) ** (emin - p + 1))
    else:
        sig = int(Fraction(ax) / Fraction(2) ** (be - p + 1))  # in [2^(p-1), 2^p)
        idx = (be - emin + 1) * (1 << (p - 1)) + (sig - (1 << (p - 1)))
    return idx if x > 0 else -idx


def ulp_distance(a: float, b: float, dtype: str) -> float:
    """Number of ``dtype`` floats between two values of that dtype (``inf`` if not finite).

    Both values must be representable in ``dtype`` (+0 and -0 coincide).

    Accuracy
    --------
    Exact: the distance is the difference of the two values' positions in the ordered set of
    the format's floats, computed in integer arithmetic.

    Examples
    --------
    >>> ulp_distance(1.0, 1.0 + 2.0**-23, "float32"), ulp_distance(1.0, 1.0 + 2.0**-52, "float64")
    (1.0, 1.0)
    """
    fmt = get_format(dtype)
    if a == b:
        return 0.0
    if not (math.isfinite(a) and math.isfinite(b)):
        return math.inf
    return float(abs(_ordinal(a, fmt) - _ordinal(b, fmt)))


def accuracy(computed: float, truth: Enclosure, dtype: str) -> Accuracy:
    """Metrics of ``computed`` (a value representable in ``dtype``) against certified truth.

    Accuracy
    --------
    Exact: the truth is rounded once, correctly, to ``dtype``; the ulp distance is counted
    between the two ``dtype`` values in integer arithmetic; the relative error uses the
    enclosure midpoint (relative radius <= 2^-80, negligible next to any dtype's u).
    """
    fmt = get_format(dtype)
    ref = truth.to_float(fmt)
    c = float(computed)
    ulps = ulp_distance(c, ref, fmt.name)
    if not math.isfinite(c):
        return Accuracy(c, ref, ulps, math.log2(1 + ulps), math.inf, math.inf)
    diff = abs(Fraction(c) - truth.mid)
    if truth.mid == 0:
        rel_u = 0.0 if diff == 0 else math.inf
    else:
        rel_u = _to_float(diff / abs(truth.mid)) / fmt.unit_roundoff
    return Accuracy(c, ref, ulps, math.log2(1 + ulps), rel_u, _to_float(diff))


def _to_float(q: Fraction) -> float:
    """float(q), saturating to inf instead of raising OverflowError."""
    try:
        return float(q)
    except OverflowError:
        return math.inf


def _dim(result: BackpropResult) -> int:
    if result.problem is None:
        raise ValueError("result carries no problem: cannot size its tolerance")
    return result.problem.d


def _check_d(result: BackpropResult, d: int | None) -> None:
    if d is not None and result.problem is not None and d != result.problem.d:
        raise ShapeMismatchError("d", d, f"the result's problem has dimension {result.problem.d}")


def _sensitivity_of(result: BackpropResult) -> list[Sensitivity]:
    if result.problem is None:
        raise ValueError("result carries no problem: cannot size its tolerance")
    return sensitivity(
        result.problem,
        result.eta,
        result.t,
        objective=result.objective,
        eval_problem=result.eval_problem,
    )


def _classify_point(
    result: BackpropResult, truth: Enclosure, dtype: str, sens: Sensitivity
) -> tuple[Outcome, Accuracy, float]:
    fmt = get_format(dtype)
    g = float(result.grad)
    acc = accuracy(g, truth, fmt.name)
    tol = tolerance(result, sens)
    if math.isnan(g):
        return Outcome.NAN, acc, tol
    ref = acc.truth_rounded
    if math.isinf(g) and g != ref:
        return Outcome.OVERFLOW, acc, tol
    tiny = math.ldexp(1.0, fmt.emin)
    diag = result.diagnostics
    value_overflowed = math.isinf(float(result.value)) and float(result.value) > 0
    if g == 0 and value_overflowed and ref != 0:
        return Outcome.SILENTLY_WRONG, acc, tol
    if abs(g) < tiny and abs(ref) >= tiny:
        flagged = diag.first_underflow is not None or diag.loss == 0
        if flagged:
            return Outcome.UNDERFLOW, acc, tol
    if acc.ulps <= 1 or acc.abs_err <= tol:
        return Outcome.ACCURATE, acc, tol
    if abs(g) < tiny and abs(ref) >= tiny:
        return Outcome.SILENTLY_WRONG, acc, tol
    if not truth.contains_zero():
        sign = truth.sign()
        if (g > 0) != (sign > 0) or g == 0:
            return Outcome.SILENTLY_WRONG, acc, tol
        ratio = Fraction(g) / truth.mid
        if not Fraction(1, 2) <= ratio <= 2:
            return Outcome.SILENTLY_WRONG, acc, tol
    return Outcome.INACCURATE, acc, tol


def classify(
    result: BackpropResult,
    truth: Enclosure,
    *,
    dtype: str | None = None,
    sens: Sensitivity | None = None,
    d: int | None = None,
) -> Outcome:
    """The :class:`Outcome` of a scalar backend result against the certified meta-gradient.

    Parameters
    ----------
    result : BackpropResult
        One step size (use :meth:`BackpropResult.point` on a batch, or :func:`classify_all`).
    truth : Enclosure
        Certified F'(eta) at the same (problem, eta, t, objective, eval_problem).
    dtype : str, optional
        The format to judge in (default ``result.dtype``).
    sens : Sensitivity, optional
        Precomputed condition numbers (default: computed from ``result.problem``).
    d : int, optional
        The problem dimension; accepted for compatibility (the tolerance takes it from
        ``result.problem``), and checked against it when given.

    Raises
    ------
    NotCertifiedError
        When the truth cannot be rounded to ``dtype`` uniquely.
    ShapeMismatchError
        When ``d`` is given and differs from the result's problem dimension.
    """
    if result.batched:
        raise ValueError("classify takes a scalar result; use classify_all for a batch")
    _check_d(result, d)
    if sens is None:
        sens = _sensitivity_of(result)[0]
    return _classify_point(result, truth, dtype or result.dtype, sens)[0]


def classify_all(result: BackpropResult, truths: Sequence[Enclosure]) -> list[Outcome]:
    """Outcomes of every step size of a (batched or scalar) result, sensitivities computed once."""
    points = result.points()
    if len(points) != len(truths):
        raise ValueError(f"{len(points)} results but {len(truths)} enclosures")
    sens = _sensitivity_of(result)
    return [
        _classify_point(p, tr, p.dtype, s)[0] for p, tr, s in zip(points, truths, sens, strict=True)
    ]


def assert_meta_gradient_accurate(
    results: Sequence[BackpropResult] | BackpropResult,
    truths: Sequence[Enclosure],
    *,
    dtype: str | None = None,
    d: int | None = None,
) -> None:
    """Raise AssertionError with an accuracy report unless every result is ``accurate``.

    The message gives: the number of failed points out of N, the worst errors in ulps and
    bits, the tolerance and its derivation, and the worst inputs exactly (``float.hex``),
    ready to paste into ``@example``.

    Parameters
    ----------
    results : BackpropResult or sequence of BackpropResult
        Scalar or batched results; their step sizes, in order, pair with ``truths``.
    truths : sequence of Enclosure
        Certified F'(eta), one per step size.
    dtype : str, optional
        Judge in this format (default: each result's dtype).
    d : int, optional
        Problem dimension, checked against the results' problems (compatibility).
    """
    points: list[BackpropResult] = []
    for res in [results] if isinstance(results, BackpropResult) else results:
        points.extend(res.points())
    for p in points:
        _check_d(p, d)
    if len(points) != len(truths):
        raise ValueError(f"{len(points)} results but {len(truths)} enclosures")
    rows = []
    for p, tr in zip(points, truths, strict=True):
        out, acc, tol = _classify_point(p, tr, dtype or p.dtype, _sensitivity_of(p)[0])
        rows.append((out, acc, tol, p))
    failed = [r for r in rows if r[0] is not Outcome.ACCURATE]
    if not failed:
        return

    def badness(row: tuple[Outcome, Accuracy, float, BackpropResult]) -> float:
        return row[1].ulps if math.isfinite(row[1].ulps) else math.inf

    failed.sort(key=badness, reverse=True)
    worst = failed[0][1]
    dt = dtype or failed[0][3].dtype
    lines = [
        f"{len(failed)} of {len(rows)} meta-gradients not accurate "
        f"(worst {worst.ulps:.4g} ulps = {worst.bits:.3g} bits of error in {dt})",
        "tolerance: " + TOLERANCES[get_format(dt).name].derivation(),
        "worst inputs (eta exact):",
    ]
    for out, acc, tol, p in failed[:5]:
        eta = float(p.eta)
        lines.append(
            f"  {out.value}: eta={eta.hex()} ({eta!r}) t={p.t} objective={p.objective} "
            f"{p.dtype} {p.backend}/{p.mode}: got {acc.computed!r}, truth {acc.truth_rounded!r}; "
            f"{acc.ulps:.4g} ulps, {acc.bits:.3g} bits, rel {acc.rel_u:.3g} u, "
            f"|err| {acc.abs_err:.3g} > tol {tol:.3g}"
        )
    etas = ", ".join(float(p.eta).hex() for _, _, _, p in failed[:5])
    lines.append(f"paste: @example(eta=float.fromhex(...)) for eta in [{etas}]")
    raise AssertionError("\n".join(lines))
