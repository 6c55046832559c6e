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

Nothing here is ground truth: these are float64 Monte Carlo estimates with stated confidence
intervals. The certified link is :func:`certified_step_size` (and the tests, which compare the
vectorized values with :func:`verify.truth.meta_objective` on small instances).

Modules, bottom to top:

* :mod:`.arguments` -- argument checks shared by the package (internal);
* :mod:`.montecarlo` -- Monte Carlo means with confidence intervals;
* :mod:`.asymptotics` -- random-matrix asymptotics (Marchenko-Pastur edges, ERM and
  interpolant errors);
* :mod:`.spectral` -- GD from 0 in closed form through one factorization per task (internal);
* :mod:`.batch` -- :class:`TaskBatch`: tasks reduced once, evaluated for many step sizes;
* :mod:`.sampling` -- drawing tasks, one seeded generator per task;
* :mod:`.search` -- grid search and golden-section refinement of the step size;
* :mod:`.certified_step` -- certified minimization by bisection on small instances;
* :mod:`.evaluation` -- judging step sizes on new tasks;
* :mod:`.experiment` -- the TbT vs. TbV experiment driver.
"""

from __future__ import annotations

from .arguments import Kind
from .asymptotics import (
    erm_expected_error,
    fastest_contraction_step,
    interpolant_expected_error,
    marchenko_pastur_edges,
)
from .batch import TRUNCATION_FACTOR, TaskBatch, TrajectoryMetrics
from .certified_step import certified_step_size
from .evaluation import StepSizeEvaluation, evaluate_step_sizes
from .experiment import ExperimentResult, LeastSquaresConfig, run_experiment
from .montecarlo import DEFAULT_CONFIDENCE, MonteCarloEstimate, mean_ci, paired_difference
from .sampling import TaskData, draw_tasks, sample_task_pair, sample_tasks
from .search import (
    DEFAULT_GRID,
    GridSearchResult,
    RefinedStepSize,
    grid_search,
    refine_step_size,
)

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
