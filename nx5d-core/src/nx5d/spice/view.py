"""The spice that applies at one scan, as cooking receives it and as people read it."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from nx5d.display import Table
from nx5d.errors import SpiceConflict
from nx5d.spice.resolve import Resolution
from nx5d.spice.values import Settings

__all__ = ["ViewEntry", "SpiceView", "SpiceHistory"]

VIEW_COLUMNS = ("spice", "field", "value", "from")


def origin_of(resolution: Resolution | None) -> str:
    """Where a value comes from: ``revision 2 (a1b2c3d4) from scan 101500`` or ``from the start``."""
    if resolution is None:
        return "beamline default"
    record = resolution.records[0]
    since = f"from scan {record.anchor}" if record.anchor else "from the start"
    return f"revision {record.revision} ({record.uuid[:8]}) {since}"


@attrs.frozen
class ViewEntry:
    """One handle of a view: the applicable record(s) and the beamline's defaults."""

    handle: str
    resolution: Resolution | None
    defaults: Mapping[str, Any] | None
    #: Fields among ``defaults`` that nx5d 3.x records give instead (the cook reads them so): ``{field: origin}``.
    translated: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def clean(self) -> bool:
        """No conflict among the applicable records."""
        return self.resolution is None or self.resolution.clean

    @property
    def withdrawn(self) -> bool:
        """The applicable branch is withdrawn (defaults, if any, apply instead)."""
        return self.resolution is not None and self.resolution.withdrawn

    @property
    def data(self) -> dict[str, Any] | None:
        """Defaults overlaid with the record's data (``None``: nothing applies)."""
        record_data = None
        if self.resolution is not None:
            record_data = self.resolution.record.data  # raises SpiceConflict when not clean
        if record_data is None:
            return None if self.defaults is None else dict(self.defaults)
        return {**(self.defaults or {}), **record_data}

    @property
    def from_defaults(self) -> list[str]:
        """Fields whose values come from the beamline's defaults, not from a record."""
        if self.defaults is None:
            return []
        record = None if self.resolution is None or not self.resolution.clean else self.resolution.records[0]
        given = set() if record is None or record.data is None else set(record.data)
        return [f for f in self.defaults if f not in given and f not in self.translated]

    def row(self, viewpoint: str) -> dict[str, Any]:
        res = self.resolution
        record = res.records[0] if res is not None and res.clean else None
        if not self.clean:
            data: Any = f"CONFLICT between records {', '.join(u[:8] for u in res.uuids)}"  # type: ignore[union-attr]
        elif self.withdrawn and self.defaults is None:
            data = "withdrawn"
        else:
            data = self.data
        return {
            "viewpoint": viewpoint,
            "handle": self.handle,
            "clean": self.clean,
            "revision": None if res is None else res.revision,
            "uuid": None if res is None else ", ".join(u[:6] for u in res.uuids),
            "anchor": None if res is None else res.anchor,
            "data": data,
            "from defaults": "all"
            if self.defaults is not None and (record is None or record.data is None)
            else ", ".join(self.from_defaults),
        }


