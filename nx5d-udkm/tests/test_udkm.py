"""The udkm beamline through nx5d.open: conformance, every table variant, options, bad input."""

import json
import os
import shutil
import subprocess
import sys

import attrs
import numpy as np
import pytest
import tifffile

import nx5d
from nx5d.errors import CorruptDataError, MissingDataError, OptionError, SpiceValidationError, SpiceWarning
from nx5d.testing import BeamlineConformance, snapshot_tree
from nx5d_udkm.synth import ScanSpec, write_repository, write_scan

SMALL = ScanSpec(delays=(-10.0, 0.0, 50.0, 200.0), thetas=(18.4, 18.5, 18.6, 18.7, 18.8), delay_loops=1, frames=None)


def small(variant="manifest", **kw):
    """The small test scan, in another variant or with other settings."""
    return attrs.evolve(SMALL, variant=variant, **kw)


def open_repo(root, **options):
    return nx5d.open(f"file://{root}/{{proposal}}/{{scan}}", spice_url="", **options)


@pytest.fixture(params=["manifest", "tRSS", "sRSM", "xRSS"])
def variant_repo(request, tmp_path):
    write_repository(tmp_path, {"20210205": ["091726"]}, small(request.param))
    return request.param, tmp_path


class TestUdkmConformance(BeamlineConformance):
    beamline = "udkm"

    @pytest.fixture
    def repository_url(self, tmp_path):
        return write_repository(tmp_path / "data", {"20210205": ["091726", "101500"], "20210206": ["080000"]}, SMALL)

    @pytest.fixture
    def spice_variants(self):
        return {"settings": {"grid_size": [20, 30]}}, {"settings": {"grid_size": [30, 20], "img_distance": 700.0}}


def test_listing_and_handles(tmp_path):
    write_repository(tmp_path, {"20210205": ["091726", "101500"], "20210301": ["000001"]}, SMALL)
    (tmp_path / "20210205" / "notes").mkdir()  # not a scan: scan keys are HHMMSS
    (tmp_path / "README.txt").write_text("not a proposal")
    repo = open_repo(tmp_path)
    assert repo.all() == {"20210205": "p20210205", "20210301": "p20210301"}
    assert repo.p20210205.all() == {"091726": "r091726", "101500": "r101500"}


def test_summaries_per_variant(variant_repo):
    variant, root = variant_repo
    summary = open_repo(root).p20210205.r091726.summary
    assert summary["type"] == variant
    assert summary["steps"] == (20 if variant in ("manifest", "tRSS") else 5)
    assert summary["theta"] == "18.4–18.8"
    assert summary["start"] == "2021-02-05 09:17:26"
    assert summary["notes"] == "SrRuO3 (30 nm) on SrTiO3 (001)"
    if variant in ("manifest", "tRSS"):
        assert summary["delays"] == 4


def test_raw_per_variant_holds_the_written_frames(variant_repo):
    variant, root = variant_repo
    raw = open_repo(root).p20210205.r091726.raw
    folder = root / "20210205" / "091726"
    ext = ".tiff" if variant == "manifest" else ".tif"
    written = np.stack([tifffile.imread(folder / f"image{i:05d}{ext}") for i in range(raw.sizes["index"])])
    np.testing.assert_array_equal(raw.images.values, written)
    assert raw.images.dtype == np.int32
    assert raw.images.dims == ("index", "y", "x")
    assert raw.attrs["scan_type"] == variant
    if variant in ("tRSS", "sRSM"):
        assert raw.image_file.values.tolist() == [f"image{i:05d}.tif" for i in range(raw.sizes["index"])]
        assert raw.start_time.dtype.kind == "M"
        assert str(raw.start_time.values[0]) == "2021-02-05T09:17:26.000"
        assert (raw.end_time.values > raw.start_time.values).all()
        profile = "intensities" if variant == "tRSS" else "rocking_curve"
        np.testing.assert_allclose(raw[profile].values, written.clip(min=0).sum(axis=1))
    if variant == "sRSM":
        reference = open_repo(root, names="reference").p20210205.r091726.raw
        assert {"Loop", "Thetadeg.", "2Theta+Corrdeg.", "Crystal", "CrystalCalib", "RockingCurve"} <= set(
            reference.variables
        )


