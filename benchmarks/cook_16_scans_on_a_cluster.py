"""Benchmark: batch cooking generated UDKM scans on a dask cluster of N single-threaded workers.

In the same run, on the same scans (each way writes its own folder):

* **one process**: a notebook's loop, ``scan.cooked`` of every scan one after
  another in this process, written with ``nx5d.batch.write_cooked`` -- the
  straightforward approach (its frames are decoded on every CPU);
* **1 worker**: ``nx5d.batch.cook_proposal(client=...)`` on a
  ``dask.distributed.LocalCluster`` of one single-threaded worker process --
  the throughput of one such worker, the floor the scale-out is measured against;
* **N workers**: the same on a cluster of N single-threaded workers
  (``--workers``, default: the number of CPUs), started with
  :data:`nx5d_results.batch.CLUSTER_CONFIG`; in full runs also once with
  dask's default worker environment (which switches glibc's adaptive
  allocator off).

The workers decode frames with one thread (the loading option
``workers=1``), so a worker uses one CPU; N workers ideally give N times the
throughput of one.  Every written file is compared with the one-process
run's: the cooked maps must be identical.  The cooked-result cache and the
raw-data cache are off (``NX5D_COOKED_CACHE=0``, ``NX5D_RAW_CACHE=0``, and a
fresh ``NX5D_CACHE_DIR``), for this process and the workers it starts:
every run reads and cooks every frame.

Ratios are printed, nothing is asserted on time.  Run with ``nox -s bench``;
``--quick`` (4 small scans, 2 workers) is what CI runs.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

# before nx5d is imported; the cluster's worker processes inherit them
os.environ.update({"NX5D_PROGRESS": "0", "NX5D_COOKED_CACHE": "0", "NX5D_RAW_CACHE": "0", "NX5D_INDEX": "off"})


def cook_on_cluster(proposal: Any, out: Path, workers: int, config: dict[str, Any]) -> float:
    """Seconds to cook every scan of ``proposal`` on a fresh LocalCluster of ``workers`` single-threaded workers."""
    import dask
    from distributed import Client, LocalCluster

    import nx5d

    with dask.config.set(config):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0")
    with cluster, Client(cluster) as client:
        client.run(lambda: __import__("nx5d_udkm.cook"))  # workers import the plugin before timing
        start = time.perf_counter()
        outcomes = nx5d.batch.cook_proposal(proposal, out=out, client=client)
        seconds = time.perf_counter() - start
    failed = [o for o in outcomes if o.status != "written"]
    if failed:
        raise RuntimeError(f"scans not cooked on the cluster: {failed}")
    return seconds


def cook_in_this_process(proposal: Any, out: Path) -> float:
    """Seconds for a notebook's loop: every scan's ``cooked``, written one after another."""
    import nx5d

    start = time.perf_counter()
    for key in proposal.keys():
        nx5d.batch.write_cooked(proposal.scan(key).cooked, out, proposal.key, key)
    return time.perf_counter() - start


def differences(first: Path, second: Path) -> list[str]:
    """What differs between every file under ``first`` and its namesake under ``second`` (data, not attributes)."""
    import numpy as np
    import xarray as xr

    found = []
    files = sorted(first.rglob("*.nc"))
    for path in files:
        other = second / path.relative_to(first)
        with xr.open_dataset(path, engine="h5netcdf") as a, xr.open_dataset(other, engine="h5netcdf") as b:
            for name in sorted(set(a.variables) | set(b.variables), key=str):
                if name not in a.variables or name not in b.variables:
                    found.append(f"{other}: {name} only in one")
                elif not np.array_equal(a[name].values, b[name].values, equal_nan=a[name].dtype.kind == "f"):
                    found.append(f"{other}: {name}")
    return found if files else [f"no files under {first}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=16, help="scans to cook")
    parser.add_argument("--frames", type=int, default=600, help="frames per scan")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="N: workers of the scaled-out cluster")
    parser.add_argument("--quick", action="store_true", help="4 scans of 60 frames, 2 workers (seconds; for CI)")
    args = parser.parse_args()
    if args.quick:
        args.scans, args.frames, args.workers = 4, 60, 2

    import nx5d
    from nx5d_results.batch import CLUSTER_CONFIG
    from nx5d_udkm.synth import REFERENCE_DELAYS, REFERENCE_THETAS, ScanSpec, write_repository

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["NX5D_CACHE_DIR"] = str(root / "cache")  # nothing remembered from other runs
        scans = [f"{10 + i:02d}0000" for i in range(args.scans)]
        spec = ScanSpec(delays=REFERENCE_DELAYS[:30], thetas=REFERENCE_THETAS, delay_loops=1, frames=args.frames)
        start = time.perf_counter()
        url = write_repository(root / "data", {"20210205": scans}, spec)
        print(f"generated {args.scans} scans x {args.frames} Pilatus frames in {time.perf_counter() - start:.1f} s")
        here = cook_in_this_process(nx5d.open(url).p20210205, root / "one-process")
        single = nx5d.open(url, options={"workers": 1}).p20210205  # one decoding thread per worker
        one = cook_on_cluster(single, root / "one-worker", 1, CLUSTER_CONFIG)
        # CLUSTER_CONFIG first: dask's nanny leaves its worker variables in this process's environment.
        many = cook_on_cluster(single, root / "n-workers", args.workers, CLUSTER_CONFIG)
        default = None if args.quick else cook_on_cluster(single, root / "dask-env", args.workers, {})
        unlike = [d for run in ("one-worker", "n-workers") for d in differences(root / "one-process", root / run)]

        frames = args.scans * args.frames
        n = args.workers
        print(f"\ncooking {args.scans} scans, {frames} frames; {os.cpu_count()} CPUs; caches off")
        print(f"  one process (a notebook's loop, all CPUs)  {here:7.2f} s  {frames / here:7.0f} frames/s")
        print(f"  cluster, 1 single-threaded worker          {one:7.2f} s  {frames / one:7.0f} frames/s")
        print(f"  cluster, {n} single-threaded workers         {many:7.2f} s  {frames / many:7.0f} frames/s")
        if default is not None:
            print(f"  cluster, {n} workers, dask's worker env      {default:7.2f} s")
        print(f"  throughput N workers / 1 worker            {one / many:7.2f} x (N = {n}; goal >= {0.8 * n:.1f})")
        print(f"  throughput N workers / one process         {here / many:7.2f} x")
        if default is not None:
            print(f"  CLUSTER_CONFIG / dask's worker env         {default / many:7.2f} x")
        print(f"  every cluster run wrote the one-process run's maps: {not unlike}")
        for difference in unlike[:5]:
            print(f"    differs: {difference}")


if __name__ == "__main__":
    main()
