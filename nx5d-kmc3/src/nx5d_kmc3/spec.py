"""SPEC data files: reading and writing the text format KMC3-XPP records scans in.

A SPEC file starts with a file header (``#F`` file name, ``#E`` epoch, ``#D``
date, ``#C`` comments, ``#O0``, ``#O1`` ... motor names) followed by scans.  A
scan starts with ``#S number command``, has header lines (``#D`` date, ``#T``
count time, ``#P0`` ... motor positions in the order of the ``#O`` lines,
``#N`` column count, ``#L`` column labels separated by two spaces) and one
line of numbers per point.  Scan numbers may repeat; the *order* (``1``,
``2`` ...) tells repeats apart, and ``N.order`` is the scan's key, as in
silx's SpecH5 view.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping, Sequence

import attrs
import numpy as np

from nx5d.errors import CorruptDataError

__all__ = ["SpecScan", "SpecFile", "parse_spec", "format_spec", "scan_keys"]

_SPEC_DATE = "%a %b %d %H:%M:%S %Y"


@attrs.frozen
class SpecScan:
    """One scan of a SPEC file."""

    number: int
    order: int
    command: str
    header: tuple[str, ...]  #: the scan's ``#`` lines, ``#S`` included, as written
    labels: tuple[str, ...]
    data: np.ndarray = attrs.field(eq=False)  #: ``(points, columns)`` float64
    positions: Mapping[str, float] = attrs.field(factory=dict)  #: motor -> position at the scan start

    @property
    def key(self) -> str:
        """``"number.order"``, e.g. ``"12.1"``."""
        return f"{self.number}.{self.order}"

    @property
    def points(self) -> int:
        """Number of data lines."""
        return int(self.data.shape[0])

    @property
    def date(self) -> str | None:
        """The ``#D`` date as ISO 8601 (``None`` if absent or unreadable)."""
        for line in self.header:
            if line.startswith("#D "):
                try:
                    return datetime.datetime.strptime(line[3:].strip(), _SPEC_DATE).isoformat()
                except ValueError:
                    return None
        return None

    @property
    def scanned_motor(self) -> str | None:
        """The first motor named by the command (``ascan Theta ...`` -> ``Theta``)."""
        words = self.command.split()
        return words[1] if len(words) > 1 and not _is_number(words[1]) else None

    def column(self, label: str) -> np.ndarray:
        """The values of one column."""
        return self.data[:, self.labels.index(label)]


@attrs.frozen
class SpecFile:
    """A parsed SPEC file: its header lines and its scans in file order."""

    header: tuple[str, ...]
    scans: tuple[SpecScan, ...]

    @property
    def motors(self) -> tuple[str, ...]:
        """Motor names from the ``#O`` lines."""
        return _names(self.header, "#O")

    def scan(self, key: str) -> SpecScan:
        """The scan with key ``"N.order"``."""
        for scan in self.scans:
            if scan.key == key:
                return scan
        raise KeyError(key)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _names(lines: Iterable[str], tag: str) -> tuple[str, ...]:
    rows = sorted(
        (int(m.group(1)), m.group(2)) for line in lines if (m := re.match(rf"{tag}(\d+) (.*)$", line)) is not None
    )
    return tuple(name for _, text in rows for name in re.split(r"\s{2,}", text.strip()) if name)


def _values(lines: Iterable[str], tag: str) -> list[float]:
    rows = sorted(
        (int(m.group(1)), m.group(2)) for line in lines if (m := re.match(rf"{tag}(\d+) (.*)$", line)) is not None
    )
    return [float(v) for _, text in rows for v in text.split()]


def scan_keys(text: str) -> list[str]:
    """The ``N.order`` keys of the scans in SPEC ``text``, reading only ``#S`` lines."""
    seen: dict[int, int] = {}
    keys = []
    for m in re.finditer(r"^#S (\d+)", text, flags=re.MULTILINE):
        number = int(m.group(1))
        seen[number] = seen.get(number, 0) + 1
        keys.append(f"{number}.{seen[number]}")
    return keys


