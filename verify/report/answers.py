"""The report's headline answers, derived from the backprop section; nothing is hard-coded.

:func:`answers` says where plain backprop of the log objective first fails (in the first
plain-backprop backend and dtype, in :data:`~verify.report.settings.FOCUS_BACKENDS` x
:data:`FOCUS_DTYPES` order, that produced a map), whether Corollary 1's prediction agrees,
whether the stable backend fixes it, whether PyTorch behaves like the reference backprop, and
what the frameworks and meta-learning libraries return. The result goes into ``data.json``
(``answers``) and its ``text`` lines open the pages.
"""

from __future__ import annotations

from typing import Any

from ..outcomes import outcome
from .settings import FAILURE_CLASSES, FOCUS_BACKENDS, LIBRARY_BACKENDS

__all__ = ["FOCUS_DTYPES", "agreement", "answers", "libraries", "library_text"]

#: The dtypes the answers prefer, in this order (the first with a map is the focus).
FOCUS_DTYPES: tuple[str, ...] = ("float32", "float64", "bfloat16", "float16")


def _focus(maps: dict[str, Any]) -> tuple[str, str] | None:
    for name in FOCUS_BACKENDS:
        for dt in FOCUS_DTYPES:
            if maps.get(name, {}).get(dt, {}).get("status") == "ok":
                return name, dt
    return None


def _first_failure(entry: dict[str, Any]) -> tuple[int, int] | None:
    """(t index, eta index) of the failing cell with the smallest t, then smallest eta."""
    for i, row in enumerate(entry["classes"]):
        for j, c in enumerate(row):
            if c in FAILURE_CLASSES:
                return i, j
    return None


def agreement(
    observed: int | None, t_safe: int | None, t_fails: int | None, grid: list[int]
) -> str:
    """Does the first observed failure agree with the predicted transition band?

    Judged on the report's horizon grid: "later than predicted" needs a grid horizon at or past
    the predicted failure at which the result had not failed yet.
    """
    if observed is None:
        if t_fails is not None and any(h >= t_fails for h in grid):
            return "none observed although failure is predicted on the grid -- disagrees."
        return "no failure observed on the grid."
    if t_safe is not None and observed <= t_safe:
        return "earlier than predicted (the prediction said 'safe') -- disagrees."
    if t_fails is not None and any(t_fails <= h < observed for h in grid):
        return "later than predicted ('fails' was predicted before it) -- disagrees."
    if t_fails is None:
        return "inside the band where nothing is predicted -- consistent."
    return f"inside the predicted transition band ({t_safe}, {t_fails}] -- the prediction agrees."


def nearest_boundary(bnd: dict[str, Any], frac: float) -> tuple[int | None, int | None]:
    """Corollary 1's (t_safe, t_fails) at the boundary's step size nearest to ``frac``."""
    k_fine = min(
        range(len(bnd["eta_times_L_over_2"])),
        key=lambda k: abs(bnd["eta_times_L_over_2"][k] - frac),
    )
    return bnd["t_safe"][k_fine], bnd["t_fails"][k_fine]


def _first_failure_answer(bp: dict[str, Any], name: str, dt: str) -> tuple[Any, str]:
    """Where ``name`` in ``dt`` first fails, against Corollary 1's prediction."""
    horizons, fracs = bp["t"], bp["eta_times_L_over_2"]
    focus = bp["maps"][name][dt]
    pred = bp["predicted"][dt]["cells"]
    first = _first_failure(focus)
    if first is None:
        return None, f"{name} in {dt} does not fail anywhere on this grid (t <= {max(horizons)})."
    i, j = first
    # first predicted failing t on the grid for this eta
    pj = next((horizons[k] for k in range(len(horizons)) if pred[k][j] == "fails"), None)
    obs_j = next(
        (horizons[k] for k in range(len(horizons)) if focus["classes"][k][j] in FAILURE_CLASSES),
        None,
    )
    t_safe, t_fails = nearest_boundary(bp["predicted"][dt]["boundary"], fracs[j])
    got = float.fromhex(focus["grad"][i][j])
    exact = float.fromhex(bp["truth"][i][j])
    cls = focus["classes"][i][j]
    record = {
        "grad": focus["grad"][i][j],
        "truth_float64": bp["truth"][i][j],
        "predicted_safe_up_to_t": t_safe,
        "predicted_fails_from_t": t_fails,
        "t": horizons[i],
        "eta_times_L_over_2": fracs[j],
        "class": cls,
        "predicted_verdict": pred[i][j],
        "predicted_first_fails_t": pj,
    }
    text = (
        f"Plain backprop ({name}) of the log objective in {dt} first fails "
        f"at t = {horizons[i]}, eta = {fracs[j]:g} x 2/L: the result is "
        f"'{cls}' ({outcome(cls).meaning}): it "
        f"returned F' = {got!r} where the certified value is {exact:.6g}. "
        f"Corollary 1's prediction for that cell: '{pred[i][j]}'. For this step size the "
        f"prediction is 'safe' up to t = {t_safe} and 'fails' from t = {t_fails} on (in "
        f"between it predicts nothing); on the report's grid the first horizon predicted "
        f"'fails' is t = {pj}, and the first observed failure is t = {obs_j}: "
        + agreement(obs_j, t_safe, t_fails, horizons)
    )
    return record, text


