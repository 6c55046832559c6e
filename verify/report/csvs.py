"""The report's CSV files: the numbers of every table and figure in long form (``csv/``).

One function per section returns ``{file name: CSV text}``; :func:`write_csvs` writes them all.
The columns are documented in ``reports/README.md``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from .optimizer_blocks import optimizer_csvs
from .paper import paper_csvs
from .settings import OUTCOME_CLASSES

__all__ = ["BACKPROP_COLUMNS", "MASKING_COLUMNS", "write_csvs"]


def _csv(rows: list[list[Any]], header: list[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


MASKING_COLUMNS: tuple[str, ...] = (
    "t",
    "eta0",
    "dtype",
    "schedule",
    "mask",
    "verdict",
    "eta_final",
    "eta_star",
    "eta_star_lower",
    "eta_star_upper",
    "nonfinite",
    "zero",
    "clipped",
    "reference_final",
    "reference_verdict",
)


def _client_csvs(cl: dict[str, Any]) -> dict[str, str]:
    ftz = cl["ftz"]
    rows = []
    for engine, tr in ftz["traces"].items():
        if tr["status"] != "ok":
            continue
        for k, m in enumerate(tr["magnitude"]):
            rows.append([engine, ftz["t"] - ftz["stride"] * k, m])
    return {
        "ftz_adjoint.csv": _csv(rows, ["engine", "step", "adjoint_max"]),
        "masking.csv": _csv(
            [[r[c] for c in MASKING_COLUMNS] for r in cl["masking"]["runs"]],
            list(MASKING_COLUMNS),
        ),
    }


def _regime_csvs(rg: dict[str, Any]) -> dict[str, str]:
    rows: list[list[Any]] = []
    for obj in ("naive", "log"):
        for i, t in enumerate(rg["t"]):
            for j, fr in enumerate(rg["eta_times_L_over_2"]):
                rows.append([obj, fr, rg["eta"][j], t, rg[obj][i][j], rg[f"{obj}_sign"][i][j]])
    return {
        "regime.csv": _csv(
            rows, ["objective", "eta_times_L_over_2", "eta", "t", "log10_abs_dF", "sign_dF"]
        ),
        "regime_eta_star.csv": _csv(
            [[t, s] for t, s in zip(rg["t"], rg["eta_star_times_L_over_2"], strict=True)],
            ["t", "eta_star_times_L_over_2"],
        ),
    }


#: Columns of csv/backprop.csv (one row per backend x dtype x eta x t).
BACKPROP_COLUMNS: tuple[str, ...] = (
    "backend",
    "dtype",
    "eta_times_L_over_2",
    "eta",
    "t",
    "class",
    "bits_of_error",
    "grad",
    "truth_float64",
    "predicted",
)


def _backprop_rows(bp: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for name in bp["backends"]:
        for dt in bp["dtypes"]:
            entry = bp["maps"][name][dt]
            for i, t in enumerate(bp["t"]):
                for j, fr in enumerate(bp["eta_times_L_over_2"]):
                    if entry["status"] != "ok":
                        cell = [entry["status"], "", ""]
                    else:
                        cell = [entry["classes"][i][j], entry["bits"][i][j], entry["grad"][i][j]]
                    pred = bp["predicted"][dt]["cells"][i][j]
                    rows.append([name, dt, fr, bp["eta"][j], t, *cell, bp["truth"][i][j], pred])
    return rows


def _backprop_csvs(bp: dict[str, Any]) -> dict[str, str]:
    keys = [
        "backend",
        "dtype",
        "status",
        "cells",
        *OUTCOME_CLASSES,
        "predicted_fails_and_failed",
        "predicted_fails_but_ok",
        "predicted_safe_and_ok",
        "predicted_safe_but_failed",
        "predicted_boundary",
    ]
    rows = []
    for dt in bp["dtypes"]:
        b = bp["predicted"][dt]["boundary"]
        for fr, ts, tf in zip(b["eta_times_L_over_2"], b["t_safe"], b["t_fails"], strict=True):
            rows.append([dt, fr, "" if ts is None else ts, "" if tf is None else tf])
    return {
        "backprop.csv": _csv(_backprop_rows(bp), list(BACKPROP_COLUMNS)),
        "backprop_summary.csv": _csv([[r.get(k, "") for k in keys] for r in bp["summary"]], keys),
        "predicted_boundary.csv": _csv(rows, ["dtype", "eta_times_L_over_2", "t_safe", "t_fails"]),
    }


def _paper_csvs(pp: dict[str, Any], th: dict[str, Any]) -> dict[str, str]:
    files: dict[str, str] = {}
    files["fig1_meta_gd.csv"] = _csv(
        [[k, e] for k, e in enumerate(pp["fig1"]["etas"])], ["k", "eta"]
    )
    files["fig2_eta_star.csv"] = _csv(
        [
            list(x)
            for x in zip(
                pp["fig2"]["t"], pp["fig2"]["eta_star"], pp["fig2"]["eta_star_radius"], strict=True
            )
        ],
        ["t", "eta_star", "eta_star_radius"],
    )
    for key, fname in (("fig3", "fig3_sigma.csv"), ("fig4", "fig4_sample_size.csv")):
        scal = ["sigma", "d", "n", "n1", "n2", "t", "tasks", "test_tasks", "eta_tbt", "eta_tbv"]
        ests = [
            "tbt_train_rmse",
            "tbv_train_rmse",
            "tbt_test_rmse",
            "tbv_test_rmse",
            "tbt_error",
            "tbv_error",
            "test_rmse_gap",
            "error_gap",
        ]
        header = scal + [f"{e}_{s}" for e in ests for s in ("mean", "low", "high")]
        files[fname] = _csv(
            [
                [r[k] for k in scal] + [r[e][s] for e in ests for s in ("mean", "low", "high")]
                for r in pp[key]["rows"]
            ],
            header,
        )
    for fname, table in paper_csvs(pp, th).items():
        files[fname] = _csv(table[1:], table[0])
    return files


def write_csvs(data: dict[str, Any], out: Path) -> list[str]:
    """Write every CSV file of the report to ``out/csv``; return their names, sorted."""
    sec = data["sections"]
    files = {**_regime_csvs(sec["regime"]), **_backprop_csvs(sec["backprop"])}
    if "clients" in sec:
        files.update(_client_csvs(sec["clients"]))
    files.update(_paper_csvs(sec["paper"], sec["theorems"]))
    for fname, (header, rows) in optimizer_csvs(sec).items():
        files[fname] = _csv(rows, header)
    (out / "csv").mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out / "csv" / name).write_text(text)
    return sorted(files)
