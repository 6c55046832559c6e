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

Sections (computed in :mod:`verify.report.sections`, drawn in :mod:`verify.report.figures`, rendered
in :mod:`verify.report.render`):

1. regime map of the exact meta-gradient (certified);
2. backprop outcome maps per backend and dtype against certified truth, with Corollary 1's
   predicted failure boundary, bits of error and a summary table;
3. the paper's Figures 1-4 reproduced, each with a computed verdict;
4. the theorem table, each claim checked on certified numbers;
5. provenance.

Each finished section is cached in ``DIR/_cache/<section>-<key>.json`` (written atomically; the
key hashes the section's parameters and :data:`REPORT_FORMAT_VERSION`), so a run that is
interrupted resumes from the finished sections; the cache is removed when a run completes.
Progress is shown per section on stderr. ``--render-only`` re-renders the pages, figures and CSV
files from an existing ``data.json`` (e.g. to embed ``learned/summary.md``, written by
``l2l-verify learned-optimizer``, into an existing report).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import sys
import time
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

from .. import truth
from ..errors import UnknownOptionError
from ..floats import FORMATS
from ..problems import Quadratic
from . import sections

__all__ = [
    "DEFAULT_BACKENDS",
    "REPORT_FORMAT_VERSION",
    "SECTIONS",
    "build_report",
    "configure_parser",
    "render_only",
    "representability",
    "run_command",
]

#: Version of the report's layout and content; bump it whenever data.json, the pages or the
#: meaning of a column changes (a test fails when reports/default is older).
REPORT_FORMAT_VERSION = 3

#: Sections in computation order: name -> title.
SECTIONS: dict[str, str] = {
    "regime": "Regime map of the exact meta-gradient",
    "backprop": "Backprop outcome maps",
    "paper": "Paper figures reproduced",
    "theorems": "Theorem table",
    "clients": "Meta-learning libraries: flush-to-zero and NaN masking",
}
DEFAULT_BACKENDS: tuple[str, ...] = tuple(sections.BACKEND_CHOICES)
MODES = ("quick", "default", "full")


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


# ------------------------------------------------------------------------------ progress
class _Bar:
    """Progress of one section on stderr: a bar redrawn in place on a terminal, otherwise
    plain lines at every quarter (so a log file or CI output does not pile up ``\\r``)."""

    def __init__(self, name: str, stream: Any = None) -> None:
        self.name = name
        self.stream = sys.stderr if stream is None else stream
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.monotonic()
        self.last = -1

    def __call__(self, done: int, total: int) -> None:
        width = 30 if self.tty else 4
        filled = width * done // max(total, 1)
        if filled == self.last and done != total:
            return
        self.last = filled
        elapsed = time.monotonic() - self.started
        if self.tty:
            self.stream.write(
                f"\r{self.name:>9} [{'#' * filled}{'.' * (30 - filled)}] {done}/{total} "
                f"{elapsed:6.1f} s"
            )
            if done >= total:
                self.stream.write("\n")
        else:
            self.stream.write(f"{self.name:>9}: {done}/{total} ({elapsed:.1f} s)\n")
        self.stream.flush()


# ------------------------------------------------------------------------------ cache
def _key(params: dict[str, Any]) -> str:
    blob = json.dumps(
        {"params": params, "version": REPORT_FORMAT_VERSION}, sort_keys=True, default=str
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, indent=1, sort_keys=True, allow_nan=False) + "\n"


def _canonical_command(
    seed: int, d: int, mode: str, backends: Sequence[str], dtypes: Sequence[str], out: Path | None
) -> str:
    parts = ["l2l-verify", "report"]
    if out is not None:
        parts += ["--out", str(out)]
    if mode != "default":
        parts.append(f"--{mode}")
    parts += ["--seed", str(seed)]
    if d != 20:
        parts += ["--d", str(d)]
    if tuple(backends) != DEFAULT_BACKENDS:
        parts += ["--backends", *backends]
    if tuple(dtypes) != sections.DTYPE_CHOICES:
        parts += ["--dtypes", *dtypes]
    return " ".join(parts)


def _now() -> str:
    """The current UTC time, to the second (provenance only: never in data.json)."""
    import datetime

    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _versions() -> dict[str, str | None]:
    from importlib import metadata

    out: dict[str, str | None] = {"python": platform.python_version()}
    for pkg in (
        "l2l-verify",
        "numpy",
        "matplotlib",
        "python-flint",
        "mpmath",
        "ml_dtypes",
        "torch",
        "jax",
        "jaxlib",
    ):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def build_report(
    out: Path,
    *,
    seed: int = 0,
    d: int = 20,
    mode: str = "default",
    backends: Sequence[str] = DEFAULT_BACKENDS,
    dtypes: Sequence[str] = sections.DTYPE_CHOICES,
    argv: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Compute every section (resuming from cached ones) and write the report folder.

    Parameters
    ----------
    out : Path
        Output folder (created; ``out/learned`` is never touched).
    seed : int
        Seed of the default problem (``Quadratic.random(d, seed=seed)``) and of the
        least-squares experiments.
    d : int
        Dimension of the default problem (the paper's 20).
    mode : {"quick", "default", "full"}
        Grid sizes: ``quick`` for tests, ``default`` (minutes on 2 cores), ``full`` (the
        paper's least-squares sizes, longer horizons).
    backends, dtypes : sequence of str
        Which backends (:data:`verify.report.sections.BACKEND_CHOICES`) and dtypes the outcome
        maps cover.
    argv : sequence of str, optional
        The command line as typed, recorded in ``provenance.json``.

    Returns
    -------
    dict
        The content of ``data.json``.

    Raises
    ------
    UnknownOptionError
        For an unknown mode, backend or dtype (naming the argument).

    Guarantee
    ---------
    Every certified number is rounded once from a proven enclosure (see each section's
    docstring for its relative radius); ``data.json`` is a pure function of the arguments.
    """
    if mode not in MODES:
        raise UnknownOptionError("mode", mode, f"must be one of {MODES}")
    for b in backends:
        if b not in sections.BACKEND_CHOICES:
            raise UnknownOptionError("backends", b, f"must be in {tuple(sections.BACKEND_CHOICES)}")
    for dt in dtypes:
        if dt not in sections.DTYPE_CHOICES:
            raise UnknownOptionError("dtypes", dt, f"must be in {sections.DTYPE_CHOICES}")
    backends = [b for b in sections.BACKEND_CHOICES if b in backends]
    dtypes = [dt for dt in sections.DTYPE_CHOICES if dt in dtypes]
    started = time.monotonic()
    problem = Quadratic.random(d, seed=seed)
    cache = out / "_cache"
    results: dict[str, Any] = {}
    timing: dict[str, Any] = {}
    for name in SECTIONS:
        extra: dict[str, Any] = {}
        if name == "backprop":
            extra = {"backends": list(backends), "dtypes": list(dtypes)}
        params = sections.section_params(name, mode, seed=seed, d=d, **extra)
        if name == "theorems":
            # the theorem table reads sections 2 and 3: its key covers their results
            params["prior"] = _key({k: results[k] for k in ("backprop", "paper")})
        path = cache / f"{name}-{_key(params)}.json"
        t0 = time.monotonic()
        if path.exists():
            entry = json.loads(path.read_text())
            results[name] = entry["value"]
            sys.stderr.write(f"{name:>9} resumed from {path}\n")
            # the wall time, date and machine of the run that computed it
            timing[name] = {
                "wall_s": entry["wall_s"],
                "cached": True,
                "computed": entry.get("computed"),
                "host": entry.get("host"),
            }
            continue
        bar = _Bar(name)
        if name == "theorems":
            value = sections.theorem_section(problem, params, bar, prior=results)
        else:
            fn = getattr(sections, f"{name}_section")
            value = fn(problem, params, bar)
        # round-trip through JSON so that fresh and cached results are the same objects
        text = _dumps(value)
        wall = round(time.monotonic() - t0, 2)
        stamp = {"computed": _now(), "host": platform.node() or None}
        _atomic_write(path, _dumps({"wall_s": wall, "value": json.loads(text), **stamp}))
        results[name] = json.loads(text)
        timing[name] = {"wall_s": wall, "cached": False, **stamp}
    spec = problem.spectral_enclosures()
    L = spec["L"].to_float("float64")
    alpha = spec["alpha"].to_float("float64")
    data: dict[str, Any] = {
        "report_format_version": REPORT_FORMAT_VERSION,
        "command": _canonical_command(seed, d, mode, backends, dtypes, None),
        "options": {
            "seed": seed,
            "d": d,
            "mode": mode,
            "backends": list(backends),
            "dtypes": list(dtypes),
        },
        "problem": {
            "kind": "wishart",
            "d": d,
            "seed": seed,
            "fingerprint": problem.fingerprint,
            "L": L.hex(),
            "alpha": alpha.hex(),
            "c_min": spec["c_min"].to_float("float64").hex(),
            "two_over_L": (2 / L).hex(),
        },
        "sections": results,
    }
    from .render import answers, render

    data["answers"] = answers(data)
    t0 = time.monotonic()
    sys.stderr.write("   render figures, CSV, report.md, index.html ...\n")
    out.mkdir(parents=True, exist_ok=True)
    _atomic_write(out / "data.json", _dumps(data))
    provenance: dict[str, Any] = {
        "report_format_version": REPORT_FORMAT_VERSION,
        "command_line": list(sys.argv if argv is None else ["l2l-verify", *argv]),
        "canonical_command": _canonical_command(seed, d, mode, backends, dtypes, out),
        "seeds": {
            "problem": seed,
            "least_squares": seed,
            "note": "Quadratic.random(d, seed=seed); least-squares tasks, test tasks and "
            "bootstrap use independent streams of the same seed",
        },
        "versions": _versions(),
        "machine": {
            "platform": platform.platform(),
            "machine": platform.machine(),
            "processor": platform.processor() or None,
            "cpu_count": os.cpu_count(),
        },
        "sections": timing,
        "certified_precision": {
            "regime": "log10|F'| from enclosures of relative radius <= 2^-30 (4 decimals); "
            "eta*(t) relative width <= 1e-9",
            "backprop": "truth per grid point: enclosure of F' with relative radius <= 2^-80, "
            "rounded once to each dtype",
            "paper": "Figures 1-2: enclosures of relative radius <= 2^-80, eta* relative width "
            "<= 1e-12; Figure 1's distribution and Figures 3-4: float64 Monte Carlo, 99% "
            "scipy.stats intervals (bootstrap BCa, exact binomial, order statistics)",
            "theorems": "F', F'' enclosures of relative radius <= 2^-80; theory constants proven "
            "enclosures (verify.paper.theory)",
            "clients": "flush-to-zero: F' enclosure of relative radius <= 2^-80 rounded once to "
            "float32; masking: eta*(t) enclosure of relative width <= 1e-9 "
            "(verify.audits.masking), "
            "reference run on certified meta-gradients rounded to float64",
        },
        "working_precision": f"adaptive from 64 bits up to {truth.DEFAULT_MAX_PREC_BITS} bits",
    }
    figures = render(data, provenance, out)
    provenance["sections"]["render"] = {
        "wall_s": round(time.monotonic() - t0, 2),
        "cached": False,
        "computed": _now(),
        "host": platform.node() or None,
    }
    provenance["wall_s_total"] = round(time.monotonic() - started, 2)
    _atomic_write(out / "provenance.json", _dumps(provenance))
    # re-render the provenance section now that the total wall time is known
    render(data, provenance, out, figures=figures)
    shutil.rmtree(cache, ignore_errors=True)
    sys.stderr.write(
        f"wrote {out / 'index.html'}, report.md, data.json in {time.monotonic() - started:.1f} s\n"
    )
    return data


def render_only(out: Path) -> None:
    """Re-render figures, CSV files and pages from an existing ``data.json``.

    For a page-only change, or to embed a ``learned/summary.md`` written after the report;
    nothing is recomputed. Raises :class:`~verify.errors.UnknownOptionError` (argument
    ``out``) when the folder holds no report of the current :data:`REPORT_FORMAT_VERSION`.
    """
    from .render import render

    try:
        data = json.loads((out / "data.json").read_text())
        provenance = json.loads((out / "provenance.json").read_text())
    except FileNotFoundError as exc:
        raise UnknownOptionError("out", str(out), f"holds no report ({exc.filename})") from exc
    version = data.get("report_format_version")
    if version != REPORT_FORMAT_VERSION:
        raise UnknownOptionError(
            "out",
            str(out),
            f"holds report format {version}, this code writes {REPORT_FORMAT_VERSION}: "
            "rerun `l2l-verify report` instead",
        )
    render(data, provenance, out)
    sys.stderr.write(f"re-rendered {out / 'index.html'} and report.md from data.json\n")


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
        choices=list(sections.BACKEND_CHOICES),
        default=list(DEFAULT_BACKENDS),
        help="backends of the outcome maps",
    )
    parser.add_argument(
        "--dtypes",
        nargs="+",
        choices=list(sections.DTYPE_CHOICES),
        default=list(sections.DTYPE_CHOICES),
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
    from ..backprop._common import installed

    return installed(sections.BACKEND_CHOICES[backend_choice][0])


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
    failure = set(sections.FAILURE_CLASSES)
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
