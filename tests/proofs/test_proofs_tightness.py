"""Bounds checked for tightness: each bound the derivations show attained is checked to be an
equality there, so replacing it by a weaker claim that is still true fails ``check()``.

For every (module, claim key) with a tightness step, each weaker-but-true replacement below
must fail that step (cheap: only the module's ``tightness()`` runs), and -- the full
``check()`` -- must fail while every step that is not a tightness step still passes (so the
weaker claim is indeed still *true* on the grid, and only tightness catches it). The full
check of ``adjoint_recurrence`` takes several seconds (symbolic literal sweeps), so those cases
run under ``-m slow``.

Bounds that are not tight (Theorem 3's lower bound, Theorem 4's bounds -- "very loose", paper
notes §4.3 -- and the adjoint magnitude bounds) have no tightness step; their docstrings say why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import ModuleType

import pytest
import sympy as sp

from proofs import _symbols as S
from proofs import adjoint_recurrence, theorem3_bounds

Weaken = Callable[[sp.Expr], sp.Expr]
t, L, a, rho = S.t, S.L, S.alpha, S.rho

#: (module, key, label, weaker): each replacement is >= the claim for an upper bound (<= for a
#: lower bound) everywhere on the stated domain, so it is still true.
WEAKER: list[tuple[ModuleType, str, str, Weaken]] = [
    (theorem3_bounds, "upper_bound", "x 2", lambda e: 2 * e),
    (
        theorem3_bounds,
        "upper_bound",
        "lambda_i^2 -> lambda_i^2 + alpha^2",
        lambda e: e.replace(S.lam[S.i] ** 2, S.lam[S.i] ** 2 + a**2),
    ),
    (theorem3_bounds, "geometric_upper_bound", "x 2", lambda e: 2 * e),
    (
        theorem3_bounds,
        "geometric_upper_bound",
        "L^2 -> L^2 + alpha^2",
        lambda e: e * (L**2 + a**2) / L**2,
    ),
    (adjoint_recurrence, "loss_upper", "x 2", lambda e: 2 * e),
    (adjoint_recurrence, "loss_upper", "L -> L + alpha", lambda e: e * (L + a) / L),
    (adjoint_recurrence, "loss_lower", "/ 2", lambda e: e / 2),
    (adjoint_recurrence, "loss_lower", "alpha -> alpha^2 / L", lambda e: e * a / L),
]

#: Steps other than the tightness steps that already catch a change of the claim.
ALSO_PINNED: dict[tuple[str, str], set[str]] = {
    ("theorem3_bounds", "upper_bound"): {
        "|summand of F'| equals the summand of the upper bound",
        "t sum c^2 lambda^2 |z|^(2t-1) <= t L^2 rho^(2t-1) (sum c^2 = 1)",
    },
}

TIGHT_KEYS = {
    "theorem3_bounds": ("upper_bound", "geometric_upper_bound"),
    "adjoint_recurrence": ("loss_upper", "loss_lower"),
}


def _name(m: ModuleType) -> str:
    return m.__name__.rsplit(".", 1)[-1]


def _replaced(module: ModuleType, key: str, weaken: Weaken) -> dict[str, sp.Expr]:
    out = dict(module.claim())
    out[key] = weaken(out[key])
    return out


def _ids() -> list[str]:
    return [f"{_name(m)}-{k}-{label}" for m, k, label, _ in WEAKER]


@pytest.mark.parametrize("module", [theorem3_bounds, adjoint_recurrence], ids=_name)
def test_tightness_steps_pass_on_the_stated_claims(module: ModuleType) -> None:
    steps = module.tightness(module.claim())
    assert len(steps) == len(TIGHT_KEYS[_name(module)])
    assert all(s.passed for s in steps), [s.detail for s in steps if not s.passed]
    assert all(s.name.startswith("tight:") for s in steps)


@pytest.mark.parametrize(("module", "key", "label", "weaken"), WEAKER, ids=_ids())
def test_a_weaker_true_claim_fails_its_tightness_step(
    module: ModuleType, key: str, label: str, weaken: Weaken
) -> None:
    steps = module.tightness(_replaced(module, key, weaken))
    index = TIGHT_KEYS[_name(module)].index(key)
    assert not steps[index].passed, f"{_name(module)}: {key} {label} went unnoticed"
    others = [s for j, s in enumerate(steps) if j != index]
    assert all(s.passed for s in others)  # each step pins its own key


def _full_check(module: ModuleType, key: str, weaken: Weaken, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    replaced = _replaced(module, key, weaken)

    def claim() -> Mapping[str, sp.Expr]:
        return replaced

    monkeypatch.setattr(module, "claim", claim)
    result = module.check()
    assert result.passed is False
    failing = [s.name for s in result.steps if not s.passed]
    return failing


_CHEAP = [w for w in WEAKER if w[0] is theorem3_bounds and w[1] == "geometric_upper_bound"]
_SLOW = [w for w in WEAKER if w not in _CHEAP]


@pytest.mark.parametrize(
    ("module", "key", "label", "weaken"),
    [
        *_CHEAP,
        *(pytest.param(*w, marks=pytest.mark.slow) for w in _SLOW),
    ],
    ids=[f"{_name(m)}-{k}-{lab}" for m, k, lab, _ in [*_CHEAP, *_SLOW]],
)
def test_full_check_fails_and_only_for_tightness(
    module: ModuleType, key: str, label: str, weaken: Weaken, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The weaker claim fails check(); every failing step is a tightness step, except the steps
    that already pin Theorem 3's ``upper_bound`` (its summands are a symbolic identity, and it is
    the middle term of the chain |F'| <= upper_bound <= geometric_upper_bound)."""
    failing = _full_check(module, key, weaken, monkeypatch)
    untight = {n for n in failing if not n.startswith("tight:")}
    assert untight <= ALSO_PINNED.get((_name(module), key), set()), (
        f"{key} {label} is not still true on the grid: {untight}"
    )
    assert any(n.startswith("tight:") for n in failing)
