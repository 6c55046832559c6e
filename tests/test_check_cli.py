"""``l2l-verify check``: results from any framework in, the one judge's verdicts out.

Exit status 0 / 1 / 2 (all pass / some fail / bad input), the example file's verdicts, strict
JSON output, atomic ``--out``, and one stderr line naming the line and field for every kind of
bad input. Problems are small (d <= 3 except the shipped example) so the file runs in seconds.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from verify import Quadratic
from verify.backprop import meta_gradient
from verify.check_cli import _exact_hex, _exact_text
from verify.cli import main
from verify.floats import ScaledRational, round_fraction
from verify.judge import check_meta_gradient
from verify.sweep.grid import build_problem, parse_problem

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "results.jsonl"
PREFIX = "l2l-verify check: error: "

SMALL = {"kind": "wishart2", "d": 3, "seed": 0}
#: A point inside the known-failure region "backprop-exponent-range" (numpy, float32, log):
#: eta = float32(2 / (L + alpha)) on SMALL built exact in float32, t = 1000.
REGION_ETA = "0x1.c098bcp-3"
REGION_T = 1000


def _hex(x: Any) -> str:
    f = float(x)
    return f.hex() if math.isfinite(f) else repr(f)


def _backend_line(dtype: str, objective: str, eta: float, t: int) -> dict[str, Any]:
    """A result line holding the numpy backend's own (benign-point, accurate) output."""
    q = build_problem(parse_problem(SMALL, "problem"), [dtype])
    r = meta_gradient(q, eta, t, dtype=dtype, backend="numpy", objective=objective)
    return {
        "problem": SMALL,
        "dtype": dtype,
        "objective": objective,
        "eta": float(eta).hex(),
        "t": t,
        "grad": _hex(r.grad),
        "value": _hex(r.value),
        "source": "numpy",
    }


def _explicit_line() -> dict[str, Any]:
    """Explicit float32 data with b != 0, written as hex, JSON numbers and decimal strings."""
    q = Quadratic([[2.0, 0.5], [0.5, 1.0]], [0.75, -0.5], b=[0.25, 0.0])
    r = meta_gradient(q, 0.25, 5, dtype="float32", backend="numpy", objective="naive")
    return {
        "H": [["0x1p+1", "0x1p-1"], ["0x1p-1", 1]],
        "w0": [0.75, "-0.5"],
        "b": ["0x1p-2", 0],
        "dtype": "float32",
        "eta": "1/4",
        "t": 5,
        "objective": "naive",
        "grad": _hex(r.grad),
        "value": _hex(r.value),
    }


