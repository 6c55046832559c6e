"""Proven enclosures of real numbers."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

from ..errors import NotCertifiedError
from ..floats import format_real, fraction_from_arb, get_format, round_fraction, to_fraction

__all__ = ["Enclosure"]


@dataclass(frozen=True)
class Enclosure:
    """A closed interval [lower, upper] proven to contain an exact real value.

    Endpoints are exact rationals (dyadic, from Arb balls). ``refine``, when present, recomputes
    the enclosure at a higher working precision; :meth:`to_float` uses it when the interval
    straddles a rounding boundary of the requested format.

    Attributes
    ----------
    lower, upper : Fraction
        Exact endpoints, ``lower <= upper``.
    prec_bits : int
        Working precision that produced this enclosure.

    Examples
    --------
    >>> from fractions import Fraction
    >>> e = Enclosure(Fraction(1, 3) - Fraction(1, 10**30), Fraction(1, 3) + Fraction(1, 10**30))
    >>> e.contains(Fraction(1, 3)), e.to_float("float32") == float.fromhex("0x1.555556p-2")
    (True, True)
    """

    lower: Fraction
    upper: Fraction
    prec_bits: int = 0
    refine: Callable[[int], Enclosure] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.lower > self.upper:
            raise ValueError(
                f"empty enclosure: lower={float(self.lower)!r} > upper={float(self.upper)!r}"
            )

    @classmethod
    def from_arb(
        cls, x: object, prec_bits: int = 0, refine: Callable[[int], Enclosure] | None = None
    ) -> Enclosure:
        """Enclosure of a finite ``flint.arb`` ball (exact endpoints mid -/+ rad)."""
        if not x.is_finite():  # type: ignore[attr-defined]
            raise NotCertifiedError(
                f"ball {x} is not finite", prec_bits=prec_bits, achieved_rel=math.inf
            )
        mid = fraction_from_arb(x.mid())  # type: ignore[attr-defined]
        rad = fraction_from_arb(x.rad())  # type: ignore[attr-defined]
        return cls(mid - rad, mid + rad, prec_bits, refine)

    @classmethod
    def exact(cls, value: Fraction | int | float) -> Enclosure:
        """The degenerate enclosure of an exactly known value."""
        q = to_fraction(value, name="value")
        return cls(q, q, 0, None)

    @property
    def mid(self) -> Fraction:
        """Midpoint (exact)."""
        return (self.lower + self.upper) / 2

    @property
    def rad(self) -> Fraction:
        """Radius (exact)."""
        return (self.upper - self.lower) / 2

    @property
    def is_exact(self) -> bool:
        """True when the value is known exactly (zero width)."""
        return self.lower == self.upper

    def contains(self, x: float | int | Fraction) -> bool:
        """Whether ``x`` (a finite float, int or Fraction) lies in the enclosure."""
        if isinstance(x, float) and not math.isfinite(x):
            return False
        q = to_fraction(x, name="x")
        return self.lower <= q <= self.upper

    def contains_zero(self) -> bool:
        """Whether 0 lies in the enclosure (the sign is then not certified)."""
        return self.lower <= 0 <= self.upper

    def sign(self) -> int:
        """Certified sign: -1, 0 (exactly zero) or +1.

        Raises
        ------
        NotCertifiedError
            When the enclosure contains zero but is not exactly zero.
        """
        if self.lower > 0:
            return 1
        if self.upper < 0:
            return -1
        if self.is_exact:
            return 0
        raise NotCertifiedError(
            f"sign not certified: 0 lies in [{float(self.lower)!r}, {float(self.upper)!r}]",
            prec_bits=self.prec_bits,
            achieved_rel=math.inf,
        )

    def rel_radius(self) -> float:
        """rad / min|x| over the enclosure (``inf`` when it contains zero and is not exact)."""
        if self.is_exact:
            return 0.0
        if self.contains_zero():
            return math.inf
        m = min(abs(self.lower), abs(self.upper))
        return float(self.rad / m)

    def to_float(self, dtype: object = "float64", *, max_refinements: int = 8) -> float:
        """The exact value rounded once, correctly, to ``dtype``.

        Both endpoints are rounded to nearest-even; when they agree, every point of the
        enclosure rounds to that value, so it is the correctly rounded exact value. Otherwise
        the enclosure is refined (precision doubled) up to ``max_refinements`` times.

        Guarantee
        ---------
        The returned float is the round-to-nearest-even image of the exact value in the
        target format (including subnormals, signed zero and overflow to infinity).

        Raises
        ------
        NotCertifiedError
            When the enclosure still straddles a rounding boundary after refinement (e.g. the
            exact value is a rounding tie or lies on a boundary to within the precision cap).
        """
        fmt = get_format(dtype)
        enc: Enclosure = self
        for _ in range(max_refinements + 1):
            lo = round_fraction(enc.lower, fmt)
            hi = round_fraction(enc.upper, fmt)
            if lo == hi:
                if lo != 0:
                    return lo
                # both ends round to zero: the sign of the zero must be certified too
                if enc.lower >= 0:
                    return 0.0
                if enc.upper < 0:
                    return -0.0
            if enc.refine is None:
                break
            enc = enc.refine(max(2 * enc.prec_bits, 128))
        raise NotCertifiedError(
            f"cannot round [{float(enc.lower)!r}, {float(enc.upper)!r}] to {fmt.name} uniquely",
            prec_bits=enc.prec_bits,
            achieved_rel=enc.rel_radius(),
        )

    def __float__(self) -> float:
        return self.to_float("float64")

    def __repr__(self) -> str:
        """Never raises, whatever the magnitude (|x| > 1.8e308 prints in exact decimal)."""
        rad = format_real(self.rad, 3) if self.rad else "0"
        return f"Enclosure(mid={format_real(self.mid, 17)}, rad={rad}, prec_bits={self.prec_bits})"

    def __str__(self) -> str:
        """``[lower, upper]`` in short decimal, any magnitude."""
        return f"[{format_real(self.lower)}, {format_real(self.upper)}]"
