"""The truth's refusals of optimizer settings, pinned to argument, value and message.

Mutation testing of :func:`verify.truth.engine.validate_momentum` (docs/mutation-survivors.md)
found the existing tests checking only the error class: dropping the allowed-names tuple
(Adam then passes validation and fails later with another error), or the offending value or
the hint from the error, passed. A user who passes ``optimizer="adam"`` to the GD/heavy-ball
truth, or momentum to GD, must be told which argument is wrong, its value, and what to use.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from verify import Quadratic, truth
from verify.errors import UnknownOptionError, UnsupportedOptionError

PROBLEM = Quadratic(np.diag([1.0, 2.0]), np.ones(2))
ETA, T = 0.25, 10

CASES: list[tuple[dict[str, Any], type[Exception], str, object, str]] = [
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
    """Kills: validate_momentum without its allowed names, with the value or hint dropped."""
    with pytest.raises(error) as info:
        getattr(truth, function)(PROBLEM, ETA, T, objective="naive", **kwargs)
    assert info.value.argument == argument  # type: ignore[attr-defined]
    assert info.value.value == value  # type: ignore[attr-defined]
    assert str(info.value) == message
