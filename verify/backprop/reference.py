"""Reference backprop in numpy: the system under test, at any float dtype.

Computes the meta-objective and its eta-derivative the way an autodiff framework does, with
every operation in the stated dtype (problem data rounded once to it, no upcasting):

* ``mode="reverse"``: store the trajectory w_0..w_t (w_{k+1} = w_k - eta (H w_k - b)), then
  run the adjoint pass bar w_t = dF/dw_t, bar w_k = (I - eta H) bar w_{k+1},
  dF/deta = sum_k <bar w_{k+1}, -(H w_k - b)> (paper notes §4.5);
* ``mode="forward"``: propagate the tangent v_{k+1} = (I - eta H) v_k - (H w_k - b) and
  contract dF/deta = <dF/dw_t, v_t>.

Batched over a vector of step sizes: G step sizes advance together as a (G, d) array, so a
grid costs matrix-matrix products. This module never imports :mod:`verify.truth`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import InvalidStepSizeError, UnknownOptionError
from ..floats import get_format
from ..objectives import validate_eval_problem, validate_horizon, validate_objective
from ..problems import LeastSquares, Problem, Quadratic

__all__ = ["BackpropResult", "Diagnostics", "meta_gradient"]

BACKENDS = ("numpy",)
MODES = ("reverse", "forward")


@dataclass(frozen=True)
class Diagnostics:
    """What happened to the intermediates of one run (one step size).

    Attributes
    ----------
    max_forward, min_forward : float
        Largest and smallest nonzero magnitude over the entries of the forward iterates w_k.
    max_adjoint, min_adjoint : float
        The same over the adjoints bar w_k (reverse) or tangents v_k (forward).
    first_overflow, first_underflow, first_nan : int or None
        First step k at which an intermediate became +-inf; at which an iterate or adjoint
        that was nonzero became exactly zero (or the loss f(w_t) rounded to 0); at which a NaN
        appeared. The adjoint pass reports its own step index k (it runs from t down to 0).
    loss : float
        The evaluation loss f(w_t) as computed in the dtype.
    """

    max_forward: float
    min_forward: float
    max_adjoint: float
    min_adjoint: float
    first_overflow: int | None
    first_underflow: int | None
    first_nan: int | None
    loss: float


@dataclass(frozen=True)
class BackpropResult:
    """Meta-objective value and meta-gradient from a float backend, with diagnostics.

    ``value`` and ``grad`` are numpy scalars of ``dtype`` for a scalar step size, arrays of
    shape (G,) for a vector of step sizes (``diagnostics`` is then a list).
    """

    value: Any
    grad: Any
    dtype: str
    backend: str
    mode: str
    objective: str
    t: int
    eta: Any
    diagnostics: Any = field(repr=False)


def _data(problem: Problem, dt: np.dtype[Any]) -> tuple[Any, Any, Any, Any]:
    q = problem.as_quadratic() if isinstance(problem, LeastSquares) else problem
    assert isinstance(q, Quadratic)
    with np.errstate(all="ignore"):
        H = q.H.astype(dt)
        b = q.b_vector.astype(dt)
        c = np.array(q.c).astype(dt)
        w0 = q.w0.astype(dt)
    return H, b, c, w0


def _validate_etas(eta: ArrayLike) -> NDArray[np.float64]:
    arr = np.asarray(eta, dtype=np.float64)
    if arr.ndim > 1:
        raise InvalidStepSizeError("eta", eta, "must be a scalar or a 1-D array")
    if not np.all(np.isfinite(arr)):
        raise InvalidStepSizeError("eta", eta, "must be finite")
    if np.any(arr < 0):
        raise InvalidStepSizeError("eta", eta, "must be >= 0")
    return arr


class _Tracker:
    """Per-step-size extreme magnitudes and first failure steps.

    Arrays are buffered and analysed in chunks of ``_CHUNK`` steps, vectorized over steps and
    step sizes, so tracking costs little next to the recurrence itself. ``push`` must be
    called with strictly monotone step indices (increasing forward, decreasing backward).
    """

    _CHUNK = 64

    def __init__(self, G: int) -> None:
        self.maxv = np.zeros(G)
        self.minv = np.full(G, np.inf)
        self._over = np.full(G, -1)
        self._under = np.full(G, -1)
        self._nan = np.full(G, -1)
        self._buf: list[Any] = []
        self._steps: list[int] = []
        self._last_nonzero: Any = None

    def push(self, k: int, X: Any) -> None:
        self._buf.append(X)
        self._steps.append(k)
        if len(self._buf) >= self._CHUNK:
            self.flush()

    @staticmethod
    def _first(store: Any, steps: Any, hit: Any) -> None:
        # hit: (chunk, G) booleans; record the step of the first hit per column if unset
        anyhit = hit.any(axis=0)
        idx = hit.argmax(axis=0)
        new = (store < 0) & anyhit
        store[new] = steps[idx[new]]

    def flush(self) -> None:
        if not self._buf:
            return
        a = np.abs(np.stack(self._buf).astype(np.float64))  # (chunk, G, d)
        steps = np.array(self._steps)
        self._buf, self._steps = [], []
        self.maxv = np.maximum(self.maxv, np.where(np.isfinite(a), a, 0.0).max(axis=(0, 2)))
        self.minv = np.minimum(self.minv, np.where(a > 0, a, np.inf).min(axis=(0, 2)))
        self._first(self._over, steps, np.isinf(a).any(axis=2))
        self._first(self._nan, steps, np.isnan(a).any(axis=2))
        nonzero: Any = (a > 0).any(axis=2)  # (chunk, G)
        prev = np.concatenate(
            [nonzero[:1] if self._last_nonzero is None else self._last_nonzero[None], nonzero[:-1]]
        )
        self._first(self._under, steps, prev & ~nonzero)
        self._last_nonzero = nonzero[-1]

    @staticmethod
    def _get(store: Any, g: int) -> int | None:
        return None if store[g] < 0 else int(store[g])

    def over(self, g: int) -> int | None:
        return self._get(self._over, g)

    def under(self, g: int) -> int | None:
        return self._get(self._under, g)

    def nan(self, g: int) -> int | None:
        return self._get(self._nan, g)


def meta_gradient(
    problem: Problem,
    eta: ArrayLike,
    t: int,
    *,
    objective: str = "log",
    eval_problem: Problem | None = None,
    dtype: str = "float32",
    backend: str = "numpy",
    mode: str = "reverse",
) -> BackpropResult:
    """Meta-objective and meta-gradient by plain backprop (or forward mode) in ``dtype``.

    Parameters
    ----------
    problem, eval_problem : Quadratic or LeastSquares
        Training problem (GD runs on it) and evaluation loss (defaults to ``problem``).
        Least-squares data enter through their float64 quadratic (H, b, c), rounded to dtype.
    eta : float or 1-D array
        Step size(s) >= 0; a vector is run batched.
    t : int
        Horizon (>= 1 for the log objective).
    objective : {"log", "naive"}
    dtype : {"float16", "bfloat16", "float32", "float64"}
    backend : {"numpy"}
    mode : {"reverse", "forward"}

    Accuracy
    --------
    None promised: this is a system under test. In exact arithmetic both modes equal the exact
    meta-gradient; in floating point they suffer the over/underflow of paper notes §4.5 and
    ordinary rounding. :func:`verify.compare.classify` judges them against certified truth.
    """
    obj = validate_objective(objective)
    ti = validate_horizon(t, objective=obj)
    validate_eval_problem(problem, eval_problem)
    if backend not in BACKENDS:
        raise UnknownOptionError("backend", backend, f"must be one of {BACKENDS} (reference numpy)")
    if mode not in MODES:
        raise UnknownOptionError("mode", mode, f"must be one of {MODES}")
    fmt = get_format(dtype)
    dt = fmt.numpy_dtype()
    etas64 = _validate_etas(eta)
    scalar = etas64.ndim == 0
    G = 1 if scalar else etas64.shape[0]
    H, b, _, w0 = _data(problem, dt)
    He, be, ce, _ = _data(problem if eval_problem is None else eval_problem, dt)
    with np.errstate(all="ignore"):
        E = etas64.reshape(G, 1).astype(dt)
        W = np.repeat(w0[None, :], G, axis=0)
        fwd = _Tracker(G)
        adj = _Tracker(G)
        fwd.push(0, W)
        traj = [W] if mode == "reverse" else None
        V = np.zeros_like(W)
        for k in range(1, ti + 1):
            grad_w = W @ H - b
            if mode == "forward":
                V = V - E * (V @ H) - grad_w
                adj.push(k, V)
            W = W - E * grad_w
            fwd.push(k, W)
            if traj is not None:
                traj.append(W)
        r = W @ He - be
        f = (W * (W @ He)).sum(axis=1) / dt.type(2) - (W * be).sum(axis=1) + ce
        f = f.astype(dt)
        if obj == "log":
            value = np.log(f) / dt.type(ti)
            scale = (dt.type(1) / (dt.type(ti) * f)).astype(dt)
        else:
            value = f
            scale = np.ones(G, dtype=dt)
        if mode == "forward":
            grad = ((r * V).sum(axis=1) * scale).astype(dt)
        else:
            bar = (r * scale[:, None]).astype(dt)
            adj.push(ti, bar)
            grad = np.zeros(G, dtype=dt)
            assert traj is not None
            for k in range(ti - 1, -1, -1):
                Wk = traj[k]
                grad = grad + (bar * -(Wk @ H - b)).sum(axis=1)
                bar = bar - E * (bar @ H)
                adj.push(k, bar)
        fwd.flush()
        adj.flush()
        diags = []
        for g in range(G):
            under = fwd.under(g)
            if f[g] == 0 and under is None:
                under = ti
            firsts_over = [x for x in (fwd.over(g), adj.over(g)) if x is not None]
            if not math.isfinite(float(f[g])) and not firsts_over:
                firsts_over = [ti]
            firsts_nan = [x for x in (fwd.nan(g), adj.nan(g)) if x is not None]
            under_all = [x for x in (under, adj.under(g)) if x is not None]
            diags.append(
                Diagnostics(
                    max_forward=float(fwd.maxv[g]),
                    min_forward=float(fwd.minv[g]),
                    max_adjoint=float(adj.maxv[g]),
                    min_adjoint=float(adj.minv[g]),
                    first_overflow=min(firsts_over) if firsts_over else None,
                    first_underflow=min(under_all) if under_all else None,
                    first_nan=min(firsts_nan) if firsts_nan else None,
                    loss=float(f[g]),
                )
            )
    value = value.astype(dt)
    grad = grad.astype(dt)
    if scalar:
        return BackpropResult(
            value[0], grad[0], fmt.name, backend, mode, obj, ti, float(etas64), diags[0]
        )
    return BackpropResult(value, grad, fmt.name, backend, mode, obj, ti, etas64, diags)
