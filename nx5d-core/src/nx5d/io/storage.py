"""The core's file access layer.

Beamline plugins read through a `Storage` instead of opening paths
themselves, so every plugin works on local disks and, through fsspec, on
``http(s)://`` and ``s3://`` stores alike, and every failure surfaces as an
[`nx5d.errors`][nx5d.errors] exception naming the URL.

``file://`` URLs take a fast path straight to the operating system; all other
schemes go through `fsspec.core.url_to_fs` with the repository's
``storage_options``.  Reads are counted (`record_io`) so tests and the
conformance kit can check that cheap operations stay cheap.

A storage made with a ``root`` (a repository's storage: the folder its URL
pattern's documents lie in) touches nothing outside it, whatever a name read
from data says: ``..`` segments (also percent-encoded) and, on local disks,
symbolic links are resolved first (afresh for every URL, by
[`nx5d.io.realpath`][nx5d.io.realpath]), and a URL that ends up outside the
root raises [`OutsideRepositoryError`][nx5d.errors.OutsideRepositoryError] naming it.
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import itertools
import os
import posixpath
import threading
import time
import urllib.parse
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any, TypeVar

import attrs

from nx5d.errors import (
    DataError,
    DataWarning,
    MissingDataError,
    Nx5dError,
    OptionError,
    OutsideRepositoryError,
    StorageError,
)
from nx5d.io.faults import DEFAULT_TIMEOUT, client_options, is_transient, translate
from nx5d.io.realpath import realpath

T = TypeVar("T")

__all__ = [
    "Entry",
    "IoRecord",
    "Storage",
    "record_io",
    "replay_io",
    "join_url",
    "State",
    "ABSENT",
    "file_state",
    "listing_state",
    "remote_state",
    "trusted",
    "depends_on",
]


@attrs.frozen
class Entry:
    """One child of a listed folder."""

    name: str
    is_dir: bool


@attrs.define
class IoRecord:
    """What was read while `record_io` was active."""

    bytes_read: int = 0
    files_opened: int = 0
    listings: int = 0
    urls: list[str] = attrs.field(factory=list)
    #: Array datasets read inside documents (``document#path``), e.g. by [`nx5d.io.hdf5`][nx5d.io.hdf5].
    datasets: list[str] = attrs.field(factory=list)
    #: What the data read depends on: ``{url: state}`` as first seen (`Storage.state`), ``None`` where
    #: the state is read afterwards (remote files).  Files read, files looked for and absent, folders listed.
    depends: dict[str, State | None] = attrs.field(factory=dict)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, repr=False)

    def _add(
        self,
        url: str,
        nbytes: int = 0,
        opened: int = 0,
        listed: int = 0,
        dataset: bool = False,
        state: State | None = None,
        depends: bool = False,
    ) -> None:
        with self._lock:
            self.bytes_read += nbytes
            self.files_opened += opened
            self.listings += listed
            if opened:
                self.urls.append(url)
            if dataset:
                self.datasets.append(url)
            if depends and self.depends.get(url) is None:
                self.depends[url] = state

    def events(self) -> dict[str, Any]:
        """What this record saw, as plain values (picklable): for `replay_io` in another process."""
        with self._lock:
            return {
                "bytes_read": self.bytes_read,
                "files_opened": self.files_opened,
                "listings": self.listings,
                "urls": list(self.urls),
                "datasets": list(self.datasets),
                "depends": dict(self.depends),
            }


_RECORDERS: contextvars.ContextVar[tuple[IoRecord, ...]] = contextvars.ContextVar("nx5d_io", default=())


def replay_io(events: Mapping[str, Any]) -> None:
    """Count what another process read (`IoRecord.events` of its record) in every `record_io` active here.

    Worker processes that read a scan's files for this one (as
    [`nx5d.io.forked`][nx5d.io.forked] does) hand back what they read, so
    the data identity of a result made from their work names every file.
    """
    for record in _RECORDERS.get():
        with record._lock:
            record.bytes_read += events["bytes_read"]
            record.files_opened += events["files_opened"]
            record.listings += events["listings"]
            record.urls.extend(events["urls"])
            record.datasets.extend(events["datasets"])
            for url, state in events["depends"].items():
                if record.depends.get(url) is None:
                    record.depends[url] = state


@contextlib.contextmanager
def record_io(*, alone: bool = False) -> Iterator[IoRecord]:
    """Count files opened, bytes read and folders listed through any `Storage`.

    Nested recorders all see the same events, unless ``alone``: then only
    this one does (a worker process collecting what it reads for its
    parent, which counts it with `replay_io`).  Work handed to thread pools
    by [`Storage.read_many`][nx5d.io.storage.Storage.read_many] is counted too.
    """
    record = IoRecord()
    token = _RECORDERS.set((record,) if alone else _RECORDERS.get() + (record,))
    try:
        yield record
    finally:
        _RECORDERS.reset(token)


def _note(
    url: str,
    nbytes: int = 0,
    opened: int = 0,
    listed: int = 0,
    recorders: Sequence[IoRecord] | None = None,
    *,
    dataset: bool = False,
    state: State | None = None,
    depends: bool = False,
) -> None:
    for record in _RECORDERS.get() if recorders is None else recorders:
        record._add(url, nbytes, opened, listed, dataset, state, depends or opened > 0)


State = tuple[Any, ...]
"""The state of a file or folder.

