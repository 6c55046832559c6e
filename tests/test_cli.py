"""The command line people meet: one-line errors naming the culprit, honest help, ``--version``,
``truth`` that echoes what it computed, a main command that never damages committed files.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from verify import __version__
from verify.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]


def _grid(tmp: Path, name: str, text: str) -> str:
    path = tmp / name
    path.write_text(text)
    return str(path)


GRID_TAIL = "[grid]\neta = [0.01]\nt = [10]\n"


def _bad_invocations(tmp: Path) -> list[tuple[list[str], str]]:
    """(argv, a word the one-line message must contain), across every command."""
    afile = tmp / "afile.txt"
    afile.write_text("not a folder")
    empty_dir = tmp / "empty"
    empty_dir.mkdir()
    results = tmp / "no_t.jsonl"
    results.write_text(
        json.dumps(
            {
                "problem": {"kind": "wishart2", "d": 3, "seed": 0},
                "eta": 0.01,
                "dtype": "float64",
                "grad": 1.0,
            }
        )
        + "\n"
    )
    truth = ["truth", "--eta", "0.01", "--t", "5"]
    return [
        # truth
        (["truth", "--eta", "0.01", "--t", "-1"], "--t"),
        (["truth", "--eta", "0.01", "--t", "0"], "t=0"),
        (["truth", "--eta", "0.01", "--t", "2.5"], "--t"),
        (["truth", "--eta", "nan", "--t", "5"], "--eta"),
        (["truth", "--eta", "inf", "--t", "5"], "--eta"),
        (["truth", "--eta", "-1", "--t", "5"], "--eta"),
        (["truth", "--eta", "1/0", "--t", "5"], "--eta"),
        (["truth", "--eta", "abc", "--t", "5"], "--eta"),
        (["truth", "--t", "5"], "--eta"),
        ([*truth, "--d", "0"], "--d"),
        ([*truth, "--d", "-3"], "--d"),
        ([*truth, "--d", "100000"], "--d"),  # needs terabytes: refused before any work
        ([*truth, "--seed", "-1"], "--seed"),
        ([*truth, "--objective", "foo"], "--objective"),
        ([*truth, "--kind", "gaussian"], "--kind"),
        # report
        (["report", "--quick", "--out", str(afile)], "out"),
        (["report", "--quick", "--out", str(afile / "sub")], "out"),
        (["report", "--d", "0"], "--d"),
        (["report", "--seed", "-2"], "--seed"),
        (["report", "--render-only", "--out", str(empty_dir)], "out"),
        (["report", "--backends", "cupy"], "--backends"),
        (["report", "--dtypes", "float8"], "--dtypes"),
        (["report", "--quick", "--full"], "--full"),
        # learned-optimizer
        (["learned-optimizer", "--jobs", "0"], "--jobs"),
        (["learned-optimizer", "--preset", "huge"], "--preset"),
        (["learned-optimizer", "--seed", "x"], "--seed"),
        (["learned-optimizer", "--preset", "tiny", "--mnist", str(tmp / "nope")], "mnist"),
        # sweep
        (["sweep", str(tmp / "missing.toml")], "missing.toml"),
        (["sweep", _grid(tmp, "empty.toml", "")], "grid"),
        (["sweep", _grid(tmp, "syntax.toml", "[grid\n")], "TOML"),
        (["sweep", _grid(tmp, "four.toml", '[[problem]]\nd = "four"\n' + GRID_TAIL)], "d"),
        (
            [
                "sweep",
                _grid(
                    tmp,
                    "negt.toml",
                    "[[problem]]\nd = 4\n" + GRID_TAIL.replace("t = [10]", "t = [-5, 10]"),
                ),
            ],
            "grid.t[0]",
        ),
        (
            [
                "sweep",
                _grid(tmp, "f8.toml", "[[problem]]\nd = 4\n" + GRID_TAIL + 'dtype = ["float8"]\n'),
            ],
            "grid.dtype[0]",
        ),
        (["sweep", "x.toml", "--workers", "-1"], "--workers"),
        (["sweep", "x.toml", "--limit", "0"], "--limit"),
        # check
        (["check", str(tmp / "missing.jsonl")], "missing.jsonl"),
        (["check", str(results)], "'t'"),
        (["check", str(results), "--format", "xml"], "--format"),
        # theorems
        (["theorems", "--seed", "-1"], "--seed"),
        (["theorems", "--d", "0"], "--d"),
        (["theorems", "--quick", "--full"], "--full"),
        # proofs, the top level
        (["proofs", "--bogus"], "--bogus"),
        ([], "COMMAND"),
        (["frobnicate"], "frobnicate"),
    ]


def _exit_code(argv: list[str]) -> int | str | None:
    """main()'s exit status, whether it returns it or raises SystemExit."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


def test_bad_invocations_are_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = _bad_invocations(tmp_path)
    assert len(cases) >= 30
    problems = []
    for argv, culprit in cases:
        code = _exit_code(argv)
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        if code != 2 or len(lines) != 1 or culprit not in lines[0]:
            problems.append(f"{argv}: exit {code}, stderr {err!r}")
        elif "Traceback" in err or not lines[0].startswith("l2l-verify"):
            problems.append(f"{argv}: {err!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "argv",
    [["truth", "--eta", "1/0", "--t", "5"], ["sweep", "missing.toml"], ["proofs", "--x"]],
)
def test_a_real_process_prints_no_traceback(argv: list[str], tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "verify.cli", *argv],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        main(["--debug", "sweep", str(tmp_path / "missing.toml")])


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.strip() == f"l2l-verify {__version__}"


