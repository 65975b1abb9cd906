"""Cooking straight from the files gives the maps cooking from loaded frames gives, for every plugin and grouping.

``scan.cooked`` with nothing loaded streams the frames block by block (lazy
raw data, gridded as it is decoded); with raw data loaded it grids the
frames in memory.  Both are compared here on generated data of every
beamline that cooks maps, with and without grouping; and a cook that is
interrupted leaves no thread behind.
"""

from __future__ import annotations

import sys
import threading

import dask
import dask.array as da
import numpy as np
import pytest

import nx5d
import nx5d.io.blocks
import nx5d.io.forked
import nx5d_rsm.points
from nx5d.io.storage import record_io
from nx5d_kmc3.synth import ScanPlan
from nx5d_kmc3.synth import write_repository as write_kmc3
from nx5d_nexus.synth import write_repository as write_nexus
from nx5d_rsm import map_frames
from nx5d_rsm.geometry import Setup
from nx5d_udkm.synth import REFERENCE_DELAYS, ScanSpec
from nx5d_udkm.synth import write_repository as write_udkm

UDKM = ScanSpec(delays=(-10.0, 0.0, 50.0), thetas=(18.4, 18.5, 18.6, 18.7), delay_loops=2, frames=None)
#: More frames than a block held in memory had (64): the blocks of both ways differed, and so did the bits
LONG = ScanSpec(
    delays=(-10.0, 0.0, 20.0, 50.0), thetas=tuple(18.3 + 0.05 * i for i in range(7)), delay_loops=3, frames=None
)


def _both(scan, spice):
    """The maps streamed from the files (nothing loaded), and cooked from the frames loaded in memory."""
    scan.reload()
    streamed = scan.cook(spice)
    assert nx5d.raw_cache.holds(scan._nx5d_cache_owner) == []  # the frames were never all in memory
    scan.reload()
    scan.load(lazy=False)
    loaded = scan.cook(spice)
    return streamed, loaded


def _same(streamed, loaded):
    """The same bits: a map never depends on whether the scan's raw data was looked at first."""
    assert streamed.qdata.dims == loaded.qdata.dims
    for name in ("qdata", "qdata_variance", "weight", "intensity_variance", "pixels"):
        np.testing.assert_array_equal(streamed[name].values, loaded[name].values)
    np.testing.assert_array_equal(streamed.frames.values, loaded.frames.values)
    for name in streamed.qdata.dims:
        np.testing.assert_array_equal(streamed[name].values, loaded[name].values)


@pytest.mark.parametrize("recipe", ["delay-rsm", "rsm"])
def test_udkm_streamed_and_loaded_maps_agree(tmp_path, recipe):
    repo = nx5d.open(write_udkm(tmp_path, {"20210205": ["091726"]}, UDKM), spice_url="")
    spice = {"settings": {"grid_size": [30, 40]}, "recipes": {"by_type": {"*": recipe}}}
    streamed, loaded = _both(repo.p20210205.r091726, spice)
    _same(streamed, loaded)
    assert streamed.qdata.dims == (("delay",) if recipe == "delay-rsm" else ()) + ("qy", "qz")


@pytest.mark.parametrize("points_at_once", [None, 997])
def test_a_map_has_the_same_bits_whether_raw_was_looked_at_first(tmp_path, monkeypatch, points_at_once):
    """84 frames of the reference delays (more than a block of frames in memory had: 64), the default spice;
    also gridded in batches of 997 points, cut inside blocks of frames and inside frames."""
    monkeypatch.setattr(nx5d.cooked_cache, "enabled", False)  # both cooked here, not the first remembered
    if points_at_once:
        monkeypatch.setattr(nx5d_rsm.points, "POINTS_AT_ONCE", points_at_once)
    url = write_udkm(tmp_path, {"20210205": ["091726"]}, ScanSpec(delays=REFERENCE_DELAYS[:4], frames=84))
    first = nx5d.open(url, spice_url="").p20210205.r091726.cooked
    scan = nx5d.open(url, spice_url="").p20210205.r091726
    assert scan.raw.sizes["index"] == 84
    again = scan.cooked  # cooked from the frames in memory
    for name in ("qdata", "qdata_variance", "intensity_variance"):
        np.testing.assert_array_equal(first[name].values, again[name].values)


