"""The ``Key: value`` parameters file of a UDKM scan."""

from __future__ import annotations

import re

from nx5d.toolkit import unify_line_ends

__all__ = ["decode_text", "parse_parameters", "vector_length", "planned_frames"]

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


def vector_length(text: str) -> int | None:
    """How many values a lab vector holds: ``-10:1:80;82:2:160`` (start:step:stop parts) has 131, ``30.5`` one.

    ``None`` for text that is not such a vector.
    """
    count = 0
    for part in text.replace(",", ";").split(";"):
        numbers = part.strip().split(":")
        try:
            values = [float(n) for n in numbers]
        except ValueError:
            return None
        if len(values) == 1:
            count += 1
        elif len(values) == 3 and values[1] != 0 and (values[2] - values[0]) / values[1] >= 0:
            count += int(round((values[2] - values[0]) / values[1], 9)) + 1
        else:
            return None
    return count


def planned_frames(parameters: dict[str, str]) -> int | None:
    """The frames a scan plans: its delays x delay loops x thetas x theta loops, where the parameters say.

    From the ``Delay Vector``, ``Delay Loop``, ``Theta Vector`` and ``Theta
    Loop`` lines the lab's acquisition program writes; ``None`` without them.
    """
    total = 1
    for vector, loop in (("Delay Vector", "Delay Loop"), ("Theta Vector", "Theta Loop")):
        if vector not in parameters:
            return None
        length = vector_length(parameters[vector])
        try:
            loops = int(float(parameters.get(loop, "1")))
        except ValueError:
            return None
        if length is None or loops < 1:
            return None
        total *= length * loops
    return total
