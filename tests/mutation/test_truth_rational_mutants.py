"""Behaviours of :mod:`verify.truth.rational` (the exact oracle) that mutation testing found
unpinned (``mutmut run`` with ``only_mutate = ["verify/truth/rational.py", ...]``;
docs/mutation-survivors.md).

* :func:`rational.structured` (exact at any t on the fixed-point inputs) against
  :func:`rational.forward` on inputs that are in its space for *every* w0 and b: H with
  eigenvalues 0 and 1/eta only. Elsewhere it is reached only through the engine on problems
  whose loss is 0 or whose b is 0, so its b-terms (S, eta H b, the [t >= 2] and [t >= 3]
  pieces of w''_t) and its eval_problem went unchecked.
* :func:`rational.exact_value`'s route choice at the edge of :data:`FORWARD_WORK_LIMIT`
  (d^2 ((t+1)^2 + n) <= the limit: forward; above: None), in d and in the rows n of a
  least-squares problem, and that it passes objective and eval_problem on.

Every comparison is exact (Fractions); nothing here has a tolerance.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from verify.errors import ZeroLossError
from verify.problems import LeastSquares, Quadratic
from verify.truth import rational

KEYS = ("loss", "dloss", "d2loss", "F", "dF", "d2F", "w_t")

# eigenvalues 0 and 2 (eigenvectors (1, -1) and (1, 1)): with eta = 1/2, ker H + ker(eta H - I)
# is all of R^2, so every w0 and b are in structured's space
H_FIXED = np.array([[1.0, 1.0], [1.0, 1.0]])
ETA_FIXED = Fraction(1, 2)
TRAIN = Quadratic(H_FIXED, w0=[1.0, -0.5], b=[0.25, 0.75], c=2.0)
EVAL = Quadratic(np.array([[2.0, 0.5], [0.5, 1.0]]), w0=[0.0, 0.0], b=[-0.5, 0.125], c=3.0)


@pytest.mark.parametrize("t", range(6))
@pytest.mark.parametrize("objective", ["naive", "log"])
@pytest.mark.parametrize("evaluated", ["train", "eval"])
def test_structured_equals_forward_on_its_whole_space(
    t: int, objective: str, evaluated: str
) -> None:
    """Kills the constants and guards of the structured trajectory ([t = 1], [t = 2],
    [t >= 2], [t >= 3], the factors 2 and 2 eta of w''_t) and eval_problem dropped."""
    if objective == "log" and t == 0:
        return  # the log objective needs t >= 1
    ev = None if evaluated == "train" else EVAL
    got = rational.structured(TRAIN, ETA_FIXED, t, objective=objective, eval_problem=ev)
    assert got is not None
    want = rational.forward(TRAIN, ETA_FIXED, t, objective=objective, eval_problem=ev)
    for key in KEYS:
        assert got[key] == want[key], (key, got[key], want[key])
    assert rational.exact_value(TRAIN, ETA_FIXED, t, objective=objective, eval_problem=ev) == got


def test_structured_zero_loss_names_the_step_size() -> None:
    """The log objective at an exactly zero loss (w0 the minimiser of a c = 0 problem whose
    minimum is 0): ZeroLossError carries eta as given."""
    p = Quadratic(H_FIXED, w0=[0.5, 0.5], b=[1.0, 1.0], c=1.0)  # f(w*) = c - b.w*/2 = 1/2
    zero = Quadratic(H_FIXED, w0=[0.5, 0.5], b=[1.0, 1.0], c=0.5)  # f(w*) = 0
    assert rational.structured(p, ETA_FIXED, 3, objective="log") is not None
    with pytest.raises(ZeroLossError) as info:
        rational.structured(zero, ETA_FIXED, 3, objective="log")
    assert info.value.argument == "eta" and info.value.value == ETA_FIXED


def _generic(d: int) -> Quadratic:
    """A d-dimensional quadratic that is not on structured's space at eta = 1/8."""
    H = np.eye(d) * 2 + np.diag(np.full(d - 1, 0.5), 1) + np.diag(np.full(d - 1, 0.5), -1)
    return Quadratic(H, w0=np.linspace(1, -1, d), b=np.full(d, 0.25))


