"""Reading one UDKM scan folder: which files it holds, its summary, its raw data."""

from __future__ import annotations

import datetime
import json
import re
import warnings
from typing import Any

import attrs
import numpy as np
import xarray as xr

from nx5d.errors import CorruptDataError, DataWarning, MissingDataError
from nx5d.toolkit import Storage, join_url
from nx5d_tiff.files import frame_variables

from .formats import IMAGE_EXTENSIONS, IMAGE_NAME, VARIANTS, Variant, parameters_names
from .names import ROLES, UNITS, role_column, variable_names
from .options import UdkmOptions
from .parameters import parse_parameters, planned_frames
from .tables import Table, read_table

__all__ = ["ScanFiles", "find_files", "summary", "load_raw", "RESERVED"]

#: Names a table column cannot take as its variable: the dataset's dimensions and what nx5d adds.
RESERVED = ("index", "y", "x", "images", "frame_missing", "image_file", "start_time", "end_time")


@attrs.frozen
class ScanFiles:
    """The files of one scan folder that matter."""

    url: str
    key: str
    variant: Variant
    table: str
    parameters: str | None
    #: The names of the files in the folder, as `find_files` listed them (reading the scan lists it once).
    names: frozenset[str]

    def read_table(self, storage: Storage) -> Table:
        return read_table(storage.read_bytes(self.table), self.variant, self.table)

    def read_parameters(self, storage: Storage) -> dict[str, str]:
        return {} if self.parameters is None else parse_parameters(storage.read_bytes(self.parameters))


def find_files(storage: Storage, url: str, key: str) -> ScanFiles:
    """Detect the scan type from which table file the scan folder holds (one listing of the folder)."""
    names = {entry.name for entry in storage.ls(url) if not entry.is_dir}
    folder = key.rsplit("/", 1)[-1]  # a project layout's key is day/time: the files are named by the time
    for variant in VARIANTS:
        if variant.table_name(folder) in names:
            parameters = next((join_url(url, n) for n in parameters_names(folder) if n in names), None)
            return ScanFiles(url, key, variant, join_url(url, variant.table_name(folder)), parameters, frozenset(names))
    looked = ", ".join(v.table_name(folder) for v in VARIANTS)
    raise MissingDataError(f"{url} holds no UDKM scan table (looked for {looked})")


def _start_time(proposal: str, scan: str, parameters: dict[str, str]) -> str | None:
    folders = scan.replace("/", "") if "/" in scan else proposal + scan  # day/time, or proposal = day
    for text, fmt in (
        (f"{parameters.get('Date', '')} {parameters.get('Time', '')}", "%d.%m.%Y %H:%M:%S"),
        (folders, "%Y%m%d%H%M%S"),
    ):
        try:
            return datetime.datetime.strptime(text.strip(), fmt).isoformat(sep=" ")
        except ValueError:
            continue
    return None


def summary(storage: Storage, files: ScanFiles, proposal: str) -> dict[str, Any]:
    """Type, steps, delays, theta range, start time and notes -- from the table and parameters only.

    ``state`` is ``"done"`` once the table holds every frame the parameters
    plan ([`planned_frames`][nx5d_udkm.parameters.planned_frames]); a scan
    stopped early never says so (the lab's program writes no end mark).
    """
    table = files.read_table(storage)
    parameters = files.read_parameters(storage)
    out: dict[str, Any] = {"type": files.variant.name, "steps": table.rows}
    delay = role_column(table.columns, "delay")
    if delay is not None:
        out["delays"] = int(np.unique(table.column(delay, "delay", files.table)).size)
    theta = role_column(table.columns, "theta")
    if theta is not None and table.rows:
        values = table.column(theta, "theta", files.table)
        out["theta"] = f"{np.nanmin(values):g}–{np.nanmax(values):g}"
        finite = values[np.isfinite(values)]
        if finite.size:
            out["motor"], out["range"] = "theta", [float(finite.min()), float(finite.max())]
    out["start"] = _start_time(proposal, files.key, parameters)
    notes = parameters.get("Sample") or parameters.get("Comment", "")
    out["notes"] = notes.split("\n")[0]
    out["counters"] = list(table.columns)
    for field, name in (("sample", "Sample"), ("comments", "Comment")):
        if parameters.get(name):
            out[field] = parameters[name]
    planned = planned_frames(parameters)
    if planned is not None and table.rows >= planned:
        out["state"] = "done"  # every frame the parameters plan is in the table
    return out


def _times(texts: tuple[str, ...], date: str) -> np.ndarray:
    try:
        day = datetime.datetime.strptime(date, "%Y%m%d").date().isoformat()
        return np.array([f"{day}T{t}" for t in texts], dtype="datetime64[ms]")
    except ValueError:
        return np.array(texts, dtype=str)


