"""A folder of cooked results kept across sessions: bounded in size, least recently used out, safe between processes.

Each result is one file, ``<key>.nx5d``: a zip archive holding the Dataset
([`nx5d.io.datasets`][nx5d.io.datasets]) and ``entry.json`` with what the result was made
from (the files read and their sizes and modification times).  Files
appear whole (written under a temporary name, then renamed); reading one
marks it used (its modification time); when the folder holds more than its
limit, the files used longest ago are deleted, under a lock
(``filelock``) so that processes sharing the folder do not trip over each
other.  Nothing in the folder is executed or unpickled.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import zipfile
from collections.abc import Mapping
from typing import Any

from nx5d.io.datasets import dataset_from_bytes, dataset_to_bytes

__all__ = ["ResultStore", "SUFFIX"]

#: The file name ending of a kept result.
SUFFIX = ".nx5d"


class ResultStore:
    """Cooked results in ``folder``, at most ``limit`` bytes of files.

    Parameters
    ----------
    folder:
        The folder (created when the first result is kept).
    limit:
        Bytes the folder's results may take; beyond it the least recently
        used are deleted.
    """

    def __init__(self, folder: str | os.PathLike[str], limit: int) -> None:
        self.folder = os.fspath(folder)
        self.limit = int(limit)

    def _path(self, key: str) -> str:
        if not key.isalnum():
            raise ValueError(f"a result key is letters and digits, not {key!r}")
        return os.path.join(self.folder, key + SUFFIX)

    def get(self, key: str) -> tuple[Mapping[str, Any], Any] | None:
        """``(entry, dataset)`` kept for ``key``, or ``None``; a damaged file is deleted and counts as none."""
        path = self._path(key)
        try:
            with open(path, "rb") as fh:
                blob = fh.read()
        except OSError:
            return None
        try:
            with zipfile.ZipFile(io.BytesIO(blob)) as archive:
                entry = json.loads(archive.read("entry.json"))
            data = dataset_from_bytes(blob)
        except (ValueError, KeyError, zipfile.BadZipFile):
            with contextlib.suppress(OSError):
                os.unlink(path)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # used now: the last to be let go
        return entry, data

    def put(self, key: str, entry: Mapping[str, Any], data: Any) -> bool:
        """Keep ``data`` with ``entry`` under ``key``; ``False`` if it cannot be kept (objects, too big, no room)."""
        try:
            blob = dataset_to_bytes(data)
        except TypeError:
            return False
        buffer = io.BytesIO(blob)
        with zipfile.ZipFile(buffer, "a") as archive:
            archive.writestr("entry.json", json.dumps(entry, sort_keys=True))
        blob = buffer.getvalue()
        if len(blob) > self.limit:
            return False
        try:
            os.makedirs(self.folder, exist_ok=True)
            temporary = self._path(key) + f".{os.getpid()}.{os.urandom(4).hex()}.tmp"
            with open(temporary, "wb") as fh:
                fh.write(blob)
            os.replace(temporary, self._path(key))
        except OSError:
            with contextlib.suppress(OSError, UnboundLocalError):
                os.unlink(temporary)
            return False
        self._shrink()
        return True

    def discard(self, key: str) -> None:
        """Delete the result kept for ``key``, if any."""
        with contextlib.suppress(OSError):
            os.unlink(self._path(key))

    def entries(self) -> list[tuple[str, int, float]]:
        """``(key, bytes, last used)`` of every kept result."""
        found = []
        with contextlib.suppress(OSError), os.scandir(self.folder) as listing:
            for item in listing:
                if item.name.endswith(SUFFIX):
                    with contextlib.suppress(OSError):
                        stat = item.stat()
                        found.append((item.name[: -len(SUFFIX)], stat.st_size, stat.st_mtime))
        return found

    @property
    def nbytes(self) -> int:
        """Bytes the kept results take."""
        return sum(size for _, size, _ in self.entries())

    def clear(self) -> None:
        """Delete every kept result."""
        for key, _, _ in self.entries():
            self.discard(key)

    def _shrink(self) -> None:
        import filelock

        try:
            lock = filelock.FileLock(os.path.join(self.folder, ".lock"), timeout=30)
            with lock:
                kept = sorted(self.entries(), key=lambda e: e[2])
                total = sum(size for _, size, _ in kept)
                for key, size, _ in kept:
                    if total <= self.limit:
                        break
                    self.discard(key)
                    total -= size
        except (filelock.Timeout, OSError):
            pass  # another process is making room; the next result kept makes room again
