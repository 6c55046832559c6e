"""The truth's refusals of bad settings, pinned to argument, value and message.

Mutation testing of :func:`verify.truth.engine.validate_momentum` (docs/mutation-survivors.md)
found the existing tests checking only the error class: dropping the allowed-names tuple
(Adam then passes validation and fails later with another error), or the offending value or
the hint from the error, passed. A user who passes ``optimizer="adam"`` to the GD/heavy-ball
truth, or momentum to GD, must be told which argument is wrong, its value, and what to use.
The same holds for the precision cap (``max_prec_bits``: an int >= 64, 64 itself usable) and
for the log objective's refusal of a problem that is not positive definite (``_certify`` and
``_check_log_definiteness``, whose checks and messages survived the same way).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from verify import Quadratic, truth
from verify.errors import (
    InvalidPrecisionError,
    NotPositiveDefiniteError,
    UnknownOptionError,
    UnsupportedOptionError,
)

PROBLEM = Quadratic(np.diag([1.0, 2.0]), np.ones(2))
ETA, T = 0.25, 10

CASES: list[tuple[dict[str, Any], type[Exception], str, object, str]] = [
    (
        {"engine": "fast"},
        UnknownOptionError,
        "engine",
        "fast",
        "invalid engine='fast': must be 'auto', 'eigen' or 'power'",
    ),
    (
        {"engine": "power", "optimizer": "heavy_ball", "beta": 0.5},
        UnsupportedOptionError,
        "engine",
        "power",
        "invalid engine='power': heavy ball is certified by the eigen engine only",
    ),
    (
        {"optimizer": "adam"},
        UnknownOptionError,
        "optimizer",
        "adam",
        "invalid optimizer='adam': must be one of ('gd', 'heavy_ball')",
    ),
    (
        {"optimizer": "gd", "beta": 0.5},
        UnsupportedOptionError,
        "beta",
        0.5,
        "invalid beta=0.5: optimizer='gd' has no momentum; use optimizer='heavy_ball'",
    ),
    (
        {"optimizer": "gd", "wrt": "beta"},
        UnsupportedOptionError,
        "wrt",
        "beta",
        "invalid wrt='beta': optimizer='gd' has no beta; use optimizer='heavy_ball'",
    ),
]


# meta_objective takes no derivative direction (no ``wrt``)
PARAMS = [
    (function, *case)
    for function in ("meta_objective", "meta_gradient", "meta_hessian")
    for case in CASES
    if not (function == "meta_objective" and "wrt" in case[0])
]


@pytest.mark.parametrize(("function", "kwargs", "error", "argument", "value", "message"), PARAMS)
def test_optimizer_settings_are_refused_by_name_value_and_hint(
    function: str,
    kwargs: dict[str, Any],
    error: type[Exception],
    argument: str,
    value: object,
    message: str,
) -> None:
    """Kills: validate_momentum without its allowed names, with the value or hint dropped; the
    engine checks of _certify without their argument, value or message."""
    with pytest.raises(error) as info:
        getattr(truth, function)(PROBLEM, ETA, T, objective="naive", **kwargs)
    assert info.value.argument == argument  # type: ignore[attr-defined]
    assert info.value.value == value  # type: ignore[attr-defined]
    assert str(info.value) == message


# a tolerance that 64 bits can meet, so max_prec_bits = 64 (the documented minimum) is usable
REL_TOL_64 = 2.0**-40


@pytest.mark.parametrize("bits", [63, True, 64.0, "64"])
def test_max_prec_bits_is_refused_by_name_value_and_reason(bits: object) -> None:
    """Kills: the precision cap's check weakened (``and`` for ``or``, ``<= 64``, ``< 65``) or its
    error without the argument's name or value."""
    with pytest.raises(InvalidPrecisionError) as info:
        truth.meta_gradient(
            PROBLEM,
            ETA,
            T,
            objective="naive",
            max_prec_bits=bits,  # type: ignore[arg-type]  # wrong types on purpose
            rel_tol=REL_TOL_64,
        )
    assert info.value.argument == "max_prec_bits"
    assert info.value.value is bits
    assert str(info.value) == f"invalid max_prec_bits={bits!r}: must be an int >= 64"


def test_max_prec_bits_of_64_is_accepted() -> None:
    """Kills: the boundary of the precision cap moved up (``<= 64``, ``< 65``)."""
    enc = truth.meta_gradient(
        PROBLEM, ETA, T, objective="naive", max_prec_bits=64, rel_tol=REL_TOL_64
    )
    reference = truth.meta_gradient(PROBLEM, ETA, T, objective="naive")
    assert enc.meets_rel_tol(Fraction(REL_TOL_64))
    assert enc.lower <= reference.upper and reference.lower <= enc.upper  # they overlap


def test_log_objective_refusal_names_the_problem_and_its_class() -> None:
    """Kills: the message of the log objective's definiteness refusal changed."""
    singular = Quadratic(np.diag([0.0, 2.0]), np.ones(2))
    with pytest.raises(NotPositiveDefiniteError) as info:
        truth.meta_gradient(singular, ETA, T, objective="log")
    assert info.value.argument == "problem"
    assert info.value.value is singular
    assert str(info.value).endswith(
        ": the log objective requires a positive definite H; certified class is "
        "'positive_semidefinite'"
    )
