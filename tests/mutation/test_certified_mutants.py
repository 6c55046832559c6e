"""Behaviours of the certification modules that mutation testing found unpinned (``mutmut run``
with ``only_mutate`` = ``verify/certified/{floatbounds,definiteness,eigen,fasteig}.py``; see
docs/mutation-survivors.md).

Two gaps were known before the run: deleting the gamma term of the float64 accumulation bound
(:func:`verify.certified.floatbounds.cascade`, :func:`~verify.certified.floatbounds.
frobenius_upper`) or shrinking the gamma constant of the Cholesky test
(:func:`verify.certified.definiteness.cholesky_proves_positive_definite`) passed every test,
because ordinary inputs never make float64 rounding approach a worst-case bound. The tests
below build inputs on which it does: every small term rounds away in the same direction (so the
actual error of the float64 sum is a sizeable fraction of gamma_m times the summands), and
diagonal matrices whose smallest eigenvalue sits just below or just above the documented
Cholesky shift, computed here in exact rational arithmetic.

The other tests pin the certified eigendecomposition's enclosures against closed forms (a
diagonal matrix and a 2 x 2 block whose eigenvectors are (1, +-1)/sqrt(2)) on decompositions
degraded on purpose through the documented hook :data:`verify.certified.eigen._DEGRADE`, so
that the exact value sits near the edge of each enclosure rather than at its centre.

Every comparison is exact (``fractions.Fraction``; Arb balls read back exactly) or against a
named constant derived where it is defined. The module runs in about a second.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from flint import arb, arb_mat, ctx

from verify import Quadratic
from verify.certified import definiteness, eigen, fasteig, floatbounds
from verify.certified.enclosure import Enclosure
from verify.errors import NotCertifiedError, NotPositiveDefiniteError
from verify.floats import fraction_from_arb

U = Fraction(1, 2**53)  # unit roundoff of float64


def _gamma(m: int) -> Fraction:
    """gamma_m = m u / (1 - m u), exactly."""
    return m * U / (1 - m * U)


def _frob(M: np.ndarray) -> Fraction:
    """||M||_F^2 exactly."""
    return sum((Fraction(float(x)) ** 2 for x in M.ravel()), Fraction(0))


def _up(x: Any) -> Fraction:
    """An exact ``flint.arb`` (a bound returned by the library) as a Fraction."""
    return fraction_from_arb(x)


# ============================================================== floatbounds: cascade
def _cascade_error2(terms: list[np.ndarray]) -> tuple[Fraction, Fraction, np.ndarray]:
    """(||S - exact sum||_F^2, bound^2, S) for ``floatbounds.cascade(terms)``."""
    S, bound = floatbounds.cascade(terms)
    diff = Fraction(0)
    for idx in np.ndindex(S.shape):
        exact = sum((Fraction(float(t[idx])) for t in terms), Fraction(0))
        diff += (exact - Fraction(float(S[idx]))) ** 2
    return diff, _up(bound) ** 2, S


# k low parts each just below half an ulp of the running low sum (2^-60): each addition of
# the low parts rounds down by almost u * 2^-60, so the float64 low sum loses ~k u 2^-60 while
# the documented bound's gamma_m term is (k + 5) u 2^-60 (m = number of terms + 1 = k + 5)
LOW_ROUNDINGS = 40


def test_cascade_low_part_rounding_reaches_the_gamma_term() -> None:
    """Kills: the gamma_m sum|e| term of ``cascade`` removed or shrunk (the known gap), ``m``
    made smaller, the rounding of ``mag`` not accounted for. The high parts cancel exactly
    (1 - 1, 2^-60 - 2^-60), so S = 0 and the whole exact sum, k (2^-113 - 2^-165), is the low
    parts' rounding error: 0.89 of the gamma term, far above the other terms (u ||S|| = 0)."""
    small = 2.0**-113 * (1 - 2.0**-52)  # < half an ulp of 2^-60: rounds away when added to it
    one = np.ones((2, 2))
    terms = [one, one * 2.0**-60, *[one * small] * LOW_ROUNDINGS, -one, -one * 2.0**-60]
    err2, bound2, S = _cascade_error2(terms)
    assert not S.any()  # the adversary is real: every low part was rounded away
    lost = LOW_ROUNDINGS * Fraction(small)
    assert err2 == 4 * lost**2
    assert err2 <= bound2
    # and the bound is the documented one: gamma_m |e| / (1 - gamma_m), within the Frobenius
    # bound's own over-estimate (< 2^-39 relative, tests/certified/test_fast_eig.py)
    m = len(terms) + 1
    gamma_term = _gamma(m) * 2 * Fraction(2.0**-60) / (1 - _gamma(m))
    assert bound2 <= (gamma_term * (1 + Fraction(1, 2**39))) ** 2 + Fraction(1, 2**2000)


def test_cascade_final_rounding_needs_the_unit_roundoff_term() -> None:
    """Kills: the u ||S||_F term removed. 1 + 2^-54 (1 - 2^-52) rounds to 1 (error ~u/2): the
    gamma term covers only u^2-sized low-part errors here."""
    one = np.ones((2, 2))
    err2, bound2, S = _cascade_error2([one, one * (2.0**-54 * (1 - 2.0**-52))])
    assert np.array_equal(S, one)
    assert err2 > 0 and err2 <= bound2
    assert 4 * err2 >= bound2 / 16  # the error is a sizeable fraction (~1/2) of the bound


# ============================================================== floatbounds: frobenius_upper
# squares rounded away in the float64 sum of squares: enough that the lost part (measured
# ~0.06 gamma_N s with OpenBLAS, i.e. ~120 u relative) dwarfs the few-ulp outward rounding of
# the Arb evaluation of the bound
DROPPED_SQUARES = 2000


def test_frobenius_upper_covers_squares_rounded_away() -> None:
    """Kills: the 1/(1 - gamma_N) factor of ``frobenius_upper`` removed or inverted. 1 plus
    2000 squares each just below 2^-53 (half an ulp of 1): BLAS drops many of them, so fl(s)
    is below the exact sum by far more than Arb's outward rounding (any summation order that
    adds a square to a partial sum >= 1 drops it)."""
    a = float(np.nextafter(math.sqrt(2.0**-53), 0))
    while Fraction(a) ** 2 >= Fraction(1, 2**53):
        a = float(np.nextafter(a, 0))
    x = np.array([1.0] + [a] * DROPPED_SQUARES)
    exact2 = _frob(x)
    # the adversary is real: fl(s) misses more than 16 u of the exact sum
    assert Fraction(float(np.dot(x, x))) < exact2 * (1 - 16 * U)
    up = _up(floatbounds.frobenius_upper(x))
    assert up * up >= exact2


# ============================================================== definiteness: Cholesky shift
def _documented_shift(diag: list[float]) -> Fraction:
    """c = 2 gamma_{d+4} / (1 - gamma_{d+4}) trace(H), exactly (the Cholesky test's shift)."""
    g = _gamma(len(diag) + 4)
    return 2 * g / (1 - g) * sum((Fraction(x) for x in diag), Fraction(0))