class SpiceView(Mapping[str, Settings]):
    """The spice applying at one scan: ``{handle: Settings}`` plus where each value came from.

    ``view["settings"].img_center`` reads a value; a handle whose records
    conflict raises [`SpiceConflict`][nx5d.errors.SpiceConflict] when read.
    In Jupyter the view renders as a table of every field: its value, and
    the record (revision, uuid, the scan it applies from) or the beamline
    default it comes from.
    """

    def __init__(self, viewpoint: str, viewpoint_handle: str, entries: Mapping[str, ViewEntry]) -> None:
        self.viewpoint = viewpoint
        self.viewpoint_handle = viewpoint_handle
        self.entries = dict(entries)

    def __getitem__(self, handle: str) -> Settings:
        entry = self.entries[handle]
        data = entry.data
        if data is None:
            raise KeyError(handle)
        return Settings(data, handle)

    def __iter__(self) -> Iterator[str]:
        return (h for h, e in self.entries.items() if not e.clean or e.data is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    @property
    def conflicts(self) -> list[ViewEntry]:
        """Entries whose latest revision is claimed by more than one record."""
        return [e for e in self.entries.values() if not e.clean]

    @property
    def clean(self) -> bool:
        """Whether no handle is in conflict."""
        return not self.conflicts

    def settings(self) -> dict[str, Settings]:
        """Everything cooking receives; `SpiceConflict` if any handle is in conflict."""
        if self.conflicts:
            uuids = tuple(u for e in self.conflicts for u in e.resolution.uuids)  # type: ignore[union-attr]
            names = ", ".join(f"{e.handle!r} ({', '.join(e.resolution.uuids)})" for e in self.conflicts)  # type: ignore[union-attr]
            message = f"spice at scan {self.viewpoint!r} is in conflict for {names}"
            raise SpiceConflict(f"{message}; resolve with proposal.spice.resolve(...)", uuids)
        return {h: self[h] for h in self}

    def provenance(self) -> dict[str, dict[str, Any]]:
        """Per handle, what the settings came from: the record's uuid, revision and anchor, or defaults.

        ``{"settings": {"uuid": "…", "revision": 2, "anchor": "", "defaults": ["energy"]}}``;
        a handle with no record applying has ``uuid`` ``None`` (all from defaults).
        """
        out = {}
        for handle, entry in self.entries.items():
            res = entry.resolution
            record = res.records[0] if res is not None and res.clean and not res.withdrawn else None
            out[handle] = {
                "uuid": None if record is None else record.uuid,
                "revision": None if record is None else record.revision,
                "anchor": None if record is None else record.anchor,
                "defaults": list(entry.defaults or {}) if record is None else entry.from_defaults,
            }
        return out

    def rows(self) -> list[dict[str, Any]]:
        """One row per handle: viewpoint, handle, clean, revision, uuid, anchor, data, from defaults."""
        return [e.row(self.viewpoint_handle) for e in self.entries.values()]

    def field_rows(self) -> list[dict[str, Any]]:
        """One row per field of every handle, as the table shows them: spice, field, value, from."""
        out = []
        for handle, entry in self.entries.items():
            res = entry.resolution
            if not entry.clean:
                uuids = ", ".join(u[:8] for u in res.uuids)  # type: ignore[union-attr]
                out.append({"spice": handle, "field": "", "value": f"CONFLICT between records {uuids}", "from": ""})
                continue
            data = entry.data
            if data is None:
                out.append({"spice": handle, "field": "", "value": "withdrawn", "from": origin_of(res)})
                continue
            recorded = set(data) - set(entry.from_defaults) - set(entry.translated)
            if res is None or res.withdrawn:
                recorded = set()
            for field, value in data.items():
                origin = origin_of(res) if field in recorded else entry.translated.get(field, "beamline default")
                out.append({"spice": handle, "field": field, "value": value, "from": origin})
        return out

    def _table(self) -> Table:
        title = f"spice at scan {self.viewpoint} ({self.viewpoint_handle})"
        return Table(VIEW_COLUMNS, self.field_rows(), title=title, max_rows=None, whole=("value",))

    def __repr__(self) -> str:
        return self._table().to_text()

    def _repr_html_(self) -> str:
        return self._table().to_html()


class SpiceHistory:
    """A list of spice records rendered as a table (``history``, ``ls``): what each revision changed."""

    COLUMNS = ("spice", "from scan", "revision", "uuid", "written", "by", "note", "format", "changes", "conflict")

    def __init__(self, title: str, records: list[dict[str, Any]]) -> None:
        self.title = title
        self.records = records

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.records[index]

    def table_rows(self) -> list[dict[str, Any]]:
        """The rows of the table: each record, with what it changed against the revision before it."""
        previous: dict[tuple[str, str], dict[str, Any] | None] = {}
        rows = []
        for r in self.records:
            branch = (r["handle"], r["anchor"])
            before = previous.get(branch)
            rows.append(
                {
                    "spice": r["handle"] if r["type"] == r["handle"] else f"{r['handle']} ({r['type']})",
                    "from scan": r["anchor"] or "(start)",
                    "revision": r["revision"],
                    "uuid": r["uuid"][:8],
                    "written": (r.get("created") or "")[:16].replace("T", " "),
                    "by": r.get("author"),
                    "note": r.get("note"),
                    "format": r.get("version"),
                    "changes": changes(before, r["data"]),
                    "conflict": "CONFLICT" if r.get("conflict") else "",
                }
            )
            previous[branch] = r["data"]
        return rows

    def _table(self) -> Table:
        rows = self.table_rows()
        columns = [c for c in self.COLUMNS if any(row[c] not in (None, "") for row in rows)] or list(self.COLUMNS)
        return Table(columns, rows, title=self.title, whole=("changes",))

    def __repr__(self) -> str:
        return self._table().to_text()

    def _repr_html_(self) -> str:
        return self._table().to_html() if self.records else f"<p>{html.escape(self.title)}: no records</p>"


def _short(value: Any) -> str:
    return json.dumps(value, default=str)


def changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> str:
    """What a revision changed (``grid_size: [80, 150] -> [20, 30]; + monitor = "crystal"``); a first one: all."""
    if after is None:
        return "withdrawn"
    if before is None:
        return "; ".join(f"{k} = {_short(v)}" for k, v in after.items())
    parts = [f"{k}: {_short(before[k])} -> {_short(v)}" for k, v in after.items() if k in before and before[k] != v]
    parts += [f"+ {k} = {_short(v)}" for k, v in after.items() if k not in before]
    parts += [f"- {k}" for k in before if k not in after]
    return "; ".join(parts) or "(no change)"
