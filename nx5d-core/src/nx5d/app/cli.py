# PYTHON_ARGCOMPLETE_OK
"""The ``nx5d`` command line: inspect plugins and recipes, list, cook, export and plot repositories.

Shell completion: ``eval "$(register-python-argcomplete nx5d)"`` (bash, zsh).  This module
builds the parser only -- ``nx5d --version`` and every Tab press import nothing more --; what a
command does is in [`nx5d.app.commands`][nx5d.app.commands], imported once a command runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

import argcomplete

from nx5d.app import completion
from nx5d.config import DATA_REPO, repositories
from nx5d.errors import Nx5dError
from nx5d.version import __version__

__all__ = ["main"]

OPTION_HELP = (
    "a loading option of the beamline (repeat; nx5d plugins --verbose lists them), "
    "e.g. -o tiffs='pilatus/S{scan:05d}/{fname}_{scan}_{frame}.tif' -o reduce=2"
)


#: The repository argument of every command that opens one.
REPOSITORY_HELP = "repository: URL pattern (file:///data/{proposal}/{scan}), path or name (default: $NX5D_DATA_REPO)"


def _beamline_arguments(p: argparse.ArgumentParser) -> None:
    """``--beamline`` and the repeatable ``--option NAME=VALUE`` of commands that open a repository."""
    p.add_argument("--beamline", help="beamline plugin to use (default: chosen from the URL)")
    p.add_argument("--option", "-o", action="append", metavar="NAME=VALUE", help=OPTION_HELP)


def _url(p: argparse.ArgumentParser) -> None:
    """The repository argument; Tab completes the named repositories."""
    p.add_argument("url", help=REPOSITORY_HELP).completer = completion.complete_repositories  # type: ignore[attr-defined]


def _proposal(p: argparse.ArgumentParser, **kwargs: Any) -> None:
    """The proposal argument; Tab completes the repository's proposals (keys and handles)."""
    kwargs.setdefault("help", "proposal key")
    p.add_argument("proposal", **kwargs).completer = completion.complete_proposals  # type: ignore[attr-defined]


