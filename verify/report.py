"""``l2l-verify report``: the certified ground-truth report on built-in defaults.

Writes, for the default problem (the paper's d = 20 Wishart quadratic, seed 0), a grid of
step sizes eta (fractions of 2/L, including 2/(L+alpha) and 2/L) and horizons t, the certified
meta-objective and meta-gradient of the naive and log objectives, each correctly rounded to
float64, float32, bfloat16 and float16, and whether the exact value is representable in each
format (``ok`` / ``overflow`` / ``underflow`` / ``subnormal``). It answers "where does the exact
meta-gradient itself leave float range" -- the precondition of every float failure -- with
proven numbers.

Outputs (``--out DIR``, default ``reports/default``): ``report.md`` (tables) and ``data.json``
(every number, as decimal strings of the enclosure endpoints and the rounded floats in hex).
The same seed gives a byte-identical ``data.json``.
"""

from __future__ import annotations

import json
import sys
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

from . import truth
from .floats import FORMATS
from .problems import Quadratic

__all__ = ["REPORT_FORMAT_VERSION", "build_report", "representability"]

REPORT_FORMAT_VERSION = 1
DEFAULT_ETA_FRACTIONS_OF_2_OVER_L = (0.05, 0.3, 0.6, 0.9, 1.0, 1.1, 1.25)
DEFAULT_HORIZONS = (1, 10, 100, 1000, 10_000, 100_000, 1_000_000)
QUICK_HORIZONS = (1, 10, 100, 1000)


def representability(enc: truth.Enclosure, dtype: str) -> str:
    """Classify where the exact value falls in ``dtype``: ok, subnormal, underflow or overflow.

    Guarantee
    ---------
    Decided on the proven enclosure: ``overflow`` when the correctly rounded value is +-inf,
    ``underflow`` when it is zero although the exact value is not, ``subnormal`` when its
    magnitude is below the smallest normal number.
    """
    fmt = FORMATS[dtype]
    x = enc.to_float(dtype)
    if x in (float("inf"), float("-inf")):
        return "overflow"
    if x == 0.0:
        return "ok" if enc.is_exact and enc.lower == 0 else "underflow"
    if abs(Fraction(x)) < Fraction(2) ** fmt.emin:
        return "subnormal"
    return "ok"


def _record(enc: truth.Enclosure) -> dict[str, Any]:
    row: dict[str, Any] = {
        "lower": _fmt_fraction(enc.lower),
        "upper": _fmt_fraction(enc.upper),
        "prec_bits": enc.prec_bits,
    }
    for name in FORMATS:
        row[name] = enc.to_float(name).hex()
        row[f"{name}_class"] = representability(enc, name)
    return row


def _fmt_fraction(q: Fraction) -> str:
    """A 25-significant-digit decimal of a (possibly astronomically small or large) rational."""
    from flint import arb, ctx, fmpq

    with ctx.workprec(128):
        return str(arb(fmpq(q.numerator, q.denominator)).str(25, radius=False))