def _write(tmp_path: Path, lines: list[Any], name: str = "results.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["check", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _strict_json(text: str) -> Any:
    def refuse(token: str) -> Any:
        raise AssertionError(f"non-strict JSON token {token}")

    return json.loads(text, parse_constant=refuse)


# --------------------------------------------------------------------------- verdicts
def test_example_file_fails_with_every_kind_of_failure(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, str(EXAMPLE), "--format", "json")
    assert code == 1
    got = {r["line"]: (r["status"], r["outcome"]) for r in map(_strict_json, out.splitlines())}
    assert got == {
        4: ("passed", "accurate"),
        5: ("passed", "accurate"),
        6: ("failed", "nan"),
        7: ("failed", "silently_wrong"),
        8: ("failed", "underflow"),
        9: ("passed", "accurate"),
    }
    assert err.strip().endswith(
        "6 lines: 3 passed, 3 failed, 0 not judged, 0 expected failures, 0 xpass"
    )


def test_example_table_reports_each_failure(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(EXAMPLE))
    assert code == 1
    table = out.split("\n\n")[0].splitlines()
    assert table[0].split()[:3] == ["#", "status", "outcome"]
    assert [row.split()[1:3] for row in table[1:]] == [
        ["passed", "accurate"],
        ["passed", "accurate"],
        ["failed", "nan"],
        ["failed", "silently_wrong"],
        ["failed", "underflow"],
        ["passed", "accurate"],
    ]
    for i, line in ((3, 6), (4, 7), (5, 8)):
        assert f"--- #{i} ({EXAMPLE} line {line}) ---\nFAILED: " in out
    assert out.count("FAILED: ") == 3
    assert out.rstrip().splitlines()[-1] == (
        "check: 6 lines: 3 passed, 3 failed, 0 not judged, 0 expected failures, 0 xpass"
    )


def test_console_module_runs_the_example() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "verify.cli", "check", str(EXAMPLE), "--format", "json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 1, result.stderr
    assert len(result.stdout.splitlines()) == 6


def test_accurate_results_exit_0_and_json_matches_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    eta = 2.0**-6
    path = _write(
        tmp_path,
        [
            "# accurate results from the numpy backend",
            _backend_line("float64", "log", eta, 10),
            "",
            _backend_line("float32", "naive", eta, 20),
            _explicit_line(),
        ],
    )
    out_path = tmp_path / "verdicts.jsonl"
    code, out, err = _run(capsys, str(path), "--format", "json", "--out", str(out_path))
    assert code == 0, out + err
    records = [_strict_json(x) for x in out.splitlines()]
    assert [r["line"] for r in records] == [2, 4, 5]
    assert all(r["status"] == "passed" and r["passed"] for r in records)
    assert out_path.read_text() == out
    r = records[2]
    assert (r["eta"], r["t"], r["objective"], r["dtype"], r["like"]) == (
        "0x1.0000000000000p-2",
        5,
        "naive",
        "float32",
        "numpy",
    )
    # the enclosure endpoints are exact: both round to the reported truth in float32
    lo, hi = (_exact_hex(r[k], "truth") for k in ("truth_lower", "truth_upper"))
    assert isinstance(lo, Fraction) and isinstance(hi, Fraction) and lo <= hi
    rounded = {round_fraction(lo, "float32"), round_fraction(hi, "float32")}
    assert rounded == {float.fromhex(r["truth_rounded"])}


def test_known_failure_region_and_stale_region(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    q = build_problem(parse_problem(SMALL, "problem"), ["float32"])
    eta = float.fromhex(REGION_ETA)
    truth = check_meta_gradient(q, eta, REGION_T, float("nan"), dtype="float32").truth_rounded
    point = {"problem": SMALL, "dtype": "float32", "eta": REGION_ETA, "t": REGION_T}
    path = _write(
        tmp_path,
        [
            {**point, "grad": "nan", "source": "plain backprop"},
            {**point, "grad": truth.hex(), "source": "rescaled"},
            {**point, "grad": "nan", "known_failures": False},
        ],
    )
    code, out, err = _run(capsys, str(path), "--format", "json")
    assert code == 1
    records = [_strict_json(x) for x in out.splitlines()]
    assert [(r["status"], r["passed"]) for r in records] == [
        ("expected_failure", True),
        ("xpass", False),
        ("failed", False),
    ]
    assert records[0]["known_failure"] == "backprop-exponent-range"
    assert records[0]["objective"] == "log"  # the default, echoed
    assert "1 failed, 0 not judged, 1 expected failures, 1 xpass" in err


def test_progress_above_twenty_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = {"problem": SMALL, "dtype": "float64", "eta": "1/64", "t": 1, "grad": 0.5}
    path = _write(tmp_path, [line] * 21)
    code, _, err = _run(capsys, str(path))
    assert code == 1
    last = err.strip().splitlines()[-1]  # plain lines (stderr is not a terminal here)
    assert last.startswith("check: judged [") and "] 21/21 lines | " in last, err
    code, _, err = _run(capsys, str(path), "--quiet")
    assert err == ""


def test_signed_zero_and_exact_hex_round_trip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(
        tmp_path,
        [{"problem": SMALL, "dtype": "float64", "eta": 0, "t": 3, "grad": "-0x0p+0"}],
    )
    _, out, _ = _run(capsys, str(path), "--format", "json")
    assert _strict_json(out)["grad"] == "-0x0.0p+0"
    for q in (
        Fraction(3, 8),
        -Fraction(1, 2**1100),
        Fraction(2**400 + 1, 2**7),
        Fraction(float.fromhex("0x1.fffffffffffffp+1023")),
    ):
        assert _exact_hex(_exact_text(ScaledRational(q)), "q") == q
    assert _exact_text(ScaledRational(Fraction(1, 3))) == "1/3"
    # beyond what a Fraction may expand to: the power of two stays apart
    huge = ScaledRational(Fraction(1, 3), -(2 * 10**12))
    assert _exact_text(huge) == f"1/3*2**{-(2 * 10**12)}"
    assert _exact_text(ScaledRational(3, -(2 * 10**12))) == f"0x1.8p{-(2 * 10**12) + 1:+d}"


# --------------------------------------------------------------------------- bad input
GOOD = {"problem": SMALL, "dtype": "float64", "eta": "1/64", "t": 10, "grad": -1.0}


def _without(key: str) -> dict[str, Any]:
    return {k: v for k, v in GOOD.items() if k != key}


F32_H = {
    "H": [[1.0, 0.1], [0.1, 1.0]],
    "w0": [1.0, 0.0],
    "dtype": "float32",
    "eta": "1/64",
    "t": 10,
    "grad": -1.0,
}

BAD_LINES: list[tuple[str, Any, str | None]] = [
    ("missing t", _without("t"), "'t': missing"),
    ("grad a list", {**GOOD, "grad": [1.0]}, "'grad'"),
    ("grad null", {**GOOD, "grad": None}, "'grad'"),
    ("dtype float8", {**GOOD, "dtype": "float8"}, "'dtype'"),
    ("unknown key", {**GOOD, "lr": 0.1}, "'lr': unknown key"),
    ("invalid JSON", '{"t": 10,', "invalid JSON"),
    ("not an object", "[1, 2]", "must be a JSON object"),
    ("H entry not float32", F32_H, "'H[0][1]'"),
    ("eta 1/0", {**GOOD, "eta": "1/0"}, "'eta'"),
    ("eta negative", {**GOOD, "eta": -0.5}, "'eta'"),
    ("t negative", {**GOOD, "t": -1}, "'t'"),
    ("t not an integer", {**GOOD, "t": 10.0}, "'t'"),
    ("grad not float32", {**GOOD, "dtype": "float32", "grad": "0.1"}, "'grad'"),
    ("grad hex beyond float64", {**GOOD, "grad": "0x1.00000000000001p0"}, "'grad'"),
    (
        "grad JSON overflow",
        '{"problem": {"d": 3}, "dtype": "float64", "eta": 0.1, "t": 1, "grad": 1e400}',
        "'grad'",
    ),
    ("value a string", {**GOOD, "value": "loss"}, "'value'"),
    ("duplicate key", '{"t": 1, "t": 2}', "'t': given twice"),
    ("no problem", _without("problem"), "'problem': missing"),
    ("problem and H", {**GOOD, "H": [[1.0]], "w0": [1.0]}, "'H'"),
    ("problem.d", {**GOOD, "problem": {"kind": "wishart2", "d": 0}}, "'problem.d'"),
    ("H not symmetric", {**F32_H, "H": [[1.0, 0.5], [0.25, 1.0]]}, "'H'"),
    ("H ragged", {**F32_H, "H": [[1.0, 0.5], [0.5]]}, "'H[1]'"),
    ("w0 missing", {k: v for k, v in F32_H.items() if k != "w0"}, "'w0': missing"),
    ("exact_in narrower", {**GOOD, "dtype": "float32", "exact_in": ["float64"]}, "'exact_in'"),
    ("like unknown", {**GOOD, "like": "tensorflow"}, "'like'"),
    ("known_failures", {**GOOD, "known_failures": "yes"}, "'known_failures'"),
    ("objective", {**GOOD, "objective": "mse"}, "'objective'"),
    # f(w_1) = 0 exactly: the log objective has no value there (judged phase)
    (
        "zero loss",
        {"H": [[1.0]], "w0": [1.0], "dtype": "float64", "eta": 1, "t": 1, "grad": 0.0},
        "outside the log objective's domain",
    ),
]


@pytest.mark.parametrize(
    ("bad", "expected"), [(b, e) for _, b, e in BAD_LINES], ids=[n for n, _, _ in BAD_LINES]
)
def test_bad_line_is_one_stderr_line_naming_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: Any, expected: str
) -> None:
    # the bad line is line 3 (after a comment and a good line); nothing may be printed
    path = _write(tmp_path, ["# header", GOOD, bad])
    out_path = tmp_path / "verdicts.jsonl"
    out_path.write_text("previous\n")
    code, out, err = _run(capsys, str(path), "--out", str(out_path))
    assert code == 2
    assert out == ""
    assert out_path.read_text() == "previous\n"
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{PREFIX}{path} line 3: ")
    assert expected in lines[0]
    if expected.startswith("'"):
        assert f"line 3: field {expected.split(':')[0]}" in lines[0]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no such file"),
        ("", "no result lines"),
        ("# only a comment\n\n", "no result lines"),
    ],
    ids=["missing file", "empty file", "comments only"],
)
def test_bad_file_is_one_stderr_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, expected: str
) -> None:
    path = tmp_path / "results.jsonl"
    if content is not None:
        path.write_text(content)
    code, out, err = _run(capsys, str(path))
    assert code == 2
    assert out == ""
    assert err == f"{PREFIX}{path}: {expected}" + err.split(expected, 1)[1]
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize("where", ["directory", "no parent", "the input"])
def test_out_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str) -> None:
    path = _write(tmp_path, [GOOD])
    out = {
        "directory": tmp_path,
        "no parent": tmp_path / "missing" / "v.jsonl",
        "the input": path,
    }[where]
    code, stdout, err = _run(capsys, str(path), "--out", str(out))
    assert code == 2
    assert stdout == ""
    assert len(err.splitlines()) == 1 and err.startswith(f"{PREFIX}--out {out}: ")
    assert path.read_text() == json.dumps(GOOD) + "\n"


def test_sweep_canonical_spec_is_the_same_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a sweep record's problem (eigenvalues as hex strings) names the same H as the raw spec
    raw = {"kind": "spectrum", "eigenvalues": [1.0, 4.0], "seed": 1}
    point = {"dtype": "float32", "eta": "1/8", "t": 3, "grad": -1.0}
    path = _write(
        tmp_path, [{**point, "problem": raw}, {**point, "problem": parse_problem(raw, "problem")}]
    )
    _, out, _ = _run(capsys, str(path), "--format", "json")
    first, second = (_strict_json(x) for x in out.splitlines())
    for key in ("status", "outcome", "truth_lower", "truth_upper"):
        assert first[key] == second[key]
