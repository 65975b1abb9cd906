"""Cooking UDKM scans: reciprocal space maps on one common grid, one per delay."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
import xarray as xr

from nx5d.errors import CorruptDataError
from nx5d.io.naming import by_header
from nx5d.rsm.cook import cook_rsm
from nx5d.spice.schema import settings_from

from .scan import role_column
from .settings import RsmSettings

__all__ = ["rsm"]


def _role(raw: xr.Dataset, role: str) -> np.ndarray | None:
    """The values of the column playing ``role``, found by its header (the variable's ``long_name``)."""
    columns = [str(raw[v].attrs.get("long_name", v)) for v in raw.data_vars]
    header = role_column(columns, role)
    return None if header is None else by_header(raw, header, role)


def rsm(raw: xr.Dataset, spice: Mapping[str, Any]) -> xr.Dataset:
    """Reciprocal space maps of a UDKM scan, gridded with the ``settings`` spice.

    Every frame's pixels are converted to momentum transfer with the scan's
    theta and 2-theta (2-theta = 2 x theta where the table has no 2-theta
    column), binned onto one grid covering all frames, and averaged per delay.
    """
    settings = settings_from(RsmSettings, spice, "settings", "UDKM maps")
    theta = _role(raw, "theta")
    if theta is None:
        raise CorruptDataError(f"scan {raw.attrs.get('table')} has no theta column to map")
    two_theta = _role(raw, "two_theta")
    delay = _role(raw, "delay") if settings.group_by else None
    return cook_rsm(
        raw,
        attrs.evolve(settings, group_by=None),  # grouped here, by the delay column whatever its name
        sample_angles=[theta],
        detector_angles=[2.0 * theta if two_theta is None else two_theta],
        group=None if delay is None else ("delay", delay),
        attrs={"source_table": raw.attrs.get("table", "")},
    )