def _prediction_answer(bp: dict[str, Any], name: str, dt: str) -> tuple[dict[str, int], str]:
    """How many decided cells of ``name``/``dt`` agree with Corollary 1's prediction."""
    row = next(r for r in bp["summary"] if r["backend"] == name and r["dtype"] == dt)
    contra = row["predicted_fails_but_ok"] + row["predicted_safe_but_failed"]
    decided = contra + row["predicted_fails_and_failed"] + row["predicted_safe_and_ok"]
    record = {
        "decided_cells": decided,
        "contradicting_cells": contra,
        "boundary_cells": row["predicted_boundary"],
    }
    text = (
        f"Prediction vs observation over the grid: {decided - contra} of {decided} decided "
        f"cells agree ({contra} contradict; {row['predicted_boundary']} cells are in the "
        "predicted 'boundary' band where no outcome is predicted)."
    )
    return record, text


def _stable_answer(maps: dict[str, Any], name: str, dt: str) -> tuple[Any, str | None]:
    """What the stable backend gives on the cells where ``name`` failed in ``dt``."""
    stable = maps.get("stable", {}).get(dt)
    if stable is None or stable["status"] != "ok":
        return None, None
    failed_cells = [
        (i, j)
        for i, r in enumerate(maps[name][dt]["classes"])
        for j, c in enumerate(r)
        if c in FAILURE_CLASSES
    ]
    counts: dict[str, int] = {}
    for i, j in failed_cells:
        c = stable["classes"][i][j]
        counts[c] = counts.get(c, 0) + 1
    fixed = counts.get("accurate", 0)
    stable_fail_total = sum(1 for r in stable["classes"] for c in r if c in FAILURE_CLASSES)
    record = {
        "cells_where_backprop_failed": len(failed_cells),
        "stable_classes_there": dict(sorted(counts.items())),
        "stable_failures_anywhere": stable_fail_total,
    }
    text = (
        f"The stable backend ({dt}) on the {len(failed_cells)} cells where plain "
        f"backprop failed: {fixed} accurate"
        + "".join(f", {v} {k}" for k, v in sorted(counts.items()) if k != "accurate")
        + f"; it fails on {stable_fail_total} cells of the whole grid."
    )
    return record, text


def _torch_answer(bp: dict[str, Any], name: str) -> tuple[dict[str, Any], str | None]:
    """PyTorch's maps against the focus backend's, per dtype: same class, bit-identical."""
    maps = bp["maps"]
    torch = maps.get("torch", {})
    ref = maps.get(name, {})
    same: dict[str, Any] = {}
    for dt in bp["dtypes"] if torch else []:
        entry = torch[dt]
        r = ref.get(dt)
        if entry["status"] != "ok" or r is None or r["status"] != "ok":
            same[dt] = None
            continue
        a = [c for row_ in entry["classes"] for c in row_]
        b = [c for row_ in r["classes"] for c in row_]
        ga = [g for row_ in entry["grad"] for g in row_]
        gb = [g for row_ in r["grad"] for g in row_]
        same[dt] = {
            "cells": len(a),
            "same_class": sum(x == y for x, y in zip(a, b, strict=True)),
            "bitwise_equal": sum(x == y for x, y in zip(ga, gb, strict=True)),
        }
    if not torch or name == "torch":
        return same, None  # the answers speak only of the backends that ran
    if all(v is None for v in same.values()):
        reason = next(iter(torch.values())).get("reason")
        return same, f"PyTorch maps are not available here ({reason})."
    parts = [
        f"{dt}: same class in {v['same_class']}/{v['cells']} cells, bit-identical "
        f"gradient in {v['bitwise_equal']}/{v['cells']}"
        for dt, v in same.items()
        if v is not None
    ]
    return same, "PyTorch autograd vs the numpy reference backprop: " + "; ".join(parts) + "."


