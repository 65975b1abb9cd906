"""The settings every reciprocal-space-map cook shares: one attrs base class for beamline spice schemas.

A beamline extends :class:`RsmSettings` with its defaults and own fields and
declares the subclass as its ``settings`` spice schema::

    @attrs.define
    class Settings(RsmSettings):
        energy: float = 9400.0
        sample_motors: tuple[str, ...] = ("Theta",)

The geometry fields follow xrayutilities' ``QConversion``: the laboratory
frame is right-handed, the primary beam travels along ``beam``, sample and
detector circles are written as ``"y+"``/``"z-"``... (axis and rotation
sense, outermost first).  Maps are reported in the sample's frame: at all
angles zero, ``normal`` (the surface normal) is ``qz`` and ``inplane`` (a
direction in the surface) is ``qx`` (see :class:`nx5d.rsm.geometry.Setup`).
"""

from __future__ import annotations

import math
import re
from typing import Any

import attrs

__all__ = ["RsmSettings", "MotorSettings", "positive", "AXIS_NAMES", "Q_AXES"]

#: The momentum-transfer components a map can have.
Q_AXES = ("qx", "qy", "qz")
#: Valid names of rotation axes and detector directions.
AXIS_NAMES = re.compile(r"[xyz][+-]")
#: Largest number of bins of one map (8 bytes each, several arrays while gridding).
MAX_BINS = 100_000_000


def positive(instance: object, attribute: attrs.Attribute, value: float) -> None:
    """attrs validator: a finite number above zero."""
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ValueError(f"{attribute.name} must be a number above 0, not {value!r}")


def _axes(instance: object, attribute: attrs.Attribute, value: tuple[str, ...]) -> None:
    bad = [a for a in value if not (isinstance(a, str) and AXIS_NAMES.fullmatch(a))]
    if bad:
        raise ValueError(f"{attribute.name} must name axes as 'x+', 'y-', 'z+' ..., not {bad[0]!r}")


def _image_axes(instance: object, attribute: attrs.Attribute, value: tuple[str, ...]) -> None:
    _axes(instance, attribute, value)
    if len(value) != 2 or value[0][0] == value[1][0]:
        raise ValueError(f"{attribute.name} must be two different directions, e.g. ('y-', 'z+'), not {value!r}")


def _vector(instance: object, attribute: attrs.Attribute, value: tuple[float, ...]) -> None:
    if len(value) != 3 or not any(float(v) for v in value):
        raise ValueError(f"{attribute.name} must be a non-zero vector of three numbers, not {value!r}")


def _q_axes(instance: object, attribute: attrs.Attribute, value: tuple[str, ...]) -> None:
    if not 1 <= len(value) <= 3 or len(set(value)) != len(value) or any(a not in Q_AXES for a in value):
        raise ValueError(f"{attribute.name} must be one to three different of qx, qy, qz, not {value!r}")


def _grid(instance: Any, attribute: attrs.Attribute, value: tuple[int, ...]) -> None:
    axes = getattr(instance, "q_axes", None)
    if any(not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in value) or (
        axes is not None and len(value) != len(axes)
    ):
        raise ValueError(f"{attribute.name} must be one whole number >= 1 per q axis {axes}, not {value!r}")
    if math.prod(value) > MAX_BINS:
        raise ValueError(f"{attribute.name} {value!r} asks for {math.prod(value)} bins; at most {MAX_BINS} are allowed")


