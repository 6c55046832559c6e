"""The layers of ``verify/`` only import downward (STYLE.md "Architecture", README "Where
things live").

The contracts live in pyproject.toml (``[tool.importlinter]``) and are checked by
import-linter, the maintained tool for this, not by a hand-written import scanner:

* ``layers``: errors/cliargs/progress -> floats -> claims/outcomes -> certified -> problems ->
  validation -> objectives -> truth | backprop -> compare | known_failures -> judge -> paper ->
  audits -> report | sweep | plugin | strategies -> cli;
* ``acyclic_siblings``: no import cycle between the modules or packages of any package in verify;
* the wings: ``verify.learned`` uses only the bottom layers, ``proofs`` imports nothing of
  verify, and the systems under test (``verify.backprop``) never import the oracle
  (``verify.truth``), not even indirectly.

A broken contract fails with import-linter's own report: the importing line and the chain.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import verify.backprop

ROOT = Path(__file__).resolve().parents[1]
BACKPROP = Path(verify.backprop.__file__).resolve().parent
CONTRACTS = ("layers", "no-cycles", "learned-wing", "proofs-wing", "backprop-never-truth")


def _lint_imports(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("lint-imports")
    if exe is None:  # pragma: no cover - the test extra installs import-linter
        pytest.fail("lint-imports is not installed: pip install -e '.[test]' (import-linter)")
    return subprocess.run(
        [exe, "--no-cache", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_import_contracts_are_kept() -> None:
    run = _lint_imports()
    assert run.returncode == 0, run.stdout + run.stderr
    # every contract named here is actually checked (a renamed id would otherwise pass silently)
    for line in ("Contracts: 5 kept, 0 broken",):
        assert line in run.stdout, run.stdout


@pytest.mark.parametrize("contract", CONTRACTS)
def test_each_contract_is_configured(contract: str) -> None:
    run = _lint_imports("--contract", contract)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 kept, 0 broken" in run.stdout, run.stdout


def test_a_broken_layer_is_caught(tmp_path: Path) -> None:
    """The contract can fail: a copy of the package whose problems module imports the oracle
    (the cycle this layout removed) is reported as broken."""
    pkg = tmp_path / "verify"
    shutil.copytree(ROOT / "verify", pkg, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(
        ROOT / "proofs", tmp_path / "proofs", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    problems = pkg / "problems.py"
    problems.write_text(problems.read_text() + "\nfrom .truth import engine as _engine  # noqa\n")
    exe = shutil.which("lint-imports")
    assert exe is not None
    run = subprocess.run(
        [exe, "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(tmp_path), "PATH": str(Path(sys.executable).parent)},
    )
    assert run.returncode != 0, run.stdout
    assert "verify.problems is not allowed to import verify.truth" in run.stdout, run.stdout


def _absolute_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_frameworks_are_imported_lazily() -> None:
    """No file of verify/backprop has an import statement for a framework (torch, jax), at any
    depth: frameworks are loaded through ``optional_import`` when a backend runs, so importing
    the package works, and stays fast, without them."""
    files = sorted(BACKPROP.glob("*.py"))
    assert len(files) >= 6
    for path in files:
        top = {name.split(".")[0] for name in _absolute_imports(path)}
        assert not top & {"torch", "jax", "jaxlib"}, f"{path.name} imports a framework eagerly"
