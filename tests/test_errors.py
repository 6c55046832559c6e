"""Every bad input raises a typed error that names the argument and the value."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from verify import truth
from verify.errors import (
    ArgumentError,
    InvalidHorizonError,
    InvalidPrecisionError,
    InvalidStepSizeError,
    NonFiniteError,
    NotCertifiedError,
    NotPositiveDefiniteError,
    NotSymmetricError,
    ShapeMismatchError,
    UnknownOptionError,
    ZeroLossError,
)
from verify.problems import LeastSquares, Quadratic


def _names(exc: pytest.ExceptionInfo[ArgumentError], argument: str) -> None:
    assert isinstance(exc.value, ValueError)
    assert exc.value.argument == argument
    assert argument in str(exc.value)


@pytest.fixture(scope="module")
def q() -> Quadratic:
    return Quadratic([[2.0, 0.5], [0.5, 1.0]], [0.6, 0.8])


# ------------------------------------------------------------------ problems
@pytest.mark.parametrize(
    ("H", "w0", "err", "arg"),
    [
        ([[1.0, 2.0, 3.0]], [1.0], ShapeMismatchError, "H"),  # non-square
        ([1.0, 2.0], [1.0, 0.0], ShapeMismatchError, "H"),  # not 2-D
        ([[1.0, 0.5], [0.25, 1.0]], [1.0, 0.0], NotSymmetricError, "H"),
        ([[1.0, math.nan], [math.nan, 1.0]], [1.0, 0.0], NonFiniteError, "H"),
        ([[math.inf, 0.0], [0.0, 1.0]], [1.0, 0.0], NonFiniteError, "H"),
        ([[1.0, 2.0], [2.0, 1.0]], [1.0, 0.0], NotPositiveDefiniteError, "H"),  # indefinite
        ([[1.0, 0.0], [0.0, 1.0]], [1.0, 0.0, 0.0], ShapeMismatchError, "w0"),
        ([[1.0, 0.0], [0.0, 1.0]], [1.0, math.nan], NonFiniteError, "w0"),
        ([["a", "b"], ["c", "d"]], [1.0, 0.0], ShapeMismatchError, "H"),
        ([[2**60 + 1, 0], [0, 1]], [1.0, 0.0], ArgumentError, "H"),  # int not exact in float64
    ],
)
def test_quadratic_rejects(H: object, w0: object, err: type[Exception], arg: str) -> None:
    with pytest.raises(err) as exc:
        Quadratic(H, w0)  # type: ignore[arg-type]
    _names(exc, arg)  # type: ignore[arg-type]


def test_quadratic_rejects_bad_b_and_c() -> None:
    with pytest.raises(ShapeMismatchError) as exc:
        Quadratic([[1.0]], [1.0], b=[1.0, 2.0])
    _names(exc, "b")
    with pytest.raises(NonFiniteError) as exc2:
        Quadratic([[1.0]], [1.0], c=math.inf)
    _names(exc2, "c")


def test_least_squares_rejects() -> None:
    with pytest.raises(ShapeMismatchError) as exc:
        LeastSquares(np.ones((3, 2)), np.ones(4))
    _names(exc, "y")
    with pytest.raises(NonFiniteError) as exc2:
        LeastSquares(np.full((2, 2), math.nan), np.ones(2))
    _names(exc2, "X")
    with pytest.raises(ShapeMismatchError) as exc3:
        LeastSquares(np.ones((2, 2)), np.ones(2), w0=np.ones(3))
    _names(exc3, "w0")


def test_constructor_arguments() -> None:
    with pytest.raises(UnknownOptionError) as exc:
        Quadratic.random(3, seed=0, kind="gaussian")  # type: ignore[arg-type]
    _names(exc, "kind")
    with pytest.raises(ShapeMismatchError):
        Quadratic.random(0, seed=0)
    with pytest.raises(NotPositiveDefiniteError) as exc2:
        Quadratic.from_spectrum([1.0, 0.0])
    _names(exc2, "eigenvalues")


# ------------------------------------------------------------------ truth arguments
@pytest.mark.parametrize("eta", [-0.1, -1e-300, math.nan, math.inf, -math.inf, "0.1", None, True])
def test_bad_eta(q: Quadratic, eta: object) -> None:
    with pytest.raises(InvalidStepSizeError) as exc:
        truth.meta_gradient(q, eta, 5)  # type: ignore[arg-type]
    _names(exc, "eta")


@pytest.mark.parametrize("t", [-1, 2.0, 2.5, "3", None, True])
def test_bad_t(q: Quadratic, t: object) -> None:
    with pytest.raises(InvalidHorizonError) as exc:
        truth.meta_gradient(q, 0.1, t)  # type: ignore[arg-type]
    _names(exc, "t")


def test_log_objective_needs_t_at_least_one(q: Quadratic) -> None:
    with pytest.raises(InvalidHorizonError):
        truth.meta_objective(q, 0.1, 0, objective="log")
    assert truth.meta_objective(q, 0.1, 0, objective="naive").lower > 0


@pytest.mark.parametrize(
    "rel_tol", [0, 0.0, -1e-3, 1.0, 2.0, math.nan, math.inf, Fraction(1, 2**20000)]
)
def test_bad_rel_tol(q: Quadratic, rel_tol: object) -> None:
    with pytest.raises(InvalidPrecisionError) as exc:
        truth.meta_gradient(q, 0.1, 5, rel_tol=rel_tol)  # type: ignore[arg-type]
    _names(exc, "rel_tol")


def test_bad_options(q: Quadratic) -> None:
    with pytest.raises(UnknownOptionError) as exc:
        truth.meta_gradient(q, 0.1, 5, objective="sqrt")
    _names(exc, "objective")
    with pytest.raises(UnknownOptionError) as exc2:
        truth.meta_gradient(q, 0.1, 5, engine="magic")  # type: ignore[arg-type]
    _names(exc2, "engine")
    with pytest.raises(InvalidPrecisionError):
        truth.meta_gradient(q, 0.1, 5, max_prec_bits=8)


def test_eval_problem_dimension_mismatch(q: Quadratic) -> None:
    other = LeastSquares(np.ones((2, 3)), np.ones(2))
    with pytest.raises(ShapeMismatchError) as exc:
        truth.meta_gradient(q, 0.1, 5, eval_problem=other)
    _names(exc, "eval_problem")


def test_log_objective_requires_positive_definite_H() -> None:
    singular = Quadratic([[1.0, 0.0], [0.0, 0.0]], [1.0, 1.0])
    assert singular.definiteness == "positive_semidefinite"
    with pytest.raises(NotPositiveDefiniteError) as exc:
        truth.meta_gradient(singular, 0.1, 5, objective="log")
    _names(exc, "problem")
    # the naive objective is fine on a PSD problem
    assert truth.meta_gradient(singular, 0.1, 5, objective="naive").sign() == -1


def test_log_of_exactly_zero_loss() -> None:
    # d = 1, H = 2, eta = 1/2: w_1 = (1 - 1) w0 = 0 exactly
    q = Quadratic([[2.0]], [1.0])
    with pytest.raises(ZeroLossError) as exc:
        truth.meta_gradient(q, 0.5, 1, objective="log")
    _names(exc, "eta")
    assert truth.meta_objective(q, 0.5, 1, objective="naive").is_exact


def test_log_of_negative_loss() -> None:
    q = Quadratic([[1.0]], [0.0], b=[0.0], c=-1.0)
    with pytest.raises(ZeroLossError):
        truth.meta_objective(q, 0.1, 3, objective="log")


def test_tolerance_that_cannot_be_met_raises_not_certified() -> None:
    q = Quadratic.random(6, seed=3)
    with pytest.raises(NotCertifiedError) as exc:
        truth.meta_gradient(q, 1.0 / q.L, 10**6, rel_tol=2.0**-40, max_prec_bits=64)
    assert exc.value.prec_bits == 64
    assert not isinstance(exc.value, ValueError)  # the input was fine; the proof was not found


def test_validate_point_checks_in_order(q: Quadratic) -> None:
    """objective, then the problems, then eta, then t: the first bad one is named."""
    from verify.validation import validate_point

    with pytest.raises(UnknownOptionError):
        validate_point("not a problem", -1.0, -1, objective="bad")
    with pytest.raises(ShapeMismatchError):
        validate_point("not a problem", -1.0, -1)
    with pytest.raises(InvalidStepSizeError):
        validate_point(q, -1.0, -1)
    with pytest.raises(InvalidHorizonError):
        validate_point(q, 0.5, 0, objective="log")
    p = validate_point(q, 0.5, 3, objective="log")
    assert (p.eta, p.t, p.objective, p.evaluated_on) == (Fraction(1, 2), 3, "log", q)
