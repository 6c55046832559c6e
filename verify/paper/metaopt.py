"""Meta-gradient descent on the step size, and the certified optimal step size eta*(t).

* :func:`meta_gradient_descent` runs eta_{k+1} = max(0, eta_k - mu_k F'(eta_k)) exactly as
  Theorem 4 states it (``schedule="theorem"``: mu_k = 1/sqrt(k)) or as the experiment ran it
  (``schedule="experiment"``: mu_k = 1/(100 sqrt(k)), paper notes §5.1), with any gradient
  source: the certified truth (default), or any callable ``(problem, eta, t) -> float`` (a
  float backprop backend, a framework, the stable formula).
* :func:`batch_meta_gradient_descent` runs the same iteration on many instances at once with
  the normalized closed-form gradient in float64 (:func:`stable_log_gradient`, paper notes
  §4.6), for statistics over instances (Figure 1 over >= 100 random quadratics);
  :func:`settle_steps` reads off when each run settles near its eta*.
* :func:`optimal_step_size` brackets the unique minimizer eta*(t) (the same for the naive and
  log objectives, paper notes §4.1) by bisection on the *certified* sign of F'.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from .. import truth
from ..certified.enclosure import Enclosure
from ..errors import (
    InvalidHorizonError,
    InvalidPrecisionError,
    NotCertifiedError,
    UnknownOptionError,
)
from ..problems import Problem
from ..validation import validate_eta, validate_horizon, validate_objective

__all__ = [
    "MetaGDTrajectory",
    "SpectralBatch",
    "backprop_gradient",
    "batch_meta_gradient_descent",
    "batch_optimal_step_size",
    "bisect_sign_change",
    "certified_gradient",
    "meta_gradient_descent",
    "optimal_step_size",
    "settle_steps",
    "stable_log_gradient",
]

GradientSource = Callable[[Problem, float, int], float]
Schedule = Literal["theorem", "experiment"]

# Relative radius requested from the truth engine when it serves as a float64 gradient
# source: far below float64's unit roundoff 2^-53, so to_float("float64") rounds correctly
# without refinement in all but tie-adjacent cases.
_SOURCE_REL_TOL = Fraction(1, 2**64)


def certified_gradient(objective: str = "log") -> GradientSource:
    """A gradient source returning the certified meta-gradient rounded once to float64."""
    obj = validate_objective(objective)

    def source(problem: Problem, eta: float, t: int) -> float:
        enc = truth.meta_gradient(problem, eta, t, objective=obj, rel_tol=_SOURCE_REL_TOL)
        return enc.to_float("float64")

    source.__name__ = f"certified_{obj}"
    return source


def backprop_gradient(
    dtype: str = "float32", *, mode: str = "reverse", objective: str = "log"
) -> GradientSource:
    """A gradient source using plain float backprop (:func:`verify.backprop.meta_gradient`)."""
    obj = validate_objective(objective)
    from ..backprop import meta_gradient as bp

    def source(problem: Problem, eta: float, t: int) -> float:
        return float(bp(problem, eta, t, objective=obj, dtype=dtype, mode=mode).grad)

    source.__name__ = f"backprop_{dtype}_{mode}_{obj}"
    return source


@dataclass(frozen=True)
class MetaGDTrajectory:
    """The whole meta-gradient descent run.

    Attributes
    ----------
    etas : ndarray, shape (steps + 1,)
        eta_0, ..., eta_K.
    grads : ndarray, shape (steps,)
        F'(eta_k) as returned by the gradient source (NaN and inf are kept as returned).
    meta_steps : ndarray, shape (steps,)
        mu_k.
    resets : int
        Number of times eta was reset to 0 after going negative.
    source : str
        Name of the gradient source.
    """

    etas: NDArray[np.float64]
    grads: NDArray[np.float64]
    meta_steps: NDArray[np.float64]
    resets: int
    source: str

    def steps_to_settle(self, target: float, rel: float) -> int | None:
        """First k after which |eta_j - target| <= rel * target for every j >= k (None if never)."""
        ok = np.abs(self.etas - target) <= rel * target
        if not ok[-1]:
            return None
        bad = np.flatnonzero(~ok)
        return 0 if bad.size == 0 else int(bad[-1] + 1)


def meta_gradient_descent(
    problem: Problem,
    t: int,
    *,
    eta0: float,
    steps: int,
    schedule: Schedule = "experiment",
    gradient: GradientSource | None = None,
    objective: str = "log",
) -> MetaGDTrajectory:
    """Meta-gradient descent on eta: eta_{k+1} = max(0, eta_k - mu_k F'(eta_k)), k = 1..steps.

    Parameters
    ----------
    problem : Quadratic or LeastSquares
    t : int
        Inner horizon (>= 1).
    eta0 : float
        Starting step size (>= 0).
    steps : int
        Number of meta-steps K (>= 0).
    schedule : {"experiment", "theorem"}
        mu_k = 1/(100 sqrt(k)) (the paper's experiment) or 1/sqrt(k) (Theorem 4).
    gradient : callable, optional
        ``(problem, eta, t) -> float``; defaults to :func:`certified_gradient` of ``objective``.
    objective : {"log", "naive"}
        Used only by the default gradient source.

    Returns
    -------
    MetaGDTrajectory

    Accuracy
    --------
    The iteration itself is done in float64 (as the paper's experiment); with the default
    source every gradient is the exact meta-gradient correctly rounded to float64. A
    non-finite gradient is recorded and, like the authors' TensorFlow code, treated as 0.
    """
    ti = validate_horizon(t, objective="log")
    eta = float(validate_eta(eta0))
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise InvalidHorizonError("steps", steps, "must be an integer >= 0")
    if schedule not in ("experiment", "theorem"):
        raise UnknownOptionError("schedule", schedule, "must be 'experiment' or 'theorem'")
    source = gradient if gradient is not None else certified_gradient(objective)
    scale = 100.0 if schedule == "experiment" else 1.0
    etas = np.empty(steps + 1)
    grads = np.empty(steps)
    mus = np.empty(steps)
    etas[0] = eta
    resets = 0
    for k in range(1, steps + 1):
        g = float(source(problem, eta, ti))
        grads[k - 1] = g
        mu = 1.0 / (scale * math.sqrt(k))
        mus[k - 1] = mu
        step = g if math.isfinite(g) else 0.0
        eta = eta - mu * step
        if eta < 0:
            eta = 0.0
            resets += 1
        etas[k] = eta
    return MetaGDTrajectory(etas, grads, mus, resets, getattr(source, "__name__", "callable"))


def bisect_sign_change(
    sign: Callable[[Fraction], int], lo: Fraction, hi: Fraction, rel_tol: float
) -> Enclosure:
    """Bisect a certified sign change: given sign(lo) < 0 < sign(hi), shrink [lo, hi] until
    hi - lo <= rel_tol * lo, keeping sign(lo) < 0 < sign(hi); a point with certified sign 0
    is returned exactly. Midpoints are float64 values when possible (exact dyadics that
    float inputs can reproduce).

    Guarantee
    ---------
    The result contains a point where the (continuous) function whose certified sign is
    ``sign`` changes from negative to positive.
    """
    while hi - lo > Fraction(rel_tol) * lo or lo == 0:
        mid = Fraction(float((lo + hi) / 2)) if lo else (lo + hi) / 2
        if not lo < mid < hi:
            mid = (lo + hi) / 2
        sg = sign(mid)
        if sg == 0:
            return Enclosure.exact(mid)
        if sg < 0:
            lo = mid
        else:
            hi = mid
    return Enclosure(lo, hi)


def optimal_step_size(
    problem: Problem,
    t: int,
    *,
    objective: str = "log",
    rel_tol: float = 1e-12,
) -> Enclosure:
    """Certified enclosure of eta*(t) = argmin_{eta >= 0} F(eta), relative width <= rel_tol.

    F'(0) < 0 and F'(eta) > 0 for eta > 1/alpha (every 1 - eta lambda_i < 0), and F'
    changes sign exactly once (strict convexity of the naive objective, Theorem 3; the log
    objective has the same sign, notes §4.1). Bisection on the certified sign of F' therefore
    keeps a bracket [lo, hi] with F'(lo) < 0 < F'(hi) that provably contains eta*.

    Guarantee
    ---------
    The returned enclosure contains the exact minimizer; (upper - lower) <= rel_tol * lower.
    Raises :class:`~verify.errors.NotCertifiedError` if a sign cannot be certified.
    """
    ti = validate_horizon(t, objective="log")
    obj = validate_objective(objective)
    if not (isinstance(rel_tol, (float, int)) and 0 < rel_tol < 1):
        raise InvalidPrecisionError("rel_tol", rel_tol, "must satisfy 0 < rel_tol < 1")

    def sign(eta: Fraction) -> int:
        return truth.meta_gradient(
            problem, eta, ti, objective=obj, rel_tol=Fraction(1, 2**10)
        ).sign()

    s = problem.spectral_enclosures()
    lo = Fraction(0)
    if sign(lo) >= 0:
        raise NotCertifiedError(
            "F'(0) is not negative: no interior minimizer", prec_bits=0, achieved_rel=math.inf
        )
    # candidate upper ends: 2/(L+alpha) (the large-t limit), then doubling up to 1/alpha
    hi = Fraction(2) / (s["L"].mid + s["alpha"].mid)
    hi = Fraction(float(hi))
    while sign(hi) <= 0:
        lo = hi
        hi = 2 * hi
        if hi > 4 / s["alpha"].lower:
            raise NotCertifiedError(
                "no sign change found below 4/alpha", prec_bits=0, achieved_rel=math.inf
            )
    return bisect_sign_change(sign, lo, hi, rel_tol)


# ------------------------------------------------------------------------------ batches
@dataclass(frozen=True)
class SpectralBatch:
    """Float64 eigen-data of m quadratics, for vectorized meta-gradients.

    Attributes
    ----------
    lam : ndarray, shape (m, d)
        Eigenvalues of each H (``numpy.linalg.eigh``, ascending).
    c2 : ndarray, shape (m, d)
        Squared coordinates ``<w0, u_i>^2`` of each start point in its eigenbasis.
    """

    lam: NDArray[np.float64]
    c2: NDArray[np.float64]

    @classmethod
    def from_problems(cls, problems: list[Problem]) -> SpectralBatch:
        """Eigen-data of homogeneous quadratics of one dimension (``b = 0``)."""
        from ..errors import ShapeMismatchError

        if not problems:
            raise ShapeMismatchError("problems", problems, "must be a non-empty list")
        d = problems[0].d
        lam = np.empty((len(problems), d))
        c2 = np.empty((len(problems), d))
        from ..problems import Quadratic

        for k, p in enumerate(problems):
            if not isinstance(p, Quadratic) or p.d != d or not p.is_homogeneous:
                raise ShapeMismatchError(
                    "problems", p, f"must all be homogeneous quadratics of dimension {d}"
                )
            w, U = np.linalg.eigh(np.asarray(p.H, dtype=np.float64))
            lam[k] = w
            c2[k] = (U.T @ np.asarray(p.w0, dtype=np.float64)) ** 2
        return cls(lam, c2)


def stable_log_gradient(
    batch: SpectralBatch, eta: NDArray[np.float64], t: int
) -> NDArray[np.float64]:
    """F'_log(eta) of the log objective for every instance of ``batch``, vectorized, float64.

    The normalized closed form of paper notes §4.6: with ``rho = max_i |1 - eta lambda_i|``
    and ``r_i = (1 - eta lambda_i) / rho`` in [-1, 1],
    ``F' = -(2 / rho) sum_i c_i^2 lambda_i^2 r_i^(2t-1) / sum_i c_i^2 lambda_i r_i^(2t)``;
    the dominant mode has ``|r_i| = 1``, so nothing overflows and the denominator is at least
    ``c_dom^2 lambda_dom > 0``.

    Accuracy
    --------
    Not certified. Each ``r_i`` has relative error <= 2u (u = 2^-53) from the rounding of
    ``1 - eta lambda_i`` and the division, amplified to about 2t u by the power; the eigen-data
    from ``eigh`` has absolute eigenvalue error about d u L, i.e. relative error d u L / lambda_i
    for the smallest modes. For the report's instances (d = 20, t = 80, L / alpha <= 1e6) the
    gradient agrees with the certified value to ~1e-8 relative (tested against
    :func:`verify.truth.meta_gradient`).
    """
    e = np.asarray(eta, dtype=np.float64)[:, None]
    a = 1.0 - e * batch.lam
    rho = np.abs(a).max(axis=1, keepdims=True)
    r = a / rho
    num = (batch.c2 * batch.lam**2 * r ** (2 * t - 1)).sum(axis=1)
    den = (batch.c2 * batch.lam * r ** (2 * t)).sum(axis=1)
    out: NDArray[np.float64] = -2.0 * num / (rho[:, 0] * den)
    return out


def batch_optimal_step_size(batch: SpectralBatch, t: int) -> NDArray[np.float64]:
    """eta*(t) of every instance by float64 bisection on the sign of :func:`stable_log_gradient`.

    F'(0) < 0 and F'(eta) > 0 for eta >= 1/alpha (every 1 - eta lambda_i <= 0), with one sign
    change in between (notes §4.1); 64 halvings of [0, 1/alpha] leave a bracket of width
    2^-64 / alpha.

    Accuracy
    --------
    Not certified: the sign of the float64 gradient is wrong only within its rounding error
    of the root, so the result is within ~1e-10 relative of eta*(t) for the report's
    instances (tested against :func:`optimal_step_size`); far below any settling tolerance.
    """
    ti = validate_horizon(t, objective="log")
    lo = np.zeros(batch.lam.shape[0])
    hi = 1.0 / batch.lam.min(axis=1)
    for _ in range(64):
        mid = (lo + hi) / 2
        neg = stable_log_gradient(batch, mid, ti) < 0
        lo = np.where(neg, mid, lo)
        hi = np.where(neg, hi, mid)
    out: NDArray[np.float64] = (lo + hi) / 2
    return out


def batch_meta_gradient_descent(
    batch: SpectralBatch,
    t: int,
    *,
    eta0: float,
    steps: int,
    schedule: Schedule = "experiment",
) -> NDArray[np.float64]:
    """:func:`meta_gradient_descent` on every instance of ``batch`` at once.

    Returns the step sizes, shape (m, steps + 1): eta_0, ..., eta_K per instance, with
    eta_{k+1} = max(0, eta_k - mu_k F'_log(eta_k)), mu_k = 1/(100 sqrt k) (``"experiment"``)
    or 1/sqrt k (``"theorem"``).

    Accuracy
    --------
    The gradients are those of :func:`stable_log_gradient` (float64, not certified); the
    iteration is float64 like the paper's experiment. Statistics over instances only.
    """
    ti = validate_horizon(t, objective="log")
    e0 = float(validate_eta(eta0))
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise InvalidHorizonError("steps", steps, "must be an integer >= 0")
    if schedule not in ("experiment", "theorem"):
        raise UnknownOptionError("schedule", schedule, "must be 'experiment' or 'theorem'")
    scale = 100.0 if schedule == "experiment" else 1.0
    m = batch.lam.shape[0]
    etas = np.empty((m, steps + 1))
    eta = np.full(m, e0)
    etas[:, 0] = eta
    for k in range(1, steps + 1):
        g = stable_log_gradient(batch, eta, ti)
        g = np.where(np.isfinite(g), g, 0.0)
        eta = np.maximum(eta - g / (scale * math.sqrt(k)), 0.0)
        etas[:, k] = eta
    return etas


def settle_steps(
    etas: NDArray[np.float64], targets: NDArray[np.float64], rel: float
) -> NDArray[np.float64]:
    """Per run, the first k after which |eta_j - target| <= rel * target for every j >= k.

    ``etas`` has shape (m, K + 1), ``targets`` shape (m,). A run that is not within the
    tolerance at its last step gets ``inf`` (never settled within the run: right-censored).
    Agrees with :meth:`MetaGDTrajectory.steps_to_settle` row by row.
    """
    e = np.asarray(etas, dtype=np.float64)
    tg = np.asarray(targets, dtype=np.float64)[:, None]
    ok = np.abs(e - tg) <= rel * tg
    out = np.full(e.shape[0], np.inf)
    for i in range(e.shape[0]):
        if not ok[i, -1]:
            continue
        bad = np.flatnonzero(~ok[i])
        out[i] = 0.0 if bad.size == 0 else float(bad[-1] + 1)
    return out
