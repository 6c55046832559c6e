"""Systems under test never import the oracle (STYLE: dependencies flow one way)."""

from __future__ import annotations

import ast
from pathlib import Path

import verify.backprop

BACKPROP = Path(verify.backprop.__file__).resolve().parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def test_backprop_never_imports_truth() -> None:
    files = sorted(BACKPROP.glob("*.py"))
    assert len(files) >= 6
    for path in files:
        bad = {name for name in _imports(path) if "truth" in name.split(".")}
        assert not bad, f"{path.name} imports {bad}"


def test_frameworks_are_imported_lazily() -> None:
    for path in sorted(BACKPROP.glob("*.py")):
        top = {name.split(".")[0] for name in _imports(path)}
        assert not top & {"torch", "jax", "jaxlib"}, f"{path.name} imports a framework eagerly"