def parse_spec(text: str, source: str = "SPEC file") -> SpecFile:
    """Parse a whole SPEC file; ``source`` names it in errors (with line numbers)."""
    lines = text.splitlines()
    file_header: list[str] = []
    scans: list[SpecScan] = []
    seen: dict[int, int] = {}
    i = 0
    while i < len(lines) and not lines[i].startswith("#S "):
        if lines[i].strip():
            file_header.append(lines[i])
        i += 1
    motors = _names(file_header, "#O")
    while i < len(lines):
        start = i
        m = re.match(r"#S (\d+)\s*(.*)$", lines[i])
        if m is None:
            raise CorruptDataError(f"{source}, line {i + 1}: expected a '#S' scan header, found {lines[i]!r}")
        number = int(m.group(1))
        seen[number] = seen.get(number, 0) + 1
        header = [lines[i]]
        rows: list[list[float]] = []
        row_lines: list[int] = []
        i += 1
        while i < len(lines) and not lines[i].startswith("#S "):
            line = lines[i]
            if line.startswith("#"):
                if not rows:
                    header.append(line)
            elif line.strip():
                try:
                    rows.append([float(v) for v in line.split()])
                except ValueError:
                    raise CorruptDataError(f"{source}, line {i + 1}: not a row of numbers: {line!r}") from None
                row_lines.append(i + 1)
            i += 1
        labels = tuple(_labels(header))
        for row, line_no in zip(rows, row_lines, strict=True):
            if len(row) != len(labels):
                raise CorruptDataError(
                    f"{source}, line {line_no}: {len(row)} values for the {len(labels)} columns of scan {number} "
                    f"(line {start + 1})"
                )
        data = np.array(rows, dtype=np.float64).reshape(len(rows), len(labels))
        positions = dict(zip(motors, _values(header, "#P"), strict=False))
        scans.append(SpecScan(number, seen[number], m.group(2).strip(), tuple(header), labels, data, positions))
    return SpecFile(tuple(file_header), tuple(scans))


def _labels(header: Sequence[str]) -> list[str]:
    for line in header:
        if line.startswith("#L "):
            return [name for name in re.split(r"\s{2,}", line[3:].strip()) if name]
    return []


def _number(value: float) -> str:
    """Shortest text that reads back as exactly ``value``."""
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def format_spec(header: Sequence[str], scans: Sequence[SpecScan]) -> str:
    """SPEC text for a file header and scans (each scan's own header lines are written as given)."""
    out = [*header, ""]
    for scan in scans:
        out.extend(scan.header)
        out.extend(" ".join(_number(v) for v in row) for row in scan.data)
        out.append("")
    return "\n".join(out) + "\n"


def scan_header(
    number: int,
    command: str,
    when: datetime.datetime,
    count_time: float,
    positions: Mapping[str, float],
    motors: Sequence[str],
    labels: Sequence[str],
    per_line: int = 8,
) -> tuple[str, ...]:
    """The ``#`` lines SPEC writes at the start of a scan."""
    lines = [f"#S {number}  {command}", f"#D {when.strftime(_SPEC_DATE)}", f"#T {_number(count_time)}  (Seconds)"]
    for k in range(0, len(motors), per_line):
        lines.append(f"#P{k // per_line} " + " ".join(_number(positions[m]) for m in motors[k : k + per_line]))
    lines += [f"#N {len(labels)}", "#L " + "  ".join(labels)]
    return tuple(lines)


def file_header(path_name: str, when: datetime.datetime, motors: Sequence[str], per_line: int = 8) -> tuple[str, ...]:
    """The ``#`` lines SPEC writes at the top of a new file."""
    lines = [
        f"#F {path_name}",
        f"#E {int(when.replace(tzinfo=datetime.UTC).timestamp())}",
        f"#D {when.strftime(_SPEC_DATE)}",
        "#C kmc3  User = xpp",
    ]
    for k in range(0, len(motors), per_line):
        lines.append(f"#O{k // per_line} " + "  ".join(motors[k : k + per_line]))
    return tuple(lines)
