"""The float64 engine of the certified eigendecomposition and its rigorous float64 bounds.

Every bound is checked against exact rational arithmetic (``fractions.Fraction``) on inputs
whose exponents are spread on purpose (so that slices, remainders and cancellations all occur);
the engine is cross-checked against the Arb engine (:func:`verify.certified.eigen.
arb_certified_eig`) and the rational oracle (:mod:`verify.truth.rational`).

How these tests were shown to fail when the guarded thing breaks (run by hand, then reverted):
dropping ``AQ.tail`` from the cascade in ``fasteig.residual_bounds`` fails
``test_residual_bounds_contain_exact_values`` (3 of 3); making ``slice_bits`` return 4 bits
more than Ozaki's condition allows fails ``test_slice_levels_are_exact`` (2 of 4). Not caught
here: dropping the ``gamma(m)`` term of ``cascade`` (its low-part rounding is below u |S| on
these inputs); the fault-injection tests (``tests/truth/test_fault_injection.py``, ``fast/``
cases) catch a residual bound shrunk 1000x and a zero orthogonality bound.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests._strategies import dyadic_quadratics, step_sizes
from verify import Quadratic, truth
from verify.certified import eigen, fasteig, floatbounds
from verify.truth import rational

# A Frobenius upper bound from a float64 sum of N squares over-estimates by at most
# ~N u (gamma_N) relative; for N <= 10^4 that is < 2^-39.
FROB_REL_SLACK = Fraction(1, 2**39)
# The float64 engine's proven bounds sit at the double-double floor: relative to ||A||_F the
# residual bound is ~2^-100 for d <= a few thousand (2^-90 is the engine's own acceptance).
FAST_RESID_REL = Fraction(1, 2**90)


def _frac_matrix(M: np.ndarray) -> list[list[Fraction]]:
    return [[Fraction(float(x)) for x in row] for row in M]


def _frac_matmul(A: list[list[Fraction]], B: list[list[Fraction]]) -> list[list[Fraction]]:
    n, m, p = len(A), len(B), len(B[0])
    return [[sum((A[i][k] * B[k][j] for k in range(m)), Fraction(0)) for j in range(p)]
            for i in range(n)]  # fmt: skip


def _frob2(M: list[list[Fraction]]) -> Fraction:
    return sum((x * x for row in M for x in row), Fraction(0))


def _spread(rng: np.random.Generator, shape: tuple[int, int], span: int) -> np.ndarray:
    """Gaussian entries times 2^k with k uniform in [-span, 0]: slices and remainders occur."""
    return rng.standard_normal(shape) * np.ldexp(1.0, rng.integers(-span, 1, size=shape))


def _upper_frac(x: object) -> Fraction:
    from verify.floats import fraction_from_arb

    return fraction_from_arb(x)


@pytest.mark.parametrize("d", [5, 24])
@pytest.mark.parametrize("seed", [0, 1])
def test_slice_levels_are_exact(d: int, seed: int) -> None:
    """Each level sum_{i+j=s} A_i B_j is the exact product of the slices; levels + tail are
    within the proven tail bound of the exact product A (Bh + Bl)."""
    rng = np.random.default_rng(seed)
    A = _spread(rng, (d, d), 40)
    Bh = _spread(rng, (d, d), 40)
    Bl = Bh * _spread(rng, (d, d), 10) * 2.0**-54
    beta = floatbounds.slice_bits(d)
    As, Ar = floatbounds.split(A, None, floatbounds.exponents(A, None, 1), beta, axis=1)
    Bs, Br = floatbounds.split(Bh, Bl, floatbounds.exponents(Bh, Bl, 0), beta, axis=0)
    P = floatbounds.sliced_product(As, Ar, Bs, Br)
    Af = [_frac_matrix(S) for S in As]
    Bf = [_frac_matrix(S) for S in Bs]
    for k, level in enumerate(P.levels):
        s = k + 2
        exact = [[Fraction(0)] * d for _ in range(d)]
        for i in range(1, s):
            prod = _frac_matmul(Af[i - 1], Bf[s - i - 1])
            exact = [
                [x + y for x, y in zip(r, q, strict=True)] for r, q in zip(exact, prod, strict=True)
            ]
        assert _frac_matrix(level) == exact, f"level {s} is not exact"
    B = [[x + y for x, y in zip(r, q, strict=True)]
         for r, q in zip(_frac_matrix(Bh), _frac_matrix(Bl), strict=True)]  # fmt: skip
    AB = _frac_matmul(_frac_matrix(A), B)
    approx = sum((np.asarray(level) for level in P.levels), np.zeros((d, d)))
    diff = [[AB[i][j] - Fraction(float(approx[i, j])) - Fraction(float(P.tail[i, j]))
             for j in range(d)] for i in range(d)]  # fmt: skip
    # the sum of levels in float64 above rounds; compare on the exact sum instead
    exact_levels = [[sum((Fraction(float(level[i, j])) for level in P.levels), Fraction(0))
                     for j in range(d)] for i in range(d)]  # fmt: skip
    diff = [[AB[i][j] - exact_levels[i][j] - Fraction(float(P.tail[i, j])) for j in range(d)]
            for i in range(d)]  # fmt: skip
    bound = _upper_frac(P.tail_bound)
    assert _frob2(diff) <= bound * bound


@pytest.mark.parametrize("seed", range(4))
def test_frobenius_upper(seed: int) -> None:
    rng = np.random.default_rng(seed)
    M = _spread(rng, (30, 30), 300) * 2.0 ** int(rng.integers(-600, 600))
    exact2 = _frob2(_frac_matrix(M))
    up = _upper_frac(floatbounds.frobenius_upper(M))
    assert up * up >= exact2
    assert up * up <= exact2 * (1 + FROB_REL_SLACK) ** 2


def test_cascade_bound() -> None:
    """Heavy cancellation: terms of size 1 summing to ~2^-53; the proven bound holds and is
    ~u relative to the result, not to the terms (2^-45 leaves room for the gamma_m term)."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((8, 8))
    parts = [X, -X * (1 - 2.0**-30), -X * 2.0**-30, rng.standard_normal((8, 8)) * 2.0**-100]
    S, bound = floatbounds.cascade(parts)
    exact = [[sum((Fraction(float(p[i, j])) for p in parts), Fraction(0)) for j in range(8)]
             for i in range(8)]  # fmt: skip
    diff = [[exact[i][j] - Fraction(float(S[i, j])) for j in range(8)] for i in range(8)]
    b = _upper_frac(bound)
    assert _frob2(diff) <= b * b
    s_norm = _upper_frac(floatbounds.frobenius_upper(S))
    assert b <= Fraction(1, 2**45) * s_norm


