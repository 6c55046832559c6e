"""The README example, run as a user runs it: a separate project that depends on l2l-verify.

The temporary project has its own ``pyproject.toml`` (depending on the installed
``l2l-verify``, warnings as errors, strict markers) and runs ``python -m pytest`` in its own
directory, so nothing of this repository's configuration (conftest, profiles) applies: the
fixtures, marker, options and summary come from the installed ``pytest11`` entry point.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "test_my_meta_gradient.py"

PYPROJECT = """
[project]
name = "my-optimizer"
version = "0.0.1"
dependencies = ["l2l-verify"]

[tool.pytest.ini_options]
addopts = "--strict-markers -p no:cacheprovider"
filterwarnings = ["error"]
xfail_strict = true
"""

# a point in the registered region 'backprop-exponent-range' (float32 log backprop, f(w_t)
# underflows at t = 1000) and a plain test that uses nothing of the plugin
EXTRA_TESTS = """
import numpy as np
import pytest

from verify import Quadratic
from verify.backprop import meta_gradient


def _point():
    base = Quadratic.random(10, seed=4, kind="wishart2")
    H, w0 = base.H.astype(np.float32).astype(float), base.w0.astype(np.float32).astype(float)
    q = Quadratic((H + H.T) / 2, w0)
    return q, float(np.float32(2 / (q.L + q.alpha)))


@pytest.mark.meta_gradient(backends=["numpy"], dtypes=["float32"])
def test_known_region(l2l_backend, l2l_dtype, l2l_check):
    q, eta = _point()
    l2l_check.result(l2l_backend(q, eta, 1000, dtype=l2l_dtype))


@pytest.mark.meta_gradient(dtypes=["float32"])
def test_stale_region_is_noticed(l2l_dtype, l2l_check):
    q, eta = _point()
    good = meta_gradient(q, eta, 1000, dtype=l2l_dtype, backend="stable").grad
    l2l_check(q, eta, 1000, good, dtype=l2l_dtype)   # judged like plain numpy backprop
"""

PLAIN_TEST = """
def test_plain():
    assert 1 + 1 == 2
"""


def _project(root: Path) -> Path:
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "tests" / "test_my_meta_gradient.py").write_text(EXAMPLE.read_text())
    (root / "tests" / "test_regions.py").write_text(EXTRA_TESTS)
    (root / "tests" / "test_plain.py").write_text(PLAIN_TEST)
    return root


def _pytest(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HYPOTHESIS"))}
    env.pop("PYTHONPATH", None)  # l2l-verify must come from the installed distribution
    return subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_package_ships_the_plugin_entry_point() -> None:
    eps = [ep for ep in distribution("l2l-verify").entry_points if ep.group == "pytest11"]
    assert [(ep.name, ep.value) for ep in eps] == [("l2l_verify", "verify.pytest_plugin")]


def test_user_project(tmp_path: Path) -> None:
    root = _project(tmp_path / "my-optimizer")
    run = _pytest(root, "-rfxX", "--hypothesis-seed=0")
    out = run.stdout
    assert run.returncode == 1, out  # exactly the stale-region test fails, strictly
    assert "1 failed, 3 passed, 1 xfailed" in out
    assert "FAILED tests/test_regions.py::test_stale_region_is_noticed" in out
    assert "[XPASS(strict)] known-failure region 'backprop-exponent-range'" in out
    assert "XFAIL tests/test_regions.py::test_known_region[numpy-float32]" in out
    # the example passes in both dtypes and the session ends with the accuracy summary
    assert "test_my_meta_gradient.py::test_my_meta_gradient" not in out.split("short test")[-1]
    summary = out.split("l2l-verify meta-gradient accuracy")[1]
    rows = {line.split()[0]: line.split() for line in summary.splitlines()[1:] if "/" in line}
    # 100 Hypothesis examples per dtype (+1 float32 check from the stale-region test)
    assert int(rows["user/float64"][1]) == 100 and int(rows["user/float32"][1]) == 101
    assert "known-failure region 'backprop-exponent-range'" in summary


def test_options_select_and_are_validated(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj")
    listing = _pytest(root, "--collect-only", "-q", "--l2l-dtypes", "float64")
    assert "test_my_meta_gradient[float64]" in listing.stdout
    assert "test_my_meta_gradient[float32]" not in listing.stdout
    # its marker asks for float32 only: an empty parameter set (pytest skips it)
    assert "test_known_region[numpy-float32]" not in listing.stdout
    bad = _pytest(root, "--l2l-precision", "3")
    assert bad.returncode == pytest.ExitCode.USAGE_ERROR
    assert "--l2l-precision=3" in bad.stderr
    plain = _pytest(root, "tests/test_plain.py")
    assert plain.returncode == 0 and "meta-gradient accuracy" not in plain.stdout


# the points that the lenient plugin used to record as "not judged" (and pass): NaN at the
# naive explosion point (F' ~ 8.6e357 rounds to +inf in float64), NaN and a wrong sign where
# f(w_t) certainly underflows in float32 but the failure prediction is undecided
STRICT_TESTS = """
import math
import numpy as np
import pytest
from verify import Quadratic

Q = Quadratic.from_spectrum(np.geomspace(1, 100, 10), seed=0)


def test_nan_at_the_explosion_point(l2l_check):
    l2l_check(Q, 2.5 / Q.L, 1000, math.nan, dtype="float64", objective="naive")


@pytest.mark.parametrize("grad", [math.nan, 123.0])
def test_float32_underflow_point(l2l_check, grad):
    l2l_check(Q, np.float32(1 / Q.L), 5000, np.float32(grad), dtype="float32", objective="log")
"""


def test_failures_fail_in_a_user_project(tmp_path: Path) -> None:
    root = tmp_path / "strict"
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "tests" / "test_strict.py").write_text(STRICT_TESTS)
    run = _pytest(root, "-rf")
    out = run.stdout
    assert run.returncode == 1, out
    assert "3 failed" in out and "passed" not in out.splitlines()[-1]
    assert "FAILED: nan -- NaN; the certified value 8.62664e+357 rounds to inf" in out
    assert "FAILED: silently_wrong -- wrong sign: got 123.0" in out
    summary = out.split("l2l-verify meta-gradient accuracy")[1]
    assert "not_judged" in summary.splitlines()[1]  # the column exists ...
    row = next(line.split() for line in summary.splitlines() if line.startswith("user/float32"))
    assert row[1:3] == ["2", "0"]  # ... 2 checks, 0 accurate
