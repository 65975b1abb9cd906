"""Reading the scans of SPEC files, as plain functions for this and other plugins.

The ``spec`` beamline's hooks ([`nx5d_spec.plugin`][nx5d_spec.plugin]) call these; a
beamline whose data is SPEC plus something (nx5d-kmc3: Pilatus frames)
calls them for the SPEC part.  They are not hook implementations, so
importing them into another plugin module registers nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import attrs
import xarray as xr

from nx5d.plugins import DocumentRef, ScanRef
from nx5d.toolkit import UrlPattern
from nx5d_spec import parser as spec
from nx5d_spec.dataset import scan_dataset, scan_summary

__all__ = ["is_scan_anchor", "recognises_spec", "scan_keys", "summary", "load_counters"]


def is_scan_anchor(pattern: UrlPattern) -> bool:
    """Whether the pattern's anchor is exactly ``{scan}``: a SPEC file's scans, addressed by key."""
    return pattern.anchor_segments is not None and [s.template for s in pattern.anchor_segments] == ["{scan}"]


def recognises_spec(document: DocumentRef) -> bool:
    """Whether the document starts like a SPEC file (``#`` lines with ``#F``, ``#E`` or ``#S``)."""
    return spec.looks_like_spec(document.head())


def scan_keys(document: DocumentRef) -> list[str]:
    """The ``N.order`` keys of a SPEC file's scans, from its index (no scan body is parsed)."""
    return spec.read_index(document.storage, document.url).keys()


def _scan(scan: ScanRef) -> spec.SpecScan:
    return spec.read_scan(scan.storage, scan.document, scan.anchor)


def summary(scan: ScanRef) -> dict[str, Any]:
    """Type, steps, the command, start time, scanned motor and whether the file says the scan is finished."""
    index = spec.read_index(scan.storage, scan.document)
    parsed = spec.read_scan(scan.storage, scan.document, scan.anchor, index)
    return scan_summary(parsed, spec.scan_state(index, parsed))


def load_counters(scan: ScanRef, *, mca: bool = True, reserved: Collection[str] = ("index",)) -> xr.Dataset:
    """The scan's counters, motor positions (and MCA spectra) as a Dataset, names clear of ``reserved``."""
    parsed = _scan(scan)
    if not mca:
        parsed = attrs.evolve(parsed, mca={})
    return scan_dataset(parsed, scan.document, reserved=reserved)
