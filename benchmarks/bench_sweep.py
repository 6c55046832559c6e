"""Benchmark a sweep on a local Dask cluster against the serial sweep, at growing grid sizes.

Run: ``python benchmarks/bench_sweep.py [--workers 2] [--horizon 3000] [--etas 20]
[--scales 1,4,16]``

Workload: one grid (``verify.sweep``) per scale s: 2 problems (wishart2 d = 8, spectrum
kappa = 100 d = 6) x ``s * --etas`` multiples of 2/L in [0.1, 1.25] x t in {10, ``--horizon``}
x log and naive objectives x numpy and stable backends x float32 and float64 (640 cases at the
defaults and s = 1, about 4 s of serial work on a quiet core; the 16x grid, 10240 cases, about
70 s). Every case: the
backend's meta-gradient, the certified truth (python-flint), classification, a durable JSON
line.

Baseline
--------
* ``serial``: :func:`verify.sweep.run_sweep` with ``workers=0`` -- the same cases in this
  process, one after another (what a plain loop over the grid does, plus the durable write).

Measured: ``cold`` is :func:`run_sweep` on a fresh ``LocalCluster`` of ``--workers``
single-threaded processes, cluster start-up included (it is part of what a user waits for);
``warm`` is the same sweep sent to an already running cluster (``--scheduler``) whose workers
have imported the package and whose own client is the process's default client (the setting
in which the sweep of issue 17 hung) -- the steady-state throughput. Cases run in chunks
(:func:`verify.sweep.plan_chunks`, about 16 per worker). The deterministic part of every record
is checked equal between the three runs, so all time the same computation. On a 2-core machine
the ideal ratio is < 2 (start-up, the driver's writes); the load average is printed with every
row (other processes on the machine take cores from both sides unequally).
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from verify.sweep import Grid, deterministic, parse_grid, read_results, run_sweep


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


def _cpu() -> float:
    """CPU seconds used by this process and its reaped children (the local cluster's workers
    are children of this process and are reaped when the cluster closes)."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _one_scale(g: Grid, workers: int) -> dict[str, float]:
    """Serial, cold and warm times for grid ``g``; asserts the three give the same records."""
    with tempfile.TemporaryDirectory() as tmp:
        outs = [Path(tmp) / f"{name}.jsonl" for name in ("serial", "cold", "warm")]
        c0, t0 = _cpu(), time.perf_counter()
        s = run_sweep(g, outs[0], workers=0, stream=None)
        t_serial = time.perf_counter() - t0
        c1, t0 = _cpu(), time.perf_counter()
        d = run_sweep(g, outs[1], workers=workers, stream=None)
        t_cold, c2 = time.perf_counter() - t0, _cpu()
        t_warm = _warm_cluster_sweep(g, outs[2], workers)
        recs = [read_results(o) for o in outs]
    same = [{r["id"]: deterministic(r) for r in rs} for rs in recs]
    assert s.errors == d.errors == 0 and same[0] == same[1] == same[2], "records differ"
    return {
        "cases": float(s.total),
        "serial": t_serial,
        "cold": t_cold,
        "warm": t_warm,
        "cpu_serial": c1 - c0,
        "cpu_cold": c2 - c1,
        "busy_serial": sum(r["elapsed_s"] for r in recs[0]),
        "busy_cold": sum(r["elapsed_s"] for r in recs[1]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2, help="local Dask worker processes")
    parser.add_argument("--horizon", type=int, default=3000, help="the long horizon t")
    parser.add_argument("--etas", type=int, default=20, help="step sizes per problem at 1x")
    parser.add_argument("--scales", default="1,4,16", help="grid sizes, multiples of --etas")
    args = parser.parse_args()
    print(f"{args.workers} workers, t in {{10, {args.horizon}}}, cpus {os.cpu_count()}")
    print(
        "scale  cases  serial_s  ms/case   cold_s  warm_s  serial/cold  serial/warm"
        "  parallelism  cpu_serial  cpu_cold  cpu_bound  load(1,5,15) before -> after"
    )
    for scale in (int(x) for x in args.scales.split(",")):
        before = _load()
        g = parse_grid(grid(args.etas * scale, args.horizon))
        m = _one_scale(g, args.workers)
        print(
            f"{scale:4d}x {int(m['cases']):6d} {m['serial']:9.2f}"
            f" {1e3 * m['serial'] / m['cases']:8.2f}"
            f" {m['cold']:8.2f} {m['warm']:7.2f} {m['serial'] / m['cold']:11.2f}x"
            f" {m['serial'] / m['warm']:11.2f}x {m['busy_cold'] / m['cold']:12.2f}"
            f" {m['cpu_serial']:11.2f} {m['cpu_cold']:9.2f}"
            f" {args.workers * m['cpu_serial'] / m['cpu_cold']:9.2f}x  {before} -> {_load()}",
            flush=True,
        )
    print(
        "parallelism: case compute summed over the workers / cold wall time (2.00 = both cores"
        " busy all the time); cpu_*: CPU seconds of the run (cold: driver, scheduler and"
        " workers, start-up included); cpu_bound = workers x cpu_serial / cpu_cold, the"
        " serial/cold ratio on otherwise idle cores were the work perfectly spread (a bound"
        " that does not depend on the load); records identical (deterministic fields) in"
        " every row"
    )


def _warm_cluster_sweep(g: Grid, out: Path, workers: int) -> float:
    """Time a sweep on an already running cluster whose workers have imported verify, with the
    cluster's own client as the default client."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(lambda: __import__("verify.sweep.case") and None)
        t0 = time.perf_counter()
        run_sweep(g, out, scheduler=cluster.scheduler_address, stream=None)
        return time.perf_counter() - t0


if __name__ == "__main__":
    main()
