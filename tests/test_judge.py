"""verify.check_meta_gradient: the strictness rules of verify.judge, one test per rule, the
points that used to pass as "not judged", a property test that failures never pass, and the
exact reading of every scalar type users hand in.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from verify import Quadratic, Verdict, check_meta_gradient, truth
from verify import strategies as vs
from verify.backprop import BACKENDS, predict_failure
from verify.compare import MODEL_LIMIT, Outcome
from verify.errors import ArgumentError, ShapeMismatchError, UnknownOptionError, ZeroLossError
from verify.floats import get_format
from verify.judge import STATUSES, judge_result
from verify.truth import Enclosure

INF, NAN = math.inf, math.nan


@pytest.fixture(scope="module")
def wide() -> Quadratic:
    """The issue's problem: spectrum geomspace(1, 100, 10), L = 100, alpha = 1."""
    return Quadratic.from_spectrum(np.geomspace(1, 100, 10), seed=0)


@pytest.fixture(scope="module")
def narrow() -> Quadratic:
    """Spectrum [10, 100]: at eta = 1/L, t = 5000 the naive F' ~ -5.6e-454 rounds to -0.0."""
    return Quadratic.from_spectrum(np.geomspace(10, 100, 10), seed=0)


def _check(q: Quadratic, eta: object, t: int, grad: object, **kw: object) -> Verdict:
    return check_meta_gradient(q, eta, t, grad, **kw)  # type: ignore[arg-type]


# ------------------------------------------------------------- the points of the issue
def test_explosion_point_beyond_float64_is_judged(wide: Quadratic) -> None:
    """eta = 2.5/L, t = 1000, naive, float64: F' ~ 8.6e357 rounds to +inf. The old plugin
    computed an infinite scale, a zero tolerance, and let NaN, 0 and -1 pass."""
    eta, kw = 2.5 / wide.L, {"dtype": "float64", "objective": "naive"}
    got = {g: _check(wide, eta, 1000, g, **kw) for g in (NAN, 0.0, -1.0, INF, 1.7e308)}
    assert [(v.outcome, v.passed) for v in got.values()] == [
        (Outcome.NAN, False),
        (Outcome.SILENTLY_WRONG, False),  # a zero with nothing showing why
        (Outcome.SILENTLY_WRONG, False),  # wrong sign
        (Outcome.ACCURATE, True),  # +inf IS the correctly rounded truth
        (Outcome.SILENTLY_WRONG, False),  # off by a factor 1e50
    ]
    v = got[0.0]
    assert v.judged and v.bound.exists and v.tolerance == INF  # a bound, beyond float64
    assert v.bound.log_abs > 700  # ln of the absolute bound: finite, compared in log space
    assert "8.626641970046284e+357" in repr(v.truth) and "8.62664e+357" in str(v.truth)
    assert "0 with no sign of underflow" in v.reason


def test_float32_log_point_the_prediction_leaves_undecided(wide: Quadratic) -> None:
    """eta = float32(1/L), t = 5000, log, float32: ln f(w_t) = -104.47 is below ln of half the
    smallest float32 subnormal, yet predict_failure says "boundary" (its margin). A model
    that is undecided never excuses a failure."""
    eta = np.float32(1 / wide.L)
    assert predict_failure(wide, float(eta), 5000, dtype="float32")[0].verdict == "boundary"
    enc = truth.meta_objective(wide, float(eta), 5000, objective="log")
    ln_f = enc.to_float("float64") * 5000
    assert ln_f < math.log(2.0**-150)  # f(w_t) certainly rounds to 0 in float32
    kw = {"dtype": "float32", "objective": "log"}
    nan, wrong = _check(wide, eta, 5000, NAN, **kw), _check(wide, eta, 5000, 123.0, **kw)
    assert (nan.outcome, nan.status) == (Outcome.NAN, "failed")
    assert (wrong.outcome, wrong.status) == (Outcome.SILENTLY_WRONG, "failed")
    assert wrong.truth.sign() == -1 and "wrong sign" in wrong.reason
    # underflow is reachable through the API: the reported F = -inf shows f(w_t) = 0
    under = _check(wide, eta, 5000, 0.0, value=-INF, **kw)
    assert (under.outcome, under.status) == (Outcome.UNDERFLOW, "failed")
    silent = _check(wide, eta, 5000, 0.0, **kw)  # the same zero with no evidence
    assert silent.outcome is Outcome.SILENTLY_WRONG
    # an inaccurate value there is the one thing the model may leave unjudged
    rough = _check(wide, eta, 5000, np.float32(wrong.truth_rounded * 1.25), **kw)
    assert (rough.outcome, rough.status, rough.judged) == (Outcome.INACCURATE, "not_judged", False)


