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