``("file", size, mtime_ns, ctime_ns, inode)`` on a local disk,
``("remote", size, etag, modified)`` on a remote store, ``("listing", digest
of the names)`` for a listed folder, ``("tree", digest of every file's
state)`` for a folder read whole (a Zarr store), ``("absent",)`` for a file
that does not exist.
"""

ABSENT: State = ("absent",)
"""The state of a file that does not exist."""


def trusted(state: State) -> bool:
    """Whether ``state`` changes whenever the content does (not for a remote file without an ETag).

    A remote file's modification time alone is not enough: HTTP gives it to
    the second, and copies that keep times (``cp -p``, ``rsync -t``) keep it,
    so a frame replaced by one of the same size would look unchanged.
    """
    return state[0] != "absent" and not (state[0] == "remote" and state[2] is None)


def file_state(st: os.stat_result) -> State:
    """A local file's state from its ``stat``: what changes whenever its content can have changed.

    The change time (``ctime``) is set by the system on every write and
    rename and cannot be set back (``touch -r`` and ``rsync -t`` restore
    ``mtime`` only), so a file rewritten in place keeping size and ``mtime``
    still has a new state.
    """
    return ("file", st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _digest(items: Sequence[Any]) -> str:
    import hashlib
    import json

    return hashlib.sha256(json.dumps(sorted(items, key=repr), default=str).encode()).hexdigest()


def remote_state(info: Mapping[str, Any]) -> State:
    """A remote file's state from fsspec's ``info``: size, ETag and modification time, where the store has them."""
    etag = info.get("ETag", info.get("etag", info.get("Content-MD5", info.get("Digest"))))
    modified = info.get("LastModified", info.get("last_modified", info.get("Last-Modified", info.get("mtime"))))
    return (
        "remote",
        int(info.get("size") or 0),
        None if etag is None else str(etag),
        None if modified is None else str(modified),
    )


def _fresh_info(fs: Any, path: str) -> Mapping[str, Any]:
    """``fs.info(path)`` asked of the store, not of fsspec's cache of earlier listings."""
    with contextlib.suppress(AttributeError):
        fs.invalidate_cache(path)
    return fs.info(path)


def listing_state(entries: Sequence[Entry]) -> State:
    """A listed folder's state: the names (and kinds) it holds."""
    return ("listing", _digest([(e.name, e.is_dir) for e in entries]))


def depends_on(url: str, state: State | None = None) -> None:
    """Note that the data being read depends on the file at ``url`` (read without a `Storage`).

    For files a library opens itself: the targets of HDF5 external links
    and the sources of virtual datasets.  ``state`` is read now when not
    given (local files).
    """
    if not _RECORDERS.get():
        return
    if state is None:
        path = _local_path(url)
        if path is not None:
            try:
                state = file_state(os.stat(path))
            except OSError:
                state = ABSENT
    _note(url, state=state, depends=True)


class _CountingReader(io.RawIOBase):
    """File wrapper that reports the bytes read to the active recorders."""

    def __init__(self, raw: IO[bytes], url: str, errors: Callable[[str, str], Any]) -> None:
        self._raw = raw
        self._url = url
        self._errors = errors
        self._recorders = _RECORDERS.get()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._raw.seekable()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def readinto(self, buffer: Any) -> int:
        with self._errors(self._url, "reading"):
            data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        _note(self._url, n, recorders=self._recorders)
        return n

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


