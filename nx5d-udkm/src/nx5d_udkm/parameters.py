"""The ``Key: value`` parameters file of a UDKM scan."""

from __future__ import annotations

import re

from nx5d.io.text import unify_line_ends

__all__ = ["decode_text", "parse_parameters"]

_KEY = re.compile(r"^([^\s:][^:]*?)\s*:\s?(.*)$")


def decode_text(data: bytes) -> str:
    """Text of a lab file: UTF-8 if valid, else Windows-1252 (the lab PCs' encoding); lines ended by CR alone as LF."""
    data = unify_line_ends(data)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def parse_parameters(data: bytes) -> dict[str, str]:
    """``{key: value}`` from ``Key: value`` lines; indented or key-less lines continue the previous value.

    Key-less lines before the first key are the sample's name (some lab
    programs write it as the file's first line): they become ``Sample``
    unless the file has a ``Sample:`` line.
    """
    out: dict[str, str] = {}
    before: list[str] = []
    last: str | None = None
    for line in decode_text(data).splitlines():
        if not line.strip():
            continue
        m = None if line[:1].isspace() else _KEY.match(line)
        if m is not None:
            last = m.group(1).strip()
            out[last] = m.group(2).strip()
        elif last is not None:
            out[last] = f"{out[last]}\n{line.strip()}".strip()
        else:
            before.append(line.strip())
    if before:
        out.setdefault("Sample", "\n".join(before))
    return out
