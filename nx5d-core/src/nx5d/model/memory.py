"""Raw data kept in memory: bounded by bytes for the whole process, and read-only.

Every scan keeps the raw data it loaded, per set of loading options, in one
process-wide `RawCache`; when the cache holds more than its limit,
the data used longest ago is let go (and loaded again if asked for).  So a
loop over a proposal's scans does not keep every scan's frames alive.
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
import re
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import numpy as np

__all__ = ["RawCache", "raw_cache", "data_bytes", "read_only", "parse_bytes"]

_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30}


def parse_bytes(text: str | int) -> int:
    """A size in bytes from ``4000000``, ``"4MB"``, ``"1.5 GiB"``."""
    if isinstance(text, int):
        return text
    found = re.fullmatch(r"\s*([0-9.]+)\s*([a-zA-Z]*)\s*", str(text))
    unit = found.group(2).lower() if found else None
    if found is None or unit not in _UNITS:
        raise ValueError(f"a size is a number of bytes, optionally with kB, MB, GB, KiB, MiB, GiB: not {text!r}")
    return int(float(found.group(1)) * _UNITS[unit])


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


def _frozen(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


def _own_array(data: Any) -> Any:
    """``data`` as an array of the caller's own: a read-only view of numpy arrays, a new dask array object.

    Assigning into a dask array changes that array object's task graph;
    a new object over the same graph keeps the assignment to the copy.
    """
    if isinstance(data, np.ndarray):
        return _frozen(data)
    if hasattr(data, "dask") and hasattr(data, "copy"):
        return data.copy()
    return data


def read_only(data: Any) -> Any:
    """A copy of ``data`` that is the caller's own, over the same (read-only) arrays.

    A Dataset or DataArray comes back as a shallow copy whose numpy arrays
    are read-only views, whose dask arrays are new array objects and whose
    attributes are copies: whatever the caller assigns or edits, ``data``
    stays as it was.  Dimension coordinates (pandas indexes) are immutable.
    """
    if isinstance(data, np.ndarray):
        return _frozen(data)
    if not hasattr(data, "variables") and not hasattr(data, "variable"):
        return data
    out = data.copy(deep=False)
    out.attrs = copy.deepcopy(data.attrs)
    variables = out.variables if hasattr(out, "variables") else {None: out.variable, **out.coords.variables}
    for variable in variables.values():
        variable.attrs = copy.deepcopy(variable.attrs)
        if type(variable).__name__ != "IndexVariable":
            variable.data = _own_array(variable.data)
    return out


class RawCache:
    """Loaded raw data of every scan, least recently used first out, at most ``limit`` bytes of arrays.

    Keys are ``(owner, options)``: ``owner`` identifies a scan object,
    ``options`` the loading options.  Data bigger than the whole limit is not
    kept.  Thread-safe.
    """

    def __init__(self, limit: int | None = None) -> None:
        self._entries: OrderedDict[tuple[Hashable, Hashable], tuple[Any, int]] = OrderedDict()
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

    def get(self, owner: Hashable, options: Hashable) -> Any | None:
        """A copy of the data kept for ``(owner, options)`` that is the caller's own (`read_only`), or ``None``."""
        with self._lock:
            entry = self._entries.get((owner, options))
            if entry is None:
                return None
            self._entries.move_to_end((owner, options))
        return read_only(entry[0])

    def put(self, owner: Hashable, options: Hashable, data: Any) -> Any:
        """Keep ``data`` as read-only views for ``(owner, options)`` if it fits; returns a copy of the caller's own."""
        data = read_only(data)
        size = data_bytes(data)
        with self._lock:
            old = self._entries.pop((owner, options), None)
            if old is not None:
                self._bytes -= old[1]
            if size <= self._limit:
                self._entries[(owner, options)] = (data, size)
                self._bytes += size
                self._shrink()
        return read_only(data)

    def holds(self, owner: Hashable) -> list[Any]:
        """Copies of the data kept for ``owner`` (`read_only`), most recently used last."""
        with self._lock:
            kept = [data for (who, _), (data, _) in self._entries.items() if who == owner]
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
            _, (_, size) = self._entries.popitem(last=False)
            self._bytes -= size

    def __repr__(self) -> str:
        return f"RawCache({len(self._entries)} entries, {self._bytes / 2**20:.0f} MiB of {self._limit / 2**20:.0f} MiB)"


#: The process's raw-data cache (``nx5d.raw_cache``).
raw_cache = RawCache()