@pytest.mark.parametrize("form", ["hdf5", "spec"])
@pytest.mark.parametrize("group_by", ["delay", None])
def test_kmc3_streamed_and_loaded_maps_agree(tmp_path, form, group_by):
    url = write_kmc3(
        f"file://{tmp_path}/h5/{{proposal}}/{{proposal}}.h5#{{scan}}",
        {"253-cw38-12345-doe": (ScanPlan("delay", points=40, frame_shape=(40, 60)),)},  # blocks of 8: 5
        sources=tmp_path / "spec",
    )
    if form == "spec":
        url = f"file://{tmp_path}/spec/{{proposal}}/{{proposal}}.spec#{{scan}}"
    scan = nx5d.open(url, spice_url="").doe12345["1.1"]
    spice = {"settings": {"img_center": [20.0, 30.0], "grid_size": [20, 30], "group_by": group_by}}
    _same(*_both(scan, spice))


def test_nexus_maps_grouped_by_any_counter_agree(tmp_path):
    scan = nx5d.open(write_nexus(tmp_path, {"hc2103": [1]}, "bliss"), spice_url="").hc2103["1.1"]
    spice = {
        "recipes": {"by_type": {"*": "rsm"}},
        "settings": {
            "sample_motors": ["eta"],
            "sample_axes": ["y-"],
            "detector_motors": ["delta"],
            "detector_axes": ["y-"],
            "img_center": [8.0, 10.0],
            "grid_size": [15, 25],
            "group_by": "mon",
        },
    }
    streamed, loaded = _both(scan, spice)
    _same(streamed, loaded)
    assert streamed.qdata.dims[0] == "mon"


def test_cooking_keeps_raw_data_loaded_with_other_options_and_loads_no_stack(tmp_path):
    scan = nx5d.open(write_udkm(tmp_path, {"20210205": ["091726"]}, UDKM), spice_url="").p20210205.r091726
    halved = scan.load(reduce=2)
    scan.cook({"settings": {"grid_size": [30, 40]}})  # full resolution: streamed, not loaded
    (kept,) = nx5d.raw_cache.holds(scan._nx5d_cache_owner)
    assert kept.identical(halved)
    with record_io() as read:
        assert scan.load(reduce=2).identical(halved)
    assert read.files_opened == 0


def _blocks_running() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("nx5d-blocks")]


def test_an_interrupted_cook_leaves_no_thread_behind():
    setup = Setup(
        energy=8048.0,
        sample_axes=("y-",),
        detector_axes=("y-",),
        center=(5.0, 7.0),
        distance=500.0,
        pixel_size=(0.172, 0.172),
        directions=("y-", "z+"),
    )
    theta = np.linspace(20.0, 21.0, 40)
    calls = []

    def block(i):
        calls.append(i)
        if i == 5:
            raise KeyboardInterrupt  # the user pressing Ctrl-C while block 5 is decoded
        return np.ones((4, 10, 14), np.int32)

    images = da.concatenate([da.from_delayed(dask.delayed(block)(i), (4, 10, 14), np.int32) for i in range(10)], axis=0)
    with pytest.raises(KeyboardInterrupt):
        map_frames(setup, [theta], [2 * theta], images, grid_size=(8, 9))
    assert _blocks_running() == []
    assert len(calls) < 10  # blocks after the interruption were not read


@pytest.mark.parametrize("workers", [1, 2, None])
def test_a_loaded_scan_is_cooked_without_reading_its_frames_again(tmp_path, workers):
    """Raw data loaded with any ``workers=`` (how the frames are decoded, not what) serves the cook in memory."""
    repo = nx5d.open(write_udkm(tmp_path, {"20210205": ["091726"]}, UDKM), spice_url="")
    scan = repo.p20210205.r091726
    spice = {"settings": {"grid_size": [30, 40]}}
    options = {} if workers is None else {"workers": workers}
    with record_io() as loading:
        scan.load(lazy=False, **options)
    assert len({url for url in loading.urls if url.endswith(".tiff")}) == 24
    with record_io() as cooking:
        cooked = scan.cook(spice)
    assert [url for url in cooking.urls if url.endswith(".tiff")] == []
    assert scan.load(workers=3).images.shape[0] == 24  # served from memory too
    scan.reload()
    _same(scan.cook(spice), cooked)  # and the maps are the ones the files give


def test_loaded_raw_serves_loads_with_other_decoding_threads_only(tmp_path):
    """Options that change the data (``reduce``) are still loaded on their own."""
    repo = nx5d.open(write_udkm(tmp_path, {"20210205": ["091726"]}, UDKM), spice_url="")
    scan = repo.p20210205.r091726
    scan.load(workers=1)
    with record_io() as again:
        assert scan.load(workers=2, reduce=2).images.shape[1:] == (98, 244)
    assert len({url for url in again.urls if url.endswith(".tiff")}) == 24


