"""The verdict on a float meta-gradient: one strict judge for the API, the plugin, sweeps, the
report and ``l2l-verify check``.

:func:`check_meta_gradient` takes a meta-gradient computed anywhere (your code, PyTorch,
torchopt, higher, optax, another language) and returns a :class:`Verdict`;
:func:`judge_result` does the same for the suite's own backends (with their diagnostics).
Both end in one function, :func:`_decide`, and the outcome rules live in one function under
it, :func:`verify.compare.judge_value`.

Strictness
----------
These rules are the contract; ``tests/test_judge.py`` tests them one by one.

1. **Outcome first, from certified numbers only.** The outcome (accurate, inaccurate,
   silently_wrong, overflow, underflow, nan) is decided by :func:`verify.compare.judge_value`
   against the certified enclosure of F'(eta). A NaN, an infinity where the exact value
   rounds to something finite, a nonzero result of the wrong certified sign, a zero from an
   overflowed objective, a zero or subnormal beyond the bound, and a normal-size result where
   the exact value rounds to +-0 are failure outcomes whatever any model says.
2. **Failures never pass because a model is undecided.** A failure outcome passes only as a
   strict expected failure inside a registered known-failure region
   (:mod:`verify.known_failures`, for the backend named by ``like``); there ``passed`` is
   True and ``known_failure`` names the region. An *accurate* result inside a region does not
   pass (``status="xpass"``): the region is stale.
3. **Only accuracy may be "not judged"**, and only where the error model provably gives no
   bound: an ``inaccurate`` result where the first-order model's relative bound exceeds
   :data:`verify.compare.MODEL_LIMIT`, or (stepwise backprop of the log objective) where
   :func:`verify.backprop.predict_failure` puts an intermediate outside the normal range
   (the model assumes normal-range arithmetic). Such a verdict has ``judged=False`` and
   ``passed=True``; every other verdict has ``judged=True``.
4. **Bounds exist at any magnitude.** The bound is compared in log space
   (:class:`verify.compare.ErrorBound`), so |F'| ~ 1e357 (beyond float64) is judged like
   |F'| ~ 1; an overflowing estimate never switches judging off.
5. **Underflow is reachable** whenever ``value`` is given: F = -inf (log objective) or
   F = 0 (naive) shows that f(w_t) rounded to 0.
6. **Truth that rounds to +-0 in the dtype**: +-0 (either sign) and the smallest subnormal
   of the right sign are accurate; a larger subnormal is ``underflow`` (a leftover of gradual
   underflow); a normal-size value is ``silently_wrong`` unless the bound admits it.

Points where the meta-objective does not exist (log objective with f(w_t) = 0 exactly)
have no truth: :func:`check_meta_gradient` raises :class:`~verify.errors.ZeroLossError`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal

from .backprop import BACKENDS, BackpropResult, Diagnostics, predict_failure, sensitivity
from .backprop.boundaries import FailurePrediction
from .backprop.registry import backend_info
from .compare import (
    MODEL_LIMIT,
    TOLERANCES,
    ErrorBound,
    Outcome,
    error_bound,
    judge_value,
    require_gd,
)
from .errors import ArgumentError, UnknownOptionError
from .floats import (
    FloatFormat,
    float_text,
    format_real,
    get_format,
    read_float,
    read_scalar,
    round_fraction,
)
from .known_failures import KnownFailure, lookup
from .problems import Problem, Quadratic
from .validation import validate_eta, validate_eval_problem, validate_horizon, validate_objective

if TYPE_CHECKING:
    from .backprop import Sensitivity
    from .truth import Enclosure

__all__ = ["STATUSES", "Status", "Verdict", "check_meta_gradient", "judge_result"]

Status = Literal["passed", "failed", "not_judged", "expected_failure", "xpass"]
#: Every :attr:`Verdict.status`: ``passed`` (accurate), ``not_judged`` (inaccurate where the
#: model gives no bound; passes), ``expected_failure`` (a failure inside a known region;
#: passes), ``xpass`` (accurate inside a known region: fails, the region is stale),
#: ``failed`` (anything else).
STATUSES: tuple[Status, ...] = ("passed", "failed", "not_judged", "expected_failure", "xpass")


@dataclass(frozen=True)
class Verdict:
    """What the judge decided about one float meta-gradient.

    Attributes
    ----------
    outcome : Outcome
        The class of the result against the certified truth.
    passed : bool
        Whether a test of this result passes (see :attr:`status`).
    judged : bool
        False only for an ``inaccurate`` result where the error model gives no bound.
    status : str
        One of :data:`STATUSES`.
    truth : Enclosure
        The certified F'(eta).
    truth_rounded : float
        The exact F'(eta) correctly rounded once to ``dtype``.
    ulps, bits : float
        Distance from ``truth_rounded`` in ``dtype`` ulps; bits of error log2(1 + ulps).
    rel_u : float
        |grad - F'| / |F'| in units of the dtype's unit roundoff.
    tolerance : float or None
        The absolute error bound as a float64 (``inf`` when it exceeds float64, judged in
        log space all the same; ``None`` where the model gives no bound). See ``bound``.
    known_failure : str or None
        The known-failure region containing the point (if known failures apply).
    reason : str
        One line: why this outcome and status.
    grad, value : float
        The inputs, exactly (``value`` is None when not given).
    eta : Fraction
        The exact step size judged (the value the caller's number holds).
    t, objective, dtype, source, like
        The point, and the labels: ``like`` is the built-in backend whose error model and
        known-failure regions were applied.
    bound : ErrorBound
        The error model's bound, in log space.
    """

    outcome: Outcome
    passed: bool
    judged: bool
    status: Status
    truth: Enclosure = field(repr=False)
    truth_rounded: float
    ulps: float
    bits: float
    rel_u: float
    tolerance: float | None
    known_failure: str | None
    reason: str
    grad: float
    value: float | None
    eta: Fraction = field(repr=False)
    t: int
    objective: str
    dtype: str
    source: str
    like: str
    bound: ErrorBound = field(repr=False)
    problem: Problem = field(repr=False, compare=False)
    eval_problem: Problem | None = field(default=None, repr=False, compare=False)

    def report(self) -> str:
        """A multi-line accuracy report: the point exactly, the truth, the error, the bound,
        the reason, and a paste-ready Hypothesis ``@example``."""
        eta_f = float(self.eta)
        exact_eta = Fraction(eta_f) == self.eta
        eta_txt = (
            f"{eta_f.hex()} ({eta_f!r})"
            if exact_eta
            else f"{self.eta} (not a float64; about {eta_f!r})"
        )
        value = "not given" if self.value is None else f"{self.value.hex()} ({self.value!r})"
        head = {
            "passed": "PASSED",
            "failed": "FAILED",
            "not_judged": "NOT JUDGED (passes)",
            "expected_failure": "EXPECTED FAILURE (passes)",
            "xpass": "XPASS(strict) (fails)",
        }[self.status]
        tr = self.truth
        lines = [
            f"{head}: {self.outcome.value} -- {self.reason}",
            f"  point: eta = {eta_txt}, t = {self.t}, objective = {self.objective}, "
            f"dtype = {self.dtype}, source = {self.source}, error model like {self.like}",
            f"  problem: {self.problem!r}"
            + ("" if self.eval_problem is None else f", evaluated on {self.eval_problem!r}"),
            f"  got: grad = {float_text(self.grad)} ({self.grad!r}); value = {value}",
            f"  truth: F'(eta) in {tr} (relative radius {tr.rel_radius():.3g}), rounds to "
            f"{self.truth_rounded!r} in {self.dtype}",
            f"  error: {self.ulps:.4g} ulps = {self.bits:.3g} bits; relative {self.rel_u:.3g} u",
            f"  bound: {self.bound.describe()}; " + TOLERANCES[self.dtype].derivation(),
            f"  known-failure region: {self.known_failure or 'none'}",
            f"  paste: {self.example()}",
        ]
        return "\n".join(lines)

    def example(self) -> str:
        """A Hypothesis ``@example(...)`` reproducing the point exactly (problem inlined when
        it is a small Quadratic)."""
        parts = []
        q = self.problem
        if isinstance(q, Quadratic) and q.d <= 6:
            H = (
                "["
                + ", ".join("[" + ", ".join(_fromhex(x) for x in row) + "]" for row in q.H)
                + "]"
            )
            w0 = "[" + ", ".join(_fromhex(x) for x in q.w0) + "]"
            extra = ""
            if q.b is not None:
                extra = ", b=[" + ", ".join(_fromhex(x) for x in q.b) + "]"
            if q.c:
                extra += f", c={_fromhex(float(q.c))}"
            parts.append(f"q=Quadratic({H}, {w0}{extra})")
        eta_f = float(self.eta)
        if Fraction(eta_f) == self.eta:
            parts.append(f"eta={_fromhex(eta_f)}")
        else:
            parts.append(f"eta=Fraction({self.eta.numerator}, {self.eta.denominator})")
        parts.append(f"t={self.t}")
        return "@example(" + ", ".join(parts) + ")"


def _fromhex(x: Any) -> str:
    xf = float(x)
    return f'float.fromhex("{xf.hex()}")' if math.isfinite(xf) else f'float("{xf!r}")'


@dataclass(frozen=True)
class _Point:
    """One result to judge, validated."""

    problem: Problem
    eval_problem: Problem | None
    eta: Fraction
    t: int
    objective: str
    dtype: str
    grad: float
    value: float | None
    like: str
    source: str
    diagnostics: Diagnostics | None = None
    variant: str | None = None


def _decide(
    p: _Point,
    truth: Enclosure,
    sens: Sensitivity,
    region: KnownFailure | None,
    prediction: FailurePrediction | Literal["lazy"] | None = "lazy",
) -> Verdict:
    """The verdict (rules in the module docstring); ``prediction`` is computed on demand."""
    bound = error_bound(p.dtype, p.like, p.objective, p.t, p.problem.d, sens)
    j = judge_value(
        p.grad,
        truth,
        bound,
        value=p.value,
        objective=p.objective,
        diagnostics=p.diagnostics,
    )
    outcome, reason, judged = j.outcome, j.reason, True
    if outcome is Outcome.INACCURATE:
        if not bound.exists:
            judged = False
            reason += (
                f"; not judged: the first-order model claims no accuracy here (its relative "
                f"bound exceeds MODEL_LIMIT = {MODEL_LIMIT})"
            )
        elif _stepwise_log(p.like, p.objective, p.eval_problem):
            if prediction == "lazy":
                prediction = predict_failure(
                    p.problem, float(p.eta), p.t, dtype=p.dtype, eval_problem=p.eval_problem
                )[0]
            if prediction is not None and prediction.verdict != "safe":
                judged = False
                reason += (
                    f"; not judged: an intermediate is predicted outside the normal range "
                    f"({prediction.reason}; ln f(w_t) ~ {prediction.ln_loss:.4g}), where the "
                    "first-order model does not hold"
                )
    status: Status
    if region is not None:
        if outcome is Outcome.ACCURATE:
            status = "xpass"
            reason = (
                f"[XPASS(strict)] known-failure region {region.name!r} predicts a failure, but "
                f"the meta-gradient is accurate ({j.accuracy.bits:.3g} bits of error): the "
                f"region is stale or too wide. Its reason: {region.reason}"
            )
        else:
            status = "expected_failure"
            reason = f"known-failure region {region.name!r} ({reason}): {region.reason}"
    elif outcome is Outcome.ACCURATE:
        status = "passed"
    elif not judged:
        status = "not_judged"
    else:
        status = "failed"
    acc = j.accuracy
    return Verdict(
        outcome=outcome,
        passed=status in ("passed", "not_judged", "expected_failure"),
        judged=judged,
        status=status,
        truth=truth,
        truth_rounded=acc.truth_rounded,
        ulps=acc.ulps,
        bits=acc.bits,
        rel_u=acc.rel_u,
        tolerance=bound.absolute(),
        known_failure=None if region is None else region.name,
        reason=reason,
        grad=p.grad,
        value=p.value,
        eta=p.eta,
        t=p.t,
        objective=p.objective,
        dtype=p.dtype,
        source=p.source,
        like=p.like,
        bound=bound,
        problem=p.problem,
        eval_problem=p.eval_problem,
    )


def _stepwise_log(like: str, objective: str, eval_problem: Problem | None) -> bool:
    """Plain backprop of the log objective on its own problem: Corollary 1's prediction applies."""
    return backend_info(like).kind == "stepwise" and objective == "log" and eval_problem is None


def _region(p: _Point) -> KnownFailure | None:
    if p.eval_problem is not None:
        return None
    return lookup(p.like, p.dtype, p.objective, p.problem, float(p.eta), p.t, variant=p.variant)


def _value_in_dtype(x: object, name: str, fmt: FloatFormat) -> float:
    v = read_float(x, name)
    if math.isfinite(v) and round_fraction(Fraction(v), fmt) != v:
        raise ArgumentError(name, x, f"is not a value of dtype={fmt.name!r}")
    return v


def check_meta_gradient(
    problem: Problem,
    eta: Any,
    t: int,
    grad: Any,
    *,
    dtype: str,
    objective: str = "log",
    value: Any = None,
    eval_problem: Problem | None = None,
    source: str | None = None,
    known_failures: bool = True,
    like: str = "numpy",
    certified: Enclosure | None = None,
) -> Verdict:
    """Judge a float meta-gradient F'(eta) against the certified truth, strictly.

    Parameters
    ----------
    problem : Quadratic or LeastSquares
        The inner problem (exact float64 data).
    eta : float, int, Fraction, numpy/torch/JAX scalar
        The step size *your code used*, read exactly: the judged eta is the value the number
        holds, e.g. ``np.float32(0.01)`` is judged at 0.00999999977648258209228515625. A
        Fraction is judged as that exact rational.
    t : int
        Horizon (>= 1 for the log objective).
    grad : float, numpy scalar or 0-d array, torch tensor, JAX array
        Your F'(eta); must be a value of ``dtype`` (NaN and +-inf allowed).
    dtype : {"float16", "bfloat16", "float32", "float64"}
        The format your code computed in.
    objective : {"log", "naive"}
        (1/t) log f(w_t) (default) or f(w_t).
    value : same types as ``grad``, optional
        Your F(eta). It is evidence: F = inf or F = -inf / 0 show that f(w_t) overflowed or
        underflowed, which tells an overflowed zero or an underflow from a silent error.
    eval_problem : optional
        The evaluation problem (validation loss), if not ``problem``.
    source : str, optional
        A label for reports (default ``"user"``).
    known_failures : bool
        Apply the known-failure registry for ``like`` (strict expected failures).
    like : str
        The built-in backend whose error model and known-failure regions apply: ``"numpy"``
        (default; stepwise backprop through the unrolled trajectory, as torch, JAX and the
        meta-learning libraries do), ``"torch"``, ``"jax"``, ``"optax"``, ``"torchopt"``,
        ``"higher"`` (their regions include flush-to-zero for the XLA-based ones),
        ``"stable"`` or ``"paper"``.
    certified : Enclosure, optional
        The certified F'(eta) if you already have it (default: computed here with relative
        radius <= 2^-80).

    Returns
    -------
    Verdict
        See :class:`Verdict` and the strictness rules in the module docstring.

    Raises
    ------
    ArgumentError
        Naming the argument: ``grad``/``value`` not a real scalar or not a value of
        ``dtype``; unknown ``dtype``/``objective``/``like``; invalid ``eta``/``t``/problem.
    ZeroLossError
        The log objective at a point where f(w_t) = 0 exactly: F and F' do not exist.
    NotCertifiedError
        The truth could not be certified within the precision cap.

    Guarantee
    ---------
    ``truth`` is a proven enclosure of the exact F'(eta) at the exact inputs; the outcome
    uses only that enclosure, exact ulp counts in ``dtype`` and a certified sign. The error
    *bound* that separates accurate from inaccurate is a first-order model
    (:mod:`verify.compare`), never a reason to pass a failure.

    Examples
    --------
    >>> import numpy as np
    >>> from verify import Quadratic, check_meta_gradient
    >>> q = Quadratic.from_spectrum(np.geomspace(1, 100, 10), seed=0)
    >>> v = check_meta_gradient(q, 2.5 / q.L, 1000, float("nan"), dtype="float64",
    ...                         objective="naive")
    >>> v.outcome.value, v.passed
    ('nan', False)
    """
    from . import truth as _truth

    p = _user_point(
        problem, eta, t, grad, dtype, objective, value, eval_problem, source, known_failures, like
    )
    if certified is None:
        certified = _truth.meta_gradient(
            problem, p.eta, p.t, objective=p.objective, eval_problem=eval_problem
        )
    sens = sensitivity(
        problem, float(p.eta), p.t, objective=p.objective, eval_problem=eval_problem
    )[0]
    region = _region(p) if known_failures else None
    return _decide(p, certified, sens, region)


def _user_point(
    problem: Problem,
    eta: Any,
    t: int,
    grad: Any,
    dtype: str,
    objective: str,
    value: Any,
    eval_problem: Problem | None,
    source: str | None,
    known_failures: bool,
    like: str,
) -> _Point:
    """The arguments of :func:`check_meta_gradient`, validated (typed errors, in this order)."""
    validate_eval_problem(problem, eval_problem)
    obj = validate_objective(objective)
    fmt = get_format(dtype)
    eta_q = validate_eta(read_scalar(eta, "eta"))
    ti = validate_horizon(t, objective=obj)
    if like not in BACKENDS:
        raise UnknownOptionError("like", like, f"must be one of {BACKENDS}")
    if not isinstance(known_failures, bool):
        raise ArgumentError("known_failures", known_failures, "must be True or False")
    if source is not None and not isinstance(source, str):
        raise ArgumentError("source", source, "must be a string label")
    g = _value_in_dtype(grad, "grad", fmt)
    v = None if value is None else _value_in_dtype(value, "value", fmt)
    return _Point(problem, eval_problem, eta_q, ti, obj, fmt.name, g, v, like, source or "user")


def judge_result(
    result: BackpropResult,
    truths: Sequence[Enclosure],
    *,
    known_failures: bool = True,
    source: str | None = None,
) -> list[Verdict]:
    """Verdicts on every step size of a built-in backend's result (scalar or batched).

    The same judge as :func:`check_meta_gradient`, with the backend's own diagnostics as
    evidence of underflow and ``like`` = the backend. Sensitivities and failure predictions
    are computed once for the batch.

    Guarantee
    ---------
    As :func:`check_meta_gradient`: outcomes from the certified ``truths`` (one per step
    size, in order).
    """
    require_gd(result)
    points = result.points()
    if len(points) != len(truths):
        raise ValueError(f"{len(points)} results but {len(truths)} enclosures")
    if result.problem is None:
        raise ArgumentError("result", result, "carries no problem: cannot judge it")
    sens = sensitivity(
        result.problem,
        result.eta,
        result.t,
        objective=result.objective,
        eval_problem=result.eval_problem,
    )
    preds: list[FailurePrediction | None] = [None] * len(points)
    if _stepwise_log(result.backend, result.objective, result.eval_problem):
        preds = list(predict_failure(result.problem, result.eta, result.t, dtype=result.dtype))
    dtype = get_format(result.dtype).name
    out = []
    for r, tr, s, pred in zip(points, truths, sens, preds, strict=True):
        v = float(r.value)
        p = _Point(
            r.problem,  # type: ignore[arg-type]
            r.eval_problem,
            Fraction(float(r.eta)),
            r.t,
            r.objective,
            dtype,
            float(r.grad),
            v,
            r.backend,
            source or r.backend,
            r.diagnostics,
            r.variant,
        )
        region = _region(p) if known_failures else None
        out.append(_decide(p, tr, s, region, pred))
    return out


def format_table(verdicts: Sequence[Verdict]) -> str:
    """A plain-text table, one verdict a line (for ``l2l-verify check --format table``)."""
    head = f"{'#':>4} {'status':<16} {'outcome':<14} {'dtype':<8} {'t':>8} {'eta':<24} {'bits':>6}"
    lines = [head]
    for i, v in enumerate(verdicts, 1):
        lines.append(
            f"{i:>4} {v.status:<16} {v.outcome.value:<14} {v.dtype:<8} {v.t:>8} "
            f"{format_real(v.eta, 10):<24} {v.bits:>6.3g}"
        )
    return "\n".join(lines)
