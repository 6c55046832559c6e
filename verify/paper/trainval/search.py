"""Choosing a step size on fixed tasks: grid search with a bootstrap interval of the argmin,
then golden-section refinement.

Both minimize the empirical TbT or TbV meta-objective of a
:class:`~verify.paper.trainval.TaskBatch` (paper eq. (1) and (2)) in float64; nothing here is
certified (for that see :func:`~verify.paper.trainval.certified_step_size`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ...errors import ShapeMismatchError, UnknownOptionError
from ...validation import validate_horizon
from .arguments import (
    F64,
    Kind,
    check_bracket,
    check_confidence,
    check_etas,
    check_int,
    check_kind,
    check_rel_tol,
    check_seed,
)
from .batch import TaskBatch
from .montecarlo import DEFAULT_CONFIDENCE, z_value
from .sampling import STREAM_BOOTSTRAP

__all__ = [
    "DEFAULT_BOOTSTRAP",
    "DEFAULT_GRID",
    "GridSearchResult",
    "RefinedStepSize",
    "grid_search",
    "refine_step_size",
]

#: The authors' grid (``grid_search_eta_lr.py``): 10^(-6 + k/4), k = 0..24.
DEFAULT_GRID: tuple[float, ...] = tuple(float(v) for v in np.logspace(-6, 0, 25))
#: Default number of bootstrap resamples for the interval of a grid argmin.
DEFAULT_BOOTSTRAP = 2000


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
    k = check_kind(kind)
    g = check_etas(grid, "grid")
    ti = validate_horizon(t)
    level = check_confidence(confidence)
    B = check_int("bootstrap_resamples", bootstrap_resamples, 1)
    bs = check_seed(bootstrap_seed)
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
        half = z_value(level) * values.std(axis=0, ddof=1) / math.sqrt(m)
    else:
        half = np.full_like(mean, np.inf)
    index = int(np.argmin(mean))
    rng = np.random.default_rng(np.random.SeedSequence(bs, spawn_key=(STREAM_BOOTSTRAP,)))
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
    k = check_kind(kind)
    ti = validate_horizon(t)
    lo, hi = check_bracket(bracket)
    tol = check_rel_tol(rel_tol)
    cap = check_int("max_evaluations", max_evaluations, 3)

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
