"""Spice written by nx5d 3.x: read as it is, imported without loss, and its meaning mapped onto ours.

nx5d 3.x keeps one JSON file per record in a folder per proposal, named by
the record's uuid without an extension, with ``version: "kmc3/1a"``, an
optional ``type``, and anchors as strings (scan keys or handles) or integers.
Its analysis spice types are ``exp_info`` (the diffractometer, as xraydc's
``QMapper`` takes it), ``image`` (centre and distance overriding it),
``qargs`` (q axes, grid, grouping), ``offsets`` (added to variables),
``recipes`` (recipe per scan type, as code locations) and ``stack``.

* Reading: a store shows such files beside its own (`from_nx5d3`);
  they are never modified, and nx5d writes only its own format.
* Importing (`import_records`): each record is written again in nx5d's
  format, keeping its uuid, type, handle, revision, anchor and data.
* Meaning (`translate`): when a scan is cooked, ``exp_info``, ``image``
  and ``qargs`` become fields of the ``settings`` spice (where its schema has
  them; a record of ``settings`` itself wins), and a 3.x ``recipes`` table
  becomes ``by_type`` of nx5d's recipe names.  What has no meaning here is
  named in a warning (`IGNORED`).  3.x wrote numbers as JSON numbers or as
  text (``"imageDistance": "690"``): both are read as numbers; anything else
  there, and impossible geometry (a zero ``sampleNormal``, a negative
  ``groupby_round``), is a [`SpiceValidationError`][nx5d.errors.SpiceValidationError]
  naming the field (``exp_info.imageDistance``).
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from nx5d.errors import SpiceValidationError, SpiceWarning
from nx5d.spice.record import SpiceRecord, check_data

__all__ = [
    "settings_sources",
    "LEGACY_TYPES",
    "NX5D3_VERSION",
    "UUID_NAME",
    "RECIPE_NAMES",
    "IGNORED",
    "is_nx5d3",
    "from_nx5d3",
    "translate",
    "settings_fields",
]

#: The ``version`` nx5d 3.x writes into every record.
NX5D3_VERSION = "kmc3/1a"
#: File names of nx5d 3.x records: a uuid, no extension.
UUID_NAME = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
#: nx5d 3.x recipes (xraydc's functions, by the last part of their location) and the nx5d recipe doing that.
RECIPE_NAMES = {
    "sRSM": "rsm",
    "rocking": "rsm",
    "TRSM": "temperature-rsm",
    "tRSM": "temperature-rsm",
    "TRSS_2d_fix": "temperature-rsm",
    "dRSM": "delay-rsm",
}
#: Fields of nx5d 3.x spice that have no meaning in nx5d, and why.
IGNORED = {
    ("exp_info", "imageSize"): "nx5d reads the detector's size from the frames",
    ("exp_info", "sampleFaceUp"): "nx5d's normal and inplane say how the sample is mounted",
    ("exp_info", "roi"): "a region of interest is a loading option (roi=...)",
    ("qargs", "gridargs"): "nx5d's gridder has no further arguments",
    ("qargs", "dask_compute"): "nx5d computes lazily loaded frames block by block itself",
}


def is_nx5d3(data: Mapping[str, Any]) -> bool:
    """Whether parsed JSON is an nx5d 3.x spice record (its ``version``)."""
    return isinstance(data, Mapping) and data.get("version") == NX5D3_VERSION


def from_nx5d3(raw: Any, where: str) -> SpiceRecord:
    """An nx5d 3.x record as a [`SpiceRecord`][nx5d.spice.record.SpiceRecord] (version kept; never written back)."""
    if not is_nx5d3(raw):
        raise SpiceValidationError(f"{where}: not an nx5d 3.x spice record (version {NX5D3_VERSION!r} expected)")
    missing = [f for f in ("handle", "uuid", "revision", "anchor", "data") if f not in raw]
    if missing:
        raise SpiceValidationError(f"{where}: nx5d 3.x spice record without {', '.join(missing)}")
    revision, anchor = raw["revision"], raw["anchor"]
    if not isinstance(revision, int) or isinstance(revision, bool) or revision < 1:
        raise SpiceValidationError(f"{where}: revision must be an integer >= 1, not {revision!r}")
    if isinstance(anchor, bool) or not isinstance(anchor, str | int):
        raise SpiceValidationError(f"{where}: anchor must be a scan (text or number), not {anchor!r}")
    for name in ("handle", "uuid"):
        if not isinstance(raw[name], str) or not raw[name]:
            raise SpiceValidationError(f"{where}: {name} must be a string, not {raw[name]!r}")
    kind = raw.get("type") or raw["handle"]
    if not isinstance(kind, str):
        raise SpiceValidationError(f"{where}: type must be a string, not {kind!r}")
    return SpiceRecord(
        type=kind,
        handle=raw["handle"],
        uuid=raw["uuid"],
        revision=revision,
        anchor=str(anchor),
        data=check_data(raw["data"], where),
        created="",
        version=NX5D3_VERSION,
    )


def _axes(value: Any) -> tuple[list[str], list[str]]:
    """``(axis directions, names)`` of an ``exp_info`` axes entry: a list, or a dict name -> direction."""
    if isinstance(value, Mapping):
        return [str(v) for v in value.values()], [str(k) for k in value]
    return [str(v) for v in value or ()], []


def _number(value: Any, field: str) -> float:
    """A finite number of 3.x spice: a number, or one written as text (``"690"``); else refused naming ``field``."""
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise SpiceValidationError(f"nx5d 3.x spice {field} must be a number, not the text {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SpiceValidationError(f"nx5d 3.x spice {field} must be a finite number, not {value!r}")
    return float(value)


def _first(value: Any, field: str) -> float:
    """A number given alone or as the first of a list (3.x wrote ``imageDistance`` both ways)."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        if not value:
            raise SpiceValidationError(f"nx5d 3.x spice {field} must be a number, not an empty list")
        value = value[0]
    return _number(value, field)


