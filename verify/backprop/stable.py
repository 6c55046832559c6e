"""Numerically stable meta-gradient: the normalized eigenbasis formula (paper notes §4.6).

Plain backprop multiplies exponentially large and small factors (paper notes §4.5). Here the
trajectory is written in H's eigenbasis, every power is normalized by rho(eta) = max_i
|1 - eta lambda_i| (from sorted ``eigh`` eigenvalues), and the remaining powers of rho are kept
as integer exponents and combined in log space, so no intermediate leaves the float range.

Homogeneous case (b = 0, evaluation loss = training loss), with r_i = (1 - eta lambda_i)/rho and
c = U^T w0::

    F'(eta) = -(2/rho) * sum_i c_i^2 lambda_i^2 r_i^(2t-1) / sum_i c_i^2 lambda_i r_i^(2t)
    F(eta)  = 2 log rho + (1/t) log(1/2 sum_i c_i^2 lambda_i r_i^(2t))

General case (b != 0 and/or a separate evaluation quadratic g(w) = 1/2 w^T He w - be^T w + ce):
with w* = H^+ b, e = U^T (w0 - w*), z = r^t o e, y = lambda o r^(t-1) o e, M = U^T He U,
G* = g(w*), q = U^T grad g(w*)::

    g(w_t)      = G* + rho^t q^T z + rho^(2t) 1/2 z^T M z
    dg/deta     = -t (rho^(t-1) q^T y + rho^(2t-1) z^T M y)

and F = (1/t) log g, F' = (dg/deta) / (t g) (log objective) or F = g, F' = dg/deta (naive).
The sums of terms with different powers of rho are formed relative to the largest one (a
log-sum-exp with integer exponents, so the exponent arithmetic only rounds where terms are
comparable in size).

All arithmetic is in the requested dtype (float32 or float64): data rounded once, ``eigh`` in
that dtype. This module never imports :mod:`verify.truth`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import Request, check_dtype, reject
from .diagnostics import NO_DIAGNOSTICS, Diagnostics
from .modal import largest_term, log_abs, modal_terms, scaled, sum_relative
from .registry import backend_info

__all__ = ["run_stable"]

STABLE_DTYPES: tuple[str, ...] = backend_info("stable").dtypes


def run_stable(req: Request) -> tuple[Any, Any, list[Diagnostics]]:
    """Value and meta-gradient by the normalized closed form, in the requested dtype.

    Accuracy
    --------
    First-order error model (a derivation, not a proof; :func:`verify.compare.tolerance`
    turns it into the tolerance the tests use). The largest mode has |r| = 1 exactly, so
    rounding enters only through

    * the eigensolver's backward error |delta lambda| <= p(d) u ||H|| and the O(d) roundings
      of each length-d sum: relative error ~ d u kappa_f;
    * the modal data e = U^T (w0 - w*) and G* = g(w*) as formed: ~ d u kappa_data (zero
      extra cost when b = 0);
    * one rounding in each a_i = 1 - eta lambda_i: a relative error e in r_i becomes 2t e in
      r_i^(2t), but only for the weight q of the non-largest modes, and a relative error e in
      rho becomes gap * e through the power of rho left between numerator and denominator
      (gap = 1 when b = 0): ~ (2t q + gap) u kappa_eta.

    So the error does not grow with t away from eta* = 2/(L + alpha) (where q -> 1/2 for
    large t and the exact F' itself varies on a scale 1/t) and from degenerate extreme
    eigenvalues, and over/underflow cannot occur: nothing is exponentiated except normalized
    powers |r| <= 1 and ratios to the largest term.
    """
    if req.fmt.name not in STABLE_DTYPES:
        raise reject(
            "dtype",
            req.fmt.name,
            f"backend='stable' supports {STABLE_DTYPES} (numpy has no eigensolver in "
            "float16/bfloat16, and the exponent bookkeeping needs t to be exact in the dtype)",
        )
    dt = req.dt
    t = req.t
    with np.errstate(all="ignore"):
        T = modal_terms(req, dt)
        if req.objective == "log":
            kref, mref = largest_term(T, T.den)
            D = sum_relative(T, T.den, kref, mref)
            N = sum_relative(T, T.num, kref, mref)
            grad = -N / D
            ratio = (kref / t).astype(dt)  # 0, 1 or 2: exact
            value = ratio * T.lrho + (log_abs(mref) + np.log(D)) / dt.type(t)
        else:
            value = np.zeros_like(T.lrho)
            for k, m in T.den:
                value = value + scaled(T, k, m)
            grad = np.zeros_like(T.lrho)
            for k, m in T.num:
                # t joins the mantissa before scaling, so a product that is a subnormal
                # number is not lost to an intermediate underflow of rho^k * m
                grad = grad - scaled(T, k, dt.type(t) * m)
    check_dtype(grad, dt, "stable meta-gradient")
    check_dtype(value, dt, "stable meta-objective")
    return value, grad, [NO_DIAGNOSTICS] * req.etas.shape[0]
