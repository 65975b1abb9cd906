"""Reciprocal space maps of a scan's frames, assembled on one common grid."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from nx5d.errors import CorruptDataError, DataWarning, OptionError
from nx5d.toolkit import map_blocks, progress
from nx5d_rsm.geometry import Setup
from nx5d_rsm.gridding import FrameGridder, Grid, Totals
from nx5d_rsm.points import FramePoints, PointBatches
from nx5d_rsm.settings import MAX_BINS

if TYPE_CHECKING:
    from nx5d_rsm.orientation import HklSetup

__all__ = ["MAP_VARIABLES", "MAP_AXES", "map_variable", "map_frames", "map_dataset", "usable_frames"]

#: The axes a map can have: ``{name: (long_name, units)}`` (q from a `Setup`, H, K, L from an `HklSetup`).
MAP_AXES = {
    **{name: (f"momentum transfer {name}", "1/Å") for name in ("qx", "qy", "qz")},
    **{name: (f"reciprocal lattice coordinate {name}", "r.l.u.") for name in ("H", "K", "L")},
}


def usable_frames(
    angles: np.ndarray, scale: np.ndarray | None, groups: Sequence[tuple[str, np.ndarray]], where: str
) -> np.ndarray:
    """Frames with finite angles, energy, scale and group values; a warning names the others."""
    usable = np.isfinite(angles).all(axis=1)
    if scale is not None:
        usable &= np.isfinite(np.asarray(scale, float))
    for _, values in groups:
        if np.asarray(values).dtype.kind in "fc":
            usable &= np.isfinite(np.asarray(values))
    if not usable.any():
        raise CorruptDataError(f"{where}: no frame has finite angles (and monitor and group values) to map")
    if not usable.all():
        left = np.flatnonzero(~usable)
        warnings.warn(
            f"{where}: {left.size} of {usable.size} frames have a NaN or infinite angle, energy, monitor or group "
            f"value (first: frame {left[0]}); they are left out of the maps and of their frame counts",
            DataWarning,
            stacklevel=3,
        )
    return usable


def _group_indices(
    groups: Sequence[tuple[str, np.ndarray]], usable: np.ndarray, n: int, where: str
) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct values of each group variable and every usable frame's flat index in their product."""
    values_of, indices = [], []
    for name, values in groups:
        values = np.asarray(values)
        if values.shape != (n,):
            raise OptionError(f"{where}: group variable {name!r} has {values.shape} values for {n} frames")
        distinct, inverse = np.unique(values[usable], return_inverse=True)
        values_of.append(distinct)
        indices.append(inverse.reshape(-1))
    flat = np.full(n, -1, np.intp)
    sizes = [v.size for v in values_of]
    flat[usable] = np.ravel_multi_index(indices, sizes) if groups else 0
    return values_of, flat


