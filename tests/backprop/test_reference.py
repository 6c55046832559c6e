"""The numpy reference backprop: accurate in benign regimes, batched, dtype-faithful, and the
float failures of paper notes §4.5 demonstrated against certified truth."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.backprop._backprop_inputs import exact_problem, round_to
from verify import LeastSquares, Quadratic, truth
from verify import strategies as vs
from verify.backprop import meta_gradient, predict_failure
from verify.compare import Outcome, assert_meta_gradient_accurate, classify, tolerance
from verify.errors import (
    InvalidHorizonError,
    InvalidStepSizeError,
    ShapeMismatchError,
    TrajectoryMemoryError,
    UnknownOptionError,
    ZeroLossError,
)
from verify.floats import get_format

DTYPES = ["float16", "bfloat16", "float32", "float64"]
# A GD factor |1 - eta lambda_i| below 1/2 loses bits to cancellation at every step (at 0 the
# iterate's component vanishes exactly): outside the benign regime of the property test.
BENIGN_MIN_FACTOR = 0.5


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("objective", ["log", "naive"])
@given(data=st.data())
def test_float64_accurate_in_benign_regime(mode: str, objective: str, data: st.DataObject) -> None:
    q = data.draw(vs.quadratics(max_dim=6, max_condition=100.0))
    eta = data.draw(vs.step_sizes(q, regime="any"))
    t = data.draw(vs.horizons(max_t=200))
    # benign: f(w_t) ~ rho^(2t) and the adjoints ~ rho^(-t) predicted well inside float64,
    # and no GD factor 1 - eta lambda_i cancels catastrophically (Hypothesis found H ~ I,
    # eta = 1: kept below as a classified example)
    assume(predict_failure(q, eta, t, dtype="float64")[0].verdict == "safe")
    assume(float(np.min(np.abs(1 - eta * np.linalg.eigvalsh(q.H)))) >= BENIGN_MIN_FACTOR)
    try:
        exact = truth.meta_gradient(q, eta, t, objective=objective)
    except ZeroLossError:  # eta lambda = 1 for every mode: f(w_t) = 0 exactly
        assume(False)
        raise
    res = meta_gradient(q, eta, t, objective=objective, dtype="float64", mode=mode)
    assert_meta_gradient_accurate(res, [exact])


def test_float64_grid_accurate_where_predicted_safe() -> None:
    # deterministic sweep complementing the property test (STYLE habit 8)
    q = exact_problem(12, seed=3)
    etas = [round_to(m / q.L) for m in (0.05, 0.5, 1.0, 1.5, 1.9, 2.0, 2.05)]
    for t in (1, 7, 60, 300):
        res = meta_gradient(q, etas, t, dtype="float64")
        safe = [
            i
            for i, p in enumerate(predict_failure(q, etas, t, dtype="float64"))
            if p.verdict == "safe"
        ]
        assert safe
        assert_meta_gradient_accurate(
            [res.point(i) for i in safe], [truth.meta_gradient(q, etas[i], t) for i in safe]
        )


@pytest.mark.parametrize("objective", ["log", "naive"])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_cancellation_example_is_classified(objective: str, mode: str) -> None:
    # found by Hypothesis: H = I + O(u), eta = 1 makes w_1 = (I - eta H) w0 pure rounding
    # residue (kappa_eta ~ 1/u); the error model claims nothing there (tolerance 0) and the
    # result is classified, not crashed on
    q = Quadratic(np.array([[1.0, 2.0**-52], [2.0**-52, 1.0]]), [0.6, 0.8])
    res = meta_gradient(q, 1.0, 1, objective=objective, dtype="float64", mode=mode)
    assert tolerance(res) == 0.0
    assert classify(res, truth.meta_gradient(q, 1.0, 1, objective=objective)) in (
        Outcome.INACCURATE,
        Outcome.SILENTLY_WRONG,
    )


def test_batched_matches_unbatched() -> None:
    # the rows of a batch run the same operations as single calls; only the summation order
    # inside the matrix-matrix product may differ, so they agree within the rounding model
    q = exact_problem(8, seed=1)
    etas = [round_to(x) for x in np.linspace(0.05, 1.2, 9) * 2 / q.L]
    batch = meta_gradient(q, etas, 60, dtype="float32")
    assert batch.batched and len(batch) == len(etas) and len(batch.diagnostics) == len(etas)
    for i, eta in enumerate(etas):
        single = meta_gradient(q, eta, 60, dtype="float32")
        assert not single.batched and single.eta == batch.eta[i]
        gap = abs(float(batch.grad[i]) - float(single.grad))
        assert gap <= 2 * tolerance(single), (eta.hex(), gap, tolerance(single))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_every_result_in_dtype(dtype: str, mode: str) -> None:
    q = exact_problem(5, seed=2, exact_in="float16")
    dt = get_format(dtype).numpy_dtype()
    res = meta_gradient(q, round_to(0.5 / q.L, "float16"), 20, dtype=dtype, mode=mode)
    assert res.grad.dtype == dt and res.value.dtype == dt and res.dtype == dtype
    batch = meta_gradient(q, [0.01, 0.02], 20, dtype=dtype, mode=mode)
    assert batch.grad.dtype == dt and batch.value.dtype == dt


def test_forward_and_reverse_agree_to_rounding() -> None:
    q = exact_problem(10, seed=5)
    etas = [round_to(m / q.L) for m in (0.3, 1.0, 1.9)]
    fwd = meta_gradient(q, etas, 100, dtype="float64", mode="forward")
    rev = meta_gradient(q, etas, 100, dtype="float64", mode="reverse")
    assert fwd.mode == "forward" and rev.mode == "reverse"
    assert_meta_gradient_accurate(fwd, [truth.meta_gradient(q, e, 100) for e in etas])
    assert_meta_gradient_accurate(rev, [truth.meta_gradient(q, e, 100) for e in etas])


def test_float32_log_backprop_nan_where_stable_is_accurate() -> None:
    # paper notes §4.5 table: float32 at t = 1000, eta = 2/(L+alpha) -> f(w_t) = 0, NaN gradient
    q = exact_problem(20, seed=4)
    eta = round_to(2 / (q.L + q.alpha))
    exact = truth.meta_gradient(q, eta, 1000)
    res = meta_gradient(q, eta, 1000, dtype="float32")
    assert np.isnan(res.grad) and res.diagnostics.loss == 0.0
    assert res.diagnostics.first_underflow is not None
    assert classify(res, exact) is Outcome.NAN
    assert np.isfinite(exact.to_float("float32"))  # the exact value is an ordinary float32
    stable = meta_gradient(q, eta, 1000, dtype="float32", backend="stable")
    assert classify(stable, exact) is Outcome.ACCURATE


def test_float64_silently_wrong_zero_in_explosion_regime() -> None:
    # f(w_t) overflows to inf and the gradient comes back as exactly 0.0: nothing warns
    q = exact_problem(20, seed=4)
    eta = round_to(2.5 / q.L)
    res = meta_gradient(q, eta, 1000, dtype="float64")
    assert res.grad == 0.0 and np.isinf(res.value)
    assert res.diagnostics.first_overflow is not None
    assert classify(res, truth.meta_gradient(q, eta, 1000)) is Outcome.SILENTLY_WRONG


def test_diagnostics_record_extremes_and_first_failures() -> None:
    q = exact_problem(6, seed=7)
    ok = meta_gradient(q, round_to(0.5 / q.L), 50, dtype="float64")
    diag = ok.diagnostics
    assert not diag.failed
    assert 0 < diag.min_forward <= diag.max_forward and 0 < diag.min_adjoint <= diag.max_adjoint
    boom = meta_gradient(q, round_to(3.0 / q.L), 200, dtype="float32")
    bd = boom.diagnostics
    assert bd.failed and bd.first_overflow is not None and bd.first_overflow <= 200


def test_b_and_eval_problem_in_float64() -> None:
    train, valid = _least_squares()
    eta = 0.25
    for t in (1, 5, 20):
        for ev in (None, valid):
            exact = truth.meta_gradient(train, eta, t, eval_problem=ev)
            res = meta_gradient(train, eta, t, eval_problem=ev, dtype="float64")
            assert_meta_gradient_accurate(res, [exact])


def _least_squares() -> tuple[LeastSquares, LeastSquares]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 5))
    y = X @ rng.standard_normal(5) + 0.5 * rng.standard_normal(30)
    return LeastSquares(X[:20], y[:20]), LeastSquares(X[20:], y[20:])


@pytest.mark.parametrize("validation", [False, True])
def test_float64_backprop_silently_wrong_below_rounding_floor(validation: bool) -> None:
    # b != 0: w_t -> w* != 0, grad g(w_t) ~ rho^t sinks below the rounding noise of H w_t - b
    # and the meta-gradient comes back finite, plausible and wrong -- no NaN, no inf
    train, valid = _least_squares()
    ev = valid if validation else None
    eta, t = 1.0 / train.L, 1000
    exact = truth.meta_gradient(train, eta, t, eval_problem=ev)
    res = meta_gradient(train, eta, t, eval_problem=ev, dtype="float64")
    assert np.isfinite(res.grad) and not res.diagnostics.failed
    assert classify(res, exact) is Outcome.SILENTLY_WRONG
    stable = meta_gradient(train, eta, t, eval_problem=ev, dtype="float64", backend="stable")
    assert classify(stable, exact) is Outcome.ACCURATE


def test_bad_arguments() -> None:
    q = Quadratic.random(3, seed=0)
    with pytest.raises(InvalidStepSizeError):
        meta_gradient(q, [-0.1, 0.1], 5)
    with pytest.raises(InvalidStepSizeError):
        meta_gradient(q, np.nan, 5)
    with pytest.raises(InvalidStepSizeError):
        meta_gradient(q, [[0.1]], 5)
    with pytest.raises(InvalidStepSizeError):
        meta_gradient(q, [], 5)
    with pytest.raises(InvalidStepSizeError):
        meta_gradient(q, Fraction(1, 3), 5)  # not a float64: backends need exact inputs
    with pytest.raises(InvalidStepSizeError):
        meta_gradient(q, "0.1", 5)  # type: ignore[arg-type]
    exact = meta_gradient(q, Fraction(1, 4), 5, dtype="float64")
    assert exact.eta == 0.25 and not exact.batched
    with pytest.raises(InvalidHorizonError):
        meta_gradient(q, 0.1, 0)
    with pytest.raises(InvalidHorizonError):
        meta_gradient(q, 0.1, 2.5)  # type: ignore[arg-type]
    with pytest.raises(UnknownOptionError):
        meta_gradient(q, 0.1, 5, backend="tensorflow")
    with pytest.raises(UnknownOptionError):
        meta_gradient(q, 0.1, 5, mode="sideways")
    with pytest.raises(UnknownOptionError):
        meta_gradient(q, 0.1, 5, dtype="float8")
    with pytest.raises(UnknownOptionError):
        meta_gradient(q, 0.1, 5, objective="square")
    with pytest.raises(ShapeMismatchError):
        meta_gradient(q, 0.1, 5, eval_problem=Quadratic.random(4, seed=0))
    with pytest.raises(UnknownOptionError):
        meta_gradient(q, 0.1, 5, device="cuda")
    with pytest.raises(UnknownOptionError):
        meta_gradient(q, 0.1, 5, variant="sorted")


def test_reverse_mode_refuses_a_trajectory_that_cannot_be_stored() -> None:
    """Reverse mode keeps g_0 .. g_{t-1}: at t = 1e12 (d = 3, float64) that is 22 PiB, beyond
    any address space, so the allocation fails at once -- with a typed error naming t, the
    size, and the modes whose memory does not grow with t."""
    q = Quadratic.random(3, seed=0)
    with pytest.raises(TrajectoryMemoryError) as info:
        meta_gradient(q, [0.01, 0.02, 0.03], 10**12, dtype="float64")
    err = info.value
    assert isinstance(err, MemoryError) and err.argument == "t" and err.value == 10**12
    assert "GiB" in str(err) and "mode='forward'" in str(err)
