"""A folder of cooked results kept across sessions: private, bounded in size, least recently used out.

Each result is one file, ``<key>.nx5d``: a zip archive (stored, never
compressed) holding the Dataset ([`nx5d.io.datasets`][nx5d.io.datasets]) and
``entry.json`` with what the result was made from.  Files appear whole
(written under a temporary name, then renamed; the temporary file is removed
on any failure, and temporary files of killed processes are swept away and
counted in the limit); reading one marks it used (its modification time);
when the folder holds more than its limit, the files used longest ago are
deleted, under a lock (``filelock``) so that processes sharing the folder do
not trip over each other.

Everything in the folder is untrusted input.  Nothing is executed or
unpickled; only regular files owned by this user are read, opened without
following links or waiting on pipes, after their size is checked; archives
whose members are compressed, too many or larger than the file, ``.npy``
headers that claim more values than their member holds, and JSON nested too
deeply are refused.  A damaged entry is deleted with a warning and counts as
none.  The folder is made private (``0700``); a folder that other users can
write into is refused (`UnsafeCacheError`), unless ``shared=True`` -- then each
user's results are named for the user (``<key>.u<uid>.nx5d``), and only
entries owned by this user are used: users sharing the folder keep a result
of the same scan each, without replacing or removing the other's.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import warnings
import zipfile
from collections.abc import Mapping
from typing import Any

from nx5d.errors import CacheWarning, UnsafeCacheError
from nx5d.io.datasets import dataset_from_bytes, dataset_to_bytes
from nx5d.io.temporaries import is_temporary, missing_folders, removed_on_failure, sweep, temporary_name

__all__ = ["ResultStore", "SUFFIX", "MAX_MEMBERS", "cache_home"]

#: The file name ending of a kept result.
SUFFIX = ".nx5d"

#: The most members an entry's archive may have (a Dataset's variables, plus two).
MAX_MEMBERS = 4096


def cache_home() -> str:
    """nx5d's cache folder: ``NX5D_CACHE_DIR``, else ``$XDG_CACHE_HOME/nx5d``, else ``~/.cache/nx5d``."""
    return os.environ.get("NX5D_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "nx5d"
    )


class DamagedEntry(ValueError):
    """An entry that is not what this module writes."""


def _owned_private_folder(folder: str, shared: bool) -> None:
    """Create ``folder`` private; refuse it when others can write into it (unless ``shared``).

    Every folder it creates on the way is private too: the cache folder
    above is where the scan index lives, which refuses a folder others may
    write into (``makedirs`` gave it the umask's mode, 775 under umask 002).
    """
    for path in missing_folders(folder):
        with contextlib.suppress(FileExistsError):  # made by another process meanwhile
            os.mkdir(path, 0o700)
    st = os.stat(folder)
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafeCacheError(f"the cache folder {folder} is not a folder")
    if shared:
        return
    if st.st_uid != os.geteuid():
        raise UnsafeCacheError(f"the cache folder {folder} belongs to another user (uid {st.st_uid})")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise UnsafeCacheError(
            f"the cache folder {folder} can be written by other users (mode {stat.S_IMODE(st.st_mode):o})"
        )


def _read_entry_file(path: str, limit: int) -> bytes | None:
    """The bytes of the regular file at ``path`` owned by this user, at most ``limit`` of them; ``None`` if absent.

    Raises `DamagedEntry` for anything else (a pipe, a link, another user's
    file, a file bigger than ``limit``).
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise DamagedEntry(f"cannot be opened as a file ({exc.strerror})") from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise DamagedEntry("is not a regular file")
        if st.st_uid != os.geteuid():
            raise DamagedEntry(f"belongs to another user (uid {st.st_uid})")
        if st.st_size > limit:
            raise DamagedEntry(f"holds {st.st_size} bytes, more than the cache's limit of {limit}")
        chunks, left = [], st.st_size + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 24))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        blob = b"".join(chunks)
        if len(blob) != st.st_size:
            raise DamagedEntry("changed while it was read")
        return blob
    finally:
        os.close(fd)


def _entry_json(blob: bytes) -> Mapping[str, Any]:
    """``entry.json`` of an archive, after checking the archive's members (`DamagedEntry` otherwise)."""
    import io

    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                raise DamagedEntry(f"has {len(members)} members")
            if any(m.compress_type != zipfile.ZIP_STORED for m in members):
                raise DamagedEntry("has compressed members (entries are stored uncompressed)")
            if sum(m.file_size for m in members) > len(blob):
                raise DamagedEntry("has members larger than the file")
            entry = json.loads(archive.read("entry.json"))
    except (zipfile.BadZipFile, KeyError, ValueError, RecursionError, OSError) as exc:
        raise DamagedEntry(f"is not a readable entry ({type(exc).__name__}: {exc})") from exc
    if not isinstance(entry, dict):
        raise DamagedEntry("has an entry.json that is not an object")
    return entry


