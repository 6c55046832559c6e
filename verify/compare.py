"""Judging float meta-gradients against certified truth: metrics and outcome classes.

The certified enclosure is rounded *once* to the result's dtype (:meth:`Enclosure.to_float`)
and only then compared, so ulp distances are counted in the result's own format.

Outcome classes (exhaustive and exclusive; the first that applies wins):

1. ``nan``: the meta-gradient is NaN.
2. ``overflow``: the meta-gradient is +-inf.
3. ``underflow``: the meta-gradient is 0 or subnormal while the exact value rounds to a normal
   number, and the diagnostics show an intermediate underflowed (went to zero).
4. ``silently_wrong``: a finite meta-gradient with the wrong sign, off by more than a factor
   of 2, or exactly 0 while the objective value overflowed -- the dangerous case, nothing
   warns the user.
5. ``accurate``: within the tolerance of :data:`REL_TOL_UNITS` (relative error in units of u).
6. ``inaccurate``: finite, right sign, within a factor 2, beyond the tolerance.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from .backprop.reference import BackpropResult
from .floats import get_format
from .truth.enclosure import Enclosure

__all__ = [
    "REL_TOL_UNITS",
    "Accuracy",
    "Outcome",
    "accuracy",
    "assert_meta_gradient_accurate",
    "classify",
    "tolerance_units",
]


class Outcome(enum.Enum):
    """How a float meta-gradient relates to the certified truth (see module docstring)."""

    ACCURATE = "accurate"
    INACCURATE = "inaccurate"
    SILENTLY_WRONG = "silently_wrong"
    OVERFLOW = "overflow"
    UNDERFLOW = "underflow"
    NAN = "nan"


# Tolerance in units of the dtype's unit roundoff u, per dtype, as a factor of (t + d).
# Derivation (first order, not a proof): the forward recurrence and the adjoint recurrence each
# apply t contractions/expansions whose relative rounding is at most (d + 2) u per step
# (one length-d inner product plus an axpy), and the final sum of t terms adds t u; with
# |F'| ~ sum |terms| (no cancellation, which holds away from eta*), the relative error is
# about 2 (t + d + 2) u + t u <= 4 (t + d) u. The factor 8 leaves a factor 2 for the log/
# division and is the same for every dtype, so the table documents the scaling; a region
# where cancellation makes the bound too tight shows up as "inaccurate", which is data.
REL_TOL_UNITS: dict[str, int] = {"float16": 8, "bfloat16": 8, "float32": 8, "float64": 8}


def tolerance_units(dtype: str, t: int, d: int) -> float:
    """Allowed relative error in units of u: REL_TOL_UNITS[dtype] * (t + d)."""
    return float(REL_TOL_UNITS[get_format(dtype).name] * (t + d))


@dataclass(frozen=True)
class Accuracy:
    """Error metrics of a float value against the exact value rounded to the same dtype.

    ``ulps``: distance in units in the last place of the dtype (inf when either is not
    finite); ``bits``: log2(1 + ulps); ``rel_u``: relative error in units of u.
    """

    computed: float
    truth_rounded: float
    ulps: float
    bits: float
    rel_u: float


def _ulp(x: float, dtype: str) -> float:
    fmt = get_format(dtype)
    ax = abs(x)
    e = max(math.frexp(ax)[1] - 1 if ax else fmt.emin, fmt.emin)
    return math.ldexp(1.0, e - fmt.precision + 1)


def accuracy(computed: float, truth: Enclosure, dtype: str) -> Accuracy:
    """Metrics of ``computed`` (a value representable in ``dtype``) against certified truth.

    Accuracy
    --------
    Exact: the truth is rounded once, correctly; the ulp distance is computed in rational
    arithmetic with the ulp of the larger magnitude's binade.
    """
    ref = truth.to_float(dtype)
    c = float(computed)
    u = get_format(dtype).unit_roundoff
    if not (math.isfinite(c) and math.isfinite(ref)):
        same = c == ref
        return Accuracy(
            c, ref, 0.0 if same else math.inf, 0.0 if same else math.inf, 0.0 if same else math.inf
        )
    diff = abs(Fraction(c) - Fraction(ref))
    ulps = float(diff / Fraction(_ulp(max(abs(c), abs(ref)), dtype)))
    rel_u = 0.0 if diff == 0 else (math.inf if ref == 0 else float(diff / abs(Fraction(ref))) / u)
    return Accuracy(c, ref, ulps, math.log2(1 + ulps), rel_u)


def classify(
    result: BackpropResult, truth: Enclosure, *, dtype: str | None = None, d: int = 1
) -> Outcome:
    """The outcome class of a scalar backprop result against the certified meta-gradient.

    Parameters
    ----------
    result : BackpropResult
        For a single step size.
    truth : Enclosure
        Certified meta-gradient at the same (problem, eta, t, objective).
    dtype : str, optional
        Defaults to ``result.dtype``.
    d : int
        Problem dimension (enters the tolerance).
    """
    dt = dtype or result.dtype
    g = float(result.grad)
    diag = result.diagnostics
    if math.isnan(g):
        return Outcome.NAN
    if math.isinf(g):
        return Outcome.OVERFLOW
    ref = truth.to_float(dt)
    fmt = get_format(dt)
    tiny = math.ldexp(1.0, fmt.emin)
    value_overflowed = not math.isfinite(float(result.value))
    if abs(g) < tiny and ref != 0 and abs(ref) >= tiny:
        if g == 0 and value_overflowed:
            return Outcome.SILENTLY_WRONG
        if diag.first_underflow is not None or diag.loss == 0:
            return Outcome.UNDERFLOW
        return Outcome.SILENTLY_WRONG
    sign = truth.sign() if not truth.contains_zero() else 0
    if sign != 0 and (g == 0 or (g > 0) != (sign > 0)):
        return Outcome.SILENTLY_WRONG
    if ref != 0 and math.isfinite(ref) and not (0.5 <= g / ref <= 2.0):
        return Outcome.SILENTLY_WRONG
    acc = accuracy(g, truth, dt)
    if acc.rel_u <= tolerance_units(dt, result.t, d) or acc.ulps <= 1:
        return Outcome.ACCURATE
    return Outcome.INACCURATE


def assert_meta_gradient_accurate(
    results: Sequence[BackpropResult],
    truths: Sequence[Enclosure],
    *,
    d: int,
    dtype: str | None = None,
) -> None:
    """Raise AssertionError with an accuracy report unless every result is ``accurate``.

    The message gives: failed points out of N, the worst errors in ulps and bits, the
    tolerance and its derivation, and the worst inputs exactly (``float.hex``) for pasting
    into ``@example``.
    """
    rows = []
    for res, tr in zip(results, truths, strict=True):
        dt = dtype or res.dtype
        out = classify(res, tr, dtype=dt, d=d)
        acc = accuracy(float(res.grad), tr, dt)
        rows.append((out, acc, res, dt))
    failed = [r for r in rows if r[0] is not Outcome.ACCURATE]
    if not failed:
        return
    failed.sort(key=lambda r: -r[1].ulps if math.isfinite(r[1].ulps) else -math.inf)
    lines = [
        f"{len(failed)} of {len(rows)} meta-gradients not accurate",
        "tolerance: relative error <= REL_TOL_UNITS[dtype] * (t + d) * u (first-order bound "
        "for forward + adjoint recurrences; see verify.compare.REL_TOL_UNITS)",
    ]
    for out, acc, res, dt in failed[:5]:
        eta = float(res.eta)
        lines.append(
            f"  {out.value:14s} eta={eta.hex()} t={res.t} {dt} {res.backend}/{res.mode}: "
            f"got {acc.computed!r}, truth {acc.truth_rounded!r}, {acc.ulps:.3g} ulps, "
            f"{acc.bits:.3g} bits, tolerance {tolerance_units(dt, res.t, d):.3g} u"
        )
    raise AssertionError("\n".join(lines))
