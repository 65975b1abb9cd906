"""Cooking a 16-scan UDKM proposal into files: provenance, up-to-date skipping, failures, dask clusters."""

import contextlib
import json
import os
import subprocess
import sys

import pytest
import xarray as xr

import nx5d
from nx5d_results.batch import CLUSTER_CONFIG, cook_proposal
from nx5d_udkm.synth import ScanSpec, write_repository

pytest.importorskip("distributed")
pytest.importorskip("h5netcdf")

SCANS = [f"{10 + i:02d}0000" for i in range(16)]
SMALL = ScanSpec(delays=(-10.0, 50.0), thetas=(18.5, 18.6, 18.7), delay_loops=1, frames=None)
SPICE = {"img_center": [97.0, 241.0], "grid_size": [20, 30]}


@pytest.fixture(scope="module")
def repository(tmp_path_factory):
    root = tmp_path_factory.mktemp("udkm")
    url = write_repository(root, {"20210205": SCANS}, SMALL)
    table = root / "20210205" / SCANS[3] / "manifest.dat"
    table.write_text(table.read_text().splitlines()[0] + "\n1.0\tbroken\n")  # a corrupted scan
    repo = nx5d.open(url)
    repo.p20210205.spice.seed("settings", **SPICE)
    return url, root


def test_local_pool_writes_every_good_scan_with_provenance_and_reports_the_bad_one(repository, tmp_path):
    url, _ = repository
    proposal = nx5d.open(url).p20210205
    outcomes = cook_proposal(proposal, out=tmp_path, workers=2)
    status = {o.scan: o.status for o in outcomes}
    assert status.pop(SCANS[3]) == "failed"
    assert set(status.values()) == {"written"}
    failed = next(o for o in outcomes if o.scan == SCANS[3])
    assert "manifest.dat" in failed.error
    files = sorted((tmp_path / "20210205").glob("*.nc"))
    assert len(files) == 15
    with xr.open_dataset(files[0], engine="h5netcdf") as cooked:
        assert cooked.qdata.dims == ("delay", "qy", "qz")
        assert cooked.sizes == {"delay": 2, "qy": 20, "qz": 30}
        assert cooked.attrs["nx5d_beamline"] == "udkm"
        assert cooked.attrs["nx5d_plugin"].startswith("nx5d-udkm ")
        assert cooked.attrs["nx5d_scan_url"].endswith(f"20210205/{SCANS[0]}")
        spice = json.loads(cooked.attrs["nx5d_spice"])["settings"]
        assert spice["revision"] == 1
        assert spice["uuid"] == proposal.spice.history("settings")[0]["uuid"]
    again = cook_proposal(proposal, out=tmp_path, workers=2)
    assert {o.status for o in again if o.scan != SCANS[3]} == {"up to date"}  # a second run does no work


def test_changed_spice_recooks_only_the_scans_it_applies_to(repository, tmp_path):
    url, _ = repository
    proposal = nx5d.open(url).p20210205
    good = [s for s in SCANS if s != SCANS[3]]
    cook_proposal(proposal, good, out=tmp_path, workers=2)
    proposal.spice.anchor(SCANS[12], "settings")
    proposal.spice.update(SCANS[12], "settings", grid_size=[25, 30])
    outcomes = {o.scan: o.status for o in cook_proposal(proposal, "2*", out=tmp_path, workers=2)}
    assert list(outcomes) == SCANS[10:16]  # the glob picks 200000 ... 250000
    assert [s for s, st in outcomes.items() if st == "written"] == SCANS[12:16]
    with xr.open_dataset(tmp_path / "20210205" / f"{SCANS[13]}.nc", engine="h5netcdf") as cooked:
        assert cooked.sizes["qy"] == 25
    proposal.spice.withdraw(SCANS[12], "settings")  # leave the module's repository as it was


def test_cook_on_a_local_dask_cluster_and_from_the_command_line(repository, tmp_path):
    import dask
    from distributed import Client, LocalCluster

    url, _ = repository
    ours = os.environ.get("MALLOC_TRIM_THRESHOLD_")
    with dask.config.set(CLUSTER_CONFIG):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with cluster:
        with Client(cluster) as client:
            # CLUSTER_CONFIG keeps dask's allocator setting (MALLOC_TRIM_THRESHOLD_=65536) out of the workers
            # (a lambda travels by value: workers cannot import this test module)
            worker_values = client.run(lambda: __import__("os").environ.get("MALLOC_TRIM_THRESHOLD_"))
            assert set(worker_values.values()) == {ours}
            outcomes = cook_proposal(nx5d.open(url).p20210205, out=tmp_path, client=client)
        assert sum(o.status == "written" for o in outcomes) == 15
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "nx5d",
                "cook",
                url,
                "--out",
                str(tmp_path),
                "--scheduler",
                cluster.scheduler_address,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    assert run.returncode == 1  # the corrupted scan
    assert run.stdout.count("up to date") == 15
    assert "failed" in run.stdout


