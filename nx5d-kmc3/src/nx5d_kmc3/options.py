"""Loading options of the ``kmc3`` beamline: the core's frame options, lazy by default, and where frames are."""

from __future__ import annotations

import attrs

from nx5d.toolkit import option
from nx5d_tiff.files import FrameFileOptions

__all__ = ["Kmc3Options", "TIFF_LAYOUTS", "GROUP_SIZE"]

#: Where KMC3 has kept the Pilatus frames of SPEC scans, relative to the SPEC file, tried in this order:
#: ``{spec}`` is the SPEC file's name without extension, ``{fname}`` that of the name in its ``#F`` line,
#: ``{group}`` the hundred the scan number falls in (scan 137: 100), for folders of a hundred scans each.
TIFF_LAYOUTS = (
    "pilatus/{spec}_{scan:03d}_{frame:05d}.tif",
    "pilatus/S{scan:05d}/{fname}_{scan}_{frame}.tif",
    "pilatus/S{group:05d}/S{scan:05d}/{fname}_{scan}_{frame}.tif",
)
#: How many scans share a ``{group}`` folder.
GROUP_SIZE = 100


def _tiffs(instance: object, attribute: attrs.Attribute, value: str) -> None:
    if value == "auto":
        return
    try:
        value.format(spec="s", fname="f", scan=1, frame=0, group=0)
    except (AttributeError, KeyError, IndexError, ValueError) as exc:
        raise ValueError(
            f"tiffs must be 'auto' or a pattern with {{spec}}/{{fname}}, {{scan}}, {{group}} and {{frame}}, "
            f"not {value!r}"
        ) from exc


@attrs.frozen
class Kmc3Options(FrameFileOptions):
    """The core's frame options (lazy by default), ``detector`` and ``tiffs``."""

    lazy: bool = option(True, help="detector images as a dask array read on demand, chunked like the file")
    detector: str | None = option(
        None, help="HDF5 documents: which detector's images (default pilatus, else the first)"
    )
    tiffs: str = option(
        "auto",
        help="SPEC documents: frame files relative to the SPEC file, with {spec} (its name), {fname} (the name in "
        "its #F line), {scan}, {group} (the scan's hundred: 137 -> 100) and {frame}; 'auto' tries the KMC3 layouts",
        validator=_tiffs,
    )
