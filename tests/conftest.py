"""Shared test configuration: Hypothesis profiles and the precision-leak guard.

Profiles (select with ``--hypothesis-profile=NAME``):

* ``dev`` (default): quick, randomized, local example database.
* ``ci``: derandomized, bounded, no database -- what CI and the README command run.
* ``thorough``: many examples, for deep local runs.
"""

from __future__ import annotations

from collections.abc import Iterator

import mpmath
import pytest
from flint import ctx
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=25, deadline=None)
settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("dev")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect-by-skip ``slow`` and ``paper_scale`` tests unless a ``-m`` expression is given."""
    if config.option.markexpr:
        return
    skip = pytest.mark.skip(reason="deeper check: select with -m slow / -m paper_scale")
    for item in items:
        if "slow" in item.keywords or "paper_scale" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _no_precision_leak() -> Iterator[None]:
    """Fail a test that leaves the global mpmath or flint precision changed (STYLE habit 2)."""
    mp_before, flint_before = mpmath.mp.prec, ctx.prec
    yield
    assert mpmath.mp.prec == mp_before, (
        f"test leaked mpmath.mp.prec={mpmath.mp.prec} (was {mp_before})"
    )
    assert ctx.prec == flint_before, f"test leaked flint ctx.prec={ctx.prec} (was {flint_before})"
