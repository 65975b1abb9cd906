"""Reading the tab-separated tables of UDKM scans (all four variants)."""

from __future__ import annotations

import io
import warnings

import attrs
import numpy as np
import pandas as pd

from nx5d.errors import CorruptDataError, DataWarning
from nx5d.toolkit import agreeing

from .formats import Variant
from .parameters import decode_text

__all__ = ["Table", "read_table"]


@attrs.frozen
class Table:
    """A parsed scan table.

    Attributes
    ----------
    variant:
        The table variant.
    headers:
        Column header texts exactly as written (the first includes ``%``).
    values:
        Per column, in the order of ``headers``: ``(rows,)`` values, or
        ``(rows, k)`` for a column holding several values per row (always
        the last column).
    images:
        Image file names from per-frame lines, if the variant has them.
    start, end:
        Start and end time texts from per-frame lines, if any.
    """

    variant: Variant
    headers: tuple[str, ...]
    values: tuple[np.ndarray, ...]
    images: tuple[str, ...] | None = None
    start: tuple[str, ...] | None = None
    end: tuple[str, ...] | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """Header texts without the leading ``%``."""
        return tuple(h.lstrip("%").strip() for h in self.headers)

    @property
    def rows(self) -> int:
        """Number of data rows (frames)."""
        return len(self.values[0]) if self.values else 0

    def column(self, name: str, what: str, where: str) -> np.ndarray:
        """The values of the column headed ``name`` (without ``%``); a repeated header must agree in every copy."""
        found = [k for k, column in enumerate(self.columns) if column == name]
        if not found:
            raise CorruptDataError(f"{where} has no column {name!r}")
        return agreeing([self.values[k] for k in found], [f"{name} (column {k + 1})" for k in found], what, where)


def _split_header(line: str, where: str, number: int) -> list[str]:
    if not line.startswith("%"):
        raise CorruptDataError(f"{where}, line {number}: expected a header line starting with '%', got {line[:40]!r}")
    return line.rstrip("\r\n").split("\t")


def _check_cells(lines: list[str], numbers: list[int], counts: list[int], headers: list[str], where: str) -> None:
    """Every column but the last (a profile, possibly empty) has a value in every row."""
    needed = len(headers) - 1
    for line, number, count in zip(lines, numbers, counts, strict=True):
        if count < needed:
            raise CorruptDataError(
                f"{where}, line {number}: {count} fields, but the header names {len(headers)} columns "
                f"(no value for {headers[count]!r})"
            )
        fields = line.split("\t", needed)
        empty = next((k for k in range(needed) if not fields[k].strip()), None)
        if empty is not None:
            raise CorruptDataError(f"{where}, line {number}: the cell of column {headers[empty]!r} is empty")


def _numbers(lines: list[str], numbers: list[int], headers: list[str], where: str, complete: bool) -> np.ndarray:
    """Parse data rows into a float array ``(rows, fields)``; rows may carry extra values for the last column.

    A row cut short by a writer that is still busy (no newline at the end of
    the file) and rows with empty cells raise `CorruptDataError`
    naming the line: a missing value is never read as NaN.  Values written as
    ``nan`` stay NaN.
    """
    n_columns = len(headers)
    if not lines:
        return np.zeros((0, n_columns))
    counts = [line.count("\t") + 1 for line in lines]
    width = max(max(counts), n_columns)
    if not complete and len(lines) > 1 and counts[-1] < counts[-2]:
        raise CorruptDataError(
            f"{where}, line {numbers[-1]}: the table is truncated (last row has {counts[-1]} of {counts[-2]} fields)"
        )
    _check_cells(lines, numbers, counts, headers, where)
    try:
        frame = pd.read_csv(
            io.StringIO("\n".join(lines)), sep="\t", header=None, names=range(width), dtype=float, engine="c"
        )
    except (ValueError, pd.errors.ParserError):
        for line, number in zip(lines, numbers, strict=True):
            for k, field in enumerate(line.rstrip("\r").split("\t")):
                try:
                    if field.strip():
                        float(field)
                except ValueError:
                    raise CorruptDataError(
                        f"{where}, line {number}, field {k + 1}: {field[:30]!r} is not a number"
                    ) from None
        raise CorruptDataError(f"{where}: the table cannot be parsed") from None
    if len(frame) != len(lines):
        raise CorruptDataError(f"{where}: {len(frame)} rows parsed from {len(lines)} lines")
    return frame.to_numpy(dtype=float)


def read_table(data: bytes, variant: Variant, where: str) -> Table:
    """Parse the bytes of a table file of ``variant`` (``where`` names it in errors)."""
    text = decode_text(data)
    complete = text.endswith("\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [line.rstrip("\r") for line in lines]
    if not lines:
        raise CorruptDataError(f"{where} is empty")
    headers = _split_header(lines[0], where, 1)
    body_start = 1
    if variant.extra_header is not None:
        if len(lines) < 2 or not lines[1].startswith("%"):
            raise CorruptDataError(f"{where}, line 2: expected the header '% {variant.extra_header}'")
        body_start = 2
    data_lines: list[str] = []
    data_numbers: list[int] = []
    images: list[str] = []
    starts: list[str] = []
    ends: list[str] = []
    pending: tuple[str, str, str, int] | None = None
    for number, line in enumerate(lines[body_start:], start=body_start + 1):
        if not line.strip():
            continue
        if line.startswith("%"):
            if not variant.per_frame_lines:
                continue  # further comments
            fields = line[1:].strip().split("\t")
            if len(fields) < 3:
                raise CorruptDataError(f"{where}, line {number}: expected '% start<TAB>end<TAB>image', got {line!r}")
            if pending is not None:
                raise CorruptDataError(f"{where}, line {number}: frame line {pending[3]} has no data row")
            pending = (fields[0], fields[1], fields[2], number)
            continue
        if variant.per_frame_lines:
            if pending is None:
                raise CorruptDataError(f"{where}, line {number}: data row without a preceding frame line")
            starts.append(pending[0])
            ends.append(pending[1])
            images.append(pending[2])
            pending = None
        data_lines.append(line)
        data_numbers.append(number)
    if pending is not None:
        warnings.warn(
            f"{where}, line {pending[3]}: the last frame line has no data row yet; the frame is left out",
            DataWarning,
            stacklevel=3,
        )
    numbers = _numbers(data_lines, data_numbers, list(headers), where, complete)
    last = numbers[:, len(headers) - 1 :]
    values = (
        *(numbers[:, k] for k in range(len(headers) - 1)),
        last[:, 0] if last.shape[1] == 1 else last,
    )
    per_frame = variant.per_frame_lines
    return Table(
        variant,
        tuple(headers),
        values,
        tuple(images) if per_frame else None,
        tuple(starts) if per_frame else None,
        tuple(ends) if per_frame else None,
    )
