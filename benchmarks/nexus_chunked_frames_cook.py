"""Benchmark: cooking a NeXus scan whose frames are stored compressed, many frames to an HDF5 chunk.

Some writers chunk several frames together (a chunk of 64 Pilatus frames
compressed as one).  HDF5 decompresses a chunk whole whatever part of it is
read, so a cook that reads 8 frames at a time must not read each chunk 8
times.  A BLISS-layout scan is generated (`nx5d_nexus.synth`, Pilatus 100K
frames, gzip) and, each in a fresh process with the caches off:

* the floor: h5py reading the whole frame dataset in one call (every chunk
  decompressed once; HDF5 decompresses under h5py's lock, in one thread);
* streaming: ``scan.cook(spice)`` with nothing loaded (frames read block by
  block from the file);
* the same scan written one frame per chunk, streamed: what the cook costs
  where chunks never hold more frames than a block;
* the straightforward approach: ``scan.load(lazy=False)`` then the cook.

Every frame of a rocking scan is at its own angle, so most of a cook's time
is the gridder's set-up (each frame's pixel area over the grid), the same
for every way: the chunking's cost is streaming against streaming one frame
per chunk.  Printed: the times, the peak memory growth (VmHWM over the size
before), the ratios, and whether all ways give the same maps.  Nothing is
asserted.  ``--quick``: 200 frames, one run each.
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

SPICE = {"settings": {"sample_motors": ["eta"], "detector_motors": ["delta"], "grid_size": [80, 150]}}
FRAME_SHAPE = (195, 487)


def _status(field: str) -> int:
    """Bytes of this process's ``/proc/self/status`` field ``field``."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def child(mode: str, url: str) -> dict:
    """Run one way in this (fresh) process: seconds, peak memory growth, and the maps' checksum."""
    import h5py
    import numpy as np

    import nx5d

    proposal = nx5d.open(url, spice_url="").bench
    scan = proposal[proposal.keys()[0]]
    scan.summary  # noqa: B018 - opening and listing are not what is measured
    path = url.removeprefix("file://").split("{proposal}")[0] + "bench/bench.h5"
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # the peak resident size starts from here
    before = _status("VmRSS")
    start = time.perf_counter()
    result: dict = {"checksum": None}
    if mode == "floor":
        with h5py.File(path, "r") as h5:
            h5["1.1/instrument/mpx/image"][()]
    else:
        if mode == "load + cook":
            scan.load(lazy=False)
        result["checksum"] = float(np.nansum(scan.cook(SPICE).qdata.values))
    result["seconds"] = time.perf_counter() - start
    result["peak_increase"] = _status("VmHWM") - before
    return result


def run(mode: str, url: str, repeat: int) -> dict:
    env = {**os.environ, "NX5D_COOKED_CACHE": "0", "NX5D_INDEX": "off", "NX5D_PROGRESS": "0"}
    runs = []
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, __file__, "--child", mode, "--url", url],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return min(runs, key=lambda r: r["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=400)
    parser.add_argument("--per-chunk", type=int, default=64, help="frames per HDF5 chunk")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="200 frames, one run of each way (seconds; for CI)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.url)))
        return
    if not Path("/proc/self/clear_refs").exists():
        print("needs Linux (/proc/self/clear_refs to measure peak memory); skipped")
        return
    if args.quick:
        args.frames, args.repeat = 200, 1

    from nx5d.toolkit import usable_cpus
    from nx5d_nexus.synth import write_repository

    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        url = write_repository(
            tmp, {"bench": [1]}, "bliss", points=args.frames, frame_shape=FRAME_SHAPE, frames_per_chunk=args.per_chunk
        )
        print(f"generated {args.frames} frames in chunks of {args.per_chunk} in {time.perf_counter() - began:.1f} s")
        alone = write_repository(
            Path(tmp) / "alone", {"bench": [1]}, "bliss", points=args.frames, frame_shape=FRAME_SHAPE
        )
        results = {mode: run(mode, url, args.repeat) for mode in ("floor", "streaming", "load + cook")}
        results["frame per chunk"] = run("streaming", alone, args.repeat)
    stack = args.frames * FRAME_SHAPE[0] * FRAME_SHAPE[1] * 4
    print(f"\ncooking {args.frames} frames ({FRAME_SHAPE[0]} x {FRAME_SHAPE[1]} int32, gzip, {args.per_chunk} "
          f"per chunk; stack {stack / 2**20:.0f} MiB), {usable_cpus()} CPUs, "
          f"best of {args.repeat} fresh processes")  # fmt: skip
    for mode, found in results.items():
        print(f"  {mode:16s} {found['seconds']:7.2f} s   peak memory +{found['peak_increase'] / 2**20:6.0f} MiB "
              f"({found['peak_increase'] / stack:6.1%} of the stack)")  # fmt: skip
    stream = results["streaming"]
    print(
        f"  streaming / floor (h5py reading every frame once)   {stream['seconds'] / results['floor']['seconds']:6.2f}"
    )
    print(f"  streaming / streaming one frame per chunk           "
          f"{stream['seconds'] / results['frame per chunk']['seconds']:6.2f}")  # fmt: skip
    print(f"  load + cook / streaming                             "
          f"{results['load + cook']['seconds'] / stream['seconds']:6.2f}")  # fmt: skip
    sums = [found["checksum"] for found in results.values() if found["checksum"] is not None]
    same = max(sums) - min(sums) <= 1e-9 * abs(sums[0])
    print(f"  every way gives the same maps (sum of all map values): {same}")


if __name__ == "__main__":
    main()
