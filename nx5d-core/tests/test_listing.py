"""Listing keys by walking URL patterns over real folders and HDF5 files."""

import os

import h5py
import pytest

from nx5d.addressing.listing import list_keys
from nx5d.addressing.url import UrlPattern
from nx5d.errors import MissingDataError, NotSupportedError
from nx5d.io.storage import Storage, record_io


def touch(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(b"x")


def h5_lister(document, path):
    with h5py.File(Storage.local_path(document), "r") as f:
        group = f["/".join(path)] if path else f
        return list(group.keys())


@pytest.fixture
def folders(tmp_path):
    for p, s in [("20210205", "091726"), ("20210205", "101500"), ("20210205", "91700"), ("20210301", "000001")]:
        (tmp_path / p / s).mkdir(parents=True)
    (tmp_path / "20210205" / ".hidden").mkdir()
    (tmp_path / "20210205" / "spice").mkdir()
    (tmp_path / ".git").mkdir()
    touch(str(tmp_path / "README.txt"))
    return tmp_path


def test_folder_per_proposal_and_scan(folders):
    pattern = UrlPattern(f"file://{folders}/{{proposal}}/{{scan}}")
    storage = Storage()
    assert list_keys(pattern, "proposal", storage=storage) == ["20210205", "20210301"]
    scans = list_keys(pattern, "scan", storage=storage, known={"proposal": "20210205"})
    assert scans == ["91700", "091726", "101500"]  # numeric order; hidden and spice folders skipped


def test_listing_proposals_does_not_descend_into_scans(folders):
    pattern = UrlPattern(f"file://{folders}/{{proposal}}/{{scan}}")
    with record_io() as io:
        list_keys(pattern, "proposal", storage=Storage())
    assert io.listings == 1


def test_key_patterns_filter_unrelated_names(folders):
    (folders / "20210205" / "notes").mkdir()
    pattern = UrlPattern(f"file://{folders}/{{proposal}}/{{scan}}")
    found = list_keys(
        pattern, "scan", storage=Storage(), known={"proposal": "20210205"}, key_patterns={"scan": r"\d{6}"}
    )
    assert found == ["091726", "101500"]


def test_missing_root_is_reported(tmp_path):
    pattern = UrlPattern(f"file://{tmp_path}/nothing/{{proposal}}/{{scan}}")
    with pytest.raises(MissingDataError, match="nothing does not exist"):
        list_keys(pattern, "proposal", storage=Storage())


def test_missing_proposal_folder_is_reported(folders):
    pattern = UrlPattern(f"file://{folders}/{{proposal}}/{{scan}}")
    with pytest.raises(MissingDataError):
        list_keys(pattern, "scan", storage=Storage(), known={"proposal": "19990101"})


def test_document_per_scan_with_fixed_anchor(tmp_path):
    for name in ["p1/p1-1.h5", "p1/p1-2.h5", "p1/p1-10.h5", "p1/other.h5", "p2/p2-1.h5"]:
        touch(str(tmp_path / name))
    pattern = UrlPattern(f"file://{tmp_path}/{{proposal}}/{{proposal}}-{{scan}}.h5#data/")
    assert list_keys(pattern, "proposal", storage=Storage()) == ["p1", "p2"]
    assert list_keys(pattern, "scan", storage=Storage(), known={"proposal": "p1"}) == ["1", "2", "10"]


def test_proposal_folders_without_their_document_are_not_proposals(tmp_path):
    touch(str(tmp_path / "p1" / "p1.h5"))
    (tmp_path / "stray").mkdir()
    pattern = UrlPattern(f"file://{tmp_path}/{{proposal}}/{{proposal}}.h5#{{scan}}")
    assert list_keys(pattern, "proposal", storage=Storage(), anchor_lister=h5_lister) == ["p1"]


def test_intermediate_segments_must_be_folders(tmp_path):
    (tmp_path / "p1" / "s1").mkdir(parents=True)
    touch(str(tmp_path / "p2"))
    pattern = UrlPattern(f"file://{tmp_path}/{{proposal}}/{{scan}}")
    assert list_keys(pattern, "proposal", storage=Storage()) == ["p1"]


def make_h5(path, layout):
    with h5py.File(path, "w") as f:
        for group in layout:
            f.create_group(group)


def test_anchor_listing_in_one_document_per_proposal(tmp_path):
    (tmp_path / "p1").mkdir()
    make_h5(tmp_path / "p1" / "data.h5", ["1.1", "2.1", "10.1"])
    pattern = UrlPattern(f"file://{tmp_path}/{{proposal}}/data.h5#{{scan}}")
    assert list_keys(pattern, "proposal", storage=Storage(), anchor_lister=h5_lister) == ["p1"]
    scans = list_keys(pattern, "scan", storage=Storage(), known={"proposal": "p1"}, anchor_lister=h5_lister)
    assert scans == ["1.1", "2.1", "10.1"]


def test_anchor_listing_in_one_document_for_everything(tmp_path):
    make_h5(tmp_path / "drepo.hdf", ["alpha/1", "alpha/2", "beta/7"])
    pattern = UrlPattern(f"file://{tmp_path}/drepo.hdf#{{proposal}}/{{scan}}")
    assert list_keys(pattern, "proposal", storage=Storage(), anchor_lister=h5_lister) == ["alpha", "beta"]
    assert list_keys(pattern, "scan", storage=Storage(), known={"proposal": "alpha"}, anchor_lister=h5_lister) == [
        "1",
        "2",
    ]


def test_nested_anchor_with_repeated_proposal(tmp_path):
    (tmp_path / "p1").mkdir()
    make_h5(tmp_path / "p1" / "p1.h5", ["p1/s1", "p1/s2", "other/s3"])
    pattern = UrlPattern(f"file://{tmp_path}/{{proposal}}/{{proposal}}.h5#{{proposal}}/{{scan}}")
    assert list_keys(pattern, "scan", storage=Storage(), known={"proposal": "p1"}, anchor_lister=h5_lister) == [
        "s1",
        "s2",
    ]


def test_anchor_placeholders_need_an_anchor_lister(tmp_path):
    make_h5(tmp_path / "d.h5", ["a"])
    pattern = UrlPattern(f"file://{tmp_path}/d.h5#{{proposal}}/{{scan}}")
    with pytest.raises(NotSupportedError, match="nx5d_list_anchor"):
        list_keys(pattern, "proposal", storage=Storage())


def test_names_that_are_not_legal_keys_are_skipped(tmp_path):
    (tmp_path / "p1" / "a..b").mkdir(parents=True)
    (tmp_path / "p1" / "ok").mkdir()
    pattern = UrlPattern(f"file://{tmp_path}/{{proposal}}/{{scan}}")
    assert list_keys(pattern, "scan", storage=Storage(), known={"proposal": "p1"}) == ["ok"]
