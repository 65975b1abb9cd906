"""The ``udkm`` beamline: its declaration and hooks.

Imported whenever nx5d chooses a plugin for a URL, so it imports only what
that needs; the readers load pandas, tifffile and xrayutilities when a scan
is actually read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import nx5d
from nx5d.plugins import Beamline, ClaimLevel, DocumentRef, Preset, ScanRef
from nx5d.toolkit import UrlPattern

from .cook import COOKING
from .options import UdkmOptions
from .settings import RsmSettings

#: The nx5d plugin API this plugin is written for.
NX5D_PLUGIN_API = 2


def _layout(pattern: UrlPattern) -> bool:
    """``…/{proposal}/{scan}``: the last two path segments are the keys, nothing before them is a placeholder."""
    segments = pattern.path_segments
    return (
        len(segments) >= 2
        and [s.template for s in segments[-2:]] == ["{proposal}", "{scan}"]
        and not any(s.fields for s in segments[:-2])
    )


def _is_a_scan_folder(document: DocumentRef) -> bool:
    """Whether the first scan folder holds a UDKM scan table, its parameters or its frames (one listing)."""
    from .formats import is_scan_file

    return any(is_scan_file(entry.name, document.name) for entry in document.storage.ls(document.url))


#: The maps the reference documentation page prints (its UDKM example), in this plugin's full-frame terms.
REFERENCE_PAGE = Preset(
    "the maps of the nx5d reference page's UDKM example: every second pixel mapped, 0.172 mm per kept pixel "
    "(so 0.086 mm per full-frame pixel), its centre (45, 150) of the halved frame as (90, 300), gap pixels kept, "
    "and xrayutilities' default Cu K-alpha1 energy that its HXRD(...) falls back to",
    {
        "settings": {
            "img_center": (90.0, 300.0),
            "pixel_size": 0.086,
            "img_distance": 680.0,
            "grid_size": (80, 150),
            "mask_negative": False,
            "energy": 8047.8231,
            "pixel_stride": 2,
        }
    },
)

NX5D_BEAMLINE = Beamline(
    description="UDKM plasma X-ray source, University of Potsdam: scan folders of Pilatus TIFFs",
    url_examples=("file:///…/{proposal}/{scan}",),
    schemes=("file", "http", "https", "s3"),
    anchor=False,
    level=ClaimLevel.BEAMLINE,
    accepts=_layout,
    recognises=_is_a_scan_folder,
    key_patterns={"proposal": r"\d{8}", "scan": r"\d{6}"},
    proposal_handle="p{key}",
    scan_handle="r{key}",
    options=UdkmOptions,
    spice={"settings": RsmSettings},
    cooking=COOKING,
    presets={"reference-page": REFERENCE_PAGE},
)


def _files(scan: ScanRef):
    from .scan import find_files

    return find_files(scan.storage, scan.url, scan.key)


@nx5d.hookimpl
def nx5d_summary(scan: ScanRef) -> Mapping[str, Any]:
    from .scan import summary

    return summary(scan.storage, _files(scan), scan.proposal.key)


@nx5d.hookimpl
def nx5d_raw(scan: ScanRef, options: UdkmOptions) -> Any:
    from nx5d_tiff.tiff import tifffile_fallback

    from .scan import load_raw

    return load_raw(scan.storage, _files(scan), scan.proposal.key, options, fallback=tifffile_fallback)
