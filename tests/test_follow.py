"""Following a beamtime: another process writes scans into a SPEC file and an HDF5 file while nx5d follows.

Each scan must come out once, complete (all its points), cooked; a scan
whose frame is not fully written yet is tried again and comes out right.
"""

from __future__ import annotations

import functools
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import nx5d
from nx5d.errors import OptionError
from nx5d_nexus.synth import write_repository as write_nexus
from nx5d_spec.synth import write_spec
from nx5d_udkm.synth import ScanSpec
from nx5d_udkm.synth import write_repository as write_udkm

from .following import ScriptedTime

SPEC_WRITER = """
import sys, time
print("ready", flush=True)
source, target = sys.argv[1], sys.argv[2]
text = open(source).read()
cuts = [i for i in range(len(text)) if text.startswith("\\n#S ", i)] + [len(text)]
with open(target, "w") as out:
    out.write(text[: cuts[0] + 1])  # the file header
    out.flush()
    for start, stop in zip(cuts, cuts[1:]):
        body = text[start + 1 : stop + 1]
        half = body.index("\\n", len(body) // 2) + 5  # the middle of a data line: a scan being written
        out.write(body[:half]); out.flush(); time.sleep(0.3)
        out.write(body[half:]); out.flush(); time.sleep(0.3)
"""


def _start(code: str, *args: str) -> subprocess.Popen:
    """A writer process, once it says it is ready (Python and its imports can take seconds on a loaded machine)."""
    writer = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert writer.stdout is not None
    if writer.stdout.readline() != b"ready\n":
        writer.wait(timeout=60)
        pytest.fail(f"the writer did not start: {writer.stderr.read().decode() if writer.stderr else ''}")
    return writer


def test_scans_appended_to_a_spec_file_come_out_once_each_complete(tmp_path):
    source = write_spec(tmp_path / "source.spec", scans=4)
    target = tmp_path / "data" / "beamtime.spec"
    target.parent.mkdir()
    target.write_text("#F beamtime.spec\n")
    proposal = nx5d.open(f"file://{tmp_path}/data/{{proposal}}.spec#{{scan}}", beamline="spec", spice_url="")[
        "beamtime"
    ]
    writer = _start(SPEC_WRITER, str(source), str(target))
    try:  # new_only=False: a scan written whole before the first look counts too (the writer does not wait)
        arrivals = list(proposal.follow(poll=0.1, settle=1.0, new_only=False, idle_timeout=2.0))
    finally:
        assert writer.wait(timeout=60) == 0, writer.stderr.read().decode()
    assert [a.scan.key for a in arrivals] == ["1.1", "2.1", "3.1", "4.1"]
    for arrival in arrivals:
        assert arrival.error is None
        assert arrival.cooked.signal.size == 11  # every point: never a scan cut in the middle


HDF5_WRITER = """
import sys, time, h5py
print("ready", flush=True)
source, target = sys.argv[1], sys.argv[2]
with h5py.File(source, "r") as src:
    for key in sorted(src, key=lambda k: float(k)):
        with h5py.File(target, "a") as dst:
            src.copy(src[key], dst, name=key)
        time.sleep(0.4)
"""


def test_scans_written_into_an_hdf5_file_come_out_once_each_cooked(tmp_path):
    write_nexus(tmp_path / "source", {"hc2103": [1, 2, 3]}, "bliss")
    target = tmp_path / "data" / "hc2103" / "hc2103.h5"
    target.parent.mkdir(parents=True)
    import h5py

    h5py.File(target, "w").close()
    url = f"file://{tmp_path}/data/{{proposal}}/{{proposal}}.h5#{{scan}}"
    proposal = nx5d.open(url, beamline="nexus", spice_url="")["hc2103"]
    writer = _start(HDF5_WRITER, str(tmp_path / "source" / "hc2103" / "hc2103.h5"), str(target))
    try:  # new_only=False: a scan written whole before the first look counts too (the writer does not wait)
        arrivals = list(proposal.follow(poll=0.1, settle=1.0, new_only=False, idle_timeout=2.0))
    finally:
        assert writer.wait(timeout=60) == 0, writer.stderr.read().decode()
    assert [a.scan.key for a in arrivals] == ["1.1", "2.1", "3.1"]
    assert all(a.error is None and a.cooked.signal.size == 21 for a in arrivals)


