"""Fast loading of detector frames stored one file per frame.

Thousands of small detector images (one TIFF per frame, as Pilatus detectors
write them) are read and decoded by a thread pool straight into one
preallocated array, so memory stays at the size of the result and per-file
Python work stays small.  Plain (strip-organised, uncompressed or deflate)
TIFF files are parsed here and inflated with libdeflate when ``imagecodecs``
is installed (else the standard library's zlib); any other image file goes to
a ``fallback`` decoder the caller supplies (e.g. ``tifffile.imread``).

Used by beamline plugins through `load_frames` (an in-memory array)
and `lazy_frames` (a dask array, chunked by frames).
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
import struct
import threading
import warnings
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import Any, Literal

import attrs
import numpy as np

from nx5d.errors import CorruptDataError, MissingDataError, OptionError
from nx5d.io.blocks import with_block_reader
from nx5d.io.storage import Storage
from nx5d.options import option
from nx5d.progress import progress

try:  # libdeflate is several times faster than zlib for detector frames
    from imagecodecs import deflate_decode as _deflate_into
except ImportError:  # pragma: no cover - exercised where imagecodecs is absent
    _deflate_into = None

__all__ = [
    "frames_array",
    "EXTRA_FRAME_DIMS",
    "Region",
    "FrameOptions",
    "FrameFileOptions",
    "Frames",
    "StripTiff",
    "parse_tiff",
    "decode_frame",
    "load_frames",
    "lazy_frames",
    "tifffile_fallback",
    "MISSING_VALUE",
    "MAX_FRAME_BYTES",
    "MAX_INFLATION",
    "frame_dtype",
    "check_frame_size",
]

#: Value written into frames that are missing when ``missing="mask"``
#: (Pilatus detectors use -1 for "no data").
MISSING_VALUE = -1

MAX_FRAME_BYTES = 2**31
"""The largest frame nx5d decodes, in bytes (the largest area detectors make frames of tens of MB)."""

MAX_INFLATION = 1100
"""How many bytes a compressed image may unpack to per byte of file (deflate's limit is about 1032)."""

Decoder = Callable[[bytes], np.ndarray]

_TIFF_TYPES = {1: "B", 3: "H", 4: "I", 16: "Q"}
_SAMPLE_KIND = {1: "u", 2: "i", 3: "f"}
_DEFLATE = (8, 32946)
_NONE = 1


@attrs.frozen
class StripTiff:
    """The layout of a single-image, strip-organised TIFF file."""

    shape: tuple[int, int]
    dtype: np.dtype
    compression: int
    rows_per_strip: int
    offsets: tuple[int, ...]
    counts: tuple[int, ...]


def parse_tiff(data: bytes) -> StripTiff | None:
    """The strip layout of ``data`` if the fast path can decode it, else ``None``.

    Handles classic little- and big-endian TIFF with one sample per pixel,
    uncompressed or deflate, without predictor.  Anything else (tiles,
    BigTIFF, predictors, other codecs) returns ``None``.
    """
    if len(data) < 8:
        return None
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None or struct.unpack_from(order + "H", data, 2)[0] != 42:
        return None
    (ifd,) = struct.unpack_from(order + "I", data, 4)
    if ifd + 2 > len(data):
        return None
    (count,) = struct.unpack_from(order + "H", data, ifd)
    if ifd + 2 + 12 * count > len(data):
        return None
    tags: dict[int, tuple[int, ...]] = {}
    entry = struct.Struct(order + "HHI4s")
    for i in range(count):
        tag, kind, n, raw = entry.unpack_from(data, ifd + 2 + 12 * i)
        code = _TIFF_TYPES.get(kind)
        if code is None:
            continue
        size = struct.calcsize(code) * n
        if size <= 4:
            tags[tag] = struct.unpack_from(f"{order}{n}{code}", raw)
        else:
            (where,) = struct.unpack_from(order + "I", raw)
            if where + size > len(data):
                return None
            tags[tag] = struct.unpack_from(f"{order}{n}{code}", data, where)
    if any(not values for values in tags.values()):
        return None  # a tag with no values: not a file the fast path trusts
    try:
        width, height = tags[256][0], tags[257][0]
        bits = tags.get(258, (1,))[0]
        compression = tags.get(259, (1,))[0]
        offsets, counts = tags[273], tags[279]
    except KeyError:
        return None
    if tags.get(277, (1,))[0] != 1 or tags.get(317, (1,))[0] != 1 or compression not in (_NONE, *_DEFLATE):
        return None
    kind = _SAMPLE_KIND.get(tags.get(339, (1,))[0])
    if kind is None or bits not in (8, 16, 32, 64) or len(offsets) != len(counts) or not width or not height:
        return None
    dtype = np.dtype(f"{order}{kind}{bits // 8}")
    rows = tags.get(278, (height,))[0] or height
    return StripTiff((height, width), dtype, compression, min(rows, height), tuple(offsets), tuple(counts))


def check_frame_size(shape: tuple[int, ...], dtype: np.dtype, stored: int, where: str) -> None:
    """Refuse a frame whose header claims more pixels than the file can hold, or than any detector makes.

    ``stored`` is the size of the file: deflate packs at most about 1032 bytes
    into one, so a claim beyond `MAX_INFLATION` times the file is a
    damaged or hostile header, as is a frame over `MAX_FRAME_BYTES`.
    Checked before anything is allocated.
    """
    nbytes = math.prod(int(n) for n in shape) * np.dtype(dtype).itemsize  # Python ints: no wrap-around
    if nbytes > MAX_FRAME_BYTES:
        raise CorruptDataError(
            f"{where} claims a {' x '.join(map(str, shape))} {np.dtype(dtype)} frame ({nbytes / 2**30:.1f} GiB): "
            f"more than {MAX_FRAME_BYTES // 2**30} GiB, not a detector frame"
        )
    if nbytes > MAX_INFLATION * stored:
        raise CorruptDataError(
            f"{where} claims a {' x '.join(map(str, shape))} frame ({nbytes} bytes) in a file of {stored} bytes: "
            "the header is damaged"
        )


def _inflate(src: bytes, dst: np.ndarray) -> int:
    if _deflate_into is not None:
        return len(_deflate_into(src, out=dst))
    inflater = zlib.decompressobj()
    plain = inflater.decompress(src, dst.nbytes + 1)  # never more than the strip can hold, plus one to notice
    n = min(len(plain), dst.nbytes)
    dst[:n] = np.frombuffer(plain, np.uint8, n)
    return len(plain)


def _decode_strips(data: bytes, layout: StripTiff, out: np.ndarray, where: str) -> None:
    """Decode every strip of ``data`` into the C-contiguous 2-D array ``out``."""
    target = out.reshape(-1).view(np.uint8)
    row_bytes = layout.shape[1] * layout.dtype.itemsize
    strip_bytes = layout.rows_per_strip * row_bytes
    start = 0
    for offset, count in zip(layout.offsets, layout.counts, strict=True):
        end = min(start + strip_bytes, target.size)
        chunk = data[offset : offset + count]
        if len(chunk) != count:
            raise CorruptDataError(f"{where} is truncated: an image strip ends after {len(data)} bytes")
        if layout.compression == _NONE:
            got = min(len(chunk), end - start)
            target[start : start + got] = np.frombuffer(chunk, np.uint8, got)
        else:
            try:
                got = _inflate(chunk, target[start:end])
            except (ValueError, RuntimeError, zlib.error) as exc:
                raise CorruptDataError(f"{where}: image data cannot be decompressed ({exc})") from None
        if got != end - start:
            raise CorruptDataError(f"{where}: image strip holds {got} bytes, {end - start} expected")
        start = end
    if start != target.size:
        raise CorruptDataError(f"{where}: image strips cover {start} of {target.size} bytes")
    if not layout.dtype.isnative:
        out.byteswap(inplace=True)


def tifffile_fallback(data: bytes) -> np.ndarray:
    """Decode any TIFF with tifffile (the ``fallback`` for files the fast path does not handle).

    tifffile is imported on first use: plugins that read TIFFs depend on it, the core does not.
    """
    import io

    import tifffile

    with tifffile.TiffFile(io.BytesIO(data)) as tif:
        series = tif.series[0]
        check_frame_size(series.shape, series.dtype, len(data), "the image")
        return tif.asarray()


def decode_frame(data: bytes, where: str, fallback: Decoder | None = None) -> np.ndarray:
    """Decode one image file's bytes into a new 2-D array (``CorruptDataError`` naming ``where``)."""
    layout = parse_tiff(data)
    if layout is not None:
        check_frame_size(layout.shape, layout.dtype, len(data), where)
        out = np.empty(layout.shape, layout.dtype.newbyteorder("="))
        _decode_strips(data, layout, out, where)
        return out
    if fallback is None:
        raise CorruptDataError(f"{where} is not an image this loader can read")
    try:
        frame = np.asarray(fallback(data))
    except Exception as exc:  # noqa: BLE001 - any decoder failure means a bad file
        raise CorruptDataError(f"{where} cannot be decoded: {type(exc).__name__}: {exc}") from None
    if frame.ndim != 2:
        raise CorruptDataError(f"{where} holds an image of shape {frame.shape}, a 2-D frame was expected")
    return frame


@attrs.frozen
class Region:
    """Which pixels of each frame to keep: a region of interest and a stride.

    ``roi`` is ``(row_start, row_stop, col_start, col_stop)`` in full-frame
    pixels (Python slice semantics, ``None`` for open ends); ``reduce`` keeps
    every n-th row and column, starting with the first.
    """

    roi: tuple[int | None, int | None, int | None, int | None] | None = None
    reduce: int = 1

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.reduce, int) or isinstance(self.reduce, bool) or self.reduce < 1:
            raise OptionError(f"reduce must be a whole number >= 1, not {self.reduce!r}")
        if self.roi is not None and len(self.roi) != 4:
            raise OptionError(f"roi must be (row_start, row_stop, col_start, col_stop), not {self.roi!r}")

    def slices(self, shape: tuple[int, int]) -> tuple[slice, slice]:
        """The row and column slices for frames of ``shape``."""
        r0, r1, c0, c1 = self.roi or (None, None, None, None)
        rows = slice(*slice(r0, r1).indices(shape[0])[:2], self.reduce)
        cols = slice(*slice(c0, c1).indices(shape[1])[:2], self.reduce)
        if rows.start >= rows.stop or cols.start >= cols.stop:
            raise OptionError(f"roi {self.roi!r} selects no pixels of frames of shape {shape}")
        return rows, cols

    def shape(self, shape: tuple[int, int]) -> tuple[int, int]:
        """The shape of a selected frame."""
        rows, cols = self.slices(shape)
        return len(range(rows.start, rows.stop, rows.step)), len(range(cols.start, cols.stop, cols.step))

    @property
    def full(self) -> bool:
        """Whether whole frames are kept."""
        return self.roi is None and self.reduce == 1

    def coordinates(self, shape: tuple[int, int]) -> dict[str, np.ndarray]:
        """Pixel coordinates of the kept rows (``y``) and columns (``x``) in full-frame pixels."""
        rows, cols = self.slices(shape)
        return {"y": np.arange(rows.start, rows.stop, rows.step), "x": np.arange(cols.start, cols.stop, cols.step)}


