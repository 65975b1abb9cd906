"""Every real file of ``../shared/realdata`` and ``../shared/corpus/set-a`` and ``set-b``, opened as a user would.

Each file is opened through ``nx5d.open`` with the URL a user types (the
folder layouts come from each set's ``make_layouts.sh``, run into
``tmp_path``; the shared folder is never written) and the beamline nx5d
chooses.  For every scan: it is listed, its summary says what it did (a
type or command, its steps), its counters load and equal an independent
reading of the file -- the small SPEC reader below, or h5py -- frames load
where the file has them, and whatever lies in files that are not there is a
warning or an error that names the file.  No Dataset is empty and no value
is dropped.  Run alone: ``pytest tests/test_real_corpus.py -v``.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import tarfile
import warnings
from collections import Counter
from pathlib import Path

import h5py
import numpy as np
import pytest

import nx5d
from nx5d.errors import MissingDataError, NoBeamlineClaimsError

from .shared import SHARED, shared_path


@pytest.fixture(scope="module", autouse=True)
def _shared():
    shared_path("corpus", "set-b")


@pytest.fixture(scope="module")
def layouts(tmp_path_factory):
    """Both sets in the folder layouts of their ``make_layouts.sh``, in ``tmp_path``."""
    root = tmp_path_factory.mktemp("corpus")
    for name in ("set-a", "set-b"):
        script = shared_path("corpus", name, "make_layouts.sh")
        subprocess.run(["bash", str(script), str(root / name)], check=True, capture_output=True)
    return root


# --- an independent SPEC reader: scans, their #L labels and numbers -----------------------------------------


def _number(word: str) -> float:
    return math.nan if word in ("None", "nan", "NaN") else float(word)


def _is_row(line: str) -> bool:
    words = line.split()
    try:
        [_number(w) for w in words]
    except ValueError:
        return False
    return bool(words)


def read_spec(path: Path) -> dict[str, dict]:
    """``{key: {"command", "labels", "rows"}}`` of a SPEC file, keys numbered as nx5d does (``N.k``: k-th ``#S N``).

    Rows are the lines of numbers after ``#L``; ``@A`` spectra (and their
    ``\\`` continuation lines), comments and lines of words are passed over.
    """
    scans: dict[str, dict] = {}
    seen: Counter[str] = Counter()
    current: dict | None = None
    continued = False
    for line in path.read_bytes().decode("latin-1").replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if continued or line.startswith("@A"):
            continued = line.rstrip().endswith("\\")
            continue
        if line.startswith("#S "):
            number = line.split()[1]
            seen[number] += 1
            current = {"command": line.split(None, 2)[2] if len(line.split()) > 2 else "", "labels": [], "rows": []}
            scans[f"{number}.{seen[number]}"] = current
        elif current is not None and line.startswith("#L "):
            current["labels"] = [w for w in re.split(r"\s{2,}", line[3:].strip()) if w]
        elif current is not None and not line.startswith("#") and _is_row(line):
            current["rows"].append([_number(w) for w in line.split()])
    return scans


def _labels(scan: dict) -> list[str]:
    """``#L`` labels; where two spaces do not part them into one per column (APS 6-ID-D writes single spaces,
    a Sardana file one pair), every space does."""
    width = len(scan["rows"][0]) if scan["rows"] else 0
    labels = scan["labels"]
    if len(labels) == width or not scan["rows"]:
        return labels
    words = " ".join(labels).split()
    return words if len(words) == width else labels


def _by_long_name(raw) -> dict[str, list[str]]:
    named: dict[str, list[str]] = {}
    for name, variable in raw.variables.items():
        if variable.dims[:1] == ("index",):
            named.setdefault(str(variable.attrs.get("long_name", name)), []).append(str(name))
    return named


def check_spec_file(repo, key: str, path: Path, cook: int = 2) -> int:
    """Every scan of one SPEC file: listed, summarised, counters equal to `read_spec`; returns the scans checked."""
    expected = read_spec(path)
    proposal = repo[key]
    assert sorted(proposal.keys()) == sorted(expected), key
    for scan_key, written in expected.items():
        scan = proposal[scan_key]
        summary = scan.summary
        assert summary["type"] or summary["notes"], (key, scan_key)  # what the scan did: its command
        assert summary["steps"] == len(written["rows"]), (key, scan_key)
        if not written["rows"] and not written["labels"]:
            with pytest.raises(MissingDataError, match=rf"scan {re.escape(scan_key)} holds no data"):
                scan.raw  # noqa: B018 - an empty scan is said to be one, never an empty Dataset
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # repeated labels and motors, lines of words: tested on their own
            raw = scan.load(**({"frames": "skip"} if repo.beamline == "kmc3" else {}))
        assert raw.variables, (key, scan_key)
        if not written["rows"]:  # stopped before its first point: its columns, each without values
            assert all(raw[v].size == 0 for v in raw.data_vars if raw[v].dims[:1] == ("index",)), (key, scan_key)
            continue
        rows = np.array(written["rows"], float)
        named = _by_long_name(raw)
        for column, label in enumerate(_labels(written)):
            name = named[label.strip()].pop(0)  # a repeated label: its columns in order
            np.testing.assert_array_equal(raw[name].values, rows[:, column], err_msg=f"{key} {scan_key} {label}")
    keys = [k for k, s in expected.items() if s["rows"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for scan_key in keys[:1] + keys[-1:][: cook - 1]:
            cooked = proposal[scan_key].cooked
            assert cooked.sizes, (key, scan_key)
    return len(expected)


# --- SPEC files --------------------------------------------------------------------------------------------

REALDATA_SPEC = ["APS_spec_data", "twoc", "user6idd", "20220311-161530"]


def test_realdata_spec_files():
    folder = SHARED / "realdata" / "spec-aps"
    repo = nx5d.open(f"file://{folder}/{{proposal}}.dat#{{scan}}", spice_url="")
    assert repo.beamline == "spec"
    assert sorted(repo.keys()) == sorted(REALDATA_SPEC)
    checked = sum(check_spec_file(repo, key, folder / f"{key}.dat") for key in REALDATA_SPEC)
    assert checked == 20 + 3 + 2 + 78


#: set A's SPEC files in its ``specs/`` layout (every file renamed ``*.spec``): the scans of each.
SET_A_SPEC = {
    "APS_spec_data": 20, "twoc": 3, "user6idd": 2, "20220311-161530": 78, "02_03_setup": 50, "33id_spec": 106,
    "spec_from_spock": 171, "sardana_spec": 6, "example_file_spec": 1,
}  # fmt: skip


@pytest.mark.slow
def test_set_a_spec_files(layouts):
    folder = layouts / "set-a" / "specs"
    repo = nx5d.open(f"file://{folder}/{{proposal}}.spec#{{scan}}", spice_url="")
    assert repo.beamline == "spec"
    assert sorted(repo.keys()) == sorted(SET_A_SPEC)
    for key, count in SET_A_SPEC.items():
        assert check_spec_file(repo, key, folder / f"{key}.spec") == count, key
    original = nx5d.open(f"file://{layouts}/set-a/specs_orig/{{proposal}}.spc#{{scan}}", spice_url="")
    assert original.spec_from_spock.keys() == repo.spec_from_spock.keys()  # its own name, its own suffix


#: set B's SPEC files: (layout folder, the URL's document part, scans).
SET_B_SPEC = {
    "ihsc1417_sixcvertical_0313": ("esrf-id03", "{proposal}.spec", 27),
    "20March2018": ("aps-27id", "{proposal}", 456),
    "CdOsO": ("aps-30id", "{proposal}", 74),
    "lmn40": ("aps-4id", "{proposal}.spe", 262),
    "YSZ011_ALDITO_Fe2O3_planar_fired_1": ("aps-33bm", "{proposal}.spc", 37),
    "05_02_test": ("aps-usaxs", "{proposal}.dat", 39),
    "test": ("esrf-id10b", "{proposal}.spec", 4),
}


@pytest.mark.slow
@pytest.mark.parametrize("key", list(SET_B_SPEC))
def test_set_b_spec_files(layouts, key):
    folder, document, count = SET_B_SPEC[key]
    repo = nx5d.open(f"file://{layouts}/set-b/{folder}/{document}#{{scan}}", spice_url="")
    assert repo.beamline == "spec"
    assert check_spec_file(repo, key, layouts / "set-b" / folder / document.format(proposal=key)) == count


@pytest.mark.slow
def test_set_b_spec_side_files_of_a_session(layouts):
    """The RIXS session's spectrum (``.spm3``) and MYTHEN (``.MYT``) files beside the data file are SPEC too."""
    folder = layouts / "set-b" / "aps-27id"
    repo = nx5d.open(f"file://{folder}/{{proposal}}#{{scan}}", spice_url="")
    assert sorted(repo.keys()) == ["20March2018", "20March2018.scan447.MYT", "20March2018.spm3"]
    assert check_spec_file(repo, "20March2018.spm3", folder / "20March2018.spm3") == 58
    assert check_spec_file(repo, "20March2018.scan447.MYT", folder / "20March2018.scan447.MYT") == 45


