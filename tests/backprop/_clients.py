"""Shared by the client-library tests: import what a test needs, or skip -- or fail under
``L2L_REQUIRE_CLIENTS=1`` (CI sets it), as the browser test does with its browser."""

from __future__ import annotations

import importlib
import os
import warnings

import pytest


def require_modules(*modules: str) -> None:
    """Import each module (its own DeprecationWarnings ignored: not ours) or skip/fail."""
    for module in modules:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                importlib.import_module(module)
        except ImportError as exc:
            reason = f"{module} is not installed (pip install -e '.[clients]'): {exc}"
            if os.environ.get("L2L_REQUIRE_CLIENTS") == "1":
                pytest.fail(f"L2L_REQUIRE_CLIENTS=1 but {reason}")
            pytest.skip(reason)
