"""The KMC3-XPP HDF5 layout ("ESRF / silx SpecH5"), and proposal folder names.

One group per scan, named ``N.order``:

    N.1/title                           the SPEC command, e.g. "a2scan Theta 19 21 TwoTheta 38 42 40 1"
    N.1/start_time                      ISO 8601
    N.1/measurement/<counter>           one value per frame
    N.1/instrument/positioners/<motor>  scalar, or one value per frame for scanned motors
    N.1/instrument/<detector>/data      (frames, rows, cols) detector images
    N.1/instrument/specfile/scan_header, file_header
    N.1/instrument/machine/current      storage ring current, for normalisation

Proposal folders are named ``{quartal:03d}-cw{cweek:02d}-{hzbid:5}-{scientist}``
(``253-cw38-12345-doe``); their handle is ``{scientist}{hzbid}`` (``doe12345``).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "TITLE",
    "START_TIME",
    "MEASUREMENT",
    "POSITIONERS",
    "SPECFILE",
    "MACHINE_CURRENT",
    "DEFAULT_DETECTOR",
    "RING_CURRENT_LABELS",
    "ring_current_label",
    "PROPOSAL_NAME",
    "SCAN_KEY",
    "proposal_handle",
    "is_spec_name",
    "detector_path",
]

TITLE = "title"
START_TIME = "start_time"
MEASUREMENT = "measurement"
POSITIONERS = "instrument/positioners"
SPECFILE = "instrument/specfile"
MACHINE_CURRENT = "instrument/machine/current"
DEFAULT_DETECTOR = "pilatus"
#: SPEC counter labels that hold the storage ring current (first found wins).
RING_CURRENT_LABELS = ("ring_current", "RingCurrent", "Ring", "curr")

#: Proposal folder names: quartal, calendar week, HZB proposal id, scientist.
PROPOSAL_NAME = re.compile(
    r"(?P<quartal>\d{3})-cw(?P<cweek>\d{2})-(?P<hzbid>\d{5})-(?P<scientist>[A-Za-z][A-Za-z0-9_]*)"
)
#: Scan group names: ``number.order``.
SCAN_KEY = r"\d+\.\d+"


def proposal_handle(key: str) -> str | None:
    """``253-cw38-12345-doe`` -> ``doe12345``; ``None`` for names outside the convention."""
    m = PROPOSAL_NAME.fullmatch(key)
    return None if m is None else f"{m.group('scientist')}{m.group('hzbid')}"


def detector_path(detector: str) -> str:
    """Path of a detector's image dataset inside a scan group."""
    return f"instrument/{detector}/data"


def ring_current_label(labels: tuple[str, ...] | list[str]) -> str | None:
    """The SPEC column holding the ring current, if any."""
    return next((label for label in RING_CURRENT_LABELS if label in labels), None)


def is_spec_name(url: str) -> bool:
    """Whether the document part of ``url`` is a SPEC file (``.spec``) rather than HDF5."""
    return url.split("#", 1)[0].lower().endswith(".spec")


#: Units of KMC3's diffractometer motors and storage ring current, which its SPEC files do not record.
UNITS = {"theta": "deg", "chi": "deg", "phi": "deg", "twotheta": "deg", "machinecurrent": "mA", "ringcurrent": "mA"}


def with_units(raw: Any) -> Any:
    """``raw`` with the `UNITS` of the variables that carry none (names compared without case, spaces, ``_``)."""
    for name, variable in raw.variables.items():
        unit = UNITS.get(re.sub(r"[\s_]+", "", str(name)).lower())
        if unit is not None and "units" not in variable.attrs:
            variable.attrs["units"] = unit
    return raw
