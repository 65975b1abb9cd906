"""KMC3 scans in HDF5 documents (silx SpecH5 layout), read through the generic NeXus beamline.

What is KMC3's here: the layout's required parts (a ``measurement`` group,
Pilatus frames) reported as incomplete scans, frames lazy by default, and
recognising a KMC3 document by its SPEC file header.
"""

from __future__ import annotations

from typing import Any

import xarray as xr

from nx5d.errors import MissingDataError
from nx5d.plugins import ScanRef
from nx5d.toolkit import Storage, external_link, open_document
from nx5d_nexus import layouts as nexus
from nx5d_nexus import reading

from .layout import MEASUREMENT, SPECFILE, with_units
from .options import Kmc3Options

__all__ = ["summary", "load_raw", "written_at_kmc3"]


def written_at_kmc3(storage: Storage, document: str) -> bool:
    """Whether an HDF5 document holds KMC3 scans: the first scan group found (up to three levels deep,
    first members first) has a SPEC file header naming kmc3.  Links to other files are not followed:
    what a document holds is said by the document."""
    with open_document(storage, document) as handle:
        groups = [handle]
        for _ in range(3):
            for group in groups:
                header = f"{SPECFILE}/file_header"
                if (
                    external_link(group, header, document) is None
                    and header in group
                    and not nexus.is_group(group[header])
                ):
                    return "kmc3" in nexus.text_of(group[header]).lower()
            inside = [(g, name) for g in groups for name in list(g)[:4] if external_link(g, name, document) is None]
            groups = [g[name] for g, name in inside if nexus.is_group(g[name])][:16]
    return False


def _missing_parts(entry: Any, has_frames: bool) -> list[str]:
    problems = []
    if MEASUREMENT not in entry:
        problems.append("no measurement group")
    if not has_frames:
        problems.append("no detector images")
    return problems


def summary(scan: ScanRef) -> dict[str, Any]:
    """The NeXus summary; a scan lacking its measurement or detector data is summarised as ``incomplete``.

    One broken scan never hides the others in the proposal's table.
    """
    with nexus.open_tree(scan.storage, scan.document) as tree:
        entry = nexus.entry_of(tree, scan.anchor, scan.document, confined=scan.storage.local_root)
        out = nexus.summary(entry, scan.url)
        problems = _missing_parts(entry, "detector" in out)
    if problems:
        out["notes"] = f"incomplete: {', '.join(problems)}"
    return out


def load_raw(scan: ScanRef, options: Kmc3Options) -> xr.Dataset:
    """The scan as an ``xarray.Dataset`` ([`scan_dataset`][nx5d_nexus.layouts.scan_dataset]); frames lazy by default."""
    with nexus.open_tree(scan.storage, scan.document) as tree:
        if MEASUREMENT not in nexus.entry_of(tree, scan.anchor, scan.document, confined=scan.storage.local_root):
            raise MissingDataError(f"{scan.url} has no '{MEASUREMENT}' group: the scan is incomplete")
    return with_units(reading.load(scan, options))
