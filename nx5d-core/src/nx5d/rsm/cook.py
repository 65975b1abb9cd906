"""The one cook a beamline needs for reciprocal space maps: :func:`cook_rsm`.

A beamline's ``nx5d_cook`` hook extracts the angles of every frame from its
raw data and hands them, with its :class:`~nx5d.rsm.settings.RsmSettings`,
to :func:`cook_rsm`; everything else -- monitor normalisation, grouping,
pixel geometry from the frames' ``y``/``x`` coordinates, gridding, the
result's attributes -- is done here the same way for every beamline::

    @nx5d.hookimpl
    def nx5d_cook(scan, raw, spice):
        settings = settings_from(Settings, spice, "settings", f"cooking {scan.url}")
        theta = per_frame(raw, "theta", "sample angle")
        return cook_rsm(raw, settings, sample_angles=[theta], detector_angles=[2 * theta])

Variables are found by :func:`nx5d.io.naming.find_variable`: by name, by
``long_name`` (the name as written in the file), or -- when that is
unambiguous -- ignoring case, spaces and underscores (``TwoTheta`` finds
``Two Theta``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr
from attrs import asdict

from nx5d.errors import CorruptDataError, MissingDataError, SpiceValidationError
from nx5d.io.naming import per_frame
from nx5d.rsm.geometry import Setup
from nx5d.rsm.maps import map_frames
from nx5d.rsm.settings import MotorSettings, RsmSettings

__all__ = ["cook_rsm", "motor_angles", "IMAGES"]

#: The name of the detector frames in raw data.
IMAGES = "images"


def motor_angles(raw: xr.Dataset, settings: MotorSettings) -> dict[str, list[np.ndarray]]:
    """The angles of every frame from the variables ``settings`` names: keyword arguments for :func:`cook_rsm`."""
    return {
        "sample_angles": [per_frame(raw, motor, "sample motor") for motor in settings.sample_motors],
        "detector_angles": [per_frame(raw, motor, "detector motor") for motor in settings.detector_motors],
    }


def cook_rsm(
    raw: xr.Dataset,
    settings: RsmSettings,
    *,
    sample_angles: Sequence[np.ndarray],
    detector_angles: Sequence[np.ndarray],
    group: tuple[str, np.ndarray] | None = None,
    attrs: Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """Reciprocal space maps of a scan's frames, with ``settings``.

    Parameters
    ----------
    raw:
        The scan: frames as ``images`` on ``(index, y, x)`` (with full-frame
        pixel coordinates ``y`` and ``x``), counters on ``index``.
    settings:
        Geometry, grid, grouping and monitor.
    sample_angles, detector_angles:
        One angle (degrees) per frame for each of ``settings.sample_axes`` and
        ``settings.detector_axes``.
    group:
        ``(name, value per frame)`` to make one map per value; default: the
        variable ``settings.group_by`` names, if any.
    attrs:
        More attributes of the result (the settings are added as JSON).

    Returns
    -------
    xarray.Dataset
        ``qdata`` (the maps) and ``frames`` (frames per map); see
        :func:`nx5d.rsm.maps.map_frames`.  With a monitor, map values are
        counts per monitor unit.
    """
    if IMAGES not in raw:
        raise MissingDataError(f"{raw.attrs.get('url', 'the scan')} has no detector images to map")
    if len(sample_angles) != len(settings.sample_axes) or len(detector_angles) != len(settings.detector_axes):
        raise SpiceValidationError(
            f"{len(sample_angles)} sample and {len(detector_angles)} detector angles for the circles "
            f"{tuple(settings.sample_axes)} and {tuple(settings.detector_axes)}"
        )
    images = raw[IMAGES]
    pixels = tuple(
        np.asarray(images[dim].values) if dim in images.coords else np.arange(images.sizes[dim]) for dim in ("y", "x")
    )
    scale = None
    if settings.monitor:
        monitor = per_frame(raw, settings.monitor, "monitor")
        if np.any(monitor[np.isfinite(monitor)] <= 0):
            raise CorruptDataError(f"monitor {settings.monitor!r} of {raw.attrs.get('url')} is not positive everywhere")
        scale = 1.0 / monitor
    if group is None and settings.group_by:
        group = (settings.group_by, per_frame(raw, settings.group_by, "group_by variable"))
    return map_frames(
        Setup.from_settings(settings),
        sample_angles,
        detector_angles,
        images.data,
        pixels=pixels,  # type: ignore[arg-type]
        grid_size=settings.grid_size,
        q_axes=settings.q_axes,
        group=group,
        scale=scale,
        mask_negative=settings.mask_negative,
        attrs={"spice_settings": json.dumps(asdict(settings)), **dict(attrs or {})},
        where=str(raw.attrs.get("url", "the scan")),
    )