def test_tidy_names(variant_repo):
    variant, root = variant_repo
    raw = open_repo(root, names="tidy").p20210205.r091726.raw
    expected = {
        "manifest": ["loop_delay", "delay", "loop_theta", "theta", "crystal_voltage", "crystal_rate",
                     "pilatus_rate", "repeats", "image_number", "intensities"],
        "tRSS": ["loop_delay", "delay", "loop_theta", "theta", "crystal_voltage", "crystal_rate",
                 "pilatus_rate", "repeats", "image_number", "intensities"],
        "sRSM": ["loop", "theta", "two_theta", "crystal", "crystal_calib", "rocking_curve"],
        "xRSS": ["loop", "theta", "two_theta", "crystal_voltage", "crystal_rate", "pilatus_rate"],
    }[variant]  # fmt: skip
    assert [n for n in raw.variables if n not in raw.dims][: len(expected)] == expected
    assert raw.theta.attrs == {"long_name": raw.theta.attrs["long_name"], "units": "deg"}
    assert "theta" in raw.coords  # the scan's axes are coordinates
    if "delay" in raw:
        assert raw.delay.attrs["units"] == "ps"
        assert "delay" in raw.coords


def test_cooked_per_variant(variant_repo):
    variant, root = variant_repo
    scan = open_repo(root).p20210205.r091726
    cooked = scan.cooked
    if variant in ("manifest", "tRSS"):
        assert dict(cooked.sizes) == {"delay": 4, "qy": 80, "qz": 150}
        assert cooked.frames.values.tolist() == [5, 5, 5, 5]
    else:
        assert dict(cooked.sizes) == {"qy": 80, "qz": 150}
    assert np.isfinite(cooked.qdata.values).all()
    assert cooked.qdata.max() > 0


def test_the_bragg_peak_moves_to_smaller_q_after_time_zero(tmp_path):
    spec = small("manifest", thetas=tuple(np.round(np.arange(18.3, 18.91, 0.02), 3)), delays=(-10.0, 20.0))
    write_repository(tmp_path, {"20210205": ["091726"]}, spec)
    scan = open_repo(tmp_path).p20210205.r091726
    scan.proposal.spice.seed("settings", grid_size=[40, 400])
    profile = scan.cooked.qdata.sum("qy")
    peak = profile.qz.values[profile.argmax("qz").values]
    assert peak[1] < peak[0]  # expansion after the pump: smaller q
    theta_shift = 0.03 * (1 - np.exp(-2.0)) * np.exp(-20.0 / 500)
    expected = peak[0] * (np.sin(np.radians(18.6 - theta_shift)) / np.sin(np.radians(18.6)))
    assert peak[1] == pytest.approx(expected, abs=2 * float(np.diff(profile.qz.values[:2])[0]))


@pytest.fixture
def manifest_repo(tmp_path):
    write_repository(tmp_path, {"20210205": ["091726"]}, SMALL)
    return tmp_path, tmp_path / "20210205" / "091726"


@pytest.mark.parametrize(("roi", "reduce"), [(None, 2), ((20, 150, 100, 400), 1), ((10, None, None, 300), 3)])
def test_region_and_stride(manifest_repo, roi, reduce):
    root, _ = manifest_repo
    scan = open_repo(root).p20210205.r091726
    full = scan.raw.images.values
    part = scan.load(roi=roi, reduce=reduce)
    r0, r1, c0, c1 = roi or (None, None, None, None)
    np.testing.assert_array_equal(part.images.values, full[:, r0:r1:reduce, c0:c1:reduce])
    cooked = scan.cook(reduce=reduce, roi=roi)
    assert dict(cooked.sizes) == {"delay": 4, "qy": 80, "qz": 150}


def test_lazy_loading_and_cooking_equal_eager(manifest_repo):
    root, _ = manifest_repo
    eager = open_repo(root).p20210205.r091726
    lazy = open_repo(root, lazy=True).p20210205.r091726
    assert type(lazy.raw.images.data).__module__.startswith("dask")
    np.testing.assert_array_equal(lazy.raw.images.values, eager.raw.images.values)
    np.testing.assert_allclose(lazy.cooked.qdata.values, eager.cooked.qdata.values)


