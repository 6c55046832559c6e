"""pytest plugin of l2l-verify: fixtures, a marker and an accuracy summary for meta-gradient tests.

Registered through the ``pytest11`` entry point, so installing the package is enough::

    import numpy as np
    import pytest
    from hypothesis import given, strategies as st
    from verify import strategies as vs

    @pytest.mark.meta_gradient(objective="log", dtypes=["float32", "float64"])
    @given(q=vs.quadratics(max_dim=6, max_condition=100.0), t=vs.horizons(max_t=100),
           data=st.data())
    def test_my_meta_gradient(q, t, data, l2l_dtype, l2l_check):
        eta = data.draw(vs.step_sizes(q, regime="vanishing"))
        l2l_check(q, eta, t, my_meta_gradient(q.H, q.w0, eta, t, l2l_dtype), dtype=l2l_dtype)

What it provides
----------------
Fixtures (session-scoped, so they work inside ``@given``):

* ``l2l_truth`` -- :class:`CertifiedTruth`, the certified engine at the session's precision
  (memoized): ``l2l_truth.meta_gradient(problem, eta, t, objective=...)`` -> ``Enclosure``.
* ``l2l_check`` -- :class:`MetaGradientCheck`: judges a float meta-gradient against the
  certified truth (:func:`verify.check_meta_gradient`), applies the known-failure registry as
  strict xfails, records the outcome for the terminal summary, and fails with an accuracy
  report otherwise. ``l2l_check.result(res)`` judges a :class:`~verify.backprop.BackpropResult`.
* ``l2l_backends`` -- the selected, installed backend names.

Parametrized arguments (generated for the tests that name them):

* ``l2l_backend`` -- one :class:`Backend` per selected backend (numpy, stable, paper, and
  torch / jax when installed); call it like :func:`verify.backprop.meta_gradient`.
* ``l2l_dtype`` -- one float format name per selected dtype.

Marker ``@pytest.mark.meta_gradient(objective="log", backends=None, dtypes=None,
like="numpy", known_failures=True, optimizer="gd", beta=None, beta1=None, beta2=None,
eps=None)``: the objective ``l2l_check`` assumes, the backends and dtypes to run (intersected
with the command line), which built-in backend's error model and known-failure regions apply
to your own implementation (``like``), whether known regions are applied, and the inner
optimizer with its settings (:func:`verify.backprop.meta_gradient`'s ``optimizer=``, ``beta=``,
``beta1=``, ``beta2=``, ``eps=``). Arguments are validated at collection with typed errors.

Optimizers other than plain GD
------------------------------
With ``optimizer="heavy_ball"`` or ``"adam"`` the marker restricts ``l2l_backend`` to the
backends that unroll it (the backprop registry's ``optimizers``), ``l2l_backend(...)`` runs it
with the marker's settings, the ``l2l_optimizer`` fixture gives the
:class:`~verify.backprop.Optimizer`, and ``l2l_check`` / ``l2l_check.result`` judge a point
only through certified truth *for that optimizer* and the one judge: when
:func:`verify.truth.meta_gradient` and :func:`verify.check_meta_gradient` both accept
``optimizer=`` for it, the verdict is theirs; otherwise the point is **not judged** -- counted
in the summary's ``not_judged`` column and the test skipped with the reason -- never passed.

Command-line options: ``--l2l-backends numpy,torch`` (default: every installed backend),
``--l2l-dtypes float32,float64`` (default), ``--l2l-precision BITS`` (relative radius of the
certified truth, 2^-BITS; default 80).

Known failures (strict)
-----------------------
Every check goes through :func:`verify.check_meta_gradient`, whose strictness rules
(:mod:`verify.judge`) are the plugin's: a failure outcome (nan, overflow, underflow,
silently_wrong) never passes because a model is undecided. A point inside a region of
:data:`verify.known_failures.REGISTRY` (for ``like``, or for the built-in backend judged) is
expected to fail: if it does, a plain test is reported as xfailed (with the region's reason);
inside Hypothesis the example passes and exploration continues. If the result is *accurate*
there, the test fails with ``[XPASS(strict)]``: the region is stale. Only an *inaccurate*
result where the error model gives no bound is recorded as "not judged" (and passes). A point
outside the log objective's domain (f(w_t) = 0 exactly, so F' does not exist) is not a test
case: Hypothesis rejects it, a plain test is skipped.

Nothing is printed, and nothing heavy is imported, in a session that runs no meta-gradient
check.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import pytest

from .backprop.optimizers import GD, Optimizer, make_optimizer
from .backprop.registry import BACKENDS, installed, select
from .errors import ArgumentError, InvalidPrecisionError, UnknownOptionError
from .floats import FORMATS
from .outcomes import OUTCOME_NAMES

if TYPE_CHECKING:
    from .backprop import BackpropResult
    from .judge import Verdict
    from .problems import Problem
    from .truth import Enclosure

__all__ = [
    "ALL_BACKENDS",
    "DEFAULT_DTYPES",
    "DEFAULT_PRECISION_BITS",
    "MARKER",
    "Backend",
    "CertifiedTruth",
    "Ledger",
    "MetaGradientCheck",
    "PluginSettings",
    "installed_backends",
    "optimizer_kwargs",
    "unjudgeable",
]

MARKER = "meta_gradient"
#: Backend names: the backprop registry's (importing it loads numpy and the problem classes,
#: which ``verify`` loads anyway; no framework is imported).
ALL_BACKENDS: tuple[str, ...] = BACKENDS
ALL_DTYPES: tuple[str, ...] = tuple(FORMATS)
DEFAULT_DTYPES: tuple[str, ...] = ("float32", "float64")
#: Certified truth precision: relative radius <= 2^-80 (as :data:`verify.truth.DEFAULT_REL_TOL`).
DEFAULT_PRECISION_BITS = 80
_SETTING_ARGS = ("beta", "beta1", "beta2", "eps")
_MARKER_ARGS: tuple[str, ...] = (
    "objective",
    "backends",
    "dtypes",
    "like",
    "known_failures",
    "optimizer",
    *_SETTING_ARGS,
)
_MARKER_DOC = (
    f"{MARKER}(objective='log', backends=None, dtypes=None, like='numpy', known_failures=True, "
    "optimizer='gd', beta=None, beta1=None, beta2=None, eps=None): a meta-gradient property "
    "test (l2l-verify): parametrizes l2l_backend / l2l_dtype and sets the defaults of "
    "l2l_check"
)


def installed_backends() -> tuple[str, ...]:
    """The backends that can run here (torch, jax and the meta-learning clients only when
    their modules are installed)."""
    return tuple(b for b in ALL_BACKENDS if installed(b))


def _split(name: str, text: str | None, allowed: Sequence[str]) -> tuple[str, ...] | None:
    if text is None:
        return None
    items = tuple(s.strip() for s in text.split(",") if s.strip())
    for item in items:
        if item not in allowed:
            raise UnknownOptionError(name, item, f"must be among {tuple(allowed)}")
    if not items:
        raise UnknownOptionError(name, text, "must name at least one value")
    return items


@dataclass(frozen=True)
class PluginSettings:
    """The session's selection, from the command line (validated)."""

    backends: tuple[str, ...] | None  # None: not given (every installed backend)
    dtypes: tuple[str, ...] | None  # None: not given (DEFAULT_DTYPES)
    precision_bits: int

    @classmethod
    def from_options(
        cls, backends: str | None, dtypes: str | None, precision: int | None
    ) -> PluginSettings:
        """Validate the three command-line options.

        Raises
        ------
        UnknownOptionError, InvalidPrecisionError
            Naming the option.
        """
        bits = DEFAULT_PRECISION_BITS if precision is None else precision
        if isinstance(bits, bool) or not isinstance(bits, int) or not 24 <= bits <= 4096:
            raise InvalidPrecisionError("--l2l-precision", bits, "must be an integer in [24, 4096]")
        return cls(
            _split("--l2l-backends", backends, ALL_BACKENDS),
            _split("--l2l-dtypes", dtypes, ALL_DTYPES),
            bits,
        )


