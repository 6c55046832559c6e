"""XLA's CPU runtime flushes subnormals to zero: JAX and optax reverse mode return spurious
normal-size meta-gradients where the exact one is a subnormal (region ``xla-cpu-flush-to-zero``).

Pinned strictly: at the issue's point the judge must call jax's and optax's results a known
failure of that region. If XLA stops flushing and they become accurate the verdict turns to
``xpass`` and these tests fail -- the region is then stale.

Skipped when JAX (or optax, or PyTorch for the torch comparisons) is missing, unless
``L2L_REQUIRE_CLIENTS=1`` (CI sets it).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from tests.backprop._clients import require_modules
from verify import Quadratic, truth
from verify.audits.flush import (
    adjoint_trace,
    ftz_point,
    torch_flush_denormal,
    torch_flushes,
    xla_cpu_flushes,
)
from verify.backprop import meta_gradient
from verify.compare import MODEL_LIMIT
from verify.judge import check_meta_gradient, judge_result
from verify.known_failures import FLUSH_MARGIN, lookup

REGION = "xla-cpu-flush-to-zero"
TINY32 = math.ldexp(1.0, -126)  # smallest normal float32


def test_xla_cpu_runtime_flushes_and_numpy_does_not() -> None:
    require_modules("jax")
    assert xla_cpu_flushes("float32") and xla_cpu_flushes("float64")
    # the flags live on XLA's execution threads: NumPy in the same process keeps subnormals
    assert np.float32(TINY32) * np.float32(0.5) == np.float32(TINY32 / 2)


@pytest.mark.parametrize(
    ("backend", "variant"), [("jax", None), ("optax", "jit"), ("optax", "eager")]
)
def test_flushing_backends_are_a_strict_known_failure(backend: str, variant: str | None) -> None:
    require_modules("jax", "optax")
    q, eta, t = ftz_point()
    res = meta_gradient(
        q, eta, t, objective="naive", dtype="float32", backend=backend, variant=variant
    )
    enc = truth.meta_gradient(q, eta, t, objective="naive")
    assert 0 < abs(enc.to_float("float32")) < TINY32  # the exact value is a subnormal
    # the adjoint stopped decaying at the smallest normal: a normal-size spurious value
    assert abs(float(res.grad)) >= TINY32
    verdict = judge_result(res, [enc])[0]
    assert verdict.outcome.value == "silently_wrong", verdict.report()
    assert verdict.status == "expected_failure" and verdict.known_failure == REGION


def test_region_holds_only_where_no_flushed_output_can_be_accurate() -> None:
    q, eta, t = ftz_point()
    enc = truth.meta_gradient(q, eta, t, objective="naive")
    # every value a flushing backend can return: 0 of either sign, or at least the smallest
    # normal (of either sign) -- none is accurate, whatever the error model says
    for grad in (0.0, -0.0, -TINY32, TINY32, -2 * TINY32, -9.297426205006881e-35):
        v = check_meta_gradient(
            q,
            eta,
            t,
            grad,
            value=0.0,
            dtype="float32",
            objective="naive",
            like="jax",
            known_failures=False,
            certified=enc,
        )
        assert v.outcome.is_failure, v.report()
    # the margin argument of the predicate's docstring: the bound (rel <= MODEL_LIMIT of a
    # scale <= (M+1)/(M-1) |F'|) cannot reach |F'|
    assert MODEL_LIMIT * (FLUSH_MARGIN + 1) / (FLUSH_MARGIN - 1) < 1
    assert lookup("jax", "float32", "naive", q, eta, t).name == REGION  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("backend", "dtype", "objective", "t"),
    [
        ("numpy", "float32", "naive", 5000),  # no flushing: not in the region
        ("torch", "float32", "naive", 5000),  # PyTorch's default does not flush
        ("jax", "float16", "naive", 5000),  # float16 subnormals are float32 normals
        ("jax", "float32", "log", 5000),  # the log objective's adjoint is not subnormal
        ("jax", "float32", "naive", 50),  # benign: the exact value is normal
        ("jax", "float32", "naive", 4600),  # exact -1.2e-38 is normal: fails, not claimed
        ("jax", "float32", "naive", 6000),  # exact rounds to -0: a flushed 0 is right
    ],
)
def test_region_boundaries(backend: str, dtype: str, objective: str, t: int) -> None:
    q, eta, _ = ftz_point()
    kf = lookup(backend, dtype, objective, q, eta, t)
    assert kf is None or kf.name != REGION


def test_region_needs_a_homogeneous_problem() -> None:
    q, eta, t = ftz_point()
    shifted = Quadratic(q.H, q.w0, b=np.full(q.d, 2.0**-10))
    kf = lookup("jax", "float32", "naive", shifted, eta, t)
    assert kf is None or kf.name != REGION


def test_float64_point_is_in_the_region_and_fails() -> None:
    require_modules("jax")
    q, _, _ = ftz_point()
    eta, t = 1 / q.L, 36_500
    assert lookup("jax", "float64", "naive", q, eta, t).name == REGION  # type: ignore[union-attr]
    res = meta_gradient(q, eta, t, objective="naive", dtype="float64", backend="jax")
    verdict = judge_result(res, [truth.meta_gradient(q, eta, t, objective="naive")])[0]
    assert abs(float(res.grad)) >= math.ldexp(1.0, -1022)
    assert verdict.status == "expected_failure" and verdict.known_failure == REGION


def test_adjoint_freezes_at_the_smallest_normal_when_flushed() -> None:
    require_modules("jax", "torch")
    q, eta, t = ftz_point()
    ieee = adjoint_trace(q, eta, t, engine="numpy")
    xla = adjoint_trace(q, eta, t, engine="jax")
    assert ieee.floor < TINY32 <= xla.floor  # gradual underflow vs a frozen adjoint
    # frozen at floor level well before the first step, so the early steps all add to F'
    assert np.count_nonzero(xla.adjoint_max == xla.floor) > t // 4
    assert abs(xla.grad) >= TINY32 > abs(ieee.grad)


def test_torch_flushes_too_when_told_to() -> None:
    require_modules("torch")
    q, eta, t = ftz_point()
    assert not torch_flushes()
    with torch_flush_denormal(True):
        assert torch_flushes()
        res = meta_gradient(q, eta, t, objective="naive", dtype="float32", backend="torch")
    assert not torch_flushes()  # the setting is scoped to the block
    plain = meta_gradient(q, eta, t, objective="naive", dtype="float32", backend="torch")
    assert abs(float(res.grad)) >= TINY32 > abs(float(plain.grad))
    ftz = adjoint_trace(q, eta, t, engine="torch-ftz")
    assert ftz.floor >= TINY32 > adjoint_trace(q, eta, t, engine="torch").floor
    exact = Fraction(truth.meta_gradient(q, eta, t, objective="naive").mid)
    assert abs(Fraction(float(res.grad))) > 1000 * abs(exact)