def _image_names(files: ScanFiles, table: Table, missing: str) -> list[str]:
    """The frame files the table names, in order; ``[]`` when the folder holds no frame at all."""
    names = {name for name in files.names if IMAGE_NAME.match(name)}
    if not names:
        return []
    if table.images is not None:
        expected = list(table.images)
    else:
        extension = next((x for x in IMAGE_EXTENSIONS if f"image00000{x}" in names), files.variant.image_extension)
        expected = [f"image{i:05d}{extension}" for i in range(table.rows)]
    extra = sorted(names - set(expected), key=lambda n: int(IMAGE_NAME.match(n).group(1)))  # type: ignore[union-attr]
    if extra:
        message = (
            f"{files.table} lists {table.rows} frames, but {files.url} holds {len(extra)} more images "
            f"({extra[0]} ...): the table looks truncated"
        )
        if missing == "raise":
            raise CorruptDataError(message)
        warnings.warn(message, DataWarning, stacklevel=4)
    return expected


def _units(column: str) -> str | None:
    """The unit in a column header: ``Crystal [ph/s]`` -> ``ph/s``, ``Theta / deg.`` -> ``deg``."""
    m = re.search(r"\[(.+?)\]", column) or re.search(r"/\s*([^/]+?)\.?$", column)
    return m.group(1).strip() if m else None


def _column_attrs(column: str) -> dict[str, str]:
    units = _units(column) or UNITS.get(column.strip())
    return {"long_name": column, **({"units": units} if units else {})}


def load_raw(
    storage: Storage, files: ScanFiles, proposal: str, options: UdkmOptions, *, fallback: Any = None
) -> xr.Dataset:
    """The scan as an ``xarray.Dataset``: table columns on ``index``, ``images`` on ``(index, y, x)``.

    Each column's header is its ``long_name`` (with ``units`` where the
    header names one); ``images`` carries the full-frame pixel coordinates
    ``y`` and ``x`` of the pixels loaded.
    """
    table = files.read_table(storage)
    if table.rows == 0:
        raise CorruptDataError(f"{files.table} holds no data rows")
    names = [] if options.frames == "skip" else _image_names(files, table, options.missing)
    absent = ""
    if not names and options.frames != "skip":
        first = table.images[0] if table.images else f"image00000{files.variant.image_extension}"
        absent = f"the frame files {files.table.rsplit('/', 1)[-1]} names ({first} ...) are not in {files.url}"
        warnings.warn(
            f"{files.url} holds no frames ({first} ...): counters only; frames='skip' says so quietly",
            DataWarning,
            stacklevel=3,
        )
    urls = [join_url(files.url, n) for n in names]
    variables = variable_names(list(table.headers), options.names, files.table, RESERVED)
    data: dict[str, Any] = {}
    for column, values, name in zip(table.columns, table.values, variables, strict=True):
        dims = "index" if values.ndim == 1 else ("index", f"{name}_channel")
        data[name] = xr.Variable(dims, values, _column_attrs(column))
    if table.images is not None:
        data["image_file"] = ("index", np.array(table.images))
        day = files.key.split("/")[0] if "/" in files.key else proposal  # the day folder, else the proposal's
        data["start_time"] = ("index", _times(table.start, day))  # type: ignore[arg-type]
        data["end_time"] = ("index", _times(table.end, day))  # type: ignore[arg-type]
    if urls:
        data.update(
            frame_variables(
                storage, urls, options, fallback=fallback, desc=f"loading {files.key}", attrs={"units": "counts"}
            )
        )
    parameters = files.read_parameters(storage)
    attrs_ = {
        "scan_type": files.variant.name,
        "table": files.table,
        "url": files.url,
        "start": _start_time(proposal, files.key, parameters) or "",
        "parameters": json.dumps(parameters, ensure_ascii=False),
        **({"absent": absent} if absent else {}),
    }
    dataset = xr.Dataset(data, attrs=attrs_)
    return dataset.set_coords(_axes(dataset))


def _axes(dataset: xr.Dataset) -> list[str]:
    """The variables that are the scan's axes: its delay, theta and 2-theta columns, and the frames' times."""
    axes = []
    for role in ROLES:
        header = role_column([str(v.attrs.get("long_name", n)) for n, v in dataset.data_vars.items()], role)
        axes += [
            str(n) for n, v in dataset.data_vars.items() if header is not None and v.attrs.get("long_name") == header
        ]
    return list(dict.fromkeys(axes + [n for n in ("start_time", "end_time") if n in dataset]))
