"""Reading scans straight from a SPEC file and its TIFF frames (``….spec#{scan}`` URLs)."""

from __future__ import annotations

import json
import posixpath
from typing import Any

import numpy as np
import xarray as xr

from nx5d.errors import CorruptDataError, MissingDataError
from nx5d.io.frames import lazy_frames, load_frames, tifffile_fallback
from nx5d.io.storage import Storage

from .layout import ring_current_label
from .options import LoadOptions
from .spec import SpecFile, SpecScan, parse_spec, scan_keys

__all__ = ["list_scans", "read_spec", "summary", "load_raw", "frame_urls"]


def _text(storage: Storage, document: str) -> str:
    data = storage.read_bytes(document)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def list_scans(storage: Storage, document: str) -> list[str]:
    """Scan keys (``N.order``) of a SPEC file, from its ``#S`` lines."""
    return scan_keys(_text(storage, document))


def read_spec(storage: Storage, document: str) -> SpecFile:
    """The parsed SPEC file at ``document``."""
    return parse_spec(_text(storage, document), document)


def _scan(storage: Storage, url: str) -> tuple[str, SpecFile, SpecScan]:
    document, _, key = url.partition("#")
    spec = read_spec(storage, document)
    try:
        return document, spec, spec.scan(key.strip("/"))
    except KeyError:
        raise MissingDataError(
            f"{document} has no scan {key!r}; it has {', '.join(s.key for s in spec.scans)}"
        ) from None


def summary(storage: Storage, url: str) -> dict[str, Any]:
    """Summary from the scan's header lines (no frame is read)."""
    _, _, scan = _scan(storage, url)
    words = scan.command.split()
    return {
        "type": words[0] if words else "",
        "steps": scan.points,
        "notes": scan.command if scan.points else "incomplete: no data lines",
        "start": scan.date or "",
        "motor": scan.scanned_motor or "",
        "detector": "pilatus (TIFF)",
    }


def frame_urls(document: str, scan: SpecScan, pattern: str) -> list[str]:
    """URLs of the scan's frame files.

    ``pattern`` (with ``{spec}``, ``{scan}``, ``{frame}``) is relative to the
    SPEC file's folder, an absolute path on the same storage, or a full URL.
    """
    scheme, _, rest = document.partition("://")
    root = rest[: rest.index("/")] if "/" in rest else rest
    folder = posixpath.dirname(rest)
    stem = posixpath.splitext(posixpath.basename(rest))[0]
    urls = []
    for i in range(scan.points):
        name = pattern.format(spec=stem, scan=scan.number, frame=i)
        if "://" in name:
            urls.append(name)
        elif name.startswith("/"):
            urls.append(f"{scheme}://{root}{name}")
        else:
            urls.append(f"{scheme}://{posixpath.normpath(posixpath.join(folder, name))}")
    return urls


def load_raw(storage: Storage, url: str, options: LoadOptions) -> xr.Dataset:
    """Counters and positions from the SPEC file, images from the scan's TIFF frames."""
    document, _, scan = _scan(storage, url)
    if scan.points == 0:
        raise CorruptDataError(f"{url} has no data lines")
    data: dict[str, Any] = {label: ("index", scan.column(label)) for label in scan.labels}
    for motor, position in scan.positions.items():
        data.setdefault(motor, ((), np.float64(position)))
    ring = ring_current_label(scan.labels)
    if ring is not None:
        data["machine_current"] = ("index", scan.column(ring))
    urls = frame_urls(document, scan, options.tiffs)
    if options.lazy:
        frames = lazy_frames(storage, urls, region=options.region, missing=options.missing, fallback=tifffile_fallback)
    else:
        frames = load_frames(
            storage,
            urls,
            region=options.region,
            missing=options.missing,
            fallback=tifffile_fallback,
            workers=options.workers,
            desc=f"loading {scan.key}",
        )
        if options.missing == "mask":
            data["frame_missing"] = ("index", frames.missing)
    data["images"] = (("index", "y", "x"), frames.data)
    attrs = {
        "title": scan.command,
        "start_time": scan.date or "",
        "scan_header": "\n".join(scan.header),
        "url": url,
        "detector": "pilatus",
        "frame_shape": json.dumps(list(frames.frame_shape)),
        "reduce": options.region.reduce,
        "roi": json.dumps(list(options.region.roi) if options.region.roi else None),
    }
    return xr.Dataset(data, attrs=attrs)
