"""Reading scans of HDF5 / NeXus / Zarr repositories, as plain functions for this and other plugins.

The ``nexus`` beamline's hooks (:mod:`nx5d_nexus.plugin`) call these; a
plugin for one NeXus beamline declares what is its own (URL form, content
check, angles, defaults) and calls them for the rest.  They are not hook
implementations, so importing them into another plugin module registers
nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import xarray as xr

from nx5d.errors import SpiceValidationError
from nx5d.io import nexus, zarrdoc
from nx5d.io.commands import scanned_motor
from nx5d.io.nexus import NexusOptions
from nx5d.plugins import DocumentRef, ScanRef
from nx5d.recipes.profile import ProfileSettings, cook_profile
from nx5d.rsm.cook import IMAGES, cook_rsm, motor_angles
from nx5d.rsm.settings import MotorSettings
from nx5d.spice.schema import settings_from

__all__ = [
    "NexusOptions",
    "NexusSettings",
    "HDF5_SIGNATURE",
    "recognises_nexus",
    "anchor_names",
    "summary",
    "load",
    "cook",
]

#: The first bytes of every HDF5 file (with its superblock at the start).
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


@attrs.define
class NexusSettings(MotorSettings):
    """Settings of a NeXus scan's cook (spice handle and type ``settings``).

    The core's :class:`nx5d.rsm.settings.MotorSettings` (the geometry, and
    the datasets holding the angles: none by default) and:

    Attributes
    ----------
    recipe:
        ``"auto"``: reciprocal space maps when the scan has frames and the
        motors are named, else a 1-D profile (the ``profile`` spice);
        ``"rsm"`` or ``"profile"`` to choose.
    """

    recipe: str = "auto"

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        if self.recipe not in ("auto", "rsm", "profile"):
            raise ValueError(f"recipe must be 'auto', 'rsm' or 'profile', not {self.recipe!r}")


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
            return nexus.entries(node)
        return [name for name in node if nexus.is_group(node[name])]


def summary(scan: ScanRef) -> dict[str, Any]:
    """Type, steps, notes (the title), start time and detector of a scan group (no array data is read)."""
    with nexus.open_tree(scan.storage, scan.document) as tree:
        entry = nexus.entry_of(tree, scan.anchor, scan.document)
        return nexus.summary(entry, scan.url)


def load(scan: ScanRef, options: NexusOptions) -> xr.Dataset:
    """The scan as a Dataset (:func:`nx5d.io.nexus.scan_dataset`) with ``options``."""
    return nexus.scan_dataset(
        scan.storage,
        scan.url,
        region=options.region,
        lazy=options.lazy,
        detector=options.detector,
        frames=options.frames != "skip",
    )


def _counters(raw: xr.Dataset) -> list[str]:
    return [str(v) for v in raw.variables if raw[v].dims == ("index",)]


def cook(
    scan: ScanRef, raw: xr.Dataset, spice: Mapping[str, Any], settings_type: type[NexusSettings] = NexusSettings
) -> xr.Dataset:
    """Reciprocal space maps or a 1-D profile, as ``settings.recipe`` says (see :class:`NexusSettings`).

    The profile's defaults: the NeXus signal (else the last counter, else
    the frames summed) against the NeXus axis (else the scanned motor the
    title names, else the first counter).
    """
    settings = settings_from(settings_type, spice, "settings", f"cooking {scan.url}")
    motors = bool(settings.sample_motors and settings.detector_motors)
    if settings.recipe == "rsm" or (settings.recipe == "auto" and motors and IMAGES in raw):
        if not motors:
            raise SpiceValidationError(
                f"to map the frames of {scan.url} into reciprocal space, seed the 'settings' spice with "
                "sample_motors and detector_motors (the datasets holding the angles; this scan has "
                f"{', '.join(_counters(raw) + [str(v) for v in raw.data_vars if raw[v].dims == ()]) or 'none'}), "
                "and with its sample_axes, detector_axes, energy, img_center and img_distance"
            )
        return cook_rsm(raw, settings, **motor_angles(raw, settings), attrs={"source": raw.attrs.get("url", "")})
    profile = settings_from(ProfileSettings, spice, "profile", f"cooking {scan.url}")
    counters = _counters(raw)
    motor = scanned_motor(str(raw.attrs.get("title", "")))
    axes = [str(c) for c in raw.coords if raw[c].dims == ("index",)] + [motor] * (motor in counters)
    signal = raw.attrs.get("signal") or (counters[-1] if counters else IMAGES)
    return cook_profile(raw, profile, signal=signal, axis=axes[0] if axes else (counters[0] if counters else None))
