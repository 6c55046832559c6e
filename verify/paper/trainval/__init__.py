"""Train-by-train vs. train-by-validation on the least-squares task family (paper notes §2.4, §4.7).

The task family of Section 4 of the paper:

* a task is ``w*`` uniform on the unit sphere of R^d; samples are ``x ~ N(0, I_d)``,
  ``y = <w*, x> + xi`` with ``xi ~ N(0, sigma^2)``;
* the inner optimizer is ``t`` steps of GD from ``w_0 = 0`` on the training loss
  ``||X w - y||^2 / (2n)`` with step size ``eta``;
* truncation rule: if ``||w_tau|| >= 40 sigma`` at some step ``tau <= t``, the trajectory is
  frozen at ``40 sigma u`` for a fixed unit vector ``u`` (here ``u = e_1``; ``w*`` is rotation
  invariant, so every fixed ``u`` gives the same distribution of every reported quantity);
* train-by-train TbT(n) averages the final *training* loss over ``m`` tasks (paper eq. (1));
  train-by-validation TbV(n1, n2) trains on ``n1`` samples and averages the loss on ``n2``
  held-out samples (paper eq. (2)); ``eta*`` minimizes either average;
* a learned step size is judged by ``E ||w_t - w*||^2`` over *new* tasks, and (as in the
  authors' code, notes §5.2) by training and test RMSE on a fresh training set of the full size
  and an independent test set.

Everything is vectorized through one spectral factorization per task. With the thin
factorization ``X = U diag(S) V^T`` (``r = min(n, d)`` columns), ``s_j = S_j^2 / n`` the
eigenvalues of ``X^T X / n``, ``z = U^T y`` and ``beta_j = <v_j, X^T y / n> = S_j z_j / n``,
GD from 0 has the closed form (notes §4.7)

    w_tau = V c(tau),   c_j(tau) = eta * phi_tau(eta s_j) * beta_j,
    phi_tau(x) = (1 - (1 - x)^tau) / x   (phi_tau(0) = tau),

so every quantity below costs O(r) per task, step size and horizon:

* ``||w_tau||^2 = sum_j c_j(tau)^2``;
* training loss ``(sum_j (1 - eta s_j)^(2 tau) z_j^2 + ||(I - U U^T) y||^2) / (2n)`` (the
  residual ``S c - z = -(1 - eta s)^tau z`` in closed form: no cancellation near interpolation);
* held-out loss ``(||R c - g||^2 + rho^2) / (2 n_h)`` from a QR compression
  ``X_h V = Q R``, ``g = Q^T y_h``, ``rho = ||y_h - Q g||``;
* error ``||w_tau - w*||^2 = ||c - V^T w*||^2 + ||(I - V V^T) w*||^2``.

The truncation rule needs the first ``tau`` with ``||w_tau|| >= 40 sigma``. When every
``eta s_j <= 1`` each ``|c_j(tau)|`` is nondecreasing in ``tau``, so only ``tau = t`` is checked;
otherwise (some ``1 - eta s_j < 0``: oscillating or diverging modes) all ``tau = 1..t`` are.

Nothing here is ground truth: these are float64 Monte Carlo estimates with stated confidence
intervals. The certified link is :func:`certified_step_size` (and the tests, which compare the
vectorized values with :func:`verify.truth.meta_objective` on small instances).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from statistics import NormalDist
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...certified.enclosure import Enclosure
from ...errors import (
    ArgumentError,
    InvalidPrecisionError,
    NonFiniteError,
    NotCertifiedError,
    ShapeMismatchError,
    UnknownOptionError,
)
from ...objectives import validate_eta, validate_horizon
from ...problems import LeastSquares

__all__ = [
    "DEFAULT_CONFIDENCE",
    "DEFAULT_GRID",
    "TRUNCATION_FACTOR",
    "ExperimentResult",
    "GridSearchResult",
    "Kind",
    "LeastSquaresConfig",
    "MonteCarloEstimate",
    "RefinedStepSize",
    "StepSizeEvaluation",
    "TaskBatch",
    "TaskData",
    "TrajectoryMetrics",
    "certified_step_size",
    "draw_tasks",
    "erm_expected_error",
    "evaluate_step_sizes",
    "fastest_contraction_step",
    "grid_search",
    "interpolant_expected_error",
    "marchenko_pastur_edges",
    "mean_ci",
    "paired_difference",
    "refine_step_size",
    "run_experiment",
    "sample_task_pair",
    "sample_tasks",
]

F64 = NDArray[np.float64]
Kind = Literal["tbt", "tbv"]
KINDS: tuple[str, ...] = ("tbt", "tbv")

#: The authors' grid (``grid_search_eta_lr.py``): 10^(-6 + k/4), k = 0..24.
DEFAULT_GRID: tuple[float, ...] = tuple(float(v) for v in np.logspace(-6, 0, 25))
#: The truncation radius is ``TRUNCATION_FACTOR * sigma`` (paper notes §2.4).
TRUNCATION_FACTOR = 40.0
#: Default two-sided confidence level of every interval reported by this module.
DEFAULT_CONFIDENCE = 0.99
#: Default number of bootstrap resamples for the interval of a grid argmin.
DEFAULT_BOOTSTRAP = 2000

# Independent random streams of one seed: meta-training tasks, test tasks, bootstrap.
_STREAM_META_TRAIN = 0
_STREAM_TEST = 1
_STREAM_BOOTSTRAP = 2

# The Gram-matrix eigendecomposition squares the condition number: each eigenvalue of
# X^T X / n comes out with relative error about k u kappa^2 (k = min(n, d), u = 2^-53). Above
# this kappa^2 the factorization falls back to the SVD of X (relative error about k u kappa).
_GRAM_MAX_KAPPA2 = 1e4

# Elements per chunk of the (tasks x step sizes x r) work arrays (64 MiB of float64).
_CHUNK_ELEMENTS = 1 << 23


# ---------------------------------------------------------------------- validation helpers
def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ShapeMismatchError(name, value, f"must be an integer >= {minimum}")
    if int(value) < minimum:
        raise ShapeMismatchError(name, value, f"must be an integer >= {minimum}")
    return int(value)


def _check_positive(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ArgumentError(name, value, "must be a real number")
    v = float(value)
    if not math.isfinite(v):
        raise NonFiniteError(name, value, "must be finite")
    if v <= 0:
        raise ArgumentError(name, value, "must be > 0")
    return v


def _check_seed(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < 0:
        raise ArgumentError("seed", value, "must be an integer >= 0")
    return int(value)


def _check_confidence(value: object, name: str = "confidence") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        raise InvalidPrecisionError(name, value, "must be a real number in (0, 1)")
    v = float(value)
    if not 0 < v < 1:
        raise InvalidPrecisionError(name, value, "must satisfy 0 < confidence < 1")
    return v


def _check_kind(kind: object) -> Kind:
    if kind not in KINDS:
        raise UnknownOptionError("kind", kind, f"must be one of {KINDS}")
    return kind  # type: ignore[return-value]


def _check_etas(etas: object, name: str = "etas") -> F64:
    """A 1-D float64 array of valid step sizes (each checked with ``validate_eta``)."""
    if isinstance(etas, (int, float, np.integer, np.floating)) and not isinstance(etas, bool):
        etas = [etas]
    try:
        items = list(etas)  # type: ignore[call-overload]
    except TypeError as exc:
        raise ShapeMismatchError(name, etas, "must be a sequence of step sizes") from exc
    if not items:
        raise ShapeMismatchError(name, etas, "must contain at least one step size")
    for e in items:
        try:
            validate_eta(e)
        except ArgumentError as exc:
            raise type(exc)(name, etas, f"entry {e!r}: {exc.reason}") from exc
    return np.array([float(e) for e in items], dtype=np.float64)


def _check_truncation(truncation_factor: object) -> float | None:
    if truncation_factor is None:
        return None
    return _check_positive("truncation_factor", truncation_factor)


def _array(value: ArrayLike, name: str, ndim: int) -> F64:
    try:
        raw = np.asarray(value)
    except Exception as exc:  # pragma: no cover - numpy raises many types here
        raise ShapeMismatchError(name, value, f"cannot be read as an array ({exc})") from exc
    if raw.dtype == object or raw.dtype.kind not in "biuf":
        raise ShapeMismatchError(name, value, f"must be a real numeric array, not {raw.dtype}")
    if raw.ndim != ndim:
        raise ShapeMismatchError(name, value, f"must have {ndim} dimensions, got {raw.shape}")
    arr = raw.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise NonFiniteError(name, value, "contains NaN or infinity")
    return arr


def _z_value(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2)


# ---------------------------------------------------------------------- Monte Carlo estimates
@dataclass(frozen=True)
class MonteCarloEstimate:
    """A Monte Carlo mean with a two-sided confidence interval.

    Attributes
    ----------
    mean : float
        Sample mean.
    std_error : float
        Sample standard deviation (ddof = 1) over sqrt(count).
    low, high : float
        ``mean -/+ z * std_error`` with ``z`` the standard normal quantile of
        ``(1 + confidence) / 2`` (normal approximation, ``method="normal"``).
    confidence : float
        Two-sided level, e.g. 0.99.
    count : int
        Number of independent samples.
    method : str
        How the interval was formed.
    """

    mean: float
    std_error: float
    low: float
    high: float
    confidence: float
    count: int
    method: str = "normal"

    def __str__(self) -> str:
        pct = 100 * self.confidence
        return f"{self.mean:.4g} [{self.low:.4g}, {self.high:.4g}] ({pct:g}% {self.method})"


def mean_ci(samples: ArrayLike, confidence: float = DEFAULT_CONFIDENCE) -> MonteCarloEstimate:
    """Mean of i.i.d. samples with a normal-approximation confidence interval.

    Parameters
    ----------
    samples : array_like, shape (k,)
        Independent draws (k >= 2), e.g. one value per task.
    confidence : float
        Two-sided level in (0, 1).

    Returns
    -------
    MonteCarloEstimate

    Accuracy
    --------
    The interval has asymptotic coverage ``confidence`` (central limit theorem); for k of a
    few tens and light-tailed per-task values (all the quantities here are bounded or
    sub-exponential) the coverage error is O(1/sqrt(k)).

    Examples
    --------
    >>> est = mean_ci([1.0, 2.0, 3.0, 4.0], confidence=0.95)
    >>> est.mean, est.count
    (2.5, 4)
    """
    level = _check_confidence(confidence)
    x = _array(samples, "samples", 1)
    if x.size < 2:
        raise ShapeMismatchError("samples", samples, "needs at least 2 samples for an interval")
    mean = float(x.mean())
    se = float(x.std(ddof=1) / math.sqrt(x.size))
    half = _z_value(level) * se
    return MonteCarloEstimate(mean, se, mean - half, mean + half, level, int(x.size))


def paired_difference(
    a: ArrayLike, b: ArrayLike, confidence: float = DEFAULT_CONFIDENCE
) -> MonteCarloEstimate:
    """Mean of ``a - b`` over paired samples (the same tasks), with its confidence interval.

    Pairing on common tasks removes the task-to-task variation shared by ``a`` and ``b``, so
    the interval of the difference is much narrower than the difference of two intervals.
    """
    xa = _array(a, "a", 1)
    xb = _array(b, "b", 1)
    if xa.shape != xb.shape:
        raise ShapeMismatchError("b", b, f"must have the shape of a {xa.shape}, got {xb.shape}")
    return mean_ci(xa - xb, confidence)


# ---------------------------------------------------------------------- theory helpers
def marchenko_pastur_edges(d: int, n: int) -> tuple[float, float]:
    """Limits of the smallest and largest nonzero eigenvalue of X^T X / n (X is n x d Gaussian).

    ``((sqrt(d/n) - 1)^2, (sqrt(d/n) + 1)^2)`` as d, n -> infinity with d/n fixed (notes §4.7;
    for d/n = 2: [0.17, 5.83]). Finite-size edges fluctuate by O(n^(-2/3)).
    """
    dd = _check_int("d", d, 1)
    nn = _check_int("n", n, 1)
    ratio = math.sqrt(dd / nn)
    return (ratio - 1) ** 2, (ratio + 1) ** 2


def fastest_contraction_step(d: int, n: int) -> float:
    """``2 / (s_min + s_max)`` at the Marchenko-Pastur edges, i.e. ``1 / (1 + d/n)``.

    The step size that contracts the slowest mode fastest; the scale of ``eta*_train`` in
    Theorem 5 (notes §4.7: about 0.33 for d/n = 2).
    """
    lo, hi = marchenko_pastur_edges(d, n)
    return 2 / (lo + hi)


def erm_expected_error(d: int, n: int, sigma: float) -> float:
    """``E ||w_ERM - w*||^2 = sigma^2 d / (n - d - 1)`` for Gaussian design, n > d + 1.

    Exact (inverse-Wishart mean ``E (X^T X)^-1 = I / (n - d - 1)``); the comparison value of
    Theorem 6, whose bound is ``(1 + eps) d sigma^2 / n``.
    """
    dd = _check_int("d", d, 1)
    nn = _check_int("n", n, dd + 2)
    s = _check_positive("sigma", sigma)
    return s * s * dd / (nn - dd - 1)


def interpolant_expected_error(d: int, n: int, sigma: float) -> float:
    """``E ||X^+ y - w*||^2 = (1 - n/d) + sigma^2 n / (d - n - 1)`` for n < d - 1.

    Exact for Gaussian design and ``w*`` uniform on the unit sphere: the min-norm interpolant
    misses the component of ``w*`` outside the row space (expected squared norm 1 - n/d) and
    fits the noise (``E tr (X X^T)^-1 = n / (d - n - 1)``). TbT at large t converges to it
    (the Omega(sigma^2) error of Theorem 5).
    """
    dd = _check_int("d", d, 3)
    nn = _check_int("n", n, 1)
    if nn >= dd - 1:
        raise ShapeMismatchError("n", n, f"must be < d - 1 = {dd - 1}")
    s = _check_positive("sigma", sigma)
    return (1 - nn / dd) + s * s * nn / (dd - nn - 1)


# ---------------------------------------------------------------------- task data
@dataclass(frozen=True, eq=False)
class TaskData:
    """Materialized raw data of ``m`` tasks (for small instances and cross-checks).

    Attributes
    ----------
    w_star : ndarray, shape (m, d)
    X : ndarray, shape (m, n, d)
    y : ndarray, shape (m, n)
    sigma : float
    """

    w_star: F64
    X: F64
    y: F64
    sigma: float

    @property
    def num_tasks(self) -> int:
        """m."""
        return int(self.X.shape[0])

    def problems(self, rows: slice | None = None) -> list[LeastSquares]:
        """The tasks' (sub-)data sets as :class:`~verify.problems.LeastSquares` (start w0 = 0)."""
        sl = slice(None) if rows is None else rows
        return [LeastSquares(self.X[k, sl], self.y[k, sl]) for k in range(self.num_tasks)]


