"""Where spice records live: in memory, or one JSON file per record.

On-disk records are never overwritten or deleted by nx5d.  A record is
written to a hidden temporary file (exclusive create, fsync) and then
hard-linked to its final name ``<uuid>.json`` -- a step that is atomic and
fails instead of replacing an existing file.  Writers to one local folder
serialise through an advisory lock (``.lock``); where locking is not available
(object stores), concurrent writers may create two records of the same
revision, which readers report as a conflict instead of choosing one.

Files that cannot be read as records are reported with a `SpiceWarning`
naming their path, skipped, and left untouched.

Records written by nx5d 3.x (files named by their uuid, without an
extension: [`nx5d.spice.legacy`][nx5d.spice.legacy]) are read beside nx5d's own, never
written; where a folder holds both a 3.x record and its import (the same
uuid and content), the import is the one used.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import stat
import threading
import warnings
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from nx5d.addressing.url import UrlPattern
from nx5d.errors import (
    MissingDataError,
    NotSupportedError,
    SpiceError,
    SpiceValidationError,
    SpiceWarning,
    StorageError,
    UrlPatternError,
)
from nx5d.io.storage import Storage, join_url
from nx5d.io.temporaries import missing_folders, sweep, temporary_name
from nx5d.spice.legacy import UUID_NAME, from_nx5d3
from nx5d.spice.record import FORMAT_VERSION, SpiceRecord

__all__ = [
    "SpiceStore",
    "MemorySpiceStore",
    "DryRunSpiceStore",
    "FileSpiceStore",
    "default_locations",
    "user_spice_home",
    "make_store",
]

SPICE_FOLDER = "spice"
_RECORD_NAME = re.compile(r"^[^.].*\.json$")


def _is_record_name(name: str) -> bool:
    """Whether a file name is a record's: ``<uuid>.json``, or an nx5d 3.x record's bare uuid."""
    return bool(_RECORD_NAME.match(name) or UUID_NAME.fullmatch(name))


class SpiceStore(Protocol):
    """What the spice API needs from a store."""

    description: str

    def records(self, proposal: str) -> list[SpiceRecord]:
        """Every readable record of ``proposal``."""

    def transaction(self, proposal: str) -> contextlib.AbstractContextManager[None]:
        """Exclusive access for one read-decide-write step, where the store can provide it."""

    def write(self, proposal: str, record: SpiceRecord) -> None:
        """Store a new record (never replacing one)."""


class _Locked:
    """A store whose threads take turns through ``_lock``; pickled without it, it gets a lock of its own."""

    _lock: threading.RLock

    def __getstate__(self) -> dict[str, Any]:
        return {name: value for name, value in self.__dict__.items() if name != "_lock"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _lock=threading.RLock())


class MemorySpiceStore(_Locked):
    """Records kept in this process only (``spice_url=''``); a pickled copy holds a copy of them."""

    description = "in memory"

    def __init__(self) -> None:
        self._records: dict[str, list[SpiceRecord]] = {}
        self._lock = threading.RLock()

    def records(self, proposal: str) -> list[SpiceRecord]:
        with self._lock:
            return list(self._records.get(proposal, ()))

    @contextlib.contextmanager
    def transaction(self, proposal: str) -> Iterator[None]:
        with self._lock:
            yield

    def write(self, proposal: str, record: SpiceRecord) -> None:
        with self._lock:
            existing = self._records.setdefault(proposal, [])
            if any(r.uuid == record.uuid for r in existing):
                raise SpiceError(f"a spice record {record.uuid} exists already")
            existing.append(record)


class DryRunSpiceStore:
    """A store's records, with new ones kept in memory only: trying spice changes without writing them.

    Everything reads as if the new records had been written (views, cooking,
    histories); nothing reaches the underlying store.  `pending` holds
    what would have been written.
    """

    def __init__(self, base: SpiceStore) -> None:
        self.base = base
        self.added = MemorySpiceStore()
        self.description = f"dry run over {base.description}: nothing is written"

    def records(self, proposal: str) -> list[SpiceRecord]:
        return [*self.base.records(proposal), *self.added.records(proposal)]

    def transaction(self, proposal: str) -> contextlib.AbstractContextManager[None]:
        return self.added.transaction(proposal)

    def write(self, proposal: str, record: SpiceRecord) -> None:
        if any(r.uuid == record.uuid for r in self.base.records(proposal)):
            raise SpiceError(f"a spice record {record.uuid} exists already")
        self.added.write(proposal, record)

    def pending(self, proposal: str) -> list[SpiceRecord]:
        """The records a real store would have been given for ``proposal``."""
        return self.added.records(proposal)


#: Seconds a writer waits for another writer's lock on a spice folder.
LOCK_TIMEOUT = 120.0


def _make_folders(path: str) -> None:
    """Create ``path`` and missing parents; each new folder shares its parent's group write and set-group-id bits."""
    for folder in missing_folders(path):
        with contextlib.suppress(FileExistsError):
            os.mkdir(folder)
            inherited = os.stat(os.path.dirname(folder)).st_mode & (stat.S_IWGRP | stat.S_ISGID)
            if inherited & stat.S_IWGRP:
                mode = os.stat(folder).st_mode
                os.chmod(folder, stat.S_IMODE(mode) | stat.S_IRGRP | stat.S_IXGRP | inherited)