# relative distance of lambda_min from the shift: far above the shift's own 2^-40 margin and
# the 2^-52 rounding of lambda to float64, far below any change of the gamma constant
SHIFT_SIDE = Fraction(1, 2**30)


@pytest.mark.parametrize("d", [2, 5, 30])
def test_cholesky_decides_exactly_at_the_documented_shift(d: int) -> None:
    """Kills the known gap: the gamma constant of the Cholesky test shrunk (``n = d + 4`` made
    smaller, ``2**-53`` made ``2**-54``, gamma_n/(1 + gamma_n), the factor 2 of the shift
    dropped), and every inflation. H = diag(lam, 1, ..., 1) is positive definite for any
    lam > 0, and H - cI has the eigenvalue lam - c, so an exact Cholesky of the shifted matrix
    (a diagonal one is exact in float64) succeeds iff lam > c: the test proves H at
    lam = c (1 + 2^-30), not at lam = c (1 - 2^-30). A shrunk gamma shrinks c, and the test
    would then prove matrices whose smallest eigenvalue is below the documented shift, the
    region where a general matrix's rounding errors may hide a zero or negative eigenvalue."""
    g = _gamma(d + 4)
    K = 2 * g / (1 - g)
    for side, expected in ((1 + SHIFT_SIDE, True), (1 - SHIFT_SIDE, False)):
        lam = float(side * K * (d - 1) / (1 - side * K))  # lam = side * c(lam)
        diag = [lam] + [1.0] * (d - 1)
        ratio = Fraction(lam) / _documented_shift(diag)
        assert abs(ratio - side) < SHIFT_SIDE / 2**10
        got = definiteness.cholesky_proves_positive_definite(np.diag(diag))
        assert got is expected, (d, float(ratio - 1))


# ============================================================== definiteness: the eigh step
def test_eigh_step_proves_definiteness_above_the_exact_ldl_range() -> None:
    """Kills: the Gram-matrix bound of step 1 broken (lam_+ clipped at 1 instead of 0, the
    diagonal dropped, H + Q Lam Q^T, Q^T Q + I). d = 70 > EXACT_LDL_MAX_DIM: blocks
    [[a, a - e], [a - e, a]] have the exact eigenvalues 2a - e and e > 0; with e = 2^-45 below
    the Cholesky shift (~2^-40 here) only step 1 can prove H, else "semidefinite_at_roundoff"."""
    d, a, e = 70, 0.25, 2.0**-45
    H = np.zeros((d, d))
    for i in range(0, d, 2):
        H[i : i + 2, i : i + 2] = [[a, a - e], [a - e, a]]
    assert d > definiteness.EXACT_LDL_MAX_DIM
    assert not definiteness.cholesky_proves_positive_definite(H)
    assert definiteness.certified_definiteness(H, "H") == "positive_definite"


# Q = s I is not orthogonal: ||Q^T Q - I||_F = sqrt(2) (s^2 - 1) (d = 2), the slack that the
# (1 - orth) factor of step 1 must remove
NON_ORTHOGONAL = 1 + 2.0**-20


def test_untrusted_eigh_cannot_prove_a_singular_matrix() -> None:
    """Kills: the orthogonality correction of step 1 weakened (lam_0 (1 + orth),
    lam_0 / (1 - orth), lam_0 (2 - orth)). H = diag(0, 1) is singular; the supplied "eigh"
    (untrusted by contract) claims lam_0 = delta > 0 with Q = s I. Then Q Lam Q^T = s^2 Lam,
    ||H - Q Lam_+ Q^T||_F ~ s^2 delta, and the documented bound lam_0 (1 - orth) - that is
    negative: only a weakened orth factor (>= s^2) makes it positive and 'proves' H."""
    s = NON_ORTHOGONAL
    delta = 2.0**-10
    H = np.diag([0.0, 1.0])
    lam = np.array([delta, 1.0 / (s * s)])
    Q = np.eye(2) * s
    assert definiteness.certified_definiteness(H, "H", eigh=(lam, Q)) == "positive_semidefinite"
    with ctx.workprec(128):
        assert not definiteness._proven_positive_definite(arb_mat(H.tolist()), lam, Q)


# ============================================================== definiteness: exact LDL^T
def test_exact_ldl_pivots_on_the_largest_diagonal_entry() -> None:
    """Kills: the pivot chosen by index instead of by the largest diagonal entry. With the
    zero diagonal entry last, a last-index pivot meets the zero pivot first and calls the PSD
    matrix diag(1, 0) indefinite."""
    assert definiteness.exact_definiteness(np.diag([1.0, 0.0]), "H") == "positive_semidefinite"
    assert definiteness.exact_definiteness(np.diag([2.0, 1.0]), "H") == "positive_definite"


def test_exact_ldl_errors_name_the_argument_and_the_reason() -> None:
    """Kills: the error's argument name, value or reason dropped or altered."""
    neg = np.diag([1.0, -0.5])
    with pytest.raises(NotPositiveDefiniteError) as info:
        definiteness.exact_definiteness(neg, "Hess")
    assert info.value.argument == "Hess" and info.value.value is neg
    assert info.value.reason == "has a negative eigenvalue (exact LDL^T pivot -0.5)"
    zero_pivot = np.array([[0.0, 1.0], [1.0, 0.0]])
    with pytest.raises(NotPositiveDefiniteError) as info:
        definiteness.exact_definiteness(zero_pivot, "Hess")
    assert info.value.argument == "Hess" and info.value.value is zero_pivot
    assert info.value.reason == "is indefinite (exact LDL^T: zero pivot with nonzero off-diagonal)"


# ============================================================== eigen: CertifiedEig.solve
def test_solve_radius_is_tight_for_a_contracting_q() -> None:
    """Kills: the radius nu/(1 - nu) ||Q^T v|| of ``CertifiedEig.solve`` replaced by
    nu (1 - nu), nu/(1 + nu) or nu/(2 - nu). For Q = [s] with s < 1, nu = 1 - s^2 and the
    exact Q^{-1} v - Q^T v = (1 - s^2)/s v equals the documented radius: the exact value sits
    on the edge of the enclosure, and every smaller radius misses it."""
    s = 0.9375
    with ctx.workprec(eigen.MIN_EIG_PREC):
        cert = eigen._prove(arb_mat([[1.0]]), arb_mat([[s]]), [arb(1.0)], eigen.MIN_EIG_PREC)
        z = cert.solve(arb_mat([[1.0]]))
    assert _up(cert.nu) == 1 - Fraction(s) ** 2
    enc = Enclosure.from_arb(z[0, 0], eigen.MIN_EIG_PREC)
    exact = 1 / Fraction(s)
    assert enc.contains(exact)
    # the exact value is the upper endpoint, up to the outward rounding of Arb's radius
    assert enc.upper - exact < Fraction(1, 2**20)