def test_options_are_checked(manifest_repo):
    root, _ = manifest_repo
    with pytest.raises(OptionError, match="reduse"):
        open_repo(root, reduse=2)
    scan = open_repo(root).p20210205.r091726
    with pytest.raises(OptionError, match="lazy must be"):
        scan.load(lazy="yes")
    with pytest.raises(OptionError, match="reduce must be"):
        scan.load(reduce=0)
    with pytest.raises(OptionError, match="names must be"):
        scan.load(names="pretty")
    with pytest.raises(OptionError, match="missing must be"):
        scan.load(missing="skip")


def test_monitor_normalisation(manifest_repo):
    root, _ = manifest_repo
    scan = open_repo(root).p20210205.r091726
    plain = scan.cooked.qdata.values
    scan.proposal.spice.seed("settings", monitor="Crystal [ph/s]")
    normalised = scan.cooked.qdata.values
    assert normalised.max() < plain.max() / 1e5  # counts divided by ~1.7e6 ph/s
    scan.proposal.spice.update("r091726", "settings", monitor="Nope")
    with pytest.raises(SpiceValidationError, match="monitor 'Nope'"):
        scan.cooked  # noqa: B018


def test_spice_schema(manifest_repo):
    root, _ = manifest_repo
    proposal = open_repo(root).p20210205
    view = proposal.spice.view("r091726")
    assert view["settings"].img_center == (97.0, 241.0)
    assert view["settings"].energy == 8048.0
    with pytest.raises(SpiceValidationError, match="grid_size"):
        proposal.spice.seed("settings", grid_size="large")
    with pytest.raises(SpiceValidationError, match="q_axes"):
        proposal.spice.seed("settings", q_axes=["qy", "qy"])
    with pytest.raises(SpiceValidationError, match="unknown field"):
        proposal.spice.seed("settings", img_centre=(1, 2))


# --- bad input ------------------------------------------------------------------------------


def reads_change_nothing(root, action):
    before = snapshot_tree(str(root))
    try:
        action()
    finally:
        assert snapshot_tree(str(root)) == before


def test_missing_frame(manifest_repo):
    root, folder = manifest_repo
    (folder / "image00007.tiff").unlink()
    scan = open_repo(root).p20210205.r091726
    with pytest.raises(MissingDataError, match=r"frame 7: .*image00007\.tiff does not exist"):
        reads_change_nothing(root, lambda: scan.raw)
    with pytest.warns(UserWarning, match="1 of 20 frames are missing"):
        raw = scan.load(missing="mask")
    assert raw.frame_missing.values.tolist() == [i == 7 for i in range(20)]
    assert (raw.images.values[7] == -1).all()
    assert np.isfinite(scan.cook(missing="mask").qdata.values).all()


