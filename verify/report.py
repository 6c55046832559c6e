"""``l2l-verify report``: the precision report, a self-contained folder people read.

``l2l-verify report [--out DIR] [--quick|--full] [--seed N] [--backends ...] [--dtypes ...]``
writes to ``DIR`` (default ``reports/default``):

* ``index.html`` -- static page (inline CSS, no scripts, no network), opens from disk;
* ``report.md`` -- the same content as Markdown;
* ``figures/*.png`` -- matplotlib figures;
* ``data.json`` -- every number behind every figure and table (byte-identical for the same
  seed and options), and ``csv/*.csv`` with the same numbers in long form;
* ``provenance.json`` -- package versions, machine, command line, wall time per section and
  the certified precision used (kept out of ``data.json`` so that it stays reproducible).

Sections (computed in :mod:`verify.report_sections`, drawn in :mod:`verify.figures`, rendered
in :mod:`verify.report_render`):

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

from . import report_sections as sections
from . import truth
from .errors import UnknownOptionError
from .floats import FORMATS
from .problems import Quadratic

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
REPORT_FORMAT_VERSION = 2

#: Sections in computation order: name -> title.
SECTIONS: dict[str, str] = {
    "regime": "Regime map of the exact meta-gradient",
    "backprop": "Backprop outcome maps",
    "paper": "Paper figures reproduced",
    "theorems": "Theorem table",
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
    """A one-line progress bar for one section on stderr."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.started = time.monotonic()
        self.last = -1

    def __call__(self, done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        if filled == self.last and done != total:
            return
        self.last = filled
        sys.stderr.write(
            f"\r{self.name:>9} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} "
            f"{time.monotonic() - self.started:6.1f} s"
        )
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


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
        Which backends (:data:`verify.report_sections.BACKEND_CHOICES`) and dtypes the outcome
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
            # the wall time of the run that computed it
            timing[name] = {"wall_s": entry["wall_s"], "cached": True}
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
        _atomic_write(path, _dumps({"wall_s": wall, "value": json.loads(text)}))
        results[name] = json.loads(text)
        timing[name] = {"wall_s": wall, "cached": False}
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
    from .report_render import answers, render

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
            "<= 1e-12; Figures 3-4: float64 Monte Carlo, 99% normal intervals",
            "theorems": "F', F'' enclosures of relative radius <= 2^-80; theory constants proven "
            "enclosures (verify.theory)",
        },
        "working_precision": f"adaptive from 64 bits up to {truth.DEFAULT_MAX_PREC_BITS} bits",
    }
    figures = render(data, provenance, out)
    provenance["sections"]["render"] = {"wall_s": round(time.monotonic() - t0, 2), "cached": False}
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
    from .report_render import render

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
def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``l2l-verify report``."""
    parser.add_argument("--out", type=Path, default=Path("reports/default"), help="output folder")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small grids (about a minute)")
    size.add_argument(
        "--full", action="store_true", help="paper-scale least squares and longer horizons"
    )
    size.add_argument(
        "--render-only",
        action="store_true",
        help="re-render pages and figures from the folder's data.json (no recomputation)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of problem and experiments")
    parser.add_argument("--d", type=int, default=20, help="dimension of the default problem")
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


def run_command(args: argparse.Namespace) -> int:
    """Run ``l2l-verify report``."""
    if args.render_only:
        render_only(args.out)
        return 0
    mode = "quick" if args.quick else "full" if args.full else "default"
    build_report(
        args.out,
        seed=args.seed,
        d=args.d,
        mode=mode,
        backends=args.backends,
        dtypes=args.dtypes,
    )
    return 0
