"""``l2l-verify theorems [--quick|--full] [--json]``: the theorem table in the terminal.

Computes exactly what the report's theorem table needs (section 4 of ``l2l-verify report``):
the certified grid checks on ``Quadratic.random(d, seed)``, Figure 1's distribution over
instances (Theorem 4's meta-GD), the least-squares experiments behind Theorems 5 and 6 -- but
no backprop maps (the row "Corollary 1 (backprop fails where predicted)" needs them: run
``l2l-verify report``) and no figures. Each row is a :class:`verify.claims.Claim`: claim,
instances, verdict, tightest margin, whether it can fail, note.

Exit status: 0, or 1 when some row is a *proven* violation (a certified ``differs``; a
sampled interval is never a proof), 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import textwrap
import time
from typing import Any

__all__ = ["configure_parser", "run_command", "theorem_rows"]


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``l2l-verify theorems``."""
    from .cliargs import nonnegative_int, positive_int

    parser.description = (
        "Check every theorem of the paper (Theorems 3-6, Corollary 1, Theorem 4's meta-GD) and "
        "print one row per claim: instances, verdict (matches / differs / inconclusive), the "
        "tightest margin, whether the check can fail at all, and a note. Exit status 1 when "
        "a violation is proven. The default sizes are those of `l2l-verify report` (about 6 s "
        "on 2 cores); --quick is for tests."
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small sizes (for tests)")
    size.add_argument(
        "--full", action="store_true", help="the report's --full sizes (paper-scale, long)"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON list of rows instead")
    parser.add_argument(
        "--seed", type=nonnegative_int, default=0, help="seed of the problem and experiments"
    )
    parser.add_argument("--d", type=positive_int, default=20, help="dimension of the problem")


def _quiet(done: int, total: int) -> None:
    pass


def theorem_rows(
    *, seed: int = 0, d: int = 20, mode: str = "default", progress: bool = False
) -> list[dict[str, Any]]:
    """The theorem table's rows (JSON dicts of :class:`verify.claims.Claim`).

    The same computations and sizes as the report's sections 3-4 for ``mode``, without the
    backprop maps, the certified Figure 1 run, Figure 2 and the interpolation-peak finding.
    """
    from .paper import checks as paper_claims
    from .paper.trainval import run_experiment
    from .problems import Quadratic
    from .report import sections as sections

    def say(text: str) -> None:
        if progress:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()

    started = time.monotonic()
    params = sections.section_params("paper", mode, seed=seed, d=d)
    problem = Quadratic.random(d, seed=seed)
    say(f"Figure 1 distribution over {params['fig1_instances']} instances ...")
    fig1 = paper_claims.figure1_distribution(
        d, seed, int(params["fig1_instances"]), int(params["fig1_steps"])
    )
    f3, f4, sc = params["fig3"], params["fig4"], params["scaling"]
    say(f"least squares (Theorem 5): d = {f3['d']}, sigma in {tuple(f3['sigmas'])} ...")
    res3 = [
        run_experiment(
            sections.ls_config(f3["d"], f3["n"], float(s), f3["tasks"], f3["test_tasks"], seed)
        )
        for s in f3["sigmas"]
    ]
    rows3 = [paper_claims.ls_record(r, seed=seed) for r in res3]
    scaling = paper_claims.valid_step_scaling(sc["d"], sc["n"], sc["tasks"], seed)
    t5 = paper_claims.theorem5_claims(rows3, res3, scaling, seed=seed)
    say(f"least squares (Theorem 6): d = {f4['d']}, n in {tuple(f4['ns'])} ...")
    big = [n for n in f4["ns"] if n >= 2 * f4["d"]]
    res4 = [
        run_experiment(
            sections.ls_config(f4["d"], int(n), 1.0, f4["tasks"], f4["test_tasks"], seed)
        )
        for n in big
    ]
    rows4 = [paper_claims.ls_record(r, seed=seed) for r in res4]
    t6 = paper_claims.theorem6_claim(rows4, res4, seed=seed)
    prior = {
        "paper": {
            "fig1": fig1,
            "fig3": {"theorem5": {"claims": [c.to_json() for c in t5]}},
            "fig4": {"theorem6": t6.to_json()},
        }
    }
    say("certified grid checks ...")
    tparams = sections.section_params("theorems", mode, seed=seed, d=d)
    table = sections.theorem_section(problem, tparams, _quiet, prior=prior)
    say(f"done in {time.monotonic() - started:.1f} s")
    rows: list[dict[str, Any]] = table["rows"]
    return rows


def _table(rows: list[dict[str, Any]]) -> str:
    width = max(60, min(shutil.get_terminal_size((120, 20)).columns, 160))
    name_w = max(len(r["claim"]) for r in rows)
    name_w = min(name_w, 58)
    head = f"{'claim':<{name_w}}  {'N':>16}  {'verdict':<13} {'kind':<17}"
    lines = [head, "-" * min(width, len(head) + 10)]
    wrap = textwrap.TextWrapper(width=width, initial_indent="    ", subsequent_indent="      ")
    for r in rows:
        kind = "test" if r["can_fail"] else "consistency check"
        verdict = r["verdict"] + (" (proven)" if r["proven_violation"] else "")
        n = f"{r['instances']} {r['unit'].split()[0]}"
        lines.append(f"{r['claim'][:name_w]:<{name_w}}  {n:>16}  {verdict:<13} {kind:<17}")
        margin = r["margin"]
        if r["interval"] is not None:
            iv = r["interval"]
            level = "certified" if iv["confidence"] == 1.0 else f"{100 * iv['confidence']:g}%"
            margin = (
                f"{iv['estimate']:.4g} [{iv['low']:.4g}, {iv['high']:.4g}] ({level}); " + margin
            )
        lines.extend(wrap.wrap("margin: " + margin))
        if r["note"]:
            lines.extend(wrap.wrap("note: " + r["note"]))
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    proven = sum(r["proven_violation"] for r in rows)
    tests = sum(r["can_fail"] for r in rows)
    lines.append(
        f"{len(rows)} claims ({tests} tests, {len(rows) - tests} consistency checks): "
        + ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
        + f"; {proven} proven violations. The row 'Corollary 1 (backprop fails where "
        "predicted)' needs the backprop maps: run `l2l-verify report`."
    )
    return "\n".join(lines)


def run_command(args: argparse.Namespace) -> int:
    """Run ``l2l-verify theorems``; exit 1 on a proven violation."""
    mode = "quick" if args.quick else "full" if args.full else "default"
    rows = theorem_rows(seed=args.seed, d=args.d, mode=mode, progress=not args.json)
    if args.json:
        print(json.dumps(rows, indent=1, sort_keys=True, allow_nan=False))
    else:
        print(_table(rows))
    return 1 if any(r["proven_violation"] for r in rows) else 0
