"""The README's "Check your own meta-gradient" section, run in each of its three forms.

The Python form is a doctest (README.md is collected with ``--doctest-glob``); here the
pytest form runs as a user project against the installed plugin, and the command-line form
runs exactly as printed.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.plugin.test_plugin_user_project import PYPROJECT, _pytest

ROOT = Path(__file__).resolve().parents[1]


def _section() -> str:
    text = (ROOT / "README.md").read_text()
    return text.split("## Check your own meta-gradient", 1)[1].split("\n## ", 1)[0]


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", _section(), flags=re.S)


def test_readme_plugin_form_passes_as_a_user_project(tmp_path: Path) -> None:
    (code,) = _blocks("python")[1:]  # the first python block is the doctest
    root = tmp_path / "readme-user"
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "tests" / "test_readme.py").write_text(code)
    run = _pytest(root, "--hypothesis-seed=0")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout and "l2l-verify meta-gradient accuracy" in run.stdout


def test_readme_plugin_form_is_the_shipped_example() -> None:
    (code,) = _blocks("python")[1:]
    example = (ROOT / "examples" / "test_my_meta_gradient.py").read_text()
    for line in code.splitlines():
        body = line.split("#")[0].strip()
        if body and not body.startswith(("def my_meta_gradient", "from hypothesis")):
            assert body in example, f"README line not in the example file: {line!r}"


def test_readme_command_form_runs_as_printed(tmp_path: Path) -> None:
    (block,) = _blocks("bash")
    commands = [ln.split("#")[0].strip() for ln in block.splitlines() if ln.strip()]
    assert len(commands) == 2
    for cmd in commands:
        argv = shlex.split(cmd.replace("verdicts.jsonl", str(tmp_path / "verdicts.jsonl")))
        assert argv[0] == "l2l-verify"
        run = subprocess.run(
            [sys.executable, "-m", "verify.cli", *argv[1:]],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 1, run.stdout + run.stderr  # the example holds failures
    lines = (tmp_path / "verdicts.jsonl").read_text().splitlines()
    verdicts = [json.loads(ln) for ln in lines]
    assert {v["status"] for v in verdicts} >= {"passed", "failed"}
    assert {v["outcome"] for v in verdicts} >= {"nan", "silently_wrong", "underflow"}
