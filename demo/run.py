"""nx5d demo: generate a small UDKM repository, browse it, load a scan, spice it, cook it.

Run with ``nox -s demo`` (see README.md).  The data is written by the
``nx5d-udkm`` generator in the lab's exact layout into a temporary folder
(or ``--data DIR``), so the demo runs on a fresh machine without downloads.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

import nx5d
from nx5d_rsm.peaks import peak_positions
from nx5d_udkm.synth import REFERENCE_DELAYS, ScanSpec, write_scan

THETAS = tuple(float(t) for t in np.round(np.linspace(18.1, 19.1, 21), 2))


def generate(root: Path) -> str:
    """Two proposals: a time-resolved scan and a static rocking curve (small frames count)."""
    time_resolved = ScanSpec(variant="tRSS", delays=REFERENCE_DELAYS[:8], thetas=THETAS, delay_loops=1, frames=None)
    write_scan(root / "20210205" / "091726", time_resolved)
    write_scan(root / "20210205" / "101502", ScanSpec(variant="manifest", delays=(-10.0,), thetas=THETAS, frames=None))
    write_scan(root / "20210312" / "143000", ScanSpec(variant="sRSM", thetas=THETAS, delay_loops=1, frames=None))
    return f"file://{root.resolve()}/{{proposal}}/{{scan}}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder to write the generated repository into (default: temporary)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = generate(Path(args.data or tmp))
        print(f">>> repo = nx5d.open({url!r})")
        repo = nx5d.open(url)
        print(repo, end="\n\n")

        proposal = repo.p20210205
        print(">>> repo.p20210205")
        print(proposal, end="\n\n")

        scan = proposal.r091726
        print(">>> scan = repo.p20210205.r091726; scan.summary")
        print(scan.summary, end="\n\n")
        print(">>> scan.raw")
        print(scan.raw, end="\n\n")

        print(">>> scan.cooked  # with the plugin's default spice")
        cooked = scan.cooked
        print(cooked, end="\n\n")

        print(">>> proposal.spice.seed('settings', grid_size=[60, 600], monitor='Crystal [ph/s]')")
        proposal.spice.seed("settings", grid_size=[60, 600], monitor="Crystal [ph/s]")  # qz bins finer than the peak
        print(proposal.spice.view("091726"), end="\n\n")
        cooked = scan.cooked  # the spice changed, so this cooks again
        print(f"re-cooked on a {cooked.sizes['qy']} x {cooked.sizes['qz']} grid, normalised by the crystal monitor")
        print("Bragg peak position (qz, centroid of the half-maximum window, 1/Å) per delay, ± its standard error:")
        peaks = peak_positions(cooked, along="qz")
        for delay, qz, error in zip(cooked.delay.values, peaks.values, peaks.qz_peak_error.values, strict=True):
            print(f"  {delay:8.1f} ps   {qz:.6f} ± {error:.6f}")
        records = sorted((Path(args.data or tmp) / "20210205" / "spice").rglob("*.json"))
        print(f"\nspice records are kept beside the data: {[str(r.relative_to(args.data or tmp)) for r in records]}")


if __name__ == "__main__":
    main()
