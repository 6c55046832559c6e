"""Small sweep grids shared by the sweep tests (d <= 8, so a case costs milliseconds)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

# 2 problems x (2 absolute + 3 relative step sizes) x 2 horizons x 2 objectives x 2 backends
# x 2 dtypes = 160 cases, about 1 s serially
SMALL_GRID = """
[sweep]
name = "small"

[[problem]]
kind = "wishart2"
d = 4
seed = 3

[[problem]]
kind = "spectrum"
eigenvalues = [1.0, 4.0, 30.0]
seed = 2

[grid]
eta = ["0x1p-5", "1/100"]
eta_rel = [0.5, 0.995, 1.2]
t = [5, 400]
objective = ["log", "naive"]
backend = ["numpy", "stable"]
dtype = ["float32", "float64"]
"""

# 1 problem x 3 step sizes x 2 horizons x 2 objectives x 2 backends x 2 dtypes = 48 cases of
# a few ms: the Dask tests of hangs, lost tasks and lost workers
TINY_GRID = """
[[problem]]
kind = "wishart2"
d = 4
seed = 5

[grid]
eta_rel = [0.5, 0.9, 1.2]
t = [5, 60]
objective = ["log", "naive"]
backend = ["numpy", "stable"]
dtype = ["float32", "float64"]
"""

# 1 problem x 6 step sizes x {10, 10000} x 2 objectives x 2 dtypes = 48 numpy cases; the
# t = 10000 ones take ~0.1-0.2 s each (plain backprop loops over t), long enough to kill a
# worker while the sweep is running
SLOW_GRID = """
[[problem]]
kind = "wishart2"
d = 8
seed = 1

[grid]
eta_rel = [0.3, 0.6, 0.9, 0.99, 1.01, 1.2]
t = [10, 10000]
objective = ["log", "naive"]
backend = ["numpy"]
dtype = ["float32", "float64"]
"""


def write_grid(directory: Path, text: str, name: str = "grid.toml") -> Path:
    """Write a grid file and return its path."""
    path = directory / name
    path.write_text(text)
    return path


# An injected "hang" runs this long unless the sweep stops it: bounded, so that a broken time
# limit makes the test fail (a record with status "ok") instead of hanging the suite.
HANG_S = 30.0


def hanging_case(spec: dict[str, Any], *, busy: str = "", blocked: str = "") -> dict[str, Any]:
    """``run_case``, except that the case with id ``busy`` spins in Python bytecode and the one
    with id ``blocked`` sleeps inside one C call (``time.sleep`` in a worker thread, which the
    in-task limit cannot interrupt), each for up to :data:`HANG_S` seconds."""
    from verify.sweep import case_id, run_case

    cid = case_id(spec)
    if cid == busy:
        end = time.monotonic() + HANG_S
        while time.monotonic() < end:
            pass
    elif cid == blocked:
        time.sleep(HANG_S)
    return run_case(spec)


def killing_case(spec: dict[str, Any], *, killer: str) -> dict[str, Any]:
    """``run_case``, except that the case with id ``killer`` kills the process running it."""
    from verify.sweep import case_id, run_case

    if case_id(spec) == killer:
        os._exit(3)
    return run_case(spec)