@dataclass(frozen=True)
class MarkerArgs:
    """Validated arguments of ``@pytest.mark.meta_gradient``."""

    objective: str = "log"
    backends: tuple[str, ...] | None = None
    dtypes: tuple[str, ...] | None = None
    like: str = "numpy"
    known_failures: bool = True
    optimizer: Optimizer = GD

    @classmethod
    def from_marker(cls, marker: pytest.Mark | None) -> MarkerArgs:
        """Validate a marker (``None``: the defaults)."""
        if marker is None:
            return cls()
        if marker.args:
            raise UnknownOptionError(
                MARKER, marker.args, f"takes keyword arguments only: {_MARKER_ARGS}"
            )
        kw = dict(marker.kwargs)
        for key in kw:
            if key not in _MARKER_ARGS:
                raise UnknownOptionError(key, kw[key], f"unknown {MARKER} argument")
        objective = kw.get("objective", "log")
        if objective not in ("log", "naive"):
            raise UnknownOptionError("objective", objective, "must be 'log' or 'naive'")
        like = kw.get("like", "numpy")
        if like not in ALL_BACKENDS:
            raise UnknownOptionError("like", like, f"must be one of {ALL_BACKENDS}")
        known = kw.get("known_failures", True)
        if not isinstance(known, bool):
            raise UnknownOptionError("known_failures", known, "must be True or False")
        opt = make_optimizer(
            kw.get("optimizer", "gd"), **{k: kw[k] for k in _SETTING_ARGS if k in kw}
        )
        return cls(
            objective,
            _names("backends", kw.get("backends"), ALL_BACKENDS),
            _names("dtypes", kw.get("dtypes"), ALL_DTYPES),
            like,
            known,
            opt,
        )


