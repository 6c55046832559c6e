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

import math
from typing import Any

import numpy as np

from ..errors import TrajectoryMemoryError
from ._common import Request, check_dtype, problem_data
from .diagnostics import MATMUL_KEEPS, Diagnostics, Tracker, diagnostics_from

__all__ = ["run_numpy"]


def _mm(A: Any, B: Any, out: Any = None) -> Any:
    """A @ B kept in A's dtype, written into ``out`` when given.

    numpy float16/float32/float64 matmul already returns the operands' dtype; ml_dtypes'
    bfloat16 matmul accumulates and returns float32, so it is rounded back once -- the
    behaviour of bfloat16 hardware with float32 accumulation.
    """
    if A.dtype not in MATMUL_KEEPS:
        prod = (A @ B).astype(A.dtype)
        if out is None:
            return prod
        out[...] = prod
        return out
    return np.matmul(A, B, out=out)


def _trajectory_store(t: int, shape: tuple[int, ...], dt: np.dtype[Any]) -> Any:
    """The (t, G, d) array reverse mode keeps g_k in, or a typed error when it cannot exist."""
    try:
        return np.empty((t, *shape), dtype=dt)
    except MemoryError as exc:  # numpy's _ArrayMemoryError
        gib = t * math.prod(shape) * dt.itemsize / 2**30
        raise TrajectoryMemoryError(
            "t",
            t,
            f"reverse mode stores the trajectory: {t} steps x {shape[0]} step sizes x "
            f"{shape[1]} entries of {dt} = {gib:.3g} GiB, which cannot be allocated here; "
            "use mode='forward' or backend='stable' (memory independent of t), or fewer step "
            "sizes per call",
        ) from exc


def run_numpy(req: Request) -> tuple[Any, Any, list[Diagnostics]]:
    """Value, meta-gradient (arrays of shape (G,) in the dtype) and diagnostics.

    Accuracy
    --------
    None promised: this is a system under test. In exact arithmetic both modes equal the exact
    meta-gradient; in floating point they suffer the over/underflow of paper notes §4.5 and
    ordinary rounding (relative error growing like t u in benign regimes).
    :func:`verify.judge.judge_result` judges them against certified truth.
    """
    dt = req.dt
    one = dt.type(1)
    G = req.etas.shape[0]
    H, b, _, w0 = problem_data(req.problem, dt)
    He, be, ce, _ = problem_data(req.eval, dt)
    homogeneous = not np.any(b)
    t = req.t
    with np.errstate(all="ignore"):
        # eta broadcast once to the full (G, d) shape: a broadcasting multiply costs twice a
        # same-shape one at this size, and the products are the same roundings
        E = np.ascontiguousarray(np.broadcast_to(req.etas.reshape(G, 1).astype(dt), (G, len(w0))))
        W = np.repeat(w0[None, :], G, axis=0)  # a fresh array: updated in place below
        fwd = Tracker(G)
        adj = Tracker(G)
        fwd.see(0, W)
        tmp = np.empty_like(W)
        # no step allocates: the same operations as w - eta * g etc., written with out=;
        # reverse mode stores g_0 .. g_{t-1} in one (t, G, d) array (one large allocation
        # instead of t small ones: the operating system maps it in huge pages)
        stored = _trajectory_store(t, W.shape, dt) if req.mode == "reverse" else None
        V = np.zeros_like(W)
        VH = np.empty_like(W)
        for k in range(t):
            g = _mm(W, H, out=stored[k] if stored is not None else VH)
            if not homogeneous:
                np.subtract(g, b, out=g)
            if stored is None:  # forward mode: the tangent first (it reads g_k)
                np.subtract(V, np.multiply(E, _mm(V, H, out=tmp), out=tmp), out=V)
                np.subtract(V, g, out=V)
                adj.see(k + 1, V)
            np.multiply(E, g, out=tmp)
            np.subtract(W, tmp, out=W)
            fwd.see(k + 1, W)
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
        if stored is None:
            grad = (r * V).sum(axis=1) * scale
        else:
            bar = r * scale[:, None]
            adj.see(t, bar)
            grad = np.zeros(G, dtype=dt)
            BH = VH
            for k in range(t - 1, -1, -1):
                np.multiply(bar, stored[k], out=tmp)
                np.subtract(grad, tmp.sum(axis=1), out=grad)
                np.multiply(E, _mm(bar, H, out=BH), out=BH)
                np.subtract(bar, BH, out=bar)
                adj.see(k, bar)
    fwd.flush()
    adj.flush()
    check_dtype(grad, dt, "numpy meta-gradient")
    check_dtype(value, dt, "numpy meta-objective")
    diags = diagnostics_from(fwd, adj, f.astype(np.float64), t)
    return value, grad, diags