def test_every_option_has_help_and_its_default() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = []
    for name, p in sub.choices.items():
        for action in p._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if not action.help:
                missing.append(f"{name} {action.dest}: no help")
        text = p.format_help()
        if "``" in text or "usage: python -m" in text:
            missing.append(f"{name}: raw markup or a foreign program name in its help")
    assert not missing, missing
    assert "``" not in parser.format_help()
    truth_help = sub.choices["truth"].format_help()
    assert "fraction (1/64)" in truth_help and "hex float" in truth_help
    assert "(default: 20)" in truth_help and "(default: log)" in truth_help


def test_truth_echoes_the_problem_and_the_objective(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["truth", "--eta", "1/64", "--t", "100", "--d", "6", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "Quadratic.random(6, seed=3, kind='wishart')" in out
    assert "eta = 1/64" in out and "x 2/L" in out and "objective = log" in out
    assert main(["truth", "--eta", "0x1p-6", "--t", "100", "--d", "6", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["point"] == {
        "eta": "0x1.0000000000000p-6",
        "eta_over_2_L": data["point"]["eta_over_2_L"],
        "t": 100,
        "objective": "log",
    }
    assert data["problem"]["d"] == 6 and set(data["results"]) == {"F", "dF/deta", "d2F/deta2"}
    assert set(data["results"]["F"]["rounded"]) == {"float16", "bfloat16", "float32", "float64"}


def test_truth_warns_about_large_dimensions(capsys: pytest.CaptureFixture[str]) -> None:
    from verify.cli import _check_size

    _check_size(300)
    err = capsys.readouterr().err
    assert "d = 300" in err and "expect about" in err and "GiB" in err


def test_proofs_writes_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import proofs.__main__ as pm

    target = tmp_path / "README.md"
    monkeypatch.setattr(pm, "README_PATH", target)
    results = pm.run_all()
    monkeypatch.setattr(pm, "run_all", lambda: results)
    assert main(["proofs"]) == 0
    assert not target.exists(), "l2l-verify proofs wrote a file without --write"
    assert "--write" in capsys.readouterr().out
    assert main(["proofs", "--write"]) == 0 and target.is_file()
    assert main(["proofs", "--check"]) == 0


# ------------------------------------------------------------------ the main command
def _fake_report(folder: Path, statuses: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    maps = {name: {"float32": {"status": s}} for name, s in statuses.items()}
    data = {
        "options": {"mode": "default"},
        "sections": {"backprop": {"maps": maps}},
    }
    (folder / "data.json").write_text(json.dumps(data))


def test_a_report_is_never_replaced_with_less(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The rule: a folder holding a report is rewritten only with at least its information."""
    import verify.report as report

    out = tmp_path / "committed"
    _fake_report(out, {"numpy-reverse": "ok", "torch": "ok", "jax": "unavailable"})
    monkeypatch.setattr(report, "_installed", lambda name: name != "torch")
    assert report.losses(out, ["numpy-reverse", "torch"], ["float32"], "default") == [
        "the torch maps (not installed here)"
    ]
    assert report.losses(out, ["numpy-reverse", "torch"], ["float32"], "quick")[0].startswith(
        "its default grid"
    )
    assert report.losses(out, ["torch"], ["float64"], "default") == [
        "the numpy-reverse maps (not selected)",
        "the torch maps (not installed here)",
    ]
    before = (out / "data.json").read_bytes()
    with pytest.raises(SystemExit) as exc:
        main(["report", "--out", str(out)])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "torch maps (not installed here)" in err and "--replace" in err
    assert (out / "data.json").read_bytes() == before
    monkeypatch.setattr(report, "_installed", lambda name: True)
    assert report.losses(out, ["numpy-reverse", "torch"], ["float32"], "default") == []


def test_progress_is_plain_lines_when_not_a_terminal() -> None:
    import io

    from verify.progress import progress

    stream = io.StringIO()
    with progress(0, "regime", stream=stream, lines=4) as bar:  # as the report's sections
        for k in range(1, 101):
            bar(k, total=100)
    text = stream.getvalue()
    assert "\r" not in text and len(text.splitlines()) == 5  # start, then every quarter
    assert text.splitlines()[-1].startswith("regime [" + "#" * 30 + "] 100/100")


def test_findings_are_five_lines_from_the_committed_report() -> None:
    from verify.report import findings

    data = json.loads((ROOT / "reports" / "default" / "data.json").read_text())
    lines = findings(data)
    assert len(lines) == 5
    assert lines[0].startswith("regime:") and lines[4].startswith("theorems:")
    assert "fig1" in lines[3] and "numpy-reverse/float32" in lines[1]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_main_command_leaves_a_clean_clone_clean(tmp_path: Path) -> None:
    """The README's main command (``--quick`` here) in a fresh clone changes no tracked file:
    its default output folder is untracked (reports/latest)."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone)],
        check=True,
        timeout=120,
    )
    env = {**__import__("os").environ, "PYTHONPATH": str(clone)}
    run = subprocess.run(
        [sys.executable, "-m", "verify.cli", "report", "--quick"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert (clone / "reports" / "latest" / "index.html").is_file()
    assert len(run.stdout.strip().splitlines()) == 5  # the findings
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True, check=True
    )
    assert status.stdout == "", f"the main command changed tracked files:\n{status.stdout}"
