"""Drawing tasks of the least-squares family, one seeded generator per task.

A task is ``w*`` uniform on the unit sphere of R^d, ``x ~ N(0, I_d)``, ``y = <w*, x> + xi``
with ``xi ~ N(0, sigma^2)``. Task ``k`` of stream ``s`` comes from
``SeedSequence(seed, spawn_key=(s, k))``, so it does not depend on how many tasks are drawn;
:func:`draw_tasks` materializes the raw data, :func:`sample_tasks` and
:func:`sample_task_pair` reduce it task by task into a
:class:`~verify.paper.trainval.TaskBatch`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from ...errors import UnknownOptionError
from ...problems import LeastSquares
from .arguments import F64, check_int, check_positive, check_seed, check_truncation
from .batch import TRUNCATION_FACTOR, BatchBuilder, TaskBatch

__all__ = [
    "STREAM_BOOTSTRAP",
    "STREAM_META_TRAIN",
    "STREAM_TEST",
    "TaskData",
    "draw_tasks",
    "sample_task_pair",
    "sample_tasks",
]

# Independent random streams of one seed: meta-training tasks, test tasks, bootstrap.
STREAM_META_TRAIN = 0
STREAM_TEST = 1
STREAM_BOOTSTRAP = 2


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
    dd = check_int("d", d, 1)
    nn = check_int("n", n, 1)
    s = check_positive("sigma", sigma)
    m = check_int("num_tasks", num_tasks, 1)
    sd = check_seed(seed)
    st = _stream(stream)
    W = np.empty((m, dd))
    X = np.empty((m, nn, dd))
    Y = np.empty((m, nn))
    for k in range(m):
        W[k], X[k], Y[k] = _draw_task(_task_rng(sd, st, k), dd, nn, s)
    return TaskData(W, X, Y, s)


def _stream(stream: object) -> int:
    if stream == "meta_train":
        return STREAM_META_TRAIN
    if stream == "test":
        return STREAM_TEST
    raise UnknownOptionError("stream", stream, "must be 'meta_train' or 'test'")


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
    dd = check_int("d", d, 1)
    n1 = check_int("n_train", n_train, 1)
    nh = check_int("n_heldout", n_heldout, 0)
    s = check_positive("sigma", sigma)
    m = check_int("num_tasks", num_tasks, 1)
    sd = check_seed(seed)
    st = _stream(stream)
    tf = check_truncation(truncation_factor)
    builder = BatchBuilder(m, n1, nh, dd, s, tf, keep_vectors)
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
    dd = check_int("d", d, 1)
    nn = check_int("n", n, 1)
    a = check_int("n1", n1, 1)
    b = check_int("n2", n2, 1)
    s = check_positive("sigma", sigma)
    m = check_int("num_tasks", num_tasks, 1)
    sd = check_seed(seed)
    tf = check_truncation(truncation_factor)
    total = max(nn, a + b)
    tbt = BatchBuilder(m, nn, 0, dd, s, tf, False)
    tbv = BatchBuilder(m, a, b, dd, s, tf, False)
    for k in range(m):
        w, X, y = _draw_task(_task_rng(sd, STREAM_META_TRAIN, k), dd, total, s)
        tbt.add(k, w, X[:nn], y[:nn], None, None)
        tbv.add(k, w, X[:a], y[:a], X[a : a + b], y[a : a + b])
    return tbt.build(), tbv.build()
