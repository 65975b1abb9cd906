"""Detector frames stored one file per frame, loaded fast: eagerly into one array, or lazily as a dask array.

Thousands of small detector images (one TIFF per frame, as Pilatus detectors
write them) are read and decoded by a thread pool straight into one
preallocated array, so memory stays at the size of the result and per-file
Python work stays small (`load_frames`); `lazy_frames` gives a dask array
chunked by frames whose blocks a cook streams; `frame_variables` chooses
between them from a beamline's loading options, in one call.  Decoding:
[`nx5d_tiff.tiff`][nx5d_tiff.tiff].
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import uuid
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import Any, Literal

import attrs
import numpy as np

from nx5d.errors import CorruptDataError, DataWarning, MissingDataError
from nx5d.toolkit import (
    MISSING_VALUE,
    FrameOptions,
    Frames,
    Region,
    Storage,
    check_memory,
    check_missing,
    fits,
    frame_dtype,
    frames_array,
    option,
    positive,
    progress,
    usable_cpus,
    with_block_reader,
)
from nx5d_tiff.tiff import Decoder, check_pages, decode_frame, decode_strips, image_shape, parse_tiff

__all__ = ["FrameFileOptions", "HEAD_BYTES", "frame_file_shape", "load_frames", "lazy_frames", "frame_variables"]

#: How much of a frame file `frame_file_shape` reads: the header and the first image directory.
HEAD_BYTES = 16 * 1024


@attrs.frozen
class FrameFileOptions(FrameOptions):
    """`FrameOptions` of beamlines keeping one file per frame (read by `load_frames`)."""

    missing: Literal["raise", "mask"] = option(
        "raise", help="'raise' for a missing frame file, or 'mask': it reads -1 and is flagged in frame_missing"
    )
    workers: int | None = option(
        None,
        help="threads (or, for a streamed cook, processes) decoding frames (default: the CPUs this process may use)",
        validator=positive,
        changes_data=False,
    )


class _FrameReader:
    """Reads and decodes frames of one scan into a given output array."""

    def __init__(
        self,
        storage: Storage,
        urls: Sequence[str],
        region: Region,
        frame_shape: tuple[int, int],
        dtype: np.dtype,
        missing: str,
        fallback: Decoder | None,
    ) -> None:
        self.storage = storage
        self.urls = urls
        self.region = region
        self.frame_shape = frame_shape
        self.dtype = dtype
        self.missing = missing
        self.fallback = fallback
        self.slices = region.slices(frame_shape)
        self.local = Storage.local_path(urls[0]) is not None if urls else True

    def _blobs(self, indices: range) -> list[bytes | None]:
        urls = [self.urls[i] for i in indices]
        if not self.local:
            with contextlib.suppress(MissingDataError):
                return list(self.storage.read_many(urls))
        out: list[bytes | None] = []
        for i, url in zip(indices, urls, strict=True):
            try:
                out.append(self.storage.read_bytes(url))
            except MissingDataError:
                if self.missing == "raise":
                    raise MissingDataError(f"frame {i}: {url} does not exist") from None
                out.append(None)
        return out

    def read(self, indices: range, out: np.ndarray, missing_mask: np.ndarray, stop: threading.Event | None) -> None:
        """Decode frames ``indices`` into ``out[k]`` (``k`` counting from 0 within ``out``)."""
        scratch: np.ndarray | None = None
        for k, (i, blob) in enumerate(zip(indices, self._blobs(indices), strict=True)):
            if stop is not None and stop.is_set():
                return
            if blob is None:
                out[k] = MISSING_VALUE
                missing_mask[k] = True
                continue
            url = self.urls[i]
            layout = parse_tiff(blob)
            if layout is not None:
                check_pages(layout, url)
                if layout.shape != self.frame_shape:  # said before anything is inflated
                    raise CorruptDataError(
                        f"{url} (frame {i}) has shape {layout.shape}, unlike the scan's frames {self.frame_shape}"
                    )
            if layout is not None and layout.dtype.newbyteorder("=") == self.dtype:
                if self.region.full:
                    decode_strips(blob, layout, out[k], url)
                    continue
                if scratch is None:
                    scratch = np.empty(self.frame_shape, self.dtype)
                decode_strips(blob, layout, scratch, url)
                frame = scratch
            else:
                frame = decode_frame(blob, url, self.fallback)
                if frame.shape != self.frame_shape:
                    raise CorruptDataError(
                        f"{url} (frame {i}) has shape {frame.shape}, unlike the scan's frames {self.frame_shape}"
                    )
                if frame.dtype != self.dtype and not fits(frame, self.dtype):
                    raise CorruptDataError(
                        f"{url} (frame {i}) holds {frame.dtype} pixels whose values do not fit the scan's "
                        f"{self.dtype} frames (the type of its first frame): converting would change them"
                    )
            out[k] = frame[self.slices]


def frame_file_shape(storage: Storage, url: str) -> tuple[int, int] | None:
    """``(rows, cols)`` of the TIFF frame file at ``url`` from its first `HEAD_BYTES` alone, else ``None``.

    For summaries: no pixel is read.  A file of another format, or whose
    image directory lies further in, gives ``None``.
    """
    return image_shape(storage.read_range(url, 0, HEAD_BYTES))


def _first_frame(storage: Storage, urls: Sequence[str], fallback: Decoder | None) -> np.ndarray:
    for url in urls:
        try:
            blob = storage.read_bytes(url)
        except MissingDataError:
            continue
        return decode_frame(blob, url, fallback)
    raise MissingDataError(f"none of the {len(urls)} frames exists (first: {urls[0] if urls else 'none'})")


def load_frames(
    storage: Storage,
    urls: Sequence[str],
    *,
    region: Region | None = None,
    missing: str = "raise",
    fallback: Decoder | None = None,
    workers: int | None = None,
    desc: str = "loading frames",
) -> Frames:
    """Read and decode one image file per frame into a ``(frames, rows, cols)`` array.

    Parameters
    ----------
    storage:
        Where the files are read from.
    urls:
        One URL per frame, in frame order.
    region:
        Region of interest and stride (default: whole frames).
    missing:
        ``"raise"``: a missing file raises `MissingDataError` naming
        it; ``"mask"``: missing frames are filled with `MISSING_VALUE`,
        flagged in the returned mask, and a warning names how many.
    fallback:
        Decoder for files the built-in TIFF reader does not handle.
    workers:
        Threads (default: the CPUs this process may use, `usable_cpus`).

    Returns
    -------
    Frames
        The frames (dtype as stored, e.g. int32) with the flags of missing frames.
    """
    check_missing(missing)
    region = region or Region()
    urls = list(urls)
    first = _first_frame(storage, urls, fallback)
    dtype = frame_dtype(first.dtype, missing)
    shape = (len(urls), *region.shape(first.shape))
    check_memory(shape, dtype, urls[0])
    reader = _FrameReader(storage, urls, region, first.shape, dtype, missing, fallback)
    out = np.empty(shape, dtype)
    missing_mask = np.zeros(len(urls), bool)
    batch = 32 if reader.local else 256
    batches = [range(i, min(i + batch, len(urls))) for i in range(0, len(urls), batch)]
    stop = threading.Event()
    n = workers or usable_cpus()
    with progress(len(urls), desc, unit="frame") as bar, ThreadPoolExecutor(n) as pool:
        # each task runs in a copy of this context, so I/O accounting sees its reads
        futures = {
            pool.submit(
                contextvars.copy_context().run,
                reader.read,
                b,
                out[b.start : b.stop],
                missing_mask[b.start : b.stop],
                stop,
            ): b
            for b in batches
        }
        try:
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.1, return_when=FIRST_EXCEPTION)
                for future in done:
                    future.result()
                    bar.update(len(futures[future]))
        except BaseException:
            stop.set()
            for future in futures:
                future.cancel()
            raise
    if missing_mask.any():
        warnings.warn(
            f"{int(missing_mask.sum())} of {len(urls)} frames are missing (first: "
            f"{urls[int(np.argmax(missing_mask))]}); they hold {MISSING_VALUE} and are flagged",
            DataWarning,
            stacklevel=2,
        )
    return Frames(out, first.shape, missing_mask)


def lazy_frames(
    storage: Storage,
    urls: Sequence[str],
    *,
    region: Region | None = None,
    missing: str = "raise",
    fallback: Decoder | None = None,
    chunk: int = 64,
    workers: int | None = None,
) -> Frames:
    """The frames as a dask array, ``chunk`` frames per block, decoded on demand.

    The first frame is read at once to learn the shape and dtype; the rest
    only when blocks are computed (by any dask scheduler, also distributed),
    or by a cook streaming them block by block with ``workers`` threads or
    processes (default: the number of CPUs; see
    [`map_blocks`][nx5d.io.blocks.map_blocks]).  Missing frames in
    ``"mask"`` mode hold `MISSING_VALUE`.
    """
    import dask.array as da

    check_missing(missing)
    region = region or Region()
    urls = list(urls)
    first = _first_frame(storage, urls, fallback)
    shape = region.shape(first.shape)
    dtype = frame_dtype(first.dtype, missing)
    reader = _FrameReader(storage, urls, region, first.shape, dtype, missing, fallback)

    def block(start: int, stop: int) -> np.ndarray:
        out = np.empty((stop - start, *shape), dtype)
        reader.read(range(start, stop), out, np.zeros(stop - start, bool), None)
        return out

    # the graph written out, one task per block: a tenth of a second less than delayed blocks concatenated
    # (5,187 frames), which a streamed cook, reading blocks itself, would pay for nothing
    name = f"nx5d-frames-{uuid.uuid4().hex}"
    starts = range(0, len(urls), chunk)
    within = (0,) * len(shape)
    graph = {(name, i, *within): (block, start, min(start + chunk, len(urls))) for i, start in enumerate(starts)}
    sizes = tuple(min(start + chunk, len(urls)) - start for start in starts)
    frames = da.Array(graph, name, (sizes, *((n,) for n in shape)), dtype=dtype)

    def read_into(start: int, stop: int, out: np.ndarray) -> None:
        reader.read(range(start, stop), out, np.zeros(stop - start, bool), None)

    # local files are read with plain system calls: the reader works as well in a forked worker process
    marked = with_block_reader(frames, read_into, workers=workers, forkable=reader.local)
    return Frames(marked, first.shape, None)


def frame_variables(
    storage: Storage,
    urls: Sequence[str],
    options: FrameFileOptions,
    *,
    fallback: Decoder | None = None,
    desc: str = "loading frames",
    attrs: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A scan's frame variables, loaded as ``options`` say: ``{"images": ..., "frame_missing": ...}``.

    Lazily (`lazy_frames`, ``chunks`` frames per block, default 64) where
    ``options.lazy_frames`` asks for it, else eagerly (`load_frames`); both
    decode with ``options.workers`` threads or processes; always ``options.region`` and
    ``options.missing``.  ``images`` is a `frames_array` carrying ``attrs``;
    ``frame_missing`` flags missing frames when loaded eagerly with
    ``missing="mask"``.
    """
    region = options.region
    out: dict[str, Any] = {}
    if options.lazy_frames:
        frames = lazy_frames(
            storage, urls, region=region, missing=options.missing, fallback=fallback,
            chunk=options.frames_per_chunk or 64, workers=options.workers,
        )  # fmt: skip
    else:
        frames = load_frames(
            storage, urls, region=region, missing=options.missing, fallback=fallback, workers=options.workers, desc=desc
        )
        if options.missing == "mask":
            out["frame_missing"] = ("index", np.asarray(frames.missing))
    out["images"] = frames_array(frames.data, frames.frame_shape, region, attrs=dict(attrs or {}))
    return out
