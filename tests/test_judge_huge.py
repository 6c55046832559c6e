"""The judge at horizons where the truth is far outside every float format (t = 10^12).

The certified meta-gradient of the naive objective on diag(1, 1/4) at t = 10^12 is about
-3e-115983893945 (eta = 1/2) or +4.6e+602059991339 (eta = 3): exact values whose Fraction form
would need more than 2^20 bits. The judge works on the exact dyadic-scaled form
(:class:`verify.floats.ScaledRational`), so it decides these points like any other, with the
same rules (tests/test_judge.py) and without expanding a giant Fraction.
"""

from __future__ import annotations

import math

import pytest

from verify import Quadratic, check_meta_gradient
from verify.compare import abs_difference
from verify.floats import FRACTION_LIMIT_BITS, ScaledRational

Q = Quadratic([[1.0, 0.0], [0.0, 0.25]], [1.0, 1.0])
T = 10**12
INF = math.inf


@pytest.mark.parametrize(
    ("eta", "grad", "outcome"),
    [
        # truth -3e-115983893945 rounds to -0.0
        (0.5, 0.0, "accurate"),
        (0.5, -0.0, "accurate"),
        (0.5, 1.0, "silently_wrong"),  # wrong certified sign
        (0.5, -1.0, "silently_wrong"),  # spurious normal-size value
        (0.5, -INF, "overflow"),
        (0.5, math.nan, "nan"),
        # truth +4.6e+602059991339 rounds to +inf
        (3.0, INF, "accurate"),
        (3.0, 1.0, "silently_wrong"),  # off by a factor 2e-602059991340
        (3.0, -1.0, "silently_wrong"),  # wrong certified sign
        (3.0, 0.0, "silently_wrong"),  # 0 with no sign of underflow
        (3.0, -INF, "overflow"),
    ],
)
def test_judge_decides_at_t_1e12(eta: float, grad: float, outcome: str) -> None:
    v = check_meta_gradient(Q, eta, T, grad, dtype="float64", objective="naive")
    assert v.outcome is not None and v.outcome.value == outcome, v.reason
    assert (v.status == "passed") == (outcome == "accurate"), v


def test_abs_difference_beyond_the_fraction_limit() -> None:
    tiny = ScaledRational(3, -(2 * FRACTION_LIMIT_BITS))
    # exact where the operands can be aligned
    assert abs_difference(0.5, ScaledRational(1, -2)) == ScaledRational(1, -2)
    assert abs_difference(-0.5, ScaledRational(1, -1)) == ScaledRational(1)
    # the larger magnitude when they are more than FRACTION_LIMIT_BITS binades apart
    assert abs_difference(0.5, tiny) == ScaledRational(1, -1)
    assert abs_difference(0.0, tiny) == tiny
