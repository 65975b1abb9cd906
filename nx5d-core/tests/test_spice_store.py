"""On-disk spice: one human-readable JSON file per record, atomic, never overwritten, robust to junk."""

import json
import os
import stat

import fsspec
import pytest

import nx5d
from nx5d.addressing.url import UrlPattern
from nx5d.errors import SpiceError, SpiceWarning
from nx5d.repo.filesystem import DataRepository
from nx5d.spice import FileSpiceStore, MemorySpiceStore, default_locations, make_store
from nx5d.spice.record import new_record


@pytest.fixture
def repo(tmp_path):
    for p, s in [("20210205", "091726"), ("20210205", "101500")]:
        (tmp_path / "data" / p / s).mkdir(parents=True)
    return DataRepository(f"file://{tmp_path}/data/{{proposal}}/{{scan}}", proposal_k2h=lambda k: f"p{k}")


def folder_state(path):
    return sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in path.iterdir()) if path.exists() else []


def test_records_are_json_files_named_by_uuid_beside_the_data(repo, tmp_path):
    record = repo.p20210205.spice.seed("settings", img_center=[50, 120], img_distance=690.0)
    folder = tmp_path / "data" / "20210205" / "spice"
    path = folder / f"{record['uuid']}.json"
    assert path.is_file()
    text = path.read_text()
    assert text.startswith("{\n  ")  # indented: people can read and diff it
    assert json.loads(text) == record
    assert [p.name for p in folder.iterdir() if not p.name.startswith(".")] == [path.name]
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    # the spice folder is never taken for a scan
    assert repo.p20210205.keys() == ["091726", "101500"]


def test_a_second_process_view_sees_the_records(repo, tmp_path):
    repo.p20210205.spice.seed("settings", distance=1.0)
    repo.p20210205.spice.update("091726", "settings", distance=2.0)
    fresh = DataRepository(repo.url)
    assert fresh["20210205"].spice.view("101500")["settings"].distance == 2.0


def test_reading_spice_writes_nothing(repo, tmp_path):
    before = folder_state(tmp_path / "data" / "20210205")
    repo.p20210205.spice.view("091726")
    repo.p20210205.spice.ls()
    assert folder_state(tmp_path / "data" / "20210205") == before
    assert not (tmp_path / "data" / "20210205" / "spice").exists()


def test_records_are_never_overwritten(tmp_path):
    store = FileSpiceStore([f"file://{tmp_path}/{{proposal}}"])
    record = new_record(type="a", handle="a", revision=1, anchor="", data={"v": 1})
    store.write("p", record)
    with pytest.raises(SpiceError, match="refusing to overwrite"):
        store.write("p", record)
    assert json.loads((tmp_path / "p" / f"{record.uuid}.json").read_text())["data"] == {"v": 1}


