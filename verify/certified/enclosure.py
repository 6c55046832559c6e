"""Proven enclosures of real numbers, of any magnitude."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

from ..errors import NotCertifiedError
from ..floats import (
    ScaledRational,
    format_real,
    get_format,
    round_fraction,
    scaled_from_arb,
)

__all__ = ["Enclosure"]

Real = ScaledRational | Fraction | int | float

# An Arb ball whose radius is below 2^-WIDTH_BITS of its midpoint (or the reverse) gets its
# smaller part rounded outward to that power of two, so that the exact endpoints mid -/+ rad
# never need more than ~WIDTH_BITS bits of alignment. The widening is relative 2^-WIDTH_BITS,
# far below any radius a certified result is asked for (rel_tol >= 2^-(max_prec_bits - 16)).
_MIN_WIDTH_BITS = 1 << 14
_MAX_WIDTH_BITS = 1 << 18

# rel_radius: endpoints more than this many binades apart give a ratio beyond float64's range.
_FLOAT_RATIO_BINADES = 1100


def _width_bits(prec_bits: int) -> int:
    return min(max(8 * prec_bits, _MIN_WIDTH_BITS), _MAX_WIDTH_BITS)


def _ball_endpoints(mid: ScaledRational, rad: ScaledRational, prec_bits: int) -> tuple[Real, Real]:
    """Exact endpoints of the ball mid +- rad, the smaller part rounded outward when it is
    more than :func:`_width_bits` binades below the larger (proven: the result contains the
    ball)."""
    if not rad:
        return mid, mid
    width = _width_bits(prec_bits)
    if not mid:
        return -rad, rad
    lg_mid, lg_rad = mid.floor_log2(), rad.floor_log2()
    if lg_rad < lg_mid - width:
        rad = ScaledRational(1, lg_mid - width)  # > rad
    elif lg_mid < lg_rad - width:
        r = rad + ScaledRational(1, lg_rad - width)  # >= rad + |mid|
        return -r, r
    return mid - rad, mid + rad


@dataclass(frozen=True, init=False)
class Enclosure:
    """A closed interval [lower, upper] proven to contain an exact real value.

    The endpoints are kept as :class:`~verify.floats.ScaledRational` (q * 2**e with the
    exponent an int), so an enclosure of 2**-(2*10**12) costs a few machine words; comparisons,
    :meth:`contains`, :meth:`to_float` and printing work on that form. :attr:`lower`,
    :attr:`upper`, :attr:`mid` and :attr:`rad` expand to :class:`~fractions.Fraction` on
    request (raising :class:`~verify.floats.FractionSizeError` beyond
    :data:`~verify.floats.FRACTION_LIMIT_BITS`).

    ``refine``, when present, recomputes the enclosure at a higher working precision;
    :meth:`to_float` uses it when the interval straddles a rounding boundary of the requested
    format. ``oracle``, when present, computes the exact value (a Fraction, or ``None`` when it
    is not rational or too costly); :meth:`to_float` falls back on it when refinement cannot
    decide, which is the case for a value that is itself a rounding tie.

    Parameters
    ----------
    lower, upper : ScaledRational, Fraction, int or float
        Exact endpoints, ``lower <= upper`` (finite).
    prec_bits : int
        Working precision that produced this enclosure.
    refine : callable, optional
        ``refine(prec_bits)`` returns an enclosure of the same value at that precision.
    oracle : callable, optional
        ``oracle()`` returns the exact value as a Fraction, or ``None``.

    Examples
    --------
    >>> from fractions import Fraction
    >>> e = Enclosure(Fraction(1, 3) - Fraction(1, 10**30), Fraction(1, 3) + Fraction(1, 10**30))
    >>> e.contains(Fraction(1, 3)), e.to_float("float32") == float.fromhex("0x1.555556p-2")
    (True, True)
    >>> tiny = Enclosure(ScaledRational(1, -2 * 10**12), ScaledRational(3, -2 * 10**12))
    >>> tiny.to_float(), tiny.sign(), str(tiny)
    (0.0, 1, '[1.09046e-602059991328, 3.27138e-602059991328]')
    """

    lower_exact: ScaledRational
    upper_exact: ScaledRational
    prec_bits: int = 0
    refine: Callable[[int], Enclosure] | None = field(default=None, compare=False, repr=False)
    oracle: Callable[[], Fraction | None] | None = field(default=None, compare=False, repr=False)

    def __init__(
        self,
        lower: Real,
        upper: Real,
        prec_bits: int = 0,
        refine: Callable[[int], Enclosure] | None = None,
        oracle: Callable[[], Fraction | None] | None = None,
    ) -> None:
        lo, hi = ScaledRational.of(lower), ScaledRational.of(upper)
        if lo > hi:
            raise ValueError(f"empty enclosure: lower={lo} > upper={hi}")
        object.__setattr__(self, "lower_exact", lo)
        object.__setattr__(self, "upper_exact", hi)
        object.__setattr__(self, "prec_bits", prec_bits)
        object.__setattr__(self, "refine", refine)
        object.__setattr__(self, "oracle", oracle)

    @classmethod
    def from_arb(
        cls,
        x: object,
        prec_bits: int = 0,
        refine: Callable[[int], Enclosure] | None = None,
        oracle: Callable[[], Fraction | None] | None = None,
    ) -> Enclosure:
        """Enclosure of a finite ``flint.arb`` ball (exact endpoints mid -/+ rad).

        Guarantee
        ---------
        The interval contains the ball. Its endpoints are the ball's exactly, except where the
        radius is below 2**-(8 prec_bits) (at least 2**-16384) of the midpoint or the reverse:
        the smaller part is then rounded outward to that power of two, so that no endpoint
        needs more than that many bits beyond the ball's own.
        """
        if not x.is_finite():  # type: ignore[attr-defined]
            raise NotCertifiedError(
                f"ball {x} is not finite", prec_bits=prec_bits, achieved_rel=math.inf
            )
        mid = scaled_from_arb(x.mid())  # type: ignore[attr-defined]
        rad = scaled_from_arb(x.rad())  # type: ignore[attr-defined]
        lo, hi = _ball_endpoints(mid, rad, prec_bits)
        return cls(lo, hi, prec_bits, refine, oracle)

    @classmethod
    def exact(cls, value: Real) -> Enclosure:
        """The degenerate enclosure of an exactly known value."""
        v = ScaledRational.of(value)
        return cls(v, v, 0, None, None)

    @property
    def lower(self) -> Fraction:
        """Lower endpoint as a Fraction (expanded on request; see :attr:`lower_exact`)."""
        return self.lower_exact.to_fraction()

    @property
    def upper(self) -> Fraction:
        """Upper endpoint as a Fraction (expanded on request; see :attr:`upper_exact`)."""
        return self.upper_exact.to_fraction()

    def _mid_rad(self) -> tuple[ScaledRational, ScaledRational]:
        half = ScaledRational(1, -1)
        lo, hi = self.lower_exact, self.upper_exact
        return (lo + hi) * half, (hi - lo) * half

    @property
    def mid_exact(self) -> ScaledRational:
        """Midpoint as an exact ScaledRational (any magnitude)."""
        return self._mid_rad()[0]

    @property
    def rad_exact(self) -> ScaledRational:
        """Radius as an exact ScaledRational (any magnitude)."""
        return self._mid_rad()[1]

    @property
    def mid(self) -> Fraction:
        """Midpoint (exact, as a Fraction on request)."""
        return self._mid_rad()[0].to_fraction()

    @property
    def rad(self) -> Fraction:
        """Radius (exact, as a Fraction on request)."""
        return self._mid_rad()[1].to_fraction()

    @property
    def is_exact(self) -> bool:
        """True when the value is known exactly (zero width)."""
        return self.lower_exact == self.upper_exact

    def contains(self, x: Real) -> bool:
        """Whether ``x`` (a finite float, int, Fraction or ScaledRational) lies in the
        enclosure (a non-finite float never does)."""
        if isinstance(x, float) and not math.isfinite(x):
            return False
        q = ScaledRational.of(x)
        return self.lower_exact <= q <= self.upper_exact

    def contains_zero(self) -> bool:
        """Whether 0 lies in the enclosure (the sign is then not certified)."""
        return self.lower_exact.sign <= 0 <= self.upper_exact.sign

    def sign(self) -> int:
        """Certified sign: -1, 0 (exactly zero) or +1.

        Raises
        ------
        NotCertifiedError
            When the enclosure contains zero but is not exactly zero.
        """
        if self.lower_exact.sign > 0:
            return 1
        if self.upper_exact.sign < 0:
            return -1
        if self.is_exact:
            return 0
        raise NotCertifiedError(
            f"sign not certified: 0 lies in {self}",
            prec_bits=self.prec_bits,
            achieved_rel=math.inf,
        )

    def _abs_ends(self) -> tuple[ScaledRational, ScaledRational]:
        """(min |x|, max |x|) over an enclosure that excludes zero."""
        a, b = abs(self.lower_exact), abs(self.upper_exact)
        return (a, b) if a <= b else (b, a)

    def rel_radius(self) -> float:
        """rad / min|x| over the enclosure, rounded to float64 (``inf`` when it contains zero
        and is not exact, or when the ratio is beyond float64's range)."""
        if self.is_exact:
            return 0.0
        if self.contains_zero():
            return math.inf
        small, big = self._abs_ends()
        if big.floor_log2() - small.floor_log2() > _FLOAT_RATIO_BINADES:
            return math.inf
        return round_fraction((big - small) / (small * 2), "float64")

    def meets_rel_tol(self, tol: Fraction) -> bool:
        """Whether the enclosure is exact, or excludes zero with rad <= tol * min|x| (exact
        comparison; ``0 < tol < 1``)."""
        if self.is_exact:
            return True
        if self.contains_zero():
            return False
        small, big = self._abs_ends()
        if big.floor_log2() - small.floor_log2() > 2:  # big > 4 small: rad > small > tol small
            return False
        return big - small <= small * ScaledRational(2 * tol)

    def _round_ends(self, fmt: object) -> float | None:
        """The common rounding of every point of the enclosure, or None when it is not unique."""
        lo = round_fraction(self.lower_exact, fmt)
        hi = round_fraction(self.upper_exact, fmt)
        if lo != hi:
            return None
        if lo != 0:
            return lo
        # both ends round to zero: the sign of the zero must be certified too
        if self.lower_exact.sign >= 0:
            return 0.0
        if self.upper_exact.sign < 0:
            return -0.0
        return None

    def to_float(self, dtype: object = "float64", *, max_refinements: int = 8) -> float:
        """The exact value rounded once, correctly, to ``dtype``.

        Both endpoints are rounded to nearest-even; when they agree, every point of the
        enclosure rounds to that value, so it is the correctly rounded exact value. Otherwise
        the enclosure is refined (precision doubled) up to ``max_refinements`` times, and when
        that cannot decide (a value that is itself a rounding tie never can) the exact value
        from the ``oracle``, when there is one, is rounded instead.

        Guarantee
        ---------
        The returned float is the round-to-nearest-even image of the exact value in the
        target format (including subnormals, signed zero and overflow to infinity), at any
        magnitude.

        Raises
        ------
        NotCertifiedError
            When the enclosure still straddles a rounding boundary after refinement and no
            exact value is available (e.g. the exact value is an irrational number within
            the precision cap of a boundary, or a tie of a problem too large for the exact
            rational computation).
        """
        fmt = get_format(dtype)
        enc: Enclosure = self
        for attempt in range(max_refinements + 1):
            got = enc._round_ends(fmt)
            if got is not None:
                return got
            if enc.refine is None or attempt == max_refinements:
                break
            try:
                enc = enc.refine(max(2 * enc.prec_bits, 128))
            except NotCertifiedError:
                break
        value = self.oracle() if self.oracle is not None else None
        if value is not None:
            if not self.contains(value):
                raise AssertionError(f"exact value {format_real(value)} outside {self}")
            return round_fraction(value, fmt)
        raise NotCertifiedError(
            f"cannot round {enc} to {fmt.name} uniquely",
            prec_bits=enc.prec_bits,
            achieved_rel=enc.rel_radius(),
        )

    def __float__(self) -> float:
        return self.to_float("float64")

    def __repr__(self) -> str:
        """Never raises, whatever the magnitude (|x| > 1.8e308 prints in decimal exponent
        form)."""
        mid, rad = self._mid_rad()
        rad_text = format_real(rad, 3) if rad else "0"
        return f"Enclosure(mid={format_real(mid, 17)}, rad={rad_text}, prec_bits={self.prec_bits})"

    def __str__(self) -> str:
        """``[lower, upper]`` in short decimal, any magnitude."""
        return f"[{format_real(self.lower_exact)}, {format_real(self.upper_exact)}]"
