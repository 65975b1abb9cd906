"""Scans to files and to pictures: ``nx5d export`` and ``nx5d plot``.

`export_scans` writes each scan's raw data as recorded, or its cooked
form, to NetCDF, HDF5 or Zarr files (``OUT/PROPOSAL/SCAN.nc``) with the
provenance attributes cooked results carry.  `quick_look` draws a
scan as a figure: its maps, its profile, or -- raw -- its frames summed and
its counters.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nx5d.app.files import output_path, require_writer, write_dataset
from nx5d.errors import NotSupportedError
from nx5d.progress import progress

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from nx5d.model import Proposal, Scan

__all__ = ["export_scans", "quick_look"]


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


def quick_look(scan: Scan, *, raw: bool = False, counters: Sequence[str] = ()) -> Figure:
    """A figure of ``scan``: its cooked maps (one panel per group) or profile; raw: the summed frames and counters.

    Raw: the counter drawn is the signal a profile of the scan shows (the beamline's declared detector).
    """
    from nx5d.optional import optional_module

    plot = optional_module("nx5d_rsm.plot", "nx5d-rsm", "drawing a quick look", "plot")

    if not raw:
        cooked = _as_dataset(scan.cooked, scan.url or scan.key)
        if "qdata" in cooked and cooked.qdata.ndim >= 2:
            return plot.rsm(cooked)
        return plot.lines(cooked, title=f"{scan.key}: {cooked.attrs.get('nx5d_recipe', 'cooked')}")
    data = scan.load(lazy=True) if "lazy" in _option_names(scan) else scan.raw
    declaration = scan.repository.declaration
    cooking = None if declaration is None else declaration.cooking
    return plot.raw_overview(data, counters=counters, title=f"{scan.key} (raw)", cooking=cooking)


def _option_names(scan: Scan) -> set[str]:
    import attrs

    declaration = scan.repository.declaration
    return set() if declaration is None else {f.name for f in attrs.fields(declaration.options)}