def test_zarr_output(repository, tmp_path):
    pytest.importorskip("zarr")
    url, _ = repository
    proposal = nx5d.open(url).p20210205
    outcomes = cook_proposal(proposal, SCANS[:2], out=tmp_path, format="zarr", workers=1)
    assert [o.status for o in outcomes] == ["written", "written"]
    with xr.open_zarr(tmp_path / "20210205" / f"{SCANS[0]}.zarr") as cooked:
        assert cooked.attrs["nx5d_beamline"] == "udkm"
        assert cooked.qdata.dims == ("delay", "qy", "qz")
    assert {o.status for o in cook_proposal(proposal, SCANS[:2], out=tmp_path, format="zarr", workers=1)} == {
        "up to date"
    }


# --- up to date means the data too ----------------------------------------------------------------------------------


def _replace_frame(folder):
    import numpy as np
    import tifffile

    tifffile.imwrite(folder / "image00001.tiff", np.full((195, 487), 5, np.int32), compression="zlib")


def _rewrite_table_keeping_times(folder):
    table = folder / "manifest.dat"
    st = table.stat()
    with open(table, "r+b") as fh:
        fh.write(table.read_bytes().replace(b"18.600000", b"18.610000"))
    os.utime(table, ns=(st.st_atime_ns, st.st_mtime_ns))


def _append_points(folder):
    import shutil

    table = folder / "manifest.dat"
    lines = table.read_text().splitlines(keepends=True)
    last = lines[-1].split("\t")
    last[8] = "6.000000"  # ImageNumber
    table.write_text("".join(lines) + "\t".join(last))
    shutil.copy(folder / "image00005.tiff", folder / "image00006.tiff")


@pytest.mark.parametrize("change", [_replace_frame, _rewrite_table_keeping_times, _append_points])
def test_a_file_whose_data_changed_is_not_up_to_date(tmp_path, change):
    url = write_repository(tmp_path / "data", {"20210205": ["091726", "101500"]}, SMALL)
    proposal = nx5d.open(url, spice_url="").p20210205
    out = tmp_path / "out"
    assert {o.status for o in cook_proposal(proposal, out=out, workers=1)} == {"written"}
    change(tmp_path / "data" / "20210205" / "101500")
    outcomes = {o.scan: o.status for o in cook_proposal(proposal, out=out, workers=1)}
    assert outcomes == {"091726": "up to date", "101500": "written"}
    with xr.open_dataset(out / "20210205" / "101500.nc", engine="h5netcdf") as written:
        expected = nx5d.open(url, spice_url="").p20210205["101500"].cooked
        xr.testing.assert_equal(written.qdata, expected.qdata)


# --- a worker that dies -------------------------------------------------------------------------------------------

KILLER = """
import os, signal
import nx5d_results.batch as batch

_cook_scan = batch.cook_scan


def cook_scan(task):
    if task.scan == {victim!r}:
        os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer does to a process cooking a huge scan
    return _cook_scan(task)


batch.cook_scan = cook_scan
"""


@pytest.fixture
def killing(tmp_path, monkeypatch):
    """Worker processes (started from here on) that are killed when they start cooking the scan named."""

    def arm(victim):
        folder = tmp_path / "site"
        folder.mkdir()
        (folder / "sitecustomize.py").write_text(KILLER.format(victim=victim))
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")]))

    return arm


def test_a_killed_pool_worker_fails_its_scan_only_and_leaves_no_partial_file(tmp_path, killing):
    keys = ["100000", "110000", "120000", "130000", "140000", "150000"]
    url = write_repository(tmp_path / "data", {"20210205": keys}, SMALL)
    killing("120000")
    out = tmp_path / "out"
    outcomes = {o.scan: o for o in cook_proposal(nx5d.open(url, spice_url="").p20210205, out=out, workers=2)}
    assert outcomes.pop("120000").error.startswith("WorkerDied: the process cooking this scan was killed by SIGKILL")
    assert {o.status for o in outcomes.values()} == {"written"}
    assert sorted(p.name for p in (out / "20210205").iterdir()) == [f"{k}.nc" for k in keys if k != "120000"]


def test_a_killed_partial_writer_leaves_nothing_behind(tmp_path):
    url = write_repository(tmp_path / "data", {"20210205": ["100000"]}, SMALL)
    folder = tmp_path / "out" / "20210205"
    folder.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (folder / f".100000.nc.{int(dead.stdout)}.0123abcd.tmp").write_bytes(b"half a file")
    cook_proposal(nx5d.open(url, spice_url="").p20210205, out=tmp_path / "out", workers=1)
    assert sorted(p.name for p in folder.iterdir()) == ["100000.nc"]


def test_a_killed_dask_worker_fails_its_scan_only(tmp_path, killing):
    import dask
    from distributed import Client, LocalCluster

    keys = ["100000", "110000", "120000", "130000"]
    url = write_repository(tmp_path / "data", {"20210205": keys}, SMALL)
    killing("110000")
    with dask.config.set({**CLUSTER_CONFIG, "distributed.scheduler.allowed-failures": 1}):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        with cluster, Client(cluster) as client:
            outcomes = {
                o.scan: o for o in cook_proposal(nx5d.open(url, spice_url="").p20210205, out=tmp_path, client=client)
            }
    assert outcomes.pop("110000").error.startswith("KilledWorker")
    assert {o.status for o in outcomes.values()} == {"written"}


