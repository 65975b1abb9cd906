"""The ``fio`` beamline: PETRA III's ``.fio`` files, read with the plugin toolkit's text-format helpers.

A ``.fio`` file is a ``%c`` section (the scan command, then ``user NAME
Acquisition started at DATE``), a ``%p`` section of ``name = value``
parameters and a ``%d`` section of ``Col N name TYPE`` definitions followed
by the rows; ``!`` lines are comments (``! Acquisition ended at ...`` marks a
finished scan).  Columns become variables on ``index`` (typed as declared),
parameters scalars (a parameter that is also a column is the column's
``start_position``), the motors the command moves coordinates (DESY's
command rules), and the frames in the folder beside the file ``images``.
"""

import contextlib
import datetime
import re
import warnings
from typing import Any

import attrs
import xarray as xr

import nx5d
from nx5d import toolkit as kit
from nx5d.errors import CorruptDataError, DataWarning, OptionError
from nx5d.plugins import Beamline, ClaimLevel, Cooking, DocumentRef, ScanRef
from nx5d_rsm.profile import ProfileSettings
from nx5d_rsm.settings import MotorSettings
from nx5d_tiff.files import FrameFileOptions, frame_variables

#: The nx5d plugin API this plugin is written for.
NX5D_PLUGIN_API = 2
#: A section marker line (``%c``, ``%p``, ``%d``) and a column definition (``Col 1 om DOUBLE``).
MARKER, DEFINITION = r"%([a-z])", r"Col\s+\d+\s+(?P<name>.+?)\s+(?P<type>\w+)"
#: DESY's timers and clocks (``t01``, ``timestamp``): never a profile's signal.
CLOCKS = re.compile(r"t\d+|timestamp|.*_?time", re.IGNORECASE)


def _accepts(pattern: kit.UrlPattern) -> bool:
    """``…/{scan}.fio``: one file per scan."""
    return bool(pattern.path_segments) and pattern.path_segments[-1].template == "{scan}.fio"


def _recognises(document: DocumentRef) -> bool:
    """Whether the first file has ``.fio`` section markers."""
    return re.search(rb"^\s*%[cpd]\s*$", document.head(8192), re.MULTILINE) is not None


@attrs.frozen
class FioOptions(FrameFileOptions):
    """Loading options: those of frames stored one file per frame, and which detector's folder to load."""

    detector: str | None = kit.option(None, help="the detector folder to load frames from (default: the only one)")


@attrs.define
class Settings(MotorSettings):
    """The ``settings`` spice: maps of ``om`` (sample) and ``tt`` (detector arm) scans, energy from ``%p``."""

    energy: float | str = "energy"
    sample_motors: tuple[str, ...] = ("om",)
    detector_motors: tuple[str, ...] = ("tt",)


def _signal(raw: xr.Dataset) -> str | None:
    """The frames, else the last column that is neither a scanned motor nor a clock."""
    counters = [str(n) for n, v in raw.data_vars.items() if v.dims == ("index",) and not CLOCKS.fullmatch(str(n))]
    return "images" if "images" in raw else next(reversed(counters), None)


NX5D_BEAMLINE = Beamline(
    description="PETRA III .fio scan files (DESY Online, Sardana): columns, parameters, frames in a folder beside",
    url_examples=("file:///…/{proposal}/{scan}.fio",),
    schemes=("file", "http", "https", "s3"),
    suffixes=(".fio",),
    anchor=False,
    level=ClaimLevel.GENERIC,
    accepts=_accepts,
    recognises=_recognises,
    key_patterns={"scan": r"[A-Za-z0-9][\w.-]*"},
    scan_handle="s_{key}",
    options=FioOptions,
    spice={"settings": Settings, "profile": ProfileSettings},
    cooking=Cooking(recipes={"*": "auto"}, roles={"signal": _signal}),  # maps where frames and angles are
)