def test_a_warning_reads_as_an_nx5d_message_naming_the_file(manifest_repo):
    """What a user sees in a terminal: one line naming the file, not nx5d's source path and line."""
    root, folder = manifest_repo
    (folder / "image00007.tiff").unlink()
    code = (
        "import nx5d; "
        f"nx5d.open('file://{root}/{{proposal}}/{{scan}}', spice_url='').p20210205.r091726.load(missing='mask')"
    )
    env = {**os.environ, "NX5D_PROGRESS": "0"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    (line,) = done.stderr.splitlines()
    assert line.startswith("nx5d: DataWarning: 1 of 20 frames are missing (first: file://")
    assert "image00007.tiff" in line
    assert ".py:" not in line


def test_truncated_table(manifest_repo):
    root, folder = manifest_repo
    table = folder / "manifest.dat"
    data = table.read_bytes()
    table.write_bytes(data[: data.rindex(b"\n", 0, len(data) - 1) + 30])
    scan = open_repo(root).p20210205.r091726
    with pytest.raises(CorruptDataError, match=r"manifest\.dat, line 21: the table is truncated"):
        reads_change_nothing(root, lambda: scan.raw)


def test_table_shorter_than_the_frames(manifest_repo):
    root, folder = manifest_repo
    table = folder / "manifest.dat"
    lines = table.read_text().splitlines(keepends=True)
    table.write_text("".join(lines[:-3]))
    scan = open_repo(root).p20210205.r091726
    with pytest.raises(CorruptDataError, match=r"lists 17 frames, but .* holds 3 more images \(image00017\.tiff"):
        reads_change_nothing(root, lambda: scan.raw)
    with pytest.warns(UserWarning, match="looks truncated"):
        assert scan.load(missing="mask").sizes["index"] == 17


def test_non_numeric_field(manifest_repo):
    root, folder = manifest_repo
    table = folder / "manifest.dat"
    lines = table.read_text().splitlines(keepends=True)
    lines[5] = lines[5].replace("18.", "x8.", 1)
    table.write_text("".join(lines))
    with pytest.raises(CorruptDataError, match=r"manifest\.dat, line 6, field 4: 'x8\.\d+' is not a number"):
        open_repo(root).p20210205.r091726.raw  # noqa: B018


def _edit_table(folder, edit):
    table = folder / "manifest.dat"
    lines = table.read_text().split("\n")
    edit(lines)
    table.write_text("\n".join(lines))


def _cells(row, **changes):
    """The table row with the cells at the given positions replaced (``c3="x"``) or the row cut (``cut=4``)."""
    fields = row.split("\t")
    for key, value in changes.items():
        if key != "cut":
            fields[int(key[1:])] = value
    return "\t".join(fields[: changes.get("cut", len(fields))])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"c1": ""}, r"line 4: the cell of column 'Delay' is empty"),
        ({"c0": ""}, r"line 4: the cell of column '% Loop_Delay' is empty"),
        ({"c3": "  "}, r"line 4: the cell of column 'Theta' is empty"),
        ({"cut": 4}, r"line 4: 4 fields, but the header names 10 columns \(no value for 'Crystal \[V\]'\)"),
    ],
)
def test_rows_with_missing_cells_are_refused_naming_line_and_column(manifest_repo, change, message):
    root, folder = manifest_repo

    def edit(lines):
        lines[3] = _cells(lines[3], **change)

    _edit_table(folder, edit)
    with pytest.raises(CorruptDataError, match=r"manifest\.dat, " + message):
        open_repo(root).p20210205.r091726.raw  # noqa: B018


def test_values_written_as_nan_stay_nan_and_such_frames_leave_the_maps(manifest_repo):
    root, folder = manifest_repo

    def edit(lines):
        lines[3] = _cells(lines[3], c3="NaN")  # Theta of frame 2

    _edit_table(folder, edit)
    scan = open_repo(root).p20210205.r091726
    assert np.isnan(scan.raw.theta.values[2])
    with pytest.warns(UserWarning, match=r"1 of 20 frames have a NaN or infinite angle"):
        cooked = scan.cooked
    assert int(cooked.frames.sum()) == 19


def _repeat_theta(folder, change):
    """Head the ``Repeats`` column ``Theta`` too, holding theta + ``change``."""

    def edit(lines):
        lines[0] = lines[0].replace("Repeats", "Theta")
        for i in range(1, len(lines)):
            if lines[i]:
                lines[i] = _cells(lines[i], c7=f"{float(lines[i].split(chr(9))[3]) + change:.6f}")

    _edit_table(folder, edit)


def test_a_repeated_header_is_kept_and_used_where_the_copies_agree(manifest_repo):
    root, folder = manifest_repo
    _repeat_theta(folder, 0.0)
    scan = open_repo(root).p20210205.r091726
    with pytest.warns(UserWarning, match=r"manifest\.dat: column 'Theta' appears more than once; this one is 'theta_2"):
        raw = scan.raw
    np.testing.assert_array_equal(raw.theta.values, raw.theta_2.values)
    assert scan.summary["theta"] == "18.4–18.8"
    assert dict(scan.cooked.sizes) == {"delay": 4, "qy": 80, "qz": 150}


