"""Benchmark: cooking the reference page's UDKM scan (5187 Pilatus frames) straight from its files.

Each way runs in a fresh process, as a notebook asking for ``scan.cooked``
would (with xarray already used once, which imports dask), and reports its
time and its peak memory: the increase of the process's peak resident set
size (VmHWM) over its size before the work; where it forks worker
processes to read frames, the larger of that and the peak of its resident
size plus their private memory, sampled together (`WithChildren`).

* streaming: ``scan.cooked`` with nothing loaded -- frames decoded block by
  block on every CPU and gridded at once, no image stack;
* load + cook: ``scan.load(lazy=False)`` then ``scan.cooked`` -- the stack first;
* the page: the reference page's ``fs_load_data`` loop and its per-delay
  ``FuzzyGridder2D`` cook, as printed there;
* cook only: the stack already in memory, the cook alone;
* remembered: ``scan.cooked`` in a new process after another one cooked it
  (the cooked result read from ``nx5d.cooked_cache``);
* the floor: decoding every frame on every CPU into a reused block (no stack,
  no gridding) -- what reading the frames costs at the least.

Every way but "remembered" runs with the cooked-result cache switched off.
Each way's time starts after ``import nx5d``, opening the repository and the
scan's summary; "the page / streaming end to end" counts those for the
streamed cook too (the page's time counts its own imports).

Ratios are printed, nothing is asserted.  Run with ``nox -s bench``; ``--frames 1260``
for the smaller scan, ``--quick`` (126 frames, one run each) is what CI runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("NX5D_PROGRESS", "0")
os.environ["NX5D_INDEX"] = "off"  # the scan index remembers summaries across sessions: not what is measured here

SPICE = {"settings": {"img_center": [97.0, 241.0], "img_distance": 680.0, "grid_size": [80, 150]}}


def process_memory(field: str) -> int:
    """Bytes of this process's ``/proc/self/status`` field ``field`` (``VmRSS``, ``VmHWM``); 0 where absent."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


class WithChildren:
    """The peak, sampled every 20 ms, of this process's resident size plus its children's private memory.

    A streamed cook reads frames in forked worker processes: what they hold
    that this process does not (``Private_*`` of their ``smaps_rollup``;
    pages shared with this process are counted once, here) is part of the
    cook's memory.  ``peak`` is the largest sum at one instant, over this
    process's resident size when sampling started; ``children`` the
    largest the children held together.
    """

    def __init__(self) -> None:
        import threading

        self.peak = self.children = 0
        self._start = process_memory("VmRSS")
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> WithChildren:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._done.wait(0.02):
            held = 0
            for task in os.listdir("/proc/self/task"):
                try:
                    with open(f"/proc/self/task/{task}/children") as fh:
                        pids = fh.read().split()
                except OSError:
                    continue
                for pid in pids:
                    try:
                        with open(f"/proc/{pid}/smaps_rollup") as fh:
                            held += sum(int(line.split()[1]) * 1024 for line in fh if line.startswith("Private_"))
                    except OSError:
                        pass
            self.children = max(self.children, held)
            self.peak = max(self.peak, process_memory("VmRSS") - self._start + held)


def child(mode: str, root: str) -> dict:
    """Run one way in this (fresh) process; time it and measure the peak RSS increase."""
    import numpy as np
    import xarray

    xarray.Dataset({"warm": ("x", np.zeros(3))})  # xarray looks for dask once: as in a notebook that used it
    begun = time.perf_counter()
    import nx5d

    scan = nx5d.open(f"file://{root}/{{proposal}}/{{scan}}", spice_url="").p20210205.r091726
    scan.summary  # noqa: B018 - the listing and table, outside the measurement (inside the end-to-end time)
    opened = time.perf_counter() - begun
    folder = Path(root) / "20210205" / "091726"
    result: dict = {}
    if mode == "cook only":
        scan.load(lazy=False)
    if mode == "floor":
        from concurrent.futures import ThreadPoolExecutor

        from nx5d_tiff.tiff import decode_strips, parse_tiff

        files = sorted(folder.glob("image*.tiff"))
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # reset the peak RSS to the current RSS
    before = process_memory("VmRSS")
    start = time.perf_counter()
    result["children_peak"] = 0
    if mode in ("streaming", "load + cook", "cook only", "remembered"):
        if mode == "load + cook":
            scan.load(lazy=False)
        with WithChildren() as sampled:
            cooked = scan.cook(SPICE)
        result["checksum"] = float(np.nansum(cooked.qdata.values))
        result["children_peak"], result["sampled_peak"] = sampled.children, sampled.peak
    elif mode == "page":
        sys.path.insert(0, str(Path(__file__).parent))
        import xarray
        import xrayutilities
        from udkm_load_and_cook import page_fs_load_data

        raw = page_fs_load_data(str(folder))
        qconv = xrayutilities.experiment.QConversion(sampleAxis=("y-",), detectorAxis=("y-",), r_i=(1, 0, 0))
        hxrd = xrayutilities.HXRD(qconv=qconv, idir=(1, 0, 0), ndir=(0, 1, 0))
        hxrd.Ang2Q.init_area("y-", "z+", 97, 241, *raw.images.shape[1:], pwidth1=0.172, pwidth2=0.172, distance=680)

        def per_delay(delay_data):
            _, qy, qz = hxrd.Ang2Q.area(delay_data.Theta.values, delay_data.Theta.values * 2)
            gridder = xrayutilities.FuzzyGridder2D(80, 150)
            gridder(qy, qz, delay_data.images.values)
            return xarray.Dataset({"qdata": (("qy", "qz"), gridder.data)})

        raw.groupby("Delay").map(per_delay)
    elif mode == "floor":
        workers = os.cpu_count() or 1
        share = [files[i::workers] for i in range(workers)]

        def decode(paths):
            block = np.empty((195, 487), np.int32)
            for path in paths:
                data = path.read_bytes()
                decode_strips(data, parse_tiff(data), block, str(path))

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(decode, share))
    result["seconds"] = time.perf_counter() - start
    result["end_to_end"] = opened + result["seconds"]  # import nx5d, open, summary, and the way
    # this process's own peak (never missed), or the sampled peak with the worker processes, if larger
    result["peak_increase"] = max(process_memory("VmHWM") - before, result.get("sampled_peak", 0))
    return result


