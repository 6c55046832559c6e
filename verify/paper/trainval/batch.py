"""A batch of least-squares tasks reduced to what GD from 0 needs, evaluated in closed form.

Each task is reduced once (:class:`~verify.paper.trainval.spectral.Factorization`; notation
there), so every quantity below costs O(r) per task, step size and horizon:

* ``||w_tau||^2 = sum_j c_j(tau)^2``;
* training loss ``(sum_j (1 - eta s_j)^(2 tau) z_j^2 + ||(I - U U^T) y||^2) / (2n)`` (the
  residual ``S c - z = -(1 - eta s)^tau z`` in closed form: no cancellation near interpolation);
* held-out loss ``(||R c - g||^2 + rho^2) / (2 n_h)`` from a QR compression
  ``X_h V = Q R``, ``g = Q^T y_h``, ``rho = ||y_h - Q g||``;
* error ``||w_tau - w*||^2 = ||c - V^T w*||^2 + ||(I - V V^T) w*||^2``.

The truncation rule needs the first ``tau`` with ``||w_tau|| >= 40 sigma``. When every
``eta s_j <= 1`` each ``|c_j(tau)|`` is nondecreasing in ``tau``, so only ``tau = t`` is checked;
otherwise (some ``1 - eta s_j < 0``: oscillating or diverging modes) all ``tau = 1..t`` are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...errors import ArgumentError, ShapeMismatchError, UnknownOptionError
from ...validation import validate_horizon
from .arguments import (
    F64,
    Kind,
    check_etas,
    check_kind,
    check_positive,
    check_truncation,
    real_array,
)
from .spectral import Factorization, crossed_before, phi, power

__all__ = ["TRUNCATION_FACTOR", "BatchBuilder", "TaskBatch", "TrajectoryMetrics"]

#: The truncation radius is ``TRUNCATION_FACTOR * sigma`` (paper notes §2.4).
TRUNCATION_FACTOR = 40.0

# Elements per chunk of the (tasks x step sizes x r) work arrays (64 MiB of float64).
_CHUNK_ELEMENTS = 1 << 23


@dataclass(frozen=True)
class TrajectoryMetrics:
    """Per-task values at the end of the (truncated) GD trajectory, arrays of shape (m, G).

    Attributes
    ----------
    etas : ndarray, shape (G,)
    t : int
    train_loss : ndarray
        ``||X w_t - y||^2 / (2n)`` on the training set (the TbT meta-loss).
    heldout_loss : ndarray or None
        ``||X_h w_t - y_h||^2 / (2 n_h)`` on the held-out set (the TbV meta-loss, or the test
        loss), None when the batch has no held-out samples.
    error : ndarray
        ``||w_t - w*||^2``.
    truncated : ndarray of bool
        Whether the truncation rule fired at some step ``tau <= t``.
    """

    etas: F64
    t: int
    train_loss: F64
    heldout_loss: F64 | None
    error: F64
    truncated: NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class TaskBatch:
    """``m`` least-squares tasks reduced to what GD from 0 needs (one factorization each).

    Build with :func:`sample_tasks` / :func:`sample_task_pair` (draws and reduces task by
    task, so d = 1000, m = 300 fits in a few hundred MiB) or :meth:`from_arrays` (explicit
    data). All arrays have a leading task axis of length ``m``; ``r = min(n_train, d)``.

    Attributes
    ----------
    d, n_train, n_heldout : int
        Dimension, training samples and held-out samples per task (``n_heldout`` may be 0).
    sigma : float
        Noise level of the family (sets the truncation radius).
    truncation_factor : float or None
        Truncation radius is ``truncation_factor * sigma``; None disables the rule.
    sv : ndarray, shape (m, r)
        Singular values ``S`` of each training matrix X.
    z : ndarray, shape (m, r)
        ``U^T y``.
    y_perp2 : ndarray, shape (m,)
        ``||(I - U U^T) y||^2`` (zero up to roundoff when n <= d).
    w_proj : ndarray, shape (m, r)
        ``V^T w*``.
    w_perp2 : ndarray, shape (m,)
        ``||(I - V V^T) w*||^2``.
    R, g, h_perp2 : ndarray or None
        QR compression of the held-out data: ``X_h V = Q R`` (R of shape (m, k, r), k =
        min(n_h, r)), ``g = Q^T y_h``, ``h_perp2 = ||y_h - Q g||^2`` (all three read off
        the triangular factor of ``[X_h V, y_h]``; zero when n_h <= r).
    trunc_train, trunc_heldout, trunc_error : ndarray, shape (m,)
        Training loss, held-out loss and error at the frozen point ``radius * e_1``.
    V : ndarray, shape (m, d, r) or None
        Eigenvectors, kept only when requested (:meth:`final_iterates` needs them).
    """

    d: int
    n_train: int
    n_heldout: int
    sigma: float
    truncation_factor: float | None
    sv: F64
    z: F64
    y_perp2: F64
    w_proj: F64
    w_perp2: F64
    R: F64 | None
    g: F64 | None
    h_perp2: F64 | None
    trunc_train: F64
    trunc_heldout: F64 | None
    trunc_error: F64
    V: F64 | None = field(default=None, repr=False)

    # -------------------------------------------------------------- construction
    @classmethod
    def from_arrays(
        cls,
        X: ArrayLike,
        y: ArrayLike,
        w_star: ArrayLike,
        *,
        sigma: float,
        X_heldout: ArrayLike | None = None,
        y_heldout: ArrayLike | None = None,
        truncation_factor: float | None = TRUNCATION_FACTOR,
        keep_vectors: bool = False,
    ) -> TaskBatch:
        """Reduce explicit task data.

        Parameters
        ----------
        X : array_like, shape (m, n, d)
        y : array_like, shape (m, n)
        w_star : array_like, shape (m, d)
        sigma : float
            Noise level (> 0); the truncation radius is ``truncation_factor * sigma``.
        X_heldout, y_heldout : array_like, shapes (m, n_h, d), (m, n_h), optional
            Validation (TbV) or test data; both or neither.
        truncation_factor : float or None
            Default 40 (the paper); None disables truncation.
        keep_vectors : bool
            Keep the eigenvectors (m * d * r floats) for :meth:`final_iterates`.
        """
        Xa = real_array(X, "X", 3)
        m, n, d = Xa.shape
        if m == 0 or n == 0 or d == 0:
            raise ShapeMismatchError("X", X, f"must be non-empty, got shape {Xa.shape}")
        ya = real_array(y, "y", 2)
        if ya.shape != (m, n):
            raise ShapeMismatchError("y", y, f"must have shape {(m, n)}, got {ya.shape}")
        wa = real_array(w_star, "w_star", 2)
        if wa.shape != (m, d):
            raise ShapeMismatchError("w_star", w_star, f"must have shape {(m, d)}, got {wa.shape}")
        s = check_positive("sigma", sigma)
        tf = check_truncation(truncation_factor)
        if (X_heldout is None) != (y_heldout is None):
            raise ShapeMismatchError(
                "y_heldout" if y_heldout is None else "X_heldout",
                None,
                "X_heldout and y_heldout must be given together",
            )
        Xh: F64 | None = None
        yh: F64 | None = None
        if X_heldout is not None and y_heldout is not None:
            Xh = real_array(X_heldout, "X_heldout", 3)
            if Xh.shape[0] != m or Xh.shape[2] != d or Xh.shape[1] == 0:
                raise ShapeMismatchError(
                    "X_heldout", X_heldout, f"must have shape ({m}, n_h >= 1, {d}), got {Xh.shape}"
                )
            yh = real_array(y_heldout, "y_heldout", 2)
            if yh.shape != Xh.shape[:2]:
                raise ShapeMismatchError(
                    "y_heldout", y_heldout, f"must have shape {Xh.shape[:2]}, got {yh.shape}"
                )
        builder = BatchBuilder(m, n, 0 if Xh is None else Xh.shape[1], d, s, tf, keep_vectors)
        for k in range(m):
            builder.add(
                k, wa[k], Xa[k], ya[k], None if Xh is None else Xh[k], None if yh is None else yh[k]
            )
        return builder.build()

    # -------------------------------------------------------------- basic properties
    @property
    def num_tasks(self) -> int:
        """m."""
        return int(self.sv.shape[0])

    @property
    def rank(self) -> int:
        """r = min(n_train, d)."""
        return int(self.sv.shape[1])

    @property
    def eigenvalues(self) -> F64:
        """``s = S^2 / n``: eigenvalues of X^T X / n on the training span, shape (m, r)."""
        return self.sv**2 / self.n_train

    @property
    def beta(self) -> F64:
        """``V^T b`` with ``b = X^T y / n``, i.e. ``S z / n``, shape (m, r)."""
        return self.sv * self.z / self.n_train

    @property
    def radius(self) -> float | None:
        """Truncation radius ``truncation_factor * sigma`` (None when disabled)."""
        return None if self.truncation_factor is None else self.truncation_factor * self.sigma

    @property
    def truncation_direction(self) -> F64:
        """The fixed unit vector u = e_1 of the truncation rule."""
        u = np.zeros(self.d)
        u[0] = 1.0
        return u

    # -------------------------------------------------------------- evaluation
    def evaluate(self, etas: ArrayLike | float, t: int) -> TrajectoryMetrics:
        """Final training loss, held-out loss, error and truncation flag for every task and eta.

        Parameters
        ----------
        etas : float or sequence of float
            Step sizes (>= 0, finite).
        t : int
            Number of GD steps (>= 0).

        Returns
        -------
        TrajectoryMetrics
            Arrays of shape (m, len(etas)).

        Accuracy
        --------
        Relative to exact arithmetic on the stored float64 data, the error is that of the
        factorization (backward error about k u kappa^2 ||X||^2 / n in X^T X / n with the
        Gram route, k u ||X||^2 / n with the SVD route, u = 2^-53, k = max(n, d)) propagated
        through the GD polynomial (amplification <= eta^2 t^2 max(1, rho)^t ||b|| per unit
        of backward error, rho = max_j |1 - eta s_j|), plus a few u relative in each closed
        form. The training loss is formed from the closed-form residual ``(1 - eta s)^t z``,
        so it keeps relative accuracy as it goes to zero (interpolation). The error
        ||w_t - w*||^2 has an extra absolute error of a few u ||w*||^2 from splitting w* over
        span(V) and its complement. A task whose norm crosses the truncation radius within
        the iterate's error of it may be classified either way. tests/theorems/
        test_least_squares.py checks all of this against a plain GD loop and the certified
        engine with derived bounds.
        """
        e = check_etas(etas)
        ti = validate_horizon(t)
        m, r, G = self.num_tasks, self.rank, e.size
        train = np.empty((m, G))
        err = np.empty((m, G))
        held = None if self.R is None else np.empty((m, G))
        trunc = np.zeros((m, G), dtype=bool)
        step = max(1, _CHUNK_ELEMENTS // max(1, G * r))
        for lo in range(0, m, step):
            sl = slice(lo, min(m, lo + step))
            c, tr, losses = self._chunk(sl, e, ti)
            train[sl] = losses
            diff = c - self.w_proj[sl, None, :]
            err[sl] = np.einsum("kgr,kgr->kg", diff, diff) + self.w_perp2[sl, None]
            if held is not None and self.R is not None and self.g is not None:
                assert self.h_perp2 is not None
                res = np.matmul(c, np.swapaxes(self.R[sl], 1, 2)) - self.g[sl, None, :]
                held[sl] = (np.einsum("kgj,kgj->kg", res, res) + self.h_perp2[sl, None]) / (
                    2 * self.n_heldout
                )
            trunc[sl] = tr
        if self.radius is not None:
            rows, cols = np.nonzero(trunc)
            train[rows, cols] = self.trunc_train[rows]
            err[rows, cols] = self.trunc_error[rows]
            if held is not None and self.trunc_heldout is not None:
                held[rows, cols] = self.trunc_heldout[rows]
        return TrajectoryMetrics(e, ti, train, held, err, trunc)

    def _chunk(self, sl: slice, e: F64, t: int) -> tuple[F64, NDArray[np.bool_], F64]:
        """Coefficients c (k, G, r), truncation flags (k, G) and training losses (k, G)."""
        s = self.eigenvalues[sl]
        beta = self.beta[sl]
        x = e[None, :, None] * s[:, None, :]
        scale = e[None, :, None] * beta[:, None, :]
        with np.errstate(over="ignore", invalid="ignore"):
            c = scale * phi(x, t)
            q2t = power(x, t) ** 2
            zz = self.z[sl] ** 2
            train = (np.einsum("kgr,kr->kg", q2t, zz) + self.y_perp2[sl, None]) / (2 * self.n_train)
            trunc = np.zeros(x.shape[:2], dtype=bool)
            if self.radius is not None and t > 0:
                r2 = self.radius**2
                # ~(a < b) is True for NaN/inf too: an overflowing trajectory is truncated
                trunc = ~(np.einsum("kgr,kgr->kg", c, c) < r2)
                # every eta s_j <= 1: each |c_j(tau)| is nondecreasing, w_t decides. Otherwise
                # the norm can peak before t: scan the pairs not already decided at t.
                rows, cols = np.nonzero(~trunc & (x.max(axis=2) > 1))
                if rows.size:
                    trunc[rows, cols] = crossed_before(x[rows, cols], scale[rows, cols], t, r2)
        return c, trunc, train

    def meta_losses(self, kind: Kind, etas: ArrayLike | float, t: int) -> F64:
        """Per-task meta-losses, shape (m, G): training loss (``"tbt"``) or held-out loss
        (``"tbv"``, paper eq. (1) and (2) before averaging)."""
        k = check_kind(kind)
        if k == "tbv" and self.R is None:
            raise UnknownOptionError(
                "kind", kind, "'tbv' needs a batch with held-out (validation) samples"
            )
        metrics = self.evaluate(etas, t)
        if k == "tbt":
            return metrics.train_loss
        assert metrics.heldout_loss is not None
        return metrics.heldout_loss

    def final_iterates(self, etas: ArrayLike | float, t: int) -> F64:
        """The final iterates w_t (after truncation), shape (m, G, d); needs ``keep_vectors``.

        Accuracy
        --------
        As :meth:`evaluate`, plus one matrix product ``V c`` (error <= r u |V||c|).
        """
        if self.V is None:
            raise UnknownOptionError(
                "keep_vectors", False, "final_iterates needs a batch built with keep_vectors=True"
            )
        e = check_etas(etas)
        ti = validate_horizon(t)
        c, trunc, _ = self._chunk(slice(None), e, ti)
        w = np.matmul(c, np.swapaxes(self.V, 1, 2))
        if self.radius is not None:
            w[trunc] = self.radius * self.truncation_direction
        return np.asarray(w, dtype=np.float64)


class BatchBuilder:
    """Accumulates the reduced arrays of a TaskBatch task by task.

    Internal to the package (:func:`~verify.paper.trainval.sample_tasks` and
    :meth:`TaskBatch.from_arrays` use it): ``add`` each task, then ``build`` once.
    """

    def __init__(
        self, m: int, n: int, nh: int, d: int, sigma: float, tf: float | None, keep: object
    ) -> None:
        if not isinstance(keep, (bool, np.bool_)):
            raise ArgumentError("keep_vectors", keep, "must be True or False")
        r = min(n, d)
        k = min(nh, r)
        self.m, self.n, self.nh, self.d, self.sigma, self.tf = m, n, nh, d, sigma, tf
        self.sv = np.empty((m, r))
        self.z = np.empty((m, r))
        self.y_perp2 = np.empty(m)
        self.w_proj = np.empty((m, r))
        self.w_perp2 = np.empty(m)
        self.R = np.empty((m, k, r)) if nh else None
        self.g = np.empty((m, k)) if nh else None
        self.h_perp2 = np.empty(m) if nh else None
        self.trunc_train = np.empty(m)
        self.trunc_heldout = np.empty(m) if nh else None
        self.trunc_error = np.empty(m)
        self.V = np.empty((m, d, r)) if keep else None
        # the truncation rule needs a radius; without one the frozen values are never used
        self.radius = (tf if tf is not None else TRUNCATION_FACTOR) * sigma

    def add(self, k: int, w: F64, X: F64, y: F64, Xh: F64 | None, yh: F64 | None) -> None:
        """Reduce task ``k`` (w*, training data, optional held-out data) into row ``k``."""
        f = Factorization(X, y)
        self.sv[k], self.z[k], self.y_perp2[k] = f.S, f.z, f.y_perp2
        self.w_proj[k], self.w_perp2[k] = f.coordinates(w)
        rad = self.radius
        rt = rad * X[:, 0] - y  # X (radius e_1) - y
        self.trunc_train[k] = rt @ rt / (2 * self.n)
        we = -w.copy()
        we[0] += rad
        self.trunc_error[k] = we @ we
        if self.V is not None:
            self.V[k] = f.vectors()
        if Xh is not None and yh is not None:
            assert self.R is not None and self.g is not None and self.h_perp2 is not None
            assert self.trunc_heldout is not None
            # QR of [X_h V, y_h] without forming Q: R_aug = [[R, g], [0, rho]]
            r = f.S.size
            Raug = np.asarray(
                np.linalg.qr(np.column_stack([f.project(Xh), yh]), mode="r"), dtype=np.float64
            )
            rows = min(self.nh, r)
            self.R[k], self.g[k] = Raug[:rows, :r], Raug[:rows, r]
            self.h_perp2[k] = Raug[r, r] ** 2 if self.nh > r else 0.0
            rh = rad * Xh[:, 0] - yh
            self.trunc_heldout[k] = rh @ rh / (2 * self.nh)

    def build(self) -> TaskBatch:
        """The frozen batch (every array made read-only)."""
        for arr in vars(self).values():
            if isinstance(arr, np.ndarray):
                arr.setflags(write=False)  # a frozen batch: results cannot be edited in place
        return TaskBatch(
            d=self.d,
            n_train=self.n,
            n_heldout=self.nh,
            sigma=self.sigma,
            truncation_factor=self.tf,
            sv=self.sv,
            z=self.z,
            y_perp2=self.y_perp2,
            w_proj=self.w_proj,
            w_perp2=self.w_perp2,
            R=self.R,
            g=self.g,
            h_perp2=self.h_perp2,
            trunc_train=self.trunc_train,
            trunc_heldout=self.trunc_heldout,
            trunc_error=self.trunc_error,
            V=self.V,
        )
