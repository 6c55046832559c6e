"""NaN/inf masking audit: meta-gradient descent on eta fed masked float meta-gradients.

Learned-optimizer code does not stop on a non-finite meta-gradient: the paper's own
TensorFlow code and ``learned_optimization`` replace NaN by 0, ``jnp.nan_to_num`` also maps
+-inf to +-(largest float), and meta-training loops clip. This module runs
:func:`verify.paper.metaopt.meta_gradient_descent` with a float backprop gradient source passed
through such a mask, under Theorem 4's schedule (mu_k = 1/sqrt k) and the experiment's
(mu_k = 1/(100 sqrt k)), and says where eta ends against the certified eta*(t)
(:func:`verify.paper.metaopt.optimal_step_size`):

* ``converges`` -- within :data:`SETTLE_REL` of eta* and no gradient was masked, clipped or
  returned as a silent 0;
* ``recovers`` -- within :data:`SETTLE_REL` of eta* although some were;
* ``stalls`` -- eta stopped changing (every update 0 over the last half of the run or more)
  away from eta*;
* ``wrong_value`` -- eta still moves, or settled, away from eta*.

The same schedule and budget with the certified gradient is run alongside (``reference_*``),
so a verdict is attributable to the masking, not to the budget. Results are plain
dataclasses (:class:`MaskingRun`, with :meth:`MaskingRun.as_dict`) for the report.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..backprop import meta_gradient
from ..certified.enclosure import Enclosure
from ..errors import ArgumentError, UnknownOptionError
from ..floats import get_format
from ..paper.metaopt import (
    MetaGDTrajectory,
    Schedule,
    meta_gradient_descent,
    optimal_step_size,
)
from ..problems import Problem, Quadratic
from ..validation import validate_eta, validate_horizon

__all__ = [
    "MASKS",
    "SCHEDULES",
    "SETTLE_REL",
    "STAR_REL_TOL",
    "VERDICTS",
    "Case",
    "MaskingRun",
    "audit",
    "default_cases",
    "masked_run",
    "summary",
]

#: The masks: non-finite -> 0 (the paper's TF code, ``learned_optimization``); numpy/JAX
#: ``nan_to_num`` (NaN -> 0, +-inf -> +-float64 max); non-finite -> 0 then clip to +-clip.
MASKS: tuple[str, ...] = ("nan_to_zero", "nan_to_num", "clip")
SCHEDULES: tuple[str, ...] = ("theorem", "experiment")
VERDICTS: tuple[str, ...] = ("converges", "recovers", "stalls", "wrong_value")
#: eta has converged when |eta_K - eta*| <= SETTLE_REL eta* (as tests/theorems/test_theorem4).
SETTLE_REL = 1e-2
#: Relative width of the certified eta*(t) enclosure (far below SETTLE_REL).
STAR_REL_TOL = 1e-9


def _apply_mask(g: float, mask: str, clip: float) -> float:
    if mask == "nan_to_num":
        return float(np.nan_to_num(np.float64(g)))
    g = g if math.isfinite(g) else 0.0
    if mask == "clip":
        return min(max(g, -clip), clip)
    return g


@dataclass(frozen=True)
class MaskingRun:
    """One masked meta-gradient descent run and its verdict.

    Attributes
    ----------
    mask, schedule, backend, dtype : str
        The mask, the meta step sizes, and the float backprop that produced the gradients.
    clip : float
        The clip level (``mask="clip"`` only; ``inf`` otherwise).
    t, steps : int
        Inner horizon and number of meta-steps K.
    eta0, eta_final : float
        Start and end of eta.
    eta_star, eta_star_lower, eta_star_upper : float
        The certified eta*(t): midpoint and enclosure (relative width <= STAR_REL_TOL).
    rel_error : float
        |eta_final - eta*| / eta*.
    nonfinite, zero, clipped : int
        Meta-steps whose raw gradient was NaN or +-inf; was exactly +-0 (a silent zero: the
        exact F' is never 0 away from eta*); was finite and cut by the clip.
    frozen_from : int or None
        The first meta-step k from which eta never changed again (None: it moved at the
        last step).
    verdict : str
        One of :data:`VERDICTS`.
    etas : tuple of float
        eta_0 .. eta_K.
    reference_final, reference_rel_error : float
        Where the same schedule and budget end with the certified gradient.
    reference_verdict : str
        ``converges`` or ``wrong_value`` / ``stalls`` for that run.
    """

    mask: str
    schedule: str
    backend: str
    dtype: str
    clip: float
    t: int
    steps: int
    eta0: float
    eta_final: float
    eta_star: float
    eta_star_lower: float
    eta_star_upper: float
    rel_error: float
    nonfinite: int
    zero: int
    clipped: int
    frozen_from: int | None
    verdict: str
    etas: tuple[float, ...]
    reference_final: float
    reference_rel_error: float
    reference_verdict: str

    def as_dict(self) -> dict[str, Any]:
        """Plain data (the trajectory as a list)."""
        d = asdict(self)
        d["etas"] = list(self.etas)
        return d


def _frozen_from(etas: Any) -> int | None:
    """First k such that etas[k] == etas[k+1] == ... == etas[-1] (None if the last step moved)."""
    if len(etas) < 2 or etas[-1] != etas[-2]:
        return None
    moved = np.flatnonzero(etas[1:] != etas[:-1])
    return 0 if moved.size == 0 else int(moved[-1] + 1)


def _verdict(etas: Any, star: float, steps: int, flagged: int) -> tuple[str, float, int | None]:
    rel = abs(float(etas[-1]) - star) / star
    frozen = _frozen_from(etas)
    if rel <= SETTLE_REL:
        return ("recovers" if flagged else "converges"), rel, frozen
    if frozen is not None and frozen <= steps // 2:
        return "stalls", rel, frozen
    return "wrong_value", rel, frozen


def _check_run(
    t: int, eta0: float, steps: int, mask: str, schedule: str, clip: float
) -> tuple[int, float]:
    """Validate :func:`masked_run`'s arguments; the horizon and eta0 as used."""
    ti = validate_horizon(t, objective="log")
    e0 = float(validate_eta(eta0))
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ArgumentError("steps", steps, "must be an integer >= 1")
    if mask not in MASKS:
        raise UnknownOptionError("mask", mask, f"must be one of {MASKS}")
    if schedule not in SCHEDULES:
        raise UnknownOptionError("schedule", schedule, f"must be one of {SCHEDULES}")
    if not (isinstance(clip, (int, float)) and not isinstance(clip, bool) and clip > 0):
        raise ArgumentError("clip", clip, "must be a number > 0")
    return ti, e0


def _reference(
    problem: Problem,
    t: int,
    eta0: float,
    steps: int,
    schedule: Schedule,
    cache: dict[tuple[Any, ...], Any],
) -> tuple[MetaGDTrajectory, Enclosure]:
    """The certified-gradient run and the certified eta*(t), shared through ``cache`` by the
    runs of one audit (they do not depend on the mask, backend or dtype)."""
    ref_key: tuple[Any, ...] = ("reference", problem.fingerprint, t, eta0, steps, schedule)
    if ref_key not in cache:
        cache[ref_key] = meta_gradient_descent(
            problem, t, eta0=eta0, steps=steps, schedule=schedule
        )
    star_key: tuple[Any, ...] = ("star", problem.fingerprint, t)
    if star_key not in cache:
        cache[star_key] = optimal_step_size(problem, t, rel_tol=STAR_REL_TOL)
    return cache[ref_key], cache[star_key]


def masked_run(
    problem: Problem,
    t: int,
    *,
    eta0: float,
    steps: int,
    mask: str = "nan_to_zero",
    schedule: str = "experiment",
    backend: str = "numpy",
    dtype: str = "float32",
    clip: float = 1.0,
    _cache: dict[tuple[Any, ...], Any] | None = None,
) -> MaskingRun:
    """Meta-gradient descent on the log objective with masked float meta-gradients.

    Parameters
    ----------
    problem : Quadratic or LeastSquares
    t : int
        Inner horizon (>= 1).
    eta0 : float
        Starting step size (>= 0).
    steps : int
        Meta-steps K (>= 1).
    mask : {"nan_to_zero", "nan_to_num", "clip"}
        See :data:`MASKS`.
    schedule : {"experiment", "theorem"}
        mu_k = 1/(100 sqrt k) or 1/sqrt k.
    backend, dtype : str
        The float backprop giving the raw meta-gradients
        (:func:`verify.backprop.meta_gradient`, reverse mode).
    clip : float
        Clip level for ``mask="clip"`` (> 0).

    Returns
    -------
    MaskingRun

    Accuracy
    --------
    The meta-iteration is float64 (as the paper's experiment); eta* is a certified enclosure
    (relative width <= :data:`STAR_REL_TOL`) and the reference run uses certified
    meta-gradients rounded to float64. The verdict compares the final eta with eta*
    (:data:`SETTLE_REL`).
    """
    ti, e0 = _check_run(t, eta0, steps, mask, schedule, clip)
    fmt = get_format(dtype)
    raw: list[float] = []

    def source(p: Problem, eta: float, tt: int) -> float:
        g = float(meta_gradient(p, eta, tt, dtype=fmt.name, backend=backend).grad)
        raw.append(g)
        return _apply_mask(g, mask, float(clip))

    source.__name__ = f"{backend}_{fmt.name}_{mask}"
    sched: Schedule = "theorem" if schedule == "theorem" else "experiment"
    run = meta_gradient_descent(problem, ti, eta0=e0, steps=steps, schedule=sched, gradient=source)
    ref, star_enc = _reference(problem, ti, e0, steps, sched, {} if _cache is None else _cache)
    star = float(star_enc.mid)
    r = np.asarray(raw)
    finite = np.isfinite(r)
    nonfinite = int((~finite).sum())
    zero = int((r == 0).sum())
    clipped = int((finite & (np.abs(r) > clip)).sum()) if mask == "clip" else 0
    verdict, rel, frozen = _verdict(run.etas, star, steps, nonfinite + zero + clipped)
    ref_verdict, ref_rel, _ = _verdict(ref.etas, star, steps, 0)
    return MaskingRun(
        mask=mask,
        schedule=schedule,
        backend=backend,
        dtype=fmt.name,
        clip=float(clip) if mask == "clip" else math.inf,
        t=ti,
        steps=steps,
        eta0=e0,
        eta_final=float(run.etas[-1]),
        eta_star=star,
        eta_star_lower=float(star_enc.lower),
        eta_star_upper=float(star_enc.upper),
        rel_error=rel,
        nonfinite=nonfinite,
        zero=zero,
        clipped=clipped,
        frozen_from=frozen,
        verdict=verdict,
        etas=tuple(float(x) for x in run.etas),
        reference_final=float(ref.etas[-1]),
        reference_rel_error=ref_rel,
        reference_verdict=ref_verdict,
    )


@dataclass(frozen=True)
class Case:
    """One audit setting: horizon, start, budget and the dtype of the backprop source."""

    t: int
    eta0: float
    steps: int
    dtype: str = "float32"


def default_cases() -> tuple[Quadratic, list[Case]]:
    """The audit's problem and settings.

    ``Quadratic.random(20, seed=1)`` (H = X^T X, X 20 x 20, as the paper's experiment; L =
    62.36, alpha = 0.0126, 2/L = 0.0321); t = 80 (the paper's Figure 1) and 1000; eta0 = 0.1
    (the paper's start, above 2/L: plain float32 backprop returns NaN there at both
    horizons) and 0.1 * 2/L (below eta*); float32 backprop, plus float64 at t = 1000 from
    eta0 = 1.4 * 2/L, where f(w_t) overflows and float64 backprop returns a silent 0 (no
    NaN: no mask is involved). 1000 meta-steps: with certified gradients the experiment's
    schedule settles within 1% of eta* after 101-576 of them on this instance; Theorem 4's
    unscaled schedule does not within the budget (paper notes §5.4).
    """
    q = Quadratic.random(20, seed=1)
    small = 0.1 * 2 / q.L
    cases = [Case(t, e0, 1000) for t in (80, 1000) for e0 in (0.1, small)]
    cases.append(Case(1000, 1.4 * 2 / q.L, 1000, "float64"))
    return q, cases


def audit(
    problem: Problem | None = None,
    cases: Sequence[Case] | None = None,
    *,
    masks: Sequence[str] = MASKS,
    schedules: Sequence[str] = SCHEDULES,
    backend: str = "numpy",
    clip: float = 1.0,
    progress: Callable[[MaskingRun], None] | None = None,
) -> list[MaskingRun]:
    """Every (case, mask, schedule) of the audit (default: :func:`default_cases`); the
    certified reference run and eta* are computed once per setting.

    Accuracy
    --------
    As :func:`masked_run`.
    """
    if problem is None or cases is None:
        dq, dc = default_cases()
        problem = dq if problem is None else problem
        cases = dc if cases is None else cases
    cache: dict[tuple[Any, ...], Any] = {}
    out = []
    for case in cases:
        for mask in masks:
            for schedule in schedules:
                run = masked_run(
                    problem,
                    case.t,
                    eta0=case.eta0,
                    steps=case.steps,
                    mask=mask,
                    schedule=schedule,
                    backend=backend,
                    dtype=case.dtype,
                    clip=clip,
                    _cache=cache,
                )
                if progress is not None:
                    progress(run)
                out.append(run)
    return out


def summary(runs: Sequence[MaskingRun]) -> dict[str, dict[str, int]]:
    """Verdict counts per mask (plain data for a table)."""
    table: dict[str, dict[str, int]] = {m: dict.fromkeys(VERDICTS, 0) for m in MASKS}
    for r in runs:
        table[r.mask][r.verdict] += 1
    return table
