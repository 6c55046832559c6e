"""Certified definiteness of a symmetric float64 matrix.

The matrix is exact data (the float64 values given, bit for bit); positive definiteness is
proven first by a float64 Cholesky factorization with a rigorous backward-error bound
(:func:`cholesky_proves_positive_definite`, O(d^3/3) flops in LAPACK), then, when that is
inconclusive, in ball arithmetic (python-flint / Arb) from a float64 ``eigh`` or by an exact
rational LDL^T. Nothing here knows a problem class.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from ..errors import NotPositiveDefiniteError
from ..floats import frobenius_upper

__all__ = [
    "EXACT_LDL_MAX_DIM",
    "Definiteness",
    "certified_definiteness",
    "cholesky_proves_positive_definite",
    "exact_definiteness",
]

Definiteness = Literal["positive_definite", "positive_semidefinite", "semidefinite_at_roundoff"]

F64 = NDArray[np.float64]

#: Largest dimension for which an undecided case is settled by exact rational LDL^T (O(d^3)
#: rational operations); above it the result is ``"semidefinite_at_roundoff"``.
EXACT_LDL_MAX_DIM = 64


#: Exponent range of the entries (nonzero |h_ij| in [2^-R, 2^R]) inside which the Cholesky
#: test's underflow analysis holds; outside it the test is skipped.
_CHOL_EXP_RANGE = 500


def cholesky_proves_positive_definite(H: F64) -> bool:
    """Whether a float64 Cholesky factorization of H - c I proves H positive definite.

    With c >= 2 gamma_{n+4}/(1 - gamma_{n+4}) trace(H) (n = d), compute A~ = fl(H - c I) and its
    LAPACK Cholesky factor R (``numpy.linalg.cholesky``). If it succeeds, R^T R = A~ + dA with
    |dA| <= gamma_{n+4} |R^T||R| + underflow terms (Higham, Accuracy and Stability, Thm 10.3,
    for any order of the inner products -- blocked, recursive, FMA -- with two extra roundings
    allowed for a reciprocal-multiplying TRSM and the square root), and
    ||dA||_2 <= gamma ||R||_F^2 = gamma trace(A~ + dA) <= gamma/(1 - gamma) trace(A~)
    (Rump, "Verification of positive definiteness", BIT 46, 2006). R is nonsingular, so
    lambda_min(H) > c - ||dA||_2 - max_i |h_ii - c - a~_ii| >= 0 is checked in Arb with the
    exact diagonal (the rounding of the shift is computed exactly, not bounded).

    Guarantee
    ---------
    ``True`` proves H positive definite. ``False`` decides nothing (H may be positive definite
    with lambda_min below ~ d^2 u max h_ii, or the entries may lie outside 2^+-500).
    """
    from flint import arb, ctx

    d = H.shape[0]
    if d == 0 or not np.all(np.isfinite(H)):
        return False
    diag = np.diag(H)
    if not np.all(diag > 0):
        return False
    nz = np.abs(H[H != 0])
    if nz.size and (nz.max() > 2.0**_CHOL_EXP_RANGE or nz.min() < 2.0**-_CHOL_EXP_RANGE):
        return False
    with ctx.workprec(128):
        n = d + 4
        un = arb(n) * arb(2) ** -53
        g = un / (1 - un)
        trace = sum((arb(float(x)) for x in diag), arb(0))
        c = float((2 * g / (1 - g) * trace).abs_upper().mid()) * (1 + 2.0**-40)
        A = np.array(H, dtype=np.float64, copy=True)
        A[np.diag_indices(d)] = diag - c
        try:
            R = np.linalg.cholesky(A)
        except np.linalg.LinAlgError:
            return False
        if not np.all(np.isfinite(R)):
            return False
        shifted = np.diag(A)
        trace_a = sum((arb(float(x)) for x in shifted), arb(0))
        shift_err = max(
            abs(arb(float(h)) - arb(c) - arb(float(a))) for h, a in zip(diag, shifted, strict=True)
        )
        # underflow: each inner product adds <= (n + 2) eta; a quotient that underflows adds
        # r_ii eta / 2 with r_ii <= 2^(R/2); ||.||_2 <= d max entry
        eta = arb(2) ** -1074
        under = arb(d) * (arb(n + 2) + arb(2) ** (_CHOL_EXP_RANGE // 2 + 1)) * eta
        need = g / (1 - g) * (trace_a + arb(d) * under) + under + shift_err
        return bool(arb(c) > need)


def certified_definiteness(
    H: F64,
    name: str,
    *,
    eigh: tuple[F64, F64] | Callable[[], tuple[F64, F64]] | None = None,
) -> Definiteness:
    """Classify a symmetric float64 matrix with a certified test.

    0. A float64 Cholesky of H - c I with a rigorous backward-error bound
       (:func:`cholesky_proves_positive_definite`) proves positive definiteness in
       O(d^3/3) flops; when it is inconclusive:
    1. From float64 ``eigh``: H = Q Lam Q^T + E. Since Q Lam_+ Q^T is a Gram matrix (PSD for
       any Q), lambda_min(H) >= -||H - Q Lam_+ Q^T||_F, bounded rigorously in Arb.
       If Lam > 0, lambda_min(H) >= min(Lam) sigma_min(Q)^2 - ||H - Q Lam Q^T||_F with
       sigma_min(Q)^2 >= 1 - ||Q^T Q - I||_F, proving positive definiteness.
    2. A negative Rayleigh quotient v^T H v < 0, evaluated exactly, proves indefiniteness.
    3. Otherwise, for d <= :data:`EXACT_LDL_MAX_DIM`, exact rational LDL^T decides
       (:func:`exact_definiteness`); for larger d the result is ``"semidefinite_at_roundoff"``.

    Parameters
    ----------
    H : ndarray, shape (d, d)
        Exactly symmetric, finite float64 matrix.
    name : str
        The argument name used in the error message.
    eigh : (ndarray, ndarray) or callable, optional
        ``numpy.linalg.eigh(H)``, or a callable returning it (called only when step 0 is
        inconclusive), when the caller has it (computed here otherwise). Nothing in it is
        trusted: it only guides the proof.

    Guarantee
    ---------
    ``"positive_definite"`` and ``"positive_semidefinite"`` are proven; a proven negative
    eigenvalue raises :class:`~verify.errors.NotPositiveDefiniteError`;
    ``"semidefinite_at_roundoff"`` means undecided at d > :data:`EXACT_LDL_MAX_DIM`.
    """
    from flint import arb_mat, ctx

    d = H.shape[0]
    if cholesky_proves_positive_definite(H):
        return "positive_definite"
    if eigh is None:
        lam, Q = np.linalg.eigh(H)
    else:
        lam, Q = eigh() if callable(eigh) else eigh
    with ctx.workprec(128):
        Ha = arb_mat(H.tolist())
        if _proven_positive_definite(Ha, lam, Q):
            return "positive_definite"
        # witness of indefiniteness
        v = Q[:, 0]
        va = arb_mat([[float(x)] for x in v])
        rq = (va.transpose() * Ha * va)[0, 0]
        if rq < 0:
            raise NotPositiveDefiniteError(
                name, H, f"has a negative eigenvalue (certified Rayleigh quotient {rq.str(5)} < 0)"
            )
    if d <= EXACT_LDL_MAX_DIM:
        return exact_definiteness(H, name)
    return "semidefinite_at_roundoff"


def _proven_positive_definite(Ha: Any, lam: F64, Q: F64) -> bool:
    """Whether lambda_min(H) > 0 follows from the float64 ``eigh`` (step 1, in Arb)."""
    from flint import arb, arb_mat

    d = lam.shape[0]
    Qa = arb_mat(Q.tolist())
    QT = Qa.transpose()
    lam_pos = np.maximum(lam, 0.0)
    D = arb_mat(d, d)
    for i in range(d):
        D[i, i] = arb(float(lam_pos[i]))
    Epos = Ha - Qa * D * QT
    epos = frobenius_upper(Epos)
    if lam[0] > 0:
        orth = frobenius_upper(QT * Qa - arb_mat(np.eye(d).tolist()))
        lower = arb(float(lam[0])) * (1 - orth) - epos
        if lower > 0:
            return True
    return False


def exact_definiteness(H: F64, name: str) -> Definiteness:
    """Exact LDL^T with symmetric pivoting in rational arithmetic.

    Guarantee
    ---------
    Exact: ``"positive_definite"`` or ``"positive_semidefinite"``, or
    :class:`~verify.errors.NotPositiveDefiniteError` for an indefinite matrix.
    """
    d = H.shape[0]
    A = [[Fraction(float(x)) for x in row] for row in H]
    idx = list(range(d))
    positive = 0
    while idx:
        # pick the largest remaining diagonal entry
        k = max(idx, key=lambda i: A[i][i])
        piv = A[k][k]
        if piv < 0:
            raise NotPositiveDefiniteError(
                name, H, f"has a negative eigenvalue (exact LDL^T pivot {float(piv)!r})"
            )
        if piv == 0:
            # PSD requires the remaining block to vanish
            for i in idx:
                for j in idx:
                    if A[i][j] != 0:
                        raise NotPositiveDefiniteError(
                            name,
                            H,
                            "is indefinite (exact LDL^T: zero pivot with nonzero off-diagonal)",
                        )
            break
        positive += 1
        idx.remove(k)
        row_k = A[k]
        for i in idx:
            f = row_k[i] / piv
            if f:
                Ai = A[i]
                for j in idx:
                    Ai[j] -= f * row_k[j]
    return "positive_definite" if positive == d else "positive_semidefinite"
