"""Each rule of :mod:`verify.validation` pinned: the types it accepts, the exact value it returns,
the edge of every inequality, and the error (class, argument, reason) of each refusal.

The reason strings are compared whole: each validator is "one place for each rule and its
message" (the module docstring), so the message is the contract. Found unpinned by mutation
testing (``mutmut run``, README "Tests and benchmarks").
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from verify.errors import (
    ArgumentError,
    InvalidHorizonError,
    InvalidPrecisionError,
    InvalidStepSizeError,
    ShapeMismatchError,
    UnknownOptionError,
)
from verify.problems import LeastSquares, Quadratic
from verify.validation import (
    OBJECTIVES,
    Point,
    validate_eta,
    validate_eval_problem,
    validate_horizon,
    validate_objective,
    validate_point,
    validate_rel_tol,
)

Q2 = Quadratic([[2.0, 0.5], [0.5, 1.0]], [0.6, 0.8])
LS2 = LeastSquares(np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]), np.array([1.0, 0.0, 2.0]))
LS3 = LeastSquares(np.ones((2, 3)), np.ones(2))


def _refused(
    exc: pytest.ExceptionInfo[ArgumentError],
    cls: type[ArgumentError],
    arg: str,
    reason: str,
    value: object,
) -> None:
    assert type(exc.value) is cls
    assert exc.value.argument == arg
    assert exc.value.value is value  # the offending value itself, for the caller
    assert exc.value.reason == reason
    assert str(exc.value).startswith(f"invalid {arg}=")


# --------------------------------------------------------------------------- objective
@pytest.mark.parametrize("objective", ["naive", "log"])
def test_objective_accepted(objective: str) -> None:
    assert validate_objective(objective) == objective


@pytest.mark.parametrize("objective", ["sqrt", "NAIVE", "", None, 1])
def test_objective_refused(objective: object) -> None:
    with pytest.raises(UnknownOptionError) as exc:
        validate_objective(objective)
    _refused(exc, UnknownOptionError, "objective", "must be one of ('naive', 'log')", objective)
    assert OBJECTIVES == ("naive", "log")


# --------------------------------------------------------------------------- eta
@pytest.mark.parametrize(
    ("eta", "exact"),
    [
        (0.1, Fraction(0.1)),  # the float's exact value, not 1/10
        (0.0, Fraction(0)),  # the edge of eta >= 0 is inside
        (-0.0, Fraction(0)),
        (3, Fraction(3)),
        (np.int64(2), Fraction(2)),
        (np.float32(0.1), Fraction(float(np.float32(0.1)))),
        (Fraction(1, 3), Fraction(1, 3)),  # kept exact, never rounded through a float
        (Fraction(0), Fraction(0)),
        (2**60 + 1, Fraction(2**60 + 1)),  # an int beyond 2^53: exact, not through a float
        (np.int64(2**60 + 1), Fraction(2**60 + 1)),
    ],
)
def test_eta_exact_value(eta: object, exact: Fraction) -> None:
    got = validate_eta(eta)
    assert type(got) is Fraction and got == exact


@pytest.mark.parametrize(
    ("eta", "reason"),
    [
        (True, "must be a real number (float, int or Fraction)"),
        (False, "must be a real number (float, int or Fraction)"),
        ("0.1", "must be a real number (float, int or Fraction)"),
        (None, "must be a real number (float, int or Fraction)"),
        (1j, "must be a real number (float, int or Fraction)"),
        (math.nan, "must be finite"),
        (math.inf, "must be finite"),
        (np.float64(-math.inf), "must be finite"),
        (np.float32(math.nan), "must be finite"),
        (-(2.0**-1074), "must be >= 0"),  # the edge of eta >= 0, just outside
        (-1, "must be >= 0"),
        (np.int32(-1), "must be >= 0"),
        (Fraction(-1, 3), "must be >= 0"),
    ],
)
def test_eta_refused(eta: object, reason: str) -> None:
    with pytest.raises(InvalidStepSizeError) as exc:
        validate_eta(eta)
    _refused(exc, InvalidStepSizeError, "eta", reason, eta)


# --------------------------------------------------------------------------- horizon
@pytest.mark.parametrize(("t", "objective"), [(0, "naive"), (1, "log"), (np.int32(7), "log")])
def test_horizon_accepted(t: object, objective: str) -> None:
    got = validate_horizon(t, objective=objective)
    assert type(got) is int and got == int(t)  # type: ignore[call-overload]


def test_horizon_default_objective_is_naive() -> None:
    assert validate_horizon(0) == 0


@pytest.mark.parametrize(
    ("t", "objective", "reason"),
    [
        (True, "naive", "must be an integer (int or numpy integer), not bool"),
        (2.0, "naive", "must be an integer (int or numpy integer), not float"),
        ("3", "log", "must be an integer (int or numpy integer), not str"),
        (-1, "naive", "must be >= 0"),
        (np.int64(-1), "log", "must be >= 0"),
        (0, "log", "must be >= 1 for the log objective (1/t) log f(w_t)"),
    ],
)
def test_horizon_refused(t: object, objective: str, reason: str) -> None:
    with pytest.raises(InvalidHorizonError) as exc:
        validate_horizon(t, objective=objective)
    _refused(exc, InvalidHorizonError, "t", reason, t)


# --------------------------------------------------------------------------- rel_tol
@pytest.mark.parametrize(
    ("rel_tol", "exact"),
    [
        (0.5, Fraction(1, 2)),
        (np.float32(0.25), Fraction(1, 4)),
        (Fraction(1, 3), Fraction(1, 3)),
        (1e-300, Fraction(1e-300)),  # exact value of the float
    ],
)
def test_rel_tol_exact_value(rel_tol: object, exact: Fraction) -> None:
    got = validate_rel_tol(rel_tol, max_prec_bits=10_000)
    assert type(got) is Fraction and got == exact


@pytest.mark.parametrize(("cap", "k"), [(100, 84), (64, 48)])
def test_rel_tol_precision_cap_edge(cap: int, k: int) -> None:
    """rel_tol = 2^-k needs k bits: allowed up to k = max_prec_bits - 16, refused at k + 1."""
    assert validate_rel_tol(Fraction(1, 2**k), max_prec_bits=cap) == Fraction(1, 2**k)
    with pytest.raises(InvalidPrecisionError) as exc:
        validate_rel_tol(Fraction(1, 2 ** (k + 1)), max_prec_bits=cap)
    _refused(
        exc,
        InvalidPrecisionError,
        "rel_tol",
        f"needs about {k + 1} bits, beyond max_prec_bits={cap}",
        exc.value.value,
    )
    assert exc.value.value == Fraction(1, 2 ** (k + 1))


@pytest.mark.parametrize(
    ("rel_tol", "reason"),
    [
        (True, "must be a real number"),
        ("1e-3", "must be a real number"),
        (np.int64(0), "must be a real number"),
        (math.nan, "must be finite"),
        (np.float32(math.inf), "must be finite"),
        (0, "must satisfy 0 < rel_tol < 1"),
        (0.0, "must satisfy 0 < rel_tol < 1"),  # both edges of the open interval
        (1, "must satisfy 0 < rel_tol < 1"),
        (Fraction(1), "must satisfy 0 < rel_tol < 1"),
        (-0.5, "must satisfy 0 < rel_tol < 1"),
    ],
)
def test_rel_tol_refused(rel_tol: object, reason: str) -> None:
    with pytest.raises(InvalidPrecisionError) as exc:
        validate_rel_tol(rel_tol, max_prec_bits=10_000)
    _refused(exc, InvalidPrecisionError, "rel_tol", reason, rel_tol)


# --------------------------------------------------------------------------- problems
@pytest.mark.parametrize("ev", [None, Q2, LS2])
def test_eval_problem_accepted(ev: object) -> None:
    validate_eval_problem(Q2, ev)  # no error
    validate_eval_problem(LS2, ev)


@pytest.mark.parametrize(
    ("problem", "ev", "arg", "reason"),
    [
        ("H", None, "problem", "must be a Quadratic or LeastSquares"),
        (None, Q2, "problem", "must be a Quadratic or LeastSquares"),
        (Q2, "H", "eval_problem", "must be a Quadratic, LeastSquares or None"),
        (Q2, LS3, "eval_problem", "has dimension 3, problem has 2"),
        (LS3, Q2, "eval_problem", "has dimension 2, problem has 3"),
    ],
)
def test_eval_problem_refused(problem: object, ev: object, arg: str, reason: str) -> None:
    with pytest.raises(ShapeMismatchError) as exc:
        validate_eval_problem(problem, ev)
    _refused(exc, ShapeMismatchError, arg, reason, problem if arg == "problem" else ev)


# --------------------------------------------------------------------------- the point
def test_point_fields_and_evaluated_on() -> None:
    p = validate_point(Q2, 0.25, np.int64(3))
    assert p == Point(Q2, Fraction(1, 4), 3, "naive", None)
    assert type(p.t) is int and p.evaluated_on is Q2
    p2 = validate_point(Q2, 1, 0, "naive", LS2)
    assert p2 == Point(Q2, Fraction(1), 0, "naive", LS2)
    assert p2.evaluated_on is LS2


def test_point_passes_the_objective_to_the_horizon_rule() -> None:
    with pytest.raises(InvalidHorizonError) as exc:
        validate_point(Q2, 0.25, 0, objective="log")
    assert exc.value.reason == "must be >= 1 for the log objective (1/t) log f(w_t)"
    assert validate_point(Q2, 0.25, 0).t == 0


def test_point_checks_the_eval_problem() -> None:
    with pytest.raises(ShapeMismatchError) as exc:
        validate_point(Q2, 0.25, 1, "log", LS3)
    assert exc.value.argument == "eval_problem"