def _names(name: str, value: Any, allowed: Sequence[str]) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = (value,) if isinstance(value, str) else tuple(value)
    for item in items:
        if item not in allowed:
            raise UnknownOptionError(name, item, f"must be among {tuple(allowed)}")
    return items


def optimizer_kwargs(opt: Optimizer) -> dict[str, Any]:
    """``opt`` as keyword arguments of :func:`verify.backprop.meta_gradient`."""
    out: dict[str, Any] = {"optimizer": opt.name}
    out.update({k: getattr(opt, k) for k in _SETTING_ARGS if getattr(opt, k) is not None})
    return out


@dataclass(frozen=True)
class Backend:
    """One float backend, callable like :func:`verify.backprop.meta_gradient` without ``backend=``.

    ``str(backend)`` is its name. ``optimizer`` (the marker's) is passed through unless the
    call names ``optimizer=`` itself.
    """

    name: str
    optimizer: Optimizer = GD

    def __call__(self, problem: Problem, eta: Any, t: int, **kwargs: Any) -> BackpropResult:
        """Run :func:`verify.backprop.meta_gradient` on this backend."""
        from .backprop import meta_gradient

        if "optimizer" not in kwargs and not self.optimizer.is_gd:
            kwargs.update(optimizer_kwargs(self.optimizer))
        return meta_gradient(problem, eta, t, backend=self.name, **kwargs)

    def __str__(self) -> str:
        return self.name


