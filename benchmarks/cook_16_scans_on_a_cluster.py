"""Benchmark: cooking 16 generated UDKM scans into NetCDF files, sequentially vs on a dask LocalCluster.

The sequential run cooks the scans one after another in this process (what a
loop in a notebook does); the cluster run uses ``proposal.cook(client=...)``
on a ``dask.distributed.LocalCluster`` with one single-threaded worker process
per CPU.  Both write the same files (into separate folders).  The speed-up is
printed; expect close to the number of CPUs.  Run with ``nox -s bench``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("NX5D_PROGRESS", "0")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=600, help="frames per scan")
    args = parser.parse_args()

    from distributed import Client, LocalCluster

    import nx5d
    from nx5d.batch import _tasks, cook_scan
    from nx5d_udkm.synth import REFERENCE_DELAYS, REFERENCE_THETAS, ScanSpec, write_repository

    cpus = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        scans = [f"{10 + i:02d}0000" for i in range(16)]
        spec = ScanSpec(delays=REFERENCE_DELAYS[:30], thetas=REFERENCE_THETAS, delay_loops=1, frames=args.frames)
        start = time.perf_counter()
        url = write_repository(root / "data", {"20210205": scans}, spec)
        print(f"generated 16 scans x {args.frames} Pilatus frames in {time.perf_counter() - start:.1f} s; {cpus} CPUs")
        proposal = nx5d.open(url).p20210205

        start = time.perf_counter()
        for task in _tasks(proposal, scans, str(root / "sequential"), "netcdf"):
            outcome = cook_scan(task)
            assert outcome.status == "written", outcome
        sequential = time.perf_counter() - start

        cluster = LocalCluster(n_workers=cpus, threads_per_worker=1, processes=True, dashboard_address=None)
        with cluster, Client(cluster) as client:
            client.run(lambda: __import__("nx5d_udkm.cook"))  # workers import the plugin before timing
            start = time.perf_counter()
            outcomes = proposal.cook(out=root / "cluster", client=client)
            parallel = time.perf_counter() - start
        assert all(o.status == "written" for o in outcomes), outcomes

        print(f"  sequential, one process          {sequential:7.2f} s")
        print(f"  LocalCluster, {cpus} worker processes {parallel:7.2f} s")
        print(f"  speed-up                         {sequential / parallel:7.2f} x (ideal {cpus})")


if __name__ == "__main__":
    main()
