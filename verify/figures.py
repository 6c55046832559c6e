"""Figures of the certified report (matplotlib, Agg backend, deterministic PNG metadata).

Sections computed here from certified values on the default problem:

* regime map: log10 |F'(eta)| over (eta, t) for the naive and log objectives, with eta = 2/L
  (Theorem 3's boundary) and the certified eta*(t) overlaid;
* the paper's Figure 1: meta-gradient descent on eta (t = 80, eta0 = 0.1, mu_k = 1/(100 sqrt k));
* the paper's Figure 2: the optimal step size eta*(t) for different t, with its limit 2/(L+alpha).
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from typing import Any

from . import metaopt, theory, truth
from .problems import Quadratic

__all__ = ["fig1_meta_gd", "fig2_eta_star", "regime_map"]

REGIME_ETA_FRACTIONS = tuple(round(0.025 * k, 3) for k in range(1, 61))  # x 2/L, up to 1.5
REGIME_HORIZONS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 100_000)
COLOR_CLIP = 40.0
STAR_HORIZONS = (5, 10, 20, 40, 80, 160, 320, 640, 1280, 10_000, 100_000)


def _log10_abs(e: truth.Enclosure) -> float | None:
    m = abs(e.mid)
    if m == 0:
        return None
    k = m.numerator.bit_length() - m.denominator.bit_length()
    return round((k * math.log(2) + math.log(float(m / Fraction(2) ** k))) / math.log(10), 4)


def regime_map(problem: Quadratic, *, quick: bool = False) -> dict[str, Any]:
    """log10|F'| (4 decimals, from certified enclosures) over the (eta, t) grid, both objectives."""
    L = problem.L
    horizons = REGIME_HORIZONS[:10] if quick else REGIME_HORIZONS
    etas = [f * 2 / L for f in REGIME_ETA_FRACTIONS]
    out: dict[str, Any] = {"eta_times_L_over_2": list(REGIME_ETA_FRACTIONS), "t": list(horizons)}
    for obj in ("naive", "log"):
        out[obj] = [
            [
                _log10_abs(
                    truth.meta_gradient(problem, eta, t, objective=obj, rel_tol=Fraction(1, 2**30))
                )
                for eta in etas
            ]
            for t in horizons
        ]
    out["eta_star_times_L_over_2"] = [
        round(float(metaopt.optimal_step_size(problem, t, rel_tol=1e-9).mid) * L / 2, 9)
        for t in horizons
    ]
    return out


def fig1_meta_gd(problem: Quadratic, *, steps: int = 1000) -> dict[str, Any]:
    """The paper's Figure 1 setting: t = 80, eta0 = 0.1, mu_k = 1/(100 sqrt k), certified."""
    t = 80
    star = metaopt.optimal_step_size(problem, t)
    run = metaopt.meta_gradient_descent(problem, t, eta0=0.1, steps=steps, schedule="experiment")
    return {
        "t": t,
        "eta0": 0.1,
        "eta_star": float(star.mid),
        "etas": [float(x) for x in run.etas],
        "resets": run.resets,
        "steps_to_settle_1e-2": run.steps_to_settle(float(star.mid), 1e-2),
        "steps_to_settle_1e-3": run.steps_to_settle(float(star.mid), 1e-3),
    }


def fig2_eta_star(problem: Quadratic) -> dict[str, Any]:
    """The paper's Figure 2: certified eta*(t) for several t, and the limit 2/(L + alpha)."""
    stars = [metaopt.optimal_step_size(problem, t) for t in STAR_HORIZONS]
    return {
        "t": list(STAR_HORIZONS),
        "eta_star": [float(s.mid) for s in stars],
        "eta_star_radius": [float(s.rad) for s in stars],
        "limit": float(theory.eta_star_limit(problem).mid),
    }


def plot_all(data: dict[str, Any], out: Path) -> list[str]:
    """Write the figures to ``out/figures`` and return their relative paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    figdir = out / "figures"
    figdir.mkdir(parents=True, exist_ok=True)
    meta = {"Software": None}
    written = []
    rm = data["regime_map"]
    x = np.array(rm["eta_times_L_over_2"])
    y = np.array(rm["t"], dtype=float)
    for obj in ("naive", "log"):
        z = np.array([[np.nan if v is None else v for v in row] for row in rm[obj]], dtype=float)
        fig, ax = plt.subplots(figsize=(7, 4.5))
        # colour clipped at +-COLOR_CLIP decades so vanishing and explosion both stay visible
        mesh = ax.pcolormesh(
            x,
            np.arange(len(y)),
            z,
            shading="nearest",
            cmap="coolwarm",
            vmin=-COLOR_CLIP,
            vmax=COLOR_CLIP,
        )
        fig.colorbar(mesh, ax=ax, extend="both", label="log10 |F'(eta)| (certified, clipped)")
        ax.set_yticks(np.arange(len(y)), [str(int(v)) for v in y])
        ax.axvline(1.0, color="k", ls="--", lw=1, label="eta = 2/L (Theorem 3)")
        ax.plot(rm["eta_star_times_L_over_2"], np.arange(len(y)), "g.-", label="eta*(t)")
        ax.set_xlabel("eta / (2/L)")
        ax.set_ylabel("t")
        ax.set_title(f"{obj} objective: exact meta-gradient magnitude")
        ax.legend(loc="lower left", fontsize=8)
        name = f"figures/regime_map_{obj}.png"
        fig.tight_layout()
        fig.savefig(out / name, dpi=110, metadata=meta)
        plt.close(fig)
        written.append(name)
    f1 = data["fig1"]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(f1["etas"], lw=1, label="eta_k (meta-GD, certified gradients)")
    ax.axhline(f1["eta_star"], color="k", ls="--", lw=1, label="certified eta*(80)")
    ax.set_xlabel("meta-step k")
    ax.set_ylabel("eta")
    ax.set_title("Figure 1: training eta (t = 80, eta0 = 0.1)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "figures/fig1_meta_gd.png", dpi=110, metadata=meta)
    plt.close(fig)
    written.append("figures/fig1_meta_gd.png")
    f2 = data["fig2"]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.semilogx(f2["t"], f2["eta_star"], "o-", label="certified eta*(t)")
    ax.axhline(f2["limit"], color="k", ls="--", lw=1, label="2/(L+alpha)")
    ax.set_xlabel("t")
    ax.set_ylabel("eta*")
    ax.set_title("Figure 2: optimal eta for different t")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "figures/fig2_eta_star.png", dpi=110, metadata=meta)
    plt.close(fig)
    written.append("figures/fig2_eta_star.png")
    return written
