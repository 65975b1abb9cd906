"""The ``spec`` beamline: any SPEC data file, claimed by its content at the generic level."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import xarray as xr

import nx5d
from nx5d.plugins import Beamline, ClaimLevel, Cooking, DocumentRef, ScanRef
from nx5d.toolkit import option
from nx5d_rsm.profile import ProfileSettings
from nx5d_rsm.settings import MotorSettings

from . import reading

#: The nx5d plugin API this plugin is written for.
NX5D_PLUGIN_API = 2


@attrs.frozen
class SpecOptions:
    """Loading options of SPEC scans."""

    mca: bool = option(True, help="load MCA spectra (@A lines) as variables on (index, channel)")


NX5D_BEAMLINE = Beamline(
    description="Any SPEC data file: counters, motor positions and MCA spectra of every scan",
    url_examples=("file:///…/{proposal}.spec#{scan}", "file:///…/{proposal}/{proposal}.dat#{scan}"),
    schemes=("file", "http", "https", "s3"),
    anchor=True,
    level=ClaimLevel.GENERIC,
    accepts=reading.is_scan_anchor,
    recognises=reading.recognises_spec,
    key_patterns={"scan": r"\d+\.\d+"},
    options=SpecOptions,
    spice={"settings": MotorSettings, "profile": ProfileSettings},  # settings: maps of @A line detectors
    cooking=Cooking(recipes={"*": "profile"}),  # by default the last column (the detector) against the scanned motor
)


@nx5d.hookimpl
def nx5d_list_anchor(document: DocumentRef, path: tuple[str, ...]) -> list[str]:
    """The scan keys of a SPEC file."""
    return [] if path else reading.scan_keys(document)


@nx5d.hookimpl
def nx5d_summary(scan: ScanRef) -> Mapping[str, Any]:
    """Type, steps, the command, start time and scanned motor."""
    return reading.summary(scan)


@nx5d.hookimpl
def nx5d_raw(scan: ScanRef, options: SpecOptions) -> xr.Dataset:
    """Counters on ``index``, motor positions as scalars, MCA spectra on ``(index, channel)``."""
    return reading.load_counters(scan, mca=options.mca)
