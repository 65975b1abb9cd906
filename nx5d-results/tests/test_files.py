"""Result files replaced while they are read or written again: a Zarr folder is many files, not one."""

import threading

import numpy as np
import pytest
import xarray as xr

from nx5d.io.temporaries import is_temporary
from nx5d_results.files import read_result, write_dataset


def _result(value: float) -> xr.Dataset:
    """A map in 32 chunk files, each holding ``value`` (a mix of two results shows two values)."""
    return xr.Dataset({"qdata": (("qx", "qz"), np.full((32, 4000), value))}).chunk({"qx": 1})


def test_a_zarr_result_replaced_while_read_and_by_two_writers_is_never_read_mixed(tmp_path):
    """``nx5d cook --format zarr`` run again, or ``watch --out`` replacing its map so far, while a reader reads.

    The old folder was removed in place before the new one was renamed in: a reader found metadata whose
    chunks were gone and read Zarr's fill values (wrong numbers, no error), and a second writer's rename
    failed on the first's folder ("Directory not empty").
    """
    pytest.importorskip("zarr")
    path = tmp_path / "p" / "1.1.zarr"
    write_dataset(_result(0.0), path, "zarr")
    mixed, failed, read = [], [], []
    writing = threading.Event()

    def write(value: float) -> None:
        try:
            for _ in range(12):
                write_dataset(_result(value), path, "zarr")
        except Exception as exc:  # noqa: BLE001 - what the test reports
            failed.append(exc)

    def keep_reading() -> None:
        while writing.is_set():
            try:
                values = np.unique(read_result(path, "zarr")["qdata"].values)
            except FileNotFoundError:
                continue  # between the old folder's rename aside and the new one's: none there
            read.append(values)
            if len(values) != 1:
                mixed.append(values)

    writers = [threading.Thread(target=write, args=(value,)) for value in (1.0, 2.0)]
    reader = threading.Thread(target=keep_reading)
    writing.set()
    reader.start()
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    writing.clear()
    reader.join()
    assert failed == []
    assert mixed == []
    assert len(read) >= 5
    assert np.unique(read_result(path, "zarr")["qdata"].values).tolist() in ([1.0], [2.0])
    assert not [p.name for p in path.parent.iterdir() if is_temporary(p.name)]  # the old folders are gone


def test_a_map_so_far_is_taken_away_whole(tmp_path, monkeypatch):
    """``watch --out`` removes ``SCAN.partial.zarr`` once the scan's map is written: never a folder half gone.

    Removed in place, a viewer reading meanwhile found its metadata without its chunks (fill values).
    """
    pytest.importorskip("zarr")
    from nx5d_results import files
    from nx5d_results.batch import PARTIAL, remove_partial

    path = tmp_path / "p" / f"1.1{PARTIAL}.zarr"
    write_dataset(_result(1.0), path, "zarr")
    removing = files.remove
    seen = []

    def remove(aside):
        seen.append(path.exists())  # what a reader finds while the folder's files are removed
        removing(aside)

    monkeypatch.setattr(files, "remove", remove)
    assert remove_partial(tmp_path, "p", "1.1", "zarr") == path
    assert seen == [False]
    assert not path.exists()
    assert not list(path.parent.iterdir())
    assert remove_partial(tmp_path, "p", "1.1", "zarr") is None


def test_a_zarr_result_that_cannot_be_renamed_in_leaves_the_old_one(tmp_path, monkeypatch):
    pytest.importorskip("zarr")
    import os

    from nx5d.errors import StorageError

    path = tmp_path / "p" / "1.1.zarr"
    write_dataset(_result(1.0), path, "zarr")
    replace = os.replace

    def refusing(source, target):
        if os.fspath(target) == os.fspath(path):  # the new folder, renamed in
            raise PermissionError(13, "Permission denied", os.fspath(target))
        return replace(source, target)

    monkeypatch.setattr(os, "replace", refusing)
    with pytest.raises(StorageError, match="Permission denied"):
        write_dataset(_result(2.0), path, "zarr")
    monkeypatch.setattr(os, "replace", replace)
    assert np.unique(read_result(path, "zarr")["qdata"].values).tolist() == [1.0]
    assert [p.name for p in path.parent.iterdir()] == ["1.1.zarr"]


@pytest.mark.parametrize(("fmt", "between"), [("netcdf", "files.portable"), ("zarr", "files.portable"),
                                              ("nexus", "nexus.signal_of")])  # fmt: skip
def test_a_result_written_by_another_writer_meanwhile_is_not_overwritten(tmp_path, monkeypatch, fmt, between):
    """``overwrite=False``: a result that appears after the first look (another export at once) stays."""
    pytest.importorskip("zarr" if fmt == "zarr" else "h5netcdf")
    from nx5d.errors import OutputExistsError
    from nx5d_results import files, nexus
    from nx5d_results.files import output_path

    path = output_path(tmp_path, "p", "1.1", fmt)
    module, name = between.split(".")
    original = getattr({"files": files, "nexus": nexus}[module], name)

    def other_writer_first(*args, **kwargs):
        if not path.exists():
            monkeypatch.undo()  # the other writer's own write, unhindered
            write_dataset(_result(1.0).compute(), path, fmt)
        return original(*args, **kwargs)

    monkeypatch.setattr({"files": files, "nexus": nexus}[module], name, other_writer_first)
    with pytest.raises(OutputExistsError, match="written by another writer meanwhile"):
        write_dataset(_result(2.0).compute(), path, fmt, overwrite=False)
    assert np.unique(read_result(path, fmt)["qdata"].values).tolist() == [1.0]
    assert [p.name for p in path.parent.iterdir()] == [path.name]
