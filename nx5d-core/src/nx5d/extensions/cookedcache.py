"""The built-in extension ``cooked_cache``: cooked results remembered across sessions.

``scan.cooked`` tomorrow is read in milliseconds if nothing changed: this
extension answers [`nx5d_cooked`][nx5d.plugins.hookspecs.nx5d_cooked] from
results kept on disk before anything is loaded, and keeps every new result
of the files.

A cooked result is kept on disk ([`nx5d.io.results.ResultStore`][nx5d.io.results.ResultStore])
under a key made of everything that determines it: the scan's URL, the
serving beamline and its distribution's version, nx5d's version, the
versions of every installed nx5d distribution (the recipes', the frame
readers', a lab's own recipes: [`nx5d_distributions`][nx5d.plugins.discovery.nx5d_distributions]) and the
format of results (`RESULT_FORMAT`), the
loading options and the content of the spice the cook received.  With the
result nx5d keeps its [data identity][nx5d.io.identity]: the state of every
file the cook read, looked for or listed.  A result is used again only if
every one of them is in the same state (a file rewritten in place with its
times restored is not: its change time moved).  Results are kept for scans
read by a beamline plugin (not by code of the subclassing API, which may
change without a new version), whose data identity is known (local files,
and remote stores that give an ETag), for results
nx5d can write without pickling (Datasets), and never for data the user
edited (``scan.cook(raw=...)``).

Where and how much: ``NX5D_CACHE_DIR`` (default ``$XDG_CACHE_HOME/nx5d``,
else ``~/.cache/nx5d``), folder ``cooked`` in it, created private; at most
``NX5D_COOKED_CACHE`` bytes (default ``"2GB"``; ``0`` or ``off`` turns it
off).  A folder other users can write into is not used (a
[`CacheWarning`][nx5d.errors.CacheWarning] says so) unless
``NX5D_CACHE_SHARED=1``, which uses it trusting only entries this user
wrote.  ``nx5d.cooked_cache.enabled = False`` turns it off for the session,
``nx5d.cooked_cache.clear()`` empties it.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Generator, Mapping
from typing import Any

from nx5d.errors import CacheWarning, Nx5dError, UnsafeCacheError
from nx5d.io.identity import DataIdentity
from nx5d.io.results import ResultStore, cache_home
from nx5d.io.sizes import parse_bytes
from nx5d.io.storage import Storage
from nx5d.plugins.discovery import nx5d_distributions
from nx5d.plugins.hookspecs import hookimpl
from nx5d.plugins.orders import CookOrder
from nx5d.plugins.references import ScanRef
from nx5d.version import __version__

__all__ = ["CookedCache", "cooked_cache", "RESULT_FORMAT", "kept_as", "cooked_on_disk", "keep_on_disk"]


def _folder() -> str:
    return os.path.join(cache_home(), "cooked")


def _shared() -> bool:
    return os.environ.get("NX5D_CACHE_SHARED", "").strip().lower() in ("1", "yes", "true", "on")


class CookedCache:
    """The on-disk cache of cooked results (see the module documentation)."""

    def __init__(self) -> None:
        setting = os.environ.get("NX5D_COOKED_CACHE", "2GB").strip().lower()
        self.enabled = setting not in ("0", "off", "no", "false")
        self._store = ResultStore(_folder(), parse_bytes(setting) if self.enabled else 0, shared=_shared())
        self._checked: dict[tuple[str, bool], bool] = {}  # folder -> usable, checked once per process

    @property
    def store(self) -> ResultStore:
        """Where results are kept (folder and limit)."""
        folder, shared = _folder(), _shared()
        if (self._store.folder, self._store.shared) != (folder, shared):
            self._store = ResultStore(folder, self._store.limit, shared=shared)
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

    def _usable(self) -> bool:
        """Whether the cache is on and its folder can be trusted (said once per folder in a warning if not)."""
        if not self.enabled:
            return False
        store = self.store
        where = (store.folder, store.shared)
        if where not in self._checked:
            try:
                store.check_folder()
                self._checked[where] = True
            except UnsafeCacheError as exc:
                self._checked[where] = False
                warnings.warn(
                    f"{exc}: cooked results are neither kept nor read there.  Make it private "
                    f"(chmod 700 {store.folder}) or set NX5D_CACHE_DIR to a private folder; NX5D_CACHE_SHARED=1 "
                    "uses it, trusting only the results you wrote",
                    CacheWarning,
                    stacklevel=4,
                )
            except OSError:
                self._checked[where] = False  # cannot be made (a read-only home): nothing is kept
        return self._checked[where]

    def get(self, key: str, storage: Storage) -> tuple[Any, DataIdentity] | None:
        """``(result, its data identity)`` kept under ``key`` if every file it was made from is unchanged."""
        if not self._usable():
            return None
        found = self.store.get(key)
        if found is None:
            return None
        entry, data = found
        try:
            identity = DataIdentity.from_json(entry.get("identity"))
        except (ValueError, TypeError, RecursionError) as exc:
            self.store.reject(key, exc, entry)
            return None
        try:
            changed = identity.changed(storage)
        except Nx5dError:
            changed = identity.urls
        if changed or not identity.states:
            self.store.discard(key, entry)  # the data changed since: the result is wrong now
            return None
        return data, identity

    def put(self, key: str, identity: DataIdentity, data: Any) -> bool:
        """Keep ``data`` under ``key`` with the ``identity`` of the data it was cooked from."""
        if not identity.states or not self._usable():
            return False
        return self.store.put(key, {"identity": json.loads(identity.to_json())}, data)

    def clear(self) -> None:
        """Delete every kept result (and the temporary files of writers that were killed)."""
        self.store.clear()

    def __repr__(self) -> str:
        state = "on" if self.enabled else "off"
        used, limit = self.store.nbytes / 2**20, self.limit / 2**20
        return f"CookedCache({state}, {self.store.folder}, {used:.0f} MiB of {limit:.0f} MiB)"


#: The process's cache of cooked results (``nx5d.cooked_cache``).
cooked_cache = CookedCache()


#: The version of what a cooked result holds, part of every key: raised when recipes start to give more or other
#: bits (the statistics of maps and profiles: 2; entries that hold their key: 3; maps summed in batches of points,
#: which changes their last bits: 4), so that results kept by an earlier build of the same version are not used.
RESULT_FORMAT = 4


def kept_as(scan: ScanRef, order: CookOrder) -> str | None:
    """The key of this cook in `cooked_cache`, or ``None`` for cooks it does not keep.

    Not kept: cooks of edited data, of the subclassing API's code or of
    stacks (``order.keep``), of repositories without a beamline or a URL.
    """
    beamline = scan.proposal.repository.beamline
    if order.edited is not None or not order.keep or not cooked_cache.enabled or beamline is None or not scan.url:
        return None
    parts = {
        "scan": scan.url,
        "beamline": beamline,
        "plugin": order.plugin,
        "nx5d": __version__,
        "distributions": nx5d_distributions(),
        "format": RESULT_FORMAT,
        "options": order.options_key,
        "spice": order.spice,
    }
    return cooked_cache.key(parts)


@hookimpl(specname="nx5d_cooked", tryfirst=True)
def cooked_on_disk(scan: ScanRef, order: CookOrder) -> Any:
    """The result kept on disk for this cook, if every file it came from is unchanged."""
    key = kept_as(scan, order)
    found = None if key is None else cooked_cache.get(key, scan.storage)
    if found is None:
        return None
    order.identity, order.source = found[1], "disk"
    return found[0]


@hookimpl(specname="nx5d_cooked", wrapper=True)
def keep_on_disk(scan: ScanRef, order: CookOrder) -> Generator[None, Any, Any]:
    """Keep a freshly cooked result whose files are unchanged since they were read."""
    result = yield
    key = kept_as(scan, order) if order.source == "cooked" and order.identity is not None else None
    if key is not None and order.identity is not None and _unchanged(order.identity, scan.storage):
        cooked_cache.put(key, order.identity, result)  # unchanged since it was read: the result is right
    return result


def _unchanged(identity: DataIdentity, storage: Storage) -> bool:
    try:
        return identity.unchanged(storage)
    except Nx5dError:
        return False
