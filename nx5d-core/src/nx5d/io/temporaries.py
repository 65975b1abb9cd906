"""Temporary files of the writers that make files appear whole, and their removal.

Every writer of nx5d (the cooked cache, the spice store, ``nx5d cook`` and
``nx5d export``) writes a file under a temporary name in its final folder
and renames it when it is complete.  The temporary name says which process
wrote it, and where: ``.NAME.PID@WHERE.RANDOM.tmp``, ``WHERE`` naming the
machine, its boot and its process-id namespace (a container's ids mean
nothing outside it).  A writer removes its temporary file on any failure,
Ctrl-C included (`removed_on_failure`); a process killed while writing
cannot, so `sweep` removes the temporary files of processes here that are
gone, and any that are older than `GRACE` seconds (a process id used again
by another program must not keep a temporary alive forever; a writer on
another machine sharing the folder, or in another container, cannot be
asked whether it runs, so its file is left to that age).  Names without
``@WHERE``, written by earlier versions, are judged by their process id.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import socket
import time
from collections.abc import Iterator

from nx5d.errors import StorageError

__all__ = [
    "GRACE",
    "temporary_name",
    "is_temporary",
    "is_stale",
    "sweep",
    "removed_on_failure",
    "remove",
    "require_writable",
    "missing_folders",
]

#: Seconds after which a temporary file is stale even if a process of its number runs.
GRACE = 6 * 3600

_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)(?:@(?P<where>[0-9a-f]{8}))?\.[0-9a-f]{8}\.tmp$")


def _here() -> str:
    """Eight hex digits naming where this process's ids mean something: machine, boot, process-id namespace."""
    parts = [socket.gethostname()]
    with contextlib.suppress(OSError), open("/proc/sys/kernel/random/boot_id") as handle:
        parts.append(handle.read().strip())
    with contextlib.suppress(OSError):
        parts.append(os.readlink("/proc/self/ns/pid"))
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:8]


def temporary_name(path: str | os.PathLike[str]) -> str:
    """A temporary name beside ``path`` for this process: ``DIR/.NAME.PID@WHERE.RANDOM.tmp``."""
    folder, name = os.path.split(os.fspath(path))
    return os.path.join(folder, f".{name}.{os.getpid()}@{_here()}.{os.urandom(4).hex()}.tmp")


def is_temporary(name: str) -> bool:
    """Whether ``name`` (a file name, without folder) is a writer's temporary file."""
    return _NAME.match(name) is not None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process: it exists
    return True


def is_stale(path: str | os.PathLike[str], *, grace: float = GRACE) -> bool:
    """Whether the temporary file at ``path`` is older than ``grace``, or was left by a process here that is gone."""
    found = _NAME.match(os.path.basename(os.fspath(path)))
    if found is None:
        return False
    try:
        age = time.time() - os.lstat(path).st_mtime
    except OSError:
        return False
    if age > grace:
        return True
    where = found.group("where")
    if where is not None and where != _here():
        return False  # another machine's or container's process: its number means nothing here
    return not _alive(int(found.group("pid")))


def remove(path: str | os.PathLike[str]) -> None:
    """Delete a file, or a folder with its contents (a Zarr store); nothing if it is gone."""
    path = os.fspath(path)
    with contextlib.suppress(FileNotFoundError):
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)


def sweep(folder: str | os.PathLike[str], *, grace: float = GRACE) -> int:
    """Remove the stale temporary files in ``folder`` (see the module documentation); returns how many."""
    removed = 0
    with contextlib.suppress(OSError), os.scandir(folder) as listing:
        for entry in listing:
            if is_temporary(entry.name) and is_stale(entry.path, grace=grace):
                with contextlib.suppress(OSError):
                    remove(entry.path)
                    removed += 1
    return removed


@contextlib.contextmanager
def removed_on_failure(path: str | os.PathLike[str]) -> Iterator[str]:
    """Yield ``path`` (a temporary file); delete it if the block fails in any way (Ctrl-C too), then re-raise."""
    try:
        yield os.fspath(path)
    except BaseException:
        with contextlib.suppress(OSError):
            remove(path)
        raise


def missing_folders(path: str | os.PathLike[str]) -> list[str]:
    """The folders to make for ``path`` to exist, outermost first (``[]`` if something is there already)."""
    missing, current = [], os.path.abspath(path)
    while not os.path.lexists(current) and os.path.dirname(current) != current:
        missing.append(current)
        current = os.path.dirname(current)
    return missing[::-1]


def require_writable(folder: str | os.PathLike[str]) -> None:
    """Make ``folder`` (and its parents) and write a file there, before any work that will write into it.

    Raises [`StorageError`][nx5d.errors.StorageError] naming the folder when
    it cannot be made or written (no permission, a read-only or full file
    system), so a batch fails at once instead of after its work.
    """
    path = os.fspath(folder)
    probe = temporary_name(os.path.join(path, "probe"))
    try:
        os.makedirs(path, exist_ok=True)
        with removed_on_failure(probe), open(probe, "wb") as handle:
            handle.write(b"nx5d")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise StorageError(f"cannot write into {path}: {exc.strerror or exc}") from exc
    finally:
        with contextlib.suppress(OSError):
            os.unlink(probe)
