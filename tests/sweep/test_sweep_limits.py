"""Sweeps that cannot hang or lose a case (issue 17): per-case time limits, chunks, the Dask
driver's detection of tasks that will never finish, retry on worker loss."""

from __future__ import annotations

import functools
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.sweep._sweep_inputs import (
    HANG_S,
    SMALL_GRID,
    TINY_GRID,
    hanging_case,
    killing_case,
    write_grid,
)
from verify.errors import ShapeMismatchError
from verify.sweep import (
    call_with_time_limit,
    case_id,
    deterministic,
    expand,
    load_grid,
    plan_chunks,
    read_results,
    run_case,
    run_sweep,
)
from verify.sweep.store import iter_records

# The injected hang is stopped at LIMIT_S; everything below must finish long before HANG_S,
# the time after which a broken limit lets the hanging case return an "ok" record.
LIMIT_S = 0.5
# worst acceptable delay between the limit passing and the case being recorded: a bytecode
# boundary comes within microseconds; the rest is thread scheduling on a loaded 2-core box
STOP_SLACK_S = 5.0
# a Dask sweep of TINY_GRID takes a few seconds; one that has not finished after this hangs
DEADLINE_S = 120.0


def _within(seconds: float, fn: Any) -> Any:
    """``fn()``, failing the test (instead of hanging the suite) if it takes over ``seconds``."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised in the test's thread
            box["error"] = exc

    th = threading.Thread(target=target, daemon=True)
    th.start()
    th.join(seconds)
    assert not th.is_alive(), f"the sweep did not finish within {seconds} s"
    if "error" in box:
        raise box["error"]
    return box["value"]


def _cases(tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    grid = write_grid(tmp_path, TINY_GRID)
    return grid, expand(load_grid(grid))


def _serial_truth(cases: list[dict[str, Any]], skip: set[str]) -> dict[str, dict[str, Any]]:
    return {case_id(c): deterministic(run_case(c)) for c in cases if case_id(c) not in skip}


def test_time_limit_stops_a_spinning_case_and_keeps_a_finished_one() -> None:
    grid_cases = expand(load_grid_from_text())
    spec = grid_cases[0]
    started = time.monotonic()
    rec = call_with_time_limit(functools.partial(hanging_case, busy=case_id(spec)), spec, LIMIT_S)
    elapsed = time.monotonic() - started
    assert rec["status"] == "timeout" and rec["id"] == case_id(spec)
    assert LIMIT_S <= elapsed < LIMIT_S + STOP_SLACK_S
    assert f"limit is {LIMIT_S:g} s" in rec["error"] and rec["outcome"] is None
    # a case that finishes as its limit passes keeps its result, and no stray exception
    # lands in the caller afterwards (the scheduled one is cleared under the lock)
    for limit in (1e-4, 5e-4, 1e-3, 2e-3):
        for _ in range(10):
            out = call_with_time_limit(_sleep_then, spec, limit)
            assert out["status"] in ("ok", "timeout")
            sum(range(10_000))  # bytecode after the call: a leaked exception would land here


def _sleep_then(spec: dict[str, Any]) -> dict[str, Any]:
    time.sleep(1e-3)
    return {"status": "ok", "id": case_id(spec)}


def load_grid_from_text() -> Any:
    import tomllib

    from verify.sweep import parse_grid

    return parse_grid(tomllib.loads(SMALL_GRID))


def test_serial_sweep_records_a_hanging_case_as_timeout(tmp_path: Path) -> None:
    grid, cases = _cases(tmp_path)
    hang = case_id(cases[17])
    out = tmp_path / "res.jsonl"
    started = time.monotonic()
    summary = run_sweep(
        grid,
        out,
        workers=0,
        stream=None,
        case_fn=functools.partial(hanging_case, busy=hang),
        case_timeout_s=LIMIT_S,
    )
    assert time.monotonic() - started < HANG_S
    assert (summary.done, summary.errors, summary.timeouts) == (48, 0, 1)
    by_id = {r["id"]: r for r in read_results(out)}
    assert by_id[hang]["status"] == "timeout"
    got = {k: deterministic(v) for k, v in by_id.items() if k != hang}
    assert got == _serial_truth(cases, {hang})
    again = run_sweep(grid, out, workers=0, stream=None)  # a timeout is a record: not retried
    assert again.done == 0 and again.skipped == 48


def test_plan_chunks_keeps_each_truth_together_and_the_order() -> None:
    cases = expand(load_grid_from_text())
    for size in (1, 3, 4, 7, 64, 1000):
        chunks = plan_chunks(cases, size)
        assert [c for ch in chunks for c in ch] == cases
        assert all(len(ch) <= max(size, 4) for ch in chunks)  # 4 = backends x dtypes
        point = [
            tuple(c[k] for k in ("problem", "eta", "t", "objective")) for c in cases
        ]  # the 4 cases of one point share a truth and must share a chunk
        owner = {id(c): i for i, ch in enumerate(chunks) for c in ch}
        for a, b in zip(range(len(cases)), range(1, len(cases)), strict=False):
            if point[a] == point[b]:
                assert owner[id(cases[a])] == owner[id(cases[b])]
    assert len(plan_chunks(cases, 1000)) == 1
    with pytest.raises(ShapeMismatchError) as exc:
        plan_chunks(cases, 0)
    assert exc.value.argument == "chunk_size"


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"case_timeout_s": 0}, "case_timeout_s"),
        ({"case_timeout_s": float("inf")}, "case_timeout_s"),
        ({"chunk_size": 0}, "chunk_size"),
        ({"chunk_size": True}, "chunk_size"),
        ({"poll_s": -1.0}, "poll_s"),
    ],
)
def test_bad_limits_are_typed_errors(tmp_path: Path, kwargs: dict[str, Any], argument: str) -> None:
    grid, _ = _cases(tmp_path)
    with pytest.raises(ShapeMismatchError) as exc:
        run_sweep(grid, tmp_path / "r.jsonl", workers=0, stream=None, **kwargs)
    assert exc.value.argument == argument


def test_dask_sweep_stops_hanging_cases_and_wedged_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A case spinning in Python is stopped in its task; a case blocked in one C call is found
    by the driver (running past limit + grace), recorded as a timeout, its worker restarted,
    and the rest of its chunk rerun. Every other case is recorded once, as serially."""
    from verify.sweep import driver

    monkeypatch.setattr(driver, "WEDGED_GRACE_S", 1.0)
    grid, cases = _cases(tmp_path)
    busy, blocked = case_id(cases[5]), case_id(cases[30])
    out = tmp_path / "res.jsonl"
    started = time.monotonic()
    summary = run_sweep(
        grid,
        out,
        workers=2,
        stream=None,
        case_fn=functools.partial(hanging_case, busy=busy, blocked=blocked),
        case_timeout_s=LIMIT_S,
        chunk_size=8,
        poll_s=0.5,
    )
    assert time.monotonic() - started < HANG_S, "the blocked case was not detected"
    assert (summary.done, summary.errors, summary.timeouts) == (48, 0, 2), summary.messages
    raw = list(iter_records(out))
    assert len(raw) == len({r["id"] for r in raw}) == 48  # exactly once, no deduplication
    by_id = {r["id"]: r for r in raw}
    assert by_id[busy]["status"] == by_id[blocked]["status"] == "timeout"
    assert "restarted" in by_id[blocked]["error"]
    got = {k: deterministic(v) for k, v in by_id.items() if k not in (busy, blocked)}
    assert got == _serial_truth(cases, {busy, blocked})


