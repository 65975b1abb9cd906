"""Scan commands as SPEC and BLISS write them (``ascan th 19.4 19.7 40 5``): what kind of scan, which motor."""

from __future__ import annotations

import re

__all__ = ["scan_type", "scanned_motor"]

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
