"""Corollary 1 (notes §4.5): f(w_t) ~ rho^(2t) leaves the float range at a predictable horizon.

The exact first horizon at which f(w_t) rounds to inf/0 (certified) must lie where the
two-sided bound on f gives it: 1/2 c_min^2 alpha rho^(2t) <= f(w_t) <= 1/2 L ||w0||^2 rho^(2t)
(the dominant mode's term from below, every term from above), so the crossing t lies within
[pred + ln(2/(L ||w0||^2))/(2 ln rho), pred + ln(2/(c_min^2 alpha))/(2 ln rho)] (up to one
step of rounding), pred being the asymptotic prediction 2t|ln rho| = |ln range limit|.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from verify import Quadratic
from verify.paper import theory


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
@pytest.mark.parametrize("frac", [0.15, 0.9, 1.25, 1.6])
def test_exact_out_of_range_horizon_matches_prediction(dtype: str, frac: float) -> None:
    problem = Quadratic.random(10, seed=4, kind="wishart2")
    L, alpha, c_min = problem.L, problem.alpha, problem.c_min
    eta = frac * 2 / L
    pred = theory.corollary1_predicted_horizon(problem, eta, dtype)
    exact = theory.loss_out_of_range_horizon(problem, eta, dtype)
    assert exact is not None
    log_rho = math.log(float(theory.rho(problem, eta).mid))
    w0n2 = float(np.dot(problem.w0, problem.w0))
    ends = sorted(
        pred + math.log(2 / x) / (2 * abs(log_rho)) * (1 if log_rho > 0 else -1)
        for x in (L * w0n2, c_min**2 * alpha)
    )
    assert ends[0] - 1 <= exact <= ends[1] + 1, (pred, exact, ends)


# ---------------------------------------------------------------------------------------------
# Plain backprop (verify.backprop, numpy reference) fails exactly where the range is exceeded.

FAILURES = {"nan", "overflow", "underflow", "silently_wrong"}
# "Away from the boundary": a factor 2 in t on either side of the exact out-of-range horizon.
MARGIN = 2.0
# Each GD step multiplies the relative error of w_k by at most (1 + (d + 2) u) in float64, so
# log f(w_t) is off by about 2 t (d + 2) u ~ 3e-15 t at d = 10; 1e-12 per step leaves room for
# the rounding of the final inner products and stays far below any wrong power of rho.
LOSS_LOG_SLACK_PER_STEP = 1e-12


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
@pytest.mark.parametrize("frac", [0.5, 0.95, 1.25])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_backprop_fails_beyond_predicted_horizon(dtype: str, frac: float, mode: str) -> None:
    from verify import truth
    from verify.backprop import meta_gradient
    from verify.compare import classify

    problem = Quadratic.random(10, seed=4, kind="wishart2")
    eta = frac * 2 / problem.L
    horizon = theory.loss_out_of_range_horizon(problem, eta, dtype)
    assert horizon is not None
    beyond = int(MARGIN * horizon) + 1
    out = classify(
        meta_gradient(problem, eta, beyond, dtype=dtype, mode=mode),
        truth.meta_gradient(problem, eta, beyond),
    )
    assert out.value in FAILURES, (horizon, beyond, out)
    within = int(horizon / MARGIN)
    if dtype in ("float32", "float64") and within >= 1:
        res = meta_gradient(problem, eta, within, dtype=dtype, mode=mode)
        assert np.isfinite(res.grad) and np.isfinite(res.value), (horizon, within, res)


@pytest.mark.parametrize("frac", [0.5, 1.25])
def test_backprop_intermediates_scale_like_rho_power(frac: float) -> None:
    from verify import truth
    from verify.backprop import meta_gradient

    problem = Quadratic.random(10, seed=4, kind="wishart2")
    eta = frac * 2 / problem.L
    t = int(theory.loss_out_of_range_horizon(problem, eta, "float64") / MARGIN)  # type: ignore[operator]
    res = meta_gradient(problem, eta, t, dtype="float64")
    exact_f = truth.meta_objective(problem, eta, t, objective="naive")
    # the loss backprop forms is the exponentially large/small f(w_t) ~ rho^(2t):
    log_rho = math.log(float(theory.rho(problem, eta).mid))
    assert (
        abs(math.log(res.diagnostics.loss) - math.log(exact_f.to_float("float64")))
        <= LOSS_LOG_SLACK_PER_STEP * t
    )
    assert abs(math.log(res.diagnostics.loss) / (2 * t) - log_rho) <= math.log(
        2 / (problem.c_min**2 * problem.alpha) + problem.L
    ) / (2 * t)
