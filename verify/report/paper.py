"""Pages and CSV files of the report's paper sections: Figures 1-4 and the theorem table.

Every verdict shown here is a :class:`verify.claims.Claim` record from data.json: the paper's
setting beside ours with the deviations, the number of instances, the measured interval at its
confidence, the verdict and whether the check can fail at all (a row that cannot fail is shown
as a consistency check). Called by :mod:`verify.report.content` (the page) and
:mod:`verify.report.csvs`.
"""

from __future__ import annotations

from typing import Any

from .doc import Doc
from .doc import fmt as _num

__all__ = [
    "CLAIM_COLUMNS",
    "THEOREM_COLUMNS",
    "claim_rows",
    "fmt_interval",
    "paper_block",
    "paper_csvs",
    "theorem_block",
]

#: Columns of csv/claims.csv (one row per claim of Figures 1-4) and csv/theorems.csv.
CLAIM_COLUMNS: tuple[str, ...] = (
    "figure",
    "claim",
    "source",
    "instances",
    "unit",
    "estimate",
    "low",
    "high",
    "confidence",
    "method",
    "verdict",
    "evidence",
    "can_fail",
    "margin",
)
THEOREM_COLUMNS: tuple[str, ...] = (
    "claim",
    "statement",
    "source",
    "instances",
    "unit",
    "verdict",
    "evidence",
    "can_fail",
    "proven_violation",
    "points",
    "proven",
    "violated",
    "undecided",
    "estimate",
    "low",
    "high",
    "confidence",
    "margin",
    "note",
)
_SOURCES = {"paper": "paper", "reconstruction": "our reconstruction", "finding": "our finding"}


def fmt_interval(iv: dict[str, Any] | None) -> str:
    """``estimate [low, high] (99%)`` or ``(certified)``; ``-`` for None."""
    if iv is None:
        return "-"
    level = "certified" if iv["confidence"] == 1.0 else f"{100 * iv['confidence']:g}%"
    return f"{_num(iv['estimate'])} [{_num(iv['low'])}, {_num(iv['high'])}] ({level})"


def _kind(c: dict[str, Any]) -> str:
    return "test" if c["can_fail"] else "consistency check"


def _verdict(c: dict[str, Any]) -> str:
    v = str(c["verdict"])
    if c.get("proven_violation"):
        return v + " (proven violation)"
    return v if c["can_fail"] else v + " (cannot fail)"


def claim_rows(claims: list[dict[str, Any]]) -> list[list[Any]]:
    """One table row per claim: claim, N, statistic, interval, verdict, kind."""
    return [
        [
            c["claim"],
            f"{c['instances']} {c['unit']}",
            c["statistic"],
            fmt_interval(c["interval"]),
            _verdict(c),
            _kind(c),
        ]
        for c in claims
    ]


def _readings(doc: Doc, claims: list[dict[str, Any]]) -> None:
    rows = [
        [c["claim"], r["reading"], fmt_interval(r["interval"]), r["verdict"]]
        for c in claims
        for r in c["readings"]
    ]
    if rows:
        doc.table(["claim", "reading", "interval", "verdict"], rows)


def _settings(doc: Doc, claims: list[dict[str, Any]]) -> None:
    """Paper's setting, ours, and every deviation (each listed once)."""
    seen: list[str] = []
    for c in claims:
        for dv in c["deviations"]:
            if dv not in seen:
                seen.append(dv)
    first = next((c for c in claims if c["source"] == "paper"), claims[0])
    doc.p(f"Paper's setting: {first['paper_setting']}.")
    doc.p(f"Ours: {first['our_setting']}.")
    if seen:
        doc.p("Deviations:")
        doc.ul(seen)


