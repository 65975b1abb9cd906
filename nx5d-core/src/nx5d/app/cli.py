# PYTHON_ARGCOMPLETE_OK
"""The ``nx5d`` command line: inspect plugins and recipes, list, cook, export and plot repositories.

Shell completion: ``eval "$(register-python-argcomplete nx5d)"`` (bash, zsh).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import argcomplete
import attrs

from nx5d.app.batch import select_scans
from nx5d.app.files import FORMATS
from nx5d.config import DATA_REPO, config_path, repositories
from nx5d.display import Table
from nx5d.errors import Nx5dError, OptionError, SpiceError
from nx5d.model.open import open_repository
from nx5d.options import OptionInfo, describe_options
from nx5d.plugins.discovery import registry
from nx5d.recipes.registry import recipes
from nx5d.spice.view import SpiceHistory, SpiceView
from nx5d.version import __version__

__all__ = ["main"]

OPTION_HELP = (
    "a loading option of the beamline (repeat; nx5d plugins --verbose lists them), "
    "e.g. -o tiffs='pilatus/S{scan:05d}/{fname}_{scan}_{frame}.tif' -o reduce=2"
)


def _plugins(args: argparse.Namespace) -> int:
    rows: list[dict[str, Any]] = []
    for status in registry().statuses():
        declaration = status.declaration
        options = [] if declaration is None else describe_options(declaration.options)
        rows.append(
            {
                "name": status.name,
                "kind": status.kind,
                "distribution": status.distribution,
                "version": status.version,
                "state": status.state,
                "level": declaration.level.name if declaration else None,
                "schemes": ", ".join(declaration.schemes) if declaration else None,
                "url examples": ", ".join(declaration.url_examples) if declaration else None,
                "options": ", ".join(o.name for o in options) or None,
                "option details": [attrs.asdict(o) for o in options],
                "error": status.error,
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    columns = ["name", "kind", "distribution", "version", "state", "level", "url examples"]
    print(Table(columns, rows, title=f"nx5d {__version__} plugins").to_text())
    for row in rows:
        if row["error"]:
            print(f"\n{row['name']}: {row['error']}")
        elif args.verbose and row["option details"]:
            print(f"\n{row['name']} loading options:")
            for detail in row["option details"]:
                print(f"  {OptionInfo(**detail).describe()}")
    return 0


def _recipes(args: argparse.Namespace) -> int:
    rows = [
        {
            "name": s.name,
            "distribution": s.distribution,
            "state": s.state,
            "description": s.description,
            "error": s.error,
        }
        for s in recipes().statuses()
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(Table(["name", "distribution", "state", "description"], rows, title="nx5d cooking recipes").to_text())
    for row in rows:
        if row["error"]:
            print(f"\n{row['name']}: {row['error']}")
    return 0


def _loading_options(args: argparse.Namespace) -> dict[str, Any]:
    """``--option name=value`` pairs (values parsed as JSON where they are JSON)."""
    words, fields = _split_fields(args.option or [])
    if words:
        raise OptionError(f"--option takes name=value, not {words[0]!r}")
    return fields


def _ls(args: argparse.Namespace) -> int:
    repo = open_repository(args.url, beamline=args.beamline, **_loading_options(args))
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


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _split_fields(words: Sequence[str]) -> tuple[list[str], dict[str, Any]]:
    """Separate positional words from ``field=value`` pairs (values parsed as JSON when they are JSON)."""
    positional, fields = [], {}
    for word in words:
        name, sep, value = word.partition("=")
        if sep and name.isidentifier():
            fields[name] = _value(value)
        else:
            positional.append(word)
    return positional, fields


def _payload(source: str | None) -> dict[str, Any]:
    """Spice fields from a JSON file (``-``: standard input), or none."""
    if source is None:
        return {}
    try:
        text = sys.stdin.read() if source == "-" else Path(source).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise SpiceError(f"cannot read the spice payload {source}: {exc}") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SpiceError(
            f"the spice payload {'on standard input' if source == '-' else source} is not JSON: {exc}"
        ) from exc
    if not isinstance(data, dict):
        raise SpiceError(f"the spice payload {source} must be a JSON object of field: value")
    return data


def _spice(args: argparse.Namespace) -> int:
    options: dict[str, Any] = {} if args.spice_url is None else {"spice_url": args.spice_url}
    if args.dry:
        options["spice_dry_run"] = True
    repo = open_repository(args.url, beamline=args.beamline, **options)
    book = repo[args.proposal].spice
    words, fields = _split_fields(args.words)
    fields = {**_payload(args.payload), **fields}
    action = args.action

    def need(n: int, usage: str) -> list[str]:
        if len(words) != n:
            raise SpiceError(f"usage: nx5d spice URL PROPOSAL {action} {usage}")
        return words

    result: Any
    if action == "ls":
        need(0, "")
        result = book.ls()
    elif action == "view":
        (scan,) = need(1, "SCAN")
        result = book.view(scan)
    elif action == "history":
        (handle,) = need(1, "HANDLE")
        result = book.history(handle)
    elif action == "seed":
        (handle,) = need(1, "HANDLE field=value ...")
        result = book.seed(handle, fields)
    elif action in ("update", "resolve"):
        if len(words) not in (1, 2):
            raise SpiceError(f"usage: nx5d spice URL PROPOSAL {action} (SCAN HANDLE | UUID-PREFIX) field=value ...")
        method = getattr(book, action)
        extra = {"keep": args.keep} if action == "resolve" and args.keep else {}
        result = method(*words, payload=fields, **extra)
    elif action in ("anchor", "withdraw"):
        scan, handle = need(2, "SCAN HANDLE")
        result = getattr(book, action)(scan, handle)
    elif action == "import":
        (folder,) = need(1, "FOLDER (an nx5d 3.x spice folder of this proposal)")
        result = book.import_nx5d3(folder)
    elif action == "preset":
        if not words:
            print(json.dumps(book.presets(), indent=2))
            return 0
        (name,) = need(1, "[NAME]")
        result = book.seed_preset(name)
    else:  # pragma: no cover - argparse restricts the choices
        raise SpiceError(f"unknown spice action {action!r}")
    if isinstance(result, SpiceView):
        payload = result.rows()
    elif isinstance(result, SpiceHistory):
        payload = result.records
    else:
        payload = result
    if args.json or isinstance(result, dict | list):
        print(json.dumps(payload, indent=2, default=str))
    else:
        print(repr(result))
    if args.dry:
        print(
            f"dry run: nothing written ({len(book.store.pending(book.proposal.key))} record(s) would be)",
            file=sys.stderr,
        )
    return 0


def _cook(args: argparse.Namespace) -> int:
    from nx5d.app.batch import CookOutcome, cook_proposal

    repo = open_repository(args.url, beamline=args.beamline, **_loading_options(args))
    proposals = [args.proposal] if args.proposal else repo.keys()
    failed = 0

    def report(outcome: CookOutcome) -> None:
        where = outcome.path if outcome.status != "failed" else outcome.error
        print(f"  {outcome.scan}: {outcome.status} {where or ''}".rstrip(), file=sys.stderr, flush=True)

    for key in proposals:
        where = f"on {args.scheduler}" if args.scheduler else f"in {args.workers or os.cpu_count() or 1} process(es)"
        print(f"cooking proposal {key} {where} ...", file=sys.stderr, flush=True)
        outcomes = cook_proposal(
            repo[key],
            args.scans,
            out=args.out,
            format=args.format,
            client=args.scheduler,
            workers=args.workers,
            report=report,
        )
        rows = [{"scan": o.scan, "status": o.status, "file": o.path, "error": o.error} for o in outcomes]
        print(Table(["scan", "status", "file", "error"], rows, title=f"proposal {key}").to_text())
        failed += sum(o.status == "failed" for o in outcomes)
    return 1 if failed else 0


def _repos(args: argparse.Namespace) -> int:
    found = repositories()
    rows = [{"name": r.name, "url": r.url, "beamline": r.beamline, **r.options} for r in found.values()]
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    title = f"named repositories in {config_path()}" + ("" if found else " (none; see nx5d.config)")
    print(Table(["name", "beamline", "url"], rows, title=title).to_text())
    return 0


def _export(args: argparse.Namespace) -> int:
    from nx5d.app.export import export_scans
    from nx5d.app.files import require_writer

    require_writer(args.format)  # before anything is read
    repo = open_repository(args.url, beamline=args.beamline)
    proposal = repo[args.proposal]
    keys = select_scans(list(proposal.listing(refresh=True)), args.scans)
    paths = export_scans(proposal, keys, args.out, raw=args.raw, format=args.format, **_loading_options(args))
    for path in paths:
        print(path)
    return 0


def _plot(args: argparse.Namespace) -> int:
    from nx5d.app.export import quick_look

    repo = open_repository(args.url, beamline=args.beamline, **_loading_options(args))
    proposal = repo[args.proposal]
    scan = proposal.scan(proposal.scan_key(args.scan))
    figure = quick_look(scan, raw=args.raw, counters=args.counter or ())
    out = args.out or f"{args.proposal}-{scan.key.replace('/', '-')}{'-raw' if args.raw else ''}.png"
    figure.savefig(out, dpi=args.dpi)
    print(out)
    return 0


def _new_plugin(args: argparse.Namespace) -> int:
    from nx5d.app.scaffold import new_plugin

    folder = new_plugin(args.name, args.dir, description=args.description)
    print(f"wrote {folder}")
    print(f"next: pip install -e '{folder}[test]' && pytest {folder / 'tests'}")
    print(f"then adapt the places marked FILL IN in {folder / 'src'}")
    return 0


#: The repository argument of every command that opens one.
REPOSITORY_HELP = "repository: URL pattern (file:///data/{proposal}/{scan}), path or name (default: $NX5D_DATA_REPO)"


def _beamline_arguments(p: argparse.ArgumentParser) -> None:
    """``--beamline`` and the repeatable ``--option NAME=VALUE`` of commands that open a repository."""
    p.add_argument("--beamline", help="beamline plugin to use (default: chosen from the URL)")
    p.add_argument("--option", "-o", action="append", metavar="NAME=VALUE", help=OPTION_HELP)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nx5d", description="Find, list and load X-ray diffraction scan data.")
    parser.add_argument("--version", action="version", version=f"nx5d {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("plugins", help="list installed beamline plugins and whether they load")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--verbose", action="store_true", help="also list each beamline's loading options")
    p.set_defaults(func=_plugins)

    p = sub.add_parser("recipes", help="list the installed cooking recipes and whether they load")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_recipes)

    p = sub.add_parser("ls", help="list the proposals of a repository, or the scans of one proposal")
    p.add_argument("url", help=REPOSITORY_HELP)
    p.add_argument("proposal", nargs="?", help="proposal key: list its scans with their summaries")
    _beamline_arguments(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_ls)

    p = sub.add_parser("cook", help="cook scans into NetCDF/Zarr files with provenance, skipping up-to-date ones")
    p.add_argument("url", help=REPOSITORY_HELP)
    p.add_argument("--proposal", help="proposal key (default: every proposal)")
    p.add_argument("--scans", help="glob pattern of scan keys (default: all)")
    p.add_argument("--out", required=True, help="output folder: files go to OUT/PROPOSAL/SCAN.nc")
    p.add_argument("--format", default="netcdf", choices=list(FORMATS))
    p.add_argument("--scheduler", help="dask.distributed scheduler address (default: a local process pool)")
    p.add_argument("--workers", type=int, help="local processes (default: the number of CPUs)")
    _beamline_arguments(p)
    p.set_defaults(func=_cook)
    p = sub.add_parser("export", help="write scans' raw or cooked data to NetCDF, HDF5 or Zarr files")
    p.add_argument("url", help=REPOSITORY_HELP)
    p.add_argument("proposal", help="proposal key")
    p.add_argument("scans", nargs="?", help="glob pattern of scan keys (default: all)")
    p.add_argument("--out", required=True, help="output folder: files go to OUT/PROPOSAL/SCAN.nc")
    p.add_argument("--raw", action="store_true", help="the data as recorded (default: cooked with the scan's spice)")
    p.add_argument("--format", default="netcdf", choices=list(FORMATS))
    _beamline_arguments(p)
    p.set_defaults(func=_export)

    p = sub.add_parser("plot", help="a quick look at one scan, as a PNG file: its maps or profile, or raw data")
    p.add_argument("url", help=REPOSITORY_HELP)
    p.add_argument("proposal", help="proposal key")
    p.add_argument("scan", help="scan key or handle")
    p.add_argument("--raw", action="store_true", help="the frames summed and counters, instead of cooked data")
    p.add_argument("--counter", action="append", help="with --raw: a counter to draw (repeat)")
    p.add_argument("--out", help="the picture's file (default: PROPOSAL-SCAN.png here)")
    p.add_argument("--dpi", type=int, default=100)
    _beamline_arguments(p)
    p.set_defaults(func=_plot)

    p = sub.add_parser("repos", help="list the named repositories of the configuration file")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_repos)

    p = sub.add_parser("new-plugin", help="write a distribution folder for a new beamline plugin")
    p.add_argument("name", help="beamline name (lower-case letters, digits, underscores), e.g. 'p08'")
    p.add_argument("--dir", default=".", help="folder to write nx5d-NAME/ into (default: here)")
    p.add_argument("--description", help="one line describing the beamline and its format")
    p.set_defaults(func=_new_plugin)

    p = sub.add_parser(
        "spice",
        help="read and write a proposal's spice",
        description="Spice of one proposal.  Actions: ls; view SCAN; history HANDLE; seed HANDLE f=v ...; "
        "update SCAN HANDLE f=v ... (or update UUID-PREFIX f=v ...); anchor SCAN HANDLE; withdraw SCAN HANDLE; "
        "resolve SCAN HANDLE [--keep UUID] [f=v ...]; preset [NAME] (list the beamline's presets, or seed one); "
        "import FOLDER (nx5d 3.x records, kept whole).  Values are JSON where they parse as JSON (680.0, [50,120]), "
        "else text.",
    )
    p.add_argument("url", help=REPOSITORY_HELP)
    p.add_argument("proposal", help="proposal key")
    p.add_argument(
        "action",
        choices=["ls", "view", "history", "seed", "update", "anchor", "withdraw", "resolve", "preset", "import"],
    )
    p.add_argument("words", nargs="*", help="scan, handle, uuid prefix and field=value arguments of the action")
    p.add_argument("--beamline", help="beamline plugin to use")
    p.add_argument("--spice-url", help="where spice is kept (default: the beamline's default location)")
    p.add_argument("--keep", help="with resolve: uuid prefix of the conflicting record to keep")
    p.add_argument("--payload", metavar="FILE", help="fields from a JSON file ('-': standard input), under field=value")
    p.add_argument("--dry", action="store_true", help="show what would be written and how views change; write nothing")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_spice)

    p = sub.add_parser(
        "watch",
        help="follow a proposal during a beamtime: each new scan, cooked once complete",
        description="Print every new scan of PROPOSAL once it is complete -- as its file says (all planned "
        "points, an end mark, a later scan in the file) or, where the file does not say, once a later scan exists "
        "or it stayed unchanged for --settle seconds -- cooked with its spice; with --out, write each cooked result "
        "there.  A scan that changes after it was printed is printed again as 'updated'.  Stops with Ctrl-C, or "
        "after --idle-timeout seconds without a new scan.",
    )
    p.add_argument("url", help=REPOSITORY_HELP)
    p.add_argument("proposal", help="proposal key")
    p.add_argument("--poll", type=float, default=5.0, help="seconds between looks (default 5)")
    p.add_argument(
        "--settle",
        type=float,
        default=30.0,
        help="where the file does not say whether a scan is finished: seconds the last scan must stay unchanged "
        "(default 30)",
    )
    p.add_argument(
        "--stall",
        type=float,
        default=600.0,
        help="seconds a scan its file says is running must stay unchanged to count as stopped (default 600)",
    )
    p.add_argument("--all", action="store_true", help="also the scans that exist already")
    p.add_argument("--no-cook", action="store_true", help="only list new scans")
    p.add_argument("--out", help="write each cooked result to OUT/PROPOSAL/SCAN.nc")
    p.add_argument("--format", default="netcdf", choices=list(FORMATS))
    p.add_argument("--idle-timeout", type=float, help="stop after this many seconds without a new scan")
    _beamline_arguments(p)
    p.set_defaults(func=_watch)
    return parser


def _watch(args: argparse.Namespace) -> int:
    repo = open_repository(args.url, beamline=args.beamline, **_loading_options(args))
    proposal = repo[args.proposal]
    arrivals = proposal.follow(
        poll=args.poll,
        settle=args.settle,
        stall=args.stall,
        cook=not args.no_cook,
        new_only=not args.all,
        idle_timeout=args.idle_timeout,
    )
    failed = False
    try:
        for arrival in arrivals:
            summary = arrival.scan.summary if arrival.error is None else {}
            line = f"{arrival.scan.key}: {summary.get('type', '')} {summary.get('steps', '')} steps".rstrip()
            if arrival.update:
                line = line.replace(":", ": updated:", 1)
            if arrival.error is not None:
                failed = True
                line = f"{arrival.scan.key}: failed: {arrival.error}"
            elif arrival.cooked is not None:
                sizes = getattr(arrival.cooked, "sizes", {})
                line += f"; cooked ({', '.join(f'{d} {n}' for d, n in sizes.items())})"
                if args.out:
                    from nx5d.app.batch import write_cooked

                    line += f" -> {write_cooked(arrival.cooked, args.out, proposal.key, arrival.scan.key, args.format)}"
            print(line + (f" ({arrival.note})" if arrival.note else ""), flush=True)
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
        return 130
    return 1 if failed else 0


#: Commands whose first argument is a repository (a URL pattern or a name; omitted: ``$NX5D_DATA_REPO``).
REPOSITORY_COMMANDS = ("ls", "cook", "export", "plot", "spice", "watch")


def _with_default_repository(argv: list[str]) -> list[str]:
    """``argv`` with ``$NX5D_DATA_REPO`` put in where a repository command names no repository."""
    default = os.environ.get(DATA_REPO)
    positional = [i for i, word in enumerate(argv) if not word.startswith("-")]
    if not default or not positional or argv[positional[0]] not in REPOSITORY_COMMANDS:
        return argv
    command = positional[0]
    first = positional[1] if len(positional) > 1 else None
    names = set(repositories())
    if first is not None and ("://" in argv[first] or argv[first] in names or argv[first].startswith(("/", "~", "."))):
        return argv
    return [*argv[: command + 1], default, *argv[command + 1 :]]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``nx5d`` command; returns the exit status."""
    words = list(sys.argv[1:] if argv is None else argv)
    try:
        words = _with_default_repository(words)
    except Nx5dError as exc:
        print(f"nx5d: error: {exc}", file=sys.stderr)
        return 2
    parser = _parser()
    argcomplete.autocomplete(parser)  # answers the shell's completion requests; a no-op otherwise
    args = parser.parse_args(words)
    try:
        return args.func(args)
    except Nx5dError as exc:
        print(f"nx5d: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nx5d: interrupted", file=sys.stderr)
        return 130
