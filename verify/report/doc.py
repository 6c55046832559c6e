"""The content model of the report's pages: one list of blocks rendered to both pages.

Both ``report.md`` and ``index.html`` are rendered from one :class:`Doc` (headings, paragraphs,
lists, tables, figures, embedded Markdown) by the templates of :mod:`verify.report.pages`, so
they say the same thing. Text in blocks is Markdown inline syntax (code spans, bold, links).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Doc", "fmt"]


@dataclass
class Doc:
    """The blocks of a page, in order, and its table of contents.

    Attributes
    ----------
    blocks : list of (kind, value)
        ``("h", (level, text, anchor))``, ``("p", (text, css_class))``, ``("ul", items)``,
        ``("table", (header, rows, css_class))``, ``("img", (path, alt))``,
        ``("figrow", [(path, alt), ...])`` or ``("md", markdown_text)``.
    toc : list of (level, text, anchor)
        The headings of level 1 and 2.
    """

    blocks: list[tuple[str, Any]] = field(default_factory=list)
    toc: list[tuple[int, str, str]] = field(default_factory=list)

    def h(self, level: int, text: str, anchor: str | None = None) -> None:
        """A heading (anchor: from the text unless given)."""
        anchor = anchor or re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
        self.blocks.append(("h", (level, text, anchor)))
        if level <= 2:
            self.toc.append((level, text, anchor))

    def p(self, text: str, cls: str | None = None) -> None:
        """A paragraph (``cls``: its CSS class on the HTML page)."""
        self.blocks.append(("p", (text, cls)))

    def ul(self, items: list[str]) -> None:
        """A bullet list."""
        self.blocks.append(("ul", items))

    def table(self, header: list[str], rows: list[list[Any]], cls: str | None = None) -> None:
        """A table; a cell ``"swatch:#rrggbb:label"`` is a colour swatch on the HTML page."""
        self.blocks.append(("table", (header, [[str(c) for c in r] for r in rows], cls)))

    def img(self, path: str, alt: str) -> None:
        """A figure (path relative to the report folder)."""
        self.blocks.append(("img", (path, alt)))

    def figrow(self, items: list[tuple[str, str]]) -> None:
        """Figures side by side."""
        self.blocks.append(("figrow", items))

    def md(self, text: str) -> None:
        """Raw Markdown (rendered to HTML by a Markdown library)."""
        self.blocks.append(("md", text))


def fmt(x: Any, spec: str = ".4g") -> str:
    """A number for a table cell: ``"-"`` for None, strings as they are, else ``format``."""
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    return format(x, spec)
