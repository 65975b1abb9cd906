"""Real files written by real instruments (``../shared/realdata``, attribution in its README), through nx5d.open.

Every file is checked against its published git blob id first; tests that
need a damaged file damage a copy in ``tmp_path``.  The files are read where
they are and never copied into this repository (see ``tests/shared.py``).
"""

import hashlib
import re
import shutil
import warnings

import numpy as np
import pytest
import tifffile

import nx5d
from nx5d.errors import CorruptDataError, DataWarning, MissingDataError

from .shared import SHARED, shared_path
from .shared import kmc3_beamtime as unpack_kmc3


@pytest.fixture(scope="module", autouse=True)
def _realdata():
    """Every test here reads ``../shared/realdata``: skipped without it, failed in CI."""
    shared_path("realdata")


REALDATA = SHARED / "realdata"
SPEC_APS = REALDATA / "spec-aps"
KMC3 = REALDATA / "kmc3-pyEvalData"


def blob_id(data: bytes) -> str:
    """What ``git hash-object`` prints for a file with this content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def published_blobs() -> dict[str, str]:
    """``{folder/file: blob id}`` from the README's tables."""
    found = {}
    folder = None
    for line in (REALDATA / "README.md").read_text().splitlines():
        heading = re.match(r"## (\S+)/", line)
        if heading:
            folder = heading.group(1)
        row = re.match(r"\| `([^`]+)` \([^)]*\) \| ([0-9a-f]{40}) \|", line)
        if row and folder:
            found[f"{folder}/{row.group(1)}"] = row.group(2)
    return found


def test_the_shared_files_are_the_published_ones():
    blobs = published_blobs()
    assert len(blobs) == 7  # the TIFF archive is checked file by file (sha256) where it is unpacked
    for name, blob in blobs.items():
        assert blob_id((REALDATA / name).read_bytes()) == blob, name


@pytest.fixture(scope="module")
def kmc3_beamtime(tmp_path_factory):
    """The KMC3 SPEC file with its 410 Pilatus TIFFs unpacked beside it, as at the beamline."""
    return unpack_kmc3(tmp_path_factory.mktemp("kmc3"))


# --- SPEC files of APS beamlines and Bluesky --------------------------------------------------


@pytest.fixture(scope="module")
def aps():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nx5d.open(f"file://{SPEC_APS}/{{proposal}}.dat#{{scan}}", spice_url="")


def test_aps_files_are_chosen_by_content_and_every_scan_lists_summarises_and_loads(aps):
    assert aps.beamline == "spec"
    assert aps.keys() == ["APS_spec_data", "twoc", "user6idd", "20220311-161530"]  # natural order: names first
    counts = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key in aps.keys():
            proposal = aps[key]
            counts[key] = len(proposal.keys())
            for scan_key in proposal.keys():
                scan = proposal[scan_key]
                summary = scan.summary
                if summary["steps"] == 0 and not summary.get("motor"):  # '#N 0' and nothing else: said so
                    with pytest.raises(MissingDataError, match=rf"scan {re.escape(scan_key)} holds no data"):
                        scan.raw  # noqa: B018
                    continue
                raw = scan.raw
                assert summary["steps"] == raw.sizes.get("index", 0), (key, scan_key)
    assert counts == {"20220311-161530": 78, "APS_spec_data": 20, "twoc": 3, "user6idd": 2}


def test_twoc_repeated_scan_number_crlf_lines_and_a_repeated_column(aps):
    assert aps.twoc.keys() == ["1.1", "2.1", "2.2"]
    fresh = nx5d.open(aps.url, spice_url="").twoc["1.1"]
    with pytest.warns(UserWarning, match=r"twoc.dat, scan 1.1: counter 'Kth14' appears more than once; .* 'Kth14_2'"):
        raw = fresh.raw
    assert raw.sizes["index"] == 21
    np.testing.assert_array_equal(raw.Kth14.values, raw.Kth14_2.values)
    assert raw.Kth14_2.attrs["long_name"] == "Kth14"
    assert float(raw.TwoTheta) == pytest.approx(0.07)  # #O names and #P values line up across CRLF lines
    assert aps.twoc["2.2"].raw.sizes["index"] == aps.twoc["2.1"].raw.sizes["index"] == 33


