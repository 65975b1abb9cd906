"""Plain-text and HTML tables for reprs in terminals and Jupyter."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["Table", "format_cell"]

_MAX_CELL = 60

# Left-aligned cells and a left-aligned bold caption, whatever the notebook's own table style.
_STYLE = (
    "<style>.nx5d-table th, .nx5d-table td {text-align: left; padding: 0.15em 0.7em; white-space: nowrap}"
    " .nx5d-table caption {caption-side: top; text-align: left; font-weight: bold; white-space: nowrap}</style>"
)


def format_cell(value: Any, limit: int = _MAX_CELL) -> str:
    """Short one-line text for a table cell (``None`` is empty)."""
    if value is None:
        return ""
    text = f"{value:.6g}" if isinstance(value, float) else str(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Table:
    """A small table: column names and rows of cells (mappings by column)."""

    def __init__(self, columns: Sequence[str], rows: Sequence[Mapping[str, Any]], title: str = "") -> None:
        self.columns = list(columns)
        self.rows = [[format_cell(row.get(c)) for c in self.columns] for row in rows]
        self.title = title

    @classmethod
    def from_records(cls, records: Sequence[Mapping[str, Any]], leading: Sequence[str] = (), title: str = "") -> Table:
        """Columns ``leading`` first, then every other key in order of first appearance."""
        columns = list(leading)
        for record in records:
            columns.extend(k for k in record if k not in columns)
        return cls(columns, records, title)

    def to_text(self) -> str:
        """Aligned plain-text rendering."""
        widths = [len(c) for c in self.columns]
        for row in self.rows:
            widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
        lines = [self.title] if self.title else []
        lines.append("  ".join(c.ljust(w) for c, w in zip(self.columns, widths, strict=True)).rstrip())
        lines.append("  ".join("-" * w for w in widths))
        for row in self.rows:
            lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        return "\n".join(lines)

    def to_html(self) -> str:
        """HTML ``<table>`` rendering (cells escaped)."""
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in self.rows)
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        return f'{_STYLE}<table class="nx5d-table">{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
