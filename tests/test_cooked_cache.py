"""Cooked results kept on disk: used again only while data, spice, options and versions are what they were.

A hit is recognised by what it reads: nothing.  Every part of the key is
changed on its own and must make nx5d cook again; two processes keep
results in one folder at once; damage and the size limit are handled.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
import tifffile

import nx5d
from nx5d.io.results import SUFFIX
from nx5d.io.storage import record_io
from nx5d_udkm.synth import ScanSpec
from nx5d_udkm.synth import write_repository as write_udkm

SMALL = ScanSpec(delays=(-10.0, 50.0), thetas=(18.5, 18.6, 18.7), delay_loops=1, frames=None)
SPICE = {"settings": {"grid_size": [20, 30]}}


@pytest.fixture
def url(tmp_path):
    return write_udkm(tmp_path / "data", {"20210205": ["091726", "101500"]}, SMALL)


def cook(url, key="091726", spice=SPICE, **options):
    """A fresh scan object (as in a new session) cooked; returns the result and how many files were opened."""
    scan = nx5d.open(url, spice_url="")["20210205"][key]
    with record_io() as read:
        cooked = scan.cook(spice, **options)
    return cooked, read.files_opened


def test_a_second_session_reads_the_result_without_reading_data(cache, url):
    first, opened = cook(url)
    assert opened > 6  # the table, the parameters, the frames
    assert len(list(cache.glob(f"*{SUFFIX}"))) == 1
    again, opened = cook(url)
    assert opened == 0
    np.testing.assert_array_equal(again.qdata.values, first.qdata.values)
    assert again.attrs["nx5d_scan_url"] == first.attrs["nx5d_scan_url"]
    assert json.loads(again.attrs["nx5d_spice"]) == json.loads(first.attrs["nx5d_spice"])


def test_changed_data_is_cooked_again(cache, url, tmp_path):
    first, _ = cook(url)
    frame = tmp_path / "data" / "20210205" / "091726" / "image00003.tiff"
    tifffile.imwrite(frame, np.full((195, 487), 7, np.int32), compression="zlib")
    again, opened = cook(url)
    assert opened > 0
    assert not np.array_equal(again.qdata.values, first.qdata.values, equal_nan=True)


def test_data_rewritten_to_the_same_size_is_cooked_again(cache, url, tmp_path):
    cook(url)
    table = tmp_path / "data" / "20210205" / "091726" / "manifest.dat"
    text = table.read_bytes()
    time.sleep(0.01)
    table.write_bytes(text.replace(b"18.500000", b"18.510000"))  # same length, other angles
    _, opened = cook(url)
    assert opened > 0


def test_other_spice_is_cooked_again(cache, url):
    cook(url)
    _, opened = cook(url, spice={"settings": {"grid_size": [21, 30]}})
    assert opened > 0


def test_other_loading_options_are_cooked_again(cache, url):
    cook(url)
    _, opened = cook(url, reduce=2)
    assert opened > 0
    _, opened = cook(url, reduce=2)
    assert opened == 0


def test_other_versions_are_cooked_again(cache, url, monkeypatch):
    import nx5d.extensions.cookedcache as cache_module
    import nx5d.model.scan as scan_module

    cook(url)
    monkeypatch.setattr(cache_module, "__version__", "99.0")
    _, opened = cook(url)
    assert opened > 0
    monkeypatch.setattr(scan_module.Scan, "_plugin", lambda self: "nx5d-udkm 99.0")
    _, opened = cook(url)
    assert opened > 0


def _installed(site, name, version):
    """A distribution ``name`` ``version`` installed (its metadata) in the folder ``site``; the other removed."""
    for old in site.glob(f"{name.replace('-', '_')}-*.dist-info"):
        for item in old.iterdir():
            item.unlink()
        old.rmdir()
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


def test_upgrading_any_nx5d_distribution_cooks_again(cache, url, tmp_path, monkeypatch):
    """A recipe's or a reader's distribution upgraded alone (not the beamline's, not nx5d's) changes results too."""
    from nx5d.plugins.discovery import nx5d_distributions

    site = tmp_path / "site"
    _installed(site, "nx5d-labrecipes", "1.0")
    monkeypatch.syspath_prepend(str(site))
    nx5d_distributions.cache_clear()
    try:
        first, _ = cook(url)
        assert "nx5d-labrecipes 1.0" in first.attrs["nx5d_distributions"]
        assert "nx5d-rsm " in first.attrs["nx5d_distributions"]
        _, opened = cook(url)
        assert opened == 0  # nothing changed: kept
        _installed(site, "nx5d-labrecipes", "1.1")
        nx5d_distributions.cache_clear()  # a new process after the upgrade
        again, opened = cook(url)
        assert opened > 0
        assert "nx5d-labrecipes 1.1" in again.attrs["nx5d_distributions"]
    finally:
        nx5d_distributions.cache_clear()


def test_a_result_kept_for_another_scan_is_never_served(cache, url):
    """An entry copied onto another key's name (by hand, a sync tool) is refused, and the scan cooked afresh."""
    first, _ = cook(url, "091726")
    (mine,) = cache.glob(f"*{SUFFIX}")
    other, _ = cook(url, "101500")
    (theirs,) = set(cache.glob(f"*{SUFFIX}")) - {mine}
    mine.write_bytes(theirs.read_bytes())
    with pytest.warns(nx5d.errors.CacheWarning, match="was kept for another result"):
        again, opened = cook(url, "091726")
    assert opened > 0
    np.testing.assert_array_equal(again.qdata.values, first.qdata.values)
    assert not np.array_equal(first.qdata.values, other.qdata.values, equal_nan=True)  # the entry was another map


