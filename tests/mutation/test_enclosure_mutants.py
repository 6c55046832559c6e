"""Behaviours of :class:`verify.certified.enclosure.Enclosure` that mutation testing found
unpinned (``mutmut run`` with ``only_mutate = [..., "verify/certified/enclosure.py"]``, README
"Tests and benchmarks"): the exact endpoints of an Arb ball and the documented outward
widening at its threshold, containment at the endpoints, the certified sign and signed zero,
the relative radius and ``meets_rel_tol`` at their edges, and ``to_float``'s refinement
schedule and oracle fallback.

Every expectation is exact (endpoints are compared as exact rationals; the Arb balls' own
midpoints and radii are read back with ``man_exp``), so no tolerance is involved. The module
runs in well under a second.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from flint import arb

from verify.certified.enclosure import Enclosure
from verify.errors import NotCertifiedError
from verify.floats import ScaledRational

# the documented widening threshold: 2**-(8 prec_bits), but never finer than 2**-16384
MIN_WIDTH = 1 << 14


def _sr(x: object) -> ScaledRational:
    man, exp = x.man_exp()  # type: ignore[attr-defined]
    return ScaledRational(int(man), int(exp))


def _ball(mid: tuple[int, int], rad: tuple[int, int]) -> object:
    """An Arb ball with midpoint man * 2**exp (exact) and radius at least the given one."""
    return arb(arb(mid), arb(rad))


def _mid_rad(x: object) -> tuple[ScaledRational, ScaledRational]:
    return _sr(x.mid()), _sr(x.rad())  # type: ignore[attr-defined]


# ------------------------------------------------------------------ from_arb
@pytest.mark.parametrize(
    ("mid", "rad", "prec_bits"),
    [
        ((1, 0), (3, -MIN_WIDTH - 1), 64),  # radius exactly at the threshold below the midpoint
        ((3, -MIN_WIDTH - 1), (1, 0), 64),  # midpoint exactly at the threshold below the radius
        ((1, 0), (1, -20000), 4096),  # 8 * 4096 = 32768 binades allowed: no widening
        ((5, -7), (1, -3), 64),
        ((-5, 100), (3, 90), 64),
    ],
)
def test_from_arb_keeps_the_exact_ball_within_the_threshold(
    mid: tuple[int, int], rad: tuple[int, int], prec_bits: int
) -> None:
    x = _ball(mid, rad)
    m, r = _mid_rad(x)
    enc = Enclosure.from_arb(x, prec_bits)
    assert enc.lower_exact == m - r and enc.upper_exact == m + r
    assert enc.prec_bits == prec_bits and enc.contains(m - r) and enc.contains(m + r)


def test_from_arb_widens_a_tiny_radius_to_the_threshold() -> None:
    x = _ball((1, 0), (1, -20000))
    enc = Enclosure.from_arb(x, 64)
    assert enc.lower_exact == 1 - ScaledRational(1, -MIN_WIDTH)
    assert enc.upper_exact == 1 + ScaledRational(1, -MIN_WIDTH)
    # at prec_bits = 4096 the threshold is 2**-32768: a radius of 2**-34000 is widened to it
    y = _ball((1, 0), (1, -34000))
    wide = Enclosure.from_arb(y, 4096)
    assert wide.upper_exact == 1 + ScaledRational(1, -32768)
    assert wide.lower_exact == 1 - ScaledRational(1, -32768)


def test_from_arb_widens_a_tiny_midpoint_into_a_symmetric_interval() -> None:
    x = _ball((1, -20000), (1, 0))
    _, r = _mid_rad(x)
    enc = Enclosure.from_arb(x)
    big = r + ScaledRational(1, r.floor_log2() - MIN_WIDTH)
    assert (enc.lower_exact, enc.upper_exact) == (-big, big)
    assert enc.contains(ScaledRational(1, -20000) + r) and enc.contains(
        ScaledRational(1, -20000) - r
    )


def test_from_arb_zero_midpoint_exact_ball_and_defaults() -> None:
    x = _ball((0, 0), (1, 0))
    _, r = _mid_rad(x)
    enc = Enclosure.from_arb(x)
    assert (enc.lower_exact, enc.upper_exact, enc.prec_bits) == (-r, r, 0)
    point = Enclosure.from_arb(arb(3), 53)
    assert point.is_exact and point.lower_exact == 3 and point.prec_bits == 53

    def refine(p: int) -> Enclosure:
        return Enclosure.exact(3)

    def oracle() -> Fraction:
        return Fraction(3)

    kept = Enclosure.from_arb(arb(3), 53, refine, oracle)
    assert kept.refine is refine and kept.oracle is oracle


@pytest.mark.parametrize("bad", ["inf", "nan"])
def test_from_arb_refuses_a_non_finite_ball(bad: str) -> None:
    with pytest.raises(NotCertifiedError, match="is not finite") as info:
        Enclosure.from_arb(arb(bad), 77)
    assert info.value.prec_bits == 77 and info.value.achieved_rel == math.inf


# ------------------------------------------------------------------ construction
def test_construction_defaults_and_empty_interval() -> None:
    enc = Enclosure(1, 3)
    assert (enc.prec_bits, enc.refine, enc.oracle) == (0, None, None)
    assert Enclosure(1, 3, 64).prec_bits == 64
    ex = Enclosure.exact(Fraction(1, 3))
    assert (ex.prec_bits, ex.refine, ex.oracle, ex.is_exact) == (0, None, None, True)
    with pytest.raises(ValueError, match=r"^empty enclosure: lower=3\.0 > upper=1\.0$"):
        Enclosure(3, 1)


def test_mid_and_rad_are_exact() -> None:
    enc = Enclosure(1, 4)
    assert (enc.mid, enc.rad) == (Fraction(5, 2), Fraction(3, 2))
    assert (enc.mid_exact, enc.rad_exact) == (ScaledRational(5, -1), ScaledRational(3, -1))
    neg = Enclosure(-4, -1)
    assert (neg.mid, neg.rad) == (Fraction(-5, 2), Fraction(3, 2))


# ------------------------------------------------------------------ containment and sign
def test_contains_at_and_beside_the_endpoints() -> None:
    lo, hi = Fraction(1, 3), Fraction(1, 2)
    enc = Enclosure(lo, hi)
    eps = Fraction(1, 2**200)
    assert enc.contains(lo) and enc.contains(hi) and enc.contains(0.4)
    assert enc.contains(ScaledRational(hi))
    assert not enc.contains(lo - eps) and not enc.contains(hi + eps)
    assert enc.contains(0.5) and not enc.contains(math.nextafter(0.5, 1))
    for bad in (math.nan, math.inf, -math.inf):
        assert not Enclosure(-1e308, 1e308).contains(bad)


@pytest.mark.parametrize(
    ("lo", "hi", "zero"),
    [(0, 1, True), (-1, 0, True), (0, 0, True), (-1, 1, True), (1, 2, False), (-2, -1, False)],
)
def test_contains_zero_at_the_endpoints(lo: int, hi: int, zero: bool) -> None:
    assert Enclosure(lo, hi).contains_zero() is zero


def test_certified_sign() -> None:
    assert Enclosure(-2, -1).sign() == -1
    assert Enclosure(1, 2).sign() == 1
    assert Enclosure.exact(0).sign() == 0
    tiny = ScaledRational(1, -(10**12))
    assert Enclosure(tiny, tiny * 3).sign() == 1 and Enclosure(-tiny * 3, -tiny).sign() == -1
    for lo, hi in [(-1, 1), (0, 1), (-1, 0)]:
        with pytest.raises(NotCertifiedError, match=r"^sign not certified: 0 lies in ") as info:
            Enclosure(lo, hi, 99).sign()
        assert info.value.prec_bits == 99 and info.value.achieved_rel == math.inf


# ------------------------------------------------------------------ relative radius
def test_rel_radius_values_and_the_float_range_edge() -> None:
    assert Enclosure.exact(2).rel_radius() == 0.0
    assert Enclosure(1, 3).rel_radius() == 1.0  # rad 1 / min|x| 1
    assert Enclosure(-3, -1).rel_radius() == 1.0
    assert Enclosure(2, 3).rel_radius() == 0.25
    assert Enclosure(-1, 1).rel_radius() == math.inf
    # (2^k - 1) / 2 rounds to 2^(k-1): finite up to k = 1024, infinite beyond
    assert Enclosure(1, ScaledRational(1, 1024)).rel_radius() == 2.0**1023
    assert Enclosure(1, ScaledRational(1, 1025)).rel_radius() == math.inf
    assert Enclosure(ScaledRational(1, -3000), 1).rel_radius() == math.inf


def test_meets_rel_tol_at_equality_and_binade_distance_two() -> None:
    enc = Enclosure(2, 3)  # rad / min|x| = 1/4 exactly
    assert enc.meets_rel_tol(Fraction(1, 4))
    assert not enc.meets_rel_tol(Fraction(1, 4) - Fraction(1, 2**100))
    assert not enc.meets_rel_tol(Fraction(1, 5)) and not enc.meets_rel_tol(Fraction(1, 8))
    assert Enclosure(-3, -2).meets_rel_tol(Fraction(1, 4))
    # floor_log2 differs by 2 (1.9 vs 4) but the ratio is only 2.1/3.8 ~ 0.553
    near = Enclosure(Fraction(19, 10), 4)
    assert near.meets_rel_tol(Fraction(3, 5)) and not near.meets_rel_tol(Fraction(1, 2))
    assert not Enclosure(1, 100).meets_rel_tol(Fraction(99, 100))
    assert not Enclosure(0, 1).meets_rel_tol(Fraction(1, 2))
    assert Enclosure.exact(0).meets_rel_tol(Fraction(1, 2))


# ------------------------------------------------------------------ rounding
def test_to_float_signed_zero_is_certified() -> None:
    tiny = ScaledRational(1, -1100)  # below half of float64's smallest subnormal
    up = Enclosure(0, tiny).to_float()
    assert up == 0.0 and math.copysign(1.0, up) == 1.0
    down = Enclosure(-tiny, -tiny * Fraction(1, 2)).to_float()
    assert down == 0.0 and math.copysign(1.0, down) == -1.0
    for lo, hi in [(-tiny, 0), (-tiny, tiny)]:  # +0.0 and -0.0 both possible: refused
        with pytest.raises(NotCertifiedError, match="cannot round"):
            Enclosure(lo, hi).to_float()


def _straddling(calls: list[int]) -> Enclosure:
    """An enclosure of the float64 tie 1 + 2**-53 whose refinement never narrows."""
    tie = Fraction(1) + Fraction(1, 2**53)
    w = Fraction(1, 2**80)

    def refine(prec: int) -> Enclosure:
        calls.append(prec)
        return Enclosure(tie - w, tie + w, prec, refine)

    return Enclosure(tie - w, tie + w, 20, refine)


def test_to_float_refinement_schedule_and_refusal() -> None:
    calls: list[int] = []
    with pytest.raises(
        NotCertifiedError, match=r"^cannot round \[.*\] to float64 uniquely$"
    ) as info:
        _straddling(calls).to_float()
    # precision doubled from max(2 * 20, 128); max_refinements = 8 (one more call today: see
    # test_to_float_refines_at_most_max_refinements_times)
    assert calls[:8] == [128 << k for k in range(8)] and len(calls) in (8, 9)
    assert info.value.prec_bits == calls[-1]
    w, tie = Fraction(1, 2**80), Fraction(1) + Fraction(1, 2**53)
    assert info.value.achieved_rel == float(w / (tie - w))
    few: list[int] = []
    with pytest.raises(NotCertifiedError):
        _straddling(few).to_float(max_refinements=2)
    assert few[:2] == [128, 256] and len(few) in (2, 3)


def _deciding_at(k: int, calls: list[int]) -> Enclosure:
    """An enclosure of 1/3 that straddles nothing only from its k-th refinement on."""
    third = Fraction(1, 3)

    def refine(prec: int) -> Enclosure:
        calls.append(prec)
        w = Fraction(1, 2**20) if len(calls) < k else Fraction(1, 2**prec)
        return Enclosure(third - w, third + w, prec, refine)

    return Enclosure(third - Fraction(1, 2**20), third + Fraction(1, 2**20), 20, refine)


@pytest.mark.parametrize("k", [1, 4, 7, 8])
def test_to_float_uses_a_refinement_that_decides(k: int) -> None:
    calls: list[int] = []
    assert _deciding_at(k, calls).to_float() == 1 / 3
    assert len(calls) == k


def test_to_float_refines_at_most_max_refinements_times() -> None:
    calls: list[int] = []
    with pytest.raises(NotCertifiedError):
        _straddling(calls).to_float(max_refinements=3)
    assert calls == [128, 256, 512]


def test_to_float_falls_back_on_the_oracle_at_a_tie() -> None:
    tie32 = Fraction(1) + Fraction(1, 2**24)  # a float32 tie; exactly a float64
    w = Fraction(1, 2**60)

    def oracle() -> Fraction:
        return tie32

    enc = Enclosure(tie32 - w, tie32 + w, 64, None, oracle)
    assert enc.to_float("float32") == 1.0  # ties to even
    assert enc.to_float("float64") == float(tie32)
    assert float(enc) == float(tie32)
    outside = Enclosure(tie32 - w, tie32 + w, 64, None, lambda: Fraction(2))
    with pytest.raises(AssertionError, match=r"^exact value 2\.0 outside \["):
        outside.to_float("float32")
    unknown = Enclosure(tie32 - w, tie32 + w, 64, None, lambda: None)
    with pytest.raises(NotCertifiedError):
        unknown.to_float("float32")


def test_float_of_an_enclosure() -> None:
    assert float(Enclosure.exact(Fraction(1, 3))) == 1 / 3
    assert float(Enclosure(ScaledRational(1, 1024), ScaledRational(1, 1025))) == math.inf


# ------------------------------------------------------------------ text
def test_repr_and_str_at_any_magnitude() -> None:
    tiny = ScaledRational(1, -1100)  # 7.3621518290228626754e-332 (mpmath, 200 bits)
    assert repr(Enclosure.exact(tiny)) == (
        "Enclosure(mid=7.362151829022863e-332, rad=0, prec_bits=0)"
    )
    assert repr(Enclosure(1 - tiny, 1 + tiny, 64)) == (
        "Enclosure(mid=1.0, rad=7.36e-332, prec_bits=64)"
    )
    assert repr(Enclosure(1, 3, 5)) == "Enclosure(mid=2.0, rad=1.0, prec_bits=5)"
    assert str(Enclosure(-tiny, 1)) == "[-7.36215e-332, 1.0]"
