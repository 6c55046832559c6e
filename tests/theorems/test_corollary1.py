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

from verify import Quadratic, theory


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
