"""Partial maps of scans written by the formats' own writers while they are followed: UDKM TIFF folders, BLISS HDF5.

A writer process replays a scan point by point, each point's detector frame written in two steps with a
pause between (a TIFF's first bytes, then the rest; an HDF5 frame dataset extended, then the frame written),
and notes when each point was whole.  The follower must hand out at least three partial maps, each
holding every point whole before the look that made it, none holding a point not yet whole: each partial
map is identical to cooking the same first points of the finished scan -- a frame read half written would
differ.  The scan's final map is identical to cooking the finished scan afterwards.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
import warnings

import h5py
import numpy as np
import pytest
import xarray as xr

import nx5d
from nx5d.errors import CookWarning, DataWarning
from nx5d.io.hdf5 import written_length
from nx5d.recipes.contract import Growing, growing
from nx5d_nexus.synth import scan_data, write_growing
from nx5d_udkm.synth import ScanSpec, write_scan

from .following import assert_partial_maps_are_fresh

MAP_VARIABLES = ("qdata", "weight", "qdata_variance", "intensity_variance", "pixels", "frames")
NEXUS_SPICE = {
    "settings": {"sample_motors": ["eta"], "detector_motors": ["delta"], "grid_size": [20, 30], "img_center": [12, 10]}
}
UDKM_SPICE = {"settings": {"grid_size": [20, 30]}}

UDKM_REPLAY = """
import shutil, sys, time
from pathlib import Path
source, target, log = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
interval, pause = float(sys.argv[4]), float(sys.argv[5])
target.mkdir(parents=True)
for found in source.glob("parameters*"):
    shutil.copy(found, target / found.name)
images = sorted(p for p in source.iterdir() if p.suffix in (".tif", ".tiff"))
table = next(p for p in source.iterdir() if p.suffix == ".dat")
chunks, pending = [], []
for line in table.read_bytes().splitlines(keepends=True):
    pending.append(line)
    if not line.startswith(b"%"):  # a data row ends a point's lines (the header, its frame line)
        chunks.append(b"".join(pending)); pending = []
