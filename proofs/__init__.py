"""Executable SymPy derivations of the paper's closed forms and bounds.

One module per claim; each defines ``derive()`` (the expression obtained from the GD recurrence),
``claim()`` (the stated closed form) and ``check()`` (a :class:`ProofResult`).  Modules that
define all three are discovered automatically by :func:`discover`; ``python -m proofs`` runs
them and regenerates ``proofs/README.md``.  :mod:`proofs.oracles` turns the derived expressions
into numeric reference functions.
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from types import ModuleType

from proofs._core import ProofResult, ProofStep

__all__ = ["ProofResult", "ProofStep", "discover", "run_all"]


def discover() -> list[ModuleType]:
    """Import every public submodule that defines callable ``derive``, ``claim`` and ``check``.

    Returns
    -------
    list of module
        Sorted by module name.  Private modules (leading underscore) are skipped.

    Examples
    --------
    >>> "naive_meta_gradient" in [m.__name__.rsplit(".", 1)[-1] for m in discover()]
    True
    """
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if all(callable(getattr(module, attr, None)) for attr in ("derive", "claim", "check")):
            found.append(module)
    return found


def run_all() -> list[tuple[ProofResult, float]]:
    """Run ``check()`` of every discovered derivation.

    Returns
    -------
    list of (ProofResult, float)
        Each result with its wall time in seconds.
    """
    out = []
    for module in discover():
        start = time.perf_counter()
        result = module.check()
        out.append((result, time.perf_counter() - start))
    return out
