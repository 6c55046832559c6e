"""The stable normalized formula (paper notes §4.6, §6 claim 11): accurate against certified
truth in float32 and float64 at horizons up to 1e6, including where plain backprop fails."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.backprop._backprop_inputs import eta_grid, exact_problem
from verify import LeastSquares, Quadratic, truth
from verify import strategies as vs
from verify.backprop import UnsupportedOptionError, meta_gradient, predict_failure
from verify.compare import (
    TOLERANCES,
    Outcome,
    assert_meta_gradient_accurate,
    classify_all,
    tolerance,
)
from verify.errors import NotCertifiedError, ZeroLossError

# step sizes as multiples of 1/L: 0, vanishing, near 2/(L+alpha), 2/L, explosion
MULTIPLES = [0.0, 0.05, 0.5, 1.0, 1.5, 1.9, 1.99, 2.0, 2.01, 2.5, 4.0, 10.0]
HORIZONS = [1, 10, 100, 1000, 10_000, 1_000_000]


def _problems() -> list[Quadratic]:
    return [
        exact_problem(20, seed=4),  # H = X X^T, X 20 x 40: alpha, L - alpha = Omega(d)
        exact_problem(12, seed=11, kind="wishart"),  # H = X^T X square: tiny alpha
        Quadratic.from_spectrum(np.array([1.0, 1.0 + 2.0**-20, 3.0, 7.0, 7.0 + 2.0**-12]), seed=2),
    ]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("objective", ["log", "naive"])
@pytest.mark.parametrize("t", HORIZONS)
def test_stable_accurate_on_grid(dtype: str, objective: str, t: int) -> None:
    if objective == "naive" and dtype == "float32" and t > 10_000:
        # the naive F' carries rho^(2t) unnormalized: rounding rho once is amplified 2t times,
        # 2t u32 kappa_eta > 1/2 at t = 1e6, where the error model (verify.compare.TOLERANCES)
        # claims no accuracy at all
        pytest.skip("naive objective beyond the float32 error model at t = 1e6")
    for q in _problems():
        etas = eta_grid(q, MULTIPLES)
        res = meta_gradient(q, etas, t, objective=objective, dtype=dtype, backend="stable")
        truths = [truth.meta_gradient(q, e, t, objective=objective) for e in etas]
        keep = [i for i, tr in enumerate(truths) if np.isfinite(tr.to_float(dtype))]
        # naive F' beyond the float range is +-inf exactly; those points must be inf too
        for i in set(range(len(etas))) - set(keep):
            assert res.grad[i] == truths[i].to_float(dtype)
        assert_meta_gradient_accurate([res.point(i) for i in keep], [truths[i] for i in keep])


def test_stable_accurate_where_backprop_fails() -> None:
    q = exact_problem(20, seed=4)
    etas = eta_grid(q, [0.3, 1.0, 2 * q.L / (q.L + q.alpha), 2.5, 10.0])
    for t in (1000, 10_000):
        truths = [truth.meta_gradient(q, e, t) for e in etas]
        predicted = predict_failure(q, etas, t, dtype="float32")
        assert sum(p.verdict == "fails" for p in predicted) >= 3
        bp = classify_all(meta_gradient(q, etas, t, dtype="float32"), truths)
        st = classify_all(meta_gradient(q, etas, t, dtype="float32", backend="stable"), truths)
        assert all(o is Outcome.ACCURATE for o in st), st
        assert sum(o.is_failure for o in bp) >= 3, bp


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_stable_general_problem(dtype: str) -> None:
    # b != 0 and a separate evaluation loss (train-by-validation), paper notes §2.4
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 6))
    y = X @ rng.standard_normal(6) + 0.3 * rng.standard_normal(40)
    train, valid = LeastSquares(X[:25], y[:25]), LeastSquares(X[25:], y[25:])
    L = train.L
    etas = [m / L for m in (0.1, 0.9, 1.8, 2.2)]
    compared = 0
    for ev in (None, valid):
        for t in (1, 10, 100, 1000, 10_000):
            for obj in ("log", "naive"):
                res = meta_gradient(
                    train, etas, t, objective=obj, eval_problem=ev, dtype=dtype, backend="stable"
                )
                points, truths = [], []
                for i, e in enumerate(etas):
                    tr = truth.meta_gradient(train, e, t, objective=obj, eval_problem=ev)
                    if np.isfinite(tr.to_float(dtype)):
                        points.append(res.point(i))
                        truths.append(tr)
                assert_meta_gradient_accurate(points, truths)
                compared += len(points)
    assert compared >= 60


def test_stable_value_matches_truth() -> None:
    # F = (k/t) ln rho + (ln|m| + ln D)/t with k in {0, t, 2t}: each logarithm's argument
    # carries the O(d) roundings of a length-d sum (relative gamma_d, i.e. absolute d u in the
    # log), so |err F| <= u k_sum d max(1, |F|) with k_sum from the float64 tolerance table
    tol = TOLERANCES["float64"]
    q = exact_problem(10, seed=2)
    etas = eta_grid(q, [0.5, 1.9, 2.5])
    for t in (10, 10_000, 1_000_000):
        res = meta_gradient(q, etas, t, dtype="float64", backend="stable")
        for i, e in enumerate(etas):
            exact = float(truth.meta_objective(q, e, t))
            bound = tol.u * tol.k_sum * q.d * max(1.0, abs(exact))
            assert abs(float(res.value[i]) - exact) <= bound, (e.hex(), t)


def test_stable_cancellation_example_is_classified() -> None:
    # found by Hypothesis: the eigenvalues of H = I + O(u) coincide in float64, so with eta = 1
    # every 1 - eta lambda_i is 0 and f(w_t) = 0, while the exact F' ~ 4e16 lives in the O(u)
    # splitting; the error model claims nothing (tolerance 0) and the NaN is classified
    H = np.array([[1.0, float.fromhex("0x1.a877fa058ffeep-55")], [0.0, 1.0]])
    H[1, 0] = H[0, 1]
    q = Quadratic(H, [0.80911452, 0.58765101])
    res = meta_gradient(q, 1.0, 1, dtype="float64", backend="stable")
    assert tolerance(res) == 0.0
    assert classify_all(res, [truth.meta_gradient(q, 1.0, 1)])[0].is_failure


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_stable_refuses_narrow_dtypes(dtype: str) -> None:
    with pytest.raises(UnsupportedOptionError):
        meta_gradient(exact_problem(3, seed=0), 0.1, 5, dtype=dtype, backend="stable")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@given(data=st.data())
def test_stable_accurate_property(dtype: str, data: st.DataObject) -> None:
    q = data.draw(vs.quadratics(max_dim=8, max_condition=1e3))
    eta = data.draw(vs.step_sizes(q, regime="any"))
    t = data.draw(vs.horizons(max_t=1_000_000))
    try:
        exact = truth.meta_gradient(q, eta, t)
    except ZeroLossError:  # eta lambda = 1 for every mode: f(w_t) = 0 exactly
        assume(False)
        raise
    res = meta_gradient(q, eta, t, dtype=dtype, backend="stable")
    # the claim is "accurate wherever the error model claims accuracy": it claims nothing
    # where every 1 - eta lambda_i cancels to rounding level (rho ~ u; Hypothesis found H ~ I,
    # eta = 1, kept below as a classified example)
    assume(tolerance(res) > 0)
    assert_meta_gradient_accurate(res, [exact])


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("objective", ["log", "naive"])
@given(data=st.data())
def test_stable_accurate_property_deep(dtype: str, objective: str, data: st.DataObject) -> None:
    q = data.draw(vs.quadratics(max_dim=16, max_condition=1e4, spectrum="two_cluster"))
    eta = data.draw(vs.step_sizes(q, regime="any"))
    t = data.draw(vs.horizons(max_t=1_000_000 if objective == "log" else 10_000))
    try:
        exact = truth.meta_gradient(q, eta, t, objective=objective)
    except (ZeroLossError, NotCertifiedError):
        assume(False)
        raise
    res = meta_gradient(q, eta, t, objective=objective, dtype=dtype, backend="stable")
    assume(tolerance(res) > 0)
    if np.isfinite(exact.to_float(dtype)):
        assert_meta_gradient_accurate(res, [exact])
