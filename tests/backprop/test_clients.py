"""The meta-learning libraries users run -- optax, torchopt, higher -- as backends under test.

Each is judged by the strict judge against certified truth: accurate in the benign regime
(cond 100, eta = 1/L, t = 50, log objective), silently wrong where plain backprop's
objective overflows (eta = 2.5/L, t = 1000, float64: they return 0 with F = inf), and the
typed errors for what they cannot do or when they are missing.

Skipped when a client library is not installed, unless ``L2L_REQUIRE_CLIENTS=1`` (CI sets
it), in which case a missing library fails the test.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

import numpy as np
import pytest

from tests.backprop._clients import require_modules
from verify import Quadratic, truth
from verify.backprop import (
    CLIENT_BACKENDS,
    VARIANTS,
    BackendUnavailableError,
    UnsupportedOptionError,
    meta_gradient,
)
from verify.backprop.registry import STEPWISE_BACKENDS, backend_info
from verify.floats import get_format
from verify.judge import judge_result
from verify.known_failures import lookup
from verify.pytest_plugin import ALL_BACKENDS, installed_backends

# every variant of every client (the default first)
CLIENT_RUNS = [
    pytest.param(name, variant, id=f"{name}-{variant}" if variant else name)
    for name in CLIENT_BACKENDS
    for variant in VARIANTS.get(name, (None,))
]


def _require(name: str) -> None:
    require_modules(*backend_info(name).requires)


def _cond100() -> Quadratic:
    return Quadratic.from_spectrum(np.geomspace(1, 100, 10), seed=0)


def _verdict(res: Any, objective: str = "log") -> Any:
    enc = truth.meta_gradient(res.problem, res.eta, res.t, objective=objective)
    return judge_result(res, [enc], known_failures=False)[0]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("name", "variant"), CLIENT_RUNS)
def test_client_accurate_in_benign_regime(name: str, variant: str | None, dtype: str) -> None:
    _require(name)
    q = _cond100()
    # the step size as the dtype holds it: float32(1/L) is what a float32 client runs with
    eta = float(np.asarray(1 / q.L).astype(get_format(dtype).numpy_dtype()))
    res = meta_gradient(q, eta, 50, dtype=dtype, backend=name, variant=variant)
    assert res.backend == name and res.variant == variant
    assert res.grad.dtype == get_format(dtype).numpy_dtype()
    verdict = _verdict(res)
    assert verdict.outcome.value == "accurate", verdict.report()


@pytest.mark.parametrize(("name", "variant"), CLIENT_RUNS)
def test_client_silently_wrong_where_the_objective_overflows(
    name: str, variant: str | None
) -> None:
    _require(name)
    q = _cond100()
    eta = 2.5 / q.L
    res = meta_gradient(q, eta, 1000, dtype="float64", backend=name, variant=variant)
    # f(w_t) = inf, so d log f = 1/f = 0: the client hands back an innocent-looking +-0.0
    assert res.grad == 0.0 and res.value == np.inf
    verdict = _verdict(res)
    assert verdict.outcome.value == "silently_wrong", verdict.report()
    # ... which is the registered mechanism of plain backprop: a strict expected failure
    strict = judge_result(res, [verdict.truth])[0]
    assert strict.status == "expected_failure"
    assert strict.known_failure == "backprop-exponent-range"


@pytest.mark.parametrize("name", CLIENT_BACKENDS)
def test_client_affine_problem_and_validation_loss(name: str) -> None:
    # b != 0 in training and a separate evaluation loss (train-by-validation), as the torch
    # and jax backends support them
    _require(name)
    base = _cond100()
    q = Quadratic(base.H, base.w0, b=np.linspace(-1, 1, base.d))
    ev = Quadratic(base.H, base.w0, b=np.linspace(1, -1, base.d), c=3.0)
    res = meta_gradient(q, 0.005, 20, dtype="float64", backend=name, eval_problem=ev)
    enc = truth.meta_gradient(q, 0.005, 20, eval_problem=ev)
    verdict = judge_result(res, [enc], known_failures=False)[0]
    assert verdict.outcome.value == "accurate", verdict.report()


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", CLIENT_BACKENDS)
def test_client_runs_and_keeps_the_narrow_dtypes(name: str, dtype: str) -> None:
    # every client library runs float16 and bfloat16 on the CPU (none needs
    # UnsupportedOptionError for a dtype); the result stays in the dtype, no silent upcast
    _require(name)
    q = _cond100()
    dt = get_format(dtype).numpy_dtype()
    eta = float(np.asarray(1 / q.L).astype(dt))
    res = meta_gradient(q, [eta, eta / 2], 5, dtype=dtype, backend=name)
    assert res.grad.dtype == dt and res.value.dtype == dt
    assert np.all(np.isfinite(res.grad.astype(np.float64)))


@pytest.mark.parametrize("name", CLIENT_BACKENDS)
def test_client_batches_step_sizes_one_task_at_a_time(name: str) -> None:
    _require(name)
    q = _cond100()
    etas = [float(np.float32(m / q.L)) for m in (0.5, 1.0)]
    batch = meta_gradient(q, etas, 20, dtype="float64", backend=name)
    for i, eta in enumerate(etas):
        one = meta_gradient(q, eta, 20, dtype="float64", backend=name)
        assert batch.point(i).grad == one.grad and batch.point(i).value == one.value


def test_torch_clients_record_adjoints_and_optax_does_not() -> None:
    for name in ("torchopt", "higher"):
        _require(name)
        diag = meta_gradient(_cond100(), 0.005, 30, dtype="float64", backend=name).diagnostics
        assert 0 < diag.min_adjoint <= diag.max_adjoint and not diag.failed
    _require("optax")
    diag = meta_gradient(_cond100(), 0.005, 30, dtype="float64", backend="optax").diagnostics
    assert np.isnan(diag.max_adjoint) and 0 < diag.min_forward <= diag.max_forward


@pytest.mark.parametrize("name", CLIENT_BACKENDS)
def test_client_refuses_what_it_cannot_do(name: str) -> None:
    _require(name)
    q = _cond100()
    for kwargs in ({"mode": "forward"}, {"device": "cuda"}, {"variant": "no-such-variant"}):
        with pytest.raises(UnsupportedOptionError) as exc:
            meta_gradient(q, 0.01, 5, backend=name, **kwargs)  # type: ignore[arg-type]
        assert exc.value.argument in kwargs


def test_variants_only_where_a_backend_has_them() -> None:
    q = _cond100()
    with pytest.raises(UnsupportedOptionError) as exc:
        meta_gradient(q, 0.01, 5, backend="higher", variant="jit")
    assert exc.value.argument == "variant"
    with pytest.raises(UnsupportedOptionError):
        meta_gradient(q, 0.01, 5, backend="numpy", variant="published")


@pytest.mark.parametrize("name", CLIENT_BACKENDS)
def test_missing_client_library_raises_typed_error(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.import_module
    library = backend_info(name).requires[-1]

    def fake(module: str, package: str | None = None) -> Any:
        if module.split(".")[0] == library:
            raise ImportError(f"No module named {module!r}")
        return real(module, package)

    monkeypatch.setattr(importlib, "import_module", fake)
    with pytest.raises(BackendUnavailableError, match=r"l2l-verify\[clients\]") as exc:
        meta_gradient(_cond100(), 0.01, 5, backend=name)
    assert exc.value.backend == name and isinstance(exc.value, ImportError)


def test_clients_are_registered_everywhere() -> None:
    # the backprop registry, the plugin's options and parameters, the judge's stepwise error
    # model and the known-failure regions of plain backprop all name the clients
    for name in CLIENT_BACKENDS:
        assert name in ALL_BACKENDS and name in STEPWISE_BACKENDS
        here = all(importlib.util.find_spec(m) is not None for m in backend_info(name).requires)
        assert (name in installed_backends()) == here
    q = Quadratic.random(10, seed=4, kind="wishart2")
    for name in CLIENT_BACKENDS:
        kf = lookup(name, "float32", "log", q, 2 / (q.L + q.alpha), 1000)
        assert kf is not None and kf.name == "backprop-exponent-range"
