"""nx5d-udkm: the UDKM plasma X-ray source beamline for nx5d.

Scans are folders ``{YYYYMMDD}/{HHMMSS}`` with a tab-separated table and one
Pilatus TIFF per frame (see `nx5d_udkm.formats`).  Open them with
``nx5d.open("file:///data/udkm/{proposal}/{scan}")``; cooking makes
reciprocal space maps per delay with the ``settings`` spice
([`nx5d_udkm.settings.RsmSettings`][nx5d_udkm.settings.RsmSettings]).  [`nx5d_udkm.synth`][nx5d_udkm.synth] writes test
data in the lab's layout.
"""

from .formats import VARIANTS
from .settings import RsmSettings

__all__ = ["VARIANTS", "RsmSettings"]
