"""Figures of ``l2l-verify report`` (matplotlib, Agg backend, no timestamps in the PNGs).

Plotting only: every figure is drawn from the JSON data of a report section
(:mod:`verify.report.sections`; outcome colours from the registry
:mod:`verify.outcomes`), so a figure shows exactly the numbers in ``data.json`` and the
CSV files beside it.

* ``regime_map_{naive,log}.png`` -- certified log10 |F'(eta)| over (eta, t) with eta = 2/L and
  eta*(t);
* ``outcome_<backend>.png`` / ``bits_<backend>.png`` -- outcome classes and bits of error of one
  backend, one panel per dtype, with Corollary 1's predicted failure boundary;
* ``fig1_meta_gd.png`` ... ``fig4_sample_size.png`` -- the paper's Figures 1-4 reproduced;
* ``momentum_beta.png`` / ``momentum_t.png`` -- heavy-ball outcome maps over (eta, beta) and
  (eta, t), a panel per backend, dtype and objective, with rho(eta, beta) = 1 and the
  rho-growth prediction;
* ``adam_t.png`` / ``adam_zero.png`` -- Adam outcome maps over (eta, t), on the report's
  problem and with a coordinate whose second moment stays 0.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ..floats import FORMATS
from ..outcomes import CLASS_COLORS, OUTCOME_NAMES

__all__ = [
    "COLOR_CLIP",
    "NONFINITE_COLOR",
    "STATUS_COLORS",
    "ZERO_MOMENT_COLOR",
    "plot_adam",
    "plot_backprop",
    "plot_clients",
    "plot_momentum",
    "plot_paper",
    "plot_regime",
]

#: Colour clip of the regime maps (decades): vanishing and exploding sides both stay visible.
#: Each map's scale is fitted to its own data within this clip (:func:`_regime_norm`): the log
#: map spans a few decades only (Theorem 4) and on the naive map's scale would be one colour.
COLOR_CLIP = 40.0
#: Colour of non-finite results (inf / NaN: bits of error infinite) on the bits maps.
NONFINITE_COLOR = "#7fbfff"
_DPI = 100
_META = {"Software": None}


def _bit_width(dtype: str) -> int:
    """Storage width of a float format in bits: sign + exponent field + stored significand."""
    fmt = FORMATS[dtype]
    return fmt.precision + (2 * (fmt.emax + 1)).bit_length() - 1


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, out: Path, name: str) -> str:
    rel = f"figures/{name}"
    (out / "figures").mkdir(parents=True, exist_ok=True)
    fig.savefig(out / rel, dpi=_DPI, metadata=_META)
    _plt().close(fig)
    return rel


def _num(v: Any) -> float:
    if v is None:
        return math.nan
    if isinstance(v, str):
        return float(v)
    return float(v)


def plot_regime(regime: dict[str, Any], out: Path) -> dict[str, str]:
    """Regime maps of the certified meta-gradient, one PNG per objective."""
    import numpy as np

    plt = _plt()
    x = np.array(regime["eta_times_L_over_2"])
    y = np.array(regime["t"], dtype=float)
    written = {}
    for obj in ("naive", "log"):
        z = np.array([[_num(v) for v in row] for row in regime[obj]], dtype=float)
        fig, ax = plt.subplots(figsize=(7.5, 4.6))
        mesh = ax.pcolormesh(
            x,
            np.arange(len(y)),
            z,
            shading="nearest",
            cmap="coolwarm",
            norm=_regime_norm(z),
        )
        fig.colorbar(mesh, ax=ax, extend="both", label="log10 |F'(eta)| (certified, clipped)")
        ax.set_yticks(np.arange(len(y)), [f"{int(v):g}" for v in y])
        ax.axvline(1.0, color="k", ls="--", lw=1.2, label="eta = 2/L (Theorem 3)")
        ax.plot(
            regime["eta_star_times_L_over_2"], np.arange(len(y)), "g.-", lw=1.5, label="eta*(t)"
        )
        ax.set_xlabel("eta / (2/L)")
        ax.set_ylabel("t (inner steps)")
        ax.set_title(f"{obj} objective: exact meta-gradient magnitude log10|F'|")
        ax.legend(loc="lower left", fontsize=10)
        fig.tight_layout()
        written[f"regime_{obj}"] = _save(fig, out, f"regime_map_{obj}.png")
    return written


def _regime_norm(z: Any) -> Any:
    """The colour scale of one regime map, fitted to its own data: 0 (|F'| = 1) is white, the
    vanishing side runs from the map's smallest log10|F'| and the exploding side up to its
    largest, each clipped at :data:`COLOR_CLIP` decades (so a map spanning a few decades,
    like the log objective's, is not one flat colour on the naive map's scale)."""
    import numpy as np
    from matplotlib.colors import TwoSlopeNorm

    finite = z[np.isfinite(z)]
    lo = float(finite.min()) if finite.size else -1.0
    hi = float(finite.max()) if finite.size else 1.0
    vmin = -min(COLOR_CLIP, max(1.0, math.ceil(-lo)))
    vmax = min(COLOR_CLIP, max(1.0, math.ceil(hi)))
    return TwoSlopeNorm(vcenter=0.0, vmin=vmin, vmax=vmax)


def _t_to_y(t: Any, horizons: list[int]) -> float:
    """Map a horizon onto the row index axis of a map (log-linear between rows)."""
    import numpy as np

    if t is None:
        return math.nan
    lt = math.log10(max(float(t), 1.0))
    logs = np.log10(np.array(horizons, dtype=float))
    if lt > logs[-1]:
        return math.nan
    return float(np.interp(lt, logs, np.arange(len(horizons))))


def _draw_boundary(ax: Any, boundary: dict[str, Any], horizons: list[int], legend: bool) -> None:
    xs = boundary["eta_times_L_over_2"]
    fails = [_t_to_y(t, horizons) for t in boundary["t_fails"]]
    safe = [_t_to_y(t, horizons) for t in boundary["t_safe"]]
    ax.plot(xs, fails, color="white", lw=3.2)
    ax.plot(xs, fails, color="black", lw=1.6, label="predicted: fails above" if legend else None)
    ax.plot(xs, safe, color="white", lw=3.0, ls=(0, (3, 2)))
    ax.plot(
        xs,
        safe,
        color="#333333",
        lw=1.2,
        ls=(0, (3, 2)),
        label="predicted: safe below" if legend else None,
    )


def _panel_frame(ax: Any, bp: dict[str, Any], title: str) -> None:
    import numpy as np

    horizons = bp["t"]
    ax.set_yticks(np.arange(len(horizons)), [f"{t:g}" for t in horizons], fontsize=9)
    ax.set_xlabel("eta / (2/L)", fontsize=10)
    ax.tick_params(axis="x", labelsize=9)
    ax.set_xlim(0, max(bp["eta_times_L_over_2"]) + 0.05)
    ax.set_ylim(-0.5, len(horizons) - 0.5)
    ax.axvline(1.0, color="k", lw=0.6, ls=":")
    ax.set_title(title, fontsize=11)


def _empty_panel(ax: Any, entry: dict[str, Any]) -> None:
    ax.set_facecolor("#dddddd")
    reason = str(entry.get("reason") or "")
    short = reason.split(":", 1)[-1].strip()
    if len(short) > 80:
        short = short[:77] + "..."
    import textwrap

    ax.text(
        0.5,
        0.5,
        entry["status"] + "\n" + "\n".join(textwrap.wrap(short, 28)),
        ha="center",
        va="center",
        fontsize=9,
        transform=ax.transAxes,
    )
    ax.set_xticks([])
    ax.set_yticks([])


def plot_backprop(bp: dict[str, Any], out: Path) -> dict[str, str]:
    """One outcome-class PNG and one bits-of-error PNG per backend (a panel per dtype)."""
    import numpy as np
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    plt = _plt()
    x = np.array(bp["eta_times_L_over_2"])
    horizons = bp["t"]
    y = np.arange(len(horizons))
    cmap = ListedColormap([CLASS_COLORS[c] for c in OUTCOME_NAMES])
    norm = BoundaryNorm(np.arange(len(OUTCOME_NAMES) + 1) - 0.5, len(OUTCOME_NAMES))
    index = {c: i for i, c in enumerate(OUTCOME_NAMES)}
    written: dict[str, str] = {}
    for name in bp["backends"]:
        per_dtype = bp["maps"][name]
        if all(e["status"] == "unavailable" for e in per_dtype.values()):
            continue  # not installed in this run: no placeholder figure (the page says so)
        dtypes = list(bp["dtypes"])
        for kind in ("outcome", "bits"):
            fig, axes = plt.subplots(
                1, len(dtypes), figsize=(3.3 * len(dtypes) + 1.2, 3.5), squeeze=False
            )
            for k, (ax, dt) in enumerate(zip(axes[0], dtypes, strict=True)):
                entry = per_dtype[dt]
                _panel_frame(ax, bp, f"{name} / {dt}")
                if k == 0:
                    ax.set_ylabel("t", fontsize=10)
                if entry["status"] != "ok":
                    _empty_panel(ax, entry)
                    continue
                if kind == "outcome":
                    z = np.array([[index[c] for c in row] for row in entry["classes"]], dtype=float)
                    ax.pcolormesh(x, y, z, shading="nearest", cmap=cmap, norm=norm)
                else:
                    z = np.array([[_num(v) for v in row] for row in entry["bits"]], dtype=float)
                    z = np.where(np.isinf(z), np.nan, z)
                    masked = np.ma.masked_invalid(z)
                    bcmap = plt.get_cmap("magma_r").with_extremes(bad=NONFINITE_COLOR)
                    # colour scale: 0 .. the format's bit width (the most bits an error
                    # between two finite values of the format can have)
                    width = _bit_width(dt)
                    mesh = ax.pcolormesh(
                        x, y, masked, shading="nearest", cmap=bcmap, vmin=0, vmax=width
                    )
                    fig.colorbar(mesh, ax=ax, fraction=0.05, pad=0.02).ax.tick_params(labelsize=9)
                if dt in bp["predicted"]:
                    _draw_boundary(ax, bp["predicted"][dt]["boundary"], horizons, legend=k == 0)
            if kind == "outcome":
                handles = [
                    Patch(color=CLASS_COLORS[c], label=c.replace("_", " ")) for c in OUTCOME_NAMES
                ]
                handles += axes[0][0].get_legend_handles_labels()[0]
                fig.legend(handles=handles, loc="center right", fontsize=9, frameon=False)
                fig.suptitle(
                    f"{name}: outcome of F'_log against certified truth "
                    "(lines: Corollary 1 prediction for plain backprop)",
                    fontsize=12,
                )
            else:
                fig.suptitle(
                    f"{name}: bits of error log2(1 + ulps) in the dtype (blue = non-finite result)",
                    fontsize=12,
                )
            fig.tight_layout(rect=(0, 0, 0.86 if kind == "outcome" else 1.0, 0.93))
            written[f"{kind}_{name}"] = _save(fig, out, f"{kind}_{name}.png")
    return written


def _ci_plot(ax: Any, xs: list[float], rows: list[dict[str, Any]], key: str, label: str) -> None:
    for who, color in (("tbt", "#d73027"), ("tbv", "#4575b4")):
        m = [r[f"{who}_{key}"]["mean"] for r in rows]
        lo = [r[f"{who}_{key}"]["mean"] - r[f"{who}_{key}"]["low"] for r in rows]
        hi = [r[f"{who}_{key}"]["high"] - r[f"{who}_{key}"]["mean"] for r in rows]
        ax.errorbar(xs, m, yerr=[lo, hi], fmt="o-", color=color, capsize=3, label=who.upper())
    ax.set_ylabel(label)
    ax.legend(fontsize=10)


def plot_paper(paper: dict[str, Any], out: Path) -> dict[str, str]:
    """The paper's Figures 1-4 as measured here."""
    plt = _plt()
    written = {}
    f1 = paper["fig1"]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
    ax.plot(f1["etas"], lw=1, label="eta_k (certified gradients)")
    ax.axhline(f1["eta_star"], color="k", ls="--", lw=1, label="certified eta*(80)")
    if f1["steps_to_settle_1e-2"] is not None:
        ax.axvline(f1["steps_to_settle_1e-2"], color="g", lw=1, ls=":", label="settled within 1%")
    ax.set_xlabel("meta-step k")
    ax.set_ylabel("eta")
    ax.set_title(f"report's instance (t = {f1['t']}, eta0 = {f1['eta0']})")
    ax.legend(fontsize=9)
    # the distribution over instances: empirical CDF of the settle step per tolerance
    for tol, steps in f1["per_instance"].items():
        sx = np.sort(np.array([float(v) for v in steps]))
        sy = np.arange(1, sx.size + 1) / sx.size
        finite = np.isfinite(sx)
        ax2.step(sx[finite], sy[finite], where="post", label=f"within {100 * float(tol):g}%")
    ax2.axvline(300, color="k", ls="--", lw=1, label="paper: 300 steps")
    ax2.set_xlim(0, f1["steps"])
    ax2.set_ylim(0, 1)
    ax2.set_xlabel("meta-steps until eta stays near eta*")
    ax2.set_ylabel("fraction of instances")
    ax2.set_title(f"{f1['instances']} instances (never settled: not reached)")
    ax2.legend(fontsize=9, loc="lower right")
    fig.suptitle("Figure 1: training eta (mu_k = 1/(100 sqrt k))", fontsize=11)
    fig.tight_layout()
    written["fig1"] = _save(fig, out, "fig1_meta_gd.png")
    f2 = paper["fig2"]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.semilogx(f2["t"], f2["eta_star"], "o-", label="certified eta*(t)")
    ax.axhline(f2["limit"], color="k", ls="--", lw=1, label="2/(L+alpha)")
    ax.set_xlabel("t")
    ax.set_ylabel("eta*")
    ax.set_title("Figure 2: optimal eta for different t")
    ax.legend(fontsize=10)
    fig.tight_layout()
    written["fig2"] = _save(fig, out, "fig2_eta_star.png")
    for key, xkey, xlabel, title, fname in (
        ("fig3", "sigma", "noise sigma", "Figure 3: RMSE over sigma", "fig3_sigma.png"),
        (
            "fig4",
            "n",
            "samples n",
            "Figure 4: RMSE over sample size (sigma = 1)",
            "fig4_sample_size.png",
        ),
    ):
        rows = paper[key]["rows"]
        xs = [float(r[xkey]) for r in rows]
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
        _ci_plot(axes[0], xs, rows, "train_rmse", "training RMSE")
        _ci_plot(axes[1], xs, rows, "test_rmse", "test RMSE")
        for ax in axes:
            ax.set_xlabel(xlabel)
            if key == "fig4":
                ax.set_xscale("log")
        r0 = rows[0]
        sizes = (
            f"d = {r0['d']}, n = {r0['n']} (TbV {r0['n1']}+{r0['n2']})"
            if key == "fig3"
            else f"d = {r0['d']}, TbV n/2 + n/2"
        )
        fig.suptitle(
            f"{title}; {sizes}, t = {r0['t']}, {r0['tasks']} tasks, "
            f"{r0['test_tasks']} test tasks, 99% intervals",
            fontsize=11,
        )
        fig.tight_layout()
        written[key] = _save(fig, out, fname)
    return written


def plot_clients(clients: dict[str, Any], out: Path) -> dict[str, str]:
    """The flush-to-zero adjoint traces and the NaN-masking audit's eta_k, one PNG each."""
    import numpy as np

    plt = _plt()
    written: dict[str, str] = {}
    ftz = clients["ftz"]
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    styles = {"numpy": "-", "jax": "--", "torch": ":", "torch-ftz": "-."}
    for engine, tr in ftz["traces"].items():
        if tr["status"] != "ok":
            continue
        mags = np.array([_num(v) for v in tr["magnitude"]], dtype=float)
        steps = ftz["t"] - ftz["stride"] * np.arange(len(mags))
        ax.semilogy(
            steps,
            np.where(mags > 0, mags, np.nan),
            styles.get(engine, "-"),
            lw=1.8,
            label=f"{engine} (F' = {float.fromhex(tr['grad']):.3g}: {tr['outcome']})",
        )
    ax.axhline(2.0**-126, color="grey", lw=0.8, ls="--", label="smallest normal float32")
    ax.axhline(2.0**-149, color="grey", lw=0.8, ls=":", label="smallest subnormal float32")
    ax.invert_xaxis()
    ax.set_xlabel("step k of the reverse pass (from t down to 1)")
    ax.set_ylabel("max_j |adjoint_k[j]|")
    ax.set_title(
        f"Flush-to-zero: the adjoint stops decaying (float32, t = {ftz['t']}, "
        f"certified F' = {float.fromhex(ftz['truth']):.3g})",
        fontsize=11,
    )
    ax.legend(fontsize=9, loc="upper right")
    fig.tight_layout()
    written["ftz"] = _save(fig, out, "ftz_adjoint.png")
    runs = clients["masking"]["runs"]
    settings = sorted({(r["t"], r["eta0"], r["dtype"], r["schedule"]) for r in runs})
    width = max(7.0, 5.6 * len(settings))
    fig, axes = plt.subplots(1, len(settings), figsize=(width, 4.0), squeeze=False)
    every = clients["masking"]["stored_every"]
    for ax, (t, eta0, dt, sched) in zip(axes[0], settings, strict=True):
        mine = [
            r
            for r in runs
            if (r["t"], r["eta0"], r["dtype"], r["schedule"]) == (t, eta0, dt, sched)
        ]
        for r in mine:
            etas = np.array([_num(v) for v in r["etas"]], dtype=float)
            ax.plot(
                every * np.arange(len(etas)), etas, lw=1.5, label=f"{r['mask']}: {r['verdict']}"
            )
        star = mine[0]["eta_star"]
        ax.axhline(star, color="k", ls="--", lw=1, label="certified eta*")
        ax.set_title(f"t = {t}, eta0 = {eta0:.3g}, {dt}, {sched} schedule", fontsize=11)
        ax.set_xlabel("meta-step k")
        ax.set_ylabel("eta_k")
        ax.legend(fontsize=9)
    fig.suptitle("Meta-GD on masked float meta-gradients", fontsize=12)
    fig.tight_layout()
    written["masking"] = _save(fig, out, "masking.png")
    return written


# ------------------------------------------------------------------------------ optimizers
#: Colours of the cells that carry no outcome class (heavy-ball and Adam maps).
STATUS_COLORS: dict[str, str] = {"no_derivative": "#bdbdbd", "no_truth": "#e0e0e0"}
#: Ring marking a cell whose float run had a zero entry of Adam's vhat (visible on every class).
ZERO_MOMENT_COLOR = "#00c8ff"


def _save_indexed(fig: Any, out: Path, name: str) -> str:
    """Save a class map as an indexed PNG whose palette holds the registry's colours exactly
    (plus greys for text and the overlays): flat class colours need no more, and the file is
    a quarter of the RGBA one (the committed report must stay under 5 MB)."""
    from PIL import Image

    rel = f"figures/{name}"
    (out / "figures").mkdir(parents=True, exist_ok=True)
    fig.set_dpi(_DPI)
    fig.canvas.draw()
    rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    _plt().close(fig)
    colours = [*CLASS_COLORS.values(), *STATUS_COLORS.values(), ZERO_MOMENT_COLOR, "#333333"]
    flat = [int(c[k : k + 2], 16) for c in colours for k in (1, 3, 5)]
    flat += [g for v in range(0, 256, 15) for g in (v, v, v)]  # 18 greys, black to white
    flat += [255, 255, 255] * (256 - len(flat) // 3)
    palette = Image.new("P", (1, 1))
    palette.putpalette(flat)
    img = Image.fromarray(np.ascontiguousarray(rgb)).quantize(
        palette=palette, dither=Image.Dither.NONE
    )
    img.save(out / rel, optimize=True)
    return rel


def _class_index() -> tuple[Any, Any, dict[str, int]]:
    """Colour map, norm and index of the outcome classes followed by the cell statuses."""
    from matplotlib.colors import BoundaryNorm, ListedColormap

    names = [*OUTCOME_NAMES, *STATUS_COLORS]
    colours = [CLASS_COLORS[c] for c in OUTCOME_NAMES] + list(STATUS_COLORS.values())
    cmap = ListedColormap(colours)
    norm = BoundaryNorm(np.arange(len(names) + 1) - 0.5, len(names))
    return cmap, norm, {c: i for i, c in enumerate(names)}


def _class_legend(fig: Any, extra: list[Any]) -> None:
    from matplotlib.patches import Patch

    handles = [Patch(color=CLASS_COLORS[c], label=c.replace("_", " ")) for c in OUTCOME_NAMES]
    handles += [Patch(color=v, label=k.replace("_", " ")) for k, v in STATUS_COLORS.items()]
    fig.legend(handles=handles + extra, loc="center right", fontsize=9, frameon=False)


def _class_grid(
    maps: dict[str, Any],
    backends: list[str],
    columns: list[tuple[str, str]],
    draw: Any,
    title: str,
) -> tuple[Any, Any]:
    """A figure of outcome-class panels: a row per backend, a column per (dtype, objective);
    ``draw(ax, dt, obj, entry)`` draws one panel's mesh and overlays."""
    plt = _plt()
    rows = [
        n
        for n in backends
        if any(maps[n][dt][obj]["status"] != "unavailable" for dt, obj in columns)
    ]
    fig, axes = plt.subplots(
        len(rows),
        len(columns),
        figsize=(2.75 * len(columns) + 1.9, 2.05 * len(rows) + 0.7),
        squeeze=False,
    )
    for i, name in enumerate(rows):
        for j, (dt, obj) in enumerate(columns):
            ax = axes[i][j]
            entry = maps[name][dt][obj]
            ax.set_title(f"{name} / {dt} / {obj}", fontsize=8)
            if entry["status"] == "not_run":
                _empty_panel(ax, {"status": "not run", "reason": "in this mode (see the text)"})
                continue
            if entry["status"] != "ok":
                _empty_panel(ax, entry)
                continue
            draw(ax, dt, obj, entry)
            ax.tick_params(labelsize=7)
            if i < len(rows) - 1:
                ax.set_xlabel("")
            if j > 0:
                ax.set_ylabel("")
    fig.suptitle(title, fontsize=10)
    return fig, axes


def _mesh(ax: Any, x: Any, classes: list[list[str]]) -> None:
    cmap, norm, index = _class_index()
    z = np.array([[index[c] for c in row] for row in classes], dtype=float)
    ax.pcolormesh(x, np.arange(len(classes)), z, shading="nearest", cmap=cmap, norm=norm)


def _draw_beta(ax: Any, dt: str, obj: str, entry: dict[str, Any], *, mo: dict[str, Any]) -> None:
    """One (eta, beta) panel: classes, rho = 1 and (log objective) the model's failure line."""
    x = np.array(mo["eta_times_L_over_2"])
    betas = np.array(mo["beta_map"]["beta"])
    bnd = mo["boundary"]
    beta_y = np.interp(np.array(bnd["beta"]), betas, np.arange(len(betas)), right=np.nan)
    _mesh(ax, x, entry["classes"])
    rho_x = np.array([_num(v) for v in bnd["rho_1"]])
    ax.plot(rho_x, beta_y, color="white", lw=2.6)
    ax.plot(rho_x, beta_y, color="black", lw=1.3)
    if obj == "log":
        fx = np.array([_num(v) for v in bnd["fails"][dt]])
        ax.plot(fx, beta_y, color="white", lw=2.4, ls=(0, (3, 2)))
        ax.plot(fx, beta_y, color="#333333", lw=1.0, ls=(0, (3, 2)))
    ax.set_yticks(np.arange(len(betas)), [f"{b:g}" for b in betas])
    ax.set_xlim(0, x.max() + x[0] / 2)
    ax.set_xlabel("eta / (2/L)", fontsize=8)
    ax.set_ylabel("beta", fontsize=8)


def _draw_t(ax: Any, dt: str, obj: str, entry: dict[str, Any], *, mo: dict[str, Any]) -> None:
    """One (eta, t) panel: classes, rho = 1 and (log objective) the model's first failing t."""
    x = np.array(mo["eta_times_L_over_2"])
    horizons = mo["t_map"]["t"]
    tb = mo["t_boundary"]
    _mesh(ax, x, entry["classes"])
    if tb["rho_1"] is not None:
        ax.axvline(tb["rho_1"], color="black", lw=1.3)
    if obj == "log":
        ys = [_t_to_y(t, horizons) for t in tb[dt]]
        ax.plot(tb["eta_times_L_over_2"], ys, color="white", lw=2.4, ls=(0, (3, 2)))
        ax.plot(tb["eta_times_L_over_2"], ys, color="#333333", lw=1.0, ls=(0, (3, 2)))
    ax.set_yticks(np.arange(len(horizons)), [f"{t:g}" for t in horizons])
    ax.set_ylim(-0.5, len(horizons) - 0.5)
    ax.set_xlim(0, x.max() + x[0] / 2)
    ax.set_xlabel("eta / (2/L)", fontsize=8)
    ax.set_ylabel("t", fontsize=8)


def plot_momentum(mo: dict[str, Any], out: Path) -> dict[str, str]:
    """Heavy-ball outcome maps: ``momentum_beta.png`` over (eta, beta) and ``momentum_t.png``
    over (eta, t), a row per backend and a column per dtype and objective, with the boundary
    rho(eta, beta) = 1 and (log objective) the rho-growth model's predicted failure."""
    from functools import partial

    from matplotlib.lines import Line2D

    written: dict[str, str] = {}
    columns = [(dt, obj) for dt in mo["dtypes"] for obj in mo["objectives"]]
    for key, stem, draw, where, side in (
        ("beta_map", "momentum_beta", _draw_beta, f"t = {mo['beta_map']['t'][0]}", "right"),
        ("t_map", "momentum_t", _draw_t, f"beta = {mo['t_map']['beta'][0]:g}", "above"),
    ):
        fig, _ = _class_grid(
            mo[key]["maps"],
            mo["backends"],
            columns,
            partial(draw, mo=mo),
            f"Heavy ball, {where}: outcome of F'(eta) against certified truth",
        )
        extra = [
            Line2D([], [], color="black", lw=1.3, label="rho(eta, beta) = 1"),
            Line2D([], [], color="#333333", lw=1.0, ls=(0, (3, 2)), label=f"model: fails {side}"),
        ]
        _class_legend(fig, extra)
        fig.tight_layout(rect=(0, 0, 0.86, 0.95))
        written[stem] = _save_indexed(fig, out, f"{stem}.png")
    return written


def _draw_adam(
    ax: Any, dt: str, obj: str, entry: dict[str, Any], *, x: Any, horizons: list[int]
) -> None:
    """One Adam panel: classes over (log2 eta, t), a ring where the float run had vhat = 0."""
    _mesh(ax, x, entry["classes"])
    zy, zx = [], []
    for i, row in enumerate(entry["sqrt_at_zero"]):
        for j, z in enumerate(row):
            if z is not None:
                zy.append(i)
                zx.append(x[j])
    ax.plot(zx, zy, "o", mfc="none", mec=ZERO_MOMENT_COLOR, ms=4, mew=1.2)
    ax.set_yticks(np.arange(len(horizons)), [f"{t:g}" for t in horizons])
    ax.set_xlabel("log2 eta", fontsize=8)
    ax.set_ylabel("t", fontsize=8)


def plot_adam(ad: dict[str, Any], out: Path) -> dict[str, str]:
    """Adam outcome maps over (log2 eta, t): ``adam_t.png`` on the report's problem (a column
    per dtype and objective) and ``adam_zero.png`` on the zero-second-moment problem; a ring
    marks a cell where the float run had a zero entry of vhat (sqrt at 0)."""
    from functools import partial

    from matplotlib.lines import Line2D

    written: dict[str, str] = {}
    x = -np.array(ad["lr_exponents"], dtype=float)
    ring = Line2D(
        [], [], marker="o", mfc="none", mec=ZERO_MOMENT_COLOR, mew=1.2, ls="", label="vhat = 0"
    )
    for key, backends, objs, stem, where in (
        ("t_map", ad["backends"], ("naive", "log"), "adam_t", "the report's problem"),
        ("zero_map", ad["zero_backends"], ("log",), "adam_zero", "a coordinate with no gradient"),
    ):
        fig, _ = _class_grid(
            ad[key]["maps"],
            list(backends),
            [(dt, obj) for dt in ad["dtypes"] for obj in objs],
            partial(_draw_adam, x=x, horizons=ad[key]["t"]),
            f"Adam (torch defaults), {where}: outcome of F'(eta) against certified truth",
        )
        _class_legend(fig, [ring])
        fig.tight_layout(rect=(0, 0, 0.86 if len(objs) > 1 else 0.78, 0.95))
        written[stem] = _save_indexed(fig, out, f"{stem}.png")
    return written