def _roi(value: Any) -> tuple[int | None, int | None, int | None, int | None] | None:
    return None if value is None else tuple(value)  # type: ignore[return-value]


def _positive(instance: object, attribute: attrs.Attribute, value: int | None) -> None:
    if value is not None and value < 1:
        raise OptionError(f"{attribute.name} must be a whole number >= 1, not {value!r}")


def _chunks(instance: object, attribute: attrs.Attribute, value: Any) -> None:
    if value is None:
        return
    number = value.get("index") if isinstance(value, dict) and set(value) <= {"index"} else value
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise OptionError(f"chunks must be frames per chunk (64) or {{'index': 64}}, not {value!r}")


@attrs.frozen
class FrameOptions:
    """Loading options of beamlines whose scans hold detector frames.

    A beamline declares this class (or a subclass adding its own options) as
    its ``options``; `region` is what the frame loaders take.
    """

    reduce: int = option(1, help="keep every n-th detector row and column", validator=_positive)
    roi: tuple[int | None, int | None, int | None, int | None] | None = option(
        None, help="region of interest (row_start, row_stop, col_start, col_stop) in full-frame pixels", converter=_roi
    )
    lazy: bool = option(False, help="detector images as a dask array, read block by block when used")
    frames: Literal["auto", "skip"] = option(
        "auto", help="'auto': load the frames if the scan has any (else counters only, with a warning); 'skip': never"
    )
    chunks: int | dict[str, int] | None = option(  # noqa: RUF009 - an attrs field, as the others
        None,
        help="frames per dask chunk, as xarray's chunks= (64, or {'index': 64}); loads the frames lazily",
        validator=_chunks,
    )

    @property
    def region(self) -> Region:
        """The region of interest and stride to load."""
        return Region(self.roi, self.reduce)

    @property
    def frames_per_chunk(self) -> int | None:
        """Frames per dask chunk that ``chunks`` asks for (``None``: not given)."""
        return self.chunks.get("index") if isinstance(self.chunks, dict) else self.chunks

    @property
    def lazy_frames(self) -> bool | None:
        """Whether to load lazily: ``chunks`` asks for it, else ``lazy`` says (``None``: decide by size)."""
        return True if self.chunks is not None else self.lazy


