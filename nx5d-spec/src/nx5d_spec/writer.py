"""Writing SPEC files the way SPEC writes them: for data generators and converters.

`file_header` and `scan_text` give the lines SPEC writes at the
top of a new file and for one scan (two spaces between names, ``#P`` values
in the order of the ``#O`` names, numbers written so that they read back
exactly); `format_spec` joins them into a file.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence

import numpy as np

from nx5d_spec.parser import SPEC_DATE

__all__ = ["number_text", "file_header", "scan_text", "format_spec"]


def number_text(value: float) -> str:
    """Shortest text that reads back as exactly ``value``."""
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def file_header(
    name: str,
    when: datetime.datetime,
    motors: Sequence[str],
    *,
    comment: str = "",
    per_line: int = 8,
) -> list[str]:
    """The ``#`` lines SPEC writes at the top of a new file (``#F``, ``#E``, ``#D``, ``#C``, ``#O``)."""
    lines = [
        f"#F {name}",
        f"#E {int(when.replace(tzinfo=datetime.UTC).timestamp())}",
        f"#D {when.strftime(SPEC_DATE)}",
        f"#C {comment}".rstrip(),
    ]
    for k in range(0, len(motors), per_line):
        lines.append(f"#O{k // per_line} " + "  ".join(motors[k : k + per_line]))
    return lines


def scan_text(
    number: int,
    command: str,
    when: datetime.datetime,
    count_time: float,
    positions: Mapping[str, float],
    motors: Sequence[str],
    labels: Sequence[str],
    data: np.ndarray,
    *,
    per_line: int = 8,
) -> list[str]:
    """The lines of one scan: ``#S``, ``#D``, ``#T``, ``#P``, ``#N``, ``#L`` and one line per point."""
    lines = [f"#S {number}  {command}", f"#D {when.strftime(SPEC_DATE)}", f"#T {number_text(count_time)}  (Seconds)"]
    for k in range(0, len(motors), per_line):
        lines.append(f"#P{k // per_line} " + " ".join(number_text(positions[m]) for m in motors[k : k + per_line]))
    lines += [f"#N {len(labels)}", "#L " + "  ".join(labels)]
    lines += [" ".join(number_text(v) for v in row) for row in np.asarray(data, float).reshape(-1, len(labels))]
    return lines


def format_spec(header: Sequence[str], scans: Sequence[Sequence[str]]) -> str:
    """A SPEC file's text: the file header, then each scan's lines, a blank line after each."""
    out = [*header, ""]
    for lines in scans:
        out.extend(lines)
        out.append("")
    return "\n".join(out) + "\n"