def test_truth_that_rounds_to_zero(narrow: Quadratic) -> None:
    """A leftover subnormal is an underflow artifact; a normal-size value (the flushed JAX
    adjoint's -1.6e-304) is silently wrong; +-0 and the nearest subnormal of the right sign
    are the correctly rounded answer."""
    eta, kw = 1 / narrow.L, {"dtype": "float64", "objective": "naive"}
    v0 = _check(narrow, eta, 5000, -0.0, **kw)
    assert v0.truth_rounded == 0.0 and math.copysign(1, v0.truth_rounded) == -1
    expected = [  # a list, not a dict: -0.0 and 0.0 are equal keys
        (-0.0, "passed", Outcome.ACCURATE),
        (0.0, "passed", Outcome.ACCURATE),  # signed zeros coincide
        (-(2.0**-1074), "passed", Outcome.ACCURATE),  # 1 ulp, right sign
        (2.0**-1074, "failed", Outcome.SILENTLY_WRONG),  # 1 ulp, but the certified sign is -
        (-1e-310, "failed", Outcome.UNDERFLOW),  # a leftover of gradual underflow
        (-1.6e-304, "failed", Outcome.SILENTLY_WRONG),  # spurious normal-size value
    ]
    for g, status, outcome in expected:
        v = _check(narrow, eta, 5000, g, **kw)
        assert (v.status, v.outcome) == (status, outcome), (g, v.reason)


# ------------------------------------------------------------- the rules, one by one
def test_rule_failures_pass_only_inside_a_known_region(wide: Quadratic) -> None:
    """Rule 2: a failure passes only as a strict expected failure in a registered region; an
    accurate result there does not pass (the region is stale)."""
    eta = 2.5 / wide.L  # plain float64 backprop of the log objective overflows at t = 1000
    kw = {"dtype": "float64", "objective": "log"}
    inside = _check(wide, eta, 1000, NAN, **kw)
    assert (inside.status, inside.passed) == ("expected_failure", True)
    assert inside.known_failure == "backprop-exponent-range"
    off = _check(wide, eta, 1000, NAN, known_failures=False, **kw)
    assert (off.status, off.passed, off.known_failure) == ("failed", False, None)
    good = _check(wide, eta, 1000, inside.truth_rounded, **kw)
    assert (good.outcome, good.status, good.passed) == (Outcome.ACCURATE, "xpass", False)
    assert "[XPASS(strict)]" in good.reason
    # the stable closed form has no such region: the same value simply passes
    assert _check(wide, eta, 1000, inside.truth_rounded, like="stable", **kw).status == "passed"


def test_rule_only_accuracy_is_left_unjudged_where_no_bound_exists(wide: Quadratic) -> None:
    """Rule 3: float16 stepwise backprop at t = 500 has u * t * ... > MODEL_LIMIT: no bound.
    A right-sign value within a factor 2 is then not judged; every failure class still fails."""
    eta, t, kw = 1 / wide.L, 500, {"dtype": "float16", "objective": "naive"}
    ref = _check(wide, eta, t, 0.0, known_failures=False, **kw)
    assert not ref.bound.exists and ref.tolerance is None
    assert ref.bound.rel is None and get_format("float16").unit_roundoff * t > MODEL_LIMIT / 10
    r = ref.truth_rounded
    assert r != 0 and math.isfinite(r)
    f16 = np.float16
    cases = {
        f16(r * 1.25): ("not_judged", Outcome.INACCURATE),
        f16(r): ("passed", Outcome.ACCURATE),
        NAN: ("failed", Outcome.NAN),
        INF if r < 0 else -INF: ("failed", Outcome.OVERFLOW),
        f16(-r): ("failed", Outcome.SILENTLY_WRONG),
        f16(r * 3): ("failed", Outcome.SILENTLY_WRONG),
    }
    for g, (status, outcome) in cases.items():
        v = _check(wide, eta, t, g, known_failures=False, **kw)
        assert (v.status, v.outcome) == (status, outcome), (g, v.reason)
        assert v.judged == (status != "not_judged")