def _task_rng(seed: int, stream: int, k: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream, k)))


def _draw_task(rng: np.random.Generator, d: int, n: int, sigma: float) -> tuple[F64, F64, F64]:
    """One task: w* uniform on the sphere, X ~ N(0, 1)^(n x d), y = X w* + sigma xi.

    The noise is drawn standardized and scaled by sigma, so the same seed gives the same
    (w*, X, xi) at every sigma (common random numbers across noise levels).
    """
    g = rng.standard_normal(d)
    w_star = g / np.linalg.norm(g)
    X = rng.standard_normal((n, d))
    xi = rng.standard_normal(n)
    y = X @ w_star + sigma * xi
    return w_star, X, y


def draw_tasks(
    d: int,
    n: int,
    *,
    sigma: float,
    num_tasks: int,
    seed: int = 0,
    stream: Literal["meta_train", "test"] = "meta_train",
) -> TaskData:
    """Draw ``num_tasks`` tasks with ``n`` samples each (the data :func:`sample_tasks` uses).

    Task ``k`` comes from its own generator ``SeedSequence(seed, spawn_key=(stream, k))``, so it
    is the same whatever ``num_tasks`` or chunking; :func:`sample_tasks` with the same
    arguments sees exactly these arrays (rows ``[:n_train]`` training, the rest held out).
    """
    dd = _check_int("d", d, 1)
    nn = _check_int("n", n, 1)
    s = _check_positive("sigma", sigma)
    m = _check_int("num_tasks", num_tasks, 1)
    sd = _check_seed(seed)
    st = _stream(stream)
    W = np.empty((m, dd))
    X = np.empty((m, nn, dd))
    Y = np.empty((m, nn))
    for k in range(m):
        W[k], X[k], Y[k] = _draw_task(_task_rng(sd, st, k), dd, nn, s)
    return TaskData(W, X, Y, s)


