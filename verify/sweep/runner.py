"""Running a sweep: serially, on a local Dask cluster, or on an existing Dask scheduler.

The driver expands the grid, drops the cases whose ids are already in the results file
(resume) and runs the rest: in this process one by one, or on Dask in chunks
(:func:`plan_chunks`: cases that share one certified truth stay together, a few dozen cases
per task at most) through :class:`verify.sweep.driver.DaskDriver`, writing the records of
each finished chunk at once. The driver is the only writer, so a worker that dies mid-chunk loses
nothing but that chunk's computation, which is rescheduled. Every case runs under a time
limit (:mod:`verify.sweep.limits`); a case that exceeds it is recorded with
``status="timeout"`` and the sweep goes on. A progress bar on stderr shows cases done and
failed.
"""

from __future__ import annotations

import json
import logging
import math
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
from .limits import call_with_time_limit
from .store import ResultWriter, finished_ids

__all__ = [
    "CASE_TIMEOUT_S",
    "CHUNKS_PER_WORKER",
    "MAX_CHUNK",
    "Progress",
    "SweepSummary",
    "plan_chunks",
    "run_sweep",
]

#: Default per-case time limit (s). The slowest legitimate cases of the shipped grids take
#: seconds; cases that take minutes are the ones issue 17 lists as hangs.
CASE_TIMEOUT_S = 600.0
#: Default chunking: about this many chunks per worker (load balance: the last chunk to finish
#: leaves the other workers idle for at most ~1/CHUNKS_PER_WORKER of a worker's share) ...
CHUNKS_PER_WORKER = 16
#: ... and at most this many cases per chunk (a chunk's records reach the file together).
MAX_CHUNK = 64

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
    timeouts : int
        Of ``done``, records with ``status="timeout"`` (the case ran past its time limit).
    elapsed_s : float
    out : Path
    messages : list of str
        One per error.
    notes : list of str
        What the Dask driver did about the cluster (a lost task resubmitted, a wedged worker
        restarted): not errors, every case still has its record.
    """

    total: int
    skipped: int
    done: int = 0
    failed: int = 0
    errors: int = 0
    timeouts: int = 0
    elapsed_s: float = 0.0
    out: Path = Path()
    messages: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


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


def plan_chunks(cases: Sequence[CaseSpec], chunk_size: int) -> list[list[CaseSpec]]:
    """Split ``cases`` (in order) into chunks of at most ``chunk_size`` cases, never splitting
    consecutive cases that share one certified truth (same problem, eta, t, objective and
    precision: the backends and dtypes of one point), so each truth is computed once.

    A group larger than ``chunk_size`` becomes one chunk of its own.
    """
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ShapeMismatchError("chunk_size", chunk_size, "must be an integer >= 1")
    groups: list[list[CaseSpec]] = []
    last: tuple[Any, ...] | None = None
    for spec in cases:
        key = tuple(
            json.dumps(spec[k], sort_keys=True)
            for k in ("problem", "exact_in", "eta", "t", "objective", "precision_bits")
        )
        if key != last:
            groups.append([])
            last = key
        groups[-1].append(spec)
    chunks: list[list[CaseSpec]] = []
    for group in groups:
        if chunks and len(chunks[-1]) + len(group) <= chunk_size:
            chunks[-1].extend(group)
        else:
            chunks.append(list(group))
    return chunks


def _auto_chunk(n_cases: int, n_workers: int) -> int:
    return max(1, min(MAX_CHUNK, -(-n_cases // (max(1, n_workers) * CHUNKS_PER_WORKER))))


def _check_args(**values: Any) -> None:
    for name, value in values.items():
        if value is None:
            continue
        if name in ("case_timeout_s", "poll_s"):
            ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
            ok = ok and math.isfinite(value)
            if not ok:
                raise ShapeMismatchError(name, value, "must be a finite number of seconds > 0")
            continue
        low = 1 if name == "chunk_size" else 0
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ShapeMismatchError(name, value, f"must be an integer >= {low}")


def run_sweep(
    grid: Grid | str | Path,
    out: str | Path,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    limit: int | None = None,
    stream: TextIO | None = sys.stderr,
    case_fn: Callable[[CaseSpec], dict[str, Any]] = run_case,
    case_timeout_s: float | None = CASE_TIMEOUT_S,
    chunk_size: int | None = None,
    poll_s: float = 5.0,
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
    case_timeout_s : float or None
        Per-case time limit in seconds (default :data:`CASE_TIMEOUT_S`; None: none). A case
        that exceeds it is recorded with ``status="timeout"`` (see
        :mod:`verify.sweep.limits` for how it is stopped).
    chunk_size : int, optional
        Cases per Dask task (default: about :data:`CHUNKS_PER_WORKER` chunks per worker, at
        most :data:`MAX_CHUNK` cases each; see :func:`plan_chunks`).
    poll_s : float
        Seconds without a finished task before the Dask driver looks for tasks that will
        never finish (:class:`verify.sweep.driver.DaskDriver`).

    Returns
    -------
    SweepSummary
    """
    if not isinstance(grid, Grid):
        grid = load_grid(grid)
    _check_args(
        workers=workers,
        limit=limit,
        chunk_size=chunk_size,
        case_timeout_s=case_timeout_s,
        poll_s=poll_s,
    )
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

        def records(recs: list[dict[str, Any]]) -> None:
            writer.append_many(recs)
            summary.done += len(recs)
            summary.failed += sum(r.get("outcome") in _FAILURES for r in recs)
            summary.timeouts += sum(r.get("status") == "timeout" for r in recs)
            progress.update(summary.done, summary.failed, summary.errors)

        def error(spec: CaseSpec, message: str) -> None:
            summary.errors += 1
            summary.messages.append(f"case {case_id(spec)}: {message}")
            progress.update(summary.done, summary.failed, summary.errors)

        if not todo:
            pass
        elif workers == 0 and scheduler is None:
            _run_serial(todo, case_fn, case_timeout_s, records, error)
        else:
            opts = {"chunk_size": chunk_size, "limit_s": case_timeout_s, "poll_s": poll_s}
            _run_dask(todo, scheduler, workers, case_fn, records, error, summary.notes, opts)
    progress.update(summary.done, summary.failed, summary.errors, final=True)
    summary.elapsed_s = time.perf_counter() - started
    return summary


