"""The backend registry (verify.backprop.registry) describes the backends as they behave.

Every list of backends in verify/ reads the registry, so these tests check the registry
against the backends themselves: the dtypes each accepts and refuses, the modes its results
report, its variants and required modules.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.backprop._clients import require_modules
from verify import Quadratic
from verify.backprop import (
    BACKENDS,
    CLIENT_BACKENDS,
    MODES,
    VARIANTS,
    UnsupportedOptionError,
    meta_gradient,
)
from verify.backprop.registry import (
    REGISTRY,
    STEPWISE_BACKENDS,
    backend_info,
    installed,
    select,
)
from verify.compare import Outcome
from verify.errors import UnknownOptionError
from verify.floats import FORMATS
from verify.outcomes import OUTCOME_NAMES
from verify.pytest_plugin import ALL_BACKENDS, ALL_DTYPES


def test_registry_is_the_one_list() -> None:
    assert BACKENDS == tuple(REGISTRY) == ALL_BACKENDS
    assert ALL_DTYPES == tuple(FORMATS)
    assert CLIENT_BACKENDS == tuple(n for n in BACKENDS if REGISTRY[n].client)
    assert STEPWISE_BACKENDS == select(kind="stepwise")
    assert set(BACKENDS) == set(STEPWISE_BACKENDS) | set(select(kind="closed_form"))
    assert dict(VARIANTS) == {n: i.variants for n, i in REGISTRY.items() if i.variants}
    for name, info in REGISTRY.items():
        assert info.name == name and set(info.dtypes) <= set(FORMATS)
        assert info.kind == "closed_form" or set(info.modes) <= set(MODES)
        assert info.client <= (info.kind == "stepwise")


def test_compare_outcomes_follow_the_outcome_registry() -> None:
    assert tuple(o.value for o in Outcome) == OUTCOME_NAMES


def test_unknown_backend_is_a_typed_error() -> None:
    for bad in ("tensorflow", "", None):
        with pytest.raises(UnknownOptionError, match="backend"):
            backend_info(bad)  # type: ignore[arg-type]
        with pytest.raises(UnknownOptionError, match="backend"):
            installed(bad)  # type: ignore[arg-type]
    assert installed("numpy") and installed("stable") and installed("paper")


@pytest.mark.parametrize("name", BACKENDS)
def test_backend_accepts_exactly_its_dtypes(name: str) -> None:
    info = backend_info(name)
    require_modules(*info.requires)
    q = Quadratic([[2.0, 0.0], [0.0, 1.0]], w0=[0.6, 0.8])
    for dtype in FORMATS:
        if dtype in info.dtypes:
            res = meta_gradient(q, 0.1, 3, dtype=dtype, backend=name)
            assert res.dtype == dtype and res.mode in info.modes
            assert res.variant == (info.variants[0] if info.variants else None)
            assert np.isfinite(float(res.grad))
        else:
            with pytest.raises(UnsupportedOptionError, match="dtype"):
                meta_gradient(q, 0.1, 3, dtype=dtype, backend=name)
    for mode in MODES:
        if info.kind == "stepwise" and mode not in info.modes:
            with pytest.raises(UnsupportedOptionError, match="mode"):
                meta_gradient(q, 0.1, 3, dtype="float64", backend=name, mode=mode)