def _stream(stream: object) -> int:
    if stream == "meta_train":
        return _STREAM_META_TRAIN
    if stream == "test":
        return _STREAM_TEST
    raise UnknownOptionError("stream", stream, "must be 'meta_train' or 'test'")


# ---------------------------------------------------------------------- spectral factorization
class _Factor:
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


def _phi(x: F64, tau: int) -> F64:
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


def _power(x: F64, tau: int) -> F64:
    """(1 - x)^tau elementwise for x >= 0, consistent with :func:`_phi` (= 1 - x phi_tau(x))."""
    out = np.empty_like(x)
    small = x < 1
    out[small] = np.exp(tau * np.log1p(-x[small]))
    with np.errstate(over="ignore"):
        out[~small] = (1 - x[~small]) ** tau
    return out


def _crossed_before(x: F64, scale: F64, t: int, r2: float) -> NDArray[np.bool_]:
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
        ct = scale[active] * _phi(x[active], tau)
        crossed = ~(np.einsum("pr,pr->p", ct, ct) < r2)
        hit[active[crossed]] = True
        active = active[~crossed]
    return hit


# ---------------------------------------------------------------------- task batch
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
        Xa = _array(X, "X", 3)
        m, n, d = Xa.shape
        if m == 0 or n == 0 or d == 0:
            raise ShapeMismatchError("X", X, f"must be non-empty, got shape {Xa.shape}")
        ya = _array(y, "y", 2)
        if ya.shape != (m, n):
            raise ShapeMismatchError("y", y, f"must have shape {(m, n)}, got {ya.shape}")
        wa = _array(w_star, "w_star", 2)
        if wa.shape != (m, d):
            raise ShapeMismatchError("w_star", w_star, f"must have shape {(m, d)}, got {wa.shape}")
        s = _check_positive("sigma", sigma)
        tf = _check_truncation(truncation_factor)
        if (X_heldout is None) != (y_heldout is None):
            raise ShapeMismatchError(
                "y_heldout" if y_heldout is None else "X_heldout",
                None,
                "X_heldout and y_heldout must be given together",
            )
        Xh: F64 | None = None
        yh: F64 | None = None
        if X_heldout is not None and y_heldout is not None:
            Xh = _array(X_heldout, "X_heldout", 3)
            if Xh.shape[0] != m or Xh.shape[2] != d or Xh.shape[1] == 0:
                raise ShapeMismatchError(
                    "X_heldout", X_heldout, f"must have shape ({m}, n_h >= 1, {d}), got {Xh.shape}"
                )
            yh = _array(y_heldout, "y_heldout", 2)
            if yh.shape != Xh.shape[:2]:
                raise ShapeMismatchError(
                    "y_heldout", y_heldout, f"must have shape {Xh.shape[:2]}, got {yh.shape}"
                )
        builder = _Builder(m, n, 0 if Xh is None else Xh.shape[1], d, s, tf, keep_vectors)
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
        e = _check_etas(etas)
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
            c = scale * _phi(x, t)
            q2t = _power(x, t) ** 2
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
                    trunc[rows, cols] = _crossed_before(x[rows, cols], scale[rows, cols], t, r2)
        return c, trunc, train

    def meta_losses(self, kind: Kind, etas: ArrayLike | float, t: int) -> F64:
        """Per-task meta-losses, shape (m, G): training loss (``"tbt"``) or held-out loss
        (``"tbv"``, paper eq. (1) and (2) before averaging)."""
        k = _check_kind(kind)
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
        e = _check_etas(etas)
        ti = validate_horizon(t)
        c, trunc, _ = self._chunk(slice(None), e, ti)
        w = np.matmul(c, np.swapaxes(self.V, 1, 2))
        if self.radius is not None:
            w[trunc] = self.radius * self.truncation_direction
        return np.asarray(w, dtype=np.float64)