def test_the_workers_frames_show_on_one_bar_while_scans_cook(repository, tmp_path, monkeypatch, capsys):
    """A long scan is not minutes of nothing: the frames the workers grid count up on a bar here."""
    import functools

    from tqdm.std import tqdm

    from nx5d import progress

    url, _ = repository
    # the workers' own cooked cache, empty: the other tests cooked these scans, and a remembered map grids nothing
    monkeypatch.setenv("NX5D_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(progress, "DELAY", 0.0)  # show the bars at once
    monkeypatch.setattr(
        progress, "_bar_class", lambda: functools.partial(tqdm, mininterval=0, miniters=1)
    )  # every step
    progress.set_enabled(True)
    try:
        cook_proposal(nx5d.open(url).p20210205, scans=SCANS[:2], out=tmp_path / "out", workers=2)
    finally:
        progress.set_enabled(None)
    shown = capsys.readouterr().err.replace("\r", "\n")
    frames = 2 * len(SMALL.delays) * len(SMALL.thetas)  # both scans, every frame gridded once
    assert f"frames gridded: {frames} frames" in shown, shown


def test_forwarded_steps_of_a_cook_are_its_frames(repository):
    from nx5d import progress

    url, _ = repository
    steps = []
    progress.forwarded(lambda desc, unit, n: steps.append((desc, unit, n)))
    try:
        nx5d.open(url).p20210205[SCANS[0]].cook({"settings": SPICE})
    finally:
        progress.forwarded(None)
    assert {(desc, unit) for desc, unit, _ in steps} == {("gridding", "frame")}
    assert sum(n for *_, n in steps) == len(SMALL.delays) * len(SMALL.thetas)


@pytest.fixture
def small_disk(tmp_path):
    """A 256 kB file system (tmpfs), as a full disk looks to a writer; needs root (CI runs as root)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_an_output_folder_that_cannot_be_written_fails_before_any_scan_is_cooked(repository, tmp_path, capsys):
    from nx5d.app.cli import main
    from nx5d.errors import StorageError
    from nx5d.io.storage import record_io

    url, _ = repository
    (tmp_path / "a file").write_text("not a folder")
    out = tmp_path / "a file" / "cooked"
    with record_io() as io_, pytest.raises(StorageError, match=r"cannot write into .*a file/cooked/20210205: "):
        cook_proposal(nx5d.open(url).p20210205, out=out)
    assert io_.files_opened == 0  # not a frame read
    assert main(["cook", url, "--proposal", "20210205", "--out", str(out)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1].startswith("nx5d: error: cannot write into ")


def test_a_full_disk_fails_each_scan_by_name_and_leaves_no_partial_file(repository, small_disk):
    url, _ = repository
    proposal = nx5d.open(url).p20210205
    (small_disk / "20210205").mkdir()
    stat = os.statvfs(small_disk)
    (small_disk / "ballast").write_bytes(bytes(stat.f_bavail * stat.f_frsize - 16384))  # 16 kB stay free
    outcomes = cook_proposal(proposal, scans=SCANS[:2], out=small_disk, workers=1, format="hdf5")
    written = [o for o in outcomes if o.status == "written"]
    failed = [o for o in outcomes if o.status == "failed"]
    assert failed, "16 kB must not hold two cooked scans"
    for outcome in failed:
        assert (
            outcome.error
            == f"StorageError: cannot write {small_disk}/20210205/{outcome.scan}.h5: No space left on device"
        )
    left = sorted(p.name for p in (small_disk / "20210205").iterdir())  # the process did not crash inside HDF5
    assert left == sorted(f"{o.scan}.h5" for o in written)  # whole files only, no temporaries
    with contextlib.suppress(OSError), open(small_disk / "filler", "wb") as filler:  # fill it up
        while True:
            filler.write(bytes(4096))
            filler.flush()
    from nx5d.errors import StorageError

    with pytest.raises(StorageError, match=r"cannot write into .*disk/20210205: No space left on device"):
        cook_proposal(proposal, scans=SCANS[2:3], out=small_disk)


def test_a_script_without_a_main_guard_is_told_to_add_one(repository, tmp_path):
    """A worker starts by running the user's script again; its cooking at the top level is refused, named."""
    url, _ = repository
    script = tmp_path / "cook_all.py"
    script.write_text(
        "import sys, nx5d\n"
        "from nx5d_results.batch import cook_proposal\n"
        "for outcome in cook_proposal(nx5d.open(sys.argv[1]).p20210205, sys.argv[3:], out=sys.argv[2], workers=1):\n"
        "    print(outcome.status, outcome.error)\n"
    )
    done = subprocess.run(
        [sys.executable, str(script), url, str(tmp_path / "out"), SCANS[0]],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NX5D_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert done.stdout.startswith("failed WorkerDied:"), done.stdout + done.stderr
    assert "its error is printed above" in done.stdout
    assert 'put the cooking under `if __name__ == "__main__":`' in done.stderr
    assert "RuntimeError" not in done.stderr  # multiprocessing's own, longer message never comes
