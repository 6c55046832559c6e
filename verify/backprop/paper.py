"""The authors' rescaled closed form (paper notes §4.6), as a baseline system under test.

``learn_eta_quadratic.py`` (commit 5c937d6) computes, for f(w) = 1/2 w^T H w::

    lam, _ = np.linalg.eig(H); L = lam[0]; alpha = lam[-1]
    s = 1 - eta alpha if eta <= 2/(alpha + L) else eta L - 1
    A = (I - eta H) / s
    F'(eta) = -2 (w0^T A^(2t-1) H^2 w0 / s) / (w0^T A^(2t) H w0)

``variant="published"`` reproduces that, including reading L and alpha from the *unsorted*
output of ``np.linalg.eig`` (so s may differ from rho(eta) and A^(2t) may over/underflow);
``variant="sorted"`` takes s = rho(eta) = max_i |1 - eta lambda_i| from sorted ``eigh``
eigenvalues, the fix the notes recommend. The published loop multiplies by A 2t - 1 times;
here ``np.linalg.matrix_power`` (repeated squaring) forms the same power, so the rounding
differs from the published run while the computed quantity is the same. The value F is the
authors' ``meta_objective`` (log of the unrolled loss over t), evaluated with the same
powers: F = 2 log s + (1/t) log(1/2 w0^T A^(2t) H w0).

It is a system under test, never an oracle. Only the paper's setting is supported: b = 0, no
separate evaluation problem, log objective; float32 or float64 (the published code is
float64). This module never imports :mod:`verify.truth`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import Request, check_dtype, problem_data, reject
from .diagnostics import NO_DIAGNOSTICS, Diagnostics
from .registry import backend_info

__all__ = ["PAPER_VARIANTS", "run_paper"]

PAPER_VARIANTS: tuple[str, ...] = backend_info("paper").variants
PAPER_DTYPES: tuple[str, ...] = backend_info("paper").dtypes


def _scale(eta: Any, lam: Any, variant: str, dt: np.dtype[Any]) -> Any:
    one = dt.type(1)
    if variant == "published":
        L, alpha = lam[0], lam[-1]
        return one - eta * alpha if eta <= dt.type(2) / (alpha + L) else eta * L - one
    return np.abs(one - eta * lam).max()


def run_paper(req: Request, variant: str) -> tuple[Any, Any, list[Diagnostics]]:
    """Value and meta-gradient by the authors' rescaled matrix-power formula, in the dtype.

    Accuracy
    --------
    None promised (a system under test). With ``variant="sorted"`` the largest eigenvalue of A
    has modulus 1, and repeated squaring gives a relative error growing like t d u (matrix
    powers); with ``variant="published"`` the spectral radius of A is rho(eta)/s, which is
    not 1 whenever ``np.linalg.eig`` does not return L first and alpha last, and then A^(2t)
    over/underflows once 2t |log(rho/s)| exceeds the exponent range.
    """
    if variant not in PAPER_VARIANTS:
        raise reject("variant", variant, f"must be one of {PAPER_VARIANTS}")
    if req.fmt.name not in PAPER_DTYPES:
        raise reject("dtype", req.fmt.name, f"backend='paper' supports {PAPER_DTYPES}")
    if req.objective != "log":
        raise reject("objective", req.objective, "backend='paper' implements the log objective")
    if req.eval_problem is not None and req.eval_problem is not req.problem:
        raise reject("eval_problem", req.eval_problem, "backend='paper' has no evaluation set")
    dt = req.dt
    H, b, _, w0 = problem_data(req.problem, dt)
    if np.any(b):
        raise reject("problem", req.problem, "backend='paper' needs b = 0 (f = 1/2 w^T H w)")
    d = H.shape[0]
    t = req.t
    if variant == "published":
        lam_c = np.linalg.eig(H)[0]
        lam = np.real(lam_c).astype(dt)
    else:
        lam = np.linalg.eigvalsh(H)
    I_d = np.eye(d, dtype=dt)
    Hw0 = H @ w0
    HHw0 = H @ Hw0
    values, grads = [], []
    with np.errstate(all="ignore"):
        for eta64 in req.etas:
            eta = dt.type(eta64)
            s = dt.type(_scale(eta, lam, variant, dt))
            A = (I_d - eta * H) / s
            P = np.linalg.matrix_power(A, 2 * t - 1)
            P2 = P @ A
            numerator = w0 @ (P @ HHw0) / s
            denominator = w0 @ (P2 @ Hw0)
            grads.append(dt.type(-2) * numerator / denominator)
            values.append(
                dt.type(2) * np.log(np.abs(s)) + np.log(dt.type(0.5) * denominator) / dt.type(t)
            )
    value = np.array(values, dtype=dt)
    grad = np.array(grads, dtype=dt)
    check_dtype(grad, dt, "paper meta-gradient")
    return value, grad, [NO_DIAGNOSTICS] * len(grads)
