"""Cooking a 16-scan UDKM proposal into files: provenance, up-to-date skipping, failures, dask clusters."""

import json
import os
import subprocess
import sys

import pytest
import xarray as xr

import nx5d
from nx5d.app.batch import CLUSTER_CONFIG, cook_proposal
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
