"""Deterministic sweeps over (problem, eta, t, objective, backend, dtype), on Dask.

``l2l-verify sweep GRID.toml [--out RESULTS] [--scheduler ADDRESS] [--workers N]
[--limit N] [--case-timeout S] [--chunk-size N] [--report DIR]``

* :mod:`verify.sweep.grid` -- the grid file and its expansion into case specs with stable ids;
* :mod:`verify.sweep.case` -- :func:`run_case`, a pure function from a case spec to a record
  (backend meta-gradient, certified truth rounded to the dtype, outcome class, ulps, bits);
* :mod:`verify.sweep.store` -- JSON Lines (fsync per record) or Parquet-dataset results,
  read back with duplicates removed;
* :mod:`verify.sweep.limits` -- per-case time limits (``status="timeout"`` records) and the
  chunk of cases that one task runs;
* :mod:`verify.sweep.driver` -- the Dask driver: chunks as tasks, retry on worker loss, and
  detection of tasks that will never finish;
* :mod:`verify.sweep.runner` -- :func:`run_sweep`: serial, local Dask cluster (default) or an
  existing scheduler; resumes by skipping recorded case ids; progress bar on stderr;
* :mod:`verify.sweep.report` -- :func:`build_sweep_report` from a results file.

Dask is imported only when a sweep runs on it.

Examples
--------
>>> from verify.sweep import parse_grid, expand, run_case
>>> grid = parse_grid({"problem": [{"kind": "wishart2", "d": 3, "seed": 0}],
...                    "grid": {"eta_rel": [0.5], "t": [10], "dtype": ["float32"]}})
>>> [case] = expand(grid)
>>> rec = run_case(case)
>>> rec["status"], rec["outcome"], rec["backend"], rec["dtype"]
('ok', 'accurate', 'numpy', 'float32')
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .case import FIELDS, NONDETERMINISTIC_FIELDS, deterministic, run_case
from .grid import CaseSpec, Grid, build_problem, case_id, expand, load_grid, parse_grid
from .limits import CaseTimeout, call_with_time_limit
from .report import build_sweep_report, summarize
from .runner import CASE_TIMEOUT_S, Progress, SweepSummary, plan_chunks, run_sweep
from .store import ResultWriter, read_results

__all__ = [
    "CASE_TIMEOUT_S",
    "FIELDS",
    "NONDETERMINISTIC_FIELDS",
    "CaseSpec",
    "CaseTimeout",
    "Grid",
    "Progress",
    "ResultWriter",
    "SweepSummary",
    "build_problem",
    "build_sweep_report",
    "call_with_time_limit",
    "case_id",
    "configure_parser",
    "deterministic",
    "expand",
    "load_grid",
    "parse_grid",
    "plan_chunks",
    "read_results",
    "run_case",
    "run_command",
    "run_sweep",
    "summarize",
]


def _seconds(text: str) -> float:
    """A finite number of seconds > 0 (argparse type of ``--case-timeout``)."""
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r}: must be a finite number of seconds > 0")
    return value


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``l2l-verify sweep``."""
    from ..cliargs import nonnegative_int, positive_int

    parser.description = (
        "Evaluate a grid of (problem, eta, t, objective, backend, dtype) cases against the "
        "certified truth, on Dask; resumable; results as JSON Lines or Parquet."
    )
    parser.add_argument("grid", type=Path, help="grid TOML file (see examples/grid.toml)")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="results: *.jsonl (default: GRID_STEM-results.jsonl here) or a *.parquet directory",
    )
    parser.add_argument(
        "--scheduler", default=None, help="address of a running Dask scheduler (tcp://host:port)"
    )
    parser.add_argument(
        "--workers",
        type=nonnegative_int,
        default=None,
        help="local cluster size (0: run in this process); with --scheduler: wait for N workers",
    )
    parser.add_argument(
        "--limit", type=positive_int, default=None, help="compute at most N new cases"
    )
    parser.add_argument(
        "--case-timeout",
        type=_seconds,
        default=CASE_TIMEOUT_S,
        help="per-case limit in seconds; a case past it is recorded as status 'timeout' "
        f"(default {CASE_TIMEOUT_S:g})",
    )
    parser.add_argument(
        "--chunk-size",
        type=positive_int,
        default=None,
        help="cases per Dask task (default: ~16 chunks per worker, at most 64 cases each)",
    )
    parser.add_argument("--report", type=Path, default=None, help="then write a report to DIR")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run_command(args: argparse.Namespace) -> int:
    """Run ``l2l-verify sweep``; exit status 1 when some case raised (no record written)."""
    out = args.out if args.out is not None else Path(f"{args.grid.stem}-results.jsonl")
    summary = run_sweep(
        args.grid,
        out,
        scheduler=args.scheduler,
        workers=args.workers,
        limit=args.limit,
        stream=None if args.quiet else sys.stderr,
        case_timeout_s=args.case_timeout,
        chunk_size=args.chunk_size,
    )
    for msg in summary.notes:
        sys.stderr.write(f"sweep: note: {msg}\n")
    for msg in summary.messages:
        sys.stderr.write(f"error: {msg}\n")
    sys.stderr.write(
        f"sweep: {summary.done} computed, {summary.skipped} already done, {summary.failed} "
        f"failure outcomes, {summary.timeouts} timeouts, {summary.errors} errors in "
        f"{summary.elapsed_s:.1f} s -> {out}\n"
    )
    if args.report is not None:
        build_sweep_report(out, args.report, grid=args.grid)
        sys.stderr.write(f"sweep: report in {args.report / 'report.md'}\n")
    return 1 if summary.errors else 0