class ResultStore:
    """Cooked results in ``folder``, at most ``limit`` bytes of files.

    Parameters
    ----------
    folder:
        The folder (created private when the first result is kept).
    limit:
        Bytes the folder's results (and temporary files) may take; beyond
        it the least recently used are deleted.
    shared:
        Use a folder other users can write into, keeping this user's
        results under names of their own and trusting only the entries this
        user owns.
    """

    def __init__(self, folder: str | os.PathLike[str], limit: int, *, shared: bool = False) -> None:
        self.folder = os.fspath(folder)
        self.limit = int(limit)
        self.shared = shared

    def _path(self, key: str) -> str:
        if not key.isalnum():
            raise ValueError(f"a result key is letters and digits, not {key!r}")
        owner = f".u{os.geteuid()}" if self.shared else ""  # in a shared folder, each user's own
        return os.path.join(self.folder, key + owner + SUFFIX)

    def check_folder(self) -> None:
        """Create the folder private, or raise `UnsafeCacheError` saying why it cannot be trusted."""
        _owned_private_folder(self.folder, self.shared)

    def get(self, key: str) -> tuple[Mapping[str, Any], Any] | None:
        """``(entry, dataset)`` kept for ``key``, or ``None``; a damaged entry is deleted, with a warning.

        An entry holds the key it was kept under: one found under another
        key's name (copied or renamed there) is damaged.  The entry names
        the writing it came from (``written``): pass it to `discard` or
        `reject` to remove that writing only.
        """
        path = self._path(key)
        entry: Mapping[str, Any] | None = None
        try:
            blob = _read_entry_file(path, self.limit)
            if blob is None:
                return None
            entry = _entry_json(blob)
            if entry.get("key") != key:  # a file copied or renamed onto this name holds another result
                raise DamagedEntry(f"was kept for another result (key {str(entry.get('key'))[:16]}…)")
            data = dataset_from_bytes(blob)
        except Exception as exc:  # noqa: BLE001 - untrusted input: whatever is wrong with it, it is not used
            self._damaged(key, exc, entry)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # used now: the last to be let go
        return entry, data

    def reject(self, key: str, exc: BaseException, entry: Mapping[str, Any] | None = None) -> None:
        """Delete the entry kept for ``key`` as damaged (only the ``entry`` read, if given), with a warning."""
        self._damaged(key, exc, entry)

    def _damaged(self, key: str, exc: BaseException, entry: Mapping[str, Any] | None) -> None:
        path = self._path(key)
        reason = str(exc) if isinstance(exc, DamagedEntry) else f"{type(exc).__name__}: {exc}"
        warnings.warn(
            f"cooked cache entry {path} {reason}: removed; the scan is cooked afresh", CacheWarning, stacklevel=4
        )
        self._remove(key, entry)

    def _remove(self, key: str, entry: Mapping[str, Any] | None) -> None:
        """Delete the entry for ``key`` -- if ``entry`` is given, only if the file still holds that writing.

        Another process may have kept a fresh entry under that name since it
        was read: the file is renamed aside first (in one step), deleted if
        it holds the writing read, else linked back (unless yet another
        entry came meanwhile).  Files are told apart by the token each
        writing puts in its entry, not by inode numbers, which a file
        system gives again to the next file made.
        """
        path = self._path(key)
        written = entry.get("written") if entry is not None else None
        with contextlib.suppress(OSError):
            if os.path.isdir(path) and not os.path.islink(path):
                return
            if written is None:  # nothing read, or an entry of an earlier version: by its name
                os.unlink(path)
                return
            aside = temporary_name(path)
            os.rename(path, aside)
            try:
                if self._written(aside) != written:
                    os.link(aside, path)  # not the writing read: back, unless a newer one is there now
            finally:
                os.unlink(aside)

    def _written(self, path: str) -> Any:
        """The writing token of the entry file at ``path``; ``None`` if it cannot be read."""
        try:
            blob = _read_entry_file(path, self.limit)
            return None if blob is None else _entry_json(blob).get("written")
        except DamagedEntry:
            return None

    def put(self, key: str, entry: Mapping[str, Any], data: Any) -> bool:
        """Keep ``data`` with ``entry`` under ``key``; ``False`` if it cannot be kept (objects, too big, no room)."""
        import io

        try:
            blob = dataset_to_bytes(data)
        except TypeError:
            return False
        buffer = io.BytesIO(blob)
        with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_STORED) as archive:
            written = {"key": key, "written": os.urandom(8).hex()}  # this writing, told apart from any other
            archive.writestr("entry.json", json.dumps({**entry, **written}, sort_keys=True))
        blob = buffer.getvalue()
        if len(blob) > self.limit:
            return False
        final = self._path(key)
        try:
            self.check_folder()
            with removed_on_failure(temporary_name(final)) as temporary:
                fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(blob)
                os.replace(temporary, final)
        except (OSError, UnsafeCacheError):
            return False
        self._shrink()
        return True

    def discard(self, key: str, entry: Mapping[str, Any] | None = None) -> None:
        """Delete the result kept for ``key``, if any; if ``entry`` (as `get` gave it), only that writing."""
        self._remove(key, entry)

    def entries(self) -> list[tuple[str, int, float]]:
        """``(name, bytes, last used)`` of every kept result and temporary file (named by file name)."""
        found = []
        with contextlib.suppress(OSError), os.scandir(self.folder) as listing:
            for item in listing:
                if item.name.endswith(SUFFIX) or is_temporary(item.name):
                    with contextlib.suppress(OSError):
                        st = item.stat(follow_symlinks=False)
                        found.append((item.name, st.st_size, st.st_mtime))
        return found

    @property
    def nbytes(self) -> int:
        """Bytes the kept results and temporary files take."""
        return sum(size for _, size, _ in self.entries())

    def clear(self) -> None:
        """Delete every kept result, and every temporary file but those being written now."""
        sweep(self.folder)
        for name, _, _ in self.entries():
            if name.endswith(SUFFIX):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(self.folder, name))

    def _shrink(self) -> None:
        import filelock

        try:
            lock = filelock.FileLock(os.path.join(self.folder, ".lock"), timeout=30)
            with lock:
                sweep(self.folder)
                kept = sorted(self.entries(), key=lambda e: e[2])
                total = sum(size for _, size, _ in kept)
                for name, size, _ in kept:
                    if total <= self.limit:
                        break
                    if name.endswith(SUFFIX):
                        with contextlib.suppress(OSError):
                            os.unlink(os.path.join(self.folder, name))
                        total -= size
        except (filelock.Timeout, OSError):
            pass  # another process is making room; the next result kept makes room again
