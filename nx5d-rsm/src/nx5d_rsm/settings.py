"""The settings every reciprocal-space-map cook shares: one attrs base class for beamline spice schemas.

A beamline extends `RsmSettings` with its defaults and own fields and
declares the subclass as its ``settings`` spice schema:

    @attrs.define
    class Settings(RsmSettings):
        energy: float = 9400.0
        sample_motors: tuple[str, ...] = ("Theta",)

The geometry fields follow xrayutilities' ``QConversion``: the laboratory
frame is right-handed, the primary beam travels along ``beam``, sample and
detector circles are written as ``"y+"``/``"z-"``... (axis and rotation
sense, outermost first).  Maps are reported in the sample's frame: at all
angles zero, ``normal`` (the surface normal) is ``qz`` and ``inplane`` (a
direction in the surface) is ``qx`` (see [`nx5d_rsm.geometry.Setup`][nx5d_rsm.geometry.Setup]).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeGuard

import attrs

__all__ = ["RsmSettings", "MotorSettings", "check_energy", "positive", "AXIS_NAMES", "Q_AXES", "ENERGY_RANGE"]

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


#: X-ray photon energies a map can be made with, in eV.
ENERGY_RANGE = (100.0, 1.0e6)
#: Units an energy variable may be in, and their factor to eV.
ENERGY_UNITS = {"ev": 1.0, "kev": 1.0e3, "mev": 1.0e6}
#: How bins that no pixel reached are reported.
EMPTY_BINS = ("nan", "zero")
#: What happens to the extra axes of detectors whose frames have more than two (Eiger thresholds).
EXTRA_AXES = ("sum", "group")


def _pair(value: float | Sequence[float]) -> tuple[float, float]:
    return (float(value), float(value)) if isinstance(value, int | float) else tuple(float(v) for v in value)  # type: ignore[return-value]


def _finite(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@attrs.define
class RsmSettings:
    """Settings of a reciprocal space map (spice type ``settings``); extend it per beamline.

    Subclasses re-declare fields with their own defaults (``energy: float =
    9400.0``) and add fields; every value is checked when an instance is made
    (so a spice record is checked before it is written).

    Attributes
    ----------
    energy:
        Photon energy in eV, or the name of a variable of the raw data that
        holds it (one value, or one per frame for scans that change it).
    energy_units:
        Units of that variable when it carries no ``units`` attribute
        (``"eV"`` or ``"keV"``).
    img_center:
        The detector pixel ``(row, col)`` hit by the direct beam at zero
        detector angles: full-frame pixels whatever region the frames were
        loaded with, or fractions of the detector's rows and columns.
    center_units:
        ``"pixels"`` or ``"fraction"`` (``(0.5, 0.5)`` is the middle of the detector).
    img_distance:
        Sample-detector distance in mm.
    pixel_size:
        Detector pixel size in mm (Pilatus: 0.172), or ``(along rows, along columns)``.
    channel_span:
        Instead of a distance and pixel size, the angle one pixel spans
        ``(along rows, along columns)`` in degrees (xrayutilities' ``1 / chpdeg``).
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
    detector_tilt:
        Tilt of the detector plane in degrees, about the in-plane axis
        perpendicular to ``tilt_azimuth`` (xrayutilities' ``tilt``).
    tilt_azimuth:
        Direction of the tilt in the detector plane, degrees from the row
        direction towards the column direction (xrayutilities' ``tiltazimuth``).
    q_axes:
        The momentum-transfer components of the maps (one to three of ``qx``, ``qy``, ``qz``).
    grid_size:
        Grid points along each of ``q_axes``.
    group_by:
        Per-frame variable(s) to make one map per value (or combination of
        values) of: ``"delay"``, ``["temperature", "pumped"]``; ``None``: one map.
    group_step:
        ``{group: step}``: values of a group variable (of ``group_by``, or
        the ``temperature`` a recipe groups by) are rounded to the nearest
        multiple of ``step`` first (temperature readbacks).
    monitor:
        A per-frame variable to divide each frame by (its name or its
        ``long_name``), or ``None``.
    mask_negative:
        Leave out negative pixels (detector gaps and defect markers).
    empty_bins:
        ``"nan"``: bins no pixel reached are NaN (unmeasured, not zero
        intensity); ``"zero"``: 0, as xrayutilities' gridders give them.
    extra_axes:
        Frames with more than two axes (``(index, k, y, x)``, e.g. Eiger
        threshold images): ``"sum"`` them over the extra axes, or
        ``"group"``: one map per value of each.
    pixel_stride:
        Map every n-th row and column of the frames as loaded (quick looks).
    """

    energy: float | str = 8048.0
    energy_units: str = "eV"
    img_center: tuple[float, float] = (97.0, 243.0)
    center_units: str = "pixels"
    img_distance: float = 700.0
    pixel_size: float | tuple[float, float] = 0.172
    channel_span: tuple[float, float] | None = None
    image_axes: tuple[str, str] = ("y-", "z+")
    sample_axes: tuple[str, ...] = ("y-",)
    detector_axes: tuple[str, ...] = ("y-",)
    beam: tuple[float, float, float] = (1.0, 0.0, 0.0)
    normal: tuple[float, float, float] = (0.0, 0.0, 1.0)
    inplane: tuple[float, float, float] = (1.0, 0.0, 0.0)
    detector_rotation: float = 0.0
    detector_tilt: float = 0.0
    tilt_azimuth: float = 0.0
    q_axes: tuple[str, ...] = ("qy", "qz")
    grid_size: tuple[int, ...] = (100, 100)
    group_by: str | tuple[str, ...] | None = None
    group_step: dict[str, float] = attrs.field(factory=dict)
    monitor: str | None = None
    mask_negative: bool = True
    empty_bins: str = "nan"
    extra_axes: str = "sum"
    pixel_stride: int = 1

    def __attrs_post_init__(self) -> None:
        fields = attrs.fields_dict(type(self))
        for name, check in _CHECKS.items():
            check(self, fields[name], getattr(self, name))
        self._check_energy()
        self._check_detector()
        self._check_orientation()
        self._check_choices()
        self._check_groups()

    def _check_energy(self) -> None:
        if not isinstance(self.energy, str):
            check_energy(self.energy, "energy")
            return
        if not self.energy.strip():
            raise ValueError("energy must be a number of eV or the name of a variable, not ''")
        if self.energy_units.lower() not in ENERGY_UNITS:
            raise ValueError(f"energy_units must be 'eV' or 'keV', not {self.energy_units!r}")

    def _check_detector(self) -> None:
        if len(self.img_center) != 2 or not all(_finite(c) for c in self.img_center):
            raise ValueError(f"img_center must be (row, col), not {self.img_center!r}")
        if self.center_units not in ("pixels", "fraction"):
            raise ValueError(f"center_units must be 'pixels' or 'fraction', not {self.center_units!r}")
        sizes = (self.pixel_size,) if _finite(self.pixel_size) else tuple(self.pixel_size)  # type: ignore[arg-type]
        if len(sizes) not in (1, 2) or not all(_finite(v) and v > 0 for v in sizes):
            raise ValueError(f"pixel_size must be a size in mm above 0, or two, not {self.pixel_size!r}")
        if self.channel_span is not None and (
            len(self.channel_span) != 2 or not all(_finite(v) and 0 < abs(v) < 90 for v in self.channel_span)
        ):
            raise ValueError(f"channel_span must be two angles in degrees per pixel, not {self.channel_span!r}")
        if not isinstance(self.pixel_stride, int) or isinstance(self.pixel_stride, bool) or self.pixel_stride < 1:
            raise ValueError(f"pixel_stride must be a whole number >= 1, not {self.pixel_stride!r}")

    def _check_orientation(self) -> None:
        normal, inplane = (math.hypot(*v) for v in (self.normal, self.inplane))
        if abs(sum(a * b for a, b in zip(self.normal, self.inplane, strict=True))) > 1e-9 * normal * inplane:
            raise ValueError(f"inplane {tuple(self.inplane)} must be perpendicular to normal {tuple(self.normal)}")
        for name in ("detector_rotation", "detector_tilt", "tilt_azimuth"):
            if not _finite(getattr(self, name)):
                raise ValueError(f"{name} must be a number of degrees, not {getattr(self, name)!r}")

    def _check_choices(self) -> None:
        if self.empty_bins not in EMPTY_BINS:
            raise ValueError(f"empty_bins must be 'nan' or 'zero', not {self.empty_bins!r}")
        if self.extra_axes not in EXTRA_AXES:
            raise ValueError(f"extra_axes must be 'sum' or 'group', not {self.extra_axes!r}")

    def _check_groups(self) -> None:
        groups = self.groups
        if len(set(groups)) != len(groups) or not all(isinstance(g, str) and g for g in groups):
            raise ValueError(f"group_by must name different variables, not {self.group_by!r}")
        for name, step in self.group_step.items():
            if not (isinstance(name, str) and name and _finite(step) and step > 0):
                raise ValueError(f"group_step {name!r}: {step!r} must be a step above 0 for a group variable")

    @property
    def groups(self) -> tuple[str, ...]:
        """The ``group_by`` variables as a tuple (empty: one map of all frames)."""
        if self.group_by is None:
            return ()
        return (self.group_by,) if isinstance(self.group_by, str) else tuple(self.group_by)

    def pixel_sizes(self) -> tuple[float, float]:
        """Pixel size ``(along rows, along columns)`` in mm; from `channel_span` when that is given."""
        if self.channel_span is None:
            return _pair(self.pixel_size)
        # one pixel spans that angle as seen from the sample at img_distance (xrayutilities' chpdeg)
        return tuple(  # type: ignore[return-value]
            2.0 * self.img_distance * math.tan(math.radians(0.5)) * abs(float(span)) for span in self.channel_span
        )

    def center_pixels(self, detector_shape: Sequence[int] | None = None) -> tuple[float, float]:
        """`img_center` in full-frame pixels (a fraction needs the detector's ``(rows, cols)``)."""
        if self.center_units == "pixels":
            return float(self.img_center[0]), float(self.img_center[1])
        if detector_shape is None:
            raise ValueError("img_center is a fraction of the detector, but the frames do not say its size")
        return tuple(float(c) * (int(n) - 1) for c, n in zip(self.img_center, detector_shape, strict=True))  # type: ignore[return-value]


def check_energy(value: float, what: str) -> float:
    """``value`` (eV) if it is an X-ray photon energy in `ENERGY_RANGE`; a ``ValueError`` says otherwise."""
    low, high = ENERGY_RANGE
    if not (_finite(value) and low <= value <= high):
        hint = " (in keV? give eV, or set energy_units)" if _finite(value) and 0 < value < low else ""
        raise ValueError(
            f"{what} must be a photon energy between {low:g} eV and {high / 1e6:g} MeV, not {value!r}{hint}"
        )
    return float(value)


_CHECKS: dict[str, Callable[[Any, attrs.Attribute, Any], None]] = {
    "img_distance": positive,
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
    """`RsmSettings` whose angles are variables of the raw data, named circle by circle.

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