assert len(chunks) == len(images)
for rows, image in zip(chunks, images):
    with open(target / table.name, "ab") as out:
        out.write(rows)
    data = image.read_bytes()
    with open(target / image.name, "wb") as out:  # the frame's first half, then the rest
        out.write(data[: len(data) // 2]); out.flush()
        time.sleep(pause)
        out.write(data[len(data) // 2 :])
    with open(log, "a") as out:
        out.write(f"{time.time()!r}\\n")
    time.sleep(interval)
"""


def _follow(proposal, writer: subprocess.Popen) -> list:
    arrivals = []
    try:
        for arrival in proposal.follow(poll=0.05, settle=3.0, partial=0.0, idle_timeout=4.0):
            arrivals.append((time.time(), arrival))
    finally:
        assert writer.wait(timeout=120) == 0, writer.stderr.read().decode() if writer.stderr else ""
    return arrivals


def _assert_same_maps(partial, reference):
    """Equal to rounding (bins' sums added in another order), the counts and the grid exactly."""
    for name in ("qdata", "weight", "qdata_variance", "intensity_variance"):
        np.testing.assert_allclose(partial[name].values, reference[name].values, rtol=1e-12, atol=1e-300)
    for name in ("pixels", "frames"):
        np.testing.assert_array_equal(partial[name].values, reference[name].values)
    for name in reference.coords:
        xr.testing.assert_identical(partial[name], reference[name])


def _assert_partial_then_final(arrivals, written, finished, spice, points):
    """At least three partial maps, each of whole points only and none stale, then the finished scan's map."""
    partial = [(when, a) for when, a in arrivals if a.partial]
    assert len(partial) >= 3, [(a.note, when) for when, a in arrivals]
    held_by = [int(a.cooked.frames.sum()) for _, a in partial]
    assert held_by == sorted(set(held_by)), held_by  # a map of the same points is not handed out again
    raw = finished.raw
    assert_partial_maps_are_fresh(arrivals, written)
    for _, arrival in partial:
        assert arrival.error is None
        held = int(arrival.cooked.frames.sum())
        assert 0 < held <= points  # all of them where the file does not say the scan ended (UDKM)
        assert arrival.cooked.attrs["nx5d_partial"] == f"{held} points of a scan being measured"
        with growing(Growing()), warnings.catch_warnings():  # the same points at once, as the follower maps them
            warnings.simplefilter("ignore", CookWarning)
            same = finished.cook(spice, raw=raw.isel(index=slice(0, held)))
        _assert_same_maps(arrival.cooked, same)  # a frame read half written (zeros) would differ
    final = [a for _, a in arrivals if not a.partial]
    assert len(final) == 1, final
    assert final[0].error is None
    assert int(final[0].cooked.frames.sum()) == points
    afterwards = finished.cook(spice)
    for name in MAP_VARIABLES:
        xr.testing.assert_identical(final[0].cooked[name], afterwards[name])
    assert np.isfinite(afterwards.qdata).any()
    return [a.cooked for _, a in partial]


def test_partial_maps_of_a_udkm_folder_while_its_tiffs_are_written(tmp_path):
    spec = ScanSpec(delays=(-10.0, 50.0), thetas=(18.4, 18.5, 18.6, 18.7, 18.8), delay_loops=1, frames=None)
    source = write_scan(tmp_path / "source" / "20210205" / "101500", spec)
    log = tmp_path / "written.txt"
    repository = nx5d.open(f"file://{tmp_path}/data/{{proposal}}/{{scan}}", beamline="udkm", spice_url="")
    (tmp_path / "data" / "20210205").mkdir(parents=True)
    proposal = repository["20210205"]
    for handle, fields in UDKM_SPICE.items():
        proposal.spice.seed(handle, **fields)
    nx5d.open(f"file://{tmp_path}/source/{{proposal}}/{{scan}}", spice_url="")["20210205"]["101500"].cook(UDKM_SPICE)
    target = tmp_path / "data" / "20210205" / "101500"
    writer = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(UDKM_REPLAY), str(source), str(target), str(log), "0.6", "0.15"],
        stderr=subprocess.PIPE,
    )
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always", CookWarning)
        arrivals = _follow(proposal, writer)
    written = [float(line) for line in log.read_text().split()]
    finished = nx5d.open(f"file://{tmp_path}/data/{{proposal}}/{{scan}}", beamline="udkm", spice_url="")
    _assert_partial_then_final(arrivals, written, finished["20210205"]["101500"], UDKM_SPICE, 10)
    anew = [str(w.message) for w in said if issubclass(w.category, CookWarning)]
    assert len(anew) == 1, anew  # said once, not at every partial map
    assert "are cooked anew from all points so far at each update" in anew[0]  # no command plans its thetas


def test_partial_maps_of_a_bliss_file_written_in_swmr_mode(tmp_path):
    folder, log = tmp_path / "data" / "hc2103", tmp_path / "written.txt"
    folder.mkdir(parents=True)
    h5py.File(folder / "hc2103.h5", "w").close()  # the beamtime's file, before the scan starts
    url = f"file://{tmp_path}/data/{{proposal}}/{{proposal}}.h5#{{scan}}"
    proposal = nx5d.open(url, spice_url="").hc2103
    for handle, fields in NEXUS_SPICE.items():
        proposal.spice.seed(handle, **fields)
    write_growing(tmp_path / "warm.h5", points=3)
    nx5d.open(f"file://{tmp_path}/{{proposal}}.h5#{{scan}}", spice_url="").warm["1.1"].cook(NEXUS_SPICE)
    code = f"from nx5d_nexus.synth import write_growing; write_growing({str(folder / 'hc2103.h5')!r}, points=12, "
    code += f"interval=0.5, pause=0.15, log={str(log)!r})"
    writer = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CookWarning)  # 'ascan eta 16.91 17.71 11 1' plans the grid: no full re-cooks
        arrivals = _follow(proposal, writer)
    written = [float(line) for line in log.read_text().split()]
    finished = nx5d.open(url, spice_url="").hc2103["1.1"]
    maps = _assert_partial_then_final(arrivals, written, finished, NEXUS_SPICE, 12)
    for later in maps[1:]:  # one grid, fixed from the command: the points were added to it
        for name in maps[0].coords:
            xr.testing.assert_identical(later[name], maps[0][name])


def test_a_frame_the_writer_made_room_for_but_did_not_write_is_not_read(tmp_path):
    folder = tmp_path / "data" / "hc2103"
    folder.mkdir(parents=True)
    write_growing(folder / "hc2103.h5", points=6, stop=4)  # as a reader finds it amid point 4
    with h5py.File(folder / "hc2103.h5", "r") as h5:
        image = h5["1.1/instrument/mpx/image"]
        assert image.shape[0] == 5
        assert not image[4].any()  # what HDF5 returns for it: zeros, and no error
        assert written_length(image, "the frames") == 4
    scan = nx5d.open(f"file://{tmp_path}/data/{{proposal}}/{{proposal}}.h5#{{scan}}", spice_url="").hc2103["1.1"]
    with pytest.warns(DataWarning, match=r"4 detector frames for 5 counter values \(scan still being written\?\)"):
        raw = scan.raw
    assert raw.sizes["index"] == 4
    np.testing.assert_array_equal(raw.images.values, scan_data(1, 6)["frames"][:4])
    np.testing.assert_array_equal(raw.eta.values, scan_data(1, 6)["counters"]["eta"][:4])


@pytest.mark.parametrize(("shape", "chunks", "written", "expected"), [
    ((6, 4, 5), (1, 4, 5), {0: 4, 1: 4, 2: 4}, 3),
    ((6, 4, 5), (1, 2, 5), {0: 4, 1: 4, 2: 2}, 2),  # frame 2 has one of its two chunks: not whole
    ((7, 4, 5), (3, 4, 5), {0: 4, 1: 4, 2: 4, 3: 4}, 6),  # a stored chunk of three frames: all three count
    ((6, 4, 5), (1, 4, 5), {0: 4, 2: 4, 3: 4}, 1),  # a frame missing in the middle: nothing after it counts
    ((6, 4, 5), (1, 4, 5), dict.fromkeys(range(6), 4), 6),
    ((0, 4, 5), (1, 4, 5), {}, 0),
])  # fmt: skip
def test_written_length_counts_the_frames_whose_chunks_are_stored(tmp_path, shape, chunks, written, expected):
    with h5py.File(tmp_path / "f.h5", "w") as h5:
        dataset = h5.create_dataset("frames", shape=shape, chunks=chunks, dtype="i4", maxshape=(None, *shape[1:]))
        for frame, rows in written.items():  # rows of the frame written
            dataset[frame, :rows] = 1
        h5.create_dataset("fixed", data=np.ones(shape, "i4"))
    with h5py.File(tmp_path / "f.h5", "r") as h5:
        assert written_length(h5["frames"], "f.h5#frames") == expected
        assert written_length(h5["fixed"], "f.h5#fixed") == shape[0]


def test_the_generated_growing_file_reads_as_the_generated_scan(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # whole: nothing is cut
        write_growing(tmp_path / "hc2103.h5", points=6)
        raw = nx5d.open(f"file://{tmp_path}/{{proposal}}.h5#{{scan}}", spice_url="").hc2103["1.1"].raw
    data = scan_data(1, 6)
    np.testing.assert_array_equal(raw.images.values, data["frames"])
    for name, values in data["counters"].items():
        np.testing.assert_array_equal(raw[name].values, values)