#: fsspec's caching file systems, which may be chained in front of a repository URL (``simplecache::s3://…``).
CACHES = ("simplecache", "filecache", "blockcache")


def split_chain(url: str) -> tuple[str, tuple[str, ...]]:
    """``simplecache::s3://b/{proposal}/{scan}`` -> ``("s3://b/{proposal}/{scan}", ("simplecache",))``.

    fsspec's chained URLs put file systems in front of the one holding the
    data; nx5d takes its caching file systems (`CACHES`), whose
    options are the ``storage_options`` under their names.
    """
    if "::" not in url.split("://", 1)[0]:
        return url, ()
    *chain, target = url.split("::")
    unknown = [c for c in chain if c not in CACHES]
    if unknown or not chain:
        raise OptionError(
            f"{url}: only fsspec's caching file systems ({', '.join(CACHES)}) can be chained in front of a "
            f"repository URL, not {', '.join(unknown)}"
        )
    return target, tuple(chain)


def join_url(base: str, *names: str) -> str:
    """Append path components to a URL (keeping an anchor-free base)."""
    out = base.rstrip("/")
    for name in names:
        out += "/" + name.strip("/")
    return out


def _local_path(url: str) -> str | None:
    if url[:7].lower() == "file://":
        rest = url[len("file://") :]
        if rest[:10].lower() == "localhost/":
            rest = rest[len("localhost") :]
        return rest
    return None


def _remote_parts(url: str) -> tuple[str, str, str]:
    """``(scheme, host, path)`` of a remote URL, the path percent-decoded and normalised (``..`` resolved)."""
    parts = urllib.parse.urlsplit(url)
    path = posixpath.normpath("/" + urllib.parse.unquote(parts.path).lstrip("/"))
    return parts.scheme.lower(), (parts.hostname or "").lower() + (f":{parts.port}" if parts.port else ""), path


def _below(path: str, folder: str, sep: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(sep) + sep)


