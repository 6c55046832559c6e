"""Thresholds pinned at their edges: each probed just inside and just outside.

A threshold tested at one point far from its edge survives being moved by a factor of 10; here
every rule is evaluated at (threshold) x (1 +- e) with e small (2^-20 for exact rules, 1e-6 for
log-space model thresholds, far above the float64 noise of the predicates, ~1e-13), so moving
a threshold, dropping a margin or turning < into <= fails a test:

* the factor-of-2 rule of :func:`verify.compare.judge_value` (truth x (1/2 +- e), x (2 +- e));
* the error bound (:func:`verify.compare.error_bound`): its formula, results at the bound
  x (1 +- e), and :data:`~verify.compare.MODEL_LIMIT`;
* each known-failure region's thresholds (:mod:`verify.known_failures`);
* meta-gradient descent's reset to 0 and its count
  (:func:`verify.paper.metaopt.meta_gradient_descent`).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

import verify.known_failures as kf
from verify import Quadratic
from verify.backprop import Sensitivity
from verify.backprop.boundaries import MARGIN_NATS
from verify.certified.enclosure import Enclosure
from verify.compare import (
    MODEL_LIMIT,
    TOLERANCES,
    ErrorBound,
    Outcome,
    error_bound,
    judge_value,
)
from verify.floats import get_format
from verify.paper.metaopt import meta_gradient_descent

E_EXACT = 2.0**-20  # exact rules: the probes are exact floats
E_LOG = 1e-6  # log-space model thresholds (nats, relative)

NO_BOUND = ErrorBound("float64", None, 0.0)


# --------------------------------------------------------------------------- factor of 2
@pytest.mark.parametrize("x", [3.0, -3.0, 2.0**-900, -(2.0**700)])
@pytest.mark.parametrize(
    ("factor", "outcome"),
    [
        (0.5 - E_EXACT, Outcome.SILENTLY_WRONG),
        (0.5, Outcome.INACCURATE),
        (0.5 + E_EXACT, Outcome.INACCURATE),
        (2.0 - E_EXACT, Outcome.INACCURATE),
        (2.0, Outcome.INACCURATE),
        (2.0 + E_EXACT, Outcome.SILENTLY_WRONG),
    ],
)
def test_factor_of_two_rule_edges(x: float, factor: float, outcome: Outcome) -> None:
    """Within [1/2, 2] x truth (inclusive) and beyond the bound: inaccurate; outside: wrong."""
    g = x * factor  # exact: a power of two times a short significand
    assert Fraction(g) == Fraction(x) * Fraction(factor)
    j = judge_value(g, Enclosure.exact(Fraction(x)), NO_BOUND, objective="naive")
    assert j.outcome is outcome, j.reason


# --------------------------------------------------------------------------- error bound
SENS = Sensitivity(
    scale=1.0,
    kappa_f=2.0,
    kappa_eta=1.5,
    q=0.25,
    kappa_grad=3.0,
    kappa_aff=1.25,
    kappa_data=0.5,
    exponent_gap=2.0,
    log_scale=0.0,
)


@pytest.mark.parametrize(
    ("backend", "objective", "h"),
    [
        ("numpy", "log", 1.0),
        ("torch", "naive", 1.0),
        ("paper", "log", 2.0),
        ("stable", "naive", 2.0),
        ("stable", "log", None),
    ],
)
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_error_bound_formula(dtype: str, backend: str, objective: str, h: float | None) -> None:
    """rel = u (k_sum d max(kappa_f, kappa_grad) + k_h h sqrt(d) kappa_eta) kappa_aff, and for
    the stable form u (k_sum d (kappa_f + kappa_data) + k_h h sqrt(d) kappa_eta), with
    k = 8 (float16, bfloat16) or 4, h = t, 2t, or 2 t q + gap (stable log)."""
    t, d = 7, 4
    k = 8.0 if dtype in ("float16", "bfloat16") else 4.0
    assert TOLERANCES[dtype].k_sum == k and TOLERANCES[dtype].k_horizon == k
    hh = (2 * t * SENS.q + SENS.exponent_gap) if h is None else h * t
    steps = k * hh * math.sqrt(d) * SENS.kappa_eta
    if backend == "stable":
        units = k * d * (SENS.kappa_f + SENS.kappa_data) + steps
    else:
        units = (k * d * max(SENS.kappa_f, SENS.kappa_grad) + steps) * SENS.kappa_aff
    expected = get_format(dtype).unit_roundoff * units
    b = error_bound(dtype, backend, objective, t, d, SENS)
    if expected > MODEL_LIMIT:
        assert not b.exists
    else:
        assert b.rel == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(("dtype", "t"), [("float64", 10**6), ("float32", 10**5)])
@pytest.mark.parametrize(
    ("factor", "outcome"), [(1 - 1e-4, Outcome.ACCURATE), (1 + 1e-4, Outcome.INACCURATE)]
)
def test_result_at_the_bound_edges(dtype: str, t: int, factor: float, outcome: Outcome) -> None:
    """A result off by (bound x (1 -+ e)) from the truth is accurate / inaccurate."""
    sens = Sensitivity(scale=1.0, kappa_f=1.0, kappa_eta=1.0, q=0.0, log_scale=0.0)
    b = error_bound(dtype, "numpy", "naive", t, 4, sens)
    assert b.rel == get_format(dtype).unit_roundoff * (4 * 4 + 4 * t * 2)
    absolute = b.absolute()
    assert absolute is not None
    cast = np.float64 if dtype == "float64" else np.float32
    g = float(cast(1.0 + absolute * factor))
    err = abs(Fraction(g) - 1)
    assert abs(err / Fraction(absolute) - Fraction(factor)) < Fraction(1e-4) / 4  # rounding
    j = judge_value(g, Enclosure.exact(1), b, objective="naive")
    assert j.outcome is outcome, j.reason


@pytest.mark.parametrize(("factor", "exists"), [(1 - E_LOG, True), (1 + E_LOG, False)])
def test_model_limit_edge(factor: float, exists: bool) -> None:
    """rel just below MODEL_LIMIT: a bound; just above: none (d = 1, t = 1: rel = u (4 + 4 k))."""
    u = get_format("float64").unit_roundoff
    kappa_eta = (MODEL_LIMIT * factor / u - 4) / 4
    sens = Sensitivity(scale=1.0, kappa_f=1.0, kappa_eta=kappa_eta, q=0.0, log_scale=0.0)
    assert error_bound("float64", "numpy", "naive", 1, 1, sens).exists is exists


# --------------------------------------------------------------------------- known failures
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("factor", "inside"), [(1 - E_LOG, False), (1 + E_LOG, True)])
def test_rounding_floor_edge(
    monkeypatch: pytest.MonkeyPatch, dtype: str, factor: float, inside: bool
) -> None:
    """backprop-affine-rounding-floor: kappa_grad u > ROUNDING_FLOOR_FACTOR = 8 (b != 0)."""
    assert kf.ROUNDING_FLOOR_FACTOR == 8.0
    kg = 8.0 / get_format(dtype).unit_roundoff * factor
    fake = Sensitivity(scale=1.0, kappa_f=1.0, kappa_eta=1.0, q=0.0, kappa_grad=kg)
    monkeypatch.setattr(kf, "sensitivity", lambda *a, **k: [fake])
    q = Quadratic([[1.0]], [1.0], b=[0.5])
    assert kf._below_rounding_floor(q, 0.5, 10, dtype) is inside
    assert kf._below_rounding_floor(Quadratic([[1.0]], [1.0]), 0.5, 10, dtype) is False  # b = 0


def _c_for(ln_target: float, t: int, base: float) -> float:
    return math.exp((ln_target - base) / 2)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("edge", "sign", "inside"),
    [("low", -1, False), ("low", 1, True), ("high", -1, True), ("high", 1, False)],
)
def test_flush_region_edges(dtype: str, edge: str, sign: int, inside: bool) -> None:
    """xla-cpu-flush-to-zero: ln|F'| in [ln(min subnormal) + ln 8, ln(min normal) - ln 8].

    d = 1, H = 1, eta = 1/2: F' = -t c^2 (1/2)^(2t-1), c chosen to put ln|F'| at the edge +- e.
    """
    fmt = get_format(dtype)
    margin = math.log(kf.FLUSH_MARGIN)
    assert kf.FLUSH_MARGIN == 8.0
    lo = fmt.ln_min_subnormal + margin
    hi = fmt.emin * math.log(2.0) - margin
    target = (lo if edge == "low" else hi) + sign * E_LOG
    t = 70 if dtype == "float32" else 510
    base = math.log(t) + (2 * t - 1) * math.log(0.5)
    c = _c_for(target, t, base)
    q = Quadratic([[1.0]], [c])
    assert kf._flushed_subnormal_truth(q, 0.5, t, dtype) is inside


@pytest.mark.parametrize(("sign", "inside"), [(-1, True), (1, False)])
def test_flush_region_cancellation_edge(sign: int, inside: bool) -> None:
    """Terms of opposite sign closer than a factor FLUSH_MARGIN: not claimed.

    H = diag(1, 3), eta = 1/2: r = (1/2, -1/2); the minor term is ln 8 -+ e below the major.
    """
    t, dtype = 70, "float32"
    fmt = get_format(dtype)
    mid = (fmt.ln_min_subnormal + fmt.emin * math.log(2.0)) / 2
    base = math.log(t) + (2 * t - 1) * math.log(0.5)
    c1 = _c_for(mid, t, base)  # major term ~ middle of the subnormal range
    # minor: ln t + 2 ln 3 + 2 ln c2 + (2t-1) ln(1/2) = mid - ln 8 + sign e
    c2 = _c_for(mid - math.log(kf.FLUSH_MARGIN) + sign * E_LOG - 2 * math.log(3.0), t, base)
    q = Quadratic([[1.0, 0.0], [0.0, 3.0]], [c1, c2])
    assert kf._flushed_subnormal_truth(q, 0.5, t, dtype) is inside


@pytest.mark.parametrize(("factor", "inside"), [(1 - E_LOG, False), (1 + E_LOG, True)])
def test_published_scale_mismatch_edge(factor: float, inside: bool) -> None:
    """paper-unsorted-eig: 2t |ln(rho/s)| > ln(max) + 10 (rho/s > 1).

    H = diag(1, 4): np.linalg.eig returns (1, 4), so the code takes L = 1, alpha = 4 and
    s = 1 - 4 eta while rho = 1 - eta (eta < 2/5): rho/s = R at eta = (R - 1)/(4R - 1).
    """
    t, dtype = 1000, "float32"
    assert list(np.linalg.eig(np.diag([1.0, 4.0]))[0]) == [1.0, 4.0]
    R = math.exp((get_format(dtype).ln_max + 10) * factor / (2 * t))
    eta = (R - 1) / (4 * R - 1)
    q = Quadratic([[1.0, 0.0], [0.0, 4.0]], [0.6, 0.8])
    assert bool(kf._published_scale_mismatch(q, eta, t, dtype)) is inside


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("edge", "sign", "inside"),
    [("over", -1, False), ("over", 1, True), ("under", -1, True), ("under", 1, False)],
)
def test_exponent_range_edges(dtype: str, edge: str, sign: int, inside: bool) -> None:
    """backprop-exponent-range: ln f(w_t) beyond ln(max) + m or below ln(min subnormal) - m,
    m = MARGIN_NATS + ln d + ln kappa_f; for d = 1 kappa_f = ||H|| w_t^2 / f = 2.

    d = 1, H = 1, f(w_t) = c^2 r^(2t) / 2 with r = 1 - eta: eta = 3 (r = -2) overflows,
    eta = 1/2 underflows; c puts ln f at the edge +- e.
    """
    assert MARGIN_NATS == math.log(2.0) + 2.0
    fmt = get_format(dtype)
    m = MARGIN_NATS + math.log(2.0)
    t = 80 if dtype == "float32" else 560
    if edge == "over":
        eta, target = 3.0, fmt.ln_max + m + sign * E_LOG
    else:
        eta, target = 0.5, fmt.ln_min_subnormal - m + sign * E_LOG
    base = 2 * t * math.log(abs(1 - eta)) - math.log(2.0)
    q = Quadratic([[1.0]], [_c_for(target, t, base)])
    assert kf._backprop_out_of_range(q, eta, t, dtype) is inside


# --------------------------------------------------------------------------- meta-GD reset
def _constant(g: float):  # type: ignore[no-untyped-def]
    def source(problem: object, eta: float, t: int) -> float:
        return g

    return source


def test_meta_gd_resets_every_negative_step_to_zero() -> None:
    """eta_{k+1} = max(0, eta_k - mu_k g): every step that goes negative is reset and counted."""
    q = Quadratic([[1.0]], [1.0])
    run = meta_gradient_descent(
        q, 5, eta0=0.5, steps=4, schedule="theorem", gradient=_constant(1.0)
    )
    assert list(run.etas) == [0.5, 0.0, 0.0, 0.0, 0.0]
    assert run.resets == 4
    assert list(run.meta_steps) == [1 / math.sqrt(k) for k in range(1, 5)]


def test_meta_gd_landing_exactly_on_zero_is_not_a_reset() -> None:
    """eta_k - mu_k g == 0 exactly: no reset; the next (negative) step is one."""
    q = Quadratic([[1.0]], [1.0])
    run = meta_gradient_descent(
        q, 5, eta0=0.5, steps=2, schedule="theorem", gradient=_constant(0.5)
    )
    assert list(run.etas) == [0.5, 0.0, 0.0]
    assert run.resets == 1


def test_meta_gd_schedule_and_nonfinite_gradient() -> None:
    """experiment schedule mu_k = 1/(100 sqrt k); a NaN gradient is recorded and acts as 0."""
    q = Quadratic([[1.0]], [1.0])
    grads = iter([-100.0, math.nan, 100.0])
    run = meta_gradient_descent(
        q, 5, eta0=0.25, steps=3, schedule="experiment", gradient=lambda p, e, t: next(grads)
    )
    assert run.etas[1] == 0.25 + 1.0
    assert run.etas[2] == run.etas[1]
    assert run.etas[3] == 1.25 - 1 / math.sqrt(3)
    assert math.isnan(run.grads[1]) and run.resets == 0


def test_an_eigenvalue_on_a_rounding_tie_is_refused_not_guessed() -> None:
    """alpha = 1 - x with x = 2^-31 + 2^-54 (a float32) lies exactly halfway between two
    float64 values: no enclosure of positive width can certify its rounding, so q.alpha
    raises (after refining at higher precision) instead of returning a guess; the enclosure
    itself contains the exact value."""
    from verify.errors import NotCertifiedError

    x = 2.0**-31 + 2.0**-54
    q = Quadratic(np.array([[1.0, -x], [-x, 1.0]]), [0.6, 0.8])
    enc = q.spectral_enclosures()["alpha"]
    assert enc.contains(Fraction(1) - Fraction(x))
    with pytest.raises(NotCertifiedError):
        _ = q.alpha
    assert q.L == 1 + x  # 1 + x is a float64: rounds with a certificate