@attrs.frozen
class FrameFileOptions(FrameOptions):
    """`FrameOptions` of beamlines keeping one file per frame (read by `load_frames`)."""

    missing: Literal["raise", "mask"] = option(
        "raise", help="'raise' for a missing frame file, or 'mask': it reads -1 and is flagged in frame_missing"
    )
    workers: int | None = option(
        None, help="threads decoding frames (default: the number of CPUs)", validator=_positive
    )


@attrs.frozen
class Frames:
    """Loaded frames: the pixel data and what is known about them.

    Attributes
    ----------
    data:
        ``(frames, rows, cols)``: a numpy array, or a dask array when lazy.
    frame_shape:
        The full detector frame ``(rows, cols)`` (before region and stride).
    missing:
        Which frames were missing (``missing="mask"``); ``None`` when lazy.
    """

    data: Any
    frame_shape: tuple[int, int]
    missing: np.ndarray | None


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
            if layout is not None and layout.shape == self.frame_shape and layout.dtype.newbyteorder("=") == self.dtype:
                if self.region.full:
                    _decode_strips(blob, layout, out[k], url)
                    continue
                if scratch is None:
                    scratch = np.empty(self.frame_shape, self.dtype)
                _decode_strips(blob, layout, scratch, url)
                frame = scratch
            else:
                frame = decode_frame(blob, url, self.fallback)
                if frame.shape != self.frame_shape:
                    raise CorruptDataError(
                        f"{url} (frame {i}) has shape {frame.shape}, unlike the scan's frames {self.frame_shape}"
                    )
                if frame.dtype != self.dtype and not _fits(frame, self.dtype):
                    raise CorruptDataError(
                        f"{url} (frame {i}) holds {frame.dtype} pixels whose values do not fit the scan's "
                        f"{self.dtype} frames (the type of its first frame): converting would change them"
                    )
            out[k] = frame[self.slices]


