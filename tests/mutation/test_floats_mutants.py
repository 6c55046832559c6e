"""Behaviours of :mod:`verify.floats` that mutation testing found unpinned (``mutmut run`` with
``only_mutate = ["verify/floats.py", ...]``, README "Tests and benchmarks").

Each test pins one contract against an independent oracle: a float's IEEE bit pattern (the
index of a positive float among the format's floats), numpy's casts, Python's correctly
rounded int and Fraction conversions, and mpmath at a working precision set locally. Exact
comparisons only: every value here is exact, so no tolerance is involved. The module runs in
well under a second.
"""

from __future__ import annotations

import math
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import ml_dtypes
import mpmath
import numpy as np
import pytest
import torch
from flint import arb, arb_mat

import verify
from verify.errors import (
    ArgumentError,
    FractionSizeError,
    NonFiniteError,
    ShapeMismatchError,
    UnknownOptionError,
)
from verify.floats import (
    FORMATS,
    FRACTION_LIMIT_BITS,
    ScaledRational,
    _mantissa_text,
    exact_in_all,
    float_text,
    format_real,
    fraction_from_arb,
    frobenius_upper,
    get_format,
    json_float,
    json_ready,
    ln_fraction,
    ordinal,
    read_float,
    read_scalar,
    round_fraction,
    round_through,
    to_fraction,
    ulp_distance,
)

# the unsigned-int view of each format's bit pattern: for a positive float it is the float's
# index among the format's non-negative floats (IEEE 754's ordering of encodings)
BITS = {
    "float16": (np.float16, np.uint16),
    "bfloat16": (ml_dtypes.bfloat16, np.uint16),
    "float32": (np.float32, np.uint32),
    "float64": (np.float64, np.uint64),
}


def _bit_index(x: float, name: str) -> int:
    ftype, utype = BITS[name]
    return int(np.array(abs(x), dtype=ftype).view(utype))


def _edge_floats(name: str) -> list[float]:
    """Floats of ``name`` at every edge ``ordinal`` distinguishes: zero's neighbours, the
    subnormal/normal border, binade edges, the largest finite value."""
    fmt = get_format(name)
    sub = float(fmt.min_subnormal)
    tiny = math.ldexp(1.0, fmt.emin)
    mx = float(fmt.max_finite)
    u = math.ldexp(1.0, 1 - fmt.precision)  # ulp of 1
    return [
        sub,
        2 * sub,
        3 * sub,
        tiny - sub,
        tiny,
        tiny + math.ldexp(tiny, 1 - fmt.precision),
        2 * tiny,
        0.75,
        1.0 - u / 2,
        1.0,
        1.0 + u,
        1.5,
        3.0,
        mx / 2,
        mx,
    ]


# ------------------------------------------------------------------ formats and lookup
def test_numpy_dtype_of_every_format() -> None:
    expected = {
        "float16": np.float16,
        "bfloat16": ml_dtypes.bfloat16,
        "float32": np.float32,
        "float64": np.float64,
    }
    for name, fmt in FORMATS.items():
        assert fmt.numpy_dtype() == np.dtype(expected[name]), name


def test_bfloat16_dtype_needs_no_prior_import_of_ml_dtypes() -> None:
    # in this process ml_dtypes is already imported (np.dtype("bfloat16") then resolves); a
    # fresh interpreter that imports only verify.floats must get the dtype too (the call here
    # lets mutmut see which tests reach numpy_dtype)
    assert FORMATS["bfloat16"].numpy_dtype() == np.dtype(ml_dtypes.bfloat16)
    root = Path(verify.__file__).resolve().parents[1]
    code = (
        "import sys; from verify.floats import FORMATS; "
        "assert 'ml_dtypes' not in sys.modules; print(FORMATS['bfloat16'].numpy_dtype())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=False
    )
    assert (out.returncode, out.stdout.strip()) == (0, "bfloat16"), out.stderr[-2000:]


