"""The Dask side of a sweep: submit chunks, collect them, and never wait for a lost one.

:class:`DaskDriver` submits each chunk of cases as one task
(:func:`verify.sweep.limits.run_chunk`) and learns of finished tasks through
``Future.add_done_callback`` and a queue that the driver reads with a timeout. Everything it
does goes through the sweep's own client: it never relies on ``distributed``'s *default*
client. (That was the cause of the hang of issue 17: ``distributed.as_completed`` without
``loop=`` runs its result-fetching coroutines on the default client's event loop; when
another client is the default -- the benchmark's warm run holds one for its cluster -- the
sweep client's connections were written from two threads at once, a tornado write buffer
was corrupted (``AssertionError`` in ``IOStream._handle_write``) and one result never
arrived: 2047 of 2048 records, then nothing, forever.)

Whenever no task has finished for ``poll_s`` seconds, the driver checks every pending task
(acting on the scheduler's answer only when two checks in a row agree):

* done on the client but not yet seen (a lost callback): collected now;
* unknown to the scheduler, or released/forgotten there (lost): resubmitted;
* in memory or erred on the scheduler without the client having been told: fetched directly;
* a case that has been running on a worker for longer than the per-case limit plus
  :data:`WEDGED_GRACE_S` (stuck inside one C call, so the in-task limit could not stop it):
  recorded with ``status="timeout"``, its chunk's other cases resubmitted, and the worker
  restarted (possible when it runs under a nanny, as in a local cluster).

Worker loss: Dask reschedules the tasks of a worker that dies; a task that loses
``distributed.scheduler.allowed-failures`` workers fails with ``KilledWorker`` and is
resubmitted here one case per task (so a case that kills workers is isolated), up to
``max_attempts`` submissions; a case that still fails is an error of the sweep (no record; a
rerun retries it).
"""

from __future__ import annotations

import queue
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .case import timeout_record
from .grid import CaseSpec, case_id
from .limits import ChunkOutcome, run_chunk, running_cases

__all__ = ["WEDGED_GRACE_S", "DaskDriver"]

#: Seconds past the per-case limit after which a case still running on a worker is taken to
#: be stuck in a C call that the in-task limit cannot interrupt (the limit itself acts within
#: milliseconds of a bytecode boundary; this leaves room for one long BLAS/Arb call).
WEDGED_GRACE_S = 30.0
#: Seconds the driver waits for a control call to the cluster (scheduler or worker query,
#: restart, fetching a finished task's result) before treating it as lost.
CONTROL_TIMEOUT_S = 60.0
# task states on the scheduler that mean the result exists or the task failed
_DONE_ON_SCHEDULER = frozenset({"memory", "erred"})
_LOST_ON_SCHEDULER = frozenset({"released", "forgotten"})


@dataclass
class _Task:
    specs: list[CaseSpec]
    attempt: int
    future: Any


def _key_states(dask_scheduler: Any, keys: Sequence[str]) -> dict[str, str | None]:
    """Run on the scheduler: the state of each key (None: the scheduler does not know it)."""
    tasks = dask_scheduler.tasks
    return {k: (tasks[k].state if k in tasks else None) for k in keys}


