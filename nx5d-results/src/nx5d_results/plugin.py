"""The ``results`` beamline: folders of NeXus files that ``nx5d export`` wrote, opened again.

``nx5d.open("file:///out/{proposal}/{scan}.nxs")`` lists the exported
scans of every proposal and gives back each file's Dataset as ``scan.raw``
-- the cooked map or profile, or the raw scan -- with the arrays, names,
dimensions and attributes it was written with
([`nx5d_results.nexus.read_nexus`][nx5d_results.nexus.read_nexus]); raw exports are
in ``{proposal}/raw/{scan}.nxs``.  It claims ``.nxs`` files whose root
says nx5d exported them, above the generic ``nexus`` beamline (which
reads raw exports too: their counters and frames are where BLISS puts
them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import nx5d
from nx5d.errors import CorruptDataError
from nx5d.plugins import Beamline, ClaimLevel, DocumentRef, ScanRef
from nx5d.toolkit import open_document

#: The nx5d plugin API this plugin is written for.
NX5D_PLUGIN_API = 2


def recognises(document: DocumentRef) -> bool:
    """Whether the document is a NeXus file nx5d exported (its root's ``nx5d_export`` attribute)."""
    from nx5d_results.nexus import MARK

    try:
        with open_document(document.storage, document.url) as handle:
            return handle.attrs.get(MARK) in ("cooked", "raw")
    except (OSError, ValueError, nx5d.errors.Nx5dError):
        return False


NX5D_BEAMLINE = Beamline(
    description="NeXus files nx5d exported (nx5d export): cooked maps and profiles, or raw scans",
    url_examples=("file:///…/{proposal}/{scan}.nxs", "file:///…/{proposal}/raw/{scan}.nxs"),
    schemes=("file", "http", "https", "s3"),
    suffixes=(".nxs",),
    level=ClaimLevel.BEAMLINE,
    recognises=recognises,
)


@nx5d.hookimpl
def nx5d_summary(scan: ScanRef) -> Mapping[str, Any]:
    """What was exported (cooked with which recipe, or raw), from where, and its sizes -- attributes only."""
    from nx5d_results.nexus import MARK, read_attributes

    with open_document(scan.storage, scan.document) as handle:
        kind = handle.attrs.get(MARK)
        attrs = read_attributes(handle, scan.url)
        data = handle.get("entry/data")
        signal = data.attrs.get("signal") if data is not None else None
        shape = data[signal].shape if isinstance(signal, str) and signal in data else ()
    if kind not in ("cooked", "raw"):
        raise CorruptDataError(f"{scan.url} is not a NeXus file nx5d exported (no nx5d_export mark)")
    recipe = attrs.get("nx5d_recipe")
    return {
        "type": f"{kind} {recipe}" if recipe and kind == "cooked" else str(kind),
        "steps": int(shape[0]) if shape else 0,
        "notes": str(attrs.get("nx5d_scan_url", "")),
        "signal": signal if isinstance(signal, str) else "",
    }


@nx5d.hookimpl
def nx5d_raw(scan: ScanRef, options: Any) -> Any:
    """The exported Dataset, as it was written."""
    from nx5d_results.nexus import read_nexus

    return read_nexus(scan.document, where=scan.url, storage=scan.storage)