def _run_serial(
    todo: Sequence[CaseSpec],
    case_fn: Callable[[CaseSpec], dict[str, Any]],
    limit_s: float | None,
    records: Callable[[list[dict[str, Any]]], None],
    error: Callable[[CaseSpec, str], None],
) -> None:
    for spec in todo:
        try:
            rec = call_with_time_limit(case_fn, spec, limit_s)
        except Exception as exc:  # a bug in one case must not stop the sweep
            error(spec, f"{type(exc).__name__}: {exc}")
        else:
            records([rec])


def _run_dask(
    todo: Sequence[CaseSpec],
    scheduler: str | None,
    workers: int | None,
    case_fn: Callable[[CaseSpec], dict[str, Any]],
    records: Callable[[list[dict[str, Any]]], None],
    error: Callable[[CaseSpec, str], None],
    notes: list[str],
    opts: dict[str, Any],
) -> None:
    import importlib
    import os

    from .driver import DaskDriver

    # distributed is untyped: used through Any
    dd: Any = importlib.import_module("distributed")
    cluster: Any = None
    if scheduler is None:
        n = workers if workers is not None else max(1, min(4, os.cpu_count() or 1))
        # one task per worker thread at a time (no task waiting on a worker behind a running
        # one): a worker that dies then takes only the task it was running with it, so an
        # innocent chunk is never counted as having killed a worker (KilledWorker)
        with importlib.import_module("dask").config.set(
            {"distributed.scheduler.worker-saturation": 1.0}
        ):
            cluster = dd.LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # a free port: 8787 may be taken (a warning)
                silence_logs=logging.ERROR,
            )
        client = dd.Client(cluster, set_as_default=False)
    else:
        client = dd.Client(scheduler, timeout="30s", set_as_default=False)
        if workers:
            client.wait_for_workers(workers, timeout=120)
    try:
        n_workers = len(client.scheduler_info().get("workers", {}))
        size = opts["chunk_size"] or _auto_chunk(len(todo), n_workers)
        driver = DaskDriver(
            client,
            case_fn,
            opts["limit_s"],
            records,
            error,
            notes.append,
            poll_s=opts["poll_s"],
        )
        driver.run(plan_chunks(todo, size))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
