"""Limits every reader keeps to, checked before anything is allocated.

A frame over `MAX_FRAME_BYTES`, an image claiming more pixels than its
compressed bytes can hold (`MAX_INFLATION` bytes per stored byte), and a
load of more frames at once than the machine has memory are refused with an
nx5d error naming the file.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from nx5d.errors import CorruptDataError, OptionError

__all__ = [
    "MAX_FRAME_BYTES",
    "MAX_INFLATION",
    "check_frame_size",
    "check_memory",
    "check_read",
    "check_selection",
    "selected_shape",
]

MAX_FRAME_BYTES = 2**31
"""The largest frame nx5d decodes, in bytes (the largest area detectors make frames of tens of MB)."""

MAX_INFLATION = 1100
"""How many bytes a compressed image may unpack to per byte of file (deflate's limit is about 1032)."""


def check_frame_size(shape: tuple[int, ...], dtype: np.dtype, stored: int | None, where: str) -> None:
    """Refuse a frame whose header claims more pixels than the file can hold, or than any detector makes, or none.

    ``stored`` is the size of the file: deflate packs at most about 1032 bytes
    into one, so a claim beyond `MAX_INFLATION` times the file is a
    damaged or hostile header, as is a frame over `MAX_FRAME_BYTES`
    (``stored`` ``None``: a container whose chunks may be sparse, HDF5 or
    Zarr; only the frame limit applies).
    Checked before anything is allocated.
    """
    if not all(int(n) > 0 for n in shape):
        raise CorruptDataError(f"{where} claims a {' x '.join(map(str, shape))} frame: no pixels, not a detector frame")
    nbytes = math.prod(int(n) for n in shape) * np.dtype(dtype).itemsize  # Python ints: no wrap-around
    if nbytes > MAX_FRAME_BYTES:
        raise CorruptDataError(
            f"{where} claims a {' x '.join(map(str, shape))} {np.dtype(dtype)} frame ({nbytes / 2**30:.1f} GiB): "
            f"more than {MAX_FRAME_BYTES // 2**30} GiB, not a detector frame"
        )
    if stored is not None and nbytes > MAX_INFLATION * stored:
        raise CorruptDataError(
            f"{where} claims a {' x '.join(map(str, shape))} frame ({nbytes} bytes) in a file of {stored} bytes: "
            "the header is damaged"
        )


def selected_shape(shape: tuple[int, ...], selection: Any) -> tuple[int, ...]:
    """The shape ``array[selection]`` has, for an array of ``shape``, worked out without allocating it."""
    return tuple(np.broadcast_to(np.empty((), np.uint8), shape)[selection].shape)


def check_read(shape: tuple[int, ...], dtype: np.dtype, where: str) -> None:
    """Refuse to read an array (a counter, a table) declared larger than the memory this machine has free
    (`available_memory`), before allocating.

    A [`CorruptDataError`][nx5d.errors.CorruptDataError] naming ``where``:
    no scan's counters or positions come near it, so the declaration is
    damaged or hostile.  Detector frames have `check_frame_size` and
    `check_memory`, which say how to load them lazily.
    """
    nbytes = math.prod(int(n) for n in shape) * np.dtype(dtype).itemsize
    memory = available_memory()
    if memory is not None and nbytes > memory:
        raise CorruptDataError(
            f"{where} declares {' x '.join(map(str, shape))} {np.dtype(dtype)} values ({nbytes / 2**30:.1f} GiB), "
            f"more than the {memory / 2**30:.1f} GiB of memory this machine has free: not read"
        )


def check_selection(shape: tuple[int, ...], selection: Any, dtype: np.dtype, where: str) -> None:
    """`check_read` for ``array[selection]`` of an array of ``shape`` (a selection numpy cannot apply is let through:
    the array's library says what is wrong with it)."""
    try:
        selected = selected_shape(shape, selection)
    except (TypeError, IndexError, ValueError):
        return
    check_read(selected, dtype, where)


def physical_memory() -> int | None:
    """Bytes of memory of this machine (``None`` where the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not on every platform
        return None


def available_memory() -> int | None:
    """Bytes of memory this machine can give now without swapping (Linux's ``MemAvailable``), else its memory.

    A read that fits the machine but not what other processes leave of it
    ends with the out-of-memory killer ending the process, not an error.
    """
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return physical_memory()


def check_memory(shape: tuple[int, ...], dtype: np.dtype, first_url: str) -> None:
    """Refuse to load more frames at once than this machine has memory free for, with what to do instead."""
    nbytes = math.prod(int(n) for n in shape) * np.dtype(dtype).itemsize  # Python ints: no wrap-around
    memory = available_memory()
    if memory is not None and nbytes > memory:
        raise OptionError(
            f"the {shape[0]} frames from {first_url} ... take {nbytes / 2**30:.1f} GiB, more than the "
            f"{memory / 2**30:.1f} GiB of memory this machine has free: load them lazily (lazy=True), "
            "or fewer pixels (roi=, reduce=)"
        )
