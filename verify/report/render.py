"""Pages of ``l2l-verify report``: ``index.html``, ``report.md`` and ``csv/*.csv``.

Both pages are rendered from one list of content blocks (headings, paragraphs, tables,
figures), so they say the same thing. The HTML is static: inline CSS, no scripts, no network,
figures referenced by relative paths, so the folder opens from disk anywhere.

:func:`answers` derives the headline answers (where float32 backprop of the log objective
first fails, whether the prediction agrees, whether the stable backend fixes it, whether
PyTorch behaves like the reference backprop) from the section data; nothing is hard-coded.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .sections import FAILURE_CLASSES, OUTCOME_CLASSES

__all__ = ["CLASS_MEANINGS", "answers", "render"]

#: One line per outcome class (shown in the report and in reports/README.md).
CLASS_MEANINGS: dict[str, str] = {
    "accurate": "at most 1 ulp from the correctly rounded truth, or within the derived error "
    "bound of verify.compare (kept in log space: it exists at any magnitude)",
    "inaccurate": "finite, right sign, within a factor 2 of the truth, but beyond the bound",
    "silently_wrong": "a number with no warning that is badly wrong: a wrong (certified) sign, "
    "0 because f(w_t) overflowed (d log f = 1/f = 0), 0 with no sign of underflow, a "
    "normal-size value where the truth rounds to 0, or off by more than a factor 2",
    "overflow": "+-inf while the truth rounds to something else in the dtype",
    "underflow": "0 or subnormal beyond the bound, where the computation underflowed (an "
    "intermediate or f(w_t) became 0, or the result is itself a subnormal)",
    "nan": "NaN",
}
STATUS_MEANINGS = {
    "unsupported": "the backend refuses this dtype (typed UnsupportedOptionError)",
    "unavailable": "the backend's framework is not installed here",
}
_SECTION_ORDER = ("regime", "backprop", "paper", "theorems", "clients", "render")
#: The answers speak of the first plain-backprop backend, and the first dtype, in these
#: orders that produced a map in the run.
FOCUS_BACKENDS: tuple[str, ...] = ("numpy-reverse", "numpy-forward", "torch", "jax")
#: The report's backends that are plain backprop through the unrolled trajectory (Corollary 1
#: applies to them): the reference, the frameworks and the meta-learning libraries.
PLAIN_BACKENDS: tuple[str, ...] = (*FOCUS_BACKENDS, "optax", "torchopt", "higher")
FOCUS_DTYPES: tuple[str, ...] = ("float32", "float64", "bfloat16", "float16")


def _focus(maps: dict[str, Any]) -> tuple[str, str] | None:
    for name in FOCUS_BACKENDS:
        for dt in FOCUS_DTYPES:
            if maps.get(name, {}).get(dt, {}).get("status") == "ok":
                return name, dt
    return None


# ------------------------------------------------------------------------------ answers
def _first_failure(entry: dict[str, Any], horizons: list[int]) -> tuple[int, int] | None:
    """(t index, eta index) of the failing cell with the smallest t, then smallest eta."""
    for i, row in enumerate(entry["classes"]):
        for j, c in enumerate(row):
            if c in FAILURE_CLASSES:
                return i, j
    return None


def _agreement(
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


def answers(data: dict[str, Any]) -> dict[str, Any]:
    """Headline answers computed from the backprop section (see the module docstring)."""
    bp = data["sections"]["backprop"]
    horizons = bp["t"]
    fracs = bp["eta_times_L_over_2"]
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
    focus_backend, focus_dtype = chosen  # the backend and dtype the answers speak of
    out: dict[str, Any] = {"backend": focus_backend, "dtype": focus_dtype}
    focus = maps[focus_backend][focus_dtype]
    pred = bp["predicted"][focus_dtype]["cells"]
    first = _first_failure(focus, horizons)
    text = []
    if first is None:
        out["first_failure"] = None
        text.append(
            f"{focus_backend} in {focus_dtype} does not fail anywhere on this grid "
            f"(t <= {max(horizons)})."
        )
    else:
        i, j = first
        # first predicted failing t on the grid for this eta
        pj = next((horizons[k] for k in range(len(horizons)) if pred[k][j] == "fails"), None)
        obs_j = next(
            (
                horizons[k]
                for k in range(len(horizons))
                if focus["classes"][k][j] in FAILURE_CLASSES
            ),
            None,
        )
        bnd = bp["predicted"][focus_dtype]["boundary"]
        k_fine = min(
            range(len(bnd["eta_times_L_over_2"])),
            key=lambda k: abs(bnd["eta_times_L_over_2"][k] - fracs[j]),
        )
        t_safe, t_fails = bnd["t_safe"][k_fine], bnd["t_fails"][k_fine]
        got = float.fromhex(focus["grad"][i][j])
        exact = float.fromhex(bp["truth"][i][j])
        out["first_failure"] = {
            "grad": focus["grad"][i][j],
            "truth_float64": bp["truth"][i][j],
            "predicted_safe_up_to_t": t_safe,
            "predicted_fails_from_t": t_fails,
            "t": horizons[i],
            "eta_times_L_over_2": fracs[j],
            "class": focus["classes"][i][j],
            "predicted_verdict": pred[i][j],
            "predicted_first_fails_t": pj,
        }
        text.append(
            f"Plain backprop ({focus_backend}) of the log objective in {focus_dtype} first fails "
            f"at t = {horizons[i]}, eta = {fracs[j]:g} x 2/L: the result is "
            f"'{focus['classes'][i][j]}' ({CLASS_MEANINGS[focus['classes'][i][j]]}): it "
            f"returned F' = {got!r} where the certified value is {exact:.6g}. "
            f"Corollary 1's prediction for that cell: '{pred[i][j]}'. For this step size the "
            f"prediction is 'safe' up to t = {t_safe} and 'fails' from t = {t_fails} on (in "
            f"between it predicts nothing); on the report's grid the first horizon predicted "
            f"'fails' is t = {pj}, and the first observed failure is t = {obs_j}: "
            + _agreement(obs_j, t_safe, t_fails, horizons)
        )
    row = next(
        r for r in bp["summary"] if r["backend"] == focus_backend and r["dtype"] == focus_dtype
    )
    contra = row["predicted_fails_but_ok"] + row["predicted_safe_but_failed"]
    decided = contra + row["predicted_fails_and_failed"] + row["predicted_safe_and_ok"]
    out["prediction"] = {
        "decided_cells": decided,
        "contradicting_cells": contra,
        "boundary_cells": row["predicted_boundary"],
    }
    text.append(
        f"Prediction vs observation over the grid: {decided - contra} of {decided} decided "
        f"cells agree ({contra} contradict; {row['predicted_boundary']} cells are in the "
        "predicted 'boundary' band where no outcome is predicted)."
    )
    failed_cells = [
        (i, j)
        for i, r in enumerate(focus["classes"])
        for j, c in enumerate(r)
        if c in FAILURE_CLASSES
    ]
    stable = maps.get("stable", {}).get(focus_dtype)
    if stable is not None and stable["status"] == "ok":
        counts: dict[str, int] = {}
        for i, j in failed_cells:
            c = stable["classes"][i][j]
            counts[c] = counts.get(c, 0) + 1
        fixed = counts.get("accurate", 0)
        stable_fail_total = sum(1 for r in stable["classes"] for c in r if c in FAILURE_CLASSES)
        out["stable"] = {
            "cells_where_backprop_failed": len(failed_cells),
            "stable_classes_there": dict(sorted(counts.items())),
            "stable_failures_anywhere": stable_fail_total,
        }
        text.append(
            f"The stable backend ({focus_dtype}) on the {len(failed_cells)} cells where plain "
            f"backprop failed: {fixed} accurate"
            + "".join(f", {v} {k}" for k, v in sorted(counts.items()) if k != "accurate")
            + f"; it fails on {stable_fail_total} cells of the whole grid."
        )
    else:
        out["stable"] = None
    torch = maps.get("torch", {})
    ref = maps.get(focus_backend, {})
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
    out["torch_vs_reference"] = same
    if not torch or focus_backend == "torch":
        pass  # the answers speak only of the backends that ran
    elif all(v is None for v in same.values()):
        reason = next(iter(torch.values())).get("reason")
        text.append(f"PyTorch maps are not available here ({reason}).")
    else:
        parts = [
            f"{dt}: same class in {v['same_class']}/{v['cells']} cells, bit-identical "
            f"gradient in {v['bitwise_equal']}/{v['cells']}"
            for dt, v in same.items()
            if v is not None
        ]
        text.append("PyTorch autograd vs the numpy reference backprop: " + "; ".join(parts) + ".")
    libs = _libraries(maps, horizons, fracs)
    out["libraries"] = libs
    if libs:
        text.append(
            "Frameworks and meta-learning libraries on this grid (log objective): "
            + "; ".join(_library_text(name, per) for name, per in libs.items())
            + "."
        )
    out["text"] = text
    return out


#: The report's framework and meta-learning-library backends, for the answers.
LIBRARY_BACKENDS: tuple[str, ...] = ("torch", "jax", "optax", "torchopt", "higher")


def _libraries(
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


def _library_text(name: str, per: dict[str, Any]) -> str:
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


# ------------------------------------------------------------------------------ blocks
@dataclass
class _Doc:
    blocks: list[tuple[str, Any]] = field(default_factory=list)
    toc: list[tuple[int, str, str]] = field(default_factory=list)

    def h(self, level: int, text: str, anchor: str | None = None) -> None:
        anchor = anchor or re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
        self.blocks.append(("h", (level, text, anchor)))
        if level <= 2:
            self.toc.append((level, text, anchor))

    def p(self, text: str, cls: str | None = None) -> None:
        self.blocks.append(("p", (text, cls)))

    def ul(self, items: list[str]) -> None:
        self.blocks.append(("ul", items))

    def table(self, header: list[str], rows: list[list[Any]], cls: str | None = None) -> None:
        self.blocks.append(("table", (header, [[str(c) for c in r] for r in rows], cls)))

    def img(self, path: str, alt: str) -> None:
        self.blocks.append(("img", (path, alt)))

    def figrow(self, items: list[tuple[str, str]]) -> None:
        self.blocks.append(("figrow", items))

    def md(self, text: str) -> None:
        """Raw markdown (rendered to HTML by :func:`_md_to_html`)."""
        self.blocks.append(("md", text))


_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")


def _inline_html(text: str) -> str:
    s = html.escape(text, quote=False)
    s = _CODE.sub(r"<code>\1</code>", s)
    s = _BOLD.sub(r"<strong>\1</strong>", s)
    return _LINK.sub(lambda m: f'<a href="{html.escape(m.group(2))}">{m.group(1)}</a>', s)


def _md_cell(text: str) -> str:
    if text.startswith("swatch:"):  # a colour swatch is HTML-only: Markdown shows the label
        text = text.split(":", 2)[2]
    return text.replace("|", "\\|").replace("\n", " ")


def _to_markdown(doc: _Doc) -> str:
    lines: list[str] = []
    for kind, val in doc.blocks:
        if kind == "h":
            level, text, _ = val
            lines += ["#" * level + " " + text, ""]
        elif kind == "p":
            lines += [val[0], ""]
        elif kind == "ul":
            lines += [f"* {x}" for x in val] + [""]
        elif kind == "table":
            header, rows, _ = val
            lines.append("| " + " | ".join(_md_cell(h) for h in header) + " |")
            lines.append("|" + "---|" * len(header))
            lines += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in rows]
            lines.append("")
        elif kind == "img":
            lines += [f"![{val[1]}]({val[0]})", ""]
        elif kind == "figrow":
            lines += [" ".join(f"![{alt}]({path})" for path, alt in val), ""]
        elif kind == "md":
            lines += [val.rstrip(), ""]
    return "\n".join(lines).rstrip() + "\n"


def _md_to_html(text: str) -> str:
    """A small Markdown subset (headings, paragraphs, lists, tables, images, code fences)."""
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    para: list[str] = []

    def flush() -> None:
        if para:
            out.append("<p>" + _inline_html(" ".join(para)) + "</p>")
            para.clear()

    img = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
    while i < len(lines):
        line = lines[i]
        s = line.strip()
        if s.startswith("```"):
            flush()
            j = i + 1
            body = []
            while j < len(lines) and not lines[j].strip().startswith("```"):
                body.append(lines[j])
                j += 1
            out.append("<pre>" + html.escape("\n".join(body)) + "</pre>")
            i = j + 1
            continue
        if not s:
            flush()
        elif s.startswith("#"):
            flush()
            level = len(s) - len(s.lstrip("#"))
            out.append(
                f"<h{min(level + 1, 6)}>{_inline_html(s[level:].strip())}</h{min(level + 1, 6)}>"
            )
        elif s.startswith("|"):
            flush()
            rows = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
                if not all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
                    rows.append(cells)
                i += 1
            if rows:
                head = "".join(f"<th>{_inline_html(c)}</th>" for c in rows[0])
                tbody = "".join(
                    "<tr>" + "".join(f"<td>{_inline_html(c)}</td>" for c in r) + "</tr>"
                    for r in rows[1:]
                )
                out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{tbody}</tbody></table>")
            continue
        elif s.startswith(("- ", "* ")):
            flush()
            items = []
            while i < len(lines) and lines[i].strip().startswith(("- ", "* ")):
                items.append(f"<li>{_inline_html(lines[i].strip()[2:])}</li>")
                i += 1
            out.append("<ul>" + "".join(items) + "</ul>")
            continue
        elif img.fullmatch(s):
            flush()
            m = img.fullmatch(s)
            assert m is not None
            out.append(
                f'<figure><img src="{html.escape(m.group(2))}" alt="{html.escape(m.group(1))}">'
                "</figure>"
            )
        else:
            para.append(s)
        i += 1
    flush()
    return "\n".join(out)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d1d1f;
background:#fafafa;line-height:1.45}
main{max-width:1180px;margin:0 auto;padding:1.5em 2em 4em;background:#fff}
h1{font-size:1.7em;margin-bottom:.2em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;
margin-top:2em}h3{margin-top:1.6em}
code{background:#f1f1f1;padding:0 .25em;border-radius:3px;font-size:.92em}
pre{background:#f4f4f4;padding:.8em;overflow:auto}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.86em}
th,td{border:1px solid #d0d0d0;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f0f0f3}tr:nth-child(even) td{background:#fbfbfd}
figure{margin:.8em 0}figure img{max-width:100%;border:1px solid #e2e2e2}
.figrow{display:flex;flex-wrap:wrap;gap:1em}.figrow figure{flex:1 1 480px}
.answers{background:#eef6ee;border-left:5px solid #1a9850;padding:.6em 1em}
.answers p{margin:.4em 0}
.toc{background:#f6f6f9;padding:.6em 1.2em;display:inline-block}
.toc ul{list-style:none;padding-left:.4em;margin:.3em 0}
.matches{color:#1a7f37;font-weight:600}.differs{color:#b42318;font-weight:600}
.holds{color:#1a7f37;font-weight:600}.violated{color:#b42318;font-weight:600}
.swatch{display:inline-block;width:.9em;height:.9em;border:1px solid #888;
vertical-align:middle;margin-right:.3em}
.note{color:#555;font-size:.92em}
"""

