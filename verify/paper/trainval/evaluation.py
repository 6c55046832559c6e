"""Judging learned step sizes on new tasks (notes §2.4 and the authors' test code, §5.2).

All step sizes are evaluated on the same test tasks, so that their differences can be
estimated pairwise (:func:`~verify.paper.trainval.paired_difference`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ...errors import ShapeMismatchError
from ...validation import validate_horizon
from .arguments import F64, check_confidence, check_etas
from .batch import TaskBatch
from .montecarlo import DEFAULT_CONFIDENCE, MonteCarloEstimate, mean_ci

__all__ = ["StepSizeEvaluation", "evaluate_step_sizes"]


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
    e = check_etas(etas)
    ti = validate_horizon(t)
    level = check_confidence(confidence)
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