def test_a_repeated_header_with_different_values_is_never_guessed(manifest_repo):
    root, folder = manifest_repo
    _repeat_theta(folder, 1.0)
    scan = open_repo(root).p20210205.r091726
    with pytest.raises(
        CorruptDataError,
        match=r"manifest\.dat: the theta could be any of the columns 'Theta \(column 4\)', 'Theta \(column 8\)'",
    ):
        scan.summary  # noqa: B018
    with pytest.raises(CorruptDataError, match=r"the theta could be any of the columns 'Theta"):
        scan.cooked  # noqa: B018


def test_a_column_named_like_the_frames_does_not_replace_them(manifest_repo):
    root, folder = manifest_repo

    def rename(lines):
        lines[0] = lines[0].replace("Repeats", "images")

    _edit_table(folder, rename)
    raw = open_repo(root).p20210205.r091726.raw
    assert raw.images.dims == ("index", "y", "x")
    assert raw.images_column.attrs["long_name"] == "images"
    assert raw.images_column.dims == ("index",)


def test_corrupt_tiff(manifest_repo):
    root, folder = manifest_repo
    (folder / "image00003.tiff").write_bytes(b"II*\x00" + os.urandom(200))
    with pytest.raises(CorruptDataError, match=r"image00003\.tiff"):
        reads_change_nothing(root, lambda: open_repo(root).p20210205.r091726.raw)


def test_folder_without_table(manifest_repo):
    root, folder = manifest_repo
    (folder / "manifest.dat").unlink()
    scan = open_repo(root).p20210205.r091726
    with pytest.raises(
        MissingDataError, match=r"holds no UDKM scan table \(looked for manifest\.dat, scans091726\.dat"
    ):
        scan.summary  # noqa: B018
    assert "unreadable: " in repr(scan.proposal)


def test_header_and_frame_lines_are_checked(tmp_path):
    write_scan(tmp_path / "20210205" / "091726", small("tRSS"))
    table = tmp_path / "20210205" / "091726" / "scans091726.dat"
    lines = table.read_text().splitlines(keepends=True)
    table.write_text("".join(lines[:1] + lines[2:]))  # first frame line gone
    with pytest.raises(CorruptDataError, match=r"scans091726\.dat, line 2: data row without a preceding frame line"):
        open_repo(tmp_path).p20210205.r091726.raw  # noqa: B018
    manifest = tmp_path / "x" / "20210205" / "091726"
    write_scan(manifest, SMALL)
    lines = (manifest / "manifest.dat").read_text().splitlines(keepends=True)
    (manifest / "manifest.dat").write_text("".join(lines[1:]))  # header gone
    with pytest.raises(CorruptDataError, match=r"manifest\.dat, line 1: expected a header line starting with '%'"):
        open_repo(tmp_path / "x").p20210205.r091726.summary  # noqa: B018


def test_live_scan_with_a_frame_line_but_no_row_yet(tmp_path):
    write_scan(tmp_path / "20210205" / "091726", small("tRSS"))
    table = tmp_path / "20210205" / "091726" / "scans091726.dat"
    lines = table.read_text().splitlines(keepends=True)
    table.write_text("".join(lines[:-1]))
    with pytest.warns(UserWarning, match="the last frame line has no data row yet"):
        assert open_repo(tmp_path).p20210205.r091726.summary["steps"] == 19


@pytest.mark.parametrize(("encoding", "newline"), [("cp1252", "\r\n"), ("utf-8", "\r\n"), ("cp1252", "\r")])
def test_parameters_in_either_encoding_and_any_line_end(tmp_path, encoding, newline):
    write_scan(tmp_path / "20210205" / "091726", small("xRSS", encoding=encoding, newline=newline))
    raw = open_repo(tmp_path).p20210205.r091726.raw
    parameters = json.loads(raw.attrs["parameters"])
    assert (
        parameters["Comment"] == "generated by nx5d-udkm-synth; pump 800 nm,\nfluence 8.0 mJ/cm², spot 960 µm x 960 µm"
    )
    assert parameters["Temperature"] == "300 K"
    assert raw.sizes["index"] == 5  # the table's rows, whatever ends its lines