def test_a_damaged_result_is_deleted_and_cooked_again(cache, url):
    first, _ = cook(url)
    (kept,) = cache.glob(f"*{SUFFIX}")
    kept.write_bytes(kept.read_bytes()[:100])
    with pytest.warns(nx5d.errors.CacheWarning, match="not a readable entry"):
        again, opened = cook(url)
    assert opened > 0
    np.testing.assert_array_equal(again.qdata.values, first.qdata.values)


def test_the_folder_stays_within_its_limit_dropping_the_least_recently_used(cache, url):
    cook(url, "091726")
    (one,) = cache.glob(f"*{SUFFIX}")
    nx5d.cooked_cache.limit = int(one.stat().st_size * 2.5)  # room for two results
    try:
        cook(url, "101500")
        time.sleep(0.02)
        cook(url, "091726")  # used again: now the most recent
        time.sleep(0.02)
        cook(url, "091726", spice={"settings": {"grid_size": [21, 30]}})  # a third result: the oldest goes
        assert len(list(cache.glob(f"*{SUFFIX}"))) == 2
        assert cook(url, "091726")[1] == 0
        assert cook(url, "101500")[1] > 0
    finally:
        nx5d.cooked_cache.limit = "2GB"


def test_switched_off_nothing_is_kept(cache, url, monkeypatch):
    monkeypatch.setattr(nx5d.cooked_cache, "enabled", False)
    cook(url)
    assert not cache.exists() or not list(cache.glob(f"*{SUFFIX}"))
    assert cook(url)[1] > 0


WRITER = """
import sys, nx5d
nx5d.open(sys.argv[1], spice_url="")["20210205"][sys.argv[2]].cook({"settings": {"grid_size": [int(sys.argv[3]), 30]}})
"""


def test_processes_keeping_results_at_once_leave_every_file_whole(cache, url):
    env = {**os.environ, "NX5D_PROGRESS": "0", "NX5D_CACHE_DIR": str(cache.parent)}
    runs = [
        subprocess.Popen([sys.executable, "-c", WRITER, url, key, str(size)], env=env, stderr=subprocess.PIPE)
        for key in ("091726", "101500")
        for size in (20, 22, 24)
    ]
    for run in runs:
        _, err = run.communicate(timeout=300)
        assert run.returncode == 0, err.decode()
    assert len(list(cache.glob(f"*{SUFFIX}"))) == 6
    assert not list(cache.glob("*.tmp"))
    for key in ("091726", "101500"):
        for size in (20, 22, 24):
            assert cook(url, key, spice={"settings": {"grid_size": [size, 30]}})[1] == 0