def paper_block(doc: Doc, pp: dict[str, Any], figs: dict[str, str]) -> None:
    """Section 3: each figure with its claims, settings, deviations, readings and data."""
    doc.h(2, "3. Paper figures reproduced", "paper")
    doc.p(
        "Each figure beside the paper's stated finding. Every verdict is decided by an interval "
        "over many instances or test tasks (99% unless stated: bootstrap BCa for means, exact "
        "binomial for proportions, order statistics for quantiles; certified enclosures for "
        "proofs): matches when the whole interval satisfies the claim, differs when the whole "
        "interval violates it, inconclusive otherwise. Where the paper leaves a parameter "
        "unstated (a tolerance, a 'larger' value) every reading is shown and the verdict is "
        "matches or differs only if all readings agree. A figure matches when all of its "
        "paper claims that can fail match; findings beyond the paper do not count."
    )
    titles = {
        "fig1": "Figure 1: meta-GD on eta (d = 20, t = 80, eta0 = 0.1)",
        "fig2": "Figure 2: optimal eta*(t)",
        "fig3": "Figure 3: TbT vs TbV RMSE over sigma",
        "fig4": "Figure 4: TbT vs TbV RMSE over the sample size",
    }
    header = ["claim", "N", "statistic and rule", "interval", "verdict", "kind"]
    for key, title in titles.items():
        f = pp[key]
        doc.h(3, title, key)
        doc.p(f"Paper: {f['finding']}.")
        only = not any(c["can_fail"] and c["source"] == "paper" for c in f["claims"])
        basis = " (from consistency checks only: the paper's claim cannot fail)" if only else ""
        doc.p(f"Verdict: **{f['verdict']}**{basis}.")
        doc.img(figs[key], title)
        doc.table(header, claim_rows(f["claims"]))
        _settings(doc, f["claims"])
        _readings(doc, f["claims"])
        notes = [f"{c['claim']}: {c['note']}" for c in f["claims"] if c.get("note")]
        if notes:
            doc.ul(notes)
        if key == "fig1":
            _fig1_details(doc, f)
        if key in ("fig3", "fig4"):
            _ls_table(doc, f["rows"])
        if key == "fig4":
            peak = f["peak"]
            doc.p(
                "n <= d (a finding beyond the paper, not part of the verdict): the TbT - TbV "
                "test RMSE gap per horizon at n = d and n = d/2 -- "
                + "; ".join(
                    f"n = {r['n']}, t = {r['t']}: median {sorted(r['gap'])[len(r['gap']) // 2]:.3g}"
                    for r in peak["rows"]
                )
                + "."
            )


def _fig1_details(doc: Doc, f: dict[str, Any]) -> None:
    doc.p(
        f"The curve: the report's instance with certified gradients, eta*(80) = "
        f"{f['eta_star']:.10g} (certified); it settles within 10% / 5% / 1% / 0.1% after "
        f"{_num(f['steps_to_settle_1e-1'])} / {_num(f['steps_to_settle_5e-2'])} / "
        f"{_num(f['steps_to_settle_1e-2'])} / {_num(f['steps_to_settle_1e-3'])} steps; "
        f"{f['resets']} resets to 0. The distribution: {f['instances']} instances "
        f"(seeds {f['seeds'][0]}..{f['seeds'][1]}), {f['steps']} meta-steps each."
    )
    qs = list(next(iter(f["settle_steps"].values()))["quantiles"])
    doc.table(
        ["tolerance", *[f"q{q}" for q in qs], "median (interval)", "within 300 steps"],
        [
            [
                f"{100 * float(tol):g}%",
                *[_num(s["quantiles"][q], ".0f") for q in qs],
                fmt_interval(s["median"]),
                f"{s['within_300']['count']}/{s['within_300']['of']} "
                f"[{s['within_300']['low']:.3f}, {s['within_300']['high']:.3f}]",
            ]
            for tol, s in f["settle_steps"].items()
        ],
    )


def _ls_table(doc: Doc, rows: list[dict[str, Any]]) -> None:
    doc.table(
        [
            "sigma",
            "d",
            "n (TbV)",
            "tasks / test",
            "eta TbT",
            "eta TbV",
            "train RMSE TbT",
            "train RMSE TbV",
            "test RMSE TbT",
            "test RMSE TbV",
            "E|w-w*|^2 TbT",
            "E|w-w*|^2 TbV",
            "test RMSE gap",
        ],
        [
            [
                f"{r['sigma']:g}",
                r["d"],
                f"{r['n']} ({r['n1']}+{r['n2']})",
                f"{r['tasks']} / {r['test_tasks']}",
                f"{r['eta_tbt']:.3g}",
                f"{r['eta_tbv']:.3g}",
                *[
                    f"{r[k]['mean']:.3g} [{r[k]['low']:.3g}, {r[k]['high']:.3g}]"
                    for k in (
                        "tbt_train_rmse",
                        "tbv_train_rmse",
                        "tbt_test_rmse",
                        "tbv_test_rmse",
                        "tbt_error",
                        "tbv_error",
                        "test_rmse_gap",
                    )
                ],
            ]
            for r in rows
        ],
    )


