"""The built-in extension ``memory``: raw data and cooked results kept in memory, handed out as copies.

Every scan keeps the raw data it loaded, per set of loading options, in one
process-wide `RawCache` (answering [`nx5d_loaded`][nx5d.plugins.hookspecs.nx5d_loaded]);
when the cache holds more than its limit, the data used longest ago is let
go (and loaded again if asked for).  So a loop over a proposal's scans does
not keep every scan's frames alive.  A scan keeps its last cooked result
with itself (answering [`nx5d_cooked`][nx5d.plugins.hookspecs.nx5d_cooked]).
Both are used again only while every file they were read from is unchanged
([`nx5d.io.identity`][nx5d.io.identity]).

What the cache hands out is always a fresh shallow copy whose arrays are
read-only views: a user who assigns a variable, a coordinate or an
attribute of ``scan.raw`` changes their own copy, never the data the next
``scan.raw`` or ``scan.cooked`` starts from, and writing into an array in
place is refused.

The limit is ``NX5D_RAW_CACHE`` (bytes, or with a unit: ``"8GB"``, ``"500MB"``)
or a quarter of the machine's memory; ``nx5d.raw_cache.limit = ...`` changes
it, ``0`` keeps nothing.
"""

from __future__ import annotations

import copy
import os
import threading
from collections import OrderedDict
from collections.abc import Generator, Hashable
from typing import Any

import attrs
import numpy as np

from nx5d.errors import Nx5dError
from nx5d.io.blocks import keep_block_reader
from nx5d.io.identity import DataIdentity
from nx5d.io.sizes import parse_bytes
from nx5d.io.storage import Storage
from nx5d.plugins.hookspecs import hookimpl
from nx5d.plugins.orders import CookOrder, Loaded, LoadOrder
from nx5d.plugins.references import ScanRef
from nx5d.spice.values import fingerprint

__all__ = [
    "RawCache",
    "raw_cache",
    "data_bytes",
    "read_only",
    "raw_in_memory",
    "keep_raw",
    "cooked_in_memory",
    "keep_cooked",
]


def _default_limit() -> int:
    given = os.environ.get("NX5D_RAW_CACHE")
    if given:
        return parse_bytes(given)
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4
    except (AttributeError, ValueError, OSError):  # not on every platform
        return 4 * 2**30


def _arrays(data: Any) -> list[np.ndarray]:
    """The numpy arrays held by a Dataset, DataArray or array (lazy arrays hold none yet)."""
    variables = getattr(data, "variables", None)
    if variables is None and hasattr(data, "variable"):
        variables = {None: data.variable, **{k: v.variable for k, v in data.coords.items()}}
    if variables is None:
        return [data] if isinstance(data, np.ndarray) else []
    return [v.data for v in variables.values() if isinstance(v.data, np.ndarray)]


def data_bytes(data: Any) -> int:
    """Memory held by ``data``'s numpy arrays (a lazy array counts only once it is computed)."""
    return sum(a.nbytes for a in _arrays(data))


def _frozen(array: np.ndarray, own: bool = True) -> np.ndarray:
    """A read-only view of ``array``; ``own`` (nx5d's own array): ``array`` is made read-only too.

    A view of a writeable array can be made writeable again
    (``view.setflags(write=True)``, which some libraries call) and would let
    the caller write into kept data; a view of a read-only array cannot.
    """
    owner: Any = array
    while own and isinstance(owner, np.ndarray):  # numpy asks the array that owns the memory
        if owner.flags.writeable:
            owner.flags.writeable = False
        owner = owner.base
    view = array.view()
    view.flags.writeable = False
    return view


def _own_array(data: Any, own: bool = True) -> Any:
    """``data`` as an array of the caller's own: a read-only view of numpy arrays, a new dask array object.

    Assigning into a dask array changes that array object's task graph;
    a new object over the same graph keeps the assignment to the copy.
    """
    if isinstance(data, np.ndarray):
        return _frozen(data, own)
    if hasattr(data, "dask") and hasattr(data, "copy"):
        return keep_block_reader(data, data.copy())  # a cook of the copy still reads blocks straight from the files
    return data


def read_only(data: Any, own: bool = True) -> Any:
    """A copy of ``data`` that is the caller's own, over the same (read-only) arrays.

    A Dataset or DataArray comes back as a shallow copy whose numpy arrays
    are read-only views, whose dask arrays are new array objects and whose
    attributes are copies: whatever the caller assigns or edits, ``data``
    stays as it was.  Dimension coordinates (pandas indexes) are immutable.
    ``own``: the arrays are nx5d's (read from files, cooked from them) and
    are made read-only themselves; else (arrays a user's data may share)
    only the views are.
    """
    if isinstance(data, np.ndarray):
        return _frozen(data, own)
    if not hasattr(data, "variables") and not hasattr(data, "variable"):
        return data
    out = data.copy(deep=False)
    out.attrs = copy.deepcopy(data.attrs)
    variables = out.variables if hasattr(out, "variables") else {None: out.variable, **out.coords.variables}
    for variable in variables.values():
        variable.attrs = copy.deepcopy(variable.attrs)
        if type(variable).__name__ != "IndexVariable":
            variable.data = _own_array(variable.data, own)
    return out


