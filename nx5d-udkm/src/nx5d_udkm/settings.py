"""The ``settings`` spice type of the UDKM beamline: the core's map settings with UDKM defaults."""

from __future__ import annotations

import attrs

from nx5d.rsm.settings import RsmSettings as CoreRsmSettings

__all__ = ["RsmSettings", "GROUPS"]

#: What UDKM maps can be grouped by: a role of the scan table's columns.
GROUPS = ("delay",)


@attrs.define
class RsmSettings(CoreRsmSettings):
    """Reciprocal space map settings of the UDKM diffractometer (spice handle and type ``settings``).

    The core's :class:`nx5d.rsm.settings.RsmSettings` with the UDKM setup as
    defaults: Cu K-alpha, a Pilatus 100K 680 mm from the sample, theta and
    2-theta about ``y-``, one map per delay on an 80 x 150 grid.  ``group_by``
    is ``"delay"`` (the table's delay column, whatever its header) or
    ``None``; ``monitor`` names a table column by its header text
    (``"Crystal [ph/s]"``) or variable name.
    """

    img_center: tuple[float, float] = (97.0, 241.0)
    img_distance: float = 680.0
    grid_size: tuple[int, ...] = (80, 150)
    group_by: str | None = "delay"

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        if self.group_by is not None and self.group_by not in GROUPS:
            raise ValueError(f"group_by must be one of {', '.join(GROUPS)} or None, not {self.group_by!r}")
