"""Rendering of ``l2l-verify report``: figures, CSV files, ``report.md`` and ``index.html``.

Everything is drawn from ``data.json`` and ``provenance.json`` (nothing is recomputed):
figures by :mod:`verify.report.figures`, CSV files by :mod:`verify.report.csvs`, the page
content by :mod:`verify.report.content` and the two pages by the templates of
:mod:`verify.report.pages`. The HTML is static: inline CSS, no scripts, no network, figures
referenced by relative paths, so the folder opens from disk anywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .content import content
from .csvs import write_csvs
from .figures import plot_adam, plot_backprop, plot_clients, plot_momentum, plot_paper, plot_regime
from .pages import to_html, to_markdown

__all__ = ["TITLE", "render"]

#: Title of the HTML page.
TITLE = "l2l-verify precision report"


def render(
    data: dict[str, Any],
    prov: dict[str, Any],
    out: Path,
    *,
    figures: dict[str, str] | None = None,
) -> dict[str, str]:
    """Write figures (unless given), CSV files, ``report.md`` and ``index.html``; return the
    figure paths (relative to ``out``)."""
    if figures is None:
        sec = data["sections"]
        figures = {
            **plot_regime(sec["regime"], out),
            **plot_backprop(sec["backprop"], out),
            **plot_paper(sec["paper"], out),
            **plot_clients(sec["clients"], out),
        }
        if "momentum" in sec:
            figures.update(plot_momentum(sec["momentum"], out))
        if "adam" in sec:
            figures.update(plot_adam(sec["adam"], out))
        write_csvs(data, out)
    doc = content(data, prov, figures, out)
    (out / "report.md").write_text(to_markdown(doc))
    (out / "index.html").write_text(to_html(doc, TITLE))
    return figures
