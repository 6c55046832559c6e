"""PyTorch autograd and jax.grad through the unrolled trajectory: same outcome classes as the
numpy reference on a shared grid, dtypes kept, and the silent zero of torch float64."""

from __future__ import annotations

import importlib
import warnings
from typing import Any

import numpy as np
import pytest

from tests.backprop._backprop_inputs import eta_grid, exact_problem
from verify import truth
from verify.backprop import BackendUnavailableError, meta_gradient, predict_failure
from verify.compare import Outcome, assert_meta_gradient_accurate, classify, classify_all
from verify.floats import get_format


def _import(name: str) -> Any:
    with warnings.catch_warnings():
        # importing a framework may emit deprecation warnings of its own dependencies; they
        # are not ours and are silenced for the import only
        warnings.simplefilter("ignore", DeprecationWarning)
        return pytest.importorskip(name)


FRAMEWORKS = [
    pytest.param("torch", id="torch"),
    pytest.param("jax", id="jax"),
]


@pytest.fixture(params=FRAMEWORKS)
def framework(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    _import(name)
    return name


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_framework_keeps_dtype(framework: str, dtype: str) -> None:
    q = exact_problem(4, seed=0, exact_in="float16")
    res = meta_gradient(q, [0.01, 0.02], 5, dtype=dtype, backend=framework)
    dt = get_format(dtype).numpy_dtype()
    assert res.grad.dtype == dt and res.value.dtype == dt and res.backend == framework


def test_framework_accurate_in_benign_regime(framework: str) -> None:
    q = exact_problem(10, seed=5)
    etas = eta_grid(q, [0.2, 1.0, 1.9, 2.05])
    for dtype, t in (("float64", 200), ("float32", 50)):
        truths = [truth.meta_gradient(q, e, t) for e in etas]
        assert all(p.verdict == "safe" for p in predict_failure(q, etas, t, dtype=dtype))
        assert_meta_gradient_accurate(
            meta_gradient(q, etas, t, dtype=dtype, backend=framework), truths
        )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_outcome_classes_agree_with_numpy(framework: str, dtype: str) -> None:
    # shared grid over (eta, t); points near a predicted threshold are left out, since there
    # the class depends on the last rounding of f(w_t), which may differ between libraries
    q = exact_problem(10, seed=4)
    etas = eta_grid(q, [0.1, 0.5, 1.0, 1.5, 2 * q.L / (q.L + q.alpha), 2.0, 2.5, 4.0])
    compared = 0
    for t in (10, 100, 1000):
        pred = predict_failure(q, etas, t, dtype=dtype)
        keep = [i for i, p in enumerate(pred) if p.verdict != "boundary"]
        sub = [etas[i] for i in keep]
        truths = [truth.meta_gradient(q, e, t) for e in sub]
        ref = classify_all(meta_gradient(q, sub, t, dtype=dtype), truths)
        got = classify_all(meta_gradient(q, sub, t, dtype=dtype, backend=framework), truths)
        assert got == ref, [
            (float(e).hex(), r.value, g.value) for e, r, g in zip(sub, ref, got, strict=True)
        ]
        compared += len(keep)
    assert compared >= 16


def test_torch_float64_silently_wrong_in_explosion_regime() -> None:
    _import("torch")
    q = exact_problem(20, seed=4)
    eta = eta_grid(q, [2.5])[0]
    res = meta_gradient(q, eta, 1000, dtype="float64", backend="torch")
    # f(w_t) = inf, so d log f = 1/f = 0 and autograd hands back an innocent-looking 0.0
    assert res.grad == 0.0 and np.isinf(res.value)
    assert classify(res, truth.meta_gradient(q, eta, 1000)) is Outcome.SILENTLY_WRONG


def test_torch_records_adjoint_diagnostics() -> None:
    _import("torch")
    q = exact_problem(6, seed=1)
    res = meta_gradient(q, eta_grid(q, [0.5])[0], 30, dtype="float64", backend="torch")
    diag = res.diagnostics
    assert 0 < diag.min_adjoint <= diag.max_adjoint and not diag.failed


def test_jax_leaves_x64_flag_alone() -> None:
    jax = _import("jax")
    before = bool(jax.config.jax_enable_x64)
    q = exact_problem(4, seed=0)
    res = meta_gradient(q, 0.01, 5, dtype="float64", backend="jax")
    assert res.grad.dtype == np.float64
    assert bool(jax.config.jax_enable_x64) == before


def test_forward_mode_refused(framework: str) -> None:
    from verify.backprop import UnsupportedOptionError

    with pytest.raises(UnsupportedOptionError):
        meta_gradient(exact_problem(3, seed=0), 0.1, 5, backend=framework, mode="forward")


def test_missing_framework_raises_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def fake(name: str, package: str | None = None) -> Any:
        if name.split(".")[0] in ("torch", "jax"):
            raise ImportError(f"No module named {name!r}")
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", fake)
    for backend in ("torch", "jax"):
        with pytest.raises(BackendUnavailableError, match=backend) as exc:
            meta_gradient(exact_problem(3, seed=0), 0.1, 5, backend=backend)
        assert isinstance(exc.value, ImportError)


def test_torch_cuda_matches_outcome_classes() -> None:
    torch = _import("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    q = exact_problem(10, seed=4)
    etas = eta_grid(q, [0.5, 1.9, 2.5])
    t = 1000
    truths = [truth.meta_gradient(q, e, t) for e in etas]
    for dtype in ("float32", "float64"):
        cpu = classify_all(meta_gradient(q, etas, t, dtype=dtype, backend="torch"), truths)
        gpu = meta_gradient(q, etas, t, dtype=dtype, backend="torch", device="cuda")
        assert gpu.grad.dtype == get_format(dtype).numpy_dtype()
        assert classify_all(gpu, truths) == cpu


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_outcome_classes_agree_deep(framework: str, dtype: str) -> None:
    # wider grid, more horizons and dimensions than the default run
    for d, seed in ((5, 1), (20, 4), (40, 9)):
        q = exact_problem(d, seed=seed, exact_in="float16")
        etas = eta_grid(q, list(np.linspace(0.05, 4.0, 17)), exact_in="float16")
        for t in (3, 30, 300, 3000):
            pred = predict_failure(q, etas, t, dtype=dtype)
            keep = [i for i, p in enumerate(pred) if p.verdict == "fails"]
            sub = [etas[i] for i in keep]
            if not sub:
                continue
            truths = [truth.meta_gradient(q, e, t) for e in sub]
            ref = classify_all(meta_gradient(q, sub, t, dtype=dtype), truths)
            got = classify_all(meta_gradient(q, sub, t, dtype=dtype, backend=framework), truths)
            assert [o.is_failure for o in got] == [o.is_failure for o in ref]
