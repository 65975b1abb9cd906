"""One-dimensional profiles: a counter against the scanned axis (rocking curves, alignment scans).

The spice type ``profile`` (`ProfileSettings`) names the signal, an
optional monitor and the axis; `cook_profile` returns the signal
(divided by the monitor, if any) on the axis as an ``xarray.Dataset``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
import xarray as xr

from nx5d.errors import CorruptDataError
from nx5d.io.naming import find_variable, per_frame

__all__ = ["ProfileSettings", "cook_profile", "profile_defaults"]


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


def profile_defaults(raw: xr.Dataset, summary: Mapping[str, Any]) -> tuple[str, str | None]:
    """The signal and axis a profile shows when its spice names none.

    Signal: the variable the raw data's ``signal`` attribute names (NeXus),
    else the last counter (SPEC: the detector), else the frames summed.
    Axis: the first coordinate along the scan points (NeXus axes), else the
    scanned motor of the summary, else the first counter.
    """
    counters = [str(v) for v in raw.data_vars if raw[v].dims == ("index",)]
    signal = str(raw.attrs.get("signal") or "")
    if signal not in raw.variables:
        signal = counters[-1] if counters else "images"
    along = [str(c) for c in raw.coords if raw[c].dims == ("index",)]
    motor = str(summary.get("motor") or "")
    axes = along + ([motor] if motor in raw.variables and raw[motor].dims == ("index",) else []) + counters
    return signal, next((a for a in axes if a != signal), None)


def _along_index(raw: xr.Dataset, name: str, what: str) -> np.ndarray:
    """One value per point: a counter, or a detector's frames summed over their pixels."""
    variable = raw[find_variable(raw, name, what)]
    if variable.ndim > 1 and variable.dims[0] == "index":
        return np.asarray(variable.sum([d for d in variable.dims if d != "index"]).values, float)
    return per_frame(raw, str(variable.name), what)


def cook_profile(raw: xr.Dataset, settings: ProfileSettings, *, signal: str, axis: str | None) -> xr.Dataset:
    """The profile of ``raw`` with ``settings``; ``signal`` and ``axis`` are the defaults for unset fields.

    Returns a Dataset with ``signal`` on the axis variable's name as dimension
    and coordinate (``monitor`` too, when one is used).  A signal with more
    dimensions than the scan points (detector frames) is summed over them;
    without an axis the points are numbered (``index``).
    """
    signal_name = find_variable(raw, settings.signal or signal, "profile signal")
    axis_given = settings.axis or axis
    axis_name = find_variable(raw, axis_given, "profile axis") if axis_given else "index"
    values = _along_index(raw, signal_name, "profile signal")
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
    if axis_given:
        coords = {axis_name: (axis_name, per_frame(raw, axis_name, "profile axis"), dict(raw[axis_name].attrs))}
    else:
        coords = {"index": np.arange(values.size)}
    return xr.Dataset(data, coords=coords, attrs={"title": raw.attrs.get("title", ""), "url": raw.attrs.get("url", "")})
