"""The l2l-verify pytest plugin, used from this repository's own suite (it is installed here).

Verdicts of ``l2l_check`` (accurate / known failure as strict xfail / not judged / accuracy
report), validation of the marker and the options, parametrization of ``l2l_backend`` and
``l2l_dtype``.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.backprop._backprop_inputs import eta_grid, exact_problem
from verify import strategies as vs
from verify import truth
from verify.backprop import BackpropResult, meta_gradient, predict_failure
from verify.errors import ArgumentError, InvalidPrecisionError, UnknownOptionError
from verify.pytest_plugin import (
    Backend,
    CertifiedTruth,
    Ledger,
    MarkerArgs,
    MetaGradientCheck,
    PluginSettings,
)

# q = exact_problem(10, seed=4), eta = 2/(L + alpha) in float32, t = 1000: plain float32
# backprop of the log objective is in the registered region 'backprop-exponent-range'
# (f(w_t) ~ rho^(2t) underflows), while the stable closed form is accurate there
KNOWN_T = 1000


def _known_point() -> tuple[object, float]:
    q = exact_problem(10, seed=4)
    return q, eta_grid(q, [2 * q.L / (q.L + q.alpha)])[0]


def _fresh_check() -> MetaGradientCheck:
    return MetaGradientCheck(CertifiedTruth(), Ledger())


@pytest.mark.meta_gradient(backends=["numpy", "stable"], dtypes=["float64"])
def test_backends_and_dtypes_are_parametrized(
    request: pytest.FixtureRequest,
    l2l_backend: Backend,
    l2l_dtype: str,
    l2l_check: MetaGradientCheck,
) -> None:
    assert request.node.callspec.id in ("numpy-float64", "stable-float64")
    q = exact_problem(6, seed=3)
    etas = eta_grid(q, [0.3, 0.7])
    res = l2l_backend(q, etas, 50, dtype=l2l_dtype)
    verdicts = l2l_check.result(res)
    assert [v.status for v in verdicts] == ["passed", "passed"]
    assert {v.source for v in verdicts} == {str(l2l_backend)}


@pytest.mark.meta_gradient(dtypes=["float32"])
@given(q=vs.quadratics(max_dim=4, max_condition=50.0), data=st.data())
def test_check_inside_hypothesis(
    q: object, data: st.DataObject, l2l_dtype: str, l2l_check: MetaGradientCheck
) -> None:
    eta = data.draw(vs.step_sizes(q, regime="vanishing"))  # type: ignore[arg-type]
    # plain float backprop is only expected to work where Corollary 1 predicts every
    # magnitude inside the normal range: near the edge (f(w_t) subnormal, e.g. d = 1,
    # eta = 0.90625, t = 20 in float32) it returns -inf, and the strict judge fails it
    assume(predict_failure(q, eta, 20, dtype=l2l_dtype)[0].verdict == "safe")  # type: ignore[arg-type]
    res = meta_gradient(q, eta, 20, dtype=l2l_dtype, mode="forward")  # type: ignore[arg-type]
    got = l2l_check(q, eta, 20, res.grad, dtype=l2l_dtype)  # type: ignore[arg-type]
    assert got.status in ("passed", "not_judged", "expected_failure")


def test_known_failure_region_is_a_strict_xfail(l2l_check: MetaGradientCheck) -> None:
    q, eta = _known_point()
    res = meta_gradient(q, eta, KNOWN_T, dtype="float32")  # type: ignore[arg-type]
    with pytest.raises(pytest.xfail.Exception, match="backprop-exponent-range"):
        l2l_check.result(res)


def test_accurate_result_in_a_known_region_fails_strictly() -> None:
    q, eta = _known_point()
    good = meta_gradient(q, eta, KNOWN_T, dtype="float32", backend="stable")  # type: ignore[arg-type]
    check = _fresh_check()
    with pytest.raises(pytest.fail.Exception, match=r"\[XPASS\(strict\)\].*stale"):
        check(q, eta, KNOWN_T, good.grad, dtype="float32", like="numpy")  # type: ignore[arg-type]
    # judged like the stable closed form, the same value is simply accurate
    assert check(q, eta, KNOWN_T, good.grad, dtype="float32", like="stable").status == "passed"  # type: ignore[arg-type]


def test_wrong_meta_gradient_fails_with_an_accuracy_report() -> None:
    q = exact_problem(6, seed=3)
    eta = eta_grid(q, [0.7])[0]
    res = meta_gradient(q, eta, 30, dtype="float32")
    check = _fresh_check()
    wrong = np.float32(res.grad) * np.float32(1.5)
    with pytest.raises(AssertionError, match=r"(?s)1 of 1 meta-gradients failed.*bits.*@example"):
        check(q, eta, 30, wrong, dtype="float32")
    assert check.ledger.counts[("user", "float32")]["inaccurate"] == 1
    assert check(q, eta, 30, res.grad, dtype="float32").status == "passed"
    lines = check.ledger.lines()
    assert lines[0].startswith("source/dtype checks accurate inaccurate")
    assert lines[1].split()[:4] == ["user/float32", "2", "1", "1"]


def test_check_arguments_are_validated() -> None:
    q = exact_problem(4, seed=1)
    check = _fresh_check()
    with pytest.raises(ArgumentError) as exc:
        check(q, 0.01, 10, 0.1, dtype="float32")  # 0.1 is not a float32 value
    assert exc.value.argument == "grad"
    with pytest.raises(UnknownOptionError):
        check(q, 0.01, 10, 0.5, dtype="float8")
    with pytest.raises(UnknownOptionError) as exc:
        check(q, 0.01, 10, 0.5, dtype="float32", like="cupy")
    assert exc.value.argument == "like"
    with pytest.raises(ArgumentError) as exc:
        check(q, "0.01", 10, 0.5, dtype="float32")
    assert exc.value.argument == "eta"
    for bad in ("0.5", None, [0.5]):
        with pytest.raises(ArgumentError) as exc:
            check(q, 0.01, 10, bad, dtype="float32")
        assert exc.value.argument == "grad"
    # an exact rational step size is judged at that rational (the truth is certified there)
    exact = truth.meta_gradient(q, Fraction(1, 64), 10).to_float("float32")
    assert check(q, Fraction(1, 64), 10, exact, dtype="float32").status == "passed"


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"colour": "red"}, "colour"),
        ({"objective": "squared"}, "objective"),
        ({"backends": ["numpy", "tensorflow"]}, "backends"),
        ({"dtypes": "float128"}, "dtypes"),
        ({"like": "cupy"}, "like"),
        ({"known_failures": "yes"}, "known_failures"),
    ],
)
def test_marker_arguments_are_validated(kwargs: dict[str, object], argument: str) -> None:
    with pytest.raises(UnknownOptionError) as exc:
        MarkerArgs.from_marker(pytest.mark.meta_gradient(**kwargs).mark)
    assert exc.value.argument == argument
    assert MarkerArgs.from_marker(None) == MarkerArgs()


def test_options_are_validated() -> None:
    with pytest.raises(UnknownOptionError) as exc:
        PluginSettings.from_options("numpy,theano", None, None)
    assert exc.value.argument == "--l2l-backends"
    with pytest.raises(UnknownOptionError):
        PluginSettings.from_options(None, "fp8", None)
    with pytest.raises(InvalidPrecisionError):
        PluginSettings.from_options(None, None, 8)
    s = PluginSettings.from_options(" numpy , stable", "float64", 120)
    assert (s.backends, s.dtypes, s.precision_bits) == (("numpy", "stable"), ("float64",), 120)


def test_truth_fixture_is_certified_and_memoized(l2l_truth: CertifiedTruth) -> None:
    q = exact_problem(5, seed=2)
    eta = eta_grid(q, [0.5])[0]
    a = l2l_truth.meta_gradient(q, eta, 40)
    assert a.rel_radius() <= 2.0**-l2l_truth.precision_bits
    assert l2l_truth.meta_gradient(q, eta, 40) is a
    assert isinstance(meta_gradient(q, eta, 40), BackpropResult)


def test_a_batch_is_judged_whole_before_it_concludes() -> None:
    q, eta = _known_point()
    small = eta_grid(q, [0.05])[0]  # f(w_t) stays in float32 range: judged, accurate
    res = meta_gradient(q, [small, eta], KNOWN_T, dtype="float32")  # type: ignore[arg-type]
    check = _fresh_check()
    with pytest.raises(pytest.xfail.Exception, match="backprop-exponent-range"):
        check.result(res)
    counts = check.ledger.counts[("numpy", "float32")]
    assert (counts["accurate"], counts["known_failure"]) == (1, 1)


@pytest.mark.meta_gradient(dtypes=["float64"])
@pytest.mark.parametrize(argnames="l2l_dtype", argvalues=["float32"])
def test_own_parametrization_wins(l2l_dtype: str) -> None:
    assert l2l_dtype == "float32"