def test_a_spec_file_opened_by_its_path():
    """``nx5d.open("/data/….spec")``: the file as a repository of one proposal."""
    path = shared_path("corpus", "set-b", "esrf-id03", "ihsc1417_sixcvertical_0313.spec")
    repo = nx5d.open(str(path), spice_url="")
    assert repo.keys() == ["ihsc1417_sixcvertical_0313"]
    assert len(repo.ihsc1417_sixcvertical_0313.keys()) == 27


# --- KMC3: SPEC with its Pilatus TIFFs ----------------------------------------------------------------------


@pytest.mark.slow
def test_set_a_kmc3_spec_with_its_frames(layouts):
    import tifffile

    folder = layouts / "set-a" / "kmc3spec"
    repo = nx5d.open(f"file://{folder}/{{proposal}}.spec#{{scan}}", spice_url="")
    assert repo.beamline == "kmc3"
    assert check_spec_file(repo, "spec_pilatus", folder / "spec_pilatus.spec", cook=1) == 10
    for key in repo.spec_pilatus.keys():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            images = repo.spec_pilatus[key].load(lazy=False).images.values
        number = int(key.split(".")[0])
        first, last = (
            tifffile.imread(folder / f"pilatus/S{number:05d}/examplePilatus_{number}_{i}.tif") for i in (0, 40)
        )
        assert images.shape == (41, 195, 487)
        np.testing.assert_array_equal(images[0], first)
        np.testing.assert_array_equal(images[-1], last)