class _Builder:
    """Accumulates the reduced arrays of a TaskBatch task by task."""

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
        f = _Factor(X, y)
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


def sample_tasks(
    d: int,
    n_train: int,
    *,
    sigma: float,
    num_tasks: int,
    n_heldout: int = 0,
    seed: int = 0,
    stream: Literal["meta_train", "test"] = "meta_train",
    truncation_factor: float | None = TRUNCATION_FACTOR,
    keep_vectors: bool = False,
) -> TaskBatch:
    """Draw and reduce ``num_tasks`` tasks with ``n_train`` training and ``n_heldout``
    held-out samples (rows ``[:n_train]`` and ``[n_train:]`` of :func:`draw_tasks`).

    Deterministic in ``(seed, stream)``; task k does not depend on ``num_tasks``. Memory is
    O(m (r^2 + r)) for the reduced arrays: raw data are drawn and discarded one task at a time.
    """
    dd = _check_int("d", d, 1)
    n1 = _check_int("n_train", n_train, 1)
    nh = _check_int("n_heldout", n_heldout, 0)
    s = _check_positive("sigma", sigma)
    m = _check_int("num_tasks", num_tasks, 1)
    sd = _check_seed(seed)
    st = _stream(stream)
    tf = _check_truncation(truncation_factor)
    builder = _Builder(m, n1, nh, dd, s, tf, keep_vectors)
    for k in range(m):
        w, X, y = _draw_task(_task_rng(sd, st, k), dd, n1 + nh, s)
        if nh:
            builder.add(k, w, X[:n1], y[:n1], X[n1:], y[n1:])
        else:
            builder.add(k, w, X, y, None, None)
    return builder.build()


def sample_task_pair(
    d: int,
    n: int,
    n1: int,
    n2: int,
    *,
    sigma: float,
    num_tasks: int,
    seed: int = 0,
    truncation_factor: float | None = TRUNCATION_FACTOR,
) -> tuple[TaskBatch, TaskBatch]:
    """The TbT(n) and TbV(n1, n2) batches of the same ``num_tasks`` meta-training tasks.

    Each task draws ``max(n, n1 + n2)`` samples; TbT trains (and evaluates) on the first
    ``n``; TbV trains on the first ``n1`` and validates on the next ``n2``. With
    ``n1 + n2 = n`` this is the authors' split of the same data (notes §5.2): TbV uses no
    more data in total (Theorem 5).
    """
    dd = _check_int("d", d, 1)
    nn = _check_int("n", n, 1)
    a = _check_int("n1", n1, 1)
    b = _check_int("n2", n2, 1)
    s = _check_positive("sigma", sigma)
    m = _check_int("num_tasks", num_tasks, 1)
    sd = _check_seed(seed)
    tf = _check_truncation(truncation_factor)
    total = max(nn, a + b)
    tbt = _Builder(m, nn, 0, dd, s, tf, False)
    tbv = _Builder(m, a, b, dd, s, tf, False)
    for k in range(m):
        w, X, y = _draw_task(_task_rng(sd, _STREAM_META_TRAIN, k), dd, total, s)
        tbt.add(k, w, X[:nn], y[:nn], None, None)
        tbv.add(k, w, X[:a], y[:a], X[a : a + b], y[a : a + b])
    return tbt.build(), tbv.build()


