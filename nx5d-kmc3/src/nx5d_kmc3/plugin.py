"""The ``kmc3`` beamline: nx5d hook implementations.

Imported whenever nx5d looks for a plugin to claim a URL, so it imports only
what claiming needs; h5py, tifffile and xrayutilities are loaded when a scan
is actually read or cooked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import nx5d
from nx5d.io.hdf5 import HDF5_SUFFIXES
from nx5d.io.storage import Storage
from nx5d.plugins.declaration import BeamlineInfo

from .layout import SCAN_KEY, is_spec_name, proposal_handle
from .options import OPTIONS, LoadOptions

#: The nx5d plugin API this plugin is written for.
NX5D_PLUGIN_API = 1

SCHEMES = ("file", "http", "https", "s3")


@nx5d.hookimpl
def nx5d_beamline_info() -> BeamlineInfo:
    return BeamlineInfo(
        description="KMC3-XPP, BESSY II: SPEC + Pilatus scans in HDF5 (silx SpecH5 layout) or SPEC files",
        url_patterns=("file:///…/{proposal}/{proposal}.h5#{scan}", "file:///…/{proposal}/{proposal}.spec#{scan}"),
        schemes=SCHEMES,
        options=OPTIONS,
        key_patterns={"scan": SCAN_KEY},
    )


@nx5d.hookimpl
def nx5d_claim(pattern: nx5d.UrlPattern, storage: Storage) -> float | None:
    if pattern.scheme not in SCHEMES or not pattern.has_anchor:
        return None
    if is_spec_name(pattern.document):
        return 0.9
    if pattern.document.lower().endswith(HDF5_SUFFIXES):
        return 0.6
    return None


@nx5d.hookimpl
def nx5d_proposal_handle(key: str) -> str | None:
    return proposal_handle(key)


@nx5d.hookimpl
def nx5d_list_anchor(repository: nx5d.Repository, document: str, path: tuple[str, ...]) -> Iterable[str] | None:
    if not is_spec_name(document):
        return None  # HDF5 documents: the core lists their groups
    if path:
        return []
    from .specscan import list_scans

    return list_scans(repository.storage, document)


@nx5d.hookimpl
def nx5d_summary(scan: nx5d.Scan) -> Mapping[str, Any]:
    if is_spec_name(scan.url):
        from .specscan import summary
    else:
        from .h5scan import summary
    return summary(scan.repository.storage, scan.url)


@nx5d.hookimpl
def nx5d_raw(scan: nx5d.Scan, options: Mapping[str, Any]) -> Any:
    if is_spec_name(scan.url):
        from .specscan import load_raw
    else:
        from .h5scan import load_raw
    return load_raw(scan.repository.storage, scan.url, LoadOptions.from_mapping(options))


@nx5d.hookimpl
def nx5d_cook(scan: nx5d.Scan, raw: Any, spice: Mapping[str, Any]) -> Any:
    from .cook import rsm

    return rsm(raw, spice)


@nx5d.hookimpl
def nx5d_spice_schema() -> Mapping[str, type]:
    from .settings import XppSettings

    return {"settings": XppSettings}
