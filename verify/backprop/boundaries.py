"""Predicted failure boundaries of plain backprop of the log meta-objective (paper notes §4.5).

Plain backprop (numpy reference, PyTorch, JAX) forms f(w_t) and the adjoint
bar w_t = grad f(w_t) / (t f(w_t)) explicitly. In H's eigenbasis (homogeneous case)

    ln f(w_t) = ln sum_i 1/2 c_i^2 lambda_i (1 - eta lambda_i)^(2t)  ~  2t ln rho(eta) + O(1),
    ln ||bar w_t|| ~ ln(||H|| ||w_t||) - ln t - ln f(w_t)             ~ -t ln rho(eta),

so the computation must fail once 2t |ln rho(eta)| carries f(w_t) past the dtype's exponent
range (claim 10 of paper notes §6): f(w_t) = inf (F = inf, the gradient comes back 0 or NaN),
f(w_t) = 0 (F = -inf, NaN), or bar w_t = inf. :func:`predict_failure` evaluates these
log-magnitudes in float64 (log-sum-exp over the modes, no over/underflow) and compares them
with the format's thresholds ``ln_max`` (largest finite), ``ln_min_normal`` and
``ln_min_subnormal``, with a safety margin on each side; between the two margins the outcome
is not predicted (``"boundary"``: subnormal f(w_t), partial precision loss).

This module never imports :mod:`verify.truth`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from ..floats import get_format
from ..problems import Problem
from ._common import make_request, reject
from .modal import largest_term, log_abs, modal_terms, sum_relative

__all__ = ["MARGIN_NATS", "FailurePrediction", "Verdict", "predict_failure"]

Verdict = Literal["safe", "fails", "boundary"]

# Safety margin (in nats) added to every threshold. Derivation: the float64 log-magnitudes
# are exact to ~1e-13; the float computation's intermediates differ from ln f(w_t) by
# (i) the entrywise products w_i (H w)_i and partial sums, at most ln(d) + ln(kappa_f) above
# f(w_t) (kappa_f = ||H|| ||w_t||^2 / f(w_t), added per problem below), and (ii) accumulated
# rounding, a factor (1 + t u)^2 <= e^2 for t u <= 1. A margin of ln 2 + 2 nats covers the
# rest (the 1/2 and the division by t).
MARGIN_NATS = math.log(2.0) + 2.0


@dataclass(frozen=True)
class FailurePrediction:
    """Predicted fate of plain backprop of the log objective at one step size.

    Attributes
    ----------
    verdict : {"safe", "fails", "boundary"}
        ``"fails"``: f(w_t) or the adjoint is predicted to leave the finite range (or f(w_t)
        to round to zero) by more than ``margin``; ``"safe"``: every predicted magnitude is
        inside the *normal* range by more than ``margin``; otherwise ``"boundary"``.
    reason : str
        Which threshold decided (``"f(w_t) overflows"``, ``"f(w_t) underflows to 0"``,
        ``"adjoint overflows"``, ``"in range"``, or the boundary that is too close).
    ln_loss : float
        ln f(w_t) (float64 estimate, exact up to float64 rounding of the eigensystem).
    ln_adjoint : float
        ln ||bar w_t||.
    ln_rho : float
        ln rho(eta).
    margin : float
        The margin used (nats).
    """

    verdict: Verdict
    reason: str
    ln_loss: float
    ln_adjoint: float
    ln_rho: float
    margin: float


def predict_failure(
    problem: Problem,
    eta: ArrayLike,
    t: int,
    *,
    dtype: str,
    eval_problem: Problem | None = None,
    margin: float | None = None,
) -> list[FailurePrediction]:
    """Predict where plain backprop of (1/t) log f(w_t) must fail, from spectrum and format.

    Parameters
    ----------
    problem, eval_problem : Quadratic or LeastSquares
    eta : float or 1-D array_like
        Step size(s) >= 0.
    t : int
        Horizon >= 1.
    dtype : {"float16", "bfloat16", "float32", "float64"}
        The format plain backprop runs in (its exponent range decides).
    margin : float, optional
        Safety margin in nats; default :data:`MARGIN_NATS` + ln(d) + ln(kappa_f).

    Returns
    -------
    list of FailurePrediction
        One per step size (a list of one for a scalar ``eta``).

    Accuracy
    --------
    The magnitudes are float64 log-sum-exp evaluations of the closed form (relative error of
    the log-magnitudes ~1e-13 plus the float64 eigensolver's); the verdict is a model of the
    float computation: ``"fails"`` and ``"safe"`` are claimed only beyond ``margin``.
    """
    fmt = get_format(dtype)
    req = make_request(
        problem,
        eta,
        t,
        objective="log",
        eval_problem=eval_problem,
        dtype="float64",
        backend="stable",
        mode="reverse",
    )
    if req.t < 1:  # pragma: no cover - validate_horizon already refuses t = 0 for log
        raise reject("t", t, "must be >= 1")
    dt = np.dtype(np.float64)
    ln_max = fmt.ln_max
    ln_min_sub = fmt.ln_min_subnormal
    ln_min_normal = fmt.emin * math.log(2.0)
    out: list[FailurePrediction] = []
    with np.errstate(all="ignore"):
        T = modal_terms(req, dt)
        kref, mref = largest_term(T, T.den)
        D = sum_relative(T, T.den, kref, mref)
        ln_f = kref * T.lrho + log_abs(mref) + np.log(D)
        lw = np.logaddexp(
            math.log(T.wstar_norm) if T.wstar_norm > 0 else -np.inf,
            req.t * T.lrho + np.log(T.znorm),
        )
        ln_grad_norm = np.log(T.He_norm) + lw
        ln_adj = ln_grad_norm - math.log(req.t) - ln_f
        ln_kf = np.maximum(ln_grad_norm + lw - ln_f, 0.0)
    d = problem.d
    for i in range(req.etas.shape[0]):
        m = margin if margin is not None else MARGIN_NATS + math.log(d) + float(ln_kf[i])
        lf, la, lr = float(ln_f[i]), float(ln_adj[i]), float(T.lrho[i])
        verdict: Verdict
        if not math.isfinite(lf) and lf < 0:
            verdict, reason = "fails", "f(w_t) = 0 exactly (eta lambda_i = 1 for every mode)"
        elif lf > ln_max + m:
            verdict, reason = "fails", "f(w_t) overflows"
        elif lf < ln_min_sub - m:
            verdict, reason = "fails", "f(w_t) underflows to 0"
        elif la > ln_max + m:
            verdict, reason = "fails", "adjoint overflows"
        elif lf < ln_max - m and lf > ln_min_normal + m and la < ln_max - m:
            verdict, reason = "safe", "in range"
        else:
            verdict, reason = "boundary", "within the margin of a threshold"
        out.append(FailurePrediction(verdict, reason, lf, la, lr, m))
    return out