def _numbers(value: Any, field: str, size: int | None = None) -> list[float]:
    """A list of numbers (each may be written as text), of ``size`` entries where given."""
    if isinstance(value, str) or not isinstance(value, Sequence) or (size is not None and len(value) != size):
        raise SpiceValidationError(f"nx5d 3.x spice {field} must be a list of {size or 'some'} numbers, not {value!r}")
    return [_number(v, f"{field}[{i}]") for i, v in enumerate(value)]


def _pair(value: Any, field: str) -> list[float]:
    """Two numbers: a list of two, or one number meaning both."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        return _numbers(value, field, 2)
    return [_number(value, field)] * 2


def _whole(value: Any, field: str, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high`` (it may be written as text)."""
    number = _number(value, field)
    if number != int(number) or not low <= number <= high:
        raise SpiceValidationError(f"nx5d 3.x spice {field} must be a whole number from {low} to {high}, not {value!r}")
    return int(number)


def _inplane(beam: Sequence[float], normal: Sequence[float]) -> list[float] | None:
    """The beam's direction projected on the sample surface: what xraydc's HXRD took as the in-plane direction."""
    length = math.hypot(*normal)  # > 0 (`_vector`); scaled first: the squares of a tiny normal are 0
    normal = [n / length for n in normal]
    dot = sum(b * n for b, n in zip(beam, normal, strict=True))
    projected = [b - dot * n for b, n in zip(beam, normal, strict=True)]
    size = math.sqrt(sum(p * p for p in projected))
    return None if size < 1e-12 else [p / size for p in projected]


def _vector(value: Any, field: str) -> list[float]:
    """A direction: three numbers, not all zero."""
    vector = _numbers(value, field, 3)
    if not 0 < math.hypot(*vector) < math.inf:
        raise SpiceValidationError(f"nx5d 3.x spice {field} must be a direction, not {value!r} (length 0 or infinite)")
    return vector