# ============================================================== eigen: spectral_constants
@pytest.fixture
def degrade(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Install a ``_DEGRADE`` function (see :data:`verify.certified.eigen._DEGRADE`)."""

    def install(f: Any) -> None:
        monkeypatch.setattr(eigen, "_DEGRADE", f)

    yield install


def _rotated(theta_tan: Fraction) -> Any:
    """Rotate the eigenvector columns of the two extreme eigenvalues (columns 0, 1 of a sorted
    2 x 2 decomposition) by the angle with tangent ``theta_tan`` (exact data; not unit columns,
    but Q^T Q = (1 + t^2) I exactly, so the proof sees a scaled rotation)."""

    def f(Q: Any, mu: list[Any], prec: int) -> tuple[Any, list[Any]]:
        t = arb(theta_tan.numerator) / theta_tan.denominator
        Q2 = arb_mat(Q.tolist())
        for r in range(Q.nrows()):
            Q2[r, 0] = (Q[r, 0] - t * Q[r, 1]).mid()
            Q2[r, 1] = (t * Q[r, 0] + Q[r, 1]).mid()
        return Q2, mu

    return f


def _contains(enc: Enclosure, x2: Fraction) -> bool:
    """Whether ``enc`` contains the nonnegative number sqrt(x2) (compared by squares)."""
    lo = max(enc.lower, Fraction(0))
    return lo * lo <= x2 <= enc.upper * enc.upper


def test_spectral_constants_of_a_diagonal_matrix_with_rotated_eigenvectors(degrade: Any) -> None:
    """H = diag(1, 1.5), w0 = (0, 1): L = 1.5, alpha = 1, c_1 = |<w0, e_2>| = 1,
    c_d = |<w0, e_1>| = 0. The decomposition's eigenvectors are rotated by t = 2^-10 (so
    |<w0, q>| is off by ~t from the exact c): the Davis--Kahan radius 2 ||r|| / gap ||w0|| must
    cover it. Kills: the sin-theta term dropped or shrunk (gap = mu + neighbour, rn * gap,
    d > 2 for the d > 1 test), and the Bauer--Fike radius of L and alpha dropped."""
    t = Fraction(1, 2**10)
    degrade(_rotated(t))
    q = Quadratic(np.diag([1.0, 1.5]), np.array([0.0, 1.0]))
    enc = q.spectral_enclosures()
    assert enc["L"].contains(Fraction(3, 2)) and enc["alpha"].contains(1)
    assert _contains(enc["c_1"], Fraction(1)) and _contains(enc["c_d"], Fraction(0))
    assert _contains(enc["c_min"], Fraction(0))
    # the exact c_d = 0 is ~t away from the midpoint |<w0, q>| / ||q||: the radius is needed
    assert enc["c_d"].mid > t / 2


def test_spectral_constants_with_scaled_eigenvectors(degrade: Any) -> None:
    """Columns of Q scaled by s = 1 + 2^-8 (exactly: Q is still exactly an eigenvector
    matrix): the projections must be divided by ||q|| = s. Kills: proj * ||q|| instead of
    proj / ||q|| (off by 2^-7 relative while the radius is ~2^-140)."""

    def scaled(Q: Any, mu: list[Any], prec: int) -> tuple[Any, list[Any]]:
        return (Q * (1 + arb(2) ** -8)).mid(), mu

    degrade(scaled)
    w0 = np.array([0.75, 0.5])
    q = Quadratic(np.array([[1.0, 0.25], [0.25, 1.0]]), w0)
    enc = q.spectral_enclosures()
    # eigenvectors (1, -1)/sqrt 2 (alpha = 0.75) and (1, 1)/sqrt 2 (L = 1.25)
    assert enc["L"].contains(Fraction(5, 4)) and enc["alpha"].contains(Fraction(3, 4))
    c1_2 = Fraction(0.75 + 0.5) ** 2 / 2
    cd_2 = Fraction(0.75 - 0.5) ** 2 / 2
    assert _contains(enc["c_1"], c1_2) and _contains(enc["c_d"], cd_2)
    assert _contains(enc["c_min"], min(c1_2, cd_2))
    assert enc["c_1"].rel_radius() < 2.0**-100


def test_spectral_constants_with_shifted_eigenvalues(degrade: Any) -> None:
    """Eigenvalues moved by 2^-20 (exact data): the exact L and alpha lie ~2^-20 from the
    midpoints, inside the Bauer--Fike radius kappa eps. Kills: that radius dropped (zero
    radius, or the midpoint moved by it instead)."""

    def shifted(Q: Any, mu: list[Any], prec: int) -> tuple[Any, list[Any]]:
        return Q, [(m + arb(2) ** -20).mid() for m in mu]

    degrade(shifted)
    q = Quadratic(np.diag([1.0, 1.5, 3.0]), np.array([1.0, 0.5, 0.25]))
    enc = q.spectral_enclosures()
    assert enc["L"].contains(3) and enc["alpha"].contains(1)
    # tight: the radius is ||H Q - Q diag(mu)||_F ~ sqrt(3) 2^-20 (all three mu moved)
    assert enc["L"].rad < 2 * Fraction(1, 2**20)
    assert _contains(enc["c_1"], Fraction(1, 16)) and _contains(enc["c_d"], Fraction(1))


def test_spectral_constants_of_one_by_one_and_gap_neighbours() -> None:
    """d = 1: c_1 = c_d = |w0| exactly (no sin-theta term: the eigenvector is unique).
    d = 3: the gap of each extreme eigenvalue is to its neighbour (not to the other extreme):
    a double L leaves no c_1, a double alpha next to a simple L leaves c_1 but no c_d."""
    one = Quadratic(np.array([[2.0]]), np.array([-0.75])).spectral_enclosures()
    assert one["c_1"].is_exact and one["c_1"].contains(Fraction(3, 4))
    assert one["c_min"].contains(Fraction(3, 4)) and one["L"].contains(2)
    three = Quadratic(np.diag([1.0, 2.0, 2.0]), np.array([0.5, 0.25, 1.0]))
    enc = three.spectral_enclosures()
    assert "c_1" not in enc and "c_min" not in enc  # L = 2 is double
    three = Quadratic(np.diag([1.0, 1.0, 2.0]), np.array([0.5, 0.25, 1.0]))
    enc = three.spectral_enclosures()
    assert "c_1" in enc and "c_d" not in enc  # alpha = 1 is double; L simple
    assert _contains(enc["c_1"], Fraction(1))


def test_spectral_enclosures_refine_at_a_higher_precision() -> None:
    """Each enclosure's ``refine`` recomputes the same constant at max(p, 2 prec) bits (what
    ``Enclosure.to_float`` calls near a rounding boundary). Kills: a refine callback dropped,
    reading another constant, or at another precision."""
    q = Quadratic(np.array([[1.0, 0.25], [0.25, 1.0]]), np.array([0.75, 0.5]))
    enc = q.spectral_enclosures()
    exact2 = {
        "L": Fraction(25, 16),
        "alpha": Fraction(9, 16),
        "c_1": Fraction(1.25) ** 2 / 2,
        "c_d": Fraction(0.25) ** 2 / 2,
        "c_min": Fraction(0.25) ** 2 / 2,
    }
    for key, x2 in exact2.items():
        e = enc[key]
        assert e.refine is not None
        for p, expected in ((100, 2 * e.prec_bits), (4 * e.prec_bits, 4 * e.prec_bits)):
            r = e.refine(p)
            assert r.prec_bits == expected, key
            assert _contains(r, x2), key
    # the refined constants differ: none is another's callback
    ups = {}
    for key in exact2:
        refine = enc[key].refine
        assert refine is not None
        ups[key] = refine(400).mid
    assert len({ups["L"], ups["alpha"], ups["c_1"], ups["c_d"]}) == 4


# ============================================================== eigen: the proof's constants
# Q = diag(s, 1) with s < 1: nu = ||Q^T Q - I||_F = 1 - s^2 exactly, ||Q^{-1}||_2 = 1/s =
# 1/sqrt(1 - nu) (the documented bound is attained) and kappa(Q) = 1/s
CONTRACT = Fraction(15, 16)


def _diag_cert(engine: str, mu_shift: Fraction) -> tuple[eigen.CertifiedEig, Fraction]:
    """A decomposition of H = diag(1, 2) with Q = diag(s, 1) and mu = (1 + shift, 2), proven by
    ``_prove`` (Arb engine) or ``_from_bounds`` (float64 engine, exact resid and nu supplied).
    Returns it and the exact ||H - Q diag(mu) Q^{-1}||_2 = shift."""
    s = float(CONTRACT)
    prec = eigen.MIN_EIG_PREC
    with ctx.workprec(prec):
        Q = arb_mat([[s, 0.0], [0.0, 1.0]])
        mu = [arb(float(1 + mu_shift)), arb(2.0)]
        if engine == "arb":
            cert = eigen._prove(arb_mat([[1.0, 0.0], [0.0, 2.0]]), Q, mu, prec)
        else:
            nu = arb(float(1 - CONTRACT**2))
            resid = arb(float(CONTRACT * mu_shift))  # ||H Q - Q diag(mu)||_F, exact
            cert = eigen._from_bounds(Q, mu, nu, resid, prec)
    return cert, mu_shift


@pytest.mark.parametrize("engine", ["arb", "fast"])
def test_proof_constants_bound_the_exact_norms(engine: str) -> None:
    """nu, ||Q^{-1}|| <= qinv_norm, kappa(Q) <= kappa and ||H - H~||_2 <= eps, against their
    exact values (attained by the documented bounds here, so any smaller bound fails). Kills:
    1/sqrt(1 - nu) replaced by sqrt(1 - nu), 1/sqrt(1 + nu), 1/sqrt(2 - nu); eps = resid /
    qinv; kappa = sqrt(1 + nu) / qinv or sqrt(1 - nu) qinv; the fields left unset."""
    cert, shift = _diag_cert(engine, Fraction(1, 2**20))
    s = CONTRACT
    assert _up(cert.nu) == 1 - s**2
    assert _up(cert.qinv_norm) >= 1 / s
    assert _up(cert.kappa) >= 1 / s
    assert _up(cert.eps) >= shift
    assert _up(cert.eps) <= shift * (1 + Fraction(1, 2**40))  # attained: resid / s * s
    assert cert.prec == eigen.MIN_EIG_PREC
    assert cert.order == [0, 1]


def test_order_sorts_the_eigenvalues_whatever_the_column_order() -> None:
    """Kills: ``order`` not sorting by mu (both proofs)."""
    prec = eigen.MIN_EIG_PREC
    with ctx.workprec(prec):
        Q = arb_mat([[1.0, 0.0], [0.0, 1.0]])
        mu = [arb(2.0), arb(1.0)]
        a = eigen._prove(arb_mat([[2.0, 0.0], [0.0, 1.0]]), Q, mu, prec)
        b = eigen._from_bounds(Q, mu, arb(0), arb(0), prec)
    assert a.order == [1, 0] and b.order == [1, 0]


def test_accurate_bits_of_the_float64_engine() -> None:
    """``bits`` = floor(-log2(eps / max|mu|)) - 4 when both are positive, else 0. Kills: each
    constant of that formula, its guards, and max|mu| taken by value instead of magnitude."""
    prec = eigen.MIN_EIG_PREC
    I2 = arb_mat([[1.0, 0.0], [0.0, 1.0]])
    with ctx.workprec(prec):
        # eps / max|mu| = 2^-100 / 3: -log2 = 101.58..., so bits = 101 - 4
        c = eigen._from_bounds(I2, [arb(1.0), arb(-3.0)], arb(0), arb(2.0**-100), prec)
        assert c.bits == 97
        # max|mu| = 0.5 < 1: eps / 0.5 = 2^-99 / 1.5, -log2 = 99.58...
        c = eigen._from_bounds(I2, [arb(0.25), arb(-0.5)], arb(0), arb(2.0**-100), prec)
        assert c.bits == 95
        # eps above 16 max|mu|: no accurate bits
        assert eigen._from_bounds(I2, [arb(1.0), arb(1.0)], arb(0), arb(64.0), prec).bits == 0
        # eps = 0 or max|mu| = 0: not recorded
        assert eigen._from_bounds(I2, [arb(1.0), arb(1.0)], arb(0), arb(0), prec).bits == 0
        assert eigen._from_bounds(I2, [arb(0.0), arb(0.0)], arb(0), arb(1.0), prec).bits == 0


def test_not_orthogonal_enough_is_refused() -> None:
    """nu >= 1/2 raises NotCertifiedError naming nu, at the working precision, with an
    infinite achieved radius (both proofs); nu just below 1/2 is accepted."""
    prec = eigen.MIN_EIG_PREC
    with ctx.workprec(prec):
        for nu in (0.5, 0.75, 1.5):
            with pytest.raises(NotCertifiedError) as info:
                eigen._from_bounds(arb_mat([[1.0]]), [arb(1.0)], arb(nu), arb(0), prec)
            assert str(info.value).startswith("refined eigenvectors not orthogonal enough (nu=")
            assert info.value.prec_bits == prec and info.value.achieved_rel == math.inf
        ok = eigen._from_bounds(arb_mat([[1.0]]), [arb(1.0)], arb(0.5 - 2.0**-30), arb(0), prec)
        assert _up(ok.nu) < Fraction(1, 2)
        # Q = [1.25]: nu = 0.5625
        with pytest.raises(NotCertifiedError) as info:
            eigen._prove(arb_mat([[1.0]]), arb_mat([[1.25]]), [arb(1.0)], prec)
        assert str(info.value).startswith("refined eigenvectors not orthogonal enough (nu=")
        assert info.value.prec_bits == prec and info.value.achieved_rel == math.inf


# ============================================================== eigen: the Arb engine's refinement
# The Arb engine refines to about the working precision (measured: eps ~ 2^-(prec - 3) max|h_ij|
# for random d = 5 and for a cluster of three eigenvalues 2^-60 apart, at 156, 300 and 700
# bits); 12 bits of slack, while a refinement schedule that stops early or converges only
# linearly loses 50 bits or more.
REFINE_SLACK_BITS = 12


def _eps_bits(cert: eigen.CertifiedEig, H: np.ndarray) -> float:
    with ctx.workprec(cert.prec):
        return float((cert.eps / float(np.abs(H).max())).log()) / math.log(2)


def _cluster_matrix() -> np.ndarray:
    """Three eigenvalues within ~2^-59 of 1 whose eigenvectors are set by off-diagonal
    entries far below float64 roundoff: only the cluster rotation resolves them."""
    H = np.diag([1.0, 1.0, 1.0, 2.0])
    for (i, j), c in {(0, 1): 3.0, (0, 2): -1.0, (1, 2): 2.0}.items():
        H[i, j] = H[j, i] = c * 2.0**-60
    return H


@pytest.mark.parametrize("kind", ["random", "cluster"])
def test_arb_engine_refines_to_the_working_precision(kind: str) -> None:
    """From float64 eigenvectors at 156 and 300 bits, and from the 156-bit decomposition to
    700 bits (``start`` must then not be called). Kills: the refinement schedule (float64 vs
    exact updates, the bits gained per step, the stopping rule) and the cluster handling
    broken so that the proven eps stays far above 2^-prec."""
    H = Quadratic.random(5, seed=1).H if kind == "random" else _cluster_matrix()
    q = Quadratic(H, np.ones(H.shape[0]))

    def start() -> np.ndarray:
        return np.linalg.eigh(H)[1]

    decs: dict[int, eigen.CertifiedEig] = {}
    for prec in (156, 300):
        cert = eigen.arb_certified_eig(q.hessian_arb, prec, start=start, decompositions={})
        assert cert.prec == prec
        assert _eps_bits(cert, H) <= REFINE_SLACK_BITS - prec, (kind, prec)
        decs[prec] = cert

    def no_start() -> np.ndarray:
        raise AssertionError("start() called although a lower decomposition exists")

    high = eigen.arb_certified_eig(q.hessian_arb, 700, start=no_start, decompositions=decs)
    assert _eps_bits(high, H) <= REFINE_SLACK_BITS - 700


def test_degrade_hook_sees_the_working_precision(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fault-injection hook is called with the decomposition's precision by both engines,
    and the float64 engine's result records that precision."""
    seen: list[int] = []

    def record(Q: Any, mu: list[Any], prec: int) -> tuple[Any, list[Any]]:
        seen.append(prec)
        return Q, mu

    monkeypatch.setattr(eigen, "_DEGRADE", record)
    monkeypatch.setattr(eigen, "FAST_EIG_MIN_DIM", 0)
    fast = Quadratic(np.diag([1.0, 2.0, 3.0]), np.ones(3)).certified_eig(eigen.MIN_EIG_PREC)
    assert fast.bits > 0 and fast.prec == eigen.MIN_EIG_PREC  # the float64 engine served it
    q = Quadratic(np.diag([1.0, 2.0]), np.ones(2))
    eigen.arb_certified_eig(q.hessian_arb, 300, start=lambda: np.eye(2), decompositions={})
    assert seen == [eigen.MIN_EIG_PREC, 300]


