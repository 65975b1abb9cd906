"""nx5d-kmc3 on generated data: URL forms, listing, summaries, raw, cook, ingest, damaged files."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import uuid

import h5py
import numpy as np
import pytest
import tifffile

import nx5d
from nx5d.errors import CorruptDataError, MissingDataError, OptionError, SpiceValidationError
from nx5d.io.storage import Storage, record_io
from nx5d.testing import BeamlineConformance, snapshot_tree
from nx5d_kmc3.ingest import ingest
from nx5d_kmc3.synth import (
    FRAME_SHAPE,
    Q_BRAGG,
    ScanPlan,
    bragg_qz,
    film_intensity,
    pixel_q,
    write_repository,
    write_sources,
)
from nx5d_spec.parser import read_index, read_scan

SHAPE = (40, 60)
PLANS = (
    ScanPlan(points=9, theta=(19.9, 20.1), frame_shape=SHAPE),
    ScanPlan("delay", points=6, delays=(-10.0, 100.0), frame_shape=SHAPE),
)
PROPOSALS = {"253-cw38-12345-doe": PLANS, "254-cw02-23456-roe": PLANS[:1]}
# a small detector: the direct beam pixel in the middle of it
SMALL_SPICE = {"settings": {"img_center": [20.0, 30.0], "grid_size": [20, 30]}}

URL_FORMS = {
    "proposal document": "{root}/{{proposal}}/{{proposal}}.h5#{{scan}}",
    "fixed document name": "{root}/{{proposal}}/data.h5#{{scan}}",
    "nested anchor": "{root}/{{proposal}}/{{proposal}}.h5#{{proposal}}/{{scan}}",
    "one document": "{root}/drepo.hdf#{{proposal}}/{{scan}}",
    "scan document": "{root}/{{proposal}}/{{proposal}}-{{scan}}.h5#data/",
}


def generate(tmp_path, form="proposal document", proposals=PROPOSALS):
    url = "file://" + URL_FORMS[form].format(root=tmp_path / "data")
    return write_repository(url, proposals, sources=tmp_path / "spec")


@pytest.fixture
def url(tmp_path):
    return generate(tmp_path)


def open_repo(url, **options):
    return nx5d.open(url, spice_url="", **options)


class TestKmc3Conformance(BeamlineConformance):
    beamline = "kmc3"

    @pytest.fixture
    def repository_url(self, tmp_path):
        return generate(tmp_path)

    @pytest.fixture
    def ecosystem_urls(self, tmp_path):
        return [generate(tmp_path / str(n), form) for n, form in enumerate(URL_FORMS)]

    @pytest.fixture
    def spice_variants(self):
        return SMALL_SPICE, {"settings": {"img_center": [20.0, 30.0], "grid_size": [30, 20]}}


class TestKmc3SpecConformance(BeamlineConformance):
    beamline = "kmc3"

    @pytest.fixture
    def repository_url(self, tmp_path):
        generate(tmp_path)
        return f"file://{tmp_path}/spec/{{proposal}}/{{proposal}}.spec#{{scan}}"

    @pytest.fixture
    def spice_variants(self):
        return SMALL_SPICE, {"settings": {"img_center": [20.0, 30.0], "grid_size": [30, 20]}}


@pytest.mark.parametrize("form", list(URL_FORMS))
def test_every_url_form_of_the_reference_page(tmp_path, form):
    repo = open_repo(generate(tmp_path, form))
    assert repo.beamline == "kmc3"
    assert repo.all() == {"253-cw38-12345-doe": "doe12345", "254-cw02-23456-roe": "roe23456"}
    assert repo.doe12345.keys() == ["1.1", "2.1"]
    raw = repo.doe12345["2.1"].raw
    assert raw.images.shape == (6, *SHAPE)
    assert raw.delay.values.tolist() == np.linspace(-10, 100, 6).round(3).tolist()
    cooked = repo.roe23456["1.1"].cook(SMALL_SPICE)
    assert cooked.qdata.dims == ("qy", "qz")


def test_scans_sort_numerically_and_unrelated_groups_are_skipped(tmp_path):
    plans = tuple(ScanPlan(points=2, frame_shape=SHAPE) for _ in range(11))
    url = generate(tmp_path, proposals={"253-cw38-12345-doe": plans})
    document = tmp_path / "data" / "253-cw38-12345-doe" / "253-cw38-12345-doe.h5"
    with h5py.File(document, "a") as f:
        f.create_group("notes")
        f.create_group(".partial-12.1")
    keys = open_repo(url).doe12345.keys()
    assert keys == [f"{n}.1" for n in range(1, 12)]  # 2.1 before 10.1; no notes, no partial scan


def test_proposals_outside_the_naming_convention_get_sanitised_handles(tmp_path):
    url = generate(tmp_path, proposals={"commissioning-2025": PLANS[:1]})
    assert open_repo(url).all() == {"commissioning-2025": "commissioning_2025"}


def test_summary_reads_no_images(url):
    scan = open_repo(url).doe12345["1.1"]
    with record_io() as io:
        summary = scan.summary
    assert summary == {
        "type": "a2scan",
        "steps": 9,
        "notes": "a2scan Theta 19.9 20.1 TwoTheta 39.8 40.2 8 1",
        "start": "2025-09-18T10:10:00",
        "motor": "Theta",
        "range": [19.9, 20.1],  # from the command: the summary reads no positions
        "counters": summary["counters"],
        "detector": "pilatus",
        "frame_shape": list(SHAPE),  # from the frames dataset's shape: no frame is read
    }
    assert {"Theta", "TwoTheta"} <= set(summary["counters"])
    assert not [d for d in io.datasets if "pilatus" in d]
    assert io.bytes_read < 1000  # the title and start time


def test_listing_reads_no_dataset(url):
    repo = open_repo(url)
    with record_io() as io:
        repo.keys()
        repo.doe12345.keys()
    assert io.datasets == []


def test_raw_counters_positioners_and_lazy_images(url):
    raw = open_repo(url).doe12345["1.1"].raw
    assert raw.images.dtype == np.int32
    assert raw.images.dims == ("index", "y", "x")
    assert raw.images.chunks is not None  # lazy by default
    assert raw.Theta.dims == ("index",)
    assert raw.Theta.values[[0, -1]].tolist() == [19.9, 20.1]
    assert raw.Chi.dims == ()  # scalar positioner
    assert float(raw.Chi) == 0.0
    assert raw.machine_current.dims == ("index",)
    assert raw.attrs["title"].startswith("a2scan")
    with record_io() as io:
        frame = raw.images[3].values
    assert len(io.datasets) == 1
    eager = open_repo(url, lazy=False).doe12345["1.1"].raw
    assert isinstance(eager.images.data, np.ndarray)
    np.testing.assert_array_equal(eager.images.values[3], frame)


def test_roi_and_reduce(url):
    scan = open_repo(url).doe12345["1.1"]
    full = scan.load(lazy=False).images.values
    for lazy in (True, False):
        part = scan.load(lazy=lazy, roi=(5, 35, 10, 50), reduce=2).images.values
        np.testing.assert_array_equal(part, full[:, 5:35:2, 10:50:2])
    with pytest.raises(OptionError, match="does not know loading option"):
        scan.load(stride=2)
    with pytest.raises(OptionError, match="lazy must be True or False"):
        scan.load(lazy="yes")


def test_cook_finds_the_generated_reflection(tmp_path):
    url = generate(tmp_path, proposals={"253-cw38-12345-doe": (ScanPlan(points=21, theta=(19.8, 20.2)),)})
    cooked = open_repo(url).doe12345["1.1"].cooked  # documented defaults: full Pilatus, 9000 eV
    profile = cooked.qdata.sum("qy")
    centre = float((profile * cooked.qz).sum() / profile.sum())
    step = float(cooked.qz[1] - cooked.qz[0])
    assert centre == pytest.approx(Q_BRAGG, abs=step / 4)  # within a quarter grid step
    across = cooked.qdata.sum("qz")
    assert abs(float(cooked.qy[int(across.argmax())])) <= float(cooked.qy[1] - cooked.qy[0])  # qy peak at 0
    assert cooked.attrs["source"].endswith("#1.1")


def test_cook_per_delay_follows_the_lattice_expansion(tmp_path):
    plans = (ScanPlan("delay", points=5, delays=(-50.0, 150.0)),)
    scan = open_repo(generate(tmp_path, proposals={"253-cw38-12345-doe": plans})).doe12345["1.1"]
    cooked = scan.cook({"settings": {"group_by": "delay", "grid_size": [40, 200]}})
    assert cooked.qdata.dims == ("delay", "qy", "qz")
    profile = (cooked.qdata * cooked.weight).sum("qy")
    centre = ((profile * cooked.qz).sum("qz") / profile.sum("qz")).values
    # At a fixed angle the detector cuts the reflection along the Ewald sphere, obliquely to qz (its columns lie
    # in the scattering plane): the map's centre follows the centre of the intensity the detector saw, which
    # moves with the lattice by less than the lattice's own shift (bragg_qz).
    seen = [film_intensity(20.0, 40.0, d, FRAME_SHAPE) for d in cooked.delay.values]
    qz = pixel_q(20.0, 40.0, FRAME_SHAPE)[2]
    expected = np.array([(i * qz).sum() / i.sum() for i in seen])
    np.testing.assert_allclose(centre - centre[0], expected - expected[0], rtol=0.05, atol=5e-5)
    assert centre[-1] < centre[0] - 3e-3
    assert bragg_qz(cooked.delay.values[-1]) < expected[-1] < bragg_qz(cooked.delay.values[0])


def test_cook_3d_and_monitor(url):
    scan = open_repo(url).doe12345["1.1"]
    three = scan.cook({"settings": {**SMALL_SPICE["settings"], "q_axes": ["qx", "qy", "qz"], "grid_size": [5, 6, 7]}})
    assert three.qdata.shape == (5, 6, 7)
    plain = scan.cook({"settings": {**SMALL_SPICE["settings"], "monitor": None}})
    normalised = scan.cook(SMALL_SPICE)
    assert not np.allclose(plain.qdata.values, normalised.qdata.values)
    with pytest.raises(SpiceValidationError, match="monitor 'nope' is not a variable"):
        scan.cook({"settings": {"monitor": "nope"}})
    with pytest.raises(SpiceValidationError, match="grid_size"):
        scan.cook({"settings": {"grid_size": [10]}})


def test_spice_schema_refuses_wrong_fields(url):
    proposal = nx5d.open(url, spice_url="").doe12345
    with pytest.raises(SpiceValidationError):
        proposal.spice.seed("settings", img_centre=(1, 2))
    assert proposal.spice.view("1.1")  # defaults shown
    proposal.spice.seed("settings", img_distance=742.5)
    proposal.spice.anchor("2.1", "settings")
    # a field the schema declares may be set though the seed did not name it
    record = proposal.spice.update("2.1", "settings", group_by="delay")
    assert record["data"] == {"img_distance": 742.5, "group_by": "delay"}
    assert proposal["2.1"].cook().qdata.dims[0] == "delay"
    with pytest.raises(SpiceValidationError, match="group_bye"):
        proposal.spice.update("2.1", "settings", group_bye="delay")


def test_reading_never_writes(url, tmp_path):
    before = snapshot_tree(tmp_path / "data")
    repo = open_repo(url)
    for proposal in repo.keys():
        for key in repo[proposal].keys():
            scan = repo[proposal][key]
            assert scan.summary["steps"] > 0
            scan.load(lazy=False)
    assert snapshot_tree(tmp_path / "data") == before


# --- SPEC + TIFF and ingest -----------------------------------------------------------


def test_ingest_round_trips_counters_and_frames_bit_exactly(tmp_path):
    spec_path = write_sources(tmp_path / "src", "p", PLANS)
    out = tmp_path / "p.h5"
    report = ingest(spec_path, out)
    assert report.written == ("1.1", "2.1")
    spec_url, storage = f"file://{spec_path}", Storage()
    index = read_index(storage, spec_url)
    with h5py.File(out, "r") as f:
        for scan in (read_scan(storage, spec_url, key, index) for key in index.keys()):
            group = f[scan.key]
            assert group["title"][()].decode() == scan.command
            for i, label in enumerate(scan.labels):
                stored = group[f"measurement/{label}"][()]
                assert stored.dtype == np.float64
                assert np.array_equal(stored, scan.data[:, i])  # exactly the numbers in the SPEC text
            images = group["instrument/pilatus/data"][()]
            for i in range(scan.points):
                frame = tifffile.imread(tmp_path / "src" / "pilatus" / f"p_{scan.number:03d}_{i:05d}.tif")
                assert images.dtype == frame.dtype
                assert np.array_equal(images[i], frame)
            assert group["instrument/positioners/Chi"][()] == scan.positions["Chi"]
            assert np.array_equal(group["instrument/machine/current"][()], scan.column("ring_current"))
            assert group["instrument/specfile/scan_header"][()].decode() == "\n".join(scan.header)


def test_ingest_appends_and_never_touches_existing_scans(tmp_path):
    spec_path = write_sources(tmp_path / "src", "p", PLANS)
    out = tmp_path / "p.h5"
    ingest(spec_path, out, scans=["1.1"])
    with h5py.File(out, "r") as f:
        first = f["1.1/instrument/pilatus/data"][()]
        address = f["1.1/instrument/pilatus/data"].id.get_offset()
    report = ingest(spec_path, out)
    assert report.written == ("2.1",)
    assert report.skipped == ("1.1",)
    with h5py.File(out, "r") as f:
        assert f["1.1/instrument/pilatus/data"].id.get_offset() == address
        assert np.array_equal(f["1.1/instrument/pilatus/data"][()], first)
    with pytest.raises(MissingDataError, match=r"no scan\(s\) 9.1"):
        ingest(spec_path, out, scans=["9.1"])


def test_ingest_cli(tmp_path):
    spec_path = write_sources(tmp_path / "src", "p", PLANS[:1])
    from nx5d_kmc3.cli import main

    assert main(["ingest", str(spec_path), "--out", str(tmp_path / "p.h5"), "--quiet"]) == 0
    assert open_repo(f"file://{tmp_path}/{{proposal}}.h5#{{scan}}").p.keys() == ["1.1"]
    assert main(["ingest", str(tmp_path / "none.spec"), "--out", str(tmp_path / "p.h5")]) == 1


INTERRUPTED = textwrap.dedent(
    """
    import os, signal, sys
    from nx5d_kmc3.ingest import ingest

    def progress(key, frames):
        if key == "2.1" and frames >= 2:
            os.kill(os.getpid(), signal.SIGKILL)  # the power goes out in the middle of scan 2.1

    ingest(sys.argv[1], sys.argv[2], block=2, progress=progress)
    """
)


def test_an_interrupted_ingest_leaves_the_file_readable(tmp_path):
    spec_path = write_sources(tmp_path / "src", "p", PLANS)
    out = tmp_path / "p.h5"
    run = subprocess.run([sys.executable, "-c", INTERRUPTED, str(spec_path), str(out)], check=False)
    assert run.returncode == -signal.SIGKILL
    repo = open_repo(f"file://{tmp_path}/{{proposal}}.h5#{{scan}}")
    assert repo.p.keys() == ["1.1"]  # the finished scan; the half-written one is hidden
    assert repo.p["1.1"].load(lazy=False).images.shape == (9, *SHAPE)
    assert ingest(spec_path, out).written == ("2.1",)  # ingest again: the leftover is replaced
    assert open_repo(repo.url).p.keys() == ["1.1", "2.1"]


def test_spec_document_missing_frame_and_bad_lines(tmp_path):
    generate(tmp_path)
    url = f"file://{tmp_path}/spec/{{proposal}}/{{proposal}}.spec#{{scan}}"
    folder = tmp_path / "spec" / "253-cw38-12345-doe"
    (folder / "pilatus" / "253-cw38-12345-doe_001_00004.tif").unlink()
    scan = open_repo(url).doe12345["1.1"]
    with pytest.raises(MissingDataError, match=r"253-cw38-12345-doe_001_00004\.tif"):
        scan.load(lazy=False)
    masked = scan.load(lazy=False, missing="mask")
    assert masked.frame_missing.values.tolist() == [i == 4 for i in range(9)]
    spec = folder / "253-cw38-12345-doe.spec"
    text = spec.read_text().splitlines()
    bad = next(i for i, line in enumerate(text) if line and not line.startswith("#"))
    text[bad] = "19.9 oops 1"
    spec.write_text("\n".join(text))
    with pytest.raises(CorruptDataError, match=rf"253-cw38-12345-doe.spec, line {bad + 1}: not a row of numbers"):
        _ = open_repo(url).doe12345["1.1"].summary


# --- damaged and incomplete HDF5 ---------------------------------------------------------


def test_missing_detector_and_missing_measurement(url, tmp_path):
    document = tmp_path / "data" / "253-cw38-12345-doe" / "253-cw38-12345-doe.h5"
    with h5py.File(document, "a") as f:
        del f["1.1/instrument/pilatus"]
        del f["2.1/measurement"]
    proposal = open_repo(url).doe12345
    table = {row["scan"]: row for row in proposal.summaries()}
    assert table["1.1"]["notes"] == "incomplete: no detector images"
    assert table["2.1"]["notes"].startswith("incomplete: no measurement group")
    raw = proposal["1.1"].raw
    assert "images" not in raw
    assert raw.Theta.size == 9
    with pytest.raises(MissingDataError, match=r"#1.1 has no detector images to map"):
        _ = proposal["1.1"].cooked
    with pytest.raises(MissingDataError, match=r"#2.1 has no 'measurement' group"):
        _ = proposal["2.1"].raw


def test_truncated_document(url, tmp_path):
    document = tmp_path / "data" / "253-cw38-12345-doe" / "253-cw38-12345-doe.h5"
    data = document.read_bytes()
    document.write_bytes(data[: len(data) // 2])
    repo = open_repo(url)
    assert repo.keys() == ["253-cw38-12345-doe", "254-cw02-23456-roe"]  # proposals still list
    with pytest.raises(CorruptDataError, match=r"253-cw38-12345-doe.h5 is a truncated HDF5 file"):
        repo.doe12345.keys()
    assert repo.roe23456.keys() == ["1.1"]  # the other proposal is unaffected


WRITER = textwrap.dedent(
    """
    import sys, h5py
    from nx5d_kmc3.ingest import ingest
    ingest(sys.argv[1], sys.argv[2], scans=["1.1"])
    with h5py.File(sys.argv[2], "a") as f:  # the beamline keeps the file open and writes scan 2.1
        g = f.create_group("2.1")
        g["title"] = "ascan delay -10 100 5 1"
        g.create_dataset("measurement/delay", data=[-10.0, 12.0])
        f.flush()
        print("ready", flush=True)
        sys.stdin.readline()
    """
)


def test_reading_a_document_the_beamline_is_writing(tmp_path):
    spec_path = write_sources(tmp_path / "src", "p", PLANS)
    out = tmp_path / "p.h5"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(spec_path), str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "NX5D_PROGRESS": "0"},
    )
    try:
        assert writer.stdout.readline().strip() == "ready"
        proposal = open_repo(f"file://{tmp_path}/{{proposal}}.h5#{{scan}}").p
        assert proposal.keys() == ["1.1", "2.1"]
        assert proposal["2.1"].summary["notes"] == "incomplete: no detector images"
        assert proposal["1.1"].load(lazy=False).images.shape == (9, *SHAPE)
    finally:
        writer.communicate("done\n", timeout=60)
    assert writer.returncode == 0


def test_cooked_carries_provenance(url):
    import json

    import nx5d_kmc3

    proposal = open_repo(url).doe12345
    cooked = proposal["1.1"].cooked
    assert cooked.attrs["nx5d_version"] == nx5d.__version__
    assert cooked.attrs["nx5d_beamline"] == "kmc3"
    assert cooked.attrs["nx5d_plugin"] == f"nx5d-kmc3 {nx5d_kmc3.__version__}"
    assert cooked.attrs["nx5d_scan_url"].endswith("253-cw38-12345-doe.h5#1.1")
    assert json.loads(cooked.attrs["nx5d_spice"])["settings"]["uuid"] is None  # documented defaults only
    seeded = proposal.spice.seed("settings", img_center=[20.0, 30.0])
    updated = proposal.spice.update("1.1", "settings", grid_size=[20, 30])
    used = json.loads(proposal["1.1"].cooked.attrs["nx5d_spice"])["settings"]
    assert used["uuid"] == updated["uuid"] != seeded["uuid"]
    assert used["revision"] == 2
    assert used["anchor"] == ""
    assert "energy" in used["defaults"]
    given = proposal["1.1"].cook({"settings": {"img_center": [20.0, 30.0]}})
    assert json.loads(given.attrs["nx5d_spice"]) == {"given": {"settings": {"img_center": [20.0, 30.0]}}}


def test_nx5d_3_names_and_frames_grouped_in_hundreds(tmp_path):
    """Scans named r0001 as nx5d 3.x named them, frames in pilatus/S{group}/S{scan}/ folders."""
    generate(tmp_path)
    folder = tmp_path / "spec" / "253-cw38-12345-doe"
    for tif in sorted((folder / "pilatus").glob("*.tif")):
        number = int(tif.name.rsplit("_", 2)[1])
        frame = int(tif.stem.rsplit("_", 1)[1])
        target = folder / "pilatus" / "S00000" / f"S{number:05d}" / f"253-cw38-12345-doe_{number}_{frame}.tif"
        target.parent.mkdir(parents=True, exist_ok=True)
        tif.rename(target)
    url = f"file://{tmp_path}/spec/{{proposal}}/{{proposal}}.spec#{{scan}}"
    repo = open_repo(url, scan_key="{number:d}.{order:d}", scan_handle="r{number:04d}")
    proposal = repo.doe12345
    assert proposal.handles() == ["r0001", "r0002"]
    raw = proposal.r0002.load(lazy=False)
    assert raw.images.sizes["index"] == raw.sizes["index"] > 1
    frame = tifffile.imread(folder / "pilatus" / "S00000" / "S00002" / "253-cw38-12345-doe_2_5.tif")
    np.testing.assert_array_equal(raw.images.values[5], frame)
    proposal.spice.seed("settings", grid_size=[20, 30])
    proposal.spice.anchor("r0002", "settings")
    assert proposal.spice.view("r0002").rows()[0]["anchor"] == "2.1"


# --- spice written by nx5d 3.x -----------------------------------------------------------

EXP_INFO = {  # the KMC3 diffractometer as nx5d 3.x / xraydc's QMapper take it
    "beamEnergy": 9400.0,
    "beamDirection": [0, 0, 1],
    "goniometerAxes": {"Theta": "y+", "Chi": "z+", "Phi": "x+"},
    "detectorAxes": {"TwoTheta": "y+"},
    "imageAxes": ["x-", "y+"],
    "imageSize": [40, 60],
    "imageCenter": [20, 30],
    "imageDistance": 700.0,
    "imageChannelSize": [0.172, 0.172],
    "sampleFaceUp": "x+",
    "sampleNormal": [1, 0, 0],
}


def write_nx5d3_record(folder, handle, data, *, revision=1, anchor="", kind=None):
    """One record as nx5d 3.x saves it: json.dump of the object into a new file named by its uuid."""
    record = {"version": "kmc3/1a", "type": kind or handle, "handle": handle, "uuid": str(uuid.uuid4()),
              "revision": revision, "anchor": anchor, "data": data}  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / record["uuid"], "x") as handle_file:
        json.dump(record, handle_file)
    return record


@pytest.fixture
def nx5d3_proposal(tmp_path):
    generate(tmp_path)
    folder = tmp_path / "spec" / "253-cw38-12345-doe" / "spice"  # where nx5d 3.x kept this proposal's spice
    records = [
        write_nx5d3_record(folder, "exp_info", EXP_INFO),
        write_nx5d3_record(folder, "qargs", {"dims": ["qy", "qz"], "qsize": [20, 30], "gridargs": {}}),
        write_nx5d3_record(folder, "offsets", {"Theta": 0.05}),
        write_nx5d3_record(folder, "offsets", {"Theta": 0.1}, anchor="r0002"),
        write_nx5d3_record(folder, "image", {"imageCenter": [22, 31], "imageDistance": 710.0}, anchor="r0002"),
        write_nx5d3_record(
            folder, "image", {"imageCenter": [21, 31], "imageDistance": 705.0}, anchor="r0002", revision=2
        ),
        write_nx5d3_record(folder, "recipes", {"ascan": "pymod://xraydc.cooking#sRSM", "__default__": "file:///x.py#f"}),
    ]  # fmt: skip
    url = f"file://{tmp_path}/spec/{{proposal}}/{{proposal}}.spec#{{scan}}"
    repo = nx5d.open(url, scan_key="{number:d}.{order:d}", scan_handle="r{number:04d}")
    return repo.doe12345, folder, records


EQUIVALENT = {  # what those records mean at scan r0002, in nx5d's own spice
    "settings": {
        "energy": 9400.0, "beam": [0, 0, 1], "sample_axes": ["y+", "z+", "x+"],
        "sample_motors": ["Theta", "Chi", "Phi"], "detector_axes": ["y+"], "detector_motors": ["TwoTheta"],
        "image_axes": ["x-", "y+"], "img_center": [21, 31],
        "img_distance": 705.0, "pixel_size": [0.172, 0.172], "normal": [1, 0, 0], "inplane": [0, 0, 1],
        "q_axes": ["qy", "qz"], "grid_size": [20, 30],
    },
    "offsets": {"Theta": 0.1},
}  # fmt: skip


def test_nx5d3_spice_is_read_viewed_and_cooked_from(nx5d3_proposal):
    proposal, folder, _ = nx5d3_proposal
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    view = proposal.spice.view("r0002")
    assert view["image"].imageDistance == 705.0  # revision 2 of the branch anchored at r0002 (key 2.1)
    assert view["offsets"].Theta == 0.1
    assert proposal.spice.view("r0001")["offsets"].Theta == 0.05
    history = proposal.spice.history("image")
    assert [(r["anchor"], r["revision"], r["version"]) for r in history] == [
        ("2.1", 1, "kmc3/1a"),
        ("2.1", 2, "kmc3/1a"),
    ]
    assert "kmc3/1a" in repr(history)
    with pytest.warns(UserWarning, match=r"sampleFaceUp.*imageSize|imageSize.*sampleFaceUp"):
        cooked = proposal.r0002.cooked
    assert cooked.attrs["nx5d_recipe"] == "rsm"
    expected = proposal.r0002.cook(EQUIVALENT)
    np.testing.assert_array_equal(cooked.qdata.values, expected.qdata.values)
    np.testing.assert_array_equal(cooked.qz.values, expected.qz.values)
    assert {p.name: p.read_bytes() for p in folder.iterdir() if not p.name.startswith(".")} == before  # untouched


def test_nx5d3_spice_is_imported_without_losing_a_record(nx5d3_proposal, tmp_path):
    proposal, folder, records = nx5d3_proposal
    target = f"file://{tmp_path}/imported/{{proposal}}"
    repo = nx5d.open(
        proposal.repository.url, spice_url=target, scan_key="{number:d}.{order:d}", scan_handle="r{number:04d}"
    )
    book = repo.doe12345.spice
    write_nx5d3_record(folder, "offsets", {"Theta": 0.2}, anchor="r0099")  # a scan not in this proposal
    with pytest.warns(nx5d.errors.SpiceWarning, match="anchored at 'r0099'"):
        written = book.import_nx5d3(str(folder))
    assert len(written) == len(records) + 1
    stored = {r.uuid: r for r in book.records()}
    for original in records:
        mine = stored[original["uuid"]]
        assert (mine.type, mine.handle, mine.revision, mine.data) == (
            original["type"], original["handle"], original["revision"], original["data"]
        )  # fmt: skip
        assert mine.anchor == {"": "", "r0002": "2.1"}[original["anchor"]]
        assert mine.version == "nx5d-spice/1"
    assert sorted(p.name for p in (tmp_path / "imported" / "253-cw38-12345-doe").glob("*.json")) == sorted(
        f"{u}.json" for u in stored
    )
    assert book.import_nx5d3(str(folder)) == []  # nothing twice
    with pytest.warns(UserWarning, match="sampleFaceUp"):
        np.testing.assert_array_equal(
            repo.doe12345.r0002.cooked.qdata.values, repo.doe12345.r0002.cook(EQUIVALENT).qdata.values
        )


def test_nx5d3_spice_import_from_the_shell(nx5d3_proposal, tmp_path, capsys):
    from nx5d.app.cli import main

    proposal, folder, records = nx5d3_proposal
    url = proposal.repository.url
    target = f"file://{tmp_path}/imported/{{proposal}}"
    assert main(["spice", url, "253-cw38-12345-doe", "import", str(folder), "--spice-url", target]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(records)
    assert all(line.startswith("wrote revision ") for line in lines)


# --- nx5d 3.x workflows: stacks, latest, globs, the scan table ------------------------------


def test_scans_stack_into_one_virtual_scan_on_demand_and_from_spice(url):
    proposal = open_repo(url, lazy=False).doe12345
    first, second = proposal["1.1"].raw, proposal["2.1"].raw
    stack = proposal.stack("1.1", "s2_1", scan_type="ascan")
    raw = stack.raw
    assert raw.images.sizes["index"] == first.sizes["index"] + second.sizes["index"]
    np.testing.assert_array_equal(raw.images.values, np.concatenate([first.images.values, second.images.values]))
    assert raw.scan.values.tolist() == ["1.1"] * first.sizes["index"] + ["2.1"] * second.sizes["index"]
    np.testing.assert_array_equal(raw.Chi.values, np.full(raw.sizes["index"], float(first.Chi)))  # repeated
    assert stack.summary == {"type": "ascan", "steps": raw.sizes["index"], "notes": "stack of 1.1, 2.1"}
    cooked = stack.cook(SMALL_SPICE)
    assert int(cooked.frames) == raw.sizes["index"]
    proposal.spice.seed("both", type="stack", scans=["1.1", "2.1"], scan_type="ascan")
    assert list(proposal.stacks()) == ["both"]
    assert proposal.both.members == ["1.1", "2.1"]
    table = proposal.table()
    assert table.loc["both", "notes"] == "stack of 1.1, 2.1"
    assert "both" in repr(proposal)
    with pytest.raises(SpiceValidationError, match="scans names a scan twice"):
        proposal.spice.seed("twice", type="stack", scans=["1.1", "1.1"])
    with pytest.raises(nx5d.errors.ScanNotFoundError):
        proposal.stack("1.1", "99.1")


def test_latest_globs_and_the_typed_scan_table(url):
    repo = open_repo(url)
    assert repo.ls("253*") == {"253-cw38-12345-doe": "doe12345"}
    assert repo.ls("*roe*") == {"254-cw02-23456-roe": "roe23456"}
    proposal = repo.doe12345
    assert proposal.latest.key == proposal.keys()[-1]
    assert proposal.ls("s1_*") == {"1.1": "s1_1"}
    table = proposal.table()
    assert list(table.index) == proposal.keys()
    assert str(table["steps"].dtype) == "Int64"
    assert str(table["start"].dtype).startswith("datetime64")
