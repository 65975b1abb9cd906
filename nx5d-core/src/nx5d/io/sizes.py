"""Sizes in bytes as people write them: ``4000000``, ``"4MB"``, ``"1.5 GiB"``."""

from __future__ import annotations

import re

__all__ = ["parse_bytes"]

_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30}


def parse_bytes(text: str | int) -> int:
    """A size in bytes from ``4000000``, ``"4MB"``, ``"1.5 GiB"``."""
    if isinstance(text, int):
        return text
    found = re.fullmatch(r"\s*([0-9.]+)\s*([a-zA-Z]*)\s*", str(text))
    unit = found.group(2).lower() if found else None
    if found is None or unit not in _UNITS:
        raise ValueError(f"a size is a number of bytes, optionally with kB, MB, GB, KiB, MiB, GiB: not {text!r}")
    return int(float(found.group(1)) * _UNITS[unit])
