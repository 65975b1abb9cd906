"""Reading one scan group of a KMC3 HDF5 document: cheap summary and raw Dataset."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import xarray as xr

from nx5d.errors import CorruptDataError, MissingDataError
from nx5d.io.hdf5 import lazy_array, node, open_document, read, split_url
from nx5d.io.storage import Storage

from .layout import DEFAULT_DETECTOR, MACHINE_CURRENT, MEASUREMENT, POSITIONERS, SPECFILE, START_TIME, TITLE
from .options import Kmc3Options

__all__ = ["summary", "load_raw", "find_detector", "written_at_kmc3"]


def _text(group: Any, name: str, url: str) -> str | None:
    if name not in group:
        return None
    value = read(group[name], f"{url}/{name}")
    value = value.item() if value.ndim == 0 else value.ravel()[0]
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def written_at_kmc3(storage: Storage, document: str) -> bool:
    """Whether an HDF5 document holds KMC3 scans: the first scan group found (up to three levels deep,
    first members first) has a SPEC file header naming kmc3."""
    with open_document(storage, document) as handle:
        groups = [handle]
        for _ in range(3):
            for group in groups:
                if f"{SPECFILE}/file_header" in group:
                    return "kmc3" in (_text(group, f"{SPECFILE}/file_header", document) or "").lower()
            groups = [g[name] for g in groups for name in list(g)[:4] if hasattr(g[name], "keys")][:16]
    return False


def find_detector(group: Any, preferred: str | None = None) -> str | None:
    """Name of the detector under ``instrument/`` with ``(frames, rows, cols)`` images, if any."""
    instrument = group.get("instrument")
    if instrument is None:
        return None
    names = [preferred] if preferred else [DEFAULT_DETECTOR, *sorted(instrument)]
    for name in names:
        member = instrument.get(f"{name}/data") if name in instrument else None
        if member is not None and getattr(member, "ndim", 0) == 3:
            return name
    return None


def _frames(group: Any) -> int | None:
    measurement = group.get(MEASUREMENT)
    if measurement is None:
        return None
    lengths = [m.shape[0] for m in measurement.values() if hasattr(m, "shape") and len(m.shape) >= 1]
    return min(lengths) if lengths else 0


def summary(storage: Storage, url: str) -> dict[str, Any]:
    """Title, start time, frames, scanned motor and detector, from attributes and small datasets only.

    A scan group that lacks its measurement or detector data is summarised as
    ``incomplete`` instead of failing, so one broken scan never hides the
    others in the proposal's table.
    """
    document, path = split_url(url)
    with open_document(storage, document) as handle:
        group = node(handle, path, document)
        title = _text(group, TITLE, url) or ""
        words = title.split()
        frames = _frames(group)
        detector = find_detector(group)
        problems = []
        if frames is None:
            problems.append("no measurement group")
        if detector is None:
            problems.append("no detector images")
        out: dict[str, Any] = {
            "type": words[0] if words else "",
            "steps": frames if frames is not None else 0,
            "notes": title if not problems else f"incomplete: {', '.join(problems)}",
            "start": _text(group, START_TIME, url) or "",
            "motor": words[1] if len(words) > 1 else "",
            "detector": detector or "",
        }
        if detector is not None and frames is not None:
            images = group[f"instrument/{detector}/data"].shape[0]
            if images < frames:
                out["notes"] = f"incomplete: {images} of {frames} detector frames"
        return out


def _per_frame_or_scalar(values: np.ndarray, frames: int) -> tuple[tuple[str, ...], np.ndarray] | None:
    if values.ndim == 0:
        return (), values
    if values.ndim == 1 and values.shape[0] >= frames:
        return ("index",), values[:frames]
    return None


def load_raw(storage: Storage, url: str, options: Kmc3Options) -> xr.Dataset:
    """The scan as an ``xarray.Dataset``.

    Counters and per-frame positioners on ``index``; scalar positioners as 0-d
    variables; the ring current as ``machine_current``; detector images on
    ``(index, y, x)`` in the file's integer type -- a dask array chunked like
    the file unless ``lazy=False``.
    """
    document, path = split_url(url)
    with open_document(storage, document) as handle:
        group = node(handle, path, document)
        measurement = group.get(MEASUREMENT)
        if measurement is None:
            raise MissingDataError(f"{url} has no '{MEASUREMENT}' group: the scan is incomplete")
        detector = find_detector(group, options.detector)
        if options.detector and detector is None:
            raise MissingDataError(f"{url} has no images of detector {options.detector!r}")
        frames = _frames(group) or 0
        image_node = group[f"instrument/{detector}/data"] if detector else None
        if image_node is not None and image_node.shape[0] < frames:
            warnings.warn(
                f"{url}: {image_node.shape[0]} detector frames for {frames} counter values "
                f"(scan still being written?); using the first {image_node.shape[0]}",
                stacklevel=3,
            )
            frames = image_node.shape[0]
        data: dict[str, Any] = {}
        for name, member in measurement.items():
            if getattr(member, "ndim", None) == 1:
                data[name] = ("index", read(member, f"{url}/{MEASUREMENT}/{name}")[:frames])
        positioners = group.get(POSITIONERS)
        for name, member in (positioners or {}).items():
            if name in data or not hasattr(member, "shape"):
                continue
            shaped = _per_frame_or_scalar(read(member, f"{url}/{POSITIONERS}/{name}"), frames)
            if shaped is not None:
                data[name] = shaped
        if MACHINE_CURRENT in group:
            shaped = _per_frame_or_scalar(read(group[MACHINE_CURRENT], f"{url}/{MACHINE_CURRENT}"), frames)
            if shaped is not None:
                data["machine_current"] = shaped
        attrs: dict[str, Any] = {
            "title": _text(group, TITLE, url) or "",
            "start_time": _text(group, START_TIME, url) or "",
            "scan_header": _text(group, f"{SPECFILE}/scan_header", url) or "",
            "url": url,
        }
        if image_node is not None and options.frames != "skip":
            data["images"] = xr.DataArray(
                _images(storage, document, path, detector, image_node, frames, options),
                dims=("index", "y", "x"),
                coords=options.region.coordinates(tuple(image_node.shape[1:])),
                attrs={"detector": detector, "units": "counts"},
            )
            attrs["detector"] = detector
    return xr.Dataset(data, attrs=attrs)


def _images(
    storage: Storage, document: str, path: str, detector: str, dataset: Any, frames: int, options: Kmc3Options
) -> Any:
    rows, cols = options.region.slices(tuple(dataset.shape[1:]))
    where = f"{document}#{path.strip('/')}/instrument/{detector}/data"
    if not np.issubdtype(dataset.dtype, np.number):
        raise CorruptDataError(f"{where} holds {dataset.dtype} values, not detector counts")
    if options.lazy:
        full = lazy_array(storage, document, f"{path.rstrip('/')}/instrument/{detector}/data", dataset)
        return full[:frames, rows, cols]
    if frames == 0:
        return np.zeros((0, *options.region.shape(tuple(dataset.shape[1:]))), dataset.dtype)
    return read(dataset, where, np.s_[:frames, rows, cols])
