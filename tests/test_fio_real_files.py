"""The fio beamline on real PETRA III P03 ``.fio`` files, read where they are (``../shared/corpus/fio-p03``).

The files were written by DESY Online at P03 (see their PROVENANCE.md); they
have no angles and no frames, so they check listing, summaries, typed
columns, parameters, the command's motors and the profile's signal.  A
re-arranged copy (the dmesh file as a scan of its own, a damaged row) is
made in ``tmp_path`` only.
"""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest

import nx5d
from nx5d.errors import CorruptDataError

from .shared import shared_path


@pytest.fixture(scope="module")
def corpus():
    return shared_path("corpus", "fio-p03")


def _columns(path):
    """The data rows of a .fio file as floats, parsed without nx5d."""
    lines = path.read_text().splitlines()
    start = max(i for i, line in enumerate(lines) if line.strip().startswith("Col ")) + 1
    return np.array([[float(v) for v in line.split()] for line in lines[start:] if line.strip() and line[0] != "!"])


def test_the_p03_line_scans_list_summarise_and_load(corpus):
    repo = nx5d.open(f"file://{corpus}/{{proposal}}/{{scan}}.fio", spice_url="")
    assert repo.beamline == "fio"
    proposal = repo["2d_mesh_fio_ascan"]
    assert proposal.keys() == [f"2dmesh_{i:05d}" for i in range(1, 11)]
    assert proposal.all()["2dmesh_00001"] == "s_2dmesh_00001"
    scan = proposal.scan(key="2dmesh_00001")
    summary = scan.summary
    assert (summary["type"], summary["motor"], summary["steps"], summary["state"]) == ("ascan", "cube1_x", 35, "done")
    assert summary["start"] == "2022-03-11T15:05:44"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no frame folder beside the real files
        raw = scan.raw
    table = _columns(corpus / "2d_mesh_fio_ascan" / "2dmesh_00001.fio")
    for i, name in enumerate(("cube1_x", "ioni", "t01", "timestamp")):
        np.testing.assert_array_equal(raw[name].values, table[:, i])
    assert list(raw.coords) == ["cube1_x"]  # the scanned motor; counters stay data
    assert raw.cube1_x.attrs["start_position"] == 9.9198
    assert float(raw.cube1_y) == 9.9789  # the slow axis of the map, a %p parameter
    assert np.isnan(float(raw.mic2_zoom))
    assert "images" not in raw


def test_the_profile_of_a_real_scan_shows_the_ion_chamber_not_the_timer(corpus):
    scan = nx5d.open(f"file://{corpus}/{{proposal}}/{{scan}}.fio", spice_url="")["2d_mesh_fio_ascan"]["2dmesh_00003"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        profile = scan.cooked
    assert profile.signal.dims == ("cube1_x",)  # no frames, no angles: 'auto' gives a profile
    assert profile.attrs["signal"] == "ioni"


def test_a_dmesh_marks_only_its_fast_motor(corpus, tmp_path):
    (tmp_path / "p03").mkdir()
    shutil.copy(corpus / "test_single_fio_dmesh.fio", tmp_path / "p03" / "dmesh_00001.fio")
    scan = nx5d.open(f"file://{tmp_path}/{{proposal}}/{{scan}}.fio", spice_url="")["p03"].scan(key="dmesh_00001")
    assert scan.summary["motor"] == "cube1_x"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = scan.raw
    assert list(raw.coords) == ["cube1_x"]  # hls_y is a parameter; ioni, t01 and timestamp are counters
    assert float(raw.hls_y) == 0.016


def test_the_older_header_dialect_and_a_damaged_copy(corpus, tmp_path):
    (tmp_path / "old").mkdir()
    shutil.copy(corpus / "fio_spectrum.fio", tmp_path / "old" / "spectrum_00001.fio")
    scan = nx5d.open(f"file://{tmp_path}/{{proposal}}/{{scan}}.fio", spice_url="")["old"].scan(key="spectrum_00001")
    raw = scan.load(frames="skip")
    np.testing.assert_array_equal(raw.test_spectrum.values, _columns(corpus / "fio_spectrum.fio")[:, 0])
    assert float(raw.Sample_time) == 2.0
    path = tmp_path / "old" / "spectrum_00001.fio"
    lines = path.read_text().splitlines()
    lines[20] = " 1.0 2.0"
    path.write_text("\n".join(lines))
    with pytest.raises(CorruptDataError, match=r"spectrum_00001\.fio line 21: 2 values in a row of 1 columns"):
        scan.load(frames="skip")
