"""Layouts of real writers, written here in small: GDA's two writers, absent detector files, TIFF lists,
areaDetector's single image, n-D scans, SOLEIL's recorder, an Eiger master and nx5d 3.x's flat groups.

Each file is made in ``tmp_path`` with h5py (or zarr) the way the writer
lays it out (checked against the real files of ``../shared/corpus`` in the
cross-distribution tests), and read back through ``nx5d.open``.
"""

from __future__ import annotations

import re
import warnings

import h5py
import numpy as np
import pytest
import tifffile

import nx5d
from nx5d.errors import CorruptDataError, MissingDataError, SpiceValidationError
from nx5d.io.storage import record_io

POINTS = 6
ETA = np.linspace(29.7, 30.2, POINTS)
ROI = np.array([3.0, 9.0, 40.0, 38.0, 10.0, 2.0])
FRAMES = np.arange(POINTS * 4 * 5, dtype=np.int32).reshape(POINTS, 4, 5)


def _text(group, name, value):
    group.create_dataset(name, data=value, dtype=h5py.string_dtype())


def _nxdata(group, name, signal, axes, **arrays):
    data = group.create_group(name)
    data.attrs.update(NX_class="NXdata", signal=signal, axes=np.array(axes, dtype="S"))
    for key, values in arrays.items():
        data[key] = values
    return data


def gda_newer(path, *, detector_file="1040323-pilatus3_100k-files/1040323.hdf"):
    """GDA 9.2x-9.3x's newer writer: ``entry`` with ``diamond_scan``, the command in ``scan_command``, no title."""
    with h5py.File(path, "w") as f:
        entry = f.create_group("entry")
        entry.attrs.update(NX_class="NXentry", default="measurement")
        command = "scan eta 29.7 30.2 0.1 pil3_100k 1 roi2"
        _text(entry, "scan_command", command)
        _text(entry, "diamond_scan/scan_command", command)
        _text(entry, "start_time", "2024-02-27T16:25:38.209")
        _text(entry, "end_time", "2024-02-27T16:26:25.937")
        entry["diamond_scan/point_start_times"] = np.arange(POINTS)
        _nxdata(entry, "measurement", "roi2", ["eta"], eta=ETA, roi2=ROI)
        detector = entry.create_group("instrument/pil3_100k")
        detector.attrs["NX_class"] = "NXdetector"
        detector["data"] = h5py.ExternalLink(detector_file, "/entry/instrument/detector/data")
        pil = _nxdata(entry, "pil3_100k", "data", ["eta", ".", "."], eta=ETA)
        pil["data"] = h5py.ExternalLink(detector_file, "/entry/instrument/detector/data")


