"""Behaviours of :mod:`verify.compare` that mutation testing found unpinned (``mutmut run``,
README "Tests and benchmarks"): the accuracy metrics' edge values, the error bound's display
and float64 edge, which arguments reach the judge (dtype, objective, value, diagnostics,
eval_problem), the one-line reasons, and the layout of the accuracy report.

Reasons and the report are compared whole where they are the contract (STYLE habit 5: a
failure message is an accuracy report). Every problem is 2-dimensional and t <= 1000 with the
NumPy backend, so the module runs in well under a second.
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import numpy as np
import pytest

from verify import Quadratic, truth
from verify.backprop import Diagnostics, Sensitivity, meta_gradient, sensitivity
from verify.certified.enclosure import Enclosure
from verify.compare import (
    TOLERANCES,
    ErrorBound,
    Outcome,
    accuracy,
    assert_meta_gradient_accurate,
    bound_of,
    classify,
    classify_all,
    error_bound,
    horizon_amplification,
    judge_value,
    tolerance,
    underflow_flag,
)
from verify.floats import format_real, get_format

Q = Quadratic([[2.0, 0.5], [0.5, 1.0]], [0.6, 0.8])
EV = Quadratic([[1.0, 0.0], [0.0, 3.0]], [0.1, -0.9])
U64 = get_format("float64").unit_roundoff
SENS = Sensitivity(scale=1.0, kappa_f=1.0, kappa_eta=1.0, q=0.5, log_scale=0.0)


def _where(mid: Fraction, ref: float, dtype: str = "float64") -> str:
    return f"the certified value {format_real(mid)} rounds to {ref!r} in {dtype}"


# --------------------------------------------------------------------------- accuracy
def test_accuracy_fields() -> None:
    """rel_u = |c - mid| / |mid| / u, abs_err = |c - mid|, computed kept as given."""
    c = 3.0 + 2**-50  # 4 ulps of 3.0 (ulp 2^-51 in [2, 4)) above the exact 3
    a = accuracy(c, Enclosure.exact(3), "float64")
    assert (a.computed, a.truth_rounded, a.ulps) == (c, 3.0, 2.0)
    assert a.abs_err == 2**-50
    assert a.rel_u == pytest.approx(2**-50 / 3 / U64, rel=1e-15)
    assert a.bits == math.log2(3.0)


@pytest.mark.parametrize(
    ("c", "rel_u", "abs_err"), [(0.0, 0.0, 0.0), (2.0**-1074, math.inf, 5e-324)]
)
def test_accuracy_against_a_zero_truth(c: float, rel_u: float, abs_err: float) -> None:
    a = accuracy(c, Enclosure.exact(0), "float64")
    assert (a.rel_u, a.abs_err) == (rel_u, abs_err)


@pytest.mark.parametrize("c", [math.inf, -math.inf, math.nan])
def test_accuracy_of_a_nonfinite_result(c: float) -> None:
    a = accuracy(c, Enclosure.exact(1), "float64")
    assert a.computed is c or (math.isnan(c) and math.isnan(a.computed))
    assert (a.truth_rounded, a.ulps, a.rel_u, a.abs_err) == (1.0, math.inf, math.inf, math.inf)


# --------------------------------------------------------------------------- ErrorBound
def test_admits_exact_zero_error_only_when_a_bound_exists() -> None:
    zero_bound = ErrorBound("float64", 0.0, 0.0)
    assert zero_bound.admits(Fraction(0))
    assert not zero_bound.admits(Fraction(1, 10**30))
    assert not ErrorBound("float64", 1e-20, 0.0).admits(Fraction(1))
    assert not ErrorBound("float64", None, 0.0).admits(Fraction(0))


def test_absolute_at_the_float64_edge() -> None:
    """ln|bound| = 709.78 exactly is still finite (exp(709.78) < max float); beyond: inf."""
    assert ErrorBound("float64", 1.0, 709.78).absolute() == math.exp(709.78) < math.inf
    assert ErrorBound("float64", 1.0, 709.79).absolute() == math.inf


@pytest.mark.parametrize(
    ("bound", "text"),
    [
        (ErrorBound("float64", None, 0.0), "none (the first-order model claims no accuracy here)"),
        (ErrorBound("float64", 0.0, 0.0), "0 (exact)"),
        (ErrorBound("float64", 0.5, -math.inf), "0 (exact)"),
        (ErrorBound("float64", 0.5, 0.0), "0.5 (relative 0.5 of the no-cancellation scale)"),
        (
            ErrorBound("float64", 0.25, 2.0),
            f"{0.25 * math.exp(2.0):.3g} (relative 0.25 of the no-cancellation scale)",
        ),
        # beyond float64's range both ways: a power of two, la / ln 2 to one decimal
        (
            ErrorBound("float64", 0.5, 2000.0),
            f"2^{2000 / math.log(2) - 1:.1f} (relative 0.5 of the no-cancellation scale)",
        ),
        (
            ErrorBound("float64", 0.5, -800.0),
            f"2^{-800 / math.log(2) - 1:.1f} (relative 0.5 of the no-cancellation scale)",
        ),
    ],
)
def test_describe(bound: ErrorBound, text: str) -> None:
    assert bound.describe() == text


def test_derivation_text() -> None:
    assert TOLERANCES["float32"].derivation() == (
        "|err| <= u*(4*d*kappa_f + 4*h*sqrt(d)*kappa_eta)*scale (x kappa_aff, kappa_f >= "
        "kappa_grad for stepwise backprop), u=2^-24 (float32); h = t (stepwise backprop), 2t "
        "(naive objective, paper powers), 2t*q+gap (stable log objective); see "
        "verify.compare.TOLERANCES"
    )


def test_horizon_amplification_gap_at_least_one() -> None:
    """stable, log: h = 2 t q + max(gap, 1) (b = 0 has gap 0: one power of rho remains)."""
    s = dataclasses.replace(SENS, exponent_gap=0.0)
    assert horizon_amplification("stable", "log", 10, s) == 2 * 10 * 0.5 + 1.0
    s3 = dataclasses.replace(SENS, exponent_gap=3.0)
    assert horizon_amplification("stable", "log", 10, s3) == 2 * 10 * 0.5 + 3.0


@pytest.mark.parametrize("scale", [0.5, 4.0, 0.0])
def test_error_bound_log_scale_from_scale(scale: float) -> None:
    """A Sensitivity without log_scale: ln(scale), -inf for 0; kept also when no bound exists."""
    sens = Sensitivity(scale=scale, kappa_f=1.0, kappa_eta=1.0, q=0.0)
    expected = math.log(scale) if scale > 0 else -math.inf
    assert error_bound("float64", "numpy", "naive", 3, 2, sens).log_scale == expected
    huge = dataclasses.replace(sens, kappa_eta=1e30)
    none = error_bound("float64", "numpy", "naive", 3, 2, huge)
    assert not none.exists and none.log_scale == expected


# --------------------------------------------------------------------------- results
@pytest.fixture(scope="module")
def r32():  # type: ignore[no-untyped-def]
    return meta_gradient(Q, 0.25, 5, dtype="float32")


def test_tolerance_in_the_result_dtype_and_zero_without_bound(r32) -> None:  # type: ignore[no-untyped-def]
    sens = sensitivity(Q, 0.25, 5, objective="log")[0]
    assert tolerance(r32) == error_bound("float32", "numpy", "log", 5, 2, sens).absolute()
    r16 = meta_gradient(Q, 0.25, 1000, dtype="float16")
    assert not error_bound(
        "float16", "numpy", "log", 1000, 2, sensitivity(Q, 0.25, 1000, objective="log")[0]
    ).exists
    assert tolerance(r16) == 0.0


def test_tolerance_uses_the_objective_and_eval_problem() -> None:
    res = meta_gradient(Q, 0.25, 5, dtype="float32", objective="naive", eval_problem=EV)
    sens = sensitivity(Q, 0.25, 5, objective="naive", eval_problem=EV)[0]
    other = sensitivity(Q, 0.25, 5, objective="naive")[0]
    assert sens.kappa_f != other.kappa_f
    assert tolerance(res) == error_bound("float32", "numpy", "naive", 5, 2, sens).absolute()


@pytest.mark.parametrize("call", ["tolerance", "classify"])
def test_results_without_a_problem_are_refused(r32, call: str) -> None:  # type: ignore[no-untyped-def]
    bare = dataclasses.replace(r32, problem=None)
    with pytest.raises(ValueError, match=r"^result carries no problem: cannot size its tolerance$"):
        if call == "tolerance":
            tolerance(bare)
        else:
            classify(bare, Enclosure.exact(1))
    with pytest.raises(ValueError, match=r"^result carries no problem: cannot size its tolerance$"):
        bound_of(bare, SENS)


def test_classify_refuses_a_batch() -> None:
    batch = meta_gradient(Q, [0.25, 0.5], 5, dtype="float32")
    with pytest.raises(
        ValueError, match=r"^classify takes a scalar result; use classify_all for a batch$"
    ):
        classify(batch, Enclosure.exact(1))


def test_bound_of_dtype_and_objective() -> None:
    res = meta_gradient(Q, 0.25, 5, dtype="float32", backend="stable", objective="log")
    sens = sensitivity(Q, 0.25, 5, objective="log")[0]
    assert bound_of(res, sens) == error_bound("float32", "stable", "log", 5, 2, sens)
    assert bound_of(res, sens, "float64") == error_bound("float64", "stable", "log", 5, 2, sens)


def test_classify_judges_in_the_requested_dtype(r32) -> None:  # type: ignore[no-untyped-def]
    """A float32 result judged in float64: its float32 rounding is far beyond the float64
    bound (inaccurate), though accurate in float32."""
    tr = truth.meta_gradient(Q, 0.25, 5, objective="log")
    assert classify(r32, tr) is Outcome.ACCURATE
    assert classify(r32, tr, dtype="float64") is Outcome.INACCURATE
    with pytest.raises(AssertionError, match=r"bits of error in float64\)"):
        assert_meta_gradient_accurate(r32, [tr], dtype="float64")


def test_the_reported_value_and_objective_reach_the_judge(r32) -> None:  # type: ignore[no-untyped-def]
    """grad 0 with the reported F = -inf (log objective): underflow; a NaN value is no evidence."""
    tr = truth.meta_gradient(Q, 0.25, 5, objective="log")
    zero = dataclasses.replace(
        r32, grad=np.float32(0.0), value=np.float32(-np.inf), diagnostics=None
    )
    assert classify(zero, tr) is Outcome.UNDERFLOW
    nan_value = dataclasses.replace(zero, value=np.float32(np.nan))
    assert classify(nan_value, tr) is Outcome.SILENTLY_WRONG


# --------------------------------------------------------------------------- judge_value
def test_judge_value_defaults_to_the_log_objective_and_passes_diagnostics() -> None:
    tr = Enclosure.exact(Fraction(1, 3))
    b = ErrorBound("float64", 1e-15, math.log(1 / 3))
    assert judge_value(0.0, tr, b, value=-math.inf).outcome is Outcome.UNDERFLOW
    assert judge_value(0.0, tr, b, value=0.0).outcome is Outcome.SILENTLY_WRONG  # naive evidence
    diag = Diagnostics(1.0, 1.0, 1.0, 1.0, None, 7, None, 1.0)
    j = judge_value(0.0, tr, b, objective="naive", diagnostics=diag)
    assert j.outcome is Outcome.UNDERFLOW and j.bound is b
    assert (
        j.reason
        == f"0 after an intermediate underflowed to zero at step 7; {_where(tr.mid, 1 / 3)}"
    )


@pytest.mark.parametrize(
    ("value", "objective", "diag_loss", "text"),
    [
        (None, "log", 0.0, "f(w_t) rounded to 0"),
        (-math.inf, "log", None, "the reported F = -inf (f(w_t) rounded to 0)"),
        (0.0, "naive", None, "the reported F = f(w_t) rounded to 0"),
        (0.0, "log", None, None),
        (-math.inf, "naive", None, None),
    ],
)
def test_underflow_flag_texts(
    value: float | None, objective: str, diag_loss: float | None, text: str | None
) -> None:
    diag = None if diag_loss is None else Diagnostics(1, 1, 1, 1, None, None, None, diag_loss)
    assert underflow_flag(value, objective, diag) == text


def test_wrong_sign_at_the_smallest_normal_is_not_underflow() -> None:
    """-tiny (the smallest normal) against a positive truth after an underflow: silently wrong
    (only |g| < tiny can be a leftover of underflow)."""
    tiny = 2.0**-1022
    tr = Enclosure.exact(1)
    b = ErrorBound("float64", 1e-15, 0.0)
    assert judge_value(-tiny, tr, b, value=-math.inf).outcome is Outcome.SILENTLY_WRONG
    assert judge_value(-tiny / 2, tr, b, value=-math.inf).outcome is Outcome.UNDERFLOW


# --------------------------------------------------------------------------- reasons
NOB = ErrorBound("float64", None, 0.0)


def test_reasons_per_rule() -> None:
    one = Enclosure.exact(1)
    w1 = _where(Fraction(1), 1.0)
    assert judge_value(math.nan, one, NOB).reason == f"NaN; {w1}"
    assert judge_value(math.inf, one, NOB).reason == f"inf; {w1}"
    assert judge_value(1.0, one, NOB).reason == "0 ulp(s) from the correctly rounded 1.0"
    assert judge_value(0.0, one, NOB, objective="naive").reason == (
        f"0 with no sign of underflow; {w1}"
    )
    assert judge_value(0.4, one, NOB).reason == (
        f"off by a factor {format_real(Fraction(0.4), 3)}: got 0.4; {w1}"
    )
    assert judge_value(1.5, one, NOB).reason == (
        f"{2**51:.4g} ulps ({math.log2(1 + 2**51):.3g} bits) from 1.0: |error| 0.5 beyond the "
        f"bound {NOB.describe()}"
    )


def test_reasons_for_subnormal_results() -> None:
    sub = 2.0**-1073
    below = Enclosure.exact(Fraction(1, 10**400))  # rounds to 0 in float64
    assert judge_value(sub, below, NOB).reason == (
        f"subnormal {sub!r}: a leftover of gradual underflow (the exact value is below the "
        f"format's range); {_where(below.mid, 0.0)}"
    )
    normal = Enclosure.exact(1)
    assert judge_value(sub, normal, NOB).reason == (
        f"subnormal {sub!r}: precision lost to gradual underflow; {_where(Fraction(1), 1.0)}"
    )
    assert judge_value(sub, normal, NOB, value=-math.inf).reason == (
        f"subnormal {sub!r} after the reported F = -inf (f(w_t) rounded to 0); "
        f"{_where(Fraction(1), 1.0)}"
    )


def test_reasons_beyond_float64_range() -> None:
    """Exact quantities beyond float64 print with 3 significant digits."""
    big = Enclosure.exact(Fraction(10**400))
    b = ErrorBound("float64", 0.5, math.log(10.0) * 401)
    err = Fraction(10**400) - Fraction(1e308)
    assert judge_value(1e308, big, b).reason == (
        f"|error| {format_real(err, 3)} within the bound {b.describe()}"
    )
    assert "1.00e+400" in format_real(err, 3)
    huge = Enclosure.exact(Fraction(10**100))
    ratio = Fraction(1e-300) / Fraction(10**100)
    assert judge_value(1e-300, huge, NOB).reason == (
        f"off by a factor {format_real(ratio, 3)}: got 1e-300; {_where(huge.mid, 1e100)}"
    )
    assert format_real(ratio, 3) != format_real(ratio, 4)


# --------------------------------------------------------------------------- the report
def test_report_layout_order_and_limits() -> None:
    """Six failing points from two results given as a list: the count, the worst (in ulps)
    first, the tolerance of the result's dtype, five inputs listed, the paste line."""
    etas = [0.125, 0.25, 0.375]
    ra = meta_gradient(Q, etas, 5, dtype="float32")
    rb = meta_gradient(Q, etas, 5, dtype="float32")
    exact = [truth.meta_gradient(Q, e, 5, objective="log") for e in etas]
    # truths off by growing factors within 2x: inaccurate, worst last in input order
    truths = [
        Enclosure.exact(tr.mid * Fraction(100 + k, 100))
        for k, tr in enumerate(exact + exact, start=1)
    ]
    with pytest.raises(AssertionError) as exc:
        assert_meta_gradient_accurate([ra, rb], truths)
    lines = str(exc.value).split("\n")
    assert lines[0].startswith("6 of 6 meta-gradients not accurate (worst ")
    assert lines[0].endswith(" bits of error in float32)")
    assert lines[1] == "tolerance: " + TOLERANCES["float32"].derivation()
    assert lines[2] == "worst inputs (eta exact):"
    listed = lines[3:-1]
    assert len(listed) == 5
    ulps = [float(line.split("; ")[1].split(" ulps")[0]) for line in listed]
    assert ulps == sorted(ulps, reverse=True) and ulps[0] > ulps[-1]
    assert all(line.startswith("  inaccurate: eta=0x") for line in listed)
    listed_etas = [line.split("eta=")[1].split(" ")[0] for line in listed]
    assert lines[-1] == (
        "paste: @example(eta=float.fromhex(...)) for eta in [" + ", ".join(listed_etas) + "]"
    )
    with pytest.raises(ValueError, match=r"^6 results but 5 enclosures$"):
        assert_meta_gradient_accurate([ra, rb], truths[:5])