# ============================================================== fasteig: the proven residuals
def _spread_symmetric(seed: int, d: int = 6) -> np.ndarray:
    """A = D S D with S symmetric Gaussian and D = 2^k, k spread over 130 binades: row and
    column exponents differ widely, so a slice aligned to the wrong exponent is inexact."""
    rng = np.random.default_rng(seed)
    D = np.ldexp(1.0, rng.permutation(np.array([0, -100, -40, 30, -70, 10]))[:d])
    S = rng.standard_normal((d, d))
    return np.asarray(D[:, None] * (S + S.T) * D[None, :])


def _exact_residuals(
    A: np.ndarray, Qh: np.ndarray, Ql: np.ndarray, mh: np.ndarray, ml: np.ndarray
) -> tuple[list[list[Fraction]], list[list[Fraction]]]:
    """G = A Q - Q diag(mu) and N = Q^T Q - I for Q = Qh + Ql, mu = mh + ml, exactly."""
    d = A.shape[0]
    Af = [[Fraction(float(x)) for x in row] for row in A]
    Q = [
        [Fraction(float(Qh[i, j])) + Fraction(float(Ql[i, j])) for j in range(d)] for i in range(d)
    ]
    mu = [Fraction(float(a)) + Fraction(float(b)) for a, b in zip(mh, ml, strict=True)]
    G = [
        [
            sum((Af[i][k] * Q[k][j] for k in range(d)), Fraction(0)) - Q[i][j] * mu[j]
            for j in range(d)
        ]
        for i in range(d)
    ]
    N = [
        [sum((Q[k][i] * Q[k][j] for k in range(d)), Fraction(0)) - (i == j) for j in range(d)]
        for i in range(d)
    ]
    return G, N