class CertifiedTruth:
    """The certified engine (:mod:`verify.truth`) at a fixed precision, memoized per point.

    Guarantee
    ---------
    Every value is a proven enclosure with relative radius <= 2^-``precision_bits``
    (:func:`verify.truth.meta_gradient`); :class:`~verify.errors.NotCertifiedError` is
    raised rather than an unproven number returned.
    """

    def __init__(self, precision_bits: int = DEFAULT_PRECISION_BITS, cache_size: int = 4096):
        self.precision_bits = precision_bits
        self.rel_tol = Fraction(1, 2**precision_bits)
        self._cache: dict[tuple[Any, ...], Enclosure] = {}
        self._cache_size = cache_size

    def _key(
        self,
        kind: str,
        problem: Problem,
        eta: Any,
        t: int,
        objective: str,
        ev: Problem | None,
        opt: Optimizer,
    ) -> tuple[Any, ...]:
        return (
            kind,
            problem.fingerprint,
            Fraction(eta),
            int(t),
            objective,
            None if ev is None else ev.fingerprint,
            opt,
        )

    def _get(
        self,
        kind: str,
        problem: Problem,
        eta: Any,
        t: int,
        objective: str,
        eval_problem: Problem | None,
        opt: Optimizer = GD,
    ) -> Enclosure:
        from . import truth

        key = self._key(kind, problem, eta, t, objective, eval_problem, opt)
        hit = self._cache.get(key)
        if hit is None:
            fn = truth.meta_gradient if kind == "grad" else truth.meta_objective
            extra: dict[str, Any] = {}
            if not opt.is_gd:  # only reached where unjudgeable() found the API
                extra = {"optimizer": opt.name, "beta": Fraction(opt.beta or 0)}
            hit = fn(
                problem,
                eta,
                t,
                objective=objective,
                eval_problem=eval_problem,
                rel_tol=self.rel_tol,
                **extra,
            )
            if len(self._cache) >= self._cache_size:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = hit
        return hit

    def meta_gradient(
        self,
        problem: Problem,
        eta: float | Fraction,
        t: int,
        *,
        objective: str = "log",
        eval_problem: Problem | None = None,
        optimizer: Optimizer = GD,
    ) -> Enclosure:
        """Certified F'(eta) (see :func:`verify.truth.meta_gradient`) of GD, or of
        ``optimizer`` where :func:`unjudgeable` finds certified truth for it.

        Raises
        ------
        ArgumentError
            Naming ``optimizer`` when no certified truth exists for it.
        """
        reason = unjudgeable(optimizer)
        if reason is not None:
            raise ArgumentError("optimizer", optimizer.label(), reason)
        return self._get("grad", problem, eta, t, objective, eval_problem, optimizer)

    def meta_objective(
        self,
        problem: Problem,
        eta: float | Fraction,
        t: int,
        *,
        objective: str = "log",
        eval_problem: Problem | None = None,
    ) -> Enclosure:
        """Certified F(eta) (see :func:`verify.truth.meta_objective`)."""
        return self._get("value", problem, eta, t, objective, eval_problem)


def unjudgeable(opt: Optimizer) -> str | None:
    """Why a meta-gradient of ``opt`` cannot be judged here (``None``: it can).

    GD always can. The judge's error model (:mod:`verify.compare`) is plain GD's, and it
    refuses other optimizers' results, so heavy-ball and Adam points are counted "not judged"
    (skipped, never passed) until it has theirs.
    """
    if opt.is_gd:
        return None
    return f"the judge has no error model for optimizer={opt.name!r} yet"


