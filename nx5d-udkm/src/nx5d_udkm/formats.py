"""The UDKM scan folder layouts: which files a scan holds, per scan type.

One folder per scan, ``{proposal}/{scan}`` = ``{YYYYMMDD}/{HHMMSS}``, holding a
tab-separated table (header lines start with ``%``), one detector image per
frame, and a parameters file.  Four table variants exist:

``manifest``
    ``manifest.dat``: one header line, one row per frame; frame *i* is
    ``image{i:05d}.tiff`` (the reference page's simplified form).
``tRSS`` (time-resolved)
    ``scans{HHMMSS}.dat``: a header line, then per frame a line
    ``% start<TAB>end<TAB>imageNNNNN.tif`` followed by its data row; the last
    column (``Intensities [ph/s]``) may hold several values (a detector profile).
``sRSM`` (static rocking curves)
    ``rockingcurves{HHMMSS}.dat``: column header, a second header
    ``% StartTime<TAB>EndTime<TAB>ImageName``, then per frame a comment line
    with those fields followed by its data row (``Rocking Curve`` may hold
    several values).
``xRSS``
    ``allSteps{HHMMSS}.dat``: one header line, one row per frame; frame *i* is
    ``image{i:05d}.tif``.

Parameters are in ``parameters{HHMMSS}.txt`` (lab data) or ``parameters.txt``.
"""

from __future__ import annotations

import re

import attrs

__all__ = ["Variant", "VARIANTS", "IMAGE_EXTENSIONS", "IMAGE_NAME", "parameters_names", "is_scan_file"]

#: Image file extensions, in the order they are looked for.
IMAGE_EXTENSIONS = (".tiff", ".tif")
#: Names of frame files: ``image00000.tif`` ...
IMAGE_NAME = re.compile(r"^image(\d{5,})\.tiff?$")


@attrs.frozen
class Variant:
    """One table variant of the UDKM format."""

    name: str
    table: str  #: file name pattern, ``{scan}`` = the scan key (HHMMSS)
    columns: tuple[str, ...]  #: the column header the lab software writes
    per_frame_lines: bool  #: whether each data row is preceded by a ``% start end image`` line
    extra_header: str | None = None  #: a second header line naming the per-frame line's fields
    image_extension: str = ".tif"

    def table_name(self, scan: str) -> str:
        """The table's file name in the folder of scan ``scan``."""
        return self.table.format(scan=scan)


_TIME_RESOLVED = (
    "Loop_Delay",
    "Delay",
    "Loop_Theta",
    "Theta",
    "Crystal [V]",
    "Crystal [ph/s]",
    "Pilatus [ph/s]",
    "Repeats",
    "ImageNumber",
    "Intensities [ph/s]",
)

#: Known variants, in the order a folder is checked for them.
VARIANTS: tuple[Variant, ...] = (
    Variant("manifest", "manifest.dat", _TIME_RESOLVED, per_frame_lines=False, image_extension=".tiff"),
    Variant("tRSS", "scans{scan}.dat", _TIME_RESOLVED, per_frame_lines=True),
    Variant(
        "sRSM",
        "rockingcurves{scan}.dat",
        ("Loop", "Theta / deg.", "2Theta + Corr / deg.", "Crystal", "Crystal Calib", "Rocking Curve"),
        per_frame_lines=True,
        extra_header="StartTime\tEndTime\tImageName",
    ),
    Variant(
        "xRSS",
        "allSteps{scan}.dat",
        ("Loop", "Theta", "2Theta", "Crystal [V]", "Crystal [ph/s]", "Pilatus [ph/s]"),
        per_frame_lines=False,
    ),
)


def parameters_names(scan: str) -> tuple[str, str]:
    """File names a scan's parameters may have, most specific first."""
    return (f"parameters{scan}.txt", "parameters.txt")


def is_scan_file(name: str, scan: str) -> bool:
    """Whether ``name`` is one of the files a UDKM scan folder ``scan`` holds (table, parameters or frame)."""
    return (
        any(name == v.table_name(scan) for v in VARIANTS)
        or name in parameters_names(scan)
        or IMAGE_NAME.match(name) is not None
    )
