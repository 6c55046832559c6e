"""The computations behind ``l2l-verify report``, one function per section.

Every function returns plain JSON data (dicts, lists, str, int, float, None; no NaN or inf:
non-finite floats are written as the strings ``"inf"``, ``"-inf"``, ``"nan"``) and is a pure
function of its parameters, so that the same seed gives a byte-identical ``data.json`` and a
section's result can be cached and reused when an interrupted run resumes.

Sections (see :mod:`verify.report` for the orchestration and :mod:`verify.report.render` for
the pages):

1. :func:`regime_section` -- certified log10 |F'(eta)| over (eta, t), both objectives, with the
   certified eta*(t) and Theorem 3's boundary eta = 2/L;
2. :func:`backprop_section` -- outcome class and bits of error of every backend and dtype
   against certified truth over (eta, t), with Corollary 1's predicted failure boundary;
3. :func:`paper_section` -- the paper's Figures 1-4 reproduced, each with a computed verdict;
4. :func:`theorem_section` -- each theorem / claim checked on certified numbers.

Certified values come from :mod:`verify.truth` (proven enclosures); float results are the
systems under test, judged by :mod:`verify.compare`.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from .. import claims, truth
from ..backprop import BackendUnavailableError, UnsupportedOptionError, meta_gradient
from ..backprop.boundaries import predict_failure
from ..claims import jsonable
from ..compare import Outcome
from ..errors import UnknownOptionError
from ..judge import judge_result
from ..paper import checks as paper_claims
from ..paper import metaopt, theory
from ..paper.checks import FIG1_ETA0, FIG1_T
from ..paper.trainval import (
    DEFAULT_GRID,
    LeastSquaresConfig,
    run_experiment,
)
from ..problems import Quadratic

__all__ = [
    "BACKEND_CHOICES",
    "DTYPE_CHOICES",
    "FAILURE_CLASSES",
    "OUTCOME_CLASSES",
    "RANGE_FAILURE_CLASSES",
    "Progress",
    "backprop_section",
    "clients_section",
    "figure1",
    "figure2",
    "jsonable",
    "ls_config",
    "paper_section",
    "regime_section",
    "section_params",
    "theorem_section",
]

#: A progress callback: ``progress(done, total)``.
Progress = Callable[[int, int], None]

#: Backends of the outcome maps: name -> (backend, mode) of :func:`verify.backprop.meta_gradient`.
BACKEND_CHOICES: dict[str, tuple[str, str]] = {
    "numpy-reverse": ("numpy", "reverse"),
    "numpy-forward": ("numpy", "forward"),
    "torch": ("torch", "reverse"),
    "jax": ("jax", "reverse"),
    "stable": ("stable", "reverse"),
    "paper": ("paper", "reverse"),
    "optax": ("optax", "reverse"),
    "torchopt": ("torchopt", "reverse"),
    "higher": ("higher", "reverse"),
}
DTYPE_CHOICES: tuple[str, ...] = ("float16", "bfloat16", "float32", "float64")
#: Outcome classes in display order (:class:`verify.compare.Outcome` values).
OUTCOME_CLASSES: tuple[str, ...] = tuple(o.value for o in Outcome)
FAILURE_CLASSES: tuple[str, ...] = tuple(o.value for o in Outcome if o.is_failure)
#: Failure classes that can only come from a value leaving the dtype's range.
RANGE_FAILURE_CLASSES: tuple[str, ...] = ("overflow", "underflow", "nan")

# Relative radius of the certified log10|F'| of the regime map: 2^-30 fixes 4 decimals of the
# logarithm (an error of 2^-30 in |F'| moves log10 by 4e-10).
REGIME_REL_TOL = Fraction(1, 2**30)
# Refinement of F' where a theorem's bound is tight: 2^-180, just inside the 192-bit working
# precision of verify.paper.theory's bounds (a tighter F' could not decide more points).
REFINE_REL_TOL = Fraction(1, 2**180)
# eta*(t) on the regime map: relative width 1e-9 is far below a pixel.
STAR_REL_TOL = 1e-9

# Grids per mode. eta is given in multiples of 2/L (Theorem 3's boundary sits at 1).
_REGIME = {
    "quick": {"eta_step": 0.05, "eta_max": 1.5, "horizons": (1, 2, 5, 10, 20, 50, 100, 1000)},
    "default": {
        "eta_step": 0.025,
        "eta_max": 1.5,
        "horizons": (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 100_000),
    },
    "full": {
        "eta_step": 0.0125,
        "eta_max": 1.5,
        "horizons": (
            1,
            2,
            5,
            10,
            20,
            50,
            100,
            200,
            500,
            1000,
            2000,
            5000,
            10_000,
            100_000,
            1_000_000,
        ),
    },
}
_BACKPROP = {
    "quick": {"eta_step": 0.1, "eta_max": 1.5, "horizons": (1, 10, 100, 1000)},
    "default": {
        "eta_step": 0.05,
        "eta_max": 1.5,
        "horizons": (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
    },
    "full": {
        "eta_step": 0.025,
        "eta_max": 1.5,
        "horizons": (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000),
    },
}
# Figures 3 and 4 (least squares). Default sizes are the paper's shape (n = d/2, t = 40, the
# authors' 25-point grid) at d = 200; --full uses the paper's d = 1000, n = 500, 300 tasks and
# 10 test tasks.
_PAPER_LS = {
    "quick": {
        "fig3": {"d": 100, "n": 50, "sigmas": (0.5, 1.0, 2.0), "tasks": 30, "test_tasks": 30},
        "fig4": {"d": 50, "ns": (25, 50, 100, 200, 400, 800), "tasks": 30, "test_tasks": 30},
        "scaling": {"d": 100, "n": 50, "tasks": 30},
        "peak": {"tasks": 30, "test_tasks": 30},
    },
    "default": {
        "fig3": {"d": 200, "n": 100, "sigmas": (0.5, 1.0, 2.0, 4.0), "tasks": 50, "test_tasks": 50},
        "fig4": {"d": 100, "ns": (50, 100, 200, 400, 800, 1600), "tasks": 40, "test_tasks": 60},
        "scaling": {"d": 200, "n": 100, "tasks": 50},
        "peak": {"tasks": 40, "test_tasks": 60},
    },
    "full": {
        "fig3": {
            "d": 1000,
            "n": 500,
            "sigmas": (0.5, 1.0, 2.0, 4.0),
            "tasks": 300,
            "test_tasks": 10,
        },
        "fig4": {
            "d": 1000,
            "ns": (500, 1000, 2000, 4000, 8000),
            "tasks": 300,
            "test_tasks": 10,
        },
        "scaling": {"d": 1000, "n": 500, "tasks": 100},
        "peak": {"tasks": 100, "test_tasks": 30},
    },
}
FIG1_STEPS = {"quick": 400, "default": 1000, "full": 2000}
STAR_HORIZONS = (5, 10, 20, 40, 80, 160, 320, 640, 1280, 10_000, 100_000)
LS_T = 40
LS_CONFIDENCE = 0.99
LS_BOOTSTRAP = 200
# Figure 1's distribution: random instances per mode (the issue asks >= 100 by default).
FIG1_INSTANCES = {"quick": 50, "default": 200, "full": 1000}
# Large-t limit of F'_log: checked at the largest regime horizon, relative distance <= 1e-3
# (claim 8 of the paper notes) for step sizes at least 5% away from 2/(L + alpha).
LIMIT_REL = 1e-3
LIMIT_SEPARATION = 0.05


def _plain(obj: Any) -> Any:
    """JSON-ready copy: tuples become lists, non-finite floats strings (:func:`jsonable`)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, float):
        return jsonable(obj)
    return obj


