"""Reciprocal space maps of a scan's frames, assembled on one common grid."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from nx5d.errors import CorruptDataError, OptionError
from nx5d.io.blocks import map_blocks
from nx5d.progress import progress
from nx5d.rsm.geometry import Setup
from nx5d.rsm.gridding import BlockSums, FrameGridder, Grid

__all__ = ["map_frames"]


def _usable(angles: np.ndarray, scale: np.ndarray | None, group: Any, where: str) -> np.ndarray:
    """Frames with finite angles, scale and group value; a warning names the others."""
    usable = np.isfinite(angles).all(axis=1)
    if scale is not None:
        usable &= np.isfinite(np.asarray(scale, float))
    if group is not None and np.asarray(group).dtype.kind in "fc":
        usable &= np.isfinite(np.asarray(group))
    if not usable.any():
        raise CorruptDataError(f"{where}: no frame has finite angles (and monitor and group values) to map")
    if not usable.all():
        left = np.flatnonzero(~usable)
        warnings.warn(
            f"{where}: {left.size} of {usable.size} frames have a NaN or infinite angle, monitor or group value "
            f"(first: frame {left[0]}); they are left out of the maps and of their frame counts",
            stacklevel=3,
        )
    return usable


def map_frames(
    setup: Setup,
    sample_angles: Sequence[np.ndarray],
    detector_angles: Sequence[np.ndarray],
    images: Any,
    *,
    pixels: tuple[np.ndarray, np.ndarray] | None = None,
    grid_size: Sequence[int],
    q_axes: Sequence[str] = ("qy", "qz"),
    group: tuple[str, np.ndarray] | None = None,
    scale: np.ndarray | None = None,
    mask_negative: bool = True,
    attrs: Mapping[str, Any] | None = None,
    where: str = "the scan",
) -> Any:
    """Reciprocal space maps of a scan's frames on one common grid, as an ``xarray.Dataset``.

    Parameters
    ----------
    setup:
        The diffractometer geometry.
    sample_angles, detector_angles:
        Per rotation axis of ``setup``, one angle (degrees) per frame.
    images:
        ``(frames, rows, cols)`` detector frames: a numpy array, or a lazy
        (dask) array whose chunks of frames are read and gridded on every
        CPU, so that all frames are never in memory at once (see
        :func:`nx5d.io.blocks.map_blocks`).
    pixels:
        The full-frame pixel coordinates ``(rows, cols)`` of the loaded
        pixels (the frames' ``y`` and ``x`` coordinates); default: the
        frames are whole detector frames.
    grid_size:
        Grid points along each of ``q_axes``.
    q_axes:
        One to three of ``"qx"``, ``"qy"``, ``"qz"``: the axes of the maps.
    group:
        ``(name, value per frame)``: one map per distinct value (e.g. per
        delay), all on the same grid; ``None``: one map of all frames.
    scale:
        A factor per frame (e.g. 1 / monitor) applied before gridding.
    mask_negative:
        Leave out negative pixels (detector gap and defect markers).
    attrs:
        Attributes of the result.
    where:
        What the frames are (a scan's URL), for warnings and errors.

    Returns
    -------
    xarray.Dataset
        ``qdata`` on ``(group name, *q_axes)`` (or ``q_axes`` without a group)
        with the grid points as coordinates, and ``frames``: the number of
        frames in each map.  Frames sharing an angle setting share their q
        conversion, which is computed once per distinct setting.  Frames
        without a finite angle, scale or group value are left out of the maps
        and of ``frames``, with a warning saying how many.
    """
    import xarray as xr

    if len(q_axes) != len(grid_size) or not 1 <= len(q_axes) <= 3 or set(q_axes) - {"qx", "qy", "qz"}:
        raise OptionError(f"q_axes {tuple(q_axes)} with grid_size {tuple(grid_size)}: need 1 to 3 of qx, qy, qz")
    angles = np.stack([np.asarray(a, float) for a in (*sample_angles, *detector_angles)], axis=1)
    n = angles.shape[0]
    if images.shape[0] != n:
        raise OptionError(f"{images.shape[0]} frames but {n} angle settings")
    rows_cols = pixels if pixels is not None else (np.arange(images.shape[1]), np.arange(images.shape[2]))
    usable = _usable(angles, scale, None if group is None else group[1], where)
    geometries, inverse = np.unique(angles[usable], axis=0, return_inverse=True)
    geometry_of_frame = np.full(n, -1, np.intp)
    geometry_of_frame[usable] = inverse.reshape(-1)
    n_sample = len(sample_angles)
    coordinates = setup.q_maps(
        list(geometries[:, :n_sample].T), list(geometries[:, n_sample:].T), *rows_cols, axes=q_axes
    )
    grid = Grid.covering(coordinates, grid_size)
    group_of_frame = np.full(n, -1, np.intp)
    if group is not None:
        groups, inverse = np.unique(np.asarray(group[1])[usable], return_inverse=True)
        group_of_frame[usable] = inverse.reshape(-1)
    else:
        groups = np.zeros(1)
        group_of_frame[usable] = 0
    scales = None if scale is None else np.asarray(scale, float)
    gridder = FrameGridder(grid, coordinates)
    sums, norm = gridder.start(geometry_of_frame[usable], group_of_frame[usable], len(groups))

    def block_sums_of(part: slice, block: np.ndarray) -> BlockSums:
        take = usable[part]
        return gridder.contributions(
            block if take.all() else block[take],
            geometry_of_frame[part][take],
            group_of_frame[part][take],
            scale=None if scales is None else scales[part][take],
            mask_negative=mask_negative,
        )

    with progress(n, "gridding", unit="frame") as bar, contextlib.closing(map_blocks(images, block_sums_of)) as blocks:
        for part, block_sums in blocks:  # in frame order: the maps do not depend on the threads
            gridder.apply(sums, norm, block_sums)
            bar.update(part.stop - part.start)
    maps = gridder.maps(sums, norm)
    frames = np.bincount(group_of_frame[usable], minlength=len(groups))
    axes = {name: axis.values for name, axis in zip(q_axes, grid.axes, strict=True)}
    if group is None:
        return xr.Dataset(
            {"qdata": (tuple(q_axes), maps[0]), "frames": frames[0]}, coords=axes, attrs=dict(attrs or {})
        )
    name = group[0]
    return xr.Dataset(
        {"qdata": ((name, *q_axes), maps), "frames": (name, frames)},
        coords={name: groups, **axes},
        attrs=dict(attrs or {}),
    )
