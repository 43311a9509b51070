"""HTML tables for notebook output.

Plain functions that return HTML strings (wrap them in ``IPython.display.HTML``
or return an object with ``_repr_html_``), so they can be tested without
Jupyter.  Styles are inline: a notebook opened anywhere -- JupyterLab, VS Code,
a static HTML export -- looks the same.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

TABLE_STYLE = "border-collapse:collapse;margin:4px 0;font-size:13px"
CELL_STYLE = "border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top"
HEAD_STYLE = CELL_STYLE + ";background:#f0f3f6;font-weight:600"
CODE_STYLE = "font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px"


# JupyterLab typesets $...$ in HTML output as LaTeX: two "$ROOT/..." paths on
# one line became a formula.  Every output of ours is marked for MathJax to
# leave alone (tex2jax_ignore: MathJax 2 and JupyterLab's setting;
# mathjax_ignore: MathJax 3's default).
NO_MATH = "tex2jax_ignore mathjax_ignore"


def no_math(markup: str) -> str:
    """``markup`` in an element MathJax does not typeset."""
    return f'<div class="{NO_MATH}">{markup}</div>'


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def cell_text(value: Any, limit: int = 12) -> str:
    """One value as cell HTML: lists one item a line, None as a dash."""
    if value is None:
        return '<span style="color:#8c959f">–</span>'
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        items = [esc(v) for v in value[:limit]]
        if len(value) > limit:
            items.append(f"<i>… {len(value) - limit} more</i>")
        return "<br>".join(items) if items else '<span style="color:#8c959f">(none)</span>'
    if isinstance(value, dict):
        return "<br>".join(f"{esc(k)}: {esc(v)}" for k, v in value.items()) or "{}"
    return esc(value)


def html_table(
    rows: Iterable[Sequence[Any]],
    columns: Sequence[str] | None = None,
    caption: str | None = None,
    code_columns: Sequence[int] = (),
) -> str:
    """A table of ``rows``; ``code_columns`` are shown in a monospace font."""
    parts = [f'<table style="{TABLE_STYLE}">']
    if caption:
        parts.append(
            f'<caption style="caption-side:top;text-align:left;font-weight:600;padding:2px 0">'
            f"{esc(caption)}</caption>"
        )
    if columns:
        parts.append("<tr>" + "".join(f'<th style="{HEAD_STYLE}">{esc(c)}</th>' for c in columns) + "</tr>")
    for row in rows:
        cells = []
        for index, value in enumerate(row):
            style = CELL_STYLE + (";" + CODE_STYLE if index in code_columns else "")
            cells.append(f'<td style="{style}">{cell_text(value)}</td>')
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</table>")
    return "".join(parts)


def code_list(lines: Sequence[str], title: str | None = None, limit: int = 25) -> str:
    """Monospace lines (kernel operations, HTTP requests), the first ``limit``."""
    shown = [esc(line) for line in lines[:limit]]
    if len(lines) > limit:
        shown.append(f"<i>… and {len(lines) - limit} more</i>")
    heading = f'<div style="font-weight:600;margin-top:6px">{esc(title)}</div>' if title else ""
    return (
        heading + f'<pre style="{CODE_STYLE};background:#f6f8fa;padding:6px;margin:2px 0;'
        f'white-space:pre-wrap;word-break:break-all">' + "\n".join(shown) + "</pre>"
    )


def side_by_side(*blocks: str) -> str:
    """HTML blocks next to each other (they wrap on a narrow page)."""
    return (
        '<div style="display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start">'
        + "".join(f"<div>{block}</div>" for block in blocks)
        + "</div>"
    )


class Html:
    """An HTML string that Jupyter displays as HTML (and prints as text elsewhere)."""

    def __init__(self, markup: str):
        self.markup = markup

    def _repr_html_(self) -> str:
        return no_math(self.markup)

    def __str__(self) -> str:
        return self.markup


def size(nbytes: int | None) -> str:
    """Bytes the way docker prints them (``1.2MB``), or "unlimited"."""
    from stepbox.core.units import human_size

    return "unlimited" if nbytes is None else human_size(nbytes)


__all__ = ["Html", "code_list", "esc", "html_table", "side_by_side", "size"]
