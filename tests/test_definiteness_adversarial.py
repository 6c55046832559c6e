"""Adversarial definiteness: near-singular matrices where float64 and exact arithmetic disagree.

The certified definiteness test (:func:`verify.certified.definiteness.certified_definiteness`)
is checked against an independent exact classification written here (Sylvester's criteria on exact
rational principal minors, fractions.Fraction): positive definite iff every leading principal
minor is > 0, positive semidefinite iff every principal minor is >= 0, else indefinite. For
d <= 64 the library's answer must be exactly that one, whatever float64 ``eigh`` says.

The matrices are X X^T shifted down by its float64 smallest eigenvalue plus or minus a few
L u / 4 (u = 2^-53), so the exact smallest eigenvalue lies within a few roundings of 0 and
float64 ``eigh`` often reports the wrong sign, in both directions (the pinned examples below
were found by that search, seeds 0 and 1).
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
from flint import arb
from hypothesis import event, example, given
from hypothesis import strategies as st

import verify.certified.definiteness as definiteness_mod
import verify.problems as problems_mod
from verify import Quadratic
from verify.errors import NotPositiveDefiniteError

U64 = 2.0**-53


def _h(rows: list[list[str]]) -> np.ndarray:
    return np.array([[float.fromhex(x) for x in r] for r in rows])


# float64 eigh: smallest eigenvalue +4.9e-15; exact: indefinite (certified Rayleigh quotient
# -6.6e-15). The issue's kind of example (there: +3.9e-16 against -4.9e-16).
FLOAT_POSITIVE_EXACT_INDEFINITE = _h(
    [
        ["0x1.393c065d4f2eep+2", "0x1.b9fc8678fc1f1p+3", "-0x1.a609b6e70f1cbp+1"],
        ["0x1.b9fc8678fc1f1p+3", "0x1.37d6bbbee7b5fp+5", "-0x1.288d904306deep+3"],
        ["-0x1.a609b6e70f1cbp+1", "-0x1.288d904306deep+3", "0x1.c6b1fd68887dfp+1"],
    ]
)
# float64 eigh: +3.5e-18; exact: indefinite (Rayleigh quotient -1.0e-17)
FLOAT_TINY_POSITIVE_EXACT_INDEFINITE = _h(
    [
        ["0x1.1076d23f6510fp-5", "0x1.110cdf1771fcdp-4", "-0x1.d78647bf879d0p-4"],
        ["0x1.110cdf1771fcdp-4", "0x1.af40b056c2cafp-2", "-0x1.3872472d27ffbp-2"],
        ["-0x1.d78647bf879d0p-4", "-0x1.3872472d27ffbp-2", "0x1.abb79ffc6f02fp-2"],
    ]
)
# float64 eigh: -3.8e-17; exact: positive definite (decided by the exact LDL^T)
FLOAT_NEGATIVE_EXACT_PD = _h(
    [
        ["0x1.55419e56b1acap+1", "-0x1.441c26c9d11a5p+0", "0x1.8de30a50e154ap+0"],
        ["-0x1.441c26c9d11a5p+0", "0x1.34e775f1d0799p-1", "-0x1.6fd1f3730669ap-1"],
        ["0x1.8de30a50e154ap+0", "-0x1.6fd1f3730669ap-1", "0x1.16fe69fe23746p+0"],
    ]
)


# --------------------------------------------------------------------------- exact oracle
def _det(M: list[list[Fraction]]) -> Fraction:
    """Exact determinant by Gaussian elimination with row swaps."""
    M = [row[:] for row in M]
    n, det = len(M), Fraction(1)
    for k in range(n):
        p = next((i for i in range(k, n) if M[i][k] != 0), None)
        if p is None:
            return Fraction(0)
        if p != k:
            M[k], M[p] = M[p], M[k]
            det = -det
        det *= M[k][k]
        for i in range(k + 1, n):
            f = M[i][k] / M[k][k]
            for j in range(k, n):
                M[i][j] -= f * M[k][j]
    return det


def exact_class(H: np.ndarray) -> str:
    """'positive_definite', 'positive_semidefinite' or 'indefinite', exactly (Sylvester)."""
    A = [[Fraction(float(x)) for x in row] for row in H]
    d = len(A)

    def minor(S: tuple[int, ...]) -> Fraction:
        return _det([[A[i][j] for j in S] for i in S])

    if any(minor(S) < 0 for r in range(1, d + 1) for S in itertools.combinations(range(d), r)):
        return "indefinite"
    if all(minor(tuple(range(k))) > 0 for k in range(1, d + 1)):
        return "positive_definite"
    return "positive_semidefinite"


def library_class(H: np.ndarray) -> str:
    """The certified class through the public constructor (a refusal reads 'indefinite')."""
    try:
        return Quadratic(H, np.ones(H.shape[0])).definiteness
    except NotPositiveDefiniteError:
        return "indefinite"


def check_classification(H: np.ndarray) -> None:
    exact = exact_class(H)
    got = library_class(H)
    assert got == exact, (
        f"certified class {got!r} but exactly {exact!r} (float64 eigh smallest "
        f"{np.linalg.eigh(H)[0][0]!r}); H = {[[x.hex() for x in r] for r in H]}"
    )


# --------------------------------------------------------------------------- strategy
entries = st.floats(-4, 4, allow_nan=False, allow_subnormal=False, width=32)


@st.composite
def near_singular_matrices(draw: st.DrawFn) -> np.ndarray:
    """X X^T (rank k <= d) shifted by its float64 smallest eigenvalue + s L u / 4, |s| <= 8."""
    d = draw(st.integers(2, 4))
    k = draw(st.integers(1, d))
    X = np.array([[draw(entries) for _ in range(k)] for _ in range(d)])
    M = X @ X.T
    M = (M + M.T) / 2.0
    lam = np.linalg.eigh(M)[0]
    L = max(abs(lam[0]), abs(lam[-1]))
    s = draw(st.integers(-8, 8))
    shift = lam[0] + s * L * U64 / 4 if draw(st.booleans()) else 0.0
    H = M - shift * np.eye(d)
    return (H + H.T) / 2.0


@example(H=FLOAT_POSITIVE_EXACT_INDEFINITE)
@example(H=FLOAT_TINY_POSITIVE_EXACT_INDEFINITE)
@example(H=FLOAT_NEGATIVE_EXACT_PD)
@given(H=near_singular_matrices())
def test_certified_class_is_the_exact_class(H: np.ndarray) -> None:
    if not np.all(np.isfinite(H)):  # pragma: no cover - entries are bounded
        return
    lam0 = np.linalg.eigh(H)[0][0]
    exact = exact_class(H)
    if (lam0 > 0) != (exact == "positive_definite"):
        event(f"float64 eigh disagrees: eigh {'>' if lam0 > 0 else '<='} 0, exactly {exact}")
    check_classification(H)


@pytest.mark.parametrize(
    ("H", "float_sign", "exact"),
    [
        (FLOAT_POSITIVE_EXACT_INDEFINITE, 1, "indefinite"),
        (FLOAT_TINY_POSITIVE_EXACT_INDEFINITE, 1, "indefinite"),
        (FLOAT_NEGATIVE_EXACT_PD, -1, "positive_definite"),
    ],
    ids=["eigh+4.9e-15/indefinite", "eigh+3.5e-18/indefinite", "eigh-3.8e-17/pd"],
)
def test_float_and_exact_disagree_both_ways(H: np.ndarray, float_sign: int, exact: str) -> None:
    """Pinned disagreements: float64 eigh says one thing, the exact answer (and the library)
    the other. The first asserts pin the inputs as adversarial (on this numpy/LAPACK)."""
    lam0 = float(np.linalg.eigh(H)[0][0])
    assert (lam0 > 0) == (float_sign > 0), lam0
    assert exact_class(H) == exact
    check_classification(H)


def test_issue_example_refused_with_a_certified_witness() -> None:
    with pytest.raises(NotPositiveDefiniteError, match="negative eigenvalue"):
        Quadratic(FLOAT_POSITIVE_EXACT_INDEFINITE, [1.0, 0.0, 0.0])


# --------------------------------------------------------------------------- sensitivity
def _accept_everything(H: np.ndarray, name: str, eigh: object = None) -> str:
    return "positive_definite"


@pytest.mark.parametrize(
    "H", [FLOAT_POSITIVE_EXACT_INDEFINITE, FLOAT_TINY_POSITIVE_EXACT_INDEFINITE]
)
def test_skipping_the_proof_is_caught(monkeypatch: pytest.MonkeyPatch, H: np.ndarray) -> None:
    """With the proof skipped (every matrix accepted), the checks above fail."""
    monkeypatch.setattr(problems_mod, "certified_definiteness", _accept_everything)
    with pytest.raises(AssertionError, match="certified class 'positive_definite'"):
        check_classification(H)


@pytest.mark.parametrize(
    "H", [FLOAT_POSITIVE_EXACT_INDEFINITE, FLOAT_TINY_POSITIVE_EXACT_INDEFINITE]
)
def test_dropping_the_error_terms_is_caught(monkeypatch: pytest.MonkeyPatch, H: np.ndarray) -> None:
    """With the proof's rigorous error terms (||H - Q Lam_+ Q^T||_F, ||Q^T Q - I||_F) set to 0,
    step 1 trusts float64's positive smallest eigenvalue: the checks above fail."""
    monkeypatch.setattr(definiteness_mod, "frobenius_upper", lambda M: arb(0))
    with pytest.raises(AssertionError, match="certified class 'positive_definite'"):
        check_classification(H)