def _miss2(exact: list[list[Fraction]], approx: np.ndarray) -> Fraction:
    return sum(
        (
            (x - Fraction(float(approx[i, j]))) ** 2
            for i, row in enumerate(exact)
            for j, x in enumerate(row)
        ),
        Fraction(0),
    )


# Crafted exact data (not a refined decomposition): Ql ~ 2^-30 |Qh| and ml ~ 2^-10 |mh|, so the
# cross terms Qh ml, Ql mh and their TwoProduct errors are large and the proven bounds are met
# with little slack (measured: the float64 G misses the exact one by ~0.75 of bG)
CRAFTED_LOW = (2.0**-30, 2.0**-10)


@pytest.mark.parametrize("seed", [0, 1])
def test_residual_bounds_hold_on_spread_and_crafted_data(seed: int) -> None:
    """||G - G~||_F <= bG and ||N - N~||_F <= bN (exact rational G, N) for the float64 engine's
    refined output and for crafted double-double data, on a matrix whose row exponents span
    130 binades. Kills: slices aligned on the wrong axis, a sign flipped in the cascade of
    G's terms, the tail or cross-term bounds subtracted or dropped, the low part of Q ignored
    when choosing the exponents, and the exponent range guard's axis."""
    A = _spread_symmetric(seed)
    lam, X = np.linalg.eigh(A)
    res = fasteig.fast_refine(A, X, lam)
    assert res is not None
    rng = np.random.default_rng(seed + 10)
    Ql = fasteig._round_low(X, X * rng.standard_normal(X.shape) * CRAFTED_LOW[0])
    ml = lam * rng.standard_normal(lam.shape) * CRAFTED_LOW[1]
    # the same data with eigenvector columns scaled by 2^k, k spread over 100 binades: the
    # column exponents of Q then differ, so a slice or low-part grid on the wrong axis shows
    D = np.ldexp(1.0, np.array([0, -40, 30, -20, 10, -60]))
    XD = X * D[None, :]
    data = [
        (res.Qh, res.Ql, res.mh, res.ml),
        (X, Ql, lam, ml),
        (XD, fasteig._round_low(XD, Ql * D[None, :]), lam, ml),
    ]
    sliced = fasteig._row_slices(A)
    assert sliced is not None
    for Qh, Ql_, mh, ml in data:
        out = fasteig.residual_bounds(sliced, Qh, Ql_, mh, ml)
        assert out is not None
        G, bG, N, bN = out
        Gx, Nx = _exact_residuals(A, Qh, Ql_, mh, ml)
        assert _miss2(Gx, G) <= _up(bG) ** 2
        assert _miss2(Nx, N) <= _up(bN) ** 2
        proven = fasteig.prove(A, Qh, Ql_, mh, ml)
        assert proven is not None
        assert _frob_list(Gx) <= _up(proven.resid) ** 2 and _frob_list(Nx) <= _up(proven.nu) ** 2


