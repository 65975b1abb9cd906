"""The ``nx5d`` command line: inspect plugins and list repositories."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from . import __version__
from .errors import Nx5dError
from .opening import open_repository
from .plugins import registry
from .tables import Table

__all__ = ["main"]


def _plugins(args: argparse.Namespace) -> int:
    rows: list[dict[str, Any]] = []
    for status in registry().statuses():
        info = status.info
        rows.append(
            {
                "name": status.name,
                "kind": status.kind,
                "distribution": status.distribution,
                "version": status.version,
                "state": status.state,
                "schemes": ", ".join(info.schemes) if info else None,
                "url patterns": ", ".join(info.url_patterns) if info else None,
                "options": ", ".join(info.options) if info else None,
                "error": status.error,
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    columns = ["name", "kind", "distribution", "version", "state", "schemes", "url patterns", "options"]
    print(Table(columns, rows, title=f"nx5d {__version__} plugins").to_text())
    for row in rows:
        if row["error"]:
            print(f"\n{row['name']}: {row['error']}")
    return 0


def _ls(args: argparse.Namespace) -> int:
    repo = open_repository(args.url, beamline=args.beamline)
    target = repo if args.proposal is None else repo[args.proposal]
    if args.json:
        if args.proposal is None:
            rows: list[dict[str, Any]] = [{"proposal": k, "handle": h} for k, h in repo.all().items()]
        else:
            rows = target.summaries()
        print(json.dumps(rows, indent=2, default=str))
    else:
        print(target._table().to_text())
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nx5d", description="Find, list and load X-ray diffraction scan data.")
    parser.add_argument("--version", action="version", version=f"nx5d {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("plugins", help="list installed beamline plugins and whether they load")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_plugins)

    p = sub.add_parser("ls", help="list the proposals of a repository, or the scans of one proposal")
    p.add_argument("url", help="repository URL pattern, e.g. 'file:///data/{proposal}/{scan}'")
    p.add_argument("proposal", nargs="?", help="proposal key: list its scans with their summaries")
    p.add_argument("--beamline", help="beamline plugin to use (default: the one that claims the URL)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_ls)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``nx5d`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except Nx5dError as exc:
        print(f"nx5d: error: {exc}", file=sys.stderr)
        return 2
