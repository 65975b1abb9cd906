"""KMC3 scans straight from a SPEC file and its Pilatus TIFF frames (``….spec#{scan}`` URLs).

The SPEC part is the generic SPEC beamline's ([`nx5d_spec.plugin`][nx5d_spec.plugin]); what
is KMC3's is where the frames are (`TIFF_LAYOUTS`)
and the ring current as ``machine_current``.
"""

from __future__ import annotations

import posixpath
import warnings
from typing import Any

import xarray as xr

from nx5d.errors import DataWarning
from nx5d.plugins import ScanRef
from nx5d.toolkit import Storage
from nx5d_spec.reading import load_counters
from nx5d_spec.reading import summary as spec_summary
from nx5d_tiff.files import frame_variables
from nx5d_tiff.tiff import tifffile_fallback

from .layout import ring_current_label, with_units
from .options import GROUP_SIZE, TIFF_LAYOUTS, Kmc3Options

__all__ = ["summary", "load_raw", "frame_urls", "find_frames"]

#: Dimensions of a scan with frames: variables (a motor named ``y``) must keep clear of them.
DIMS = ("index", "y", "x")


def summary(scan: ScanRef) -> dict[str, Any]:
    """The SPEC summary of the scan (no frame is read)."""
    return {**spec_summary(scan), "detector": "pilatus (TIFF)"}


def _stem(name: str) -> str:
    return posixpath.splitext(posixpath.basename(name))[0]


def frame_urls(document: str, number: int, spec_name: str, points: int, pattern: str) -> list[str]:
    """URLs of a scan's frame files.

    ``pattern`` (with ``{spec}``, ``{fname}``, ``{scan}``, ``{group}``, ``{frame}``) is
    relative to the SPEC file's folder, an absolute path on the same
    storage, or a full URL; ``spec_name`` is the name in the file's ``#F`` line.
    """
    scheme, _, rest = document.partition("://")
    root = rest[: rest.index("/")] if "/" in rest else rest
    folder = posixpath.dirname(rest)
    fields = {
        "spec": _stem(rest),
        "fname": _stem(spec_name) or _stem(rest),
        "scan": number,
        "group": number // GROUP_SIZE * GROUP_SIZE,
    }
    urls = []
    for i in range(points):
        name = pattern.format(frame=i, **fields)
        if "://" in name:
            urls.append(name)
        elif name.startswith("/"):
            urls.append(f"{scheme}://{root}{name}")
        else:
            urls.append(f"{scheme}://{posixpath.normpath(posixpath.join(folder, name))}")
    return urls


def find_frames(storage: Storage, document: str, number: int, spec_name: str, points: int, tiffs: str) -> list[str]:
    """The frame URLs of a scan: by ``tiffs``, or for ``"auto"`` the first KMC3 layout whose first frame exists.

    Returns ``[]`` when ``"auto"`` finds none.
    """
    if tiffs != "auto":
        return frame_urls(document, number, spec_name, points, tiffs)
    for layout in TIFF_LAYOUTS:
        urls = frame_urls(document, number, spec_name, points, layout)
        if urls and storage.exists(urls[0]):
            return urls
    return []


def load_raw(scan: ScanRef, options: Kmc3Options) -> xr.Dataset:
    """Counters and positions from the SPEC file, images from the scan's TIFF frames."""
    data = load_counters(scan, reserved=DIMS)
    points = data.sizes.get("index", 0)
    ring = ring_current_label([str(data[v].attrs.get("long_name", v)) for v in data.data_vars])
    if ring is not None:
        current = next(v for v in data.data_vars if data[v].attrs.get("long_name") == ring)
        data["machine_current"] = data[current].assign_attrs(long_name=f"storage ring current ({ring})")
    if options.frames == "skip" or points == 0:
        return with_units(data)
    urls = find_frames(
        scan.storage, scan.document, int(data.attrs["scan_number"]), data.attrs["spec_file"], points, options.tiffs
    )
    if not urls:
        looked = ", ".join(TIFF_LAYOUTS)
        warnings.warn(
            f"{scan.url}: no Pilatus frames found beside the SPEC file (looked for {looked}); counters only. "
            "Give tiffs=... to name where they are, or frames='skip'",
            DataWarning,
            stacklevel=3,
        )
        return with_units(data)
    frames = frame_variables(
        scan.storage, urls, options, fallback=tifffile_fallback, desc=f"loading {scan.key}",
        attrs={"detector": "pilatus", "units": "counts"},
    )  # fmt: skip
    data = data.assign(frames)
    return with_units(data.assign_attrs(detector="pilatus"))
