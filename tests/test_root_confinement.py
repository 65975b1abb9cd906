"""Reads stay inside the repository root, whatever a table, a link or a symbolic link in the data says.

A secret file lies beside every repository here; each test makes the data
point at it in another way and checks that loading raises
:class:`OutsideRepositoryError` naming the reference, never returns the
secret, and never prints its bytes.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from pathlib import Path

import h5py
import numpy as np
import pytest
import tifffile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nx5d
from nx5d.errors import DataWarning, MissingDataError, Nx5dError, OutsideRepositoryError
from nx5d.io.storage import Storage, join_url, record_io
from nx5d_nexus.layouts import scan_dataset
from nx5d_nexus.synth import write_repository as write_nexus
from nx5d_udkm.synth import ScanSpec
from nx5d_udkm.synth import write_repository as write_udkm

SECRET = 123456789
SMALL = ScanSpec(variant="tRSS", delays=(0.0,), thetas=(18.4, 18.5), delay_loops=1, frames=None)


@pytest.fixture
def udkm(tmp_path: Path) -> tuple[Path, Path]:
    """A UDKM repository under ``tmp_path/repo`` and a secret TIFF frame beside it."""
    secret = tmp_path / "secret.tif"
    tifffile.imwrite(secret, np.full((195, 487), SECRET, np.int32))
    write_udkm(tmp_path / "repo", {"20210205": ["091726"]}, SMALL)
    return tmp_path / "repo", secret


def _scan(root: Path):
    return nx5d.open(f"file://{root}/{{proposal}}/{{scan}}", spice_url="").p20210205.r091726


def _table(root: Path) -> Path:
    return root / "20210205" / "091726" / "scans091726.dat"


def _name_frame(root: Path, index: int, name: str) -> None:
    """Make the table's frame line ``index`` name ``name`` (the frame file it named is moved away)."""
    frame = root / "20210205" / "091726" / f"image{index:05d}.tif"
    if frame.exists():
        frame.replace(root / "20210205" / f"frame{index}.tif")
    lines = _table(root).read_text().split("\n")
    frame_lines = [i for i, line in enumerate(lines) if line.startswith("% ") and "\t" in line][1:]
    start, end, _ = lines[frame_lines[index]][2:].split("\t")
    lines[frame_lines[index]] = f"% {start}\t{end}\t{name}"
    _table(root).write_text("\n".join(lines))


def _assert_refused(scan, reference: str) -> None:
    with pytest.raises(OutsideRepositoryError) as info:
        scan.raw  # noqa: B018
    assert reference in str(info.value)
    assert str(SECRET) not in str(info.value)


@pytest.mark.parametrize(
    "name",
    [
        "../../../secret.tif",
        "../../../repo/../secret.tif",
        "./../../.././secret.tif",
        "image00000.tif/../../../../secret.tif",
    ],
)
def test_a_table_naming_a_file_outside_the_repository_is_refused(udkm, name):
    root, _ = udkm
    _name_frame(root, 1, name)
    _assert_refused(_scan(root), name.strip("/"))


def test_names_that_climb_but_stay_inside_are_read(udkm):
    root, _ = udkm
    _name_frame(root, 1, "../../20210205/frame1.tif")
    raw = _scan(root).raw
    assert np.array_equal(raw.images[1], tifffile.imread(root / "20210205" / "frame1.tif"))


def test_a_symbolic_link_to_a_frame_outside_is_refused(udkm):
    root, secret = udkm
    frame = root / "20210205" / "091726" / "image00001.tif"
    frame.unlink()
    frame.symlink_to(secret)
    _assert_refused(_scan(root), "image00001.tif")


def test_a_symbolic_link_inside_the_repository_is_followed(udkm):
    root, _ = udkm
    frame = root / "20210205" / "091726" / "image00001.tif"
    frame.unlink()
    frame.symlink_to("image00000.tif")
    raw = _scan(root).raw
    assert np.array_equal(raw.images[0], raw.images[1])


@pytest.mark.parametrize("folder", ["20210205/091726", "20210205"], ids=["scan", "proposal"])
def test_a_folder_that_links_out_of_the_repository_is_never_listed_nor_read(udkm, tmp_path, folder):
    root, _ = udkm
    elsewhere = tmp_path / "elsewhere"
    (root / folder).rename(elsewhere)
    (root / folder).symlink_to(elsewhere, target_is_directory=True)
    repo = nx5d.open(f"file://{root}/{{proposal}}/{{scan}}", spice_url="")
    left_out = rf"{folder.split('/')[-1]} links to {elsewhere}, outside the repository root .*: left out"
    with record_io() as io_, pytest.warns(DataWarning, match=left_out):
        listed = repo.keys() if folder == "20210205" else repo.p20210205.keys()
    assert listed == []
    assert io_.files_opened == 0
    with pytest.raises(OutsideRepositoryError, match=folder.split("/")[-1]):
        Storage(root=f"file://{root}").ls(f"file://{root}/{folder}")  # named outright: refused, not listed


def test_a_repository_reached_through_a_symbolic_link_reads_normally(udkm, tmp_path):
    root, _ = udkm
    (tmp_path / "alias").symlink_to(root, target_is_directory=True)
    assert _scan(tmp_path / "alias").raw.images.shape[0] == 2