def theorem_block(doc: Doc, th: dict[str, Any]) -> None:
    """Section 4: the theorem table, one claim per row."""
    doc.h(2, "4. Theorem table", "theorems")
    doc.p(
        "One row per claim. Evidence 'proof': certified enclosures at every point of the grid "
        "(eta / (2/L) in {"
        + ", ".join(f"{f:g}" for f in th["grid"]["eta_times_L_over_2"])
        + "} x t in {"
        + ", ".join(str(t) for t in th["grid"]["t"])
        + "}); a row differs only on a proven violation. Evidence 'statistic': an interval "
        "over instances or test tasks (section 3), never a proof. 'Cannot fail' marks a "
        "consistency check: a tautology on the data, a bound loose by orders of magnitude, an "
        "existence claim, or an asymptotic statement judged at a finite size."
    )
    doc.table(
        ["claim", "N", "verdict", "evidence", "tightest margin", "kind", "note"],
        [
            [
                r["claim"],
                f"{r['instances']} {r['unit']}",
                _verdict(r),
                r["evidence"],
                r["margin"] if r["interval"] is None else fmt_interval(r["interval"]),
                _kind(r),
                r["note"] or "-",
            ]
            for r in th["rows"]
        ],
    )
    doc.table(
        ["claim", "statement", "paper's setting", "ours", "deviations", "statistic"],
        [
            [
                r["claim"] + ("" if r["source"] == "paper" else f" ({_SOURCES[r['source']]})"),
                r["statement"],
                r["paper_setting"],
                r["our_setting"],
                "; ".join(r["deviations"]) or "-",
                r["statistic"],
            ]
            for r in th["rows"]
        ],
    )


def _iv_cells(iv: dict[str, Any] | None) -> list[Any]:
    if iv is None:
        return ["", "", "", ""]
    return [iv["estimate"], iv["low"], iv["high"], iv["confidence"]]


def paper_csvs(pp: dict[str, Any], th: dict[str, Any]) -> dict[str, list[list[Any]]]:
    """Rows (header first) of csv/claims.csv, csv/fig1_settle_steps.csv and csv/theorems.csv."""
    claims = [list(CLAIM_COLUMNS)]
    for key in ("fig1", "fig2", "fig3", "fig4"):
        for c in pp[key]["claims"]:
            iv = c["interval"]
            claims.append(
                [
                    key,
                    c["claim"],
                    c["source"],
                    c["instances"],
                    c["unit"],
                    *_iv_cells(iv)[:4],
                    "" if iv is None else iv["method"],
                    c["verdict"],
                    c["evidence"],
                    c["can_fail"],
                    c["margin"],
                ]
            )
    settle = [["seed", "tolerance", "steps"]]
    first = pp["fig1"]["seeds"][0]
    for tol, steps in pp["fig1"]["per_instance"].items():
        for k, s in enumerate(steps):
            settle.append([first + k, tol, s])
    theorems = [list(THEOREM_COLUMNS)]
    for r in th["rows"]:
        counts = r.get("counts") or {}
        theorems.append(
            [
                r["claim"],
                r["statement"],
                r["source"],
                r["instances"],
                r["unit"],
                r["verdict"],
                r["evidence"],
                r["can_fail"],
                r["proven_violation"],
                *[counts.get(k, "") for k in ("points", "proven", "violated", "undecided")],
                *_iv_cells(r["interval"]),
                r["margin"],
                r["note"],
            ]
        )
    return {"claims.csv": claims, "fig1_settle_steps.csv": settle, "theorems.csv": theorems}
