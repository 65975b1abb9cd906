"""The one cook a beamline needs for reciprocal space maps: `cook_rsm`.

A beamline's ``nx5d_cook`` hook extracts the angles of every frame from its
raw data and hands them, with its [`RsmSettings`][nx5d_rsm.settings.RsmSettings],
to `cook_rsm`; everything else -- monitor normalisation, grouping,
pixel geometry from the frames' ``y``/``x`` coordinates, gridding, the
result's attributes -- is done here the same way for every beamline:

    @nx5d.hookimpl
    def nx5d_cook(scan, raw, spice):
        settings = settings_from(Settings, spice, "settings", f"cooking {scan.url}")
        theta = per_frame(raw, "theta", "sample angle")
        return cook_rsm(raw, settings, sample_angles=[theta], detector_angles=[2 * theta])

Variables are found by [`nx5d.io.naming.find_variable`][nx5d.io.naming.find_variable]: by name, by
``long_name`` (the name as written in the file), or -- when that is
unambiguous -- ignoring case, spaces and underscores (``TwoTheta`` finds
``Two Theta``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr
from attrs import asdict

from nx5d.errors import CorruptDataError, MissingDataError, SpiceValidationError
from nx5d.toolkit import find_variable, per_frame
from nx5d_rsm.geometry import Setup
from nx5d_rsm.incremental import GrowingMaps
from nx5d_rsm.maps import map_frames
from nx5d_rsm.settings import ENERGY_UNITS, MotorSettings, RsmSettings, check_energy
from nx5d_rsm.signal import left_out

__all__ = ["cook_rsm", "motor_angles", "frame_energies", "group_values", "rounded", "IMAGES", "DETECTOR_SHAPE"]

#: The name of the detector frames in raw data.
IMAGES = "images"
#: Attribute of ``images``: the full detector frame ``(rows, cols)`` before any region or stride.
DETECTOR_SHAPE = "detector_shape"


def motor_angles(raw: xr.Dataset, settings: MotorSettings) -> dict[str, list[np.ndarray]]:
    """The angles of every frame from the variables ``settings`` names: keyword arguments for `cook_rsm`."""
    return {
        "sample_angles": [per_frame(raw, motor, "sample motor") for motor in settings.sample_motors],
        "detector_angles": [per_frame(raw, motor, "detector motor") for motor in settings.detector_motors],
    }


def frame_energies(raw: xr.Dataset, settings: RsmSettings) -> float | np.ndarray:
    """The photon energy in eV: the settings' number, or the variable they name (one value, or one per frame).

    The variable's ``units`` attribute (else ``settings.energy_units``) says
    whether it is in eV or keV; values outside the X-ray range are refused.
    A scan without that variable is a `SpiceValidationError` that says to
    give the energy in eV in the ``settings`` spice.
    """
    where = str(raw.attrs.get("url", "the scan"))
    if not isinstance(settings.energy, str):
        return float(settings.energy)
    try:
        name = find_variable(raw, settings.energy, "energy")
    except SpiceValidationError as exc:
        raise SpiceValidationError(
            f"{exc}; give the photon energy in eV as the 'settings' spice's energy "
            "(proposal.spice.seed('settings', energy=9000.0)) or name the variable recording it"
        ) from exc
    units = str(raw[name].attrs.get("units") or settings.energy_units)
    factor = ENERGY_UNITS.get(units.strip().lower())
    if factor is None:
        raise SpiceValidationError(f"energy variable {name!r} of {where} is in {units!r}; nx5d reads eV or keV")
    values = per_frame(raw, name, "energy") * factor
    finite = values[np.isfinite(values)]
    for value in (finite.min(), finite.max()) if finite.size else ():
        try:
            check_energy(float(value), f"energy {name!r} of {where}")
        except ValueError as exc:
            raise CorruptDataError(str(exc)) from exc
    return float(finite[0]) if finite.size and np.all(values == finite[0]) else values


def group_values(raw: xr.Dataset, name: str) -> np.ndarray:
    """The per-frame values of the group variable ``name`` (numbers as floats; labels, e.g. strings, as they are)."""
    found = find_variable(raw, name, "group_by variable")
    values = np.asarray(raw[found].values)
    if values.dtype.kind in "biuf":
        return per_frame(raw, found, "group_by variable")
    if values.shape != (raw.sizes["index"],):
        raise CorruptDataError(f"group_by variable {name!r} has shape {values.shape}, not one value per frame")
    return values


def rounded(values: np.ndarray, step: float | None) -> np.ndarray:
    """``values`` rounded to the nearest multiple of ``step`` (``None``: as they are).

    The multiples are written with no more digits than ``step`` has, so that
    ``0.1 * 3`` groups as ``0.3``.
    """
    if step is None:
        return values
    multiples = np.round(np.asarray(values, float) / step) * step
    return np.round(multiples, max(0, 12 - int(np.floor(np.log10(step)))))


def _detector_shape(images: xr.DataArray) -> tuple[int, int] | None:
    shape = images.attrs.get(DETECTOR_SHAPE)
    if shape is not None:
        return int(shape[0]), int(shape[1])
    return None if any(dim in images.coords for dim in ("y", "x")) else (images.sizes["y"], images.sizes["x"])


def _frames_to_map(
    images: xr.DataArray, settings: RsmSettings, n: int
) -> tuple[xr.DataArray, tuple[str, np.ndarray] | None, int]:
    """The frames to grid, ``(frames, y, x)``; the group of frames spread from an extra axis; maps per point.

    Frames with extra axes (``(index, k, y, x)``) are summed over them, or
    (``extra_axes="group"``) every image along the extra axis becomes a
    frame of its own, grouped by its position on that axis.
    """
    if images.dims[0] != "index" or images.dims[-2:] != ("y", "x"):
        raise CorruptDataError(f"detector images on {images.dims}: (index, ..., y, x) was expected")
    if settings.pixel_stride > 1:
        images = images[..., :: settings.pixel_stride, :: settings.pixel_stride]
    extra = list(images.dims[1:-2])
    if not extra:
        return images, None, 1
    pixels = {dim: images[dim] for dim in ("y", "x") if dim in images.coords}
    axes = tuple(range(1, 1 + len(extra)))
    if settings.extra_axes == "sum":
        summed = images.data.sum(axis=axes)
        if settings.mask_negative:  # a gap or defect in any of the images is a gap in their sum
            summed = _where((images.data < 0).any(axis=axes), -1, summed)
        return xr.DataArray(summed, dims=("index", "y", "x"), coords=pixels), None, 1
    if len(extra) != 1:
        raise SpiceValidationError(f"extra_axes='group' maps frames with one extra axis; these have {extra}")
    (axis,) = extra
    count = images.sizes[axis]
    labels = images[axis].values if axis in images.coords else np.arange(count)
    stacked = images.data.reshape(n * count, images.sizes["y"], images.sizes["x"])
    return xr.DataArray(stacked, dims=("index", "y", "x"), coords=pixels), (str(axis), np.tile(labels, n)), count


def _where(condition: Any, value: int, other: Any) -> Any:
    if type(other).__module__.startswith("dask"):
        import dask.array as da

        return da.where(condition, value, other)
    return np.where(condition, value, other)


def cook_rsm(
    raw: xr.Dataset,
    settings: RsmSettings,
    *,
    sample_angles: Sequence[np.ndarray],
    detector_angles: Sequence[np.ndarray],
    groups: Sequence[tuple[str, np.ndarray]] | None = None,
    attrs: Mapping[str, Any] | None = None,
    reciprocal: Callable[[Setup], tuple[Any, Sequence[str], Sequence[int]]] | None = None,
    growing: GrowingMaps | None = None,
) -> xr.Dataset:
    """Reciprocal space maps of a scan's frames, with ``settings``.

    Parameters
    ----------
    raw:
        The scan: frames as ``images`` on ``(index, y, x)`` (with full-frame
        pixel coordinates ``y`` and ``x``; extra axes between ``index`` and
        ``y`` are summed or grouped as ``settings.extra_axes`` says),
        counters on ``index``.
    settings:
        Geometry, energy, grid, grouping and monitor.
    sample_angles, detector_angles:
        One angle (degrees) per frame for each of ``settings.sample_axes`` and
        ``settings.detector_axes``.
    groups:
        ``[(name, value per frame), ...]`` to make one map per value (or
        combination); default: the variables ``settings.group_by`` names.
        Values are rounded as ``settings.group_step`` says.
    attrs:
        More attributes of the result (the settings are added as JSON).
    reciprocal:
        For maps on other axes than q (H, K, L): a function of the scan's
        `Setup` that gives the setup to map with, its axes and grid size
        (see [`nx5d_rsm.hkl`][nx5d_rsm.hkl]); default: the settings' q axes.
    growing:
        While the scan is being measured (``follow(partial=...)``): how its
        frames are added to the maps kept from the cook before
        ([`growing_maps`][nx5d_rsm.incremental.growing_maps]); ``None``: all frames are gridded.

    Returns
    -------
    xarray.Dataset
        ``qdata`` (the maps), ``weight`` (pixel area per bin) and ``frames``
        (frames per map); see [`nx5d_rsm.maps.map_frames`][nx5d_rsm.maps.map_frames].  With a
        monitor, map values are counts per monitor unit.
    """
    where = str(raw.attrs.get("url", "the scan"))
    if IMAGES not in raw:
        raise MissingDataError(f"{where} has no detector images to map{left_out(raw)}")
    if len(sample_angles) != len(settings.sample_axes) or len(detector_angles) != len(settings.detector_axes):
        raise SpiceValidationError(
            f"{len(sample_angles)} sample and {len(detector_angles)} detector angles for the circles "
            f"{tuple(settings.sample_axes)} and {tuple(settings.detector_axes)}"
        )
    n = raw.sizes["index"]
    energy = frame_energies(raw, settings)
    try:
        setup = Setup.from_settings(
            settings, energy=energy if isinstance(energy, float) else float(np.nanmedian(energy)),
            detector_shape=_detector_shape(raw[IMAGES]),
        )  # fmt: skip
    except ValueError as exc:
        raise SpiceValidationError(f"settings for {where}: {exc}") from exc
    scale = None
    if settings.monitor:
        monitor = per_frame(raw, settings.monitor, "monitor")
        if np.any(monitor[np.isfinite(monitor)] <= 0):
            raise CorruptDataError(f"monitor {settings.monitor!r} of {where} is not positive everywhere")
        scale = 1.0 / monitor
    if groups is None:
        groups = [(name, group_values(raw, name)) for name in settings.groups]
    groups = [(name, rounded(values, settings.group_step.get(name))) for name, values in groups]
    images, spread, per_point = _frames_to_map(raw[IMAGES], settings, n)

    def repeat(values: Any) -> Any:
        return values if per_point == 1 or values is None or np.ndim(values) == 0 else np.repeat(values, per_point)

    if spread is not None:
        groups = [(name, repeat(values)) for name, values in groups] + [spread]
    pixels = tuple(
        np.asarray(images[dim].values) if dim in images.coords else np.arange(images.sizes[dim]) for dim in ("y", "x")
    )
    mapper, axes, grid_size = (setup, settings.q_axes, settings.grid_size) if reciprocal is None else reciprocal(setup)
    mapping = map_frames if growing is None else growing.map_frames
    return mapping(
        mapper,
        [repeat(np.broadcast_to(np.asarray(a, float), (n,))) for a in sample_angles],
        [repeat(np.broadcast_to(np.asarray(a, float), (n,))) for a in detector_angles],
        images.data,
        pixels=pixels,  # type: ignore[arg-type]
        grid_size=grid_size,
        q_axes=axes,
        groups=groups,
        scale=repeat(scale),
        energies=None if isinstance(energy, float) else repeat(energy),
        mask_negative=settings.mask_negative,
        empty=settings.empty_bins,
        attrs={"spice_settings": json.dumps(asdict(settings)), **dict(attrs or {})},
        where=where,
    )
