"""Correct rounding from exact rationals, and the Enclosure's rounding to each format."""

from __future__ import annotations

import math
from fractions import Fraction

import ml_dtypes
import mpmath
import numpy as np
import pytest
from flint import ctx as flint_ctx
from hypothesis import example, given
from hypothesis import strategies as st

from verify.floats import (
    FORMATS,
    FractionSizeError,
    ScaledRational,
    format_real,
    get_format,
    round_fraction,
)
from verify.truth import Enclosure

NUMPY_TYPES = {"float16": np.float16, "bfloat16": ml_dtypes.bfloat16, "float32": np.float32}


@pytest.mark.parametrize("name", sorted(NUMPY_TYPES))
@given(x=st.floats(allow_nan=False, allow_infinity=False))
@example(x=float.fromhex("0x1.0000010000000p+0"))  # float32 tie -> even
@example(x=float.fromhex("0x1.ffffffp+127"))  # rounds to float32 overflow
@example(x=float.fromhex("0x1p-150"))  # float32 subnormal tie to zero
@example(x=65520.0)  # float16: halfway to 2**16 rounds to inf
def test_round_fraction_matches_numpy_single_rounding(name: str, x: float) -> None:
    # numpy's float64 -> narrower cast rounds once, to nearest-even: an independent oracle
    with np.errstate(over="ignore"):
        expected = float(np.array(x).astype(NUMPY_TYPES[name]))
    got = round_fraction(Fraction(x), name)
    assert (
        got == expected and math.copysign(1, got) == math.copysign(1, expected)
    ) or got == expected == 0


@given(n=st.integers(-(2**80), 2**80), k=st.integers(1, 2**80))
def test_round_fraction_float64_matches_python(n: int, k: int) -> None:
    # Python's int/int true division is correctly rounded to float64
    assert round_fraction(Fraction(n, k), "float64") == n / k


def test_double_rounding_is_avoided() -> None:
    # q lies just above the float32 midpoint 1 + 2^-24, but rounds to float64 exactly onto the
    # midpoint; rounding via float64 would then tie to even (1.0): wrong.
    q = Fraction(1) + Fraction(1, 2**24) + Fraction(1, 2**80)
    assert float(np.float32(float(q))) == 1.0
    assert round_fraction(q, "float32") == 1.0 + 2.0**-23


def test_format_table() -> None:
    assert float(get_format("float32").max_finite) == float(np.finfo(np.float32).max)
    assert float(get_format("float16").min_subnormal) == float(
        np.finfo(np.float16).smallest_subnormal
    )
    assert get_format(np.float64) is FORMATS["float64"]
    assert get_format("float64").unit_roundoff == np.finfo(np.float64).eps / 2


def test_enclosure_to_float_refines_when_straddling() -> None:
    third = Fraction(1, 3)
    calls: list[int] = []

    def refine(prec: int) -> Enclosure:
        calls.append(prec)
        w = Fraction(1, 2**prec)
        return Enclosure(third - w, third + w, prec, refine)

    coarse = Enclosure(third - Fraction(1, 2**20), third + Fraction(1, 2**20), 20, refine)
    assert coarse.to_float("float64") == 1 / 3
    assert calls and calls[-1] >= 64


def test_enclosure_refuses_undecidable_rounding() -> None:
    from verify.errors import NotCertifiedError

    tie = Fraction(1) + Fraction(1, 2**24)  # exactly a float32 tie, interval around it
    e = Enclosure(tie - Fraction(1, 2**100), tie + Fraction(1, 2**100))
    with pytest.raises(NotCertifiedError):
        e.to_float("float32")
    assert Enclosure.exact(tie).to_float("float32") == 1.0  # exact tie: ties-to-even


def test_signed_zero_and_sign() -> None:
    tiny = Fraction(1, 2**2000)
    assert math.copysign(1, Enclosure(-2 * tiny, -tiny).to_float("float64")) == -1
    assert Enclosure(tiny, 2 * tiny).sign() == 1
    assert Enclosure.exact(0).sign() == 0


@pytest.mark.parametrize("name", sorted(FORMATS))
@given(
    num=st.integers(1, 2**70),
    den=st.integers(1, 2**70),
    edge=st.sampled_from(["over", "under"]),
    offset=st.integers(-3, 3),
)
def test_scaled_rounding_matches_fraction_rounding_at_range_edges(
    name: str, num: int, den: int, edge: str, offset: int
) -> None:
    """The exponent-only shortcuts (overflow to inf, underflow to 0) agree with the exact
    rounding of the expanded Fraction in the binades around each edge."""
    fmt = get_format(name)
    q = Fraction(num, den)
    lg = num.bit_length() - den.bit_length()
    target = fmt.emax + 1 if edge == "over" else fmt.emin - fmt.precision
    x = ScaledRational(q, target + offset - lg)
    for v in (x, -x):
        got, want = round_fraction(v, name), round_fraction(v.to_fraction(), name)
        assert got == want and math.copysign(1, got) == math.copysign(1, want)


def test_scaled_rational_far_outside_every_format() -> None:
    huge, tiny = ScaledRational(3, 2 * 10**12), ScaledRational(-3, -2 * 10**12)
    assert round_fraction(huge, "float64") == math.inf
    assert math.copysign(1, round_fraction(tiny, "float16")) == -1
    assert round_fraction(tiny, "float16") == 0
    assert Fraction(-1, 10**300) < tiny < 0 < 10**300 < huge
    assert ScaledRational(Fraction(6, 5), 3) == ScaledRational(Fraction(3, 5), 4)
    # the decimal rendering agrees with mpmath's (an independent conversion)
    ctx = mpmath.mp.clone()
    ctx.prec = 100
    ref = ctx.nstr(3 * ctx.ldexp(1, 2 * 10**12), 6)
    assert format_real(huge) == ref
    with pytest.raises(FractionSizeError):
        huge.to_fraction()


def test_enclosure_from_arb_widens_outward_only() -> None:
    """A ball whose radius is far below its midpoint's ulp gets a wider, still enclosing,
    interval; an ordinary ball keeps its exact endpoints."""
    from flint import arb

    mid = Fraction(1, 3)
    with flint_ctx.workprec(200):
        b = arb(1) / 3
    e = Enclosure.from_arb(b, 200)
    assert e.contains(mid) and e.lower_exact == e.lower and e.rel_radius() < 2.0**-190
    tight = arb(mid=1, rad=arb(2) ** -(10**6))
    w = Enclosure.from_arb(tight, 64)
    r = ScaledRational(1, -(10**6))
    assert w.contains(1 - r) and w.contains(1 + r)
    assert (w.upper_exact - w.lower_exact).floor_log2() == 1 - 2**14  # 2 * 2^-max(8 * 64, 2^14)
