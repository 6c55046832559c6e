"""The one outcome registry (verify.outcomes) against the judge's classes and reports/README.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from verify.compare import Outcome as JudgeOutcome
from verify.errors import UnknownOptionError
from verify.outcomes import CLASS_COLORS, OUTCOME_NAMES, OUTCOMES, markdown_table, outcome

ROOT = Path(__file__).resolve().parents[1]


def test_registry_names_are_the_judges_classes_in_order() -> None:
    assert OUTCOME_NAMES == tuple(o.value for o in JudgeOutcome)
    assert tuple(CLASS_COLORS) == OUTCOME_NAMES


def test_every_class_has_a_distinct_colour_and_a_meaning() -> None:
    colours = [o.colour for o in OUTCOMES]
    assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in colours)
    assert len(set(colours)) == len(colours)
    assert all(o.meaning for o in OUTCOMES)


def test_lookup_by_name_and_unknown_name() -> None:
    assert outcome("overflow") is OUTCOMES[OUTCOME_NAMES.index("overflow")]
    with pytest.raises(UnknownOptionError, match="outcome"):
        outcome("fine")


def test_reports_readme_table_is_the_registry() -> None:
    text = (ROOT / "reports" / "README.md").read_text()
    found = re.search(
        r"<!-- outcome-table: begin[^>]*-->\n(.*?)<!-- outcome-table: end -->", text, re.S
    )
    assert found is not None, "reports/README.md lost its generated outcome table"
    assert found.group(1) == markdown_table(), (
        "reports/README.md's outcome table differs from verify.outcomes: paste "
        "verify.outcomes.markdown_table() between the markers"
    )