def test_get_format_by_name_dtype_type_and_format() -> None:
    for name, fmt in FORMATS.items():
        assert get_format(name) is fmt
        assert get_format(fmt) is fmt
        assert get_format(fmt.numpy_dtype()) is fmt
    assert get_format(np.float32) is FORMATS["float32"]
    assert get_format(np.dtype("float16")) is FORMATS["float16"]


@pytest.mark.parametrize("bad", ["posit8", "int8", np.dtype("int32")])
def test_get_format_rejects_other_formats_naming_the_argument(bad: object) -> None:
    # "posit8" is no numpy dtype at all: the name is looked up, never passed to np.dtype
    with pytest.raises(UnknownOptionError) as info:
        get_format(bad)
    assert info.value.argument == "dtype"
    assert info.value.value is bad
    assert info.value.reason == "must be one of ['bfloat16', 'float16', 'float32', 'float64']"


def test_get_format_rejects_a_numpy_type_naming_the_argument() -> None:
    with pytest.raises(UnknownOptionError) as info:
        get_format(np.int32)
    assert info.value.argument == "dtype"


# ------------------------------------------------------------------ exact conversion
def test_to_fraction_is_exact_for_every_input_type() -> None:
    assert to_fraction(0.5) == Fraction(1, 2)
    assert to_fraction(0.1) == Fraction(3602879701896397, 2**55)
    assert to_fraction(np.float32(0.1)) == Fraction(13421773, 2**27)
    big = 2**60 + 1  # not a float64: an int must not go through float
    assert to_fraction(big) == big
    assert to_fraction(np.int64(big)) == big
    assert to_fraction(True) == 1
    third = Fraction(1, 3)
    assert to_fraction(third) is third


@pytest.mark.parametrize("x", [math.nan, math.inf, -math.inf, np.float32("inf")])
def test_to_fraction_rejects_non_finite_naming_the_argument(x: float) -> None:
    with pytest.raises(NonFiniteError) as info:
        to_fraction(x)
    assert (info.value.argument, info.value.reason) == ("x", "must be finite")
    assert info.value.value is x
    with pytest.raises(NonFiniteError) as named:
        to_fraction(x, name="eta")
    assert named.value.argument == "eta"
    with pytest.raises(NonFiniteError) as of:
        ScaledRational.of(x)
    assert (of.value.argument, of.value.reason) == ("x", "must be finite")


# ------------------------------------------------------------------ ScaledRational
def test_scaled_rational_canonical_form() -> None:
    assert (ScaledRational().q, ScaledRational().e) == (0, 0)
    assert not ScaledRational()
    zero = ScaledRational(0, 7)
    assert (zero.q, zero.e, zero.sign) == (0, 0, 0)
    x = ScaledRational(Fraction(12, 5), 3)  # 12/5 * 8 = 3/5 * 2**5
    assert (x.q, x.e) == (Fraction(3, 5), 5)
    y = ScaledRational(np.int64(12))  # numpy ints are read with operator.index
    assert (y.q, y.e) == (3, 2)
    assert ScaledRational(Fraction(-3, 8)).e == -3
    assert ScaledRational.of(0.75) == ScaledRational(3, -2)


def test_floor_log2_in_and_at_the_edges_of_binades() -> None:
    # numerator and denominator bit lengths that differ by 0, 1 and -1
    cases = {
        Fraction(5, 3): 0,  # bit lengths 3 and 2: 5/3 < 2
        Fraction(7, 3): 1,
        Fraction(3, 5): -1,
        Fraction(3, 7): -2,
        Fraction(5, 7): -1,
        Fraction(7, 5): 0,
        Fraction(1): 0,
        Fraction(1, 2): -1,
        Fraction(2**40 - 1): 39,
    }
    for v, lg in cases.items():
        for e in (0, -3, 10**12):
            assert ScaledRational(v, e).floor_log2() == lg + e, (v, e)
            assert ScaledRational(-v, e).floor_log2() == lg + e, (v, e)
    with pytest.raises(ValueError, match=r"^floor_log2 of zero$"):
        ScaledRational(0).floor_log2()


