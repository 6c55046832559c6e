"""proofs.heavy_ball: the derivation passes, and a wrong claim is caught."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from proofs import heavy_ball


def test_heavy_ball_derivation_passes() -> None:
    result = heavy_ball.check()
    assert result.passed, result.details


@pytest.mark.parametrize(
    ("key", "wrong"),
    [
        ("rate", lambda c: c["rate"] ** 2),
        ("beta_opt", lambda c: c["beta_opt"] / 2),
        ("p_double", lambda c: heavy_ball.r ** heavy_ball.t),
    ],
)
def test_wrong_claims_are_caught(monkeypatch: pytest.MonkeyPatch, key: str, wrong) -> None:
    right = heavy_ball.claim()
    bad = dict(right)
    bad[key] = wrong(right)
    monkeypatch.setattr(heavy_ball, "claim", lambda: MappingProxyType(bad))
    assert not heavy_ball.check().passed
