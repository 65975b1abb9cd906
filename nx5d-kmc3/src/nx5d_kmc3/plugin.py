"""The ``kmc3`` beamline: its declaration and hooks.

Imported whenever nx5d chooses a plugin for a URL, so it imports only what
that needs; h5py and tifffile are loaded when a scan is actually read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import nx5d
from nx5d.plugins import Beamline, ClaimLevel, DocumentRef, ScanRef
from nx5d.toolkit import HDF5_SUFFIXES, UrlPattern, is_hdf5_name, sanitize
from nx5d_spec.reading import is_scan_anchor, scan_keys

from .layout import SCAN_KEY, is_spec_name, proposal_handle
from .options import Kmc3Options
from .settings import COOKING, XppSettings

#: The nx5d plugin API this plugin is written for.
NX5D_PLUGIN_API = 2

SPEC_SUFFIXES = (".spec",)


def _accepts(pattern: UrlPattern) -> bool:
    """SPEC documents address their scans by ``#{scan}``; HDF5 documents by any anchor."""
    return is_scan_anchor(pattern) if is_spec_name(pattern.document) else pattern.has_anchor


def _recognises(document: DocumentRef) -> bool:
    """KMC3 data: a SPEC file that says so in its header or has a ``pilatus`` folder beside it, or KMC3 HDF5."""
    if is_spec_name(document.url):
        return b"kmc3" in document.head(4096).lower() or document.storage.isdir(document.sibling("pilatus"))
    from .h5scan import written_at_kmc3

    return written_at_kmc3(document.storage, document.url)


def _proposal_handle(key: str) -> str:
    """``253-cw38-12345-doe`` -> ``doe12345``; other names get the core's rule."""
    return proposal_handle(key) or sanitize(key, "p")


NX5D_BEAMLINE = Beamline(
    description="KMC3-XPP, BESSY II: SPEC + Pilatus scans in HDF5 (silx SpecH5 layout) or SPEC files",
    url_examples=("file:///…/{proposal}/{proposal}.h5#{scan}", "file:///…/{proposal}/{proposal}.spec#{scan}"),
    schemes=("file", "http", "https", "s3"),
    suffixes=SPEC_SUFFIXES + HDF5_SUFFIXES,
    anchor=True,
    level=ClaimLevel.BEAMLINE,
    accepts=_accepts,
    recognises=_recognises,
    key_patterns={"scan": SCAN_KEY},
    proposal_handle=_proposal_handle,
    options=Kmc3Options,
    spice={"settings": XppSettings},
    cooking=COOKING,
)


@nx5d.hookimpl
def nx5d_list_anchor(document: DocumentRef, path: tuple[str, ...]) -> Any:
    if is_hdf5_name(document.url):
        return None  # HDF5 documents: the core lists their groups
    return [] if path else scan_keys(document)


@nx5d.hookimpl
def nx5d_summary(scan: ScanRef) -> Mapping[str, Any]:
    if is_spec_name(scan.url):
        from .specscan import summary

        return summary(scan)
    from .h5scan import summary as h5_summary

    return h5_summary(scan)


@nx5d.hookimpl
def nx5d_raw(scan: ScanRef, options: Kmc3Options) -> Any:
    if is_spec_name(scan.url):
        from .specscan import load_raw

        return load_raw(scan, options)
    from .h5scan import load_raw as h5_load_raw

    return h5_load_raw(scan, options)
