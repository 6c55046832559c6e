"""Edges of the judge's rules that mutation testing found unpinned (``mutmut`` on
verify/compare.py, see the README's developer section): each test kills a surviving mutant
(a changed comparison, constant or branch) named in its docstring.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from verify.backprop import Diagnostics, Sensitivity
from verify.compare import (
    ErrorBound,
    Outcome,
    error_bound,
    judge_value,
    underflow_flag,
)
from verify.floats import get_format, ulp_distance
from verify.truth import Enclosure

NO_BOUND = ErrorBound("float64", None, 0.0)


def _exact(x: float | Fraction) -> Enclosure:
    return Enclosure.exact(Fraction(x))


def _wide(x: Fraction, rel: Fraction = Fraction(1, 2**90)) -> Enclosure:
    return Enclosure(x - abs(x) * rel, x + abs(x) * rel, 128)


def _bound(rel: float, scale: float, dtype: str = "float64") -> ErrorBound:
    return ErrorBound(dtype, rel, math.log(scale))


def test_wrong_sign_fails_even_within_the_bound_for_either_sign() -> None:
    """Mutant ``sign != 0`` -> ``sign != 1``: a positive truth with a negative result inside
    a generous bound (cancellation: scale >> |F'|) must still be a wrong sign."""
    bound = _bound(1e-3, 1e6)  # absolute bound 1e3
    for truth, got in ((2.5, -2.5), (-2.5, 2.5)):
        j = judge_value(got, _exact(truth), bound)
        assert j.outcome is Outcome.SILENTLY_WRONG and "wrong sign" in j.reason


def test_one_ulp_passes_two_ulps_do_not_without_a_bound() -> None:
    """Mutant ``ulps <= 1`` -> ``ulps <= 2``."""
    x = 1.5
    one = np.nextafter(x, 2.0)
    two = np.nextafter(one, 2.0)
    assert judge_value(float(one), _exact(x), NO_BOUND).outcome is Outcome.ACCURATE
    assert judge_value(float(two), _exact(x), NO_BOUND).outcome is Outcome.INACCURATE


def test_the_smallest_normal_is_not_subnormal() -> None:
    """Mutants ``abs(g) < tiny`` -> ``<=`` and ``tiny = ldexp(1, emin)`` -> ``ldexp(2, emin)``:
    a result exactly at the smallest normal number, far from the truth, with a flagged
    underflow, is judged by the normal-size rules (off by a factor: silently wrong)."""
    tiny = math.ldexp(1.0, get_format("float64").emin)
    flagged = Diagnostics(1.0, 1.0, 1.0, 1.0, None, 3, None, 1.0)
    j = judge_value(tiny, _exact(1.0), NO_BOUND, diagnostics=flagged)
    assert j.outcome is Outcome.SILENTLY_WRONG
    j = judge_value(2 * tiny, _exact(1.0), NO_BOUND, diagnostics=flagged)
    assert j.outcome is Outcome.SILENTLY_WRONG
    below = float(np.nextafter(tiny, 0.0))  # the largest subnormal
    assert judge_value(below, _exact(1.0), NO_BOUND, diagnostics=flagged).outcome is (
        Outcome.UNDERFLOW
    )


def test_a_zero_from_an_overflowed_objective_needs_a_nonzero_truth() -> None:
    """Mutant ``ref != 0`` -> ``ref != 1``: with the truth rounding to 0, a zero result is
    correct whatever the reported value; with the truth rounding to 1, it is not."""
    tiny_truth = _exact(Fraction(1, 2**1100))  # rounds to +0 in float64
    assert judge_value(0.0, tiny_truth, NO_BOUND, value=math.inf).outcome is Outcome.ACCURATE
    j = judge_value(0.0, _exact(1.0), NO_BOUND, value=math.inf)
    assert j.outcome is Outcome.SILENTLY_WRONG and "overflowed objective" in j.reason


def test_an_exactly_zero_truth_has_no_sign() -> None:
    """Mutant ``sign = 0 if contains_zero`` -> ``sign = 1``: against an exact 0, a small
    negative result is not a wrong sign (it is judged by the bound)."""
    bound = _bound(1e-3, 1.0)  # absolute bound 1e-3
    j = judge_value(-1e-6, _exact(0), bound)
    assert j.outcome is Outcome.ACCURATE


def test_error_bound_admits_exact_and_boundary_errors() -> None:
    """Mutants in :meth:`ErrorBound.admits`: ``err == 0`` -> ``err == 1``, ``return True`` ->
    ``False``, ``<=`` -> ``<``."""
    zero = ErrorBound("float64", 0.5, -math.inf)  # scale 0: only an exact result is inside
    assert zero.admits(Fraction(0)) and not zero.admits(Fraction(1, 10**30))
    assert not NO_BOUND.admits(Fraction(0))
    b = ErrorBound("float64", 0.25, math.log(4.0))  # absolute bound exactly 1 (log_abs = 0)
    assert b.log_abs == 0.0
    assert b.admits(Fraction(1))  # ln 1 = 0 <= 0: the boundary is inside
    assert not b.admits(Fraction(1) + Fraction(1, 10**6))


def test_absolute_bound_at_the_edge_of_float64() -> None:
    """Mutants of the 709.78 threshold in :meth:`ErrorBound.absolute`: just below it the
    bound is a finite float; from ln(max float64) on it is inf, never an OverflowError."""
    assert math.isfinite(_bound(1.0, math.exp(709.0)).absolute())  # type: ignore[arg-type]
    big = ErrorBound("float64", 1.0, 709.9)
    assert big.absolute() == math.inf
    huge = ErrorBound("float64", 1.0, 710.5)  # math.exp(710.5) would raise OverflowError
    assert huge.absolute() == math.inf
    assert NO_BOUND.absolute() is None
    assert "2^" in ErrorBound("float64", 1e-12, 900.0).describe()


def test_error_bound_without_log_scale_falls_back_to_scale() -> None:
    """Mutants of the fallback for a hand-built :class:`Sensitivity` (no ``log_scale``)."""
    sens = Sensitivity(scale=8.0, kappa_f=1.0, kappa_eta=1.0, q=0.0)
    b = error_bound("float64", "numpy", "log", 10, 2, sens)
    assert b.log_scale == pytest.approx(math.log(8.0), rel=1e-15)  # ln of exact 8, ~1 ulp
    zero = error_bound("float64", "numpy", "log", 10, 2, Sensitivity(0.0, 1.0, 1.0, 0.0))
    assert zero.log_scale == -math.inf and zero.admits(Fraction(0))


def test_model_limit_is_inclusive() -> None:
    """Mutant ``not rel <= MODEL_LIMIT`` -> ``not rel < MODEL_LIMIT``: a relative bound of
    exactly MODEL_LIMIT still exists."""
    u = get_format("float64").unit_roundoff
    # units = (k_sum d max(kf, kg) + k_horizon t sqrt(d) kappa_eta) kappa_aff with d = 1,
    # t = 0 (stepwise h = t): units = 4 kappa_f; choose kappa_f so that u * units = 0.5
    sens = Sensitivity(scale=1.0, kappa_f=0.5 / (4 * u), kappa_eta=1.0, q=0.0, log_scale=0.0)
    b = error_bound("float64", "numpy", "naive", 0, 1, sens)
    assert b.rel == 0.5 and b.exists


def test_underflow_evidence_depends_on_the_objective() -> None:
    """Mutant ``objective == "naive" and value == 0`` -> ``or``: for the log objective F = 0
    means f(w_t) = 1, not an underflow."""
    assert underflow_flag(0.0, "log", None) is None
    assert underflow_flag(0.0, "naive", None) is not None
    assert underflow_flag(-math.inf, "naive", None) is None
    assert underflow_flag(-math.inf, "log", None) is not None
    assert underflow_flag(None, "log", Diagnostics(1, 1, 1, 1, None, None, None, 0.0))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_ulp_distance_counts_across_binades_and_the_subnormal_edge(dtype: str) -> None:
    """Mutants of the index arithmetic in ``verify.floats.ordinal``: distances across the
    subnormal / normal boundary and across a binade boundary, against stepping with nextafter
    in the dtype (5 steps each side of each boundary)."""
    fmt = get_format(dtype)
    dt = fmt.numpy_dtype()
    up, down = dt.type(np.inf), dt.type(0.0)

    def walk(x: object, n: int, to: object) -> object:
        for _ in range(n):
            x = np.nextafter(x, to)
        return x

    for edge in (dt.type(math.ldexp(1.0, fmt.emin)), dt.type(2.0)):
        lo, hi = walk(edge, 5, down), walk(edge, 5, up)
        assert ulp_distance(float(lo), float(hi), dtype) == 10  # type: ignore[arg-type]
        assert ulp_distance(float(lo), float(edge), dtype) == 5  # type: ignore[arg-type]
        assert ulp_distance(-float(hi), float(hi), dtype) == 2 * ulp_distance(  # type: ignore[arg-type]
            0.0,
            float(hi),
            dtype,  # type: ignore[arg-type]
        )
    smallest = float(walk(dt.type(0.0), 1, up))
    assert ulp_distance(0.0, smallest, dtype) == 1 and ulp_distance(-smallest, smallest, dtype) == 2
