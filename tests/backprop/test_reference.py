"""The numpy reference backprop: accurate in benign regimes, batched, dtype-faithful, and the
float failures of paper notes §4.5 demonstrated against certified truth."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from verify import Quadratic, theory, truth
from verify import strategies as vs
from verify.backprop import meta_gradient
from verify.compare import Outcome, accuracy, assert_meta_gradient_accurate, classify
from verify.errors import InvalidStepSizeError, UnknownOptionError

# A factor 1 - eta lambda below 1/2 in magnitude loses bits to cancellation at every step
# (and at 0 the iterate vanishes exactly): not the benign regime this test is about.
BENIGN_MIN_RHO = 0.5
# f(w_t) ~ rho^(2t): keep it within e^(+-600), inside float64's e^(+-708).
BENIGN_MAX_EXPONENT = 600.0


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("objective", ["log", "naive"])
@given(data=st.data())
def test_float64_accurate_in_benign_regime(mode: str, objective: str, data: st.DataObject) -> None:
    q = data.draw(vs.quadratics(max_dim=6, max_condition=100.0))
    eta = data.draw(vs.step_sizes(q, regime="vanishing"))
    t = data.draw(vs.horizons(max_t=200))
    # benign: every |1 - eta lambda_i| is moderate (no catastrophic cancellation of the GD
    # factor, which Hypothesis found at H = I, eta = 1) and rho^(2t) stays far inside float64
    rho = float(theory.rho(q, eta).mid)
    assume(rho >= BENIGN_MIN_RHO and 2 * t * abs(math.log(rho)) < BENIGN_MAX_EXPONENT)
    lam = np.linalg.eigvalsh(q.H)
    assume(float(np.min(np.abs(1 - eta * lam))) >= BENIGN_MIN_RHO)
    res = meta_gradient(q, eta, t, objective=objective, dtype="float64", mode=mode)
    assert_meta_gradient_accurate(
        [res], [truth.meta_gradient(q, eta, t, objective=objective)], d=q.d
    )


def test_batched_equals_unbatched() -> None:
    q = Quadratic.random(8, seed=1, kind="wishart2")
    etas = np.linspace(0.05, 1.2, 9) * 2 / q.L
    batch = meta_gradient(q, etas, 60, dtype="float32")
    for i, eta in enumerate(etas):
        single = meta_gradient(q, float(eta), 60, dtype="float32")
        assert batch.grad[i] == single.grad and batch.value[i] == single.value
    assert batch.grad.dtype == np.float32 and len(batch.diagnostics) == len(etas)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_every_operation_in_dtype(dtype: str) -> None:
    from verify.floats import get_format

    q = Quadratic.random(5, seed=2, kind="wishart2")
    res = meta_gradient(q, 0.5 / q.L, 20, dtype=dtype)
    assert res.grad.dtype == get_format(dtype).numpy_dtype()
    assert res.value.dtype == get_format(dtype).numpy_dtype()


def test_float32_log_backprop_nan_where_stable_truth_is_fine() -> None:
    # paper notes §4.5 table: float32 at t = 1000, eta = 2/(L+alpha) -> f(w_t) = 0, NaN gradient
    q = Quadratic.random(10, seed=4, kind="wishart2")
    eta = 2 / (q.L + q.alpha)
    res = meta_gradient(q, eta, 1000, dtype="float32")
    exact = truth.meta_gradient(q, eta, 1000)
    assert classify(res, exact, d=q.d) is Outcome.NAN
    assert res.diagnostics.first_underflow is not None and res.diagnostics.loss == 0.0
    assert np.isfinite(exact.to_float("float32"))  # the exact value is an ordinary float32


def test_float64_silently_wrong_zero_in_explosion_regime() -> None:
    # f(w_t) overflows to inf, the gradient comes back as exactly 0.0: no NaN warns anyone
    q = Quadratic.random(10, seed=4, kind="wishart2")
    eta = 2.5 / q.L
    res = meta_gradient(q, eta, 1000, dtype="float64")
    assert res.grad == 0.0 and np.isinf(res.value)
    assert classify(res, truth.meta_gradient(q, eta, 1000), d=q.d) is Outcome.SILENTLY_WRONG


def test_assertion_report_names_worst_inputs() -> None:
    q = Quadratic.random(10, seed=4, kind="wishart2")
    eta = 2 / (q.L + q.alpha)
    res = meta_gradient(q, eta, 1000, dtype="float32")
    with pytest.raises(AssertionError) as exc:
        assert_meta_gradient_accurate([res], [truth.meta_gradient(q, eta, 1000)], d=q.d)
    msg = str(exc.value)
    assert "1 of 1" in msg and float(eta).hex() in msg and "tolerance" in msg


def test_accuracy_metrics_in_result_dtype() -> None:
    enc = truth.Enclosure.exact(1)
    acc = accuracy(float(np.float32(1) + np.finfo(np.float32).eps), enc, "float32")
    assert acc.ulps == 1 and acc.bits == 1 and acc.rel_u == 2


def test_bad_arguments() -> None:
    q = Quadratic.random(3, seed=0)
    with pytest.raises(InvalidStepSizeError):
        meta_gradient(q, [-0.1, 0.1], 5)
    with pytest.raises(InvalidStepSizeError):
        meta_gradient(q, np.nan, 5)
    with pytest.raises(UnknownOptionError):
        meta_gradient(q, 0.1, 5, backend="tensorflow")
    with pytest.raises(UnknownOptionError):
        meta_gradient(q, 0.1, 5, mode="sideways")
    with pytest.raises(UnknownOptionError):
        meta_gradient(q, 0.1, 5, dtype="float8")


def test_cancellation_case_found_by_hypothesis_is_classified() -> None:
    # The shape Hypothesis found: H = I up to a ~5e-17 off-diagonal, eta = 1, t = 1. Then
    # 1 - eta H rounds to 0 in float64 and w_1 = 0, while the exact gradient is ~1e-17:
    # backprop returns 0.0 and the classification says why.
    off = float.fromhex("0x1.a88f5b2f2b6c7p-55")
    q = Quadratic([[1.0, off], [off, 1.0]], [0.80911452, 0.58765101])
    res = meta_gradient(q, 1.0, 1, objective="naive", dtype="float64", mode="forward")
    assert res.grad == 0.0
    assert (
        classify(res, truth.meta_gradient(q, 1.0, 1, objective="naive"), d=2) is Outcome.UNDERFLOW
    )
