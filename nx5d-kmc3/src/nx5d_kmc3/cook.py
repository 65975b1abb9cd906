"""Cooking KMC3 scans: reciprocal space maps on one common grid, optionally one per delay."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
import xarray as xr

from nx5d.errors import CorruptDataError, SpiceValidationError
from nx5d.io.frames import Region
from nx5d.rsm import Setup, map_frames
from nx5d.spice.schema import settings_from

from .h5scan import check_detector
from .settings import XppSettings

__all__ = ["rsm", "setup_of"]


def setup_of(cfg: XppSettings, frame_shape: tuple[int, int]) -> Setup:
    """The XPP diffractometer: beam along z, surface normal along x (reported as qz)."""
    return Setup.from_settings(
        cfg,
        frame_shape,
        r_i=(0.0, 0.0, 1.0),
        inplane=(0.0, 0.0, 1.0),
        normal=(1.0, 0.0, 0.0),
        lab_axes=("y", "z", "x"),
    )


def _per_frame(raw: xr.Dataset, name: str, what: str) -> np.ndarray:
    if name not in raw:
        raise SpiceValidationError(
            f"{what} {name!r} is not a variable of {raw.attrs.get('url', 'the scan')}; "
            f"variables: {', '.join(sorted(map(str, raw.data_vars)))}"
        )
    values = np.asarray(raw[name].values, float)
    return np.broadcast_to(values, (raw.sizes["index"],)) if values.ndim == 0 else values


def rsm(raw: xr.Dataset, spice: Mapping[str, Any]) -> xr.Dataset:
    """Reciprocal space maps of a KMC3 scan with the ``settings`` spice.

    Angles come from the positioners named in the settings (per-frame for
    scanned motors, the fixed position otherwise); each frame is divided by
    the monitor (the ring current by default); maps of all frames, or one per
    value of ``group_by``, share one grid covering every frame.
    """
    cfg = settings_from(XppSettings, spice, "settings", "KMC3 maps")
    check_detector(raw)
    sample = [_per_frame(raw, m, "sample motor") for m in cfg.sample_motors]
    detector = [_per_frame(raw, m, "detector motor") for m in cfg.detector_motors]
    scale = None
    if cfg.monitor:
        monitor = _per_frame(raw, cfg.monitor, "monitor")
        if not np.all(monitor > 0):
            raise CorruptDataError(f"monitor {cfg.monitor!r} of {raw.attrs.get('url')} is not positive everywhere")
        scale = monitor.mean() / monitor
    group = None if cfg.group_by is None else (cfg.group_by, _per_frame(raw, cfg.group_by, "group_by variable"))
    roi = json.loads(raw.attrs.get("roi", "null"))
    frame_shape = tuple(json.loads(raw.attrs["frame_shape"]))
    return map_frames(
        setup_of(cfg, frame_shape),  # type: ignore[arg-type]
        sample,
        detector,
        raw["images"].data,
        grid_size=cfg.grid_size,
        q_axes=cfg.q_axes,
        group=group,
        scale=scale,
        mask_negative=cfg.mask_negative,
        region=Region(tuple(roi) if roi else None, int(raw.attrs.get("reduce", 1))),
        attrs={"spice_settings": json.dumps(attrs.asdict(cfg)), "source": raw.attrs.get("url", "")},
    )
