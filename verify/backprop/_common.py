"""The internal interface every backend implements and shares (not public API).

A call of :func:`verify.backprop.meta_gradient` goes through three steps, all defined here:

1. :func:`make_request` validates every argument (typed errors) into a :class:`Request`:
   problems, the step sizes as a float64 vector, horizon, objective, the
   :class:`~verify.floats.FloatFormat` parsed once, backend and mode;
2. the backend's ``run_<name>(req, ...)`` computes in ``req.dt`` from :func:`problem_data`
   (the problem rounded once to the dtype) and returns ``(value, grad, diagnostics)``: two
   (G,) arrays of the dtype and one :class:`~verify.backprop.diagnostics.Diagnostics` per
   step size; it refuses an unsupported combination with :func:`reject` and imports its
   framework with :func:`optional_import`;
3. :func:`finish` packages them into a :class:`BackpropResult` (scalar or batched).

What the backends describe about themselves (names, frameworks, modes, dtypes, variants,
required modules) is in :mod:`verify.backprop.registry`; the diagnostics tracker shared by the
stepwise backends in :mod:`verify.backprop.diagnostics`. Nothing here imports
:mod:`verify.truth` (the systems under test are independent of the oracle).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import (
    ArgumentError,
    BackendUnavailableError,
    InvalidStepSizeError,
    UnknownOptionError,
    UnsupportedOptionError,
)
from ..floats import FloatFormat, get_format
from ..problems import Problem, Quadratic
from ..validation import (
    validate_eta,
    validate_eval_problem,
    validate_horizon,
    validate_objective,
)
from .diagnostics import Diagnostics
from .optimizers import GD, Optimizer
from .registry import MODES, VARIANTS, backend_info, optional_import

__all__ = [
    "BackendUnavailableError",
    "BackpropResult",
    "Request",
    "UnsupportedOptionError",
    "as_quadratic",
    "check_dtype",
    "finish",
    "make_request",
    "optional_import",
    "problem_data",
    "reject",
    "resolve_variant",
    "validate_etas",
]


@dataclass(frozen=True)
class BackpropResult:
    """Meta-objective value and meta-gradient from a float backend, with diagnostics.

    For a scalar step size ``value`` and ``grad`` are numpy scalars of ``dtype`` and
    ``diagnostics`` is one :class:`Diagnostics`; for a vector of G step sizes they are arrays
    of shape (G,) and a tuple of G diagnostics. Use :meth:`point` to get the scalar result of
    one step size out of a batch.

    Attributes
    ----------
    value, grad
        F(eta) and F'(eta) in ``dtype``.
    dtype, backend, mode, objective : str
    t : int
    eta : float or ndarray
        The step size(s) exactly as given (float64).
    problem, eval_problem
        The inputs (kept so that :mod:`verify.compare` can size tolerances).
    variant : str or None
        The variant of a backend that has several (:data:`VARIANTS`): ``"published"`` or
        ``"sorted"`` (paper), ``"jit"`` or ``"eager"`` (optax), ``"functional"`` or
        ``"meta"`` (torchopt); ``None`` for the others.
    optimizer : Optimizer
        The inner optimizer unrolled and its settings (plain GD unless asked otherwise).
    """

    value: Any
    grad: Any
    dtype: str
    backend: str
    mode: str
    objective: str
    t: int
    eta: Any
    diagnostics: Any = field(repr=False)
    problem: Problem | None = field(default=None, repr=False, compare=False)
    eval_problem: Problem | None = field(default=None, repr=False, compare=False)
    variant: str | None = None
    optimizer: Optimizer = GD

    @property
    def batched(self) -> bool:
        """Whether this result holds a vector of step sizes."""
        return bool(np.ndim(self.eta) == 1)

    def __len__(self) -> int:
        return int(np.size(self.eta))

    def point(self, i: int) -> BackpropResult:
        """The scalar result of the ``i``-th step size of a batched result."""
        if not self.batched:
            if i != 0:
                raise IndexError(i)
            return self
        return BackpropResult(
            self.value[i],
            self.grad[i],
            self.dtype,
            self.backend,
            self.mode,
            self.objective,
            self.t,
            float(self.eta[i]),
            self.diagnostics[i],
            self.problem,
            self.eval_problem,
            self.variant,
            self.optimizer,
        )

    def points(self) -> list[BackpropResult]:
        """All scalar results (one per step size)."""
        return [self.point(i) for i in range(len(self))]


@dataclass(frozen=True)
class Request:
    """A validated call: everything a backend needs."""

    problem: Problem
    eval_problem: Problem | None
    etas: NDArray[np.float64]  # shape (G,)
    scalar: bool
    t: int
    objective: str
    fmt: FloatFormat
    backend: str
    mode: str
    opt: Optimizer = GD

    @property
    def dt(self) -> np.dtype[Any]:
        return self.fmt.numpy_dtype()

    @property
    def eval(self) -> Problem:
        return self.problem if self.eval_problem is None else self.eval_problem


def validate_etas(eta: ArrayLike) -> tuple[NDArray[np.float64], bool]:
    """Step sizes as a float64 vector (refusing values float64 cannot hold) and scalar-ness.

    A scalar goes through :func:`verify.validation.validate_eta` (so a
    :class:`~fractions.Fraction` is accepted when float64 holds it exactly).
    """
    if isinstance(eta, bool):
        raise InvalidStepSizeError("eta", eta, "must be a real number or a 1-D array")
    if isinstance(eta, (int, float, Fraction, np.floating, np.integer)):
        q = validate_eta(eta)
        if Fraction(float(q)) != q:
            raise InvalidStepSizeError("eta", eta, "is not exactly representable in float64")
        return np.array([float(q)]), True
    try:
        raw = np.asarray(eta)
    except Exception as exc:  # pragma: no cover - numpy raises many types here
        raise InvalidStepSizeError("eta", eta, f"cannot be read as an array ({exc})") from exc
    if raw.dtype == object or (raw.dtype.kind not in "iuf" and raw.dtype.name != "bfloat16"):
        raise InvalidStepSizeError("eta", eta, f"must be real numbers, got dtype {raw.dtype}")
    if raw.ndim > 1:
        raise InvalidStepSizeError("eta", eta, "must be a scalar or a 1-D array")
    arr = raw.astype(np.float64)
    if raw.dtype.kind in "iu" and not np.array_equal(arr.astype(raw.dtype), raw):
        raise InvalidStepSizeError("eta", eta, "integer not exactly representable in float64")
    if not np.all(np.isfinite(arr)):
        raise InvalidStepSizeError("eta", eta, "must be finite")
    if np.any(arr < 0):
        raise InvalidStepSizeError("eta", eta, "must be >= 0")
    if arr.ndim == 1 and arr.size == 0:
        raise InvalidStepSizeError("eta", eta, "must not be empty")
    return arr.reshape(-1), arr.ndim == 0


def make_request(
    problem: Problem,
    eta: ArrayLike,
    t: int,
    *,
    objective: str,
    eval_problem: Problem | None,
    dtype: str,
    backend: str,
    mode: str,
    opt: Optimizer = GD,
) -> Request:
    """Validate every argument of :func:`verify.backprop.meta_gradient` with typed errors
    (``opt`` comes validated from :func:`verify.backprop.optimizers.make_optimizer`)."""
    obj = validate_objective(objective)
    ti = validate_horizon(t, objective=obj)
    validate_eval_problem(problem, eval_problem)
    info = backend_info(backend)
    if mode not in MODES:
        raise UnknownOptionError("mode", mode, f"must be one of {MODES}")
    if opt.name not in info.optimizers:
        raise reject("optimizer", opt.name, f"backend={backend!r} unrolls only {info.optimizers}")
    fmt = get_format(dtype)
    etas, scalar = validate_etas(eta)
    return Request(problem, eval_problem, etas, scalar, ti, obj, fmt, backend, mode, opt)


def as_quadratic(problem: Problem) -> Quadratic:
    """The float64 quadratic of a problem (least squares: rounded once, kept on the problem
    under ``problems:quadratic``, see :mod:`verify.problems`)."""
    return problem if isinstance(problem, Quadratic) else problem.as_quadratic()


def problem_data(problem: Problem, dt: np.dtype[Any]) -> tuple[Any, Any, Any, Any]:
    """(H, b, c, w0) rounded once each from float64 to ``dt`` (overflow to inf is kept)."""
    q = as_quadratic(problem)
    with np.errstate(all="ignore"):
        H = q.H.astype(dt)
        b = q.b_vector.astype(dt)
        c = np.asarray(q.c).astype(dt)
        w0 = q.w0.astype(dt)
    return H, b, c, w0


def check_dtype(result: Any, dt: np.dtype[Any], what: str) -> None:
    """Assert that a backend kept ``dt`` (no silent upcasting) -- an internal invariant."""
    got = np.asarray(result).dtype
    if got != dt:  # pragma: no cover - would be a bug in a backend
        raise AssertionError(f"{what} came back as {got}, expected {dt} (silent upcast)")


def finish(
    req: Request,
    value: Any,
    grad: Any,
    diags: list[Diagnostics],
    *,
    mode: str | None = None,
    variant: str | None = None,
) -> BackpropResult:
    """Package per-step-size arrays into a :class:`BackpropResult` (scalar or batched)."""
    dt = req.dt
    value = np.asarray(value).astype(dt, copy=False)
    grad = np.asarray(grad).astype(dt, copy=False)
    m = req.mode if mode is None else mode
    if req.scalar:
        return BackpropResult(
            value[0],
            grad[0],
            req.fmt.name,
            req.backend,
            m,
            req.objective,
            req.t,
            float(req.etas[0]),
            diags[0],
            req.problem,
            req.eval_problem,
            variant,
            req.opt,
        )
    return BackpropResult(
        value,
        grad,
        req.fmt.name,
        req.backend,
        m,
        req.objective,
        req.t,
        req.etas.copy(),
        tuple(diags),
        req.problem,
        req.eval_problem,
        variant,
        req.opt,
    )


def resolve_variant(backend: str, variant: str | None) -> str | None:
    """The variant a backend runs (its default for ``None``), or a typed error."""
    choices = VARIANTS.get(backend)
    if choices is None:
        if variant is not None:
            raise reject("variant", variant, f"backend={backend!r} has no variants")
        return None
    if variant is None:
        return choices[0]
    if variant not in choices:
        raise reject("variant", variant, f"backend={backend!r} has variants {choices}")
    return variant


def reject(argument: str, value: Any, reason: str) -> ArgumentError:
    """An :class:`UnsupportedOptionError` to raise for an unsupported combination."""
    return UnsupportedOptionError(argument, value, reason)
