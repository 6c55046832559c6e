"""Running a sweep: serially, on a local Dask cluster, or on an existing Dask scheduler.

The driver expands the grid, drops the cases whose ids are already in the results file
(resume), submits the rest as pure tasks (:func:`verify.sweep.case.run_case`) keyed by their
case id, and writes each record as its task completes -- the driver is the only writer, so a
worker that dies mid-case loses nothing but that case's computation, which Dask reschedules on
another worker. A progress bar on stderr shows cases done and failed.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..compare import Outcome
from ..errors import ShapeMismatchError
from ..progress import Bar
from .case import run_case
from .grid import CaseSpec, Grid, case_id, expand, load_grid
from .store import ResultWriter, finished_ids

__all__ = ["Progress", "SweepSummary", "run_sweep"]

_FAILURES = frozenset(o.value for o in Outcome if o.is_failure)


@dataclass
class SweepSummary:
    """What one invocation of :func:`run_sweep` did.

    Attributes
    ----------
    total : int
        Cases in the grid.
    skipped : int
        Cases already in the results file (not recomputed).
    done : int
        Cases computed and recorded by this run.
    failed : int
        Of those, records whose outcome is a failure class (nan, overflow, underflow,
        silently_wrong) -- data about the backends, not errors of the sweep.
    errors : int
        Cases whose task raised (a bug, or a worker lost too often): no record written, a
        rerun retries them. The messages are in ``messages``.
    elapsed_s : float
    out : Path
    """

    total: int
    skipped: int
    done: int = 0
    failed: int = 0
    errors: int = 0
    elapsed_s: float = 0.0
    out: Path = Path()
    messages: list[str] = field(default_factory=list)


class Progress:
    """The sweep's progress on a stream (a :class:`verify.progress.Bar`): cases done / total,
    already done, failed, errors and rate.

    On a terminal the bar is live (:mod:`rich`); elsewhere (logs, CI) a plain line is printed
    at every 10% of the work, and a last one if the final state was not printed yet.
    """

    def __init__(self, total: int, skipped: int, stream: TextIO | None) -> None:
        self.skipped = skipped
        self.started = time.perf_counter()
        self._bar = None if stream is None else Bar(total - skipped, "sweep", stream=stream)

    def update(self, done: int, failed: int, errors: int, *, final: bool = False) -> None:
        """Show ``done`` cases recorded, ``failed`` of them failures, ``errors`` raised (and
        end the bar when ``final``)."""
        if self._bar is None:
            return
        rate = done / max(time.perf_counter() - self.started, 1e-9)
        note = (
            f"cases ({self.skipped} already done) | {failed} failed | {errors} errors"
            f" | {rate:.1f} cases/s"
        )
        self._bar(done + errors, note=note)
        if final:
            self._bar.close()


def run_sweep(
    grid: Grid | str | Path,
    out: str | Path,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    limit: int | None = None,
    stream: TextIO | None = sys.stderr,
    case_fn: Callable[[CaseSpec], dict[str, Any]] = run_case,
) -> SweepSummary:
    """Evaluate every case of ``grid`` not yet in ``out``, appending one record per case.

    Parameters
    ----------
    grid : Grid or path
        A parsed grid or a grid TOML file (:func:`verify.sweep.grid.load_grid`).
    out : path
        Results file: ``*.jsonl`` or a ``*.parquet`` dataset directory
        (:mod:`verify.sweep.store`). Cases already in it are skipped (resume).
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:port``). Default: a local Dask
        cluster of ``workers`` processes, one thread each.
    workers : int, optional
        Local cluster size (default: the number of CPUs, at most 4); ``0`` runs the cases in
        this process without Dask. With ``scheduler``: wait until that many workers are
        connected before submitting.
    limit : int, optional
        Compute at most this many new cases, then stop (the rest is left for a resume).
    stream : text stream or None
        Where the progress bar goes (default stderr; None: silent).
    case_fn : callable
        The case function (default :func:`verify.sweep.case.run_case`); must be pure and, for
        Dask, importable by the workers.

    Returns
    -------
    SweepSummary
    """
    if not isinstance(grid, Grid):
        grid = load_grid(grid)
    for name, value in (("workers", workers), ("limit", limit)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 0
        ):
            raise ShapeMismatchError(name, value, "must be an integer >= 0")
    out = Path(out)
    started = time.perf_counter()
    cases = expand(grid)
    done_ids = finished_ids(out)
    todo = [c for c in cases if case_id(c) not in done_ids]
    summary = SweepSummary(total=len(cases), skipped=len(cases) - len(todo), out=out)
    if limit is not None:
        todo = todo[:limit]
    progress = Progress(summary.skipped + len(todo), summary.skipped, stream)
    progress.update(0, 0, 0)
    with ResultWriter(out) as writer:

        def record(rec: dict[str, Any]) -> None:
            writer.append(rec)
            summary.done += 1
            summary.failed += rec.get("outcome") in _FAILURES
            progress.update(summary.done, summary.failed, summary.errors)

        def error(spec: CaseSpec, exc: BaseException) -> None:
            summary.errors += 1
            summary.messages.append(f"case {case_id(spec)}: {type(exc).__name__}: {exc}")
            progress.update(summary.done, summary.failed, summary.errors)

        if not todo:
            pass
        elif workers == 0 and scheduler is None:
            for spec in todo:
                try:
                    rec = case_fn(spec)
                except Exception as exc:  # a bug in one case must not stop the sweep
                    error(spec, exc)
                else:
                    record(rec)
        else:
            _run_dask(todo, scheduler, workers, case_fn, record, error)
    progress.update(summary.done, summary.failed, summary.errors, final=True)
    summary.elapsed_s = time.perf_counter() - started
    return summary


def _run_dask(
    todo: Sequence[CaseSpec],
    scheduler: str | None,
    workers: int | None,
    case_fn: Callable[[CaseSpec], dict[str, Any]],
    record: Callable[[dict[str, Any]], None],
    error: Callable[[CaseSpec, BaseException], None],
) -> None:
    import importlib
    import os

    # distributed is untyped: used through Any
    dd: Any = importlib.import_module("distributed")
    Client, LocalCluster, as_completed = dd.Client, dd.LocalCluster, dd.as_completed

    cluster: Any = None
    if scheduler is None:
        n = workers if workers is not None else max(1, min(4, os.cpu_count() or 1))
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
    else:
        client = Client(scheduler, timeout="30s")
        if workers:
            client.wait_for_workers(workers, timeout=120)
    try:
        keys = [f"l2l-case-{case_id(c)}" for c in todo]
        futures = client.map(case_fn, list(todo), key=keys, pure=False)
        spec_of = {f.key: s for f, s in zip(futures, todo, strict=True)}
        for fut, result in as_completed(futures, with_results=True, raise_errors=False):
            if fut.status == "error" or isinstance(result, BaseException):
                exc = result if isinstance(result, BaseException) else RuntimeError(fut.status)
                error(spec_of[fut.key], exc)
            else:
                record(result)
            fut.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
