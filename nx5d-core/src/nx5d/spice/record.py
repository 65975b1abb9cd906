"""Spice records: small immutable documents, one per change."""

from __future__ import annotations

import copy
import datetime
import getpass
import json
import uuid as uuidlib
from collections.abc import Mapping
from typing import Any

import attrs

from nx5d.addressing.keys import validate_key
from nx5d.errors import SpiceValidationError

__all__ = ["FORMAT_VERSION", "SpiceRecord", "new_record", "check_data", "now"]

#: Format version written into every record.
FORMAT_VERSION = "nx5d-spice/1"

_FIELDS = ("version", "type", "handle", "uuid", "revision", "anchor", "data", "created", "author", "note")


def now() -> str:
    """The current UTC time as records carry it (ISO 8601, microseconds, ``Z``)."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user database entry (containers)
        return None


def check_data(data: Any, where: str) -> dict[str, Any] | None:
    """Check that spice ``data`` is a JSON-serialisable mapping with string keys (or ``None``)."""
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise SpiceValidationError(
            f"{where}: spice data must be a mapping of field -> value, not {type(data).__name__}"
        )
    bad = [k for k in data if not isinstance(k, str)]
    if bad:
        raise SpiceValidationError(f"{where}: spice field names must be strings, got {bad!r}")
    try:
        json.dumps(data)
    except (TypeError, ValueError) as exc:
        raise SpiceValidationError(f"{where}: spice data must be JSON-serialisable: {exc}") from None
    return copy.deepcopy(dict(data))


@attrs.frozen
class SpiceRecord:
    """One immutable spice record.

    Attributes
    ----------
    type:
        The kind of settings (selects the schema, e.g. ``"settings"``).
    handle:
        Name of the settings within the proposal (often equal to ``type``).
    uuid:
        Unique identity of this record (also its file name on disk).
    revision:
        Revision number within its branch, starting at 1.
    anchor:
        Scan key from which the branch applies; ``''`` = from the first scan.
    data:
        The settings, or ``None``: the branch is withdrawn from the anchor on.
    created:
        UTC time stamp (ISO 8601).
    author, note:
        Optional free text.
    version:
        Record format version.
    """

    type: str
    handle: str
    uuid: str
    revision: int
    anchor: str
    data: dict[str, Any] | None
    created: str
    author: str | None = None
    note: str | None = None
    version: str = FORMAT_VERSION

    @property
    def branch(self) -> tuple[str, str]:
        """``(handle, anchor)``: records of one branch form its revision history."""
        return (self.handle, self.anchor)

    def to_dict(self) -> dict[str, Any]:
        """The record as a plain dict (a copy: changing it changes nothing stored)."""
        out = {name: getattr(self, name) for name in _FIELDS}
        out["data"] = copy.deepcopy(self.data)
        return out

    def to_json(self) -> str:
        """Human-readable JSON text, as written to disk."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, raw: Any, where: str) -> SpiceRecord:
        """Build a record from parsed JSON, checking every field (``SpiceValidationError``)."""
        if not isinstance(raw, Mapping):
            raise SpiceValidationError(f"{where}: not a spice record (a JSON object is expected)")
        missing = [f for f in ("version", "type", "handle", "uuid", "revision", "anchor", "data") if f not in raw]
        if missing:
            raise SpiceValidationError(f"{where}: not a spice record (missing {', '.join(missing)})")
        version = raw["version"]
        if not (isinstance(version, str) and version.startswith("nx5d-spice/")):
            raise SpiceValidationError(f"{where}: unknown spice record format {version!r}")
        revision = raw["revision"]
        if not isinstance(revision, int) or isinstance(revision, bool) or revision < 1:
            raise SpiceValidationError(f"{where}: revision must be an integer >= 1, not {revision!r}")
        for name in ("type", "handle", "uuid", "anchor"):
            if not isinstance(raw[name], str):
                raise SpiceValidationError(f"{where}: {name} must be a string, not {raw[name]!r}")
        for name in ("created", "author", "note"):
            if raw.get(name) is not None and not isinstance(raw[name], str):
                raise SpiceValidationError(f"{where}: {name} must be a string, not {raw[name]!r}")
        return cls(
            type=raw["type"],
            handle=raw["handle"],
            uuid=raw["uuid"],
            revision=revision,
            anchor=raw["anchor"],
            data=check_data(raw["data"], where),
            created=raw.get("created") or "",
            author=raw.get("author"),
            note=raw.get("note"),
            version=version,
        )


def new_record(
    *,
    type: str,  # noqa: A002 - the record field's name
    handle: str,
    revision: int,
    anchor: str,
    data: Mapping[str, Any] | None,
    author: str | None = None,
    note: str | None = None,
) -> SpiceRecord:
    """A fresh record with a new uuid and time stamp (fields checked)."""
    validate_key(handle, "spice handle")
    validate_key(type, "spice type")
    for part in anchor.split("/") if anchor else ():  # a scan key may span folders: day/time
        validate_key(part, f"spice anchor (scan key) {anchor!r}")
    return SpiceRecord(
        type=type,
        handle=handle,
        uuid=str(uuidlib.uuid4()),
        revision=revision,
        anchor=anchor,
        data=check_data(data, f"spice {handle!r}"),
        created=now(),
        author=author if author is not None else _user(),
        note=note,
    )
