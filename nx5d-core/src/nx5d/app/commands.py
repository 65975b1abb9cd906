"""What each ``nx5d`` command does, imported once the command line is parsed (see [`nx5d.app.cli`][nx5d.app.cli]).

Each function takes the parsed arguments and returns the exit status.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from nx5d.addressing.keys import select_keys
from nx5d.config import config_path, refused_repositories, repositories
from nx5d.display import Table
from nx5d.errors import NotFoundError, OptionError, SpiceError
from nx5d.io.blocks import usable_cpus
from nx5d.model.open import open_repository
from nx5d.optional import optional_module
from nx5d.options import OptionInfo, describe_options
from nx5d.plugins.discovery import registry
from nx5d.recipes.registry import recipes as installed_recipes
from nx5d.spice.view import SpiceHistory, SpiceView
from nx5d.version import __version__

__all__ = [
    "plugins",
    "recipes",
    "ls",
    "spice",
    "cook",
    "repos",
    "export",
    "plot",
    "new_plugin",
    "watch",
    "reproduce",
    "search",
]


def plugins(args: argparse.Namespace) -> int:
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
    columns = ["name", "kind", "distribution", "version", "state", "level"]
    print(Table(columns, rows, title=f"nx5d {__version__} plugins").to_text())
    _url_examples(rows)
    for row in rows:
        if row["error"]:
            print(f"\n{row['name']}: {row['error']}")
        elif args.verbose and row["option details"]:
            print(f"\n{row['name']} loading options:")
            for detail in row["option details"]:
                print(f"  {OptionInfo(**detail).describe()}")
    return 0


def _url_examples(rows: list[dict[str, Any]]) -> None:
    """Each beamline's URL examples, one per line (whole: a cut example cannot be copied)."""
    named = [(row["name"], row["url examples"].split(", ")) for row in rows if row["url examples"]]
    if not named:
        return
    width = max(len(name) for name, _ in named)
    print("\nurl examples (nx5d.open(URL), nx5d ls URL):")
    for name, examples in named:
        for i, example in enumerate(examples):
            print(f"  {name if i == 0 else '':<{width}}  {example}")


