"""The extension ``scan_index``: listings and summaries remembered across sessions.

A new session's ``proposal.summaries()`` (the scan table) reads every
scan's summary, and listing a scan file (the scans of a SPEC file, the
entries of an HDF5 file) reads the file: for a 1,800-scan beamtime, seconds
in every new process.  This extension, announced in the
``nx5d.extensions`` entry point group, keeps both in a database, the
**scan index**, and answers [`nx5d_listed`][nx5d.plugins.hookspecs.nx5d_listed]
and [`nx5d_summarised`][nx5d.plugins.hookspecs.nx5d_summarised] from it.

Every row is keyed by the URL of the scan (or of the pattern listed) and
holds the [data identity][nx5d.io.identity] of the files it was read from
(size, modification and change time and inode locally; size, ETag and
modification time remotely), the beamline, its distribution's version and
nx5d's: a row is used only while all of these are the same, so a changed
file is read again, and nothing else.  Rows are kept for repositories read
by a beamline plugin (not for code of the subclassing API), whose data
identity is known, and whose value JSON gives back exactly (a summary
holding tuples or dates is read each time).  No storage option (and so no
credential) is ever stored: rows hold URLs, states and summaries.

**Where.** ``NX5D_INDEX`` (or ``nx5d.scan_index.location = ...``):

* unset: per user, ``index.sqlite3`` in nx5d's cache folder (``NX5D_CACHE_DIR``,
  else ``$XDG_CACHE_HOME/nx5d``, else ``~/.cache/nx5d``), created private;
* a folder (``/beamtimes/index/``, ``file:///beamtimes/index/``): the file
  ``nx5d-index.sqlite3`` in it, shared by everyone who names it;
* a file path: that SQLite file;
* ``postgresql://user@host/database``: a PostgreSQL server (the ``psycopg``
  client: ``pip install './nx5d-index[postgresql]'``), for a facility;
* ``off``: no index.

**Untrusted input.**  Every row carries a digest of its fields, checked
when read: a damaged row is read again from the files.  A file that is not
a database of the index, or a damaged one, is removed and built anew with a
[`CacheWarning`][nx5d.errors.CacheWarning]; an index that cannot be opened or
written (a read-only folder, a server that does not answer) is left alone
for the rest of the process, with a warning; one locked by another process
longer than the timeout is skipped for that call.  None of these changes an
answer: what the index cannot give is read from the files.
"""

from __future__ import annotations

import json
import os
import threading
import warnings
from collections.abc import Callable, Generator, Sequence
from typing import Any, TypeVar

from nx5d.errors import CacheWarning
from nx5d.plugins import ListOrder, Loaded, ProposalRef, RepositoryRef, ScanRef, SummaryOrder, hookimpl
from nx5d.toolkit import DataIdentity, Storage, cache_home, redact, trusted, unchanged_among
from nx5d_index.database import Database, IndexBusy, IndexDamaged, IndexUnavailable, Row, is_server_url, open_database

__all__ = ["ScanIndex", "scan_index", "ENVIRONMENT", "FILE_NAME"]

T = TypeVar("T")

#: The environment variable naming the index's location.
ENVIRONMENT = "NX5D_INDEX"
#: The file an index in a named folder is kept in.
FILE_NAME = "nx5d-index.sqlite3"
_OFF = ("off", "0", "no", "false", "none")


def _as_json(value: Any) -> str | None:
    """``value`` as JSON text if it reads back equal to ``value`` (numpy scalars as numbers), else ``None``."""

    def plain(item: Any) -> Any:
        if type(item).__module__ == "numpy" and hasattr(item, "item") and not getattr(item, "shape", ()):
            return item.item()
        raise TypeError(type(item).__name__)

    try:
        text = json.dumps(value, default=plain, allow_nan=True)
    except (TypeError, ValueError, RecursionError):
        return None
    return text if json.loads(text) == value else None


def _identity(text: str, parsed: dict[str, DataIdentity | None]) -> DataIdentity | None:
    """The identity in a row (parsed once per text); ``None`` if it is not one."""
    if text not in parsed:
        try:
            identity: DataIdentity | None = DataIdentity.from_json(text)
        except (ValueError, TypeError, RecursionError):
            identity = None
        parsed[text] = identity if identity is not None and identity.states else None
    return parsed[text]


def _keepable(identity: DataIdentity | None) -> bool:
    return (
        identity is not None
        and bool(identity.states)
        and all(trusted(s) or s[0] == "absent" for _, s in identity.states)
    )


