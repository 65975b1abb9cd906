"""Detector frames as every reader hands them out: the region loaded, the options, the ``images`` array.

Readers of frame files ([`nx5d_tiff.files`][nx5d_tiff.files]) and of frame datasets
(HDF5, Zarr) share what a scan's frames are: the `Region` of the detector
loaded (a region of interest, a stride), the loading options every frame
beamline accepts (`FrameOptions`), the `Frames` loaded, and the ``images``
array a scan's Dataset holds them in (`frames_array`).
"""

from __future__ import annotations

from typing import Any, Literal

import attrs
import numpy as np

from nx5d.errors import CorruptDataError, OptionError
from nx5d.options import option

__all__ = [
    "frames_array",
    "EXTRA_FRAME_DIMS",
    "Region",
    "FrameOptions",
    "Frames",
    "MISSING_VALUE",
    "frame_dtype",
    "fits",
    "check_missing",
    "positive",
]

#: Value written into frames that are missing when ``missing="mask"``
#: (Pilatus detectors use -1 for "no data").
MISSING_VALUE = -1


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
    return None if value is None else tuple(value)


def positive(instance: object, attribute: attrs.Attribute, value: int | None) -> None:
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

    reduce: int = option(1, help="keep every n-th detector row and column", validator=positive)
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


def fits(frame: np.ndarray, dtype: np.dtype) -> bool:
    """Whether every value of ``frame`` is kept exactly in ``dtype`` (no wrap-around, rounding or truncation)."""
    if np.can_cast(frame.dtype, dtype, "safe"):
        return True
    floats = frame.dtype.kind in "fc" and np.dtype(dtype).kind in "fc"  # then NaN stays NaN
    with np.errstate(invalid="ignore", over="ignore"):
        return bool(np.array_equal(frame.astype(dtype), frame, equal_nan=floats))


def check_missing(missing: str) -> None:
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
