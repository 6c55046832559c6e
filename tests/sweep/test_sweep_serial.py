"""verify.sweep without a cluster: grids, case ids, pure cases, stores, resume, report."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from tests.sweep._sweep_inputs import SLOW_GRID, SMALL_GRID, write_grid
from verify import truth
from verify.backprop import meta_gradient
from verify.compare import accuracy, classify
from verify.errors import (
    ArgumentError,
    InvalidHorizonError,
    InvalidStepSizeError,
    ShapeMismatchError,
    UnknownOptionError,
)
from verify.floats import round_fraction
from verify.sweep import (
    Progress,
    ResultWriter,
    build_problem,
    build_sweep_report,
    case_id,
    deterministic,
    expand,
    load_grid,
    parse_grid,
    read_results,
    run_case,
    run_sweep,
)
from verify.sweep.store import iter_records

REPO = Path(__file__).resolve().parents[2]


def _grid(**grid: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"eta_rel": [0.5], "t": [10]}
    base.update(grid)
    return {"problem": [{"kind": "wishart2", "d": 3, "seed": 0}], "grid": base}


@pytest.mark.parametrize(
    ("data", "error", "argument"),
    [
        ({"grid": {"t": [1], "eta": [0.1]}}, ShapeMismatchError, "problem"),
        (_grid(t=[0]), InvalidHorizonError, "grid.t[0]"),
        (_grid(t=[]), ShapeMismatchError, "grid.t"),
        (_grid(eta=["-1/8"]), InvalidStepSizeError, "grid.eta[0]"),
        (_grid(eta=["0xzz"]), InvalidStepSizeError, "grid.eta[0]"),
        (_grid(eta_rel=[], eta=[]), InvalidStepSizeError, "grid.eta"),
        (_grid(dtype=["float8"]), UnknownOptionError, "grid.dtype[0]"),
        (_grid(backend=["numpy", "tf"]), UnknownOptionError, "grid.backend[1]"),
        (_grid(horizon=[3]), UnknownOptionError, "grid.horizon"),
        (
            {"problem": [{"kind": "circulant", "d": 3}], "grid": {"t": [1], "eta": [0.1]}},
            UnknownOptionError,
            "problem[0].kind",
        ),
        (
            {"problem": [{"kind": "wishart", "d": 0}], "grid": {"t": [1], "eta": [0.1]}},
            ShapeMismatchError,
            "problem[0].d",
        ),
        (
            {
                "problem": [{"kind": "spectrum", "eigenvalues": [1.0, -2.0]}],
                "grid": {"t": [1], "eta": [0.1]},
            },
            ShapeMismatchError,
            "problem[0].eigenvalues",
        ),
    ],
)
def test_grid_errors_name_the_key(data: dict[str, Any], error: type, argument: str) -> None:
    with pytest.raises(error) as exc:
        parse_grid(data)
    assert isinstance(exc.value, ArgumentError) and exc.value.argument == argument


def test_case_ids_are_stable_and_order_free() -> None:
    [case] = expand(parse_grid(_grid(dtype=["float32"])))
    assert case_id(case) == case_id(dict(reversed(list(case.items()))))
    # pinned: a change of the canonical form would orphan every existing results file
    assert case_id({"v": 1, "eta": "0x1.0000000000000p-6", "t": 10}) == "ef57c501eb43b1732022"
    other = dict(case, t=11)
    assert case_id(other) != case_id(case)


def test_inputs_exact_in_every_grid_dtype() -> None:
    grid = parse_grid(
        _grid(eta=["1/3", 0.1], eta_rel=[0.7], dtype=["float16", "bfloat16", "float64"])
    )
    assert grid.exact_in == ("bfloat16", "float16", "float64")
    cases = expand(grid)
    q = build_problem(cases[0]["problem"], grid.exact_in)
    values = [float(x) for x in q.H.ravel()] + [float(x) for x in q.w0]
    values += [float.fromhex(c["eta"]) for c in cases]
    for x in values:
        for dt in grid.exact_in:
            assert round_fraction(Fraction(x), dt) == x
    # eta = 1/3 is rounded once, directly, to the narrowest format
    third = {float.fromhex(c["eta"]) for c in cases} - {0.1}
    assert round_fraction(Fraction(1, 3), "bfloat16") in third


def test_run_case_is_pure_and_matches_direct_classification() -> None:
    [case] = expand(parse_grid(_grid(eta_rel=[0.9], t=[300], dtype=["float32"])))
    a, b = run_case(case), run_case(json.loads(json.dumps(case)))
    assert deterministic(a) == deterministic(b) and a["status"] == "ok"
    # independent recomputation through the public API
    q = build_problem(case["problem"], case["exact_in"])
    eta = float.fromhex(case["eta"])
    res = meta_gradient(q, eta, 300, dtype="float32")
    enc = truth.meta_gradient(q, eta, 300)
    assert a["grad"] == float(res.grad).hex()
    assert a["truth"] == enc.to_float("float32").hex()
    assert a["outcome"] == classify(res, enc).value
    assert a["ulps"] == accuracy(float(res.grad), enc, "float32").ulps


def test_unsupported_and_uncertifiable_cases_are_records() -> None:
    cases = expand(parse_grid(_grid(backend=["stable"], dtype=["float16"])))
    rec = run_case(cases[0])
    assert rec["status"] == "unsupported" and "float16" in rec["error"]
    assert rec["outcome"] is None


def test_serial_sweep_resumes_without_recomputing(tmp_path: Path) -> None:
    grid = write_grid(tmp_path, SMALL_GRID)
    out = tmp_path / "res.jsonl"
    first = run_sweep(grid, out, workers=0, limit=37, stream=None)
    assert (first.total, first.done, first.skipped) == (160, 37, 0)
    done_before = {r["id"] for r in read_results(out)}
    calls: list[str] = []

    def counting(spec: dict[str, Any]) -> dict[str, Any]:
        calls.append(case_id(spec))
        return run_case(spec)

    second = run_sweep(grid, out, workers=0, stream=None, case_fn=counting)
    assert (second.skipped, second.done) == (37, 123)
    assert len(calls) == 123 and not done_before & set(calls)
    ids = [r["id"] for r in iter_records(out)]
    assert Counter(ids).most_common(1)[0][1] == 1 and len(ids) == 160
    third = run_sweep(grid, out, workers=0, stream=None, case_fn=counting)
    assert third.done == 0 and third.skipped == 160 and len(calls) == 123


def test_reader_deduplicates_and_tolerates_a_torn_line(tmp_path: Path) -> None:
    grid = parse_grid(_grid(eta_rel=[0.5, 0.9]))
    out = tmp_path / "res.jsonl"
    recs = [run_case(c) for c in expand(grid)]
    with ResultWriter(out) as w:
        for r in [*recs, recs[0]]:  # a record written twice (e.g. around a worker death)
            w.append(r)
    with out.open("ab") as fh:
        fh.write(b'{"id": "torn')  # the writer was killed mid-record
    assert [r["id"] for r in read_results(out)] == [r["id"] for r in recs]
    summary = run_sweep(grid, out, workers=0, stream=None)
    assert summary.done == 0 and summary.skipped == len(recs)
    assert out.read_bytes().endswith(b"\n")  # the torn line was cut before appending


def test_parquet_dataset_resume_and_roundtrip(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    grid = write_grid(tmp_path, SMALL_GRID)
    out = tmp_path / "res.parquet"
    run_sweep(grid, out, workers=0, limit=70, stream=None)
    assert len(list(out.glob("part-*.parquet"))) == 2  # 64 + 6 records
    summary = run_sweep(grid, out, workers=0, stream=None)
    assert (summary.skipped, summary.done) == (70, 90)
    records = read_results(out)
    assert len(records) == 160 == pq.read_table(out).num_rows
    jsonl = tmp_path / "res.jsonl"
    run_sweep(grid, jsonl, workers=0, stream=None)
    by_id = {r["id"]: deterministic(r) for r in read_results(jsonl)}
    assert {r["id"]: deterministic(r) for r in records} == by_id


def test_killed_sweep_process_resumes(tmp_path: Path) -> None:
    grid = write_grid(tmp_path, SLOW_GRID)
    out = tmp_path / "res.jsonl"
    cmd = [sys.executable, "-m", "verify.cli", "sweep", str(grid), "--out", str(out)]
    proc = subprocess.Popen([*cmd, "--workers", "0"], cwd=REPO, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(list(iter_records(out))) < 12 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    before = out.read_bytes()
    n_before = before.count(b"\n")
    assert 12 <= n_before < 48, "the sweep was not interrupted midway"
    done = subprocess.run(
        [*cmd, "--workers", "0"], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert f"{48 - n_before} computed, {n_before} already done" in done.stderr
    after = out.read_bytes()
    assert after.startswith(before[: before.rfind(b"\n") + 1])  # nothing rewritten
    ids = [r["id"] for r in iter_records(out)]
    assert len(ids) == len(set(ids)) == 48


def test_progress_bar_counts_done_and_failed() -> None:
    stream = io.StringIO()
    bar = Progress(total=20, skipped=10, stream=stream)
    for i in range(1, 11):
        bar.update(i, i // 2, 0)
    bar.update(10, 5, 0, final=True)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 10  # one line per 10% when not a terminal, final not repeated
    assert lines[-1].startswith("sweep [" + "#" * 30 + "] 10/10 cases (10 already done)")
    assert "| 5 failed | 0 errors |" in lines[-1]


def test_report_from_results(tmp_path: Path) -> None:
    grid = write_grid(tmp_path, SMALL_GRID)
    out = tmp_path / "res.jsonl"
    run_sweep(grid, out, workers=0, stream=None)
    data = build_sweep_report(out, tmp_path / "rep", grid=grid)
    records = read_results(out)
    assert data["cases"] == 160
    for key, row in data["summary"].items():
        backend, dtype = key.split("/")
        mine = [r for r in records if r["backend"] == backend and r["dtype"] == dtype]
        assert row["cases"] == len(mine) == sum(row["counts"].values())
        assert row["counts"]["accurate"] == sum(r["outcome"] == "accurate" for r in mine)
        assert row["in_known_region"] == sum(r["known_failure"] is not None for r in mine)
        failures = [r for r in mine if r["outcome"] in ("nan", "overflow", "underflow")]
        failures += [r for r in mine if r["outcome"] == "silently_wrong"]
        outside = [r for r in failures if r["known_failure"] is None]
        boundary = [r for r in outside if r["predicted"] == "boundary"]
        assert row["predicted_boundary"] == len(boundary)
        assert row["unexplained_failures"] == len(outside) - len(boundary)
        for r in mine:  # the report's prediction, for plain backprop of the log objective
            plain = r["backend"] in ("numpy", "torch", "jax") and r["objective"] == "log"
            assert (r["predicted"] in ("safe", "fails", "boundary")) == plain
    md = (tmp_path / "rep/report.md").read_text()
    assert "| stable/float64 | 40 | 1.000 |" in md  # the stable closed form is accurate here
    assert (tmp_path / "rep/figures/outcome_map.png").stat().st_size > 1000
    again = build_sweep_report(out, tmp_path / "rep2", grid=grid)
    assert again["summary"] == data["summary"]
    assert (tmp_path / "rep2/report.md").read_text() == md.replace("/rep`", "/rep2`")


def test_local_dask_cluster_matches_serial(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    grid = load_grid(write_grid(tmp_path, SMALL_GRID))
    serial = tmp_path / "serial.jsonl"
    run_sweep(grid, serial, workers=0, stream=None)
    out = tmp_path / "dask.jsonl"
    stream = io.StringIO()
    summary = run_sweep(grid, out, workers=2, stream=stream)
    assert summary.done == 160 and summary.errors == 0
    assert "160/160 cases" in stream.getvalue()
    got = {r["id"]: deterministic(r) for r in read_results(out)}
    assert got == {r["id"]: deterministic(r) for r in read_results(serial)}
    assert len({r["worker"] for r in read_results(out)}) == 2  # both workers took cases


def test_a_boundary_failure_is_explained_like_the_report() -> None:
    """The issue's case: float32 NaN at eta = 0.5 x 2/L, t = 300 (d = 4, wishart2, seed 0)
    is in predict_failure's 'boundary' band: the sweep says so instead of 'unexplained'."""
    from verify.sweep.report import summarize

    rec = {"backend": "numpy", "dtype": "float32", "status": "ok", "outcome": "nan"}
    row = summarize([{**rec, "known_failure": None, "predicted": "boundary"}])["numpy/float32"]
    assert (row["predicted_boundary"], row["unexplained_failures"]) == (1, 0)
    row = summarize([{**rec, "known_failure": None, "predicted": "safe"}])["numpy/float32"]
    assert (row["predicted_boundary"], row["unexplained_failures"]) == (0, 1)


def test_sweep_colours_are_the_reports() -> None:
    import verify.sweep.report as sweep_report
    from verify.outcomes import CLASS_COLORS

    assert sweep_report.CLASS_COLORS is CLASS_COLORS
    assert not hasattr(sweep_report, "_COLORS")
