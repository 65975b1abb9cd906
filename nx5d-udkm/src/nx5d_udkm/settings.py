"""The ``settings`` spice type of the UDKM beamline and its defaults."""

from __future__ import annotations

import attrs

__all__ = ["RsmSettings", "Q_AXES", "GROUPS"]

Q_AXES = ("qx", "qy", "qz")
GROUPS = ("delay",)


def _pair_of_q_axes(instance: object, attribute: attrs.Attribute, value: tuple[str, ...]) -> None:
    if len(value) != 2 or len(set(value)) != 2 or any(a not in Q_AXES for a in value):
        raise ValueError(f"{attribute.name} must be two different of {', '.join(Q_AXES)}, not {value!r}")


def _positive_pair(instance: object, attribute: attrs.Attribute, value: tuple[int, int]) -> None:
    if len(value) != 2 or any(v < 1 for v in value):
        raise ValueError(f"{attribute.name} must be two positive numbers, not {value!r}")


def _group(instance: object, attribute: attrs.Attribute, value: str | None) -> None:
    if value is not None and value not in GROUPS:
        raise ValueError(f"{attribute.name} must be one of {', '.join(GROUPS)} or None, not {value!r}")


@attrs.define
class RsmSettings:
    """Reciprocal space map settings (spice handle and type ``settings``).

    Attributes
    ----------
    img_center:
        Detector pixel ``(row, col)`` where the beam hits at 2-theta = 0, in
        full-frame pixels (whatever ``reduce`` / ``roi`` the data was loaded with).
    img_distance:
        Sample-detector distance in mm.
    grid_size:
        Grid points along the two q axes.
    energy:
        Photon energy in eV (Cu K-alpha: 8048).
    pixel_size:
        Detector pixel size in mm (Pilatus: 0.172).
    image_axes:
        Directions of increasing row and column index (xrayutilities notation).
    sample_axes, detector_axes:
        Rotation axes of the sample (theta) and detector arm (2-theta).
    q_axes:
        The two momentum-transfer components of the maps.
    group_by:
        ``"delay"``: one map per delay; ``None``: one map of all frames.
    monitor:
        Table column (name as in the header or as a variable) to divide each
        frame by, e.g. ``"Crystal [ph/s]"``; ``None``: no normalisation.
    mask_negative:
        Leave out negative pixels (the detector's defect markers).
    """

    img_center: tuple[float, float] = (97.0, 241.0)
    img_distance: float = 680.0
    grid_size: tuple[int, int] = attrs.field(default=(80, 150), validator=_positive_pair)
    energy: float = 8048.0
    pixel_size: float = 0.172
    image_axes: tuple[str, str] = ("y-", "z+")
    sample_axes: tuple[str, ...] = ("y-",)
    detector_axes: tuple[str, ...] = ("y-",)
    q_axes: tuple[str, str] = attrs.field(default=("qy", "qz"), validator=_pair_of_q_axes)
    group_by: str | None = attrs.field(default="delay", validator=_group)
    monitor: str | None = None
    mask_negative: bool = True