def recipes(args: argparse.Namespace) -> int:
    rows = [
        {
            "name": s.name,
            "distribution": s.distribution,
            "state": s.state,
            "description": s.description,
            "error": s.error,
        }
        for s in installed_recipes().statuses()
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


def _proposal(repo: Any, word: str) -> Any:
    """The proposal ``word`` names on the command line: its key, or else its handle (``nx5d ls URL p1234``)."""
    if word in repo.listing(refresh=True):
        return repo[word]
    try:
        return repo.proposal(handle=word)
    except NotFoundError:
        return repo[word]  # the key's error, with its did-you-mean


def ls(args: argparse.Namespace) -> int:
    repo = open_repository(args.url, beamline=args.beamline, options=_loading_options(args))
    target = repo if args.proposal is None else _proposal(repo, args.proposal)
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


#: ``{action: (usage, words it takes, what it does)}`` of ``nx5d spice``; ``what`` gets the spice book, the
#: words, the fields (``field=value`` and the payload) and the arguments.
_SPICE_ACTIONS: dict[str, tuple[str, tuple[int, ...], Any]] = {
    "ls": ("", (0,), lambda book, words, fields, args: book.ls()),
    "view": ("SCAN", (1,), lambda book, words, fields, args: book.view(*words)),
    "history": ("HANDLE", (1,), lambda book, words, fields, args: book.history(*words)),
    "seed": ("HANDLE field=value ...", (1,), lambda book, words, fields, args: book.seed(words[0], fields)),
    "update": (
        "(SCAN HANDLE | UUID-PREFIX) field=value ...",
        (1, 2),
        lambda book, words, fields, args: book.update(*words, payload=fields),
    ),
    "resolve": (
        "(SCAN HANDLE | UUID-PREFIX) field=value ...",
        (1, 2),
        lambda book, words, fields, args: book.resolve(
            *words, payload=fields, **({"keep": args.keep} if args.keep else {})
        ),
    ),
    "anchor": ("SCAN HANDLE", (2,), lambda book, words, fields, args: book.anchor(*words)),
    "withdraw": ("SCAN HANDLE", (2,), lambda book, words, fields, args: book.withdraw(*words)),
    "import": (
        "FOLDER (an nx5d 3.x spice folder of this proposal)",
        (1,),
        lambda book, words, fields, args: book.import_nx5d3(*words),
    ),
    "preset": (
        "[NAME]",
        (0, 1),
        lambda book, words, fields, args: book.seed_preset(*words) if words else book.presets(),
    ),
}


def spice(args: argparse.Namespace) -> int:
    options: dict[str, Any] = {} if args.spice_url is None else {"spice_url": args.spice_url}
    if args.dry:
        options["spice_dry_run"] = True
    repo = open_repository(args.url, beamline=args.beamline, **options)
    book = _proposal(repo, args.proposal).spice
    words, fields = _split_fields(args.words)
    fields = {**_payload(args.payload), **fields}
    usage, counts, act = _SPICE_ACTIONS[args.action]
    if len(words) not in counts:
        raise SpiceError(f"usage: nx5d spice URL PROPOSAL {args.action} {usage}".rstrip())
    started = datetime.now(UTC)
    result = act(book, words, fields, args)
    if isinstance(result, SpiceView):
        payload: Any = result.rows()
    elif isinstance(result, SpiceHistory):
        payload = result.records
    else:
        payload = result
    if args.json:
        print(json.dumps(payload, indent=2, default=str))
    elif _is_record(result) or (isinstance(result, list) and result and all(map(_is_record, result))):
        for record in result if isinstance(result, list) else [result]:
            print(_written(record, dry=args.dry, started=started))
    elif isinstance(result, dict | list):
        print(json.dumps(payload, indent=2, default=str))
    else:
        print(repr(result))
    if args.dry:
        print(
            f"dry run: nothing written ({len(book.store.pending(book.proposal.key))} record(s) would be)",
            file=sys.stderr,
        )
    return 0


def _is_record(value: Any) -> bool:
    return isinstance(value, dict) and {"handle", "revision", "uuid", "anchor"} <= value.keys()


def _written(record: dict[str, Any], dry: bool, started: datetime) -> str:
    """One line for a spice record a command wrote or kept (``--json`` prints the record itself)."""
    where = f"from scan {record['anchor']}" if record["anchor"] else "from the proposal start"
    if record.get("data") is None:
        what = "withdrawn"
    else:
        what = ", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in record["data"].items()) or "no fields"
    verb = "would write" if dry else "wrote"
    if datetime.fromisoformat(str(record["created"])) < started:
        verb = "kept"  # written before this command (a seed of a handle seeded before)
    kind = f" ({record['type']})" if record.get("type", record["handle"]) != record["handle"] else ""
    uuid = str(record["uuid"])[:8]
    return f"{verb} revision {record['revision']} of {record['handle']}{kind} {where}, uuid {uuid}: {what}"


def _results(module: str, what: str) -> Any:
    """A module of the nx5d-results distribution (cooking many scans, exports), or the line to install it."""
    return optional_module(f"nx5d_results.{module}", "nx5d-results", what)


def cook(args: argparse.Namespace) -> int:
    batch = _results("batch", "nx5d cook")
    _results("files", "nx5d cook").require_writer(args.format)  # before anything is read

    repo = open_repository(args.url, beamline=args.beamline, options=_loading_options(args))
    proposals = [args.proposal] if args.proposal else repo.keys()
    failed = 0

    def report(outcome: Any) -> None:
        where = outcome.path if outcome.status != "failed" else outcome.error
        print(f"  {outcome.scan}: {outcome.status} {where or ''}".rstrip(), file=sys.stderr, flush=True)

    for key in proposals:
        where = f"on {args.scheduler}" if args.scheduler else f"in {args.workers or usable_cpus()} process(es)"
        print(f"cooking proposal {key} {where} ...", file=sys.stderr, flush=True)
        outcomes = batch.cook_proposal(
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


def repos(args: argparse.Namespace) -> int:
    found, refused = repositories(), refused_repositories()
    rows = [{"name": r.name, "url": r.url, "beamline": r.beamline, **r.options} for r in found.values()]
    for name, error in refused.items():  # what is refused is never shown: it may hold a secret
        print(f"nx5d: refused repository {name!r}: {error}", file=sys.stderr)
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 1 if refused else 0
    title = f"named repositories in {config_path()}" + ("" if found else " (none; see nx5d.config)")
    print(Table(["name", "beamline", "url"], rows, title=title).to_text())
    return 1 if refused else 0


def export(args: argparse.Namespace) -> int:
    export = _results("export", "nx5d export")
    _results("files", "nx5d export").require_writer(args.format)  # before anything is read
    repo = open_repository(args.url, beamline=args.beamline)
    proposal = _proposal(repo, args.proposal)
    keys = select_keys(list(proposal.listing(refresh=True)), args.scans)
    paths = export.export_scans(
        proposal, keys, args.out, raw=args.raw, format=args.format, overwrite=args.overwrite, **_loading_options(args)
    )
    for path in paths:
        print(path)
    return 0


def reproduce(args: argparse.Namespace) -> int:
    found = _results("reproduce", "nx5d reproduce").reproduce(args.file)
    if args.json:
        print(json.dumps({"identical": found.identical, "differences": found.differences, "notes": found.notes}))
    else:
        print(found)
    return 0 if found.identical else 1


def search(args: argparse.Namespace) -> int:
    searching = optional_module("nx5d_index.command", "nx5d-index", "nx5d search")
    if args.index is not None:
        searching.scan_index.location = args.index
    repo = open_repository(args.url, beamline=args.beamline, options=_loading_options(args))
    criteria = {
        name: getattr(args, name)
        for name in ("type", "motor", "sample", "since", "until", "text")
        if getattr(args, name) is not None
    }
    if args.range:
        criteria["range"] = args.range[0] if len(args.range) == 1 else tuple(args.range[:2])
    if args.counter:
        criteria["counters"] = args.counter
    searching.print_search(repo, args.proposal, as_json=args.json, **criteria)
    return 0


def plot(args: argparse.Namespace) -> int:
    plot = optional_module("nx5d_rsm.plot", "nx5d-rsm", "nx5d plot", "plot")

    repo = open_repository(args.url, beamline=args.beamline, options=_loading_options(args))
    proposal = _proposal(repo, args.proposal)
    scan = proposal.scan(proposal.scan_key(args.scan))
    figure = plot.quick_look(scan, raw=args.raw, counters=args.counter or ())
    out = args.out or f"{args.proposal}-{scan.key.replace('/', '-')}{'-raw' if args.raw else ''}.png"
    figure.savefig(out, dpi=args.dpi)
    print(out)
    return 0


def new_plugin(args: argparse.Namespace) -> int:
    from nx5d.app.scaffold import new_plugin

    folder = new_plugin(args.name, args.dir, description=args.description, template=args.template)
    print(f"wrote {folder}")
    print(f"next: pip install -e '{folder}[test]' && pytest {folder / 'tests'}")
    print(f"then adapt the places marked FILL IN in {folder / 'src'}")
    return 0


def _watched_line(arrival: Any, args: argparse.Namespace, proposal: str) -> str:
    """What ``nx5d watch`` prints of an arrival, after writing its map with ``--out``.

    A partial map goes to ``OUT/PROPOSAL/SCAN.partial.nc``, replaced at each
    update; once the scan is handed out complete (cooked or failed), that
    file is removed (after the final map is written).
    """
    key = arrival.scan.key
    if arrival.error is not None:
        if args.out:
            _results("batch", "nx5d watch --out").remove_partial(args.out, proposal, key, args.format)
        return f"{key}: failed: {arrival.error}" + (f" ({arrival.note})" if arrival.note else "")
    summary = arrival.scan.summary
    steps = "" if arrival.partial else f" {summary.get('steps', '')} steps"  # a partial map: its note says
    line = f"{key}: {summary.get('type', '')}{steps}".rstrip()
    if arrival.update or arrival.partial:
        line = line.replace(":", ": partial:" if arrival.partial else ": updated:", 1)
    if arrival.cooked is not None:
        sizes = getattr(arrival.cooked, "sizes", {})
        line += f"; cooked ({', '.join(f'{d} {n}' for d, n in sizes.items())})"
        if args.out:
            batch = _results("batch", "nx5d watch --out")
            name = key + batch.PARTIAL if arrival.partial else key
            line += f" -> {batch.write_cooked(arrival.cooked, args.out, proposal, name, args.format)}"
            if not arrival.partial:
                batch.remove_partial(args.out, proposal, key, args.format)
    return line + (f" ({arrival.note})" if arrival.note else "")


def watch(args: argparse.Namespace) -> int:
    repo = open_repository(args.url, beamline=args.beamline, options=_loading_options(args))
    proposal = _proposal(repo, args.proposal)
    if args.out:
        _results("files", "nx5d watch --out").require_writer(args.format)  # before anything is followed
    arrivals = proposal.follow(
        poll=args.poll,
        settle=args.settle,
        stall=args.stall,
        cook=not args.no_cook,
        new_only=not args.all,
        idle_timeout=args.idle_timeout,
        partial=args.partial,
    )
    failed = False
    try:
        for arrival in arrivals:
            failed |= arrival.error is not None
            print(_watched_line(arrival, args, proposal.key), flush=True)
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
        return 130
    return 1 if failed else 0