def test_realdata_kmc3_frames_unpacked(tmp_path):
    folder = SHARED / "realdata" / "kmc3-pyEvalData"
    shutil.copy(folder / "spec_pilatus.spec", tmp_path)
    with tarfile.open(folder / "pilatus_S00001-S00010.tar.xz") as archive:
        archive.extractall(tmp_path, filter="data", members=[m for m in archive if "S00001/" in m.name])
    repo = nx5d.open(f"file://{tmp_path}/{{proposal}}.spec#{{scan}}", spice_url="")
    assert repo.beamline == "kmc3"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = repo.spec_pilatus["1.1"].load(lazy=False)
    assert raw.images.shape == (41, 195, 487)
    with pytest.warns(UserWarning, match=r"no Pilatus frames found beside the SPEC file"):
        repo.spec_pilatus["2.1"].raw  # noqa: B018 - its folder was not unpacked: counters, with a warning


# --- HDF5 and NeXus ----------------------------------------------------------------------------------------


def _h5_counters(entry, points: int, grid: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Numeric datasets of the NXdata groups and ``measurement/`` with one value per point (h5py, independently)."""
    found: dict[str, np.ndarray] = {}
    shapes = {(points,), grid}
    for name in entry:
        link = entry.get(name, getlink=True)
        if isinstance(link, h5py.ExternalLink):
            continue
        group = entry[name]
        if not isinstance(group, h5py.Group) or (
            group.attrs.get("NX_class", b"") not in (b"NXdata", "NXdata") and name != "measurement"
        ):
            continue
        for member in group:
            if isinstance(group.get(member, getlink=True), h5py.ExternalLink):
                continue
            node = group[member]
            if isinstance(node, h5py.Dataset) and node.dtype.kind in "biuf" and node.shape in shapes:
                found[f"{name}/{member}"] = node[()].reshape(-1)
    return found


def _external_files(entry) -> set[str]:
    """Files named by the entry's external links and virtual dataset sources (h5py), two levels deep."""
    files = set()

    def visit(group, depth):
        for name in group:
            link = group.get(name, getlink=True)
            if isinstance(link, h5py.ExternalLink):
                files.add(link.filename)
                continue
            node = group[name]
            if isinstance(node, h5py.Group) and depth < 3:
                visit(node, depth + 1)
            elif isinstance(node, h5py.Dataset) and node.is_virtual:
                files.update(s.file_name for s in node.virtual_sources() if s.file_name != ".")

    visit(entry, 0)
    return files


def check_nexus_scan(scan, path: Path, entry_name: str, *, detector: str | None = None) -> dict:
    """One HDF5 scan: summary, counters equal to h5py's, absent files named; returns the summary."""
    summary = scan.summary
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        raw = scan.raw
    assert raw.variables, scan.url  # the Eiger master without its data file: its omega axis, a coordinate
    said = " ".join(str(w.message) for w in caught)
    with h5py.File(path, "r") as f:
        entry = f[entry_name]
        grid = tuple(int(n) for n in entry["scan_shape"][()]) if "scan_shape" in entry else ()
        grid = grid or (tuple(int(n) for n in entry["scan_dimensions"][()]) if "scan_dimensions" in entry else ())
        points = summary["steps"]
        assert points == raw.sizes.get("index", 0), scan.url
        counters = _h5_counters(entry, points, grid if len(grid) > 1 else (points,))
        absent = {name for name in _external_files(entry) if not (path.parent / name).exists()}
    values = [raw[v].values for v in raw.variables if raw[v].dims == ("index",)]
    for name, written in counters.items():  # every counter, with its values: none dropped
        # GDA writes an axis again into each NXdata group, in its last bits not always the same (1e-14): as close
        assert any(v.shape == written.shape and np.allclose(v, written, 0, 1e-12, equal_nan=True) for v in values), (
            scan.url,
            name,
        )
    with h5py.File(path, "r") as f:  # positioners of named states, one per point (I06's polarisation)
        instrument = f[entry_name].get("instrument", {})
        states = {
            name: [v.decode() for v in instrument[name]["value"][()].reshape(-1)]
            for name in instrument
            if isinstance(instrument[name], h5py.Group)
            and "value" in instrument[name]
            and instrument[name]["value"].dtype.kind == "S"
            and instrument[name]["value"].size == points > 1
        }
    for name, written in states.items():
        assert raw[name].values.tolist() == written, (scan.url, name)
    for name in absent:  # every file that is not there is named
        assert name in said, (scan.url, name, said)
    if detector is not None and absent:
        with pytest.raises(MissingDataError, match=re.escape(sorted(absent)[0]) + "|" + "which does not exist"):
            scan.load(detector=detector)
    return summary


DLS = [
    # (layout folder, visit, file, entry, command starts with, detector)
    ("dls/i16/data", "mm00001-1", "782761.nxs", "entry1", "scan hkl", "pil3_100k"),
    ("dls/i16/data", "mm00001-1", "794932.nxs", "entry1", "scan eta", "pil3_100k"),
    ("dls/i16/data", "mm00001-1", "879486.nxs", "entry1", "scan sz", "pil3_100k"),
    ("dls/i16/data", "mm00002-1", "1040323.nxs", "entry", "scan hkl", "pil3_100k"),
    ("dls/i16/data", "mm00002-1", "1049598.nxs", "entry1", "scan hkl", "pil3_100k"),
    ("dls/i16/data", "mm00002-1", "1054135.nxs", "entry", "scan Sample", None),
    ("dls/i06/data", "mm00003-1", "i06-353130.nxs", "entry", "scan pol", "medipix"),
    ("dls/i07/data", "si00004-1", "i07-404875.nxs", "entry", "", "excroi_data"),
    ("dls/i07/data", "si00004-1", "i07-404876.nxs", "entry", "", "excroi_data"),
    ("dls/i04", "mx00005-1", "Therm_6_2.nxs", "entry", "", "data"),
]


@pytest.mark.parametrize(("folder", "visit", "name", "entry", "command", "detector"), DLS, ids=[d[2] for d in DLS])
def test_set_b_diamond_files(layouts, folder, visit, name, entry, command, detector):
    """Diamond's small ``.nxs`` files, carried home without their detector files: summaries and counters."""
    prefix = name.split("-")[0] + "-" if "-" in name else ""
    repo = nx5d.open(f"file://{layouts}/set-b/{folder}/{{proposal}}/{prefix}{{scan}}.nxs", spice_url="")
    assert repo.beamline == "nexus"
    scan = repo[visit][name.removeprefix(prefix).removesuffix(".nxs")]
    path = layouts / "set-b" / folder / visit / name
    summary = check_nexus_scan(scan, path, entry, detector=detector)
    if name.startswith("i06"):
        assert scan.raw.pol.values.tolist() == ["pc"] * 40 + ["nc"] * 40  # the scan's outer axis, named states
    assert summary["notes"].startswith(command)
    assert summary["type"] == ("scan" if command else "")
    assert summary["motor"], summary  # the scanned motor, from the command or the default plot's axis
    assert summary.get("detector") == detector
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name not in ("i06-353130.nxs", "Therm_6_2.nxs"):
            assert scan.cooked.sizes
        else:  # the Eiger master and I06 hold their axes only: the cook says which file is missing
            with pytest.raises(MissingDataError, match=r"not read: .*which does not exist"):
                scan.cooked  # noqa: B018


def test_set_b_diamond_file_opened_by_its_path():
    path = shared_path("corpus", "set-b", "dls-i16", "794932.nxs")
    repo = nx5d.open(str(path), spice_url="")
    assert repo.beamline == "nexus"
    scan = repo["794932"].entry1
    assert scan.summary["motor"] == "eta"
    with pytest.warns(UserWarning, match=r"794932-pilatus3_100k-files/00001.tif', which does not exist"):
        assert scan.raw.sizes["index"] == 61


def test_set_b_soleil_timescan(layouts):
    repo = nx5d.open(f"file://{layouts}/set-b/soleil/{{proposal}}.nxs#{{scan}}", spice_url="")
    key = "theta_00062_salsa.scan 1D.Timescan.tscan_Cpt_Basler_MStat_xbpms_00001"
    assert repo.file_2.keys() == [key]
    scan = repo.file_2[key]
    summary = check_nexus_scan(scan, layouts / "set-b" / "soleil" / "file_2.nxs", key)
    assert (summary["steps"], summary["notes"], summary["motor"]) == (7201, "redemarrage", "time_1")
    raw = scan.raw
    positioners = [v for v in raw.data_vars if raw[v].dims == () and "MT_" in v]
    assert len(positioners) == 9  # NXpositioner raw_value
    assert float(raw["D13-1-C03__OP__MONO-MT_THETA__#1"]) == pytest.approx(14.0222)
    assert scan.cooked.signal.dims == ("time_1",)


def test_set_b_area_detector_single_frame(layouts):
    path = layouts / "set-b" / "aps-15idd" / "AgBehenate_228.hdf5"
    repo = nx5d.open(f"file://{path.parent}/{{proposal}}.hdf5#{{scan}}", spice_url="")
    scan = repo.AgBehenate_228.entry
    summary = scan.summary
    assert summary["steps"] == 1
    assert summary["type"] == ""  # its title is no command
    assert summary["motor"] == ""
    assert summary["notes"] == "Glassy carbon C6 fixed"
    raw = scan.raw
    with h5py.File(path) as f:
        np.testing.assert_array_equal(raw.images.values[0], f["entry/data/data"][()])
    assert raw.images.shape == (1, 195, 487)


def test_set_b_lab_xrdml_is_refused_clearly(layouts):
    with pytest.raises(NoBeamlineClaimsError, match=r"no installed beamline plugin recognises .*\.xrdml"):
        nx5d.open(f"file://{layouts}/set-b/lab-xrdml/{{proposal}}.xrdml#{{scan}}", spice_url="")


def test_set_a_nexus_files(layouts):
    root = layouts / "set-a"
    sardana = nx5d.open(f"file://{root}/sardana/{{proposal}}.h5#{{scan}}", spice_url="")
    keys = sardana.sardana_nexus.keys()
    assert len(keys) == 18
    with h5py.File(root / "sardana" / "sardana_nexus.h5", "r") as f:
        points = {key: len(f[key]["measurement/Pt_No"]) for key in keys}
    assert sorted(points.values())[:3] == [0, 0, 2]  # scans stopped before their first points
    for key in keys:
        summary = check_nexus_scan(sardana.sardana_nexus[key], root / "sardana" / "sardana_nexus.h5", key)
        assert summary["type"] == "dscan"
        assert summary["steps"] == points[key]
    gda = nx5d.open(f"file://{root}/dls/{{proposal}}/{{scan}}.nxs#entry1", spice_url="")
    summary = check_nexus_scan(gda["cm12345-1"]["538039"], root / "dls" / "cm12345-1" / "538039.nxs", "entry1")
    assert (summary["type"], summary["motor"], summary["steps"]) == ("scan", "eta", 61)
    assert summary["notes"] == "Scan of sample with GDA"
    manual = nx5d.open(f"file://{root}/nexus/{{proposal}}.h5#{{scan}}", spice_url="")
    check_nexus_scan(manual.writer_1_3.Scan, root / "nexus" / "writer_1_3.h5", "Scan")


def test_bliss_dataset_file_of_set_a_in_its_raw_data_layout(layouts):
    folder = "esrf/hc2103/id01/20250522/RAW_DATA/PTO_STO_SL"
    repo = nx5d.open(f"file://{layouts}/set-a/{folder}/{{proposal}}/{{proposal}}.h5#{{scan}}", spice_url="")
    scan = repo.PTO_STO_SL_0001["20.1"]
    path = layouts / "set-a" / folder / "PTO_STO_SL_0001" / "PTO_STO_SL_0001.h5"
    summary = check_nexus_scan(scan, path, "20.1", detector="mpx1x4")
    assert summary["motor"] == "eta"
    assert scan.cooked.signal.dims == ("eta",)


def test_set_a_udkm_lab_folders(layouts):
    repo = nx5d.open(f"file://{layouts}/set-a/udkm/RawData/{{proposal}}/{{scan}}", spice_url="")
    assert repo.beamline == "udkm"
    proposal = repo.p20211123
    assert proposal.keys() == ["174703", "183037"]
    table = (layouts / "set-a/udkm/RawData/20211123/174703/scans174703.dat").read_text().splitlines()
    rows = np.array([[float(w) for w in line.split("\t")[:9]] for line in table if line and line[0] != "%"])
    assert proposal.r174703.summary["steps"] == len(rows) == 366
    with pytest.warns(UserWarning, match=r"174703 holds no frames \(image00000.tif"):
        raw = proposal.r174703.raw
    np.testing.assert_array_equal(raw.delay.values, rows[:, 1])
    np.testing.assert_array_equal(raw.pilatus_rate.values, rows[:, 6])
    with pytest.raises(MissingDataError, match=r"not read: the frame files scans174703.dat names \(image00000.tif"):
        proposal.r174703.cooked  # noqa: B018 - maps need the frames, and the error says which are missing
    assert "unreadable" in proposal.table().notes.iloc[1]  # the folder whose table is missing (too big to publish)
    with pytest.raises(MissingDataError, match=r"183037 holds no UDKM scan table"):
        proposal.r183037.raw  # noqa: B018


def test_hdf5_file_already_open_in_this_process():
    """A notebook that opened the file with h5py (or xarray) first: nx5d reads it beside that handle."""
    path = SHARED / "realdata" / "bliss-id01" / "PTO_STO_SL_0001.h5"
    with h5py.File(path, "r") as theirs:
        repo = nx5d.open(f"file://{path.parent}/{{proposal}}.h5#{{scan}}", spice_url="", frames="skip")
        assert repo.PTO_STO_SL_0001["20.1"].raw.sizes["index"] == 51
        assert "20.1" in theirs
