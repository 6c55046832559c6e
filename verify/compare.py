"""Judging float meta-gradients against certified truth: metrics, outcome classes, assertions.

The certified enclosure is rounded *once* to the result's dtype (:meth:`Enclosure.to_float`)
and only then compared, so ulp distances are counted in the result's own format (STYLE habit
3). Metrics (:func:`accuracy`): ulp distance in the dtype, bits of error log2(1 + ulps), and the
relative error against the exact value in units of the dtype's unit roundoff u (the ulp and
bits metrics are facts about the float format: :func:`verify.floats.ulp_distance`,
:func:`verify.floats.bits_of_error`). A dtype is parsed once, where a judgement starts, and
its :class:`~verify.floats.FloatFormat` is passed down.

Outcome classes (:func:`judge_value`, the only place they are decided) are exhaustive and
exclusive; the first rule that applies wins:

1. ``nan`` -- the meta-gradient is NaN.
2. ``overflow`` -- the meta-gradient is +-inf while the exact value rounds to something else
   in the dtype (an infinite result equal to the rounded truth is accurate, rule 5).
3. ``silently_wrong`` -- the meta-gradient is exactly 0 while the objective value overflowed
   (f(w_t) = inf makes d log f = 1/f = 0: a plausible-looking zero, nothing warns).
4. ``silently_wrong`` -- a nonzero result whose sign is the opposite of the certified sign
   of the exact value (``underflow`` if it is subnormal and the computation is known to have
   underflowed). No error model excuses a wrong sign.
5. ``accurate`` -- at most 1 ulp from the correctly rounded truth, or within the derived
   error bound (:class:`ErrorBound`, :data:`TOLERANCES`), which is evaluated in log space so
   that it exists at any magnitude (|F'| ~ 1e357 is judged like |F'| ~ 1).
6. Results that are 0 or subnormal (|g| < smallest normal), beyond the bound:
   ``underflow`` when something shows the computation underflowed (the diagnostics, or the
   reported value F = -inf / f(w_t) = 0, see :func:`underflow_flag`), when the exact value
   rounds to +-0 in the dtype (a leftover of gradual underflow), or when the result is a
   nonzero subnormal (its own evidence); otherwise -- an exact 0 with no sign of
   underflow -- ``silently_wrong``.
7. ``silently_wrong`` -- a normal-size result where the exact value rounds to +-0 in the
   dtype (a spurious value, e.g. a flushed-to-zero adjoint that stopped decaying), or one
   off by more than a factor of 2 from the exact value.
8. ``inaccurate`` -- everything else: finite, right sign, within a factor 2, beyond the
   bound (or no bound exists).

Truth that rounds to +-0 in the dtype: a result of +-0 is accurate (signed zeros
coincide), as is the smallest subnormal of the right sign (1 ulp); a larger subnormal is an
underflow artifact (rule 6), a normal-size value is silently wrong (rule 7) unless the
bound admits it (cancellation: the exact value is tiny next to the terms it is made of).

This module may import both :mod:`verify.truth` and :mod:`verify.backprop`.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from .backprop import BackpropResult, Diagnostics, Sensitivity, sensitivity
from .backprop.registry import backend_info
from .certified.enclosure import Enclosure
from .errors import ArgumentError, FractionSizeError
from .floats import (
    FloatFormat,
    ScaledRational,
    bits_of_error,
    format_real,
    get_format,
    ln_fraction,
    round_fraction,
    ulp_distance,
)

__all__ = [
    "MODEL_LIMIT",
    "TOLERANCES",
    "Accuracy",
    "ErrorBound",
    "Judgement",
    "Outcome",
    "Tolerance",
    "abs_difference",
    "accuracy",
    "assert_meta_gradient_accurate",
    "bound_of",
    "classify",
    "classify_all",
    "error_bound",
    "horizon_amplification",
    "judge_value",
    "require_gd",
    "tolerance",
    "underflow_flag",
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


def horizon_amplification(backend: str, objective: str, t: int, sens: Sensitivity) -> float:
    """The factor h of :class:`Tolerance`: how rounding errors grow with the horizon t.

    * stepwise backprop (the registry's ``kind="stepwise"``: numpy, torch, jax, the clients):
      each of the t steps adds its rounding, h = t;
    * ``"paper"``: matrix powers A^(2t-1), A^(2t) by repeated squaring; a relative error e in
      A becomes 2t e in A^(2t), h = 2t;
    * ``"stable"``, naive objective: rho^(2t) is formed explicitly, h = 2t;
    * ``"stable"``, log objective: the dominant mode has |r| = 1 exactly; an error e in r_i
      becomes 2t e in r_i^(2t) only for the weight q carried by the other modes, and the
      powers of rho left between numerator and denominator (``exponent_gap``, 1 when b = 0)
      carry the rounding of rho: h = 2t q + gap (the registry's ``rounds="modal"``).
    """
    info = backend_info(backend)
    if info.kind == "stepwise":
        return float(t)
    if info.rounds == "modal" and objective == "log":
        return 2.0 * t * sens.q + max(sens.exponent_gap, 1.0)
    return 2.0 * t


@dataclass(frozen=True)
class ErrorBound:
    """The first-order error bound of one result, |F'_float - F'| <= rel * scale, in log space.

    ``scale`` (the no-cancellation magnitude of F') is carried as its natural log, so a bound
    exists for any magnitude: |F'| ~ 1e357 (beyond float64) is judged like |F'| ~ 1.

    Attributes
    ----------
    dtype : str
    rel : float or None
        u * (condition-weighted operation count), see :class:`Tolerance`; ``None`` where the
        first-order model gives no bound (rel > :data:`MODEL_LIMIT`, or not finite).
    log_scale : float
        ln(scale); ``-inf`` when scale = 0 (then only an exact result is within the bound).
    """

    dtype: str
    rel: float | None
    log_scale: float

    @property
    def exists(self) -> bool:
        """Whether the model gives a bound at all."""
        return self.rel is not None and not math.isnan(self.log_scale)

    @property
    def log_abs(self) -> float:
        """ln of the absolute bound (``-inf`` for a zero bound, ``nan`` when none exists)."""
        if not self.exists or self.rel == 0 or self.log_scale == -math.inf:
            return -math.inf if self.exists else math.nan
        return math.log(self.rel) + self.log_scale  # type: ignore[arg-type]

    def absolute(self) -> float | None:
        """The absolute bound as a float64 (``inf`` beyond float64's range; ``None``: none)."""
        if not self.exists:
            return None
        la = self.log_abs
        if la > 709.78:
            return math.inf
        return math.exp(la)

    def admits(self, err: Fraction | ScaledRational) -> bool:
        """Whether an exact absolute error ``err`` >= 0 is within the bound (False: no bound)."""
        if not self.exists:
            return False
        if err == 0:
            return True
        return ln_fraction(err) <= self.log_abs

    def describe(self) -> str:
        """The bound in words, any magnitude."""
        if not self.exists:
            return "none (the first-order model claims no accuracy here)"
        la = self.log_abs
        if la == -math.inf:
            return "0 (exact)"
        ab = self.absolute()
        shown = f"{ab:.3g}" if ab is not None and 0 < ab < math.inf else f"2^{la / math.log(2):.1f}"
        return f"{shown} (relative {self.rel:.3g} of the no-cancellation scale)"


def error_bound(
    dtype: str | FloatFormat, backend: str, objective: str, t: int, d: int, sens: Sensitivity
) -> ErrorBound:
    """The :class:`ErrorBound` of a ``backend`` result in ``dtype`` at one point.

    The formulas are in :class:`Tolerance` (stepwise backprop and the paper's powers round
    the iterate itself, so they carry kappa_grad and kappa_aff; the stable closed form
    rounds the modal data instead, so it carries kappa_data: the registry's ``rounds``).

    Accuracy
    --------
    First-order model (see :data:`TOLERANCES`): the condition numbers are float64 estimates,
    not certified quantities. The scale is carried in log space, so the bound never
    overflows into "no bound".
    """
    fmt = get_format(dtype)
    tol = TOLERANCES[fmt.name]
    h = horizon_amplification(backend, objective, t, sens)
    steps = tol.k_horizon * h * math.sqrt(d) * sens.kappa_eta
    if backend_info(backend).rounds == "modal":
        units = tol.k_sum * d * (sens.kappa_f + sens.kappa_data) + steps
    else:
        units = (tol.k_sum * d * max(sens.kappa_f, sens.kappa_grad) + steps) * sens.kappa_aff
    rel = fmt.unit_roundoff * units
    log_scale = sens.log_scale
    if math.isnan(log_scale):  # a Sensitivity built by hand without log_scale
        log_scale = math.log(sens.scale) if sens.scale > 0 else -math.inf
    if not rel <= MODEL_LIMIT:
        # the first-order model has broken down (condition x u > MODEL_LIMIT, e.g. every GD
        # factor 1 - eta lambda_i cancels): no accuracy is claimed beyond 1 ulp
        return ErrorBound(fmt.name, None, log_scale)
    return ErrorBound(fmt.name, rel, log_scale)


def tolerance(result: BackpropResult, sens: Sensitivity | None = None) -> float:
    """Allowed absolute error of a scalar result as a float64 (0 where the model claims nothing).

    A display value: ``inf`` when the bound is beyond float64's range, which
    :class:`ErrorBound` (used for judging) still compares exactly in log space.

    Accuracy
    --------
    First-order model (see :func:`error_bound`).
    """
    if sens is None:
        sens = _sensitivity_of(result)[0]
    b = error_bound(result.dtype, result.backend, result.objective, result.t, _dim(result), sens)
    ab = b.absolute()
    return 0.0 if ab is None else ab


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


def accuracy(computed: float, truth: Enclosure, dtype: str | FloatFormat) -> Accuracy:
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
    ulps = ulp_distance(c, ref, fmt)
    if not math.isfinite(c):
        return Accuracy(c, ref, ulps, bits_of_error(ulps), math.inf, math.inf)
    mid = truth.mid_exact
    diff = abs_difference(c, mid)
    if mid == 0:
        rel_u = 0.0 if diff == 0 else math.inf
    else:
        rel_u = _to_float(diff / abs(mid)) / fmt.unit_roundoff
    return Accuracy(c, ref, ulps, bits_of_error(ulps), rel_u, _to_float(diff))


def abs_difference(x: float, m: ScaledRational) -> ScaledRational:
    """|x - m| for a finite float ``x`` and an exact value ``m`` of any magnitude.

    Accuracy
    --------
    Exact, except when the two magnitudes are more than
    :data:`~verify.floats.FRACTION_LIMIT_BITS` binades apart (a truth at t = 10^12 against a
    float result): then the larger magnitude is returned, which is the difference within a
    relative 2^-(2^20), far below the float precision of every use (ratios reported as floats,
    and :meth:`ErrorBound.admits`, which compares logarithms in float64).
    """
    sx = ScaledRational(Fraction(x))
    try:
        return abs(sx - m)
    except FractionSizeError:
        return max(abs(sx), abs(m))


def _to_float(q: ScaledRational) -> float:
    """q correctly rounded to float64 (inf beyond its range, 0 below it)."""
    return round_fraction(q, "float64")


def _dim(result: BackpropResult) -> int:
    if result.problem is None:
        raise ValueError("result carries no problem: cannot size its tolerance")
    return result.problem.d


def require_gd(result: BackpropResult) -> None:
    """Refuse a result unrolled with another inner optimizer than plain GD.

    The certified truth this module is handed and the first-order error model
    (:class:`Tolerance`) are plain GD's: judging a heavy-ball or Adam result with them would
    compare it against the wrong number. Raises :class:`~verify.errors.ArgumentError` naming
    ``result`` (a heavy-ball result with beta = 0 is refused too: it was not computed by the
    GD code path).
    """
    if not result.optimizer.is_gd:
        raise ArgumentError(
            "result",
            f"<{result.backend} result, optimizer={result.optimizer.name!r}>",
            "was unrolled with an optimizer other than plain GD; the judge's truth and error "
            "model are plain GD's, so it cannot judge it",
        )


def _sensitivity_of(result: BackpropResult) -> list[Sensitivity]:
    require_gd(result)
    if result.problem is None:
        raise ValueError("result carries no problem: cannot size its tolerance")
    return sensitivity(
        result.problem,
        result.eta,
        result.t,
        objective=result.objective,
        eval_problem=result.eval_problem,
    )


@dataclass(frozen=True)
class Judgement:
    """Outcome of one float meta-gradient, with its metrics, error bound and one-line reason."""

    outcome: Outcome
    accuracy: Accuracy
    bound: ErrorBound
    reason: str


def underflow_flag(
    value: float | None, objective: str, diagnostics: Diagnostics | None
) -> str | None:
    """Why the computation is known to have underflowed (``None``: nothing says so).

    Evidence, in order: the diagnostics' first intermediate that became zero, the loss
    f(w_t) as computed being 0, or the meta-objective value the caller reported showing
    f(w_t) = 0 (``F = -inf`` for the log objective, ``F = 0`` for the naive one).
    """
    if diagnostics is not None:
        if diagnostics.first_underflow is not None:
            return f"an intermediate underflowed to zero at step {diagnostics.first_underflow}"
        if diagnostics.loss == 0:
            return "f(w_t) rounded to 0"
    if value is not None:
        if objective == "log" and value == -math.inf:
            return "the reported F = -inf (f(w_t) rounded to 0)"
        if objective == "naive" and value == 0:
            return "the reported F = f(w_t) rounded to 0"
    return None


def judge_value(
    grad: float,
    truth: Enclosure,
    bound: ErrorBound,
    *,
    value: float | None = None,
    objective: str = "log",
    diagnostics: Diagnostics | None = None,
) -> Judgement:
    """Classify one float meta-gradient against the certified truth (the rules of this module).

    This is the only place where the outcome rules live; :func:`classify`,
    :func:`classify_all`, :func:`assert_meta_gradient_accurate` and
    :func:`verify.judge.check_meta_gradient` all call it.

    Parameters
    ----------
    grad : float
        The meta-gradient, a value of ``bound.dtype`` (NaN and inf allowed).
    truth : Enclosure
        Certified F'(eta) at the same point.
    bound : ErrorBound
        The error model's bound for this result (:func:`error_bound`).
    value : float, optional
        The meta-objective the computation reported (evidence of over/underflow).
    objective : {"log", "naive"}
    diagnostics : Diagnostics, optional
        A built-in backend's record of its intermediates.

    Accuracy
    --------
    Exact: the truth is rounded once to the dtype, ulps are counted in integer arithmetic,
    the absolute error |grad - mid| is an exact rational compared with the bound in log
    space, and a sign is "wrong" only against a certified sign.
    """
    return _judge(float(grad), truth, bound, get_format(bound.dtype), value, objective, diagnostics)


def _judge(
    g: float,
    truth: Enclosure,
    bound: ErrorBound,
    fmt: FloatFormat,
    value: float | None,
    objective: str,
    diagnostics: Diagnostics | None,
) -> Judgement:
    """The rules of :func:`judge_value` for a float ``g`` of the format ``fmt`` (``bound``'s)."""
    acc = accuracy(g, truth, fmt)
    ref = acc.truth_rounded
    where = f"the certified value {format_real(truth.mid_exact)} rounds to {ref!r} in {fmt.name}"

    def out(o: Outcome, reason: str) -> Judgement:
        return Judgement(o, acc, bound, reason)

    if math.isnan(g):
        return out(Outcome.NAN, f"NaN; {where}")
    if math.isinf(g) and g != ref:
        return out(Outcome.OVERFLOW, f"{g!r}; {where}")
    overflowed = (value is not None and value == math.inf) or (
        diagnostics is not None and diagnostics.loss == math.inf
    )
    if g == 0 and overflowed and ref != 0:
        return out(
            Outcome.SILENTLY_WRONG,
            f"0 from an overflowed objective (f(w_t) = inf makes d log f = 1/f = 0); {where}",
        )
    tiny = math.ldexp(1.0, fmt.emin)
    flag = underflow_flag(value, objective, diagnostics)
    what = "0" if g == 0 else f"subnormal {g!r}"
    sign = 0 if truth.contains_zero() else truth.sign()
    if g != 0 and sign != 0 and (g > 0) != (sign > 0):
        if abs(g) < tiny and flag is not None:
            return out(Outcome.UNDERFLOW, f"{what} (wrong sign) after {flag}; {where}")
        return out(Outcome.SILENTLY_WRONG, f"wrong sign: got {g!r}; {where} (sign certified)")
    err = abs_difference(g, truth.mid_exact) if math.isfinite(g) else None
    if acc.ulps <= 1:
        return out(Outcome.ACCURATE, f"{acc.ulps:g} ulp(s) from the correctly rounded {ref!r}")
    if err is not None and bound.admits(err):
        return out(
            Outcome.ACCURATE,
            f"|error| {format_real(err, 3)} within the bound {bound.describe()}",
        )
    if abs(g) < tiny:
        if flag is not None:
            return out(Outcome.UNDERFLOW, f"{what} after {flag}; {where}")
        if g != 0:  # a nonzero subnormal result is its own evidence of gradual underflow
            why = (
                "a leftover of gradual underflow (the exact value is below the format's range)"
                if ref == 0
                else "precision lost to gradual underflow"
            )
            return out(Outcome.UNDERFLOW, f"{what}: {why}; {where}")
        return out(Outcome.SILENTLY_WRONG, f"0 with no sign of underflow; {where}")
    if ref == 0:
        return out(Outcome.SILENTLY_WRONG, f"spurious normal-size {g!r}; {where}")
    if sign != 0:
        ratio = ScaledRational(Fraction(g)) / truth.mid_exact
        if not ScaledRational(1, -1) <= ratio <= ScaledRational(2):
            return out(
                Outcome.SILENTLY_WRONG,
                f"off by a factor {format_real(ratio, 3)}: got {g!r}; {where}",
            )
    assert err is not None
    return out(
        Outcome.INACCURATE,
        f"{acc.ulps:.4g} ulps ({acc.bits:.3g} bits) from {ref!r}: |error| "
        f"{format_real(err, 3)} beyond the bound {bound.describe()}",
    )


def bound_of(
    result: BackpropResult, sens: Sensitivity, dtype: str | FloatFormat | None = None
) -> ErrorBound:
    """:func:`error_bound` of a scalar backend result (judged in ``dtype``, default its own)."""
    return error_bound(
        dtype or result.dtype, result.backend, result.objective, result.t, _dim(result), sens
    )


def _judge_result(
    result: BackpropResult, truth: Enclosure, dtype: str | None, sens: Sensitivity
) -> Judgement:
    """:func:`judge_value` of a scalar result in ``dtype`` (default its own), parsed once."""
    require_gd(result)
    fmt = get_format(dtype or result.dtype)
    v = float(result.value)
    return _judge(
        float(result.grad),
        truth,
        bound_of(result, sens, fmt),
        fmt,
        None if math.isnan(v) else v,
        result.objective,
        result.diagnostics,
    )


def classify(
    result: BackpropResult,
    truth: Enclosure,
    *,
    dtype: str | None = None,
    sens: Sensitivity | None = None,
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

    Raises
    ------
    NotCertifiedError
        When the truth cannot be rounded to ``dtype`` uniquely.
    """
    if result.batched:
        raise ValueError("classify takes a scalar result; use classify_all for a batch")
    if sens is None:
        sens = _sensitivity_of(result)[0]
    return _judge_result(result, truth, dtype, sens).outcome


def classify_all(result: BackpropResult, truths: Sequence[Enclosure]) -> list[Outcome]:
    """Outcomes of every step size of a (batched or scalar) result, sensitivities computed once."""
    points = result.points()
    if len(points) != len(truths):
        raise ValueError(f"{len(points)} results but {len(truths)} enclosures")
    sens = _sensitivity_of(result)
    return [
        _judge_result(p, tr, None, s).outcome for p, tr, s in zip(points, truths, sens, strict=True)
    ]


def assert_meta_gradient_accurate(
    results: Sequence[BackpropResult] | BackpropResult,
    truths: Sequence[Enclosure],
    *,
    dtype: str | None = None,
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
    """
    points: list[BackpropResult] = []
    for res in [results] if isinstance(results, BackpropResult) else results:
        points.extend(res.points())
    if len(points) != len(truths):
        raise ValueError(f"{len(points)} results but {len(truths)} enclosures")
    rows = []
    for p, tr in zip(points, truths, strict=True):
        rows.append((_judge_result(p, tr, dtype, _sensitivity_of(p)[0]), p))
    failed = [r for r in rows if r[0].outcome is not Outcome.ACCURATE]
    if not failed:
        return

    def badness(row: tuple[Judgement, BackpropResult]) -> float:
        return row[0].accuracy.ulps if math.isfinite(row[0].accuracy.ulps) else math.inf

    failed.sort(key=badness, reverse=True)
    worst = failed[0][0].accuracy
    dt = dtype or failed[0][1].dtype
    lines = [
        f"{len(failed)} of {len(rows)} meta-gradients not accurate "
        f"(worst {worst.ulps:.4g} ulps = {worst.bits:.3g} bits of error in {dt})",
        "tolerance: " + TOLERANCES[get_format(dt).name].derivation(),
        "worst inputs (eta exact):",
    ]
    for j, p in failed[:5]:
        eta = float(p.eta)
        lines.append(
            f"  {j.outcome.value}: eta={eta.hex()} ({eta!r}) t={p.t} objective={p.objective} "
            f"{p.dtype} {p.backend}/{p.mode}: got {j.accuracy.computed!r}, truth "
            f"{j.accuracy.truth_rounded!r}; {j.accuracy.ulps:.4g} ulps, "
            f"{j.accuracy.bits:.3g} bits, rel {j.accuracy.rel_u:.3g} u; {j.reason}"
        )
    etas = ", ".join(float(p.eta).hex() for _, p in failed[:5])
    lines.append(f"paste: @example(eta=float.fromhex(...)) for eta in [{etas}]")
    raise AssertionError("\n".join(lines))
