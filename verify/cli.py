"""Command-line interface: ``l2l-verify``.

Every subcommand reports bad input as one line on stderr naming the option (or the file, line
and field), with exit status 2; errors the library raises as typed exceptions are shown as
their message, never as a traceback (``l2l-verify --debug ...`` shows the traceback).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from fractions import Fraction
from typing import Any

from . import __version__
from .cliargs import CLIParser, fail, nonnegative_int, positive_int, step_size
from .errors import L2LError

__all__ = ["COMMANDS", "build_parser", "main"]

#: Subcommands that live in their own modules: name -> (module, help). Each module exposes
#: ``configure_parser(parser: argparse.ArgumentParser) -> None`` and
#: ``run_command(args: argparse.Namespace) -> int``; heavy imports (torch, dask) belong inside
#: ``run_command`` so that ``l2l-verify --help`` stays fast and works without the extras.
COMMANDS: dict[str, tuple[str, str]] = {
    "report": ("verify.report", "the precision report: index.html, report.md, data.json, figures"),
    "check": ("verify.check_cli", "judge meta-gradients from any framework (JSON Lines in)"),
    "sweep": ("verify.sweep", "a grid of cases vs certified truth on Dask (resumable)"),
    "learned-optimizer": ("verify.learned.cli", "the NN learned optimizer (paper §5.3)"),
    "theorems": (
        "verify.theorems_cli",
        "the theorem table in the terminal (exit 1 on a proven violation)",
    ),
}

DESCRIPTION = """\
Certified verification of learning-to-learn step-size tuning (Wang, Yuan, Wu, Ge, ICML 2021):
gradient descent with step size eta on a quadratic, unrolled for t steps; the meta-gradient
d/deta of f(w_t) ("naive") or (1/t) log f(w_t) ("log"), computed with proven enclosures and
used to judge float results.

Start with:  l2l-verify report          (the precision report, reports/latest/)
             l2l-verify truth --eta 0.01 --t 1000
             l2l-verify check RESULTS.jsonl
"""

# Cost model of the certified truth at dimension d (measured on 2 cores, cold, one point:
# d = 400 takes 2.8 s and 0.24 GB peak; the certified eigendecomposition is O(d^3) in time
# and holds O(d^2) Arb balls of ~1.2 kB each at the working precision).
_SECONDS_AT_400 = 2.8
_BYTES_BASE = 60e6
_BYTES_PER_ENTRY = 1.2e3
#: From this dimension on, ``truth`` says how long and how much memory to expect.
_WARN_D = 300


def build_parser() -> CLIParser:
    """The ``l2l-verify`` parser with every subcommand."""
    parser = CLIParser(prog="l2l-verify", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"l2l-verify {__version__}")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show the Python traceback of an error instead of its one-line message",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    tr = sub.add_parser(
        "truth",
        help="certified meta-objective, meta-gradient and meta-Hessian at one point",
        description=(
            "Certified F, dF/deta and d2F/deta2 at one (eta, t) on Quadratic.random(d, seed, "
            "kind), each a proven enclosure and its correct rounding to every float format."
        ),
    )
    tr.add_argument("--eta", type=step_size, required=True, help=f"step size: {_ETA_HELP}")
    tr.add_argument("--t", type=nonnegative_int, required=True, help="horizon (>= 1 for log)")
    tr.add_argument(
        "--objective",
        choices=["log", "naive"],
        default="log",
        help="(1/t) log f(w_t) or f(w_t)",
    )
    tr.add_argument("--d", type=positive_int, default=20, help="dimension of the problem")
    tr.add_argument("--seed", type=nonnegative_int, default=0, help="seed of the problem")
    tr.add_argument(
        "--kind",
        choices=["wishart", "wishart2"],
        default="wishart",
        help="H = X^T X with X d x d, or X X^T with X d x 2d",
    )
    tr.add_argument("--json", action="store_true", help="print one JSON object instead")
    pr = sub.add_parser(
        "proofs",
        help="re-run the symbolic derivations in proofs/",
        description="Re-run every SymPy derivation of proofs/ and print the table.",
    )
    pr.add_argument("rest", nargs=argparse.REMAINDER, help="arguments of python -m proofs")
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        module.configure_parser(sub.add_parser(name, help=help_text, description=help_text))
    return parser


_ETA_HELP = "a decimal (0.01), a hex float (0x1.47ae147ae147bp-7) or a fraction (1/64)"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``l2l-verify`` console script."""
    raw = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in raw[: raw.index("proofs")] if "proofs" in raw else "--debug" in raw
    debug = debug or os.environ.get("L2L_DEBUG") == "1"
    rest = [a for a in raw if a != "--debug"] if debug else raw
    if rest[:1] == ["proofs"]:
        from proofs.__main__ import main as proofs_main

        return _guarded(
            "proofs", debug, lambda: int(proofs_main(rest[1:], prog="l2l-verify proofs"))
        )
    parser = build_parser()
    args = parser.parse_args(rest)
    if args.command in COMMANDS:
        module = importlib.import_module(COMMANDS[args.command][0])
        return _guarded(args.command, debug, lambda: int(module.run_command(args)))
    return _guarded("truth", debug, lambda: _truth(args))