def run(mode: str, root: Path, repeat: int, cache: Path) -> dict:
    remembered = mode == "remembered"
    env = {**os.environ, "NX5D_CACHE_DIR": str(cache), "NX5D_COOKED_CACHE": "2GB" if remembered else "0"}
    if mode == "remembered":  # another session cooked it before
        subprocess.run(
            [sys.executable, __file__, "--child", "streaming", "--data", str(root)],
            env=env,
            check=True,
            capture_output=True,
        )
    runs = []
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, __file__, "--child", mode, "--data", str(root)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    best = min(runs, key=lambda r: r["seconds"])
    return {**best, **{key: min(r[key] for r in runs) for key in ("peak_increase", "children_peak")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder for the generated scan (default: a temporary folder)")
    parser.add_argument("--frames", type=int, default=5187, help="frames of the scan (5187: the reference scan's)")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="126 frames, one run of each way (seconds; for CI)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.data)))
        return
    if not Path("/proc/self/clear_refs").exists():
        print("needs Linux (/proc/self/clear_refs to measure peak memory); skipped")
        return
    if args.quick:
        args.frames, args.repeat = 126, 1

    from nx5d_udkm.synth import ScanSpec, write_repository

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.data or tmp) / f"frames{args.frames}"
        folder = root / "20210205" / "091726"
        if not (folder / "manifest.dat").exists():
            start = time.perf_counter()
            write_repository(root, {"20210205": ["091726"]}, ScanSpec(frames=args.frames))
            print(f"generated the scan ({args.frames} frames) in {time.perf_counter() - start:.1f} s")
        for path in folder.iterdir():
            path.read_bytes()  # the file cache is warm for every way alike
        stack = args.frames * 195 * 487 * 4
        cache = Path(tmp) / "cache"
        modes = ("floor", "streaming", "load + cook", "cook only", "remembered")
        results = {mode: run(mode, root, args.repeat, cache) for mode in modes}
        results["page"] = run("page", root, 1, cache)
        print(f"\ncooking {args.frames} frames (195 x 487 int32, stack {stack / 2**30:.2f} GiB) onto 80 x 150, "
              f"{os.cpu_count()} CPUs, best of {args.repeat} fresh processes (the page: one)")  # fmt: skip
        for mode, found in results.items():
            children = f", worker processes {found['children_peak'] / 2**20:.0f}" if found["children_peak"] else ""
            print(f"  {mode:12s} {found['seconds']:7.2f} s   peak memory +{found['peak_increase'] / 2**20:7.0f} MiB "
                  f"({found['peak_increase'] / stack:6.1%} of the stack{children})")  # fmt: skip
        stream, floor = results["streaming"], results["floor"]
        print(f"  streaming / all-CPU decode floor      {stream['seconds'] / floor['seconds']:6.2f}")
        print(f"  load + cook / streaming               {results['load + cook']['seconds'] / stream['seconds']:6.2f}")
        print(f"  the page / streaming                  {results['page']['seconds'] / stream['seconds']:6.1f}")
        print(f"  the page / streaming end to end       {results['page']['seconds'] / stream['end_to_end']:6.1f}"
              f"   (import nx5d, open, summary: +{stream['end_to_end'] - stream['seconds']:.2f} s)")  # fmt: skip
        print(f"  streaming / remembered                {stream['seconds'] / results['remembered']['seconds']:6.0f}")
        same = abs(stream["checksum"] - results["load + cook"]["checksum"]) <= 1e-9 * abs(stream["checksum"])
        print(f"  streaming and load + cook give the same maps (sum of all map values): {same}")


if __name__ == "__main__":
    main()
