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
symbolic links are resolved first, and a URL that ends up outside the root
raises [`OutsideRepositoryError`][nx5d.errors.OutsideRepositoryError] naming it.
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
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any, TypeVar

import attrs

from nx5d.errors import DataError, MissingDataError, Nx5dError, OptionError, OutsideRepositoryError, StorageError
from nx5d.io.faults import DEFAULT_TIMEOUT, client_options, is_transient, translate

T = TypeVar("T")

__all__ = ["Entry", "IoRecord", "Storage", "record_io", "join_url"]


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
    _lock: threading.Lock = attrs.field(factory=threading.Lock, repr=False)

    def _add(self, url: str, nbytes: int = 0, opened: int = 0, listed: int = 0, dataset: bool = False) -> None:
        with self._lock:
            self.bytes_read += nbytes
            self.files_opened += opened
            self.listings += listed
            if opened:
                self.urls.append(url)
            if dataset:
                self.datasets.append(url)


_RECORDERS: contextvars.ContextVar[tuple[IoRecord, ...]] = contextvars.ContextVar("nx5d_io", default=())


@contextlib.contextmanager
def record_io() -> Iterator[IoRecord]:
    """Count files opened, bytes read and folders listed through any `Storage`.

    Nested recorders all see the same events.  Work handed to thread pools
    by [`Storage.read_many`][nx5d.io.storage.Storage.read_many] is counted too.
    """
    record = IoRecord()
    token = _RECORDERS.set(_RECORDERS.get() + (record,))
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
) -> None:
    for record in _RECORDERS.get() if recorders is None else recorders:
        record._add(url, nbytes, opened, listed, dataset)


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
        either flat (applied to every remote scheme) or keyed by scheme
        (``{"s3": {"anon": True}}``).
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
        self._local_root = None if local is None else os.path.realpath(local or "/")
        self._remote_root = None if root is None or local is not None else _remote_parts(root)

    @property
    def local_root(self) -> str | None:
        """The root as a local folder with its links resolved (``None`` without a root or for remote roots)."""
        return self._local_root

    def confine(self, url: str) -> str:
        """``url`` if it lies inside the root (anchor ignored).

        Raises [`OutsideRepositoryError`][nx5d.errors.OutsideRepositoryError] otherwise.

        Local paths are compared after resolving symbolic links, so a link
        inside the repository that points out of it is refused too.
        """
        if self._root is None:
            return url
        document = url.partition("#")[0]
        local = _local_path(document)
        if self._local_root is not None:
            if local is not None:
                resolved = os.path.realpath(local or "/")
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
        """The fsspec options for ``scheme``: the flat options or the ones keyed by it, with nx5d's timeout."""
        opts = self.storage_options
        if scheme in opts and isinstance(opts[scheme], Mapping):
            chosen = dict(opts[scheme])
        else:
            chosen = {k: v for k, v in opts.items() if not isinstance(v, Mapping) and k not in CACHES}
        return client_options(scheme, chosen, self.timeout)

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
            return os.path.exists(path)

        def info(fs: Any, p: str) -> bool:
            try:
                fs.info(p)  # not fs.exists, which answers False to a refusal or a server error
            except FileNotFoundError as exc:
                error = translate(exc, url, "checking existence", self.timeout)
                if isinstance(error, MissingDataError):
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
        _note(url, listed=1)
        path = _local_path(self.confine(url))
        if path is not None:
            with self._errors(url, "listing"), os.scandir(path) as it:
                return [Entry(e.name, e.is_dir()) for e in it]

        def listing(fs: Any, p: str) -> list[Entry]:
            entries = []
            base = p.rstrip("/")
            for info in fs.ls(p, detail=True):
                name = info["name"].rstrip("/")
                name = name[len(base) + 1 :] if name.startswith(base + "/") else name.rsplit("/", 1)[-1]
                if name:
                    entries.append(Entry(name, info.get("type") == "directory"))
            return entries

        return self._remote(url, "listing", listing)

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

    # --- reading --------------------------------------------------------

    def open(self, url: str) -> IO[bytes]:
        """Open the file at ``url`` for binary reading (seekable); failures while reading are nx5d errors too."""
        path = _local_path(self.confine(url))
        _note(url, opened=1)
        if path is not None:
            with self._errors(url, "opening"):
                raw: IO[bytes] = open(path, "rb")  # noqa: SIM115 - returned to the caller
        else:
            raw = self._remote(url, "opening", lambda fs, p: fs.open(p, "rb"))
        return io.BufferedReader(_CountingReader(raw, url, self._errors))

    def read_bytes(self, url: str) -> bytes:
        """The whole content of the file at ``url``."""
        path = _local_path(self.confine(url))
        if path is not None:
            with self._errors(url, "reading"), open(path, "rb") as fh:
                data = fh.read()
        else:
            data = self._remote(url, "reading", lambda fs, p: fs.cat_file(p))
        _note(url, len(data), opened=1)
        return data

    def read_range(self, url: str, start: int, stop: int) -> bytes:
        """Bytes ``start`` to ``stop`` (exclusive) of the file at ``url``."""
        path = _local_path(self.confine(url))
        if path is not None:
            with self._errors(url, "reading"), open(path, "rb") as fh:
                fh.seek(start)
                data = fh.read(max(0, stop - start))
        else:
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
                with self._errors(urls[i], "reading"), open(local[i], "rb") as fh:  # type: ignore[arg-type]
                    data = fh.read()
                _note(urls[i], len(data), opened=1, recorders=recorders)
                return data

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
                if not (self.retries and is_transient(error)):
                    raise error from data
                data = self.read_bytes(url)  # counted there
                out.append(data)
                continue
            if data is None:
                raise MissingDataError(f"{url} does not exist (while reading)")
            _note(url, len(data), opened=1, recorders=recorders)
            out.append(data)
        return out