class ScanIndex:
    """The scan index of this process (``nx5d.scan_index``; see the module documentation)."""

    def __init__(self) -> None:
        self._given: str | None = None
        self._database_: Database | None = None
        self._pid = os.getpid()
        self._off: set[str] = set()
        self._lock = threading.RLock()

    # --- where -----------------------------------------------------------------------

    @property
    def location(self) -> str | None:
        """The SQLite file or PostgreSQL URL of the index; ``None`` when it is off.

        Set it to a folder, a file, a ``postgresql://`` URL or ``"off"``;
        ``None`` goes back to ``NX5D_INDEX`` (or the per-user default).
        """
        given = (self._given if self._given is not None else os.environ.get(ENVIRONMENT, "")).strip()
        if given.lower() in _OFF:
            return None
        if not given:
            return os.path.join(cache_home(), "index.sqlite3")
        if is_server_url(given):
            return given
        path = os.path.expanduser(Storage.local_path(given) or given)
        if os.path.isdir(path) or path.endswith(("/", os.sep)):
            return os.path.join(path, FILE_NAME)
        return path

    @location.setter
    def location(self, value: str | os.PathLike[str] | None) -> None:
        self._given = None if value is None else os.fspath(value)
        self._off.clear()

    @property
    def private(self) -> bool:
        """Whether the index is the per-user default (kept private), not one named to share it."""
        given = self._given if self._given is not None else os.environ.get(ENVIRONMENT, "")
        return not given.strip()

    @property
    def enabled(self) -> bool:
        """Whether the index is used (``nx5d.scan_index.enabled = False`` turns it off for the session)."""
        location = self.location
        return location is not None and location not in self._off

    @enabled.setter
    def enabled(self, value: bool) -> None:
        self.location = None if value else "off"

    # --- the database, its failures handled ------------------------------------------

    def _database(self) -> Database | None:
        location = self.location
        if location is None or location in self._off:
            return None
        db = self._database_
        if db is None or db.location != location or self._pid != os.getpid():
            db = self._database_ = open_database(location, private=self.private)
            self._pid = os.getpid()
        return db

    def _use(self, action: Callable[[Database], T], default: T) -> T:
        """``action(database)``; what the database cannot give is ``default`` (see the module documentation)."""
        with self._lock:
            db = self._database()
            if db is None:
                return default
            for _ in range(2):
                try:
                    result = action(db)
                except IndexBusy:
                    return default
                except IndexUnavailable as exc:
                    self._off.add(db.location)
                    _warn(f"{exc}; listings and summaries are read from the files for the rest of this session")
                    return default
                except IndexDamaged as exc:
                    _warn(f"{exc}: removed and built anew; summaries are read again as needed")
                    try:
                        db.remove()
                    except OSError as error:
                        self._off.add(db.location)
                        _warn(f"cannot remove the damaged scan index {redact(db.location)}: {error.strerror}")
                        return default
                    continue
                if db.damaged:
                    _warn(f"{db.damaged} damaged row(s) of the scan index {redact(db.location)}: read again")
                    db.damaged = 0
                return result
            return default

    # --- listings ------------------------------------------------------------------

    def listing(self, url: str, kind: str, producer: str, storage: Storage) -> Loaded | None:
        """The listing remembered for the pattern ``url``, if what it was read from is unchanged."""
        rows: list[Row] = self._use(lambda db: db.rows(kind, urls=[url]), [])
        for row in rows:
            identity = _identity(row.identity, {})
            try:
                value = json.loads(row.value)
                keys, skipped = value["keys"], value["skipped"]
            except (ValueError, TypeError, KeyError, RecursionError):
                continue
            if row.producer != producer or identity is None or not _all_text(keys) or not _all_text(skipped):
                continue
            if unchanged_among([identity], storage)[0]:
                return Loaded((keys, skipped), identity)
        return None

    def keep_listing(self, repository: RepositoryRef, order: ListOrder, listed: Loaded) -> None:
        """Remember a listing read now (if its identity is known)."""
        keys, skipped = listed.data
        value = _as_json({"keys": list(keys), "skipped": list(skipped)})
        if value is None or not _keepable(listed.identity) or order.pattern is None:
            return
        kind = "proposals" if order.proposal is None else "scans"
        row = Row(
            kind,
            order.pattern.text,
            repository.url,
            order.proposal or "",
            "",
            order.producer,
            listed.identity.to_json(),  # type: ignore[union-attr]
            value,
        )
        self._use(lambda db: db.put([row]), None)

    # --- summaries -------------------------------------------------------------------

    def summaries(self, proposal: ProposalRef, scans: Sequence[ScanRef], producer: str) -> dict[str, Loaded]:
        """``{key: Loaded(summary, identity)}`` remembered for ``scans`` whose files are unchanged."""
        if not scans:
            return {}
        repository = proposal.repository.url
        if len(scans) == 1:
            rows: list[Row] = self._use(lambda db: db.rows("summary", urls=[scans[0].url]), [])
        else:
            rows = self._use(lambda db: db.rows("summary", repository=repository, proposal=proposal.key), [])
        # rows of this repository and proposal, by scan key (formatting each scan's URL costs more than the lookup)
        by_key = {
            row.scan: row
            for row in rows
            if row.producer == producer and row.repository == repository and row.proposal == proposal.key
        }
        parsed: dict[str, DataIdentity | None] = {}
        candidates = []
        for scan in scans:
            row = by_key.get(scan.key)
            identity = None if row is None else _identity(row.identity, parsed)
            if row is None or identity is None:
                continue
            try:
                value = json.loads(row.value)
            except (ValueError, RecursionError):
                continue
            if isinstance(value, dict):  # JSON's keys are text
                candidates.append((scan.key, value, identity))
        fresh = unchanged_among([identity for _, _, identity in candidates], proposal.storage)
        return {
            key: Loaded(value, identity) for (key, value, identity), ok in zip(candidates, fresh, strict=True) if ok
        }

    def keep_summaries(self, proposal: ProposalRef, read: Sequence[tuple[ScanRef, Loaded]], producer: str) -> None:
        """Remember summaries read now (those whose identity is known and whose value JSON holds exactly)."""
        rows = []
        for scan, loaded in read:
            value = _as_json(loaded.data)
            if value is None or not _keepable(loaded.identity) or not scan.url:
                continue
            identity = loaded.identity.to_json()  # type: ignore[union-attr]
            rows.append(
                Row("summary", scan.url, proposal.repository.url, proposal.key, scan.key, producer, identity, value)
            )
        self._use(lambda db: db.put(rows), None)

    def rows(self, repository: str, proposal: str | None = None) -> list[tuple[str, str, dict[str, Any]]]:
        """``(proposal, scan, summary)`` of every summary the index holds for ``repository`` (and ``proposal``).

        As remembered: the files are not looked at (see [`nx5d.Repository.search`][nx5d.Repository.search]'s ``fresh``).
        """
        found: list[Row] = self._use(lambda db: db.rows("summary", repository=repository, proposal=proposal), [])
        out = []
        for row in found:
            try:
                value = json.loads(row.value)
            except (ValueError, RecursionError):
                continue
            if isinstance(value, dict):
                out.append((row.proposal, row.scan, value))
        return out

    # --- housekeeping ----------------------------------------------------------------

    def clear(self) -> None:
        """Delete every row."""
        self._use(lambda db: db.clear(), None)

    def __len__(self) -> int:
        return self._use(lambda db: db.count(), 0)

    @property
    def nbytes(self) -> int:
        """The bytes the index takes (its file, or its table on the server)."""
        return self._use(lambda db: db.nbytes, 0)

    def __repr__(self) -> str:
        location = self.location
        if location is None:
            return "ScanIndex(off)"
        state = "" if self.enabled else ", not usable in this session"
        return f"ScanIndex({redact(location)}{state})"


