"""Scan commands as SPEC, BLISS and DESY's Online / Sardana write them (``ascan th 19.4 19.7 40 5``).

What kind of scan, which motors it moves, how many points it plans.  Which
columns a command's motors are depends on the software that wrote it (its
*dialect*, see `scanned_motors`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Literal

__all__ = ["DIALECTS", "scan_type", "scanned_motor", "scanned_motors", "planned_points", "scanned_range"]

#: The command vocabularies `scanned_motors` knows: SPEC's (BLISS follows it) and DESY's (Online, Sardana).
DIALECTS = ("spec", "desy")
#: Words of DESY command lines that are flags, not motors (``dmesh m1 0 1 10 m2 0 2 20 1.0 False None``).
_FLAGS = {"true", "false", "none"}

_TYPE = re.compile(r"[A-Za-z_][\w.]*")


def scan_type(command: str) -> str:
    """The kind of scan: the command's first word (``ascan``; ``example`` for ``example(scaler=...)``)."""
    m = _TYPE.match(command.strip())
    return m.group(0) if m else ""


def scanned_motor(command: str) -> str:
    """The first motor the command names (``ascan th 19.4 19.7 40 5`` -> ``th``), or ``""``."""
    words = command.split()
    if len(words) < 2 or "(" in words[0]:
        return ""
    try:
        float(words[1])
    except ValueError:
        return words[1]
    return ""


#: SPEC's scans that move motors; their ``#L`` lines name the moved motors first, in the command's order.
MOTOR_SCANS = re.compile(r"[ad]\d?scan|[ad]?mesh|lup|rscan|hklscan")


def scanned_motors(
    command: str,
    columns: Sequence[str],
    mnemonics: Mapping[str, str] | None = None,
    *,
    dialect: Literal["spec", "desy"] = "spec",
) -> list[str]:
    """The columns of the motors a scan moves (``a2scan th 1 2 tth 2 4 10 1`` -> the ``th`` and ``tth`` columns).

    ``dialect="spec"`` (SPEC, BLISS): motors the command names that are
    columns are taken by name (or through the file's ``#o`` mnemonics:
    ``th`` -> ``Theta``).  Otherwise SPEC's own scans (`MOTOR_SCANS`) write
    the moved motors as the first columns, in order, and those are taken.
    Other commands give none.

    ``dialect="desy"`` (PETRA III's Online, Sardana): only the motors the
    command names that are columns, by name -- a mesh's slow motor may be
    recorded as a parameter, not a column, and the first columns are then
    counters, never motors; the flags such commands end with (``False``,
    ``None``) are no motors.
    """
    if dialect not in DIALECTS:
        raise ValueError(f"dialect {dialect!r} is none of {', '.join(DIALECTS)}")
    words = command.split()
    if not words:
        return []
    motors = [w for w in words[1:] if not _is_number(w) and w.lower() not in _FLAGS]
    if dialect == "desy":
        return [m for m in dict.fromkeys(motors) if m in columns]
    names = [(mnemonics or {}).get(m, m) for m in motors]
    if names and all(n in columns for n in names):
        return list(dict.fromkeys(names))
    if MOTOR_SCANS.fullmatch(words[0]) and motors and len(motors) <= len(columns):
        return list(dict.fromkeys(columns[: len(motors)]))
    return []


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


#: Scans stepping motors from a start to an end in a number of intervals (``ascan th 19.4 19.7 40 5``,
#: ``a2scan th 1 2 tth 2 4 10 1``, ``hklscan 1 1 0 0 2 3 20 1``): the points are the intervals + 1.
_STEP_SCANS = re.compile(r"[ad]\d?scan|lup|rscan|hklscan|[hkl]scan|th2th|d2scan")


def planned_points(command: str) -> int | None:
    """How many points a scan command plans, where the command says (``None`` otherwise).

    Step scans (``ascan th 19.4 19.7 40 5``: 41) take the number of
    intervals, the second number from the end, plus one; meshes
    (``mesh m1 0 1 10 m2 0 2 20 1``: 11 x 21) multiply the points of each
    axis; ``loopscan N t`` takes N.  Time scans and commands this does not
    know plan no number.
    """
    words = command.split()
    if not words:
        return None
    numbers = [w for w in words[1:] if _is_number(w)]
    kind = words[0]
    try:
        if kind == "loopscan" and numbers:
            return int(float(numbers[0]))
        if kind in ("mesh", "amesh", "dmesh") and len(numbers) >= 7:
            return (int(float(numbers[2])) + 1) * (int(float(numbers[5])) + 1)
        if _STEP_SCANS.fullmatch(kind) and len(numbers) >= 3:
            return int(float(numbers[-2])) + 1
    except (ValueError, OverflowError):
        return None
    return None


#: Scans whose command gives the first motor's absolute start and end (``ascan th 19.4 19.7 40 5``,
#: ``a2scan th 1 2 tth 2 4 10 1``, ``mesh m1 0 1 10 m2 0 2 20 1``); relative ones (``dscan``, ``lup``) do not.
_ABSOLUTE_SCANS = re.compile(r"a\d?scan|a?mesh")


def scanned_range(command: str) -> tuple[float, float] | None:
    """The first scanned motor's start and end as the command gives them, lowest first; ``None`` where it does not.

    ``ascan th 19.4 19.7 40 5`` -> ``(19.4, 19.7)``.  Relative scans
    (``dscan``, ``lup``) and commands this does not know give ``None``: the
    positions then come from the data.
    """
    words = command.split()
    if len(words) < 4 or not _ABSOLUTE_SCANS.fullmatch(words[0]) or _is_number(words[1]):
        return None
    try:
        start, end = float(words[2]), float(words[3])
    except ValueError:
        return None
    if not (math.isfinite(start) and math.isfinite(end)):
        return None
    return min(start, end), max(start, end)