def test_driver_finds_a_task_whose_completion_was_never_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's hang, in its general form: a finished task whose notification never
    reaches the driver. The driver drops the first notification here; the sweep must still
    finish (by its poll) with every record."""
    from verify.sweep import driver

    real_submit = driver.DaskDriver._submit
    dropped: list[str] = []

    def submit(self: Any, specs: list[dict[str, Any]], attempt: int) -> None:
        real_submit(self, specs, attempt)
        if not dropped:
            key = list(self.tasks)[-1]
            dropped.append(key)
            put = self._done.put
            self._done.put = lambda k: None if k == key else put(k)  # type: ignore[method-assign]

    monkeypatch.setattr(driver.DaskDriver, "_submit", submit)
    grid, cases = _cases(tmp_path)
    out = tmp_path / "res.jsonl"
    summary = _within(
        DEADLINE_S,
        lambda: run_sweep(grid, out, workers=2, stream=None, chunk_size=8, poll_s=0.5),
    )
    assert dropped and summary.done == 48 and summary.errors == 0
    assert {r["id"] for r in iter_records(out)} == {case_id(c) for c in cases}


def test_sweep_beside_another_default_client_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The benchmark's warm run: the cluster's own client is the current default while the
    sweep runs with a second client on the same scheduler -- how the issue's run hung:
    ``as_completed`` fetched the sweep client's results on the *default* client's event loop,
    two threads wrote one connection and a result was lost. The sweep must not touch the
    default client at all (checked by making that fail), and must finish with every case."""
    distributed = pytest.importorskip("distributed")
    import distributed.client as dclient

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the sweep used distributed's default client")

    grid, cases = _cases(tmp_path)
    out = tmp_path / "res.jsonl"
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster),
    ):
        with monkeypatch.context() as patch:
            patch.setattr(dclient, "default_client", refuse)
            summary = _within(
                DEADLINE_S,
                lambda: run_sweep(grid, out, scheduler=cluster.scheduler_address, stream=None),
            )
    assert summary.done == 48 and summary.errors == 0
    got = {r["id"]: deterministic(r) for r in read_results(out)}
    assert got == _serial_truth(cases, set())


@pytest.mark.slow  # three worker deaths and restarts: ~5 s; worker loss is also in the default
# run through tests/sweep/test_sweep_dask.py (a SIGKILLed worker)
def test_a_case_that_kills_its_worker_is_retried_then_reported(tmp_path: Path) -> None:
    """Worker loss: the chunk holding a worker-killing case fails with KilledWorker, is rerun
    one case per task (its other cases are recorded), and the killer is reported as an error
    after the driver's attempts, with no record (a rerun retries it)."""
    import dask

    grid, cases = _cases(tmp_path)
    killer = case_id(cases[20])
    out = tmp_path / "res.jsonl"
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        summary = run_sweep(
            grid,
            out,
            workers=2,
            stream=None,
            case_fn=functools.partial(killing_case, killer=killer),
            chunk_size=8,
            poll_s=0.5,
        )
    assert (summary.done, summary.errors) == (47, 1)
    assert killer in summary.messages[0] and "KilledWorker" in summary.messages[0]
    ids = [r["id"] for r in iter_records(out)]
    assert len(ids) == len(set(ids)) == 47 and killer not in ids
