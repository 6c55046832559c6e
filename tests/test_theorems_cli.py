"""``l2l-verify theorems``: the theorem table in the terminal (issue 16).

``--json`` prints a list of rows with at least ``claim``, ``verdict``, ``can_fail``; the text
table shows claim, instances, verdict, kind, margin and note; exit 0 without a proven violation
(exit 1 with one: tests/theorems/test_paper_claims.py), 2 on bad input (one line).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from verify.cli import main


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    from verify.theorems_cli import theorem_rows

    return theorem_rows(mode="quick")


def test_json_rows(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["theorems", "--quick", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert isinstance(out, list) and len(out) >= 14
    for r in out:
        assert {"claim", "verdict", "can_fail", "instances", "evidence", "margin"} <= set(r)
        assert r["verdict"] in ("matches", "differs", "inconclusive")
        assert isinstance(r["instances"], int) and r["instances"] >= 1
        assert not r["proven_violation"]
    claims = [r["claim"] for r in out]
    for needed in (
        "Theorem 3 (explosion side)",
        "Theorem 5: eta*_valid = Theta(1/t)",
        "Theorem 6: TbT near-optimal for n >> d",
    ):
        assert needed in claims


def test_text_table(rows: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]) -> None:
    from verify.theorems_cli import _table

    text = _table(rows)
    assert text.splitlines()[0].split()[:4] == ["claim", "N", "verdict", "kind"]
    assert "consistency check" in text and "margin:" in text
    assert "0 proven violations" in text.splitlines()[-1]


def test_explosion_side_decided_everywhere_in_quick_mode(rows: list[dict[str, Any]]) -> None:
    row = next(r for r in rows if r["claim"] == "Theorem 3 (explosion side)")
    assert row["counts"]["undecided"] == 0
    assert row["verdict"] == "matches"


def test_monte_carlo_never_proves_a_violation(rows: list[dict[str, Any]]) -> None:
    # issue 16: quick mode said "2 violated" from small Monte Carlo sizes and an asymptotic
    # limit judged at t = 1000; a statistic is never a proof
    for r in rows:
        if r["evidence"] == "statistic":
            assert not r["proven_violation"]
    limit = next(r for r in rows if r["claim"].startswith("Large-t limit"))
    assert limit["verdict"] != "differs" and not limit["can_fail"]


@pytest.mark.parametrize("argv", [["--d", "0"], ["--seed", "-1"], ["--quick", "--full"]])
def test_bad_input_is_one_line_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["theorems", *argv])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("l2l-verify theorems")