class Storage:
    """Reads and lists files for one repository.

    Parameters
    ----------
    storage_options:
        Options for fsspec (credentials, endpoint, anonymous access ...),
        flat (applied to the URL's scheme, ``{"anon": True}``) or keyed by
        scheme (``{"s3": {"anon": True}}``), or both (the keyed ones win).
    root:
        A folder URL that every access must stay inside (after resolving
        ``..`` and, locally, symbolic links); ``None``: no limit.
    timeout:
        Seconds to wait for a remote server to connect or to send the next
        bytes (``None``: the client library's default).
    retries:
        How many times a remote request is repeated after a transient
        failure (a server error, a timeout, a lost connection), waiting 0.5,
        1, 2 ... s in between; ``0``: fail at once.
    """

    def __init__(
        self,
        storage_options: Mapping[str, Any] | None = None,
        *,
        root: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        retries: int = 0,
        chain: tuple[str, ...] = (),
    ) -> None:
        if timeout is not None and not (isinstance(timeout, int | float) and timeout > 0):
            raise OptionError(f"timeout must be a number of seconds above 0, or None, not {timeout!r}")
        if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
            raise OptionError(f"retries must be a whole number >= 0, not {retries!r}")
        self.storage_options: dict[str, Any] = dict(storage_options or {})
        self.root = root
        self.timeout = timeout
        self.retries = retries
        self.chain = tuple(chain)

    def __repr__(self) -> str:
        return (
            f"Storage(storage_options={sorted(self.storage_options)}, root={self.root!r}, "
            f"timeout={self.timeout!r}, retries={self.retries!r}, chain={self.chain!r})"
        )

    def with_root(self, root: str | None) -> Storage:
        """The same access (options, timeout, retries, cache chain) limited to ``root`` instead."""
        return Storage(self.storage_options, root=root, timeout=self.timeout, retries=self.retries, chain=self.chain)

    @property
    def root(self) -> str | None:
        """The folder URL every access stays inside, or ``None``."""
        return self._root

    @root.setter
    def root(self, root: str | None) -> None:
        self._root = root
        local = None if root is None else _local_path(root)
        self._local_root = None if local is None else realpath(local or "/")
        self._remote_root = None if root is None or local is not None else _remote_parts(root)

    @property
    def local_root(self) -> str | None:
        """The root as a local folder with its links resolved (``None`` without a root or for remote roots)."""
        return self._local_root

    def confine(self, url: str) -> str:
        """``url`` if it lies inside the root (anchor ignored).

        Raises [`OutsideRepositoryError`][nx5d.errors.OutsideRepositoryError] otherwise.

        Local paths are compared after resolving symbolic links, so a link
        inside the repository that points out of it is refused too; they are
        resolved on every call, nothing remembered, so a folder replaced by
        such a link after files in it were read is refused from then on.
        """
        if self._root is None:
            return url
        document = url.partition("#")[0]
        local = _local_path(document)
        if self._local_root is not None:
            if local is not None:
                resolved = realpath(local or "/")
                if _below(resolved, self._local_root, os.sep):
                    return url
                raise OutsideRepositoryError(
                    f"{url} resolves to {resolved}, outside the repository root {self._local_root}"
                )
        elif self._remote_root is not None and local is None:
            scheme, host, path = _remote_parts(document)
            root_scheme, root_host, root_path = self._remote_root
            if (scheme, host) == (root_scheme, root_host) and _below(path, root_path, "/"):
                return url
        raise OutsideRepositoryError(f"{url} lies outside the repository root {self._root}")

    # --- plumbing -------------------------------------------------------

    def options_for(self, scheme: str) -> dict[str, Any]:
        """The fsspec options for ``scheme``, with nx5d's timeout.

        The ones keyed by ``scheme`` over the flat ones: every option not
        named after a protocol applies to the URL's scheme
        (``{"anon": True}``, ``{"client_kwargs": {...}}``), and an option
        keyed by the scheme wins over a flat one of the same name.
        """
        from fsspec.registry import known_implementations, registry

        protocols = {*known_implementations, *registry, *CACHES}
        opts = self.storage_options
        flat = {k: v for k, v in opts.items() if not (k in protocols and isinstance(v, Mapping))}
        keyed = opts.get(scheme)
        return client_options(scheme, {**flat, **(keyed if isinstance(keyed, Mapping) else {})}, self.timeout)

    def filesystem(self, url: str) -> tuple[Any, str]:
        """The fsspec filesystem and path for a URL (for libraries that want one)."""
        import fsspec.core

        self.confine(url)
        scheme = url.split("://", 1)[0].lower()
        try:
            if self.chain:  # a cache in front: each file system takes the options under its name
                caches = {c: dict(self.storage_options.get(c, {})) for c in self.chain}
                return fsspec.core.url_to_fs(
                    "::".join([*self.chain, url]), **{scheme: self.options_for(scheme)}, **caches
                )
            return fsspec.core.url_to_fs(url, **self.options_for(scheme))
        except ImportError as exc:
            raise StorageError(f"cannot access {url}: support for {scheme}:// is not installed ({exc})") from exc
        except Exception as exc:
            raise StorageError(f"cannot access {url}: {exc!r}") from exc

    @staticmethod
    def local_path(url: str) -> str | None:
        """The local file system path of a ``file://`` URL, else ``None``."""
        return _local_path(url)

    @contextlib.contextmanager
    def _errors(self, url: str, action: str) -> Iterator[None]:
        try:
            yield
        except Nx5dError:
            raise
        except Exception as exc:  # every client library has its own exceptions: each becomes an nx5d error
            raise translate(exc, url, action, self.timeout) from exc

    def _remote(self, url: str, action: str, call: Callable[[Any, str], T]) -> T:
        """``call(filesystem, path)`` for a remote URL, with errors translated and transient failures retried."""
        fs, path = self.filesystem(url)
        for attempt in itertools.count():
            try:
                with self._errors(url, action):
                    return call(fs, path)
            except DataError as exc:
                if attempt >= self.retries or not is_transient(exc):
                    raise
                time.sleep(min(8.0, 0.5 * 2**attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    # --- queries --------------------------------------------------------

    def exists(self, url: str) -> bool:
        """Whether a file or folder exists at ``url``."""
        path = _local_path(self.confine(url))
        if path is not None:
            found = os.path.exists(path)
            if not found:
                _note(url, state=ABSENT, depends=True)
            return found

        def info(fs: Any, p: str) -> bool:
            try:
                fs.info(p)  # not fs.exists, which answers False to a refusal or a server error
            except FileNotFoundError as exc:
                error = translate(exc, url, "checking existence", self.timeout)
                if isinstance(error, MissingDataError):
                    _note(url, state=ABSENT, depends=True)
                    return False
                raise error from exc
            return True

        return self._remote(url, "checking existence", info)

    def isdir(self, url: str) -> bool:
        """Whether ``url`` is a folder (or an object-store prefix)."""
        path = _local_path(self.confine(url))
        if path is not None:
            return os.path.isdir(path)
        return self._remote(url, "checking for a folder", lambda fs, p: bool(fs.isdir(p)))

    def ls(self, url: str) -> list[Entry]:
        """Children of the folder at ``url`` (``MissingDataError`` if absent)."""
        path = _local_path(self.confine(url))
        if path is not None:
            try:
                with self._errors(url, "listing"), os.scandir(path) as it:
                    found = [Entry(e.name, e.is_dir()) for e in it if not self._links_out(url, e)]
            except MissingDataError:
                _note(url, listed=1, state=ABSENT, depends=True)
                raise
            _note(url, listed=1, state=listing_state(found), depends=True)
            return found

        def listing(fs: Any, p: str) -> list[Entry]:
            entries = []
            base = p.rstrip("/")
            for info in fs.ls(p, detail=True):
                name = info["name"].rstrip("/")
                name = name[len(base) + 1 :] if name.startswith(base + "/") else name.rsplit("/", 1)[-1]
                if name:
                    entries.append(Entry(name, info.get("type") == "directory"))
            return entries

        try:
            found = self._remote(url, "listing", listing)
        except MissingDataError:
            _note(url, listed=1, state=ABSENT, depends=True)
            raise
        _note(url, listed=1, state=listing_state(found), depends=True)
        return found

    def _links_out(self, folder: str, entry: os.DirEntry[str]) -> bool:
        """Whether ``entry`` of a listing is a symbolic link out of the root: left out, with a DataWarning."""
        if self._local_root is None or not entry.is_symlink():
            return False
        resolved = realpath(entry.path)
        if _below(resolved, self._local_root, os.sep):
            return False
        warnings.warn(
            f"{join_url(folder, entry.name)} links to {resolved}, outside the repository root {self._local_root}: "
            "left out of the listing",
            DataWarning,
            stacklevel=4,
        )
        return True

    def size(self, url: str) -> int:
        """Size in bytes of the file at ``url``."""
        return self.stat(url)[0]

    def stat(self, url: str) -> tuple[int, float | None]:
        """``(size in bytes, modification time)`` of the file at ``url`` (time ``None`` where the store has none)."""
        path = _local_path(self.confine(url))
        if path is not None:
            with self._errors(url, "reading the size"):
                st = os.stat(path)
            return st.st_size, st.st_mtime_ns / 1e9
        info = self._remote(url, "reading the size", lambda fs, p: fs.info(p))
        modified = info.get("mtime", info.get("LastModified", info.get("last_modified")))
        if hasattr(modified, "timestamp"):
            modified = modified.timestamp()
        elif modified is not None:
            try:
                modified = float(modified)
            except (TypeError, ValueError):
                modified = None
        return int(info.get("size") or 0), modified

    def state(self, url: str) -> State:
        """The state of the file at ``url`` now (see `State`); `ABSENT` if there is none."""
        path = _local_path(self.confine(url))
        if path is not None:
            try:
                return file_state(os.stat(path))
            except (FileNotFoundError, NotADirectoryError):
                return ABSENT
            except OSError as exc:
                raise translate(exc, url, "reading the state", self.timeout) from exc
        try:
            info = self._remote(url, "reading the state", _fresh_info)
        except MissingDataError:
            return ABSENT
        return remote_state(info)

    def tree_state(self, url: str) -> State:
        """The state of a folder read whole (a Zarr store): every file below it, by its state."""
        path = _local_path(self.confine(url))
        if path is not None:
            if not os.path.isdir(path):
                return ABSENT
            found = []
            for folder, _, names in os.walk(path):
                for name in names:
                    full = os.path.join(folder, name)
                    with contextlib.suppress(OSError):
                        found.append((os.path.relpath(full, path), file_state(os.stat(full))))
            return ("tree", _digest(found))

        def every(fs: Any, p: str) -> State:
            with contextlib.suppress(AttributeError):
                fs.invalidate_cache(p)
            listed = fs.find(p, detail=True)
            return ("tree", _digest([(name, remote_state(info)) for name, info in listed.items()]))

        try:
            return self._remote(url, "reading the state", every)
        except MissingDataError:
            return ABSENT

    def listing_state(self, url: str) -> State:
        """The state of a folder as listed: the names it holds now (`ABSENT` if it is gone)."""
        try:
            return listing_state(self.ls(url))
        except MissingDataError:
            return ABSENT

    # --- reading --------------------------------------------------------

    def open(self, url: str) -> IO[bytes]:
        """Open the file at ``url`` for binary reading (seekable); failures while reading are nx5d errors too."""
        path = _local_path(self.confine(url))
        with self._absent(url):
            if path is not None:
                with self._errors(url, "opening"):
                    raw: IO[bytes] = open(path, "rb")  # noqa: SIM115 - returned to the caller
                _note(url, opened=1, state=file_state(os.fstat(raw.fileno())))
            else:
                raw = self._remote(url, "opening", lambda fs, p: fs.open(p, "rb"))
                _note(url, opened=1)
        return io.BufferedReader(_CountingReader(raw, url, self._errors))

    @contextlib.contextmanager
    def _absent(self, url: str) -> Iterator[None]:
        """Note a file found absent while reading it (what was read depends on its absence)."""
        try:
            yield
        except MissingDataError:
            _note(url, state=ABSENT, depends=True)
            raise

    def _read_local(self, url: str, path: str, start: int = 0, stop: int | None = None, recorders: Any = None) -> bytes:
        with self._absent(url), self._errors(url, "reading"), open(path, "rb") as fh:
            state = file_state(os.fstat(fh.fileno()))  # the file read, before its bytes are
            if start:
                fh.seek(start)
            data = fh.read() if stop is None else fh.read(max(0, stop - start))
        _note(url, len(data), opened=1, recorders=recorders, state=state)
        return data

    def read_bytes(self, url: str) -> bytes:
        """The whole content of the file at ``url``."""
        path = _local_path(self.confine(url))
        if path is not None:
            return self._read_local(url, path)
        with self._absent(url):
            data = self._remote(url, "reading", lambda fs, p: fs.cat_file(p))
        _note(url, len(data), opened=1)
        return data

    def read_range(self, url: str, start: int, stop: int) -> bytes:
        """Bytes ``start`` to ``stop`` (exclusive) of the file at ``url``."""
        path = _local_path(self.confine(url))
        if path is not None:
            return self._read_local(url, path, start, stop)
        with self._absent(url):
            data = self._remote(url, "reading", lambda fs, p: fs.cat_file(p, start=start, end=stop))
        if len(data) > stop - start:  # a server that ignores Range requests sends the whole file
            data = data[start:stop]
        _note(url, len(data), opened=1)
        return data

    def read_many(self, urls: Sequence[str], *, workers: int | None = None) -> list[bytes]:
        """Contents of many files, read concurrently, in the order given.

        Local files are read by a thread pool; remote files through fsspec's
        batched ``cat`` (concurrent requests for async filesystems); a file
        whose request failed transiently is read again on its own, as
        ``retries`` allows.
        """
        if not urls:
            return []
        recorders = _RECORDERS.get()
        local = [_local_path(self.confine(u)) for u in urls]
        if all(p is not None for p in local):

            def read(i: int) -> bytes:
                return self._read_local(urls[i], local[i], recorders=recorders)  # type: ignore[arg-type]

            n = workers or min(16, (os.cpu_count() or 1) * 4)
            with ThreadPoolExecutor(n) as pool:
                return list(pool.map(read, range(len(urls))))
        fs, _ = self.filesystem(urls[0])
        paths = [fs._strip_protocol(u) for u in urls]
        found = self._remote(urls[0], f"reading {len(urls)} files", lambda fs, p: fs.cat(paths, on_error="return"))
        out = []
        for url, path in zip(urls, paths, strict=True):
            data = found.get(path)
            if isinstance(data, BaseException):
                error = translate(data, url, "reading", self.timeout)
                if isinstance(error, MissingDataError):
                    _note(url, state=ABSENT, depends=True, recorders=recorders)
                if not (self.retries and is_transient(error)):
                    raise error from data
                data = self.read_bytes(url)  # counted there
                out.append(data)
                continue
            if data is None:
                _note(url, state=ABSENT, depends=True, recorders=recorders)
                raise MissingDataError(f"{url} does not exist (while reading)")
            _note(url, len(data), opened=1, recorders=recorders)
            out.append(data)
        return out