@pytest.mark.parametrize("seed", range(3))
def test_residual_bounds_contain_exact_values(seed: int) -> None:
    """||A Q - Q diag(mu)||_F <= resid and ||Q^T Q - I||_F <= nu for the exact double-double data
    the engine returns, both computed here in rational arithmetic; and the bounds are at the
    engine's accuracy (so a test with an inflated bound fails)."""
    rng = np.random.default_rng(seed)
    d = 9
    B = _spread(rng, (d, d), 12)
    A = B @ B.T
    A = (A + A.T) / 2
    lam, X = np.linalg.eigh(A)
    res = fasteig.fast_refine(A, X, lam)
    assert res is not None
    Q = [[Fraction(float(h)) + Fraction(float(lo)) for h, lo in zip(rh, rl, strict=True)]
         for rh, rl in zip(res.Qh, res.Ql, strict=True)]  # fmt: skip
    mu = [Fraction(float(h)) + Fraction(float(lo)) for h, lo in zip(res.mh, res.ml, strict=True)]
    AQ = _frac_matmul(_frac_matrix(A), Q)
    G = [[AQ[i][j] - Q[i][j] * mu[j] for j in range(d)] for i in range(d)]
    QtQ = _frac_matmul([list(r) for r in zip(*Q, strict=True)], Q)
    N = [[QtQ[i][j] - (1 if i == j else 0) for j in range(d)] for i in range(d)]
    resid, nu = _upper_frac(res.resid), _upper_frac(res.nu)
    assert _frob2(G) <= resid * resid
    assert _frob2(N) <= nu * nu
    anorm = _upper_frac(floatbounds.frobenius_upper(A))
    assert resid <= FAST_RESID_REL * anorm
    assert nu <= FAST_RESID_REL


def test_fast_engine_agrees_with_arb_engine() -> None:
    """d = 110 (the float64 engine's range): the eigenvalue enclosures mu_i +- kappa eps of the
    two engines intersect pairwise (sorted), and the float64 engine served the request."""
    from flint import arb, ctx

    q = Quadratic.random(110, seed=4)
    fast = q.certified_eig(eigen.MIN_EIG_PREC)
    assert fast.bits > 0  # produced by the float64 engine
    ref = eigen.arb_certified_eig(
        q.hessian_arb, eigen.MIN_EIG_PREC, start=lambda: np.linalg.eigh(q.H)[1], decompositions={}
    )
    with ctx.workprec(eigen.MIN_EIG_PREC):
        pf = arb(0, (fast.kappa * fast.eps).abs_upper())
        pr = arb(0, (ref.kappa * ref.eps).abs_upper())
        for i, j in zip(fast.order, ref.order, strict=True):
            assert (fast.mu[i] + pf).overlaps(ref.mu[j] + pr), (i, j)
    assert ref.eps < fast.eps  # the Arb engine is the tighter one (2^-148 vs ~2^-100)


@settings(max_examples=25, deadline=None)
@given(problem=dyadic_quadratics(max_dim=4, affine=True), eta=step_sizes, t=st.integers(1, 40))
def test_fast_engine_encloses_the_rational_oracle(
    problem: Quadratic, eta: Fraction, t: int
) -> None:
    """Forced onto small dyadic problems, the float64 engine's enclosures contain the exact
    meta-gradient (or the engine refuses)."""
    exact = rational.forward(problem, eta, t, objective="naive")["dF"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(eigen, "FAST_EIG_MIN_DIM", 0)
        enc = truth.meta_gradient(problem, eta, t, objective="naive", engine="eigen")
    assert enc.contains(exact), (float(exact), enc)


def test_unresolved_cluster_falls_back_to_the_arb_engine() -> None:
    """Three eigenvalues within ~2^-60 of 1 whose eigenvectors are set by off-diagonal entries
    below float64 roundoff: the double-double refinement cannot rotate them apart, its eps is
    not accepted, and the Arb engine (which rotates clusters) serves the request."""
    d = 102
    H = np.diag(np.concatenate([np.ones(3), np.linspace(2.0, 3.0, d - 3)]))
    for (i, j), c in {(0, 1): 3.0, (0, 2): -1.0, (1, 2): 2.0}.items():
        H[i, j] = H[j, i] = c * 2.0**-60
    q = Quadratic(H, np.ones(d))
    eig = q.certified_eig(eigen.MIN_EIG_PREC)
    assert eig.bits == 0  # not the float64 engine's result
    assert eig.eps < 2.0 ** (40 - eigen.MIN_EIG_PREC)