class RawCache:
    """Loaded raw data of every scan, least recently used first out, at most ``limit`` bytes of arrays.

    Keys are ``(owner, options)``: ``owner`` identifies a scan object,
    ``options`` the loading options.  Data bigger than the whole limit is not
    kept.  Thread-safe.
    """

    def __init__(self, limit: int | None = None) -> None:
        self._entries: OrderedDict[tuple[Hashable, Hashable], tuple[Any, int, DataIdentity | None]] = OrderedDict()
        self._lock = threading.Lock()
        self._bytes = 0
        self._limit = _default_limit() if limit is None else int(limit)

    @property
    def limit(self) -> int:
        """The most bytes of arrays kept; setting it lets go of data until the cache fits."""
        return self._limit

    @limit.setter
    def limit(self, value: int | str) -> None:
        self._limit = parse_bytes(value)
        with self._lock:
            self._shrink()

    @property
    def nbytes(self) -> int:
        """Bytes of arrays held now."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, owner: Hashable, options: Hashable) -> Loaded | None:
        """A copy of the data kept for ``(owner, options)`` that is the caller's own (`read_only`), or ``None``."""
        with self._lock:
            entry = self._entries.get((owner, options))
            if entry is None:
                return None
            self._entries.move_to_end((owner, options))
        return Loaded(read_only(entry[0]), entry[2])

    def put(self, owner: Hashable, options: Hashable, data: Any, identity: DataIdentity | None = None) -> Loaded:
        """Keep ``data`` (read from files of ``identity``) for ``(owner, options)`` if it fits; returns a copy."""
        data = read_only(data)
        size = data_bytes(data)
        with self._lock:
            old = self._entries.pop((owner, options), None)
            if old is not None:
                self._bytes -= old[1]
            if size <= self._limit:
                self._entries[(owner, options)] = (data, size, identity)
                self._bytes += size
                self._shrink()
        return Loaded(read_only(data), identity)

    def holds(self, owner: Hashable) -> list[Any]:
        """Copies of the data kept for ``owner`` (`read_only`), most recently used last."""
        with self._lock:
            kept = [entry[0] for (who, _), entry in self._entries.items() if who == owner]
        return [read_only(data) for data in kept]

    def forget(self, owner: Hashable) -> None:
        """Let go of everything kept for ``owner``."""
        with self._lock:
            for key in [k for k in self._entries if k[0] == owner]:
                self._bytes -= self._entries.pop(key)[1]

    def clear(self) -> None:
        """Let go of everything."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def _shrink(self) -> None:
        while self._bytes > self._limit and self._entries:
            _, (_, size, _) = self._entries.popitem(last=False)
            self._bytes -= size

    def __repr__(self) -> str:
        return f"RawCache({len(self._entries)} entries, {self._bytes / 2**20:.0f} MiB of {self._limit / 2**20:.0f} MiB)"


#: The process's raw-data cache (``nx5d.raw_cache``).
raw_cache = RawCache()


def _fresh(identity: DataIdentity | None, storage: Storage) -> bool:
    """Whether something read from files of ``identity`` is still what they hold."""
    if identity is None:
        return False
    try:
        return identity.unchanged(storage)
    except Nx5dError:
        return False


@hookimpl(specname="nx5d_loaded", tryfirst=True)
def raw_in_memory(scan: ScanRef, order: LoadOrder) -> Loaded | None:
    """The raw data kept for the scan object and options, if its files are unchanged."""
    kept = raw_cache.get(order.owner, order.key)
    return kept if kept is not None and _fresh(kept.identity, scan.storage) else None


@hookimpl(specname="nx5d_loaded", wrapper=True)
def keep_raw(scan: ScanRef, order: LoadOrder) -> Generator[None, Loaded, Loaded]:
    """Keep what was loaded (if it fits the limit) and hand out a copy of the caller's own."""
    loaded = yield
    return raw_cache.put(order.owner, order.key, loaded.data, loaded.identity)


@attrs.frozen
class _Kept:
    """A cooked result kept with its scan object: what it was cooked with, from data of which identity."""

    key: str
    identity: DataIdentity | None
    value: Any


def _cook_key(order: CookOrder) -> str:
    return fingerprint({"options": order.options_key, "spice": order.spice})


@hookimpl(specname="nx5d_cooked", tryfirst=True)
def cooked_in_memory(scan: ScanRef, order: CookOrder) -> Any:
    """The result kept with the scan object, if spice and options are the same and its files unchanged."""
    kept = order.memo.get("cooked")
    if (
        order.edited is not None
        or kept is None
        or kept.key != _cook_key(order)
        or not _fresh(kept.identity, scan.storage)
    ):
        return None
    order.identity, order.source = kept.identity, "memory"
    return kept.value


@hookimpl(specname="nx5d_cooked", wrapper=True)
def keep_cooked(scan: ScanRef, order: CookOrder) -> Generator[None, Any, Any]:
    """Keep a result of the files with the scan object; hand out a copy of the caller's own."""
    result = yield
    if order.edited is None and order.source != "memory":
        order.memo["cooked"] = _Kept(_cook_key(order), order.identity, read_only(result))
    return read_only(result, own=order.edited is None)  # a cook of edited data may hand back the user's arrays
