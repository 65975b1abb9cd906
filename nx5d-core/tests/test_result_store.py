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
    entry, _ = first.get(KEY)
    assert entry["made"] == "before"
    assert second.put(KEY, {"made": "after"}, _kept(2.0))
    first.discard(KEY)  # what it read is stale
    entry, data = second.get(KEY)
    assert entry["made"] == "after"
    assert data.qdata.values.tolist() == [2.0] * 4
    first.discard(KEY)  # what it read is gone; it read nothing since
    assert first.get(KEY) is None


def test_an_entry_rejected_after_another_process_replaced_it_stays(tmp_path):
    first, second = _stores(tmp_path)
    assert first.put(KEY, {"made": "before"}, _kept(1.0))
    assert first.get(KEY) is not None
    assert second.put(KEY, {"made": "after"}, _kept(2.0))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always", CacheWarning)
        first.reject(KEY, ValueError("its identity cannot be read"))
    assert second.get(KEY)[0]["made"] == "after"
    assert not [name for name in os.listdir(tmp_path / "cooked") if name.endswith(".tmp")]