def test_to_fraction_limit_is_inclusive_and_reported() -> None:
    assert ScaledRational(3, 10).to_fraction(limit_bits=10) == 3 * 2**10
    assert ScaledRational(3, -10).to_fraction(limit_bits=10) == Fraction(3, 2**10)
    assert ScaledRational(5).to_fraction(limit_bits=0) == 5
    top = ScaledRational(1, FRACTION_LIMIT_BITS).to_fraction()
    assert top == 2**FRACTION_LIMIT_BITS
    with pytest.raises(FractionSizeError) as info:
        ScaledRational(3, -11).to_fraction(limit_bits=10)
    assert (info.value.exponent, info.value.limit) == (-10, 10)  # floor_log2(3 * 2**-11)
    assert str(info.value).startswith("the value is about 2**-10: ")
    assert ScaledRational(3, -11).to_fraction(limit_bits=None) == Fraction(3, 2**11)


def test_arithmetic_on_odd_parts_and_mixed_types() -> None:
    a, b = ScaledRational(Fraction(3, 5), 4), ScaledRational(Fraction(7, 3), -2)
    fa, fb = a.to_fraction(), b.to_fraction()
    assert (a * b).to_fraction() == fa * fb
    assert (a / b).to_fraction() == fa / fb
    assert (a + b).to_fraction() == fa + fb
    assert (a - b).to_fraction() == fa - fb
    assert (5 - ScaledRational(2)) == 3
    assert (Fraction(1, 2) - ScaledRational(2)).to_fraction() == Fraction(-3, 2)
    assert (ScaledRational(1) + 0.5) == Fraction(3, 2)
    assert (0.25 * ScaledRational(3)) == Fraction(3, 4)
    assert (ScaledRational(1) + np.int64(2)) == 3
    assert -a == ScaledRational(Fraction(-3, 5), 4) and abs(-a) == a


def test_sum_alignment_limit_is_inclusive_and_reported() -> None:
    ok = ScaledRational(1, FRACTION_LIMIT_BITS) + ScaledRational(1)
    assert ok.e == 0 and ok.q == 2**FRACTION_LIMIT_BITS + 1
    with pytest.raises(FractionSizeError) as info:
        ScaledRational(1, FRACTION_LIMIT_BITS + 1) + ScaledRational(1)
    assert (info.value.exponent, info.value.limit) == (FRACTION_LIMIT_BITS + 1, FRACTION_LIMIT_BITS)
    assert str(info.value).startswith(f"aligning the terms of a sum is about 2**{2**20 + 1}:")


def test_comparisons_at_equal_and_adjacent_values() -> None:
    # pairs (smaller, larger) in one binade whose exponents differ, so _cmp aligns them
    pairs = [
        (ScaledRational(13), ScaledRational(7, 1)),  # 13 < 14
        (ScaledRational(Fraction(5, 4)), ScaledRational(Fraction(1, 3), 2)),  # 5/4 < 4/3
        (ScaledRational(-7, 1), ScaledRational(-13)),
        (ScaledRational(-1), ScaledRational(0)),
        (ScaledRational(0), ScaledRational(1, -(10**12))),
        (ScaledRational(1, 10), ScaledRational(1, 11)),
    ]
    for lo, hi in pairs:
        assert lo < hi and lo <= hi and hi > lo and hi >= lo, (lo, hi)
        assert not (hi < lo or hi <= lo or lo > hi or lo >= hi), (lo, hi)
        assert lo != hi
        for x in (lo, hi):
            assert x <= x and x >= x and not x < x and not x > x and x == x
    # the same value from different parts compares equal and hashes equal
    same = [ScaledRational(Fraction(3, 4), 2), ScaledRational(3), ScaledRational(12, -2)]
    assert all(s == same[0] and s <= same[0] and s >= same[0] for s in same)
    assert len({hash(s) for s in same}) == 1


def test_comparisons_with_plain_numbers_both_ways() -> None:
    x = ScaledRational(Fraction(3, 2))
    for other in (2, Fraction(2), 2.0, np.float32(2.0), np.int64(2)):
        assert x < other and x <= other and not x > other and not x >= other, other
        assert other > x and other >= x, other
    assert x == 1.5 and x == Fraction(3, 2) and not x == 1
    assert (x == "1.5") is False and (x == math.nan) is False and (x == None) is False  # noqa: E711


