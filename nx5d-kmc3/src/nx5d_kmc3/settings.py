"""The ``settings`` spice type of the KMC3-XPP beamline and its defaults."""

from __future__ import annotations

import attrs

__all__ = ["XppSettings"]

_Q = ("qx", "qy", "qz")


def _q_axes(instance: object, attribute: attrs.Attribute, value: tuple[str, ...]) -> None:
    if not 2 <= len(value) <= 3 or len(set(value)) != len(value) or any(a not in _Q for a in value):
        raise ValueError(f"{attribute.name} must be two or three different of qx, qy, qz, not {value!r}")


def _grid(instance: object, attribute: attrs.Attribute, value: tuple[int, ...]) -> None:
    axes = getattr(instance, "q_axes", None)
    if any(int(v) < 1 for v in value) or (axes is not None and len(value) != len(axes)):
        raise ValueError(f"{attribute.name} must be one positive number per q axis, not {value!r}")


@attrs.define
class XppSettings:
    """Reciprocal space map settings of KMC3-XPP (spice handle and type ``settings``).

    The diffractometer: the beam travels along z, the sample surface normal
    is x at zero angles; theta turns about y, chi about z, phi about x, the
    detector arm (TwoTheta) about y.  Maps are reported with the surface
    normal as ``qz`` and the in-plane direction of the scattering plane as
    ``qy``.

    Attributes
    ----------
    energy:
        Photon energy in eV.
    img_center:
        Detector pixel ``(row, col)`` of the direct beam at TwoTheta = 0, full-frame pixels.
    img_distance:
        Sample-detector distance in mm (calibrate per beamtime).
    pixel_size:
        Detector pixel size in mm (Pilatus 100K: 0.172).
    image_axes:
        Directions of increasing row and column index (xrayutilities notation).
    sample_axes:
        Sample rotation axes, outermost first, and the motors that drive them.
    sample_motors:
        Positioner names of the sample rotations, in the order of ``sample_axes``.
    detector_axes, detector_motors:
        The detector arm's rotation axis and its positioner.
    q_axes:
        The q components of the maps (two or three).
    grid_size:
        Grid points along each of ``q_axes``.
    group_by:
        A per-frame variable to make one map per value of (e.g. ``"delay"``),
        or ``None`` for one map of all frames.
    monitor:
        Variable to divide each frame by (``"machine_current"``: the storage
        ring current), or ``None``.
    mask_negative:
        Leave out negative pixels (detector gap and defect markers).
    """

    energy: float = 9400.0
    img_center: tuple[float, float] = (83.0, 213.0)
    img_distance: float = 750.0
    pixel_size: float = 0.172
    image_axes: tuple[str, str] = ("x-", "y+")
    sample_axes: tuple[str, ...] = ("y+", "z+", "x+")
    sample_motors: tuple[str, ...] = ("Theta", "Chi", "Phi")
    detector_axes: tuple[str, ...] = ("y+",)
    detector_motors: tuple[str, ...] = ("TwoTheta",)
    q_axes: tuple[str, ...] = attrs.field(default=("qy", "qz"), validator=_q_axes)
    grid_size: tuple[int, ...] = attrs.field(default=(100, 100), validator=_grid)
    group_by: str | None = None
    monitor: str | None = "machine_current"
    mask_negative: bool = True

    def __attrs_post_init__(self) -> None:
        if len(self.sample_motors) != len(self.sample_axes) or len(self.detector_motors) != len(self.detector_axes):
            raise ValueError("sample_motors / detector_motors must name one positioner per rotation axis")
