"""Certified definiteness of a symmetric float64 matrix.

The matrix is exact data (the float64 values given, bit for bit); the classification is proven
in ball arithmetic (python-flint / Arb) or, when that cannot decide, by an exact rational
LDL^T. Nothing here knows a problem class.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from ..errors import NotPositiveDefiniteError
from ..floats import frobenius_upper

__all__ = ["EXACT_LDL_MAX_DIM", "Definiteness", "certified_definiteness", "exact_definiteness"]

Definiteness = Literal["positive_definite", "positive_semidefinite", "semidefinite_at_roundoff"]

F64 = NDArray[np.float64]

#: Largest dimension for which an undecided case is settled by exact rational LDL^T (O(d^3)
#: rational operations); above it the result is ``"semidefinite_at_roundoff"``.
EXACT_LDL_MAX_DIM = 64


def certified_definiteness(
    H: F64, name: str, *, eigh: tuple[F64, F64] | None = None
) -> Definiteness:
    """Classify a symmetric float64 matrix with a certified test.

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
    eigh : (ndarray, ndarray), optional
        ``numpy.linalg.eigh(H)`` when the caller has it already (computed here otherwise).
        Nothing in it is trusted: it only guides the proof.

    Guarantee
    ---------
    ``"positive_definite"`` and ``"positive_semidefinite"`` are proven; a proven negative
    eigenvalue raises :class:`~verify.errors.NotPositiveDefiniteError`;
    ``"semidefinite_at_roundoff"`` means undecided at d > :data:`EXACT_LDL_MAX_DIM`.
    """
    from flint import arb_mat, ctx

    d = H.shape[0]
    lam, Q = np.linalg.eigh(H) if eigh is None else eigh
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