def _fractions(step: float, stop: float) -> list[float]:
    n = round(stop / step)
    return [round(step * k, 6) for k in range(1, n + 1)]


def section_params(name: str, mode: str, *, seed: int, d: int, **extra: Any) -> dict[str, Any]:
    """The parameters that determine a section's result (its cache key)."""
    if mode not in _REGIME:
        raise UnknownOptionError("mode", mode, f"must be one of {tuple(_REGIME)}")
    base: dict[str, Any] = {"seed": seed, "d": d, "mode": mode}
    if name == "regime":
        return {**base, **_REGIME[mode]}
    if name == "backprop":
        return {**base, **_BACKPROP[mode], **extra}
    if name == "paper":
        return {
            **base,
            **_PAPER_LS[mode],
            "fig1_steps": FIG1_STEPS[mode],
            "fig1_instances": FIG1_INSTANCES[mode],
        }
    if name == "theorems":
        return {**base, "horizons": _REGIME[mode]["horizons"], **extra}
    if name == "clients":
        return {**base, **_CLIENTS[mode]}
    raise UnknownOptionError("name", name, "unknown report section")


def _log10_abs(e: truth.Enclosure) -> float | None:
    """log10 |midpoint| to 4 decimals (None for 0), for any exponent."""
    m = abs(e.mid)
    if m == 0:
        return None
    k = m.numerator.bit_length() - m.denominator.bit_length()
    return round((k * math.log(2) + math.log(float(m / Fraction(2) ** k))) / math.log(10), 4)


# ---------------------------------------------------------------------------------- section 1
def regime_section(
    problem: Quadratic, params: dict[str, Any], progress: Progress
) -> dict[str, Any]:
    """Certified log10 |F'(eta)| over (eta, t) for both objectives, with eta*(t).

    Guarantee
    ---------
    Each value is the 4-decimal log10 of the midpoint of a proven enclosure of F'(eta) with
    relative radius <= 2^-30; eta*(t) is the midpoint of a certified enclosure of relative
    width <= 1e-9.
    """
    L = problem.L
    fractions = _fractions(params["eta_step"], params["eta_max"])
    horizons = list(params["horizons"])
    etas = [f * 2 / L for f in fractions]
    total = 2 * len(horizons) * len(etas) + len(horizons)
    done = 0
    out: dict[str, Any] = {
        "eta_times_L_over_2": fractions,
        "eta": [e.hex() for e in etas],
        "t": horizons,
        "rel_tol": "2^-30",
    }
    for obj in ("naive", "log"):
        grid: list[list[float | None]] = []
        signs: list[list[int]] = []
        for t in horizons:
            row: list[float | None] = []
            srow: list[int] = []
            for eta in etas:
                g = truth.meta_gradient(problem, eta, t, objective=obj, rel_tol=REGIME_REL_TOL)
                row.append(_log10_abs(g))
                srow.append(g.sign())
                done += 1
            progress(done, total)
            grid.append(row)
            signs.append(srow)
        out[obj] = grid
        out[f"{obj}_sign"] = signs
    stars = []
    for t in horizons:
        star = metaopt.optimal_step_size(problem, t, rel_tol=STAR_REL_TOL)
        stars.append(round(float(star.mid) * L / 2, 9))
        done += 1
        progress(done, total)
    out["eta_star_times_L_over_2"] = stars
    out["eta_star_limit_times_L_over_2"] = round(
        float(theory.eta_star_limit(problem).mid) * L / 2, 9
    )
    return out


# ---------------------------------------------------------------------------------- section 2
def _first_failing(verdicts: Sequence[str]) -> int | None:
    for i, v in enumerate(verdicts):
        if v == "fails":
            return i
    return None


def predicted_boundary(
    problem: Quadratic, dtype: str, t_max: int, eta_max_frac: float
) -> dict[str, Any]:
    """Corollary 1's predicted failure boundary of plain backprop of the log objective.

    For 150 step sizes up to ``eta_max_frac`` x 2/L and 120 geometric horizons up to
    ``t_max``, :func:`verify.backprop.predict_failure` gives ``safe`` / ``boundary`` /
    ``fails``. Returns, per step size, the last horizon before which every horizon is
    ``safe`` (``t_safe``) and the first ``fails`` horizon (``t_fails``; None when none).

    Accuracy
    --------
    A float64 model (see :func:`predict_failure`); horizons are resolved to the 120-point
    geometric grid (ratio ~ t_max^(1/119)).
    """
    L = problem.L
    fracs = [round(k * eta_max_frac / 150, 6) for k in range(1, 151)]
    etas = np.array([f * 2 / L for f in fracs])
    ts = sorted({round(x) for x in np.logspace(0, math.log10(t_max), 120)})
    table = [[p.verdict for p in predict_failure(problem, etas, t, dtype=dtype)] for t in ts]
    t_safe: list[int | None] = []
    t_fails: list[int | None] = []
    for j in range(len(fracs)):
        col = [table[i][j] for i in range(len(ts))]
        last_safe = None
        for i, v in enumerate(col):
            if v != "safe":
                break
            last_safe = ts[i]
        t_safe.append(last_safe)
        k = _first_failing(col)
        t_fails.append(None if k is None else ts[k])
    return {"eta_times_L_over_2": fracs, "t_safe": t_safe, "t_fails": t_fails}