def test_a_frame_still_being_written_is_tried_again(tmp_path):
    spec = ScanSpec(delays=(0.0,), thetas=(18.5, 18.6), delay_loops=1, frames=None)
    url = write_udkm(tmp_path, {"20210205": ["091726"]}, spec)
    proposal = nx5d.open(url, spice_url="")["20210205"]
    write_udkm(tmp_path / "new", {"20210205": ["101500"]}, spec)
    written = tmp_path / "new" / "20210205" / "101500"
    whole = (written / "image00001.tiff").read_bytes()
    (written / "image00001.tiff").write_bytes(whole[: len(whole) // 3])  # the detector is still writing it
    arriving = tmp_path / "20210205" / "101500"
    writer = ScriptedTime([
        (0.3, lambda: written.rename(arriving)),  # the scan appears while nx5d follows
        (1.0, lambda: (arriving / "image00001.tiff").write_bytes(whole)),
    ])  # fmt: skip
    arrivals = list(proposal.follow(poll=0.2, settle=0.2, attempts=20, idle_timeout=1.5, **writer.options))
    assert [a.scan.key for a in arrivals] == ["101500"]
    assert arrivals[0].error is None
    assert np.isfinite(arrivals[0].cooked.qdata.values).any()


def test_a_frame_that_stays_broken_is_reported_after_the_attempts(tmp_path):
    spec = ScanSpec(delays=(0.0,), thetas=(18.5, 18.6), delay_loops=1, frames=None)
    url = write_udkm(tmp_path, {"20210205": ["091726"]}, spec)
    frame = tmp_path / "20210205" / "091726" / "image00001.tiff"
    frame.write_bytes(frame.read_bytes()[:100])
    proposal = nx5d.open(url, spice_url="")["20210205"]
    started = time.monotonic()
    (arrival,) = proposal.follow(poll=0.05, settle=0.0, new_only=False, attempts=3, idle_timeout=0.5)
    assert "image00001.tiff" in str(arrival.error)
    assert arrival.cooked is None
    assert time.monotonic() - started >= 0.1  # two looks more before giving up


def test_watch_prints_each_scan_and_writes_its_result(tmp_path):
    write_spec(tmp_path / "data" / "beamtime.spec", scans=3)
    url = f"file://{tmp_path}/data/{{proposal}}.spec#{{scan}}"
    done = subprocess.run(
        [sys.executable, "-m", "nx5d", "watch", url, "beamtime", "--all", "--poll", "0.1", "--settle", "0",
         "--idle-timeout", "0.5", "--beamline", "spec", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [line.split(":")[0] for line in done.stdout.splitlines()] == ["1.1", "2.1", "3.1"]
    assert sorted(p.name for p in (tmp_path / "out" / "beamtime").iterdir()) == ["1.1.nc", "2.1.nc", "3.1.nc"]


def test_follow_checks_its_settings(tmp_path):
    url = write_udkm(tmp_path, {"20210205": ["091726"]}, ScanSpec(delays=(0.0,), thetas=(18.5,), frames=None))
    with pytest.raises(OptionError, match="poll > 0"):
        next(nx5d.open(url, spice_url="")["20210205"].follow(poll=0))


# --- completeness as the file says it -------------------------------------------------------------------------------


def _spec_scans(tmp_path):
    """Header and scan texts of a generated SPEC file (scans of 11 planned points)."""
    text = write_spec(tmp_path / "source.spec", scans=3).read_text()
    header, *scans = text.split("\n#S ")
    return header + "\n", ["#S " + scan.rstrip("\n") + "\n\n" for scan in scans]


def _lines(scan: str) -> tuple[str, list[str]]:
    head, rows = [], []
    for line in scan.splitlines(keepends=True):
        (rows if line[:1].isdigit() else head).append(line)
    return "".join(head), rows


def _append(path, text):
    with open(path, "a") as out:
        out.write(text)


def _appending(steps):
    """A writer appending ``(seconds, path, text)`` at those seconds of following: pausing where it likes."""
    return ScriptedTime([(at, functools.partial(_append, path, text)) for at, path, text in steps])


def _follow_spec(tmp_path, **options):
    url = f"file://{tmp_path}/data/{{proposal}}.spec#{{scan}}"
    return nx5d.open(url, beamline="spec", spice_url="")["beamtime"].follow(**options)


def test_a_pause_longer_than_settle_inside_a_scan_is_waited_out(tmp_path):
    header, scans = _spec_scans(tmp_path)
    target = tmp_path / "data" / "beamtime.spec"
    target.parent.mkdir()
    head, rows = _lines(scans[0])
    target.write_text(header + head + "".join(rows[:3]))  # 3 of 11 points, then the beam is lost for a while
    writer = _appending([(1.5, target, "".join(rows[3:]))])
    arrivals = list(_follow_spec(tmp_path, poll=0.1, settle=0.3, new_only=False, idle_timeout=2.5, **writer.options))
    assert [(a.scan.key, a.cooked.signal.size, a.note) for a in arrivals] == [("1.1", 11, "")]


def test_a_scan_number_used_again_is_followed_in_file_order(tmp_path):
    header, scans = _spec_scans(tmp_path)
    target = tmp_path / "data" / "beamtime.spec"
    target.parent.mkdir()
    again = scans[0].replace("#S 1 ", "#S 1 ", 1)  # scan 1 again, after scan 2: key 1.2 sorts before 2.1
    head, rows = _lines(again)
    target.write_text(header + scans[0] + scans[1] + head + "".join(rows[:1]))
    writer = _appending([(0.8, target, "".join(rows[1:6])), (1.6, target, "".join(rows[6:]))])
    arrivals = list(_follow_spec(tmp_path, poll=0.1, settle=0.3, idle_timeout=2.5, **writer.options))
    assert [(a.scan.key, a.cooked.signal.size) for a in arrivals] == [("1.2", 11)]


def test_the_scan_being_measured_when_following_starts_is_followed(tmp_path):
    header, scans = _spec_scans(tmp_path)
    target = tmp_path / "data" / "beamtime.spec"
    target.parent.mkdir()
    head, rows = _lines(scans[1])
    target.write_text(header + scans[0] + head + "".join(rows[:4]))
    writer = _appending([(0.6, target, "".join(rows[4:]) + "\n" + scans[2])])
    arrivals = list(_follow_spec(tmp_path, poll=0.1, settle=0.3, idle_timeout=2.0, **writer.options))
    assert [(a.scan.key, a.cooked.signal.size) for a in arrivals] == [("2.1", 11), ("3.1", 11)]


def test_a_scan_stopped_by_hand_comes_out_after_the_stall_time_saying_so(tmp_path):
    header, scans = _spec_scans(tmp_path)
    target = tmp_path / "data" / "beamtime.spec"
    target.parent.mkdir()
    head, rows = _lines(scans[0])
    target.write_text(header + head + "".join(rows[:4]))
    looks = ScriptedTime()
    (arrival,) = _follow_spec(
        tmp_path, poll=0.1, settle=0.1, stall=0.6, new_only=False, idle_timeout=1.2, **looks.options
    )
    assert arrival.cooked.signal.size == 4
    assert arrival.note.startswith("stopped: 4 points")


def test_a_scan_that_grows_after_it_came_out_comes_out_again_as_an_update(tmp_path):
    spec = ScanSpec(delays=(0.0, 5.0), thetas=(18.5, 18.6), delay_loops=1, frames=None)
    url = write_udkm(tmp_path, {"20210205": ["091726"]}, spec)  # no planned frames: completeness is a guess
    folder = tmp_path / "20210205" / "091726"
    table = folder / "manifest.dat"
    lines = table.read_text().splitlines(keepends=True)
    table.write_text("".join(lines[:-1]))  # the last frame and its row are not written yet
    last = folder / "image00003.tiff"
    last.rename(tmp_path / "later.tiff")
    proposal = nx5d.open(url, spice_url="")["20210205"]
    writer = ScriptedTime([
        (1.1, lambda: (tmp_path / "later.tiff").rename(last)),  # the frame, then its row
        (1.2, functools.partial(_append, table, lines[-1])),
    ])  # fmt: skip
    arrivals = list(proposal.follow(poll=0.1, settle=0.3, new_only=False, idle_timeout=1.8, **writer.options))
    assert [(a.update, a.cooked.frames.values.sum()) for a in arrivals] == [(False, 3), (True, 4)]
    assert arrivals[0].note.startswith("unchanged for")


def test_a_scan_whose_summary_cannot_be_read_comes_out_with_its_error(tmp_path):
    spec = ScanSpec(delays=(0.0,), thetas=(18.5, 18.6), delay_loops=1, frames=None)
    url = write_udkm(tmp_path, {"20210205": ["091726"]}, spec)
    table = tmp_path / "20210205" / "091726" / "manifest.dat"
    table.write_bytes(b"% not a table\n\x00\x01garbage 1 2\n")
    proposal = nx5d.open(url, spice_url="")["20210205"]
    looks = ScriptedTime()
    (arrival,) = proposal.follow(poll=0.05, settle=0.1, new_only=False, attempts=3, idle_timeout=0.6, **looks.options)
    assert "manifest.dat" in str(arrival.error)
    assert arrival.note == "its summary cannot be read"