# ---------------------------------------------------------------------- step-size search
@dataclass(frozen=True, eq=False)
class GridSearchResult:
    """Grid search of a meta-objective over step sizes on fixed tasks.

    Attributes
    ----------
    kind : {"tbt", "tbv"}
    t : int
    grid : ndarray, shape (G,)
    values : ndarray, shape (m, G)
        Per-task meta-losses.
    mean : ndarray, shape (G,)
        The empirical meta-objective F_hat(eta) (paper eq. (1) or (2)).
    mean_low, mean_high : ndarray, shape (G,)
        Pointwise normal-approximation confidence band of the population meta-objective.
    truncated_fraction : ndarray, shape (G,)
        Fraction of tasks frozen by the truncation rule.
    index : int
        Grid argmin of ``mean`` (the smallest index among ties).
    eta : float
        ``grid[index]``: the learned step size.
    eta_low, eta_high : float
        Bootstrap percentile interval of the grid argmin (tasks resampled with replacement,
        ``bootstrap_resamples`` times, generator seeded by ``bootstrap_seed``).
    confidence : float
    bootstrap_resamples : int
    bootstrap_seed : int
    """

    kind: Kind
    t: int
    grid: F64
    values: F64
    mean: F64
    mean_low: F64
    mean_high: F64
    truncated_fraction: F64
    index: int
    eta: float
    eta_low: float
    eta_high: float
    confidence: float
    bootstrap_resamples: int
    bootstrap_seed: int

    @property
    def bracket(self) -> tuple[float, float]:
        """Grid neighbours of the argmin (clipped at the ends): where to refine."""
        lo = self.grid[max(self.index - 1, 0)]
        hi = self.grid[min(self.index + 1, self.grid.size - 1)]
        return float(lo), float(hi)


def grid_search(
    batch: TaskBatch,
    kind: Kind,
    t: int,
    grid: Sequence[float] = DEFAULT_GRID,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
    bootstrap_resamples: int = DEFAULT_BOOTSTRAP,
    bootstrap_seed: int = 0,
) -> GridSearchResult:
    """Minimize the empirical TbT or TbV meta-objective over a grid of step sizes.

    Parameters
    ----------
    batch : TaskBatch
        Meta-training tasks (with validation samples for ``"tbv"``).
    kind : {"tbt", "tbv"}
    t : int
        Inner GD steps.
    grid : sequence of float
        Candidate step sizes (default: the authors' ``np.logspace(-6, 0, 25)``).
    confidence : float
        Level of the meta-objective band and of the bootstrap interval of the argmin.
    bootstrap_resamples : int
        Number of task resamples (>= 1) for the argmin interval.
    bootstrap_seed : int

    Returns
    -------
    GridSearchResult

    Accuracy
    --------
    Per-task values as :meth:`TaskBatch.evaluate`. The argmin is exact for the float64
    objective; near-ties within its rounding error may select either point.
    """
    if not isinstance(batch, TaskBatch):
        raise ShapeMismatchError("batch", batch, "must be a TaskBatch")
    k = _check_kind(kind)
    g = _check_etas(grid, "grid")
    ti = validate_horizon(t)
    level = _check_confidence(confidence)
    B = _check_int("bootstrap_resamples", bootstrap_resamples, 1)
    bs = _check_seed(bootstrap_seed)
    metrics = batch.evaluate(g, ti)
    if k == "tbt":
        values = metrics.train_loss
    else:
        if metrics.heldout_loss is None:
            raise UnknownOptionError(
                "kind", kind, "'tbv' needs a batch with held-out (validation) samples"
            )
        values = metrics.heldout_loss
    m = values.shape[0]
    mean = values.mean(axis=0)
    if m >= 2:
        half = _z_value(level) * values.std(axis=0, ddof=1) / math.sqrt(m)
    else:
        half = np.full_like(mean, np.inf)
    index = int(np.argmin(mean))
    rng = np.random.default_rng(np.random.SeedSequence(bs, spawn_key=(_STREAM_BOOTSTRAP,)))
    counts = rng.multinomial(m, np.full(m, 1.0 / m), size=B).astype(np.float64)
    boot = np.argmin(counts @ values, axis=1)
    alpha = (1 - level) / 2
    low = float(np.quantile(g[boot], alpha, method="inverted_cdf"))
    high = float(np.quantile(g[boot], 1 - alpha, method="inverted_cdf"))
    return GridSearchResult(
        kind=k,
        t=ti,
        grid=g,
        values=values,
        mean=mean,
        mean_low=mean - half,
        mean_high=mean + half,
        truncated_fraction=metrics.truncated.mean(axis=0),
        index=index,
        eta=float(g[index]),
        eta_low=low,
        eta_high=high,
        confidence=level,
        bootstrap_resamples=B,
        bootstrap_seed=bs,
    )


@dataclass(frozen=True)
class RefinedStepSize:
    """A local minimizer of the empirical meta-objective located by golden-section search.

    Attributes
    ----------
    eta : float
        Best point found.
    value : float
        F_hat(eta).
    lower, upper : float
        Final bracket (``upper / lower - 1 <= rel_tol``) containing a local minimizer of the
        float64-evaluated F_hat when F_hat is unimodal on the initial bracket.
    evaluations : int
    """

    eta: float
    value: float
    lower: float
    upper: float
    evaluations: int


_INV_PHI = (math.sqrt(5) - 1) / 2