@dataclass
class Ledger:
    """Outcomes recorded during the session, for the terminal summary."""

    counts: dict[tuple[str, str], Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    worst_bits: dict[tuple[str, str], float] = field(default_factory=dict)
    regions: Counter[str] = field(default_factory=Counter)
    item: pytest.Item | None = None

    def add(self, source: str, dtype: str, column: str, bits: float | None) -> None:
        """Count one check."""
        key = (source, dtype)
        self.counts[key][column] += 1
        if bits is not None and column not in ("known_failure", "not_judged"):
            self.worst_bits[key] = max(self.worst_bits.get(key, 0.0), bits)

    def lines(self) -> list[str]:
        """The summary table (empty when nothing was checked)."""
        if not self.counts:
            return []
        cols = [*OUTCOME_NAMES, "known_failure", "not_judged"]
        rows = {f"{s}/{d}": c for (s, d), c in self.counts.items()}
        w0 = max(len("source/dtype"), *(len(k) for k in rows))
        head = f"{'source/dtype':<{w0}} checks " + " ".join(cols) + " worst_bits"
        out = [head]
        for (source, dtype), c in sorted(self.counts.items()):
            cells = " ".join(f"{c.get(col, 0):>{len(col)}}" for col in cols)
            worst = self.worst_bits.get((source, dtype))
            wtxt = "" if worst is None else f"{worst:.3g}"
            key = f"{source}/{dtype}"
            out.append(f"{key:<{w0}} {sum(c.values()):>6} {cells} {wtxt:>10}")
        for name, n in sorted(self.regions.items()):
            out.append(f"known-failure region {name!r}: {n} point(s) failed as expected")
        return out


def _resolve(default: Optimizer, optimizer: Optimizer | str | None, **settings: Any) -> Optimizer:
    """The optimizer of one check: ``optimizer`` (with its settings) or the marker's."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    if optimizer is None and all(v is None for v in settings.values()):
        return default
    return make_optimizer("gd" if optimizer is None else optimizer, **settings)


def _in_hypothesis() -> bool:
    try:
        from hypothesis import currently_in_test_context
    except ImportError:  # pragma: no cover - hypothesis is a test dependency
        return False
    return bool(currently_in_test_context())


class MetaGradientCheck:
    """Judge float meta-gradients against certified truth (the ``l2l_check`` fixture).

    Every judgement is :func:`verify.check_meta_gradient` (the suite's one strict judge, see
    :mod:`verify.judge`); this class adds the session's truth cache, the marker's defaults
    (objective, ``like``, whether known regions apply), the summary ledger, and turns each
    :class:`~verify.judge.Verdict` into a pytest outcome: ``failed`` raises AssertionError
    with the verdict's accuracy report, ``xpass`` fails strictly, ``expected_failure`` is a
    strict xfail (inside Hypothesis the example passes), ``passed`` and ``not_judged`` pass.
    """

    def __init__(self, truth: CertifiedTruth, ledger: Ledger) -> None:
        self.truth = truth
        self.ledger = ledger
        self._targeted: tuple[int, set[str]] = (0, set())

    def _marker(self) -> MarkerArgs:
        item = self.ledger.item
        return MarkerArgs.from_marker(None if item is None else item.get_closest_marker(MARKER))

    def __call__(
        self,
        problem: Problem,
        eta: Any,
        t: int,
        grad: Any,
        *,
        dtype: str,
        objective: str | None = None,
        value: Any = None,
        eval_problem: Problem | None = None,
        like: str | None = None,
        source: str = "user",
        optimizer: Optimizer | str | None = None,
        beta: Any = None,
        beta1: Any = None,
        beta2: Any = None,
        eps: Any = None,
    ) -> Verdict:
        """Judge ``grad``, your meta-gradient F'(eta) computed in ``dtype``.

        Parameters
        ----------
        problem, eta, t
            The point (``eta`` exactly as your code used it: a float32 step size is judged
            at its float32 value).
        grad : float, numpy/torch/jax scalar
            Your F'(eta); must be a value of ``dtype``.
        dtype : str
            The float format your code computed in.
        objective : {"log", "naive"}, optional
            Default: the marker's (``"log"``).
        value : optional
            Your F(eta): evidence of overflow (F = inf) and underflow (F = -inf, or 0 for the
            naive objective).
        eval_problem : optional
            The evaluation problem (validation loss), if not ``problem``.
        like : str, optional
            Built-in backend whose error model and known-failure regions apply (default: the
            marker's, ``"numpy"``: stepwise backprop through the unrolled trajectory).
        source : str
            Label in the terminal summary.
        optimizer, beta, beta1, beta2, eps : optional
            The inner optimizer your code unrolled (default: the marker's, plain GD): a name
            with its settings, or an :class:`~verify.backprop.Optimizer`. A point of an
            optimizer without certified truth and error model here is not judged: counted
            and skipped (see the module docstring), never passed.

        Returns
        -------
        Verdict
            When the test is to go on (passed, not judged, or an expected failure inside
            Hypothesis).

        Raises
        ------
        AssertionError
            With the verdict's accuracy report when it failed.
        ArgumentError
            Bad input, naming the argument (see :func:`verify.check_meta_gradient`).
        """
        from .floats import read_scalar
        from .judge import check_meta_gradient
        from .validation import validate_eta

        m = self._marker()
        obj = objective or m.objective
        opt = _resolve(m.optimizer, optimizer, beta=beta, beta1=beta1, beta2=beta2, eps=eps)
        self._skip_unjudgeable(opt, source, dtype)
        eta_q = validate_eta(read_scalar(eta, "eta"))
        enc = self._truth_or_reject(problem, eta_q, t, obj, eval_problem, opt)
        extra = {} if opt.is_gd else optimizer_kwargs(opt)
        verdict = check_meta_gradient(
            problem,
            eta_q,
            t,
            grad,
            dtype=dtype,
            objective=obj,
            value=value,
            eval_problem=eval_problem,
            source=source,
            known_failures=m.known_failures,
            like=like or m.like,
            certified=enc,
            **extra,
        )
        self._record(verdict)
        self._conclude([verdict])
        return verdict

    def result(self, res: BackpropResult) -> list[Verdict]:
        """Judge a built-in backend's result (scalar or batched): one verdict per step size.

        Every step size is judged before the batch concludes (see :meth:`__call__`).
        """
        from .judge import judge_result

        m = self._marker()
        if res.problem is None:
            raise ArgumentError("res", res, "carries no problem: cannot compute its truth")
        self._skip_unjudgeable(res.optimizer, res.backend, res.dtype, n=len(res))
        truths = [
            self._truth_or_reject(
                res.problem, p.eta, p.t, p.objective, p.eval_problem, res.optimizer
            )
            for p in res.points()
        ]
        out = judge_result(res, truths, known_failures=m.known_failures)
        for v in out:
            self._record(v)
        self._conclude(out)
        return out

    def _skip_unjudgeable(self, opt: Optimizer, source: str, dtype: str, n: int = 1) -> None:
        """Count and skip the points of an optimizer that cannot be judged here (never pass
        them): no certified truth or no error model for it (:func:`unjudgeable`)."""
        reason = unjudgeable(opt)
        if reason is None:
            return
        for _ in range(n):
            self.ledger.add(f"{source} {opt.name}", dtype, "not_judged", None)
        pytest.skip(f"not judged ({opt.label()}): {reason}")

    def _truth_or_reject(
        self,
        problem: Problem,
        eta: Any,
        t: int,
        objective: str,
        eval_problem: Problem | None,
        opt: Optimizer = GD,
    ) -> Enclosure:
        """The certified F'(eta); a point outside the objective's domain (f(w_t) = 0 exactly:
        F' does not exist) is not a test case: rejected inside Hypothesis, skipped outside."""
        from .errors import ZeroLossError

        try:
            return self.truth.meta_gradient(
                problem, eta, t, objective=objective, eval_problem=eval_problem, optimizer=opt
            )
        except ZeroLossError as exc:
            self.ledger.add("(outside the domain)", "-", "not_judged", None)
            if _in_hypothesis():
                from hypothesis import reject

                reject()
            pytest.skip(f"outside the log objective's domain: {exc}")

    def _record(self, v: Verdict) -> None:
        column = {
            "expected_failure": "known_failure",
            "not_judged": "not_judged",
        }.get(v.status, v.outcome.value)
        self.ledger.add(v.source, v.dtype, column, v.bits)
        if v.known_failure is not None and v.status == "expected_failure":
            self.ledger.regions[v.known_failure] += 1
        if v.status in ("passed", "failed"):
            self._target(v.bits, v.dtype)

    @staticmethod
    def _conclude(verdicts: list[Verdict]) -> None:
        """Raise for the batch as a whole: failures, then strict XPASS, then xfail."""
        failed = [v for v in verdicts if v.status == "failed"]
        if failed:
            head = f"{len(failed)} of {len(verdicts)} meta-gradients failed"
            raise AssertionError("\n".join([head, *(v.report() for v in failed)]))
        xpass = [v.report() for v in verdicts if v.status == "xpass"]
        if xpass:
            pytest.fail("\n".join(xpass), pytrace=False)
        known = [v.reason for v in verdicts if v.status == "expected_failure"]
        if known and not _in_hypothesis():
            # a plain test: reported as xfailed; inside Hypothesis the example passes and
            # exploration goes on (the summary counts the confirmed known failures)
            pytest.xfail(known[0] if len(known) == 1 else f"{len(known)} points: {known[0]}")

    def _target(self, bits: float, dtype: str) -> None:
        """Point Hypothesis at the worst error (STYLE habit 7), once per label per example."""
        if not _in_hypothesis() or not math.isfinite(bits):
            return
        from hypothesis import target
        from hypothesis.control import current_build_context

        ctx = id(current_build_context())
        if self._targeted[0] != ctx:
            self._targeted = (ctx, set())
        label = f"l2l bits of error ({dtype})"
        if label not in self._targeted[1]:
            self._targeted[1].add(label)
            target(bits, label=label)


# --------------------------------------------------------------------------- hooks
_SETTINGS = pytest.StashKey[PluginSettings]()
_LEDGER = pytest.StashKey[Ledger]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ``--l2l-*`` options."""
    group = parser.getgroup("l2l-verify", "l2l-verify meta-gradient tests")
    group.addoption(
        "--l2l-backends",
        default=None,
        help=f"comma-separated backends for l2l_backend, among {','.join(ALL_BACKENDS)} "
        "(default: every installed one)",
    )
    group.addoption(
        "--l2l-dtypes",
        default=None,
        help=f"comma-separated float formats for l2l_dtype (default: {','.join(DEFAULT_DTYPES)})",
    )
    group.addoption(
        "--l2l-precision",
        type=int,
        default=None,
        metavar="BITS",
        help=f"certified truth relative radius 2^-BITS (default: {DEFAULT_PRECISION_BITS})",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker; validate the options."""
    config.addinivalue_line("markers", _MARKER_DOC)
    try:
        settings = PluginSettings.from_options(
            config.getoption("--l2l-backends", None),
            config.getoption("--l2l-dtypes", None),
            config.getoption("--l2l-precision", None),
        )
    except ArgumentError as exc:
        raise pytest.UsageError(str(exc)) from exc
    config.stash[_SETTINGS] = settings
    config.stash[_LEDGER] = Ledger()


def _selected(
    chosen: tuple[str, ...] | None, wanted: tuple[str, ...] | None, default: tuple[str, ...]
) -> tuple[str, ...]:
    """The marker's values (or ``default``) restricted to the command line's (when given)."""
    base = default if wanted is None else wanted
    return base if chosen is None else tuple(b for b in base if b in chosen)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``l2l_backend`` and ``l2l_dtype`` from the marker and the options."""
    names = metafunc.fixturenames
    if "l2l_backend" not in names and "l2l_dtype" not in names:
        return
    settings = metafunc.config.stash[_SETTINGS]
    args = MarkerArgs.from_marker(metafunc.definition.get_closest_marker(MARKER))
    taken: set[str] = set()  # names the test parametrizes itself: left alone
    for mark in metafunc.definition.iter_markers("parametrize"):
        argnames = mark.args[0] if mark.args else mark.kwargs.get("argnames", ())
        items = argnames.split(",") if isinstance(argnames, str) else argnames
        taken.update(str(n).strip() for n in items)
    if "l2l_backend" in names and "l2l_backend" not in taken:
        here = installed_backends()
        unrolls = select(optimizer=args.optimizer.name)  # every backend for GD
        params = []
        for name in _selected(settings.backends, args.backends, here):
            if name not in unrolls:
                continue
            marks = [] if name in here else [pytest.mark.skip(reason=f"{name} is not installed")]
            params.append(pytest.param(Backend(name, args.optimizer), id=name, marks=marks))
        metafunc.parametrize("l2l_backend", params)
    if "l2l_dtype" in names and "l2l_dtype" not in taken:
        dtypes = _selected(settings.dtypes, args.dtypes, DEFAULT_DTYPES)
        metafunc.parametrize("l2l_dtype", list(dtypes))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Let ``l2l_check`` see the running test (for its marker defaults)."""
    ledger = item.config.stash.get(_LEDGER, None)
    if ledger is not None:
        ledger.item = item
    try:
        return (yield)
    finally:
        if ledger is not None:
            ledger.item = None


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """The accuracy outcomes of the session's meta-gradient checks (only if there were any)."""
    ledger = config.stash.get(_LEDGER, None)
    lines = [] if ledger is None else ledger.lines()
    if not lines:
        return
    terminalreporter.write_sep("=", "l2l-verify meta-gradient accuracy")
    for line in lines:
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def l2l_truth(pytestconfig: pytest.Config) -> CertifiedTruth:
    """The certified truth engine at the session's ``--l2l-precision``."""
    return CertifiedTruth(pytestconfig.stash[_SETTINGS].precision_bits)


@pytest.fixture(scope="session")
def l2l_check(pytestconfig: pytest.Config, l2l_truth: CertifiedTruth) -> MetaGradientCheck:
    """Judge meta-gradients against certified truth (see :class:`MetaGradientCheck`)."""
    return MetaGradientCheck(l2l_truth, pytestconfig.stash[_LEDGER])


@pytest.fixture
def l2l_optimizer(request: pytest.FixtureRequest) -> Optimizer:
    """The marker's inner optimizer (plain GD without a marker or ``optimizer=``)."""
    return MarkerArgs.from_marker(request.node.get_closest_marker(MARKER)).optimizer


@pytest.fixture(scope="session")
def l2l_backends(pytestconfig: pytest.Config) -> tuple[str, ...]:
    """The selected backends that are installed here."""
    chosen = pytestconfig.stash[_SETTINGS].backends
    here = installed_backends()
    return tuple(b for b in (chosen or here) if b in here)