@pytest.mark.parametrize(
    "method",
    [
        "__add__",
        "__sub__",
        "__rsub__",
        "__mul__",
        "__truediv__",
        "__lt__",
        "__le__",
        "__gt__",
        "__ge__",
    ],
)
@pytest.mark.parametrize("other", ["1", None, math.inf, math.nan, True])
def test_operators_defer_on_non_numbers(method: str, other: object) -> None:
    # NotImplemented lets Python raise its own TypeError (or try the reflected operand)
    assert getattr(ScaledRational(1), method)(other) is NotImplemented


def test_float_and_str_round_once() -> None:
    third = ScaledRational(Fraction(1, 3))
    assert float(third) == 1 / 3
    assert float(ScaledRational(1, 1024)) == math.inf
    assert float(ScaledRational(-1, -1075)) == 0.0 and math.copysign(1, float(-third * 0)) == 1
    assert str(third) == "0.3333333333333333"
    assert str(ScaledRational(-1, -1100)) == "-7.36215e-332"


# ------------------------------------------------------------------ rounding
@pytest.mark.parametrize("name", sorted(FORMATS))
def test_round_fraction_at_the_overflow_threshold(name: str) -> None:
    fmt = get_format(name)
    mx = fmt.max_finite
    half_ulp = Fraction(1, 2) * 2 ** (fmt.emax - fmt.precision + 1)
    assert round_fraction(mx, name) == float(mx)
    assert round_fraction(-mx, name) == -float(mx)
    assert round_fraction(mx + half_ulp / 2, name) == float(mx)
    assert round_fraction(mx + half_ulp, name) == math.inf  # tie: the even neighbour is 2^(emax+1)
    assert round_fraction(ScaledRational(mx) + ScaledRational(half_ulp), name) == math.inf
    assert round_fraction(ScaledRational(mx), name) == float(mx)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_round_fraction_of_powers_of_two_and_subnormal_ties(name: str) -> None:
    fmt = get_format(name)
    sub = fmt.min_subnormal
    for k in range(fmt.emin - fmt.precision + 1, fmt.emax + 1, 7):
        assert round_fraction(Fraction(2) ** k, name) == math.ldexp(1.0, k), k
    assert round_fraction(sub / 2, name) == 0.0  # tie between 0 and sub: even is 0
    assert round_fraction(sub * Fraction(3, 2), name) == float(2 * sub)  # tie to even 2 sub
    assert round_fraction(-sub / 2, name) == 0.0
    assert math.copysign(1.0, round_fraction(-sub / 2, name)) == -1.0


# ------------------------------------------------------------------ ulps
@pytest.mark.parametrize("name", sorted(FORMATS))
def test_ordinal_is_the_ieee_bit_pattern(name: str) -> None:
    for x in _edge_floats(name):
        idx = _bit_index(x, name)
        assert ordinal(x, name) == idx, (name, x.hex())
        assert ordinal(-x, name) == -idx, (name, x.hex())
    assert ordinal(0.0, name) == 0 and ordinal(-0.0, name) == 0


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_ulp_distance_across_zero_and_the_subnormal_border(name: str) -> None:
    fmt = get_format(name)
    sub, tiny = float(fmt.min_subnormal), math.ldexp(1.0, fmt.emin)
    n_sub = 1 << (fmt.precision - 1)  # subnormals and zero below 2^emin
    assert ulp_distance(1.0, 1.0, name) == 0.0
    assert ulp_distance(0.0, -0.0, name) == 0.0
    assert ulp_distance(-sub, sub, name) == 2.0
    assert ulp_distance(0.0, tiny, name) == n_sub
    assert ulp_distance(tiny, 2 * tiny, name) == n_sub
    assert ulp_distance(1.0, math.inf, name) == math.inf


