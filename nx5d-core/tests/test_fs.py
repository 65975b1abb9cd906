"""The storage layer: local fast path and fsspec filesystems, errors, accounting."""

import fsspec
import pytest

from nx5d.errors import MissingDataError
from nx5d.io.storage import Entry, Storage, join_url, record_io


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "d").mkdir()
    for i in range(20):
        (tmp_path / "d" / f"f{i:02d}.bin").write_bytes(bytes([i]) * (i + 1))
    return tmp_path


def test_local_listing_reading_and_accounting(tree):
    storage = Storage()
    base = f"file://{tree}"
    assert Entry("d", True) in storage.ls(base)
    assert storage.isdir(join_url(base, "d"))
    assert storage.exists(join_url(base, "d", "f03.bin"))
    assert storage.size(join_url(base, "d", "f03.bin")) == 4
    urls = [join_url(base, "d", f"f{i:02d}.bin") for i in range(20)]
    with record_io() as io:
        data = storage.read_many(urls)
        with storage.open(urls[5]) as fh:
            fh.seek(2)
            assert fh.read() == bytes([5]) * 4
    assert data == [bytes([i]) * (i + 1) for i in range(20)]
    assert io.files_opened == 21
    assert io.bytes_read == sum(range(1, 21)) + 4
    assert storage.read_bytes(urls[0]) == b"\x00"


def test_missing_files_raise_missing_data_error_naming_the_url(tree):
    storage = Storage()
    url = f"file://{tree}/d/nope.bin"
    for action in (storage.read_bytes, storage.open, storage.size, storage.ls):
        with pytest.raises(MissingDataError, match=r"nope\.bin"):
            action(url)
    with pytest.raises(MissingDataError, match=r"nope\.bin"):
        storage.read_many([f"file://{tree}/d/f00.bin", url])
    assert not storage.exists(url)


def test_fsspec_filesystems_work_the_same():
    fs = fsspec.filesystem("memory")
    fs.pipe({"/nx5d-fs-test/a/x.bin": b"xx", "/nx5d-fs-test/a/y.bin": b"yyy", "/nx5d-fs-test/b/z.bin": b"z"})
    try:
        storage = Storage()
        names = {e.name: e.is_dir for e in storage.ls("memory://nx5d-fs-test")}
        assert names == {"a": True, "b": True}
        with record_io() as io:
            data = storage.read_many(["memory://nx5d-fs-test/a/y.bin", "memory://nx5d-fs-test/a/x.bin"])
        assert data == [b"yyy", b"xx"]
        assert io.bytes_read == 5
        with storage.open("memory://nx5d-fs-test/b/z.bin") as fh:
            assert fh.read() == b"z"
        with pytest.raises(MissingDataError, match="nope"):
            storage.read_bytes("memory://nx5d-fs-test/nope")
        with pytest.raises(MissingDataError, match="nope"):
            storage.read_many(["memory://nx5d-fs-test/a/x.bin", "memory://nx5d-fs-test/nope"])
    finally:
        fs.rm("/nx5d-fs-test", recursive=True)


def test_storage_options_by_scheme():
    storage = Storage({"s3": {"anon": True}, "timeout": 5})
    assert storage.options_for("s3") == {"anon": True}
    assert storage.options_for("http") == {"timeout": 5}
