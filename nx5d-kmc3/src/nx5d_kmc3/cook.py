"""Cooking KMC3 scans: the angles of every frame, then the core's reciprocal space maps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import xarray as xr

from nx5d.rsm.cook import cook_rsm, motor_angles
from nx5d.spice.schema import settings_from

from .settings import XppSettings

__all__ = ["rsm"]


def rsm(raw: xr.Dataset, spice: Mapping[str, Any]) -> xr.Dataset:
    """Reciprocal space maps of a KMC3 scan with the ``settings`` spice.

    Angles come from the positioners named in the settings (per-frame for
    scanned motors, the fixed position otherwise); each frame is divided by
    the monitor (the ring current by default); maps of all frames, or one per
    value of ``group_by``, share one grid covering every frame.
    """
    settings = settings_from(XppSettings, spice, "settings", "KMC3 maps")
    return cook_rsm(raw, settings, **motor_angles(raw, settings), attrs={"source": raw.attrs.get("url", "")})
