"""Conversions between floats, exact rationals, mpmath and Arb, and correct rounding.

This module is the one place where numbers change representation. Two rules hold throughout:

* Float inputs are converted *exactly* (every binary float is a dyadic rational).
* Rounding to a target format happens once, from an exact rational, with round-to-nearest,
  ties-to-even, including gradual underflow and overflow to infinity, so no value is ever
  double-rounded (high precision -> float64 -> float32 would be).

Supported target formats are IEEE binary16 (``float16``), bfloat16, binary32 (``float32``) and
binary64 (``float64``). The metrics that are facts about a format live here too: a float's
position among the format's floats (:func:`ordinal`), the distance in ulps between two of them
(:func:`ulp_distance`) and bits of error (:func:`bits_of_error`).
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import (
    ArgumentError,
    FractionSizeError,
    NonFiniteError,
    ShapeMismatchError,
    UnknownOptionError,
)

__all__ = [
    "FORMATS",
    "FRACTION_LIMIT_BITS",
    "FloatFormat",
    "ScaledRational",
    "bits_of_error",
    "exact_in_all",
    "float_text",
    "format_real",
    "fraction_from_arb",
    "frobenius_upper",
    "get_format",
    "json_float",
    "json_ready",
    "ln_fraction",
    "ordinal",
    "read_float",
    "read_scalar",
    "round_fraction",
    "round_through",
    "scaled_from_arb",
    "to_fraction",
    "ulp_distance",
]


@dataclass(frozen=True)
class FloatFormat:
    """A binary floating-point format.

    Attributes
    ----------
    name : str
        Canonical name (``"float32"`` ...).
    precision : int
        Significand bits including the implicit bit (p).
    emin : int
        Exponent of the smallest normal number, 2**emin.
    emax : int
        Exponent of the largest finite binade, the largest finite value is
        (2 - 2**(1-p)) * 2**emax.
    """

    name: str
    precision: int
    emin: int
    emax: int

    @property
    def unit_roundoff(self) -> float:
        """Unit roundoff u = 2**-p (half an ulp of 1)."""
        return math.ldexp(1.0, -self.precision)

    @property
    def max_finite(self) -> Fraction:
        """Largest finite value, exactly."""
        p = self.precision
        return Fraction((1 << p) - 1) * _pow2(self.emax - p + 1)

    @property
    def min_subnormal(self) -> Fraction:
        """Smallest positive subnormal value, exactly."""
        return _pow2(self.emin - self.precision + 1)

    @property
    def ln_max(self) -> float:
        """Natural log of the largest finite value (overflow threshold for exp)."""
        return math.log(float(self.max_finite)) if self.emax < 1024 else _LN_MAX64

    @property
    def ln_min_subnormal(self) -> float:
        """Natural log of the smallest subnormal (below it exp underflows to zero)."""
        return (self.emin - self.precision + 1) * math.log(2.0)

    def numpy_dtype(self) -> np.dtype[np.generic]:
        """The numpy dtype (bfloat16 through ``ml_dtypes``)."""
        if self.name == "bfloat16":
            import ml_dtypes

            bf16: np.dtype[np.generic] = np.dtype(ml_dtypes.bfloat16)
            return bf16
        return np.dtype(self.name)


_LN_MAX64 = math.log(1.7976931348623157e308)

FORMATS: dict[str, FloatFormat] = {
    "float16": FloatFormat("float16", 11, -14, 15),
    "bfloat16": FloatFormat("bfloat16", 8, -126, 127),
    "float32": FloatFormat("float32", 24, -126, 127),
    "float64": FloatFormat("float64", 53, -1022, 1023),
}


def get_format(dtype: object) -> FloatFormat:
    """Look up a :class:`FloatFormat` by name or numpy dtype.

    Raises
    ------
    UnknownOptionError
        If ``dtype`` is not one of float16, bfloat16, float32, float64.
    """
    if isinstance(dtype, FloatFormat):
        return dtype
    name = dtype if isinstance(dtype, str) else getattr(np.dtype(dtype), "name", str(dtype))  # type: ignore[call-overload]
    fmt = FORMATS.get(str(name))
    if fmt is None:
        raise UnknownOptionError("dtype", dtype, f"must be one of {sorted(FORMATS)}")
    return fmt


def _pow2(e: int) -> Fraction:
    return Fraction(1 << e) if e >= 0 else Fraction(1, 1 << -e)


def to_fraction(
    x: float | int | Fraction | np.floating | np.integer, *, name: str = "x"
) -> Fraction:
    """Convert a finite number to the exact rational it represents.

    Raises
    ------
    NonFiniteError
        For NaN or an infinity.
    """
    if isinstance(x, Fraction):
        return x
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return Fraction(int(x))
    xf = float(x)
    if not math.isfinite(xf):
        raise NonFiniteError(name, x, "must be finite")
    return Fraction(xf)


# ------------------------------------------------------------------ exact values of any magnitude
FRACTION_LIMIT_BITS = 1 << 20
"""Largest binary exponent |e| that :meth:`ScaledRational.to_fraction` expands.