def backprop_section(
    problem: Quadratic, params: dict[str, Any], progress: Progress
) -> dict[str, Any]:
    """Outcome class and bits of error of every backend x dtype over (eta, t), log objective.

    For each horizon t every backend runs once, batched over the step sizes; each result is
    judged (:func:`verify.judge.judge_result`, the suite's one judge) against the certified
    F'(eta) at the same point (relative radius <= 2^-80, rounded once to the dtype), and its
    bits of error are log2(1 + ulps) in the dtype.

    Cells are ``"unsupported"`` when the backend refuses the dtype (typed
    :class:`UnsupportedOptionError`) and the whole map is ``"unavailable"`` when the backend
    is not installed (:class:`BackendUnavailableError`); the reason is recorded.

    Guarantee
    ---------
    The truth of every cell is a proven enclosure; the classification rules are those of
    :mod:`verify.compare` (tolerances derived there).
    """
    L = problem.L
    fractions = _fractions(params["eta_step"], params["eta_max"])
    etas = np.array([f * 2 / L for f in fractions])
    horizons = list(params["horizons"])
    backends = list(params["backends"])
    dtypes = list(params["dtypes"])
    total = len(horizons) * (1 + len(backends) * len(dtypes)) + len(dtypes)
    done = 0
    truths = {}
    for t in horizons:
        truths[t] = [
            truth.meta_gradient(problem, float(e), t, objective="log") for e in etas.tolist()
        ]
        done += 1
        progress(done, total)
    predicted: dict[str, Any] = {}
    for dt in dtypes:
        cells = [[p.verdict for p in predict_failure(problem, etas, t, dtype=dt)] for t in horizons]
        predicted[dt] = {
            "cells": cells,
            "boundary": predicted_boundary(
                problem, dt, max(horizons) * 2, float(params["eta_max"])
            ),
        }
        done += 1
        progress(done, total)
    maps: dict[str, Any] = {}
    for name in backends:
        backend, mode = BACKEND_CHOICES[name]
        maps[name] = {}
        unavailable: str | None = None
        for dt in dtypes:
            entry: dict[str, Any] = {"status": "ok", "reason": None}
            classes: list[list[str]] = []
            bits: list[list[float | str | None]] = []
            grads: list[list[str]] = []
            for t in horizons:
                if unavailable is not None or entry["status"] != "ok":
                    done += 1
                    progress(done, total)
                    continue
                try:
                    res = meta_gradient(
                        problem, etas, t, objective="log", dtype=dt, backend=backend, mode=mode
                    )
                except BackendUnavailableError as exc:
                    unavailable = str(exc)
                    done += 1
                    progress(done, total)
                    continue
                except UnsupportedOptionError as exc:
                    entry = {"status": "unsupported", "reason": str(exc)}
                    done += 1
                    progress(done, total)
                    continue
                # the suite's one judge (verify.judge); the maps show outcome classes, so
                # the known-failure registry (a test-time notion) is not consulted
                verdicts = judge_result(res, truths[t], known_failures=False)
                classes.append([v.outcome.value for v in verdicts])
                row_bits: list[float | str | None] = []
                row_grads: list[str] = []
                for v in verdicts:
                    row_bits.append(jsonable(round(v.bits, 3)))
                    row_grads.append(v.grad.hex())
                bits.append(row_bits)
                grads.append(row_grads)
                done += 1
                progress(done, total)
            if unavailable is not None:
                entry = {"status": "unavailable", "reason": unavailable}
            if entry["status"] == "ok":
                entry.update({"classes": classes, "bits": bits, "grad": grads})
            maps[name][dt] = entry
    return {
        "objective": "log",
        "backends": backends,
        "dtypes": dtypes,
        "eta_times_L_over_2": fractions,
        "eta": [float(e).hex() for e in etas],
        "t": horizons,
        "truth": [[tr.to_float("float64").hex() for tr in truths[t]] for t in horizons],
        "predicted": predicted,
        "maps": maps,
        "summary": _summary(maps, predicted),
    }


def _summary(maps: dict[str, Any], predicted: dict[str, Any]) -> list[dict[str, Any]]:
    """Per backend and dtype: fraction of the grid in each class, and agreement with the
    Corollary 1 prediction (plain backprop backends only)."""
    rows = []
    for name, per_dtype in maps.items():
        for dt, entry in per_dtype.items():
            row: dict[str, Any] = {"backend": name, "dtype": dt, "status": entry["status"]}
            if entry["status"] != "ok":
                rows.append(row)
                continue
            flat = [c for r in entry["classes"] for c in r]
            n = len(flat)
            row["cells"] = n
            for cls in OUTCOME_CLASSES:
                row[cls] = round(flat.count(cls) / n, 4)
            pred = [v for r in predicted[dt]["cells"] for v in r]
            failed = [c in FAILURE_CLASSES for c in flat]
            row["predicted_fails_and_failed"] = sum(
                1 for p, f in zip(pred, failed, strict=True) if p == "fails" and f
            )
            row["predicted_fails_but_ok"] = sum(
                1 for p, f in zip(pred, failed, strict=True) if p == "fails" and not f
            )
            row["predicted_safe_but_failed"] = sum(
                1 for p, f in zip(pred, failed, strict=True) if p == "safe" and f
            )
            row["predicted_safe_and_ok"] = sum(
                1 for p, f in zip(pred, failed, strict=True) if p == "safe" and not f
            )
            row["predicted_boundary"] = pred.count("boundary")
            rows.append(row)
    return rows