_VERDICT = re.compile(r"^(matches|differs|holds|violated|not decided)$")


def _to_html(doc: _Doc, title: str) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body><main>",
    ]
    toc_done = False
    for kind, val in doc.blocks:
        if kind == "h":
            level, text, anchor = val
            parts.append(f'<h{level} id="{anchor}">{_inline_html(text)}</h{level}>')
            if level == 1 and not toc_done:
                toc_done = True
                items = "".join(
                    f'<li><a href="#{a}">{html.escape(t)}</a></li>'
                    for lv, t, a in doc.toc
                    if lv == 2
                )
                parts.append(f'<nav class="toc"><strong>Contents</strong><ul>{items}</ul></nav>')
        elif kind == "p":
            text, cls = val
            c = f' class="{cls}"' if cls else ""
            parts.append(f"<p{c}>{_inline_html(text)}</p>")
        elif kind == "ul":
            parts.append("<ul>" + "".join(f"<li>{_inline_html(x)}</li>" for x in val) + "</ul>")
        elif kind == "table":
            header, rows, cls = val
            c = f' class="{cls}"' if cls else ""
            head = "".join(f"<th>{_inline_html(h)}</th>" for h in header)
            body = []
            for r in rows:
                cells = []
                for cell in r:
                    m = _VERDICT.match(cell)
                    if m:
                        cells.append(f'<td class="{cell.split()[0]}">{html.escape(cell)}</td>')
                    elif cell.startswith("swatch:"):
                        _, color, label = cell.split(":", 2)
                        cells.append(
                            f'<td><span class="swatch" style="background:{color}"></span>'
                            f"{html.escape(label)}</td>"
                        )
                    else:
                        cells.append(f"<td>{_inline_html(cell)}</td>")
                body.append("<tr>" + "".join(cells) + "</tr>")
            parts.append(
                f"<table{c}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            )
        elif kind == "img":
            path, alt = val
            parts.append(
                f'<figure><img src="{html.escape(path)}" alt="{html.escape(alt)}">'
                f'<figcaption class="note">{html.escape(alt)}</figcaption></figure>'
            )
        elif kind == "figrow":
            figs = "".join(
                f'<figure><img src="{html.escape(p)}" alt="{html.escape(a)}"></figure>'
                for p, a in val
            )
            parts.append(f'<div class="figrow">{figs}</div>')
        elif kind == "md":
            parts.append(_md_to_html(val))
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"


# ------------------------------------------------------------------------------ content
def _f(x: Any, fmt: str = ".4g") -> str:
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    return format(x, fmt)


def _content(data: dict[str, Any], prov: dict[str, Any], figs: dict[str, str], out: Path) -> _Doc:
    doc = _Doc()
    sec = data["sections"]
    p = data["problem"]
    L = float.fromhex(p["L"])
    alpha = float.fromhex(p["alpha"])
    doc.h(1, "l2l-verify precision report", "top")
    doc.p(
        f"Generated by `{data['command']}` (report format {data['report_format_version']}). "
        f"Default problem: H = X^T X with X a {p['d']}x{p['d']} Gaussian matrix (seed "
        f"{p['seed']}), unit w0: L = {L:.6g}, alpha = {alpha:.6g}, 2/L = {2 / L:.6g}, "
        f"c_min = {float.fromhex(p['c_min']):.4g} (certified, rounded once). Step sizes are "
        "given as multiples of 2/L (Theorem 3's boundary is 1). Every number is in "
        f"`data.json` and `csv/`; columns and classes are explained in {_readme_link(out)}."
    )
    doc.h(2, "Answers", "answers")
    for line in data["answers"]["text"]:
        doc.p(line, "answers")
    # ---------------------------------------------------------------- section 1
    rg = sec["regime"]
    doc.h(2, "1. Regime map of the exact meta-gradient", "regime")
    doc.p(
        "log10 |F'(eta)| of the naive objective F = f(w_t) and the log objective "
        "F = (1/t) log f(w_t), from certified enclosures (relative radius <= 2^-30, 4 "
        f"decimals), over {len(rg['eta_times_L_over_2'])} step sizes and horizons t in "
        f"{{{', '.join(str(t) for t in rg['t'])}}}. Dashed: Theorem 3's boundary eta = 2/L; "
        "green: the certified optimal step size eta*(t) (both objectives have the same "
        f"minimizer), tending to 2/(L+alpha) = {rg['eta_star_limit_times_L_over_2']:.6g} x 2/L. "
        "The naive meta-gradient vanishes (blue) below 2/L and explodes (red) above it; the "
        "log meta-gradient stays within a few decades everywhere (Theorem 4)."
    )
    doc.figrow(
        [
            (figs["regime_naive"], "naive objective regime map"),
            (figs["regime_log"], "log objective regime map"),
        ]
    )
    doc.table(
        ["t", "eta*(t) / (2/L)", "max log10|F'_naive|", "min log10|F'_naive|", "max log10|F'_log|"],
        [
            [
                t,
                _f(rg["eta_star_times_L_over_2"][i], ".7f"),
                _f(max(v for v in rg["naive"][i] if v is not None), ".2f"),
                _f(min(v for v in rg["naive"][i] if v is not None), ".2f"),
                _f(max(v for v in rg["log"][i] if v is not None), ".2f"),
            ]
            for i, t in enumerate(rg["t"])
        ],
    )
    # ---------------------------------------------------------------- section 2
    bp = sec["backprop"]
    doc.h(2, "2. Backprop outcome maps", "backprop")
    doc.p(
        "Each backend computes F'_log(eta) for the log objective in each dtype, batched over "
        f"{len(bp['eta_times_L_over_2'])} step sizes (0.05 to {max(bp['eta_times_L_over_2']):g}"
        f" x 2/L) at t in {{{', '.join(str(t) for t in bp['t'])}}}. Every cell is judged against "
        "the certified F' at the same point (relative radius <= 2^-80, rounded once to the "
        "dtype) by `verify.judge.judge_result`, the suite's one judge. Lines: Corollary 1's "
        "predicted failure boundary of plain backprop in that dtype "
        "(`verify.backprop.predict_failure`): above the solid "
        "line it must fail, below the dashed line it is safe, in between no outcome is "
        "predicted. The lines refer to plain backprop (numpy, torch, jax); on the stable and "
        "paper backends they show where plain backprop would fail."
    )
    doc.table(
        ["class", "meaning"],
        [[f"swatch:{_color(c)}:{c}", CLASS_MEANINGS[c]] for c in OUTCOME_CLASSES]
        + [[k, v] for k, v in STATUS_MEANINGS.items()],
    )
    notes = []
    for name in bp["backends"]:
        for dt in bp["dtypes"]:
            entry = bp["maps"][name][dt]
            if entry["status"] == "unavailable":
                notes.append(f"{name}: unavailable ({entry['reason']}); its maps are omitted.")
                break
    for n in notes:
        doc.p(n, "note")
    doc.h(3, "Summary: fraction of the grid in each class", "summary")
    header = [
        "backend",
        "dtype",
        *OUTCOME_CLASSES,
        "pred. fails: failed / not",
        "pred. safe: ok / failed",
        "pred. boundary",
    ]
    rows = []
    for r in bp["summary"]:
        if r["status"] != "ok":
            rows.append([r["backend"], r["dtype"], r["status"], *[""] * (len(header) - 3)])
            continue
        plain = r["backend"] in PLAIN_BACKENDS
        rows.append(
            [r["backend"], r["dtype"], *[_f(r[c], ".3f") for c in OUTCOME_CLASSES]]
            + (
                [
                    f"{r['predicted_fails_and_failed']} / {r['predicted_fails_but_ok']}",
                    f"{r['predicted_safe_and_ok']} / {r['predicted_safe_but_failed']}",
                    str(r["predicted_boundary"]),
                ]
                if plain
                else ["n/a", "n/a", "n/a"]
            )
        )
    doc.table(header, rows)
    doc.h(3, "First failing horizon per step size (float32, log objective)", "first-failure")
    doc.p(
        "For each step size: Corollary 1's predicted transition for float32 plain backprop "
        "('safe' up to the first number, 'fails' from the second on; nothing is predicted in "
        "between; '-' = none up to twice the largest horizon), the first grid horizon predicted "
        "'fails', and the first grid horizon at which each backend's float32 result is a "
        "failure class ('-': none on this grid)."
    )
    names = [n for n in bp["backends"] if bp["maps"][n].get("float32", {}).get("status") == "ok"]
    if "float32" in bp["predicted"]:
        rows = []
        pc = bp["predicted"]["float32"]["cells"]
        bnd = bp["predicted"]["float32"]["boundary"]
        for j, fr in enumerate(bp["eta_times_L_over_2"]):
            k_fine = min(
                range(len(bnd["eta_times_L_over_2"])),
                key=lambda k: abs(bnd["eta_times_L_over_2"][k] - fr),
            )
            band = f"{_f(bnd['t_safe'][k_fine])} / {_f(bnd['t_fails'][k_fine])}"
            pred = next((t for k, t in enumerate(bp["t"]) if pc[k][j] == "fails"), None)
            obs = []
            for n in names:
                cl = bp["maps"][n]["float32"]["classes"]
                obs.append(
                    next(
                        (
                            f"{t} ({cl[k][j]})"
                            for k, t in enumerate(bp["t"])
                            if cl[k][j] in FAILURE_CLASSES
                        ),
                        None,
                    )
                )
            rows.append([f"{fr:g}", band, _f(pred), *[_f(o) for o in obs]])
        doc.table(
            ["eta / (2/L)", "predicted safe up to / fails from", "first grid t predicted", *names],
            rows,
        )
    for name in bp["backends"]:
        doc.h(3, f"Backend {name}", f"bp-{name}")
        if f"outcome_{name}" in figs:
            doc.img(figs[f"outcome_{name}"], f"{name}: outcome classes per dtype")
            doc.img(figs[f"bits_{name}"], f"{name}: bits of error per dtype")
    if "clients" in sec:
        _clients_block(doc, sec["clients"], figs)
    # ---------------------------------------------------------------- sections 3 and 4
    from .paper import paper_block, theorem_block

    paper_block(doc, sec["paper"], figs)
    theorem_block(doc, sec["theorems"])
    # ---------------------------------------------------------------- learned optimizer
    summary = out / "learned" / "summary.md"
    if summary.exists():
        text = summary.read_text()
        first, _, rest = text.partition("\n")
        if first.startswith("#"):  # the summary's own title becomes the section heading
            doc.h(2, first.lstrip("#").strip(), "learned")
            text = rest
        else:
            doc.h(2, "Learned optimizer", "learned")
        doc.p(_learned_provenance(out / "learned"), "note")
        text = re.sub(r"(!\[[^\]]*\]\()(?!https?:|/)([^)\s]+)\)", r"\1learned/\2)", text)
        doc.md(text)
        referenced = set(re.findall(r"!\[[^\]]*\]\(learned/([^)\s]+)\)", text))
        extra = (
            sorted(
                f"figures/{q.name}"
                for q in (out / "learned" / "figures").glob("*.png")
                if f"figures/{q.name}" not in referenced
            )
            if (out / "learned" / "figures").is_dir()
            else []
        )
        for rel in extra:
            doc.img(f"learned/{rel}", f"learned optimizer: {rel}")
    else:
        doc.h(2, "Learned optimizer", "learned")
        doc.p(
            "Not produced for this report folder. Run `l2l-verify learned-optimizer` (it writes "
            "`learned/summary.md` and `learned/figures/` here), then rerun `l2l-verify report` "
            "to embed it."
        )
    # ---------------------------------------------------------------- section 5
    doc.h(2, "5. Provenance", "provenance")
    v = prov["versions"]
    m = prov["machine"]
    doc.table(
        ["item", "value"],
        [
            ["command line", " ".join(prov["command_line"])],
            ["reproduce with", prov["canonical_command"]],
            [
                "seeds",
                f"problem {prov['seeds']['problem']}, "
                f"least squares {prov['seeds']['least_squares']}",
            ],
            ["versions", ", ".join(f"{k} {val}" for k, val in v.items() if val is not None)],
            ["not installed", ", ".join(k for k, val in v.items() if val is None) or "-"],
            ["machine", f"{m['platform']} ({m['machine']}, {m['cpu_count']} CPUs)"],
            ["working precision", prov["working_precision"]],
            ["total wall time", f"{_f(prov.get('wall_s_total'), '.1f')} s"],
        ],
    )
    doc.table(
        ["section", "wall time (s)", "computed (UTC, host)", "certified precision used"],
        [
            [
                name,
                _f(t["wall_s"], ".1f") + (" (resumed from cache)" if t["cached"] else ""),
                " ".join(str(t[k]) for k in ("computed", "host") if t.get(k)) or "-",
                prov["certified_precision"].get(name, "-"),
            ]
            for name, t in sorted(
                prov["sections"].items(), key=lambda kv: _SECTION_ORDER.index(kv[0])
            )
        ],
    )
    return doc


def _clients_block(doc: _Doc, cl: dict[str, Any], figs: dict[str, str]) -> None:
    """Section 2's close-ups of the meta-learning libraries' failures: the flush-to-zero
    mechanism and what NaN masking does to meta-gradient descent."""
    ftz = cl["ftz"]
    doc.h(3, "Flush-to-zero: why JAX and optax return spurious values", "ftz")
    doc.p(
        f"One reverse pass of the naive objective in float32 on `{ftz['problem']}` at eta = "
        f"float32(1/L), t = {ftz['t']}: the certified F' = "
        f"{float.fromhex(ftz['truth']):.4g} is a float32 subnormal. XLA's CPU runtime flushes "
        "subnormal results to zero (jit or eager, float32 and float64; no XLA flag tried turns "
        "it off, see `verify/flush.py`), so the adjoint stops decaying near 1e-36 and every "
        "early step adds a normal-size term: the meta-gradient comes back about 1e-35, seven "
        "orders of magnitude too large and nothing warns. NumPy and PyTorch (default) keep "
        "gradual underflow; PyTorch with `torch.set_flush_denormal(True)` behaves like JAX. "
        "The known-failure region `xla-cpu-flush-to-zero` registers the band where this "
        "provably fails."
    )
    doc.table(
        ["engine", "meta-gradient", "outcome", "smallest nonzero adjoint"],
        [
            [e, float.fromhex(tr["grad"]), tr["outcome"], _f(tr["floor"], ".3g")]
            if tr["status"] == "ok"
            else [e, tr["status"], tr.get("reason", ""), ""]
            for e, tr in ftz["traces"].items()
        ],
    )
    if "ftz" in figs:
        doc.img(figs["ftz"], "adjoint magnitude per step, flushed vs not")
    m = cl["masking"]
    doc.h(3, "NaN masking: meta-gradient descent on masked meta-gradients", "masking")
    doc.p(
        "Learned-optimizer code replaces non-finite meta-gradients by 0 (the paper's "
        "TensorFlow code, learned_optimization), by `nan_to_num`, or clips them. Here "
        f"meta-GD on `{m['problem']}` runs {m['steps']} meta-steps on float32 backprop "
        "meta-gradients passed through each mask, beside a reference run on certified "
        "meta-gradients (same schedule and budget), and its end is compared with the "
        "certified eta*(t): converges / recovers (within 1% of eta*, cleanly / although "
        "gradients were masked) / stalls (eta stopped moving away from eta*) / wrong_value."
    )
    doc.table(
        [
            "t",
            "eta0",
            "dtype",
            "schedule",
            "mask",
            "verdict",
            "eta_final",
            "eta*",
            "masked or zero gradients",
            "reference (certified gradients)",
        ],
        [
            [
                r["t"],
                _f(r["eta0"], ".4g"),
                r["dtype"],
                r["schedule"],
                r["mask"],
                r["verdict"],
                _f(r["eta_final"], ".5g"),
                _f(r["eta_star"], ".5g"),
                int(r["nonfinite"]) + int(r["zero"]) + int(r["clipped"]),
                r["reference_verdict"],
            ]
            for r in m["runs"]
        ],
    )
    bad = [r for r in m["runs"] if r["verdict"] in ("stalls", "wrong_value")]
    good_ref = [r for r in bad if r["reference_verdict"] == "converges"]
    doc.p(
        f"Verdict: masking hides the failure in {len(bad)} of {len(m['runs'])} runs (eta "
        f"stalls or ends at a wrong value); in {len(good_ref)} of them the certified reference "
        "converges with the same schedule and budget, so the masking, not the budget, is to "
        "blame."
    )
    if "masking" in figs:
        doc.img(figs["masking"], "eta_k under each mask against the certified eta*")


def _readme_link(out: Path) -> str:
    """A link from the report folder to reports/README.md that works for any ``--out``."""
    readme = Path(__file__).resolve().parents[1] / "reports" / "README.md"
    if not readme.is_file():
        return "`reports/README.md` of the l2l-verify source"
    rel = Path(os.path.relpath(readme, out.resolve())).as_posix()
    return f"[reports/README.md]({rel})"


def _learned_provenance(folder: Path) -> str:
    """Where the embedded learned-optimizer section came from: it is not recomputed here."""
    try:
        prov = json.loads((folder / "provenance.json").read_text())
    except (OSError, ValueError):
        prov = {}
    made = f"`{prov['command']}`" if "command" in prov else "`l2l-verify learned-optimizer`"
    bits = []
    if prov.get("torch"):
        bits.append(f"torch {prov['torch']}")
    if prov.get("platform"):
        bits.append(prov["platform"])
    when = f" on {prov['created']}" if prov.get("created") else ""
    return (
        f"Embedded as produced by {made}{when}"
        + (f" ({', '.join(bits)})" if bits else "")
        + ": this report run did not recompute it; rerun that command to refresh it."
    )


def _color(cls: str) -> str:
    from .figures import CLASS_COLORS

    return CLASS_COLORS[cls]


# ------------------------------------------------------------------------------ CSV
def _csv(rows: list[list[Any]], header: list[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


#: Columns of csv/masking.csv (one row per masked meta-GD run).
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


def _write_csvs(data: dict[str, Any], out: Path) -> list[str]:
    sec = data["sections"]
    files: dict[str, str] = {}
    rg = sec["regime"]
    rows: list[list[Any]] = []
    for obj in ("naive", "log"):
        for i, t in enumerate(rg["t"]):
            for j, fr in enumerate(rg["eta_times_L_over_2"]):
                rows.append([obj, fr, rg["eta"][j], t, rg[obj][i][j], rg[f"{obj}_sign"][i][j]])
    files["regime.csv"] = _csv(
        rows, ["objective", "eta_times_L_over_2", "eta", "t", "log10_abs_dF", "sign_dF"]
    )
    files["regime_eta_star.csv"] = _csv(
        [[t, s] for t, s in zip(rg["t"], rg["eta_star_times_L_over_2"], strict=True)],
        ["t", "eta_star_times_L_over_2"],
    )
    bp = sec["backprop"]
    rows = []
    for name in bp["backends"]:
        for dt in bp["dtypes"]:
            entry = bp["maps"][name][dt]
            for i, t in enumerate(bp["t"]):
                for j, fr in enumerate(bp["eta_times_L_over_2"]):
                    pred = bp["predicted"][dt]["cells"][i][j]
                    if entry["status"] != "ok":
                        rows.append(
                            [
                                name,
                                dt,
                                fr,
                                bp["eta"][j],
                                t,
                                entry["status"],
                                "",
                                "",
                                bp["truth"][i][j],
                                pred,
                            ]
                        )
                        continue
                    rows.append(
                        [
                            name,
                            dt,
                            fr,
                            bp["eta"][j],
                            t,
                            entry["classes"][i][j],
                            entry["bits"][i][j],
                            entry["grad"][i][j],
                            bp["truth"][i][j],
                            pred,
                        ]
                    )
    files["backprop.csv"] = _csv(
        rows,
        [
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
        ],
    )
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
    files["backprop_summary.csv"] = _csv(
        [[r.get(k, "") for k in keys] for r in bp["summary"]], keys
    )
    rows = []
    for dt in bp["dtypes"]:
        b = bp["predicted"][dt]["boundary"]
        for fr, ts, tf in zip(b["eta_times_L_over_2"], b["t_safe"], b["t_fails"], strict=True):
            rows.append([dt, fr, "" if ts is None else ts, "" if tf is None else tf])
    files["predicted_boundary.csv"] = _csv(
        rows, ["dtype", "eta_times_L_over_2", "t_safe", "t_fails"]
    )
    if "clients" in sec:
        files.update(_client_csvs(sec["clients"]))
    pp = sec["paper"]
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
    from .paper import paper_csvs

    for fname, table in paper_csvs(pp, sec["theorems"]).items():
        files[fname] = _csv(table[1:], table[0])
    (out / "csv").mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out / "csv" / name).write_text(text)
    return sorted(files)


def render(
    data: dict[str, Any],
    prov: dict[str, Any],
    out: Path,
    *,
    figures: dict[str, str] | None = None,
) -> dict[str, str]:
    """Write figures (unless given), CSV files, ``report.md`` and ``index.html``; return the
    figure paths (relative to ``out``)."""
    if figures is None:
        from .figures import plot_backprop, plot_clients, plot_paper, plot_regime

        sec = data["sections"]
        figures = {
            **plot_regime(sec["regime"], out),
            **plot_backprop(sec["backprop"], out),
            **plot_paper(sec["paper"], out),
            **plot_clients(sec["clients"], out),
        }
        _write_csvs(data, out)
    doc = _content(data, prov, figures, out)
    (out / "report.md").write_text(_to_markdown(doc))
    (out / "index.html").write_text(_to_html(doc, "l2l-verify precision report"))
    return figures
