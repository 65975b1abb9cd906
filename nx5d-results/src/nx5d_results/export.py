"""Scans to files: ``nx5d export``.

`export_scans` writes each scan's raw data as recorded, or its cooked
form, to NetCDF, HDF5 or Zarr files (``OUT/PROPOSAL/SCAN.nc``) with the
provenance attributes cooked results carry.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nx5d.errors import NotSupportedError
from nx5d.toolkit import progress
from nx5d_results.files import output_path, require_writer, write_dataset

if TYPE_CHECKING:
    from nx5d import Proposal

__all__ = ["export_scans"]


def _as_dataset(data: Any, where: str) -> Any:
    if hasattr(data, "data_vars"):
        return data
    if hasattr(data, "to_dataset"):
        return data.to_dataset(name="cooked", promote_attrs=True)
    raise NotSupportedError(f"{where} gives {type(data).__name__}, not an xarray object, so it cannot be written")


def export_scans(
    proposal: Proposal,
    scans: Iterable[str],
    out: str | os.PathLike[str],
    *,
    raw: bool = False,
    format: str = "netcdf",  # noqa: A002 - the natural name of the option
    **options: Any,
) -> list[Path]:
    """Write each of ``scans`` (keys or handles) of ``proposal``, raw or cooked, to ``out``; returns the paths.

    ``options`` are loading options of the beamline (``reduce=2``).  The
    writer's extra is checked before anything is read.
    """
    require_writer(format)
    keys = [proposal.scan_key(s) for s in scans]
    written = []
    with progress(len(keys), f"exporting {'raw' if raw else 'cooked'} scans", unit="scan") as bar:
        for key in keys:
            scan = proposal.scan(key)
            where = scan.url or key
            data = scan.load(**options) if raw else scan.cook(**options)
            dataset = _as_dataset(data, where)
            if raw:
                dataset = dataset.assign_attrs(**{k: v for k, v in scan.provenance().items() if k != "nx5d_spice"})
            path = output_path(out, proposal.key, key, format)
            write_dataset(dataset, path, format)
            written.append(path)
            bar.update(1)
    return written