def test_claims(tmp_path):
    from nx5d.plugins.discovery import registry

    reg = registry()
    write_repository(tmp_path / "data", {"20210205": ["091726"]}, SMALL)

    def udkm_claim(url):
        found = {c.beamline: c for c in reg.claims(url)}
        return None if "udkm" not in found else (found["udkm"].level, found["udkm"].verified)

    assert udkm_claim(f"file://{tmp_path}/data/{{proposal}}/{{scan}}") == (nx5d.ClaimLevel.BEAMLINE, True)
    assert udkm_claim(f"file://{tmp_path}/none/{{proposal}}/{{scan}}") == (nx5d.ClaimLevel.BEAMLINE, False)
    assert udkm_claim(f"file://{tmp_path}/{{proposal}}/x.h5#{{scan}}") is None
    assert udkm_claim("memory://x/{proposal}/{scan}") is None
    (tmp_path / "other" / "20210205" / "091726").mkdir(parents=True)
    (tmp_path / "other" / "20210205" / "091726" / "notes.txt").write_text("not a UDKM scan")
    assert udkm_claim(f"file://{tmp_path}/other/{{proposal}}/{{scan}}") is None


def test_generator_is_deterministic(tmp_path):
    a = write_scan(tmp_path / "a" / "20210205" / "091726", SMALL)
    b = write_scan(tmp_path / "b" / "20210205" / "091726", SMALL)
    for name in sorted(os.listdir(a)):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    shutil.rmtree(tmp_path / "b")


def test_generator_command_line(tmp_path, capsys):
    from nx5d_udkm.synth import main

    assert main([str(tmp_path), "--variant", "sRSM", "--frames", "7", "--scan", "101500", "--thetas", "7"]) == 0
    assert capsys.readouterr().out.strip() == f"file://{tmp_path.resolve()}/{{proposal}}/{{scan}}"
    summary = open_repo(tmp_path).p20210205.r101500.summary
    assert summary == {
        "type": "sRSM", "steps": 7, "theta": "18.1–19.1", "motor": "theta", "range": [18.1, 19.1],
        "start": "2021-02-05 10:15:00", "notes": "SrRuO3 (30 nm) on SrTiO3 (001)", "counters": summary["counters"],
        "sample": "SrRuO3 (30 nm) on SrTiO3 (001)", "comments": summary["comments"],
    }  # fmt: skip
    assert summary["comments"].startswith("generated by nx5d-udkm-synth")


# --- lab folders as the lab leaves them --------------------------------------------------------


