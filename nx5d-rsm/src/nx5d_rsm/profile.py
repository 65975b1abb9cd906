"""One-dimensional profiles: the detector against the scanned axis (rocking curves, alignment scans).

The spice type ``profile`` (`ProfileSettings`) names the signal, an
optional monitor and the axis; `cook_profile` returns the signal
(divided by the monitor, if any) on the axis as an ``xarray.Dataset``, with
its Poisson variance.  Which variable is the signal when the spice names
none is said in [`nx5d_rsm.signal`][nx5d_rsm.signal].
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
import xarray as xr

from nx5d.errors import CorruptDataError
from nx5d.toolkit import find_variable, per_frame
from nx5d_rsm.signal import SignalChoice, choose_signal, summed_signal

__all__ = ["ProfileSettings", "cook_profile", "profile_axis"]


@attrs.define
class ProfileSettings:
    """A 1-D profile (spice type ``profile``).

    Attributes
    ----------
    signal:
        The counter to show (variable name or ``long_name``); ``None``: the
        beamline's detector (see [`nx5d_rsm.signal`][nx5d_rsm.signal]).
    monitor:
        A counter to divide the signal by, point by point; ``None``: none.
    axis:
        The variable along which the signal is shown; ``None``: the
        scanned axis (NeXus axes, else the summary's scanned motor).
    mask_negative:
        Leave the detector's negative gap and defect markers out of a summed
        signal (frames), as maps leave them out.
    """

    signal: str | None = None
    monitor: str | None = None
    axis: str | None = None
    mask_negative: bool = True


def profile_axis(raw: xr.Dataset, summary: Mapping[str, Any], signal: str) -> str | None:
    """The axis a profile is shown along when its spice names none.

    The first coordinate along the scan points (NeXus axes, SPEC's scanned
    motors), else the scanned motor of the summary, else the first counter
    that is not the signal; ``None``: the points are numbered.
    """
    variables = raw.variables  # Variables, not raw[name]: that gathers every variable's coordinates (quadratic)
    counters = [str(v) for v in raw.data_vars if variables[v].dims == ("index",)]
    along = [str(c) for c in raw.coords if variables[c].dims == ("index",)]
    motor = str(summary.get("motor") or "")
    axes = along + ([motor] if motor in variables and variables[motor].dims == ("index",) else []) + counters
    return next((a for a in axes if a != signal), None)


def cook_profile(
    raw: xr.Dataset, settings: ProfileSettings, *, summary: Mapping[str, Any] | None = None, cooking: Any = None
) -> xr.Dataset:
    """The profile of ``raw`` with ``settings``.

    Parameters
    ----------
    raw:
        The scan.
    settings:
        Signal, monitor, axis and marker masking; unset fields get the
        defaults: the signal `nx5d_rsm.signal.choose_signal` picks
        (with ``cooking``, the beamline's declaration), the axis
        `profile_axis` picks from ``summary``.
    summary, cooking:
        The scan's summary and its beamline's `Cooking` declaration.

    Returns
    -------
    xarray.Dataset
        ``signal`` on the axis variable's name as dimension and coordinate
        (``index`` without an axis): the signal per point, divided by
        ``monitor`` when one is used; ``signal_variance``: its Poisson
        variance (the counts themselves, divided by the monitor squared; NaN
        for signals that are no counts, e.g. rates); ``pixels`` for a summed
        signal: the pixels summed per point (markers left out); ``monitor``.
        Attributes ``signal`` and ``signal_choice`` name the variable shown
        and how it was chosen.
    """
    choice: SignalChoice = choose_signal(raw, cooking, settings.signal)
    axis_given = settings.axis or profile_axis(raw, summary or {}, choice.name)
    axis_name = find_variable(raw, axis_given, "profile axis") if axis_given else "index"
    signal = summed_signal(raw, choice.name, mask_negative=settings.mask_negative)
    values, variance = signal.values, signal.variance
    data: dict[str, Any] = {}
    signal_attrs = dict(raw[choice.name].attrs)
    if signal.pixels is not None:
        signal_attrs["long_name"] = f"{signal_attrs.get('long_name', choice.name)} summed over the pixels"
        data["pixels"] = (axis_name, signal.pixels, {"long_name": "pixels summed per point (markers left out)"})
    if settings.monitor:
        monitor = per_frame(raw, settings.monitor, "monitor")
        if not np.all(monitor > 0):
            raise CorruptDataError(f"monitor {settings.monitor!r} of {raw.attrs.get('url')} is not positive everywhere")
        values, variance = values / monitor, variance / monitor**2
        data["monitor"] = (axis_name, monitor, dict(raw[find_variable(raw, settings.monitor, "monitor")].attrs))
        signal_attrs["long_name"] = f"{signal_attrs.get('long_name', choice.name)} / {settings.monitor}"
    data["signal"] = (axis_name, values, signal_attrs)
    data["signal_variance"] = (
        axis_name,
        variance,
        {
            "long_name": "Poisson variance of the signal",
            "description": "counts / monitor²; NaN: the signal is no count",
        },
    )
    coords: dict[str, Any]
    if axis_given:
        coords = {axis_name: (axis_name, per_frame(raw, axis_name, "profile axis"), dict(raw[axis_name].attrs))}
    else:
        coords = {"index": np.arange(values.size)}
    attributes = {
        "title": raw.attrs.get("title", ""),
        "url": raw.attrs.get("url", ""),
        "signal": choice.name,
        "signal_choice": choice.description,
    }
    return xr.Dataset(data, coords=coords, attrs=attributes)