def _scan(p: argparse.ArgumentParser) -> None:
    """The scan argument; Tab completes the proposal's scans (keys and handles)."""
    p.add_argument("scan", help="scan key or handle").completer = completion.complete_scans  # type: ignore[attr-defined]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nx5d", description="Find, list and load X-ray diffraction scan data.")
    parser.add_argument("--version", action="version", version=f"nx5d {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("plugins", help="list installed beamline plugins and whether they load")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--verbose", action="store_true", help="also list each beamline's loading options")
    p.set_defaults(command="plugins")

    p = sub.add_parser("recipes", help="list the installed cooking recipes and whether they load")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(command="recipes")

    p = sub.add_parser("ls", help="list the proposals of a repository, or the scans of one proposal")
    _url(p)
    _proposal(p, nargs="?", help="proposal key: list its scans with their summaries")
    _beamline_arguments(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(command="ls")

    p = sub.add_parser("cook", help="cook scans into NetCDF/Zarr files with provenance, skipping up-to-date ones")
    _url(p)
    p.add_argument("--proposal", help="proposal key (default: every proposal)")
    p.add_argument("--scans", help="glob pattern of scan keys (default: all)")
    p.add_argument("--out", required=True, help="output folder: files go to OUT/PROPOSAL/SCAN.nc")
    p.add_argument("--format", default="netcdf", help="netcdf (default), hdf5 or zarr")
    p.add_argument("--scheduler", help="dask.distributed scheduler address (default: a local process pool)")
    p.add_argument("--workers", type=int, help="local processes (default: the number of CPUs)")
    _beamline_arguments(p)
    p.set_defaults(command="cook")
    p = sub.add_parser("export", help="write scans' cooked or raw data to NeXus (or NetCDF, HDF5, Zarr) files")
    _url(p)
    _proposal(p)
    p.add_argument("scans", nargs="?", help="glob pattern of scan keys (default: all)")
    p.add_argument(
        "--out", required=True, help="output folder: OUT/PROPOSAL/SCAN.nxs (cooked), OUT/PROPOSAL/raw/SCAN.nxs (raw)"
    )
    p.add_argument("--raw", action="store_true", help="the data as recorded (default: cooked with the scan's spice)")
    p.add_argument("--format", default="nexus", help="nexus (default), netcdf, hdf5 or zarr")
    p.add_argument("--overwrite", action="store_true", help="replace files that exist (default: refuse)")
    _beamline_arguments(p)
    p.set_defaults(command="export")

    p = sub.add_parser("reproduce", help="cook a result file's scan again exactly as it was made, and compare")
    p.add_argument("file", help="a result file written by nx5d cook, nx5d export or nx5d watch --out")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(command="reproduce")

    p = sub.add_parser("search", help="find scans by type, motor and range, sample, time, counters or text")
    _url(p)
    p.add_argument("--proposal", default="*", help="glob pattern of proposal keys or handles (default: all)")
    p.add_argument("--type", help="scan type, a glob (ascan, '*mesh')")
    p.add_argument("--motor", help="scanned motor, a glob")
    p.add_argument("--range", nargs="+", type=float, metavar="VALUE", help="LOW HIGH (or one value) the motor reached")
    p.add_argument("--sample", help="sample name, a glob ('SrRuO3*')")
    p.add_argument("--since", help="started at or after (ISO 8601: 2024-03-01, 2024-03-01T12:00)")
    p.add_argument("--until", help="started before (ISO 8601)")
    p.add_argument("--counter", action="append", help="a counter the scan recorded (repeat: all of them)")
    p.add_argument("--text", help="words to find in the command, title, comments or sample")
    p.add_argument("--index", help="the scan index to use (a folder, file or postgresql:// URL; default: $NX5D_INDEX)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _beamline_arguments(p)
    p.set_defaults(command="search")

    p = sub.add_parser("plot", help="a quick look at one scan, as a PNG file: its maps or profile, or raw data")
    _url(p)
    _proposal(p)
    _scan(p)
    p.add_argument("--raw", action="store_true", help="the frames summed and counters, instead of cooked data")
    p.add_argument("--counter", action="append", help="with --raw: a counter to draw (repeat)")
    p.add_argument("--out", help="the picture's file (default: PROPOSAL-SCAN.png here)")
    p.add_argument("--dpi", type=int, default=100)
    _beamline_arguments(p)
    p.set_defaults(command="plot")

    p = sub.add_parser("repos", help="list the named repositories of the configuration file")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(command="repos")

    p = sub.add_parser("new-plugin", help="write a distribution folder for a new beamline plugin")
    p.add_argument("name", help="beamline name (lower-case letters, digits, underscores), e.g. 'p08'")
    p.add_argument("--dir", default=".", help="folder to write nx5d-NAME/ into (default: here)")
    p.add_argument("--description", help="one line describing the beamline and its format")
    p.add_argument(
        "--template",
        choices=("nexus", "text", "folder"),
        default="nexus",
        help="the example format: one NeXus file per scan (default), a text file per scan with a frame folder "
        "beside it, or a folder per scan with a table and TIFF frames",
    )
    p.set_defaults(command="new_plugin")

    p = sub.add_parser(
        "spice",
        help="read and write a proposal's spice",
        description="Spice of one proposal.  Actions: ls; view SCAN; history HANDLE; seed HANDLE f=v ...; "
        "update SCAN HANDLE f=v ... (or update UUID-PREFIX f=v ...); anchor SCAN HANDLE; withdraw SCAN HANDLE; "
        "resolve SCAN HANDLE [--keep UUID] [f=v ...]; preset [NAME] (list the beamline's presets, or seed one); "
        "import FOLDER (nx5d 3.x records, kept whole).  Values are JSON where they parse as JSON (680.0, [50,120]), "
        "else text.",
    )
    _url(p)
    _proposal(p)
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
    p.set_defaults(command="spice")

    p = sub.add_parser(
        "watch",
        help="follow a proposal during a beamtime: each new scan, cooked once complete",
        description="Print every new scan of PROPOSAL once it is complete -- as its file says (all planned "
        "points, an end mark, a later scan in the file) or, where the file does not say, once a later scan exists "
        "or it stayed unchanged for --settle seconds -- cooked with its spice; with --out, write each cooked result "
        "there.  A scan that changes after it was printed is printed again as 'updated'.  Stops with Ctrl-C, or "
        "after --idle-timeout seconds without a new scan.",
    )
    _url(p)
    _proposal(p)
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
    p.add_argument("--format", default="netcdf", help="netcdf (default), hdf5 or zarr")
    p.add_argument("--idle-timeout", type=float, help="stop after this many seconds without a new scan")
    p.add_argument(
        "--partial",
        type=float,
        metavar="SECONDS",
        help="also print the map of a scan being measured whenever it has new points, at most every SECONDS "
        "(0: at every look); with --out, to OUT/PROPOSAL/SCAN.partial.nc, replaced whole at each update and "
        "removed once the scan's final map is written",
    )
    _beamline_arguments(p)
    p.set_defaults(command="watch")
    return parser


#: Commands whose first argument is a repository (a URL pattern or a name; omitted: ``$NX5D_DATA_REPO``).
REPOSITORY_COMMANDS = ("ls", "cook", "export", "plot", "spice", "watch", "search")


def _positionals(argv: list[str], parser: argparse.ArgumentParser) -> list[int]:
    """The places of ``argv``'s positional words: neither options nor the values options take (``--out DIR``)."""
    commands = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
    options: dict[str, argparse.Action] = {o: a for a in parser._actions for o in a.option_strings}
    found: list[int] = []
    skip = False
    for i, word in enumerate(argv):
        if skip:
            skip = False
            continue
        if word.startswith("-") and word != "-":
            action = options.get(word.split("=", 1)[0])
            skip = action is not None and action.nargs != 0 and "=" not in word
            continue
        found.append(i)
        if len(found) == 1 and commands is not None and word in commands.choices:  # the command's own options
            sub = commands.choices[word]
            options.update({o: a for a in sub._actions for o in a.option_strings})
    return found


def _with_default_repository(argv: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """``argv`` with ``$NX5D_DATA_REPO`` put in where a repository command names no repository."""
    default = os.environ.get(DATA_REPO)
    positional = _positionals(argv, parser)
    if not default or not positional or argv[positional[0]] not in REPOSITORY_COMMANDS:
        return argv
    command = positional[0]
    first = positional[1] if len(positional) > 1 else None
    names = set(repositories())
    if first is not None and ("://" in argv[first] or argv[first] in names or argv[first].startswith(("/", "~", "."))):
        return argv
    return [*argv[: command + 1], default, *argv[command + 1 :]]


def _silence_stdout() -> None:
    """Send what is left of standard output nowhere, so Python's flush at exit finds no closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no file descriptor (a test's captured output): nothing is flushed there
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``nx5d`` command; returns the exit status."""
    words = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    argcomplete.autocomplete(parser)  # answers the shell's completion requests; a no-op otherwise
    try:
        words = _with_default_repository(words, parser)
    except Nx5dError as exc:
        print(f"nx5d: error: {exc}", file=sys.stderr)
        return 2
    args = parser.parse_args(words)
    try:
        from nx5d.app import commands

        return int(getattr(commands, args.command)(args))
    except Nx5dError as exc:
        print(f"nx5d: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nx5d: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (``nx5d plugins --json | head``): nothing more to say
        _silence_stdout()
        return 141  # as a program ended by SIGPIPE