def answers(data: dict[str, Any]) -> dict[str, Any]:
    """Headline answers computed from the backprop section (see the module docstring)."""
    bp = data["sections"]["backprop"]
    maps = bp["maps"]
    chosen = _focus(maps)
    if chosen is None:
        ran = sorted(n for n, per in maps.items() if any(e["status"] == "ok" for e in per.values()))
        return {
            "backend": None,
            "dtype": None,
            "first_failure": None,
            "text": [
                "No plain-backprop backend (numpy, torch, jax) produced a map in this run"
                + (f"; maps: {', '.join(ran)}." if ran else ".")
            ],
        }
    name, dt = chosen  # the backend and dtype the answers speak of
    out: dict[str, Any] = {"backend": name, "dtype": dt}
    text: list[str] = []
    out["first_failure"], line = _first_failure_answer(bp, name, dt)
    text.append(line)
    out["prediction"], line = _prediction_answer(bp, name, dt)
    text.append(line)
    out["stable"], maybe = _stable_answer(maps, name, dt)
    text += [maybe] if maybe else []
    out["torch_vs_reference"], maybe = _torch_answer(bp, name)
    text += [maybe] if maybe else []
    libs = libraries(maps, bp["t"], bp["eta_times_L_over_2"])
    out["libraries"] = libs
    if libs:
        text.append(
            "Frameworks and meta-learning libraries on this grid (log objective): "
            + "; ".join(library_text(lib, per) for lib, per in libs.items())
            + "."
        )
    out["text"] = text
    return out


def libraries(
    maps: dict[str, Any], horizons: list[int], fracs: list[float]
) -> dict[str, dict[str, Any]]:
    """Per library and dtype: silent zeros, spurious values, NaN, overflow, underflow, and the
    first failing cell (smallest t, then smallest eta)."""
    libs: dict[str, dict[str, Any]] = {}
    for name in LIBRARY_BACKENDS:
        per: dict[str, Any] = {}
        for dt, entry in maps.get(name, {}).items():
            if entry["status"] != "ok":
                continue
            counts = dict.fromkeys(("silent_zero", "spurious", "nan", "overflow", "underflow"), 0)
            first = None
            for i, row in enumerate(entry["classes"]):
                for j, cls in enumerate(row):
                    if cls not in FAILURE_CLASSES:
                        continue
                    if cls == "silently_wrong":
                        zero = float.fromhex(entry["grad"][i][j]) == 0
                        counts["silent_zero" if zero else "spurious"] += 1
                    else:
                        counts[cls] += 1
                    if first is None:
                        first = {"t": horizons[i], "eta_times_L_over_2": fracs[j], "class": cls}
            per[dt] = {**counts, "first": first}
        if per:
            libs[name] = per
    return libs


def library_text(name: str, per: dict[str, Any]) -> str:
    """One library's failures in words, per dtype."""
    parts = []
    for dt, c in per.items():
        found = [
            f"{c[k]} {label}"
            for k, label in (
                ("silent_zero", "silent zeros"),
                ("spurious", "spurious values"),
                ("nan", "NaN"),
                ("overflow", "overflows"),
                ("underflow", "underflows"),
            )
            if c[k]
        ]
        if not found:
            parts.append(f"{dt} none")
            continue
        f = c["first"]
        parts.append(
            f"{dt} {', '.join(found)} (first at t = {f['t']}, eta = "
            f"{f['eta_times_L_over_2']:g} x 2/L)"
        )
    return f"{name}: " + ", ".join(parts)