def build_report(out: Path, *, seed: int = 0, d: int = 20, quick: bool = False) -> dict[str, Any]:
    """Compute the default certified report and write ``report.md`` and ``data.json``.

    Guarantee
    ---------
    Every number is taken from a proven enclosure (relative radius <= 2**-80) and rounded once.
    """
    started = time.time()
    problem = Quadratic.random(d, seed=seed)
    enc = problem.spectral_enclosures()
    L = enc["L"].to_float("float64")
    alpha = enc["alpha"].to_float("float64")
    etas = sorted({f * 2 / L for f in DEFAULT_ETA_FRACTIONS_OF_2_OVER_L} | {2 / (L + alpha)})
    horizons = QUICK_HORIZONS if quick else DEFAULT_HORIZONS
    cells = [(eta, t, obj) for obj in ("naive", "log") for t in horizons for eta in etas]
    rows: list[dict[str, Any]] = []
    for i, (eta, t, obj) in enumerate(cells, 1):
        value = truth.meta_objective(problem, eta, t, objective=obj)
        grad = truth.meta_gradient(problem, eta, t, objective=obj)
        rows.append(
            {
                "objective": obj,
                "eta": eta.hex(),
                "eta_times_L_over_2": eta * L / 2,
                "t": t,
                "F": _record(value),
                "dF": _record(grad),
            }
        )
        _progress(i, len(cells), started)
    sys.stderr.write("\nregime map, Figure 1 (meta-GD), Figure 2 (eta*(t)) ...\n")
    from .figures import fig1_meta_gd, fig2_eta_star, plot_all, regime_map

    extra = {
        "regime_map": regime_map(problem, quick=quick),
        "fig1": fig1_meta_gd(problem),
        "fig2": fig2_eta_star(problem),
    }
    data = {
        "report_format_version": REPORT_FORMAT_VERSION,
        "command": f"l2l-verify report --seed {seed}" + (" --quick" if quick else ""),
        "problem": {
            "kind": "wishart",
            "d": d,
            "seed": seed,
            "fingerprint": problem.fingerprint,
            "L": L.hex(),
            "alpha": alpha.hex(),
            "c_min": enc["c_min"].to_float("float64").hex(),
        },
        "rows": rows,
        **extra,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "data.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    figures = plot_all(data, out)
    (out / "report.md").write_text(_markdown(data, L, alpha, figures))
    sys.stderr.write(
        f"\nwrote {out / 'report.md'} and {out / 'data.json'} in {time.time() - started:.1f} s\n"
    )
    return data


def _progress(i: int, n: int, started: float) -> None:
    if i != n and i % max(1, n // 20):
        return  # about twenty updates per run
    width = 30
    filled = width * i // n
    sys.stderr.write(
        f"\r[{'#' * filled}{'.' * (width - filled)}] {i}/{n} cells, {time.time() - started:.1f} s"
    )
    sys.stderr.flush()


def _markdown(data: dict[str, Any], L: float, alpha: float, figures: list[str]) -> str:
    p = data["problem"]
    lines = [
        "# l2l-verify certified ground-truth report",
        "",
        f"Generated by `{data['command']}` (report format {data['report_format_version']}).",
        "",
        f"Problem: H = X^T X, X a {p['d']}x{p['d']} Gaussian matrix (seed {p['seed']}), unit w0; "
        f"L = {L:.6g}, alpha = {alpha:.6g}, c_min = {float.fromhex(p['c_min']):.6g} (certified).",
        "",
        "Each cell: the exact value correctly rounded to float64 and, in brackets, its class in "
        "float32 / bfloat16 / float16 (`ok`, `sub`normal, `under`flow, `over`flow). "
        "Columns: eta as a multiple of 2/L (2/(L+alpha) is the large-t optimum).",
        "",
    ]
    short = {"ok": "ok", "subnormal": "sub", "underflow": "under", "overflow": "over"}
    for obj in ("naive", "log"):
        for key, title in (("F", "meta-objective F"), ("dF", "meta-gradient F'")):
            obj_rows = [r for r in data["rows"] if r["objective"] == obj]
            etas = sorted({r["eta_times_L_over_2"] for r in obj_rows})
            lines.append(f"## {obj} objective: {title}")
            lines.append("")
            lines.append("| t | " + " | ".join(f"{e:.4g}" for e in etas) + " |")
            lines.append("|---|" + "---|" * len(etas))
            for t in sorted({r["t"] for r in obj_rows}):
                cells = []
                for e in etas:
                    r = next(x for x in obj_rows if x["t"] == t and x["eta_times_L_over_2"] == e)
                    rec = r[key]
                    v = float.fromhex(rec["float64"])
                    tag = "/".join(
                        short[rec[f"{n}_class"]] for n in ("float32", "bfloat16", "float16")
                    )
                    shown = rec["lower"] if rec["float64_class"] != "ok" else f"{v:.6g}"
                    cells.append(f"{shown} [{tag}]")
                lines.append(f"| {t} | " + " | ".join(cells) + " |")
            lines.append("")
    lines.append(
        "Values outside float64 are shown as the lower end of their enclosure (25 digits)."
    )
    return "\n".join(lines) + "\n"