def map_frames(
    setup: Setup | HklSetup,
    sample_angles: Sequence[np.ndarray],
    detector_angles: Sequence[np.ndarray],
    images: Any,
    *,
    pixels: tuple[np.ndarray, np.ndarray] | None = None,
    grid_size: Sequence[int],
    q_axes: Sequence[str] = ("qy", "qz"),
    groups: Sequence[tuple[str, np.ndarray]] = (),
    scale: np.ndarray | None = None,
    energies: np.ndarray | None = None,
    mask_negative: bool = True,
    empty: str = "nan",
    attrs: Mapping[str, Any] | None = None,
    where: str = "the scan",
) -> Any:
    """Reciprocal space maps of a scan's frames on one common grid, as an ``xarray.Dataset``.

    Parameters
    ----------
    setup:
        The diffractometer geometry (an [`HklSetup`][nx5d_rsm.orientation.HklSetup] for maps on H, K, L).
    sample_angles, detector_angles:
        Per rotation axis of ``setup``, one angle (degrees) per frame.
    images:
        ``(frames, rows, cols)`` detector frames: a numpy array, or a lazy
        (dask) array whose chunks of frames are read and gridded on every
        CPU, so that all frames are never in memory at once (see
        [`nx5d.io.blocks.map_blocks`][nx5d.io.blocks.map_blocks]).
    pixels:
        The full-frame pixel coordinates ``(rows, cols)`` of the loaded
        pixels (the frames' ``y`` and ``x`` coordinates); default: the
        frames are whole detector frames.
    grid_size:
        Grid points along each of ``q_axes``.
    q_axes:
        One to three of ``"qx"``, ``"qy"``, ``"qz"`` (or of ``"H"``, ``"K"``,
        ``"L"`` with an ``HklSetup``): the axes of the maps.
    groups:
        ``[(name, value per frame), ...]``: one map per distinct value of
        each (e.g. per delay), or per combination of values of several
        (temperature and delay: a dimension each, combinations never
        measured hold NaN and 0 frames), all on the same grid; empty: one
        map of all frames.
    scale:
        A factor per frame (e.g. 1 / monitor) applied before gridding.
    energies:
        Photon energy per frame (eV) for scans that change it; default: the setup's.
    mask_negative:
        Leave out negative pixels (detector gap and defect markers).
    empty:
        The value of bins no pixel reached: ``"nan"`` (default: they are not
        zero intensity, they are unmeasured) or ``"zero"`` (as xrayutilities).
    attrs:
        Attributes of the result.
    where:
        What the frames are (a scan's URL), for warnings and errors.

    Returns
    -------
    xarray.Dataset
        ``qdata`` on ``(*group names, *q_axes)``, the grid points as
        coordinates: in each bin, the mean intensity of the pixels that
        fell into it, each weighted by the part of it that fell there;
        ``weight`` on the same dimensions: that pixel area (pixels), so that
        ``qdata * weight`` is the intensity in the bin and its sum the
        intensity of the frames that reached the grid; ``frames``: the
        number of frames in each map.  Statistics, the pixel values taken
        as counts: ``qdata_variance``, the Poisson variance of ``qdata``
        (through the ``scale`` of each frame); ``intensity_variance``, the
        variance of the bin's intensity ``qdata * weight``, additive over
        bins (see [`Totals`][nx5d_rsm.gridding.Totals]); ``pixels``, the
        pixel readings (pixels of frames, markers left out) that reached the bin.  Frames sharing an angle setting share
        their q conversion, computed once per distinct setting.  Frames
        without a finite angle, energy, scale or group value are left out of
        the maps and of ``frames``, with a warning saying how many.
    """
    if empty not in ("nan", "zero"):
        raise OptionError(f"empty must be 'nan' or 'zero', not {empty!r}")
    if len(q_axes) != len(grid_size) or not 1 <= len(q_axes) <= 3 or set(q_axes) - set(MAP_AXES):
        raise OptionError(f"q_axes {tuple(q_axes)} with grid_size {tuple(grid_size)}: need 1 to 3 of qx, qy, qz")
    columns = [np.asarray(a, float) for a in (*sample_angles, *detector_angles)]
    if energies is not None:
        columns.append(np.broadcast_to(np.asarray(energies, float), columns[0].shape if columns else (1,)))
    angles = np.stack(columns, axis=1)
    n = angles.shape[0]
    if images.shape[0] != n:
        raise OptionError(f"{images.shape[0]} frames but {n} angle settings")
    rows_cols = pixels if pixels is not None else (np.arange(images.shape[1]), np.arange(images.shape[2]))
    usable = usable_frames(angles, scale, groups, where)
    geometries, inverse = np.unique(angles[usable], axis=0, return_inverse=True)
    geometry_of_frame = np.full(n, -1, np.intp)
    geometry_of_frame[usable] = inverse.reshape(-1)
    n_sample, n_circles = len(sample_angles), len(sample_angles) + len(detector_angles)
    coordinates = setup.q_coordinates(  # q per pixel is computed as the pixels are gridded: no q table is kept
        list(geometries[:, :n_sample].T),
        list(geometries[:, n_sample:n_circles].T),
        *rows_cols,
        axes=q_axes,
        energies=None if energies is None else geometries[:, n_circles],
    )
    grid = Grid.covering(coordinates.ranges(), grid_size)
    group_values, group_of_frame = _group_indices(groups, usable, n, where)
    shape = tuple(v.size for v in group_values)
    n_groups = int(np.prod(shape))
    if n_groups * grid.size > MAX_BINS:
        raise OptionError(
            f"{where}: {n_groups} groups ({' x '.join(map(str, shape))}) of {grid.size} bins are too many "
            f"(at most {MAX_BINS} bins); round the group variables (group_step) or group by fewer"
        )
    scales = None if scale is None else np.asarray(scale, float)
    # frames become their non-zero pixels where they are decoded (threads, or worker processes that start reading
    # now, during the gridder's set-up); here those points are gridded in batches of a fixed number of points and
    # added up in frame order: the same bits however they were read

    def points_of(part: slice, block: np.ndarray) -> FramePoints:
        points = FramePoints.of(block, part.start)
        take = usable[points.frame]
        return points if take.all() else points[take]

    with progress(n, "gridding", unit="frame") as bar, contextlib.closing(map_blocks(images, points_of)) as blocks:
        gridder = FrameGridder(grid, coordinates)
        totals = gridder.start(geometry_of_frame[usable], group_of_frame[usable], n_groups)

        def grid_batch(batch: FramePoints) -> None:
            sums = gridder.contributions_of(
                batch, geometry_of_frame, group_of_frame, scale=scales, mask_negative=mask_negative
            )
            gridder.apply(totals, sums)

        batches = PointBatches()
        for part, points in blocks:
            for batch in batches.add(points):
                grid_batch(batch)
            bar.update(part.stop - part.start)
        for batch in batches.rest():
            grid_batch(batch)
    gridder.release()
    frames = np.bincount(group_of_frame[usable], minlength=n_groups).reshape(shape)
    named = [(name, values) for (name, _), values in zip(groups, group_values, strict=True)]
    scaled = scale is not None
    return map_dataset(
        gridder, totals, named, frames, q_axes=q_axes, scaled=scaled, empty=empty, attrs=attrs, in_place=True
    )


