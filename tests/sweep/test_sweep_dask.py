"""A sweep on a real dask.distributed cluster that loses a worker midway.

A scheduler and two workers run on loopback as separate processes (``--no-nanny``, so the
worker we SIGKILL stays dead); the sweep runs as a user would run it, ``l2l-verify sweep
GRID --scheduler tcp://127.0.0.1:PORT``, in its own process. Every case must then appear
exactly once in the results file, with values equal to a serial recomputation.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sweep._sweep_inputs import SLOW_GRID, write_grid
from verify.sweep import case_id, deterministic, expand, load_grid, run_case
from verify.sweep.store import iter_records

pytest.importorskip("distributed")

REPO = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 60.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dask scheduler exited with {proc.returncode}")
        with socket.socket() as s, contextlib.suppress(OSError):
            s.connect(("127.0.0.1", port))
            return
        time.sleep(0.1)
    raise TimeoutError(f"no dask scheduler on port {port} after {STARTUP_TIMEOUT_S} s")


@contextlib.contextmanager
def _cluster(logdir: Path) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """Scheduler + 2 single-threaded workers on 127.0.0.1; all killed on exit, even on failure."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs: list[subprocess.Popen[bytes]] = []
    logs = []

    def spawn(name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = (logdir / f"{name}.log").open("wb")
        logs.append(log)
        proc = subprocess.Popen([sys.executable, "-m", *args], stdout=log, stderr=log, cwd=REPO)
        procs.append(proc)
        return proc

    try:
        sched = spawn(
            "scheduler",
            [
                "distributed.cli.dask_scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-dashboard",
            ],
        )
        _wait_for_port(port, sched)
        workers = [
            spawn(
                f"worker{i}",
                [
                    "distributed.cli.dask_worker",
                    address,
                    "--nthreads",
                    "1",
                    "--no-nanny",
                    "--no-dashboard",
                    "--host",
                    "127.0.0.1",
                    "--death-timeout",
                    "60",
                ],
            )
            for i in range(2)
        ]
        yield address, workers
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)
        for log in logs:
            log.close()


def test_sweep_survives_a_killed_worker(tmp_path: Path) -> None:
    grid_path = write_grid(tmp_path, SLOW_GRID)
    cases = expand(load_grid(grid_path))
    out = tmp_path / "results.jsonl"
    with _cluster(tmp_path) as (address, workers):
        sweep = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "verify.cli",
                "sweep",
                str(grid_path),
                "--out",
                str(out),
                "--scheduler",
                address,
                "--workers",
                "2",
            ],
            cwd=REPO,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT_S
            while len(list(iter_records(out))) < 4 and time.monotonic() < deadline:
                assert sweep.poll() is None, sweep.communicate()[1]
                time.sleep(0.02)
            os.kill(workers[0].pid, signal.SIGKILL)
            workers[0].wait(timeout=30)
            written_before_kill = len(list(iter_records(out)))
            _, stderr = sweep.communicate(timeout=180)
        finally:
            if sweep.poll() is None:
                sweep.kill()
                sweep.wait()
    assert sweep.returncode == 0, stderr
    assert 4 <= written_before_kill < len(cases), "the worker was not killed midway"
    assert f"{len(cases)}/{len(cases)} cases" in stderr  # the progress bar reached the end
    raw = list(iter_records(out))
    counts = Counter(r["id"] for r in raw)
    assert set(counts) == {case_id(c) for c in cases}
    assert max(counts.values()) == 1  # exactly once, without deduplication
    survivor = f":{workers[1].pid}"
    # records gathered from the dead worker just before the kill may still be being written
    after_kill = raw[written_before_kill + 2 :]
    assert after_kill and all(r["worker"].endswith(survivor) for r in after_kill)
    by_id = {r["id"]: deterministic(r) for r in raw}
    for case in cases:
        assert by_id[case_id(case)] == deterministic(run_case(case))
