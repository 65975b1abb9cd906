"""Reading scans of HDF5 / NeXus / Zarr repositories, as plain functions for this and other plugins.

The ``nexus`` beamline's hooks ([`nx5d_nexus.plugin`][nx5d_nexus.plugin]) call these; a
plugin for one NeXus beamline declares what is its own (URL form, content
check, angles, defaults) and calls them for the rest.  They are not hook
implementations, so importing them into another plugin module registers
nothing.
"""

from __future__ import annotations

from typing import Any, Protocol

import attrs
import xarray as xr

from nx5d.plugins import Cooking, DocumentRef, ScanRef
from nx5d.toolkit import Region, zarrdoc
from nx5d_nexus import layouts as nexus
from nx5d_nexus.energy import PHOTON_ENERGY
from nx5d_nexus.layouts import NexusOptions
from nx5d_rsm.settings import MotorSettings

__all__ = [
    "NexusOptions",
    "NexusSettings",
    "PHOTON_ENERGY",
    "LoadOptions",
    "COOKING",
    "HDF5_SIGNATURE",
    "recognises_nexus",
    "anchor_names",
    "summary",
    "load",
]

#: Scans are mapped once the ``settings`` spice names the datasets of their angles, else shown as a profile.
COOKING = Cooking(recipes={"*": "auto"})

#: The first bytes of every HDF5 file (with its superblock at the start).
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


@attrs.define
class NexusSettings(MotorSettings):
    """The ``settings`` spice of NeXus beamlines: [`MotorSettings`][nx5d_rsm.settings.MotorSettings] whose
    ``energy`` is by default the photon energy the file states (``photon_energy``, eV).

    Where a file states none, cooking a map says to give ``energy`` in eV in
    the ``settings`` spice; a beamline's own settings extend this class.
    """

    energy: float | str = PHOTON_ENERGY


class LoadOptions(Protocol):
    """What `load` reads of loading options: `NexusOptions`, or another plugin's frame options with a ``detector``."""

    @property
    def region(self) -> Region: ...

    @property
    def lazy_frames(self) -> bool | None: ...

    @property
    def frames_per_chunk(self) -> int | None: ...

    @property
    def frames(self) -> str: ...

    @property
    def detector(self) -> str | None: ...


def recognises_nexus(document: DocumentRef) -> bool:
    """Whether the document is an HDF5 file (its signature) or a Zarr group (its metadata)."""
    if zarrdoc.is_zarr_name(document.url):
        return any(document.storage.exists(f"{document.url.rstrip('/')}/{m}") for m in ("zarr.json", ".zgroup"))
    return document.head(8) == HDF5_SIGNATURE


def anchor_names(document: DocumentRef, path: tuple[str, ...]) -> list[str]:
    """Scan groups at the top of a document (``NXentry`` groups, else every group), groups below it."""
    with nexus.open_tree(document.storage, document.url) as tree:
        node = tree["/".join(path)] if path else tree
        if not path:
            return nexus.entries(node, confined=document.storage.local_root, where=document.url)
        return [name for name in node if nexus.is_group(node[name])]


def summary(scan: ScanRef) -> dict[str, Any]:
    """Type, steps, notes (the title), start time, detector and frame shape of a scan group (no array data is read;
    for GDA's lists of TIFF files, the first name and that file's header)."""
    with nexus.open_tree(scan.storage, scan.document) as tree:
        entry = nexus.entry_of(tree, scan.anchor, scan.document, confined=scan.storage.local_root)
        return nexus.summary(entry, scan.url, scan.storage)


def load(scan: ScanRef, options: LoadOptions) -> xr.Dataset:
    """The scan as a Dataset ([`nx5d_nexus.layouts.scan_dataset`][nx5d_nexus.layouts.scan_dataset]) with ``options``."""
    return nexus.scan_dataset(
        scan.storage,
        scan.url,
        region=options.region,
        lazy=options.lazy_frames,
        chunk=options.frames_per_chunk,
        detector=options.detector,
        frames=options.frames != "skip",
    )
