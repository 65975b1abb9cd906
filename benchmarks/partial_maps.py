"""Benchmark: maps that grow while a scan is measured (``proposal.follow(partial=0)``).

A writer process appends the points of one SPEC scan -- each a 1280-channel
line-detector spectrum (``@A``) and its data line -- every ``--interval``
seconds; this process follows the proposal and takes every partial map.
Printed:

* the time from a point's arrival in the file to its first appearance in a
  map (median and worst), and how many partial maps were made;
* the peak resident set size of the following process (VmHWM), and what it
  keeps between partial maps (the gridding totals: the grid's size);
* the cost of all the partial maps, replayed on the finished scan, against
  cooking the finished scan once: as the follower makes them (only the new
  points gridded, onto the grid the command ``ascan th 20 30 ...`` plans:
  the total grows with the points), and the straightforward approach (each
  partial map cooked anew from the points so far: the total grows with the
  square of the points);
* the floor: reading the finished scan's raw data alone.

Ratios are printed, nothing is asserted.  ``--quick`` writes fewer points.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

os.environ.setdefault("NX5D_PROGRESS", "0")
os.environ["NX5D_INDEX"] = "off"  # the scan index remembers summaries across sessions: not what is measured here

CHANNELS = 1280
SPICE = {
    "settings": {
        "energy": 8048.0,
        "sample_motors": ["th"],
        "detector_motors": ["tth"],
        "q_axes": ["qx", "qz"],
        "grid_size": [200, 300],
    },
    "line_detector": {"spectra": "mca", "direction": "z+", "center_channel": 640.0, "channels_per_degree": 50.0},
    "recipes": {"by_type": {"*": "line-rsm"}},
}

WRITER = """
import sys, time
import numpy as np
target, times = sys.argv[1], sys.argv[2]
points, interval, channels = int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
rng = np.random.default_rng(0)
header = ["#F bench.spec", "#E 1700000000", "#O0 tth", "", f"#S 1 ascan th 20 30 {points - 1} 0.1",
          "#D Thu Jan 04 10:00:00 2024", "#P0 40", f"#@MCA {channels}C", f"#@CHANN {channels} 0 {channels - 1} 1",
          "#N 2", "#L th Detector"]
channel = np.arange(channels)
with open(target, "a") as out, open(times, "w") as log:
    out.write("\\n".join(header) + "\\n"); out.flush()
    for i, th in enumerate(np.linspace(20, 30, points)):
        counts = rng.poisson(200 * np.exp(-((channel - 400 - 4 * i) ** 2) / 900.0) + 1)
        out.write("@A " + " ".join(map(str, counts)) + f"\\n{th:.5f} {int(counts.sum())}\\n"); out.flush()
        log.write(f"{time.time()!r}\\n"); log.flush()
        time.sleep(interval)
"""


def _peak_rss() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 points instead of 200")
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between points (default 0.1)")
    args = parser.parse_args()
    points = 30 if args.quick else 200

    import nx5d
    from nx5d.errors import CookWarning
    from nx5d.recipes.contract import Growing, growing

    with tempfile.TemporaryDirectory() as tmp:
        folder, times = Path(tmp) / "data", Path(tmp) / "times.txt"
        folder.mkdir()
        (folder / "bench.spec").write_text("")
        env = {**os.environ, "NX5D_CACHE_DIR": str(Path(tmp) / "cache")}
        proposal = nx5d.open(f"file://{folder}/{{proposal}}.spec#{{scan}}", beamline="spec", spice_url="").bench
        for handle, fields in SPICE.items():
            proposal.spice.seed(handle, **fields)
        warm = Path(tmp) / "warm"  # a follower already running: its plugins imported, a scan cooked before
        warm.mkdir()
        subprocess.run(
            [sys.executable, "-c", textwrap.dedent(WRITER), str(warm / "warm.spec"), str(warm / "t"), "2", "0", "16"],
            check=True,
        )
        nx5d.open(f"file://{warm}/{{proposal}}.spec#{{scan}}", beamline="spec", spice_url="").warm["1.1"].cook(SPICE)
        writer = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(WRITER), str(folder / "bench.spec"), str(times), str(points)]
            + [str(args.interval), str(CHANNELS)],
            env=env,
        )
        arrivals = [
            (time.time(), arrival) for arrival in proposal.follow(poll=0.02, settle=5.0, partial=0.0, idle_timeout=3.0)
        ]
        writer.wait(timeout=600)
        peak = _peak_rss()
        written = [float(line) for line in times.read_text().split()]
        partial = [(when, int(a.cooked.frames)) for when, a in arrivals if a.partial]
        shown: dict[int, float] = {}
        for when, frames in partial:
            for point in range(frames):
                shown.setdefault(point, when - written[point])
        latencies = sorted(shown.values())
        again = Path(tmp) / "again"  # a copy: nothing of it is remembered yet
        again.mkdir()
        shutil.copy(folder / "bench.spec", again / "bench.spec")
        scan = nx5d.open(f"file://{again}/{{proposal}}.spec#{{scan}}", beamline="spec", spice_url="").bench["1.1"]
        t0 = time.perf_counter()
        raw = scan.raw
        floor = time.perf_counter() - t0
        t0 = time.perf_counter()
        scan.cook(SPICE, raw=raw)  # the finished scan, cooked once (not from a cache)
        once = time.perf_counter() - t0
        t0 = time.perf_counter()
        for _, frames in partial:  # the straightforward approach: each partial map cooked from the points so far
            scan.cook(SPICE, raw=raw.isel(index=slice(0, frames)))
        anew_cost = time.perf_counter() - t0
        shared = Growing()
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("error", CookWarning)  # the command plans the grid: never cooked anew
            for _, frames in partial:  # as the follower makes them: the new points added to the kept totals
                with growing(shared):
                    scan.cook(SPICE, raw=raw.isel(index=slice(0, frames)))
        grown_cost = time.perf_counter() - t0
        kept = sum(part.nbytes for part in shared.state.totals.parts()) if partial else 0
    print(f"\n{points} points of {CHANNELS}-channel spectra, one every {args.interval} s, onto 200 x 300 (q)")
    print(f"  partial maps                          {len(partial)}")
    if latencies:
        print(f"  point written -> in a map: median    {statistics.median(latencies):6.3f} s")
        print(f"  point written -> in a map: worst     {latencies[-1]:6.3f} s")
        print(f"  points never seen in a partial map   {points - len(latencies)} (the last ones: in the final map)")
    print(f"  peak RSS of the follower              {peak / 2**20:6.0f} MiB")
    print(f"  kept between partial maps             {kept / 2**20:6.1f} MiB  (the gridding totals: the grid's size)")
    print(f"  floor: reading the finished scan      {floor:6.3f} s")
    print(f"  cooking the finished scan once        {once:6.3f} s  ({once / floor:5.1f} x the floor)")
    print(f"  all partial maps, new points added    {grown_cost:6.3f} s  ({grown_cost / once:5.1f} x cooking once)")
    print(f"  all partial maps, each cooked anew    {anew_cost:6.3f} s  ({anew_cost / once:5.1f} x cooking once)")
    print(f"  adding new points vs cooking anew     {anew_cost / max(grown_cost, 1e-9):6.1f} x faster")
    print(f"  load average while measured           {os.getloadavg()[0]:6.2f} (1 min, {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
