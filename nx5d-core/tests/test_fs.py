"""The storage layer: local fast path and fsspec filesystems, errors, accounting."""

import fsspec
import pytest

from nx5d.errors import MissingDataError, OptionError
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


def test_storage_options_by_scheme_with_timeouts_and_no_client_retries():
    aiohttp = pytest.importorskip("aiohttp")
    storage = Storage({"s3": {"anon": True}, "headers": {"X": "1"}, "block_size": 5}, timeout=7)
    s3 = storage.options_for("s3")
    assert s3["anon"] is True
    assert s3["config_kwargs"] == {"connect_timeout": 7, "read_timeout": 7, "retries": {"total_max_attempts": 1}}
    http = storage.options_for("http")
    assert http["block_size"] == 5
    assert "anon" not in http  # options under a scheme's name are that scheme's
    assert http["headers"] == {"X": "1"}  # a mapping under another name is an option of the URL's scheme
    assert http["client_kwargs"]["timeout"] == aiohttp.ClientTimeout(total=None, sock_connect=7, sock_read=7)
    mine = Storage(
        {"s3": {"config_kwargs": {"read_timeout": 99}}, "https": {"client_kwargs": {"timeout": 1}}}, timeout=7
    )
    assert mine.options_for("s3")["config_kwargs"]["read_timeout"] == 99  # what the user says wins
    assert mine.options_for("https")["client_kwargs"]["timeout"] == 1
    assert "config_kwargs" not in Storage(timeout=None).options_for("gcs")


@pytest.mark.parametrize(("option", "value"), [("timeout", 0), ("timeout", -1), ("timeout", "30"), ("retries", -1)])
def test_bad_timeouts_and_retries_are_refused(option, value):
    with pytest.raises(OptionError, match=option):
        Storage(**{option: value})


def test_storage_options_without_a_scheme_key_reach_the_urls_file_system_whole():
    pytest.importorskip("s3fs")
    flat = Storage({"anon": True, "client_kwargs": {"endpoint_url": "http://127.0.0.1:9"}})
    fs, _ = flat.filesystem("s3://bucket/data")
    assert fs.anon is True
    assert fs.client_kwargs["endpoint_url"] == "http://127.0.0.1:9"  # a nested option is not a scheme's options
    mixed = Storage({"anon": True, "s3": {"anon": False, "key": "k"}, "simplecache": {"same_names": True}})
    assert mixed.options_for("s3")["anon"] is False  # the scheme's own options win over the flat ones
    assert mixed.options_for("s3")["key"] == "k"
    assert "simplecache" not in mixed.options_for("s3")
    assert mixed.options_for("http")["anon"] is True
