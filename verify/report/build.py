"""The build driver of ``l2l-verify report``: compute the sections (resuming from the cache),
assemble ``data.json`` and ``provenance.json``, and render the folder.

Each finished section is cached in ``DIR/_cache/<section>-<key>.json`` (written atomically; the
key hashes the section's parameters and :data:`REPORT_FORMAT_VERSION`), so a run that is
interrupted resumes from the finished sections; the cache is removed when a run completes.
Progress is shown per section on stderr (:mod:`verify.progress`).
"""

from __future__ import annotations

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
from ..progress import progress
from . import sections
from .answers import answers
from .render import render
from .settings import BACKEND_CHOICES, DTYPE_CHOICES

__all__ = [
    "DEFAULT_BACKENDS",
    "MODES",
    "REPORT_FORMAT_VERSION",
    "SECTIONS",
    "build_report",
    "render_only",
    "representability",
]

#: Version of the report's layout and content; bump it whenever data.json, the pages or the
#: meaning of a column changes (a test fails when reports/default is older).
REPORT_FORMAT_VERSION = 4

#: Sections in computation order: name -> title.
SECTIONS: dict[str, str] = {
    "regime": "Regime map of the exact meta-gradient",
    "backprop": "Backprop outcome maps",
    "paper": "Paper figures reproduced",
    "theorems": "Theorem table",
    "clients": "Meta-learning libraries: flush-to-zero and NaN masking",
    "momentum": "Heavy-ball momentum outcome maps",
    "adam": "Adam outcome maps",
}
DEFAULT_BACKENDS: tuple[str, ...] = tuple(BACKEND_CHOICES)
MODES = ("quick", "default", "full")
#: What ``provenance.json`` says about the precision of each section's certified numbers.
CERTIFIED_PRECISION: dict[str, str] = {
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
    "momentum": "heavy-ball F' per cell: enclosure of relative radius <= 2^-80 (beta and eta "
    "exact), rounded once to each dtype; rho(eta, beta) and the rho-growth prediction are "
    "float64 models",
    "adam": "Adam F' per cell: enclosure of relative radius <= 2^-80 (forward mode in Arb, "
    "settings exact), rounded once to each dtype, or a certified NotDifferentiableError",
}
_PACKAGES = (
    "l2l-verify",
    "numpy",
    "matplotlib",
    "python-flint",
    "mpmath",
    "ml_dtypes",
    "torch",
    "jax",
    "jaxlib",
)


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
    if tuple(dtypes) != DTYPE_CHOICES:
        parts += ["--dtypes", *dtypes]
    return " ".join(parts)


def _now() -> str:
    """The current UTC time, to the second (provenance only: never in data.json)."""
    import datetime

    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _versions() -> dict[str, str | None]:
    from importlib import metadata

    out: dict[str, str | None] = {"python": platform.python_version()}
    for pkg in _PACKAGES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def _selection(
    mode: str, backends: Sequence[str], dtypes: Sequence[str]
) -> tuple[list[str], list[str]]:
    """The selected backends and dtypes in display order, after checking every name."""
    if mode not in MODES:
        raise UnknownOptionError("mode", mode, f"must be one of {MODES}")
    for b in backends:
        if b not in BACKEND_CHOICES:
            raise UnknownOptionError("backends", b, f"must be in {tuple(BACKEND_CHOICES)}")
    for dt in dtypes:
        if dt not in DTYPE_CHOICES:
            raise UnknownOptionError("dtypes", dt, f"must be in {DTYPE_CHOICES}")
    return [b for b in BACKEND_CHOICES if b in backends], [
        dt for dt in DTYPE_CHOICES if dt in dtypes
    ]