class _Folder:
    """One spice folder on some storage: list, read, create exclusively, lock."""

    def __init__(self, url: str, storage: Storage) -> None:
        self.url = url
        self.storage = storage
        self.path = Storage.local_path(url)

    # --- reading -------------------------------------------------------------

    def entries(self) -> list[tuple[str, Any]]:
        """``(name, version)`` of candidate record files; ``version`` changes when a file changes."""
        if self.path is not None:
            try:
                with os.scandir(self.path) as it:
                    out = []
                    for e in it:
                        if _is_record_name(e.name) and e.is_file():
                            st = e.stat()
                            out.append((e.name, (st.st_size, st.st_mtime_ns)))
                    return out
            except FileNotFoundError:
                return []
            except NotADirectoryError:
                raise
            except OSError as exc:
                raise StorageError(f"cannot list spice folder {self.url}: {exc}") from exc
        if not self.storage.exists(self.url):
            return []
        return [(e.name, None) for e in self.storage.ls(self.url) if not e.is_dir and _is_record_name(e.name)]

    def read(self, name: str) -> bytes:
        return self.storage.read_bytes(join_url(self.url, name))

    # --- writing -------------------------------------------------------------

    def prepare(self) -> bool:
        """Make sure the folder exists and records can be created in it (``False``: not here)."""
        if self.path is None:
            return self.url.split("://", 1)[0] not in ("http", "https")
        try:
            _make_folders(self.path)
        except OSError:
            return False
        return os.access(self.path, os.W_OK | os.X_OK)

    def _shared_mode(self, mode: int) -> int:
        """``mode`` with the folder's group and other permissions: a group-writable folder gets group-writable files."""
        try:
            folder = os.stat(self.path).st_mode  # type: ignore[arg-type]
        except OSError:
            return mode
        return (mode & 0o700) | (mode & folder & 0o077)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive lock between processes and threads (local folders; ``filelock``, so also on Windows).

        The lock file ``.lock`` is never followed when it is a symbolic link,
        and is made writable for the folder's group when the folder is, so
        every member of a group sharing the folder can take the lock.
        """
        if self.path is None:
            yield
            return
        import filelock

        path = os.path.join(self.path, ".lock")
        lock = filelock.FileLock(path, timeout=LOCK_TIMEOUT, mode=self._shared_mode(0o666))
        try:
            lock.acquire()
        except filelock.Timeout:
            raise SpiceError(
                f"spice folder {self.url} stayed locked by another writer for {LOCK_TIMEOUT:g} s ({path})"
            ) from None
        except OSError as exc:
            raise SpiceError(f"cannot lock spice folder {self.url} ({path}): {exc}") from exc
        try:
            yield
        finally:
            lock.release()

    def create(self, name: str, content: bytes) -> None:
        """Create ``name`` with ``content``; fail if it exists; the file appears whole or not at all."""
        if self.path is None:
            self._create_remote(name, content)
            return
        final = os.path.join(self.path, name)
        sweep(self.path)  # temporary files of writers that were killed
        tmp = temporary_name(final)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            if hasattr(os, "fchmod"):  # not on Windows
                os.fchmod(fd, self._shared_mode(0o644))
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, final)
            except FileExistsError:
                raise SpiceError(f"refusing to overwrite existing spice record {final}") from None
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV):
                    raise
                self._create_without_links(final, content)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        self._sync_folder()

    def _create_without_links(self, final: str, content: bytes) -> None:
        # File systems without hard links: exclusive create of the final name.
        fd = os.open(final, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())

    def _sync_folder(self) -> None:
        with contextlib.suppress(OSError):  # not every platform can fsync a directory
            fd = os.open(self.path, os.O_RDONLY)  # type: ignore[arg-type]
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def _create_remote(self, name: str, content: bytes) -> None:
        fs, path = self.storage.filesystem(join_url(self.url, name))
        try:
            with fs.open(path, "xb") as fh:
                fh.write(content)
        except FileExistsError:
            raise SpiceError(f"refusing to overwrite existing spice record {self.url}/{name}") from None
        except (NotImplementedError, ValueError):
            if fs.exists(path):
                raise SpiceError(f"refusing to overwrite existing spice record {self.url}/{name}") from None
            fs.pipe_file(path, content)


class FileSpiceStore(_Locked):
    """Records as JSON files, one per record, in a folder per proposal.

    Parameters
    ----------
    locations:
        Folder URL patterns containing ``{proposal}``.  Records are read from
        all of them; new records are written to the first writable one.
    storage:
        The repository's storage access (for remote locations).
    lock:
        Serialise writers to a local folder with an advisory lock (default).
        Without it, concurrent writers may produce conflicts (reported, never
        lost) -- as on storage where locks do not work.
    """

    def __init__(self, locations: Sequence[str], storage: Storage | None = None, *, lock: bool = True) -> None:
        if not locations:
            raise SpiceError("a file spice store needs at least one location")
        for loc in locations:
            try:
                UrlPattern(loc, required=("proposal",))
            except UrlPatternError as exc:
                raise SpiceError(f"spice location {loc!r} is not usable: {exc}") from exc
            if "{scan}" in loc:
                raise SpiceError(f"spice location {loc!r} must not contain {{scan}}: spice is kept per proposal")
        self.locations = list(locations)
        self.storage = storage or Storage()
        self.lock = lock
        self.description = ", ".join(self.locations)
        self._parsed: dict[tuple[str, str], tuple[Any, SpiceRecord | None]] = {}
        self._warned: set[tuple[str, Any]] = set()
        self._lock = threading.RLock()

    def folders(self, proposal: str) -> list[_Folder]:
        """The spice folders of ``proposal``, in reading order."""
        return [_Folder(UrlPattern(loc, required=()).format(proposal=proposal), self.storage) for loc in self.locations]

    def records(self, proposal: str) -> list[SpiceRecord]:
        found: dict[str, SpiceRecord] = {}
        for folder in self.folders(proposal):
            self._read_folder(folder, found)
        return list(found.values())

    def records_in(self, url: str) -> list[SpiceRecord]:
        """The readable records of one folder (nx5d's and nx5d 3.x's), e.g. to import them."""
        found: dict[str, SpiceRecord] = {}
        self._read_folder(_Folder(url, self.storage), found)
        return list(found.values())

    def _read_folder(self, folder: _Folder, found: dict[str, SpiceRecord]) -> None:
        try:
            entries = folder.entries()
        except NotADirectoryError:
            self._warn(folder.url, "", None, "it is a file, not a spice folder")
            return
        except StorageError as exc:
            self._warn(folder.url, "", None, f"the folder cannot be listed ({exc})")
            return
        for name, version in entries:
            record = self._parse(folder, name, version)
            if record is None:
                continue
            other = found.get(record.uuid)
            if other is not None and other != record:
                if _same_content(other, record):  # an nx5d 3.x record and its import: the import counts
                    found[record.uuid] = other if other.version == FORMAT_VERSION else record
                    continue
                self._warn(folder.url, name, version, f"uuid {record.uuid} is also used by a different record")
                continue
            found[record.uuid] = record

    def _parse(self, folder: _Folder, name: str, version: Any) -> SpiceRecord | None:
        key = (folder.url, name)
        with self._lock:
            cached = self._parsed.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
        where = join_url(folder.url, name)
        record: SpiceRecord | None = None
        try:
            data = folder.read(name)
        except MissingDataError:
            return None  # removed since the folder was listed
        except StorageError as exc:
            self._warn(folder.url, name, version, f"it cannot be read ({exc})")
            return None
        try:
            parsed = json.loads(data.decode("utf-8"))
            legacy = not name.endswith(".json")
            record = from_nx5d3(parsed, where) if legacy else SpiceRecord.from_dict(parsed, where)
            if name != (record.uuid if legacy else f"{record.uuid}.json"):
                raise SpiceValidationError(f"{where}: file name does not match the record's uuid {record.uuid}")
        except RecursionError:
            self._warn(folder.url, name, version, "not a readable spice record (nested too deeply)")
        except (ValueError, TypeError, SpiceValidationError) as exc:  # JSON, Unicode, and number-size errors
            self._warn(folder.url, name, version, f"not a readable spice record ({exc})")
            record = None
        with self._lock:
            self._parsed[key] = (version, record)
        return record

    def _warn(self, url: str, name: str, version: Any, message: str) -> None:
        key = (join_url(url, name), version)
        with self._lock:
            if key in self._warned:
                return
            self._warned.add(key)
        warnings.warn(f"skipping {join_url(url, name)}: {message}; the file is left untouched", SpiceWarning, 3)

    def _write_folder(self, proposal: str) -> _Folder:
        for folder in self.folders(proposal):
            if folder.prepare():
                return folder
        raise SpiceError(
            f"no writable spice location for proposal {proposal!r} among {', '.join(self.locations)}; "
            f"pass spice_url=... to nx5d.open"
        )

    @contextlib.contextmanager
    def transaction(self, proposal: str) -> Iterator[None]:
        folder = self._write_folder(proposal)
        with folder.lock() if self.lock else contextlib.nullcontext():
            yield

    def write(self, proposal: str, record: SpiceRecord) -> None:
        self._write_folder(proposal).create(f"{record.uuid}.json", record.to_json().encode("utf-8"))


def _same_content(a: SpiceRecord, b: SpiceRecord) -> bool:
    return (a.type, a.handle, a.revision, a.data) == (b.type, b.handle, b.revision, b.data)


def user_spice_home() -> str:
    """Per-user folder for spice of read-only repositories.

    ``$NX5D_SPICE_HOME``, else ``$XDG_DATA_HOME/nx5d/spice``, else
    ``~/.local/share/nx5d/spice``.
    """
    explicit = os.environ.get("NX5D_SPICE_HOME")
    if explicit:
        return explicit
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "nx5d", "spice")


def location_key(pattern: UrlPattern) -> str:
    """The repository's URL pattern written one way: what names its per-user spice folder.

    Spellings of the same place give the same key: the scheme in lower case,
    ``file://localhost/`` as ``file:///``, ``//`` and ``/./`` in the path as
    ``/``, an HTTP host in lower case.  A pattern already written this way is
    its own key.
    """
    netloc = pattern.netloc
    if pattern.scheme == "file" and netloc.lower() == "localhost":
        netloc = ""
    elif pattern.scheme in ("http", "https"):
        netloc = netloc.lower()
    segments = [s.template for s in pattern.path_segments if s.template not in ("", ".")]
    anchor = "" if pattern.anchor is None else "#" + pattern.anchor
    return f"{pattern.scheme}://{netloc}/" + "/".join(segments) + anchor


def default_locations(pattern: UrlPattern) -> list[str]:
    """Default spice folders of a repository: beside the proposal's data, then a user folder.

    Beside the data means a ``spice`` folder in the proposal's folder (for
    ``.../{proposal}/{scan}`` layouts: ``.../{proposal}/spice``), or
    ``spice/{proposal}`` next to a per-proposal or shared document.  The user
    folder (see `user_spice_home`) takes records when the data folder is
    read-only; both are always read, so records are found wherever they went.
    """
    if pattern.scheme not in ("file", "s3", "http", "https"):
        raise NotSupportedError(f"no default on-disk spice location for {pattern.scheme}:// repositories")
    segments = [s.template for s in pattern.path_segments]
    first = next((i for i, s in enumerate(pattern.path_segments) if "proposal" in s.fields), None)
    if first is not None and first < len(segments) - 1:
        beside = segments[: first + 1] + [SPICE_FOLDER]
    elif first is not None:
        beside = segments[:first] + [SPICE_FOLDER, "{proposal}"]
    else:
        beside = segments[:-1] + [SPICE_FOLDER, "{proposal}"]
    locations = []
    beside_url = pattern.prefix + "/".join(beside)
    if "{scan}" not in beside_url:
        locations.append(beside_url)
    fixed = [s for s in segments if "{" not in s and s not in ("", ".")]
    slug = re.sub(r"[^A-Za-z0-9_.-]", "_", fixed[-1] if fixed else pattern.netloc or "repository")
    digest = hashlib.sha256(location_key(pattern).encode()).hexdigest()[:10]
    home = os.path.join(user_spice_home(), f"{slug}-{digest}")
    locations.append("file://" + home.replace("{", "{{").replace("}", "}}") + "/{proposal}")
    return locations


def make_store(spice_url: str | SpiceStore | None, pattern: UrlPattern | None, storage: Storage) -> SpiceStore:
    """The store for a repository's ``spice_url`` option.

    A store object is used as it is.  ``''``: in memory.  A URL pattern with ``{proposal}``: files there.
    ``None``: the default locations of the repository ``pattern`` (see
    `default_locations`), or in memory where the repository has no
    on-disk home (``memory://`` data, repositories that are not URL patterns).
    """
    if spice_url is not None and not isinstance(spice_url, str):
        return spice_url
    if spice_url == "":
        return MemorySpiceStore()
    if spice_url is not None:
        return FileSpiceStore([spice_url], storage)
    if pattern is None:
        return MemorySpiceStore()
    try:
        return FileSpiceStore(default_locations(pattern), storage)
    except NotSupportedError:
        return MemorySpiceStore()
