"""Benchmark the vectorized TbT/TbV grid search against a plain GD loop; prints the ratio.

Run: ``python benchmarks/bench_least_squares.py [--tasks 300] [--subset 4] [--quick]``

Workload (the authors' ``grid_search_eta_lr.py`` defaults, paper notes §5.2): d = 1000,
TbT on n = 500 samples and TbV on 250 + 250, t = 40 GD steps, the 25-point grid
``np.logspace(-6, 0, 25)``, m = 300 meta-training tasks, truncation at 40 sigma.

* ``vectorized``: :func:`verify.paper.trainval.sample_task_pair` (draw + one factorization per
  task and split) and :func:`verify.paper.trainval.grid_search` for TbT and TbV (every grid
  point, every task, with the bootstrap of the argmin).
* ``sweep``: the same batches re-evaluated at 4 horizons x 161 step sizes (the Theta(1/t)
  study of tests/theorems/test_theorem5.py); the loop's time is extrapolated from its
  measured cost per (task, step size, GD step).
* baseline ``per-task-per-eta-gd-loop``: for every task and grid point, t plain GD steps
  ``w <- w - eta X^T (X w - y) / n`` with the norm check, for TbT and for TbV, then the final
  training / validation loss -- what the authors' script does, minus its re-sampling of tasks
  per grid point. Timed on ``--subset`` tasks (same draws) and extrapolated linearly to m.

The baseline's meta-losses on the subset are compared with the vectorized ones (max relative
difference printed) so that both time the same computation.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from verify.paper.trainval import DEFAULT_GRID, draw_tasks, grid_search, sample_task_pair


def baseline_meta_losses(
    X: np.ndarray, y: np.ndarray, n1: int, sigma: float, etas: np.ndarray, t: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-eta TbT training loss (all rows) and TbV validation loss (train rows[:n1])."""
    radius = 40.0 * sigma
    d = X.shape[1]
    frozen = np.zeros(d)
    frozen[0] = radius
    out = np.empty((2, etas.size))
    for k, (Xt, yt, Xe, ye) in enumerate(((X, y, X, y), (X[:n1], y[:n1], X[n1:], y[n1:]))):
        n = Xt.shape[0]
        for j, eta in enumerate(etas):
            w = np.zeros(d)
            for _ in range(t):
                w = w - eta * (Xt.T @ (Xt @ w - yt)) / n
                if np.linalg.norm(w) >= radius:
                    w = frozen
                    break
            r = Xe @ w - ye
            out[k, j] = r @ r / (2 * Xe.shape[0])
    return out[0], out[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=300, help="meta-training tasks m")
    parser.add_argument("--subset", type=int, default=4, help="tasks timed for the baseline")
    parser.add_argument("--quick", action="store_true", help="d = 200, n = 100 instead")
    args = parser.parse_args()
    d, n, n1, n2 = (200, 100, 50, 50) if args.quick else (1000, 500, 250, 250)
    t, sigma, m, seed = 40, 1.0, args.tasks, 0
    grid = np.array(DEFAULT_GRID)

    start = time.perf_counter()
    tbt_batch, tbv_batch = sample_task_pair(d, n, n1, n2, sigma=sigma, num_tasks=m, seed=seed)
    t_sample = time.perf_counter() - start
    start = time.perf_counter()
    tbt = grid_search(tbt_batch, "tbt", t, DEFAULT_GRID)
    tbv = grid_search(tbv_batch, "tbv", t, DEFAULT_GRID)
    t_search = time.perf_counter() - start
    t_fast = t_sample + t_search

    k = min(args.subset, m)
    start = time.perf_counter()
    data = draw_tasks(d, n, sigma=sigma, num_tasks=k, seed=seed)
    base = [baseline_meta_losses(data.X[i], data.y[i], n1, sigma, grid, t) for i in range(k)]
    t_base = (time.perf_counter() - start) * m / k

    # a denser study (the Theta(1/t) check): 4 horizons x 161 grid points on the same tasks
    horizons, fine = (10, 20, 40, 80), np.logspace(-4, 0, 161)
    start = time.perf_counter()
    for h in horizons:
        tbt_batch.meta_losses("tbt", fine, h)
        tbv_batch.meta_losses("tbv", fine, h)
    t_sweep = time.perf_counter() - start
    # the loop's cost is proportional to (grid points) x (GD steps): scale the measured one
    t_sweep_base = t_base * (fine.size / grid.size) * (sum(horizons) / t)

    rel = 0.0
    for i, (tr, va) in enumerate(base):
        for ref, ours in ((tr, tbt.values[i]), (va, tbv.values[i])):
            rel = max(rel, float(np.max(np.abs(ref - ours) / np.abs(ref))))

    print(f"workload: d={d} n={n} (TbV {n1}+{n2}) t={t} grid={grid.size} m={m}")
    print(f"vectorized: draw+factor {t_sample:.2f} s, grid search TbT+TbV {t_search:.2f} s")
    print(f"vectorized total                       {t_fast:8.2f} s")
    print(f"per-task-per-eta-gd-loop (extrapolated {k} -> {m} tasks) {t_base:8.2f} s")
    print(f"ratio baseline / vectorized            {t_base / t_fast:8.1f}x")
    print(
        f"sweep 4 horizons x {fine.size} etas: vectorized (tasks already factored) "
        f"{t_sweep:.2f} s, loop (extrapolated) {t_sweep_base:.0f} s, "
        f"ratio {t_sweep_base / t_sweep:.0f}x"
    )
    print(f"max relative difference of meta-losses on the subset: {rel:.2e}")
    print(f"eta_TbT={tbt.eta:.4g} eta_TbV={tbv.eta:.4g}")


if __name__ == "__main__":
    main()
