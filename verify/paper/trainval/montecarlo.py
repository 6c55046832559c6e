"""Monte Carlo means with normal-approximation confidence intervals.

Every estimate of :mod:`verify.paper.trainval` is a mean over independent tasks reported with
a two-sided interval (:class:`MonteCarloEstimate`); pairing two quantities on the same tasks
(:func:`paired_difference`) removes their common task-to-task variation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

from numpy.typing import ArrayLike

from ...errors import ShapeMismatchError
from .arguments import check_confidence, real_array

__all__ = [
    "DEFAULT_CONFIDENCE",
    "MonteCarloEstimate",
    "mean_ci",
    "paired_difference",
    "z_value",
]

#: Default two-sided confidence level of every interval reported by the package.
DEFAULT_CONFIDENCE = 0.99


def z_value(confidence: float) -> float:
    """The standard normal quantile of ``(1 + confidence) / 2``."""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


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
    level = check_confidence(confidence)
    x = real_array(samples, "samples", 1)
    if x.size < 2:
        raise ShapeMismatchError("samples", samples, "needs at least 2 samples for an interval")
    mean = float(x.mean())
    se = float(x.std(ddof=1) / math.sqrt(x.size))
    half = z_value(level) * se
    return MonteCarloEstimate(mean, se, mean - half, mean + half, level, int(x.size))


def paired_difference(
    a: ArrayLike, b: ArrayLike, confidence: float = DEFAULT_CONFIDENCE
) -> MonteCarloEstimate:
    """Mean of ``a - b`` over paired samples (the same tasks), with its confidence interval.

    Pairing on common tasks removes the task-to-task variation shared by ``a`` and ``b``, so
    the interval of the difference is much narrower than the difference of two intervals.
    """
    xa = real_array(a, "a", 1)
    xb = real_array(b, "b", 1)
    if xa.shape != xb.shape:
        raise ShapeMismatchError("b", b, f"must have the shape of a {xa.shape}, got {xb.shape}")
    return mean_ci(xa - xb, confidence)
