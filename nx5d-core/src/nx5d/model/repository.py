"""Repositories: the top of the repository -> proposal -> scan tree."""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from nx5d.addressing.handles import KeyToHandle
from nx5d.addressing.listing import list_keys
from nx5d.addressing.location import Location
from nx5d.addressing.templates import Naming
from nx5d.addressing.url import UrlPattern
from nx5d.deprecation import NX5D3_KEYWORDS, overridden, renamed_keywords
from nx5d.display import Table
from nx5d.errors import ProposalNotFoundError, UrlPatternError
from nx5d.io.faults import DEFAULT_TIMEOUT
from nx5d.io.storage import Storage
from nx5d.model.children import Children
from nx5d.model.proposal import Proposal
from nx5d.model.rules import handle_rule, parse_pattern
from nx5d.optional import optional_module
from nx5d.plugins.discovery import PluginRegistry, nx5d_distributions, registry
from nx5d.plugins.orders import ListOrder
from nx5d.plugins.references import DocumentRef, RepositoryRef
from nx5d.spice.store import DryRunSpiceStore, SpiceStore, make_store
from nx5d.version import __version__

if TYPE_CHECKING:
    from nx5d.plugins.declaration import Beamline

__all__ = ["Repository"]


class Repository(Children):
    """A collection of proposals at one URL pattern.

    Usually obtained from [`nx5d.open`][nx5d.open]; may also be subclassed directly
    (this is ``nx5d.repo.base.DataRepoBase``).

    Parameters
    ----------
    url:
        The repository URL pattern, e.g. ``file:///data/{proposal}/{scan}``;
        an fsspec cache may be chained in front (``simplecache::s3://…``, its
        options under its name in ``storage_options``); or a
        [`Location`][nx5d.addressing.location.Location] already read.
        Subclasses that list proposals themselves may pass any identifier.
    proposal_k2h, scan_k2h:
        Key-to-handle rules overriding the beamline's (``lambda k: f"p{k}"``).
    proposal_key, scan_key, proposal_handle, scan_handle:
        This repository's naming rules as templates, over the beamline's
        ([`Naming`][nx5d.addressing.templates.Naming]): ``scan_key="20{sdate}/{stime}"``
        (keys spanning a day and a time folder), ``scan_handle="r{sdate}{stime}"``.
    spice_url:
        Where spice records are kept: a folder URL pattern with ``{proposal}``,
        ``''`` (in memory), a [`SpiceStore`][nx5d.spice.store.SpiceStore] object, or
        ``None`` for the default (a ``spice`` folder beside the data, see
        [`nx5d.spice.store.default_locations`][nx5d.spice.store.default_locations]).
    spice_dry_run:
        Keep spice changes in memory over the records of ``spice_url``: views
        and cooking see them, nothing is written (trying changes out).
    storage_options:
        fsspec options for remote storage (credentials, endpoints ...).
    timeout:
        Seconds a remote server may take to connect or to send the next
        bytes before the read fails (``None``: the client library's default).
    retries:
        How often a remote request that failed transiently (server error,
        timeout, lost connection) is repeated; ``0`` (default): never.
    options:
        The beamline's loading options (defaults for every scan).
    storage:
        The storage to read through (default: one made for ``url`` with
        ``storage_options``, ``timeout`` and ``retries``); if it has a root,
        it is kept to it.
    """

    _child_kind = "proposal"
    _not_found = ProposalNotFoundError

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        overridden(cls, "_list_proposals", "all(), returning {key: handle}", since="0.2")

    @renamed_keywords(since="0.2", **NX5D3_KEYWORDS)
    def __init__(
        self,
        url: str | Location,
        *,
        proposal_k2h: KeyToHandle | None = None,
        scan_k2h: KeyToHandle | None = None,
        proposal_key: str | None = None,
        scan_key: str | None = None,
        proposal_handle: str | KeyToHandle | None = None,
        scan_handle: str | KeyToHandle | None = None,
        spice_url: str | SpiceStore | None = None,
        spice_dry_run: bool = False,
        storage_options: Mapping[str, Any] | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        retries: int = 0,
        options: Mapping[str, Any] | None = None,
        storage: Storage | None = None,
    ) -> None:
        location = url if isinstance(url, Location) else Location.of(url, storage_options)
        self.url = location.url
        self.proposal_k2h = proposal_k2h
        self.scan_k2h = scan_k2h
        self.naming = Naming(proposal_key, scan_key, proposal_handle, scan_handle)
        self.spice_url = spice_url
        self.spice_dry_run = spice_dry_run
        self.options: dict[str, Any] = dict(options or {})
        self.storage = storage or location.storage(timeout=timeout, retries=retries)
        self._nx5d_beamline: str | None = None
        self._nx5d_registry: PluginRegistry | None = None
        self._nx5d_spice_store: SpiceStore | None = None
        self._nx5d_ref: RepositoryRef | None = None
        self._init_children()
        if self.storage.root is None:  # else the caller confined it, knowing the pattern (nx5d.open)
            self._confine_storage()

    def __getstate__(self) -> dict[str, Any]:
        """Pickled as URL, storage, options and spice store; the plugin registry is the receiving process's own.

        A repository sent to another process (dask, multiprocessing) reads
        the same data with the same beamline there.  Spice kept in memory
        (``spice_url=''``) travels as a copy: what the other process writes
        stays there.
        """
        return {**super().__getstate__(), "_nx5d_ref": None}

    def _confine_storage(self) -> None:
        """Limit `storage` to the folder the pattern's documents lie in (when the URL is a pattern)."""
        try:
            self.pattern  # noqa: B018 - parsing sets the storage's root
        except UrlPatternError:
            self.storage.root = None

    # --- plugin plumbing ---------------------------------------------------

    def _nx5d_bind(self, beamline: str | None, registry: PluginRegistry, pattern: UrlPattern | None = None) -> None:
        """Route this repository's hook calls to ``beamline`` (done by [`nx5d.open`][nx5d.open], with its pattern)."""
        self._nx5d_beamline = beamline
        self._nx5d_registry = registry
        self._nx5d_ref = None
        if pattern is not None:
            self._nx5d_pattern = (self.url, pattern)
            self.storage.root = pattern.root
            return
        self._confine_storage()

    @property
    def beamline(self) -> str | None:
        """Name of the beamline plugin serving this repository (``None``: subclass API only)."""
        return self._nx5d_beamline

    @property
    def registry(self) -> PluginRegistry:
        """The plugin registry whose hooks serve this repository."""
        if self._nx5d_registry is None:
            self._nx5d_registry = registry()
        return self._nx5d_registry

    def _call(self, hook: str, context: str, /, own: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        """Call ``hook`` for this repository's beamline; ``own`` (a subclass's method) takes part first."""
        return self.registry.call(self.beamline, hook, context=context, extra=() if own is None else (own,), **kwargs)

    @property
    def declaration(self) -> Beamline | None:
        """The serving beamline's declaration, if any."""
        return None if self.beamline is None else self.registry.declaration(self.beamline)

    @property
    def ref(self) -> RepositoryRef:
        """This repository as hooks see it: URL pattern, storage, beamline."""
        if self._nx5d_ref is None or self._nx5d_ref.url != self.url:
            try:
                pattern: UrlPattern | None = self.pattern
            except UrlPatternError:
                pattern = None  # the subclass API allows repositories that are not URL patterns
            self._nx5d_ref = RepositoryRef(self.url, pattern, self.storage, self.beamline, self.declaration)
        return self._nx5d_ref

    @property
    def spice_store(self) -> SpiceStore:
        """Where the spice records of this repository's proposals live (see ``spice_url``)."""
        if self._nx5d_spice_store is None:
            try:
                pattern: UrlPattern | None = self.pattern
            except UrlPatternError:
                pattern = None
            # spice may live outside the data (e.g. the per-user folder): a storage without the root's limit
            spice_storage = self.storage.with_root(None)
            store = make_store(self.spice_url, pattern, spice_storage)
            self._nx5d_spice_store = DryRunSpiceStore(store) if self.spice_dry_run else store
        return self._nx5d_spice_store

    @property
    def pattern(self) -> UrlPattern:
        """`url` parsed as a URL pattern (``UrlPatternError`` if it is not one)."""
        cached = getattr(self, "_nx5d_pattern", None)
        if cached is None or cached[0] != self.url:
            cached = (self.url, parse_pattern(self.url, self.declaration, spans=self.naming.spans()))
            self._nx5d_pattern = cached
            self.storage.root = cached[1].root  # reads stay below the folder the pattern's documents lie in
        return cached[1]

    # --- children ----------------------------------------------------------

    def _where(self) -> str:
        return f"repository {self.url}"

    def _key_pattern(self) -> UrlPattern:
        return self.pattern

    def _list_child_keys(self) -> list[str]:
        legacy = getattr(self, "_list_proposals", None)  # nx5d 3.x's subclassing API (deprecated)
        if legacy is not None:
            self._nx5d_skipped = []
            return list(legacy())

        def read() -> tuple[list[str], list[str]]:
            skipped: list[str] = []
            keys = self._call("nx5d_list_proposals", f"listing proposals of {self.url}", repository=self.ref)
            return (list(keys), skipped) if keys is not None else (self._walk("proposal", self.pattern, skipped), [])

        keys, self._nx5d_skipped = self._listed(None, self.ref.pattern, read, f"listing proposals of {self.url}")
        return keys

    def _listed(
        self, proposal: str | None, pattern: UrlPattern | None, read: Any, context: str
    ) -> tuple[list[str], list[str]]:
        """``(keys, skipped names)`` that ``read`` lists, through the hook chain (`nx5d_listed`: remembered)."""
        order = ListOrder(proposal, pattern, read, keep=self._keeps_index(), producer=self._producer(naming=True))
        listed = self._call("nx5d_listed", context, repository=self.ref, order=order)
        keys, skipped = listed.data
        return list(keys), list(skipped)

    def _keeps_index(self) -> bool:
        """Whether listings and summaries may be kept in the scan index: for repositories read by a beamline."""
        return self.beamline is not None

    def _plugin(self) -> str:
        """The serving plugin's distribution and version (``""`` without a beamline)."""
        if self.beamline is None:
            return ""
        status = self.registry.status(self.beamline)
        return f"{status.distribution or status.target} {status.version or ''}".strip()

    def _producer(self, naming: bool = False) -> str:
        """What listings (``naming``: and the key rules) and summaries depend on besides the files."""
        parts = [self.beamline or "", self._plugin(), f"nx5d {__version__}", nx5d_distributions()]
        if naming:
            parts.append(json.dumps(self.naming.key_patterns({}), sort_keys=True))
        return "|".join(parts)

    def _child_rule(self) -> KeyToHandle:
        return self.proposal_k2h or self.naming.handle_rule("proposal") or handle_rule(self.declaration, "proposal")

    def _make_child(self, key: str) -> Proposal:
        return self._proposal(key)

    def _proposal(self, key: str) -> Proposal:
        """Create the proposal object for ``key`` (override in subclasses)."""
        return Proposal(self, key)

    def proposal(self, key: str | None = None, *, handle: str | None = None) -> Proposal:
        """The proposal with ``key`` (as on storage) or ``handle``."""
        return self._child(self._resolve(key, handle))

    def _walk(self, field: str, pattern: UrlPattern, skipped: list[str] | None = None) -> list[str]:
        """Keys of ``field`` found by walking ``pattern`` over storage; names that are no keys go to ``skipped``."""
        declaration = self.declaration

        def anchor_lister(document: str, path: tuple[str, ...]) -> Any:
            context = f"listing {document}#{'/'.join(path)}"
            return self._call(
                "nx5d_list_anchor", context, document=DocumentRef(document, self.storage), path=tuple(path)
            )

        return list_keys(
            pattern,
            field,
            storage=self.storage,
            anchor_lister=anchor_lister,
            key_patterns=self.naming.key_patterns({} if declaration is None else declaration.key_patterns),
            skipped=skipped,
        )

    # --- search ------------------------------------------------------------

    def search(self, proposals: str = "*", *, fresh: bool = True, workers: int | None = None, **criteria: Any) -> Any:
        """The scans of every proposal (or of those matching the glob ``proposals``) that meet ``criteria``.

        Returns the scan table of the matches, a ``pandas.DataFrame``
        indexed by proposal and scan key.  ``criteria`` are those of
        [`Query`][nx5d_index.query.Query] (``type``, ``motor``, ``range``,
        ``sample``, ``since``, ``until``, ``counters``, ``text``):

        ```python
        repo.search(type="ascan", sample="SrRuO3*", since="2024-03-01", counters=["pilatus"])
        ```

        The summaries come from the [scan index][nx5d_index.extension]
        where the files are unchanged: only new and changed scans are read.
        ``fresh=False`` searches what the index holds without looking at the
        files at all (fast for remote repositories; misses what changed).
        Searching is the ``nx5d-index`` distribution's: without it,
        `NotSupportedError` says what to install.
        """
        searching = optional_module("nx5d_index.search", "nx5d-index", "repo.search")
        return searching.search_repository(self, proposals, fresh=fresh, workers=workers, **criteria)

    # --- display -----------------------------------------------------------

    def _table(self) -> Table:
        rows = [{"proposal": key, "handle": handle} for key, handle in self.listing(refresh=True).items()]
        beamline = f" ({self.beamline})" if self.beamline else ""
        return Table(["proposal", "handle"], rows, title=f"{self.url}{beamline}: {len(rows)} proposal(s)")

    def __repr__(self) -> str:
        try:
            return self._table().to_text()
        except Exception as exc:  # noqa: BLE001 - a repr must not raise
            return f"<{type(self).__name__} {self.url!r}: listing failed: {exc}>"

    def _repr_html_(self) -> str:
        try:
            return self._table().to_html()
        except Exception as exc:  # noqa: BLE001 - a repr must not raise
            name, url = html.escape(type(self).__name__), html.escape(self.url)
            return f"<p>{name} {url}: listing failed: {html.escape(str(exc))}</p>"
