"""The trajectory end in H's normalized eigenbasis (paper notes §4.6): terms with powers of rho.

Three parts of :mod:`verify.backprop` read the end of the GD trajectory off the eigenbasis of
H instead of running it: the stable backend (:mod:`verify.backprop.stable`, in the requested
dtype), the sensitivity model (:mod:`verify.backprop.sensitivity_model`) and the failure
predictions of plain backprop (:mod:`verify.backprop.boundaries`), the last two in float64.
They share this internal interface.

With rho(eta) = max_i |1 - eta lambda_i| (from sorted ``eigh`` eigenvalues), r_i = (1 - eta
lambda_i)/rho, w* = H^+ b, e = U^T (w0 - w*), z = r^t o e and y = lambda o r^(t-1) o e, the
evaluation loss g(w_t) and -(1/t) dg/deta are sums of terms m rho^k with an integer exponent k
and a mantissa m of moderate size (:class:`ModalTerms`). :func:`largest_term` picks the
largest term of a sum per step size and :func:`sum_relative` adds a sum relative to it, so no
power of rho is ever formed where it would over/underflow. This module never imports
:mod:`verify.truth`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..problems import Problem
from ._common import Request, problem_data

__all__ = [
    "ZERO_EIG_FACTOR",
    "ModalTerms",
    "largest_term",
    "log_abs",
    "modal_terms",
    "relative",
    "scaled",
    "sum_relative",
]

# Eigenvalues of magnitude <= ZERO_EIG_FACTOR * d * u * max|lambda| are treated as exact zeros
# when forming w* = H^+ b: that is the size of the backward error of a symmetric eigensolver
# (|delta lambda| <= p(d) u ||H||), so such eigenvalues are indistinguishable from zero.
ZERO_EIG_FACTOR = 4

#: A sum of terms m rho^k: (k, mantissa of shape (G,)) pairs.
Terms = list[tuple[int, Any]]


@dataclass
class ModalTerms:
    """Signed modal sums, each multiplied by rho^k in exact arithmetic (k an integer).

    Attributes
    ----------
    lrho, rho
        (G,) log rho in the dtype, and rho (1 where rho = 0).
    den, num
        The terms of g(w_t) and of -(1/t) dg/deta.
    den_abs, num_abs
        The same sums with every product replaced by its magnitude (no cancellation).
    znorm
        (G,) ||z|| (scaled mode amplitudes, ||w_t - w*|| = rho^t ||z||).
    mode_share
        (G,) the largest single mode's share of the rho^(2t) term (absolute values).
    lgrad
        (G,) log ||grad g(w_t)|| (float64 use only).
    data_cond
        (G,) relative error amplification of forming e and G* (float64 use only).
    wstar_norm, He_norm, be_norm
        ||w*||, ||He|| and ||be||.
    """

    lrho: Any
    rho: Any
    den: Terms
    num: Terms
    den_abs: Terms
    num_abs: Terms
    znorm: Any
    mode_share: Any
    lgrad: Any
    data_cond: Any
    wstar_norm: float
    He_norm: float
    be_norm: float


@dataclass(frozen=True)
class _Basis:
    """The training problem in its eigenbasis: lambda, U, and w0 - w* in modal coordinates."""

    lam: Any
    U: Any
    b: Any
    wstar: Any
    e: Any  # U^T (w0 - w*)
    e_rel: Any  # relative error of each e_i as formed
    fstar: Any  # f(w*)
    fstar_abs: Any  # the same sum in magnitudes
    homogeneous: bool


@dataclass(frozen=True)
class _Sums:
    """The evaluation-dependent sums of :class:`ModalTerms` and what sizes their errors."""

    den: Terms
    num: Terms
    den_abs: Terms
    num_abs: Terms
    per_mode: Any  # (G, d) each mode's magnitude in the rho^(2t) term
    num_mode: Any  # (G, d) each mode's magnitude in the numerator
    lgrad: Any
    g0_cond: Any  # condition number of the rho^0 term (G* or f*)
    He_norm: float
    be_norm: float


def _basis(problem: Problem, dt: np.dtype[Any]) -> _Basis:
    """Eigendecomposition of H in ``dt`` and the modal amplitudes of w0 - w*."""
    H, b, c, w0 = problem_data(problem, dt)
    lam, U = np.linalg.eigh(H)
    homogeneous = not np.any(b)
    cw = U.T @ w0
    if homogeneous:
        wstar = np.zeros_like(w0)
        e = cw
        fstar = c
        fstar_abs = abs(c)
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
    return _Basis(lam, U, b, wstar, e, e_rel, fstar, fstar_abs, homogeneous)


def _condition(exact: Any, magnitude: Any) -> Any:
    """|sum of magnitudes| / |sum|: 0 for an exact zero of zeros, inf for cancellation to 0."""
    return magnitude / abs(exact) if exact != 0 else (0.0 if magnitude == 0 else np.inf)


def _same_eval_sums(B: _Basis, z: Any, y: Any, lrho: Any, t: int, dt: np.dtype[Any]) -> _Sums:
    """g = f* + rho^(2t) 1/2 sum lambda z^2 ;  -(1/t) dg/deta = rho^(2t-1) sum lambda z y."""
    lam = B.lam
    B2 = dt.type(0.5) * np.sum(lam[None, :] * z * z, axis=1)
    A2 = np.sum(lam[None, :] * z * y, axis=1)
    B2a = dt.type(0.5) * np.sum(np.abs(lam)[None, :] * z * z, axis=1)
    A2a = np.sum(np.abs(lam[None, :] * z * y), axis=1)
    den: Terms = [(2 * t, B2)]
    num: Terms = [(2 * t - 1, A2)]
    den_abs: Terms = [(2 * t, B2a)]
    num_abs: Terms = [(2 * t - 1, A2a)]
    lgrad = t * lrho + log_abs(np.sqrt(np.sum((lam[None, :] * z) ** 2, axis=1)))
    if not B.homogeneous:
        fs = np.full(z.shape[0], B.fstar, dtype=dt)
        den.insert(0, (0, fs))
        den_abs.insert(0, (0, np.abs(fs)))
    return _Sums(
        den=den,
        num=num,
        den_abs=den_abs,
        num_abs=num_abs,
        per_mode=np.abs(lam)[None, :] * z * z,
        num_mode=np.abs(lam[None, :] * z * y),
        lgrad=lgrad,
        g0_cond=_condition(B.fstar, B.fstar_abs),
        He_norm=float(np.abs(lam).max()),
        be_norm=float(np.linalg.norm(B.b)),
    )


def _eval_sums(
    B: _Basis, evaluation: Problem, z: Any, y: Any, lrho: Any, t: int, dt: np.dtype[Any]
) -> _Sums:
    """A separate evaluation loss g(w) = 1/2 w^T He w - be^T w + ce: with M = U^T He U,
    G* = g(w*) and q = U^T grad g(w*), g(w_t) = G* + rho^t q^T z + rho^(2t) 1/2 z^T M z."""
    He, be, ce, _ = problem_data(evaluation, dt)
    U, wstar = B.U, B.wstar
    G = z.shape[0]
    M = U.T @ He @ U
    M = (M + M.T) * dt.type(0.5)
    Hw = He @ wstar
    gstar = dt.type(0.5) * np.dot(wstar, Hw) - np.dot(be, wstar) + ce
    gstar_abs = dt.type(0.5) * np.abs(np.dot(wstar, Hw)) + np.abs(np.dot(be, wstar)) + abs(ce)
    q = U.T @ (Hw - be)
    zM = z @ M
    zMa = np.abs(z) @ np.abs(M)
    den: Terms = [
        (0, np.full(G, gstar, dtype=dt)),
        (t, z @ q),
        (2 * t, dt.type(0.5) * np.sum(zM * z, axis=1)),
    ]
    den_abs: Terms = [
        (0, np.full(G, gstar_abs, dtype=dt)),
        (t, np.abs(z) @ np.abs(q)),
        (2 * t, dt.type(0.5) * np.sum(zMa * np.abs(z), axis=1)),
    ]
    qn = np.linalg.norm(q)
    return _Sums(
        den=den,
        num=[(t - 1, y @ q), (2 * t - 1, np.sum(zM * y, axis=1))],
        den_abs=den_abs,
        num_abs=[(t - 1, np.abs(y) @ np.abs(q)), (2 * t - 1, np.sum(zMa * np.abs(y), axis=1))],
        per_mode=zMa * np.abs(z),
        num_mode=np.abs(zM * y) + np.abs(y * q[None, :]),
        lgrad=np.logaddexp(log_abs(qn), t * lrho + log_abs(np.sqrt(np.sum(zM * zM, axis=1)))),
        g0_cond=_condition(gstar, gstar_abs),
        He_norm=float(np.abs(np.linalg.eigvalsh(He)).max()),
        be_norm=float(np.linalg.norm(be)),
    )


def modal_terms(req: Request, dt: np.dtype[Any]) -> ModalTerms:
    """Modal quantities of the trajectory end for every step size of ``req``, in ``dt``."""
    B = _basis(req.problem, dt)
    lam = B.lam
    t = req.t
    G = req.etas.shape[0]
    same_eval = req.eval_problem is None or req.eval_problem is req.problem
    E = req.etas.astype(dt).reshape(G, 1)
    a = dt.type(1) - E * lam[None, :]
    rho = np.abs(a).max(axis=1)
    rho = np.where(rho > 0, rho, dt.type(1)).astype(dt)
    r = a / rho[:, None]
    lrho = np.log(rho)
    rt = np.power(r, t)  # r^t
    rt1 = np.power(r, t - 1) if t >= 1 else np.ones_like(r)  # r^(t-1)
    z = rt * B.e[None, :]
    y = (lam[None, :] * rt1) * B.e[None, :]
    if same_eval:
        S = _same_eval_sums(B, z, y, lrho, t, dt)
    else:
        S = _eval_sums(B, req.eval, z, y, lrho, t, dt)
    return ModalTerms(
        lrho=lrho,
        rho=rho,
        den=S.den,
        num=S.num,
        den_abs=S.den_abs,
        num_abs=S.num_abs,
        znorm=np.sqrt(np.sum(z * z, axis=1)),
        mode_share=S.per_mode.max(axis=1) / S.per_mode.sum(axis=1),
        lgrad=S.lgrad,
        data_cond=np.sum(S.num_mode * B.e_rel[None, :], axis=1) / np.sum(S.num_mode, axis=1)
        + S.g0_cond * _share0(S.den_abs, lrho),
        wstar_norm=float(np.linalg.norm(B.wstar)),
        He_norm=S.He_norm,
        be_norm=S.be_norm,
    )


def _share0(den_abs: Terms, lrho: Any) -> Any:
    """Share of the rho^0 term (G*) in the absolute denominator (0 when there is none)."""
    if den_abs[0][0] != 0:
        return np.zeros_like(lrho)
    with np.errstate(all="ignore"):
        logs = [k * lrho + log_abs(m) for k, m in den_abs]
        top = np.maximum.reduce(logs)
        total = sum(np.exp(x - top) for x in logs)
        share = np.exp(logs[0] - top) / total
    return np.where(np.isfinite(share), share, 0.0)


def log_abs(x: Any) -> Any:
    """ln|x| elementwise (-inf at 0, without a warning)."""
    with np.errstate(divide="ignore"):
        return np.log(np.abs(x))


def relative(k: int, m: Any, kref: Any, mref: Any, T: ModalTerms) -> Any:
    """m rho^k / |mref rho^kref| for each step size (kref per step size), without overflow.

    Equal exponents divide the mantissas directly (exact exponent arithmetic); exponents one
    apart use one division by rho; otherwise the ratio goes through log space.
    """
    dk = k - kref
    direct = m / np.abs(mref)
    via_rho = direct / np.where(dk == -1, T.rho, 1) * np.where(dk == 1, T.rho, 1)
    logs = dk.astype(T.lrho.dtype) * T.lrho + log_abs(m) - log_abs(mref)  # only used where |dk| > 1
    far = np.sign(m) * np.exp(logs)
    return np.where(np.abs(dk) <= 1, via_rho, far)


def largest_term(T: ModalTerms, terms: Terms) -> tuple[Any, Any]:
    """Per step size: the exponent k and mantissa of the largest |m rho^k| among ``terms``."""
    G = T.lrho.shape[0]
    best = np.full(G, -np.inf, dtype=np.float64)
    kref = np.zeros(G, dtype=np.int64)
    mref = np.zeros(G, dtype=T.lrho.dtype)
    for k, m in terms:
        # the comparison only picks the reference; it may use float64 freely (no result
        # depends on its rounding except through which exact term is chosen)
        mag = k * T.lrho.astype(np.float64) + log_abs(m).astype(np.float64)
        better = mag > best
        best = np.where(better, mag, best)
        kref = np.where(better, k, kref)
        mref = np.where(better, m, mref)
    return kref, mref


def sum_relative(T: ModalTerms, terms: Terms, kref: Any, mref: Any) -> Any:
    """sum of m rho^k over ``terms``, relative to |mref rho^kref| (see :func:`relative`)."""
    total = np.zeros_like(T.lrho)
    for k, m in terms:
        total = total + np.where(m == 0, T.lrho.dtype.type(0), relative(k, m, kref, mref, T))
    return total


def scaled(T: ModalTerms, k: int, m: Any) -> Any:
    """m * rho^k, through log space where the power alone would over/underflow."""
    p = np.power(T.rho, k)
    direct = m * p
    fmt_tiny = np.finfo(T.lrho.dtype).tiny
    ok = np.isfinite(p) & (p >= fmt_tiny) & np.isfinite(direct)
    logs = k * T.lrho + log_abs(m)
    return np.where(ok, direct, np.sign(m) * np.exp(logs))