def map_dataset(
    gridder: FrameGridder,
    totals: Totals,
    groups: Sequence[tuple[str, np.ndarray]],
    frames: np.ndarray,
    *,
    q_axes: Sequence[str],
    scaled: bool,
    empty: str,
    attrs: Mapping[str, Any] | None,
    in_place: bool = False,
) -> xr.Dataset:
    """The Dataset of `map_frames` from a gridder's ``totals``: ``groups`` are ``[(name, distinct values), ...]``,
    ``frames`` the frames per map (of their shape), ``scaled`` whether frames were scaled by a monitor.

    ``in_place``: the maps and variances are written over the running sums
    (less memory; the totals cannot take more frames after it)."""
    grid = gridder.grid
    shape = tuple(values.size for _, values in groups)
    maps = gridder.maps(totals, empty=np.nan if empty == "nan" else 0.0, in_place=in_place).reshape(*shape, *grid.shape)
    weights = totals.norm.reshape(maps.shape)
    dims = (*(name for name, _ in groups), *q_axes)
    coords: dict[str, Any] = dict(groups)
    for name, axis in zip(q_axes, grid.axes, strict=True):
        coords[name] = (name, axis.values, dict(zip(("long_name", "units"), MAP_AXES[name], strict=True)))
    per_unit = " and monitor unit" if scaled else ""
    qdata_attrs = {
        "long_name": "mean intensity per pixel" + per_unit,
        "description": "in each bin, the intensity of the pixels falling into it divided by how much pixel area "
        f"fell into it (weight); intensity in the bin = qdata * weight; bins no pixel reached: {empty}",
    }
    data = {
        "qdata": (dims, maps, qdata_attrs),
        "qdata_variance": (
            dims,
            gridder.mean_variances(totals, in_place=in_place).reshape(maps.shape),
            {
                "long_name": "Poisson variance of qdata",
                "description": "the pixel counts' Poisson variance propagated through the monitor normalisation "
                "and the bin's mean: sqrt is qdata's standard error; NaN where no pixel fell",
            },
        ),
        "weight": (dims, weights, {"long_name": "pixel area per bin", "units": "pixels"}),
        "intensity_variance": (
            dims,
            totals.intensity_variance.reshape(maps.shape),
            {
                "long_name": f"Poisson variance of the intensity per bin{per_unit}",
                "description": "additive: summed over bins it is the variance of (qdata * weight) summed over them",
            },
        ),
        "pixels": (dims, totals.pixels.reshape(maps.shape), {"long_name": "pixel readings per bin"}),
        "frames": (dims[: len(groups)], frames, {"long_name": "frames per map"}),
    }
    return xr.Dataset(data, coords=coords, attrs=dict(attrs or {}))


#: Names of the map variable tried, in order, when a Dataset is given.
MAP_VARIABLES = ("qdata", "rsm", "map")


def map_variable(data: xr.Dataset | xr.DataArray, var: Hashable | None = None) -> xr.DataArray:
    """The map to plot: ``data[var]``, else the first of `MAP_VARIABLES` or the only variable with 2+ dims."""
    if isinstance(data, xr.DataArray):
        return data
    if not isinstance(data, xr.Dataset):
        raise OptionError(f"expected an xarray Dataset or DataArray, not {type(data).__name__}")
    if var is not None:
        if var not in data.data_vars:
            raise OptionError(f"no variable {var!r} to plot; variables: {', '.join(map(str, data.data_vars))}")
        return data[var]
    for name in MAP_VARIABLES:
        if name in data.data_vars:
            return data[name]
    maps = [name for name, v in data.data_vars.items() if v.ndim >= 2]
    if len(maps) != 1:
        raise OptionError(f"say which variable to plot (var=...); candidates: {', '.join(map(str, maps)) or 'none'}")
    return data[maps[0]]
