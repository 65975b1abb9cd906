"""Plain-text and HTML tables for reprs in terminals and Jupyter.

Text tables fit the terminal: columns equal in every row give way first
(their value is said once, under the title), then columns wider than the
terminal allows are shortened (``…``), widest first.  Long tables show their first and last
rows and say how many are left out.  HTML cells carry their alignment
inline, so a notebook's own table style (JupyterLab right-aligns cells)
cannot override it; long values wrap instead of being cut.
"""

from __future__ import annotations

import html
import shutil
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["Table", "format_cell", "terminal_width"]

#: Rows a table shows at most; longer ones show their first and last rows.
MAX_ROWS = 60
#: Rows shown at the end of a cut table.
TAIL_ROWS = 10
#: The narrowest a text column is shortened to.
MIN_WIDTH = 6
#: Cells longer than this wrap in HTML.
WRAP_AT = 60

_CELL = "text-align:left;vertical-align:top;padding:0.15em 0.7em;"
# Styles are inline: notebooks that are not trusted (and GitHub's renderer) drop <style> blocks.
_CAPTION = "caption-side:top;text-align:left;font-weight:bold;white-space:nowrap;"


def terminal_width(default: int = 100) -> int:
    """The width of the terminal (``$COLUMNS`` where set), or ``default`` where there is none."""
    return shutil.get_terminal_size((default, 24)).columns


def format_cell(value: Any, limit: int | None = None) -> str:
    """One-line text for a table cell (``None`` is empty), cut to ``limit`` characters if given."""
    if value is None:
        return ""
    text = f"{value:.6g}" if isinstance(value, float) else str(value)
    text = " ".join(text.split())
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def _widths(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> list[int]:
    widths = [len(c) for c in columns]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    return widths


def _too_wide(widths: Sequence[int], width: int) -> bool:
    return sum(widths) + 2 * (len(widths) - 1) > width


class Table:
    """A small table: column names and rows of cells (mappings by column).

    Parameters
    ----------
    columns:
        The columns, in order.
    rows:
        One mapping per row (missing cells are empty).
    title:
        A caption.
    max_rows:
        Rows shown at most (the first ones and the last `TAIL_ROWS`);
        ``None``: all.
    more:
        Said after the count of rows left out (``"proposal.table() has them all"``).
    whole:
        Columns shortened only when every other one is as short as it gets
        (a start time, a spice change: cut, they mislead).
    footnotes:
        Lines said in full below the text table, where cells are shortened
        (the reason a row could not be read).
    """

    def __init__(
        self,
        columns: Sequence[str],
        rows: Sequence[Mapping[str, Any]],
        title: str = "",
        *,
        max_rows: int | None = MAX_ROWS,
        more: str = "",
        whole: Sequence[str] = (),
        footnotes: Sequence[str] = (),
    ) -> None:
        self.columns = list(columns)
        self.rows = [[format_cell(row.get(c)) for c in self.columns] for row in rows]
        self.title = title
        self.max_rows = max_rows
        self.more = more
        self.whole = frozenset(whole)
        self.footnotes = list(footnotes)

    @classmethod
    def from_records(
        cls, records: Sequence[Mapping[str, Any]], leading: Sequence[str] = (), title: str = "", **kwargs: Any
    ) -> Table:
        """Columns ``leading`` first, then every other key in order of first appearance."""
        columns = list(leading)
        for record in records:
            columns.extend(k for k in record if k not in columns)
        return cls(columns, records, title, **kwargs)

    def _shown(self) -> tuple[list[list[str]], list[list[str]], int]:
        """The first rows, the last rows and how many are left out between them."""
        if self.max_rows is None or len(self.rows) <= self.max_rows:
            return self.rows, [], 0
        head = max(1, self.max_rows - TAIL_ROWS)
        return self.rows[:head], self.rows[-TAIL_ROWS:], len(self.rows) - head - TAIL_ROWS

    def _more_text(self, left_out: int) -> str:
        return f"… {left_out} more row{'s' * (left_out != 1)}" + (f" ({self.more})" if self.more else "")

    def to_text(self, width: int | None = None) -> str:
        """Aligned plain text, ``width`` characters wide at most (default: the terminal's).

        Where the columns do not fit, those equal in every row leave the table
        first (a line under the title gives their value), then the widest
        columns are shortened with ``…`` (those named ``whole`` last).
        """
        width = terminal_width() if width is None else width
        head, tail, left_out = self._shown()
        keep = list(range(len(self.columns)))
        widths = _widths(self.columns, head + tail)
        common: list[str] = []
        if _too_wide(widths, width) and len(self.rows) > 1:
            constant = [i for i in keep[1:] if len({row[i] for row in self.rows}) == 1 and self.rows[0][i]]
            common = [f"{self.columns[i]} = {self.rows[0][i]}" for i in constant]
            keep = [i for i in keep if i not in constant]
            widths = [widths[i] for i in keep]
        names = [self.columns[i] for i in keep]
        header = [max(MIN_WIDTH, len(name)) for name in names]
        # floors, in turn: other columns to their header's width, the whole ones too, then every one to the minimum
        for floors in (
            [w if c in self.whole else h for c, w, h in zip(names, widths, header, strict=True)],
            header,
            [MIN_WIDTH] * len(names),
        ):
            while _too_wide(widths, width):
                room = [w - f for w, f in zip(widths, floors, strict=True)]
                if max(room, default=0) <= 0:
                    break
                widest = max(range(len(widths)), key=lambda k: (room[k] > 0, widths[k]))
                widths[widest] -= 1

        def line(cells: Sequence[str]) -> str:
            shown = [cells[i] for i in keep]
            return "  ".join(format_cell(c, w).ljust(w) for c, w in zip(shown, widths, strict=True)).rstrip()

        lines = [self.title] if self.title else []
        if common:
            lines.append(format_cell(f"in every row: {'; '.join(common)}", width))
        lines += [line(self.columns), "  ".join("-" * w for w in widths)]
        lines += [line(row) for row in head]
        if left_out:
            lines.append(self._more_text(left_out))
        lines += [line(row) for row in tail]
        lines += self.footnotes
        return "\n".join(lines)

    def to_html(self) -> str:
        """HTML ``<table>`` (cells escaped; alignment, wrapping and caption styled inline)."""

        def cell(tag: str, text: str) -> str:
            wrap = "white-space:normal;min-width:20em;" if len(text) > WRAP_AT else "white-space:nowrap;"
            return f'<{tag} style="{_CELL}{wrap}">{html.escape(text)}</{tag}>'

        head, tail, left_out = self._shown()
        header = "".join(cell("th", c) for c in self.columns)
        rows = ["<tr>" + "".join(cell("td", c) for c in row) + "</tr>" for row in head]
        if left_out:
            more = html.escape(self._more_text(left_out))
            span = len(self.columns)
            style = f"{_CELL}font-style:italic;"
            rows.append(f'<tr><td class="nx5d-more" style="{style}" colspan="{span}">{more}</td></tr>')
        rows += ["<tr>" + "".join(cell("td", c) for c in row) + "</tr>" for row in tail]
        caption = f'<caption style="{_CAPTION}">{html.escape(self.title)}</caption>' if self.title else ""
        return (
            f'<table class="nx5d-table">{caption}<thead><tr>{header}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
        )