def test_report_puts_nonfinite_first() -> None:
    res = meta_gradient(Q, [0.25, 0.5], 5, dtype="float32")
    exact = [truth.meta_gradient(Q, e, 5, objective="log") for e in (0.25, 0.5)]
    nan_first = dataclasses.replace(res.point(1), grad=np.float32(np.nan))
    off = [Enclosure.exact(exact[0].mid * Fraction(3, 2)), exact[1]]
    with pytest.raises(AssertionError) as exc:
        assert_meta_gradient_accurate([res.point(0), nan_first], off)
    lines = str(exc.value).split("\n")
    assert lines[0].startswith("2 of 2 meta-gradients not accurate (worst inf ulps")
    assert lines[3].startswith("  nan: eta=" + (0.5).hex())


def test_no_sign_rule_against_a_truth_that_contains_zero() -> None:
    """A truth enclosure containing 0 certifies no sign: the smallest subnormal of either sign
    is 1 ulp from the rounded truth 0 (accurate), never "wrong sign"."""
    for truth_ in (Enclosure.exact(0), Enclosure(Fraction(0), Fraction(1, 10**400))):
        for g in (2.0**-1074, -(2.0**-1074)):
            assert judge_value(g, truth_, NOB).outcome is Outcome.ACCURATE


def test_more_reasons() -> None:
    one = Enclosure.exact(1)
    sub = -(2.0**-1073)
    assert judge_value(sub, one, NOB, value=-math.inf).reason == (
        f"subnormal {sub!r} (wrong sign) after the reported F = -inf (f(w_t) rounded to 0); "
        f"{_where(Fraction(1), 1.0)}"
    )
    below = Enclosure.exact(Fraction(1, 10**400))
    assert judge_value(0.5, below, NOB).reason == (
        f"spurious normal-size 0.5; {_where(below.mid, 0.0)}"
    )


