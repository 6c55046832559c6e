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

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._common import NO_DIAGNOSTICS, Diagnostics, Request, check_dtype, problem_data, reject

__all__ = ["Sensitivity", "run_stable", "sensitivity"]

STABLE_DTYPES = ("float32", "float64")

# Eigenvalues of magnitude <= ZERO_EIG_FACTOR * d * u * max|lambda| are treated as exact zeros
# when forming w* = H^+ b: that is the size of the backward error of a symmetric eigensolver
# (|delta lambda| <= p(d) u ||H||), so such eigenvalues are indistinguishable from zero.
ZERO_EIG_FACTOR = 4


@dataclass
class _Terms:
    """Signed modal sums, each multiplied by rho^k in exact arithmetic (k an integer)."""

    lrho: Any  # (G,) log rho in the dtype
    rho: Any  # (G,) rho (1 where rho = 0)
    den: list[tuple[int, Any]]  # terms of g(w_t): (k, mantissa (G,))
    num: list[tuple[int, Any]]  # terms of -(1/t) dg/deta: (k, mantissa (G,))
    den_abs: list[tuple[int, Any]]
    num_abs: list[tuple[int, Any]]
    znorm: Any  # (G,) ||z|| (scaled mode amplitudes, ||w_t - w*|| = rho^t ||z||)
    mode_share: Any  # (G,) largest single mode's share of the rho^(2t) term (abs values)
    lgrad: Any  # (G,) log ||grad g(w_t)|| (float64 use only)
    data_cond: Any  # (G,) relative error amplification of forming e and G* (float64 use only)
    wstar_norm: float
    He_norm: float
    be_norm: float


def _eig(H: Any) -> tuple[Any, Any]:
    lam, U = np.linalg.eigh(H)
    return lam, U


