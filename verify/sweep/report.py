"""A report built from a sweep's results file: outcome fractions and an outcome map.

Writes ``report.md`` (the fraction of cases in each outcome class, per backend and dtype),
``data.json`` (the same counts, plus the command that reproduces them) and
``figures/outcome_map.png`` (one panel per backend/dtype: eta / (2/L) against t, coloured by
outcome; a point where several problems or objectives meet shows the worst outcome).
Deterministic: the same results file gives byte-identical ``report.md`` and ``data.json``.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from ..compare import Outcome
from ..outcomes import CLASS_COLORS, OUTCOME_NAMES
from .store import read_results

__all__ = ["COLUMNS", "build_sweep_report", "summarize"]

#: Table columns: the outcome classes, then the statuses that carry no outcome.
COLUMNS: tuple[str, ...] = (*OUTCOME_NAMES, "unsupported", "error", "timeout")
# worst first, for points where several records meet in the outcome map
_FAILURES = frozenset(o.value for o in Outcome if o.is_failure)
_SEVERITY = ("nan", "overflow", "underflow", "silently_wrong", "inaccurate", "accurate")


def _column(rec: dict[str, Any]) -> str:
    return str(rec["outcome"]) if rec["status"] == "ok" else str(rec["status"])


def summarize(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per ``backend/dtype``: cases, count of each :data:`COLUMNS` entry, cases inside a
        registered known-failure region (:mod:`verify.known_failures`) and failure outcomes
        outside every such region, split by Corollary 1's prediction: ``predicted_boundary`` (the
    undecided band the report draws) and ``unexplained_failures`` (all others)."""
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    known: Counter[str] = Counter()
    boundary: Counter[str] = Counter()
    unexplained: Counter[str] = Counter()
    for rec in records:
        key = f"{rec['backend']}/{rec['dtype']}"
        groups[key][_column(rec)] += 1
        known[key] += rec.get("known_failure") is not None
        if _column(rec) in _FAILURES and rec.get("known_failure") is None:
            # the report's explanation: Corollary 1's prediction (verify.backprop.predict_failure)
            if rec.get("predicted") == "boundary":
                boundary[key] += 1
            else:
                unexplained[key] += 1
    return {
        key: {
            "cases": sum(c.values()),
            "counts": {col: c.get(col, 0) for col in COLUMNS},
            "in_known_region": known[key],
            "predicted_boundary": boundary[key],
            "unexplained_failures": unexplained[key],
        }
        for key, c in sorted(groups.items())
    }


def build_sweep_report(
    results: str | Path, out: str | Path, *, grid: str | Path | None = None
) -> dict[str, Any]:
    """Write ``report.md``, ``data.json`` and ``figures/outcome_map.png`` for a results file.

    ``grid`` (the grid file) only enters the reproducing command recorded in the report.
    Returns the data written to ``data.json``.
    """
    results, out = Path(results), Path(out)
    grid_arg = "GRID.toml" if grid is None else str(grid)
    records = read_results(results)
    summary = summarize(records)
    data: dict[str, Any] = {
        "command": f"l2l-verify sweep {grid_arg} --out {results} --report {out}",
        "results": str(results),
        "cases": len(records),
        "summary": summary,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "data.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    figure = _plot(records, out) if records else None
    (out / "report.md").write_text(_markdown(data, figure))
    return data


def _markdown(data: dict[str, Any], figure: str | None) -> str:
    lines = [
        "# l2l-verify sweep report",
        "",
        f"{data['cases']} cases from `{data['results']}` (rebuild: `{data['command']}`).",
        "Each cell: the fraction of the backend/dtype's cases in that outcome class",
        "(`verify.judge.judge_result` against the certified meta-gradient); `unsupported` and",
        "`error` are cases without an outcome. `known` counts the cases inside a registered",
        "known-failure region (`verify.known_failures`); `boundary` the failure outcomes",
        "outside them where Corollary 1's prediction (`verify.backprop.predict_failure`, the",
        "one the report draws) is 'boundary': within the margin of the float range, where no",
        "outcome is predicted; `unexplained` the failure outcomes (nan, overflow, underflow,",
        "silently_wrong) that neither explains. Colours as in the precision report.",
        "",
        "| backend/dtype | cases | " + " | ".join(COLUMNS) + " | known | boundary | unexplained |",
        "|---|---:|" + "---:|" * (len(COLUMNS) + 3),
    ]
    for key, row in data["summary"].items():
        n = row["cases"]
        cells = [f"{row['counts'][c] / n:.3f}" if row["counts"][c] else "" for c in COLUMNS]
        cells += [
            str(row["in_known_region"]),
            str(row.get("predicted_boundary", 0)),
            str(row["unexplained_failures"]),
        ]
        lines.append(f"| {key} | {n} | " + " | ".join(cells) + " |")
    if figure:
        lines += ["", f"![outcome map]({figure})", ""]
    return "\n".join(lines) + "\n"


def _plot(records: list[dict[str, Any]], out: Path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = sorted({f"{r['backend']}/{r['dtype']}" for r in records})
    worst: dict[tuple[str, float, int], str] = {}
    for r in records:
        if r["status"] != "ok":
            continue
        k = (f"{r['backend']}/{r['dtype']}", float(r["eta_over_2_L"]), int(r["t"]))
        prev = worst.get(k)
        if prev is None or _SEVERITY.index(r["outcome"]) < _SEVERITY.index(prev):
            worst[k] = r["outcome"]
    ncol = min(3, len(panels))
    nrow = -(-len(panels) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.4 * nrow), squeeze=False)
    for ax, panel in zip(axes.ravel(), panels, strict=False):
        for name in _SEVERITY:
            pts = [(x, t) for (p, x, t), o in worst.items() if p == panel and o == name]
            if pts:
                xs, ts = zip(*sorted(pts), strict=True)
                ax.scatter(xs, ts, s=28, c=CLASS_COLORS[name], label=name, marker="s")
        ax.set_yscale("log")
        ax.axvline(1.0, color="k", ls="--", lw=0.8)
        ax.set_title(panel, fontsize=9)
        ax.set_xlabel("eta / (2/L)")
        ax.set_ylabel("t")
        ax.legend(fontsize=6, loc="best")
    for ax in axes.ravel()[len(panels) :]:
        ax.set_visible(False)
    fig.tight_layout()
    (out / "figures").mkdir(exist_ok=True)
    name = "figures/outcome_map.png"
    fig.savefig(out / name, dpi=100, metadata={"Software": None})
    plt.close(fig)
    return name
