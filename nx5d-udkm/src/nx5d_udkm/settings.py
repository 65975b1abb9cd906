"""The ``settings`` spice type of the UDKM beamline: the core's map settings with UDKM defaults."""

from __future__ import annotations

import attrs

from nx5d_rsm.settings import RsmSettings as CoreRsmSettings

__all__ = ["RsmSettings"]


@attrs.define
class RsmSettings(CoreRsmSettings):
    """Reciprocal space map settings of the UDKM diffractometer (spice handle and type ``settings``).

    The core's [`nx5d_rsm.settings.RsmSettings`][nx5d_rsm.settings.RsmSettings] with the UDKM setup as
    defaults: Cu K-alpha, a Pilatus 100K 680 mm from the sample, theta and
    2-theta about ``y-``, maps on an 80 x 150 grid.  Time-resolved scans are
    cooked by the ``delay-rsm`` recipe, one map per delay (the table's delay
    column, whatever its header); ``group_by`` adds further variables, and
    ``monitor`` names a table column by its header text (``"Crystal [ph/s]"``)
    or variable name.
    """

    img_center: tuple[float, float] = (97.0, 241.0)
    img_distance: float = 680.0
    grid_size: tuple[int, ...] = (80, 150)