def refine_step_size(
    batch: TaskBatch,
    kind: Kind,
    t: int,
    bracket: tuple[float, float],
    *,
    rel_tol: float = 1e-6,
    max_evaluations: int = 200,
) -> RefinedStepSize:
    """Golden-section search of the empirical meta-objective on ``bracket`` (in log eta).

    Use the grid neighbours of the grid argmin (:attr:`GridSearchResult.bracket`) as the
    bracket. The tasks are fixed, so F_hat is a deterministic function of eta.

    Accuracy
    --------
    Returns a bracket of relative width <= ``rel_tol`` around a local minimizer of the
    float64 F_hat if F_hat is unimodal on ``bracket`` (not checked: F_hat is a sum of m
    smooth functions and jumps where a task is truncated). Below relative widths of about
    sqrt(u) (1.5e-8) float64 values of F_hat cannot separate neighbouring points, so
    ``rel_tol`` smaller than that only adds evaluations. For a proven enclosure on small
    instances use :func:`certified_step_size`.
    """
    if not isinstance(batch, TaskBatch):
        raise ShapeMismatchError("batch", batch, "must be a TaskBatch")
    k = _check_kind(kind)
    ti = validate_horizon(t)
    lo, hi = _check_bracket(bracket)
    tol = _check_rel_tol(rel_tol)
    cap = _check_int("max_evaluations", max_evaluations, 3)

    def f(log_eta: float) -> float:
        return float(batch.meta_losses(k, [math.exp(log_eta)], ti).mean())

    a, b = math.log(lo), math.log(hi)
    c = b - _INV_PHI * (b - a)
    dpt = a + _INV_PHI * (b - a)
    fc, fd = f(c), f(dpt)
    evals = 2
    while b - a > math.log1p(tol) and evals < cap:
        if fc <= fd:
            b, dpt, fd = dpt, c, fc
            c = b - _INV_PHI * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, dpt, fd
            dpt = a + _INV_PHI * (b - a)
            fd = f(dpt)
        evals += 1
    best, fbest = (c, fc) if fc <= fd else (dpt, fd)
    return RefinedStepSize(math.exp(best), fbest, math.exp(a), math.exp(b), evals)


def _check_bracket(bracket: object) -> tuple[float, float]:
    try:
        pair: tuple[object, ...] = tuple(bracket)  # type: ignore[arg-type]
    except TypeError as exc:
        raise ShapeMismatchError("bracket", bracket, "must be a pair (lo, hi)") from exc
    if len(pair) != 2:
        raise ShapeMismatchError("bracket", bracket, "must be a pair (lo, hi)")
    lo: object = pair[0]
    hi: object = pair[1]
    for v in (lo, hi):
        try:
            validate_eta(v)
        except ArgumentError as exc:
            raise type(exc)("bracket", bracket, exc.reason) from exc
    lo_f, hi_f = float(lo), float(hi)  # type: ignore[arg-type]
    if not 0 < lo_f < hi_f:
        raise ShapeMismatchError("bracket", bracket, "must satisfy 0 < lo < hi")
    return lo_f, hi_f


def _check_rel_tol(rel_tol: object) -> float:
    if isinstance(rel_tol, bool) or not isinstance(rel_tol, (int, float, np.floating)):
        raise InvalidPrecisionError("rel_tol", rel_tol, "must be a real number in (0, 1)")
    v = float(rel_tol)
    if not 0 < v < 1:
        raise InvalidPrecisionError("rel_tol", rel_tol, "must satisfy 0 < rel_tol < 1")
    return v


def certified_step_size(
    train: Sequence[LeastSquares],
    t: int,
    bracket: tuple[float, float],
    *,
    sigma: float,
    validation: Sequence[LeastSquares] | None = None,
    truncation_factor: float = TRUNCATION_FACTOR,
    rel_tol: float = 1e-6,
) -> Enclosure:
    """Certified enclosure of a local minimizer of F_hat (TbT, or TbV with ``validation``).

    Bisection on the certified sign of ``F_hat'(eta) = (1/m) sum_k d/deta loss_k(w_t)``,
    each term from :func:`verify.truth.meta_gradient` (``objective="naive"``, the validation
    set as ``eval_problem``); the interval sum of the m enclosures decides the sign. Needs
    ``F_hat'(lo) < 0 < F_hat'(hi)`` proven at the bracket ends. Costs one certified
    eigendecomposition per data set (use d <= ~60) and O(m log(1/rel_tol)) cheap calls.

    The truncation rule is excluded rigorously, not assumed: with ``rho(eta) =
    max(1, eta L - 1)`` (L certified), ``||w_tau|| <= eta tau rho^(tau-1) ||b||`` for all
    ``tau <= t``, increasing in eta, and the exact rational value at ``hi`` must be below the
    radius for every task; otherwise :class:`~verify.errors.NotCertifiedError` is raised.

    Guarantee
    ---------
    The returned interval (relative width <= ``rel_tol``) provably contains a point where the
    derivative of the exact empirical meta-objective of the given float64 data changes sign
    from negative to positive, i.e. a local minimizer; if F_hat is unimodal on the bracket,
    its minimizer there.
    """
    from ... import truth

    problems = list(train)
    if not problems or not all(isinstance(p, LeastSquares) for p in problems):
        raise ShapeMismatchError("train", train, "must be a non-empty sequence of LeastSquares")
    evals: list[LeastSquares | None]
    if validation is None:
        evals = [None] * len(problems)
    else:
        evals = list(validation)
        if len(evals) != len(problems) or not all(isinstance(p, LeastSquares) for p in evals):
            raise ShapeMismatchError(
                "validation", validation, f"must be {len(problems)} LeastSquares (one per task)"
            )
    ti = validate_horizon(t)
    lo_f, hi_f = _check_bracket(bracket)
    s = _check_positive("sigma", sigma)
    tf = _check_positive("truncation_factor", truncation_factor)
    tol = _check_rel_tol(rel_tol)
    radius2 = (Fraction(tf) * Fraction(s)) ** 2
    lo, hi = Fraction(lo_f), Fraction(hi_f)
    for k, p in enumerate(problems):
        b2 = _exact_b_norm2(p)
        L = p.spectral_enclosures()["L"].upper
        growth = max(Fraction(1), hi * L - 1)
        bound2 = hi * hi * ti * ti * growth ** (2 * max(ti - 1, 0)) * b2
        if not bound2 < radius2:
            raise NotCertifiedError(
                f"task {k}: cannot exclude the truncation rule on the bracket "
                f"(bound {float(bound2) ** 0.5:.3g} >= radius {float(radius2) ** 0.5:.3g})",
                prec_bits=0,
                achieved_rel=math.inf,
            )

    def sign(eta: Fraction) -> int:
        for bits in (10, 40, 80):
            total_lo = Fraction(0)
            total_hi = Fraction(0)
            for p, ev in zip(problems, evals, strict=True):
                enc = truth.meta_gradient(
                    p, eta, ti, objective="naive", eval_problem=ev, rel_tol=Fraction(1, 2**bits)
                )
                total_lo += enc.lower
                total_hi += enc.upper
            if total_lo > 0:
                return 1
            if total_hi < 0:
                return -1
            if total_lo == total_hi == 0:
                return 0
        raise NotCertifiedError(
            f"sign of F_hat'({float(eta)!r}) not decided at relative radius 2^-80",
            prec_bits=0,
            achieved_rel=math.inf,
        )

    if sign(lo) >= 0 or sign(hi) <= 0:
        raise NotCertifiedError(
            "F_hat' does not change sign from - to + on the bracket",
            prec_bits=0,
            achieved_rel=math.inf,
        )
    from ..metaopt import bisect_sign_change

    return bisect_sign_change(sign, lo, hi, tol)


