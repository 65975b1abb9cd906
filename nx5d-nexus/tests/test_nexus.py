"""The nexus beamline on generated BLISS, GDA and Zarr repositories: conformance, reading, links, damage."""

import shutil
import warnings

import h5py
import numpy as np
import pytest

import nx5d
from nx5d.errors import CorruptDataError, DataWarning, MissingDataError, NotSupportedError, SpiceValidationError
from nx5d.io.storage import record_io
from nx5d.testing import BeamlineConformance
from nx5d_nexus.synth import scan_data, write_repository
from nx5d_rsm.cook import cook_rsm
from nx5d_rsm.settings import MotorSettings

RSM = {
    "settings": {"sample_motors": ["eta"], "detector_motors": ["delta"], "grid_size": [20, 30], "img_center": [12, 10]}
}


class TestNexusConformance(BeamlineConformance):
    beamline = "nexus"

    @pytest.fixture(params=["bliss", "gda", "zarr"])
    def repository_url(self, request, tmp_path):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zarr warns about string attributes' future specification
            return write_repository(tmp_path / "data", {"hc2103": [1, 2], "hc2104": [1]}, request.param)

    @pytest.fixture
    def spice_variants(self):
        return {"profile": {"signal": "roi1"}}, {"profile": {"signal": "roi1", "monitor": "mon"}}


