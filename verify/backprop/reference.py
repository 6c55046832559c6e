"""Reference backprop in numpy: the system under test, at any float dtype.

Computes the meta-objective and its eta-derivative the way an autodiff framework does, with
every operation in the stated dtype (problem data rounded once to it, no upcasting):

* ``mode="reverse"``: run and store the trajectory (w_{k+1} = w_k - eta g_k, g_k = H w_k - b),
  then the adjoint pass bar w_t = dF/dw_t, bar w_k = (I - eta H) bar w_{k+1},
  dF/deta = sum_k <bar w_{k+1}, -g_k> (paper notes §4.5);
* ``mode="forward"``: propagate the tangent v_{k+1} = (I - eta H) v_k - g_k (v = dw/deta) and
  contract dF/deta = <dF/dw_t, v_t>.

Batched over a vector of step sizes: G step sizes advance together as a (G, d) array, so a
grid costs matrix-matrix products. This module never imports :mod:`verify.truth`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._common import Diagnostics, Request, check_dtype, problem_data

__all__ = ["run_numpy"]

#: Steps buffered per vectorized inspection by the diagnostics tracker.
BLOCK = 64


class _Tracker:
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
        """Record (a copy of) the array of step ``k``; steps are seen in processing order."""
        if self._buf is None:
            self._buf = np.empty((X.shape[0], BLOCK, *X.shape[1:]), dtype=X.dtype)
        self._buf[:, len(self._ks)] = X
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
        a = self._buf[:, :n]  # (G, n, d): contiguous per step size when n == BLOCK
        np.abs(a, out=a)
        flat = a.reshape(a.shape[0], -1)
        mx = flat.max(axis=1).astype(np.float64)  # NaN when the block holds a NaN
        mn = flat.min(axis=1).astype(np.float64)
        clean = np.isfinite(mx) & (mn > 0)
        # clean blocks: every entry finite and nonzero, so no first-failure step can change
        self.maxv[clean] = np.maximum(self.maxv[clean], mx[clean])
        self.minv[clean] = np.minimum(self.minv[clean], mn[clean])
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
            all_nan = np.isnan(flat[gone]).all(axis=1)
            dirty = np.concatenate([dirty[~settled], gone[~all_nan]])
        # likewise a block that is zero throughout after a zero row (an underflow recorded,
        # or zero data): the usual fate of a vanishing trajectory
        quiet = (mx[dirty] == 0) & ~self.nonzero[dirty]
        dirty = dirty[~quiet]
        if dirty.size:
            self._inspect_steps(dirty, ks, a[dirty].transpose(1, 0, 2), first_block)

    def _inspect_steps(self, idx: Any, ks: Any, a: Any, first_block: bool) -> None:
        """Step-by-step inspection of the step sizes ``idx``; ``a`` is (n, len(idx), d) abs.

        An underflow is a row that is all zero after a row that was not; the first row ever
        seen has no predecessor (a zero there is the data, not an underflow)."""
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
        amin = np.min(a, axis=2, where=a > 0, initial=np.inf).astype(np.float64)
        self.minv[idx] = np.minimum(self.minv[idx], amin.min(axis=0))
        nonzero = (finite_max > 0) | nanmask | infmask
        assert self.nonzero is not None
        before = nonzero[:1] if first_block else self.nonzero[idx][None, :]
        prev = np.concatenate([before, nonzero[:-1]])
        self.under[idx] = self._first(prev & ~nonzero, ks, self.under[idx])
        self.nonzero[idx] = nonzero[-1]


def _mm(A: Any, B: Any) -> Any:
    """A @ B kept in A's dtype.

    numpy float16/float32/float64 matmul already returns the operands' dtype; ml_dtypes'
    bfloat16 matmul accumulates and returns float32, so it is rounded back once -- the
    behaviour of bfloat16 hardware with float32 accumulation.
    """
    out = A @ B
    return out if out.dtype == A.dtype else out.astype(A.dtype)


def _first(*ks: int) -> int | None:
    got = [int(k) for k in ks if k >= 0]
    return min(got) if got else None


def diagnostics_from(fwd: _Tracker, adj: _Tracker, loss: Any, t: int) -> list[Diagnostics]:
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


def run_numpy(req: Request) -> tuple[Any, Any, list[Diagnostics]]:
    """Value, meta-gradient (arrays of shape (G,) in the dtype) and diagnostics.

    Accuracy
    --------
    None promised: this is a system under test. In exact arithmetic both modes equal the exact
    meta-gradient; in floating point they suffer the over/underflow of paper notes §4.5 and
    ordinary rounding (relative error growing like t u in benign regimes).
    :func:`verify.compare.classify` judges them against certified truth.
    """
    dt = req.dt
    one = dt.type(1)
    G = req.etas.shape[0]
    H, b, _, w0 = problem_data(req.problem, dt)
    He, be, ce, _ = problem_data(req.eval, dt)
    homogeneous = not np.any(b)
    t = req.t
    with np.errstate(all="ignore"):
        E = req.etas.reshape(G, 1).astype(dt)
        W = np.repeat(w0[None, :], G, axis=0)  # a fresh array: updated in place below
        fwd = _Tracker(G)
        adj = _Tracker(G)
        fwd.see(0, W)
        grads: list[Any] = []
        V = np.zeros_like(W)
        tmp = np.empty_like(W)
        # the same operations as w - eta * g etc., written with out= so that no step allocates
        # more than the stored g_k (the tracker copies what it inspects)
        for k in range(1, t + 1):
            g = _mm(W, H) if homogeneous else _mm(W, H) - b
            if req.mode == "forward":
                VH = _mm(V, H)
                np.multiply(E, VH, out=VH)
                np.subtract(V, VH, out=V)
                np.subtract(V, g, out=V)
                adj.see(k, V)
            else:
                grads.append(g)
            np.multiply(E, g, out=tmp)
            np.subtract(W, tmp, out=W)
            fwd.see(k, W)
        HW = _mm(W, He)
        r = HW - be
        f = (W * HW).sum(axis=1) * dt.type(0.5) - (W * be).sum(axis=1) + ce
        if req.objective == "log":
            value = np.log(f) / dt.type(t)
            # autodiff of log(f)/t: d/df = (1/t) * (1/f)
            scale = (one / dt.type(t)) / f
        else:
            value = f
            scale = np.ones(G, dtype=dt)
        if req.mode == "forward":
            grad = (r * V).sum(axis=1) * scale
        else:
            bar = r * scale[:, None]
            adj.see(t, bar)
            grad = np.zeros(G, dtype=dt)
            for k in range(t - 1, -1, -1):
                np.multiply(bar, grads[k], out=tmp)
                grad = grad - tmp.sum(axis=1)
                BH = _mm(bar, H)
                np.multiply(E, BH, out=BH)
                np.subtract(bar, BH, out=bar)
                adj.see(k, bar)
    fwd.flush()
    adj.flush()
    check_dtype(grad, dt, "numpy meta-gradient")
    check_dtype(value, dt, "numpy meta-objective")
    diags = diagnostics_from(fwd, adj, f.astype(np.float64), t)
    return value, grad, diags
