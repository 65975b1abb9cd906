"""Loading options of the ``kmc3`` beamline, checked once with clear errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from nx5d.errors import OptionError
from nx5d.io.frames import Region

__all__ = ["OPTIONS", "LoadOptions"]

#: Option names and what they do (shown by ``nx5d plugins``).
OPTIONS = {
    "lazy": "detector images as a dask array read on demand, chunked like the file (default True)",
    "reduce": "keep every n-th detector row and column (default 1)",
    "roi": "region of interest (row_start, row_stop, col_start, col_stop) in full-frame pixels",
    "detector": "which detector's images to load (default: pilatus, else the first one found)",
    "tiffs": "SPEC documents: where the frames are, relative to the SPEC file "
    "(default 'pilatus/{spec}_{scan:03d}_{frame:05d}.tif')",
    "missing": "SPEC documents: 'raise' (default) or 'mask' for missing frame files",
    "workers": "SPEC documents: threads decoding TIFF frames (default: number of CPUs)",
}

DEFAULT_TIFFS = "pilatus/{spec}_{scan:03d}_{frame:05d}.tif"


@attrs.frozen
class LoadOptions:
    """The options of one load."""

    lazy: bool = True
    region: Region = attrs.field(factory=Region)
    detector: str | None = None
    tiffs: str = DEFAULT_TIFFS
    missing: str = "raise"
    workers: int | None = None

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any]) -> LoadOptions:
        """Check the values of ``options`` (the core has refused unknown names) and build them."""
        lazy = options.get("lazy", True)
        if not isinstance(lazy, bool):
            raise OptionError(f"lazy must be True or False, not {lazy!r}")
        roi = options.get("roi")
        region = Region(tuple(roi) if roi is not None else None, options.get("reduce", 1))
        missing = options.get("missing", "raise")
        if missing not in ("raise", "mask"):
            raise OptionError(f"missing must be 'raise' or 'mask', not {missing!r}")
        tiffs = options.get("tiffs", DEFAULT_TIFFS)
        try:
            tiffs.format(spec="s", scan=1, frame=0)
        except (AttributeError, KeyError, IndexError, ValueError) as exc:
            raise OptionError(f"tiffs must be a pattern with {{spec}}, {{scan}} and {{frame}}, not {tiffs!r}") from exc
        return cls(lazy, region, options.get("detector"), tiffs, missing, options.get("workers"))
