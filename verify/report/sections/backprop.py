"""Section 2 of the report: outcome maps of every backend and dtype against certified truth,
with Corollary 1's predicted failure boundary."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ... import truth
from ...backprop import BackendUnavailableError, UnsupportedOptionError, meta_gradient
from ...backprop.boundaries import predict_failure
from ...floats import json_float
from ...judge import judge_result
from ...problems import Quadratic
from ..settings import (
    BACKEND_CHOICES,
    FAILURE_CLASSES,
    OUTCOME_CLASSES,
    Progress,
    eta_fractions,
)

__all__ = ["backprop_section", "predicted_boundary"]


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
    fractions = eta_fractions(params["eta_step"], params["eta_max"])
    etas = np.array([f * 2 / L for f in fractions])
    horizons = list(params["horizons"])
    backends = list(params["backends"])
    dtypes = list(params["dtypes"])
    total = len(horizons) * (1 + len(backends) * len(dtypes)) + len(dtypes)
    done = 0

    def tick(steps: int = 1) -> None:
        nonlocal done
        done += steps
        progress(done, total)

    truths = {}
    for t in horizons:
        truths[t] = [
            truth.meta_gradient(problem, float(e), t, objective="log") for e in etas.tolist()
        ]
        tick()
    predicted: dict[str, Any] = {}
    for dt in dtypes:
        cells = [[p.verdict for p in predict_failure(problem, etas, t, dtype=dt)] for t in horizons]
        predicted[dt] = {
            "cells": cells,
            "boundary": predicted_boundary(
                problem, dt, max(horizons) * 2, float(params["eta_max"])
            ),
        }
        tick()
    maps: dict[str, Any] = {}
    for name in backends:
        maps[name] = {}
        missing: dict[str, Any] | None = None
        for dt in dtypes:
            if missing is not None:  # not installed: the next dtypes say so with its reason
                maps[name][dt] = dict(missing)
                tick(len(horizons))
                continue
            maps[name][dt] = _map(problem, etas, truths, name, dt, tick)
            if maps[name][dt]["status"] == "unavailable":
                missing = maps[name][dt]
    return {
        "objective": "log",
        "backends": backends,
        "dtypes": dtypes,
        "eta_times_L_over_2": fractions,
        "eta": [float(e).hex() for e in etas],
        "t": horizons,
        "truth": [[tr.to_float("float64").hex() for tr in truths[t]] for t in truths],
        "predicted": predicted,
        "maps": maps,
        "summary": _summary(maps, predicted),
    }


def _map(
    problem: Quadratic,
    etas: Any,
    truths: dict[int, list[truth.Enclosure]],
    name: str,
    dt: str,
    tick: Callable[[int], None],
) -> dict[str, Any]:
    """One backend x dtype map over the horizons of ``truths``: status ``ok`` with classes,
    bits of error and gradients, or ``unavailable`` / ``unsupported`` with the reason."""
    backend, mode = BACKEND_CHOICES[name]
    classes: list[list[str]] = []
    bits: list[list[float | str | None]] = []
    grads: list[list[str]] = []
    for k, t in enumerate(truths):
        try:
            res = meta_gradient(
                problem, etas, t, objective="log", dtype=dt, backend=backend, mode=mode
            )
        except (BackendUnavailableError, UnsupportedOptionError) as exc:
            tick(len(truths) - k)
            status = "unavailable" if isinstance(exc, BackendUnavailableError) else "unsupported"
            return {"status": status, "reason": str(exc)}
        # the suite's one judge (verify.judge); the maps show outcome classes, so
        # the known-failure registry (a test-time notion) is not consulted
        verdicts = judge_result(res, truths[t], known_failures=False)
        classes.append([v.outcome.value for v in verdicts])
        bits.append([json_float(round(v.bits, 3)) for v in verdicts])
        grads.append([v.grad.hex() for v in verdicts])
        tick(1)
    return {"status": "ok", "reason": None, "classes": classes, "bits": bits, "grad": grads}


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
