"""Text formats: sections of header lines, ``name = value`` parameters and a typed column block.

Many instruments write a scan as a text file of a few header sections and
one block of whitespace-separated columns whose names -- and sometimes types
-- a header line declares: PETRA III's ``.fio`` files (``%c`` comments,
``%p`` parameters, ``%d`` with ``Col 1 om DOUBLE`` lines and the rows), SPEC's
``#L`` line and its rows, a lab's exported tables.  These helpers do the parts
they share, so a reader of such a format is its declarations:

* `text_sections` splits the text at its section markers (a regular expression
  whose first group is the section's name) and drops comment and blank
  lines, keeping each line's number in the file for error messages;
* `text_parameters` reads ``name = value`` lines (numbers as floats, the rest as
  text);
* `column_block` reads the column definitions (a regular expression with the
  groups ``name`` and, optionally, ``type``) and the rows after them into one
  typed numpy array per column (`COLUMN_TYPES`).

Damaged input -- a row with too few values, a value that is not of its
column's type, a parameter line without a value -- is a
[`CorruptDataError`][nx5d.errors.CorruptDataError] naming the file and line.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence

import attrs
import numpy as np

from nx5d.errors import CorruptDataError, DataWarning

__all__ = ["COLUMN_TYPES", "Section", "Column", "text_sections", "text_parameters", "column_block"]

#: numpy dtypes of the column types text formats declare (DESY's ``DOUBLE``, ``INTEGER``, ``STRING``, ``BOOLEAN`` ...).
COLUMN_TYPES: Mapping[str, str] = {
    "DOUBLE": "float64",
    "FLOAT": "float64",
    "INTEGER": "int64",
    "INT": "int64",
    "LONG": "int64",
    "BOOLEAN": "bool",
    "BOOL": "bool",
    "STRING": "str",
}

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


@attrs.frozen
class Section:
    """One section of a text document: its name (what the marker's first group caught) and its lines.

    ``numbers`` holds each line's number in the file (1 for the first line).
    """

    name: str
    lines: tuple[str, ...]
    numbers: tuple[int, ...]


@attrs.frozen
class Column:
    """A column of a column block: its name as written and its numpy dtype (``"float64"``, ``"str"`` ...)."""

    name: str
    dtype: str = "float64"


def text_sections(text: str, marker: str | re.Pattern[str], *, comment: str | None = None) -> list[Section]:
    """``text`` split at the lines matching ``marker`` (a regular expression; its first group names the section).

    Lines are stripped of surrounding white space; blank lines, and lines
    starting with ``comment`` when given, belong to no section.  Lines before
    the first marker form a section named ``""`` (left out when there are
    none).  A name may repeat (several scans in one file): the sections are
    returned in the file's order.
    """
    pattern = re.compile(marker)
    found: list[Section] = []
    name, lines, numbers = "", [], []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or (comment is not None and line.startswith(comment)):
            continue
        m = pattern.fullmatch(line)
        if m is None:
            lines.append(line)
            numbers.append(number)
            continue
        if name or lines:
            found.append(Section(name, tuple(lines), tuple(numbers)))
        name, lines, numbers = m.group(1), [], []
    if name or lines:
        found.append(Section(name, tuple(lines), tuple(numbers)))
    return found


def _number_or_text(value: str) -> float | str:
    try:
        return float(value)
    except ValueError:
        return value


def text_parameters(section: Section, where: str, *, separator: str = "=") -> dict[str, float | str]:
    """The ``name = value`` lines of ``section``: numbers (``nan`` too) as floats, anything else as text.

    A line without ``separator`` is a `CorruptDataError` naming ``where``
    and the line; a name given twice keeps its last value, with a warning.
    """
    out: dict[str, float | str] = {}
    for line, number in zip(section.lines, section.numbers, strict=True):
        name, sep, value = line.partition(separator)
        if not sep or not name.strip():
            raise CorruptDataError(f"{where} line {number}: {line!r} is no 'name {separator} value' parameter")
        name = name.strip()
        if name in out:
            warnings.warn(
                f"{where} line {number}: parameter {name!r} is given again; its last value is kept",
                DataWarning,
                stacklevel=2,
            )
        out[name] = _number_or_text(value.strip())
    return out


def _typed(texts: list[str], column: Column, where: str, numbers: Sequence[int]) -> np.ndarray:
    if column.dtype == "str":
        return np.array(texts, dtype=str)
    if column.dtype == "bool":
        lowered = [t.lower() for t in texts]
        for text, number in zip(lowered, numbers, strict=True):
            if text not in _TRUE and text not in _FALSE:
                raise CorruptDataError(f"{where} line {number}: {text!r} of column {column.name!r} is no boolean")
        return np.array([t in _TRUE for t in lowered], dtype=bool)
    try:
        return np.array(texts, dtype=str).astype(column.dtype)
    except ValueError:
        for text, number in zip(texts, numbers, strict=True):
            try:
                np.array(text).astype(column.dtype)
            except ValueError:
                raise CorruptDataError(
                    f"{where} line {number}: {text!r} of column {column.name!r} is no {column.dtype} value"
                ) from None
        raise


def _definitions(section: Section, definition: re.Pattern[str], where: str) -> tuple[list[Column], int]:
    columns: list[Column] = []
    for line, number in zip(section.lines, section.numbers, strict=True):
        m = definition.fullmatch(line)
        if m is None:
            break
        declared = m.groupdict().get("type") or "DOUBLE"
        dtype = COLUMN_TYPES.get(declared.upper())
        if dtype is None:
            raise CorruptDataError(
                f"{where} line {number}: column type {declared!r} of {m['name']!r} is unknown "
                f"(known: {', '.join(COLUMN_TYPES)})"
            )
        columns.append(Column(m["name"], dtype))
    return columns, len(columns)


def column_block(
    section: Section, where: str, *, definition: str | re.Pattern[str] | None = None, columns: Sequence[Column] = ()
) -> list[tuple[Column, np.ndarray]]:
    """The columns of a block of rows: ``[(column, values)]`` in the file's order (names may repeat).

    The columns are declared either by the section's first lines, each
    matching ``definition`` (groups ``name`` and, optionally, ``type``: a
    key of `COLUMN_TYPES`, default ``DOUBLE``), or by ``columns``.  Every
    following line is a row of whitespace-separated values, one per column;
    a row with another count, or a value not of its column's type, is a
    `CorruptDataError` naming ``where`` and the line.
    """
    declared, skip = list(columns), 0
    if definition is not None:
        declared, skip = _definitions(section, re.compile(definition), where)
    if not declared:
        raise CorruptDataError(f"{where}: the data block declares no column")
    rows, numbers = section.lines[skip:], section.numbers[skip:]
    cells: list[list[str]] = []
    for row, number in zip(rows, numbers, strict=True):
        values = row.split()
        if len(values) != len(declared):
            raise CorruptDataError(
                f"{where} line {number}: {len(values)} values in a row of {len(declared)} columns "
                f"({', '.join(c.name for c in declared)})"
            )
        cells.append(values)
    by_column = [list(texts) for texts in zip(*cells, strict=True)] if cells else [[] for _ in declared]
    return [(c, _typed(t, c, where, numbers)) for c, t in zip(declared, by_column, strict=True)]