def _frob_list(M: list[list[Fraction]]) -> Fraction:
    return sum((x * x for row in M for x in row), Fraction(0))


def test_exponent_range_guard() -> None:
    """Entries up to just below 2^400 (frexp exponent 400) are served; one row or one
    eigenvector column beyond 2^+-400 is refused (None), not silently computed with inexact
    slices. Dense matrices, so that every row and column is nonzero. Kills: the guard's
    comparison made strict, and the nonzero-row / nonzero-column masks inverted or dropped."""
    d = 3
    dense = np.array([[3.0, 1.0, 0.5], [1.0, 2.0, 0.25], [0.5, 0.25, 1.0]])
    edge = dense.copy()
    edge[0, 0] = 1.5 * 2.0**399  # frexp exponent exactly 400
    lam, X = np.linalg.eigh(edge)
    assert fasteig.fast_refine(edge, X, lam) is not None
    big = dense.copy()
    big[0, 0] = 2.0**450
    lam, X = np.linalg.eigh(big)
    assert fasteig.fast_refine(big, X, lam) is None
    assert fasteig.prove(big, X, np.zeros((d, d)), lam, np.zeros(d)) is None
    sliced = fasteig._row_slices(dense)
    assert sliced is not None
    lam, X = np.linalg.eigh(dense)
    Q = X.copy()
    Q[:, 1] *= 2.0**-450
    assert fasteig.residual_bounds(sliced, Q, np.zeros((d, d)), lam, np.zeros(d)) is None
    # a column that is zero in Qh and nonzero (out of range) only in Ql
    Qh, Ql = X.copy(), np.zeros((d, d))
    Qh[:, 1] = 0.0
    Ql[:, 1] = X[:, 1] * 2.0**-450
    assert fasteig.residual_bounds(sliced, Qh, Ql, lam, np.zeros(d)) is None


def test_cross_term_rounding_is_bounded() -> None:
    """Kills: the u ||Ql|| max|ml| bound of the one rounded cross product Ql ml dropped. Exact
    eigendata of A = diag(a) with Q = I + diag(ql) and a = mh + ml: the exact G = A Q -
    Q diag(mu) is 0, and the float64 G~ is exactly minus the rounding error of Ql ml (ql and ml
    chosen so that every such product needs 54 bits), which only that term covers."""
    d = 3
    ml = np.array([3.0, 5.0, 7.0]) * 2.0**-30
    mh = np.array([1.0, 2.0, 4.0])
    A = np.diag(mh + ml)
    assert np.array_equal(np.diag(A) - mh, ml)  # a = mh + ml exactly
    Qh = np.eye(d)
    Ql = np.eye(d) * (2.0**-60 * (1 + 2.0**-52))
    sliced = fasteig._row_slices(A)
    assert sliced is not None
    out = fasteig.residual_bounds(sliced, Qh, Ql, mh, ml)
    assert out is not None
    G, bG, _, _ = out
    assert G.any()  # the adversary is real: Ql ml was rounded
    Gx, _ = _exact_residuals(A, Qh, Ql, mh, ml)
    assert _frob_list(Gx) == 0
    assert _miss2(Gx, G) <= _up(bG) ** 2


# ============================================================== floatbounds: the primitives
def test_gamma_is_an_upper_bound_of_the_exact_value_and_refuses_m_u_half() -> None:
    """gamma(m) >= m u / (1 - m u) exactly (and within Arb's 53-bit rounding of it); m u >=
    1/2 raises. Kills: u halved, gamma as m u (1 - m u) or m u / (1 + m u) or / (2 - m u), the
    domain check moved, its message dropped."""
    for m in (1, 7, 1000, 2**40):
        g = _up(floatbounds.gamma(m))
        assert _gamma(m) <= g <= _gamma(m) * (1 + Fraction(1, 2**50)), m
    assert _up(floatbounds.gamma(2**52 - 1)) >= _gamma(2**52 - 1)  # m u just below 1/2
    for m in (2**52, 2**53, 2**54):
        with pytest.raises(ValueError, match=f"gamma_{m} undefined in double precision"):
            floatbounds.gamma(m)


def test_frobenius_upper_edge_cases() -> None:
    """Empty and zero matrices have norm exactly 0; a matrix whose largest entry is 1 is not
    mistaken for zero; non-finite entries raise. Kills: those early returns altered."""
    assert _up(floatbounds.frobenius_upper(np.zeros((0, 3)))) == 0
    assert _up(floatbounds.frobenius_upper(np.zeros((2, 2)))) == 0
    one = np.array([[1.0, 0.5]])
    assert _up(floatbounds.frobenius_upper(one)) ** 2 >= Fraction(5, 4)
    assert _up(floatbounds.frobenius_upper(np.array([3.0]))) ** 2 >= 9
    with pytest.raises(ValueError, match=r"^frobenius_upper of a non-finite matrix$"):
        floatbounds.frobenius_upper(np.array([1.0, np.inf]))


def test_slice_bits_is_the_largest_exact_width() -> None:
    """slice_bits(n, levels) is the largest beta with levels n 2^(2 beta) <= 2^52 (Ozaki's
    condition with one bit of headroom). Kills: the width or the rounding of log2 changed."""
    for levels in (2, 4):
        for n in [*range(1, 70), 127, 128, 129, 1000, 4096, 10**5]:
            beta = floatbounds.slice_bits(n, levels)
            assert levels * n * 4**beta <= 2**52, (n, levels)
            assert levels * n * 4 ** (beta + 1) > 2**52, (n, levels)


