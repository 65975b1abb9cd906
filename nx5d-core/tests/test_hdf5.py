"""HDF5 documents through the core: listing anchors, reading, lazy arrays, damaged and busy files."""

import pickle
import subprocess
import sys
import textwrap

import h5py
import numpy as np
import pytest

import nx5d
from nx5d.errors import CorruptDataError, MissingDataError, NotSupportedError
from nx5d.io.hdf5 import LazyDataset, is_hdf5_name, lazy_array, members, node, open_document, read, split_url
from nx5d.io.storage import Storage, record_io


@pytest.fixture
def document(tmp_path):
    path = tmp_path / "drepo.hdf"
    with h5py.File(path, "w") as f:
        for proposal in ("alfa", "bravo"):
            for scan in ("10.1", "2.1", "1.1"):
                group = f.create_group(f"{proposal}/{scan}")
                group["title"] = f"ascan {scan}"
                group.create_dataset("data", data=np.arange(600, dtype=np.int32).reshape(6, 10, 10), chunks=(2, 10, 10))
    return path


def test_names_and_urls():
    assert is_hdf5_name("file:///x/a.h5#b")
    assert is_hdf5_name("s3://b/x.NXS")
    assert not is_hdf5_name("file:///x/a.txt")
    assert split_url("file:///x/a.h5#alfa/1.1/") == ("file:///x/a.h5", "/alfa/1.1")
    assert split_url("file:///x/a.h5") == ("file:///x/a.h5", "/")


def test_members_lists_groups_without_reading_datasets(document):
    url = f"file://{document}"
    with record_io() as io:
        assert sorted(members(Storage(), url)) == ["alfa", "bravo"]
        assert sorted(members(Storage(), url, ("alfa",))) == ["1.1", "10.1", "2.1"]
    assert io.datasets == []
    assert io.files_opened == 2
    with pytest.raises(MissingDataError, match=r"drepo.hdf#alfa/9.1 does not exist"):
        members(Storage(), url, ("alfa", "9.1"))
    with pytest.raises(MissingDataError, match="is a dataset, not a group"):
        members(Storage(), url, ("alfa", "1.1", "data"))


def test_repository_lists_anchor_keys_with_the_core_fallback(document):
    repo = nx5d.Repository(f"file://{document}#{{proposal}}/{{scan}}")
    assert repo.keys() == ["alfa", "bravo"]
    assert repo["alfa"].keys() == ["1.1", "2.1", "10.1"]  # natural order


def test_anchor_listing_of_a_document_that_is_not_hdf5_is_refused(tmp_path):
    (tmp_path / "scans.txt").write_text("#S 1\n")
    repo = nx5d.Repository(f"file://{tmp_path}/scans.txt#{{proposal}}/{{scan}}")
    with pytest.raises(NotSupportedError, match=r"scans.txt.*nx5d_list_anchor"):
        repo.keys()


def test_read_is_counted_and_named(document):
    url = f"file://{document}"
    with open_document(Storage(), url) as handle, record_io() as io:
        data = read(node(handle, "/alfa/1.1/data", url), f"{url}#alfa/1.1/data", np.s_[2:4])
    assert data.shape == (2, 10, 10)
    assert data.dtype == np.int32
    assert io.datasets == [f"{url}#alfa/1.1/data"]
    assert io.bytes_read == data.nbytes


