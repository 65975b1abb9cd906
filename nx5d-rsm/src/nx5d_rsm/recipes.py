"""The recipes of reciprocal space maps and profiles, announced in the ``nx5d.recipes`` entry point group.

==================  ==========================================================
``rsm``             reciprocal space maps, one per value of the ``group_by``
                    variables of the settings (none: one map of all frames)
``delay-rsm``       one map per delay (the beamline's ``delay`` variable), and
                    per value of any further ``group_by`` variables
``temperature-rsm`` one map per temperature (the ``temperature`` variable,
                    rounded to 1 K unless ``group_step`` says otherwise)
``profile``         a 1-D profile: the detector (a counter, or the frames
                    summed) against the scanned axis -- rocking curves,
                    alignment scans
``auto``            ``rsm`` where the scan has frames and its angles are
                    known, else ``profile``
==================  ==========================================================
"""

from __future__ import annotations

from typing import Any

import attrs
import xarray as xr

from nx5d.errors import MissingDataError, SpiceValidationError
from nx5d.toolkit import CookRequest, Recipe
from nx5d_rsm.cook import IMAGES, cook_rsm, group_values, motor_angles
from nx5d_rsm.incremental import growing_maps
from nx5d_rsm.profile import ProfileSettings, cook_profile
from nx5d_rsm.settings import MotorSettings, RsmSettings
from nx5d_rsm.signal import left_out

__all__ = ["RSM", "DELAY_RSM", "TEMPERATURE_RSM", "PROFILE", "AUTO", "TEMPERATURE_STEP", "map_settings", "frame_angles"]

#: Temperatures group to multiples of this (kelvin) unless the settings' ``group_step`` says otherwise.
TEMPERATURE_STEP = 1.0


def map_settings(request: CookRequest) -> RsmSettings:
    """The map settings of a cook: the beamline's settings schema, else plain `RsmSettings`."""
    return request.settings(default=RsmSettings)


def frame_angles(request: CookRequest, settings: RsmSettings) -> dict[str, Any]:
    """The angles of every frame, as keyword arguments of [`cook_rsm`][nx5d_rsm.cook.cook_rsm].

    The beamline's ``cooking.angles`` function where it declares one, else
    the variables the settings' ``sample_motors`` and ``detector_motors``
    name ([`MotorSettings`][nx5d_rsm.settings.MotorSettings]).
    """
    if request.cooking.angles is not None:
        sample, detector = request.cooking.angles(request.raw, settings)
        return {"sample_angles": list(sample), "detector_angles": list(detector)}
    if not isinstance(settings, MotorSettings) or not (settings.sample_motors and settings.detector_motors):
        raise SpiceValidationError(
            f"to map the frames of {request.where} into reciprocal space, seed the {request.cooking.settings!r} "
            f"spice with sample_motors and detector_motors (the variables holding the angles; this scan has "
            f"{', '.join(sorted(map(str, request.raw.variables))) or 'none'}) and its sample_axes, detector_axes, "
            "energy, img_center and img_distance"
        )
    return motor_angles(request.raw, settings)


def _maps(request: CookRequest, first: str | None = None, step: float | None = None) -> xr.Dataset:
    """Maps grouped by ``first`` (a role, e.g. ``delay``), then by the settings' ``group_by`` variables."""
    if IMAGES not in request.raw:
        raise MissingDataError(f"{request.where} has no detector images to map{left_out(request.raw)}")
    settings = map_settings(request)
    names = ([first] if first else []) + [name for name in settings.groups if name != first]
    variables = {name: request.group_variable(name) for name in names}
    groups = [(name, group_values(request.raw, variable)) for name, variable in variables.items()]
    if first and step is not None and first not in settings.group_step:
        settings = attrs.evolve(settings, group_step={**settings.group_step, first: step})
    angles = frame_angles(request, settings)
    maps = cook_rsm(
        request.raw, settings, **angles, groups=groups, attrs={"source": request.where},
        growing=growing_maps(request, settings),
    )  # fmt: skip
    for name, variable in variables.items():  # a group keeps what its variable says of itself (long_name, units)
        maps[name].attrs.update(request.raw[variable].attrs)
    return maps


def _rsm(request: CookRequest) -> xr.Dataset:
    return _maps(request)


def _delay_rsm(request: CookRequest) -> xr.Dataset:
    return _maps(request, "delay")


def _temperature_rsm(request: CookRequest) -> xr.Dataset:
    return _maps(request, "temperature", TEMPERATURE_STEP)


def _profile(request: CookRequest) -> xr.Dataset:
    settings = request.settings("profile", ProfileSettings)
    return cook_profile(request.raw, settings, summary=request.summary, cooking=request.cooking)


def _angles_known(request: CookRequest, settings: Any) -> bool:
    if request.cooking.angles is not None:
        return True
    return isinstance(settings, MotorSettings) and bool(settings.sample_motors and settings.detector_motors)


def _auto(request: CookRequest) -> xr.Dataset:
    if IMAGES in request.raw and _angles_known(request, map_settings(request)):
        return _rsm(request)
    return _profile(request)


RSM = Recipe("rsm", "reciprocal space maps, one per value of the settings' group_by variables", _rsm, ("settings",))
DELAY_RSM = Recipe("delay-rsm", "reciprocal space maps, one per delay", _delay_rsm, ("settings",))
TEMPERATURE_RSM = Recipe(
    "temperature-rsm", "reciprocal space maps, one per temperature (1 K steps)", _temperature_rsm, ("settings",)
)
PROFILE = Recipe("profile", "a 1-D profile: the detector against the scanned axis", _profile, ("profile",))
AUTO = Recipe("auto", "maps where frames and angles are known, else a 1-D profile", _auto, ("settings", "profile"))