def _terms(req: Request, dt: np.dtype[Any]) -> _Terms:
    """Modal quantities of the trajectory end for every step size, in ``dt``."""
    H, b, c, w0 = problem_data(req.problem, dt)
    lam, U = _eig(H)
    t = req.t
    G = req.etas.shape[0]
    same_eval = req.eval_problem is None or req.eval_problem is req.problem
    homogeneous = not np.any(b)
    E = req.etas.astype(dt).reshape(G, 1)
    a = dt.type(1) - E * lam[None, :]
    rho = np.abs(a).max(axis=1)
    rho = np.where(rho > 0, rho, dt.type(1)).astype(dt)
    r = a / rho[:, None]
    lrho = np.log(rho)
    cw = U.T @ w0
    if homogeneous:
        wstar = np.zeros_like(w0)
        e = cw
        fstar = c
        fstar_abs = abs(c)
        coef = np.zeros_like(w0)
    else:
        beta = U.T @ b
        tiny = dt.type(ZERO_EIG_FACTOR * lam.shape[0] * np.finfo(dt).eps / 2) * np.abs(lam).max()
        nz = np.abs(lam) > tiny
        safe = np.where(nz, lam, dt.type(1))
        coef = np.where(nz, beta / safe, dt.type(0))
        wstar = U @ coef
        e = cw - coef
        fstar = c - dt.type(0.5) * np.sum(coef * beta)
        fstar_abs = abs(c) + dt.type(0.5) * np.abs(np.sum(coef * beta))
    # relative error of each e_i as formed: e = U^T w0 - beta / lambda, each term rounded
    with np.errstate(divide="ignore", invalid="ignore"):
        safe_lam = np.where(np.abs(lam) > 0, np.abs(lam), np.inf)
        e_scale = np.linalg.norm(w0) + np.linalg.norm(b) / safe_lam
        e_rel = np.where(e != 0, e_scale / np.abs(e), 0.0)
    rt = np.power(r, t)  # r^t
    rt1 = np.power(r, t - 1) if t >= 1 else np.ones_like(r)  # r^(t-1)
    z = rt * e[None, :]
    y = (lam[None, :] * rt1) * e[None, :]
    if same_eval:
        He_norm = float(np.abs(lam).max())
        be_norm = float(np.linalg.norm(b))
        # g = f* + rho^(2t) 1/2 sum lambda z^2 ;  -(1/t) dg/deta = rho^(2t-1) sum lambda z y
        B2 = dt.type(0.5) * np.sum(lam[None, :] * z * z, axis=1)
        A2 = np.sum(lam[None, :] * z * y, axis=1)
        B2a = dt.type(0.5) * np.sum(np.abs(lam)[None, :] * z * z, axis=1)
        A2a = np.sum(np.abs(lam[None, :] * z * y), axis=1)
        den: list[tuple[int, Any]] = [(2 * t, B2)]
        num: list[tuple[int, Any]] = [(2 * t - 1, A2)]
        den_abs: list[tuple[int, Any]] = [(2 * t, B2a)]
        num_abs: list[tuple[int, Any]] = [(2 * t - 1, A2a)]
        per_mode = np.abs(lam)[None, :] * z * z
        num_mode = np.abs(lam[None, :] * z * y)
        lgrad = t * lrho + _log_abs(np.sqrt(np.sum((lam[None, :] * z) ** 2, axis=1)))
        g0_cond = fstar_abs / abs(fstar) if fstar != 0 else (0.0 if fstar_abs == 0 else np.inf)
        if not homogeneous:
            fs = np.full(G, fstar, dtype=dt)
            den.insert(0, (0, fs))
            den_abs.insert(0, (0, np.abs(fs)))
    else:
        He, be, ce, _ = problem_data(req.eval, dt)
        He_norm = float(np.abs(np.linalg.eigvalsh(He)).max())
        be_norm = float(np.linalg.norm(be))
        M = U.T @ He @ U
        M = (M + M.T) * dt.type(0.5)
        Hw = He @ wstar
        gstar = dt.type(0.5) * np.dot(wstar, Hw) - np.dot(be, wstar) + ce
        gstar_abs = dt.type(0.5) * np.abs(np.dot(wstar, Hw)) + np.abs(np.dot(be, wstar)) + abs(ce)
        q = U.T @ (Hw - be)
        zM = z @ M
        zMa = np.abs(z) @ np.abs(M)
        den = [
            (0, np.full(G, gstar, dtype=dt)),
            (t, z @ q),
            (2 * t, dt.type(0.5) * np.sum(zM * z, axis=1)),
        ]
        den_abs = [
            (0, np.full(G, gstar_abs, dtype=dt)),
            (t, np.abs(z) @ np.abs(q)),
            (2 * t, dt.type(0.5) * np.sum(zMa * np.abs(z), axis=1)),
        ]
        num = [(t - 1, y @ q), (2 * t - 1, np.sum(zM * y, axis=1))]
        num_abs = [(t - 1, np.abs(y) @ np.abs(q)), (2 * t - 1, np.sum(zMa * np.abs(y), axis=1))]
        per_mode = zMa * np.abs(z)
        num_mode = np.abs(zM * y) + np.abs(y * q[None, :])
        qn = np.linalg.norm(q)
        lgrad = np.logaddexp(_log_abs(qn), t * lrho + _log_abs(np.sqrt(np.sum(zM * zM, axis=1))))
        g0_cond = gstar_abs / abs(gstar) if gstar != 0 else (0.0 if gstar_abs == 0 else np.inf)
    return _Terms(
        lrho=lrho,
        rho=rho,
        den=den,
        num=num,
        den_abs=den_abs,
        num_abs=num_abs,
        znorm=np.sqrt(np.sum(z * z, axis=1)),
        mode_share=per_mode.max(axis=1) / per_mode.sum(axis=1),
        lgrad=lgrad,
        data_cond=np.sum(num_mode * e_rel[None, :], axis=1) / np.sum(num_mode, axis=1)
        + g0_cond * _share0(den_abs, lrho),
        wstar_norm=float(np.linalg.norm(wstar)),
        He_norm=He_norm,
        be_norm=be_norm,
    )


def _share0(den_abs: list[tuple[int, Any]], lrho: Any) -> Any:
    """Share of the rho^0 term (G*) in the absolute denominator (0 when there is none)."""
    if den_abs[0][0] != 0:
        return np.zeros_like(lrho)
    with np.errstate(all="ignore"):
        logs = [k * lrho + _log_abs(m) for k, m in den_abs]
        top = np.maximum.reduce(logs)
        total = sum(np.exp(x - top) for x in logs)
        share = np.exp(logs[0] - top) / total
    return np.where(np.isfinite(share), share, 0.0)


def _log_abs(x: Any) -> Any:
    with np.errstate(divide="ignore"):
        return np.log(np.abs(x))


def _rel(k: int, m: Any, kref: Any, mref: Any, T: _Terms) -> Any:
    """m rho^k / |mref rho^kref| for each step size (kref per step size), without overflow.

    Equal exponents divide the mantissas directly (exact exponent arithmetic); exponents one
    apart use one division by rho; otherwise the ratio goes through log space.
    """
    dk = k - kref
    direct = m / np.abs(mref)
    via_rho = direct / np.where(dk == -1, T.rho, 1) * np.where(dk == 1, T.rho, 1)
    logs = (
        dk.astype(T.lrho.dtype) * T.lrho + _log_abs(m) - _log_abs(mref)
    )  # only used where |dk| > 1
    far = np.sign(m) * np.exp(logs)
    return np.where(np.abs(dk) <= 1, via_rho, far)