# ---------------------------------------------------------------------------------- section 3
def ls_config(
    d: int, n: int, sigma: float, tasks: int, test_tasks: int, seed: int, t: int = LS_T
) -> LeastSquaresConfig:
    """The report's least-squares experiment: TbV n/2 + n/2, the authors' grid, no refinement."""
    return LeastSquaresConfig(
        d=d,
        n=n,
        n1=n // 2,
        n2=n - n // 2,
        sigma=sigma,
        t=t,
        num_tasks=tasks,
        num_test_tasks=test_tasks,
        grid=DEFAULT_GRID,
        refine=False,
        confidence=LS_CONFIDENCE,
        bootstrap_resamples=LS_BOOTSTRAP,
        seed=seed,
    )


def figure1(problem: Quadratic, steps: int) -> dict[str, Any]:
    """The paper's Figure 1 on the report's instance: meta-GD on eta (t = 80, eta0 = 0.1,
    mu_k = 1/(100 sqrt k)) with certified gradients.

    The verdict on the paper's claim rests on the distribution over instances
    (:func:`verify.paper.checks.figure1_distribution`, merged in by :func:`paper_section`);
    this run is the figure's curve and one instance of that distribution.

    Guarantee
    ---------
    Every meta-gradient is certified (relative radius <= 2^-64) and rounded once to float64;
    eta*(80) is a certified enclosure of relative width <= 1e-12.
    """
    t = FIG1_T
    star = metaopt.optimal_step_size(problem, t)
    run = metaopt.meta_gradient_descent(
        problem, t, eta0=FIG1_ETA0, steps=steps, schedule="experiment"
    )
    target = float(star.mid)
    return {
        "t": t,
        "eta0": FIG1_ETA0,
        "steps": steps,
        "schedule": "mu_k = 1/(100 sqrt k)",
        "eta_star": target,
        "etas": [float(x) for x in run.etas],
        "resets": run.resets,
        "steps_to_settle_1e-2": run.steps_to_settle(target, 1e-2),
        "steps_to_settle_1e-3": run.steps_to_settle(target, 1e-3),
        "steps_to_settle_5e-2": run.steps_to_settle(target, 5e-2),
        "steps_to_settle_1e-1": run.steps_to_settle(target, 1e-1),
        "finding": "eta converges quickly, within 300 meta-steps (d = 20, t = 80, eta0 = 0.1); "
        "similar convergence also holds for larger t or much larger eta0",
    }


def figure2(problem: Quadratic) -> dict[str, Any]:
    """The paper's Figure 2: certified eta*(t) for several t, and the limit 2/(L + alpha).

    Guarantee
    ---------
    Each eta*(t) is a certified enclosure of relative width <= 1e-12 (midpoint and radius
    reported); the claims compare enclosures (evidence: proof).
    """
    stars = [metaopt.optimal_step_size(problem, s) for s in STAR_HORIZONS]
    limit = theory.eta_star_limit(problem)
    distinct = stars[0].upper < stars[-1].lower or stars[-1].upper < stars[0].lower
    increasing = all(a.upper < b.lower for a, b in itertools.pairwise(stars))
    below_limit = all(s.upper < limit.lower for s in stars)
    last_gap = float((limit.mid - stars[-1].mid) / limit.mid)
    n = len(STAR_HORIZONS)
    setting = (
        f"the report's instance, certified eta*(t) at t in {{{', '.join(map(str, STAR_HORIZONS))}}}"
    )
    span = claims.enclosure_interval(
        float(stars[0].lower), float(stars[-1].upper), nonnegative=True
    )
    c1 = claims.Claim(
        claim="Figure 2: the optimal step size depends on t",
        statement="the optimal eta* depends on the inner horizon t (Metz et al. 2019)",
        source="paper",
        paper_setting="one fixed 20-dimensional quadratic, several t (values not recovered)",
        our_setting=setting,
        deviations=("one instance, as in the paper (its instance is unknown)",),
        instances=n,
        unit="horizons",
        statistic="certified eta*(t) at the smallest and largest t are disjoint enclosures",
        interval=span,
        verdict="matches" if distinct else "inconclusive",
        evidence="proof",
        can_fail=False,
        margin=f"eta*({STAR_HORIZONS[0]}) = {float(stars[0].mid):.6g}, "
        f"eta*({STAR_HORIZONS[-1]}) = {float(stars[-1].mid):.6g}",
        note="holds for any H with L > alpha and c_1, c_d != 0 (eta*(t) -> 2/(L+alpha) and "
        "eta*(1) differs): a consistency check, not a test",
        counts={
            "points": n,
            "proven": n if distinct else 0,
            "violated": 0,
            "undecided": 0 if distinct else n,
        },
    )
    mono = claims.Claim(
        claim="Figure 2: eta*(t) increases towards 2/(L + alpha)",
        statement="(reconstruction, notes §4.4) eta*(t) increases with t towards 2/(L+alpha)",
        source="reconstruction",
        paper_setting="not stated in the paper (its curve is not recovered)",
        our_setting=setting,
        deviations=(),
        instances=n,
        unit="horizons",
        statistic="consecutive certified enclosures strictly increasing and below the limit",
        interval=span,
        verdict="matches" if increasing and below_limit else "differs",
        evidence="proof",
        can_fail=True,
        margin=f"relative gap to the limit at t = {STAR_HORIZONS[-1]}: {last_gap:.2e}",
        note="observed, not proven in general",
        counts={
            "points": n,
            "proven": n if increasing and below_limit else 0,
            "violated": 0 if increasing and below_limit else 1,
            "undecided": 0,
        },
    )
    found = [c1.to_json(), mono.to_json()]
    return {
        "t": list(STAR_HORIZONS),
        "eta_star": [float(s.mid) for s in stars],
        "eta_star_radius": [float(s.rad) for s in stars],
        "limit": float(limit.mid),
        "finding": "the optimal step size depends on the inner horizon t (Metz et al. 2019)",
        "claims": found,
        "verdict": paper_claims.figure_verdict(found),
    }


