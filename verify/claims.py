"""Claims about the paper as statistics: one record for every verdict (issue 16).

A verdict about someone's published result rests on a :class:`Claim`: the paper's statement
and setting, ours beside it with every deviation, the number of instances (or seeds, tasks,
grid points), the measured statistic with an :class:`Interval` at a stated confidence, the
rule that turns the interval into a verdict, and whether the check can fail at all.

Verdicts are ``"matches"``, ``"differs"`` or ``"inconclusive"``, decided by the interval only
(:func:`decide`): a claim "statistic <= bound" matches when the whole interval is below the
bound, differs when the whole interval is above it, and is inconclusive otherwise. Evidence is
either a ``"proof"`` (certified enclosures: a ``differs`` is a proven violation) or a
``"statistic"`` (a confidence interval from sampling: a ``differs`` is a rejection at that
confidence, never a proof). A check that cannot fail (a tautology on the data, or an
asymptotic statement judged at a finite size) has ``can_fail = False``; :func:`decide` then
never returns ``differs`` and the pages show the row as a consistency check.

Intervals come from ``scipy.stats`` only:

* means: :func:`scipy.stats.bootstrap` (BCa), so the interval of a mean of non-negative
  samples is never below zero (every bootstrap mean is a mean of non-negative numbers);
* proportions: the exact Clopper-Pearson interval of :func:`scipy.stats.binomtest`;
* quantiles (e.g. the median number of meta-steps, with runs that never settle counted as
  infinite): the distribution-free order-statistic interval of :func:`scipy.stats.quantile_test`.

No normal approximation is used anywhere in this module.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import ArgumentError, InvalidPrecisionError, NonFiniteError, ShapeMismatchError
from .floats import json_float

__all__ = [
    "BOOTSTRAP_RESAMPLES",
    "CONFIDENCE",
    "EVIDENCE",
    "VERDICTS",
    "Claim",
    "Evidence",
    "Interval",
    "Verdict",
    "aggregate",
    "conjunction",
    "decide",
    "difference_interval",
    "enclosure_interval",
    "mean_interval",
    "proportion_interval",
    "quantile_interval",
]

Verdict = Literal["matches", "differs", "inconclusive"]
Evidence = Literal["proof", "statistic"]
VERDICTS: tuple[str, ...] = ("matches", "differs", "inconclusive")
EVIDENCE: tuple[str, ...] = ("proof", "statistic")

#: Default two-sided confidence of every sampled interval in the report.
CONFIDENCE = 0.99
#: Bootstrap resamples: 9999 puts the Monte Carlo error of a 99% BCa end point well below
#: the sampling error of the statistic itself (scipy's default).
BOOTSTRAP_RESAMPLES = 9999


def _confidence(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        raise InvalidPrecisionError("confidence", value, "must be a real number in (0, 1)")
    v = float(value)
    if not 0 < v < 1:
        raise InvalidPrecisionError("confidence", value, "must satisfy 0 < confidence < 1")
    return v


def _samples(value: ArrayLike, name: str, *, allow_inf: bool = False) -> NDArray[np.float64]:
    try:
        x = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ShapeMismatchError(name, value, f"cannot be read as real numbers ({exc})") from exc
    if x.ndim != 1 or x.size < 2:
        raise ShapeMismatchError(name, value, "must be a 1-D sequence of at least 2 samples")
    bad = np.isnan(x) if allow_inf else ~np.isfinite(x)
    if bad.any():
        raise NonFiniteError(name, value, "contains NaN" + ("" if allow_inf else " or infinity"))
    return x


# ------------------------------------------------------------------------------ intervals
@dataclass(frozen=True)
class Interval:
    """A measured statistic with a two-sided interval.

    Attributes
    ----------
    estimate : float
        The point estimate (sample mean, proportion, quantile, or an enclosure's midpoint).
    low, high : float
        Interval ends (``inf`` allowed for a quantile of censored samples).
    confidence : float
        Two-sided level; 1.0 for a certified enclosure.
    method : str
        How the interval was formed (names the scipy.stats routine).
    nonnegative : bool
        The quantity is non-negative by definition; then ``low >= 0`` always (checked).
    """

    estimate: float
    low: float
    high: float
    confidence: float
    method: str
    nonnegative: bool = False

    def __post_init__(self) -> None:
        if not self.low <= self.high:
            raise ArgumentError("low", self.low, f"must be <= high = {self.high}")
        if self.nonnegative and self.low < 0:
            raise ArgumentError("low", self.low, "a non-negative quantity's interval is >= 0")

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (non-finite ends as strings)."""
        return {
            "estimate": json_float(self.estimate),
            "low": json_float(self.low),
            "high": json_float(self.high),
            "confidence": self.confidence,
            "method": self.method,
            "nonnegative": self.nonnegative,
        }

    def __str__(self) -> str:
        level = "certified" if self.confidence == 1.0 else f"{100 * self.confidence:g}%"
        return f"{self.estimate:.4g} [{self.low:.4g}, {self.high:.4g}] ({level})"


def _bootstrap(
    data: tuple[NDArray[np.float64], ...],
    statistic: Callable[..., Any],
    *,
    paired: bool,
    confidence: float,
    seed: int,
    resamples: int,
) -> tuple[float, float]:
    from scipy import stats

    with warnings.catch_warnings():
        # BCa needs a non-degenerate jackknife; fall back to the percentile interval (which
        # also stays inside the range of the bootstrap statistics) when scipy says it cannot
        warnings.simplefilter("error", stats.DegenerateDataWarning)
        for method in ("BCa", "percentile"):
            try:
                res = stats.bootstrap(
                    data,
                    statistic,
                    paired=paired,
                    vectorized=True,
                    confidence_level=confidence,
                    n_resamples=resamples,
                    method=method,
                    random_state=np.random.default_rng(seed),
                )
            except stats.DegenerateDataWarning:
                continue
            lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
            if math.isfinite(lo) and math.isfinite(hi):
                return lo, hi
    raise ShapeMismatchError("samples", data, "bootstrap gave no finite interval")


def mean_interval(
    samples: ArrayLike,
    *,
    confidence: float = CONFIDENCE,
    seed: int = 0,
    nonnegative: bool = False,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> Interval:
    """Mean of i.i.d. samples with a BCa bootstrap interval (:func:`scipy.stats.bootstrap`).

    Parameters
    ----------
    samples : array_like, shape (k,)
        Independent draws, k >= 2, finite.
    confidence : float
        Two-sided level in (0, 1).
    seed : int
        Seed of the resampling (the interval is deterministic in it).
    nonnegative : bool
        Declare the quantity non-negative (then every sample must be >= 0).
    resamples : int
        Bootstrap resamples.

    Returns
    -------
    Interval

    Accuracy
    --------
    BCa has second-order accurate coverage, O(1/k), also for skewed (heavy-tailed)
    non-negative quantities where the normal interval's O(1/sqrt k) error puts its lower end
    below zero. The ends are quantiles of bootstrap means, so they lie within
    [min(samples), max(samples)]. All samples equal: the degenerate interval [x, x].

    Examples
    --------
    >>> iv = mean_interval([0.1, 0.2, 0.1, 5.0, 0.3, 0.2], nonnegative=True)
    >>> iv.low >= 0 and iv.low <= iv.estimate <= iv.high
    True
    """
    level = _confidence(confidence)
    x = _samples(samples, "samples")
    if nonnegative and (x < 0).any():
        raise ArgumentError("samples", samples, "declared non-negative but has negative values")
    mean = float(x.mean())
    method = "bootstrap BCa mean (scipy.stats.bootstrap)"
    if np.ptp(x) == 0:
        return Interval(mean, mean, mean, level, method, nonnegative)
    lo, hi = _bootstrap(
        (x,),
        lambda a, axis: np.mean(a, axis=axis),
        paired=False,
        confidence=level,
        seed=seed,
        resamples=resamples,
    )
    lo, hi = min(lo, mean), max(hi, mean)
    if nonnegative:
        lo = max(lo, 0.0)
    return Interval(mean, lo, hi, level, method, nonnegative)


def difference_interval(
    a: ArrayLike,
    b: ArrayLike,
    *,
    paired: bool,
    confidence: float = CONFIDENCE,
    seed: int = 0,
    resamples: int = BOOTSTRAP_RESAMPLES,
    statistic: Literal["mean", "median"] = "mean",
) -> Interval:
    """stat(a) - stat(b) (mean or median) with a bootstrap interval; ``paired`` resamples
    common tasks (then the median is that of the paired differences).

    Accuracy
    --------
    Means: as :func:`mean_interval` (BCa); pairing removes the task-to-task variation shared
    by a and b. Medians: percentile bootstrap (the bootstrap distribution of a median is
    discrete, which BCa's acceleration estimate does not suit); robust to a few diverged tasks.
    """
    level = _confidence(confidence)
    xa, xb = _samples(a, "a"), _samples(b, "b")
    if paired and xa.shape != xb.shape:
        raise ShapeMismatchError("b", b, f"paired samples need the shape of a {xa.shape}")
    if statistic not in ("mean", "median"):
        raise ArgumentError("statistic", statistic, "must be 'mean' or 'median'")
    stat = np.mean if statistic == "mean" else np.median
    if paired and statistic == "median":
        est = float(np.median(xa - xb))

        def fn(u: Any, v: Any, axis: int) -> Any:
            return np.median(u - v, axis=axis)
    else:
        est = float(stat(xa) - stat(xb))

        def fn(u: Any, v: Any, axis: int) -> Any:
            return stat(u, axis=axis) - stat(v, axis=axis)

    kind = "paired" if paired else "independent"
    how = "BCa" if statistic == "mean" else "percentile"
    method = f"bootstrap {how} difference of {statistic}s, {kind} (scipy.stats.bootstrap)"
    if paired and np.ptp(xa - xb) == 0:
        return Interval(est, est, est, level, method)
    if statistic == "median":
        from scipy import stats

        res = stats.bootstrap(
            (xa, xb),
            fn,
            paired=paired,
            vectorized=True,
            confidence_level=level,
            n_resamples=resamples,
            method="percentile",
            random_state=np.random.default_rng(seed),
        )
        lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
    else:
        lo, hi = _bootstrap(
            (xa, xb), fn, paired=paired, confidence=level, seed=seed, resamples=resamples
        )
    return Interval(est, min(lo, est), max(hi, est), level, method)


def proportion_interval(successes: int, trials: int, *, confidence: float = CONFIDENCE) -> Interval:
    """A proportion k/n with its exact (Clopper-Pearson) interval, :func:`scipy.stats.binomtest`.

    Guarantee
    ---------
    Coverage >= ``confidence`` for every true proportion (exact, conservative); the interval
    lies in [0, 1].
    """
    from scipy import stats

    level = _confidence(confidence)
    for name, v in (("successes", successes), ("trials", trials)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise ArgumentError(name, v, "must be an integer >= 0")
    if trials < 1 or successes > trials:
        raise ArgumentError("trials", trials, "must satisfy 1 <= trials, successes <= trials")
    ci = stats.binomtest(int(successes), int(trials)).proportion_ci(level, method="exact")
    est = successes / trials
    method = "exact binomial, Clopper-Pearson (scipy.stats.binomtest)"
    return Interval(est, float(ci.low), float(ci.high), level, method, nonnegative=True)


def quantile_interval(
    samples: ArrayLike, q: float, *, confidence: float = CONFIDENCE, nonnegative: bool = True
) -> Interval:
    """The q-quantile of i.i.d. samples with a distribution-free order-statistic interval.

    ``samples`` may contain ``inf`` (right-censored: a run that never settled); the estimate is
    the sample quantile (``method="inverted_cdf"``: an order statistic), the interval that of
    :func:`scipy.stats.quantile_test` (``confidence_interval``).

    Guarantee
    ---------
    Coverage >= ``confidence`` for any continuous distribution (exact binomial argument on
    order statistics); ends are sample values, possibly ``-inf``/``inf`` when too few samples
    lie on one side.
    """
    from scipy import stats

    level = _confidence(confidence)
    x = _samples(samples, "samples", allow_inf=True)
    if not 0 < q < 1:
        raise ArgumentError("q", q, "must satisfy 0 < q < 1")
    est = float(np.quantile(x, q, method="inverted_cdf"))
    ci = stats.quantile_test(x, q=est, p=q).confidence_interval(level)
    lo, hi = float(ci.low), float(ci.high)
    if nonnegative:
        lo = max(lo, 0.0)
    method = "order-statistic interval (scipy.stats.quantile_test)"
    return Interval(est, min(lo, est), max(hi, est), level, method, nonnegative)


def enclosure_interval(low: float, high: float, *, nonnegative: bool = False) -> Interval:
    """A certified enclosure [low, high] (outward-rounded to float64 by the caller)."""
    return Interval((low + high) / 2, low, high, 1.0, "certified enclosure", nonnegative)


# ------------------------------------------------------------------------------ verdicts
def decide(
    interval: Interval,
    *,
    at_most: float | None = None,
    at_least: float | None = None,
    can_fail: bool = True,
) -> Verdict:
    """The verdict of "statistic <= at_most" and/or "statistic >= at_least" from an interval.

    ``matches`` when the whole interval satisfies the claim, ``differs`` when the whole
    interval violates one of its sides, ``inconclusive`` otherwise. A check that cannot fail
    (``can_fail=False``) never returns ``differs`` (an asymptotic statement at a finite size, or
    a tautology on the data): its failure to match is ``inconclusive``.

    Examples
    --------
    >>> iv = Interval(1.0, 0.8, 1.2, 0.99, "example")
    >>> decide(iv, at_most=1.5), decide(iv, at_most=1.0), decide(iv, at_most=0.5)
    ('matches', 'inconclusive', 'differs')
    """
    if at_most is None and at_least is None:
        raise ArgumentError("at_most", None, "give at_most, at_least or both")
    differs = (at_most is not None and interval.low > at_most) or (
        at_least is not None and interval.high < at_least
    )
    matches = (at_most is None or interval.high <= at_most) and (
        at_least is None or interval.low >= at_least
    )
    if differs:
        return "differs" if can_fail else "inconclusive"
    return "matches" if matches else "inconclusive"


def conjunction(verdicts: Sequence[str]) -> Verdict:
    """Verdict of a claim made for every case ("in all cases", "for every sigma").

    ``differs`` when some case differs, ``matches`` when every case matches, otherwise
    ``inconclusive``.
    """
    vs = list(verdicts)
    if not vs or any(v not in VERDICTS for v in vs):
        raise ArgumentError("verdicts", vs, f"must be a non-empty sequence of {VERDICTS}")
    if "differs" in vs:
        return "differs"
    return "matches" if all(v == "matches" for v in vs) else "inconclusive"


def aggregate(verdicts: Sequence[str], *, can_fail: bool = True) -> Verdict:
    """Verdict of a claim read several ways (e.g. an unstated tolerance): agree or inconclusive.

    ``matches`` when every reading matches, ``differs`` when every reading differs (and the
    check can fail), otherwise ``inconclusive``.
    """
    vs = list(verdicts)
    if not vs or any(v not in VERDICTS for v in vs):
        raise ArgumentError("verdicts", vs, f"must be a non-empty sequence of {VERDICTS}")
    if all(v == "matches" for v in vs):
        return "matches"
    if can_fail and all(v == "differs" for v in vs):
        return "differs"
    return "inconclusive"


# ------------------------------------------------------------------------------ the record
@dataclass(frozen=True)
class Claim:
    """One verdict about the paper, with everything it rests on.

    Attributes
    ----------
    claim : str
        Short name ("Figure 1: eta settles within 300 meta-steps").
    statement : str
        What the paper states (quoted or restated), or our finding's statement.
    source : str
        ``"paper"``, ``"reconstruction"`` (paper notes, not the paper's text) or ``"finding"``
        (ours, beyond the paper).
    paper_setting, our_setting : str
        The two settings side by side.
    deviations : tuple of str
        Every way ours differs from the paper's (including what the paper does not state).
    instances : int
        Number of independent instances, seeds, tasks or grid points behind the statistic.
    unit : str
        What an instance is ("instances", "test tasks", "grid points", "seeds").
    statistic : str
        What was measured, and the rule that turns it into the verdict.
    interval : Interval or None
        The primary measurement (None only for a purely counted proof, see ``counts``).
    verdict : {"matches", "differs", "inconclusive"}
    evidence : {"proof", "statistic"}
    can_fail : bool
        False for a consistency check: a tautology on the data (an inequality that holds for
        any numbers by the triangle inequality), a bound so loose that a wrong bound would pass
        too, an existence claim (a missing witness proves nothing), or an asymptotic statement
        judged at a finite size. A sampled consistency check is never ``"differs"``; a
        certified one is ``"differs"`` only on a proven violation (then our numbers or the
        theorem are wrong).
    margin : str
        The tightest margin (how close the check came to the other verdict).
    note : str
        Asymptotic or instance-dependent remarks; readings of unstated parameters.
    readings : tuple of (str, Interval, verdict)
        Further measurements (other tolerances, sizes) with their own verdicts.
    counts : dict
        For certified grid checks: points, proven, violated, undecided.
    """

    claim: str
    statement: str
    source: str
    paper_setting: str
    our_setting: str
    deviations: tuple[str, ...]
    instances: int
    unit: str
    statistic: str
    interval: Interval | None
    verdict: Verdict
    evidence: Evidence
    can_fail: bool
    margin: str = "-"
    note: str = ""
    readings: tuple[tuple[str, Interval, str], ...] = ()
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ArgumentError("verdict", self.verdict, f"must be one of {VERDICTS}")
        if self.evidence not in EVIDENCE:
            raise ArgumentError("evidence", self.evidence, f"must be one of {EVIDENCE}")
        if not self.can_fail and self.verdict == "differs" and self.evidence == "statistic":
            # a sampled consistency check never rejects; a *proven* violation of a check that
            # cannot fail is still reported (it means our numbers or the theorem are wrong)
            raise ArgumentError("verdict", self.verdict, "a check that cannot fail never differs")
        if isinstance(self.instances, bool) or not isinstance(self.instances, int):
            raise ArgumentError("instances", self.instances, "must be an integer")
        if self.instances < 1:
            raise ArgumentError("instances", self.instances, "every verdict rests on >= 1")
        if self.interval is None and not self.counts:
            raise ArgumentError("interval", None, "a claim needs an interval or proof counts")

    @property
    def proven_violation(self) -> bool:
        """A ``differs`` on certified evidence: the only verdict that is a proof against."""
        return self.verdict == "differs" and self.evidence == "proof"

    def to_json(self) -> dict[str, Any]:
        """Plain JSON for data.json (every field; intervals as dicts)."""
        return {
            "claim": self.claim,
            "statement": self.statement,
            "source": self.source,
            "paper_setting": self.paper_setting,
            "our_setting": self.our_setting,
            "deviations": list(self.deviations),
            "instances": self.instances,
            "unit": self.unit,
            "statistic": self.statistic,
            "interval": None if self.interval is None else self.interval.to_json(),
            "verdict": self.verdict,
            "evidence": self.evidence,
            "can_fail": self.can_fail,
            "proven_violation": self.proven_violation,
            "margin": self.margin,
            "note": self.note,
            "readings": [
                {"reading": r, "interval": iv.to_json(), "verdict": v} for r, iv, v in self.readings
            ],
            "counts": dict(self.counts),
        }