def _reference(T: _Terms, terms: list[tuple[int, Any]]) -> tuple[Any, Any]:
    """Per step size: the exponent k and mantissa of the largest |m rho^k| among ``terms``."""
    G = T.lrho.shape[0]
    best = np.full(G, -np.inf, dtype=np.float64)
    kref = np.zeros(G, dtype=np.int64)
    mref = np.zeros(G, dtype=T.lrho.dtype)
    for k, m in terms:
        # the comparison only picks the reference; it may use float64 freely (no result
        # depends on its rounding except through which exact term is chosen)
        mag = k * T.lrho.astype(np.float64) + _log_abs(m).astype(np.float64)
        better = mag > best
        best = np.where(better, mag, best)
        kref = np.where(better, k, kref)
        mref = np.where(better, m, mref)
    return kref, mref


def _sum_rel(T: _Terms, terms: list[tuple[int, Any]], kref: Any, mref: Any) -> Any:
    total = np.zeros_like(T.lrho)
    for k, m in terms:
        total = total + np.where(m == 0, T.lrho.dtype.type(0), _rel(k, m, kref, mref, T))
    return total


def _scaled(T: _Terms, k: int, m: Any) -> Any:
    """m * rho^k, through log space where the power alone would over/underflow."""
    p = np.power(T.rho, k)
    direct = m * p
    fmt_tiny = np.finfo(T.lrho.dtype).tiny
    ok = np.isfinite(p) & (p >= fmt_tiny) & np.isfinite(direct)
    logs = k * T.lrho + _log_abs(m)
    return np.where(ok, direct, np.sign(m) * np.exp(logs))


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
        T = _terms(req, dt)
        if req.objective == "log":
            kref, mref = _reference(T, T.den)
            D = _sum_rel(T, T.den, kref, mref)
            N = _sum_rel(T, T.num, kref, mref)
            grad = -N / D
            ratio = (kref / t).astype(dt)  # 0, 1 or 2: exact
            value = ratio * T.lrho + (_log_abs(mref) + np.log(D)) / dt.type(t)
        else:
            value = np.zeros_like(T.lrho)
            for k, m in T.den:
                value = value + _scaled(T, k, m)
            grad = np.zeros_like(T.lrho)
            for k, m in T.num:
                # t joins the mantissa before scaling, so a product that is a subnormal
                # number is not lost to an intermediate underflow of rho^k * m
                grad = grad - _scaled(T, k, dt.type(t) * m)
    check_dtype(grad, dt, "stable meta-gradient")
    check_dtype(value, dt, "stable meta-objective")
    return value, grad, [NO_DIAGNOSTICS] * req.etas.shape[0]


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
        T = _terms(req, dt)
        kref, mref = _reference(T, T.den_abs)
        Dabs = _sum_rel(T, T.den_abs, kref, mref)
        kref_s, mref_s = _reference(T, T.den)
        D = _sum_rel(T, T.den, kref_s, mref_s)
        # |g(w_t)| relative to the abs-reference
        g_rel = np.abs(D * _rel_scalar(kref_s, mref_s, kref, mref, T))
        Nabs = _sum_rel(T, T.num_abs, kref, mref)
        if req.objective == "log":
            scale = Nabs * Dabs / (g_rel * g_rel)
            log_scale = np.log(Nabs) + np.log(Dabs) - 2 * np.log(g_rel)
        else:
            scale = np.zeros(req.etas.shape[0])
            for k, m in T.num_abs:
                scale = scale + t * _scaled(T, k, m)
            # the same sum in log space (a log-sum-exp over the terms), finite where the
            # sum itself overflows float64 (the naive F' reaches 1e357 and beyond)
            log_scale = np.full(req.etas.shape[0], -np.inf)
            log_t = math.log(t) if t > 0 else -math.inf
            for k, m in T.num_abs:
                log_scale = np.logaddexp(log_scale, log_t + k * T.lrho + _log_abs(m))
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
            part = np.abs(_rel(k, m, kref, mref, T))
            largest = np.maximum(largest, part * T.mode_share if k == 2 * t else part)
        q = np.clip(1 - largest / Dabs, 0.0, 1.0)
        keta = (1 + req.etas * Hn) / T.rho
        kgrad = np.exp(np.log(T.He_norm) + lw - T.lgrad)
        knum, _ = _reference(T, T.num_abs)
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


def _rel_scalar(k1: Any, m1: Any, k2: Any, m2: Any, T: _Terms) -> Any:
    """|m1 rho^k1| / |m2 rho^k2| in float64 log space."""
    return np.exp((k1 - k2) * T.lrho + _log_abs(m1) - _log_abs(m2))