def test_psic_single_space_separators(aps):
    raw = aps.user6idd["2.1"].raw
    assert raw.sizes["index"] == 55
    assert {"DegK_sample", "MCA_Detector", "Monitor", "Detector"} <= set(raw.data_vars)
    assert float(raw.Chi) == 90.0  # #O0 "Delta Eta Chi Phi ..." split on single spaces, #P0 "0 0 90 -3 ..."
    assert len([v for v in raw.data_vars if raw[v].dims == ()]) == 58  # 59 motors; "dummy" is also a column
    assert aps.user6idd["1.1"].summary["steps"] == 0  # aborted after 0 points
    assert aps.user6idd["1.1"].summary["notes"].startswith("no data lines")


def test_bluesky_writer_file(aps):
    proposal = aps["20220311-161530"]
    keys = proposal.keys()
    assert keys[:4] == ["1.1", "1.2", "1.3", "1.4"]  # scan numbers repeat across runs
    summary = proposal["2.1"].summary
    assert summary["type"] == "example"  # example(scaler='scaler1', ...)
    assert summary["steps"] == 10
    aborted = proposal["4.1"]
    assert aborted.summary["steps"] == 0
    with pytest.raises(MissingDataError, match=r"scan 4.1 holds no data: .*\(#N\): 0"):
        aborted.raw  # noqa: B018 - "#N 0": no columns at all
    profile = proposal["2.1"].cooked
    assert profile.signal.dims == ("Epoch_float",)


def test_usaxs_scans_cook_profiles(aps):
    scan = aps.APS_spec_data["5.1"]
    assert scan.summary["type"] == "uascan"
    profile = scan.cooked
    assert profile.signal.size == 200
    assert list(profile.coords) == ["ar"]  # the first column, the scanned motor