def _section(
    name: str, problem: Quadratic, params: dict[str, Any], prior: dict[str, Any], path: Path
) -> tuple[Any, dict[str, Any]]:
    """One section's value and timing: from its cache file, or computed (and cached)."""
    if path.exists():
        entry = json.loads(path.read_text())
        sys.stderr.write(f"{name:>9} resumed from {path}\n")
        # the wall time, date and machine of the run that computed it
        timing = {
            "wall_s": entry["wall_s"],
            "cached": True,
            "computed": entry.get("computed"),
            "host": entry.get("host"),
        }
        return entry["value"], timing
    t0 = time.monotonic()
    with progress(0, name, lines=4) as bar:

        def tick(done: int, total: int) -> None:
            bar(done, total=total)

        if name == "theorems":
            value = sections.theorem_section(problem, params, tick, prior=prior)
        else:
            value = getattr(sections, f"{name}_section")(problem, params, tick)
    # round-trip through JSON so that fresh and cached results are the same objects
    text = _dumps(value)
    wall = round(time.monotonic() - t0, 2)
    stamp = {"computed": _now(), "host": platform.node() or None}
    _atomic_write(path, _dumps({"wall_s": wall, "value": json.loads(text), **stamp}))
    return json.loads(text), {"wall_s": wall, "cached": False, **stamp}


def _compute(
    problem: Quadratic, cache: Path, options: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every section's value and timing, in :data:`SECTIONS` order."""
    mode, seed, d = options["mode"], options["seed"], options["d"]
    results: dict[str, Any] = {}
    timing: dict[str, Any] = {}
    for name in SECTIONS:
        extra: dict[str, Any] = {}
        if name in ("backprop", "momentum", "adam"):
            extra = {"backends": list(options["backends"]), "dtypes": list(options["dtypes"])}
        params = sections.section_params(name, mode, seed=seed, d=d, **extra)
        if name == "theorems":
            # the theorem table reads sections 2 and 3: its key covers their results
            params["prior"] = _key({k: results[k] for k in ("backprop", "paper")})
        path = cache / f"{name}-{_key(params)}.json"
        results[name], timing[name] = _section(name, problem, params, results, path)
    return results, timing


def _data(problem: Quadratic, options: dict[str, Any], results: dict[str, Any]) -> dict[str, Any]:
    """The content of ``data.json`` (a pure function of the options)."""
    spec = problem.spectral_enclosures()
    L = spec["L"].to_float("float64")
    alpha = spec["alpha"].to_float("float64")
    o = options
    data: dict[str, Any] = {
        "report_format_version": REPORT_FORMAT_VERSION,
        "command": _canonical_command(
            o["seed"], o["d"], o["mode"], o["backends"], o["dtypes"], None
        ),
        "options": options,
        "problem": {
            "kind": "wishart",
            "d": o["d"],
            "seed": o["seed"],
            "fingerprint": problem.fingerprint,
            "L": L.hex(),
            "alpha": alpha.hex(),
            "c_min": spec["c_min"].to_float("float64").hex(),
            "two_over_L": (2 / L).hex(),
        },
        "sections": results,
    }
    data["answers"] = answers(data)
    return data


def _provenance(
    options: dict[str, Any], out: Path, argv: Sequence[str] | None, timing: dict[str, Any]
) -> dict[str, Any]:
    """The content of ``provenance.json`` (everything that is not reproducible)."""
    o = options
    seed = o["seed"]
    return {
        "report_format_version": REPORT_FORMAT_VERSION,
        "command_line": list(sys.argv if argv is None else ["l2l-verify", *argv]),
        "canonical_command": _canonical_command(
            seed, o["d"], o["mode"], o["backends"], o["dtypes"], out
        ),
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
        "certified_precision": dict(CERTIFIED_PRECISION),
        "working_precision": f"adaptive from 64 bits up to {truth.DEFAULT_MAX_PREC_BITS} bits",
    }


def build_report(
    out: Path,
    *,
    seed: int = 0,
    d: int = 20,
    mode: str = "default",
    backends: Sequence[str] = DEFAULT_BACKENDS,
    dtypes: Sequence[str] = DTYPE_CHOICES,
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
        Which backends (:data:`verify.report.settings.BACKEND_CHOICES`) and dtypes the outcome
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
    backends, dtypes = _selection(mode, backends, dtypes)
    started = time.monotonic()
    problem = Quadratic.random(d, seed=seed)
    options = {"seed": seed, "d": d, "mode": mode, "backends": backends, "dtypes": dtypes}
    cache = out / "_cache"
    results, timing = _compute(problem, cache, options)
    data = _data(problem, options, results)
    t0 = time.monotonic()
    sys.stderr.write("   render figures, CSV, report.md, index.html ...\n")
    out.mkdir(parents=True, exist_ok=True)
    _atomic_write(out / "data.json", _dumps(data))
    provenance = _provenance(options, out, argv, timing)
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
