"""verify.compare: exact metrics in the result's dtype, outcome precedence, accuracy reports."""

from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest

from tests.backprop._backprop_inputs import eta_grid, exact_problem
from verify import truth
from verify.backprop import BackpropResult, Diagnostics, meta_gradient
from verify.compare import (
    MODEL_LIMIT,
    TOLERANCES,
    Outcome,
    accuracy,
    assert_meta_gradient_accurate,
    classify,
    tolerance,
)
from verify.floats import FORMATS, get_format, ulp_distance
from verify.truth import Enclosure

CLEAN = Diagnostics(1.0, 1.0, 1.0, 1.0, None, None, None, 1.0)


def _base() -> tuple[BackpropResult, Enclosure]:
    q = exact_problem(6, seed=3)
    eta = eta_grid(q, [0.7])[0]
    res = meta_gradient(q, eta, 20, dtype="float32")
    return res, truth.meta_gradient(q, eta, 20)


def _with(
    res: BackpropResult, grad: float, *, value: float = 1.0, diag: Diagnostics = CLEAN
) -> BackpropResult:
    return replace(res, grad=np.float32(grad), value=np.float32(value), diagnostics=diag)


def test_ulp_distance_is_exact_in_each_format() -> None:
    for name in FORMATS:
        fmt = get_format(name)
        one_up = 1.0 + math.ldexp(1.0, 1 - fmt.precision)
        assert ulp_distance(1.0, one_up, name) == 1
        below = 1.0 - math.ldexp(1.0, -fmt.precision)  # largest float below 1 (binade change)
        assert ulp_distance(below, one_up, name) == 2
        tiny = math.ldexp(1.0, fmt.emin - fmt.precision + 1)  # smallest subnormal
        assert ulp_distance(-tiny, tiny, name) == 2 and ulp_distance(0.0, -0.0, name) == 0
        assert ulp_distance(1.0, math.inf, name) == math.inf


def test_accuracy_metrics_in_result_dtype() -> None:
    enc = Enclosure.exact(1)
    acc = accuracy(float(np.float32(1) + np.finfo(np.float32).eps), enc, "float32")
    assert acc.ulps == 1 and acc.bits == 1 and acc.rel_u == 2
    # an enclosure rounded once to float32, not via float64
    third = Enclosure(Fraction(1, 3) - Fraction(1, 10**40), Fraction(1, 3) + Fraction(1, 10**40))
    assert accuracy(float(np.float32(1 / 3)), third, "float32").ulps == 0


def test_tolerance_table_covers_every_dtype_and_scales_with_t() -> None:
    assert set(TOLERANCES) == set(FORMATS)
    assert TOLERANCES["float16"].k_horizon >= TOLERANCES["float64"].k_horizon
    q = exact_problem(6, seed=3)
    eta = eta_grid(q, [0.7])[0]
    short = tolerance(meta_gradient(q, eta, 10, dtype="float64"))
    long = tolerance(meta_gradient(q, eta, 1000, dtype="float64"))
    assert 0 < short < long
    stable = tolerance(meta_gradient(q, eta, 1000, dtype="float64", backend="stable"))
    assert stable < long  # the normalized formula does not accumulate per-step error
    assert MODEL_LIMIT <= 0.5


def test_outcome_precedence() -> None:
    res, exact = _base()
    ref = exact.to_float("float32")
    assert classify(_with(res, ref), exact) is Outcome.ACCURATE
    assert classify(_with(res, math.nan), exact) is Outcome.NAN
    assert classify(_with(res, math.inf), exact) is Outcome.OVERFLOW
    # 0 with an overflowed objective: silently wrong even if an underflow was also flagged
    both = Diagnostics(1.0, 1.0, 1.0, 1.0, 5, 7, None, math.inf)
    assert classify(_with(res, 0.0, value=math.inf, diag=both), exact) is Outcome.SILENTLY_WRONG
    flagged = Diagnostics(1.0, 1e-45, 1.0, 1.0, None, 12, None, 0.0)
    assert classify(_with(res, 0.0, diag=flagged), exact) is Outcome.UNDERFLOW
    assert classify(_with(res, 1e-42, diag=flagged), exact) is Outcome.UNDERFLOW  # subnormal
    assert classify(_with(res, 0.0), exact) is Outcome.SILENTLY_WRONG  # no flag: silent
    assert classify(_with(res, -ref), exact) is Outcome.SILENTLY_WRONG  # wrong sign
    assert classify(_with(res, 3 * ref), exact) is Outcome.SILENTLY_WRONG  # factor > 2
    assert classify(_with(res, ref * (1 + 2.0**-8)), exact) is Outcome.INACCURATE


def test_infinite_result_equal_to_infinite_truth_is_accurate() -> None:
    q = exact_problem(6, seed=3)
    eta = eta_grid(q, [3.0])[0]
    exact = truth.meta_gradient(q, eta, 200, objective="naive")
    assert math.isinf(exact.to_float("float32"))
    res = meta_gradient(q, eta, 200, objective="naive", dtype="float32", backend="stable")
    assert classify(res, exact) is Outcome.ACCURATE


def test_classify_refuses_batches() -> None:
    res, exact = _base()
    batch = meta_gradient(res.problem, [0.01, 0.02], 5) if res.problem else res  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="scalar"):
        classify(batch, exact)


def test_assertion_report_is_an_accuracy_report() -> None:
    q = exact_problem(20, seed=4)
    eta = eta_grid(q, [2 * q.L / (q.L + q.alpha)])[0]
    ok_eta = eta_grid(q, [2.0])[0]
    res = meta_gradient(q, [eta, ok_eta], 1000, dtype="float32")
    with pytest.raises(AssertionError) as exc:
        assert_meta_gradient_accurate(
            res, [truth.meta_gradient(q, eta, 1000), truth.meta_gradient(q, ok_eta, 1000)]
        )
    msg = str(exc.value)
    assert "1 of 2" in msg and "ulps" in msg and "bits" in msg
    assert float(eta).hex() in msg and "tolerance" in msg and "kappa" in msg
    assert "nan" in msg and "@example" in msg