def test_rule_evidence_from_value(wide: Quadratic) -> None:
    """Rules 1 and 5: F = inf turns a zero into an overflowed-objective zero; F = 0 (naive)
    or -inf (log) makes a zero an underflow."""
    eta = float(np.float32(1 / wide.L))
    kw = {"dtype": "float32", "objective": "naive"}
    assert _check(wide, eta, 2000, 0.0, value=0.0, **kw).outcome is Outcome.UNDERFLOW
    assert _check(wide, eta, 2000, 0.0, **kw).outcome is Outcome.SILENTLY_WRONG
    over = _check(wide, 2.5 / wide.L, 50, 0.0, value=INF, dtype="float64", objective="log")
    assert over.outcome is Outcome.SILENTLY_WRONG and "overflowed objective" in over.reason


def test_statuses_and_report(wide: Quadratic) -> None:
    v = _check(wide, np.float32(0.015), 40, 1.0, dtype="float32")
    assert v.status in STATUSES and not v.passed
    text = v.report()
    assert text.startswith("FAILED: silently_wrong")
    assert float(np.float32(0.015)).hex() in text and "@example(" in text and "bits" in text
    assert "t=40" in v.example()
    small = Quadratic([[2.0, 0.5], [0.5, 1.0]], [0.75, 0.25])
    ex = _check(small, Fraction(1, 3), 5, 0.5, dtype="float64").example()
    assert "Quadratic([[" in ex and "eta=Fraction(1, 3)" in ex


def test_judge_result_uses_the_backend_diagnostics(wide: Quadratic) -> None:
    from verify.backprop import meta_gradient

    eta = float(np.float32(1 / wide.L))
    res = meta_gradient(wide, [eta, 0.5 / wide.L], 5000, dtype="float32")
    truths = [truth.meta_gradient(wide, e, 5000) for e in (eta, 0.5 / wide.L)]
    v = judge_result(res, truths, known_failures=False)
    assert [x.source for x in v] == ["numpy", "numpy"]
    assert v[0].outcome.is_failure and not v[0].passed
    with pytest.raises(ValueError, match="2 results but 1"):
        judge_result(res, truths[:1])


# ------------------------------------------------------------- property: failures never pass
@given(
    q=vs.quadratics(max_dim=4, max_condition=100.0, exact_in="float32"),
    t=vs.horizons(max_t=300),
    data=st.data(),
    objective=st.sampled_from(["log", "naive"]),
    dtype=st.sampled_from(["float32", "float64"]),
    like=st.sampled_from(BACKENDS),
    value=st.sampled_from([None, NAN, INF, -INF, 0.0, 1.0]),
)
def test_failures_never_pass_and_the_rounded_truth_always_does(
    q: Quadratic,
    t: int,
    data: st.DataObject,
    objective: str,
    dtype: str,
    like: str,
    value: float | None,
) -> None:
    """Whatever the error model, the prediction and the reported value say: NaN, an infinity
    where the truth rounds to a finite number, and a finite value of the wrong certified sign
    never pass; the correctly rounded truth always passes (no known-failure region applies
    here: that is the one documented exception, tested above)."""
    eta = data.draw(vs.step_sizes(q, regime="any"), label="eta")
    try:
        enc = truth.meta_gradient(q, eta, t, objective=objective)
    except ZeroLossError:
        return  # f(w_t) = 0 exactly: F' does not exist, nothing to judge
    ref = enc.to_float(dtype)
    kw = {"dtype": dtype, "objective": objective, "like": like, "certified": enc}
    judge = {**kw, "known_failures": False}
    good = _check(q, eta, t, ref, **judge)
    assert good.passed and good.outcome is Outcome.ACCURATE, good.report()
    assert not _check(q, eta, t, NAN, value=value, **judge).passed
    if math.isfinite(ref):
        for inf in (INF, -INF):
            assert not _check(q, eta, t, inf, value=value, **judge).passed
    if not enc.contains_zero():
        mags = (
            st.floats(2.0**-149, 2.0**127, width=32)
            if dtype == "float32"
            else st.floats(5e-324, 1e308)
        )
        mag = data.draw(mags, label="wrong-sign magnitude")
        wrong = -math.copysign(mag, enc.sign())
        v = _check(q, eta, t, wrong, value=value, **judge)
        assert not v.passed and v.outcome.is_failure, v.report()


