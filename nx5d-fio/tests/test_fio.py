"""The fio beamline on files its generator wrote: raw equals the file, options, damaged files, maps against q."""

import shutil
import warnings

import numpy as np
import pytest
import tifffile
from nx5d_fio.synth import ENERGY, SPOT, write_repository, write_scan

import nx5d
from nx5d.errors import CorruptDataError, OptionError, SpiceValidationError
from nx5d.testing import BeamlineConformance

#: Planck's constant times the speed of light, in eV Angstrom (CODATA 2018).
HC = 12398.419843320026


class TestConformance(BeamlineConformance):
    beamline = "fio"

    @pytest.fixture
    def repository_url(self, tmp_path):
        return write_repository(tmp_path / "data", {"11012345": ["align_00001", "2dmesh_00002"], "11012346": ["a_1"]})

    @pytest.fixture
    def spice_variants(self):
        return {"settings": {"grid_size": [20, 30]}}, {"settings": {"grid_size": [30, 20], "img_distance": 600.0}}


@pytest.fixture
def beamtime(tmp_path):
    url = write_repository(tmp_path / "data", {"11012345": ["rock_00001"]}, steps=41, width=0.6, typed_columns=True)
    return nx5d.open(url, spice_url="")["11012345"], tmp_path / "data" / "11012345"


def _rows(path):
    """The data rows of a .fio file as text cells, read without the plugin."""
    lines = path.read_text().splitlines()
    start = max(i for i, line in enumerate(lines) if line.strip().startswith("Col ")) + 1
    return [line.split() for line in lines[start:] if line.strip() and not line.startswith("!")]


def test_handles_share_one_form_whatever_the_name(tmp_path):
    url = write_repository(tmp_path / "more", {"p": ["align_00001", "2dmesh_00001"]}, frames=False)
    assert nx5d.open(url, spice_url="")["p"].all() == {"align_00001": "s_align_00001", "2dmesh_00001": "s_2dmesh_00001"}


def test_raw_is_what_the_file_and_the_frames_hold(beamtime):
    proposal, folder = beamtime
    raw = proposal.scan(key="rock_00001").raw
    rows = _rows(folder / "rock_00001.fio")
    np.testing.assert_array_equal(raw.om.values, [float(r[0]) for r in rows])
    assert "om" in raw.coords
    assert "ion1" not in raw.coords  # the command's motor, not the counters
    assert raw.om.attrs["start_position"] == pytest.approx(float(rows[0][0]))
    assert raw.status.values.tolist() == [r[4] for r in rows]
    assert raw.n_peaks.dtype.kind == "i"
    assert raw.shutter.dtype == bool
    assert raw.shutter.values.tolist() == [r[6] == "True" for r in rows]
    assert raw.unix_time.attrs["long_name"] == "unix time"
    assert float(raw.energy) == ENERGY
    assert raw.tt.attrs["kind"] == "positioner"
    frames = sorted((folder / "rock_00001" / "p100k").iterdir())
    np.testing.assert_array_equal(raw.images.values, np.stack([tifffile.imread(f) for f in frames]))
    assert raw.images.attrs["detector"] == "p100k"


def test_summary_from_the_text_alone(beamtime):
    summary = beamtime[0].scan(key="rock_00001").summary
    assert (summary["type"], summary["motor"], summary["steps"], summary["state"]) == ("ascan", "om", 41, "done")
    assert summary["start"].startswith("2025-03-")


def test_frame_options(beamtime):
    scan = beamtime[0].scan(key="rock_00001")
    assert scan.load(roi=(2, 10, 4, 20), reduce=2).images.shape == (41, 4, 8)
    lazy = scan.load(lazy=True)
    assert type(lazy.images.data).__module__.startswith("dask")
    np.testing.assert_array_equal(lazy.images.values, scan.raw.images.values)
    assert "images" not in scan.load(frames="skip")
    with pytest.raises(OptionError):
        scan.load(roi="everything")


