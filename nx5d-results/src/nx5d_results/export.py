"""Scans to files: ``nx5d export``.

`export_scans` writes each scan's cooked data, or its raw data as
recorded, to NeXus (the default), NetCDF, HDF5 or Zarr files with the
provenance cooked results carry.  Cooked data goes to
``OUT/PROPOSAL/SCAN.nxs``, raw data to ``OUT/PROPOSAL/raw/SCAN.nxs``; a
one-dimensional result (a profile) is also written as ``SCAN.csv``
(`write_csv`).  A NeXus export is written block by block: raw frames are
read lazily where the beamline can, so a scan is never held whole.  An
exported folder opens again with ``nx5d.open`` (the ``results`` beamline,
[`nx5d_results.plugin`][nx5d_results.plugin]) and gives back the same arrays.
Existing files are never overwritten unless ``overwrite``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nx5d.errors import NotSupportedError, OutputExistsError
from nx5d.toolkit import progress, removed_on_failure, require_writable, temporary_name
from nx5d_results.files import output_path, refuse_existing, require_writer, stamp, write_dataset
from nx5d_results.nexus import signal_of

if TYPE_CHECKING:
    from nx5d import Proposal, Scan

__all__ = ["export_scans", "write_csv", "csv_columns"]


def _as_dataset(data: Any, where: str) -> Any:
    if hasattr(data, "data_vars"):
        return data
    if hasattr(data, "to_dataset"):
        return data.to_dataset(name="cooked", promote_attrs=True)
    raise NotSupportedError(f"{where} gives {type(data).__name__}, not an xarray object, so it cannot be written")


def _streamed(scan: Scan, options: Mapping[str, Any]) -> dict[str, Any]:
    """Loading options that read the frames lazily (block by block) where the beamline has a ``lazy`` option."""
    import attrs

    declared = getattr(scan.repository.declaration, "options", None)
    lazy = declared is not None and attrs.has(declared) and "lazy" in attrs.fields_dict(declared)
    if lazy and "lazy" not in options and "lazy" not in scan.repository.options:
        return {**options, "lazy": True}
    return dict(options)


def csv_columns(dataset: Any) -> list[str] | None:
    """The columns of a one-dimensional result's CSV file (coordinates first), or ``None`` if it is not 1-D."""
    signal = signal_of(dataset)
    if signal is None or dataset[signal].ndim != 1:
        return None
    (dim,) = dataset[signal].dims
    names = [str(n) for n in dataset.coords if dataset[n].dims == (dim,)]
    names.sort(key=lambda n: n != dim)
    names += [str(n) for n in dataset.data_vars if dataset[n].dims == (dim,)]
    return [n for n in names if np.dtype(dataset[n].dtype).kind in "biuf"]


def write_csv(dataset: Any, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """A one-dimensional result as CSV: ``#`` lines naming the scan and the columns with their units, then numbers.

    ``numpy.loadtxt(path, delimiter=",")`` reads it back; values are
    written with 17 significant digits, so floats come back exactly.
    """
    path = Path(path)
    columns = csv_columns(dataset)
    if not columns:
        raise NotSupportedError(f"{path}: only one-dimensional results are written as CSV")
    refuse_existing(path, overwrite)
    header = [
        f"nx5d export of {dataset.attrs.get('nx5d_scan_url', '')}".rstrip(),
        ", ".join(_label(dataset, n) for n in columns),
    ]
    table = np.column_stack([np.asarray(dataset[n].values, dtype=float) for n in columns])
    with removed_on_failure(temporary_name(path)) as partial:
        np.savetxt(partial, table, delimiter=",", fmt="%.17g", header="\n".join(header), comments="# ")
        os.replace(partial, path)
    return path


def _label(dataset: Any, name: str) -> str:
    units = dataset[name].attrs.get("units")
    return f"{name} [{units}]" if units else name


def export_scans(
    proposal: Proposal,
    scans: Iterable[str],
    out: str | os.PathLike[str],
    *,
    raw: bool = False,
    format: str = "nexus",  # noqa: A002 - the natural name of the option
    overwrite: bool = False,
    **options: Any,
) -> list[Path]:
    """Write each of ``scans`` (keys or handles) of ``proposal``, cooked or raw, to ``out``; returns the paths.

    ``options`` are loading options of the beamline (``reduce=2``).  The
    writer is checked, the files that exist already refused (unless
    ``overwrite``) and the folders checked for writing, before anything is read.  One-dimensional cooked
    results also get a CSV file beside.
    """
    require_writer(format)
    keys = [proposal.scan_key(s) for s in scans]
    planned = {key: output_path(out, proposal.key, key, format, raw=raw) for key in keys}
    existing = [str(path) for path in planned.values() if path.exists() or path.is_symlink()]
    if existing and not overwrite:
        shown = ", ".join(existing[:3]) + (f" and {len(existing) - 3} more" if len(existing) > 3 else "")
        raise OutputExistsError(f"{shown} exist(s) already; nothing was written (--overwrite replaces them)")
    for folder in {path.parent for path in planned.values()}:
        require_writable(folder)  # a folder that cannot be written fails now, not after the first scan is read
    written = []
    with progress(len(keys), f"exporting {'raw' if raw else 'cooked'} scans", unit="scan") as bar:
        for key, path in planned.items():
            written += _export_one(proposal.scan(key), path, raw, format, overwrite, options)
            bar.update(1)
    return written


def _export_one(scan: Scan, path: Path, raw: bool, fmt: str, overwrite: bool, options: Mapping[str, Any]) -> list[Path]:
    where = scan.url or scan.key
    merged = {**scan.repository.options, **options}
    if raw:
        loaded = scan.load(**(_streamed(scan, options) if fmt == "nexus" else options))
        provenance = {k: v for k, v in scan.provenance().items() if k != "nx5d_spice"}
        dataset = _as_dataset(loaded, where).assign_attrs(**stamp(provenance, merged))
    else:
        dataset = _as_dataset(scan.cook(**options), where)
        dataset = dataset.assign_attrs(nx5d_options=stamp({}, merged)["nx5d_options"])
    motor = scan.summary.get("motor") if raw else None  # the plot's axis along the scan's points
    kind = "raw" if raw else "cooked"
    write_dataset(dataset, path, fmt, kind=kind, overwrite=overwrite, motor=motor if isinstance(motor, str) else None)
    paths = [path]
    if not raw and csv_columns(dataset):
        paths.append(write_csv(dataset, path.with_suffix(".csv"), overwrite=overwrite))
    return paths
