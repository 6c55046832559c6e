"""The claim record (issue 16): intervals from scipy.stats, verdicts decided by the interval.

* a mean of a non-negative, heavy-tailed quantity never gets an interval below zero (the
  normal approximation did: train RMSE 0.62 [-0.945, 2.18]);
* the exact binomial interval is Clopper-Pearson (checked against the beta quantiles);
* the quantile interval handles runs that never settle (infinite);
* each verdict rule can fail: a deliberately broken claim flips it;
* a record without instances, or a check that cannot fail reported as ``differs`` on a sampled
  statistic, is refused.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from verify.claims import (
    Claim,
    Interval,
    aggregate,
    conjunction,
    decide,
    difference_interval,
    mean_interval,
    proportion_interval,
    quantile_interval,
)
from verify.errors import ArgumentError, InvalidPrecisionError, NonFiniteError

CONFIDENCE = 0.99
# Clopper-Pearson ends are beta quantiles. binomtest finds them by root finding (brentq,
# default xtol = 2e-12 absolute plus 4 rtol |x| with rtol = 8.9e-16), beta.ppf by inverting the
# regularized incomplete beta function to near full precision: they agree within xtol plus the
# relative term, i.e. CP_ABS = 2 xtol.
BRENTQ_XTOL = 2e-12
CP_ABS = 2 * BRENTQ_XTOL


@pytest.mark.parametrize("seed", range(5))
def test_mean_interval_of_heavy_tailed_nonnegative_samples_stays_nonnegative(seed: int) -> None:
    rng = np.random.default_rng(seed)
    # the shape that broke the normal interval: many small values and a few huge ones
    x = np.concatenate([rng.lognormal(-2, 0.5, 29), rng.uniform(50, 100, 1)])
    iv = mean_interval(x, seed=seed, nonnegative=True)
    mean = float(x.mean())
    se = float(x.std(ddof=1) / math.sqrt(x.size))
    normal_low = mean - stats.norm.ppf(0.995) * se
    assert normal_low < 0, "the sample must be one where the normal interval goes negative"
    assert 0 <= iv.low <= iv.estimate <= iv.high <= x.max()
    assert iv.estimate == mean and iv.confidence == CONFIDENCE and "BCa" in iv.method


def test_mean_interval_is_deterministic_and_degenerate_data_is_exact() -> None:
    x = np.linspace(0.0, 1.0, 40) ** 3
    assert mean_interval(x, seed=3) == mean_interval(x, seed=3)
    const = mean_interval([2.5] * 10, nonnegative=True)
    assert (const.low, const.estimate, const.high) == (2.5, 2.5, 2.5)


def test_interval_inputs_are_validated_naming_the_argument() -> None:
    with pytest.raises(ArgumentError, match="samples"):
        mean_interval([1.0, -0.5, 2.0], nonnegative=True)
    with pytest.raises(NonFiniteError, match="samples"):
        mean_interval([1.0, float("nan")])
    with pytest.raises(InvalidPrecisionError, match="confidence"):
        mean_interval([1.0, 2.0], confidence=1.0)
    with pytest.raises(ArgumentError, match="trials"):
        proportion_interval(3, 2)
    with pytest.raises(ArgumentError, match="low"):
        Interval(1.0, -0.1, 2.0, 0.99, "x", nonnegative=True)


@pytest.mark.parametrize(("k", "n"), [(0, 50), (13, 50), (47, 100), (200, 200)])
def test_proportion_interval_is_clopper_pearson(k: int, n: int) -> None:
    iv = proportion_interval(k, n, confidence=CONFIDENCE)
    alpha = 1 - CONFIDENCE
    low = 0.0 if k == 0 else stats.beta.ppf(alpha / 2, k, n - k + 1)
    high = 1.0 if k == n else stats.beta.ppf(1 - alpha / 2, k + 1, n - k)
    assert abs(iv.low - low) <= CP_ABS and abs(iv.high - high) <= CP_ABS
    assert iv.estimate == k / n


def test_quantile_interval_with_runs_that_never_settle() -> None:
    steps = np.array([100.0] * 30 + [math.inf] * 70)
    iv = quantile_interval(steps, 0.5)
    assert iv.estimate == math.inf and iv.low == math.inf  # most never settle: proven
    assert decide(iv, at_most=300) == "differs"
    steps = np.array([100.0] * 90 + [math.inf] * 10)
    iv = quantile_interval(steps, 0.5)
    assert iv.high == 100.0 and decide(iv, at_most=300) == "matches"


def test_difference_interval_pairs_common_tasks() -> None:
    rng = np.random.default_rng(0)
    task = rng.lognormal(0, 1, 60)  # shared task difficulty
    a, b = task + 0.1, task
    paired = difference_interval(a, b, paired=True)
    indep = difference_interval(a, b, paired=False)
    assert paired.low == pytest.approx(0.1) and paired.high == pytest.approx(0.1)
    assert indep.high - indep.low > 10 * (paired.high - paired.low)


# ------------------------------------------------------------------------------ verdict rules
IV = Interval(1.0, 0.8, 1.2, CONFIDENCE, "example")


def test_decide_flips_with_a_broken_claim() -> None:
    # the true claim "statistic <= 1.5" matches; the broken "<= 0.5" differs
    assert decide(IV, at_most=1.5) == "matches"
    assert decide(IV, at_most=0.5) == "differs"
    assert decide(IV, at_most=1.0) == "inconclusive"
    assert decide(IV, at_least=0.5) == "matches"
    assert decide(IV, at_least=1.5) == "differs"
    assert decide(IV, at_least=0.5, at_most=1.1) == "inconclusive"
    # a check that cannot fail never says differs on a sampled statistic
    assert decide(IV, at_most=0.5, can_fail=False) == "inconclusive"


def test_aggregate_and_conjunction() -> None:
    # readings of an unstated parameter: all must agree
    assert aggregate(["matches", "matches"]) == "matches"
    assert aggregate(["differs", "differs"]) == "differs"
    assert aggregate(["matches", "differs"]) == "inconclusive"
    # a claim for every case: one differing case decides
    assert conjunction(["matches", "differs", "inconclusive"]) == "differs"
    assert conjunction(["matches", "inconclusive"]) == "inconclusive"
    assert conjunction(["matches"] * 3) == "matches"


def _claim(**kw: object) -> Claim:
    base: dict[str, object] = {
        "claim": "c",
        "statement": "s",
        "source": "paper",
        "paper_setting": "p",
        "our_setting": "o",
        "deviations": (),
        "instances": 10,
        "unit": "instances",
        "statistic": "x",
        "interval": IV,
        "verdict": "matches",
        "evidence": "statistic",
        "can_fail": True,
    }
    base.update(kw)
    return Claim(**base)  # type: ignore[arg-type]


def test_claim_record_invariants() -> None:
    with pytest.raises(ArgumentError, match="instances"):
        _claim(instances=0)
    with pytest.raises(ArgumentError, match="verdict"):
        _claim(can_fail=False, verdict="differs")
    # a proven violation of a consistency check is still reported
    proof = _claim(
        can_fail=False,
        verdict="differs",
        evidence="proof",
        interval=None,
        counts={"points": 1, "proven": 0, "violated": 1, "undecided": 0},
    )
    assert proof.proven_violation and proof.to_json()["proven_violation"]
    # a sampled differs is never a proof
    assert not _claim(verdict="differs").proven_violation
    j = _claim().to_json()
    assert {"claim", "verdict", "can_fail", "instances", "interval", "deviations"} <= set(j)
