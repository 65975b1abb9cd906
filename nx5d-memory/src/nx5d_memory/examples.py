"""Small example scans for the in-memory beamline: what tests and documentation examples register.

url = nx5d_memory.register("demo", {"p": {"1": rocking_scan(5)}}, cook=scale_cook,
                           spice={"scale": {"factor": 2.0}})
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

__all__ = ["rocking_scan", "scale_cook"]


def rocking_scan(points: int, offset: float = 0.0, kind: str = "rocking") -> xr.Dataset:
    """A scan of ``points`` points: ``intensity`` (0, 1, 2 ... plus ``offset``) against ``theta`` 18.1-19.1 deg."""
    return xr.Dataset(
        {
            "intensity": ("index", np.arange(points, dtype=float) + offset),
            "theta": ("index", np.linspace(18.1, 19.1, points)),
        },
        attrs={"type": kind, "notes": f"{points} frames"},
    )


def scale_cook(raw: xr.Dataset, **spice: Any) -> xr.DataArray:
    """A cook function for `register`: the intensity times the ``factor`` of the ``scale`` spice."""
    return raw.intensity * spice["scale"].factor
