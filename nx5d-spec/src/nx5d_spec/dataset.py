"""SPEC scans as ``xarray.Dataset``: counters on ``index``, motor positions as scalars, MCA spectra.

Variable names are the labels with white space as ``_`` (``Two Theta`` ->
``Two_Theta``), made unique (a repeated ``#L`` label gets ``_2``, with a
warning) and kept clear of the dataset's dimensions (a motor ``y`` beside
frames on ``(index, y, x)`` becomes ``y_motor``); each variable's
``long_name`` is the name as written in the file.  The motors the scan
command moves (`nx5d.io.commands.scanned_motors`) are coordinates
along ``index``; every column of a motor (a name of the ``#O`` lines) has
the attribute ``kind = "positioner"``.  The orientation the ``#G``/``#UB``
lines state becomes attributes (`nx5d_spec.orientation`).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np
import xarray as xr

from nx5d.errors import MissingDataError
from nx5d.toolkit import VariableNames, scan_type, scanned_motor, scanned_motors, scanned_range
from nx5d_spec.orientation import orientation_attrs
from nx5d_spec.parser import SpecScan

__all__ = ["scan_dataset", "scan_summary"]


def scan_summary(scan: SpecScan, state: str | None = None) -> dict[str, Any]:
    """Type, steps, notes (the command), start time, scanned motor and its range, counters and comments.

    ``range`` is the first scanned motor's lowest and highest position in
    the data (from the command where there is no data yet); ``state``
    (`nx5d_spec.parser.scan_state`: ``"done"`` or ``"running"``) is added
    where the file says it.
    """
    out: dict[str, Any] = {
        "type": scan_type(scan.command),
        "steps": scan.points,
        "notes": scan.command if scan.points else f"no data lines: {scan.command}",
        "start": scan.date or "",
        "motor": scanned_motor(scan.command),
    }
    found = _range(scan)
    if found is not None:
        out["range"] = list(found)
    out["counters"] = list(scan.labels)
    if scan.comments:
        out["comments"] = "\n".join(scan.comments)
    if state is not None:
        out["state"] = state
    return out


def _range(scan: SpecScan) -> tuple[float, float] | None:
    """The first scanned motor's lowest and highest position in the data, else as the command says."""
    motors = scanned_motors(scan.command, scan.labels, scan.file_header.mnemonics())
    if motors and scan.points and motors[0] in scan.labels:
        values = np.asarray(scan.data[:, scan.labels.index(motors[0])], dtype=float)
        values = values[np.isfinite(values)]
        if values.size:
            return float(values.min()), float(values.max())
    return scanned_range(scan.command)


def scan_dataset(scan: SpecScan, where: str, *, reserved: Collection[str] = ("index",)) -> xr.Dataset:
    """The scan's counters, positions and spectra as a Dataset (see the module documentation).

    A scan without any of them (stopped before its first point, and its
    writer wrote no motor positions: Bluesky's ``#N 0`` scans) raises
    [`MissingDataError`][nx5d.errors.MissingDataError] saying so.

    Parameters
    ----------
    scan:
        The parsed scan.
    where:
        The SPEC file's URL, for warnings and the ``url`` attribute.
    reserved:
        Names variables must not take: the dimensions of the dataset the
        caller builds (``("index", "y", "x")`` when frames are added).
    """
    if not (scan.labels or scan.positions or scan.mca):
        columns = next((line.split(None, 1)[-1] for line in scan.header if line.startswith("#N ")), "none")
        raise MissingDataError(
            f"{where}, scan {scan.key} holds no data: no data lines, no column names (#L) and no motor "
            f"positions (#P), columns announced (#N): {columns}; the scan was stopped before its first point "
            f"({scan.command})"
        )
    names = VariableNames(f"{where}, scan {scan.key}", {*reserved, "index"})
    data: dict[str, xr.Variable] = {}
    named: dict[str, str] = {}
    for k, label in enumerate(scan.labels):
        name = names.name(label, "counter")
        named.setdefault(label, name)  # a repeated label: its first column is the axis
        kind = {"kind": "positioner"} if label in scan.positions else {}  # a motor's column
        data[name] = xr.Variable("index", scan.data[:, k], {"long_name": label, **kind})
    for motor, value in scan.positions.items():
        if motor not in scan.labels:
            data[names.name(motor, "motor")] = xr.Variable((), value, {"long_name": motor})
    for spectrum, values in scan.mca.items():
        name = names.name("mca" + spectrum[2:], "spectrum")
        data[name] = xr.Variable(("index", f"{name}_channel"), values, {"long_name": f"{spectrum} spectra"})
    attrs = {
        "title": scan.command,
        "scan_key": scan.key,
        "scan_number": scan.number,
        "start_time": scan.date or "",
        "spec_file": scan.file_header.file_name or "",
        "scan_header": "\n".join(scan.header),
        "comments": "\n".join(scan.comments),
        "url": f"{where}#{scan.key}",
        **orientation_attrs(scan.header, f"{where}, scan {scan.key}"),
    }
    axes = [named[label] for label in scanned_motors(scan.command, scan.labels, scan.mnemonics())]
    return xr.Dataset(data, attrs=attrs).set_coords(axes)
