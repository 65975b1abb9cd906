"""Where a local path leads: `os.path.realpath`'s answer, found by the C library where it can.

A repository's storage resolves every file it reads to check that it lies
inside the root (`Storage.confine`), so a scan of 5,000 frame files resolves
5,000 paths.  Python's `os.path.realpath` walks a path in Python, one
``lstat`` and some string work per component with the GIL held (about 25 µs
for a file six folders deep on the development machine), which also holds
up the threads decoding frames meanwhile.  On Linux the same walk is handed
to the C library's ``realpath(3)`` through `ctypes`, which lets go of the GIL
for the call (about 11 µs, nearly all of it the system calls).

The answer is always exactly `os.path.realpath`'s: both resolve every
component's symbolic links before the next ``..``, and wherever the C
library gives no answer -- a component that does not exist or cannot be
searched, a loop of links, a file where a folder should be, a name too long,
a NUL character -- Python's walk answers, as it did for every path before.
Nothing is remembered between calls, so a folder replaced by a link since
an earlier call is resolved afresh like any other.  Other systems (whose C
libraries may, for example, change the case of names) always use Python's walk.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

__all__ = ["realpath"]


def _c_realpath() -> Callable[[bytes], bytes | None] | None:
    """The C library's ``realpath(3)`` as ``path -> resolved path or None``; ``None`` where it is not used."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        resolve, free = libc.realpath, libc.free
    except (OSError, AttributeError):  # a C library without them: Python's walk
        return None
    resolve.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    resolve.restype = ctypes.c_void_p  # the result is malloc'ed (second argument NULL) and freed here
    free.argtypes = [ctypes.c_void_p]
    free.restype = None

    def call(path: bytes) -> bytes | None:
        found = resolve(path, None)
        if not found:
            return None
        try:
            return ctypes.string_at(found)
        finally:
            free(found)

    return call


_C_REALPATH = _c_realpath()


def realpath(path: str) -> str:
    """``os.path.realpath(path)`` (non-strict), walked by the C library on Linux.

    ``path`` is a local file system path, absolute or relative to the
    working folder; the result is absolute with every symbolic link and
    ``.``/``..`` resolved.
    """
    if _C_REALPATH is not None and "\0" not in path:
        try:
            encoded = os.fsencode(path)
        except UnicodeError:  # Python's walk raises its own error for it
            encoded = b""
        found = _C_REALPATH(encoded) if encoded else None
        if found is not None:
            return os.fsdecode(found)
    return os.path.realpath(path)