A Fraction of 2**-(2**20) has a denominator of a million bits: building it is fast, but one
addition of two such Fractions (a gcd of million-bit integers) already takes about a second,
and the cost grows quadratically; 2**-(2**40) would not fit in memory at all."""


def _split2(n: int) -> tuple[int, int]:
    """(odd part, exponent of 2) of a nonzero int (negative ints keep their sign)."""
    k = (n & -n).bit_length() - 1
    return n >> k, k


class ScaledRational:
    """The exact rational q * 2**e, with the power of two kept apart as an int.

    Values like 2**-(2*10**12) (a loss after 10^12 GD steps) stay a few machine words: the
    binary exponent is an int and q is a Fraction whose numerator and denominator are odd.
    The representation is canonical, so equal values have equal ``(q, e)``.

    Parameters
    ----------
    value : Fraction or int
        q (any rational; its factors of two move into the exponent).
    exp : int
        e.

    Accuracy
    --------
    Exact: comparison, negation, multiplication and division never round; addition is exact
    and raises :class:`FractionSizeError` when aligning the operands would need more than
    :data:`FRACTION_LIMIT_BITS` bits.

    Examples
    --------
    >>> x = ScaledRational(3, -2 * 10**12)
    >>> x.floor_log2(), x < ScaledRational(1, -2 * 10**12 + 2), round_fraction(x, "float64")
    (-1999999999999, True, 0.0)
    """

    __slots__ = ("_e", "_q")

    def __init__(self, value: Fraction | int = 0, exp: int = 0) -> None:
        q = value if isinstance(value, Fraction) else Fraction(operator.index(value))
        if q == 0:
            self._q, self._e = Fraction(0), 0
            return
        n, kn = _split2(q.numerator)
        d, kd = _split2(q.denominator)
        self._q = Fraction(n, d)
        self._e = int(exp) + kn - kd

    @classmethod
    def of(
        cls, x: ScaledRational | Fraction | float | int | np.floating | np.integer
    ) -> ScaledRational:
        """The exact value of a finite number (a ScaledRational is returned as is)."""
        if isinstance(x, ScaledRational):
            return x
        return cls(to_fraction(x, name="x"))

    @property
    def q(self) -> Fraction:
        """The rational factor (odd numerator and denominator, or 0)."""
        return self._q

    @property
    def e(self) -> int:
        """The binary exponent."""
        return self._e

    @property
    def sign(self) -> int:
        """-1, 0 or +1."""
        return (self._q > 0) - (self._q < 0)

    def floor_log2(self) -> int:
        """floor(log2 |x|), exactly (x must be nonzero)."""
        if self._q == 0:
            raise ValueError("floor_log2 of zero")
        n, d = abs(self._q.numerator), self._q.denominator
        k = n.bit_length() - d.bit_length()
        if (n << -k if k < 0 else n) < (d << k if k > 0 else d):
            k -= 1
        return k + self._e

    def to_fraction(self, limit_bits: int | None = FRACTION_LIMIT_BITS) -> Fraction:
        """The value as a Fraction.

        Raises
        ------
        FractionSizeError
            When ``|e|`` exceeds ``limit_bits`` (``None``: no limit).
        """
        e = self._e
        if limit_bits is not None and abs(e) > limit_bits:
            raise FractionSizeError("the value", self.floor_log2(), limit_bits)
        return self._q * (1 << e) if e >= 0 else self._q / (1 << -e)

    def __neg__(self) -> ScaledRational:
        return ScaledRational(-self._q, self._e)

    def __abs__(self) -> ScaledRational:
        return ScaledRational(abs(self._q), self._e)

    def __mul__(self, other: object) -> ScaledRational:
        o = _scaled_or_none(other)
        if o is None:
            return NotImplemented
        return ScaledRational(self._q * o._q, self._e + o._e)

    __rmul__ = __mul__

    def __truediv__(self, other: object) -> ScaledRational:
        o = _scaled_or_none(other)
        if o is None:
            return NotImplemented
        return ScaledRational(self._q / o._q, self._e - o._e)

    def __add__(self, other: object) -> ScaledRational:
        o = _scaled_or_none(other)
        if o is None:
            return NotImplemented
        if o._q == 0:
            return self
        if self._q == 0:
            return o
        m = min(self._e, o._e)
        shift = max(self._e, o._e) - m
        if shift > FRACTION_LIMIT_BITS:
            raise FractionSizeError("aligning the terms of a sum", shift, FRACTION_LIMIT_BITS)
        return ScaledRational(self._q * (1 << (self._e - m)) + o._q * (1 << (o._e - m)), m)

    __radd__ = __add__

    def __sub__(self, other: object) -> ScaledRational:
        o = _scaled_or_none(other)
        return NotImplemented if o is None else self + (-o)

    def __rsub__(self, other: object) -> ScaledRational:
        o = _scaled_or_none(other)
        return NotImplemented if o is None else o + (-self)

    def _cmp(self, other: ScaledRational) -> int:
        sa, sb = self.sign, other.sign
        if sa != sb:
            return 1 if sa > sb else -1
        if sa == 0:
            return 0
        la, lb = self.floor_log2(), other.floor_log2()
        if la != lb:
            return sa if la > lb else -sa
        # same binade: the exponents differ by at most the bit sizes of the two q's
        m = min(self._e, other._e)
        diff = self._q * (1 << (self._e - m)) - other._q * (1 << (other._e - m))
        return (diff > 0) - (diff < 0)

    def __eq__(self, other: object) -> bool:
        o = _scaled_or_none(other)
        return o is not None and self._e == o._e and self._q == o._q

    def __hash__(self) -> int:
        return hash((self._q, self._e))

    def __lt__(self, other: object) -> bool:
        o = _scaled_or_none(other)
        return NotImplemented if o is None else self._cmp(o) < 0

    def __le__(self, other: object) -> bool:
        o = _scaled_or_none(other)
        return NotImplemented if o is None else self._cmp(o) <= 0

    def __gt__(self, other: object) -> bool:
        o = _scaled_or_none(other)
        return NotImplemented if o is None else self._cmp(o) > 0

    def __ge__(self, other: object) -> bool:
        o = _scaled_or_none(other)
        return NotImplemented if o is None else self._cmp(o) >= 0

    def __bool__(self) -> bool:
        return self._q != 0

    def __float__(self) -> float:
        return round_fraction(self, "float64")

    def __repr__(self) -> str:
        return f"ScaledRational({self._q!r}, {self._e})"

    def __str__(self) -> str:
        return format_real(self)


def _scaled_or_none(x: object) -> ScaledRational | None:
    """``x`` as a ScaledRational, or None when it is not a finite real number."""
    if isinstance(x, ScaledRational):
        return x
    if isinstance(x, (Fraction, int, np.integer)) and not isinstance(x, bool):
        return ScaledRational(Fraction(int(x)) if not isinstance(x, Fraction) else x)
    if isinstance(x, (float, np.floating)) and math.isfinite(float(x)):
        return ScaledRational(Fraction(float(x)))
    return None


def round_fraction(q: Fraction | ScaledRational, dtype: object) -> float:
    """Round an exact rational to ``dtype`` once, correctly (nearest, ties to even).

    Parameters
    ----------
    q : Fraction or ScaledRational
        The exact value (a ScaledRational of any exponent: values that overflow or underflow
        the format are recognised from the exponent alone, without expanding them).
    dtype : str or numpy dtype
        Target format.

    Returns
    -------
    float
        A Python float whose value is exactly the correctly rounded result (representable in
        the target format; ``+-inf`` on overflow, signed zero on total underflow).

    Accuracy
    --------
    Exact: the result is the IEEE round-to-nearest-even image of ``q`` in the target format,
    computed with integer arithmetic only.
    """
    fmt = get_format(dtype)
    if q == 0:
        return 0.0
    sign = -1.0 if q < 0 else 1.0
    p = fmt.precision
    if isinstance(q, ScaledRational):
        lg = q.floor_log2()
        if lg > fmt.emax:  # |q| >= 2^(emax+1), beyond the largest finite value plus half an ulp
            return sign * math.inf
        if lg < fmt.emin - p:  # |q| < 2^(emin-p), half the smallest subnormal: rounds to 0
            return sign * 0.0
        q = q.to_fraction(limit_bits=None)  # |e| is now bounded by the format and q's size
    a = abs(q)
    # e = floor(log2(a)), computed exactly.
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if _pow2(e) > a:
        e -= 1
    # quantum: ulp at this binade, but not below the subnormal quantum
    qexp = max(e, fmt.emin) - p + 1
    scaled = a / _pow2(qexp)
    n, rem = divmod(scaled.numerator, scaled.denominator)
    twice = 2 * rem
    if twice > scaled.denominator or (twice == scaled.denominator and n % 2 == 1):
        n += 1
    value = Fraction(n) * _pow2(qexp)
    if value > fmt.max_finite:
        return sign * math.inf
    return sign * _fraction_to_float_exact(value)


def _fraction_to_float_exact(v: Fraction) -> float:
    # v is dyadic with at most 53 significant bits and within float64 range whenever the
    # target format is at most float64, so the conversion below is exact.
    num, den = v.numerator, v.denominator
    shift = den.bit_length() - 1
    return math.ldexp(float(num), -shift) if num.bit_length() <= 53 else float(v)


def ordinal(x: float, dtype: object) -> int:
    """Signed index of a finite float of ``dtype`` in the ordered set of its floats (0 -> 0).

    ``x`` must be representable in ``dtype``; +0 and -0 both have index 0.

    Accuracy
    --------
    Exact (integer arithmetic on the exact value).

    Examples
    --------
    >>> ordinal(1.0, "float32") - ordinal(1.0 - 2.0**-24, "float32")
    1
    """
    fmt = get_format(dtype)
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


def ulp_distance(a: float, b: float, dtype: object) -> float:
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
    return float(abs(ordinal(a, fmt) - ordinal(b, fmt)))


def bits_of_error(ulps: float) -> float:
    """Herbie's bits of error, log2(1 + ulps), of a distance in ulps (``inf`` for ``inf``).

    Examples
    --------
    >>> bits_of_error(0.0), bits_of_error(1.0), bits_of_error(3.0)
    (0.0, 1.0, 2.0)
    """
    return math.log2(1 + ulps)


def exact_in_all(values: ArrayLike, dtypes: Sequence[object]) -> bool:
    """Whether every float64 value is exactly representable in every format of ``dtypes``."""
    arr = np.asarray(values, dtype=np.float64)
    return all(
        np.array_equal(arr.astype(get_format(dt).numpy_dtype()).astype(np.float64), arr)
        for dt in dtypes
    )


def round_through(values: ArrayLike, dtypes: Sequence[object]) -> NDArray[np.float64]:
    """Round float64 values to each format of ``dtypes`` in turn, until exact in all of them.

    One format: a single rounding. Several (e.g. float16 and bfloat16, neither of which holds
    the other): the pass over the formats is repeated, at most four times, until the values
    are exact in every one (:func:`exact_in_all` tells whether that was reached; overflow to
    +-inf is kept).

    Accuracy
    --------
    Each rounding is numpy's round-to-nearest-even cast; the result is a float64 array whose
    values, when :func:`exact_in_all` holds, are exact in every format.
    """
    out = np.asarray(values, dtype=np.float64)
    for _ in range(4):
        for dt in dtypes:
            with np.errstate(over="ignore"):
                out = out.astype(get_format(dt).numpy_dtype()).astype(np.float64)
        if exact_in_all(out, dtypes):
            break
    return out


def fraction_from_arb(x: object) -> Fraction:
    """Exact rational value of an exact (zero-radius) ``flint.arb``."""
    man, exp = x.man_exp()  # type: ignore[attr-defined]
    m = int(man)
    e = int(exp)
    return Fraction(m) * _pow2(e)


def scaled_from_arb(x: object) -> ScaledRational:
    """Exact value of an exact (zero-radius) ``flint.arb`` or ``flint.arf``, of any exponent.

    Accuracy
    --------
    Exact: Arb's (mantissa, exponent) pair is kept as it is (no power of two is expanded).
    """
    man, exp = x.man_exp()  # type: ignore[attr-defined]
    return ScaledRational(int(man), int(exp))


def frobenius_upper(M: Any) -> Any:
    """Upper bound (an exact ``flint.arb``) of the Frobenius norm of an Arb matrix.

    Guarantee
    ---------
    Proven: sums the squares of each entry's magnitude upper bound in ball arithmetic and
    returns the upper end of the square root.
    """
    from flint import arb

    total = arb(0)
    for i in range(M.nrows()):
        for j in range(M.ncols()):
            u = M[i, j].abs_upper()
            total += u * u
    return total.sqrt().abs_upper()


def ln_fraction(q: Fraction | ScaledRational) -> float:
    """ln|q| for a nonzero rational of any magnitude (``-inf`` for 0), without overflow.

    Accuracy
    --------
    ln of the numerator minus ln of the denominator (plus e ln 2 for a
    :class:`ScaledRational` q * 2**e), each correctly rounded by :func:`math.log` on Python
    ints of any size: absolute error below 1e-15 * (1 + |ln q|) in practice, enough for
    comparing against error bounds that are models anyway.
    """
    if q == 0:
        return -math.inf
    if isinstance(q, ScaledRational):
        return ln_fraction(q.q) + q.e * math.log(2)
    return math.log(abs(q.numerator)) - math.log(q.denominator)


def format_real(q: Fraction | ScaledRational | float | int, digits: int = 6) -> str:
    """A short decimal rendering of an exact value of any magnitude (never raises).

    Values inside float64's range print as ``repr`` of their float64 rounding; larger and
    smaller ones as ``m.mmmmme+NNN`` computed in exact arithmetic, or, for a ScaledRational
    whose binary exponent is beyond 2**16, from an Arb ball at a working precision that
    keeps the printed digits correct up to the rounding of the last one.

    Examples
    --------
    >>> format_real(Fraction(1, 3))
    '0.3333333333333333'
    >>> format_real(Fraction(10**400) * 3)
    '3.00000e+400'
    >>> format_real(-Fraction(1, 10**400))
    '-1.00000e-400'
    """
    if isinstance(q, float):
        return repr(q)
    if isinstance(q, ScaledRational):
        if abs(q.e) > _EXACT_FORMAT_BITS:
            return _format_scaled(q, digits)
        q = q.to_fraction()
    q = Fraction(q)
    if q == 0:
        return "0"
    try:
        f = float(q)
    except OverflowError:
        f = math.inf
    if f != 0 and math.isfinite(f) and abs(f) >= 2.0**-1022:
        return repr(f)
    a = abs(q)
    e10 = math.floor(ln_fraction(a) / math.log(10))
    m = a / Fraction(10) ** e10 if e10 >= 0 else a * Fraction(10) ** -e10
    return _mantissa_text(m, e10, digits, negative=q < 0)


_EXACT_FORMAT_BITS = 1 << 16


def _mantissa_text(m: Fraction, e10: int, digits: int, *, negative: bool) -> str:
    """``m.mmmm e+NNN`` for a value m * 10**e10 (m roughly in [1, 10))."""
    while m >= 10:
        m, e10 = m / 10, e10 + 1
    while m < 1:
        m, e10 = m * 10, e10 - 1
    text = repr(float(m)) if digits >= 17 else f"{float(m):.{max(digits - 1, 0)}f}"
    if text.startswith("10"):  # m rounded up to 10
        text, e10 = f"{1.0:.{max(digits - 1, 0)}f}", e10 + 1
    return f"{'-' if negative else ''}{text}e{e10:+04d}"


def _format_scaled(q: ScaledRational, digits: int) -> str:
    """:func:`format_real` of a value far outside every float range (|e| > 2**16)."""
    from flint import arb, ctx, fmpq

    # the decimal exponent has ~log10|e| digits; Arb carries them plus the mantissa's digits
    prec = 64 + 4 * max(digits, 17) + 2 * abs(q.e).bit_length()
    with ctx.workprec(prec):
        v = arb(fmpq(abs(q.q.numerator), q.q.denominator)) * arb((1, q.e))
        mid, _, exp10 = v.mid_rad_10exp(max(digits, 17) + 3)
    man = int(mid)
    ndig = len(str(man))
    m = Fraction(man, 10 ** (ndig - 1))
    return _mantissa_text(m, int(exp10) + ndig - 1, digits, negative=q.sign < 0)



@functools.cache
def _is_ml_dtypes_float(dt: np.dtype[Any]) -> bool:
    """Whether a numpy dtype of kind 'V' is one of ml_dtypes' float formats (bfloat16, the
    float8 family): those are real numbers; any other 'V' (a structured ``np.void``) is not."""
    try:
        import ml_dtypes

        ml_dtypes.finfo(dt)  # type: ignore[no-untyped-call]
    except (ImportError, TypeError, ValueError):
        return False
    return True

def read_scalar(x: object, name: str) -> float | int | Fraction:
    """The exact value of one real number given as any common scalar type.

    Accepts Python ``float``/``int``/:class:`~fractions.Fraction`, numpy scalars and 0-d
    arrays of any real dtype (bfloat16 included), PyTorch tensors with one element and no
    dimensions (any real dtype, on any device, with or without ``requires_grad``) and JAX
    arrays (anything with ``__array__``). The value returned is the number the object holds,
    read exactly: a float32 ``0.01`` is 0.0099999997764825820922851562, not 1/100.

    Raises
    ------
    ArgumentError
        For ``None``, strings, booleans, complex numbers and containers, naming ``name``.
    ShapeMismatchError
        For arrays or tensors with dimensions or more than one element.

    Examples
    --------
    >>> read_scalar(np.float32(0.1), "eta") == Fraction(float(np.float32(0.1)))
    True
    """
    if x is None or isinstance(x, (bool, np.bool_, str, bytes, complex, np.complexfloating)):
        raise ArgumentError(name, x, f"must be a real scalar, not {type(x).__name__}")
    if isinstance(x, (float, int, Fraction)):
        return x
    if isinstance(x, np.generic):
        kind = x.dtype.kind
        if kind in "iu":
            return int(x)
        if kind == "f" or (kind == "V" and _is_ml_dtypes_float(x.dtype)):
            if x.dtype.itemsize > 8:  # long double: may hold more bits than float64
                xf = np.longdouble(x)
                if not np.isfinite(xf):
                    return float(xf)
                num, den = xf.as_integer_ratio()
                return Fraction(int(num), int(den))
            return float(x)  # every float16/bfloat16/float32/float64 is a float64, exactly
        raise ArgumentError(name, x, f"must be a real scalar, not numpy {x.dtype}")
    if type(x).__module__.split(".")[0] == "torch":
        return _read_torch(x, name)
    if hasattr(x, "__array__"):
        try:
            a = np.asarray(x)
        except Exception as exc:
            raise ArgumentError(name, x, f"cannot be read as a number ({exc})") from exc
        if a.ndim != 0:
            raise ShapeMismatchError(name, x, f"must be a scalar (0-d), got shape {a.shape}")
        return read_scalar(a[()], name)
    raise ArgumentError(
        name,
        x,
        f"must be a real scalar (float, numpy, torch or JAX scalar), not {type(x).__name__}",
    )


def _read_torch(x: Any, name: str) -> float | int:
    if getattr(x, "ndim", None) != 0:
        raise ShapeMismatchError(
            name, x, f"must be a 0-d tensor, got shape {tuple(getattr(x, 'shape', ()))}"
        )
    if x.is_complex() or str(x.dtype) == "torch.bool":
        raise ArgumentError(name, x, f"must be a real scalar, not a {x.dtype} tensor")
    y = x.detach().cpu()
    if y.dtype.is_floating_point:
        if y.dtype.itemsize < 4:  # float16 / bfloat16 / float8: widen exactly to float32
            y = y.float()
        return float(y.item())
    return int(y.item())


def read_float(x: object, name: str) -> float:
    """:func:`read_scalar`, required to be a float64 value exactly (NaN and inf allowed).

    Raises
    ------
    ArgumentError
        When the number cannot be held by float64 exactly (a Fraction like 1/3, a long
        double with extra bits, an int beyond 2^53 that is not a float).
    """
    v = read_scalar(x, name)
    if isinstance(v, float):
        return v
    try:
        f = float(v)
    except OverflowError as exc:
        raise ArgumentError(name, x, "is beyond float64's range") from exc
    if Fraction(f) != Fraction(v):  # an int or Fraction is finite: so is f here
        raise ArgumentError(name, x, "is not exactly a float64 value")
    return f


# ------------------------------------------------------------------ JSON and text renderings
def json_float(x: float) -> float | str:
    """A float for strict JSON: finite values as Python floats, the others as the strings
    ``"nan"``, ``"inf"``, ``"-inf"`` (JSON has no literal for them).

    >>> json_float(0.5), json_float(float("-inf"))
    (0.5, '-inf')
    """
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return float(x)


def float_text(x: float) -> str:
    """An exact text for a float: its hex form (``float.fromhex`` reads it back bit for bit),
    or ``"nan"``, ``"inf"``, ``"-inf"``.

    >>> float_text(0.1), float_text(float("inf"))
    ('0x1.999999999999ap-4', 'inf')
    """
    return x.hex() if math.isfinite(x) else repr(float(x))


def json_ready(obj: Any) -> Any:
    """``obj`` ready for :func:`json.dumps`: numpy values to Python, tuples to lists, string
    keys, non-finite floats as :func:`json_float` writes them; anything else unchanged.

    >>> json_ready({1: (np.float32(0.5), np.int64(2), float("nan"))})
    {'1': [0.5, 2, 'nan']}
    """
    if isinstance(obj, dict):
        return {str(k): json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_ready(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        return json_float(float(obj))
    if isinstance(obj, np.integer):
        return int(obj)
    return obj
