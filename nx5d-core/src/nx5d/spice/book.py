"""``proposal.spice``: seed, update, anchor, withdraw, view, history, resolve."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from nx5d.addressing.keys import validate_key
from nx5d.errors import (
    InvalidKeyError,
    SpiceError,
    SpiceNotFoundError,
    SpiceValidationError,
    SpiceWarning,
)
from nx5d.spice.legacy import LEGACY_TYPES, settings_fields, settings_sources
from nx5d.spice.record import FORMAT_VERSION, SpiceRecord, new_record, now
from nx5d.spice.resolve import ScanOrder, applicable_anchor, branches, latest, resolve_view
from nx5d.spice.schema import declared_fields, is_open, validate
from nx5d.spice.store import SpiceStore
from nx5d.spice.view import SpiceHistory, SpiceView, ViewEntry, origin_of
from nx5d.suggestions import did_you_mean

if TYPE_CHECKING:
    from nx5d.model import Proposal, Scan

__all__ = ["SpiceBook"]


def _merge(payload: Mapping[str, Any] | None, data: Mapping[str, Any]) -> dict[str, Any]:
    if payload is not None and not isinstance(payload, Mapping):
        raise SpiceValidationError(f"spice payload must be a mapping, not {type(payload).__name__}")
    return {**(payload or {}), **data}


def _same(a: Any, b: Any) -> bool:
    """Whether two spice payloads hold the same fields (tuples and lists alike, as JSON stores them)."""
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


class SpiceBook:
    """The spice of one proposal (``proposal.spice``).

    Every change writes a new immutable record; nothing is ever modified or
    deleted.  Scans can be named by key, by handle, or by the scan object.
    Methods that write return the resulting record as a plain dict.
    """

    def __init__(self, proposal: Proposal) -> None:
        self.proposal = proposal

    @property
    def store(self) -> SpiceStore:
        """Where this proposal's records live."""
        return self.proposal.repository.spice_store

    @property
    def _key(self) -> str:
        return self.proposal.key

    # --- reading ---------------------------------------------------------------

    def _stored(self) -> list[SpiceRecord]:
        """The store's records, nx5d 3.x anchors that name a scan by its handle given as its key."""
        records = self.store.records(self._key)
        if all(r.version == FORMAT_VERSION for r in records):
            return records
        listing = self.proposal.listing()
        by_handle = {handle: key for key, handle in listing.items()}
        out = []
        for record in records:
            if record.version != FORMAT_VERSION and record.anchor and record.anchor not in listing:
                key = by_handle.get(record.anchor)
                if key is not None:
                    record = attrs.evolve(record, anchor=key)
            out.append(record)
        return out

    def records(self) -> list[SpiceRecord]:
        """Every readable record of the proposal, in scan order of anchors, then revision."""
        order = self._order()
        return sorted(self._stored(), key=lambda r: (r.handle, order.position(r.anchor), r.revision))

    def _order(self) -> ScanOrder:
        return ScanOrder(list(self.proposal.listing()))

    def _handle_of(self, key: str) -> str:
        return self.proposal.listing().get(key, key)

    def view(self, scan: Scan | str) -> SpiceView:
        """The spice applying at ``scan``: per handle, the latest revision of the nearest branch."""
        viewpoint = self.proposal.scan_key(scan)
        resolutions = resolve_view(self._stored(), self._order(), viewpoint)
        defaults = self.proposal.default_spice()
        handles = sorted(set(resolutions) | set(defaults))
        entries = {h: ViewEntry(h, resolutions.get(h), defaults.get(h)) for h in handles}
        return SpiceView(viewpoint, self._handle_of(viewpoint), self._with_nx5d3(entries))

    def _with_nx5d3(self, entries: dict[str, ViewEntry]) -> dict[str, ViewEntry]:
        """``entries`` with nx5d 3.x's ``exp_info``, ``image`` and ``qargs`` fields in the settings they cook with.

        Where no nx5d record gives a field, they replace the beamline's
        default, as the ``legacy_spice`` extension does when cooking, and say
        which 3.x record they come from.
        """
        legacy: dict[str, dict[str, Any]] = {}
        for name, found in entries.items():
            data = found.data if name in LEGACY_TYPES and found.clean and found.resolution is not None else None
            if data:
                legacy[name] = data
        if not legacy:
            return entries
        declaration = self.proposal.repository.declaration
        handle = declaration.cooking.settings if declaration is not None and declaration.cooking else "settings"
        entry = entries.get(handle, ViewEntry(handle, None, None))
        schema = self.proposal.spice_schemas().get(handle)
        fields, _ = settings_fields(legacy)
        record = None if entry.resolution is None or not entry.clean else entry.resolution.record.data
        given = set(record or {})
        known = set(attrs.fields_dict(schema)) if schema is not None and attrs.has(schema) else set(fields)
        chosen = {k: v for k, v in fields.items() if k in known and k not in given}
        sources = settings_sources(legacy)
        origins = {k: f"{sources[k]} {origin_of(entries[sources[k]].resolution)} (nx5d 3.x)" for k in chosen}
        return {
            **entries,
            handle: attrs.evolve(entry, defaults={**(entry.defaults or {}), **chosen}, translated=origins),
        }

    def history(self, handle: str) -> SpiceHistory:
        """Every record of ``handle``: its branches and revisions, conflicts marked."""
        rows = self._rows([r for r in self.records() if r.handle == handle])
        if not rows:
            raise SpiceNotFoundError(f"proposal {self._key!r} has no spice {handle!r}")
        return SpiceHistory(f"spice {handle!r} of proposal {self._key}", rows)

    def ls(self) -> SpiceHistory:
        """Every record of the proposal."""
        return SpiceHistory(f"spice of proposal {self._key} ({self.store.description})", self._rows(self.records()))

    def _rows(self, records: list[SpiceRecord]) -> list[dict[str, Any]]:
        counts: dict[tuple[str, str, int], int] = {}
        for r in records:
            counts[(*r.branch, r.revision)] = counts.get((*r.branch, r.revision), 0) + 1
        return [{**r.to_dict(), "conflict": counts[(*r.branch, r.revision)] > 1} for r in records]

    # --- writing ---------------------------------------------------------------

    def _schema(self, type_name: str) -> type | None:
        return self.proposal.spice_schemas().get(type_name)

    def _validate(self, record: SpiceRecord) -> None:
        if record.data is None:
            return
        schema = self._schema(record.type)
        if schema is not None:
            validate(schema, record.data, f"spice {record.handle!r} of proposal {self._key!r}")

    def _write(self, record: SpiceRecord) -> dict[str, Any]:
        self._validate(record)
        self.store.write(self._key, record)
        return record.to_dict()

    def seed(
        self,
        handle: str,
        payload: Mapping[str, Any] | None = None,
        *,
        type: str | None = None,  # noqa: A002 - the record field's name
        exist_ok: bool = True,
        author: str | None = None,
        note: str | None = None,
        **data: Any,
    ) -> dict[str, Any]:
        """Create revision 1 of ``handle`` for the whole proposal (anchor ``''``).

        Idempotent: if ``handle`` was seeded before, the existing latest record
        is returned and nothing is written (``exist_ok=False`` raises instead);
        a [`SpiceWarning`][nx5d.errors.SpiceWarning] says so when these fields
        differ from the first seed's (re-running a notebook stays quiet).
        ``payload`` takes fields whose names are not valid keywords.
        """
        fields = _merge(payload, data)
        record, seeded = self._seed(handle, fields, type=type, exist_ok=exist_ok, author=author, note=note)
        if seeded == "other":
            warnings.warn(
                f"spice {handle!r} of proposal {self._key!r} was seeded before with other fields; "
                "nothing written, its latest revision stays (change it with spice.update)",
                SpiceWarning,
                stacklevel=2,
            )
        return record

    def _seed(
        self,
        handle: str,
        fields: dict[str, Any],
        *,
        type: str | None,  # noqa: A002 - the record field's name
        exist_ok: bool,
        author: str | None,
        note: str | None,
    ) -> tuple[dict[str, Any], str]:
        """Seed ``handle`` unless seeded before: the record, and ``written``, ``same`` or ``other`` (its first seed)."""
        with self.store.transaction(self._key):
            existing = branches(self._stored()).get((handle, ""))
            if existing:
                if not exist_ok:
                    raise SpiceError(f"spice {handle!r} of proposal {self._key!r} is already seeded")
                first_same = any(r.revision == 1 and _same(r.data, fields) for r in existing)
                return latest(existing).record.to_dict(), "same" if first_same else "other"
            record = new_record(
                type=type or handle, handle=handle, revision=1, anchor="", data=fields, author=author, note=note
            )
            return self._write(record), "written"

    def import_nx5d3(self, folder: str) -> list[dict[str, Any]]:
        """Write every nx5d 3.x record in ``folder`` (a URL or path) again in nx5d's format; returns those written.

        Each keeps its uuid, type, handle, revision and data; an anchor naming
        a scan by handle (or number) becomes its key where the proposal has
        that scan.  Records imported before are skipped, nothing in
        ``folder`` is changed, and files that are not 3.x records are named
        in a [`SpiceWarning`][nx5d.errors.SpiceWarning].  The data keeps 3.x's field
        names; cooking reads them through [`nx5d.spice.legacy`][nx5d.spice.legacy].
        """
        from nx5d.spice.store import FileSpiceStore

        url = folder if "://" in folder else "file://" + os.path.abspath(os.path.expanduser(folder))
        escaped = url.rstrip("/").replace("{", "{{").replace("}", "}}")
        source = FileSpiceStore([escaped + "/{proposal}"], getattr(self.store, "storage", None))
        found = [r for r in source.records_in(url) if r.version != FORMAT_VERSION]
        listing = self.proposal.listing(refresh=True)
        by_handle = {handle: key for key, handle in listing.items()}
        written = []
        with self.store.transaction(self._key):
            # records read from 3.x's files (the proposal's own spice folder may hold them) are not imported yet
            known = {r.uuid for r in self.store.records(self._key) if r.version == FORMAT_VERSION}
            for legacy in sorted(found, key=lambda r: (r.handle, r.anchor, r.revision)):
                if legacy.uuid in known:
                    continue
                anchor = (
                    legacy.anchor if legacy.anchor in listing or not legacy.anchor else by_handle.get(legacy.anchor)
                )
                if anchor is None:
                    warnings.warn(
                        f"{url}: record {legacy.uuid} is anchored at {legacy.anchor!r}, which names no scan of "
                        f"proposal {self._key!r}; it keeps that anchor (placed by its name among the scans)",
                        SpiceWarning,
                        stacklevel=2,
                    )
                    anchor = legacy.anchor
                try:
                    for part in [legacy.handle, legacy.type, *(anchor.split("/") if anchor else ())]:
                        validate_key(part, "spice handle, type or anchor")
                except InvalidKeyError as exc:
                    warnings.warn(f"{url}: record {legacy.uuid} not imported: {exc}", SpiceWarning, stacklevel=2)
                    continue
                record = attrs.evolve(
                    legacy, anchor=anchor, version=FORMAT_VERSION, created=now(), note=f"imported from nx5d 3.x: {url}"
                )
                self.store.write(self._key, record)
                written.append(record.to_dict())
        return written

    def presets(self) -> dict[str, str]:
        """The spice presets the beamline offers: ``{name: description}``."""
        declaration = self.proposal.repository.declaration
        return {} if declaration is None else {n: p.description for n, p in declaration.presets.items()}

    def seed_preset(self, name: str, *, author: str | None = None, note: str | None = None) -> list[dict[str, Any]]:
        """Seed every record of the beamline's preset ``name`` (see `presets`); returns the records.

        Like `seed`, idempotent: a handle seeded before keeps its
        record, and a [`SpiceWarning`][nx5d.errors.SpiceWarning] names it
        when that record's fields are not the preset's.
        """
        declaration = self.proposal.repository.declaration
        preset = None if declaration is None else declaration.presets.get(name)
        if preset is None:
            known = ", ".join(self.presets()) or "none"
            raise SpiceNotFoundError(
                f"the beamline of proposal {self._key!r} has no spice preset {name!r}; presets: {known}"
            )
        out = []
        for handle, data in preset.spice.items():
            fields = dict(data)
            record, seeded = self._seed(
                handle, fields, type=None, exist_ok=True, author=author, note=note or f"preset {name}"
            )
            if seeded != "written" and not _same(record["data"], fields):
                warnings.warn(
                    f"spice {handle!r} of proposal {self._key!r} was seeded before and is now at revision "
                    f"{record['revision']}; preset {name!r} left it (change it with spice.update)",
                    SpiceWarning,
                    stacklevel=2,
                )
            out.append(record)
        return out

    def update(
        self,
        target: Scan | str,
        handle: str | None = None,
        /,
        payload: Mapping[str, Any] | None = None,
        *,
        allow_new: bool = False,
        author: str | None = None,
        note: str | None = None,
        **data: Any,
    ) -> dict[str, Any]:
        """Write a new revision of the branch of ``handle`` that applies at scan ``target`` (``''``: the seed's).

        ``update(uuid_prefix, **data)`` (no handle) updates the branch of the
        record whose uuid starts with ``uuid_prefix``.  Fields not present
        already (or declared by the type's schema) are refused unless
        ``allow_new``; when nothing changes, nothing
        is written and the current record is returned.
        """
        changes = _merge(payload, data)
        with self.store.transaction(self._key):
            records = self._stored()
            handle, anchor = self._branch_of(records, target, handle)
            current = latest(branches(records)[(handle, anchor)]).record
            if current.data is None:
                raise SpiceError(
                    f"spice {handle!r} is withdrawn from {anchor or 'the proposal start'!r} on; "
                    f"seed it or anchor it again before updating"
                )
            schema = self._schema(current.type)
            unknown = sorted(set(changes) - set(current.data) - declared_fields(schema))
            if unknown and not allow_new and not (schema is not None and is_open(schema)):
                raise SpiceValidationError(
                    f"spice {handle!r} has no field(s) {', '.join(unknown)}"
                    f"{did_you_mean(unknown, {*current.data, *declared_fields(schema)})} "
                    f"(fields: {', '.join(current.data)}); pass allow_new=True to add fields"
                )
            merged = {**current.data, **changes}
            if _same(merged, current.data):
                return current.to_dict()
            record = new_record(
                type=current.type,
                handle=handle,
                revision=current.revision + 1,
                anchor=anchor,
                data=merged,
                author=author,
                note=note,
            )
            return self._write(record)

    def anchor(self, scan: Scan | str, handle: str, *, author: str | None = None, note: str | None = None) -> dict:
        """Start a new branch of ``handle`` from ``scan`` on, carrying the data that applies there.

        If a branch is already anchored at ``scan`` its latest record is returned.
        """
        viewpoint = self.proposal.scan_key(scan)
        with self.store.transaction(self._key):
            grouped = branches(self._stored())
            if (handle, viewpoint) in grouped:
                return latest(grouped[(handle, viewpoint)]).record.to_dict()
            source = applicable_anchor(grouped, self._order(), handle, viewpoint)
            if source is None:
                raise SpiceNotFoundError(f"no spice {handle!r} applies at scan {viewpoint!r}; seed it first")
            current = latest(grouped[(handle, source)]).record
            record = new_record(
                type=current.type,
                handle=handle,
                revision=1,
                anchor=viewpoint,
                data=current.data,
                author=author,
                note=note,
            )
            return self._write(record)

    def withdraw(self, scan: Scan | str, handle: str, *, author: str | None = None, note: str | None = None) -> dict:
        """Withdraw ``handle`` from ``scan`` on (``''``: for the whole proposal); defaults apply again."""
        viewpoint = self._viewpoint(scan)
        with self.store.transaction(self._key):
            grouped = branches(self._stored())
            source = self._applicable(grouped, handle, viewpoint)
            if source is None:
                raise SpiceNotFoundError(f"no spice {handle!r} applies at {viewpoint or 'the proposal start'!r}")
            current = latest(grouped[(handle, source)]).record
            if current.data is None:
                return current.to_dict()
            revision = current.revision + 1 if source == viewpoint else 1
            record = new_record(
                type=current.type,
                handle=handle,
                revision=revision,
                anchor=viewpoint,
                data=None,
                author=author,
                note=note,
            )
            return self._write(record)

    def resolve(
        self,
        target: Scan | str,
        handle: str | None = None,
        /,
        payload: Mapping[str, Any] | None = None,
        *,
        keep: str | None = None,
        author: str | None = None,
        note: str | None = None,
        **data: Any,
    ) -> dict[str, Any]:
        """End a conflict by writing the next revision of the conflicting branch.

        Name the branch by scan and handle, or by a uuid prefix of one of the
        conflicting records (which is then kept).  ``keep=uuid_prefix`` chooses
        the record whose data continues; ``**data`` / ``payload`` change or
        give the data explicitly.
        """
        changes = _merge(payload, data)
        by_uuid = handle is None
        with self.store.transaction(self._key):
            records = self._stored()
            handle, anchor = self._branch_of(records, target, handle)
            state = latest(branches(records)[(handle, anchor)])
            if state.clean:
                return state.record.to_dict()
            if keep is None and by_uuid and any(u.startswith(str(target)) for u in state.uuids):
                keep = str(target)
            base: dict[str, Any] = {}
            if keep is not None:
                chosen = [r for r in state.records if r.uuid.startswith(keep)]
                if len(chosen) != 1:
                    raise SpiceNotFoundError(f"{keep!r} names none or several of the conflicting records {state.uuids}")
                base = dict(chosen[0].data or {})
            elif not changes:
                raise SpiceError(
                    f"spice {handle!r} conflicts between {', '.join(state.uuids)}; say which to keep (keep=...) "
                    f"or give the data"
                )
            record = new_record(
                type=state.records[0].type,
                handle=handle,
                revision=state.revision + 1,
                anchor=anchor,
                data={**base, **changes},
                author=author,
                note=note,
            )
            return self._write(record)

    def _branch_of(self, records: list[SpiceRecord], target: Scan | str, handle: str | None) -> tuple[str, str]:
        """``(handle, anchor)`` named by a scan + handle, or by a uuid prefix."""
        grouped = branches(records)
        if handle is None:
            if not isinstance(target, str) or len(target) < 4:
                raise SpiceError("name a spice branch by (scan, handle) or by a uuid prefix of at least 4 characters")
            found = {r.branch for r in records if r.uuid.startswith(target)}
            if not found:
                raise SpiceNotFoundError(f"no spice record of proposal {self._key!r} has a uuid starting {target!r}")
            if len(found) > 1:
                raise SpiceError(f"uuid prefix {target!r} matches records of several branches; give more characters")
            return found.pop()
        viewpoint = self._viewpoint(target)
        anchor = self._applicable(grouped, handle, viewpoint)
        if anchor is None:
            where = f"scan {viewpoint!r}" if viewpoint else "the proposal start"
            raise SpiceNotFoundError(f"no spice {handle!r} applies at {where}; seed it first")
        return handle, anchor

    def _viewpoint(self, scan: Scan | str) -> str:
        """The key of ``scan``, or ``''`` for the proposal as a whole (its start, where seeds apply)."""
        return "" if isinstance(scan, str) and scan == "" else self.proposal.scan_key(scan)

    def _applicable(self, grouped: dict[tuple[str, str], list[SpiceRecord]], handle: str, viewpoint: str) -> str | None:
        """The anchor of the branch of ``handle`` that applies at ``viewpoint`` (``''``: the proposal's own)."""
        if viewpoint:
            return applicable_anchor(grouped, self._order(), handle, viewpoint)
        return "" if (handle, "") in grouped else None

    # --- display -----------------------------------------------------------------

    def __repr__(self) -> str:
        return repr(self.ls())

    def _repr_html_(self) -> str:
        return self.ls()._repr_html_()
