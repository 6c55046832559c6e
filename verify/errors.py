"""Typed errors raised by l2l-verify.

Every argument error is a subclass of :class:`ValueError` (so ``except ValueError`` keeps
working for callers who do not care about the details) and of :class:`L2LError`. Each carries
the offending argument's name and value in ``.argument`` and ``.value`` and names both in its
message. Nothing in the library coerces bad input silently: it raises one of these instead.

:class:`NotCertifiedError` is different in kind: the input was fine, but a certified result
could not be proven within the precision cap. Ground-truth routines raise it rather than
return an unproven number.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "ArgumentError",
    "BackendUnavailableError",
    "FractionSizeError",
    "InvalidHorizonError",
    "InvalidMatrixError",
    "InvalidPrecisionError",
    "InvalidStepSizeError",
    "L2LError",
    "NonFiniteError",
    "NotCertifiedError",
    "NotDifferentiableError",
    "NotPositiveDefiniteError",
    "NotSymmetricError",
    "ShapeMismatchError",
    "TrajectoryMemoryError",
    "UnknownOptionError",
    "UnsupportedOptionError",
    "ZeroLossError",
]


class L2LError(Exception):
    """Base class of every error raised by l2l-verify."""


class ArgumentError(L2LError, ValueError):
    """A function argument is invalid.

    Parameters
    ----------
    argument : str
        Name of the offending argument, as the caller spelled it.
    value : object
        The offending value (or a short description of it for large arrays).
    reason : str
        What is wrong, in words.
    """

    def __init__(self, argument: str, value: Any, reason: str) -> None:
        self.argument = argument
        self.value = value
        self.reason = reason
        super().__init__(f"invalid {argument}={_short(value)}: {reason}")


class ShapeMismatchError(ArgumentError):
    """An array has the wrong number of dimensions or a shape inconsistent with another."""


class NonFiniteError(ArgumentError):
    """An input contains NaN or an infinity."""


class InvalidMatrixError(ArgumentError):
    """A matrix argument is unusable (base class of the matrix-property errors)."""


class NotSymmetricError(InvalidMatrixError):
    """A matrix that must be exactly symmetric is not."""


class NotPositiveDefiniteError(InvalidMatrixError):
    """A matrix is proven not positive (semi)definite where that is required."""


class InvalidStepSizeError(ArgumentError):
    """The step size eta is negative, NaN or infinite."""


class InvalidHorizonError(ArgumentError):
    """The horizon t is negative or not an integer."""


class InvalidPrecisionError(ArgumentError):
    """A requested tolerance or precision is impossible (non-positive, NaN, or not a number)."""


class UnknownOptionError(ArgumentError):
    """A string option is not one of the accepted choices."""


class BackendUnavailableError(L2LError, ImportError):
    """An optional framework backend (PyTorch, JAX) is not installed or cannot run here.

    ``backend`` names the backend and ``hint`` how to install it.
    """

    def __init__(self, backend: str, hint: str) -> None:
        self.backend = backend
        self.hint = hint
        super().__init__(f"backend={backend!r} is unavailable: {hint}")


class UnsupportedOptionError(UnknownOptionError):
    """A known option that this backend does not support in combination with the others.

    (e.g. ``backend="stable"`` at ``dtype="float16"``, or ``backend="paper"`` with ``b != 0``.)
    """


class TrajectoryMemoryError(ArgumentError, MemoryError):
    """Reverse mode cannot store the trajectory it needs (G x t x d entries) in memory.

    ``argument`` is ``"t"``; the message gives the size and the alternatives (forward mode or
    the stable backend, whose memory does not grow with t, or fewer step sizes per call).
    """


class ZeroLossError(ArgumentError):
    """The log meta-objective was asked for where the final loss is exactly zero (or negative).

    ``argument`` names the input that makes the loss vanish (usually ``"eta"``).
    """


class NotCertifiedError(L2LError, ArithmeticError):
    """A certified result could not be proven within the precision cap.

    Raised instead of returning an unproven number. ``prec_bits`` is the last working
    precision tried and ``achieved_rel`` the relative radius reached there (``inf`` when the
    enclosure still contained zero).
    """

    def __init__(self, message: str, *, prec_bits: int, achieved_rel: float) -> None:
        self.prec_bits = prec_bits
        self.achieved_rel = achieved_rel
        super().__init__(message)


def _short(value: Any) -> str:
    """Render ``value`` for an error message without dumping a whole array."""
    shape = getattr(value, "shape", None)
    # shape, not size: a torch tensor's ``size`` is a method and a numpy scalar *type*'s a
    # descriptor; torch.Size is a tuple
    if isinstance(shape, tuple) and math.prod(shape) > 8:
        return f"<array shape={tuple(shape)} dtype={getattr(value, 'dtype', '?')}>"
    from fractions import Fraction

    if (
        isinstance(value, Fraction)
        and max(value.numerator.bit_length(), value.denominator.bit_length()) > 256
    ):
        lg = value.numerator.bit_length() - value.denominator.bit_length() if value else 0
        return f"<Fraction about 2**{lg}>"
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


class FractionSizeError(L2LError, OverflowError):
    """An exact value is too far from 1 to expand into a :class:`~fractions.Fraction`.

    ``exponent`` is its binary exponent, ``limit`` :data:`verify.floats.FRACTION_LIMIT_BITS`.
    The value itself is still available exactly as a :class:`verify.floats.ScaledRational`
    (compare it, round it with :func:`verify.floats.round_fraction`, print it with
    :func:`verify.floats.format_real`).
    """

    def __init__(self, what: str, exponent: int, limit: int) -> None:
        self.exponent = exponent
        self.limit = limit
        super().__init__(
            f"{what} is about 2**{exponent}: expanding it into a Fraction needs more than "
            f"{limit} bits; use the exact ScaledRational form (comparisons, to_float, "
            "format_real) instead"
        )


class NotDifferentiableError(ArgumentError):
    """The meta-gradient does not exist at this point (Adam with beta2 = 0 < beta1, where
    vhat = 0 with mhat != 0 puts a kink in the update): the one-sided derivatives differ.

    ``argument`` is the hyperparameter differentiated in; ``right`` and ``left`` are
    :class:`~verify.certified.enclosure.Enclosure` s of lim (F(theta0 + h) - F(theta0))/h for
    h -> 0+ and h -> 0-.
    """

    def __init__(self, argument: str, value: Any, right: Any, left: Any) -> None:
        self.right = right
        self.left = left
        super().__init__(
            argument,
            value,
            f"the meta-gradient does not exist: one-sided derivatives {right} (right) and "
            f"{left} (left) differ (Adam's second moment is exactly 0 with a nonzero first "
            "moment: sqrt(vhat) = |g| has a kink)",
        )
