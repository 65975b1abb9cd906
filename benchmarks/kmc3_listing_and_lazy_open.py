"""Benchmark: a KMC3 proposal file with 500 scans -- listing, one summary, lazy raw open.

Each nx5d operation is compared, in the same run on the same file, with what
a loader script does with plain h5py:

(a) listing: ``proposal.keys()`` vs opening the file and sorting its group
    names, and vs walking every object in it (``visititems``);
(b) summary of one scan: ``scan.summary`` vs opening the file and reading the
    same title, start time, counter length and detector shape;
(c) lazy raw open: ``scan.load()`` (dask-backed images) vs opening the file,
    reading every counter and positioner and wrapping the images with
    ``dask.array.from_array``.

Run with ``nox -s bench`` (``--quick``: 20 scans, as CI runs it).  Timings are the best and the median of repetitions
after a warm-up; ratios are printed, nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("NX5D_PROGRESS", "0")
os.environ["NX5D_INDEX"] = "off"  # the scan index remembers summaries across sessions: not what is measured here

PROPOSAL = "253-cw38-12345-doe"


def timed(function, repeat):
    function()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def natural(key: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", key)]


def h5py_list(path):
    import h5py

    with h5py.File(path, "r") as f:
        return sorted(f.keys(), key=natural)


def h5py_walk(path):
    import h5py

    found = []
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: found.append(name))
    return found


def h5py_summary(path, key):
    import h5py

    with h5py.File(path, "r") as f:
        group = f[key]
        return {
            "title": group["title"][()].decode(),
            "start": group["start_time"][()].decode(),
            "steps": min(d.shape[0] for d in group["measurement"].values()),
            "detector": group["instrument/pilatus/data"].shape,
        }


def h5py_lazy_open(path, key):
    import dask.array as da
    import h5py
    import xarray as xr

    f = h5py.File(path, "r")  # stays open: the dask array reads from it later
    group = f[key]
    data = {name: ("index", d[()]) for name, d in group["measurement"].items()}
    for name, d in group["instrument/positioners"].items():
        data.setdefault(name, (("index",) if d.ndim else (), d[()]))
    images = group["instrument/pilatus/data"]
    data["images"] = (("index", "y", "x"), da.from_array(images, chunks=(images.chunks[0], *images.shape[1:])))
    return xr.Dataset(data), f


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="20 scans, 3 repetitions (seconds; for CI)")
    args = parser.parse_args()
    if args.quick:
        args.scans, args.repeat = 20, 3

    import nx5d
    from nx5d_kmc3.synth import ScanPlan, write_repository

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        url = f"file://{root}/data/{{proposal}}/{{proposal}}.h5#{{scan}}"
        start = time.perf_counter()
        plans = tuple(ScanPlan(points=4, theta=(19.9, 20.1)) for _ in range(args.scans))
        write_repository(url, {PROPOSAL: plans}, sources=root / "spec")
        path = root / "data" / PROPOSAL / f"{PROPOSAL}.h5"
        size = path.stat().st_size / 2**20
        print(
            f"generated {args.scans} scans of 4 Pilatus frames ({size:.0f} MiB) in {time.perf_counter() - start:.1f} s"
        )
        key = f"{args.scans // 2}.1"
        repo = nx5d.open(url, spice_url="")

        def ours_list():
            proposal = repo[PROPOSAL]
            proposal.refresh()
            return proposal.keys()

        proposal = repo[PROPOSAL]

        def ours_summary():
            return nx5d.Scan(proposal, key).summary  # a fresh scan object: summaries are cached per scan

        def ours_lazy():
            scan = repo[PROPOSAL].scan(key)
            scan.reload()
            return scan.load()

        def plain_lazy():
            _, handle = h5py_lazy_open(path, key)
            handle.close()

        assert ours_list() == h5py_list(path)
        rows = [
            (f"listing {args.scans} scans", ours_list, lambda: h5py_list(path), "h5py keys + sort"),
            (f"listing {args.scans} scans", ours_list, lambda: h5py_walk(path), "h5py visititems walk"),
            ("summary of one scan", ours_summary, lambda: h5py_summary(path, key), "h5py, same fields"),
            ("lazy raw open", ours_lazy, plain_lazy, "h5py + dask.from_array"),
        ]
        print(f"\nbest / median of {args.repeat} (ms); ratio = nx5d / plain h5py (below 1: nx5d is faster)")
        for name, ours, plain, what in rows:
            ours_best, ours_median = timed(ours, args.repeat)
            plain_best, plain_median = timed(plain, args.repeat)
            print(
                f"  {name:20s} nx5d {1e3 * ours_best:7.2f} / {1e3 * ours_median:7.2f}   "
                f"{what:22s} {1e3 * plain_best:7.2f} / {1e3 * plain_median:7.2f}   "
                f"ratio {ours_best / plain_best:5.2f}"
            )


if __name__ == "__main__":
    main()