def test_exponents_are_the_smallest_strict_power_of_two() -> None:
    """e with max|hi| + max|lo| < 2^e per row (axis=1) or column (axis=0), and 2^(e-1) <= that
    sum (the smallest such e; exact powers of two need the next exponent). Kills: lo
    subtracted or its maximum taken over the whole matrix, the safety factor inverted or
    enlarged."""
    hi = np.array([[0.75, 0.25], [0.25, -0.125], [3.0, 0.0]])
    lo = np.array([[0.25, 0.0], [2.0**-60, 0.0], [-0.5, 0.0]])
    for axis in (0, 1):
        e = floatbounds.exponents(hi, lo, axis)
        mh = np.max(np.abs(hi), axis=axis)
        ml = np.max(np.abs(lo), axis=axis)
        for k in range(e.size):
            s = Fraction(float(mh[k])) + Fraction(float(ml[k]))
            assert s < Fraction(2) ** int(e[k]), (axis, k)
            assert Fraction(2) ** (int(e[k]) - 1) <= s, (axis, k)
    assert floatbounds.exponents(hi, None, 1).tolist() == [0, -1, 2]


def test_split_slices_have_the_documented_grid_and_bounds() -> None:
    """``levels`` slices; S_i an integer multiple of 2^(e - beta i) with |S_i| <=
    2^(e - beta (i - 1)); hi + lo = S_1 + ... + S_j + rems[j] exactly. Kills: an extra or a
    missing level, the grid of a slice doubled."""
    rng = np.random.default_rng(3)
    hi = rng.standard_normal((4, 5)) * np.ldexp(1.0, rng.integers(-30, 1, size=(4, 5)))
    lo = hi * rng.standard_normal((4, 5)) * 2.0**-60
    beta = floatbounds.slice_bits(5)
    for axis in (0, 1):
        e = floatbounds.exponents(hi, lo, axis)
        slices, rems = floatbounds.split(hi, lo, e, beta, axis=axis)
        assert len(slices) == floatbounds.LEVELS and len(rems) == floatbounds.LEVELS + 1
        total = np.vectorize(Fraction)(hi.astype(object)) + np.vectorize(Fraction)(
            lo.astype(object)
        )
        acc = np.zeros(hi.shape, dtype=object)
        for i, S in enumerate(slices, start=1):
            for idx in np.ndindex(S.shape):
                k = idx[0] if axis == 1 else idx[1]
                q = Fraction(float(S[idx])) * Fraction(2) ** (beta * i - int(e[k]))
                assert q.denominator == 1, (axis, i, idx)
                assert abs(Fraction(float(S[idx]))) <= Fraction(2) ** (int(e[k]) - beta * (i - 1))
            acc = acc + np.vectorize(Fraction)(S.astype(object))
            rh, rl = rems[i]
            rest = np.vectorize(Fraction)(rh.astype(object))
            if rl is not None:
                rest = rest + np.vectorize(Fraction)(rl.astype(object))
            assert (acc + rest == total).all(), (axis, i)


# ============================================================== definiteness: the Cholesky guards
def test_cholesky_guards() -> None:
    """Refuses (False) an empty matrix, a non-finite one, a zero or negative diagonal entry,
    and entries outside 2^+-500 (the edges 2^+-500 themselves are inside). Kills: each guard
    inverted, widened or narrowed."""
    assert not definiteness.cholesky_proves_positive_definite(np.zeros((0, 0)))
    assert not definiteness.cholesky_proves_positive_definite(
        np.array([[1.0, np.nan], [np.nan, 1.0]])
    )
    assert not definiteness.cholesky_proves_positive_definite(np.array([[np.inf]]))
    assert not definiteness.cholesky_proves_positive_definite(np.diag([1.0, 0.0]))
    assert not definiteness.cholesky_proves_positive_definite(np.diag([1.0, -1.0]))
    assert definiteness.cholesky_proves_positive_definite(np.diag([2.0**500, 2.0**499]))
    assert definiteness.cholesky_proves_positive_definite(np.diag([2.0**-499, 2.0**-500]))
    assert not definiteness.cholesky_proves_positive_definite(np.diag([2.0**501, 2.0**500]))
    assert not definiteness.cholesky_proves_positive_definite(np.diag([2.0**-500, 2.0**-501]))
    # off-diagonal entries count too; an exact 1 is an ordinary entry
    H = np.array([[1.0, 2.0**-501], [2.0**-501, 1.0]])
    assert not definiteness.cholesky_proves_positive_definite(H)
    assert definiteness.cholesky_proves_positive_definite(np.array([[2.0, 1.0], [1.0, 2.0]]))
    # Cholesky failing (indefinite) is False, not an error
    assert not definiteness.cholesky_proves_positive_definite(np.array([[1.0, 2.0], [2.0, 1.0]]))


def test_rayleigh_witness_and_large_undecided_matrices() -> None:
    """An indefinite matrix is refused with the certified Rayleigh quotient of the first
    eigenvector; above EXACT_LDL_MAX_DIM an undecided (singular) matrix is
    "semidefinite_at_roundoff" and at that dimension the exact LDL^T decides. Kills: the
    witness taken from another eigenvector, the error's fields, the dimension cut-off, the
    returned label."""
    H = np.diag([-1.0, 2.0])
    with pytest.raises(NotPositiveDefiniteError) as info:
        definiteness.certified_definiteness(H, "Hess")
    assert info.value.argument == "Hess" and info.value.value is H
    assert info.value.reason.startswith("has a negative eigenvalue (certified Rayleigh quotient -1")
    d = definiteness.EXACT_LDL_MAX_DIM
    for n, expected in ((d, "positive_semidefinite"), (d + 1, "semidefinite_at_roundoff")):
        S = np.zeros((n, n))
        S[: n - 1, : n - 1] = np.eye(n - 1)  # singular PSD: no step before LDL^T decides
        assert definiteness.certified_definiteness(S, "S") == expected, n


