"""Command-line interface: ``l2l-verify``."""

from __future__ import annotations

import argparse
import importlib
from fractions import Fraction

__all__ = ["COMMANDS", "main"]

#: Subcommands that live in their own modules: name -> (module, help). Each module exposes
#: ``configure_parser(parser: argparse.ArgumentParser) -> None`` and
#: ``run_command(args: argparse.Namespace) -> int``; heavy imports (torch, dask) belong inside
#: ``run_command`` so that ``l2l-verify --help`` stays fast and works without the extras.
COMMANDS: dict[str, tuple[str, str]] = {
    "learned-optimizer": ("verify.learned.cli", "NN learned optimizer (paper §5.3)"),
    "sweep": ("verify.sweep", "grid of cases vs certified truth on Dask (resumable)"),
    "report": ("verify.report", "precision report: index.html, report.md, data.json, figures"),
    "check": ("verify.check_cli", "judge meta-gradients from any framework (JSON Lines in)"),
}


def _parse_eta(text: str) -> float | Fraction:
    """A step size: a decimal float, a hex float (0x1.2p-3) or a fraction (1/64)."""
    if "/" in text:
        return Fraction(text)
    if text.lower().startswith(("0x", "-0x")):
        return float.fromhex(text)
    return float(text)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``l2l-verify`` console script."""
    parser = argparse.ArgumentParser(prog="l2l-verify", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    tr = sub.add_parser(
        "truth", help="certified meta-objective / meta-gradient / meta-Hessian at one point"
    )
    tr.add_argument("--d", type=int, default=20)
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--kind", choices=["wishart", "wishart2"], default="wishart")
    tr.add_argument("--eta", type=_parse_eta, required=True)
    tr.add_argument("--t", type=int, required=True)
    tr.add_argument("--objective", choices=["log", "naive"], default="log")

    pr = sub.add_parser("proofs", help="re-run the symbolic derivations in proofs/")
    pr.add_argument("rest", nargs=argparse.REMAINDER)

    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        module.configure_parser(sub.add_parser(name, help=help_text))

    import sys

    raw = list(sys.argv[1:] if argv is None else argv)
    if raw[:1] == ["proofs"]:
        from proofs.__main__ import main as proofs_main

        return int(proofs_main(raw[1:]))
    args = parser.parse_args(raw)
    if args.command in COMMANDS:
        return int(importlib.import_module(COMMANDS[args.command][0]).run_command(args))
    if args.command == "truth":
        from . import truth
        from .floats import FORMATS
        from .problems import Quadratic

        q = Quadratic.random(args.d, seed=args.seed, kind=args.kind)
        for label, fn in (
            ("F", truth.meta_objective),
            ("dF/deta", truth.meta_gradient),
            ("d2F/deta2", truth.meta_hessian),
        ):
            enc = fn(q, args.eta, args.t, objective=args.objective)
            rounded = ", ".join(f"{n}={enc.to_float(n)!r}" for n in FORMATS)
            print(f"{label}: {enc!r}\n    {rounded}")
        return 0
    parser.error(f"unknown command {args.command!r}")  # pragma: no cover
    return 2  # pragma: no cover


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