@pytest.mark.parametrize("how", ["external link", "virtual dataset", "linked document"])
def test_hdf5_links_out_of_the_repository_are_refused(tmp_path, how):
    secret = tmp_path / "secret.h5"
    with h5py.File(secret, "w") as handle:
        handle["counts"] = np.full(21, SECRET, float)
        handle["frames"] = np.full((21, 4, 4), SECRET, np.int32)
    root = tmp_path / "repo"
    url = write_nexus(root, {"hc2103": [1]}, "bliss")
    document = root / "hc2103" / "hc2103.h5"
    relative = os.path.relpath(secret, document.parent)
    if how == "linked document":
        document.unlink()
        document.symlink_to(secret)
        reference = "hc2103.h5"
    else:
        with h5py.File(document, "a") as handle:
            if how == "external link":
                handle["1.1/measurement/stolen"] = h5py.ExternalLink(relative, "/counts")
            else:
                layout = h5py.VirtualLayout(shape=(21, 4, 4), dtype=np.int32)
                layout[:] = h5py.VirtualSource(relative, "frames", shape=(21, 4, 4))
                del handle["1.1/instrument/mpx/image"]
                handle["1.1/instrument/mpx"].create_virtual_dataset("image", layout)
        reference = relative
    if how == "linked document":  # the document itself: at once
        with pytest.raises(OutsideRepositoryError) as info:
            nx5d.open(url, spice_url="").hc2103["1.1"].raw  # noqa: B018
    else:  # the scan's own data loads; what lies outside is left out, named in a warning
        scan = nx5d.open(url, spice_url="").hc2103["1.1"]
        with pytest.warns(DataWarning, match=rf"{re.escape(reference)}'?, which lies outside the repository"):
            raw = scan.raw
        assert all(SECRET not in np.asarray(v.values) for v in raw.variables.values())
        assert "stolen" not in raw
        if how == "external link":  # its frames are inside the repository
            return
        with pytest.raises(OutsideRepositoryError) as info:  # the frames asked for by name
            scan.load(detector="mpx")
    assert reference in str(info.value)
    assert str(SECRET) not in str(info.value)


# --- the mechanism, over the space of names -------------------------------

SEGMENTS = st.sampled_from(["..", ".", "", "a", "b", "%2e%2e", "%2E%2e", ".%2e", "..%2f..", "link", "c d"])
NAMES = st.lists(SEGMENTS, min_size=1, max_size=8).map("/".join)


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """``base/root/a/b`` with a link ``root/a/link`` to ``base``, and a file outside the root."""
    base = tmp_path_factory.mktemp("tree")
    (base / "root" / "a" / "b").mkdir(parents=True)
    (base / "root" / "a" / "link").symlink_to(base, target_is_directory=True)
    (base / "outside.txt").write_text("outside")
    return base


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=NAMES)
def test_local_names_resolve_inside_the_root_or_are_refused(tree, name):
    storage = Storage(root=f"file://{tree / 'root'}")
    url = join_url(f"file://{tree / 'root' / 'a'}", name)
    resolved = os.path.realpath(Storage.local_path(url))
    if resolved == str(tree / "root") or resolved.startswith(str(tree / "root") + os.sep):
        assert storage.confine(url) == url
    else:
        with pytest.raises(OutsideRepositoryError, match=re.escape(url)):
            storage.confine(url)


@settings(max_examples=300, deadline=None)
@given(name=NAMES, host=st.sampled_from(["data.example", "DATA.example", "other.example"]))
def test_remote_names_resolve_inside_the_root_or_are_refused(name, host):
    storage = Storage(root="https://data.example/beamtimes/2024")
    url = join_url(f"https://{host}/beamtimes/2024/p1", name)
    path = os.path.normpath(urllib.parse.unquote(urllib.parse.urlsplit(url).path))
    if host.lower() == "data.example" and (path == "/beamtimes/2024" or path.startswith("/beamtimes/2024/")):
        assert storage.confine(url) == url
    else:
        with pytest.raises(OutsideRepositoryError, match=re.escape(url)):
            storage.confine(url)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=NAMES)
def test_any_frame_name_in_a_table_loads_from_inside_or_fails_cleanly(udkm, name):
    root, _ = udkm
    _name_frame(root, 1, name)
    with record_io() as io:
        try:
            raw = _scan(root).raw
        except (OutsideRepositoryError, MissingDataError, Nx5dError):
            raw = None
    inside = str(root.resolve())
    for url in io.urls:
        resolved = os.path.realpath(Storage.local_path(url) or "")
        assert resolved.startswith(inside + os.sep), url
    if raw is not None:
        assert int(raw.images.max()) != SECRET


@pytest.mark.parametrize("beamline", ["nexus", "kmc3"])
def test_a_scan_group_that_is_an_external_link_out_of_the_repository_is_never_listed_nor_read(tmp_path, beamline):
    secret = tmp_path / "elsewhere" / "outside.h5"
    secret.parent.mkdir()
    with h5py.File(secret, "w") as handle:
        entry = handle.create_group("7.1")
        entry.attrs["NX_class"] = "NXentry"
        entry["title"] = "ascan eta 0 1 20 1"
        entry.create_group("measurement")["secret"] = np.full(21, SECRET, float)
    root = tmp_path / "repo"
    url = write_nexus(root, {"hc2103": [1]}, "bliss")
    with h5py.File(root / "hc2103" / "hc2103.h5", "a") as handle:
        handle["9.1"] = h5py.ExternalLink(str(secret), "/7.1")
    proposal = nx5d.open(url, spice_url="", beamline=beamline).hc2103
    with pytest.warns(DataWarning, match=r"hc2103\.h5#9\.1 is an external link to .*outside\.h5.*left out"):
        assert proposal.keys() == ["1.1"]
    storage = proposal.repository.storage
    with pytest.raises(OutsideRepositoryError, match=r"#9\.1 is an external link to .*outside\.h5") as info:
        scan_dataset(storage, f"file://{root}/hc2103/hc2103.h5#9.1")  # named outright: refused before it is followed
    assert str(SECRET) not in str(info.value)