def test_small_leftovers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The float64 engine's decomposition is stored and served again; non-finite eigh output
    is refused; the Arb proof accepts nu in [1/3, 1/2). Kills: None stored, a finiteness
    check weakened to ``or``, the orthogonality threshold lowered."""
    monkeypatch.setattr(eigen, "FAST_EIG_MIN_DIM", 0)
    q = Quadratic(np.diag([1.0, 2.0, 3.0]), np.ones(3))
    first = q.certified_eig(eigen.MIN_EIG_PREC)
    assert first.bits > 0 and q.certified_eig(eigen.MIN_EIG_PREC) is first
    A = np.diag([1.0, 2.0])
    for X, lam in ((np.eye(2), np.array([1.0, np.nan])), (np.full((2, 2), np.nan), np.ones(2))):
        assert fasteig.fast_refine(A, X, lam) is None
    with ctx.workprec(eigen.MIN_EIG_PREC):
        # Q = [0.8]: nu = 1 - 0.64 = 0.36, in [1/3, 1/2)
        cert = eigen._prove(arb_mat([[1.0]]), arb_mat([[0.8]]), [arb(1.0)], eigen.MIN_EIG_PREC)
    assert Fraction(1, 3) < _up(cert.nu) < Fraction(1, 2)


# ============================================================== floatbounds: the tail bound
def _nrm(M: np.ndarray | None) -> Fraction:
    return Fraction(0) if M is None else _up(floatbounds.frobenius_upper(M))


@pytest.mark.parametrize("gram", [False, True])
def test_tail_bound_counts_every_tail_product(gram: bool) -> None:
    """The tail bound is at least the sum over the tail's GEMMs of gamma_m
    ||A_part||_F ||B_part||_F for each (twice for a Gram pair standing for P and P^T), plus the
    products involving the unmultiplied low parts of the remainders. The pairs are the ones
    the docstring of ``sliced_product`` lists (A_i with B's remainder after L + 1 - i levels,
    and A's last remainder with B; for a Gram product the remainder from ``half`` on with
    itself, and B_i^T, i < half, with the remainder from max(L + 1 - i, half - 1) on).
    Kills: a pair dropped or counted once instead of twice, the norm or low-part sums
    overwritten or subtracted, a low part ignored, gamma's m shrunk."""
    rng = np.random.default_rng(7)
    d = 6
    Bh = rng.standard_normal((d, d)) * np.ldexp(1.0, rng.integers(-20, 1, size=(d, d)))
    Bl = Bh * rng.standard_normal((d, d)) * 2.0**-60
    beta = floatbounds.slice_bits(d)
    L = floatbounds.LEVELS
    Bs, Br = floatbounds.split(Bh, Bl, floatbounds.exponents(Bh, Bl, 0), beta, axis=0)
    Parts = list[
        tuple[tuple[np.ndarray, np.ndarray | None], tuple[np.ndarray, np.ndarray | None], int]
    ]
    if gram:
        As = [S.T for S in Bs]
        Ar = [(h.T, None if lo is None else lo.T) for h, lo in Br]
        half = (L + 3) // 2
        rh, rl = Br[half - 1]
        pairs: Parts = [((rh.T, None if rl is None else rl.T), Br[half - 1], 1)]
        pairs += [((As[i - 1], None), Br[max(L + 1 - i, half - 1)], 2) for i in range(1, half)]
    else:
        A = rng.standard_normal((d, d)) * np.ldexp(1.0, rng.integers(-20, 1, size=(d, d)))
        As, Ar = floatbounds.split(A, None, floatbounds.exponents(A, None, 1), beta, axis=1)
        pairs = [((As[i - 1], None), Br[L + 1 - i], 1) for i in range(1, L + 1)]
        pairs.append((Ar[L], Br[0], 1))
    P = floatbounds.sliced_product(As, Ar, Bs, Br, gram=gram)
    # gamma_m with m = n + 2 (number of tail GEMMs) + 1: n roundings in each inner product, one
    # per accumulation of a tail GEMM and of its transpose, one spare (the implementation's
    # count; the docstring's n + LEVELS + 1 is smaller, so this is the stricter check)
    g = _gamma(d + 2 * len(pairs) + 1)
    need = Fraction(0)
    for (ah, al), (bh, bl), k in pairs:
        need += k * (g * _nrm(ah) * _nrm(bh) + _nrm(ah) * _nrm(bl) + _nrm(al) * _nrm(bh))
        need += k * _nrm(al) * _nrm(bl)
    assert need > 0
    assert _up(P.tail_bound) >= need


def test_round_low_grid() -> None:
    """``_round_low`` rounds Ql to the nearest multiple of 2^(e_col - 120), e_col the column
    exponent of Qh + Ql. Kills: the grid per row, or shifted by one or by 2 e."""
    rng = np.random.default_rng(4)
    D = np.ldexp(1.0, np.array([0, -40, 30, -20]))
    Qh = rng.standard_normal((4, 4)) * D[None, :] * np.ldexp(1.0, np.array([0, 9, -7, 3]))[:, None]
    Ql = Qh * rng.standard_normal((4, 4)) * 2.0**-60
    R = fasteig._round_low(Qh, Ql)
    e = floatbounds.exponents(Qh, Ql, axis=0)
    for (i, j), r in np.ndenumerate(R):
        q = Fraction(2) ** (int(e[j]) - 120)
        scaled = Fraction(float(r)) / q
        assert scaled.denominator == 1, (i, j)
        assert abs(Fraction(float(r)) - Fraction(float(Ql[i, j]))) <= q / 2, (i, j)


def test_range_guard_masks_are_per_column() -> None:
    """The nonzero mask of Q is per column (Qh's or Ql's): a column out of range whose index
    is also a zero row's index is still refused. Kills: the masks taken over rows."""
    d = 3
    dense = np.array([[3.0, 1.0, 0.5], [1.0, 2.0, 0.25], [0.5, 0.25, 1.0]])
    sliced = fasteig._row_slices(dense)
    assert sliced is not None
    lam, X = np.linalg.eigh(dense)
    Qh = X.copy()
    Qh[1, :] = 0.0  # row 1 zero
    Qh[:, 1] *= 2.0**-450  # column 1 out of range
    assert fasteig.residual_bounds(sliced, Qh, np.zeros((d, d)), lam, np.zeros(d)) is None
    Qh, Ql = X.copy(), np.zeros((d, d))
    Qh[:, 1] = 0.0
    Ql[:, 1] = X[:, 1] * 2.0**-450
    Ql[1, :] = 0.0  # Ql's row 1 zero, its column 1 nonzero and out of range
    assert fasteig.residual_bounds(sliced, Qh, Ql, lam, np.zeros(d)) is None


# one Ogita--Aishima step from eigenvectors and eigenvalues off by ~EPS_START (exact data of a
# diagonal matrix with distinct eigenvalues): the error becomes O(EPS_START^2); 2^-30 leaves
# room for the constant while a first-order mistake leaves ~2^-20
EPS_START = 2.0**-20


def test_update_converges_quadratically() -> None:
    """Kills: the eigenvalue correction, the gaps, the separation threshold or the update
    formula of ``fasteig._update`` broken to first order."""
    rng = np.random.default_rng(5)
    d = 5
    a = np.array([1.0, 2.0, 3.5, 5.0, 8.0])
    A = np.diag(a)
    K = rng.standard_normal((d, d)) * EPS_START
    Qh = np.eye(d) + (K - K.T) / 2 + np.diag(rng.standard_normal(d)) * EPS_START
    mh = a + rng.standard_normal(d) * EPS_START
    sliced = fasteig._row_slices(A)
    assert sliced is not None
    out = fasteig.residual_bounds(sliced, Qh, np.zeros((d, d)), mh, np.zeros(d))
    assert out is not None
    G, _, N, _ = out
    Qh2, Ql2, mh2, ml2 = fasteig._update(Qh, np.zeros((d, d)), mh, np.zeros(d), G, N)
    Q = Qh2 + Ql2
    # column j of Q is +-e_j up to the error; its eigenvalue a_j
    assert np.max(np.abs(Q - np.diag(np.sign(np.diag(Q))))) < 2.0**-30
    assert np.max(np.abs((mh2 + ml2) - a)) < 2.0**-30
