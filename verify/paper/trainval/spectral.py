"""GD from 0 on one least-squares task in closed form, through one spectral factorization.

With the thin factorization ``X = U diag(S) V^T`` (``r = min(n, d)`` columns), ``s_j = S_j^2 /
n`` the eigenvalues of ``X^T X / n``, ``z = U^T y`` and ``beta_j = <v_j, X^T y / n> = S_j z_j /
n``, GD from 0 has the closed form (notes §4.7)

    w_tau = V c(tau),   c_j(tau) = eta * phi_tau(eta s_j) * beta_j,
    phi_tau(x) = (1 - (1 - x)^tau) / x   (phi_tau(0) = tau).

This module holds the factorization (:class:`Factorization`), the polynomials ``phi_tau`` and
``(1 - x)^tau`` evaluated without cancellation, and the scan for the first step at which the
truncation rule fires (:func:`crossed_before`). Internal to :mod:`verify.paper.trainval`:
:class:`~verify.paper.trainval.TaskBatch` is built on it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .arguments import F64

__all__ = ["Factorization", "crossed_before", "phi", "power"]

# The Gram-matrix eigendecomposition squares the condition number: each eigenvalue of
# X^T X / n comes out with relative error about k u kappa^2 (k = min(n, d), u = 2^-53). Above
# this kappa^2 the factorization falls back to the SVD of X (relative error about k u kappa).
_GRAM_MAX_KAPPA2 = 1e4


class Factorization:
    """Thin factorization of one training set ``X = U diag(S) V^T`` (r = min(n, d) columns).

    Uses the eigenvectors of the smaller Gram matrix (X X^T or X^T X) when it is well
    conditioned (kappa^2 <= _GRAM_MAX_KAPPA2), else the SVD. On the wide Gram route V is
    never formed: V = X^T U / S, so ``M V = (M X^T) U / S`` and ``V^T w = U^T (X w) / S``
    (saves the d r^2 product that dominates at d = 1000).
    """

    def __init__(self, X: F64, y: F64) -> None:
        n, d = X.shape
        self.X = X
        self.V: F64 | None = None
        self.U: F64 | None = None
        lam: F64
        if n <= d:
            lam, U = np.linalg.eigh(X @ X.T)
            if lam[0] > lam[-1] / _GRAM_MAX_KAPPA2:
                self.S = np.sqrt(lam)
                self.U = U
        else:
            lam, V = np.linalg.eigh(X.T @ X)
            if lam[0] > lam[-1] / _GRAM_MAX_KAPPA2:
                self.S = np.sqrt(lam)
                self.V = V
                U = (X @ V) / self.S
        if self.U is None and self.V is None:
            U, self.S, Vt = np.linalg.svd(X, full_matrices=False)
            self.V = Vt.T
        self.z = U.T @ y
        resid = y - U @ self.z
        self.y_perp2 = float(resid @ resid)

    def project(self, M: F64) -> F64:
        """``M V`` for a matrix M with d columns."""
        if self.V is not None:
            return np.asarray(M @ self.V, dtype=np.float64)
        assert self.U is not None
        return np.asarray(((M @ self.X.T) @ self.U) / self.S, dtype=np.float64)

    def coordinates(self, w: F64) -> tuple[F64, float]:
        """``(V^T w, ||(I - V V^T) w||^2)``; the second as ||w||^2 - ||V^T w||^2 (clipped at
        0, absolute error a few u ||w||^2) on the wide Gram route, directly otherwise."""
        if self.V is not None:
            p = self.V.T @ w
            wp = w - self.V @ p
            return p, float(wp @ wp)
        assert self.U is not None
        p = (self.U.T @ (self.X @ w)) / self.S
        return p, max(float(w @ w - p @ p), 0.0)

    def vectors(self) -> F64:
        """V (d, r), formed on demand."""
        if self.V is not None:
            return self.V
        assert self.U is not None
        return np.asarray((self.X.T @ self.U) / self.S, dtype=np.float64)


def phi(x: F64, tau: int) -> F64:
    """phi_tau(x) = (1 - (1 - x)^tau) / x elementwise for x >= 0 (phi_tau(0) = tau).

    For 0 < x < 1 it is evaluated as -expm1(tau log1p(-x)) / x (no cancellation as x -> 0:
    relative error a few u); for x >= 1, (1 - (1 - x)^tau) / x directly (1 - x <= 0, no
    cancellation except when (1 - x)^tau is near 1, where the absolute error is a few u).
    """
    out = np.empty_like(x)
    small = x < 1
    pos = small & (x > 0)
    xp = x[pos]
    out[pos] = -np.expm1(tau * np.log1p(-xp)) / xp
    out[x == 0] = tau
    big = ~small
    xb = x[big]
    with np.errstate(over="ignore", invalid="ignore"):
        out[big] = (1 - (1 - xb) ** tau) / xb
    return out


def power(x: F64, tau: int) -> F64:
    """(1 - x)^tau elementwise for x >= 0, consistent with :func:`phi` (= 1 - x phi_tau(x))."""
    out = np.empty_like(x)
    small = x < 1
    out[small] = np.exp(tau * np.log1p(-x[small]))
    with np.errstate(over="ignore"):
        out[~small] = (1 - x[~small]) ** tau
    return out


def crossed_before(x: F64, scale: F64, t: int, r2: float) -> NDArray[np.bool_]:
    """Whether sum_j (scale_j phi_tau(x_j))^2 >= r2 for some tau in 1..t, per row.

    Rows whose bound sum_j (scale_j sum_{k<t} |1 - x_j|^k)^2 (>= every ||w_tau||^2, since
    |phi_tau(x)| <= sum_{k<tau} |1 - x|^k, nondecreasing in tau) is below r2 are decided
    without a scan; the scan drops each row as soon as it crosses.
    """
    qa = np.abs(1 - x)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        geo = np.where(qa == 1, float(t), (1 - qa**t) / (1 - qa))
        bound = np.einsum("pr,pr->p", scale * geo, scale * geo)
    hit = np.zeros(x.shape[0], dtype=bool)
    active = np.nonzero(~(bound < r2))[0]
    for tau in range(1, t):  # tau = t was decided by the caller
        if active.size == 0:
            break
        ct = scale[active] * phi(x[active], tau)
        crossed = ~(np.einsum("pr,pr->p", ct, ct) < r2)
        hit[active[crossed]] = True
        active = active[~crossed]
    return hit