def _exact_b_norm2(problem: LeastSquares) -> Fraction:
    """||X^T y / n||^2 exactly, in rational arithmetic."""
    n = problem.n
    ys = [Fraction(float(v)) for v in problem.y]
    total = Fraction(0)
    for j in range(problem.d):
        col = problem.X[:, j]
        bj = sum((Fraction(float(col[i])) * ys[i] for i in range(n)), Fraction(0))
        total += bj * bj
    return total / (n * n)


# ---------------------------------------------------------------------- test-time evaluation
@dataclass(frozen=True, eq=False)
class StepSizeEvaluation:
    """A step size judged on new tasks (notes §2.4 and the authors' test code, §5.2).

    Per-task arrays have shape (k,) for k test tasks; estimates are means with confidence
    intervals (:func:`mean_ci`).

    Attributes
    ----------
    eta : float
    t : int
    errors : ndarray
        ``||w_t - w*||^2`` per test task.
    train_rmse, test_rmse : ndarray
        ``sqrt(mean (x^T w_t - y)^2)`` on the task's training set and on its independent test
        set (test RMSE includes the noise: it is about ``sqrt(error + sigma^2)``).
    truncated : ndarray of bool
    error, train, test : MonteCarloEstimate
        Estimates of E||w_t - w*||^2 and of the mean RMSEs.
    """

    eta: float
    t: int
    errors: F64
    train_rmse: F64
    test_rmse: F64
    truncated: NDArray[np.bool_]
    error: MonteCarloEstimate
    train: MonteCarloEstimate
    test: MonteCarloEstimate


def evaluate_step_sizes(
    batch: TaskBatch,
    etas: Sequence[float],
    t: int,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
) -> list[StepSizeEvaluation]:
    """Judge step sizes on test tasks (a batch with a held-out *test* set), all on the same
    tasks so that differences can be estimated pairwise (:func:`paired_difference`)."""
    if not isinstance(batch, TaskBatch):
        raise ShapeMismatchError("batch", batch, "must be a TaskBatch")
    if batch.R is None:
        raise ShapeMismatchError("batch", batch, "needs held-out test samples (n_heldout >= 1)")
    if batch.num_tasks < 2:
        raise ShapeMismatchError("batch", batch, "needs at least 2 test tasks for an interval")
    e = _check_etas(etas)
    ti = validate_horizon(t)
    level = _check_confidence(confidence)
    metrics = batch.evaluate(e, ti)
    assert metrics.heldout_loss is not None
    out = []
    for j, eta in enumerate(e):
        errs = metrics.error[:, j]
        tr = np.sqrt(2 * metrics.train_loss[:, j])
        te = np.sqrt(2 * metrics.heldout_loss[:, j])
        out.append(
            StepSizeEvaluation(
                eta=float(eta),
                t=ti,
                errors=errs,
                train_rmse=tr,
                test_rmse=te,
                truncated=metrics.truncated[:, j],
                error=mean_ci(errs, level),
                train=mean_ci(tr, level),
                test=mean_ci(te, level),
            )
        )
    return out


# ---------------------------------------------------------------------- the experiment
@dataclass(frozen=True)
class LeastSquaresConfig:
    """One TbT(n) vs. TbV(n1, n2) experiment (defaults: the authors' code, notes §5.2).

    Attributes
    ----------
    d, n, n1, n2 : int
        Dimension; TbT training samples; TbV training and validation samples.
    sigma : float
        Noise level.
    t : int
        Inner GD steps.
    num_tasks : int
        Meta-training tasks m.
    num_test_tasks : int
        New tasks the learned step sizes are judged on (>= 2; the authors used 10).
    n_test : int or None
        Test-set size per test task (default n). Test tasks train on ``n`` samples for both
        step sizes, as the authors' code does.
    grid : tuple of float
    truncation_factor : float or None
        Radius factor of the truncation rule (None disables it).
    truncate_at_test : bool
        Apply the truncation rule at test time too (the paper's w_{t,eta}; the authors' test
        code does not truncate).
    refine : bool
        Also run :func:`refine_step_size` on the grid bracket.
    confidence : float
    bootstrap_resamples : int
    seed : int
    """

    d: int = 1000
    n: int = 500
    n1: int = 250
    n2: int = 250
    sigma: float = 1.0
    t: int = 40
    num_tasks: int = 300
    num_test_tasks: int = 10
    n_test: int | None = None
    grid: tuple[float, ...] = DEFAULT_GRID
    truncation_factor: float | None = TRUNCATION_FACTOR
    truncate_at_test: bool = True
    refine: bool = True
    confidence: float = DEFAULT_CONFIDENCE
    bootstrap_resamples: int = DEFAULT_BOOTSTRAP
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("d", "n", "n1", "n2", "num_tasks"):
            _check_int(name, getattr(self, name), 1)
        _check_int("num_test_tasks", self.num_test_tasks, 2)
        if self.n_test is not None:
            _check_int("n_test", self.n_test, 1)
        _check_positive("sigma", self.sigma)
        validate_horizon(self.t)
        g = _check_etas(self.grid, "grid")
        object.__setattr__(self, "grid", tuple(float(v) for v in g))
        _check_truncation(self.truncation_factor)
        _check_confidence(self.confidence)
        _check_int("bootstrap_resamples", self.bootstrap_resamples, 1)
        _check_seed(self.seed)


