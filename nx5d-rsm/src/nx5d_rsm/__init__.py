"""Reciprocal space maps: area-detector geometry and fast gridding.

* [`nx5d_rsm.geometry`][nx5d_rsm.geometry] -- `Setup`, a diffractometer with an area
  detector, converted to momentum transfer (numpy only; the numbers of
  xrayutilities' ``QConversion``);
* [`nx5d_rsm.gridding`][nx5d_rsm.gridding] -- binning many frames onto one regular grid with
  xrayutilities' fuzzy-gridder semantics, fast on sparse detector data;
* [`nx5d_rsm.maps`][nx5d_rsm.maps] -- `map_frames`, one scan's frames into maps on
  a common grid, one per group (e.g. per delay), with their statistics;
* [`nx5d_rsm.incremental`][nx5d_rsm.incremental] -- maps of a scan being measured that
  grow with it, only the new points gridded onto the grid its command plans;
* [`nx5d_rsm.peaks`][nx5d_rsm.peaks] -- peak positions with sub-bin precision and their error;
* [`nx5d_rsm.settings`][nx5d_rsm.settings] -- `RsmSettings`, the spice schema every
  beamline's map settings extend;
* [`nx5d_rsm.cook`][nx5d_rsm.cook] -- `cook_rsm`, the cook a beamline calls with
  the angles of its frames.
"""

from nx5d_rsm.cook import cook_rsm
from nx5d_rsm.geometry import Setup
from nx5d_rsm.gridding import Axis, FrameGridder, Grid, LinearCoordinates, Totals, grid_frames, grid_points, normalise
from nx5d_rsm.maps import map_frames
from nx5d_rsm.settings import RsmSettings

__all__ = [
    "Axis",
    "Grid",
    "Setup",
    "FrameGridder",
    "LinearCoordinates",
    "Totals",
    "grid_points",
    "grid_frames",
    "normalise",
    "map_frames",
    "RsmSettings",
    "cook_rsm",
]
