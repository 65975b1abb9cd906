"""Scans: one measurement, its raw data and its cooked (processed) form."""

from __future__ import annotations

import html
import itertools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from nx5d.display import Table
from nx5d.errors import MissingDataError, Nx5dError, UrlPatternError
from nx5d.extensions.memory import raw_cache
from nx5d.extensions.provenance import provenance_of
from nx5d.io.identity import DataIdentity
from nx5d.io.storage import IoRecord, record_io
from nx5d.options import build_options, data_options
from nx5d.plugins.orders import CookOrder, Loaded, LoadOrder
from nx5d.plugins.references import ScanRef
from nx5d.spice.values import as_settings, fingerprint
from nx5d.spice.view import SpiceView

if TYPE_CHECKING:
    from nx5d.model.proposal import Proposal
    from nx5d.model.repository import Repository

__all__ = ["Scan"]

_OWNERS = itertools.count()  # identifies each scan object's entries in the raw cache


def _refuse_empty(data: Any, where: str, beamline: str | None, read: IoRecord) -> Any:
    """``data``, unless it is a Dataset without a single variable read from files that hold data.

    Whatever the beamline, an empty result for a scan it claimed means data
    it did not find: a [`MissingDataError`][nx5d.errors.MissingDataError] naming the
    files, never an empty Dataset handed on as if the scan were empty.
    """
    variables = getattr(data, "variables", None)
    if variables is None or not hasattr(data, "data_vars") or len(variables):
        return data
    files = [url for url, state in read.depends.items() if state and state[0] in ("file", "remote") and state[1]]
    if not files:
        return data
    named = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
    raise MissingDataError(
        f"{where}: the {beamline or 'scan'} reader found no variable in {named}, which hold data: "
        "nx5d does not know where this file keeps the scan (name the layout in an issue, with the file)"
    )


@attrs.frozen
class _Summary:
    """A summary kept with the scan object, with the identity of the files it was read from."""

    identity: DataIdentity | None
    value: dict[str, Any]


