"""The TbT(n) vs. TbV(n1, n2) experiment: learn a step size both ways, judge both on new tasks.

Deterministic in the configuration's seed; the report's and the theorem table's Theorem 5
and 6 rows are made from :func:`run_experiment`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import ShapeMismatchError
from ...validation import validate_horizon
from .arguments import (
    check_confidence,
    check_etas,
    check_int,
    check_positive,
    check_seed,
    check_truncation,
)
from .batch import TRUNCATION_FACTOR
from .evaluation import StepSizeEvaluation, evaluate_step_sizes
from .montecarlo import DEFAULT_CONFIDENCE, MonteCarloEstimate, paired_difference
from .sampling import sample_task_pair, sample_tasks
from .search import (
    DEFAULT_BOOTSTRAP,
    DEFAULT_GRID,
    GridSearchResult,
    RefinedStepSize,
    grid_search,
    refine_step_size,
)

__all__ = ["ExperimentResult", "LeastSquaresConfig", "run_experiment"]


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
            check_int(name, getattr(self, name), 1)
        check_int("num_test_tasks", self.num_test_tasks, 2)
        if self.n_test is not None:
            check_int("n_test", self.n_test, 1)
        check_positive("sigma", self.sigma)
        validate_horizon(self.t)
        g = check_etas(self.grid, "grid")
        object.__setattr__(self, "grid", tuple(float(v) for v in g))
        check_truncation(self.truncation_factor)
        check_confidence(self.confidence)
        check_int("bootstrap_resamples", self.bootstrap_resamples, 1)
        check_seed(self.seed)


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
