"""Kept results shared by processes: one deletes what it read as stale while another keeps a fresh one."""

from __future__ import annotations

import os
import warnings

import numpy as np
import xarray as xr

from nx5d.errors import CacheWarning
from nx5d.io.results import ResultStore

KEY = "0123abcd"


def _kept(value: float) -> xr.Dataset:
    return xr.Dataset({"qdata": ("qx", np.full(4, value))})


def _stores(tmp_path):
    """Two processes' views of one cache folder (each its own store, as each process has)."""
    return ResultStore(tmp_path / "cooked", 1 << 20), ResultStore(tmp_path / "cooked", 1 << 20)


def test_a_stale_entry_removed_after_another_process_kept_a_fresh_one_leaves_the_fresh_one(tmp_path):
    """A reads the old entry and finds its files changed; B cooks and keeps the fresh one; A discards.

    A deleted by name: B's fresh entry went, and the next reader cooked again for nothing.
    """
    first, second = _stores(tmp_path)
    assert first.put(KEY, {"made": "before"}, _kept(1.0))
    read, _ = first.get(KEY)
    assert read["made"] == "before"
    assert second.put(KEY, {"made": "after"}, _kept(2.0))
    first.discard(KEY, read)  # what it read is stale
    fresh, data = second.get(KEY)
    assert fresh["made"] == "after"
    assert data.qdata.values.tolist() == [2.0] * 4
    second.discard(KEY, fresh)  # what it read itself: gone
    assert first.get(KEY) is None


def test_a_fresh_entry_made_in_the_freed_file_of_a_stale_one_stays(tmp_path):
    """Both read the old entry; B removes it and keeps a fresh one, which the file system may give the old
    entry's inode number; A then removes what it read: the fresh entry stays (inode numbers cannot tell)."""
    first, second = _stores(tmp_path)
    assert first.put(KEY, {"made": "before"}, _kept(1.0))
    read_by_first, _ = first.get(KEY)
    read_by_second, _ = second.get(KEY)
    second.discard(KEY, read_by_second)
    assert second.put(KEY, {"made": "after"}, _kept(1.0))  # the same size as the old one
    first.discard(KEY, read_by_first)
    assert second.get(KEY)[0]["made"] == "after"


def test_an_entry_rejected_after_another_process_replaced_it_stays(tmp_path):
    first, second = _stores(tmp_path)
    assert first.put(KEY, {"made": "before"}, _kept(1.0))
    read, _ = first.get(KEY)
    assert second.put(KEY, {"made": "after"}, _kept(2.0))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always", CacheWarning)
        first.reject(KEY, ValueError("its identity cannot be read"), read)
    assert second.get(KEY)[0]["made"] == "after"
    assert not [name for name in os.listdir(tmp_path / "cooked") if name.endswith(".tmp")]
