"""Cooked results remembered across sessions: ``scan.cooked`` tomorrow, read in milliseconds if nothing changed.

A cooked result is kept on disk ([`nx5d.io.results.ResultStore`][nx5d.io.results.ResultStore])
under a key made of everything that determines it: the scan's URL, the
serving beamline and its distribution's version, nx5d's version, the
loading options and the content of the spice the cook received.  With the
result nx5d keeps the size and modification time of every file the cook
read; a result is used again only if all of them are unchanged.  Results
are kept only for scans whose files are all local, read by a beamline
plugin (not by code of the subclassing API, which may change without a new
version), and for results nx5d can write without pickling (Datasets).

Where and how much: ``NX5D_CACHE_DIR`` (default ``$XDG_CACHE_HOME/nx5d``,
else ``~/.cache/nx5d``), folder ``cooked`` in it; at most
``NX5D_COOKED_CACHE`` bytes (default ``"2GB"``; ``0`` or ``off`` turns it
off).  ``nx5d.cooked_cache.enabled = False`` turns it off for the session,
``nx5d.cooked_cache.clear()`` empties it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from nx5d.io.results import ResultStore
from nx5d.io.storage import Storage
from nx5d.model.memory import parse_bytes

__all__ = ["CookedCache", "cooked_cache", "file_identity"]


def _folder() -> str:
    base = os.environ.get("NX5D_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "nx5d"
    )
    return os.path.join(base, "cooked")


def file_identity(urls: Iterable[str]) -> list[list[Any]] | None:
    """``[[url, size, mtime_ns, inode], ...]`` of local files, sorted; ``None`` if one is not local or gone."""
    identity = []
    for url in sorted(set(urls)):
        path = Storage.local_path(url.partition("#")[0])
        if path is None:
            return None
        try:
            stat = os.stat(path)
        except OSError:
            return None
        identity.append([url, stat.st_size, stat.st_mtime_ns, stat.st_ino])
    return identity


class CookedCache:
    """The on-disk cache of cooked results (see the module documentation)."""

    def __init__(self) -> None:
        setting = os.environ.get("NX5D_COOKED_CACHE", "2GB").strip().lower()
        self.enabled = setting not in ("0", "off", "no", "false")
        self._store = ResultStore(_folder(), parse_bytes(setting) if self.enabled else 0)

    @property
    def store(self) -> ResultStore:
        """Where results are kept (folder and limit)."""
        folder = _folder()
        if self._store.folder != folder:
            self._store = ResultStore(folder, self._store.limit)
        return self._store

    @property
    def limit(self) -> int:
        """Bytes the kept results may take."""
        return self.store.limit

    @limit.setter
    def limit(self, value: int | str) -> None:
        self.store.limit = parse_bytes(value)

    @staticmethod
    def key(parts: Mapping[str, Any]) -> str:
        """The key of a result: a digest of what determines it."""
        return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()

    def get(self, key: str) -> Any | None:
        """The result kept under ``key`` if every file it was made from is unchanged, else ``None``."""
        if not self.enabled:
            return None
        found = self.store.get(key)
        if found is None:
            return None
        entry, data = found
        made_from = entry.get("files")
        if not made_from or file_identity(f[0] for f in made_from) != made_from:
            self.store.discard(key)  # the data changed since: the result is wrong now
            return None
        return data

    def put(self, key: str, files: Iterable[str], data: Any) -> bool:
        """Keep ``data`` under ``key`` with the identity of ``files`` (nothing when a file is not local)."""
        if not self.enabled:
            return False
        identity = file_identity(files)
        if not identity:
            return False
        return self.store.put(key, {"files": identity}, data)

    def clear(self) -> None:
        """Delete every kept result."""
        self.store.clear()

    def __repr__(self) -> str:
        state = "on" if self.enabled else "off"
        used, limit = self.store.nbytes / 2**20, self.limit / 2**20
        return f"CookedCache({state}, {self.store.folder}, {used:.0f} MiB of {limit:.0f} MiB)"


#: The process's cache of cooked results (``nx5d.cooked_cache``).
cooked_cache = CookedCache()
