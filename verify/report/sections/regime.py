"""Section 1 of the report: the regime map of the certified meta-gradient."""

from __future__ import annotations

from typing import Any

from ... import truth
from ...paper import metaopt, theory
from ...problems import Quadratic
from ..settings import REGIME_REL_TOL, STAR_REL_TOL, Progress, eta_fractions, log10_abs

__all__ = ["regime_section"]


def regime_section(
    problem: Quadratic, params: dict[str, Any], progress: Progress
) -> dict[str, Any]:
    """Certified log10 |F'(eta)| over (eta, t) for both objectives, with eta*(t).

    Guarantee
    ---------
    Each value is the 4-decimal log10 of the midpoint of a proven enclosure of F'(eta) with
    relative radius <= 2^-30; eta*(t) is the midpoint of a certified enclosure of relative
    width <= 1e-9.
    """
    L = problem.L
    fractions = eta_fractions(params["eta_step"], params["eta_max"])
    horizons = list(params["horizons"])
    etas = [f * 2 / L for f in fractions]
    total = 2 * len(horizons) * len(etas) + len(horizons)
    done = 0
    out: dict[str, Any] = {
        "eta_times_L_over_2": fractions,
        "eta": [e.hex() for e in etas],
        "t": horizons,
        "rel_tol": "2^-30",
    }
    for obj in ("naive", "log"):
        grid: list[list[float | None]] = []
        signs: list[list[int]] = []
        for t in horizons:
            row: list[float | None] = []
            srow: list[int] = []
            for eta in etas:
                g = truth.meta_gradient(problem, eta, t, objective=obj, rel_tol=REGIME_REL_TOL)
                row.append(log10_abs(g))
                srow.append(g.sign())
                done += 1
            progress(done, total)
            grid.append(row)
            signs.append(srow)
        out[obj] = grid
        out[f"{obj}_sign"] = signs
    stars = []
    for t in horizons:
        star = metaopt.optimal_step_size(problem, t, rel_tol=STAR_REL_TOL)
        stars.append(round(float(star.mid) * L / 2, 9))
        done += 1
        progress(done, total)
    out["eta_star_times_L_over_2"] = stars
    out["eta_star_limit_times_L_over_2"] = round(
        float(theory.eta_star_limit(problem).mid) * L / 2, 9
    )
    return out
