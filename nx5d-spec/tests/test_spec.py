"""The spec beamline on generated files of every dialect: conformance, listing, reading, damage."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nx5d
from nx5d.errors import CorruptDataError, MissingDataError
from nx5d.io.storage import Storage
from nx5d.testing import BeamlineConformance
from nx5d_spec.parser import index_spec, parse_scan, read_index
from nx5d_spec.synth import DIALECTS, Dialect, write_spec


def repository(folder):
    for name, dialect in DIALECTS.items():
        write_spec(folder / f"{name}.spec", dialect=dialect)
    return f"file://{folder}/{{proposal}}.spec#{{scan}}"


class TestSpecConformance(BeamlineConformance):
    beamline = "spec"

    @pytest.fixture
    def repository_url(self, tmp_path):
        write_spec(tmp_path / "data" / "alpha.spec")
        write_spec(tmp_path / "data" / "beta.spec", dialect=Dialect(single_space=True), scans=2)
        return f"file://{tmp_path}/data/{{proposal}}.spec#{{scan}}"

    @pytest.fixture
    def spice_variants(self):
        return {"profile": {"signal": "Detector"}}, {"profile": {"signal": "Detector", "monitor": "Monitor"}}


@pytest.fixture
def repo(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nx5d.open(repository(tmp_path), spice_url="")


def test_every_dialect_lists_and_reads_the_same_scans(repo):
    assert repo.beamline == "spec"
    assert repo.keys() == sorted(DIALECTS)
    reference = repo.certified["1.1"].raw
    for name in ("psic", "mca", "headerless", "classic-mac"):
        raw = repo[name]["1.1"].raw
        for column in ("Theta", "H", "Epoch", "Seconds", "Monitor", "Detector"):
            np.testing.assert_array_equal(raw[column].values, reference[column].values)


def test_motor_names_with_spaces_and_single_space_separators(repo):
    certified = repo.certified["1.1"].raw
    assert float(certified["Two_Theta"]) == pytest.approx(38.8)
    assert certified["Two_Theta"].attrs["long_name"] == "Two Theta"
    psic = repo.psic["1.1"].raw
    assert float(psic["TwoTheta"]) == pytest.approx(38.8)
    assert {"Theta", "Chi", "Phi", "y", "delay"} <= set(psic.variables)


MNEMONICS_FILE = """\
#F mnemonics.spec
#E 1435058183
#D Thu Jun 25 16:36:23 2015
#O0 Two Theta  Theta  Chi
#o0 tth th chi
#O1 sx  sy sz
#o1 sx sy sz

