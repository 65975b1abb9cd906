"""Benchmark: cooking 16 generated UDKM scans into NetCDF files, sequentially vs on a dask LocalCluster.

The sequential run cooks the scans one after another in this process (what a
loop in a notebook does); the cluster runs use ``proposal.cook(client=...)``
on a ``dask.distributed.LocalCluster`` with one single-threaded worker process
per CPU, once with dask's default worker environment and once with
:data:`nx5d_results.batch.CLUSTER_CONFIG` (glibc's adaptive allocator left on).  All
write the same files (into separate folders).  The speed-ups are printed.
The sequential run already decodes frames on every CPU, so the ideal
speed-up is below the number of CPUs.  Run with ``nox -s bench``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("NX5D_PROGRESS", "0")


def cook_on_cluster(proposal: Any, out: Path, workers: int, config: dict[str, Any]) -> float:
    """Seconds to cook every scan of ``proposal`` on a fresh LocalCluster started under dask ``config``."""
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set(config):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    with cluster, Client(cluster) as client:
        client.run(lambda: __import__("nx5d_udkm.cook"))  # workers import the plugin before timing
        start = time.perf_counter()
        outcomes = proposal.cook(out=out, client=client)
        seconds = time.perf_counter() - start
    assert all(o.status == "written" for o in outcomes), outcomes
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=600, help="frames per scan")
    parser.add_argument("--quick", action="store_true", help="60 frames per scan (CI)")
    args = parser.parse_args()
    if args.quick:
        args.frames = 60

    import nx5d
    from nx5d_results.batch import CLUSTER_CONFIG, _tasks, cook_scan
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
        # CLUSTER_CONFIG first: dask's nanny leaves its worker variables in this process's environment.
        tuned = cook_on_cluster(proposal, root / "cluster", cpus, CLUSTER_CONFIG)
        default = cook_on_cluster(proposal, root / "cluster-default", cpus, {})

        print(f"  sequential, one process                      {sequential:7.2f} s")
        print(f"  LocalCluster, {cpus} workers, dask's worker env   {default:7.2f} s")
        print(f"  LocalCluster, {cpus} workers, CLUSTER_CONFIG      {tuned:7.2f} s")
        print(f"  speed-up with dask's worker env              {sequential / default:7.2f} x")
        print(f"  speed-up with CLUSTER_CONFIG                 {sequential / tuned:7.2f} x (CPUs: {cpus})")


if __name__ == "__main__":
    main()
