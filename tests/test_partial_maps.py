"""Maps that grow while a scan is measured: ``follow(partial=...)`` while another process writes a SPEC scan.

The writer appends one point every 0.8 s (its line detector's ``@A`` spectrum and its data line) and notes
when; the follower must hand out at least three partial maps, each holding every point written before
the look that made it, and then the complete scan's map, equal to cooking the finished scan afterwards.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import time

import numpy as np
import xarray as xr

import nx5d
from nx5d_spec.synth import Dialect, write_spec

from .following import assert_partial_maps_are_fresh

POINT_WRITER = """
import sys, time
source, target, times, interval = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
lines = open(source).read().split("\\n")
first = next(i for i, line in enumerate(lines) if line.startswith("@A"))
with open(target, "a") as out, open(times, "w") as log:
    out.write("\\n".join(lines[:first]) + "\\n"); out.flush()
    for start in range(first, len(lines) - 1, 3):  # @A line, its continuation, the data line
        out.write("\\n".join(lines[start : start + 3]) + "\\n"); out.flush()
        log.write(f"{time.time()!r}\\n"); log.flush()
        time.sleep(interval)
"""

SPICE = {
    "settings": {
        "energy": 8048.0,
        "sample_motors": ["Theta"],
        "detector_motors": ["Two Theta"],
        "q_axes": ["qx", "qz"],
        "grid_size": [20, 30],
    },
    "line_detector": {"spectra": "mca", "direction": "z+", "center_channel": 7.5, "channels_per_degree": 10.0},
    "recipes": {"by_type": {"*": "line-rsm"}},
}


def _repository(folder):
    return nx5d.open(f"file://{folder}/{{proposal}}.spec#{{scan}}", beamline="spec", spice_url="")


def test_partial_maps_arrive_while_the_scan_grows_and_the_last_equals_the_finished_cook(tmp_path):
    source = write_spec(tmp_path / "source.spec", scans=1, dialect=Dialect(mca=True), seed=4)
    target, times = tmp_path / "data" / "beamtime.spec", tmp_path / "times.txt"
    target.parent.mkdir()
    target.write_text("")  # the beamtime's file, before the scan starts
    proposal = _repository(tmp_path / "data").beamtime
    for handle, fields in SPICE.items():
        proposal.spice.seed(handle, **fields)
    writer = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(POINT_WRITER), str(source), str(target), str(times), "0.8"],
        stderr=subprocess.PIPE,
    )
    arrivals = []
    try:
        for arrival in proposal.follow(poll=0.05, settle=2.0, partial=0.0, idle_timeout=3.0):
            arrivals.append((time.time(), arrival))
    finally:
        assert writer.wait(timeout=60) == 0, writer.stderr.read().decode()
    written = [float(line) for line in times.read_text().split()]
    partial = [(when, a) for when, a in arrivals if a.partial]
    assert len(partial) >= 3, [(a.note, when) for when, a in arrivals]
    for _, arrival in partial:
        assert arrival.error is None
        points = int(arrival.cooked.frames)
        assert arrival.cooked.attrs["nx5d_partial"] == f"{points} points of a scan being measured"
    assert_partial_maps_are_fresh(arrivals, written)
    counts = [int(a.cooked.frames) for _, a in partial]
    assert counts == sorted(counts)
    assert sum(count < 11 for count in counts) >= 3  # the last may hold all: read once the 11th point was in
    final = [a for _, a in arrivals if not a.partial]
    assert [a.scan.key for a in final] == ["1.1"]
    assert int(final[0].cooked.frames) == 11
    assert "nx5d_partial" not in final[0].cooked.attrs
    afterwards = _repository(tmp_path / "data").beamtime["1.1"].cook(SPICE)  # the finished scan, cooked anew
    for name in ("qdata", "weight", "qdata_variance", "pixels"):
        xr.testing.assert_identical(final[0].cooked[name], afterwards[name])
    assert np.isfinite(afterwards.qdata).any()
    assert "nx5d_partial" not in proposal["1.1"].cooked.attrs  # a partial map is never the scan's cooked data


def test_watch_partial_prints_the_growing_scan_and_writes_its_map_so_far_for_a_viewer(tmp_path):
    """``--out``: each partial map replaces ``SCAN.partial.nc`` whole (a viewer reading it meanwhile never finds
    a torn file), and the file is gone once the final ``SCAN.nc`` is written."""
    source = write_spec(tmp_path / "source.spec", scans=1, dialect=Dialect(mca=True), seed=5)
    target = tmp_path / "data" / "beamtime.spec"
    target.parent.mkdir()
    target.write_text("")
    writer = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(POINT_WRITER), str(source), str(target), str(tmp_path / "t"), "0.8"],
        stderr=subprocess.PIPE,
    )
    watching = subprocess.Popen(
        [sys.executable, "-m", "nx5d", "watch", f"file://{tmp_path}/data/{{proposal}}.spec#{{scan}}", "beamtime",
         "--partial", "0", "--poll", "0.05", "--settle", "2", "--idle-timeout", "3", "--beamline", "spec",
         "--out", str(tmp_path / "out")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    partial_file, seen = tmp_path / "out" / "beamtime" / "1.1.partial.nc", []
    try:
        while watching.poll() is None:  # a viewer: opens the map so far whenever it is there
            if partial_file.exists():
                try:
                    with xr.open_dataset(partial_file, engine="h5netcdf") as shown:
                        seen.append((shown.sizes["Theta"], shown.attrs["nx5d_partial"]))
                except FileNotFoundError:
                    pass  # removed between the look and the opening: the final map is written
            time.sleep(0.02)
        stdout, stderr = watching.communicate(timeout=120)
    finally:
        assert writer.wait(timeout=60) == 0, writer.stderr.read().decode()
    assert watching.returncode == 0, stderr
    lines = stdout.splitlines()
    assert len(lines) >= 2, (lines, stderr)  # the command starts while the scan is written: how soon varies
    for line in lines[:-1]:
        assert re.fullmatch(
            rf"1\.1: partial: ascan; cooked \(Theta (\d+)\) -> {re.escape(str(partial_file))} \(partial: \1 points\)",
            line,
        ), line
    assert lines[-1].startswith("1.1: ascan 11 steps; cooked"), lines
    assert lines[-1].endswith(f"-> {tmp_path / 'out' / 'beamtime' / '1.1.nc'}"), lines
    assert seen, "the viewer never found the map so far"
    assert all(text == f"{frames} points of a scan being measured" for frames, text in seen)
    assert [frames for frames, _ in seen] == sorted(frames for frames, _ in seen)
    assert [p.name for p in (tmp_path / "out" / "beamtime").iterdir()] == ["1.1.nc"]  # the map so far is gone
    with xr.open_dataset(tmp_path / "out" / "beamtime" / "1.1.nc", engine="h5netcdf") as final:
        assert "nx5d_partial" not in final.attrs
        assert final.sizes["Theta"] == 11
