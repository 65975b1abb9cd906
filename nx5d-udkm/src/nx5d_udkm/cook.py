"""Cooking UDKM scans: reciprocal space maps on one common grid, one per delay."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs as attrs_
import numpy as np
import xarray as xr

from nx5d.errors import CorruptDataError, SpiceValidationError
from nx5d.io.frames import Region
from nx5d.rsm import Setup, map_frames
from nx5d.spice.schema import settings_from

from .names import RULES
from .scan import role_variable
from .settings import RsmSettings

__all__ = ["rsm"]


def _monitor(raw: xr.Dataset, columns: dict[str, str], name: str) -> np.ndarray:
    variable = columns.get(name, name)
    if variable not in raw:
        for rule in RULES.values():
            if rule(name) in raw:
                variable = rule(name)
                break
        else:
            raise SpiceValidationError(f"monitor {name!r} is not a column of this scan; columns: {', '.join(columns)}")
    values = np.asarray(raw[variable].values, float)
    if values.ndim != 1 or not np.all(values > 0):
        raise CorruptDataError(f"monitor column {name!r} must hold one positive value per frame")
    return 1.0 / values


def rsm(raw: xr.Dataset, spice: Mapping[str, Any]) -> xr.Dataset:
    """Reciprocal space maps of a UDKM scan, gridded with the ``settings`` spice.

    Every frame's pixels are converted to momentum transfer with the scan's
    theta and 2-theta (2-theta = 2 x theta where the table has no 2-theta
    column), binned onto one grid covering all frames, and averaged per delay.
    """
    cfg = settings_from(RsmSettings, spice, "settings", "UDKM maps")
    columns: dict[str, str] = json.loads(raw.attrs["columns"])
    theta_var = role_variable(columns, "theta")
    if theta_var is None:
        raise CorruptDataError(f"scan {raw.attrs.get('table')} has no theta column to map")
    theta = np.asarray(raw[theta_var].values, float)
    two_theta_var = role_variable(columns, "two_theta")
    two_theta = np.asarray(raw[two_theta_var].values, float) if two_theta_var else 2.0 * theta
    group_var = role_variable(columns, cfg.group_by) if cfg.group_by else None
    roi = json.loads(raw.attrs.get("roi", "null"))
    setup = Setup.from_settings(cfg, json.loads(raw.attrs["frame_shape"]))
    return map_frames(
        setup,
        [theta],
        [two_theta],
        raw["images"].data,
        grid_size=cfg.grid_size,
        q_axes=cfg.q_axes,
        group=None if group_var is None else ("delay", np.asarray(raw[group_var].values, float)),
        scale=_monitor(raw, columns, cfg.monitor) if cfg.monitor else None,
        mask_negative=cfg.mask_negative,
        region=Region(tuple(roi) if roi else None, int(raw.attrs.get("reduce", 1))),
        attrs={"spice_settings": json.dumps(attrs_.asdict(cfg)), "source_table": raw.attrs.get("table", "")},
    )
