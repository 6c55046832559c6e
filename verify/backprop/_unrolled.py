"""What the numpy reference backprop of the momentum optimizers shares (internal).

:mod:`verify.backprop.momentum` (heavy ball) and :mod:`verify.backprop.adam` unroll their
optimizer on the (G, d) batch of iterates exactly like :mod:`verify.backprop.reference` unrolls
GD: the problem data rounded once to the dtype, every operation in the dtype, eta broadcast
to (G, d). This module holds the set-up and the meta-objective at w_t with the seed of its
adjoint. It never imports :mod:`verify.truth`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._common import Request, problem_data
from .reference import _mm, _trajectory_store

__all__ = ["Unrolled", "final_objective", "mm", "setup", "store"]

mm = _mm
store = _trajectory_store


@dataclass
class Unrolled:
    """The rounded data of one batched run."""

    dt: np.dtype[Any]
    H: Any
    b: Any
    homogeneous: bool
    He: Any
    be: Any
    ce: Any
    E: Any  # (G, d) step sizes
    W: Any  # (G, d) iterates, w_0 in every row (a fresh array)


def setup(req: Request) -> Unrolled:
    """Round the problem, the evaluation problem and the step sizes once to the dtype."""
    dt = req.dt
    G = req.etas.shape[0]
    H, b, _, w0 = problem_data(req.problem, dt)
    He, be, ce, _ = problem_data(req.eval, dt)
    with np.errstate(all="ignore"):
        E = np.ascontiguousarray(np.broadcast_to(req.etas.reshape(G, 1).astype(dt), (G, len(w0))))
    W = np.repeat(w0[None, :], G, axis=0)
    return Unrolled(dt, H, b, not np.any(b), He, be, ce, E, W)


def gradient(u: Unrolled, W: Any, out: Any = None) -> Any:
    """g = W H - b (row-wise H w - b; H is exactly symmetric), in the dtype."""
    g = mm(W, u.H, out=out)
    if not u.homogeneous:
        np.subtract(g, u.b, out=g)
    return g


def final_objective(u: Unrolled, W: Any, objective: str, t: int) -> tuple[Any, Any, Any, Any]:
    """(F, dF/df, H_e w_t - b_e, f) at the final iterates, as :mod:`.reference` forms them:
    dF/dw_t = (dF/df) (H_e w_t - b_e)."""
    dt = u.dt
    HW = mm(W, u.He)
    r = HW - u.be
    f = (W * HW).sum(axis=1) * dt.type(0.5) - (W * u.be).sum(axis=1) + u.ce
    if objective == "log":
        value = np.log(f) / dt.type(t)
        scale = (dt.type(1) / dt.type(t)) / f
    else:
        value = f
        scale = np.ones(W.shape[0], dtype=dt)
    return value, scale, r, f
