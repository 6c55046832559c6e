"""The certified enclosures contain the exact rational result; the exact routes agree exactly.

Acceptance of the core issue: random small problems (d <= 4, t <= 60, dyadic inputs), both
objectives, with and without an evaluation problem. For the log objective the exact value
(1/t) log g is irrational: its enclosure must overlap an independent Arb evaluation of the log
of the exact rational g, while F' and F'' are exact rationals and must be contained.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from flint import arb, ctx, fmpq
from hypothesis import given
from hypothesis import strategies as st

from tests._strategies import dyadic_least_squares, dyadic_quadratics, step_sizes
from verify import truth
from verify.errors import ZeroLossError
from verify.truth import rational

horizons = st.integers(1, 60)


def _log_over_t(g: Fraction, t: int) -> tuple[Fraction, Fraction]:
    """An independent enclosure of log(g)/t for exact rational g > 0 (Arb at 300 bits)."""
    with ctx.workprec(300):
        x = arb(fmpq(g.numerator, g.denominator)).log() / t
        enc = truth.Enclosure.from_arb(x)
    return enc.lower, enc.upper


def _check_all(problem, eta, t, objective, eval_problem=None) -> None:
    try:
        exact = rational.forward(problem, eta, t, objective=objective, eval_problem=eval_problem)
    except ZeroLossError:
        with pytest.raises(ZeroLossError):
            truth.meta_gradient(problem, eta, t, objective=objective, eval_problem=eval_problem)
        return
    kw = {"objective": objective, "eval_problem": eval_problem}
    grad = truth.meta_gradient(problem, eta, t, **kw)
    hess = truth.meta_hessian(problem, eta, t, **kw)
    value = truth.meta_objective(problem, eta, t, **kw)
    assert grad.contains(exact["dF"]), (grad, float(exact["dF"]))
    assert hess.contains(exact["d2F"]), (hess, float(exact["d2F"]))
    if objective == "naive":
        assert value.contains(exact["F"]), (value, float(exact["F"]))
    else:
        lo, hi = _log_over_t(exact["loss"], t)
        assert value.lower <= hi and lo <= value.upper, (value, float(lo))
    # the certified routes are proven to the requested relative radius
    for enc in (grad, hess, value):
        assert enc.is_exact or enc.rel_radius() <= float(truth.DEFAULT_REL_TOL)


@pytest.mark.parametrize("objective", ["naive", "log"])
@given(problem=dyadic_quadratics(), eta=step_sizes, t=horizons)
def test_enclosure_contains_exact_quadratic(objective: str, problem, eta: Fraction, t: int) -> None:
    _check_all(problem, eta, t, objective)


@pytest.mark.parametrize("objective", ["naive", "log"])
@given(problem=dyadic_quadratics(affine=True), eta=step_sizes, t=horizons)
def test_enclosure_contains_exact_affine(objective: str, problem, eta: Fraction, t: int) -> None:
    if objective == "log" and problem.definiteness != "positive_definite":  # pragma: no cover
        return
    _check_all(problem, eta, t, objective)


@pytest.mark.parametrize("objective", ["naive", "log"])
@given(data=st.data(), eta=step_sizes.filter(lambda e: e <= Fraction(1, 8)), t=st.integers(1, 30))
def test_enclosure_contains_exact_train_by_validation(
    objective: str, data, eta: Fraction, t: int
) -> None:
    d = data.draw(st.integers(1, 3))
    train = data.draw(dyadic_least_squares(d))
    valid = data.draw(dyadic_least_squares(d))
    _check_all(train, eta, t, objective, eval_problem=valid)


@pytest.mark.parametrize("objective", ["naive", "log"])
@given(problem=dyadic_quadratics(affine=True), eta=step_sizes, t=st.integers(0, 25))
def test_forward_reverse_closed_form_agree_exactly(
    objective: str, problem, eta: Fraction, t: int
) -> None:
    if objective == "log" and t == 0:
        return
    try:
        fwd = rational.forward(problem, eta, t, objective=objective)["dF"]
    except ZeroLossError:
        return
    assert fwd == rational.reverse(problem, eta, t, objective=objective)
    assert fwd == rational.closed_form(problem, eta, t, objective=objective)


@given(problem=dyadic_quadratics(max_dim=3), eta=step_sizes, t=st.integers(1, 40))
def test_eigen_and_power_engines_overlap(problem, eta: Fraction, t: int) -> None:
    a = truth.meta_gradient(problem, eta, t, engine="eigen")
    b = truth.meta_gradient(problem, eta, t, engine="power")
    assert a.lower <= b.upper and b.lower <= a.upper


def test_gradient_at_t0_is_exactly_zero() -> None:
    from verify.problems import Quadratic

    q = Quadratic([[2.0]], [1.0])
    g = truth.meta_gradient(q, 0.1, 0, objective="naive")
    assert g.is_exact and g.sign() == 0
    assert truth.meta_objective(q, 0.1, 0, objective="naive").contains(Fraction(1))
