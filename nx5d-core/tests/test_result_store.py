"""Kept results shared by processes: one deletes what it read as stale while another keeps a fresh one."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
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


@pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0, reason="a second user needs root (Linux)")
def test_users_sharing_a_cache_folder_keep_a_result_of_the_same_scan_each():
    """``NX5D_CACHE_SHARED=1``: one name per key made each user's result another's 'damaged' entry.

    The other user's file under the same name was warned of as belonging to another user and removed, or
    (in a folder with the sticky bit) could neither be removed nor replaced, so nothing was kept.
    """
    folder = Path(tempfile.mkdtemp(prefix="nx5d-shared-cache-", dir="/tmp"))  # pytest's folders are private
    folder.chmod(0o1777)  # a group scratch folder, as /tmp is
    try:
        _keep_one_each(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _keep_one_each(folder: Path) -> None:
    mine = ResultStore(folder, 1 << 20, shared=True)
    assert mine.put(KEY, {"made": "by root"}, _kept(1.0))
    child = os.fork()
    if child == 0:  # the other user keeps and reads its own
        code = 1
        try:
            os.setgid(60000)
            os.setuid(60001)
            theirs = ResultStore(folder, 1 << 20, shared=True)
            with warnings.catch_warnings():
                warnings.simplefilter("error", CacheWarning)
                kept = theirs.put(KEY, {"made": "by 60001"}, _kept(2.0))
                code = 0 if kept and theirs.get(KEY)[0]["made"] == "by 60001" else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        assert mine.get(KEY)[0]["made"] == "by root"
    assert sorted(p.name.split(".")[1] for p in folder.iterdir() if not p.name.startswith(".")) == ["u0", "u60001"]
