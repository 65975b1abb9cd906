"""One-dimensional profiles: a counter against the scanned axis (rocking curves, alignment scans).

The spice type ``profile`` (:class:`ProfileSettings`) names the signal, an
optional monitor and the axis; :func:`cook_profile` returns the signal
(divided by the monitor, if any) on the axis as an ``xarray.Dataset``.
"""

from __future__ import annotations

import attrs
import numpy as np
import xarray as xr

from nx5d.errors import CorruptDataError
from nx5d.io.naming import find_variable, per_frame

__all__ = ["ProfileSettings", "cook_profile"]


@attrs.define
class ProfileSettings:
    """A 1-D profile (spice type ``profile``).

    Attributes
    ----------
    signal:
        The counter to show (variable name or ``long_name``); ``None``: the
        beamline's default (for SPEC files the last column, the detector).
    monitor:
        A counter to divide the signal by, point by point; ``None``: none.
    axis:
        The variable along which the signal is shown; ``None``: the
        beamline's default (for SPEC files the first column, the scanned motor).
    """

    signal: str | None = None
    monitor: str | None = None
    axis: str | None = None


def cook_profile(raw: xr.Dataset, settings: ProfileSettings, *, signal: str, axis: str) -> xr.Dataset:
    """The profile of ``raw`` with ``settings``; ``signal`` and ``axis`` are the defaults for unset fields.

    Returns a Dataset with ``signal`` on the axis variable's name as dimension
    and coordinate (``monitor`` too, when one is used).
    """
    signal_name = find_variable(raw, settings.signal or signal, "profile signal")
    axis_name = find_variable(raw, settings.axis or axis, "profile axis")
    values = per_frame(raw, signal_name, "profile signal")
    data = {}
    if settings.monitor:
        monitor = per_frame(raw, settings.monitor, "monitor")
        if not np.all(monitor > 0):
            raise CorruptDataError(f"monitor {settings.monitor!r} of {raw.attrs.get('url')} is not positive everywhere")
        values = values / monitor
        data["monitor"] = (axis_name, monitor, dict(raw[find_variable(raw, settings.monitor, "monitor")].attrs))
    signal_attrs = dict(raw[signal_name].attrs)
    if settings.monitor:
        signal_attrs["long_name"] = f"{signal_attrs.get('long_name', signal_name)} / {settings.monitor}"
    data["signal"] = (axis_name, values, signal_attrs)
    coords = {axis_name: (axis_name, per_frame(raw, axis_name, "profile axis"), dict(raw[axis_name].attrs))}
    return xr.Dataset(data, coords=coords, attrs={"title": raw.attrs.get("title", ""), "url": raw.attrs.get("url", "")})