def _all_text(items: Any) -> bool:
    return isinstance(items, list | dict) and all(isinstance(item, str) for item in items)


def _warn(message: str) -> None:
    warnings.warn(redact(message), CacheWarning, stacklevel=5)


#: The process's scan index (``nx5d.scan_index``).
scan_index = ScanIndex()


def _kind(order: ListOrder) -> str:
    return "proposals" if order.proposal is None else "scans"


@hookimpl(specname="nx5d_listed", tryfirst=True)
def listed_from_index(repository: RepositoryRef, order: ListOrder) -> Loaded | None:
    """The listing remembered in the index, if the files it was read from are unchanged."""
    if not order.keep or order.pattern is None or not scan_index.enabled:
        return None
    found = scan_index.listing(order.pattern.text, _kind(order), order.producer, repository.storage)
    if found is not None:
        order.source = "index"
    return found


@hookimpl(specname="nx5d_listed", wrapper=True)
def keep_listing(repository: RepositoryRef, order: ListOrder) -> Generator[None, Loaded, Loaded]:
    """Remember a listing read now."""
    listed = yield
    if order.keep and order.source != "index" and scan_index.enabled:
        scan_index.keep_listing(repository, order, listed)
    return listed


@hookimpl(specname="nx5d_summarised", wrapper=True)
def summarised_with_index(
    proposal: ProposalRef, order: SummaryOrder
) -> Generator[None, dict[str, Any], dict[str, Any]]:
    """Add the remembered summaries to ``order.found`` before the rest are read; remember those read."""
    use = order.keep and proposal.pattern is not None and scan_index.enabled
    if use:
        wanted = [scan for scan in order.scans if scan.key not in order.found]
        known = scan_index.summaries(proposal, wanted, order.producer)
        order.found.update(known)
        order.remembered.update(known)
    found = yield
    if use:
        read = [
            (scan, found[scan.key])
            for scan in order.scans
            if scan.key not in order.remembered and isinstance(found.get(scan.key), Loaded)
        ]
        scan_index.keep_summaries(proposal, read, order.producer)
    return found