def test_gda_newer_writer_with_its_detector_file_absent(tmp_path):
    gda_newer(tmp_path / "1040323.nxs")
    proposal = nx5d.open(f"file://{tmp_path}/{{proposal}}.nxs#{{scan}}", spice_url="")["1040323"]
    scan = proposal.entry
    with record_io() as io:
        summary = scan.summary
    assert io.datasets == []  # names, shapes, small strings: no array and no absent file touched
    assert summary["type"] == "scan"
    assert summary["motor"] == "eta"
    assert summary["notes"] == "scan eta 29.7 30.2 0.1 pil3_100k 1 roi2"
    assert summary["detector"] == "pil3_100k"
    assert summary["start"] == "2024-02-27T16:25:38.209"
    message = (
        r"1040323.nxs#entry/pil3_100k/data is an external link to '1040323-pilatus3_100k-files/1040323.hdf', "
        r"which does not exist"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        raw = scan.raw
    texts = [str(w.message) for w in caught if "kept in other files" in str(w.message)]
    assert len(texts) == 1
    assert re.search(message, texts[0])
    assert "#entry#" not in texts[0]
    assert texts[0].count("1040323-pilatus3_100k-files/1040323.hdf'") == 1
    np.testing.assert_array_equal(raw.roi2.values, ROI)
    np.testing.assert_array_equal(raw.eta.values, ETA)
    assert "images" not in raw
    with pytest.raises(MissingDataError, match=message):
        scan.load(detector="pil3_100k")
    profile = scan.cooked
    assert profile.signal.dims == ("eta",)
    np.testing.assert_array_equal(profile.signal.values, ROI)
    # the detector file put back: its frames are read
    (tmp_path / "1040323-pilatus3_100k-files").mkdir()
    with h5py.File(tmp_path / "1040323-pilatus3_100k-files" / "1040323.hdf", "w") as f:
        f["entry/instrument/detector/data"] = FRAMES
    fresh = nx5d.open(f"file://{tmp_path}/{{proposal}}.nxs#{{scan}}", spice_url="")["1040323"].entry
    np.testing.assert_array_equal(fresh.raw.images.values, FRAMES)


def gda_classic(path, names):
    """GDA's classic writer until about 2021: ``entry1``, a title, Pilatus frames as TIFF files in ``image_data``."""
    with h5py.File(path, "w") as f:
        entry = f.create_group("entry1")
        entry.attrs["NX_class"] = "NXentry"
        _text(entry, "title", "scan eta 29.7 30.2 0.1 pil3_100k 1 roi2")
        _nxdata(entry, "measurement", "roi2", ["eta"], eta=ETA, roi2=ROI)
        detector = entry.create_group("instrument/pil3_100k")
        detector.attrs["NX_class"] = "NXdetector"
        detector.create_dataset("image_data", data=np.array(names, dtype=object), dtype=h5py.string_dtype())
        detector["image_data"].attrs["signal"] = 1


@pytest.mark.parametrize("absolute", [False, True])
def test_gda_tiff_lists_are_read_beside_the_nxs(tmp_path, absolute):
    folder = "794932-pilatus3_100k-files"
    names = [f"{folder}/{k + 1:05d}.tif" for k in range(POINTS)]
    if absolute:  # as written at the beamline; the copy keeps the folder beside the .nxs
        names = [f"/dls/i16/data/2019/mm00001-1/{name}" for name in names]
    gda_classic(tmp_path / "794932.nxs", names)
    url = f"file://{tmp_path}/{{proposal}}.nxs#{{scan}}"
    scan = nx5d.open(url, spice_url="")["794932"].entry1
    assert scan.summary["detector"] == "pil3_100k"
    naming = re.escape(f"image_data is a list of frame files naming '{names[0]}', which does not")
    with pytest.warns(UserWarning, match=naming):
        raw = scan.raw
    assert "images" not in raw
    with pytest.raises(MissingDataError, match=r"00001\.tif"):
        scan.load(detector="pil3_100k")
    (tmp_path / folder).mkdir()
    for k in range(POINTS):
        tifffile.imwrite(tmp_path / folder / f"{k + 1:05d}.tif", FRAMES[k])
    scan = nx5d.open(url, spice_url="")["794932"].entry1
    with record_io() as io:
        assert scan.summary["frame_shape"] == list(FRAMES.shape[1:])  # from the first TIFF's header
    assert [u.rpartition("/")[2] for u in io.urls if u.endswith(".tif")] == ["00001.tif"]  # no other frame file
    raw = scan.raw
    np.testing.assert_array_equal(raw.images.values, FRAMES)
    assert raw.images.attrs["detector"] == "pil3_100k"
    np.testing.assert_array_equal(raw.roi2.values, ROI)


@pytest.mark.parametrize("first", ["not-a-tiff", "a-folder"])
def test_a_tiff_list_whose_first_file_tells_no_shape_gives_a_summary_without_one(tmp_path, first):
    folder = tmp_path / "794932-pilatus3_100k-files"
    folder.mkdir()
    names = [f"{folder.name}/{k + 1:05d}.tif" for k in range(POINTS)]
    if first == "a-folder":
        (tmp_path / names[0]).mkdir()
    else:
        (tmp_path / names[0]).write_text("camserver log, not an image")
    gda_classic(tmp_path / "794932.nxs", names)
    summary = nx5d.open(f"file://{tmp_path}/{{proposal}}.nxs#{{scan}}", spice_url="")["794932"].entry1.summary
    assert summary["detector"] == "pil3_100k"
    assert "frame_shape" not in summary


def test_a_single_area_detector_image_is_one_frame_and_its_title_no_command(tmp_path):
    image = np.arange(7 * 9, dtype=np.int32).reshape(7, 9)
    with h5py.File(tmp_path / "AgBehenate_228.hdf5", "w") as f:  # EPICS areaDetector's NeXus file writer
        entry = f.create_group("entry")
        entry.attrs["NX_class"] = "NXentry"
        entry.create_dataset("title", data=[b"Glassy carbon C6 fixed"])
        data = entry.create_group("data")
        data.attrs["NX_class"] = "NXdata"
        data["data"] = image
        data["data"].attrs["signal"] = b"1"
        entry.create_group("instrument/detector").attrs["NX_class"] = "NXdetector"
        entry["instrument/detector/distance"] = [513.8]
    scan = nx5d.open(f"file://{tmp_path}/{{proposal}}.hdf5#{{scan}}", spice_url="").AgBehenate_228.entry
    summary = {k: v for k, v in scan.summary.items() if k != "counters"}  # no counters: one image
    assert summary == {"type": "", "steps": 1, "notes": "Glassy carbon C6 fixed", "start": "", "motor": "",
                       "detector": "data", "frame_shape": list(image.shape)}  # fmt: skip
    assert not scan.summary.get("counters")
    raw = scan.raw
    assert raw.images.dims == ("index", "y", "x")
    np.testing.assert_array_equal(raw.images.values, image[np.newaxis])
    part = scan.load(roi=(1, 5, 2, 8))
    np.testing.assert_array_equal(part.images.values, image[np.newaxis, 1:5, 2:8])


def test_titles_and_commands():
    from nx5d_nexus.layouts import is_command

    assert is_command("ascan eta 15.24 19.24 50 1")
    assert is_command("scan hkl [0, 0.5, -16.5] [0, 0.9, -16.5] [0, 0.01, 0] pil3_100k 5")
    assert not is_command("Glassy carbon C6 fixed")
    assert not is_command("redemarrage")
    assert not is_command("Scan of sample with GDA")


def test_an_n_dimensional_gda_scan_is_read_flat_in_the_order_written(tmp_path):
    grid = (3, 4)
    sz, sperp = np.meshgrid([9.45, 9.5, 9.55], np.linspace(-0.2, 0.2, 4), indexing="ij")
    roi = np.arange(12.0).reshape(grid)
    frames = np.arange(12 * 2 * 3, dtype=np.int32).reshape(*grid, 2, 3)
    with h5py.File(tmp_path / "879486.nxs", "w") as f:
        entry = f.create_group("entry1")
        entry.attrs["NX_class"] = "NXentry"
        _text(entry, "title", "scan sz 9.45 9.55 0.05 sperp -0.2 0.2 0.02 pil3_100k 1 roi2")
        entry["scan_dimensions"] = np.array(grid, np.int32)
        _nxdata(entry, "measurement", "roi2", ["sz", "sperp"], sz=sz, sperp=sperp, roi2=roi)
        _nxdata(entry, "pil3_100k", "data", ["sz", "sperp", ".", "."], data=frames)
    scan = nx5d.open(f"file://{tmp_path}/{{proposal}}.nxs#{{scan}}", spice_url="")["879486"].entry1
    assert scan.summary["steps"] == 12
    assert scan.summary["motor"] == "sz"
    raw = scan.raw
    np.testing.assert_array_equal(raw.roi2.values, roi.ravel())
    np.testing.assert_array_equal(raw.sperp.values, sperp.ravel())
    np.testing.assert_array_equal(raw.images.values, frames.reshape(12, 2, 3))
    np.testing.assert_array_equal(scan.load(lazy=True).images.values, frames.reshape(12, 2, 3))


def test_soleil_positioners_ring_current_and_a_time_axis(tmp_path):
    entry_name = "theta_00062_salsa.scan 1D.Timescan.tscan_00001"
    with h5py.File(tmp_path / "file_2.nxs", "w") as f:
        entry = f.create_group(entry_name)
        entry.attrs["NX_class"] = "NXentry"
        entry.create_dataset("title", data=[b"redemarrage"])
        instrument = entry.create_group("DIFFABS")  # the NXinstrument, named after the beamline
        instrument.attrs["NX_class"] = "NXinstrument"
        theta = instrument.create_group("D13-1-C03__OP__MONO-MT_THETA__#1")
        theta.attrs["NX_class"] = "NXpositioner"
        theta["raw_value"] = [14.0222]
        theta["offset"] = [-0.02905]
        source = instrument.create_group("ANS__CA__MACHINESTATUS__#1")
        source.attrs["NX_class"] = "NXsource"
        source["current"] = [193.22]
        data = entry.create_group("scan_data")
        data.attrs["NX_class"] = "NXdata"
        data["data_1"] = ROI
        data["data_1"].attrs["signal"] = np.int32(1)
        data["time_1"] = np.arange(POINTS) * 0.6
        data["time_1"].attrs.update(axis=np.int32(0), primary=np.int32(1), units=b"s")
    scan = nx5d.open(f"file://{tmp_path}/{{proposal}}.nxs#{{scan}}", spice_url="").file_2[entry_name]
    summary = scan.summary
    assert (summary["type"], summary["notes"], summary["motor"]) == ("", "redemarrage", "time_1")
    raw = scan.raw
    assert float(raw["D13-1-C03__OP__MONO-MT_THETA__#1"]) == pytest.approx(14.0222)
    assert float(raw.machine_current) == pytest.approx(193.22)
    assert "time_1" in raw.coords
    profile = scan.cooked
    assert profile.signal.dims == ("time_1",)  # a time scan is drawn against time
    np.testing.assert_array_equal(profile.signal.values, ROI)


def test_an_eiger_master_without_its_data_file_gives_no_zeros(tmp_path):
    with h5py.File(tmp_path / "Therm_6_2.nxs", "w") as f:
        entry = f.create_group("entry")
        entry.attrs["NX_class"] = "NXentry"
        data = entry.create_group("data")
        data.attrs.update(NX_class="NXdata", signal="data", axes="omega")
        data["omega"] = ETA
        data["data_000001"] = h5py.ExternalLink("Therm_6_2_000001.h5", "/data")
        layout = h5py.VirtualLayout(shape=FRAMES.shape, dtype=FRAMES.dtype)
        layout[:] = h5py.VirtualSource(".", "/entry/data/data_000001", shape=FRAMES.shape)
        data.create_virtual_dataset("data", layout, fillvalue=0)
    scan = nx5d.open(f"file://{tmp_path}/{{proposal}}.nxs#{{scan}}", spice_url="").Therm_6_2.entry
    assert scan.summary["detector"] == "data"
    with pytest.warns(UserWarning, match=r"is an external link to 'Therm_6_2_000001.h5', which does not exist"):
        raw = scan.raw
    assert "images" not in raw  # h5py would have read zeros
    np.testing.assert_array_equal(raw.omega.values, ETA)
    with pytest.raises(SpiceValidationError, match=r"not read: .*Therm_6_2.nxs#entry/data/data_000001 is an ext"):
        scan.cook({"profile": {"signal": "images"}})  # the error says why there are no frames


# --- nx5d 3.x acquisition: a scan group holding its arrays --------------------------------------------------

THETA = np.linspace(19.4, 19.7, 21)


def write_nx5d3(root, layout: str, guard=None) -> str:
    """A scan as nx5d 3.x's acquisition tools write it, in HDF5 or Zarr; returns the repository URL."""
    arrays = {
        "kmc3/motors/theta": THETA,
        "kmc3/motors/delta": np.array(38.9),
        "kmc3/counters/roi1": np.arange(21.0) ** 2,
        "kmc3/counters/mon": np.full(21, 1000.0),
        "kmc3/calibration": np.arange(5.0),
        "mca/spectrum": np.arange(21 * 8, dtype=np.int32).reshape(21, 8),
        "pilatus/image": np.arange(15 * 4 * 5, dtype=np.int32).reshape(15, 4, 5),
        "pilatus/written": np.arange(15),
    }
    attributes = {
        "k-scan-type": "rocking",
        "k-primary:0": "kmc3/motors/theta",
        "k-header:sample": "SrTiO3",
        "k-header:operator": "kmc3",
    }
    if guard is not None:
        attributes["k-frame-guard"] = guard
    if layout == "zarr":
        import zarr

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            group = zarr.open_group(str(root / "beamtime.zarr"), mode="w").create_group("r0037")
            group.attrs.update(attributes)
            for path, values in arrays.items():
                group.create_array(path, data=values)
        return f"file://{root}/{{proposal}}.zarr#{{scan}}"
    with h5py.File(root / "beamtime.h5", "w") as f:
        group = f.create_group("r0037")
        group.attrs.update(attributes)
        for path, values in arrays.items():
            group[path] = values
    return f"file://{root}/{{proposal}}.h5#{{scan}}"


@pytest.mark.parametrize("layout", ["hdf5", "zarr"])
def test_nx5d3_scan_groups_load_every_array(tmp_path, layout):
    url = write_nx5d3(tmp_path, layout)
    repo = nx5d.open(url, spice_url="")
    assert repo.beamline == "nexus"
    scan = repo.beamtime.r0037
    summary = scan.summary
    assert summary["type"] == "rocking"
    assert summary["steps"] == 21
    assert summary["motor"] == "kmc3_motors_theta"
    assert summary["detector"] == "pilatus"
    assert (summary["sample"], summary["operator"]) == ("SrTiO3", "kmc3")  # k-header values are columns
    assert "sample" in repo.beamtime.table().columns
    with pytest.warns(UserWarning, match="15 detector frames for 21 counter values"):
        raw = scan.raw
    assert raw.sizes["index"] == 15
    np.testing.assert_array_equal(raw.kmc3_motors_theta.values, THETA[:15])
    assert "kmc3_motors_theta" in raw.coords  # k-primary:0
    assert raw.kmc3_motors_theta.attrs["long_name"] == "kmc3/motors/theta"
    np.testing.assert_array_equal(raw.kmc3_counters_roi1.values, np.arange(15.0) ** 2)
    assert float(raw.kmc3_motors_delta) == 38.9
    np.testing.assert_array_equal(raw.kmc3_calibration.values, np.arange(5.0))  # its own dimension
    assert raw.mca_spectrum.dims[0] == "index"
    assert raw.mca_spectrum.shape == (15, 8)
    assert raw.images.shape == (15, 4, 5)
    assert raw.attrs["k-header:sample"] == "SrTiO3"
    skipped = scan.load(frames="skip")
    assert skipped.sizes["index"] == 21  # without frames, every point


@pytest.mark.parametrize("layout", ["hdf5", "zarr"])
def test_nx5d3_frame_guard_naming_a_dataset(tmp_path, layout):
    url = write_nx5d3(tmp_path, layout, guard="kmc3/counters/mon")
    scan = nx5d.open(url, spice_url="").beamtime.r0037
    with pytest.warns(UserWarning, match="15 detector frames for 21 counter values"):
        assert scan.raw.sizes["index"] == 15  # the frames are fewer than the guard
    url = write_nx5d3(tmp_path, layout, guard=10)
    scan = nx5d.open(url, spice_url="").beamtime.r0037
    with pytest.warns(UserWarning, match="10 detector frames for 21 counter values"):
        assert scan.raw.images.shape[0] == 10
    assert scan.load(frames="skip").sizes["index"] == 10  # the guard holds for the counters alone too
    url = write_nx5d3(tmp_path, layout, guard="pilatus/nothing")
    with pytest.raises(CorruptDataError, match=r"k-frame-guard names 'pilatus/nothing', which the scan group"):
        nx5d.open(url, spice_url="").beamtime.r0037.raw  # noqa: B018
