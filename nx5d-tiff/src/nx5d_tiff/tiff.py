"""TIFF detector frames decoded fast: strip-organised images parsed and inflated here, anything else by tifffile.

Plain (strip-organised, uncompressed or deflate) TIFF files -- what Pilatus
and most area detectors write -- are parsed here and inflated with
libdeflate when ``imagecodecs`` is installed (else the standard library's
zlib); any other image file goes to a ``fallback`` decoder the caller
supplies (`tifffile_fallback`).  Headers are checked against
[`nx5d.io.limits`][nx5d.io.limits] before anything is allocated.
"""

from __future__ import annotations

import functools
import struct
import zlib
from collections.abc import Callable

import attrs
import numpy as np

from nx5d.errors import CorruptDataError, NotSupportedError
from nx5d.toolkit import check_frame_size

_deflate_into: Callable[..., bytes | bytearray | np.ndarray] | None  # imagecodecs.deflate_decode (out= takes an array)
try:  # libdeflate is several times faster than zlib for detector frames
    from imagecodecs import deflate_decode as _deflate_into
except ImportError:  # pragma: no cover - exercised where imagecodecs is absent
    _deflate_into = None

__all__ = [
    "Decoder",
    "StripTiff",
    "parse_tiff",
    "image_shape",
    "check_pages",
    "decode_strips",
    "decode_frame",
    "tifffile_fallback",
]

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
    more_pages: bool = False
    """Whether another image follows the first (a multi-page file: one frame per file is expected)."""


def _first_ifd(data: bytes) -> tuple[str, int, int] | None:
    """``(byte order, offset, entries)`` of a classic TIFF's first directory, where ``data`` holds all of it."""
    if len(data) < 8:
        return None
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None or struct.unpack_from(order + "H", data, 2)[0] != 42:
        return None
    (ifd,) = struct.unpack_from(order + "I", data, 4)
    if ifd + 2 > len(data):
        return None
    (count,) = struct.unpack_from(order + "H", data, ifd)
    if ifd + 2 + 12 * count + 4 > len(data):
        return None
    return order, ifd, count


def image_shape(head: bytes) -> tuple[int, int] | None:
    """``(rows, cols)`` of a classic TIFF's first image from the file's first bytes, else ``None``.

    ``head`` must hold the first image directory (detector writers put it
    right after the 8-byte header); nothing but the width and height tags is read.
    """
    found = _first_ifd(head)
    if found is None:
        return None
    order, ifd, count = found
    sizes: dict[int, int] = {}
    for i in range(count):
        tag, kind, n = struct.unpack_from(order + "HHI", head, ifd + 2 + 12 * i)
        if tag in (256, 257) and n == 1 and kind in (3, 4):
            sizes[tag] = struct.unpack_from(order + ("H" if kind == 3 else "I"), head, ifd + 10 + 12 * i)[0]
    return (sizes[257], sizes[256]) if sizes.get(256) and sizes.get(257) else None


#: The tags that say how the image is laid out and encoded (the fast path reads these only).
_LAYOUT_TAGS = frozenset((256, 257, 258, 259, 273, 277, 278, 279, 317, 339))


@functools.lru_cache(maxsize=64)
def _directory(order: str, count: int) -> struct.Struct:
    """The layout of an image directory of ``count`` entries: 12 bytes each."""
    return struct.Struct(order + "HHI4s" * count)


def parse_tiff(data: bytes) -> StripTiff | None:
    """The strip layout of ``data`` if the fast path can decode it, else ``None``.

    Handles classic little- and big-endian TIFF with one sample per pixel,
    uncompressed or deflate, without predictor.  Anything else (tiles,
    BigTIFF, predictors, other codecs) returns ``None``.
    """
    found = _first_ifd(data)
    if found is None:
        return None
    order, ifd, count = found
    (next_ifd,) = struct.unpack_from(order + "I", data, ifd + 2 + 12 * count)
    tags: dict[int, tuple[int, ...]] = {}
    entries = _directory(order, count).unpack_from(data, ifd + 2)  # (tag, type, count, value) of every entry
    for i in range(0, 4 * count, 4):
        tag = entries[i]
        if tag not in _LAYOUT_TAGS:
            continue  # descriptions, dates, software ...: not needed to decode the image
        kind, n, raw = entries[i + 1 : i + 4]
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
    more = 0 < next_ifd <= len(data) - 2 and struct.unpack_from(order + "H", data, next_ifd)[0] > 0
    return StripTiff((height, width), dtype, compression, min(rows, height), tuple(offsets), tuple(counts), more)


def _inflate(src: bytes, dst: np.ndarray) -> int:
    if _deflate_into is not None:
        return len(_deflate_into(src, out=dst))
    inflater = zlib.decompressobj()
    plain = inflater.decompress(src, dst.nbytes + 1)  # never more than the strip can hold, plus one to notice
    n = min(len(plain), dst.nbytes)
    dst[:n] = np.frombuffer(plain, np.uint8, n)
    return len(plain)


def decode_strips(data: bytes, layout: StripTiff, out: np.ndarray, where: str) -> None:
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
        if len(tif.pages) > 1:
            raise NotSupportedError(f"the file holds {len(tif.pages)} images, where one frame per file is read")
        series = tif.series[0]
        check_frame_size(series.shape, series.dtype, len(data), "the image")
        return tif.asarray()


def check_pages(layout: StripTiff, where: str) -> None:
    """Refuse a multi-page file: loading its first image alone would drop the others without a word."""
    if layout.more_pages:
        raise NotSupportedError(f"{where} holds more than one image, where one frame per file is read")


def decode_frame(data: bytes, where: str, fallback: Decoder | None = None) -> np.ndarray:
    """Decode one image file's bytes into a new 2-D array (``CorruptDataError`` naming ``where``)."""
    layout = parse_tiff(data)
    if layout is not None:
        check_pages(layout, where)
        check_frame_size(layout.shape, layout.dtype, len(data), where)
        out = np.empty(layout.shape, layout.dtype.newbyteorder("="))
        decode_strips(data, layout, out, where)
        return out
    if fallback is None:
        raise CorruptDataError(f"{where} is not an image this loader can read")
    try:
        frame = np.asarray(fallback(data))
    except NotSupportedError as exc:
        raise NotSupportedError(f"{where}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - any decoder failure means a bad file
        raise CorruptDataError(f"{where} cannot be decoded: {type(exc).__name__}: {exc}") from None
    if frame.ndim != 2:
        raise CorruptDataError(f"{where} holds an image of shape {frame.shape}, a 2-D frame was expected")
    return frame