@attrs.define
class RsmSettings:
    """Settings of a reciprocal space map (spice type ``settings``); extend it per beamline.

    Subclasses re-declare fields with their own defaults (``energy: float =
    9400.0``) and add fields; every value is checked when an instance is made
    (so a spice record is checked before it is written).

    Attributes
    ----------
    energy:
        Photon energy in eV.
    img_center:
        Detector pixel ``(row, col)`` hit by the direct beam at zero detector
        angles, in full-frame pixels (whatever region the frames were loaded with).
    img_distance:
        Sample-detector distance in mm.
    pixel_size:
        Detector pixel size in mm (Pilatus: 0.172).
    image_axes:
        Directions of increasing row and column index at zero detector angles.
    sample_axes, detector_axes:
        Sample and detector circles, outermost first.
    beam:
        Direction of the primary beam.
    normal:
        The sample's surface normal at zero angles, in laboratory coordinates: reported as ``qz``.
    inplane:
        A direction in the sample's surface at zero angles (perpendicular to
        ``normal``): reported as ``qx``; ``qy`` completes a right-handed set.
    detector_rotation:
        Rotation of the detector about the primary beam, in degrees (a detector mounted turned).
    q_axes:
        The momentum-transfer components of the maps (one to three of ``qx``, ``qy``, ``qz``).
    grid_size:
        Grid points along each of ``q_axes``.
    group_by:
        A per-frame variable to make one map per value of (e.g. ``"delay"``), or ``None``.
    monitor:
        A per-frame variable to divide each frame by (its name or its
        ``long_name``), or ``None``.
    mask_negative:
        Leave out negative pixels (detector gaps and defect markers).
    """

    energy: float = 8048.0
    img_center: tuple[float, float] = (97.0, 243.0)
    img_distance: float = 700.0
    pixel_size: float = 0.172
    image_axes: tuple[str, str] = ("y-", "z+")
    sample_axes: tuple[str, ...] = ("y-",)
    detector_axes: tuple[str, ...] = ("y-",)
    beam: tuple[float, float, float] = (1.0, 0.0, 0.0)
    normal: tuple[float, float, float] = (0.0, 0.0, 1.0)
    inplane: tuple[float, float, float] = (1.0, 0.0, 0.0)
    detector_rotation: float = 0.0
    q_axes: tuple[str, ...] = ("qy", "qz")
    grid_size: tuple[int, ...] = (100, 100)
    group_by: str | None = None
    monitor: str | None = None
    mask_negative: bool = True

    def __attrs_post_init__(self) -> None:
        fields = attrs.fields_dict(type(self))
        for name, check in _CHECKS.items():
            check(self, fields[name], getattr(self, name))
        if len(self.img_center) != 2:
            raise ValueError(f"img_center must be (row, col), not {self.img_center!r}")
        normal, inplane = (math.hypot(*v) for v in (self.normal, self.inplane))
        if abs(sum(a * b for a, b in zip(self.normal, self.inplane, strict=True))) > 1e-9 * normal * inplane:
            raise ValueError(f"inplane {tuple(self.inplane)} must be perpendicular to normal {tuple(self.normal)}")
        if not (isinstance(self.detector_rotation, int | float) and math.isfinite(self.detector_rotation)):
            raise ValueError(f"detector_rotation must be a number of degrees, not {self.detector_rotation!r}")


_CHECKS = {
    "energy": positive,
    "img_distance": positive,
    "pixel_size": positive,
    "image_axes": _image_axes,
    "sample_axes": _axes,
    "detector_axes": _axes,
    "beam": _vector,
    "inplane": _vector,
    "normal": _vector,
    "q_axes": _q_axes,
    "grid_size": _grid,
}


@attrs.define
class MotorSettings(RsmSettings):
    """:class:`RsmSettings` whose angles are variables of the raw data, named circle by circle.

    Attributes
    ----------
    sample_motors:
        Variables (counters or positioners) holding the sample angles, in the
        order of ``sample_axes``; a fixed motor's single value serves every frame.
    detector_motors:
        Variables holding the detector angles, in the order of ``detector_axes``.
    """

    sample_motors: tuple[str, ...] = ()
    detector_motors: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        if self.sample_motors and len(self.sample_motors) != len(self.sample_axes):
            raise ValueError(f"sample_motors must name one variable per sample axis {tuple(self.sample_axes)}")
        if self.detector_motors and len(self.detector_motors) != len(self.detector_axes):
            raise ValueError(f"detector_motors must name one variable per detector axis {tuple(self.detector_axes)}")
