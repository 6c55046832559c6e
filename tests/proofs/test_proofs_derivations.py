"""Run every derivation of :mod:`proofs`, check that wrong claims are caught, and that the
generated README is current."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from collections.abc import Mapping
from types import ModuleType

import pytest
import sympy as sp

import proofs
from proofs import ProofResult
from proofs import __main__ as cli

MODULES: dict[str, ModuleType] = {m.__name__.rsplit(".", 1)[-1]: m for m in proofs.discover()}

#: Claims the issue requires; discovery may find more.
REQUIRED = {
    "gd_iterate",
    "gd_loss",
    "naive_meta_gradient",
    "log_meta_gradient",
    "theorem3_bounds",
    "theorem4_bound",
    "stable_meta_gradient",
    "adjoint_recurrence",
    "large_t_limits",
    "heavy_ball",
}


@pytest.fixture(scope="module")
def timed_results() -> list[tuple[ProofResult, float]]:
    return proofs.run_all()


@pytest.fixture(scope="module")
def results(timed_results: list[tuple[ProofResult, float]]) -> dict[str, ProofResult]:
    return {r.name: r for r, _ in timed_results}


def test_discovery_finds_every_required_claim() -> None:
    assert set(MODULES) >= REQUIRED


@pytest.mark.parametrize("name", sorted(MODULES))
def test_derivation_passes(name: str, results: dict[str, ProofResult]) -> None:
    result = results[name]
    assert result.passed, f"{name} failed:\n{result.details}"
    assert result.claim_latex and result.assumptions and result.method
    assert all(step.passed for step in result.steps)


def _flipped(module: ModuleType, key: str) -> object:
    original = module.claim

    def claim() -> Mapping[str, sp.Expr]:
        out = dict(original())
        out[key] = -out[key]
        return out

    return claim


def _keys(name: str) -> list[str]:
    return list(MODULES[name].claim())


@pytest.mark.parametrize("name", sorted(MODULES))
def test_sign_flipped_claim_fails(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    module = MODULES[name]
    key = _keys(name)[0]
    monkeypatch.setattr(module, "claim", _flipped(module, key))
    assert module.check().passed is False, f"{name}: flipping {key!r} went unnoticed"


#: Lower bounds of a positive quantity stay *true* when negated (they just get weaker), so a
#: sign flip is not an error there; for these keys the mutation is "claim a 100x stronger
#: bound" (the bounds are loose).
NEGATION_IS_STILL_TRUE = {
    ("adjoint_recurrence", "loss_lower"),
    ("adjoint_recurrence", "adjoint_lower"),
}


@pytest.mark.slow
@pytest.mark.parametrize(("name", "key"), [(n, k) for n in sorted(MODULES) for k in _keys(n)[1:]])
def test_every_sign_flipped_claim_fails(
    name: str, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = MODULES[name]
    if (name, key) in NEGATION_IS_STILL_TRUE:
        original = module.claim

        def stronger() -> Mapping[str, sp.Expr]:
            out = dict(original())
            out[key] = 100 * out[key]
            return out

        monkeypatch.setattr(module, "claim", stronger)
    else:
        monkeypatch.setattr(module, "claim", _flipped(module, key))
    assert module.check().passed is False, f"{name}: mutating {key!r} went unnoticed"


def test_generated_readme_is_current(results: dict[str, ProofResult]) -> None:
    expected = cli.render_readme([results[n] for n in sorted(results)])
    current = cli.README_PATH.read_text(encoding="utf-8")
    assert current == expected, "proofs/README.md is stale: run `python -m proofs --write`"


def test_cli_check_mode(
    timed_results: list[tuple[ProofResult, float]],
    tmp_path: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(cli, "run_all", lambda: timed_results)
    assert cli.main(["--check"]) == 0
    stale = tmp_path / "README.md"  # type: ignore[operator]
    stale.write_text("stale\n", encoding="utf-8")
    monkeypatch.setattr(cli, "README_PATH", stale)
    assert cli.main(["--check"]) == 1
    assert "stale" in capsys.readouterr().out
    assert cli.main([]) == 0  # prints, writes nothing: still stale
    assert stale.read_text(encoding="utf-8") == "stale\n"
    assert cli.main(["--write"]) == 0
    assert cli.main(["--check"]) == 0


def _proofs_modules() -> list[ModuleType]:
    names = [m.name for m in pkgutil.iter_modules(proofs.__path__) if m.name != "__main__"]
    return [proofs, *(importlib.import_module(f"proofs.{n}") for n in sorted(names))]


@pytest.mark.parametrize("module", _proofs_modules(), ids=lambda m: m.__name__)
def test_docstring_examples(module: ModuleType) -> None:
    # proofs/ is outside pytest's testpaths, so its doctests are run from here
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert failures == 0
