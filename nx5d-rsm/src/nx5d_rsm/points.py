"""The pixels of detector frames that hold something, cut into batches of a fixed number of points.

Detector frames are mostly zero: a Pilatus frame of a rocking scan has a few
hundred counting pixels out of 95,000.  Gridding costs per pixel that holds
a value, plus a fixed cost per call of a few dozen numpy operations; a block
of 16 sparse frames has a few thousand such pixels, so gridding block by
block was mostly that fixed cost.  Frames are therefore turned into
`FramePoints` where they are decoded (on every CPU), and the points are
gridded in batches of `POINTS_AT_ONCE`, whichever blocks they came from.

Batches are cut from the stream of points in frame order at fixed counts
(points ``0 .. n-1``, ``n .. 2n-1``, ...), so they are the same however the
frames were read -- streamed, a dask array, in memory, on a cluster -- and
a map summed batch after batch has the same bits wherever it was cooked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np

__all__ = ["FramePoints", "PointBatches", "POINTS_AT_ONCE"]

#: Points gridded at once: enough that numpy's fixed cost per operation vanishes, few enough that the temporaries
#: of gridding them (a few dozen bytes per point and bin it touches) stay a few MiB.
POINTS_AT_ONCE = 1 << 13


@attrs.frozen
class FramePoints:
    """Pixels of frames that are non-zero (or NaN), in frame then pixel order.

    Attributes
    ----------
    frame:
        The frame of each point (its index in the scan, or in the frames given).
    pixel:
        The pixel of each point: its flat index in the frame (row after row).
    value:
        The pixel's value, in the frames' own type.
    """

    frame: np.ndarray
    pixel: np.ndarray
    value: np.ndarray

    @classmethod
    def of(cls, frames: np.ndarray, first: int = 0) -> FramePoints:
        """The points of ``frames`` (``(n, rows, cols)``), numbering the frames from ``first``."""
        flat = np.ascontiguousarray(frames).reshape(-1)
        where = _nonzero(flat)
        frame, pixel = np.divmod(where, int(np.prod(frames.shape[1:])))
        if first:
            frame += first
        return cls(frame, pixel, flat[where])

    @classmethod
    def joined(cls, parts: Sequence[FramePoints]) -> FramePoints:
        """The points of ``parts`` one after the other."""
        if len(parts) == 1:
            return parts[0]
        return cls(*(np.concatenate([getattr(p, name) for p in parts]) for name in ("frame", "pixel", "value")))

    def __len__(self) -> int:
        return int(self.frame.size)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickled compactly, as worker processes hand points back: frames as runs, pixels in 32 bits if they fit.

        A point then takes 8 bytes (pixel and a 32-bit value) instead of 20;
        unpickled, the points are the same, in the same order and types.
        """
        starts = np.flatnonzero(np.diff(self.frame)) + 1 if self.frame.size else np.zeros(0, np.intp)
        runs = np.diff(np.concatenate([[0], starts, [self.frame.size]]))
        firsts = self.frame[np.concatenate([[0], starts])] if self.frame.size else self.frame
        narrow = self.pixel.size == 0 or (self.pixel.min() >= 0 and self.pixel.max() < 2**31)
        pixel = self.pixel.astype(np.int32) if narrow else self.pixel
        return _unpacked, (firsts, runs, pixel, self.pixel.dtype, self.value)

    def __getitem__(self, which: slice | np.ndarray) -> FramePoints:
        return FramePoints(self.frame[which], self.pixel[which], self.value[which])


def _unpacked(
    firsts: np.ndarray, runs: np.ndarray, pixel: np.ndarray, pixel_dtype: np.dtype, value: np.ndarray
) -> FramePoints:
    """The `FramePoints` pickled by `FramePoints.__reduce__`."""
    return FramePoints(np.repeat(firsts, runs), pixel.astype(pixel_dtype, copy=False), value)


class PointBatches:
    """Cuts a stream of `FramePoints` (given in frame order) into batches of exactly ``size`` points.

    `add` returns the batches completed by the points given; `rest` the last,
    shorter one.  Where the cuts fall depends only on the points, never on
    how they were handed in.
    """

    def __init__(self, size: int | None = None) -> None:
        self.size = POINTS_AT_ONCE if size is None else int(size)
        if self.size < 1:
            raise ValueError(f"batches of {size} points")
        self._pending: list[FramePoints] = []
        self._count = 0

    def add(self, points: FramePoints) -> list[FramePoints]:
        """The full batches that ``points`` complete (none while fewer than ``size`` points wait)."""
        if not len(points):
            return []
        self._pending.append(points)
        self._count += len(points)
        if self._count < self.size:
            return []
        waiting = FramePoints.joined(self._pending)
        full = (self._count // self.size) * self.size
        rest = waiting[full:]
        self._pending, self._count = ([rest] if len(rest) else []), len(rest)
        return [waiting[start : start + self.size] for start in range(0, full, self.size)]

    def rest(self) -> list[FramePoints]:
        """The last batch: the points left over (none if there are none)."""
        last = [FramePoints.joined(self._pending)] if self._count else []
        self._pending, self._count = [], 0
        return last


def _nonzero(flat: np.ndarray, step: int = 1 << 18) -> np.ndarray:
    """Indices of the non-zero (or NaN) entries of a 1-D array.

    Works in cache-sized pieces: for mostly-zero detector data this is several
    times faster than ``numpy.nonzero`` on the whole array.
    """
    parts = [np.flatnonzero(flat[s : s + step] != 0) + s for s in range(0, flat.size, step)]
    return np.concatenate(parts) if parts else np.zeros(0, np.intp)
