"""The ``nx5d-kmc3`` command: ``ingest`` SPEC + TIFF into HDF5, ``synth`` test data."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from nx5d.errors import Nx5dError

__all__ = ["main"]


def _ingest(args: argparse.Namespace) -> int:
    from .ingest import ingest

    def progress(key: str, frames: int) -> None:
        if not args.quiet:
            print(f"\r{key}: {frames} frames", end="", file=sys.stderr, flush=True)

    report = ingest(args.specfile, args.out, tiffs=args.tiffs, scans=args.scan, group=args.group, progress=progress)
    if not args.quiet:
        print(file=sys.stderr)
    print(f"written: {' '.join(report.written) or '-'}")
    print(f"already there: {' '.join(report.skipped) or '-'}")
    return 0


def _synth(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .synth import write_repository

    root = Path(args.root).resolve()
    url = args.url or f"file://{root}/{{proposal}}/{{proposal}}.h5#{{scan}}"
    write_repository(url, sources=args.sources or root / "spec")
    print(url)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``nx5d-kmc3``."""
    parser = argparse.ArgumentParser(prog="nx5d-kmc3", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    ingest = commands.add_parser("ingest", help="convert SPEC + TIFF frames into the KMC3 HDF5 layout")
    ingest.add_argument("specfile")
    ingest.add_argument("--out", required=True, help="HDF5 file to create or append to")
    ingest.add_argument(
        "--tiffs",
        default="auto",
        help="frame files pattern, e.g. 'pilatus/S{scan:05d}/{fname}_{scan}_{frame}.tif' "
        "(default 'auto': the KMC3 layouts)",
    )
    ingest.add_argument("--scan", action="append", help="scan key N.1 to ingest (repeat; default: all)")
    ingest.add_argument("--group", default="{scan}", help="where scans go in the file (default '{scan}')")
    ingest.add_argument("--quiet", action="store_true")
    ingest.set_defaults(run=_ingest)
    synth = commands.add_parser("synth", help="generate a KMC3 repository for tests and demos")
    synth.add_argument("root", help="folder of the repository")
    synth.add_argument("--url", help="repository URL pattern to fill (default ROOT/{proposal}/{proposal}.h5#{scan})")
    synth.add_argument("--sources", help="folder for the SPEC + TIFF sources (default ROOT/spec)")
    synth.set_defaults(run=_synth)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except Nx5dError as exc:
        print(f"nx5d-kmc3: {exc}", file=sys.stderr)
        return 1
