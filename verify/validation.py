"""Argument validation shared by every engine: one place for each rule and its message.

Every public entry point that takes a point ``(problem, eta, t, objective, eval_problem)``
validates it with :func:`validate_point`, which checks, in this order, the objective, the
problems, the step size and the horizon, and returns the validated :class:`Point`. The
single-argument validators are public too, for callers that take only some of these.

Nothing here coerces bad input silently: each validator returns the exact value (a
:class:`fractions.Fraction` step size, an ``int`` horizon) or raises a typed
:class:`~verify.errors.ArgumentError` naming the argument.

Examples
--------
>>> from verify.problems import Quadratic
>>> p = validate_point(Quadratic([[2.0]], w0=[1.0]), 0.25, 3)
>>> p.eta, p.t, p.objective, p.eval_problem
(Fraction(1, 4), 3, 'naive', None)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np

from .errors import (
    InvalidHorizonError,
    InvalidPrecisionError,
    InvalidStepSizeError,
    ShapeMismatchError,
    UnknownOptionError,
)
from .problems import LeastSquares, Problem, Quadratic

__all__ = [
    "ADAM_DEFAULTS",
    "ADAM_WRT",
    "OBJECTIVES",
    "OPTIMIZERS",
    "WRT",
    "AdamSettings",
    "AdamWrt",
    "Objective",
    "Optimizer",
    "Point",
    "Wrt",
    "validate_adam",
    "validate_beta",
    "validate_eps",
    "validate_eta",
    "validate_eval_problem",
    "validate_horizon",
    "validate_objective",
    "validate_optimizer",
    "validate_point",
    "validate_rel_tol",
    "validate_wrt",
]

#: The meta-objectives (see :mod:`verify.objectives`), in display order.
Objective = Literal["naive", "log"]
OBJECTIVES: tuple[str, ...] = ("naive", "log")


#: The inner optimizers: plain gradient descent, heavy-ball momentum
#: w_{k+1} = w_k - eta grad f(w_k) + beta (w_k - w_{k-1}), w_{-1} = w_0, and Adam
#: (:mod:`verify.backprop.optimizers` states each update; certified truth for Adam is
#: :func:`verify.truth.adam_meta_gradient`).
Optimizer = Literal["gd", "heavy_ball", "adam"]
OPTIMIZERS: tuple[str, ...] = ("gd", "heavy_ball", "adam")
#: ``torch.optim.Adam`` / ``optax.adam`` defaults (beta1, beta2, eps).
ADAM_DEFAULTS: tuple[float, float, float] = (0.9, 0.999, 1e-8)

#: The hyperparameters a meta-derivative can be taken with respect to.
Wrt = Literal["eta", "beta"]
WRT: tuple[str, ...] = ("eta", "beta")


def validate_optimizer(
    optimizer: object, choices: tuple[str, ...] = OPTIMIZERS
) -> Optimizer:
    """Return ``optimizer`` if it is one of ``choices`` (default :data:`OPTIMIZERS`), else
    raise UnknownOptionError naming it."""
    if not isinstance(optimizer, str) or optimizer not in choices:
        raise UnknownOptionError("optimizer", optimizer, f"must be one of {choices}")
    return optimizer  # type: ignore[return-value]


def validate_wrt(wrt: object) -> Wrt:
    """Return ``wrt`` if it is ``"eta"`` or ``"beta"``, else raise UnknownOptionError."""
    if not isinstance(wrt, str) or wrt not in WRT:
        raise UnknownOptionError("wrt", wrt, f"must be one of {WRT}")
    return wrt  # type: ignore[return-value]


def validate_beta(beta: object, name: str = "beta") -> Fraction:
    """The exact value of a momentum coefficient or moment decay; must be a finite real with
    0 <= beta < 1.

    Bad values raise :class:`~verify.errors.InvalidStepSizeError` (a hyperparameter error)
    with ``argument=name`` (``"beta"``, or ``"beta1"`` / ``"beta2"`` for Adam).

    Accepts float, int, numpy scalars and :class:`fractions.Fraction`; never rounds (a float
    is the dyadic rational it holds), like :func:`validate_eta`.

    Examples
    --------
    >>> validate_beta(0.5), validate_beta(Fraction(9, 10))
    (Fraction(1, 2), Fraction(9, 10))
    """
    q = _exact_real(name, beta)
    if not 0 <= q < 1:
        raise InvalidStepSizeError(name, beta, f"must satisfy 0 <= {name} < 1")
    return q


def validate_eps(eps: object) -> Fraction:
    """The exact value of Adam's denominator offset; must be a finite real > 0
    (:class:`~verify.errors.InvalidStepSizeError` naming ``eps`` otherwise)."""
    q = _exact_real("eps", eps)
    if not q > 0:
        raise InvalidStepSizeError("eps", eps, "must be > 0")
    return q


#: The hyperparameters an Adam meta-derivative can be taken with respect to.
AdamWrt = Literal["eta", "beta1", "beta2", "eps"]
ADAM_WRT: tuple[str, ...] = ("eta", "beta1", "beta2", "eps")


@dataclass(frozen=True)
class AdamSettings:
    """Validated Adam hyperparameters, each the exact rational the caller's value holds.

    Attributes
    ----------
    eta : Fraction
        Learning rate, > 0.
    beta1, beta2 : Fraction
        Moment decays, in [0, 1) (``beta1 = 0``: RMSProp with bias correction).
    eps : Fraction
        Denominator offset, > 0.
    wrt : {"eta", "beta1", "beta2", "eps"}
        The hyperparameter a derivative is taken in.
    """

    eta: Fraction
    beta1: Fraction
    beta2: Fraction
    eps: Fraction
    wrt: AdamWrt

    def value(self, name: str) -> Fraction:
        """The hyperparameter called ``name`` (one of :data:`ADAM_WRT`)."""
        value: Fraction = getattr(self, name)
        return value


def _exact_real(name: str, x: object) -> Fraction:
    """The exact rational held by a finite real ``x`` (typed error naming ``name``)."""
    if isinstance(x, bool) or not isinstance(x, (int, float, Fraction, np.floating, np.integer)):
        raise InvalidStepSizeError(name, x, "must be a real number (float, int or Fraction)")
    if isinstance(x, (float, np.floating)) and not math.isfinite(float(x)):
        raise InvalidStepSizeError(name, x, "must be finite")
    if isinstance(x, Fraction):
        return x
    if isinstance(x, (int, np.integer)):
        return Fraction(int(x))
    return Fraction(float(x))


def validate_adam(
    eta: object, beta1: object, beta2: object, eps: object, wrt: object = "eta"
) -> AdamSettings:
    """Validate Adam's hyperparameters: eta > 0, 0 <= beta1 < 1, 0 <= beta2 < 1, eps > 0.

    Values are used exactly (a float is the dyadic rational it holds); nothing is rounded.

    Raises
    ------
    InvalidStepSizeError
        A hyperparameter that is not a finite real in its range; ``argument`` names it.
    UnknownOptionError
        ``wrt`` not one of :data:`ADAM_WRT`.

    Examples
    --------
    >>> s = validate_adam(0.5, 0.9, 0, 0.25)
    >>> s.eta, s.beta2, s.eps, s.wrt
    (Fraction(1, 2), Fraction(0, 1), Fraction(1, 4), 'eta')
    """
    q_eta = _exact_real("eta", eta)
    if not q_eta > 0:
        raise InvalidStepSizeError("eta", eta, "Adam's learning rate must be > 0")
    q1 = validate_beta(beta1, "beta1")
    q2 = validate_beta(beta2, "beta2")
    q_eps = validate_eps(eps)
    if not isinstance(wrt, str) or wrt not in ADAM_WRT:
        raise UnknownOptionError("wrt", wrt, f"must be one of {ADAM_WRT}")
    return AdamSettings(q_eta, q1, q2, q_eps, wrt)  # type: ignore[arg-type]


def validate_objective(objective: object) -> Objective:
    """Return ``objective`` if it is ``"naive"`` or ``"log"``, else raise UnknownOptionError."""
    if objective not in OBJECTIVES:
        raise UnknownOptionError("objective", objective, f"must be one of {OBJECTIVES}")
    return objective  # type: ignore[return-value]


def validate_eta(eta: object) -> Fraction:
    """The exact value of a step size; must be a finite real >= 0.

    Accepts float, int, numpy scalars and :class:`fractions.Fraction`; never rounds.
    """
    if isinstance(eta, bool) or not isinstance(
        eta, (int, float, Fraction, np.floating, np.integer)
    ):
        raise InvalidStepSizeError("eta", eta, "must be a real number (float, int or Fraction)")
    if isinstance(eta, (float, np.floating)) and not math.isfinite(float(eta)):
        raise InvalidStepSizeError("eta", eta, "must be finite")
    q = (
        eta
        if isinstance(eta, Fraction)
        else Fraction(int(eta))
        if isinstance(eta, (int, np.integer))
        else Fraction(float(eta))
    )
    if q < 0:
        raise InvalidStepSizeError("eta", eta, "must be >= 0")
    return q


def validate_horizon(t: object, *, objective: str = "naive") -> int:
    """The horizon as an int; must be an integer >= 0 (>= 1 for the log objective)."""
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)):
        raise InvalidHorizonError(
            "t", t, "must be an integer (int or numpy integer), not " + type(t).__name__
        )
    ti = int(t)
    if ti < 0:
        raise InvalidHorizonError("t", t, "must be >= 0")
    if objective == "log" and ti == 0:
        raise InvalidHorizonError("t", t, "must be >= 1 for the log objective (1/t) log f(w_t)")
    return ti


def validate_rel_tol(rel_tol: object, *, max_prec_bits: int) -> Fraction:
    """A relative tolerance in (0, 1) that the precision cap can reach."""
    if isinstance(rel_tol, bool) or not isinstance(rel_tol, (int, float, Fraction, np.floating)):
        raise InvalidPrecisionError("rel_tol", rel_tol, "must be a real number")
    if isinstance(rel_tol, (float, np.floating)) and not math.isfinite(float(rel_tol)):
        raise InvalidPrecisionError("rel_tol", rel_tol, "must be finite")
    q = (
        Fraction(rel_tol)
        if not isinstance(rel_tol, (float, np.floating))
        else Fraction(float(rel_tol))
    )
    if not 0 < q < 1:
        raise InvalidPrecisionError("rel_tol", rel_tol, "must satisfy 0 < rel_tol < 1")
    needed = q.denominator.bit_length() - q.numerator.bit_length()
    if needed > max_prec_bits - 16:
        raise InvalidPrecisionError(
            "rel_tol", rel_tol, f"needs about {needed} bits, beyond max_prec_bits={max_prec_bits}"
        )
    return q


def validate_eval_problem(problem: object, eval_problem: object) -> None:
    """Check that ``problem`` is a problem and ``eval_problem`` (if any) has the same dimension."""
    if not isinstance(problem, (Quadratic, LeastSquares)):
        raise ShapeMismatchError("problem", problem, "must be a Quadratic or LeastSquares")
    if eval_problem is None:
        return
    if not isinstance(eval_problem, (Quadratic, LeastSquares)):
        raise ShapeMismatchError(
            "eval_problem", eval_problem, "must be a Quadratic, LeastSquares or None"
        )
    if eval_problem.d != problem.d:
        raise ShapeMismatchError(
            "eval_problem", eval_problem, f"has dimension {eval_problem.d}, problem has {problem.d}"
        )


@dataclass(frozen=True)
class Point:
    """A validated point at which a meta-objective is evaluated.

    Attributes
    ----------
    problem : Quadratic or LeastSquares
        The training problem (GD runs on it).
    eta : Fraction
        The exact step size (>= 0).
    t : int
        The horizon (>= 0; >= 1 for the log objective).
    objective : {"naive", "log"}
        The meta-objective.
    eval_problem : Quadratic, LeastSquares or None
        The evaluation problem (``None``: the training problem itself), same dimension.
    """

    problem: Problem
    eta: Fraction
    t: int
    objective: Objective
    eval_problem: Problem | None

    @property
    def evaluated_on(self) -> Problem:
        """The problem whose loss the meta-objective measures (``eval_problem`` or ``problem``)."""
        return self.problem if self.eval_problem is None else self.eval_problem


def validate_point(
    problem: object,
    eta: object,
    t: object,
    objective: object = "naive",
    eval_problem: object = None,
) -> Point:
    """Validate a point: objective, problems, step size, horizon, in that order.

    Raises the first error found (:class:`~verify.errors.UnknownOptionError`,
    :class:`~verify.errors.ShapeMismatchError`, :class:`~verify.errors.InvalidStepSizeError`,
    :class:`~verify.errors.InvalidHorizonError`), with the message of the single validator.
    """
    obj = validate_objective(objective)
    validate_eval_problem(problem, eval_problem)
    q = validate_eta(eta)
    ti = validate_horizon(t, objective=obj)
    return Point(problem, q, ti, obj, eval_problem)  # type: ignore[arg-type]
