"""The ``nexus`` beamline: any HDF5, NeXus or Zarr repository, claimed by content at the generic level."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import xarray as xr

import nx5d
from nx5d.plugins import Beamline, ClaimLevel, DocumentRef, ScanRef
from nx5d_nexus.layouts import DOCUMENT_SUFFIXES
from nx5d_rsm.profile import ProfileSettings

from . import reading

#: The nx5d plugin API this plugin is written for.
NX5D_PLUGIN_API = 2

NX5D_BEAMLINE = Beamline(
    description="Any HDF5 / NeXus / Zarr repository: BLISS, Sardana, GDA and silx layouts",
    url_examples=(
        "file:///…/{proposal}/{proposal}.h5#{scan}",
        "file:///…/{proposal}/{scan}.nxs",
        "file:///…/{proposal}.zarr#{scan}",
    ),
    schemes=("file", "http", "https", "s3"),
    suffixes=DOCUMENT_SUFFIXES,
    level=ClaimLevel.GENERIC,
    recognises=reading.recognises_nexus,
    options=reading.NexusOptions,
    spice={"settings": reading.NexusSettings, "profile": ProfileSettings},
    cooking=reading.COOKING,
)


@nx5d.hookimpl
def nx5d_list_anchor(document: DocumentRef, path: tuple[str, ...]) -> list[str]:
    """Scan groups (``NXentry``) at the top of a document, groups below."""
    return reading.anchor_names(document, path)


@nx5d.hookimpl
def nx5d_summary(scan: ScanRef) -> Mapping[str, Any]:
    """Type, steps, the title, start time and detector."""
    return reading.summary(scan)


@nx5d.hookimpl
def nx5d_raw(scan: ScanRef, options: reading.NexusOptions) -> xr.Dataset:
    """Counters on ``index``, positioners as scalars, frames as ``images`` on ``(index, y, x)``."""
    return reading.load(scan, options)