def test_exact_in_all_and_round_through() -> None:
    assert exact_in_all([1.0, 0.5, -3.0, 2.0**-24], ["float16", "bfloat16"])
    assert exact_in_all(np.array([0.1]), ["float64"])
    assert not exact_in_all([0.1], ["float32"])
    assert exact_in_all([1 + 2.0**-8], ["float16"])
    assert not exact_in_all([1 + 2.0**-8], ["float16", "bfloat16"])
    assert not exact_in_all([1.0, 2.0**-25], ["float16"])
    # 1 + 2^-8 + 2^-10: float16 keeps it, bfloat16 (ulp 2^-7) rounds it up, above the tie;
    # 1e6 overflows float16 (numpy's overflow warning is silenced: warnings are errors here)
    out = round_through([1 + 2.0**-8 + 2.0**-10, 0.1, 1e6], ["float16", "bfloat16"])
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    assert out.tolist() == [1 + 2.0**-7, float(ml_dtypes.bfloat16(np.float16(0.1))), math.inf]
    assert exact_in_all(out, ["float16", "bfloat16"])
    assert round_through(0.1, ["float32"]).tolist() == float(np.float32(0.1))
    none = round_through(np.array([1, 2], dtype=np.int64), [])  # no format: float64 only
    assert none.dtype == np.float64 and none.tolist() == [1.0, 2.0]


# ------------------------------------------------------------------ Arb
def test_arb_conversions() -> None:
    assert fraction_from_arb(arb(0.75)) == Fraction(3, 4)
    assert fraction_from_arb(arb(-3) * arb(2) ** -70) == Fraction(-3, 2**70)
    assert fraction_from_arb(arb(2) ** 70 * 5) == 5 * 2**70
    m = arb_mat([[3, 4], [0, 12]])  # Frobenius norm 13, exactly
    up = frobenius_upper(m)
    assert Fraction(13) <= fraction_from_arb(up) <= Fraction(13) * (1 + Fraction(1, 2**40))


def test_ln_fraction() -> None:
    assert ln_fraction(Fraction(0)) == -math.inf
    assert ln_fraction(ScaledRational(0)) == -math.inf
    assert ln_fraction(Fraction(1, 3)) == -math.log(3)
    assert ln_fraction(Fraction(-3)) == math.log(3)
    assert ln_fraction(ScaledRational(3, -2)) == math.log(3) - 2 * math.log(2)


# ------------------------------------------------------------------ text
def test_format_real_at_the_float_range_edges() -> None:
    assert format_real(0.1) == "0.1"
    assert format_real(Fraction(0)) == "0" and format_real(0) == "0"
    assert format_real(Fraction(1)) == "1.0" and format_real(1) == "1.0"
    tiny = Fraction(1, 2**1022)  # smallest normal: repr; below it: decimal exponent form
    assert format_real(tiny) == repr(2.0**-1022)
    assert format_real(tiny / 2) == "1.11254e-308"
    assert format_real(Fraction(1, 2**1074)) == "4.94066e-324"
    assert format_real(Fraction(1, 10**400)) == "1.00000e-400"
    assert format_real(Fraction(-3, 10**400)) == "-3.00000e-400"
    assert format_real(Fraction(7 * 10**400), 2) == "7.0e+400"
    assert format_real(ScaledRational(1, -1100), 17) == "7.362151829022863e-332"


def test_mantissa_text_normalises_and_carries() -> None:
    assert _mantissa_text(Fraction(105, 10), 400, 6, negative=False) == "1.05000e+401"
    assert _mantissa_text(Fraction(10), 400, 6, negative=False) == "1.00000e+401"
    assert _mantissa_text(Fraction(10), 400, 17, negative=False) == "1.0e+401"
    assert _mantissa_text(Fraction(1), 400, 17, negative=False) == "1.0e+400"
    assert _mantissa_text(Fraction(1), 400, 16, negative=False) == "1.000000000000000e+400"
    assert _mantissa_text(Fraction(1, 2), 0, 6, negative=True) == "-5.00000e-001"
    assert _mantissa_text(Fraction(3, 100), 5, 3, negative=False) == "3.00e+003"
    assert _mantissa_text(Fraction(3), 0, 1, negative=False) == "3e+000"
    assert _mantissa_text(Fraction(97, 10), 0, 1, negative=False) == "1e+001"
    assert _mantissa_text(Fraction(9999999, 10**6), 0, 6, negative=False) == "1.00000e+001"


