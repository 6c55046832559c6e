"""Argument parsing shared by every ``l2l-verify`` subcommand: one-line errors, honest help.

* :class:`CLIParser` -- an :class:`argparse.ArgumentParser` whose errors are one line on
  stderr (``l2l-verify truth: error: argument --eta: ...``) with exit status 2, and whose help
  shows every option's default.
* Typed readers for option values (:func:`positive_int`, :func:`nonnegative_int`,
  :func:`step_size`): each rejects bad input with a message that names the accepted forms.
* :func:`fail` -- the one way a command reports bad input it finds after parsing.

This module imports only the standard library (and :mod:`verify.errors`), so every command's
``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import math
import sys
from fractions import Fraction
from typing import NoReturn

__all__ = [
    "EXIT_BAD_INPUT",
    "CLIParser",
    "HelpFormatter",
    "fail",
    "nonnegative_int",
    "positive_int",
    "step_size",
]

#: Exit status for bad input (argparse's own convention).
EXIT_BAD_INPUT = 2


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Show each option's default (not the uninformative None / False of optional flags and
    values); keep descriptions' line breaks."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if default is None or default is False or default == argparse.SUPPRESS:
            return text
        if "%(default)" in text:
            return text
        if isinstance(action.default, list):
            return text + " (default: all)" if "default" not in text else text
        return super()._get_help_string(action)


class CLIParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (``PROG: error: MESSAGE``), exit 2."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> NoReturn:
        """Print one line to stderr and exit with status 2 (no usage block)."""
        fail(self.prog, message)


def fail(prog: str, message: str) -> NoReturn:
    """Report bad input: ``PROG: error: MESSAGE`` on one line of stderr, exit status 2."""
    text = " ".join(str(message).split())  # one line, whatever the message holds
    sys.stderr.write(f"{prog}: error: {text}\n")
    raise SystemExit(EXIT_BAD_INPUT)


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None


def positive_int(text: str) -> int:
    """An integer >= 1."""
    n = _int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be an integer >= 1")
    return n


def nonnegative_int(text: str) -> int:
    """An integer >= 0."""
    n = _int(text)
    if n < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be an integer >= 0")
    return n


STEP_SIZE_FORMS = "a decimal (0.01), a hex float (0x1.47ae147ae147bp-7) or a fraction (1/64)"


def step_size(text: str) -> float | Fraction:
    """A step size >= 0, read exactly: a decimal (as float64), a hex float or a fraction.

    Examples
    --------
    >>> step_size("1/64"), step_size("0x1p-6"), step_size("0.5")
    (Fraction(1, 64), 0.015625, 0.5)
    """
    s = text.strip()
    value: float | Fraction
    try:
        if "/" in s:
            value = Fraction(s)
        elif s.lower().lstrip("+-").startswith("0x"):
            value = float.fromhex(s)
        else:
            value = float(s)
    except (ValueError, ZeroDivisionError, OverflowError):
        raise argparse.ArgumentTypeError(f"{text!r} is not {STEP_SIZE_FORMS}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r}: must be finite")
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be >= 0")
    return value
