"""Benchmark: listing and summarising a 300-scan UDKM proposal on an S3 server, in parallel and one at a time.

A moto S3 server on loopback, in its own process, holds 300 UDKM scan
folders (table and parameters each, as the lab writes them).  ``proposal.summaries()`` reads
the summaries with a pool of threads; ``workers=1`` reads them one after
another.  Each run uses a new repository object (nothing cached).  A
loopback server answers in well under a millisecond: over a network, where
each request waits longer, the ratio grows.  Ratios are printed, nothing is
asserted.  Run with ``nox -s bench`` (``--quick``: 20 scans, as CI runs it).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("NX5D_PROGRESS", "0")
os.environ["NX5D_INDEX"] = "off"  # the scan index remembers summaries across sessions: not what is measured here


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="20 scans, one run each (seconds; for CI)")
    args = parser.parse_args()
    scans, repeat = (20, 1) if args.quick else (args.scans, args.repeat)

    import s3fs

    import nx5d
    from nx5d_udkm.synth import ScanSpec, write_scan

    os.environ.update(
        {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}
    )
    with socket.socket() as probe:  # a free port for the server
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # the server in its own process, as a real one would be: it must not share this interpreter's lock
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        endpoint = f"http://127.0.0.1:{port}"
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            time.sleep(0.1)
        fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": endpoint})
        fs.mkdir("beamtime")
        with tempfile.TemporaryDirectory() as tmp:
            folder = write_scan(Path(tmp) / "20210205" / "091726", ScanSpec(delays=(0.0,), thetas=(18.5,), frames=None))
            table, parameters = (folder / "manifest.dat").read_bytes(), (folder / "parameters.txt").read_bytes()
        for i in range(scans):
            key = f"{90000 + i:06d}"
            fs.pipe(
                {
                    f"beamtime/udkm/20210205/{key}/manifest.dat": table,
                    f"beamtime/udkm/20210205/{key}/parameters.txt": parameters,
                }
            )
        options = {"s3": {"client_kwargs": {"endpoint_url": endpoint}}}

        def summarise(workers: int | None) -> float:
            repo = nx5d.open("s3://beamtime/udkm/{proposal}/{scan}", storage_options=options, spice_url="")
            start = time.perf_counter()
            rows = repo.p20210205.summaries(workers=workers)
            elapsed = time.perf_counter() - start
            if len(rows) != scans or any("unreadable" in str(r.get("notes")) for r in rows):
                raise RuntimeError("the generated scans did not all read")
            return elapsed

        summarise(None)  # warm-up: client sessions, imports
        parallel = [summarise(None) for _ in range(repeat)]
        sequential = [summarise(1) for _ in range(repeat)]
        print(f"\nlisting and summarising {scans} scans on a loopback S3 server (best / median of {repeat})")
        print(f"  one at a time (workers=1)   {min(sequential):6.2f} s / {statistics.median(sequential):6.2f} s")
        print(f"  in parallel (default)       {min(parallel):6.2f} s / {statistics.median(parallel):6.2f} s")
        print(f"  speed-up                    {min(sequential) / min(parallel):6.1f} x")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
