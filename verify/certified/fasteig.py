"""Certified eigendecomposition of an exact float64 symmetric matrix, its work in float64 BLAS.

Compute: Ogita--Aishima refinement (Ogita & Aishima, Japan J. Indust. Appl. Math. 35, 2018,
Algorithm 1) of LAPACK's ``eigh``, held in double-double (Q = Qh + Ql, mu = mh + ml). The two
quantities the refinement needs to ~106 bits, the residual G = A Q - Q diag(mu) and
N = Q^T Q - I, are computed by Ozaki's error-free splitting (:mod:`.floatbounds`): a product to
double-double accuracy is a handful of float64 GEMMs. With S = Q^T A Q = (I + N) diag(mu) +
Q^T G, the update only needs Q^T G in plain float64 (it is already small).

Prove: the same two computations return rigorous Frobenius bounds,
||A Q - Q diag(mu)||_F <= ``resid`` and ||Q^T Q - I||_F <= ``nu``, for the exact data
(Qh + Ql, mh + ml), whatever the quality of the refinement. Only O(d^2) data (the bounds, the
matrices) go to Arb afterwards (:mod:`verify.certified.eigen`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .floatbounds import (
    ETA,
    LEVELS,
    U,
    cascade,
    exponents,
    frobenius_upper,
    slice_bits,
    sliced_product,
    split,
    two_prod,
    two_sum,
)

__all__ = ["MAX_ROUNDS", "FastEig", "fast_refine", "prove", "proven_norms", "residual_bounds"]

F64 = NDArray[np.float64]

#: Refinement rounds at most (each: one rigorous residual evaluation and one update).
MAX_ROUNDS = 4
#: Exponent range (per row of A, per column of Q) inside which every slice product is exact.
_EXP_RANGE = 400
#: ||Q^T Q - I||_F below which orthogonality is at the double-double floor.
_NU_FLOOR = 2.0**-90


@dataclass
class FastEig:
    """Exact data (Qh + Ql, mh + ml) with proven bounds resid >= ||A Q - Q diag(mu)||_F and
    nu >= ||Q^T Q - I||_F (exact ``flint.arb``)."""

    Qh: F64
    Ql: F64
    mh: F64
    ml: F64
    resid: Any
    nu: Any


def _in_range(e: NDArray[np.int64], nonzero: NDArray[np.bool_]) -> bool:
    return bool(np.all(np.abs(e[nonzero]) <= _EXP_RANGE))


Sliced = tuple[list[F64], list[tuple[F64, F64 | None]]]


def _row_slices(A: F64, levels: int = LEVELS) -> Sliced | None:
    rows_nz = np.any(A != 0, axis=1)
    eA = exponents(A, None, axis=1)
    if not _in_range(eA, rows_nz):
        return None
    return split(A, None, eA, slice_bits(A.shape[0], levels), axis=1, levels=levels)


def residual_bounds(
    A_sliced: Sliced,
    Qh: F64,
    Ql: F64,
    mh: F64,
    ml: F64,
) -> tuple[F64, Any, F64, Any] | None:
    """(G, bG, N, bN): float64 approximations of G = A Q - Q diag(mu) and N = Q^T Q - I with
    ||G - G~||_F <= bG and ||N - N~||_F <= bN, for the exact Q = Qh + Ql, mu = mh + ml.

    Guarantee
    ---------
    Proven, barring exponent ranges outside +-400 (then None is returned): exact slice levels
    (:func:`.floatbounds.sliced_product`), bounded tails, exact TwoProduct for Qh mh (plus
    8 eta per entry for underflow), as are Qh ml and Ql mh; Ql ml in float64 with error
    <= u |Ql||ml| + eta; TwoSum accumulation
    (:func:`.floatbounds.cascade`).

    Accuracy
    --------
    The bounds are ~2^-100 ||A||_F ||Q||_F for d up to a few thousand.
    """
    from flint import arb

    d = Qh.shape[0]
    levels = len(A_sliced[0])
    lo = Ql if np.any(Ql) else None  # a float64 start: no double-double remainders
    cols_nz = np.any(Qh != 0, axis=0) | np.any(Ql != 0, axis=0)
    eQ = exponents(Qh, lo, axis=0)
    if not _in_range(eQ, cols_nz):
        return None
    Qs, Qr = split(Qh, lo, eQ, slice_bits(d, levels), axis=0, levels=levels)
    As, Ar = A_sliced
    AQ = sliced_product(As, Ar, Qs, Qr)
    # Q diag(mu) = Qh mh + Qh ml + Ql mh + Ql ml: the first three as exact TwoProducts (the
    # cross terms are ~2^-53 |Q||mu|: rounding them would cost ~2^-106 |Q||mu|, the
    # double-double floor itself), Ql ml (~2^-106) rounded, error <= u |Ql||ml| + eta
    Ch, Cl = two_prod(Qh, mh[None, :])
    Xh, Xl = two_prod(Qh, ml[None, :])
    Yh, Yl = two_prod(Ql, mh[None, :])
    Z = Ql * ml[None, :]
    nQl = frobenius_upper(Ql)
    aml = arb(float(np.max(np.abs(ml)))) if d else arb(0)
    cross_bound = arb(U) * nQl * aml + arb(d) * 25 * arb(ETA)
    L = AQ.levels
    G, bG = cascade([L[0], -Ch, *L[1:3], -Cl, -Xh, -Yh, *L[3:], -Xl, -Yl, AQ.tail, -Z])
    bG = (bG + AQ.tail_bound + cross_bound).abs_upper()
    QTs = [s.T for s in Qs]
    QTr = [(h.T, None if lo is None else lo.T) for h, lo in Qr]
    QQ = sliced_product(QTs, QTr, Qs, Qr, gram=True)
    L = QQ.levels
    N, bN = cascade([-np.eye(d), *L, QQ.tail])
    bN = (bN + QQ.tail_bound).abs_upper()
    return G, bG, N, bN


def proven_norms(G: F64, bG: Any, N: F64, bN: Any) -> tuple[Any, Any]:
    """(resid, nu): ||G~||_F + bG >= ||A Q - Q diag(mu)||_F and ||N~||_F + bN >= ||Q^T Q - I||_F.

    Guarantee
    ---------
    Proven upper bounds (exact ``flint.arb``), given the guarantee of :func:`residual_bounds`.
    """
    return (frobenius_upper(G) + bG).abs_upper(), (frobenius_upper(N) + bN).abs_upper()


def prove(A: F64, Qh: F64, Ql: F64, mh: F64, ml: F64) -> FastEig | None:
    """Proven bounds for given exact data (Ql is first rounded as in :func:`fast_refine`)."""
    sliced = _row_slices(A)
    if sliced is None:
        return None
    Ql = _round_low(Qh, Ql)
    out = residual_bounds(sliced, Qh, Ql, mh, ml)
    if out is None:
        return None
    resid, nu = proven_norms(*out)
    return FastEig(Qh, Ql, mh, ml, resid, nu)


def _update(Qh: F64, Ql: F64, mh: F64, ml: F64, G: F64, N: F64) -> tuple[F64, F64, F64, F64]:
    """One Ogita--Aishima step from G ~ A Q - Q diag(mu), N ~ Q^T Q - I (nothing rigorous)."""
    R = -N
    XtG = Qh.T @ G
    dlam = np.diag(XtG) / (1.0 - np.diag(R))
    mh2, ml2 = two_sum(mh, ml + dlam)
    gap = (mh2[None, :] - mh2[:, None]) + (ml2[None, :] - ml2[:, None])
    off = XtG - np.diag(np.diag(XtG))
    scale = float(np.max(np.abs(mh2))) if mh2.size else 0.0
    # Ogita--Aishima's separation threshold 2(||S - D|| + ||A|| ||R||) (Frobenius norms)
    delta = 2.0 * (np.linalg.norm(off) + 2.0 * scale * np.linalg.norm(R))
    separated = np.abs(gap) > delta
    np.fill_diagonal(separated, False)
    with np.errstate(divide="ignore", invalid="ignore"):
        E = np.where(separated, (XtG + dlam[None, :] * R) / gap, R / 2.0)
    dQ = Qh @ E  # Ql @ E is below the double-double resolution
    Qh2, Ql2 = two_sum(Qh, Ql + dQ)
    return Qh2, Ql2, mh2, ml2


def _round_low(Qh: F64, Ql: F64) -> F64:
    """Ql rounded to multiples of 2**(e_col - 120): Qh + Ql then fits in 122 bits exactly."""
    e = exponents(Qh, Ql, axis=0)
    up = np.ldexp(1.0, 120 - e)[None, :]
    return np.asarray(np.rint(Ql * up) / up)


def fast_refine(A: F64, X0: F64, lam0: F64) -> FastEig | None:
    """Refine ``eigh`` output (X0, lam0) of the exact float64 matrix A and prove the result.

    Returns None when the exponent range is unsupported or nothing finite results (the caller
    then uses the Arb engine). Stops when the proven residual stops shrinking by 2^8 a round.

    Guarantee
    ---------
    ``resid`` and ``nu`` of the returned data are proven (:func:`residual_bounds`).
    """
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(X0)) and np.all(np.isfinite(lam0))):
        return None
    sliced = _row_slices(A)
    if sliced is None:
        return None
    Qh, Ql = np.array(X0, dtype=np.float64), np.zeros_like(X0)
    mh, ml = np.array(lam0, dtype=np.float64), np.zeros_like(lam0)
    best: FastEig | None = None
    # residual of a Q exact to ~2^-100: the double-double floor (~2^-106 per entry, times
    # sqrt(d)-ish growth in the Frobenius norm)
    anorm = frobenius_upper(A)
    floor = anorm * 2.0**-90
    # The first round (from LAPACK, ~2^-53) only feeds an update that gains < 50 bits: its
    # products need ~2^-100 absolute accuracy, one slice level fewer (its bounds stay proven,
    # looser). Later rounds feed the final update or the proof: all levels (measured: one
    # level fewer there costs ~2 bits of the final eps).
    coarse = _row_slices(A, LEVELS - 2)
    for rnd in range(MAX_ROUNDS):
        Ql = _round_low(Qh, Ql)
        use = coarse if rnd == 0 and coarse is not None else sliced
        out = residual_bounds(use, Qh, Ql, mh, ml)
        if out is None:
            return best
        G, bG, N, bN = out
        resid, nu = proven_norms(G, bG, N, bN)
        current = FastEig(Qh, Ql, mh, ml, resid, nu)
        if best is not None and not resid < best.resid * 2.0**-8:
            return best if best.resid < resid else current
        best = current
        if resid < floor and nu < _NU_FLOOR:
            return best  # at the double-double resolution: another round cannot gain
        Qh, Ql, mh, ml = _update(Qh, Ql, mh, ml, G, N)
        if not (np.all(np.isfinite(Qh)) and np.all(np.isfinite(Ql))):
            return best
    return best
