"""``l2l-verify report``: the precision report, a self-contained folder people read.

``l2l-verify report [--out DIR] [--quick|--full] [--seed N] [--backends ...] [--dtypes ...]``
writes to ``DIR`` (default ``reports/latest``, untracked; the committed report is
``reports/default``, rewritten only when named, and never with less information: see
:func:`losses`):

* ``index.html`` -- static page (inline CSS, no scripts, no network), opens from disk;
* ``report.md`` -- the same content as Markdown;
* ``figures/*.png`` -- matplotlib figures;
* ``data.json`` -- every number behind every figure and table (byte-identical for the same
  seed and options), and ``csv/*.csv`` with the same numbers in long form;
* ``provenance.json`` -- package versions, machine, command line, wall time per section and
  the certified precision used (kept out of ``data.json`` so that it stays reproducible).

Sections (computed in :mod:`verify.report.sections`, one module each, drawn in
:mod:`verify.report.figures`, rendered in :mod:`verify.report.render` through the Jinja2
templates of :mod:`verify.report.pages`; the build driver is :mod:`verify.report.build`):

1. regime map of the exact meta-gradient (certified);
2. backprop outcome maps per backend and dtype against certified truth, with Corollary 1's
   predicted failure boundary, bits of error and a summary table;
3. the paper's Figures 1-4 reproduced, each with a computed verdict;
4. the theorem table, each claim checked on certified numbers;
5. heavy-ball momentum outcome maps over (eta, beta) and (eta, t) with rho(eta, beta) = 1;
6. Adam outcome maps over (eta, t), the zero-second-moment NaN and the kink where no
   meta-gradient exists;
7. provenance.

Each finished section is cached in ``DIR/_cache/<section>-<key>.json`` (written atomically; the
key hashes the section's parameters and :data:`REPORT_FORMAT_VERSION`), so a run that is
interrupted resumes from the finished sections; the cache is removed when a run completes.
Progress is shown per section on stderr (:mod:`verify.progress`). ``--render-only``
re-renders the pages, figures and CSV files from an existing ``data.json`` (e.g. to embed
``learned/summary.md``, written by ``l2l-verify learned-optimizer``, into an existing report).
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import UnknownOptionError
from . import sections
from .build import (
    DEFAULT_BACKENDS,
    REPORT_FORMAT_VERSION,
    SECTIONS,
    build_report,
    render_only,
    representability,
)
from .settings import BACKEND_CHOICES, DTYPE_CHOICES, FAILURE_CLASSES

__all__ = [
    "DEFAULT_BACKENDS",
    "REPORT_FORMAT_VERSION",
    "SECTIONS",
    "build_report",
    "check_out",
    "configure_parser",
    "findings",
    "losses",
    "render_only",
    "representability",
    "run_command",
    "sections",
]


# ------------------------------------------------------------------------------ command line
#: Where ``l2l-verify report`` writes when no ``--out`` is given: an untracked folder, so the
#: README's main command never touches the committed report (``reports/default`` is written
#: only when named).
DEFAULT_OUT = Path("reports/latest")


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``l2l-verify report``."""
    from ..cliargs import nonnegative_int, positive_int

    parser.description = (
        "Compute the precision report (regime maps, backprop outcome maps, the paper's "
        "figures and theorem table, provenance) and write index.html, report.md, data.json, "
        "csv/ and figures/ to --out. A folder that already holds a report is never rewritten "
        "with less information (see --replace). Durations: see the README."
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="output folder (the committed report is reports/default: name it to rewrite it)",
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small grids (for tests)")
    size.add_argument(
        "--full", action="store_true", help="paper-scale least squares and longer horizons"
    )
    size.add_argument(
        "--render-only",
        action="store_true",
        help="re-render pages and figures from the folder's data.json (no recomputation)",
    )
    parser.add_argument(
        "--seed", type=nonnegative_int, default=0, help="seed of problem and experiments"
    )
    parser.add_argument(
        "--d", type=positive_int, default=20, help="dimension of the default problem"
    )
    parser.add_argument(
        "--backends",
        nargs="+",
        choices=list(BACKEND_CHOICES),
        default=list(DEFAULT_BACKENDS),
        help="backends of the outcome maps",
    )
    parser.add_argument(
        "--dtypes",
        nargs="+",
        choices=list(DTYPE_CHOICES),
        default=list(DTYPE_CHOICES),
        help="dtypes of the outcome maps",
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help="allow replacing a report in --out that holds results this run would not "
        "(a backend or dtype that is not installed here or not selected)",
    )


def check_out(out: Path) -> None:
    """Refuse an output path that cannot hold a report folder, before any computation.

    Raises
    ------
    UnknownOptionError
        (argument ``out``) when ``out`` is an existing file, lies below a file, or its
        nearest existing folder is not writable.
    """
    if out.exists() and not out.is_dir():
        raise UnknownOptionError("out", str(out), "is an existing file, not a folder")
    parent = out
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise UnknownOptionError("out", str(out), f"lies below the file {parent}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UnknownOptionError("out", str(out), f"cannot be created: {parent} is not writable")


def _installed(backend_choice: str) -> bool:
    from ..backprop.registry import installed

    return installed(BACKEND_CHOICES[backend_choice][0])


def losses(out: Path, backends: Sequence[str], dtypes: Sequence[str], mode: str) -> list[str]:
    """What a new run would drop from the report already in ``out`` (empty: nothing).

    The rule (see the README): a folder that holds a report is only rewritten with at least
    the same information -- every backend x dtype map the old report computed must be
    computed again (selected and installed here), at the same or a larger grid size.
    """
    path = out / "data.json"
    if not path.is_file():
        return []
    try:
        old = json.loads(path.read_text())
        maps = old["sections"]["backprop"]["maps"]
        old_mode = old["options"]["mode"]
    except (ValueError, KeyError, TypeError):
        return []  # not a report this code can read: nothing to protect
    lost = []
    sizes = {"quick": 0, "default": 1, "full": 2}
    if sizes.get(mode, 0) < sizes.get(old_mode, 0):
        lost.append(f"its {old_mode} grid (this run is {mode})")
    for name, per_dtype in maps.items():
        for dt, entry in per_dtype.items():
            if entry.get("status") != "ok":
                continue
            if name not in backends or not _installed(name):
                why = "not selected" if name not in backends else "not installed here"
                lost.append(f"the {name} maps ({why})")
                break
            if dt not in dtypes:
                lost.append(f"the {name}/{dt} map (dtype not selected)")
    return lost


def run_command(args: argparse.Namespace) -> int:
    """Run ``l2l-verify report``."""
    out = args.out
    if args.render_only:
        render_only(out)
        return 0
    check_out(out)
    mode = "quick" if args.quick else "full" if args.full else "default"
    lost = losses(out, args.backends, args.dtypes, mode)
    if lost and not args.replace:
        raise UnknownOptionError(
            "out",
            str(out),
            "holds a report with " + ", ".join(lost) + ": this run would drop it; install what "
            "is missing, choose another --out, or pass --replace",
        )
    data = build_report(
        out,
        seed=args.seed,
        d=args.d,
        mode=mode,
        backends=args.backends,
        dtypes=args.dtypes,
    )
    for line in findings(data):
        print(line)
    return 0


def findings(data: dict[str, Any]) -> list[str]:
    """Five lines for the terminal: what the report found (every number is in data.json).

    1. the regime map's range of log10|F'| per objective; 2. the share of failures per
    backend in float32 and float64; 3. Corollary 1's prediction against observation; 4. the
    paper figures' verdicts; 5. the theorem table's verdicts.
    """
    sec = data["sections"]
    rg = sec["regime"]

    def span(obj: str) -> str:
        vals = [float(v) for row in rg[obj] for v in row if v is not None]
        return f"{min(vals):.0f}..{max(vals):.0f}" if vals else "-"

    lines = [
        f"regime: log10|F'| spans {span('naive')} decades for the naive objective, "
        f"{span('log')} for the log objective (certified)"
    ]
    failure = set(FAILURE_CLASSES)
    parts = []
    for r in sec["backprop"]["summary"]:
        if r["status"] == "ok" and r["dtype"] in ("float32", "float64"):
            share = sum(r[c] for c in failure)
            parts.append(f"{r['backend']}/{r['dtype']} {100 * share:.0f}%")
    lines.append("backprop failures (share of the grid): " + (", ".join(parts) or "none ran"))
    pred = data.get("answers", {}).get("prediction")
    if pred:
        lines.append(
            f"Corollary 1: {pred['decided_cells'] - pred['contradicting_cells']} of "
            f"{pred['decided_cells']} predicted cells agree with the observed outcome "
            f"({pred['boundary_cells']} cells in the undecided band)"
        )
    else:
        lines.append("Corollary 1: no plain-backprop map in this run to compare with")
    figs = ", ".join(
        f"{k} {v.get('verdict', '-')}" for k, v in sec["paper"].items() if isinstance(v, dict)
    )
    lines.append(f"paper figures: {figs}")
    counts: dict[str, int] = {}
    for row in sec["theorems"]["rows"]:
        counts[row["verdict"]] = counts.get(row["verdict"], 0) + 1
    lines.append("theorems: " + ", ".join(f"{n} {v}" for v, n in sorted(counts.items())))
    return lines
