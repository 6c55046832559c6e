"""The oracles generated from the derivations agree with exact evaluation and keep precision
local."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import pytest

from proofs import oracles

PREC_BITS = 120
#: Relative tolerance for a PREC_BITS-bit evaluation of a sum/ratio of d <= 4 terms with
#: powers up to 2t <= 60: a few ulps per operation and about log2(2t) bits for the powers;
#: 2^-(PREC_BITS - 20) leaves ~2^14 ulps of headroom.
REL_TOL = mpmath.mpf(2) ** -(PREC_BITS - 20)

CASES = [
    ([Fraction(2), Fraction(1, 2)], [Fraction(3, 5), Fraction(4, 5)]),
    (
        [Fraction(62), Fraction(7), Fraction(1, 100)],
        [Fraction(2, 7), Fraction(3, 7), Fraction(-6, 7)],
    ),
]
ETAS = [Fraction(0), Fraction(1, 7), Fraction(1, 62), Fraction(2, 63), Fraction(1, 30), Fraction(1)]
TS = [1, 4, 30]


def _close(approx: mpmath.mpf, exact: Fraction) -> bool:
    with mpmath.workprec(PREC_BITS + 40):
        ref = mpmath.mpf(exact.numerator) / exact.denominator
        return bool(abs(approx - ref) <= REL_TOL * abs(ref))


@pytest.mark.parametrize(("eigs", "c"), CASES)
@pytest.mark.parametrize("eta", ETAS)
@pytest.mark.parametrize("t", TS)
def test_oracles_match_exact(
    eigs: list[Fraction], c: list[Fraction], eta: Fraction, t: int
) -> None:
    prec_before = mpmath.mp.prec
    exact_loss = oracles.loss_exact(eigs, c, eta, t)
    assert _close(oracles.loss(eigs, c, eta, t, prec_bits=PREC_BITS), exact_loss)
    exact_naive = oracles.naive_meta_gradient_exact(eigs, c, eta, t)
    assert _close(oracles.naive_meta_gradient(eigs, c, eta, t, prec_bits=PREC_BITS), exact_naive)
    exact_log = oracles.log_meta_gradient_exact(eigs, c, eta, t)
    assert _close(oracles.log_meta_gradient(eigs, c, eta, t, prec_bits=PREC_BITS), exact_log)
    assert _close(oracles.stable_log_meta_gradient(eigs, c, eta, t, prec_bits=PREC_BITS), exact_log)
    assert exact_log == 2 * exact_naive / (2 * t * exact_loss)
    assert mpmath.mp.prec == prec_before


def test_log_objective_matches_loss() -> None:
    eigs, c = CASES[1]
    value = oracles.log_objective(eigs, c, Fraction(1, 40), 500, prec_bits=PREC_BITS)
    with mpmath.workprec(PREC_BITS):
        ref = mpmath.log(oracles.loss(eigs, c, Fraction(1, 40), 500, prec_bits=PREC_BITS)) / 500
        assert abs(value - ref) <= REL_TOL * abs(ref)


def test_stable_form_at_large_t_is_finite_and_matches() -> None:
    eigs, c = CASES[1]
    eta = Fraction(3, 62)  # rho > 1: plain form's numerator and denominator are huge
    plain = oracles.log_meta_gradient(eigs, c, eta, 10_000, prec_bits=PREC_BITS)
    stable = oracles.stable_log_meta_gradient(eigs, c, eta, 10_000, prec_bits=PREC_BITS)
    assert mpmath.isfinite(stable)
    with mpmath.workprec(PREC_BITS):
        assert abs(plain - stable) <= REL_TOL * abs(stable)


def test_affine_iterate_and_null_mode_are_exact_for_dyadic_inputs() -> None:
    # eta = 1/4 and small integers: every intermediate is a short dyadic rational
    xs = oracles.affine_iterate([2, 0], [1, 1], [1, 1], Fraction(1, 4), 3, prec_bits=64)
    # lambda=2: (1/2)^3 + (1 - (1/2)^3)/2 = 9/16; lambda=0: 1 + 3/4 = 7/4
    assert xs == [mpmath.mpf(9) / 16, mpmath.mpf(7) / 4]
    value = oracles.affine_loss([2, 1], [1, 1], [1, 1], 0, Fraction(1, 4), 3, prec_bits=64)
    assert value == mpmath.mpf(-191) / 256


def test_input_validation() -> None:
    with pytest.raises(ValueError, match="equal length"):
        oracles.loss([1, 2], [1], 0, 1, prec_bits=53)
    with pytest.raises(ValueError, match="positive integer"):
        oracles.loss([1], [1], 0, 0, prec_bits=53)