def _document(scan: ScanRef) -> tuple[dict[str, kit.Section], str]:
    text = scan.storage.read_bytes(scan.document).decode("utf-8", errors="replace")
    found = {s.name: s for s in kit.text_sections(text, MARKER, comment="!")}
    if "d" not in found or "c" not in found:
        raise CorruptDataError(f"{scan.document} has no %c or no %d section: not a complete .fio file")
    return found, text


def _header(found: dict[str, kit.Section], text: str) -> dict[str, Any]:
    command = found["c"].lines[0] if found["c"].lines else ""
    started = re.search(r"Acquisition started at (.+)$", "\n".join(found["c"].lines), re.MULTILINE)
    start = started[1].strip() if started else None
    with contextlib.suppress(ValueError, TypeError):
        start = datetime.datetime.strptime(str(start), "%a %b %d %H:%M:%S %Y").isoformat()
    return {"type": kit.scan_type(command), "command": command, "start": start, "ended": "Acquisition ended" in text}


@nx5d.hookimpl
def nx5d_summary(scan: ScanRef) -> dict[str, Any]:
    """Type, steps, command, first scanned motor, start time and state, from the text alone."""
    found, text = _document(scan)
    header = _header(found, text)
    columns = [m["name"] for m in map(re.compile(DEFINITION).fullmatch, found["d"].lines) if m]
    motors = kit.scanned_motors(header["command"], columns, dialect="desy")
    steps, planned = len(found["d"].lines) - len(columns), kit.planned_points(header["command"])
    done = header.pop("ended") or (planned is not None and steps >= planned)
    return {**header, "steps": steps, "motor": motors[0] if motors else "", "state": "done" if done else "running"}


def _frames(scan: ScanRef, options: FioOptions, steps: int) -> dict[str, Any]:
    folders = {} if options.frames == "skip" else kit.frame_folders(scan.storage, scan.document)
    detector = options.detector if options.detector or len(folders) != 1 else next(iter(folders))
    if detector not in folders and (folders or detector):
        raise OptionError(f"{scan.document}: detectors {sorted(folders)}; give detector=NAME, not {detector!r}")
    if not folders:
        if options.frames != "skip":
            warnings.warn(f"{scan.document}: no frame folder beside it; counters only", DataWarning, stacklevel=4)
        return {}
    urls = folders[str(detector)]
    if len(urls) != steps:
        raise CorruptDataError(f"{scan.document} has {steps} rows but its folder {detector!r} {len(urls)} frames")
    attrs_ = {"detector": detector, "units": "counts"}
    return frame_variables(scan.storage, urls, options, desc=f"loading {scan.key}", attrs=attrs_)


@nx5d.hookimpl
def nx5d_raw(scan: ScanRef, options: FioOptions) -> xr.Dataset:
    """Columns on ``index``, parameters as scalars, the command's motors as coordinates, frames as ``images``."""
    found, text = _document(scan)
    block = kit.column_block(found["d"], scan.document, definition=DEFINITION)
    parameters = kit.text_parameters(found["p"], scan.document) if "p" in found else {}
    names, data, variable = kit.VariableNames(scan.document), {}, {}
    for column, values in block:
        start = {"start_position": parameters.pop(column.name)} if column.name in parameters else {}
        variable[column.name] = names.name(column.name, "counter")
        data[variable[column.name]] = xr.Variable("index", values, {"long_name": column.name, **start})
    for name, value in parameters.items():
        data[names.name(name, "parameter")] = xr.Variable((), value, {"long_name": name, "kind": "positioner"})
    data.update(_frames(scan, options, len(block[0][1])))
    header = _header(found, text)
    motors = [variable[m] for m in kit.scanned_motors(header["command"], list(variable), dialect="desy")]
    attrs_ = {"url": scan.url, **{name: header[name] or "" for name in ("command", "type", "start")}}
    return xr.Dataset(data, attrs=attrs_).set_coords(motors)