@pytest.mark.parametrize(
    ("d", "t"), [(1, 446), (3, 148)]
)  # 1 * 447^2 = 199809 and 9 * 149^2 = 199809: the last horizons within the limit
def test_exact_value_route_at_the_work_limit_quadratic(d: int, t: int) -> None:
    """d^2 (t+1)^2 <= FORWARD_WORK_LIMIT unrolls; one step more does not (kills every change
    of the work formula in d and t, and ``>`` -> ``>=``)."""
    p = _generic(d)
    eta = Fraction(1, 8)
    assert rational.structured(p, eta, t) is None
    assert d**2 * (t + 1) ** 2 <= rational.FORWARD_WORK_LIMIT < d**2 * (t + 2) ** 2
    assert rational.exact_value(p, eta, t + 1) is None
    got = rational.exact_value(p, eta, t)  # the default objective is "naive"
    assert got is not None and got["F"] == got["loss"]


def test_exact_value_route_counts_least_squares_rows() -> None:
    """d = 1, t = 446: (t+1)^2 = 199809, so n = 191 rows reach the limit exactly (forward)
    and n = 192 exceed it (None); the rows of an eval_problem count too."""
    rng = np.random.default_rng(5)

    def ls(n: int) -> LeastSquares:
        return LeastSquares(np.round(rng.normal(size=(n, 1)) * 4) / 8, np.ones(n))

    eta = Fraction(1, 64)
    assert rational.exact_value(ls(191), eta, 446) is not None
    assert rational.exact_value(ls(192), eta, 446) is None
    assert rational.exact_value(ls(100), eta, 446, eval_problem=ls(91)) is not None
    assert rational.exact_value(ls(100), eta, 446, eval_problem=ls(92)) is None


def test_exact_value_passes_objective_and_eval_problem_on() -> None:
    p = _generic(2)
    eta = Fraction(1, 8)
    for objective in ("naive", "log"):
        for ev in (None, EVAL):
            got = rational.exact_value(p, eta, 5, objective=objective, eval_problem=ev)
            want = rational.forward(p, eta, 5, objective=objective, eval_problem=ev)
            assert got is not None
            assert all(got[k] == want[k] for k in KEYS)


@pytest.mark.parametrize("objective", ["naive", "log"])
@pytest.mark.parametrize("t", [1, 4])
def test_three_routes_agree_with_an_evaluation_problem(objective: str, t: int) -> None:
    """forward = reverse = closed_form exactly, also with a separate evaluation problem (the
    oracle-agreement tests use the training loss only) and with the default objective."""
    p = _generic(2)
    eta = Fraction(3, 16)
    want = rational.forward(p, eta, t, objective=objective, eval_problem=EVAL)["dF"]
    assert rational.reverse(p, eta, t, objective=objective, eval_problem=EVAL) == want
    assert rational.closed_form(p, eta, t, objective=objective, eval_problem=EVAL) == want
    naive = rational.forward(p, eta, t)["dF"]
    assert rational.reverse(p, eta, t) == naive == rational.closed_form(p, eta, t)
    assert want != rational.forward(p, eta, t, objective=objective)["dF"]


def test_heavy_ball_oracle_arguments() -> None:
    """beta = 0 is GD exactly (with an evaluation problem too); the horizon limit is
    inclusive and its error names t; a zero loss names the step size or the momentum
    along which the derivatives were asked for."""
    from verify.errors import InvalidHorizonError

    p = _generic(2)
    for objective in ("naive", "log"):
        hb = rational.heavy_ball_forward(
            p, Fraction(3, 16), 4, beta=0, objective=objective, eval_problem=EVAL
        )
        gd = rational.forward(p, Fraction(3, 16), 4, objective=objective, eval_problem=EVAL)
        assert all(hb[k] == gd[k] for k in KEYS)
    one = Quadratic([[1.5]], w0=[0.75])
    top = rational.HEAVY_BALL_MAX_T
    assert rational.heavy_ball_forward(one, 0.125, top, beta=0.5)["F"] > 0
    with pytest.raises(InvalidHorizonError) as info:
        rational.heavy_ball_forward(one, 0.125, top + 1, beta=0.5)
    assert info.value.argument == "t" and info.value.value == top + 1
    assert info.value.reason == f"the exact heavy-ball oracle unrolls at most {top} steps"
    zero = Quadratic(H_FIXED, w0=[0.5, 0.5], b=[1.0, 1.0], c=0.5)  # w0 = w*, f(w*) = 0
    for wrt, value in (("eta", Fraction(1, 8)), ("beta", Fraction(1, 4))):
        with pytest.raises(ZeroLossError) as zinfo:
            rational.heavy_ball_forward(
                zero, Fraction(1, 8), 3, beta=Fraction(1, 4), wrt=wrt, objective="log"
            )
        assert zinfo.value.value == value, wrt