def test_inaccurate_reason_with_an_error_below_the_normal_range() -> None:
    """g = the smallest normal, truth 3 ulps above it: |error| = 3 x 2^-1074 prints with 3
    significant digits (below float64's normal range format_real counts digits)."""
    tiny = 2.0**-1022
    tr = Enclosure.exact(Fraction(tiny) + 3 * Fraction(2.0**-1074))
    err = 3 * Fraction(2.0**-1074)
    j = judge_value(tiny, tr, NOB)
    assert j.outcome is Outcome.INACCURATE
    assert format_real(err, 3) != format_real(err, 4) != format_real(err)
    ref = tr.to_float(get_format("float64"))
    assert j.reason == (
        f"3 ulps ({math.log2(4):.3g} bits) from {ref!r}: |error| {format_real(err, 3)} beyond "
        f"the bound {NOB.describe()}"
    )


def test_classify_all_pairs_points_with_truths() -> None:
    etas = [0.25, 0.5]
    batch = meta_gradient(Q, etas, 5, dtype="float32")
    exact = [truth.meta_gradient(Q, e, 5, objective="log") for e in etas]
    assert classify_all(batch, exact) == [Outcome.ACCURATE, Outcome.ACCURATE]
    off = [exact[0], Enclosure.exact(exact[1].mid * 3)]
    assert classify_all(batch, off) == [Outcome.ACCURATE, Outcome.SILENTLY_WRONG]
    single = meta_gradient(Q, 0.25, 5, dtype="float32")
    assert classify_all(single, [exact[0]]) == [Outcome.ACCURATE]
    with pytest.raises(ValueError, match=r"^2 results but 1 enclosures$"):
        classify_all(batch, exact[:1])