@pytest.fixture(params=["bliss", "gda", "zarr"])
def layout_repo(request, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        url = write_repository(tmp_path / "data", {"hc2103": [1, 2, 3]}, request.param)
    return request.param, nx5d.open(url, spice_url="")


def test_every_layout_reads_the_same_scan(layout_repo):
    _, repo = layout_repo
    assert repo.beamline == "nexus"
    proposal = repo.hc2103
    scan = proposal[proposal.keys()[1]]
    written = scan_data(2)
    raw = scan.raw
    for name in ("eta", "mon", "roi1", "epoch"):
        np.testing.assert_array_equal(raw[name].values, written["counters"][name])
    np.testing.assert_array_equal(raw.images.values, written["frames"])
    assert raw.images.dims == ("index", "y", "x")
    assert raw.images.x.values.tolist() == list(range(32))
    assert float(raw.delta) == pytest.approx(34.48)
    assert raw.eta.attrs["units"] == "deg"
    summary = scan.summary
    assert summary["type"] == "ascan"
    assert summary["steps"] == 21
    assert summary["motor"] == "eta"
    assert summary["notes"] == written["title"]


def test_nexus_signal_and_axes(layout_repo):
    layout, repo = layout_repo
    raw = repo.hc2103[repo.hc2103.keys()[0]].raw
    if layout == "zarr":
        assert raw.attrs["signal"] == ""  # no NXdata group
        return
    assert raw.attrs["signal"] == "roi1"
    assert "eta" in raw.coords  # the NXdata axis is a coordinate


def test_default_cook_is_a_profile_and_rsm_with_named_angles(layout_repo):
    _, repo = layout_repo
    scan = repo.hc2103[repo.hc2103.keys()[0]]
    profile = scan.cooked
    assert profile.signal.dims == ("eta",)
    peak = float(profile.eta[int(profile.signal.argmax())])
    assert peak == pytest.approx(17.25, abs=0.05)
    maps = scan.cook(RSM)
    assert maps.qdata.dims == ("qy", "qz")
    assert float(maps.qdata.max()) > 0
    with pytest.raises(SpiceValidationError, match=r"seed the 'settings' spice with sample_motors and detector_motors"):
        scan.cook({"recipes": {"by_type": {"*": "rsm"}}})


def test_frames_are_lazy_when_asked_or_large(layout_repo):
    _, repo = layout_repo
    scan = repo.hc2103[repo.hc2103.keys()[0]]
    lazy = scan.load(lazy=True)
    assert type(lazy.images.data).__module__.startswith("dask")
    np.testing.assert_array_equal(lazy.images.values, scan.raw.images.values)
    assert type(scan.raw.images.data) is np.ndarray  # small frames: in memory by default
    part = scan.load(roi=(2, 20, 4, 30), reduce=2)
    np.testing.assert_array_equal(part.images.values, scan.raw.images.values[:, 2:20:2, 4:30:2])
    assert part.images.y.values.tolist() == list(range(2, 20, 2))


def test_summaries_read_no_array_data(tmp_path):
    url = write_repository(tmp_path, {"hc2103": [1, 2]}, "bliss")
    scan = nx5d.open(url, spice_url="").hc2103["1.1"]
    with record_io() as io:
        summary = scan.summary
    assert io.datasets == []  # names, shapes, attributes and the title only
    assert summary["detector"] == "mpx"


def test_virtual_frames_inside_the_repository_are_read(tmp_path):
    url = write_repository(tmp_path, {"hc2103": [1]}, "bliss", vds=True)
    raw = nx5d.open(url, spice_url="").hc2103["1.1"].raw
    np.testing.assert_array_equal(raw.images.values, scan_data(1)["frames"])


def test_a_missing_virtual_source_is_never_read_as_zeros(tmp_path):
    url = write_repository(tmp_path, {"hc2103": [1, 2]}, "bliss", vds=True)
    shutil.rmtree(tmp_path / "hc2103" / "scan0002")
    proposal = nx5d.open(url, spice_url="").hc2103
    assert proposal["2.1"].summary["steps"] == 21  # the scan is still listed and summarised
    assert proposal["2.1"].summary["detector"] == "mpx"
    message = (
        r"hc2103.h5#2.1/measurement/mpx is a virtual dataset reading from "
        r"'scan0002/mpx_0000.h5', which does not exist"
    )
    with pytest.warns(UserWarning, match=message):
        counters = proposal["2.1"].raw  # the counters, without the frames
    assert "images" not in counters
    assert counters.sizes["index"] == 21
    assert "scan0002/mpx_0000.h5" in counters.attrs["absent"]
    with pytest.raises(MissingDataError, match=message):
        proposal["2.1"].load(detector="mpx")  # asked for by name: an error
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # frames skipped: their absence is no news
        assert proposal["2.1"].load(frames="skip").sizes["index"] == 21
    assert proposal["1.1"].raw.images.values.max() > 0


def test_remote_documents_with_virtual_frames_say_so(tmp_path):
    from nx5d.io.storage import Storage
    from nx5d_nexus.links import Sources

    url = write_repository(tmp_path, {"hc2103": [1]}, "bliss", vds=True)
    document = url.format(proposal="hc2103", scan="1.1").partition("#")[0]
    sources = Sources("http://server/hc2103.h5", None)
    with h5py.File(Storage.local_path(document)) as handle:
        absent = sources.virtual(
            handle["1.1/instrument/mpx/image"], "instrument/mpx/image", "http://server/hc2103.h5#1.1"
        )
    assert isinstance(absent.error, NotSupportedError)
    assert "local documents" in absent.message


@pytest.mark.parametrize("length", [5, 22])
def test_a_counter_of_another_length_is_left_out_of_summaries_and_loads_alike(tmp_path, length):
    """Shorter (not written to the end) or longer: left out, named, never cut or padded; the others keep every point."""
    url = write_repository(tmp_path, {"hc2103": [1]}, "bliss")
    written = scan_data(1)["counters"]
    with h5py.File(tmp_path / "hc2103" / "hc2103.h5", "a") as handle:
        del handle["1.1/instrument/mon/data"]
        handle["1.1/instrument/mon/data"] = np.arange(length, dtype=float)
    scan = nx5d.open(url, spice_url="").hc2103["1.1"]
    told = rf"hc2103.h5#1.1: counters of another length than the scan's 21 points left out: mon \({length}\)"
    with pytest.warns(DataWarning, match=told):
        summary = scan.summary
    assert summary["steps"] == 21
    assert "mon" not in summary["counters"]
    assert "roi1" in summary["counters"]
    with pytest.warns(DataWarning, match=told):
        raw = scan.raw
    assert "mon" not in raw
    assert raw.sizes["index"] == 21
    np.testing.assert_array_equal(raw.eta.values, written["eta"])  # every point of the others, as written
    np.testing.assert_array_equal(raw.roi1.values, written["roi1"])
    assert raw.images.shape[0] == 21


def test_the_frame_guard_and_headers_of_nx5d_3_acquisition(tmp_path):
    url = write_repository(tmp_path, {"hc2103": [1]}, "bliss")
    with h5py.File(tmp_path / "hc2103" / "hc2103.h5", "a") as handle:
        entry = handle["1.1"]
        entry.attrs["k-scan-type"] = "rocking"
        entry.attrs["k-frame-guard"] = 15
        entry.attrs["k-header:sample"] = "SrTiO3"
    scan = nx5d.open(url, spice_url="").hc2103["1.1"]
    assert scan.summary["type"] == "rocking"
    with pytest.warns(UserWarning, match="15 detector frames for 21 counter values"):
        raw = scan.raw
    assert raw.sizes["index"] == 15
    assert raw.attrs["k-header:sample"] == "SrTiO3"


def test_damaged_documents_give_nx5d_errors_naming_them(tmp_path):
    url = write_repository(tmp_path, {"hc2103": [1], "hc2104": [1]}, "bliss")
    document = tmp_path / "hc2103" / "hc2103.h5"
    document.write_bytes(document.read_bytes()[:4000])
    repo = nx5d.open(url, spice_url="")
    assert repo.beamline == "nexus"
    with pytest.raises(CorruptDataError, match=r"hc2103.h5 is a truncated HDF5 file"):
        repo.hc2103.keys()
    assert repo.hc2104.keys() == ["1.1"]


@pytest.mark.parametrize("layout", ["bliss", "gda", "zarr"])
def test_eiger_threshold_images_cook_summed_or_one_map_per_threshold(tmp_path, layout):
    repo = nx5d.open(write_repository(tmp_path, {"hc2103": [1]}, layout, thresholds=2), spice_url="")
    proposal = repo[repo.keys()[0]]
    scan = proposal[proposal.keys()[0]]
    raw = scan.raw
    assert raw.images.dims == ("index", "k", "y", "x")
    assert raw.images.attrs["detector_shape"] == [24, 32]
    summed = scan.cook(RSM)
    assert summed.qdata.dims == ("qy", "qz")
    grouped = scan.cook({"settings": {**RSM["settings"], "extra_axes": "group"}})
    assert grouped.qdata.dims == ("k", "qy", "qz")
    assert grouped.frames.values.tolist() == [21, 21]
    # the sum over thresholds is the map of the summed frames; each threshold's map that of its own frames
    np.testing.assert_array_equal(grouped.weight.values[0], grouped.weight.values[1])  # the same pixels
    np.testing.assert_allclose(summed.qdata.values, grouped.qdata.sum("k", skipna=False).values, rtol=1e-12)
    for k in range(2):
        alone = raw.assign(images=raw.images.isel(k=k, drop=True))
        one = cook_rsm(
            alone,
            MotorSettings(**RSM["settings"], energy=float(raw.photon_energy)),  # the energy the file states
            sample_angles=[raw.eta.values],
            detector_angles=[np.full(21, float(raw.delta))],
        )
        np.testing.assert_allclose(grouped.qdata.values[k], one.qdata.values, rtol=1e-12)
    counts = raw.images.values.sum()
    assert float((summed.qdata * summed.weight).sum()) == pytest.approx(counts, rel=1e-9)


@pytest.mark.parametrize("lazy", [False, True])
def test_zarr_frames_whose_chunks_are_absent_are_never_zeros_without_a_word(tmp_path, lazy):
    """A partial copy of a Zarr store: absent chunks read as the fill value, and a DataWarning says how many."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        url = write_repository(tmp_path / "data", {"hc2103": [1]}, "zarr")
    chunks = sorted((tmp_path / "data" / "hc2103.zarr" / "1.1" / "measurement" / "mpx" / "c").rglob("*"))
    chunk_files = [c for c in chunks if c.is_file()]
    for absent in chunk_files[3:5]:
        absent.unlink()
    scan = nx5d.open(url, spice_url="", lazy=lazy).hc2103["1.1"]
    with pytest.warns(DataWarning, match=r"hc2103\.zarr#1\.1/measurement/mpx: 2 of 21 chunks are not stored"):
        images = scan.raw.images.values
    assert images.shape[0] == 21


def test_zarr_arrays_without_a_fill_value_refuse_absent_chunks(tmp_path):
    import zarr

    from nx5d.io import zarrdoc

    array = zarr.open_group(tmp_path / "x.zarr", mode="w", zarr_format=2).create_array(
        "counts", shape=(4,), chunks=(1,), dtype="f8", fill_value=None
    )
    array[:] = 1.0
    (tmp_path / "x.zarr" / "counts" / "2").unlink()
    stored = zarr.open_group(tmp_path / "x.zarr", mode="r")["counts"]
    with pytest.raises(
        MissingDataError, match=r"x\.zarr#counts: 1 of 4 chunks are not stored and the array has no fill"
    ):
        zarrdoc.read(stored, f"{tmp_path}/x.zarr#counts")


@pytest.mark.parametrize("layout", ["bliss", "zarr"])
@pytest.mark.parametrize("lazy", [False, True])
def test_declared_sizes_never_allocate_beyond_the_limits(tmp_path, layout, lazy):
    """One set of limits for every format: a counter declared 10^10 long is left out unread; a frame
    dataset declaring 100,000 x 100,000 frames in a small file is refused by name before anything is read."""
    import zarr

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        url = write_repository(tmp_path / "data", {"hc2103": [1]}, layout)
    document = next(p for p in (tmp_path / "data").rglob(f"*.{'h5' if layout == 'bliss' else 'zarr'}"))
    group = h5py.File(document, "a") if layout == "bliss" else zarr.open_group(document, mode="a")
    try:
        group["1.1/measurement"].create_dataset("huge", shape=(10**10,), dtype="f8", chunks=(10**6,))
    finally:
        if layout == "bliss":
            group.close()
    with pytest.warns(DataWarning, match="10000000000"):
        raw = nx5d.open(url, spice_url="", lazy=lazy).hc2103["1.1"].raw
    assert "huge" not in raw  # of another length than the points: left out, unread
    assert raw.sizes["index"] == 21
    frames = next(
        path for path in ("1.1/instrument/mpx/image", "1.1/measurement/mpx") if path in _members_of(document, layout)
    )
    group = h5py.File(document, "a") if layout == "bliss" else zarr.open_group(document, mode="a")
    try:
        del group[frames]
        group.create_dataset(frames, shape=(21, 100_000, 100_000), dtype="i4", chunks=(1, 1000, 1000))
    finally:
        if layout == "bliss":
            group.close()
    message = rf"{document.name}#1\.1/\S+ claims a 100000 x 100000 int32 frame \(37.3 GiB\)"  # by the path read
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        with pytest.raises(CorruptDataError, match=message):
            nx5d.open(url, spice_url="", lazy=lazy).hc2103["1.1"].raw  # noqa: B018


def _members_of(document, layout):
    import zarr

    if layout == "bliss":
        with h5py.File(document, "r") as handle:
            found = []
            handle.visit(found.append)
            return found
    return [name for name, _ in zarr.open_group(document, mode="r").members(max_depth=None)]


def test_a_link_round_a_loop_is_named(tmp_path):
    url = write_repository(tmp_path / "data", {"hc2103": [1]}, "bliss")
    document = next((tmp_path / "data").rglob("*.h5"))
    with h5py.File(document, "a") as handle:
        handle["1.1/measurement/loop"] = h5py.SoftLink("/1.1/measurement/loop")
    with pytest.raises(CorruptDataError, match=r"hc2103\.h5#1\.1/measurement/loop cannot be followed"):
        nx5d.open(url, spice_url="").hc2103["1.1"].raw  # noqa: B018