def test_a_spec_file_cut_in_the_middle_keeps_its_finished_scans(tmp_path):
    data = (SPEC_APS / "APS_spec_data.dat").read_bytes()
    (tmp_path / "cut.dat").write_bytes(data[: len(data) // 2])
    proposal = nx5d.open(f"file://{tmp_path}/{{proposal}}.dat#{{scan}}", spice_url="").cut
    keys = proposal.keys()
    assert 5 < len(keys) < 20
    assert proposal[keys[0]].raw.sizes["index"] == 31
    with pytest.warns(UserWarning, match="does not end with a line end"):
        proposal[keys[-1]].raw  # noqa: B018


def test_a_scan_with_garbage_is_reported_alone(tmp_path):
    lines = (SPEC_APS / "twoc.dat").read_bytes().split(b"\n")
    row = next(i for i, line in enumerate(lines) if line.startswith(b"-25.09"))
    lines[row] = b"garbage" + lines[row][6:]
    (tmp_path / "twoc.dat").write_bytes(b"\n".join(lines))
    proposal = nx5d.open(f"file://{tmp_path}/{{proposal}}.dat#{{scan}}", spice_url="").twoc
    with pytest.raises(CorruptDataError, match=rf"twoc.dat, line {row + 1}: not a row of numbers: 'garbage'"):
        proposal["1.1"].raw  # noqa: B018
    assert proposal["2.1"].raw.sizes["index"] == 33


# --- KMC3-XPP: SPEC + Pilatus -------------------------------------------------------------------


def test_kmc3_spec_without_its_frames_is_a_generic_spec_file():
    repo = nx5d.open(f"file://{KMC3}/{{proposal}}.spec#{{scan}}", spice_url="")
    assert repo.beamline == "spec"  # no pilatus folder beside it: nothing says it is KMC3's
    raw = repo.spec_pilatus["1.1"].raw
    assert raw.sizes["index"] == 41
    assert float(raw.y) == -2.0  # a motor named y is just y without frames


def test_kmc3_beamtime_frames_load_bit_exact_and_cook(kmc3_beamtime):
    repo = nx5d.open(f"file://{kmc3_beamtime}/{{proposal}}.spec#{{scan}}", spice_url="")
    assert repo.beamline == "kmc3"  # the pilatus folder beside the SPEC file
    proposal = repo.spec_pilatus
    assert proposal.keys() == [f"{n}.1" for n in range(1, 11)]
    scan = proposal["3.1"]
    with pytest.warns(UserWarning, match=r"counter 'ls_t1' appears more than once; this one is 'ls_t1_2'"):
        raw = scan.load(lazy=False)
    frames = np.stack([tifffile.imread(kmc3_beamtime / f"pilatus/S00003/examplePilatus_3_{i}.tif") for i in range(41)])
    np.testing.assert_array_equal(raw.images.values, frames)
    assert raw.images.dtype == frames.dtype
    assert raw.images.dims == ("index", "y", "x")
    assert float(raw.y_motor) == -2.0  # the motor named y, clear of the image dimension
    assert raw.y_motor.attrs["long_name"] == "y"
    assert raw.machine_current.values[0] == pytest.approx(258.45, abs=1)
    cooked = scan.cook({"settings": {"grid_size": [40, 50]}})
    assert cooked.qdata.dims == ("qy", "qz")
    measured = cooked.weight.values > 0
    assert np.isfinite(cooked.qdata.values[measured]).all()
    assert np.isnan(cooked.qdata.values[~measured]).all()
    assert np.nanmax(cooked.qdata.values) > 0
    assert int(cooked.frames) == 41


def test_kmc3_last_scan_of_a_file_without_a_final_line_end(kmc3_beamtime):
    scan = nx5d.open(f"file://{kmc3_beamtime}/{{proposal}}.spec#{{scan}}", spice_url="").spec_pilatus["10.1"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        raw = scan.load(lazy=False)
    assert raw.sizes["index"] == 41  # the last line lacks only its line end: kept
    assert any("its last line was read as complete" in str(w.message) for w in caught)
    assert raw.images.shape[0] == 41


def test_kmc3_ingest_of_the_real_file(kmc3_beamtime, tmp_path):
    from nx5d_kmc3.ingest import ingest

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = ingest(kmc3_beamtime / "spec_pilatus.spec", tmp_path / "beamtime.h5", scans=["1.1", "2.1"])
    assert report.written == ("1.1", "2.1")
    proposal = nx5d.open(f"file://{tmp_path}/{{proposal}}.h5#{{scan}}", beamline="kmc3", spice_url="").beamtime
    raw = proposal["2.1"].load(lazy=False)
    frames = np.stack([tifffile.imread(kmc3_beamtime / f"pilatus/S00002/examplePilatus_2_{i}.tif") for i in range(41)])
    np.testing.assert_array_equal(raw.images.values, frames)
    assert {"ls_t1", "ls_t1_2", "Counter_5"} <= set(raw.data_vars)


# --- ESRF BLISS and the NeXus manual's example ------------------------------------------------

BLISS = REALDATA / "bliss-id01"


def test_bliss_dataset_file_lists_summarises_and_loads_its_counters():
    repo = nx5d.open(f"file://{BLISS}/{{proposal}}.h5#{{scan}}", spice_url="", frames="skip")
    assert repo.beamline == "nexus"
    proposal = repo.PTO_STO_SL_0001
    assert proposal.keys() == ["20.1"]
    scan = proposal["20.1"]
    assert scan.summary == {
        "type": "ascan",
        "steps": 51,
        "notes": "ascan eta 15.24 19.24 50 1",
        "start": "2023-03-08T03:11:00.332696+01:00",
        "motor": "eta",
        "range": [15.24, 19.24],  # from the title
        "counters": scan.summary["counters"],
        "sample": scan.summary["sample"],
        "detector": "mpx1x4",
        "frame_shape": [516, 516],  # a Maxipix 2x2, from its frames dataset's shape (the frames file is absent)
        "state": "done",  # BLISS wrote the scan's end_time
    }
    assert "mpx1x4_roi1" in scan.summary["counters"]
    raw = scan.raw
    assert raw.sizes == {"index": 51}
    assert raw.eta.attrs["units"] == "deg"
    assert "eta" in raw.coords  # the axis of BLISS's plotselect NXdata
    assert raw.attrs["signal"] == "mpx1x4_roi1"
    assert float(raw.eta[0]) == pytest.approx(15.24, abs=0.01)
    assert float(raw.machine_current) > 0  # instrument/machine/current
    profile = scan.cooked
    assert profile.signal.dims == ("eta",)
    np.testing.assert_array_equal(profile.signal.values, raw.mpx1x4_roi1.values)


def test_bliss_frames_whose_virtual_source_file_is_absent_are_named():
    scan = nx5d.open(f"file://{BLISS}/{{proposal}}.h5#{{scan}}", spice_url="").PTO_STO_SL_0001["20.1"]
    expected = (
        r"PTO_STO_SL_0001.h5#20.1/measurement/mpx1x4 is a virtual dataset reading from "
        r"'scan0020/mpx1x4_0000.h5', which does not exist"
    )
    with pytest.warns(DataWarning, match=expected):
        raw = scan.raw  # the counters, without the frames
    assert "images" not in raw
    assert raw.sizes["index"] == 51
    with pytest.raises(MissingDataError, match=expected):
        scan.load(detector="mpx1x4")  # the frames asked for by name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert scan.cooked.signal.dims == ("eta",)  # the default cook: a profile of a counter


def test_bliss_frames_are_read_once_their_source_file_is_there(tmp_path):
    import h5py

    shutil.copy(BLISS / "PTO_STO_SL_0001.h5", tmp_path)
    frames = np.zeros((51, 516, 516), np.int32)
    frames[np.arange(51), 200 + np.arange(51) // 5, 300] = 1000 + np.arange(51)  # a spot moving with eta
    (tmp_path / "scan0020").mkdir()
    with h5py.File(tmp_path / "scan0020" / "mpx1x4_0000.h5", "w") as lima:  # as Lima writes it
        lima.create_dataset("entry_0000/instrument/mpx1x4/data", data=frames, chunks=(1, 516, 516), compression="gzip")
    scan = nx5d.open(f"file://{tmp_path}/{{proposal}}.h5#{{scan}}", spice_url="").PTO_STO_SL_0001["20.1"]
    raw = scan.load(lazy=True)
    assert type(raw.images.data).__module__.startswith("dask")
    np.testing.assert_array_equal(raw.images.values, frames)


def test_nexus_manual_example_loads_its_signal_and_axes():
    repo = nx5d.open(f"file://{REALDATA}/nexus/{{proposal}}.h5#{{scan}}", spice_url="")
    assert repo.beamline == "nexus"
    assert repo.writer_1_3.keys() == ["Scan"]
    raw = repo.writer_1_3.Scan.raw
    assert raw.attrs["signal"] == "counts"
    assert list(raw.coords) == ["two_theta"]
    assert raw.counts.attrs["units"] == "counts"
    assert raw.two_theta.attrs["units"] == "degrees"
    assert raw.counts.values[:3].tolist() == [1037, 1318, 1704]
    profile = repo.writer_1_3.Scan.cooked
    assert profile.signal.dims == ("two_theta",)
    np.testing.assert_array_equal(profile.signal.values, raw.counts.values)


def test_a_truncated_copy_of_the_bliss_file_is_a_corrupt_data_error(tmp_path):
    data = (BLISS / "PTO_STO_SL_0001.h5").read_bytes()
    (tmp_path / "cut.h5").write_bytes(data[: len(data) // 3])
    repo = nx5d.open(f"file://{tmp_path}/{{proposal}}.h5#{{scan}}", beamline="nexus", spice_url="")
    with pytest.raises(CorruptDataError, match=r"cut.h5 is a truncated HDF5 file"):
        repo.cut.keys()


def test_kmc3_frames_elsewhere_cooked_from_the_shell_with_a_loading_option(kmc3_beamtime, tmp_path):
    import xarray as xr

    from nx5d.app.cli import main

    shutil.copy(kmc3_beamtime / "spec_pilatus.spec", tmp_path)
    shutil.copytree(kmc3_beamtime / "pilatus" / "S00003", tmp_path / "frames" / "S00003")
    url = f"file://{tmp_path}/{{proposal}}.spec#{{scan}}"
    option = "tiffs=frames/S{scan:05d}/{fname}_{scan}_{frame}.tif"
    args = ["cook", url, "--beamline", "kmc3", "-o", option, "--scans", "3.1", "--out", str(tmp_path / "out")]
    assert main([*args, "--workers", "1"]) == 0
    with xr.open_dataset(tmp_path / "out" / "spec_pilatus" / "3.1.nc", engine="h5netcdf") as cooked:
        assert cooked.qdata.dims == ("qy", "qz")
        assert int(cooked.frames) == 41
        assert '"tiffs"' in cooked.attrs["nx5d_options"]


def test_every_plugins_raw_data_has_its_axes_as_coordinates_and_units_where_known(kmc3_beamtime, tmp_path):
    """Scan axes are coordinates along index; units come from the file, or from what the beamline knows."""
    from nx5d_nexus.synth import write_repository as write_nexus
    from nx5d_udkm.synth import ScanSpec
    from nx5d_udkm.synth import write_repository as write_udkm

    write_udkm(tmp_path / "udkm", {"20210205": ["091726"]}, ScanSpec(delays=(0.0, 5.0), thetas=(18.4,), frames=None))
    raws = {
        "udkm": nx5d.open(f"file://{tmp_path}/udkm/{{proposal}}/{{scan}}", spice_url="").p20210205.r091726.raw,
        "kmc3": nx5d.open(f"file://{kmc3_beamtime}/{{proposal}}.spec#{{scan}}", spice_url="").spec_pilatus["3.1"],
        "nexus": nx5d.open(write_nexus(tmp_path / "nx", {"hc2103": [1]}, "gda"), spice_url="").hc2103["00001"].raw,
        "spec": nx5d.open(f"file://{REALDATA}/spec-aps/{{proposal}}.dat#{{scan}}", beamline="spec", spice_url="")[
            "APS_spec_data"
        ]["1.1"].raw,
    }
    # KMC3: 'ascan th ...' moves the Theta column (SPEC writes moved motors first); APS: 'mr' by its #o mnemonic
    axes = {"udkm": ("delay", "theta"), "kmc3": ("Theta",), "nexus": ("eta",), "spec": ("mr",)}
    units = {
        "udkm": {"delay": "ps", "theta": "deg"},
        "kmc3": {"machine_current": "mA", "Theta": "deg"},
        "nexus": {"eta": "deg"},
    }  # SPEC files record no units
    with pytest.warns(UserWarning, match="appears more than once"):
        raws["kmc3"] = raws["kmc3"].load(frames="skip")
    for name, raw in raws.items():
        along = [c for c in raw.coords if raw[c].dims == ("index",)]
        assert along, f"{name}: no axis coordinates"
        assert set(axes[name]) <= set(along), (name, along)
        for variable, unit in units.get(name, {}).items():
            assert raw[variable].attrs["units"] == unit, (name, variable)
        assert all("long_name" in raw[v].attrs for v in raw.data_vars if v != "images"), name