def test_streamed_frames_are_read_a_few_at_a_time(tmp_path):
    """A cook streaming a scan holds one small block of frames per thread, whatever the dask chunks are."""
    from nx5d.io.blocks import STREAM_FRAMES, map_blocks
    from nx5d.io.storage import Storage
    from nx5d_tiff.files import lazy_frames

    write_udkm(tmp_path, {"20210205": ["091726"]}, UDKM)
    urls = [f"file://{path}" for path in sorted((tmp_path / "20210205" / "091726").glob("image*.tiff"))]
    images = lazy_frames(Storage(), urls, chunk=24).data
    assert images.chunks[0] == (24,)
    done = list(map_blocks(images, lambda part, block: block.sum(axis=(1, 2))))
    sizes = [STREAM_FRAMES] * (24 // STREAM_FRAMES) + ([24 % STREAM_FRAMES] if 24 % STREAM_FRAMES else [])
    assert [part.stop - part.start for part, _ in done] == sizes
    np.testing.assert_array_equal(np.concatenate([sums for _, sums in done]), images.sum(axis=(1, 2)).compute())


def test_frames_loaded_lazily_are_cooked_from_their_files_block_by_block(tmp_path, monkeypatch):
    """``scan.load(lazy=True)`` hands out a copy of the lazy frames; cooking it reads blocks straight from the
    files (no dask task: 5.5 s instead of 1 s on the reference scan), and an assignment into the copy is cooked."""
    from dask.callbacks import Callback

    monkeypatch.setattr(nx5d.cooked_cache, "enabled", False)
    repo = nx5d.open(write_udkm(tmp_path, {"20210205": ["091726"]}, UDKM), spice_url="")
    scan = repo.p20210205.r091726
    spice = {"settings": {"grid_size": [30, 40]}}
    streamed = scan.cook(spice)
    lazy = scan.load(lazy=True)
    tasks = []

    class Count(Callback):
        def _start_state(self, dsk, state):
            tasks.append(len(state["ready"]) + len(state["waiting"]))

    with Count():
        again = scan.cook(spice, raw=lazy)
    assert tasks == []
    _same(again, streamed)

    edited = lazy.copy()
    edited["images"] = edited.images.copy()
    edited.images.data[0] = edited.images.data[0] * 0 + 1000  # dask assignment: a new graph
    with Count():
        cooked = scan.cook(spice, raw=edited)
    assert tasks  # the edited frames were computed, not read afresh
    assert cooked.attrs["nx5d_raw"].startswith("edited")
    assert not np.array_equal(cooked.qdata.values, streamed.qdata.values, equal_nan=True)


@pytest.mark.skipif(sys.platform != "linux", reason="worker processes are forked on Linux only")
def test_maps_streamed_by_worker_processes_are_the_maps_threads_make(tmp_path, monkeypatch):
    """Frames read and turned into points in forked processes: the same bits, and every file in the identity."""
    monkeypatch.setattr(nx5d.cooked_cache, "enabled", False)
    monkeypatch.setattr(nx5d.io.blocks, "FORK_FROM_BLOCKS", 1)  # the scan has 84 frames: 11 blocks
    monkeypatch.setattr(nx5d.io.forked, "PARTS_PER_MESSAGE", 3)
    monkeypatch.delenv("NX5D_FORK", raising=False)
    forks = []
    fork = nx5d.io.forked._fork
    monkeypatch.setattr(nx5d.io.forked, "_fork", lambda: forks.append(1) or fork())
    url = write_udkm(tmp_path, {"20210205": ["091726"]}, LONG)
    spice = {"settings": {"grid_size": [30, 40]}}
    scan = nx5d.open(url, spice_url="").p20210205.r091726
    with record_io() as reading:
        forked = scan.cook(spice)
    assert len(forks) == 2
    frames = sorted(str(p) for p in (tmp_path / "20210205" / "091726").glob("image*.tiff"))
    assert len(frames) == 84
    assert sorted({u.removeprefix("file://") for u in reading.urls if u.endswith(".tiff")}) == frames
    assert forked.attrs["nx5d_data_files"] > 84

    monkeypatch.setenv("NX5D_FORK", "0")
    scan.reload()
    threaded = scan.cook(spice)
    assert len(forks) == 2
    _same(forked, threaded)
    assert threaded.attrs["nx5d_data_identity"] == forked.attrs["nx5d_data_identity"]