@dataclass(frozen=True, eq=False)
class ExperimentResult:
    """Outcome of :func:`run_experiment`.

    Attributes
    ----------
    config : LeastSquaresConfig
    tbt, tbv : GridSearchResult
    tbt_refined, tbv_refined : RefinedStepSize or None
    tbt_test, tbv_test : StepSizeEvaluation
        The grid step sizes judged on the same new tasks.
    error_gap : MonteCarloEstimate
        Paired E||w - w*||^2 (TbT) - E||w - w*||^2 (TbV).
    test_rmse_gap : MonteCarloEstimate
        Paired test RMSE (TbT) - test RMSE (TbV).
    """

    config: LeastSquaresConfig
    tbt: GridSearchResult
    tbv: GridSearchResult
    tbt_refined: RefinedStepSize | None
    tbv_refined: RefinedStepSize | None
    tbt_test: StepSizeEvaluation
    tbv_test: StepSizeEvaluation
    error_gap: MonteCarloEstimate
    test_rmse_gap: MonteCarloEstimate

    def summary(self) -> str:
        """A few lines of text with every headline number."""
        c = self.config
        lines = [
            f"d={c.d} n={c.n} (TbV {c.n1}+{c.n2}) sigma={c.sigma:g} t={c.t} m={c.num_tasks} "
            f"test tasks={c.num_test_tasks}",
            f"eta_TbT={self.tbt.eta:.4g} [{self.tbt.eta_low:.4g}, {self.tbt.eta_high:.4g}]  "
            f"eta_TbV={self.tbv.eta:.4g} [{self.tbv.eta_low:.4g}, {self.tbv.eta_high:.4g}]",
            f"TbT: error {self.tbt_test.error}  train RMSE {self.tbt_test.train}  "
            f"test RMSE {self.tbt_test.test}",
            f"TbV: error {self.tbv_test.error}  train RMSE {self.tbv_test.train}  "
            f"test RMSE {self.tbv_test.test}",
            f"gap (TbT - TbV): error {self.error_gap}  test RMSE {self.test_rmse_gap}",
        ]
        if self.tbt_refined is not None and self.tbv_refined is not None:
            lines.append(
                f"refined: eta_TbT={self.tbt_refined.eta:.5g} eta_TbV={self.tbv_refined.eta:.5g}"
            )
        return "\n".join(lines)


def run_experiment(config: LeastSquaresConfig) -> ExperimentResult:
    """Grid-search eta for TbT and TbV on common meta-training tasks, then judge both on
    common new tasks.

    Deterministic in ``config.seed`` (meta-training and test tasks use independent streams;
    the bootstrap its own).
    """
    if not isinstance(config, LeastSquaresConfig):
        raise ShapeMismatchError("config", config, "must be a LeastSquaresConfig")
    c = config
    tbt_batch, tbv_batch = sample_task_pair(
        c.d,
        c.n,
        c.n1,
        c.n2,
        sigma=c.sigma,
        num_tasks=c.num_tasks,
        seed=c.seed,
        truncation_factor=c.truncation_factor,
    )
    opts = {
        "confidence": c.confidence,
        "bootstrap_resamples": c.bootstrap_resamples,
        "bootstrap_seed": c.seed,
    }
    tbt = grid_search(tbt_batch, "tbt", c.t, c.grid, **opts)  # type: ignore[arg-type]
    tbv = grid_search(tbv_batch, "tbv", c.t, c.grid, **opts)  # type: ignore[arg-type]
    tbt_ref = tbv_ref = None
    if c.refine and len(c.grid) >= 2 and tbt.bracket[0] > 0 and tbv.bracket[0] > 0:
        tbt_ref = refine_step_size(tbt_batch, "tbt", c.t, tbt.bracket)
        tbv_ref = refine_step_size(tbv_batch, "tbv", c.t, tbv.bracket)
    test_batch = sample_tasks(
        c.d,
        c.n,
        sigma=c.sigma,
        num_tasks=c.num_test_tasks,
        n_heldout=c.n if c.n_test is None else c.n_test,
        seed=c.seed,
        stream="test",
        truncation_factor=c.truncation_factor if c.truncate_at_test else None,
    )
    ev_tbt, ev_tbv = evaluate_step_sizes(
        test_batch, [tbt.eta, tbv.eta], c.t, confidence=c.confidence
    )
    return ExperimentResult(
        config=c,
        tbt=tbt,
        tbv=tbv,
        tbt_refined=tbt_ref,
        tbv_refined=tbv_ref,
        tbt_test=ev_tbt,
        tbv_test=ev_tbv,
        error_gap=paired_difference(ev_tbt.errors, ev_tbv.errors, c.confidence),
        test_rmse_gap=paired_difference(ev_tbt.test_rmse, ev_tbv.test_rmse, c.confidence),
    )
