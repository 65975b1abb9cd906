"""The ``hkl`` recipe: reciprocal space maps on the crystal's (H, K, L) axes.

It maps the scan's frames as ``rsm`` does -- the map ``settings`` give the
geometry, energy, monitor and grouping; the statistics and NaN rules are
the same -- but each pixel's coordinates are ``UB⁻¹ q`` in reciprocal
lattice units (see [`nx5d_rsm.orientation`][nx5d_rsm.orientation] for the
conventions and where UB comes from).  The ``orientation`` spice
([`Orientation`][nx5d_rsm.orientation.Orientation]) chooses the axes (one
to three of H, K, L) and the grid size:

    proposal.spice.seed("orientation", axes=("H", "L"), grid_size=(200, 200))
    proposal.spice.seed("recipes", by_type={"*": "hkl"})

Line detectors' spectra map the same way ([`nx5d_rsm.lines`][nx5d_rsm.lines]).
The result is the ``rsm`` recipe's, its map axes named ``H``, ``K``, ``L``
(units ``r.l.u.``), with the UB matrix used as the attribute ``ub_matrix``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import xarray as xr

from nx5d.toolkit import CookRequest, Recipe
from nx5d_rsm.cook import cook_rsm
from nx5d_rsm.geometry import Setup
from nx5d_rsm.incremental import growing_maps
from nx5d_rsm.lines import line_view
from nx5d_rsm.orientation import HklSetup, Orientation, orientation_ub
from nx5d_rsm.recipes import frame_angles

__all__ = ["HKL", "ORIENTATION", "hkl_maps"]

#: The spice handle (and type) of the orientation.
ORIENTATION = "orientation"


def hkl_maps(request: CookRequest) -> xr.Dataset:
    """The scan's frames mapped on (H, K, L): the ``hkl`` recipe's cook."""
    raw, settings = line_view(request)  # area frames, or a line detector's spectra as frames
    orientation = request.settings(ORIENTATION, default=Orientation)
    used: list[Any] = []

    def reciprocal(setup: Setup) -> tuple[HklSetup, Sequence[str], Sequence[int]]:
        ub = orientation_ub(orientation, request.raw.attrs, setup, request.where)
        used.append(ub)
        return HklSetup(setup, ub), orientation.axes, orientation.grid_size

    maps = cook_rsm(
        raw, settings, **frame_angles(request, settings), attrs={"source": request.where}, reciprocal=reciprocal,
        growing=growing_maps(request, settings),
    )  # fmt: skip
    maps.attrs["ub_matrix"] = [float(v) for v in used[0].ravel()]
    return maps


HKL = Recipe(
    "hkl", "maps on the crystal's H, K, L axes, from the sample's UB matrix", hkl_maps, ("settings", "orientation")
)