def _mpmath_text(q: ScaledRational, digits: int) -> str:
    """Independent rendering: mpmath at a local precision, then the same layout."""
    with mpmath.workprec(256 + abs(q.e).bit_length()):
        x = mpmath.mpf(q.q.numerator) / q.q.denominator * mpmath.ldexp(1, q.e)
        e10 = int(mpmath.floor(mpmath.log10(abs(x))))
        m = abs(x) / mpmath.mpf(10) ** e10
        text = repr(float(m)) if digits >= 17 else f"{float(m):.{digits - 1}f}"
    return f"{'-' if x < 0 else ''}{text}e{e10:+04d}"


@pytest.mark.parametrize("digits", [3, 6, 17])
@pytest.mark.parametrize(
    "q",
    [
        ScaledRational(Fraction(1, 3), 2**20),
        ScaledRational(-5, -(2**17) - 3),
        ScaledRational(Fraction(7, 9), -(10**6)),
        # exponents of 41 and 101 bits: the working precision must grow with them
        ScaledRational(Fraction(1, 3), 2**40),
        ScaledRational(Fraction(-1, 3), -(2**100)),
    ],
    ids=["third_e2pow20", "neg_tiny", "seven_ninths_tiny", "third_e2pow40", "neg_e2pow100"],
)
def test_format_real_far_outside_every_float_range(q: ScaledRational, digits: int) -> None:
    assert format_real(q, digits) == _mpmath_text(q, digits)


def test_json_and_hex_renderings() -> None:
    assert json_float(math.inf) == "inf" and json_float(-math.inf) == "-inf"
    assert json_float(math.nan) == "nan" and json_float(np.float32(0.5)) == 0.5
    assert float_text(-math.inf) == "-inf" and float_text(math.nan) == "nan"
    assert float_text(2.0**-1074) == "0x0.0000000000001p-1022"
    assert json_ready(np.array([1.0, np.nan])) == [1.0, "nan"]
    assert json_ready({"a": np.array([[1, 2]])}) == {"a": [[1, 2]]}


# ------------------------------------------------------------------ reading scalars
def _arg_error(exc_type: type[ArgumentError], x: object, reason: str) -> None:
    with pytest.raises(exc_type) as info:
        read_scalar(x, "eta")
    assert type(info.value) is exc_type
    assert info.value.argument == "eta"
    assert info.value.value is x
    assert info.value.reason == reason


@pytest.mark.parametrize(
    ("x", "reason"),
    [
        (None, "must be a real scalar, not NoneType"),
        (True, "must be a real scalar, not bool"),
        ("0.1", "must be a real scalar, not str"),
        (1j, "must be a real scalar, not complex"),
        (np.complex64(1), "must be a real scalar, not complex64"),
        (np.datetime64(1, "s"), "must be a real scalar, not numpy datetime64[s]"),
        ([0.1], "must be a real scalar (float, numpy, torch or JAX scalar), not list"),
    ],
)
def test_read_scalar_rejects_non_reals_naming_the_argument(x: object, reason: str) -> None:
    _arg_error(ArgumentError, x, reason)


class _ZeroDim:
    def __init__(self, v: object) -> None:
        self.v = v

    def __array__(self, dtype: object = None, copy: object = None) -> np.ndarray:
        return np.asarray(self.v)


def test_read_scalar_rejects_arrays_and_non_real_tensors() -> None:
    _arg_error(ShapeMismatchError, np.zeros(2), "must be a scalar (0-d), got shape (2,)")
    _arg_error(ShapeMismatchError, _ZeroDim([1.0, 2.0]), "must be a scalar (0-d), got shape (2,)")


@pytest.mark.parametrize(
    ("x", "exc_type", "reason"),
    [
        (torch.zeros(1), ShapeMismatchError, "must be a 0-d tensor, got shape (1,)"),
        (torch.tensor(1j), ArgumentError, "must be a real scalar, not a torch.complex64 tensor"),
        (torch.tensor(True), ArgumentError, "must be a real scalar, not a torch.bool tensor"),
    ],
    ids=["dimensions", "complex", "bool"],
)
def test_read_scalar_rejects_bad_tensors(
    x: object, exc_type: type[ArgumentError], reason: str
) -> None:
    _arg_error(exc_type, x, reason)


