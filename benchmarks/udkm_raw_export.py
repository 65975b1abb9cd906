"""Benchmark: exporting a generated 5,187-frame UDKM scan's raw data to NeXus, in a fresh process.

The scan is the reference page's (``nx5d_udkm.synth.ScanSpec()``: 5187
Pilatus frames of 195 x 487 int32, one TIFF file each).  ``nx5d export
--raw`` writes it as one compressed NeXus file, block by block, the frames
read lazily: printed are the file's size against the TIFF folder's (target:
at most 2x), the peak memory of the exporting process against the frame
stack (target: under 10 %; printed as the increase of the peak resident set
size over the size before the export, and as the whole peak), the time, and
for comparison the NetCDF export, which loads the scan whole first.

Ratios are printed, nothing is asserted.  ``--quick`` exports a 500-frame
scan (for CI).  Run with ``nox -s bench``.
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
sys.path.insert(0, str(Path(__file__).parent))

from udkm_streaming_cook import process_memory  # found beside this file


def child(fmt: str, root: str, out: str) -> dict:
    """Export the raw scan in this (fresh) process; time it and measure the peak memory."""
    import dask.array  # noqa: F401 - imported before the measurement, as in a session that used xarray
    import h5py  # noqa: F401

    import nx5d
    from nx5d_results.export import export_scans

    proposal = nx5d.open(f"file://{root}/{{proposal}}/{{scan}}", spice_url="").p20210205
    proposal.r091726.summary  # noqa: B018 - the listing, outside the measurement
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # reset the peak RSS to the current RSS
    before = process_memory("VmRSS")
    start = time.perf_counter()
    (path,) = export_scans(proposal, ["091726"], out, raw=True, format=fmt)
    return {
        "seconds": time.perf_counter() - start,
        "peak_increase": process_memory("VmHWM") - before,
        "peak": process_memory("VmHWM"),
        "bytes": sum(p.stat().st_size for p in ([path] if path.is_file() else path.rglob("*"))),
    }


def run(fmt: str, root: Path, out: Path) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", fmt, "--data", str(root), "--out", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 500-frame scan (CI)")
    parser.add_argument("--netcdf", action="store_true", help="also the NetCDF export (loads the scan whole)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.data, args.out)))
        return
    if not Path("/proc/self/clear_refs").exists():
        print("needs Linux (/proc/self/clear_refs to measure peak memory); skipped")
        return
    from nx5d_udkm.synth import ScanSpec, write_repository

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        start = time.perf_counter()
        write_repository(root, {"20210205": ["091726"]}, ScanSpec(frames=500) if args.quick else ScanSpec())
        folder = root / "20210205" / "091726"
        tiffs = sorted(folder.glob("image*.tiff"))
        print(f"generated {len(tiffs)} frames in {time.perf_counter() - start:.1f} s")
        tiff_bytes = sum(p.stat().st_size for p in folder.iterdir())
        stack = len(tiffs) * 195 * 487 * 4
        formats = ("nexus", "netcdf") if args.netcdf else ("nexus",)
        for fmt in formats:
            found = run(fmt, root, Path(tmp) / f"out-{fmt}")
            print(
                f"{fmt:7s} raw export {found['seconds']:6.1f} s; file {found['bytes'] / 2**20:8.1f} MiB = "
                f"{found['bytes'] / tiff_bytes:.2f}x the TIFF folder ({tiff_bytes / 2**20:.1f} MiB; target <= 2x); "
                f"peak memory +{found['peak_increase'] / 2**20:.0f} MiB = {found['peak_increase'] / stack:.1%} of the "
                f"frame stack ({stack / 2**20:.0f} MiB; target < 10 %), whole process {found['peak'] / 2**20:.0f} MiB"
            )


if __name__ == "__main__":
    main()
