"""The report's pages from one :class:`~verify.report.doc.Doc`: Jinja2 templates, Markdown by
markdown-it-py.

The templates are package data under ``verify/report/templates/``: ``report.md.j2`` (the
Markdown page), ``index.html.j2`` (the static HTML page, autoescaped) and ``report.css`` (its
inline style sheet). Inline Markdown in block text (code spans, bold, links) and embedded
Markdown (the learned-optimizer summary) become HTML through :mod:`markdown_it` with raw HTML
disabled, so nothing in the data can inject markup.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup

from .doc import Doc

__all__ = ["to_html", "to_markdown"]

#: Table cells that name a verdict: coloured on the HTML page.
_VERDICT = re.compile(r"^(matches|differs|holds|violated|not decided)$")


def _md_cell(text: str) -> str:
    """A Markdown table cell: a colour swatch shows its label, pipes are escaped."""
    if text.startswith("swatch:"):  # a colour swatch is HTML-only: Markdown shows the label
        text = text.split(":", 2)[2]
    return text.replace("|", "\\|").replace("\n", " ")


def _md_image(item: tuple[str, str]) -> str:
    path, alt = item
    return f"![{alt}]({path})"


def _shift_headings(state: Any) -> None:
    """Embedded Markdown sits below the page's own headings: its ``#`` becomes ``<h2>``."""
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1:]) + 1, 6)}"


@functools.cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    md.core.ruler.push("shift_headings", _shift_headings)
    return md


def _inline(text: str) -> Markup:
    return Markup(_markdown().renderInline(text))  # markdown-it escapes: raw HTML is off


def _block_markdown(text: str) -> Markup:
    return Markup(_markdown().render(text))  # markdown-it escapes: raw HTML is off


@functools.cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("verify.report", "templates"),
        autoescape=select_autoescape(["html.j2"], default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=StrictUndefined,
    )
    env.filters.update(
        md_cell=_md_cell, md_image=_md_image, inline=_inline, markdown=_block_markdown
    )
    env.tests["verdict"] = lambda cell: bool(_VERDICT.match(cell))
    return env


def to_markdown(doc: Doc) -> str:
    """``report.md``: the blocks as Markdown (each followed by an empty line)."""
    text = _environment().get_template("report.md.j2").render(doc=doc)
    return text.rstrip() + "\n"


def to_html(doc: Doc, title: str) -> str:
    """``index.html``: the blocks as a static page with a table of contents after the title."""
    return _environment().get_template("index.html.j2").render(doc=doc, title=title)