class _Unreadable:
    def __array__(self, dtype: object = None, copy: object = None) -> np.ndarray:
        raise RuntimeError("no")


def test_read_scalar_reports_an_array_that_cannot_be_read() -> None:
    x = _Unreadable()
    _arg_error(ArgumentError, x, "cannot be read as a number (no)")


def test_read_scalar_reads_every_real_type_exactly() -> None:
    cases: list[tuple[object, object, type]] = [
        (0.1, 0.1, float),
        (3, 3, int),
        (Fraction(1, 3), Fraction(1, 3), Fraction),
        (np.float64(0.1), 0.1, float),
        (np.float32(0.1), float(np.float32(0.1)), float),
        (np.float16(0.1), float(np.float16(0.1)), float),
        (ml_dtypes.bfloat16(0.1), float(ml_dtypes.bfloat16(0.1)), float),
        (np.int8(-7), -7, int),
        (np.uint64(2**63 + 1), 2**63 + 1, int),
        (np.array(0.25), 0.25, float),
        (_ZeroDim(np.float32(0.1)), float(np.float32(0.1)), float),
        (torch.tensor(0.1, dtype=torch.float16), float(np.float16(0.1)), float),
        (torch.tensor(0.1, dtype=torch.bfloat16), float(ml_dtypes.bfloat16(0.1)), float),
        (torch.tensor(0.1, dtype=torch.float64), 0.1, float),
        (torch.tensor(0.5, requires_grad=True), 0.5, float),
        (torch.tensor(-5, dtype=torch.int16), -5, int),
        (torch.nn.Parameter(torch.tensor(0.75)), 0.75, float),  # module torch.nn.parameter
        (ml_dtypes.float8_e4m3fn(0.5), 0.5, float),  # numpy kind "V", like bfloat16
        (ml_dtypes.float8_e5m2(-3.0), -3.0, float),
    ]
    for x, expected, kind in cases:
        got = read_scalar(x, "eta")
        assert isinstance(got, kind) and got == expected, (x, got)
    ld = np.longdouble(1) / np.longdouble(3)
    got_ld = read_scalar(ld, "eta")
    num, den = ld.as_integer_ratio()
    assert type(got_ld) is Fraction and got_ld == Fraction(int(num), int(den))
    assert read_scalar(np.longdouble("inf"), "eta") == math.inf


def test_nested_errors_keep_the_argument_name() -> None:
    with pytest.raises(ArgumentError) as info:
        read_scalar(_ZeroDim(np.complex64(1)), "eta")  # read as a 0-d array, then its item
    assert info.value.argument == "eta"
    assert info.value.reason == "must be a real scalar, not complex64"
    with pytest.raises(ArgumentError) as flt:
        read_float("0.5", "eta")
    assert (flt.value.argument, flt.value.value) == ("eta", "0.5")


def test_read_scalar_rejects_a_void_scalar_naming_the_argument() -> None:
    x = np.void(b"ab")
    with pytest.raises(ArgumentError) as info:
        read_scalar(x, "eta")
    assert info.value.argument == "eta"


def test_read_float_requires_an_exact_float64() -> None:
    assert read_float(np.float32(0.1), "eta") == float(np.float32(0.1))
    assert read_float(2**53, "eta") == 2.0**53 and type(read_float(3, "eta")) is float
    assert read_float(Fraction(1, 4), "eta") == 0.25
    assert math.isnan(read_float(math.nan, "eta"))
    for x, reason in [
        (Fraction(1, 3), "is not exactly a float64 value"),
        (2**53 + 1, "is not exactly a float64 value"),
        (10**400, "is beyond float64's range"),
    ]:
        with pytest.raises(ArgumentError) as info:
            read_float(x, "eta")
        assert (info.value.argument, info.value.value, info.value.reason) == ("eta", x, reason)