def _exp_info(data: Mapping[str, Any], kind: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "beamEnergy" in data:
        out["energy"] = _first(data["beamEnergy"], f"{kind}.beamEnergy")
    if "beamDirection" in data:
        out["beam"] = _vector(data["beamDirection"], f"{kind}.beamDirection")
    if "goniometerAxes" in data:
        out["sample_axes"], names = _axes(data["goniometerAxes"])
        if names:
            out["sample_motors"] = names
    if "detectorAxes" in data:
        out["detector_axes"], names = _axes(data["detectorAxes"])
        if names:
            out["detector_motors"] = names
    if "imageAxes" in data:
        out["image_axes"] = [str(v) for v in data["imageAxes"]]
    out.update(_image(data, kind))
    if "imageChannelSpan" in data and data["imageChannelSpan"] is not None:
        out["channel_span"] = _pair(data["imageChannelSpan"], f"{kind}.imageChannelSpan")
    elif "imageChannelSize" in data and data["imageChannelSize"] is not None:
        out["pixel_size"] = _pair(data["imageChannelSize"], f"{kind}.imageChannelSize")
    if "sampleNormal" in data:
        out["normal"] = _vector(data["sampleNormal"], f"{kind}.sampleNormal")
        inplane = _inplane(out.get("beam", (1.0, 0.0, 0.0)), out["normal"])
        if inplane is not None:
            out["inplane"] = inplane
    if data.get("detectorTARAlign") is not None:
        tilt, _, rotation = _numbers(data["detectorTARAlign"], f"{kind}.detectorTARAlign", 3)
        out["detector_tilt"], out["detector_rotation"] = tilt, rotation
    return out


def _image(data: Mapping[str, Any], kind: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "imageCenter" in data:
        centre = _pair(data["imageCenter"], f"{kind}.imageCenter")
        out["img_center"] = centre
        if all(c <= 1 for c in centre):  # xraydc: numbers up to 1 are fractions of the detector
            out["center_units"] = "fraction"
    if "imageDistance" in data:
        out["img_distance"] = _first(data["imageDistance"], f"{kind}.imageDistance")
    return out


#: Decimals ``groupby_round`` may ask for: whole units down to the precision of a float.
ROUND_DECIMALS = (0, 15)


def _qargs(data: Mapping[str, Any], kind: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if data.get("dims"):
        out["q_axes"] = [str(d) for d in data["dims"]]
    if data.get("qsize"):
        sizes = data["qsize"]
        if isinstance(sizes, str | bytes) or not isinstance(sizes, Sequence):  # "45" is not the sizes 4 and 5
            raise SpiceValidationError(
                f"nx5d 3.x spice {kind}.qsize must be a list of whole numbers, one per q axis, not {sizes!r}"
            )
        out["grid_size"] = [_whole(n, f"{kind}.qsize[{i}]", 1, 10**8) for i, n in enumerate(sizes)]
    groups = data.get("groupby")
    if groups:
        out["group_by"] = [groups] if isinstance(groups, str) else list(groups)
        decimals = data.get("groupby_round")
        if decimals is not None:  # xarray's round(decimals): to multiples of 10**-decimals
            places = _whole(decimals, f"{kind}.groupby_round", *ROUND_DECIMALS)
            out["group_step"] = dict.fromkeys(out["group_by"], 10.0 ** (-places))
    return out


_TO_SETTINGS = {"exp_info": _exp_info, "image": _image, "qargs": _qargs}

LEGACY_TYPES = tuple(_TO_SETTINGS)
"""nx5d 3.x's analysis types whose fields become fields of the beamline's map settings (in this order, later wins)."""
_KNOWN = {
    "exp_info": {
        "beamEnergy", "beamDirection", "goniometerAxes", "detectorAxes", "imageAxes", "imageCenter",
        "imageDistance", "imageChannelSpan", "imageChannelSize", "sampleNormal", "detectorTARAlign",
    },
    "image": {"imageCenter", "imageDistance"},
    "qargs": {"dims", "qsize", "groupby", "groupby_round"},
}  # fmt: skip


def settings_sources(spice: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """For each ``settings`` field `settings_fields` gives, the nx5d 3.x type it comes from (the last one wins)."""
    return {name: kind for kind in _TO_SETTINGS if kind in spice for name in settings_fields({kind: spice[kind]})[0]}


def settings_fields(spice: Mapping[str, Mapping[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    """The ``settings`` fields nx5d 3.x's ``exp_info``, ``image`` and ``qargs`` give, and what they left unused.

    Later types win (``image`` overrides ``exp_info``'s centre and
    distance, as xraydc applies it).
    """
    out: dict[str, Any] = {}
    unused: list[str] = []
    for kind, convert in _TO_SETTINGS.items():
        data = spice.get(kind)
        if data is None:
            continue
        if not isinstance(data, Mapping):
            raise SpiceValidationError(f"nx5d 3.x spice {kind!r} must be a mapping of fields, not {data!r}")
        try:
            out.update(convert(data, kind))
        except SpiceValidationError:
            raise
        except (TypeError, ValueError) as exc:
            raise SpiceValidationError(f"nx5d 3.x spice {kind!r} cannot be read: {exc}") from exc
        for name in data:
            if name not in _KNOWN[kind]:
                reason = IGNORED.get((kind, name), "nx5d has no such setting")
                unused.append(f"{kind}.{name} ({reason})")
    return out, unused


def _recipe_name(location: Any) -> str | None:
    """The nx5d recipe for an nx5d 3.x recipe location (``pymod://xraydc.cooking#sRSM``), if there is one."""
    if not isinstance(location, str):
        return None
    function = location.rsplit("#", 1)[-1].split("?")[0]
    return RECIPE_NAMES.get(function)


def _recipes(data: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    table, unused = {}, []
    for scan_type, location in data.items():
        if scan_type == "__default__":
            continue
        name = _recipe_name(location)
        if name is None:
            unused.append(f"recipes.{scan_type} ({location!r} is no recipe nx5d knows; code locations are never run)")
        else:
            table[scan_type] = name
    if "__default__" in data:
        name = _recipe_name(data["__default__"])
        if name is None:
            unused.append(f"recipes.__default__ ({data['__default__']!r} is no recipe nx5d knows)")
        else:
            table["*"] = name
    return table, unused


def translate(
    spice: Mapping[str, Mapping[str, Any]],
    settings_schema: type | None,
    where: str,
    handle: str = "settings",
    recorded: set[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """``spice`` with nx5d 3.x's analysis types made nx5d's (see the module documentation).

    The ``settings`` handle gets the fields of ``exp_info``, ``image`` and
    ``qargs`` that ``settings_schema`` has, under its own record's values; a
    3.x ``recipes`` table becomes ``{"by_type": ...}``.  Everything left out
    is named in one warning.  ``recorded``: the fields of ``settings`` that a
    record gives (they win); the others are the beamline's defaults, which
    3.x's fields replace (``None``: all are recorded).
    """
    out = {h: dict(v) for h, v in spice.items()}
    fields, unused = settings_fields(spice)
    if fields:
        known = (
            set(attrs.fields_dict(settings_schema))
            if settings_schema is not None and attrs.has(settings_schema)
            else set(fields)
        )
        unused += [f"{name} (the beamline's settings have no such field)" for name in fields if name not in known]
        own = out.get(handle, {})
        kept = own if recorded is None else {k: v for k, v in own.items() if k in recorded}
        out[handle] = {**own, **{k: v for k, v in fields.items() if k in known}, **kept}
    recipes = out.get("recipes")
    if recipes is not None and "by_type" not in recipes:
        table, skipped = _recipes(recipes)
        out["recipes"] = {"by_type": table}
        unused += skipped
    if unused:
        warnings.warn(f"{where}: nx5d 3.x spice not used: {'; '.join(unused)}", SpiceWarning, stacklevel=3)
    return out
