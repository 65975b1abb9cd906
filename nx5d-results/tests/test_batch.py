"""Scan selection and output naming of batch cooking (the cooking itself is tested across distributions)."""

import json

import pytest
import xarray as xr

import nx5d
import nx5d_memory
from nx5d.errors import NotSupportedError, OptionError
from nx5d_memory.examples import rocking_scan as make_scan
from nx5d_memory.examples import scale_cook
from nx5d_results.batch import cook_proposal, output_path


def test_output_path(tmp_path):
    assert output_path(tmp_path, "p", "1.1", "netcdf") == tmp_path / "p" / "1.1.nc"
    assert output_path(tmp_path, "p", "1.1", "zarr") == tmp_path / "p" / "1.1.zarr"
    assert output_path(tmp_path, "p", "1.1", "nexus") == tmp_path / "p" / "1.1.nxs"
    assert output_path(tmp_path, "p", "1.1", "nexus", raw=True) == tmp_path / "p" / "raw" / "1.1.nxs"
    with pytest.raises(OptionError, match="'hdf4' is not one of nexus, netcdf, hdf5, zarr"):
        output_path(tmp_path, "p", "1.1", "hdf4")


def test_scans_whose_data_lives_in_this_process_are_cooked_here_with_their_spice(tmp_path):
    pytest.importorskip("h5netcdf")
    url = nx5d_memory.register(
        "batch-memory",
        {"p": {"1": make_scan(3), "2": make_scan(2, 1.0)}},
        cook=scale_cook,
        spice={"scale": {"factor": 2.0}},
        replace=True,
    )
    try:
        repo = nx5d.open(url, spice_url="")
        repo["p"].spice.seed("scale", factor=5.0)
        with pytest.raises(NotSupportedError, match="'memory' beamline's data lives in this Python process"):
            cook_proposal(repo["p"], out=tmp_path, client="tcp://127.0.0.1:9")  # refused before connecting
        outcomes = cook_proposal(repo["p"], out=tmp_path, workers=2)  # a worker process could not see the data
        assert [o.status for o in outcomes] == ["written", "written"]
        with xr.open_dataset(outcomes[0].path, engine="h5netcdf") as cooked:
            assert cooked["cooked"].values.tolist() == [0.0, 5.0, 10.0]  # the seeded factor, not the default 2
            assert json.loads(cooked.attrs["nx5d_spice"])["scale"]["revision"] == 1
    finally:
        nx5d_memory.unregister("batch-memory")


@pytest.mark.parametrize("fmt", ["netcdf", "hdf5", "zarr", "nexus"])
def test_the_map_so_far_is_replaced_whole_then_removed(tmp_path, fmt):
    from nx5d_results.batch import PARTIAL, remove_partial, write_cooked
    from nx5d_results.files import read_result

    pytest.importorskip("zarr" if fmt == "zarr" else "h5netcdf")
    first = xr.Dataset({"qdata": ("qz", [1.0, 2.0])}, attrs={"nx5d_partial": "2 points of a scan being measured"})
    later = xr.Dataset({"qdata": ("qz", [1.0, 2.0, 3.0])}, attrs={"nx5d_partial": "3 points of a scan being measured"})
    path = write_cooked(first, tmp_path, "p", "1.1" + PARTIAL, fmt)
    assert path == output_path(tmp_path, "p", "1.1.partial", fmt)
    assert write_cooked(later, tmp_path, "p", "1.1" + PARTIAL, fmt) == path  # replaced, not refused
    assert read_result(path, fmt).qdata.values.tolist() == [1.0, 2.0, 3.0]
    assert [p.name for p in (tmp_path / "p").iterdir()] == [path.name]  # no temporary left beside it
    assert remove_partial(tmp_path, "p", "1.1", fmt) == path
    assert not path.exists()
    assert remove_partial(tmp_path, "p", "1.1", fmt) is None


def test_a_dead_workers_exit_code_is_read_when_the_pools_thread_reaped_it_first():
    """The pool's thread and the batch both reap a killed worker: the loser still learns it was SIGKILL.

    The race, laid out step by step: the worker is killed, the pool's thread reaps it (``waitpid``) and stores
    its code a moment later; meanwhile ``join`` here finds nothing left to reap and returns with no code.
    """
    import os
    import signal
    import threading
    import time
    from multiprocessing import get_context

    from nx5d_results.batch import _died, _exit_code

    process = get_context("spawn").Process(target=time.sleep, args=(60,))
    process.start()
    os.kill(process.pid, signal.SIGKILL)
    _, status = os.waitpid(process.pid, 0)  # the pool's thread reaps it ...
    process.join(timeout=1)
    assert process.exitcode is None  # ... so a join here cannot tell how it ended
    stored = threading.Timer(0.05, setattr, (process._popen, "returncode", os.waitstatus_to_exitcode(status)))
    stored.start()  # ... until the pool's thread stores the code it read
    try:
        assert _died(_exit_code(process)).startswith("WorkerDied: the process cooking this scan was killed by SIGKILL")
    finally:
        stored.join()
