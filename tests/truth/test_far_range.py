"""Values far outside every float format, and the log objective where f(w_t) underflows.

Reference values come from the one-dimensional closed form, evaluated independently in mpmath
at 400 bits (for d = 1: f(w_t) = 1/2 h w0^2 (1 - eta h)^{2t}).
"""

from __future__ import annotations

import math

import mpmath
import pytest

from verify import truth
from verify.problems import Quadratic

T_HUGE = 10**6
# (1 - eta)^(2t) = 10^-100000 at t = 10^6 needs 1 - eta = 10^-0.05
ETA_TINY_LOSS = 1.0 - 10.0**-0.05
ETA_HUGE_LOSS = 2.2  # |1 - eta| = 1.2: f(w_t) = 1/2 * 1.2^(2e6) ~ 10^158362
# The exponent log10 f is ~1e5; the certified enclosure has relative radius 2^-80, so its
# log10 agrees with the closed form to ~1e-24 absolute. 1e-9 relative in the exponent is a
# generous bound that still detects any wrong power or a lost factor.
EXPONENT_REL_TOL = 1e-9
# Geometric convergence to the large-t limit: the gap is O(((L-alpha)/(L+alpha))^(2t)), far
# below this at t = 1e6; 1e-6 relative still catches a wrong limit formula.
LIMIT_REL_TOL = 1e-6


def _closed_form_log10_loss(eta: float, t: int) -> mpmath.mpf:
    ctx = mpmath.mp.clone()
    ctx.prec = 400
    e = ctx.mpf(eta)
    return ctx.log10(ctx.mpf(1) / 2) + 2 * t * ctx.log10(abs(1 - e))


@pytest.fixture(scope="module")
def unit() -> Quadratic:
    return Quadratic([[1.0]], [1.0])


def test_loss_far_below_float_range(unit: Quadratic) -> None:
    enc = truth.meta_objective(unit, ETA_TINY_LOSS, T_HUGE, objective="naive")
    assert enc.lower > 0
    log10 = _closed_form_log10_loss(ETA_TINY_LOSS, T_HUGE)
    assert -100_001 < float(log10) < -99_999
    # compare exponents: log10 of the enclosure endpoints vs the independent closed form
    lo = math.log10(enc.lower.numerator) - math.log10(enc.lower.denominator)
    assert abs(lo - float(log10)) < EXPONENT_REL_TOL * abs(float(log10))
    for dtype in ("float16", "bfloat16", "float32", "float64"):
        assert enc.to_float(dtype) == 0.0  # underflows every format, rounded once


def test_loss_far_above_float_range(unit: Quadratic) -> None:
    enc = truth.meta_objective(unit, ETA_HUGE_LOSS, T_HUGE, objective="naive")
    assert enc.to_float("float64") == math.inf
    log10 = _closed_form_log10_loss(ETA_HUGE_LOSS, T_HUGE)
    hi = math.log10(enc.upper.numerator) - math.log10(enc.upper.denominator)
    assert abs(hi - float(log10)) < EXPONENT_REL_TOL * float(log10)


@pytest.mark.parametrize("eta", [ETA_TINY_LOSS, ETA_HUGE_LOSS])
def test_log_objective_where_loss_leaves_every_format(unit: Quadratic, eta: float) -> None:
    ctx = mpmath.mp.clone()
    ctx.prec = 400
    e = ctx.mpf(eta)
    # F = (log(1/2) + 2t log|1-eta|)/t ; F' = -2/(1-eta)
    expected_F = (ctx.log(ctx.mpf(1) / 2) + 2 * T_HUGE * ctx.log(abs(1 - e))) / T_HUGE
    expected_dF = -2 / (1 - e)
    F = truth.meta_objective(unit, eta, T_HUGE)
    dF = truth.meta_gradient(unit, eta, T_HUGE)
    assert F.to_float("float64") == float(expected_F)
    assert dF.to_float("float64") == float(expected_dF)
    assert math.isfinite(F.to_float("float32")) and math.isfinite(dF.to_float("float16"))


def test_large_problem_large_horizon_is_certified() -> None:
    q = Quadratic.random(20, seed=0)
    L, alpha = q.L, q.alpha
    for eta in (0.3 / L, 2 / (L + alpha), 2.5 / L):
        g = truth.meta_gradient(q, eta, T_HUGE)
        assert g.rel_radius() <= float(truth.DEFAULT_REL_TOL)
    # large-t limit of paper notes §4.4 (recon): F' -> 2L/(eta L - 1) above 2/(L+alpha)
    eta = 2.5 / L
    limit = 2 * L / (eta * L - 1)
    g = truth.meta_gradient(q, eta, T_HUGE).to_float("float64")
    assert abs(g - limit) <= LIMIT_REL_TOL * limit