def test_several_detectors_must_be_chosen(beamtime):
    proposal, folder = beamtime
    shutil.copytree(folder / "rock_00001" / "p100k", folder / "rock_00001" / "eiger")
    scan = proposal.scan(key="rock_00001")
    with pytest.raises(OptionError, match=r"detectors \[.eiger., .p100k.\]; give detector=NAME"):
        scan.load()
    assert scan.load(detector="eiger").images.attrs["detector"] == "eiger"
    with pytest.raises(OptionError, match="give detector=NAME, not 'lambda'"):
        scan.load(detector="lambda")


def test_a_missing_frame_or_a_damaged_row_names_the_file(beamtime):
    proposal, folder = beamtime
    (folder / "rock_00001" / "p100k" / "rock_00001_00007.tif").unlink()
    with pytest.raises(CorruptDataError, match=r"rock_00001\.fio has 41 rows but its folder 'p100k' 40 frames"):
        proposal.scan(key="rock_00001").load()
    path = folder / "rock_00001.fio"
    path.write_text(path.read_text().replace(" True ", " maybe ", 1))
    with pytest.raises(CorruptDataError, match=r"rock_00001\.fio line \d+: 'maybe' of column 'shutter'"):
        proposal.scan(key="rock_00001").load(frames="skip")


def test_a_column_named_like_a_frame_axis_is_renamed(tmp_path):
    path = write_scan(tmp_path / "p" / "xy_00001.fio", steps=5)
    path.write_text(path.read_text().replace("Col 2 ion1", "Col 2 y").replace("Col 3 p100k_roi", "Col 3 x"))
    raw = nx5d.open(f"file://{tmp_path}/{{proposal}}/{{scan}}.fio", spice_url="")["p"].scan(key="xy_00001").raw
    assert raw.y_counter.attrs["long_name"] == "y"
    assert raw.x_counter.dims == ("index",)
    assert raw.images.dims == ("index", "y", "x")


def test_a_specular_rocking_scan_maps_to_the_q_of_its_angle(beamtime):
    """The map's peak is where an independent computation puts it: q parallel 0, q normal 4 pi / lambda sin(tt/2)."""
    scan = beamtime[0].scan(key="rock_00001")
    settings = {"img_center": list(SPOT), "img_distance": 800.0, "pixel_size": 0.172, "grid_size": [60, 60]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cooked = scan.cook({"settings": settings})
    q = cooked.qdata.fillna(0)
    peak = np.unravel_index(int(np.argmax(q.values)), q.shape)
    found = {dim: float(q[dim][i]) for dim, i in zip(q.dims, peak, strict=True)}
    step = {dim: float(abs(q[dim][1] - q[dim][0])) for dim in q.dims}
    tt = float(scan.raw.tt)
    expected = 4 * np.pi / (HC / ENERGY) * np.sin(np.radians(tt / 2))
    assert found["qz"] == pytest.approx(expected, abs=2 * step["qz"])
    assert found["qy"] == pytest.approx(0.0, abs=2 * step["qy"])


def test_scans_without_angles_are_profiled_with_the_declared_signal(tmp_path):
    url = write_repository(tmp_path / "d", {"p": ["t_00001"]}, frames=False, steps=9)
    scan = nx5d.open(url, spice_url="")["p"].scan(key="t_00001")
    with pytest.warns(UserWarning, match="no frame folder"):
        profile = scan.cook({"recipes": {"by_type": {"*": "profile"}}})
    assert profile.attrs["signal"] == "p100k_roi"  # the last column that is no clock (t01)
    assert profile.attrs["signal_choice"] == "the beamline's declared profile signal"


def test_a_file_without_the_energy_says_which_spice_field_to_give_in_ev(beamtime):
    proposal, folder = beamtime
    path = folder / "rock_00001.fio"
    path.write_text(path.read_text().replace(f"energy = {ENERGY:g}\n", ""))
    scan = proposal.scan(key="rock_00001")
    with pytest.raises(SpiceValidationError, match=r"is not a variable .*in eV as the .settings. spice"):
        scan.cook({"settings": {"grid_size": [20, 20]}})
    settings = {"energy": ENERGY, "img_center": list(SPOT), "img_distance": 800.0, "grid_size": [20, 20]}
    assert float(scan.cook({"settings": settings}).qdata.max()) > 0