def test_corrupt_and_foreign_files_are_reported_skipped_and_kept(repo, tmp_path):
    book = repo.p20210205.spice
    good = book.seed("settings", distance=1.0)
    folder = tmp_path / "data" / "20210205" / "spice"
    junk = {
        "truncated.json": '{"version": "nx5d-spice/1", "type": "a", "ha',
        "foreign.json": json.dumps({"name": "some other tool's settings"}),
        "badrev.json": json.dumps({**good, "uuid": "x", "revision": 0}),
        "binary.json": b"\xff\xfe\x00garbage",
        "renamed.json": json.dumps({**good, "data": {"distance": 99.0}}),
        "notes.txt": "not a record at all",
    }
    for name, content in junk.items():
        (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    before = folder_state(folder)
    fresh = DataRepository(repo.url)
    with pytest.warns(SpiceWarning) as caught:
        view = fresh["20210205"].spice.view("091726")
    assert view["settings"].distance == 1.0
    messages = " ".join(str(w.message) for w in caught)
    for name in ("truncated.json", "foreign.json", "badrev.json", "binary.json", "renamed.json"):
        assert str(folder / name) in messages
    assert "notes.txt" not in messages
    assert "left untouched" in messages
    assert folder_state(folder) == before
    fresh["20210205"].spice.update("091726", "settings", distance=2.0)  # writing still works beside the junk
    assert fresh["20210205"].spice.view("101500")["settings"].distance == 2.0


def test_unusable_data_location_sends_records_to_the_user_folder(repo, tmp_path, monkeypatch):
    monkeypatch.setenv("NX5D_SPICE_HOME", str(tmp_path / "home"))
    (tmp_path / "data" / "20210205" / "spice").write_text("a file where the spice folder would go")
    with pytest.warns(SpiceWarning, match="it is a file, not a spice folder"):
        record = DataRepository(repo.url).p20210205.spice.seed("s", v=1)
    found = list((tmp_path / "home").rglob(f"{record['uuid']}.json"))
    assert len(found) == 1
    with pytest.warns(SpiceWarning):
        assert DataRepository(repo.url).p20210205.spice.view("091726")["s"].v == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only folders")
def test_read_only_data_sends_records_to_the_user_folder(repo, tmp_path, monkeypatch):
    monkeypatch.setenv("NX5D_SPICE_HOME", str(tmp_path / "home"))
    proposal_folder = tmp_path / "data" / "20210205"
    proposal_folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        record = DataRepository(repo.url).p20210205.spice.seed("s", v=1)
    finally:
        proposal_folder.chmod(0o755)
    found = list((tmp_path / "home").rglob(f"{record['uuid']}.json"))
    assert len(found) == 1
    assert "20210205" in str(found[0])


def test_both_default_locations_are_read(repo, tmp_path, monkeypatch):
    monkeypatch.setenv("NX5D_SPICE_HOME", str(tmp_path / "home"))
    locations = default_locations(UrlPattern(repo.url))
    assert locations[0] == f"file://{tmp_path}/data/{{proposal}}/spice"
    assert locations[1].startswith(f"file://{tmp_path}/home/data-")
    user_store = FileSpiceStore([locations[1]])
    record = new_record(type="s", handle="s", revision=1, anchor="", data={"from": "home"})
    user_store.write("20210205", record)
    fresh = DataRepository(repo.url)
    assert fresh.p20210205.spice.view("091726")["s"]["from"] == "home"


@pytest.mark.parametrize(
    ("pattern", "beside"),
    [
        ("file:///d/{proposal}/{scan}", "file:///d/{proposal}/spice"),
        ("file:///d/{proposal}/data.h5#{scan}", "file:///d/{proposal}/spice"),
        ("file:///d/{proposal}/{proposal}-{scan}.h5#data/", "file:///d/{proposal}/spice"),
        ("file:///d/{proposal}.h5#{scan}", "file:///d/spice/{proposal}"),
        ("file:///d/drepo.hdf#{proposal}/{scan}", "file:///d/spice/{proposal}"),
        ("s3://bucket/udkm/{proposal}/{scan}", "s3://bucket/udkm/{proposal}/spice"),
    ],
)
def test_default_location_beside_the_data(pattern, beside):
    assert default_locations(UrlPattern(pattern))[0] == beside


def test_store_choice(tmp_path):
    storage = nx5d.io.storage.Storage()
    assert isinstance(make_store("", UrlPattern("file:///d/{proposal}/{scan}"), storage), MemorySpiceStore)
    assert isinstance(make_store(None, None, storage), MemorySpiceStore)
    assert isinstance(make_store(None, UrlPattern("memory://m/{proposal}/{scan}"), storage), MemorySpiceStore)
    explicit = make_store(f"file://{tmp_path}/{{proposal}}", None, storage)
    assert explicit.locations == [f"file://{tmp_path}/{{proposal}}"]
    with pytest.raises(SpiceError, match="must contain"):
        make_store(f"file://{tmp_path}/spice", None, storage)
    with pytest.raises(SpiceError, match="must not contain"):
        make_store(f"file://{tmp_path}/{{proposal}}/{{scan}}", None, storage)


def test_fsspec_locations_work_the_same():
    fs = fsspec.filesystem("memory")
    store = FileSpiceStore(["memory://nx5d-spice-test/{proposal}"])
    try:
        a = new_record(type="a", handle="a", revision=1, anchor="", data={"v": 1})
        store.write("p", a)
        with pytest.raises(SpiceError, match="refusing to overwrite"):
            store.write("p", a)
        assert store.records("p") == [a]
        fs.pipe_file("/nx5d-spice-test/p/broken.json", b"{")
        with pytest.warns(SpiceWarning, match="broken.json"):
            assert store.records("p") == [a]
    finally:
        fs.rm("/nx5d-spice-test", recursive=True)
