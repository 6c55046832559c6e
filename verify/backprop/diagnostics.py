"""What happened to the intermediates of a run: the :class:`Diagnostics` record and the tracker.

The stepwise backends (numpy reference, PyTorch, JAX, the clients) share this internal
interface: each feeds the magnitudes of its forward iterates (and, where the framework exposes
them, its adjoints or tangents) step by step to a :class:`Tracker`, one per pass, and turns
the two trackers and the final loss into one :class:`Diagnostics` per step size with
:func:`diagnostics_from`. The closed forms report :data:`NO_DIAGNOSTICS`. Nothing here
imports a framework or :mod:`verify.truth`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "BLOCK",
    "MATMUL_KEEPS",
    "NO_DIAGNOSTICS",
    "Diagnostics",
    "Tracker",
    "diagnostics_from",
]


@dataclass(frozen=True)
class Diagnostics:
    """What happened to the intermediates of one run (one step size).

    Attributes
    ----------
    max_forward, min_forward : float
        Largest finite and smallest nonzero magnitude over the entries of the forward
        iterates w_k (``nan`` when the backend does not expose them).
    max_adjoint, min_adjoint : float
        The same over the adjoints bar w_k (reverse mode) or tangents dw_k/deta (forward
        mode); for the closed-form backends, over the normalized modal terms.
    first_overflow, first_underflow, first_nan : int or None
        First step k at which an intermediate became +-inf; at which a vector that was
        nonzero became exactly zero, or the loss f(w_t) rounded to zero; at which a NaN
        appeared. The adjoint pass reports its own step index k (it runs from t down to 0).
    loss : float
        The evaluation loss f(w_t) as computed in the dtype (``nan`` when the backend never
        forms it, e.g. the stable closed form).
    sqrt_at_zero : int or None
        Adam only (``None`` elsewhere, and where no backend looked): the first step k
        (1-based, the step that forms v_k) at which an entry of the bias-corrected second
        moment vhat was exactly 0 in the dtype. There autodiff differentiates sqrt at 0:
        d sqrt(x)/dx = 1/(2 sqrt(x)) = inf, multiplied by an adjoint or tangent that is 0
        (the entry's gradients were all 0), gives inf * 0 = NaN, which then spreads to
        dF/deta. The exact meta-gradient exists there and is finite (see
        :mod:`verify.backprop.adam`): a NaN with this field set is the sqrt-at-0 artefact of
        autodiff, not an overflow.
    """

    max_forward: float
    min_forward: float
    max_adjoint: float
    min_adjoint: float
    first_overflow: int | None
    first_underflow: int | None
    first_nan: int | None
    loss: float
    sqrt_at_zero: int | None = None

    @property
    def failed(self) -> bool:
        """True when any intermediate overflowed, underflowed to zero or became NaN."""
        return (
            self.first_overflow is not None
            or self.first_underflow is not None
            or self.first_nan is not None
        )


#: What a closed form reports: it forms no intermediates that could over/underflow.
NO_DIAGNOSTICS = Diagnostics(math.nan, math.nan, math.nan, math.nan, None, None, None, math.nan)

#: Steps buffered per vectorized inspection by the diagnostics tracker.
BLOCK = 64
#: dtypes whose numpy matmul returns the operands' dtype (checked by identity: ``dtype.name``
#: is a Python-level property that costs more than a d = 100 matrix-vector product)
MATMUL_KEEPS = frozenset(np.dtype(n) for n in ("float16", "float32", "float64"))


class Tracker:
    """Per-step-size extreme magnitudes and first failure steps of a sequence of (G, d) arrays.

    Arrays are buffered and inspected in blocks of :data:`BLOCK` steps. The buffer is laid out
    (G, BLOCK, d) so that each step size's block is contiguous: one flat maximum and minimum per
    step size settle the common case (every entry finite and nonzero), and only step sizes whose
    block holds a NaN, an inf or a zero are inspected step by step.
    """

    def __init__(self, G: int) -> None:
        self.maxv = np.zeros(G)
        self.minv = np.full(G, np.inf)
        self.over = np.full(G, -1, dtype=np.int64)
        self.under = np.full(G, -1, dtype=np.int64)
        self.nan = np.full(G, -1, dtype=np.int64)
        self.nonzero: NDArray[np.bool_] | None = None
        self._ks: list[int] = []
        self._buf: Any = None

    def see(self, k: int, X: Any) -> None:
        """Record the magnitudes of the array of step ``k`` (copied: the caller may reuse it);
        steps are seen in processing order."""
        if self._buf is None:
            self._buf = np.empty((X.shape[0], BLOCK, *X.shape[1:]), dtype=X.dtype)
        np.abs(X, out=self._buf[:, len(self._ks)])  # the copy and |.| in one pass
        self._ks.append(k)
        if len(self._ks) >= BLOCK:
            self.flush()

    @staticmethod
    def _first(mask: Any, ks: Any, current: Any) -> Any:
        """Update first-step indices with the first True of each column of ``mask`` (n, G)."""
        hit = mask.any(axis=0)
        idx = ks[mask.argmax(axis=0)]
        return np.where(hit & (current < 0), idx, current)

    def flush(self) -> None:
        """Inspect the buffered steps (NaN and inf are data here: no floating-point warnings)."""
        if not self._ks:
            return
        with np.errstate(all="ignore"):
            self._flush()

    def _flush(self) -> None:
        ks = np.asarray(self._ks, dtype=np.int64)
        n = len(ks)
        self._ks = []
        a = self._buf[:, :n]  # (G, n, d) magnitudes: contiguous per step size when n == BLOCK
        flat = a.reshape(a.shape[0], -1)
        # magnitudes order like their bit patterns read as unsigned integers, with every NaN
        # above +inf: one integer maximum and minimum per step size say whether the block
        # holds a NaN (max above inf), an inf, a zero (min 0) or only NaN (min above inf)
        ut = _UINT[flat.dtype.itemsize]
        bits = flat.view(ut)
        inf_bits = np.array(np.inf, dtype=flat.dtype).view(ut)
        umax = bits.max(axis=1)
        umin = bits.min(axis=1)
        mx = umax.view(flat.dtype).astype(np.float64)  # NaN when the block holds a NaN
        finite = umax < inf_bits
        clean = finite & (umin > 0)
        # clean blocks: every entry finite and nonzero, so no first-failure step can change
        self.maxv[clean] = np.maximum(self.maxv[clean], mx[clean])
        self.minv[clean] = np.minimum(
            self.minv[clean], umin[clean].view(flat.dtype).astype(np.float64)
        )
        first_block = self.nonzero is None
        if self.nonzero is None:
            self.nonzero = np.ones(a.shape[0], dtype=bool)
        self.nonzero[clean] = True
        dirty = np.flatnonzero(~clean)
        # a block that is NaN throughout, after the first NaN was recorded, changes nothing
        # (NaN rows add no magnitudes, no inf, no zeros): the usual fate of a failed step size
        settled = self.nan[dirty] >= 0
        if settled.any():
            gone = dirty[settled]
            all_nan = umin[gone] > inf_bits
            dirty = np.concatenate([dirty[~settled], gone[~all_nan]])
        # likewise a block that is zero throughout after a zero row (an underflow recorded,
        # or zero data): the usual fate of a vanishing trajectory
        quiet = (mx[dirty] == 0) & ~self.nonzero[dirty]
        dirty = dirty[~quiet]
        # finite blocks holding zeros (no NaN, no inf): only magnitudes and all-zero rows
        # matter -- the usual state of a trajectory stuck among subnormals and zeros
        zeros = dirty[finite[dirty]]
        if zeros.size:
            self._inspect_zeros(zeros, ks, a[zeros], mx[zeros], first_block)
        rest = dirty[~finite[dirty]]
        if rest.size:
            self._inspect_steps(rest, ks, a[rest].transpose(1, 0, 2), first_block)

    def _underflows(self, idx: Any, ks: Any, nonzero: Any, first_block: bool) -> None:
        """Record underflows (a row that is all zero after one that was not) from ``nonzero``
        (n, len(idx)); the first row ever seen has no predecessor (a zero there is the data)."""
        assert self.nonzero is not None
        before = nonzero[:1] if first_block else self.nonzero[idx][None, :]
        prev = np.concatenate([before, nonzero[:-1]])
        self.under[idx] = self._first(prev & ~nonzero, ks, self.under[idx])
        self.nonzero[idx] = nonzero[-1]

    def _inspect_zeros(self, idx: Any, ks: Any, a: Any, mx: Any, first_block: bool) -> None:
        """Blocks of the step sizes ``idx`` that are finite but hold zeros; ``a`` is
        (len(idx), n, d) abs, ``mx`` their flat maxima."""
        self.maxv[idx] = np.maximum(self.maxv[idx], mx)
        self.minv[idx] = np.minimum(self.minv[idx], _min_positive(a.reshape(a.shape[0], -1)))
        # rows with a positive sum hold a positive entry whatever the summation order or
        # the BLAS's subnormal mode (entries are finite and >= 0); a matrix-vector product
        # sums them ~5x faster than a per-row maximum, which settles only the zero sums
        rows = a.reshape(-1, a.shape[2])
        if a.dtype in MATMUL_KEEPS:
            nonzero = _row_sums(rows) > 0
            unsure = np.flatnonzero(~nonzero)
            nonzero[unsure] = rows[unsure].max(axis=1) > 0
        else:
            nonzero = rows.max(axis=1) > 0
        self._underflows(idx, ks, nonzero.reshape(a.shape[:2]).T, first_block)

    def _inspect_steps(self, idx: Any, ks: Any, a: Any, first_block: bool) -> None:
        """Step-by-step inspection of the step sizes ``idx``; ``a`` is (n, len(idx), d) abs."""
        # one reduction pass per row; rows holding NaN, inf or zeros are revisited
        # individually, and only while it can change a recorded value
        mx = a.max(axis=2).astype(np.float64)  # NaN when the row holds a NaN
        nanmask = np.isnan(mx)
        self.nan[idx] = self._first(nanmask, ks, self.nan[idx])
        infmask = np.isinf(mx)
        fresh_nan = nanmask & (self.over[idx] < 0)[None, :]
        if fresh_nan.any():  # an inf hidden behind a NaN in the same row (first time only)
            infmask = infmask.copy()
            infmask[fresh_nan] = np.isinf(a[fresh_nan].astype(np.float64)).any(axis=1)
        self.over[idx] = self._first(infmask, ks, self.over[idx])
        finite_max = np.where(nanmask | infmask, 0.0, mx)
        # rows holding an inf but no NaN still have finite entries worth recording (rows with
        # a NaN are past their first failure; their remaining finite entries are not tracked)
        redo = infmask & ~nanmask
        if redo.any():
            sub = a[redo].astype(np.float64)
            finite_max[redo] = np.where(np.isfinite(sub), sub, 0.0).max(axis=1)
        self.maxv[idx] = np.maximum(self.maxv[idx], finite_max.max(axis=0))
        per_row = _min_positive(a.transpose(1, 0, 2).reshape(a.shape[1], -1))
        self.minv[idx] = np.minimum(self.minv[idx], per_row)
        self._underflows(idx, ks, (finite_max > 0) | nanmask | infmask, first_block)


def _row_sums(rows: Any) -> Any:
    """Row sums of a 2-D float array by one matrix-vector product (BLAS for float32/64)."""
    return rows @ np.ones(rows.shape[1], dtype=rows.dtype)


_UINT = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def _min_positive(a: Any) -> Any:
    """Row minima over the positive entries of a 2-D array of magnitudes (float64; inf for a
    row without one). NaN entries are skipped, like zeros.

    Nonnegative IEEE floats order like their bit patterns read as unsigned integers, so
    subtracting 1 from the bits (zero wraps to the largest integer) makes one integer minimum
    find the smallest positive entry; patterns above +inf's are NaN. Two passes over the
    data, where a masked ``min(where=a > 0)`` is ~40x slower.
    """
    ut = _UINT[a.dtype.itemsize]
    bits = np.ascontiguousarray(a).view(ut)
    low = (bits - ut(1)).min(axis=1) + ut(1)  # 0 back when the row is all zero
    inf_bits = np.array(np.inf, dtype=a.dtype).view(ut)
    hit = (low != 0) & (low <= inf_bits)
    # rows whose only nonzero entries are NaN are left at inf too
    out = np.full(a.shape[0], np.inf)
    out[hit] = low[hit].view(a.dtype).astype(np.float64)
    return out


def _first(*ks: int) -> int | None:
    got = [int(k) for k in ks if k >= 0]
    return min(got) if got else None


def diagnostics_from(fwd: Tracker, adj: Tracker, loss: Any, t: int) -> list[Diagnostics]:
    """Per-step-size :class:`Diagnostics` from the forward and adjoint trackers.

    A loss that is 0, inf or NaN at w_t counts as an underflow, overflow or NaN at step t
    when no intermediate failed earlier.
    """
    diags = []
    for i in range(len(loss)):
        under = _first(fwd.under[i], adj.under[i])
        if loss[i] == 0 and under is None:
            under = t
        over = _first(fwd.over[i], adj.over[i])
        if np.isinf(loss[i]) and over is None:
            over = t
        nan = _first(fwd.nan[i], adj.nan[i])
        if np.isnan(loss[i]) and nan is None:
            nan = t
        diags.append(
            Diagnostics(
                max_forward=float(fwd.maxv[i]),
                min_forward=float(fwd.minv[i]),
                max_adjoint=float(adj.maxv[i]),
                min_adjoint=float(adj.minv[i]),
                first_overflow=over,
                first_underflow=under,
                first_nan=nan,
                loss=float(loss[i]),
            )
        )
    return diags