# ------------------------------------------------------------- input types and bad input
def test_every_scalar_type_is_read_exactly(wide: Quadratic) -> None:
    torch = pytest.importorskip("torch")
    jnp = pytest.importorskip("jax.numpy")
    eta32 = np.float32(0.01)
    exact = Fraction(float(eta32))
    assert exact != Fraction(1, 100)
    base = _check(wide, eta32, 30, 0.0, dtype="float32")
    g = base.truth_rounded
    for eta in (eta32, np.array(eta32), torch.tensor(0.01), jnp.float32(0.01), float(eta32)):
        for grad in (g, np.float32(g), np.array(g, dtype=np.float32), torch.tensor(g)):
            v = _check(wide, eta, 30, grad, dtype="float32")
            assert v.eta == exact and v.status == "passed"
    bf = torch.tensor(g, dtype=torch.bfloat16)
    v = _check(wide, eta32, 30, bf, dtype="bfloat16")
    assert v.grad == float(bf.float().item())
    assert _check(wide, Fraction(1, 100), 30, g, dtype="float32").eta == Fraction(1, 100)


@pytest.mark.parametrize(
    ("kwargs", "argument", "error"),
    [
        ({"grad": "0.5"}, "grad", ArgumentError),
        ({"grad": None}, "grad", ArgumentError),
        ({"grad": [0.5]}, "grad", ArgumentError),
        ({"grad": np.zeros(2)}, "grad", ShapeMismatchError),
        ({"grad": 0.1}, "grad", ArgumentError),  # not a float32 value
        ({"grad": True}, "grad", ArgumentError),
        ({"value": "x"}, "value", ArgumentError),
        ({"value": 0.1}, "value", ArgumentError),
        ({"dtype": "float8"}, "dtype", UnknownOptionError),
        ({"objective": "squared"}, "objective", UnknownOptionError),
        ({"like": "cupy"}, "like", UnknownOptionError),
        ({"known_failures": "yes"}, "known_failures", ArgumentError),
        ({"source": 3}, "source", ArgumentError),
        ({"eta": "0.01"}, "eta", ArgumentError),
        ({"eta": -0.5}, "eta", ArgumentError),
        ({"t": 2.5}, "t", ArgumentError),
        ({"t": 0}, "t", ArgumentError),
    ],
)
def test_bad_input_is_a_typed_error_naming_it(
    wide: Quadratic, kwargs: dict[str, object], argument: str, error: type[Exception]
) -> None:
    call: dict[str, object] = {"eta": 0.01, "t": 10, "grad": 0.5, "dtype": "float32"}
    call.update(kwargs)
    with pytest.raises(error) as exc:
        check_meta_gradient(wide, **call)  # type: ignore[arg-type]
    assert getattr(exc.value, "argument", None) == argument


def test_outside_the_log_domain_raises() -> None:
    q = Quadratic([[2.0]], [1.0])  # eta = 1/2: w_1 = 0 exactly, log f(w_1) does not exist
    with pytest.raises(ZeroLossError):
        check_meta_gradient(q, 0.5, 1, NAN, dtype="float64")


def test_enclosure_repr_never_raises() -> None:
    huge = Enclosure(Fraction(10**400), Fraction(10**400) + 1, 64)
    tiny = Enclosure(-Fraction(3, 10**500), -Fraction(3, 10**500), 64)
    assert repr(huge).startswith("Enclosure(mid=1.0e+400") and "e+400" in str(huge)
    assert "-3.0e-500" in repr(tiny) and str(tiny) == "[-3.00000e-500, -3.00000e-500]"
    assert repr(Enclosure.exact(0.5)) == "Enclosure(mid=0.5, rad=0, prec_bits=0)"
