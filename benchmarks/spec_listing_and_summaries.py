"""Benchmark: listing and summarising a 14.5 MB SPEC file built from real scans.

The file is the real KMC3-XPP SPEC file's ten scans (``../shared/realdata``,
never copied into this repository; ``NX5D_SHARED`` names another place), repeated
and renumbered until it holds 1850 scans, 14.5 MB -- the size of a real
beamtime's file.  In the same run:

(a) **nx5d**: ``proposal.keys()`` (the scans, from the byte-offset index) and
    ``proposal.summaries()`` (every scan's summary, each scan parsed on its own);
(b) **the straightforward approach**, which nx5d's parser did before: parse
    the whole file for every scan's summary (timed on the first scans and
    multiplied out -- running it to the end would take hours);
(c) **the floors**: reading the file's bytes, and silx's compiled
    ``SpecFile`` indexing the file and reading every scan's header (it cannot
    read single-space SPEC dialects, so nx5d does not use it; it is the speed
    to compare with).

Run with ``nox -s bench`` (``--quick``: a 0.5 MB file, as CI runs it).  Times
are the best of a few runs after a warm-up; ratios are printed, nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("NX5D_PROGRESS", "0")

SHARED = Path(os.environ.get("NX5D_SHARED") or Path(__file__).resolve().parents[2] / "shared")
REAL = SHARED / "realdata" / "kmc3-pyEvalData" / "spec_pilatus.spec"
TARGET_BYTES = 14_500_000


def build(path: Path, target: int | None = None) -> int:
    """Write the big file (``target`` bytes, default `TARGET_BYTES`); returns its number of scans."""
    target = TARGET_BYTES if target is None else target
    text = REAL.read_text()
    header, _, body = text.partition("\n#S ")
    scans = [s if s.endswith("\n") else s + "\n" for s in re.split(r"(?m)^(?=#S )", "#S " + body) if s]
    out, size, number = [header.rstrip("\n") + "\n\n"], 0, 0
    while size < target:
        for scan in scans:
            number += 1
            renumbered = re.sub(r"^#S \d+", f"#S {number}", scan) + "\n"
            out.append(renumbered)
            size += len(renumbered)
    path.write_text("".join(out))
    return number


def best(function, repeat=3):
    function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 0.5 MB file, one run each (seconds; for CI)")
    args = parser.parse_args()
    repeat = 1 if args.quick else 3
    # the scan index remembers summaries across sessions: not what is measured here (set here, not on import:
    # scan_index_listing_and_search.py imports this module and measures the index)
    os.environ["NX5D_INDEX"] = "off"

    import nx5d
    from nx5d_spec import parser as spec
    from nx5d_spec.dataset import scan_summary

    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "beamtime.spec"
        scans = build(path, 500_000 if args.quick else TARGET_BYTES)
        url = f"file://{tmp}/{{proposal}}.spec#{{scan}}"
        print(f"{path.stat().st_size / 1e6:.1f} MB, {scans} scans (the real KMC3 file's scans, renumbered)")

        def listing():
            spec._INDEXES._items.clear()  # every run reads and indexes the file anew
            return nx5d.open(url, beamline="spec", spice_url="").beamtime.keys()

        def summaries():
            spec._INDEXES._items.clear()
            spec._SCANS._items.clear()
            return nx5d.open(url, beamline="spec", spice_url="").beamtime.summaries()

        assert len(listing()) == scans
        t_list = best(listing, repeat)
        t_summaries = best(summaries, repeat=min(repeat, 2))

        document = f"file://{path}"
        data = path.read_bytes()

        def straightforward(n):
            for key in [f"{k}.1" for k in range(1, n + 1)]:
                whole = spec.index_spec(path.read_bytes(), document)
                for entry in whole.entries:  # the old parser parsed every scan of the file for each summary
                    scan = spec.parse_scan(
                        spec.decode(data[entry.start : entry.stop]), entry, whole.header_of(entry), ""
                    )
                    if entry.key == key:
                        scan_summary(scan)

        sample = 3
        t_one = best(lambda: straightforward(sample), repeat=1) / sample
        t_bytes = best(path.read_bytes)
        print(f"(a) nx5d   listing {t_list:7.3f} s   all summaries {t_summaries:7.3f} s")
        print(
            f"(b) whole-file parse per scan: {t_one:.3f} s per summary -> {t_one * scans:8.0f} s for all "
            f"({t_one * scans / t_summaries:,.0f}x nx5d's summaries)"
        )
        print(f"(c) floor: reading the bytes {t_bytes:.3f} s ({t_list / t_bytes:.1f}x for nx5d's listing)")
        try:
            from silx.io.specfile import SpecFile
        except ImportError:
            print("    silx is not installed: no compiled-parser floor")
            return

        def silx_all():
            handle = SpecFile(str(path))
            return [handle[i].scan_header for i in range(len(handle.keys()))]

        def silx_full():
            handle = SpecFile(str(path))
            return [(handle[i].scan_header, handle[i].data) for i in range(len(handle.keys()))]

        t_silx_list = best(lambda: SpecFile(str(path)).keys(), repeat)
        t_silx = best(silx_all, repeat=min(repeat, 2))
        t_full = best(silx_full, repeat=min(repeat, 2))
        print(
            f"    floor: silx SpecFile listing {t_silx_list:.3f} s ({t_list / t_silx_list:.1f}x), "
            f"every header {t_silx:.3f} s ({t_summaries / t_silx:.1f}x), "
            f"every header and data {t_full:.3f} s"
        )
        print(f"    nx5d listing + every summary / silx's full read: {(t_list + t_summaries) / t_full:.2f}")


if __name__ == "__main__":
    main()
