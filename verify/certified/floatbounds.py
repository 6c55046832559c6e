"""Float64 matrix arithmetic whose rounding errors are bounded rigorously.

The heavy work of the certified eigendecomposition is float64 BLAS. This module makes it
provable:

* Error-free splitting (Ozaki et al., "Error-free transformations of matrix multiplication by
  using fast routines of matrix multiplication", Numer. Algorithms 59, 2012): a matrix is cut
  into *slices* of ``beta`` bits aligned to a common power of two per row (left factor) or per
  column (right factor). A product of two slices, and any sum of at most ``terms`` such
  products of the same level, is computed *exactly* by a float64 GEMM whatever the order of
  summation, because every partial sum is an integer multiple of one power of two bounded by
  ``2**52`` of them (:func:`slice_bits`).
* The tail of a product (the slice pairs too small to matter) is a plain GEMM bounded by the
  classical |fl(A B) - A B| <= gamma_m |A||B| + m eta (any summation order, FMA or not; eta the
  smallest subnormal), with || |A||B| ||_F <= ||A||_F ||B||_F.
* Sums are accumulated with TwoSum (exact); the accumulated low parts are bounded by
  gamma_m sum |e|.
* Frobenius norms of float64 matrices are bounded above rigorously (:func:`frobenius_upper`).

Scalars that carry a guarantee are returned as exact ``flint.arb`` upper bounds; no directed
rounding is used anywhere.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "ETA",
    "LEVELS",
    "DDProduct",
    "U",
    "cascade",
    "exponents",
    "frobenius_upper",
    "gamma",
    "slice_bits",
    "sliced_product",
    "split",
    "two_prod",
    "two_sum",
]

F64 = NDArray[np.float64]

#: Unit roundoff of float64 (round to nearest).
U = 2.0**-53
#: Smallest positive subnormal float64: the absolute error of one operation that underflows.
ETA = 2.0**-1074
#: Number of slices per factor computed exactly; levels 2..LEVELS+1 of a product are exact.
LEVELS = 4


def gamma(m: int) -> Any:
    """Upper bound (exact ``flint.arb``) of gamma_m = m u / (1 - m u), u = 2**-53.

    Guarantee
    ---------
    Proven (ball arithmetic); raises ``ValueError`` when m u >= 1/2.
    """
    from flint import arb

    mu = arb(m) * arb(2) ** -53
    if not mu < arb(1) / 2:
        raise ValueError(f"gamma_{m} undefined in double precision")
    return (mu / (1 - mu)).abs_upper()


def frobenius_upper(M: F64) -> Any:
    """Upper bound (exact ``flint.arb``) of ||M||_F for a finite float64 array.

    The sum of squares is one BLAS dot product of the array scaled by a power of two; for N
    nonnegative terms |fl(s) - s| <= gamma_N s + N eta, so s <= (fl(s) + N eta)/(1 - gamma_N).
    Scaling into range may flush tiny entries (absolute change <= eta each), covered by a
    sqrt(N) eta term.

    Guarantee
    ---------
    Proven upper bound (no directed rounding needed).

    Accuracy
    --------
    Over-estimates ||M||_F by a relative ~N u / 2 at most.
    """
    from flint import arb

    x = np.ascontiguousarray(M, dtype=np.float64).ravel()
    n = x.size
    if n == 0:
        return arb(0)
    top = float(np.max(np.abs(x)))
    if not np.isfinite(top):
        raise ValueError("frobenius_upper of a non-finite matrix")
    if top == 0.0:
        return arb(0)
    e = int(np.frexp(top)[1])
    y = np.ldexp(x, -e)  # |y| < 1: squares never overflow
    s = float(np.dot(y, y))
    bound = ((arb(s) + n * arb(ETA)) / (1 - gamma(n))).sqrt() + arb(n).sqrt() * arb(ETA)
    return (bound * arb(2) ** e).abs_upper()


def two_sum(a: F64, b: F64) -> tuple[F64, F64]:
    """Knuth's TwoSum, elementwise.

    Guarantee
    ---------
    s + e == a + b exactly and s = fl(a + b) (round to nearest; exact even with subnormals;
    no overflow).
    """
    s = a + b
    bb = s - a
    e = (a - (s - bb)) + (b - bb)
    return s, e


_SPLITTER = 134217729.0  # 2**27 + 1


def two_prod(a: F64, b: F64) -> tuple[F64, F64]:
    """Dekker's TwoProduct (Veltkamp splitting), elementwise.

    Guarantee
    ---------
    p + e == a * b exactly when nothing under- or overflows (|a|, |b| < 2^995); with
    underflow the identity holds up to 8 eta per entry (callers add that term).
    """
    p = a * b
    t = _SPLITTER * a
    ah = t - (t - a)
    al = a - ah
    t = _SPLITTER * b
    bh = t - (t - b)
    bl = b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, e


def slice_bits(n: int, levels: int = LEVELS) -> int:
    """Bits per slice so that a level of at most ``levels`` slice products over an inner
    dimension n sums exactly: levels * n * 2**(2 beta) <= 2**52 (one bit of headroom for
    double-double remainders)."""
    need = int(np.ceil(np.log2(levels * max(n, 1))))
    return (52 - need) // 2


def exponents(hi: F64, lo: F64 | None, axis: int) -> NDArray[np.int64]:
    """Per row (axis=1) or column (axis=0): e with max|hi| + max|lo| < 2**e (0 if all zero)."""
    m = np.max(np.abs(hi), axis=axis)
    if lo is not None:
        m = m + np.max(np.abs(lo), axis=axis)
    m = m * (1 + 2.0**-50)  # the sum above is rounded; stay strictly above it
    out: NDArray[np.int64] = np.frexp(m)[1].astype(np.int64)
    return out


def split(
    hi: F64, lo: F64 | None, e: NDArray[np.int64], beta: int, axis: int, levels: int = LEVELS
) -> tuple[list[F64], list[tuple[F64, F64 | None]]]:
    """Slices S_1..S_levels of hi + lo aligned to 2**e per row (axis=1) or column (axis=0).

    Returns ``(slices, rems)``: ``rems[j]`` is the exact remainder hi + lo - (S_1 + ... + S_j)
    as a (hi, lo) pair (``rems[0]`` is the input). S_i is an integer multiple of
    2**(e - beta i) and |S_i| <= 2**(e - beta (i - 1)). Exact: every operation is a scaling by
    a power of two, a rounding to an integer, or a Sterbenz-exact subtraction (callers guard
    the exponent range so that nothing under- or overflows).
    """
    shape = (-1, 1) if axis == 1 else (1, -1)
    slices: list[F64] = []
    rems: list[tuple[F64, F64 | None]] = [(hi, lo)]
    rh, rl = hi, lo
    for i in range(1, levels + 1):
        up = np.ldexp(1.0, (beta * i - e)).reshape(shape)
        s = np.rint(rh * up) / up
        rh = rh - s
        if rl is not None:
            rh, rl = two_sum(rh, rl)
        slices.append(s)
        rems.append((rh, rl))
    return slices, rems


class DDProduct:
    """The exact product A B of two sliced factors as exact levels plus a bounded tail.

    ``levels[k]`` is the exact float64 matrix sum_{i+j=k+2} A_i B_j (k = 0..LEVELS-1);
    ``tail`` approximates the rest, sum_{i+j>LEVELS+1} A_i B_j, with
    ||tail - exact rest||_F <= ``tail_bound`` (an exact ``flint.arb``).
    """

    def __init__(self, levels: list[F64], tail: F64, tail_bound: Any) -> None:
        self.levels = levels
        self.tail = tail
        self.tail_bound = tail_bound


def _nonzero(M: F64) -> bool:
    return bool(np.any(M))


def sliced_product(
    a_slices: list[F64],
    a_rems: list[tuple[F64, F64 | None]],
    b_slices: list[F64],
    b_rems: list[tuple[F64, F64 | None]],
    *,
    gram: bool = False,
) -> DDProduct:
    """A B from row slices of A and column slices of B (see :func:`split`); the number of
    levels is the number of slices given (all factors split alike).

    With ``gram=True`` the factors are X^T and X (A's slices the transposes of B's), and the
    symmetry X_i^T X_j = (X_j^T X_i)^T halves the GEMMs.

    Guarantee
    ---------
    ``levels`` are exact (Ozaki's condition, :func:`slice_bits`); the tail is a few GEMMs of
    slices times remainders with ||error||_F <= gamma_{n+LEVELS+1} sum ||A_part||_F
    ||B_part||_F + the low parts of the double-double remainders (not multiplied, bounded by
    norms) + an underflow term.
    """
    from flint import arb

    n = a_slices[0].shape[1]
    rows, cols = a_slices[0].shape[0], b_slices[0].shape[1]
    LEVELS = len(a_slices)  # the module constant's role, per call
    levels: list[F64] = []
    for s in range(2, LEVELS + 2):
        acc = np.zeros((rows, cols))
        for i in range(1, s):
            j = s - i
            if gram and i > j:
                continue
            ai, bj = a_slices[i - 1], b_slices[j - 1]
            if _nonzero(ai) and _nonzero(bj):
                P = ai @ bj  # exact: see slice_bits
                acc += P
                if gram and i < j:
                    acc += P.T
        levels.append(acc)
    # tail: sum over i + j > LEVELS + 1 of A_i B_j
    Part = tuple[F64, F64 | None]
    pairs: list[tuple[Part, Part, bool]] = []
    if gram:
        # i, j >= half covers every such pair with both indices large; the others have
        # i < half <= j (or the transpose): A_i times the remainder of B from max(...) on
        half = (LEVELS + 3) // 2
        ah, al = b_rems[half - 1]
        pairs.append(((ah.T, None if al is None else al.T), b_rems[half - 1], False))
        for i in range(1, half):
            pairs.append(((a_slices[i - 1], None), b_rems[max(LEVELS + 1 - i, half - 1)], True))
    else:
        pairs = [
            ((a_slices[i - 1], None), b_rems[LEVELS + 1 - i], False) for i in range(1, LEVELS + 1)
        ]
        pairs.append((a_rems[LEVELS], b_rems[0], False))
    tail = np.zeros((rows, cols))
    norm_sum = arb(0)
    lo_bound = arb(0)
    for (ah, al), (bh, bl), twice in pairs:
        nah, nbh = frobenius_upper(ah), frobenius_upper(bh)
        k = 2 if twice else 1
        if nah > 0 and nbh > 0:
            P = ah @ bh
            tail += P
            if twice:
                tail += P.T
            norm_sum += k * nah * nbh
        nal = frobenius_upper(al) if al is not None else arb(0)
        nbl = frobenius_upper(bl) if bl is not None else arb(0)
        lo_bound += k * (nah * nbl + nal * nbh + nal * nbl)
    m = n + 2 * len(pairs) + 1
    under = arb(rows * cols).sqrt() * arb(2 * len(pairs) * n + m) * arb(ETA)
    bound = (gamma(m) * norm_sum + lo_bound + under).abs_upper()
    return DDProduct(levels, tail, bound)


def cascade(terms: list[F64]) -> tuple[F64, Any]:
    """Sum float64 matrices: returns (S, b) with ||S - exact sum||_F <= b (exact arb).

    Guarantee
    ---------
    Proven: TwoSum accumulation keeps h + sum(e) == exact sum; the low parts are summed in
    float64 (error <= gamma_m sum|e|, with sum|e| itself bounded by its rounded value over
    1 - gamma_m) and added once more (error <= u |S|), plus m eta per entry for underflow.

    Accuracy
    --------
    b ~ u ||S||_F + m u^2 ||terms||_F: the cancellation in the sum costs nothing.
    """
    from flint import arb

    h = terms[0]
    low = np.zeros_like(h)
    mag = np.zeros_like(h)
    for t in terms[1:]:
        h, e = two_sum(h, t)
        low += e
        mag += np.abs(e)
    S = h + low
    m = len(terms) + 1
    g = gamma(m)
    # mag is itself a rounded sum of nonnegative terms: exact <= fl / (1 - gamma_m)
    bound = g * frobenius_upper(mag) / (1 - g) + arb(U) * frobenius_upper(S)
    bound += arb(S.size).sqrt() * m * arb(ETA)
    return S, bound.abs_upper()
