"""Benchmark: a beamtime's scan table and searches from the scan index, in new processes.

The SPEC file is the one ``spec_listing_and_summaries.py`` builds: the real
KMC3-XPP file's ten scans (``../shared/realdata``, never copied into this
repository; ``NX5D_SHARED`` names another place) repeated and renumbered
until it holds 1850 scans, 14.5 MB.  Each step runs in a fresh process, as a
new notebook or shell would, with the index in a temporary folder
(``NX5D_INDEX``):

(a) **first listing with summaries**: ``nx5d.open`` and every proposal's
    ``summaries()`` with an empty index (every scan is read, the index filled);
(b) **the same from the index** in a new process (target: 0.1 s); printed
    both for the work after the imports and for the whole process;
(c) **one file changes** (a scan appended to a second, small SPEC file): the
    files opened are counted by an audit hook -- only that document is read
    again;
(d) **a search over an index of 10,000 scans** (six copies of the big file,
    11,100 scans), in a new process (target: 1 s): ``repo.search(...)``
    bringing the index up to date (one ``stat`` per file), and
    ``fresh=False`` (the index alone).

Wall and CPU times are printed (on a loaded machine the CPU time is the
better guide); ratios are printed, nothing is asserted.  ``--quick`` uses a 2 MB file and
two copies (for CI).  Run with ``nox -s bench``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import spec_listing_and_summaries as spec_benchmark

os.environ.setdefault("NX5D_PROGRESS", "0")


def child(mode: str, url: str) -> dict:
    """One step in this (fresh) process."""
    opened: list[str] = []
    if mode == "audited":

        def audit(event: str, args: tuple) -> None:
            if event == "open" and isinstance(args[0], str) and args[0].endswith(".spec"):
                opened.append(args[0].rsplit("/", 1)[-1])

        sys.addaudithook(audit)
    start = time.perf_counter()
    import nx5d

    imported = time.perf_counter()
    repo = nx5d.open(url, beamline="spec", spice_url="")
    plugin, plugin_cpu = time.perf_counter(), time.process_time()
    result: dict = {"imports": imported - start, "open": plugin - imported}
    if mode == "search":
        found = repo.search(type="ascan", motor="th", range=(19.5, 19.6))
        searched, searched_cpu = time.perf_counter(), time.process_time()
        kept = repo.search(fresh=False, type="ascan", motor="th", range=(19.5, 19.6))
        result.update(
            found=len(found),
            search=searched - plugin,
            search_cpu=searched_cpu - plugin_cpu,
            kept=len(kept),
            index_only=time.perf_counter() - searched,
            index_only_cpu=time.process_time() - searched_cpu,
        )
        result["scans"] = len(nx5d.scan_index.rows(repo.url))
        return result
    rows = sum(len(repo[key].summaries()) for key in repo.keys())
    result.update(
        rows=rows,
        work=time.perf_counter() - plugin,
        work_cpu=time.process_time() - plugin_cpu,
        opened=sorted(set(opened)),
    )
    return result


def run(mode: str, url: str, env: dict) -> dict:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--url", url], capture_output=True, text=True, env=env, check=True
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    found["process"] = time.perf_counter() - start
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 2 MB file and two copies (CI)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.url)))
        return
    if not spec_benchmark.REAL.exists():
        print(f"the real SPEC file is not at {spec_benchmark.REAL} (set NX5D_SHARED): skipped")
        return
    if args.quick:
        spec_benchmark.TARGET_BYTES = 2_000_000
    copies = 2 if args.quick else 6
    with tempfile.TemporaryDirectory() as tmp:
        beamtime, many = Path(tmp) / "beamtime", Path(tmp) / "many"
        beamtime.mkdir()
        many.mkdir()
        scans = spec_benchmark.build(beamtime / "big.spec")
        shutil.copy(spec_benchmark.REAL, beamtime / "small.spec")
        env = {**os.environ, "NX5D_INDEX": str(Path(tmp) / "index.sqlite3"), "NX5D_PROGRESS": "0"}
        url = f"file://{beamtime}/{{proposal}}.spec#{{scan}}"
        size = (beamtime / "big.spec").stat().st_size / 1e6
        print(f"{size:.1f} MB, {scans} scans (the real KMC3 file's scans, renumbered), and the real 10-scan file")
        first = run("audited", url, env)
        again = run("audited", url, env)
        with open(beamtime / "small.spec", "a") as fh:
            fh.write("\n#S 11  ascan  th 1 2  2 1\n#D Thu Jun 25 18:00:00 2015\n#L th  det\n1 5\n1.5 6\n2 7\n")
        changed = run("audited", url, env)
        print(
            f"(a) first listing + summaries: {first['work']:6.3f} s "
            f"({first['rows']} rows; process {first['process']:.2f} s)"
        )
        print(
            f"(b) from the index, new process: {again['work']:6.3f} s after the imports and nx5d.open "
            f"({again['open']:.3f} s) -- target 0.1 s; CPU time {again['work_cpu']:.3f} s; the whole process "
            f"{again['process']:.2f} s; "
            f"{first['work'] / again['work']:.0f}x faster than (a); scan files opened: {again['opened'] or 'none'}"
        )
        print(f"(c) small.spec changed: {changed['work']:6.3f} s; scan files opened: {', '.join(changed['opened'])}")
        for k in range(copies):
            shutil.copy(beamtime / "big.spec", many / f"copy{k}.spec")
        many_url = f"file://{many}/{{proposal}}.spec#{{scan}}"
        indexing = run("listing", many_url, env)
        found = run("search", many_url, env)
        print(f"(d) {found['scans']} scans indexed in {indexing['work']:.1f} s; a search (type, motor, range) "
              f"finds {found['found']} in {found['search']:.3f} s (CPU {found['search_cpu']:.3f} s; target 1 s), "
              f"from the index alone {found['index_only']:.3f} s (CPU {found['index_only_cpu']:.3f} s)")  # fmt: skip
        size = Path(env["NX5D_INDEX"]).stat().st_size / 2**20
        print(f"    the index file: {size:.1f} MiB for {found['scans'] + first['rows']} scans of both folders")


if __name__ == "__main__":
    main()
