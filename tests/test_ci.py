"""CI runs exactly the test command the README gives a fresh machine."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_ci_runs_the_readme_test_command() -> None:
    test_commands = [c for c in _readme_commands() if "pytest" in c]
    assert len(test_commands) >= 1
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    last = [line for line in ci_lines if line and not line.startswith("#")][-1]
    assert last == test_commands[0], "the last step of .ci/run must be the README test command"


def test_readme_main_job_runs_the_report() -> None:
    assert any(c.endswith("l2l-verify report") for c in _readme_commands())