def paper_section(problem: Quadratic, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """The paper's Figures 1-4 reproduced, each with its claims and a verdict from them.

    Figure 1: the certified run on the report's problem (the curve) and the distribution of
    settle steps over ``fig1_instances`` random quadratics (the verdict); Figure 2: certified
    eta*(t); Figures 3-4: Monte Carlo experiments on the least-squares task family
    (:func:`verify.paper.trainval.run_experiment`) with bootstrap intervals over test tasks,
    plus Theorem 5's eta_valid scaling experiment and the n <= d interpolation-peak finding.
    Every verdict is a :class:`verify.claims.Claim` (see :mod:`verify.paper.checks`).
    """
    seed = int(params["seed"])
    f3, f4 = params["fig3"], params["fig4"]
    total = 4 + len(f3["sigmas"]) + len(f4["ns"])
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        progress(done, total)

    fig1 = figure1(problem, int(params["fig1_steps"]))
    fig1.update(
        paper_claims.figure1_distribution(
            problem.d, seed, int(params["fig1_instances"]), int(params["fig1_steps"])
        )
    )
    fig1["verdict"] = paper_claims.figure_verdict(fig1["claims"])
    tick()
    fig2 = figure2(problem)
    tick()
    # Figure 3: over sigma
    rows3, res3 = [], []
    for sigma in f3["sigmas"]:
        cfg = ls_config(f3["d"], f3["n"], float(sigma), f3["tasks"], f3["test_tasks"], seed)
        res = run_experiment(cfg)
        res3.append(res)
        rows3.append(paper_claims.ls_record(res, seed=seed))
        tick()
    c3 = [c.to_json() for c in paper_claims.figure3_claims(rows3, res3, seed=seed)]
    sc = params["scaling"]
    scaling = paper_claims.valid_step_scaling(sc["d"], sc["n"], sc["tasks"], seed)
    tick()
    fig3 = {
        "rows": rows3,
        "finding": "TbT overfits in all cases; TbV performs much better and does not overfit; "
        "the gap grows with sigma (d = 1000, n = 500, TbV 250 + 250)",
        "claims": c3,
        "verdict": paper_claims.figure_verdict(c3),
        "theorem5": {
            "scaling": scaling,
            "claims": [
                c.to_json() for c in paper_claims.theorem5_claims(rows3, res3, scaling, seed=seed)
            ],
        },
    }
    # Figure 4: over sample size
    rows4, res4 = [], []
    for n in f4["ns"]:
        cfg = ls_config(f4["d"], int(n), 1.0, f4["tasks"], f4["test_tasks"], seed)
        res = run_experiment(cfg)
        res4.append(res)
        rows4.append(paper_claims.ls_record(res, seed=seed))
        tick()
    pk = params["peak"]
    peak = paper_claims.interpolation_peak(f4["d"], pk["tasks"], pk["test_tasks"], seed)
    tick()
    c4 = [c.to_json() for c in paper_claims.figure4_claims(rows4, res4, peak, seed=seed)]
    fig4 = {
        "rows": rows4,
        "finding": "with sigma = 1, the TbT - TbV gap shrinks as the sample size grows "
        "(as Theorem 6 predicts)",
        "claims": c4,
        "verdict": paper_claims.figure_verdict(c4),
        "peak": peak,
        "theorem6": paper_claims.theorem6_claim(rows4, res4, seed=seed).to_json(),
    }
    return {"fig1": fig1, "fig2": fig2, "fig3": fig3, "fig4": fig4}


# ---------------------------------------------------------------------------------- section 4
def _count(results: list[int]) -> dict[str, int]:
    """results: +1 proven to hold, -1 proven violated, 0 undecided."""
    return {
        "points": len(results),
        "proven": results.count(1),
        "violated": results.count(-1),
        "undecided": results.count(0),
    }


def _le(a: truth.Enclosure, b: truth.Enclosure) -> int:
    """+1 when a <= b is proven, -1 when a > b is proven, else 0."""
    if a.upper <= b.lower:
        return 1
    if a.lower > b.upper:
        return -1
    return 0


def _abs(e: truth.Enclosure) -> truth.Enclosure:
    if e.lower >= 0:
        return e
    if e.upper <= 0:
        return truth.Enclosure(-e.upper, -e.lower)
    return truth.Enclosure(Fraction(0), max(-e.lower, e.upper))


def _proof_verdict(counts: dict[str, int], *, existence: bool = False) -> str:
    """From certified point counts: differs on a proven violation, matches when every point is
    proven, else inconclusive (an existence claim: matches when one witness is proven)."""
    if counts["violated"] and not existence:
        return "differs"
    if existence:
        return "matches" if counts["proven"] else "inconclusive"
    return (
        "matches" if counts["points"] and counts["proven"] == counts["points"] else ("inconclusive")
    )


def _log10_ratio(a: truth.Enclosure, b: truth.Enclosure) -> float | None:
    """log10(|a| / |b|) of the midpoints (None when either is 0)."""
    la, lb = _log10_abs(a), _log10_abs(b)
    return None if la is None or lb is None else round(la - lb, 2)


def _proof_row(
    claim: str,
    statement: str,
    our_setting: str,
    statistic: str,
    results: list[int],
    *,
    can_fail: bool,
    margin: str,
    note: str,
    source: str = "paper",
    paper_setting: str = "any instance (a theorem); the paper's experiments use d = 20",
    existence: bool = False,
    deviations: tuple[str, ...] = (),
) -> dict[str, Any]:
    counts = _count(results)
    return claims.Claim(
        claim=claim,
        statement=statement,
        source=source,
        paper_setting=paper_setting,
        our_setting=our_setting,
        deviations=deviations,
        instances=max(counts["points"], 1),
        unit="grid points",
        statistic=statistic,
        interval=None,
        verdict=_proof_verdict(counts, existence=existence),  # type: ignore[arg-type]
        evidence="proof",
        can_fail=can_fail,
        margin=margin,
        note=note,
        counts=counts,
    ).to_json()


def theorem_section(
    problem: Quadratic,
    params: dict[str, Any],
    progress: Progress,
    prior: dict[str, Any],
) -> dict[str, Any]:
    """Each theorem / claim of the paper as a :class:`verify.claims.Claim` row.

    Certified rows (evidence "proof") count grid points where the inequality is proven,
    proven violated, or undecided; a row differs only on a proven violation. Rows that rest
    on experiments (Theorem 4's meta-GD, Theorems 5 and 6) take their claims from section 3:
    sampled intervals, never a proof. Rows whose check cannot fail (a tautology on the data,
    a bound loose by orders of magnitude, an existence or asymptotic statement) say so
    (``can_fail`` false): they are consistency checks, not tests.

    Guarantee
    ---------
    Certified rows compare proven enclosures (relative radius <= 2^-80 for F', F''); the
    theory's constants are proven enclosures (:mod:`verify.paper.theory`); Theorem 3's explosion
    side is decided on the certified difference |F'| - bound computed in the eigenbasis
    (:func:`verify.paper.theory.theorem3_explosion_difference`).
    """
    L = problem.L
    spec = problem.spectral_enclosures()
    horizons = [int(t) for t in params["horizons"]]
    fracs = [0.1, 0.3, 0.5, 0.7, 0.9, 0.95, 1.02, 1.05, 1.1, 1.25, 1.5]
    etas = [f * 2 / L for f in fracs]
    total = len(horizons) + 4
    done = 0
    van: list[int] = []
    exp_: list[int] = []
    vacuous = 0
    convex: list[int] = []
    t4: list[int] = []
    same_sign: list[int] = []
    sign_changes: list[int] = []
    van_worst: tuple[float, float, int] | None = None  # log10 |F'|/bound, closest to 0
    exp_tight: tuple[float, float, int] | None = None  # log10 (|F'| - bound)/|F'|, smallest
    t4_worst: tuple[float, float, int] | None = None
    noncvx_witness: tuple[float, float, int] | None = None
    for t in horizons:
        prev_sign = None
        changes = 0
        logs = []
        for f, eta in zip(fracs, etas, strict=True):
            gn = truth.meta_gradient(problem, eta, t, objective="naive")
            gl = truth.meta_gradient(problem, eta, t, objective="log")
            logs.append(gl)
            if f < 1:
                ub = theory.theorem3_upper_bound_rho(problem, eta, t)
                van.append(_le(_abs(gn), ub))
                r = _log10_ratio(gn, ub)
                if r is not None and (van_worst is None or r > van_worst[0]):
                    van_worst = (r, f, t)
            else:
                lb = theory.theorem3_lower_bound(problem, eta, t)
                vacuous += lb.upper <= 0
                diff = theory.theorem3_explosion_difference(problem, eta, t)
                exp_.append(1 if diff.lower > 0 else (-1 if diff.upper < 0 else 0))
                r = _log10_ratio(diff, gn)
                if r is not None and (exp_tight is None or r < exp_tight[0]):
                    exp_tight = (r, f, t)
            h = truth.meta_hessian(problem, eta, t, objective="naive")
            convex.append(1 if h.sign() > 0 else (-1 if h.upper <= 0 else 0))
            b4 = theory.theorem4_bound(problem, eta)
            t4.append(_le(_abs(gl), b4))
            r4 = _log10_ratio(gl, b4)
            if r4 is not None and (t4_worst is None or r4 > t4_worst[0]):
                t4_worst = (r4, f, t)
            sn, sl = gn.sign(), gl.sign()
            same_sign.append(1 if sn == sl and sn != 0 else (-1 if sn * sl < 0 else 0))
            if prev_sign is not None and sn != prev_sign:
                changes += 1
            prev_sign = sn
        sign_changes.append(changes)
        for i in range(len(logs) - 1):
            if noncvx_witness is None and logs[i].lower > logs[i + 1].upper:
                noncvx_witness = (fracs[i], fracs[i + 1], t)
        done += 1
        progress(done, total)
    rows: list[dict[str, Any]] = []
    ours = (
        f"the report's instance (d = {problem.d}, L = {L:.6g}), grid of {len(fracs)} step "
        f"sizes x {len(horizons)} horizons t <= {max(horizons)}"
    )

    def at(w: tuple[float, float, int] | None) -> str:
        return "-" if w is None else f"10^{w[0]:g} at eta = {w[1]:g} x 2/L, t = {w[2]}"

    rows.append(
        _proof_row(
            "Theorem 3 (vanishing side)",
            "for eta < 2/L: |F'_naive(eta)| <= t sum_i c_i^2 lambda_i^2 |1 - eta lambda_i|^(2t-1) "
            "(checked in the basis-free form <= t L^2 rho(eta)^(2t-1) ||w0||^2)",
            ours + ", eta < 2/L",
            "certified |F'| <= bound at every grid point",
            van,
            can_fail=False,
            margin="largest |F'|/bound: " + at(van_worst),
            note="the bound is the triangle inequality on the closed form: it holds for any "
            "numbers, so this checks our certified values, not the paper",
        )
    )
    rows.append(
        _proof_row(
            "Theorem 3 (explosion side)",
            "for eta > 2/L: |F'_naive(eta)| >= c_1^2 L^2 t (eta L - 1)^(2t-1) - L^2 t",
            ours + f", eta > 2/L; c_1 = {float(spec['c_1'].mid):.6g}" if "c_1" in spec else ours,
            "certified sign of D = F' - bound = L^2 t ||w0||^2 - t sum_{i>=2} c_i^2 lambda_i^2 "
            "(1 - eta lambda_i)^(2t-1), computed in the eigenbasis (the dominant mode cancels "
            "exactly, so every point is decided)",
            exp_,
            can_fail=False,
            margin="smallest (|F'| - bound)/|F'|: " + at(exp_tight),
            note=f"the bound is vacuous (<= 0) at {vacuous} of {len(exp_)} points; a "
            "consequence of the closed form (notes §4.2), so a consistency check; tight where "
            "the top mode dominates",
        )
    )
    rows.append(
        _proof_row(
            "Theorem 3 (strict convexity)",
            "F_naive is strictly convex in eta: F''_naive(eta) > 0",
            ours,
            "certified sign of F'' at every grid point",
            convex,
            can_fail=False,
            margin="-",
            note="F'' = t(2t-1) sum_i c_i^2 lambda_i^3 (1 - eta lambda_i)^(2t-2) is a sum of "
            "non-negative terms: a consistency check",
        )
    )
    rows.append(
        _proof_row(
            "Theorem 3 (unique minimizer)",
            "F'_naive changes sign exactly once along eta",
            ours,
            f"certified signs along the {len(fracs)} step sizes, each horizon",
            [1 if c == 1 else -1 for c in sign_changes],
            can_fail=False,
            margin="sign changes per horizon: " + ", ".join(str(c) for c in sign_changes),
            note="follows from strict convexity: a consistency check",
        )
    )
    ub4 = float(theory.theorem4_bound_uniform(problem).mid)
    rows.append(
        _proof_row(
            "Theorem 4 (bounded meta-gradient)",
            "|F'_log(eta)| = O(L^3/(c_min^2 alpha (L - alpha))) for every eta >= 0 (checked with "
            "the explicit constant 2 L^2 ||w0||^2/(c_min^2 alpha rho(eta)), notes §4.3)",
            ours + f"; c_min = {float(spec['c_min'].mid):.6g}",
            "certified |F'_log| <= bound at every grid point",
            t4,
            can_fail=False,
            margin="largest |F'_log|/bound: " + at(t4_worst) + f" (uniform bound {ub4:.3g})",
            note="the bound is loose by orders of magnitude on this instance: a wrong bound "
            "that much smaller would pass too, so a consistency check",
            deviations=("O(.) read with our explicit constant (the paper's is not recovered)",),
        )
    )
    rows.append(
        _proof_row(
            "Theorem 4 (same minimizer)",
            "sign F'_log = sign F'_naive, so both objectives have the same minimizer",
            ours,
            "certified signs agree at every grid point",
            same_sign,
            can_fail=False,
            margin="-",
            note="F'_log = F'_naive/(t f) with f > 0: a consistency check",
        )
    )
    rows.append(
        _proof_row(
            "Theorem 4 (not convex)",
            "the log objective is not convex: F'_log(eta1) > F'_log(eta2) for some eta1 < eta2",
            ours,
            "a certified witness among adjacent step sizes of the grid, any horizon",
            [1] if noncvx_witness else [0],
            can_fail=False,
            existence=True,
            margin="no witness on this grid"
            if noncvx_witness is None
            else f"witness: eta1 = {noncvx_witness[0]:g} x 2/L, eta2 = {noncvx_witness[1]:g} "
            f"x 2/L, t = {noncvx_witness[2]} (proven)",
            note="an existence claim: a missing witness would prove nothing",
        )
    )
    done += 1
    progress(done, total)
    # Theorem 4's meta-GD, from the Figure 1 distribution (its own schedule 1/sqrt(k))
    f1 = prior["paper"]["fig1"]
    rows.extend(c for c in f1["claims"] if c["claim"].startswith("Theorem 4"))
    # large-t limits: the distance must shrink along the horizons; asymptotic (cannot fail)
    tmax = max(horizons)
    lim_eta = float(theory.eta_star_limit(problem).mid)
    limit_res = []
    worst = 0.0
    for eta in etas:
        if abs(eta - lim_eta) < LIMIT_SEPARATION * lim_eta:
            continue
        lim = theory.large_t_log_gradient_limit(problem, eta)
        g = truth.meta_gradient(problem, eta, tmax, objective="log")
        rel = abs(float((g.mid - lim.mid) / lim.mid))
        worst = max(worst, rel)
        limit_res.append(1 if rel <= LIMIT_REL else 0)
    rows.append(
        _proof_row(
            "Large-t limit (notes §4.4, claim 8)",
            "F'_log(eta) -> -2 alpha/(1 - eta alpha) below 2/(L+alpha), 2L/(eta L - 1) above",
            ours + f"; step sizes at least {LIMIT_SEPARATION:.0%} away from 2/(L+alpha)",
            f"certified relative distance to the limit <= {LIMIT_REL:g} at t = {tmax}",
            limit_res,
            can_fail=False,
            source="reconstruction",
            paper_setting="not in the paper (our reconstruction)",
            margin=f"worst relative distance {worst:.3g} at t = {tmax}",
            note="a limit t -> infinity: a finite horizon cannot contradict it; points still "
            f"farther than {LIMIT_REL:g} at t = {tmax} are undecided (t too small), not violated",
        )
    )
    done += 1
    progress(done, total)
    # Corollary 1: the certified horizon at which f(w_t) leaves float32 vs the asymptotic one
    cor_res = []
    cor_txt = []
    for f in (1.1, 1.25, 1.5):
        eta = f * 2 / L
        exact = theory.loss_out_of_range_horizon(problem, eta, "float32", t_max=10**6)
        pred = theory.corollary1_predicted_horizon(problem, eta, "float32")
        ok = exact is not None and abs(exact - pred) <= max(0.1 * pred, 5)
        cor_res.append(1 if ok else -1)
        cor_txt.append(f"eta = {f:g} x 2/L: exact {exact}, predicted {pred:.1f}")
    rows.append(
        _proof_row(
            "Corollary 1 (f(w_t) leaves the float range)",
            "plain backprop of the log objective forms f(w_t) ~ rho^(2t), which leaves float32 "
            "once 2t |ln rho| > ln(max float32) = 88.72",
            ours + "; float32; eta in {1.1, 1.25, 1.5} x 2/L",
            "certified first t with f(w_t) rounding to inf in float32 within 10% (or 5 steps) "
            "of the asymptotic formula",
            cor_res,
            can_fail=True,
            margin="; ".join(cor_txt),
            note="the 10% allowance covers the O(1) prefactor the asymptotic formula ignores",
            deviations=("the threshold formula is our reconstruction (notes §4.5)",),
        )
    )
    done += 1
    progress(done, total)
    # Corollary 1 in practice: the backprop maps of section 2 vs predict_failure
    bp = prior.get("backprop")
    if bp is not None:
        agree: list[int] = []
        txt = []
        precision: dict[str, int] = {}
        ran = [
            n
            for n in ("numpy-reverse", "torch", "jax")
            if any(e["status"] == "ok" for e in bp["maps"].get(n, {}).values())
        ]
        for name in ran:
            for dt in bp["dtypes"]:
                entry = bp["maps"].get(name, {}).get(dt)
                if entry is None or entry["status"] != "ok":
                    continue
                cells = bp["predicted"][dt]["cells"]
                bad = 0
                for i, row_ in enumerate(entry["classes"]):
                    for j, cls in enumerate(row_):
                        verdict = cells[i][j]
                        failed = cls in FAILURE_CLASSES
                        if verdict == "fails":
                            agree.append(1 if failed else -1)
                            bad += not failed
                        elif verdict == "safe" and cls in RANGE_FAILURE_CLASSES:
                            agree.append(-1)
                            bad += 1
                        elif verdict == "safe" and failed:
                            # silently wrong with every magnitude in range: precision loss,
                            # outside the scope of Corollary 1 (a statement about range)
                            key = f"{name}/{dt}"
                            precision[key] = precision.get(key, 0) + 1
                        elif verdict == "safe":
                            agree.append(1)
                if bad:
                    txt.append(f"{name}/{dt}: {bad} contradicting cells")
        if precision:
            txt.append(
                "out of scope (predicted in range, silently wrong by precision loss): "
                + ", ".join(f"{k} {v} cells" for k, v in precision.items())
            )
        if agree:
            rows.append(
                _proof_row(
                    "Corollary 1 (backprop fails where predicted)",
                    "plain backprop fails (silently wrong / overflow / underflow / nan) where "
                    "predict_failure says 'fails' (f(w_t) or the adjoint leaves the range), and "
                    "nothing leaves the range where it says 'safe'",
                    f"every cell of the section 2 maps of {_names(ran)} outside the 'boundary' "
                    "band, judged against certified truth",
                    "observed outcome class vs predicted verdict per cell",
                    agree,
                    can_fail=True,
                    margin="; ".join(txt) if txt else "no contradicting cell",
                    note="margin ln 2 + 2 + ln d + ln kappa_f nats (verify.backprop.boundaries); "
                    "a 'silently_wrong' cell predicted 'safe' is a precision failure, outside "
                    "the claim, and listed separately",
                    deviations=("the failure thresholds are our reconstruction (notes §4.5)",),
                )
            )
    # Theorems 5 and 6 from the Monte Carlo experiments of section 3 (statistics, not proofs)
    rows.extend(prior["paper"]["fig3"]["theorem5"]["claims"])
    rows.append(prior["paper"]["fig4"]["theorem6"])
    done += 1
    progress(done, total)
    grid = {"eta_times_L_over_2": fracs, "t": horizons}
    return {"grid": grid, "rows": rows}


def _names(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c' (nothing: 'no plain-backprop backend')."""
    if not items:
        return "no plain-backprop backend (none ran)"
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# ---------------------------------------------------------------------------------- clients
#: Sizes of the meta-learning-library section: the masking audit's cases (indices into
#: :func:`verify.audits.masking.default_cases`), schedules and meta-steps, and the stride at which
#: the flush-to-zero adjoint traces are stored.
_CLIENTS: dict[str, dict[str, Any]] = {
    "quick": {"cases": (1,), "schedules": ("experiment",), "steps": 300, "stride": 250},
    "default": {"cases": (0, 1), "schedules": ("experiment",), "steps": 1000, "stride": 50},
    "full": {
        "cases": (0, 1, 2, 3, 4),
        "schedules": ("experiment", "theorem"),
        "steps": 1000,
        "stride": 10,
    },
}


def clients_section(
    problem: Quadratic, params: dict[str, Any], progress: Progress
) -> dict[str, Any]:
    """What the meta-learning libraries' failures look like up close (issue: clients).

    * **Flush-to-zero**: the adjoint magnitude max_j |bar w_k[j]| per step k of one reverse
      pass at :func:`verify.audits.flush.ftz_point` (cond-100 problem, eta = float32(1/L),
      t = 5000, naive objective, float32), for NumPy (IEEE gradual underflow), JAX (XLA's CPU
      runtime flushes subnormals to zero), PyTorch, and PyTorch with
      ``torch.set_flush_denormal(True)``; each engine's meta-gradient beside the certified
      one, judged by :func:`verify.judge.check_meta_gradient`.
    * **NaN masking**: meta-gradient descent on eta fed float32 backprop meta-gradients whose
      NaNs are replaced by 0 / ``nan_to_num`` / clipped (:func:`verify.audits.masking.audit`),
      against the certified eta*(t) and a certified-gradient reference run.

    ``problem`` is not used: both experiments have their own problems (named in the data).

    Guarantee
    ---------
    The reference meta-gradient and eta* are certified enclosures; the traces and masked
    runs are measurements of the systems under test.
    """
    from ..audits.flush import ENGINES, adjoint_trace, ftz_point
    from ..audits.masking import audit, default_cases, summary
    from ..backprop._common import installed
    from ..judge import check_meta_gradient

    del problem
    q, eta, t = ftz_point()
    stride = int(params["stride"])
    mq, all_cases = default_cases()
    cases = [dataclasses.replace(all_cases[i], steps=params["steps"]) for i in params["cases"]]
    total = len(ENGINES) + len(cases) * 3 * len(params["schedules"])
    done = 0
    exact = truth.meta_gradient(q, eta, t, objective="naive")
    traces: dict[str, Any] = {}
    for engine in ENGINES:
        needs = "jax" if engine == "jax" else "torch" if engine.startswith("torch") else None
        if needs is not None and not installed(needs):
            traces[engine] = {"status": "unavailable", "reason": f"{needs} is not installed"}
        else:
            tr = adjoint_trace(q, eta, t, dtype="float32", objective="naive", engine=engine)
            verdict = check_meta_gradient(
                q, eta, t, tr.grad, dtype="float32", objective="naive", known_failures=False
            )
            mags = tr.adjoint_max[::-1]  # step k = t (start of the reverse pass) first
            traces[engine] = {
                "status": "ok",
                "grad": tr.grad.hex(),
                "outcome": verdict.outcome.value,
                "floor": jsonable(tr.floor),
                "magnitude": [jsonable(float(m)) for m in mags[::stride]],
            }
        done += 1
        progress(done, total)

    def tick(_: Any) -> None:
        nonlocal done
        done += 1
        progress(done, total)

    runs = audit(mq, cases, schedules=tuple(params["schedules"]), progress=tick)
    keep = max(1, params["steps"] // 200)
    masking = []
    for r in runs:
        rec = r.as_dict()
        rec["etas"] = list(r.etas[::keep])
        masking.append(_plain(rec))
    return {
        "ftz": {
            "problem": "Quadratic.from_spectrum(np.geomspace(1, 100, 10), seed=0)",
            "eta": eta.hex(),
            "t": t,
            "objective": "naive",
            "dtype": "float32",
            "truth": exact.to_float("float32").hex(),
            "stride": stride,
            "traces": traces,
        },
        "masking": {
            "problem": "Quadratic.random(20, seed=1)",
            "steps": params["steps"],
            "stored_every": keep,
            "runs": masking,
            "summary": summary(runs),
        },
    }
