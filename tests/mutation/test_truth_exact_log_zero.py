"""The log objective's value where it is exactly 0: the exact route's log branch.

Mutation testing of :func:`verify.truth.engine._exact_enclosure` found its branch for the log
objective's value (order 0: log(g)/t enclosed in Arb from the exact loss g) unreached by the
tests: the exact route runs only when a ball cannot decide the sign, and no test asked for a
log objective whose value is exactly 0 at a step size that is not dyadic (at a dyadic one the
balls are exact and decide it). On H = [[6]], w_0 = 0.5, c = 1/4 and eta = 1/3, the mode has
1 - eta lambda = -1, so w_t = (-1)^t w_0 and f(w_t) = 3/4 + 1/4 = 1 at every t: the value
(1/t) log f(w_t) is exactly 0, which no ball around eta = 1/3 reaches to a relative tolerance;
the exact route must return it, exactly. The naive objective's value exactly 0 at eta = 1/3
(H = [[3]]) goes through the same route's naive branch.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from verify import Quadratic, truth


@pytest.mark.parametrize("t", [1, 2, 7, 10])
def test_log_objective_exactly_zero_at_a_non_dyadic_step(t: int) -> None:
    """Kills: the exact route's log branch skipped (``!= "naive"``), its loss read wrongly, or
    its precision loop broken."""
    problem = Quadratic(np.diag([6.0]), np.array([0.5]), c=0.25)
    enc = truth.meta_objective(problem, Fraction(1, 3), t, objective="log")
    assert enc.is_exact
    assert enc.lower == 0 and enc.upper == 0


@pytest.mark.parametrize("t", [1, 5])
def test_naive_objective_exactly_zero_at_a_non_dyadic_step(t: int) -> None:
    """Kills: the exact route's naive branch sent to the log branch (``== "XXnaiveXX"``). On
    H = [[3]], w_0 = 1 and eta = 1/3, w_1 = (1 - 1) w_0 = 0, so f(w_t) = 0 exactly for t >= 1."""
    problem = Quadratic(np.diag([3.0]), np.array([1.0]))
    enc = truth.meta_objective(problem, Fraction(1, 3), t, objective="naive")
    assert enc.is_exact
    assert enc.lower == 0 and enc.upper == 0