def test_lab_clutter_in_the_scan_folders_is_ignored(tmp_path):
    url = write_repository(tmp_path, {"20210205": ["091726"]}, small("tRSS", lab_clutter=True))
    (tmp_path / "20210205" / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    scan = nx5d.open(url, spice_url="").p20210205.r091726
    assert scan.summary["type"] == "tRSS"
    raw = scan.raw
    assert raw.sizes["index"] == 20
    assert raw.images.shape[0] == 20


def test_a_scan_folder_without_frames_gives_its_counters_and_profile(tmp_path):
    write_repository(tmp_path, {"20210205": ["091726"]}, small("tRSS"))
    folder = tmp_path / "20210205" / "091726"
    for image in folder.glob("image*.tif"):
        image.unlink()
    scan = open_repo(tmp_path).p20210205.r091726
    with pytest.warns(UserWarning, match=r"091726 holds no frames .* counters only"):
        raw = scan.raw
    assert "images" not in raw
    assert raw.intensities.dims == ("index", "intensities_channel")
    assert raw.intensities.shape[1] == 487
    quiet = scan.load(frames="skip")
    assert "images" not in quiet
    assert quiet.delay.values.tolist() == raw.delay.values.tolist()


def test_sample_name_on_the_first_line_of_the_parameters(tmp_path):
    write_repository(tmp_path, {"20210205": ["091726"]}, small("sRSM", sample_line=True))
    assert open_repo(tmp_path).p20210205.r091726.summary["notes"] == "SrRuO3 (30 nm) on SrTiO3 (001)"


def test_delay_stage_tables_group_by_the_set_position(tmp_path):
    write_repository(tmp_path, {"20210205": ["091726"]}, small("tRSS", delay_stage=True))
    scan = open_repo(tmp_path).p20210205.r091726
    assert scan.summary["delays"] == 4
    raw = scan.load(names="reference")
    assert raw.Positionset.attrs["long_name"] == "Position set"
    assert not np.array_equal(raw.PositionReal.values, raw.Positionset.values)
    cooked = scan.cooked
    assert cooked.sizes["delay"] == 4
    assert cooked.delay.values.tolist() == [-10.0, 0.0, 50.0, 200.0]
    tidy = open_repo(tmp_path, names="tidy").p20210205.r091726.raw
    assert {"delay", "delay_real"} <= set(tidy.variables)


def test_time_resolved_tables_get_one_map_per_delay_and_rocking_curves_one_map(tmp_path):
    write_repository(tmp_path, {"20210205": ["091726"]}, attrs.evolve(SMALL, variant="tRSS"))
    write_repository(tmp_path, {"20210205": ["101500"]}, attrs.evolve(SMALL, variant="sRSM"))
    proposal = open_repo(tmp_path).p20210205
    timed, static = proposal.r091726.cooked, proposal.r101500.cooked
    assert timed.attrs["nx5d_recipe"] == "delay-rsm"
    assert timed.qdata.dims == ("delay", "qy", "qz")
    assert timed.delay.values.tolist() == list(SMALL.delays)
    assert static.attrs["nx5d_recipe"] == "rsm"
    assert static.qdata.dims == ("qy", "qz")
    proposal.spice.seed("recipes", by_type={"tRSS": "rsm"})  # one map of all delays
    proposal.r091726.reload()
    assert proposal.r091726.cooked.qdata.dims == ("qy", "qz")


def test_presets_are_listed_checked_and_seeded_once(tmp_path):
    write_repository(tmp_path, {"20210205": ["091726"]}, SMALL)
    spice = open_repo(tmp_path).p20210205.spice
    assert "reference-page" in spice.presets()
    (record,) = spice.seed_preset("reference-page")
    assert record["data"]["pixel_stride"] == 2
    assert record["note"] == "preset reference-page"
    spice.update("091726", "settings", grid_size=(40, 60))
    with pytest.warns(SpiceWarning, match="is now at revision 2; preset 'reference-page' left it"):
        spice.seed_preset("reference-page")
    with pytest.raises(nx5d.errors.SpiceNotFoundError, match="no spice preset 'page'; presets: reference-page"):
        spice.seed_preset("page")


def test_presets_from_the_shell(tmp_path, capsys):
    from nx5d.app.cli import main

    write_repository(tmp_path / "data", {"20210205": ["091726"]}, SMALL)
    url = f"file://{tmp_path}/data/{{proposal}}/{{scan}}"
    spice = f"file://{tmp_path}/spice/{{proposal}}"
    assert main(["spice", url, "20210205", "preset", "--spice-url", spice]) == 0
    assert "reference-page" in json.loads(capsys.readouterr().out)
    assert main(["spice", url, "20210205", "preset", "reference-page", "--spice-url", spice]) == 0
    assert capsys.readouterr().out.startswith("wrote revision 1 of settings from the proposal start, uuid ")
    assert main(["spice", url, "20210205", "preset", "reference-page", "--spice-url", spice, "--json"]) == 0
    (record,) = json.loads(capsys.readouterr().out)  # seeded before with these fields: kept, quietly
    assert record["data"]["img_center"] == [90.0, 300.0]
    scan = nx5d.open(url, spice_url=spice).p20210205.r091726
    assert scan.spice["settings"].pixel_stride == 2


PROJECT = {
    "proposal_key": "20{pdate}_{material}",
    "proposal_handle": "{material}_{pdate}",
    "scan_key": "20{sdate}/{stime}",
    "scan_handle": "r{sdate}{stime}",
}


def test_the_project_layout_lists_and_loads_with_template_names(tmp_path):
    """UDKM's project layout: YYYYMM_material/YYYYMMDD/HHMMSS, as nx5d 3.x named it."""
    for folder in ("202403_STO/20240311/141502", "202403_STO/20240312/093000", "202405_LSMO/20240502/101010"):
        write_scan(tmp_path / folder, SMALL)
    (tmp_path / "202403_STO" / "notes").mkdir()  # not a day folder with scans: not a scan
    repo = nx5d.open(f"file://{tmp_path}/{{proposal}}/{{scan}}", spice_url="", **PROJECT)
    assert repo.beamline == "udkm"  # chosen by content, the first scan found through the key rules
    assert repo.all() == {"202403_STO": "STO_2403", "202405_LSMO": "LSMO_2405"}
    proposal = repo.STO_2403
    assert proposal.all() == {"20240311/141502": "r240311141502", "20240312/093000": "r240312093000"}
    scan = proposal.r240312093000
    assert scan.url == f"file://{tmp_path}/202403_STO/20240312/093000"
    assert scan.summary["start"] == "2024-03-12 09:30:00"
    assert scan.raw.images.sizes["index"] == len(SMALL.delays) * len(SMALL.thetas)
    assert proposal["20240311/141502"].cooked.attrs["nx5d_recipe"] == "delay-rsm"
    proposal.spice.seed("settings", grid_size=(30, 40))
    proposal.spice.anchor("r240312093000", "settings")  # anchors by handle, stored by key
    proposal.spice.update("20240312/093000", "settings", grid_size=(20, 20))
    assert proposal.spice.view("20240311/141502")["settings"].grid_size == (30, 40)
    assert proposal.spice.view("r240312093000")["settings"].grid_size == (20, 20)
    with pytest.raises(nx5d.errors.InvalidKeyError, match="must be 2 names joined by '/'"):
        proposal["141502"]
    with pytest.raises(nx5d.errors.InvalidKeyError):
        proposal["20240312/../x"]


def test_naming_templates_are_checked_when_the_repository_is_opened(tmp_path):
    write_repository(tmp_path, {"20210205": ["091726"]}, SMALL)
    url = f"file://{tmp_path}/{{proposal}}/{{scan}}"
    with pytest.raises(OptionError, match=r"handle template 'r\{day\}' names day"):
        nx5d.open(url, scan_handle="r{day}")
    with pytest.raises(OptionError, match="two parts touch"):
        nx5d.open(url, scan_key="{a}{b}")
    (tmp_path / "20200101").mkdir()  # another year: not of the form the template gives
    repo = nx5d.open(url, spice_url="", proposal_key="2021{day}", proposal_handle="d{day}")
    assert repo.all() == {"20210205": "d0205"}


def test_folders_outside_the_naming_rule_are_noted_not_hidden(tmp_path):
    write_repository(tmp_path, {"20210205": ["091726"]}, SMALL)
    (tmp_path / "20210205" / "calibration").mkdir()
    (tmp_path / "20210205" / "notes.txt").write_text("x")
    proposal = open_repo(tmp_path).p20210205
    assert proposal.keys() == ["091726"]
    assert sorted(proposal.skipped()) == ["calibration", "notes.txt"]
    assert "2 name(s) here are not scans by the naming rule: " in repr(proposal).splitlines()[0]
    fresh = open_repo(tmp_path).p20210205
    assert sorted(fresh.skipped()) == ["calibration", "notes.txt"]  # before anything listed the scans


def test_the_scan_table_keeps_numbers_numeric_and_splits_theta_ranges(tmp_path):
    write_repository(tmp_path, {"20210205": ["091726", "101500"]}, SMALL)
    write_scan(tmp_path / "20210205" / "111500", small(thetas=(20.25,)))
    table = open_repo(tmp_path).p20210205.table()
    assert list(table.columns[:6]) == ["handle", "type", "steps", "delays", "theta_min", "theta_max"]
    assert str(table.theta_min.dtype) == str(table.theta_max.dtype) == "Float64"
    assert table.loc["091726", ["theta_min", "theta_max"]].tolist() == [18.4, 18.8]
    assert table.loc["111500", ["theta_min", "theta_max"]].tolist() == [20.25, 20.25]
    assert table[table.theta_min > 20].index.tolist() == ["111500"]
    assert str(table.steps.dtype) == "Int64"
