"""Benchmark a sweep on a local Dask cluster against the serial sweep; prints the ratio.

Run: ``python benchmarks/bench_sweep.py [--workers 2] [--horizon 3000] [--etas 8]``

Workload: one grid (``verify.sweep``): 2 problems (wishart2 d = 8, spectrum kappa = 100
d = 6) x ``--etas`` multiples of 2/L in [0.1, 1.25] x t in {10, ``--horizon``} x log and
naive objectives x numpy and stable backends x float32 and float64. Every case: the backend's
meta-gradient, the certified truth (python-flint), classification, one fsync-ed JSON line.

Baseline
--------
* ``serial``: :func:`verify.sweep.run_sweep` with ``workers=0`` -- the same cases in this
  process, one after another (what a plain loop over the grid does, plus the durable write).

Measured: ``local-dask`` is :func:`run_sweep` on a fresh ``LocalCluster`` of ``--workers``
single-threaded processes, cluster start-up included (it is part of what a user waits for);
``warm`` is the same sweep sent to an already running cluster (``--scheduler``) whose workers
have imported the package -- the steady-state throughput.
The deterministic part of every record is checked equal between the two runs, so both time
the same computation. On a 2-core machine the ideal ratio is < 2 (start-up, the driver's
writes and classification in the workers' imports eat into it); Dask pays off on larger
grids and on a remote scheduler with more workers.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from verify.sweep import deterministic, parse_grid, read_results, run_sweep


def grid(etas: int, horizon: int) -> dict[str, object]:
    """The benchmark grid as a parsed-TOML mapping."""
    return {
        "sweep": {"name": "bench"},
        "problem": [
            {"kind": "wishart2", "d": 8, "seed": 0},
            {"kind": "spectrum", "d": 6, "condition": 100.0, "seed": 1},
        ],
        "grid": {
            "eta_rel": [float(x) for x in np.linspace(0.1, 1.25, etas)],
            "t": [10, horizon],
            "objective": ["log", "naive"],
            "backend": ["numpy", "stable"],
            "dtype": ["float32", "float64"],
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2, help="local Dask worker processes")
    parser.add_argument("--horizon", type=int, default=3000, help="the long horizon t")
    parser.add_argument("--etas", type=int, default=8, help="step sizes per problem")
    args = parser.parse_args()
    g = parse_grid(grid(args.etas, args.horizon))
    with tempfile.TemporaryDirectory() as tmp:
        serial_out, dask_out = Path(tmp) / "serial.jsonl", Path(tmp) / "dask.jsonl"
        t0 = time.perf_counter()
        s = run_sweep(g, serial_out, workers=0, stream=None)
        t_serial = time.perf_counter() - t0
        t0 = time.perf_counter()
        d = run_sweep(g, dask_out, workers=args.workers, stream=None)
        t_dask = time.perf_counter() - t0
        serial_records, dask_records = read_results(serial_out), read_results(dask_out)
        a = {r["id"]: deterministic(r) for r in serial_records}
        b = {r["id"]: deterministic(r) for r in dask_records}
        t_warm = _warm_cluster_sweep(g, Path(tmp) / "warm.jsonl", args.workers)
        c = {r["id"]: deterministic(r) for r in read_results(Path(tmp) / "warm.jsonl")}
    assert s.errors == d.errors == 0 and a == b == c, "serial and Dask records differ"
    print(f"workload: {s.total} cases (t in {{10, {args.horizon}}}, {args.etas} etas/problem)")
    print(f"serial (baseline)                          {t_serial:8.2f} s")
    print(f"local-dask, {args.workers} workers, cluster start included {t_dask:8.2f} s")
    print(f"dask, {args.workers} warm workers via --scheduler       {t_warm:8.2f} s")
    print(f"ratio serial / local-dask (cold)           {t_serial / t_dask:8.2f}x")
    print(f"ratio serial / dask (warm)                 {t_serial / t_warm:8.2f}x")
    print(f"records identical (deterministic fields): {a == b == c}")
    busy_serial = sum(r["elapsed_s"] for r in serial_records)
    busy_dask = sum(r["elapsed_s"] for r in dask_records)
    print(
        f"case compute: serial {busy_serial:.2f} s, dask {busy_dask:.2f} s summed over workers "
        f"(a sum above the serial one means the cores were shared: check the load average); "
        f"effective parallelism of the cold run {busy_dask / t_dask:.2f}"
    )


def _warm_cluster_sweep(g: object, out: Path, workers: int) -> float:
    """Time a sweep on an already running cluster whose workers have imported verify."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(lambda: __import__("verify.sweep.case") and None)
        t0 = time.perf_counter()
        run_sweep(g, out, scheduler=cluster.scheduler_address, stream=None)  # type: ignore[arg-type]
        return time.perf_counter() - t0


if __name__ == "__main__":
    main()