def frame_dtype(stored: np.dtype, missing: str) -> np.dtype:
    """The dtype frames are loaded in: as stored, widened to a signed type when missing frames must hold -1.

    With ``missing="mask"``, unsigned frames (``uint16``, ``uint32``) are
    loaded as the smallest signed type that holds every stored value and
    `MISSING_VALUE` (``int32``, ``int64``).
    """
    stored = np.dtype(stored)
    if missing == "mask" and stored.kind in "ub":
        return np.promote_types(stored, np.int8)
    return stored


def _fits(frame: np.ndarray, dtype: np.dtype) -> bool:
    """Whether every value of ``frame`` is kept exactly in ``dtype`` (no wrap-around, rounding or truncation)."""
    if np.can_cast(frame.dtype, dtype, "safe"):
        return True
    floats = frame.dtype.kind in "fc" and np.dtype(dtype).kind in "fc"  # then NaN stays NaN
    with np.errstate(invalid="ignore", over="ignore"):
        return bool(np.array_equal(frame.astype(dtype), frame, equal_nan=floats))


def _first_frame(storage: Storage, urls: Sequence[str], fallback: Decoder | None) -> np.ndarray:
    for url in urls:
        try:
            blob = storage.read_bytes(url)
        except MissingDataError:
            continue
        return decode_frame(blob, url, fallback)
    raise MissingDataError(f"none of the {len(urls)} frames exists (first: {urls[0] if urls else 'none'})")


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not on every platform
        return None


