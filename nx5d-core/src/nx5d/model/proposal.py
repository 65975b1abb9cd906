"""Proposals: the scans of one experiment (beamtime)."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from nx5d.addressing.handles import KeyToHandle
from nx5d.addressing.url import UrlPattern
from nx5d.deprecation import overridden
from nx5d.display import Table
from nx5d.errors import HandleNotFoundError, Nx5dError, ScanNotFoundError, SpiceError, UrlPatternError
from nx5d.io.storage import Storage
from nx5d.model.children import Children
from nx5d.model.follow import follow
from nx5d.model.rules import handle_rule, parse_pattern
from nx5d.model.scan import Scan, _Summary
from nx5d.model.scantable import scan_frame
from nx5d.model.stack import StackedScan
from nx5d.optional import optional_module
from nx5d.plugins.orders import SummaryOrder
from nx5d.plugins.references import ProposalRef
from nx5d.spice.book import SpiceBook
from nx5d.spice.schema import schema_defaults, settings_from
from nx5d.spice.stack import STACK, StackSettings

if TYPE_CHECKING:
    from nx5d.model.repository import Repository

__all__ = ["Proposal", "SCAN_TABLE_COLUMNS"]

#: Leading columns of a proposal's scan table; summaries may add more.
SCAN_TABLE_COLUMNS = ("scan", "handle", "type", "steps", "notes")
#: Summary fields kept for searching (`Proposal.search`, `Proposal.table`) but not shown in the printed scan table.
SEARCH_ONLY_FIELDS = frozenset({"motor", "range", "counters", "sample", "comments"})
#: How the notes of a scan whose summary failed begin; the text table repeats them in full below it.
UNREADABLE = "unreadable: "


class Proposal(Children):
    """The scans of one proposal, reachable by key and by handle.

    This is also ``nx5d.repo.base.DataProposalBase`` for subclassing.

    Parameters
    ----------
    repo:
        The repository the proposal belongs to.
    key:
        The proposal key as on storage.
    url:
        URL pattern of the scans (``{proposal}`` is filled with ``key``);
        default: the repository's pattern.
    scan_k2h:
        Key-to-handle rule for scans, overriding the repository's / beamline's.
    """

    _child_kind = "scan"
    _not_found = ScanNotFoundError

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        overridden(cls, "_list_scans", "all(), returning {key: handle}", since="0.2")

    def __init__(
        self,
        repo: Repository,
        key: str,
        *,
        url: str | None = None,
        scan_k2h: KeyToHandle | None = None,
    ) -> None:
        self.repository = repo
        self.key = key
        self.scan_k2h = scan_k2h
        self._nx5d_scan_url = url
        self._nx5d_spice: SpiceBook | None = None
        self._nx5d_ref: ProposalRef | None = None
        self._nx5d_pattern: tuple[str, Any, Mapping[str, int], UrlPattern] | None = None
        self._init_children()

    def __getstate__(self) -> dict[str, Any]:
        """Pickled with its repository and key; references for hooks and the spice book are made again on use."""
        return {**super().__getstate__(), "_nx5d_ref": None, "_nx5d_spice": None, "_nx5d_pattern": None}

    # --- identity ----------------------------------------------------------

    @property
    def handle(self) -> str:
        """This proposal's handle in its repository."""
        handle = self.repository.listing().get(self.key)
        return handle if handle is not None else self.repository.handle_for(self.key)

    @property
    def scan_pattern(self) -> UrlPattern:
        """URL pattern of this proposal's scans (``{proposal}`` filled in)."""
        text = self._nx5d_scan_url if self._nx5d_scan_url is not None else self.repository.url
        declaration, spans = self.repository.declaration, self.repository.naming.spans()
        # parsed once: every scan's URL asks for it (thousands in a summary table)
        made = getattr(self, "_nx5d_pattern", None)
        if made is not None and made[0] == text and made[1] is declaration and made[2] == spans:
            return made[3]
        pattern = parse_pattern(text, declaration, required=("scan",), spans=spans)
        filled = pattern.fill(proposal=self.key) if "proposal" in pattern.fields else pattern
        self._nx5d_pattern = (text, declaration, spans, filled)
        return filled

    @property
    def ref(self) -> ProposalRef:
        """This proposal as hooks see it: key, scan URL pattern, storage."""
        if self._nx5d_ref is None or self._nx5d_ref.repository is not self.repository.ref:
            try:
                pattern: UrlPattern | None = self.scan_pattern
            except UrlPatternError:
                pattern = None
            self._nx5d_ref = ProposalRef(self.repository.ref, self.key, pattern)
        return self._nx5d_ref

    @property
    def url(self) -> str | None:
        """URL pattern of this proposal's scans, or ``None`` for non-URL repositories."""
        try:
            return self.scan_pattern.text
        except UrlPatternError:
            return None

    @property
    def beamline(self) -> str | None:
        """Name of the serving beamline plugin."""
        return self.repository.beamline

    def _call(self, hook: str, context: str, /, **kwargs: Any) -> Any:
        return self.repository._call(hook, context, **kwargs)

    # --- children ----------------------------------------------------------

    def _where(self) -> str:
        return f"proposal {self.key!r} of {self.repository.url}"

    def _key_pattern(self) -> UrlPattern:
        return self.scan_pattern

    def _list_child_keys(self) -> list[str]:
        legacy = getattr(self, "_list_scans", None)  # nx5d 3.x's subclassing API (deprecated)
        if legacy is not None:
            self._nx5d_skipped = []
            return list(legacy())
        context = f"listing scans of {self._where()}"

        def read() -> tuple[list[str], list[str]]:
            skipped: list[str] = []
            keys = self._call("nx5d_list_scans", context, proposal=self.ref)
            if keys is not None:
                return list(keys), skipped
            return self.repository._walk("scan", self.scan_pattern, skipped), skipped

        keys, self._nx5d_skipped = self.repository._listed(self.key, self.ref.pattern, read, context)
        return keys

    def _child_rule(self) -> KeyToHandle:
        repository = self.repository
        return (
            self.scan_k2h
            or repository.scan_k2h
            or repository.naming.handle_rule("scan")
            or handle_rule(repository.declaration, "scan")
        )

    def _make_child(self, key: str) -> Scan:
        return self._scan(key)

    def _scan(self, key: str) -> Scan:
        """Create the scan object for ``key`` (override in subclasses)."""
        return Scan(self, key)

    def all(self) -> dict[str, str]:
        """Fresh listing: ``{key: handle}`` of the scans, then of the stacks the ``stack`` spice names.

        `keys`, iteration and ``in`` are the scans'; a stack is reached by
        its name (``proposal["both"]``, ``proposal.scan("both")``) or handle.
        """
        scans = self._remember(self._fresh())
        return {**scans, **{name: stack.handle for name, stack in self._stacks(scans).items()}}

    def _fresh(self) -> dict[str, str]:
        if type(self).all is not Proposal.all:  # a subclass lists its scans by all() (the subclassing API)
            return self.all()
        return Children.all(self)

    def scan(self, key: str | None = None, *, handle: str | None = None) -> Scan:
        """The scan (or named stack) with ``key`` (as on storage) or ``handle``."""
        try:
            return self._child(self._resolve(key, handle))
        except ScanNotFoundError:
            stack = next((s for n, s in self.stacks().items() if n == key or (handle and s.handle == handle)), None)
            if stack is None:
                raise
            return stack

    def __getitem__(self, key: str) -> Any:
        return self.scan(key)

    def scan_key(self, scan: Scan | str) -> str:
        """The key of a scan given as a scan object, a key or a handle (``ScanNotFoundError`` if none has it).

        A name that is the key of one scan and the handle of another is
        refused (``SpiceError``: pass the scan object).
        """
        if not isinstance(scan, str):
            return scan.key
        for refresh in (False, True):
            listing = self.listing(refresh=refresh)
            by_handle = [k for k, h in listing.items() if h == scan]
            if scan in listing and by_handle and by_handle != [scan]:
                raise SpiceError(
                    f"{scan!r} is the key of one scan and the handle of another ({by_handle[0]!r}) in "
                    f"proposal {self.key!r}; pass the scan object"
                )
            if scan in listing:
                return scan
            if by_handle:
                return by_handle[0]
        raise ScanNotFoundError(f"proposal {self.key!r} has no scan with key or handle {scan!r}")

    @property
    def latest(self) -> Scan:
        """The last scan in scan order (looking at storage again: during a beamtime, the newest)."""
        keys = list(self.listing(refresh=True))
        if not keys:
            raise ScanNotFoundError(f"{self._where()} has no scans yet")
        return self._child(keys[-1])

    def stack(self, *scans: str | Scan, scan_type: str = "stack", name: str | None = None) -> StackedScan:
        """A virtual scan of ``scans`` (keys, handles or scan objects) one after the other.

        See [`nx5d.model.stack`][nx5d.model.stack].
        """
        keys = [self.scan_key(scan) for scan in scans]
        if not keys:
            raise ScanNotFoundError(f"a stack of {self._where()} needs at least one scan")
        return StackedScan(self, name or "+".join(keys), keys, scan_type)

    def stacks(self) -> dict[str, StackedScan]:
        """The stacks the proposal's ``stack`` spice defines: ``{name: StackedScan}``."""
        return self._stacks(self.listing())

    def _stacks(self, listing: dict[str, str]) -> dict[str, StackedScan]:
        if not listing:
            return {}
        view = self.spice.view(list(listing)[-1])
        out = {}
        for handle, entry in view.entries.items():
            record = entry.resolution.record if entry.resolution is not None and entry.clean else None
            if record is None or record.type != STACK or record.data is None:
                continue
            if handle in listing:
                raise ScanNotFoundError(f"stack {handle!r} of {self._where()} has the key of a scan; rename it")
            spec = settings_from(StackSettings, {handle: record.data}, handle, f"stack {handle!r}")
            made = self.stack(*spec.scans, scan_type=spec.scan_type, name=handle)
            kept = self._nx5d_children.get(handle)  # the same object while the record says the same
            if not (isinstance(kept, StackedScan) and (kept.members, kept.scan_type) == (made.members, made.scan_type)):
                kept = self._nx5d_children[handle] = made
            out[handle] = kept
        return out

    def table(self) -> Any:
        """The scan table as a ``pandas.DataFrame`` indexed by scan key, one column per summary field, typed.

        Numbers are numbers, ``start`` times are datetimes where every one
        parses (else they stay text); stacks are rows too.  A column of
        ranges as the text table shows them (UDKM's ``theta``, ``18.1–19.1``)
        becomes two numeric columns, ``theta_min`` and ``theta_max``, in its
        place (a single number is both).
        """
        return scan_frame(self.summaries() + self._stack_rows(), "scan")

    def search(self, *, fresh: bool = True, workers: int | None = None, **criteria: Any) -> Any:
        """The scans that meet ``criteria``, as the scan table (a ``pandas.DataFrame`` indexed by scan key).

        Criteria ([`Query`][nx5d_index.query.Query]): ``type``, ``motor``,
        ``range``, ``sample``, ``since``, ``until``, ``counters``, ``text``:

        ```python
        proposal.search(type="ascan", motor="th", range=(19, 20), text="align")
        ```

        The summaries come from the [scan index][nx5d_index.extension]
        where the files are unchanged (new and changed scans are read);
        ``fresh=False`` searches what the index holds without looking at the
        files (fast for remote repositories; misses what changed since).
        Searching is the ``nx5d-index`` distribution's: without it,
        `NotSupportedError` says what to install.
        """
        searching = optional_module("nx5d_index.search", "nx5d-index", "proposal.search")
        return searching.search_proposal(self, fresh=fresh, workers=workers, **criteria)

    def _stack_rows(self) -> list[dict[str, Any]]:
        return [{"scan": name, "handle": stack.handle, **stack.summary} for name, stack in self.stacks().items()]

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except HandleNotFoundError:
            if not name.startswith("_"):
                for stack in self.stacks().values():
                    if stack.handle == name:
                        return stack
            raise

    def refresh(self) -> None:
        """Forget cached listings and scan summaries."""
        super().refresh()
        for scan in self._nx5d_children.values():
            scan._nx5d_summary = None

    # --- spice -------------------------------------------------------------

    @property
    def spice(self) -> SpiceBook:
        """This proposal's spice: ``seed``, ``update``, ``anchor``, ``view`` ..."""
        if self._nx5d_spice is None:
            self._nx5d_spice = SpiceBook(self)
        return self._nx5d_spice

    def spice_schemas(self) -> dict[str, type]:
        """The spice schemas of this proposal: the beamline's, and the core's cooking types where the core cooks."""
        declaration = self.repository.declaration
        return {} if declaration is None else declaration.spice_schemas()

    def default_spice(self) -> dict[str, dict[str, Any]]:
        """The beamline's default spice for this proposal: ``{handle: {field: value}}``."""
        spice = None
        if self.repository.beamline is not None:
            context = f"reading the default spice of {self._where()}"
            spice = self._call("nx5d_default_spice", context, proposal=self.ref)
        if spice is None:
            spice = schema_defaults(self.spice_schemas())
        return {h: dict(d) for h, d in spice.items()}

    #: Scans as they appear during a beamtime, each cooked once complete:
    #: [`follow`][nx5d.model.follow.follow]
    #: (``for arrival in proposal.follow(poll=5): ...``).
    follow = follow

    # --- display -----------------------------------------------------------

    def summaries(self, *, workers: int | None = None) -> list[dict[str, Any]]:
        """One row per scan: key, handle and the scan's summary (errors reported in ``notes``).

        Summaries not kept with the scan objects or in the
        [scan index][nx5d_index.extension] (if installed) are read by ``workers`` threads
        at once (default: 8, or 32 for remote storage, where each is a few
        requests that mostly wait), with a progress bar; the rows come in
        the order of the scans.
        """
        listing = self.listing(refresh=True)
        scans = [self._child(key) for key in listing]
        stale = [s for s in scans if s._nx5d_summary is None or not s._fresh(s._nx5d_summary.identity)]
        remote = Storage.local_path(self.url or "file:///") is None
        found = self._summarise(stale, workers or (32 if remote else 8)) if stale else {}
        rows = []
        for scan in scans:
            row: dict[str, Any] = {"scan": scan.key, "handle": listing[scan.key]}
            got = found.get(scan.key)
            if isinstance(got, Nx5dError):
                summary: Mapping[str, Any] = {"notes": f"{UNREADABLE}{got}"}
            else:
                if got is not None:
                    scan._nx5d_summary = _Summary(got.identity, dict(got.data))
                summary = scan._nx5d_summary.value
            row.update({k: v for k, v in summary.items() if k not in row and k != "description"})
            if "notes" not in row and "description" in summary:
                row["notes"] = summary["description"]
            rows.append(row)
        return rows

    def _summarise(self, scans: list[Scan], workers: int = 1) -> dict[str, Any]:
        """``{key: Loaded(summary, identity) or the Nx5dError raised}`` of ``scans`` (`nx5d_summarised`)."""
        by_key = {scan.key: scan for scan in scans}
        repository = self.repository
        order = SummaryOrder(
            [scan.ref for scan in scans],
            lambda ref: by_key[ref.key]._read_summary(),
            keep=repository._keeps_index() and not any(scan._own("_get_summary") for scan in scans),
            producer=repository._producer(),
            workers=workers,
        )
        return self._call("nx5d_summarised", f"summarising {self._where()}", proposal=self.ref, order=order)

    def _table(self) -> Table:
        rows = [{k: v for k, v in row.items() if k not in SEARCH_ONLY_FIELDS} for row in self.summaries()]
        rows += self._stack_rows()
        note = self._skipped_note()
        title = f"proposal {self.key} ({self.handle}): {len(rows)} scan(s)" + (f"; {note}" if note else "")
        unreadable = [
            f"{row['scan']}: {row['notes']}" for row in rows if str(row.get("notes", "")).startswith(UNREADABLE)
        ]
        return Table.from_records(
            rows,
            SCAN_TABLE_COLUMNS,
            title=title,
            more="proposal.table() has them all",
            whole=("scan", "start"),
            footnotes=unreadable,
        )

    def __repr__(self) -> str:
        try:
            return self._table().to_text()
        except Exception as exc:  # noqa: BLE001 - a repr must not raise
            return f"<{type(self).__name__} {self.key!r}: listing failed: {exc}>"

    def _repr_html_(self) -> str:
        try:
            return self._table().to_html()
        except Exception as exc:  # noqa: BLE001 - a repr must not raise
            return f"<p>proposal {html.escape(self.key)}: listing failed: {html.escape(str(exc))}</p>"