def _with_deadline(fn: Callable[[], Any], timeout_s: float) -> tuple[bool, Any]:
    """``(True, fn())``, or ``(False, exception or None)`` if it raised or did not return in
    ``timeout_s`` (then it is left running in a daemon thread)."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except Exception as exc:  # reported to the caller, who decides
            box["error"] = exc

    th = threading.Thread(target=target, daemon=True)
    th.start()
    th.join(timeout_s)
    if "value" in box:
        return True, box["value"]
    return False, box.get("error")


class DaskDriver:
    """Run chunks of cases on a Dask client until every case is recorded or reported.

    Parameters
    ----------
    client : distributed.Client
    case_fn : callable
        The case function, importable by the workers.
    limit_s : float or None
        Per-case time limit (None: none).
    records : callable
        Called with the records of each finished chunk (the driver is the only writer).
    error : callable
        Called with ``(spec, message)`` for a case that raised or could not be run.
    note : callable
        Called with a one-line message about the cluster (a restart, a lost task).
    max_attempts : int
        Submissions of a case before it counts as an error.
    poll_s : float
        Seconds without a finished task before the driver checks its pending tasks.
    """

    def __init__(
        self,
        client: Any,
        case_fn: Callable[[CaseSpec], dict[str, Any]],
        limit_s: float | None,
        records: Callable[[list[dict[str, Any]]], None],
        error: Callable[[CaseSpec, str], None],
        note: Callable[[str], None],
        *,
        max_attempts: int = 3,
        poll_s: float = 5.0,
    ) -> None:
        self.client, self.case_fn, self.limit_s = client, case_fn, limit_s
        self._records, self._error, self._note = records, error, note
        self.max_attempts, self.poll_s = max_attempts, poll_s
        self.tasks: dict[str, _Task] = {}
        self.recorded: set[str] = set()
        self._done: queue.Queue[str] = queue.Queue()
        self._token = secrets.token_hex(4)
        self._suspects: set[str] = set()

    def run(self, chunks: Sequence[Sequence[CaseSpec]]) -> None:
        """Submit ``chunks`` and return once every case is recorded or reported as an error."""
        for chunk in chunks:
            self._submit(list(chunk), 0)
        while self.tasks:
            try:
                key = self._done.get(timeout=self.poll_s)
            except queue.Empty:
                self._check()
                continue
            self._finish(key)

    def _submit(self, specs: list[CaseSpec], attempt: int) -> None:
        key = f"l2l-chunk-{case_id(specs[0])}-n{len(specs)}-a{attempt}-{self._token}"
        fut = self.client.submit(run_chunk, self.case_fn, specs, self.limit_s, key=key, pure=False)
        self.tasks[key] = _Task(specs, attempt, fut)
        fut.add_done_callback(lambda f: self._done.put(f.key))

    def _retry(self, task: _Task, reason: str) -> None:
        """Resubmit the unrecorded cases of ``task`` one per task, or report them as errors."""
        specs = [s for s in task.specs if case_id(s) not in self.recorded]
        if task.attempt + 1 >= self.max_attempts:
            for spec in specs:
                self._error(spec, f"{reason} (after {task.attempt + 1} submissions)")
            return
        for spec in specs:
            self._submit([spec], task.attempt + 1)

    def _finish(self, key: str) -> None:
        """Collect the task ``key`` (a no-op if it was already collected or abandoned)."""
        task = self.tasks.pop(key, None)
        if task is None:
            return
        fut = task.future
        status = fut.status
        if status == "finished":
            ok, outcomes = _with_deadline(lambda: fut.result(), CONTROL_TIMEOUT_S)
            if ok:
                self._accept(task.specs, outcomes)
            else:
                self._retry(task, f"result of {key} could not be fetched: {outcomes!r}")
        elif status == "error":
            ok, exc = _with_deadline(lambda: fut.exception(), CONTROL_TIMEOUT_S)
            name = type(exc).__name__ if ok else "lost"
            if name in ("KilledWorker", "CommClosedError", "lost"):  # the worker, not the case
                self._retry(task, f"{name}: {exc}")
            else:  # the chunk machinery itself raised: a bug, reported for every case
                for spec in task.specs:
                    self._error(spec, f"{name}: {exc}")
        else:  # cancelled or lost under us (e.g. by a worker restart)
            self._retry(task, f"task {key} was {status}")
        fut.release()

    def _accept(self, specs: Sequence[CaseSpec], outcomes: list[ChunkOutcome]) -> None:
        recs = []
        for spec, (kind, payload) in zip(specs, outcomes, strict=True):
            cid = case_id(spec)
            if cid in self.recorded:
                continue  # recorded by an earlier submission: exactly once
            if kind == "record":
                self.recorded.add(cid)
                recs.append(payload)
            else:
                self._error(spec, str(payload))
        if recs:
            self._records(recs)

    def _check(self) -> None:
        """No task finished for ``poll_s``: find tasks that will never report, and act."""
        for key in [k for k, t in self.tasks.items() if t.future.done()]:
            self._finish(key)  # its callback was lost
        if not self.tasks:
            return
        keys = list(self.tasks)
        ok, states = _with_deadline(
            lambda: self.client.run_on_scheduler(_key_states, keys=keys), CONTROL_TIMEOUT_S
        )
        if not ok:
            self._note(f"the scheduler did not answer within {CONTROL_TIMEOUT_S:g} s: {states!r}")
            return
        # act on a key only when two checks in a row found it so: a task just submitted is
        # not known to the scheduler yet, and a finished one may be reported any moment
        odd = {
            k
            for k in keys
            if k in self.tasks
            and (states.get(k) is None or states.get(k) in _LOST_ON_SCHEDULER | _DONE_ON_SCHEDULER)
        }
        confirmed, self._suspects = odd & self._suspects, odd
        for key in confirmed:
            state = states.get(key)
            if key not in self.tasks:
                continue
            if state is None or state in _LOST_ON_SCHEDULER:
                task = self.tasks.pop(key)
                self._note(f"task {key} was lost (scheduler state {state}); resubmitted")
                task.future.release()
                self._retry(task, f"task {key} lost")
            elif state in _DONE_ON_SCHEDULER:
                self._note(f"task {key} is {state} but was never reported; collected")
                self._finish(key)
        if self.limit_s is not None:
            self._check_wedged(self.limit_s)

    def _check_wedged(self, limit_s: float) -> None:
        """Record as timeouts the cases running past ``limit_s + WEDGED_GRACE_S``; restart
        their workers and resubmit the rest of their chunks."""
        ok, running = _with_deadline(
            lambda: self.client.run(running_cases, on_error="return"), CONTROL_TIMEOUT_S
        )
        if not ok:
            self._note(f"the workers did not answer within {CONTROL_TIMEOUT_S:g} s: {running!r}")
            return
        by_case = {case_id(s): (k, s) for k, t in self.tasks.items() for s in t.specs}
        wedged_workers = []
        for worker, cases in running.items():
            if not isinstance(cases, dict):
                continue  # the worker raised (e.g. it is shutting down)
            for cid, elapsed in cases.items():
                if elapsed <= limit_s + WEDGED_GRACE_S or cid not in by_case:
                    continue
                key, spec = by_case[cid]
                task = self.tasks.pop(key, None)
                if task is None:
                    continue
                note = "stuck in a call the limit could not interrupt; its worker restarted"
                self.recorded.add(cid)
                self._records([timeout_record(spec, limit_s, elapsed, note)])
                task.future.cancel()
                self._retry(task, f"chunk of a wedged case {cid}")
                wedged_workers.append(worker)
        if wedged_workers:
            ok, res = _with_deadline(
                lambda: self.client.restart_workers(wedged_workers, raise_for_error=False),
                CONTROL_TIMEOUT_S,
            )
            self._note(f"restarted wedged workers {wedged_workers}: {res if ok else 'failed'}")
