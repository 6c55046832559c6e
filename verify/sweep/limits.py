"""Per-case time limits and chunks of cases: what runs inside a sweep's task.

A sweep task is a *chunk*: a few cases run one after another by :func:`run_chunk`, which
returns one outcome per case -- a record, or the message of a case that raised -- so one bad
case never costs the others their records, and per-task overhead (scheduling, transfer, the
driver's write) is paid once per chunk instead of once per case.

Every case runs under a time limit (:func:`call_with_time_limit`): a timer thread raises
:class:`CaseTimeout` in the thread running the case when the limit passes, and the case is
recorded with ``status="timeout"`` (:func:`verify.sweep.case.timeout_record`). The exception
is delivered between Python bytecodes (CPython's ``PyThreadState_SetAsyncExc``), so a case
stuck inside one C call (a blocking ``time.sleep`` in a worker thread, a long BLAS or Arb
call) is interrupted only when that call returns; the Dask driver
(:mod:`verify.sweep.driver`) catches those by asking the workers which case has been running
for how long (:func:`running_cases`) and restarting a worker that is wedged.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from .case import timeout_record
from .grid import CaseSpec, case_id

__all__ = ["CaseTimeout", "ChunkOutcome", "call_with_time_limit", "run_chunk", "running_cases"]

#: One case's outcome in a chunk: ``("record", record)`` or ``("error", "Type: message")``.
ChunkOutcome = tuple[str, Any]

# case id -> time.monotonic() when it started, for the cases running in this process
_RUNNING: dict[str, float] = {}
_RUNNING_LOCK = threading.Lock()


class CaseTimeout(BaseException):
    """Raised inside a case's thread when its time limit passes.

    A ``BaseException`` (like ``KeyboardInterrupt``), so that an ``except Exception`` in the
    code under test does not swallow it.
    """


def _raise_in_thread(thread_id: int, exc: type[BaseException] | None) -> None:
    """Schedule ``exc`` in thread ``thread_id`` (None: clear a scheduled one)."""
    obj = ctypes.py_object(exc) if exc is not None else ctypes.c_void_p(None)
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), obj)


def call_with_time_limit(
    fn: Callable[[CaseSpec], dict[str, Any]], spec: CaseSpec, limit_s: float | None
) -> dict[str, Any]:
    """``fn(spec)``, or the spec's ``"timeout"`` record if it runs for more than ``limit_s``.

    Parameters
    ----------
    fn : callable
        The case function.
    spec : CaseSpec
        Its argument.
    limit_s : float or None
        Seconds of wall time (None: no limit).

    Returns
    -------
    dict
        ``fn(spec)``, or :func:`verify.sweep.case.timeout_record` when the limit passed first.
        Exceptions of ``fn`` propagate.

    Accuracy
    --------
    The case is interrupted at the first Python bytecode after ``limit_s``; a single C call
    in progress finishes first (see the module docstring).
    """
    cid = case_id(spec)
    started = time.monotonic()
    with _RUNNING_LOCK:
        _RUNNING[cid] = started
    try:
        if limit_s is None:
            return fn(spec)
        return _limited(fn, spec, limit_s, started)
    finally:
        with _RUNNING_LOCK:
            _RUNNING.pop(cid, None)


def _limited(
    fn: Callable[[CaseSpec], dict[str, Any]], spec: CaseSpec, limit_s: float, started: float
) -> dict[str, Any]:
    tid = threading.get_ident()
    lock = threading.Lock()
    state = {"done": False, "fired": False}

    def fire() -> None:
        with lock:
            if not state["done"]:
                state["fired"] = True
                _raise_in_thread(tid, CaseTimeout)

    timer = threading.Timer(limit_s, fire)
    timer.daemon = True
    try:
        # every point where the scheduled exception can land is inside this try: from the
        # start of the case to the moment a pending one is cleared under the lock
        timer.start()
        rec = fn(spec)
        with lock:
            state["done"] = True
            if state["fired"]:
                _raise_in_thread(tid, None)  # finished as the limit passed: keep the result
        return rec
    except CaseTimeout:
        with lock:
            state["done"] = True
        return timeout_record(spec, limit_s, time.monotonic() - started)
    finally:
        timer.cancel()


def run_chunk(
    case_fn: Callable[[CaseSpec], dict[str, Any]],
    specs: Sequence[CaseSpec],
    limit_s: float | None,
) -> list[ChunkOutcome]:
    """Run ``specs`` one after another, each under ``limit_s``; one outcome per spec, in order.

    A case that raises (a bug: typed refusals are records, see
    :func:`verify.sweep.case.run_case`) gives ``("error", "Type: message")``; the remaining
    cases still run.
    """
    out: list[ChunkOutcome] = []
    for spec in specs:
        try:
            out.append(("record", call_with_time_limit(case_fn, spec, limit_s)))
        except Exception as exc:  # one case's bug must not cost the chunk's other records
            out.append(("error", f"{type(exc).__name__}: {exc}"))
    return out


def running_cases() -> dict[str, float]:
    """Case id -> seconds it has been running, for the cases running in this process now
    (what the Dask driver asks each worker when no task has finished for a while)."""
    now = time.monotonic()
    with _RUNNING_LOCK:
        return {cid: now - t0 for cid, t0 in _RUNNING.items()}
