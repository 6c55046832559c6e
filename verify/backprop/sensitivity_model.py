"""The sensitivity model every backend is judged by: float64 condition numbers of F'(eta).

:func:`verify.compare.tolerance` sizes the tolerance of a result from a :class:`Sensitivity`
(how much rounding in the data, the step size and the loss can move F'), and
:func:`verify.backprop.sensitivity` is its public entry point. The model reads the trajectory
end off H's normalized eigenbasis (:mod:`verify.backprop.modal`) in float64, every magnitude
combined in log space, so it exists wherever the exact F' does, also far outside float64's
range. It is a model, not a certified quantity. This module never imports
:mod:`verify.truth`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._common import Request, problem_data
from .modal import ModalTerms, largest_term, log_abs, modal_terms, relative, scaled, sum_relative

__all__ = ["Sensitivity", "sensitivity"]


@dataclass(frozen=True)
class Sensitivity:
    """Float64 condition numbers of the meta-gradient at one (problem, eta, t, objective).

    Computed from the float64 eigendecomposition in float64 (a model that sizes tolerances,
    not a certified quantity).

    Attributes
    ----------
    scale : float
        The no-cancellation magnitude of F': the same sums as F' with every term replaced by
        its absolute value (>= |F'|; the ratio scale/|F'| is the cancellation condition
        number). ``inf`` when it exceeds float64 (|F'| ~ 1e357): use ``log_scale``.
    kappa_f : float
        Relative condition number of the evaluation loss g(w_t) under relative
        perturbations of the iterate: (||He|| ||w_t||^2 + ||be|| ||w_t||) / |g(w_t)| (>= 1
        up to rounding in the homogeneous case).
    kappa_eta : float
        Per-step amplification of a relative rounding error in one GD step,
        (1 + eta ||H||) / rho(eta).
    q : float
        Weight of the denominator carried by terms other than the largest one (0 when one
        mode dominates completely, up to 1/2 for two equal dominant modes, e.g. near eta*).
    kappa_grad : float
        ||He|| ||w_t|| / ||grad g(w_t)||: relative error of the loss gradient caused by a
        relative perturbation of the iterate (>= 1; up to L/alpha, and exponentially large
        when w_t converges to w* != 0).
    kappa_aff : float
        ||w_t|| / ||w_t - w*|| (1 when b = 0): how much a rounding error relative to the
        iterate is amplified relative to its distance from the minimizer.
    kappa_data : float
        Relative error amplification of forming the modal amplitudes e = U^T (w0 - w*) and
        G* = g(w*) from the data, weighted by their share in F' (closed forms only).
    exponent_gap : float
        |k_N - k_D|: the power of rho separating the largest numerator term from the largest
        denominator term (1 in the homogeneous case; up to 2t - 1 when G* dominates g(w_t)).
        A rounding of rho by e changes F' by a factor (1 + gap e).
    log_scale : float
        ln(scale), formed in log space: finite whenever scale > 0, also where ``scale``
        itself overflows float64 (-inf when scale = 0; NaN when not given).
    """

    scale: float
    kappa_f: float
    kappa_eta: float
    q: float
    kappa_grad: float = 1.0
    kappa_aff: float = 1.0
    kappa_data: float = 0.0
    exponent_gap: float = 1.0
    log_scale: float = float("nan")


def sensitivity(req: Request) -> list[Sensitivity]:
    """:class:`Sensitivity` of every step size of a validated request, in float64.

    Accuracy
    --------
    A model for sizing tolerances, not a certified quantity: float64 eigendecomposition of
    the float64 data, every magnitude combined in log space (no over/underflow).
    """
    dt = np.dtype(np.float64)
    t = req.t
    H = problem_data(req.problem, dt)[0]
    Hn = float(np.abs(np.linalg.eigvalsh(H)).max())
    out = []
    with np.errstate(all="ignore"):
        T = modal_terms(req, dt)
        kref, mref = largest_term(T, T.den_abs)
        Dabs = sum_relative(T, T.den_abs, kref, mref)
        kref_s, mref_s = largest_term(T, T.den)
        D = sum_relative(T, T.den, kref_s, mref_s)
        # |g(w_t)| relative to the abs-reference
        g_rel = np.abs(D * _rel_scalar(kref_s, mref_s, kref, mref, T))
        Nabs = sum_relative(T, T.num_abs, kref, mref)
        if req.objective == "log":
            scale = Nabs * Dabs / (g_rel * g_rel)
            log_scale = np.log(Nabs) + np.log(Dabs) - 2 * np.log(g_rel)
        else:
            scale = np.zeros(req.etas.shape[0])
            for k, m in T.num_abs:
                scale = scale + t * scaled(T, k, m)
            # the same sum in log space (a log-sum-exp over the terms), finite where the
            # sum itself overflows float64 (the naive F' reaches 1e357 and beyond)
            log_scale = np.full(req.etas.shape[0], -np.inf)
            log_t = math.log(t) if t > 0 else -math.inf
            for k, m in T.num_abs:
                log_scale = np.logaddexp(log_scale, log_t + k * T.lrho + log_abs(m))
        # ||w_t|| <= ||w*|| + rho^t ||z||, in log space
        lw = np.logaddexp(
            np.log(T.wstar_norm) if T.wstar_norm > 0 else -np.inf, t * T.lrho + np.log(T.znorm)
        )
        lg = kref * T.lrho + np.log(np.abs(mref)) + np.log(g_rel)
        kf = np.exp(np.log(T.He_norm) + 2 * lw - lg)
        if T.be_norm > 0:
            kf = kf + np.exp(np.log(T.be_norm) + lw - lg)
        # largest single contribution to the denominator: a whole non-modal term (G*, or
        # the rho^t cross term) or the largest mode inside the rho^(2t) term
        largest = np.zeros(req.etas.shape[0])
        for k, m in T.den_abs:
            part = np.abs(relative(k, m, kref, mref, T))
            largest = np.maximum(largest, part * T.mode_share if k == 2 * t else part)
        q = np.clip(1 - largest / Dabs, 0.0, 1.0)
        keta = (1 + req.etas * Hn) / T.rho
        kgrad = np.exp(np.log(T.He_norm) + lw - T.lgrad)
        knum, _ = largest_term(T, T.num_abs)
        gap = np.abs(knum - kref).astype(np.float64)
        kaff = np.exp(lw - (t * T.lrho + np.log(T.znorm)))

        def num(x: Any, floor: float) -> float:
            v = float(x)
            return max(v, floor) if np.isfinite(v) else float("inf")

        for i in range(req.etas.shape[0]):
            out.append(
                Sensitivity(
                    scale=float(scale[i]),
                    kappa_f=num(kf[i], 1.0),
                    kappa_eta=float(keta[i]),
                    q=float(q[i]) if np.isfinite(q[i]) else 1.0,
                    kappa_grad=num(kgrad[i], 1.0),
                    kappa_aff=num(kaff[i], 1.0),
                    kappa_data=num(T.data_cond[i], 0.0),
                    exponent_gap=float(gap[i]),
                    log_scale=float(log_scale[i]),
                )
            )
    return out


def _rel_scalar(k1: Any, m1: Any, k2: Any, m2: Any, T: ModalTerms) -> Any:
    """|m1 rho^k1| / |m2 rho^k2| in float64 log space."""
    return np.exp((k1 - k2) * T.lrho + log_abs(m1) - log_abs(m2))