#S 1  ascan  th 19.4 19.6  2 1
#D Thu Jun 25 16:41:23 2015
#P0 38.8 19.4 0
#P1 1 2 3
#N 3
#L H  Theta  Detector
0.67 19.4 10
0.68 19.5 50
0.69 19.6 12
"""


def test_mnemonics_name_the_motors_of_the_o_lines(tmp_path):
    path = tmp_path / "mnemonics.spec"
    path.write_text(MNEMONICS_FILE)
    data = path.read_bytes()
    index = index_spec(data, str(path))
    entry = index.entry("1.1")
    scan = parse_scan(data[entry.start : entry.stop].decode(), entry, index.header_of(entry), str(path))
    # "#O1 sx  sy sz" reads as two names alone; the scan's three #P1 values split it into three, as for positions
    expected = {"tth": "Two Theta", "th": "Theta", "chi": "Chi", "sx": "sx", "sy": "sy", "sz": "sz"}
    assert scan.mnemonics() == expected
    assert set(scan.positions) == set(expected.values())
    assert scan.file_header.mnemonics() == {}  # six mnemonics for five names: none is guessed
    # the command moves "th": its column is Theta (through the mnemonic), not H, the first column
    raw = nx5d.open(f"file://{tmp_path}/{{proposal}}.spec#{{scan}}", beamline="spec", spice_url="").mnemonics["1.1"].raw
    assert [c for c in raw.coords if raw[c].dims == ("index",)] == ["Theta"]


def test_repeated_scan_numbers_get_orders(repo):
    assert repo.restarted.keys() == ["1.1", "1.2", "2.1", "2.2"]
    assert repo.restarted.all()["1.2"] == "s1_2"
    first, again = repo.restarted["1.1"].raw, repo.restarted["1.2"].raw
    assert first.attrs["scan_number"] == again.attrs["scan_number"] == 1
    assert not np.array_equal(first.Theta.values, again.Theta.values)


def test_mca_spectra_are_exposed_or_skipped(repo):
    raw = repo.mca["2.1"].raw
    assert raw.mca.dims == ("index", "mca_channel")
    assert raw.mca.shape == (11, 16)
    assert "mca" not in repo.mca["2.1"].load(mca=False)


def test_epoch_dates_nan_values_and_an_aborted_scan(repo):
    proposal = repo.bluesky
    assert proposal["1.1"].summary["start"] == "2015-06-25T16:41:23+00:00"
    assert np.isnan(proposal["1.1"].raw.Monitor.values).sum() == 1
    aborted = proposal["2.1"]
    assert aborted.summary["steps"] == 0
    assert aborted.summary["notes"].startswith("no data lines")
    assert aborted.raw.sizes["index"] == 0
    assert "Scan aborted after 0 points." in aborted.raw.attrs["comments"]


def test_headerless_crlf_file_keeps_its_counters_and_warns_about_positions(repo):
    with pytest.warns(UserWarning, match=r"6 motor positions \(#P\) for 0 motors \(#O\); positions left out"):
        raw = repo.headerless["3.1"].raw
    assert raw.sizes["index"] == 11
    assert "Two_Theta" not in raw


def test_cooked_profile_follows_the_spice(repo):
    scan = repo.certified["2.1"]
    profile = scan.cooked
    assert profile.signal.dims == ("Theta",)
    np.testing.assert_array_equal(profile.signal.values, scan.raw.Detector.values)
    scan.proposal.spice.seed("profile", signal="Detector", monitor="Monitor", axis="H")
    normalised = scan.cooked
    assert normalised.signal.dims == ("H",)
    np.testing.assert_allclose(normalised.signal.values, scan.raw.Detector.values / scan.raw.Monitor.values)
    assert normalised.signal.attrs["long_name"] == "Detector / Monitor"


def test_a_file_still_being_written(tmp_path):
    path = write_spec(tmp_path / "live.spec", dialect=Dialect(unfinished=True))
    repo = nx5d.open(f"file://{tmp_path}/{{proposal}}.spec#{{scan}}", spice_url="")
    assert repo.live.keys() == ["1.1", "2.1", "3.1", "4.1"]  # the finished scans are all there
    with pytest.warns(UserWarning, match=r"scan 4.1: the file does not end with a line end .* cut short"):
        last = repo.live["4.1"].raw
    assert last.sizes["index"] == 10  # the cut line is left out
    assert repo.live["3.1"].raw.sizes["index"] == 11
    path.write_bytes(path.read_bytes() + b" 7\n")  # the writer finishes the line
    repo.live.refresh()
    repo.live["4.1"].reload()
    assert repo.live["4.1"].raw.sizes["index"] == 11


def test_one_bad_scan_is_reported_for_itself(tmp_path):
    path = write_spec(tmp_path / "bad.spec")
    lines = path.read_text().split("\n")
    row = next(i for i, line in enumerate(lines) if line.startswith("#S 2")) + 8
    lines[row] = lines[row].replace(" ", " x", 1)
    path.write_text("\n".join(lines))
    proposal = nx5d.open(f"file://{tmp_path}/{{proposal}}.spec#{{scan}}", spice_url="").bad
    assert proposal.keys() == ["1.1", "2.1", "3.1", "4.1"]
    with pytest.raises(CorruptDataError, match=rf"bad.spec, line {row + 1}: not a row of numbers"):
        proposal["2.1"].raw  # noqa: B018
    assert proposal["3.1"].raw.sizes["index"] == 11
    rows = {r["scan"]: r for r in proposal.summaries()}
    assert rows["2.1"]["notes"].startswith("unreadable: ")
    assert rows["4.1"]["steps"] == 11


def test_files_without_the_spec_suffix_are_recognised_by_content(tmp_path):
    write_spec(tmp_path / "run1.dat")
    write_spec(tmp_path / "run2", scans=2)
    (tmp_path / "notes.dat").write_text("some notes, not SPEC\n")
    repo = nx5d.open(f"file://{tmp_path}/{{proposal}}#{{scan}}", beamline="spec", spice_url="")
    assert repo.run2.keys() == ["1.1", "2.1"]
    with pytest.raises(CorruptDataError, match=r"notes.dat is not a SPEC file"):
        repo["notes.dat"].keys()
    (tmp_path / "notes.dat").unlink()  # the content check looks at the first file only
    assert nx5d.open(f"file://{tmp_path}/{{proposal}}.dat#{{scan}}").beamline == "spec"


def test_missing_scan_and_missing_file(tmp_path):
    write_spec(tmp_path / "a.spec", scans=2)
    proposal = nx5d.open(f"file://{tmp_path}/{{proposal}}.spec#{{scan}}", spice_url="").a
    with pytest.raises(MissingDataError, match=r"a.spec has no scan '7.1'; it has 1.1, 2.1"):
        read_index(Storage(), f"file://{tmp_path}/a.spec").entry("7.1")
    with pytest.raises(nx5d.errors.NotFoundError):
        proposal["7.1"]
    with pytest.raises(nx5d.errors.NotFoundError, match=r"has no scan with key '1'; did you mean 1.1\?"):
        proposal["1"]


def test_the_index_is_reused_until_the_file_changes(tmp_path):
    path = write_spec(tmp_path / "grow.spec", scans=2)
    url = f"file://{path}"
    first = read_index(Storage(), url)
    assert read_index(Storage(), url) is first
    with open(path, "a") as handle:
        handle.write(
            write_spec(tmp_path / "more.spec", scans=3).read_text().split("\n\n", 1)[1].replace("#S 3", "#S 9")
        )
    grown = read_index(Storage(), url)
    assert grown is not first
    assert grown.keys()[:2] == ["1.1", "2.1"]
    assert "9.1" in grown.keys()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0, max_value=10_000), noise=st.binary(max_size=40))
def test_damaged_bytes_give_nx5d_errors_or_data_never_a_crash(tmp_path, cut, noise):
    text = write_spec(tmp_path / "whole.spec", scans=3).read_bytes()
    damaged = text[: cut % (len(text) + 1)] + noise
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            index = index_spec(damaged, "damaged.spec")
        except CorruptDataError:
            return
        for entry in index.entries:
            chunk = damaged[entry.start : entry.stop].decode("latin-1")
            try:
                scan = parse_scan(chunk, entry, index.header_of(entry), "damaged.spec", complete=index.complete)
            except CorruptDataError as exc:
                problem = str(exc)
            else:
                problem = None
                assert scan.data.shape[1] == len(scan.labels) or scan.points == 0
            assert problem is None or "damaged.spec" in problem


HEADER_TAGS = ("#N", "#L", "#P0", "#O0", "#D", "#S 1 ", "#C", "#T", "#E")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tag=st.sampled_from(HEADER_TAGS), value=st.text(max_size=30))
def test_any_text_in_a_header_line_gives_data_or_an_nx5d_error(tmp_path, tag, value):
    """Header lines hold whatever an instrument or a clumsy edit wrote: '#N ²' once raised a raw ValueError."""
    text = write_spec(tmp_path / "whole.spec", scans=2).read_text()
    lines = text.split("\n")
    at = next(k for k, line in enumerate(lines) if line.startswith(tag.rstrip()) or (tag == "#C" and k == 3))
    lines[at] = f"{tag} {value}".replace("\n", " ").replace("\r", " ")
    damaged = "\n".join(lines).encode("utf-8", "replace")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            index = index_spec(damaged, "edited.spec")
            for entry in index.entries:
                chunk = damaged[entry.start : entry.stop].decode("utf-8", "replace")
                parse_scan(chunk, entry, index.header_of(entry), "edited.spec", complete=index.complete)
            problem = ""
        except CorruptDataError as exc:
            problem = str(exc)
    assert not problem or "edited.spec" in problem


def test_a_superscript_digit_as_the_number_of_columns_is_no_crash(tmp_path):
    path = tmp_path / "odd.spec"
    path.write_text("#F odd.spec\n#E 1\n#O0 th\n\n#S 1 ascan th 0 1 1 1\n#N ²\n#L th  det\n")
    scan = nx5d.open(f"file://{tmp_path}/{{proposal}}.spec#{{scan}}", spice_url="")["odd"]["1.1"]
    assert scan.summary["steps"] == 0


def test_an_empty_scan_says_it_holds_no_data(tmp_path):
    """Bluesky's writer leaves ``#N 0`` and nothing else for a scan stopped before its first point."""
    (tmp_path / "stopped.spec").write_text(
        "#F stopped.spec\n#E 1\n\n#S 1 count 1\n#N 0\n\n#S 2 ascan th 0 1 1 1\n#N 2\n#L th  det\n0 5\n1 6\n"
    )
    proposal = nx5d.open(f"file://{tmp_path}/{{proposal}}.spec#{{scan}}", spice_url="")["stopped"]
    with pytest.raises(MissingDataError, match=r"stopped.spec, scan 1.1 holds no data: .*announced \(#N\): 0"):
        proposal["1.1"].raw  # noqa: B018
    assert proposal["2.1"].raw.det.values.tolist() == [5.0, 6.0]
