"""The main job: ``l2l-verify report`` is reproducible and the committed copy is fresh."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from verify.cli import main

COMMITTED = Path(__file__).resolve().parents[1] / "reports" / "default"


def _without_precision(obj: Any) -> Any:
    """The report's numbers minus ``prec_bits`` (engine tuning may change the precision used,
    never the certified values, which are rounded once from proven enclosures)."""
    if isinstance(obj, dict):
        return {k: _without_precision(v) for k, v in obj.items() if k != "prec_bits"}
    if isinstance(obj, list):
        return [_without_precision(v) for v in obj]
    return obj


def test_report_is_byte_identical_and_committed_copy_is_fresh(tmp_path: Path) -> None:
    assert main(["report", "--out", str(tmp_path / "a")]) == 0
    assert main(["report", "--out", str(tmp_path / "b")]) == 0
    a = (tmp_path / "a" / "data.json").read_bytes()
    assert a == (tmp_path / "b" / "data.json").read_bytes()
    fresh = _without_precision(json.loads(a))
    committed = _without_precision(json.loads((COMMITTED / "data.json").read_text()))
    assert fresh == committed, "reports/default is stale: run `l2l-verify report`"
    assert (tmp_path / "a" / "report.md").read_text() == (COMMITTED / "report.md").read_text()


def test_truth_command(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["truth", "--eta", "1/64", "--t", "100", "--d", "4"]) == 0
    out = capsys.readouterr().out
    assert "dF/deta" in out and "float16=" in out
