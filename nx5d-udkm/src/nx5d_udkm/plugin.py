"""The ``udkm`` beamline: nx5d hook implementations.

Imported whenever nx5d looks for a plugin to claim a URL, so it imports only
what claiming needs; the readers load pandas, tifffile and xrayutilities when
a scan is actually read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import nx5d
from nx5d.errors import Nx5dError
from nx5d.io.storage import Storage, join_url
from nx5d.plugins.declaration import BeamlineInfo

#: The nx5d plugin API this plugin is written for.
NX5D_PLUGIN_API = 1

PROPOSAL_KEY = r"\d{8}"
SCAN_KEY = r"\d{6}"

OPTIONS = {
    "reduce": "keep every n-th detector row and column (default 1)",
    "roi": "region of interest (row_start, row_stop, col_start, col_stop) in full-frame pixels",
    "lazy": "load images on demand as a dask array, chunked by frames (default False)",
    "missing": "'raise' (default) or 'mask': missing frames become -1 and are flagged",
    "names": "'reference' (default, the reference page's names) or 'tidy' variable names",
    "workers": "threads decoding images (default: number of CPUs)",
}


@nx5d.hookimpl
def nx5d_beamline_info() -> BeamlineInfo:
    return BeamlineInfo(
        description="UDKM plasma X-ray source, University of Potsdam: scan folders of Pilatus TIFFs",
        url_patterns=("file:///…/{proposal}/{scan}",),
        schemes=("file", "http", "https", "s3"),
        options=OPTIONS,
        key_patterns={"proposal": PROPOSAL_KEY, "scan": SCAN_KEY},
    )


def _first(storage: Storage, url: str, key: str) -> str | None:
    names = sorted(e.name for e in storage.ls(url) if re.fullmatch(key, e.name))
    return names[0] if names else None


@nx5d.hookimpl
def nx5d_claim(pattern: nx5d.UrlPattern, storage: Storage) -> float | None:
    from .formats import VARIANTS

    segments = pattern.path_segments
    if pattern.scheme not in ("file", "http", "https", "s3") or pattern.has_anchor or len(segments) < 2:
        return None
    if [s.template for s in segments[-2:]] != ["{proposal}", "{scan}"] or pattern.fields & {
        f for s in segments[:-2] for f in s.fields
    }:
        return None
    try:  # look at one scan: a UDKM table there makes the claim certain
        root = pattern.prefix + "/".join(s.value for s in segments[:-2])
        proposal = _first(storage, root, PROPOSAL_KEY)
        scan = proposal and _first(storage, join_url(root, proposal), SCAN_KEY)
        if scan and any(storage.exists(join_url(root, proposal, scan, v.table_name(scan))) for v in VARIANTS):
            return 0.9
    except Nx5dError:
        pass
    return 0.3


@nx5d.hookimpl
def nx5d_proposal_handle(key: str) -> str:
    return f"p{key}"


@nx5d.hookimpl
def nx5d_scan_handle(key: str) -> str:
    return f"r{key}"


def _files(scan: nx5d.Scan):
    from .scan import find_files

    return find_files(scan.repository.storage, scan.url, scan.key)


@nx5d.hookimpl
def nx5d_summary(scan: nx5d.Scan) -> Mapping[str, Any]:
    from .scan import summary

    return summary(scan.repository.storage, _files(scan), scan.proposal.key)


@nx5d.hookimpl
def nx5d_raw(scan: nx5d.Scan, options: Mapping[str, Any]) -> Any:
    from nx5d.io.frames import tifffile_fallback

    from .scan import check_option_types, load_raw

    check_option_types(dict(options))
    return load_raw(scan.repository.storage, _files(scan), scan.proposal.key, fallback=tifffile_fallback, **options)


@nx5d.hookimpl
def nx5d_cook(scan: nx5d.Scan, raw: Any, spice: Mapping[str, Any]) -> Any:
    from .cook import rsm

    return rsm(raw, spice)


@nx5d.hookimpl
def nx5d_spice_schema() -> Mapping[str, type]:
    from .settings import RsmSettings

    return {"settings": RsmSettings}
