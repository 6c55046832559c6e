"""Theorem 6 (paper notes §3, claim 14): many samples -- TbT is near-optimal.

With n >> d, t >= c log(n / (eps d)) and enough tasks, every TbT minimizer has
E||w_t - w*||^2 <= (1 + eps) d sigma^2 / n. The comparison value is the exact ERM expectation
sigma^2 d / (n - d - 1) (Gaussian design, inverse-Wishart mean): at n = 20 d it is
(1 + 0.054) d sigma^2 / n, so eps cannot be below ~0.05 at these sizes; TbT at t = 40 has
converged to the ERM (contraction max|1 - eta s|^40 < 1e-7 at the Marchenko-Pastur edges).
And the TbT - TbV gap shrinks as n grows at fixed d (Fig. 4).

Monte Carlo intervals: CONFIDENCE = 99%, normal approximation over independent test tasks,
paired over common tasks for gaps; fixed seeds. Default sizes: d in {50, 100}, n = 20 d, 100
meta-training and 200 test tasks; the notes' sizes (d = 100, n = 2000, 300 tasks) with a
tighter eps under ``-m paper_scale``.
"""

from __future__ import annotations

import functools
import itertools

import pytest

from verify.paper.trainval import (
    ExperimentResult,
    LeastSquaresConfig,
    MonteCarloEstimate,
    erm_expected_error,
    run_experiment,
)

CONFIDENCE = 0.99
SEED = 1
SIGMA, T = 1.0, 40
NUM_TASKS, NUM_TEST_TASKS = 100, 200
SAMPLES_PER_DIM = 20
# eps of Theorem 6: the ERM itself needs 0.054 at n = 20 d, the 99% half-width over 200 test
# tasks is ~4% (per-task error ~ chi^2_d-like, relative sd sqrt(2/d)); 0.2 covers both with
# room, as in the paper's "eps ~ 0.1-0.2" regime. With 300 test tasks at d = 100 the
# half-width is ~2%, so the paper-scale check uses 0.1.
EPS = 0.2
EPS_PAPER = 0.1
GAP_SAMPLES_PER_DIM = (2, 4, 8, 20)


def _config(d: int, n: int, **overrides: object) -> LeastSquaresConfig:
    base: dict[str, object] = {
        "d": d,
        "n": n,
        "n1": n // 2,
        "n2": n - n // 2,
        "sigma": SIGMA,
        "t": T,
        "num_tasks": NUM_TASKS,
        "num_test_tasks": NUM_TEST_TASKS,
        "confidence": CONFIDENCE,
        "refine": False,
        "bootstrap_resamples": 200,
        "seed": SEED,
    }
    base.update(overrides)
    return LeastSquaresConfig(**base)  # type: ignore[arg-type]


@functools.cache
def experiment(d: int, n: int, paper: bool = False) -> ExperimentResult:
    if paper:
        return run_experiment(_config(d, n, num_tasks=300, num_test_tasks=300))
    return run_experiment(_config(d, n))


def check_near_optimal(result: ExperimentResult, eps: float) -> None:
    c = result.config
    err = result.tbt_test.error
    assert err.high <= (1 + eps) * c.d * c.sigma**2 / c.n, str(err)
    # GD at t = 40 reached the ERM: the exact ERM expectation is inside the interval
    erm = erm_expected_error(c.d, c.n, c.sigma)
    assert err.low <= erm <= err.high, (str(err), erm)
    # TbV gains nothing material: |gap| <= eps d sigma^2 / n
    gap = result.error_gap
    assert max(abs(gap.low), abs(gap.high)) <= eps * c.d * c.sigma**2 / c.n, str(gap)


@pytest.mark.parametrize("d", [50, 100])
def test_tbt_error_is_near_the_erm_rate(d: int) -> None:
    check_near_optimal(experiment(d, SAMPLES_PER_DIM * d), EPS)


def _abs_interval(est: MonteCarloEstimate) -> tuple[float, float]:
    """Interval of |mean| implied by the interval of the mean."""
    if est.low <= 0 <= est.high:
        return 0.0, max(-est.low, est.high)
    return min(abs(est.low), abs(est.high)), max(abs(est.low), abs(est.high))


def check_gap_shrinks(d: int, paper: bool = False) -> None:
    gaps = [experiment(d, k * d, paper).error_gap for k in GAP_SAMPLES_PER_DIM]
    for small_n, large_n in itertools.pairwise(gaps):
        assert _abs_interval(large_n)[1] < _abs_interval(small_n)[0], (
            str(small_n),
            str(large_n),
        )


def test_gap_shrinks_as_n_grows() -> None:
    check_gap_shrinks(50)


@pytest.mark.paper_scale
def test_paper_scale_near_optimal() -> None:
    check_near_optimal(experiment(100, 2000, paper=True), EPS_PAPER)


@pytest.mark.paper_scale
def test_paper_scale_gap_shrinks() -> None:
    check_gap_shrinks(100, paper=True)