def _check_memory(shape: tuple[int, ...], dtype: np.dtype, first_url: str) -> None:
    """Refuse to load more frames at once than this machine has memory for, with what to do instead."""
    nbytes = math.prod(int(n) for n in shape) * np.dtype(dtype).itemsize  # Python ints: no wrap-around
    memory = _physical_memory()
    if memory is not None and nbytes > memory:
        raise OptionError(
            f"the {shape[0]} frames from {first_url} ... take {nbytes / 2**30:.1f} GiB, more than this machine's "
            f"{memory / 2**30:.1f} GiB of memory: load them lazily (lazy=True), or fewer pixels (roi=, reduce=)"
        )


def _check_missing(missing: str) -> None:
    if missing not in ("raise", "mask"):
        raise OptionError(f"missing must be 'raise' or 'mask', not {missing!r}")


#: Names of the extra axes of frames with more than two (``(index, k, y, x)``: Eiger threshold images).
EXTRA_FRAME_DIMS = ("k", "k2", "k3")


def frames_array(
    data: Any, frame_shape: tuple[int, int], region: Region, *, attrs: dict[str, Any] | None = None
) -> Any:
    """Loaded frames as a scan's ``images``: what every nx5d reader returns.

    ``data`` is ``(frames, rows, cols)``, or ``(frames, k, rows, cols)`` for
    detectors with extra axes (named ``k``, ``k2`` ...).  Dimensions
    ``(index, [k ...,] y, x)``; ``y`` and ``x`` hold the full-frame pixel
    numbers of the loaded rows and columns (whatever region and stride);
    attribute ``detector_shape`` is the full frame ``(rows, cols)``.
    """
    import xarray as xr

    extra = data.ndim - 3
    if not 0 <= extra <= len(EXTRA_FRAME_DIMS):
        raise CorruptDataError(f"detector frames of {data.ndim} dimensions: 3 to {3 + len(EXTRA_FRAME_DIMS)} expected")
    dims = ("index", *EXTRA_FRAME_DIMS[:extra], "y", "x")
    return xr.DataArray(
        data,
        dims=dims,
        coords=region.coordinates(frame_shape),
        attrs={**(attrs or {}), "detector_shape": [int(frame_shape[0]), int(frame_shape[1])]},
    )


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
        Threads (default: the number of CPUs).

    Returns
    -------
    Frames
        The frames (dtype as stored, e.g. int32) with the flags of missing frames.
    """
    _check_missing(missing)
    region = region or Region()
    urls = list(urls)
    first = _first_frame(storage, urls, fallback)
    dtype = frame_dtype(first.dtype, missing)
    shape = (len(urls), *region.shape(first.shape))
    _check_memory(shape, dtype, urls[0])
    reader = _FrameReader(storage, urls, region, first.shape, dtype, missing, fallback)
    out = np.empty(shape, dtype)
    missing_mask = np.zeros(len(urls), bool)
    batch = 32 if reader.local else 256
    batches = [range(i, min(i + batch, len(urls))) for i in range(0, len(urls), batch)]
    stop = threading.Event()
    n = workers or os.cpu_count() or 1
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
) -> Frames:
    """The frames as a dask array, ``chunk`` frames per block, decoded on demand.

    The first frame is read at once to learn the shape and dtype; the rest
    only when blocks are computed (by any dask scheduler, also distributed).
    Missing frames in ``"mask"`` mode hold `MISSING_VALUE`.
    """
    import dask
    import dask.array as da

    _check_missing(missing)
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

    blocks = [
        da.from_delayed(
            dask.delayed(block)(i, min(i + chunk, len(urls))), (min(i + chunk, len(urls)) - i, *shape), dtype
        )
        for i in range(0, len(urls), chunk)
    ]
    frames = da.concatenate(blocks, axis=0)

    def read_into(start: int, stop: int, out: np.ndarray) -> None:
        reader.read(range(start, stop), out, np.zeros(stop - start, bool), None)

    return Frames(with_block_reader(frames, read_into), first.shape, None)
