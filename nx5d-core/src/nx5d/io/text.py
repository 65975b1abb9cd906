"""Text files as lab software writes them: line ends of every era."""

from __future__ import annotations

__all__ = ["unify_line_ends"]


def unify_line_ends(data: bytes) -> bytes:
    """``data`` with lines ended by a carriage return alone (classic Mac OS, some LabVIEW writers) ended by LF.

    Only files without a single LF are changed, byte for byte, so every
    offset into the file stays valid; CRLF files are left as they are (their
    readers strip the CR).
    """
    return data.replace(b"\r", b"\n") if b"\r" in data and b"\n" not in data else data