class Scan:
    """One scan of a proposal.

    ``summary`` is cheap (no data loaded); ``raw`` loads the data as recorded;
    ``cooked`` processes it with the scan's spice.  Raw data is kept per set of
    loading options in the process-wide `nx5d.raw_cache` (bounded in
    bytes); the cooked result is kept while options and spice stay the same.
    Whatever is kept is used again only while every file it was read from is
    unchanged ([`nx5d.io.identity`][nx5d.io.identity]), and what ``raw`` and
    ``cooked`` hand out is a copy of the user's own (read-only arrays):
    editing it never changes what the next ``raw`` or ``cooked`` gives.
    Cooking a scan whose raw data is not loaded streams the frames instead
    of loading them all.  `reload` forgets everything kept.  Loading and
    cooking are hook calls ([`nx5d_loaded`][nx5d.plugins.hookspecs.nx5d_loaded],
    [`nx5d_cooked`][nx5d.plugins.hookspecs.nx5d_cooked]) that the core's
    built-in extensions answer ([`nx5d.extensions`][nx5d.extensions]).

    This is also ``nx5d.repo.base.DataScanBase``: subclasses override
    ``_get_summary``, ``_get_raw`` and ``_cook``.  Overridden methods are
    served through the same hook calls as plugins (extensions wrap them too).
    """

    def __init__(self, proposal: Proposal, key: str) -> None:
        self.proposal = proposal
        self.key = key
        self._nx5d_summary: _Summary | None = None
        self._nx5d_cache_owner = next(_OWNERS)
        self._nx5d_memo: dict[str, Any] = {}  # what extensions keep with this object (its cooked result)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled as its proposal and key, with its summary; nothing loaded or cooked travels along.

        A scan sent to another process (dask, multiprocessing, a notebook's
        cache) loads and cooks there from the files; what is kept in memory
        belongs to the process that made it.
        """
        return {**self.__dict__, "_nx5d_memo": {}, "_nx5d_cache_owner": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """A scan object of this process, with an entry of its own in the raw cache."""
        self.__dict__.update(state, _nx5d_cache_owner=next(_OWNERS))

    # --- identity ------------------------------------------------------------

    @property
    def repository(self) -> Repository:
        """The repository the scan belongs to."""
        return self.proposal.repository

    @property
    def beamline(self) -> str | None:
        """Name of the serving beamline plugin."""
        return self.repository.beamline

    @property
    def handle(self) -> str:
        """This scan's handle in its proposal."""
        handle = self.proposal.listing().get(self.key)
        return handle if handle is not None else self.proposal.handle_for(self.key)

    @property
    def url(self) -> str | None:
        """The scan's URL (``None`` for repositories that are not URL patterns)."""
        try:
            return self.proposal.scan_pattern.format(scan=self.key)
        except UrlPatternError:
            return None

    def _where(self) -> str:
        return self.url or f"scan {self.key!r} of proposal {self.proposal.key!r}"

    def _call(self, hook: str, context: str, /, own: Any = None, **kwargs: Any) -> Any:
        return self.repository._call(hook, context, own=own, **kwargs)

    @property
    def ref(self) -> ScanRef:
        """This scan as hooks see it: key, URL, storage."""
        return ScanRef(self.proposal.ref, self.key)

    # --- summary -------------------------------------------------------------

    def _own(self, method: str) -> bool:
        """Whether a subclass (the subclassing API) overrides ``method``."""
        return getattr(type(self), method) is not getattr(Scan, method)

    def _fresh(self, identity: DataIdentity | None) -> bool:
        """Whether something made from data of ``identity`` is still what the files hold."""
        if identity is None:
            return False
        try:
            return identity.unchanged(self.repository.storage)
        except Nx5dError:
            return False

    @property
    def summary(self) -> dict[str, Any]:
        """Cheap description (type, steps, notes, ...) read without loading data.

        Kept with the scan object and, across sessions, in the
        [scan index][nx5d_index.extension] (``nx5d-index``), while the files
        it was read from are unchanged.
        """
        kept = self._nx5d_summary
        if kept is None or not self._fresh(kept.identity):
            found = self.proposal._summarise([self])[self.key]
            if isinstance(found, Nx5dError):
                raise found
            kept = self._nx5d_summary = _Summary(found.identity, dict(found.data))
        return dict(kept.value)

    def _read_summary(self) -> Any:
        """The beamline's summary of this scan (or the subclassing API's ``_get_summary``), through the hook."""
        own = (lambda scan: self._get_summary()) if self._own("_get_summary") else None
        return self._call("nx5d_summary", f"summarising {self._where()}", own=own, scan=self.ref)

    # --- raw -------------------------------------------------------------------

    def _options(self, options: Mapping[str, Any]) -> tuple[dict[str, Any], Any]:
        """The repository's options overridden by ``options``, and the beamline's checked options object."""
        merged = {**self.repository.options, **options}
        declaration = self.repository.declaration
        if declaration is None:
            return merged, None
        return merged, build_options(declaration.options, merged, self.beamline)

    def _options_key(self, options: Mapping[str, Any]) -> str:
        """A fingerprint of the options that change the data (not of those saying how it is read: ``workers``)."""
        merged, checked = self._options(options)
        return fingerprint({"options": merged if checked is None else data_options(checked)})

    def load(self, **options: Any) -> Any:
        """Raw data loaded with beamline options (e.g. ``reduce=2``): a copy of your own, read-only arrays.

        The data is kept per options and read again when a file it came
        from has changed.
        """
        return self._pristine(options).data

    def _pristine(self, options: Mapping[str, Any]) -> Loaded:
        """The raw data as the loader made it (a copy over the kept arrays) and the identity of what it read."""
        merged, checked = self._options(options)
        own = None
        if self._own("_get_raw"):  # the subclassing API's loader, served through the hook like a plugin's
            own = lambda scan, options: self._get_raw(**merged) if merged else self._get_raw()  # noqa: E731

        def read() -> Any:
            return self._read_raw(checked, own)

        order = LoadOrder(self._nx5d_cache_owner, self._options_key(options), read)
        return self._call("nx5d_loaded", f"loading {self._where()}", scan=self.ref, order=order)

    @property
    def raw(self) -> Any:
        """The data as recorded (normally an ``xarray.Dataset``), with the repository's options."""
        return self.load()

    # --- cooked ------------------------------------------------------------------

    @property
    def spice(self) -> SpiceView:
        """The spice view at this scan (what `cooked` uses)."""
        return self.proposal.spice.view(self)

    def cook(self, spice: Mapping[str, Mapping[str, Any]] | None = None, *, raw: Any = None, **options: Any) -> Any:
        """Cooked data, with the scan's spice unless ``spice`` (``{handle: {field: value}}``) is given.

        Cooking always starts from the data as the files hold it, whatever
        was done to what ``raw`` handed out.  To cook data you changed (a
        dark frame subtracted, angles corrected), pass it as ``raw``: the
        result says so in its ``nx5d_raw`` attribute and is never kept, nor
        handed out as this scan's cooked data.

        Raises [`SpiceConflict`][nx5d.errors.SpiceConflict] when the scan's spice is in conflict.
        """
        view = self.spice if spice is None else None
        declaration = self.repository.declaration
        order = CookOrder(
            spice=as_settings(view.settings() if view is not None else spice),  # type: ignore[arg-type]
            view=view,
            options_key=self._options_key(options),
            raw=lambda: self._raw_for_cooking(options),
            cook=self._run_cook,
            memo=self._nx5d_memo,
            schemas=self.proposal.spice_schemas(),
            settings=declaration.cooking.settings if declaration is not None and declaration.cooking else "settings",
            edited=raw,
            keep=self._keeps_results(),
            plugin=self._plugin(),
        )
        return self._call("nx5d_cooked", f"cooking {self._where()}", scan=self.ref, order=order)

    def _keeps_results(self) -> bool:
        """Whether results of this scan may be kept on disk: not those of the subclassing API's code.

        That code may change without a version number saying so.
        """
        return not (self._own("_cook") or self._own("_get_raw"))

    def _run_cook(self, raw: Any, spice: Mapping[str, Any]) -> Any:
        own = (lambda scan, raw, spice: self._cook(raw, **spice)) if self._own("_cook") else None
        return self._call(
            "nx5d_cook",
            f"cooking {self._where()}",
            own=own,
            scan=self.ref,
            raw=raw,
            spice=spice,
            summary=self.summary,
        )

    def _raw_for_cooking(self, options: Mapping[str, Any]) -> Loaded:
        """The raw data a cook reads, as the files hold it, and the identity of the reads made before the cook.

        The data kept in memory if it is loaded with these options and
        unchanged, else streamed: loaded lazily (for beamlines with a
        ``lazy`` option that was not set), so the cook reads the frames block
        by block and never holds the whole image stack; nothing is kept in
        `raw`.  Streamed data is read while the cook runs: its identity is
        the cook's (``None`` here).
        """
        merged, checked = self._options(options)
        if self._own("_get_raw") or checked is None or "lazy" in merged or not hasattr(checked, "lazy"):
            return self._pristine(options)
        kept = raw_cache.get(self._nx5d_cache_owner, self._options_key(options))
        if kept is not None and self._fresh(kept.identity):
            return kept
        streamed = attrs.evolve(checked, lazy=True)
        return Loaded(self._read_raw(streamed), None)

    def _read_raw(self, options: Any, own: Any = None) -> Any:
        """The beamline's raw data (``nx5d_raw``); an empty Dataset from files that hold data is an error."""
        with record_io() as read:
            data = self._call("nx5d_raw", f"loading {self._where()}", own=own, scan=self.ref, options=options)
        return _refuse_empty(data, self._where(), self.beamline, read)

    def _plugin(self) -> str:
        """The serving plugin's distribution and version (``""`` without a beamline)."""
        return self.repository._plugin()

    def provenance(self, view: SpiceView | None = None, settings: Mapping[str, Any] | None = None) -> dict[str, str]:
        """What cooked data of this scan came from, as attribute strings.

        ``nx5d_version``, ``nx5d_beamline``, ``nx5d_plugin`` (distribution and
        version), ``nx5d_scan_url`` and ``nx5d_spice``: JSON of the uuid,
        revision and anchor of every spice record used (or, for spice given
        explicitly to `cook`, the settings themselves).
        """
        view = self.spice if view is None and settings is None else view
        return provenance_of(self.ref, self._plugin(), view, settings)

    @property
    def cooked(self) -> Any:
        """The data processed with this scan's spice (cached while spice is unchanged)."""
        return self.cook()

    def reload(self) -> None:
        """Forget the cached summary, raw and cooked data."""
        self._nx5d_summary = None
        raw_cache.forget(self._nx5d_cache_owner)
        self._nx5d_memo.clear()

    # --- subclassing API (nx5d.repo.base.DataScanBase) -------------------------

    def _get_summary(self) -> Mapping[str, Any] | None:
        """Cheap summary; override in subclasses.  By default: the beamline's ``nx5d_summary`` hook."""
        return self._call("nx5d_summary", f"summarising {self._where()}", scan=self.ref)

    def _get_raw(self, **options: Any) -> Any:
        """Load raw data; override in subclasses.  By default: the beamline's ``nx5d_raw`` hook."""
        _, checked = self._options(options)
        return self._call("nx5d_raw", f"loading {self._where()}", scan=self.ref, options=checked)

    def _cook(self, data: Any, **spice: Any) -> Any:
        """Process raw ``data`` with ``spice``; override in subclasses.  By default: the ``nx5d_cook`` hook."""
        return self._call(
            "nx5d_cook", f"cooking {self._where()}", scan=self.ref, raw=data, spice=spice, summary=self.summary
        )

    # --- display ---------------------------------------------------------------

    def _table(self) -> Table:
        try:
            summary: Mapping[str, Any] = self.summary
        except Nx5dError as exc:
            summary = {"notes": f"unreadable: {exc}"}
        rows = [{"field": k, "value": v} for k, v in summary.items()]
        loaded = raw_cache.holds(self._nx5d_cache_owner)
        rows.append({"field": "raw", "value": _state(loaded[-1] if loaded else None, "loaded", "not loaded: scan.raw")})
        cooked = self._nx5d_memo.get("cooked")
        shown = None if cooked is None else cooked.value
        rows.append({"field": "cooked", "value": _state(shown, "cooked", "not cooked: scan.cooked")})
        return Table(["field", "value"], rows, title=f"scan {self.key} ({self.handle}): {self._where()}")

    def __repr__(self) -> str:
        try:
            return self._table().to_text()
        except Exception as exc:  # noqa: BLE001 - a repr must not raise
            return f"<{type(self).__name__} {self.key!r}: {exc}>"

    def _repr_html_(self) -> str:
        try:
            return self._table().to_html()
        except Exception as exc:  # noqa: BLE001 - a repr must not raise
            return f"<p>scan {html.escape(self.key)}: {html.escape(str(exc))}</p>"


def _state(cached: Any, done: str, todo: str) -> str:
    """``done`` with the sizes of the cached result (``loaded: index 9, y 195, x 487``), or ``todo``."""
    if cached is None:
        return todo
    sizes = getattr(cached, "sizes", None)
    return f"{done}: {', '.join(f'{d} {n}' for d, n in sizes.items())}" if sizes else done
