"""Position-sensitive line detectors (MYTHEN strips, linear PSDs): their spectra mapped like area-detector frames.

A line detector records one spectrum per scan point -- SPEC ``@A`` lines
(nx5d-spec's ``mca`` variable on ``(index, mca_channel)``), a NeXus 2-D
array ``(points, channels)``.  The ``line_detector`` spice
([`LineDetector`][nx5d_rsm.lines.LineDetector]) says which variable holds
the spectra and how channels map to angles, as xrayutilities'
``init_linear`` does: the direction of increasing channel number at zero
detector angles, the channel the direct beam hits, and the angle one
channel spans (channels per degree) or the channel width and the distance.
Every spectrum then is a detector frame of one row, on the beam's row,
and maps to q (``line-rsm``) or to (H, K, L) (``hkl``) on 1-D to 3-D grids
with the statistics, grouping and monitor normalisation of area detectors:

    proposal.spice.seed("line_detector", spectra="mca", direction="z-", center_channel=715.9,
                        channels_per_degree=345.28, roi=(100, 1340))
    proposal.spice.seed("recipes", by_type={"a2scan": "line-rsm"})
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import xarray as xr

from nx5d.errors import MissingDataError, SpiceValidationError
from nx5d.toolkit import CookRequest, Recipe, find_variable
from nx5d_rsm.cook import DETECTOR_SHAPE, IMAGES, cook_rsm
from nx5d_rsm.incremental import growing_maps
from nx5d_rsm.recipes import frame_angles, map_settings
from nx5d_rsm.settings import AXIS_NAMES, RsmSettings

__all__ = ["LineDetector", "LINE_DETECTOR", "LINE_RSM", "line_frames", "spectra_variable"]

#: The spice handle (and type) of the line detector.
LINE_DETECTOR = "line_detector"


def _positive_or_none(instance: Any, attribute: attrs.Attribute, value: float | None) -> None:
    if value is not None and not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ValueError(f"{attribute.name} must be a number above 0, not {value!r}")


@attrs.define
class LineDetector:
    """The ``line_detector`` spice: where a line detector's spectra are and how its channels map to angles.

    Attributes
    ----------
    spectra:
        The variable of the spectra, on ``(index, channel)``; ``None``: the
        scan's only such variable.
    direction:
        Laboratory direction of increasing channel number at zero detector
        angles (xrayutilities' ``detectorDir``: ``"z-"``).
    center_channel:
        The channel the direct beam hits at zero detector angles (``cch``), counted from 0.
    channels_per_degree:
        Channels per degree of scattering angle (``chpdeg``); or else
    pixel_size:
        The width of one channel in mm, with `distance`.
    distance:
        Sample-detector distance in mm (``None``: the map settings' ``img_distance``).
    roi:
        ``(first, stop)``: the channels to map (``None``: all).
    """

    spectra: str | None = None
    direction: str = "z-"
    center_channel: float | None = None
    channels_per_degree: float | None = attrs.field(default=None, validator=_positive_or_none)
    pixel_size: float | None = attrs.field(default=None, validator=_positive_or_none)
    distance: float | None = attrs.field(default=None, validator=_positive_or_none)
    roi: tuple[int, int] | None = None

    def __attrs_post_init__(self) -> None:
        if not (isinstance(self.direction, str) and AXIS_NAMES.fullmatch(self.direction)):
            raise ValueError(f"direction must be an axis name 'x+', 'z-' ..., not {self.direction!r}")
        if self.center_channel is not None and not (
            isinstance(self.center_channel, int | float) and math.isfinite(self.center_channel)
        ):
            raise ValueError(f"center_channel must be a channel number, not {self.center_channel!r}")
        if self.roi is not None and (len(self.roi) != 2 or not 0 <= int(self.roi[0]) < int(self.roi[1])):
            raise ValueError(f"roi must be (first, stop) channels with 0 <= first < stop, not {self.roi!r}")


def spectra_variable(raw: xr.Dataset, line: LineDetector, where: str) -> str:
    """The name of the variable holding the spectra: the one `line` names, else the only 2-D one on ``index``."""
    if line.spectra is not None:
        return find_variable(raw, line.spectra, "line detector spectra")
    found = [str(n) for n, v in raw.data_vars.items() if v.ndim == 2 and v.dims[0] == "index" and n != IMAGES]
    if len(found) != 1:
        raise SpiceValidationError(
            f"say which variable of {where} holds the line detector's spectra (line_detector spice, spectra=...); "
            f"candidates on (index, channel): {', '.join(found) or 'none'}"
        )
    return found[0]


def line_frames(
    raw: xr.Dataset, settings: RsmSettings, line: LineDetector, where: str
) -> tuple[xr.Dataset, RsmSettings]:
    """The scan with its spectra as one-row ``images`` ``(index, 1, channels)``, and the settings that map them.

    Variables named ``y`` or ``x`` (motors) become ``y_motor`` and ``x_motor``, as beside area-detector frames.
    """
    if line.center_channel is None or (line.channels_per_degree is None) == (line.pixel_size is None):
        raise SpiceValidationError(
            f"to map the line detector of {where}, seed the {LINE_DETECTOR!r} spice with center_channel and "
            "either channels_per_degree or pixel_size (and distance)"
        )
    name = spectra_variable(raw, line, where)
    spectra = raw[name]
    channels = spectra.sizes[spectra.dims[1]]
    first, stop = (0, channels) if line.roi is None else (int(line.roi[0]), min(int(line.roi[1]), channels))
    if first >= stop:
        raise SpiceValidationError(f"line_detector roi {line.roi!r} holds none of the {channels} channels of {name!r}")
    values = spectra.data[:, first:stop][:, None, :]
    images = xr.DataArray(
        values,
        dims=("index", "y", "x"),
        coords={"y": [0], "x": list(range(first, stop))},
        attrs={DETECTOR_SHAPE: (1, channels)},
    )
    across = next(f"{axis}+" for axis in "xyz" if axis != line.direction[0])  # any other direction: one row
    distance = float(line.distance or settings.img_distance)
    geometry: dict[str, Any] = {
        "img_center": (0.0, float(line.center_channel)),
        "center_units": "pixels",
        "image_axes": (across, line.direction),
        "img_distance": distance,
    }
    if line.channels_per_degree is not None:
        geometry["channel_span"] = (1.0 / line.channels_per_degree, 1.0 / line.channels_per_degree)
    else:
        geometry.update(channel_span=None, pixel_size=float(line.pixel_size or 0.0))
    try:
        mapped = attrs.evolve(settings, **geometry)
    except ValueError as exc:
        raise SpiceValidationError(f"line_detector spice for {where}: {exc}") from exc
    clear = {v: f"{v}_motor" for v in ("y", "x") if v in raw.variables}  # as readers name a motor beside frames
    return raw.drop_vars(name).rename_vars(clear).assign({IMAGES: images}), mapped


def line_view(request: CookRequest) -> tuple[xr.Dataset, RsmSettings]:
    """The scan and map settings a recipe maps: a line detector's spectra as frames where the scan has no frames."""
    settings = map_settings(request)
    if IMAGES in request.raw:
        return request.raw, settings
    if LINE_DETECTOR not in request.spice:
        raise MissingDataError(
            f"{request.where} has no detector images to map; for a line detector's spectra seed the "
            f"{LINE_DETECTOR!r} spice (spectra, direction, center_channel, channels_per_degree)"
        )
    line = request.settings(LINE_DETECTOR, default=LineDetector)
    return line_frames(request.raw, settings, line, request.where)


def _line_rsm(request: CookRequest) -> xr.Dataset:
    raw, settings = line_view(request)
    return cook_rsm(
        raw, settings, **frame_angles(request, settings), attrs={"source": request.where},
        growing=growing_maps(request, settings),
    )  # fmt: skip


LINE_RSM = Recipe(
    "line-rsm", "reciprocal space maps of a line detector's spectra", _line_rsm, ("settings", LINE_DETECTOR)
)