def _guarded(command: str, debug: bool, run: Any) -> int:
    """Run a command; typed library errors and OS errors become one line and exit 2."""
    prog = f"l2l-verify {command}"
    try:
        return int(run())
    except KeyboardInterrupt:
        sys.stderr.write(f"{prog}: interrupted\n")
        return 130
    except (L2LError, OSError, MemoryError) as exc:
        if debug:
            raise
        what = str(exc) or type(exc).__name__
        if isinstance(exc, MemoryError):
            what = f"not enough memory ({what})"
        elif isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
            what = f"{exc.strerror}: {exc.filename}"
        fail(prog, what)


def _truth(args: argparse.Namespace) -> int:
    """``l2l-verify truth``: the problem, the point, then each certified quantity."""
    from . import truth
    from .floats import FORMATS, format_real, json_float
    from .validation import validate_horizon

    validate_horizon(args.t, objective=args.objective)  # t = 0 with log: one line, named
    _check_size(args.d)
    from .problems import Quadratic

    q = Quadratic.random(args.d, seed=args.seed, kind=args.kind)
    eta = args.eta
    frac = Fraction(eta) * Fraction(q.L) / 2
    problem = {
        "constructor": f"Quadratic.random({args.d}, seed={args.seed}, kind={args.kind!r})",
        "d": args.d,
        "seed": args.seed,
        "kind": args.kind,
        "L": q.L,
        "alpha": q.alpha,
        "fingerprint": q.fingerprint[:16],
    }
    point = {
        "eta": str(eta) if isinstance(eta, Fraction) else eta.hex(),
        "eta_over_2_L": float(frac),
        "t": args.t,
        "objective": args.objective,
    }
    results: dict[str, Any] = {}
    for label, fn in (
        ("F", truth.meta_objective),
        ("dF/deta", truth.meta_gradient),
        ("d2F/deta2", truth.meta_hessian),
    ):
        enc = fn(q, eta, args.t, objective=args.objective)
        results[label] = {
            "enclosure": [format_real(enc.lower_exact, 17), format_real(enc.upper_exact, 17)],
            "rel_radius": enc.rel_radius(),
            "rounded": {n: json_float(enc.to_float(n)) for n in FORMATS},
        }
    if args.json:
        print(json.dumps({"problem": problem, "point": point, "results": results}, indent=1))
        return 0
    objective = "(1/t) log f(w_t)" if args.objective == "log" else "f(w_t)"
    print(
        f"problem: {problem['constructor']}: L = {q.L:.6g}, alpha = {q.alpha:.6g} "
        f"(certified), fingerprint {problem['fingerprint']}"
    )
    print(
        f"point: eta = {eta} = {float(frac):.6g} x 2/L, t = {args.t}, "
        f"objective = {args.objective}: F = {objective}"
    )
    for label, r in results.items():
        lo, hi = r["enclosure"]
        rounded = ", ".join(f"{n}={v}" for n, v in r["rounded"].items())
        print(f"{label}: [{lo}, {hi}] (relative radius {r['rel_radius']:.3g})\n    {rounded}")
    return 0


def _available_bytes() -> float | None:
    """Memory available to a new allocation (Linux: MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def _check_size(d: int) -> None:
    """Refuse a dimension whose certified truth cannot fit in memory; warn when it is slow."""
    need = _BYTES_BASE + _BYTES_PER_ENTRY * d * d
    have = _available_bytes()
    if have is not None and need > have:
        fail(
            "l2l-verify truth",
            f"argument --d: d = {d} needs about {need / 2**30:.3g} GiB for the certified "
            f"eigendecomposition, only {have / 2**30:.3g} GiB are available",
        )
    if d >= _WARN_D:
        seconds = _SECONDS_AT_400 * (d / 400) ** 3
        sys.stderr.write(
            f"l2l-verify truth: d = {d}: the certified eigendecomposition is O(d^3); expect "
            f"about {seconds:.3g} s and {need / 2**30:.2g} GiB\n"
        )


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