@pytest.mark.parametrize(
    ("damage", "error", "message"),
    [
        ("truncate", CorruptDataError, r"truncated HDF5 file \(\d+ of \d+ bytes\)"),
        ("junk", CorruptDataError, "is not an HDF5 file"),
        ("remove", MissingDataError, "does not exist"),
    ],
)
def test_damaged_documents_raise_nx5d_errors_naming_the_file(document, damage, error, message):
    data = document.read_bytes()
    if damage == "truncate":
        document.write_bytes(data[: len(data) // 2])
    elif damage == "junk":
        document.write_bytes(b"not hdf5 at all" * 100)
    else:
        document.unlink()
    with pytest.raises(error, match=message) as info, open_document(Storage(), f"file://{document}"):
        pass
    assert str(document) in str(info.value)


def test_missing_node_names_the_anchor(document):
    url = f"file://{document}"
    with open_document(Storage(), url) as handle, pytest.raises(MissingDataError, match=r"drepo.hdf#alfa/3.1"):
        node(handle, "/alfa/3.1", url)


WRITER = textwrap.dedent(
    """
    import sys, time, h5py, numpy as np
    swmr = sys.argv[2] == "swmr"
    f = h5py.File(sys.argv[1], "w", libver="latest" if swmr else "earliest")
    d = f.create_dataset("1.1/data", shape=(0, 4), maxshape=(None, 4), dtype="i4", chunks=(1, 4))
    if swmr:
        f.swmr_mode = True
    d.resize((3, 4)); d[:] = 7; f.flush()
    print("ready", flush=True)
    sys.stdin.readline()
    """
)


@pytest.mark.parametrize("mode", ["swmr", "plain"])
def test_a_file_still_being_written_can_be_read(tmp_path, mode):
    path = tmp_path / "busy.h5"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), mode], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout.readline().strip() == "ready"
        url = f"file://{path}"
        assert members(Storage(), url) == ["1.1"]
        with open_document(Storage(), url) as handle:
            assert read(node(handle, "1.1/data", url), url).tolist() == [[7] * 4] * 3
    finally:
        writer.communicate("done\n", timeout=30)
    assert writer.returncode == 0


def test_lazy_array_is_chunked_like_the_file_and_reads_on_demand(document):
    url = f"file://{document}"
    with open_document(Storage(), url) as handle:
        dataset = handle["alfa/2.1/data"]
        lazy = lazy_array(Storage(), url, "/alfa/2.1/data", dataset, target_bytes=3 * 400)
    assert lazy.chunks == ((2, 2, 2), (10,), (10,))  # whole file chunks (2 frames) near the target
    assert lazy.dtype == np.int32
    with record_io() as io:
        part = lazy[3].compute()
    assert io.datasets == [f"{url}#alfa/2.1/data"]
    assert np.array_equal(part, np.arange(600, dtype=np.int32).reshape(6, 10, 10)[3])
    assert np.array_equal(lazy.sum(axis=0).compute(), np.arange(600).reshape(6, 10, 10).sum(axis=0))


def test_lazy_dataset_pickles_and_notices_a_changed_file(document):
    url = f"file://{document}"
    array = pickle.loads(pickle.dumps(LazyDataset(url, "/alfa/1.1/data", (6, 10, 10), "int32")))
    assert array[0].shape == (10, 10)
    with h5py.File(document, "a") as f:
        del f["alfa/1.1/data"]
        f["alfa/1.1/data"] = np.zeros((6, 5, 5))
    with pytest.raises(CorruptDataError, match=r"changed shape"):
        array[0]


@pytest.mark.parametrize("opener", ["h5py", "h5py-locking", "h5netcdf"])
def test_a_file_this_process_already_holds_open_is_read_beside_that_handle(document, opener):
    """A notebook comparing nx5d with h5py or xarray has the file open already: HDF5 shares it."""
    if opener == "h5netcdf":
        import h5netcdf

        theirs = h5netcdf.File(document, "r")
    else:
        theirs = h5py.File(document, "r", **({"locking": True} if opener == "h5py-locking" else {}))
    try:
        assert members(Storage(), f"file://{document}", ["alfa"]) == ["1.1", "10.1", "2.1"]
        with open_document(Storage(), f"file://{document}") as ours:
            np.testing.assert_array_equal(read(ours["alfa/1.1/data"], "x")[0, 0], np.arange(10))
        assert "alfa" in theirs  # closing ours leaves theirs open
    finally:
        theirs.close()
