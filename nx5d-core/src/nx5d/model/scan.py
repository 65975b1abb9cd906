"""Scans: one measurement, its raw data and its cooked (processed) form."""

from __future__ import annotations

import html
import itertools
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from nx5d.display import Table
from nx5d.errors import Nx5dError, UrlPatternError
from nx5d.io.identity import DataIdentity
from nx5d.io.storage import IoRecord, record_io
from nx5d.model.cooked import cooked_cache
from nx5d.model.memory import raw_cache, read_only
from nx5d.options import build_options
from nx5d.plugins.references import ScanRef
from nx5d.spice.legacy import translate
from nx5d.spice.values import as_settings, fingerprint
from nx5d.spice.view import SpiceView
from nx5d.version import __version__

if TYPE_CHECKING:
    from nx5d.model.proposal import Proposal
    from nx5d.model.repository import Repository

__all__ = ["Scan"]

_OWNERS = itertools.count()  # identifies each scan object's entries in the raw cache

#: The attribute that marks a result cooked from raw data the user edited (``scan.cook(raw=...)``).
EDITED = "nx5d_raw"


@attrs.frozen
class _Kept:
    """A result remembered in memory, with the identity of the data it was made from (``None``: unknown)."""

    key: str
    identity: DataIdentity | None
    value: Any


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
    of loading them all.  `reload` forgets everything kept.

    This is also ``nx5d.repo.base.DataScanBase``: subclasses override
    ``_get_summary``, ``_get_raw`` and ``_cook``.  Overridden methods are
    served through the same hook calls as plugins (extensions wrap them too).
    """

    def __init__(self, proposal: Proposal, key: str) -> None:
        self.proposal = proposal
        self.key = key
        self._nx5d_summary: _Kept | None = None
        self._nx5d_cache_owner = next(_OWNERS)
        self._nx5d_read: dict[str, DataIdentity | None] = {}  # per loading options: what the raw data came from
        self._nx5d_cooked: _Kept | None = None

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
        return handle if handle is not None else self.proposal._child_rule()(self.key)

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

    def _identity(self, read: IoRecord) -> DataIdentity | None:
        """The identity of what ``read`` read (``None`` if it cannot be known)."""
        try:
            return DataIdentity.of(read.depends, self.repository.storage)
        except Nx5dError:
            return None

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
        """Cheap description (type, steps, notes, ...) read without loading data."""
        kept = self._nx5d_summary
        if kept is None or not self._fresh(kept.identity):
            own = (lambda scan: self._get_summary()) if self._own("_get_summary") else None
            with record_io() as read:
                found = self._call("nx5d_summary", f"summarising {self._where()}", own=own, scan=self.ref)
            kept = self._nx5d_summary = _Kept("", self._identity(read), dict(found or {}))
        return dict(kept.value)

    # --- raw -------------------------------------------------------------------

    def _options(self, options: Mapping[str, Any]) -> tuple[dict[str, Any], Any]:
        """The repository's options overridden by ``options``, and the beamline's checked options object."""
        merged = {**self.repository.options, **options}
        declaration = self.repository.declaration
        if declaration is None:
            return merged, None
        return merged, build_options(declaration.options, merged, self.beamline)

    def _options_key(self, options: Mapping[str, Any]) -> str:
        merged, checked = self._options(options)
        return fingerprint({"options": merged if checked is None else attrs.asdict(checked, recurse=False)})

    def load(self, **options: Any) -> Any:
        """Raw data loaded with beamline options (e.g. ``reduce=2``): a copy of your own, read-only arrays.

        The data is kept per options and read again when a file it came
        from has changed.
        """
        return self._pristine(options)[0]

    def _pristine(self, options: Mapping[str, Any]) -> tuple[Any, DataIdentity | None]:
        """The raw data as the loader made it (a copy over the kept arrays) and the identity of what it read."""
        key = self._options_key(options)
        raw = raw_cache.get(self._nx5d_cache_owner, key)
        if raw is not None and self._fresh(self._nx5d_read.get(key)):
            return raw, self._nx5d_read[key]
        merged, checked = self._options(options)
        own = None
        if self._own("_get_raw"):
            own = lambda scan, options: self._get_raw(**merged) if merged else self._get_raw()  # noqa: E731
        with record_io() as read:
            raw = self._call("nx5d_raw", f"loading {self._where()}", own=own, scan=self.ref, options=checked)
        identity = self._identity(read)
        self._nx5d_read[key] = identity
        return raw_cache.put(self._nx5d_cache_owner, key, raw), identity

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
        settings = self._translated(view.settings() if view is not None else spice, view)  # type: ignore[arg-type]
        if raw is not None:
            edited = {EDITED: "edited: cooked from data given to Scan.cook(raw=...), not from the files"}
            return self._stamp(self._run_cook(raw, settings), view, settings, None, edited)
        options_key = self._options_key(options)
        key = fingerprint({"options": options_key, "spice": settings})
        kept = self._nx5d_cooked
        if kept is None or kept.key != key or not self._fresh(kept.identity):
            cooked, identity = self._cook_from_files(options, options_key, settings)
            kept = self._nx5d_cooked = _Kept(key, identity, read_only(self._stamp(cooked, view, settings, identity)))
        return read_only(kept.value)

    def _cook_from_files(
        self, options: Mapping[str, Any], options_key: str, settings: Mapping[str, Any]
    ) -> tuple[Any, DataIdentity | None]:
        """The cooked result and the identity of the data it came from: kept on disk, or cooked now."""
        kept_as = self._kept_as(options_key, settings)
        storage = self.repository.storage
        found = None if kept_as is None else cooked_cache.get(kept_as, storage)
        if found is not None:
            return found
        with record_io() as read:
            raw, loaded = self._raw_for_cooking(options)
            cooked = self._run_cook(raw, settings)
        identity = self._identity(read)
        if identity is not None and loaded is not None:
            identity = identity + loaded
        if kept_as is not None and identity is not None and identity.unchanged(storage):
            cooked_cache.put(kept_as, identity, cooked)  # unchanged since it was read: the result is right
        return cooked, identity

    def _run_cook(self, raw: Any, settings: Mapping[str, Any]) -> Any:
        own = (lambda scan, raw, spice: self._cook(raw, **spice)) if self._own("_cook") else None
        return self._call(
            "nx5d_cook",
            f"cooking {self._where()}",
            own=own,
            scan=self.ref,
            raw=raw,
            spice=settings,
            summary=self.summary,
        )

    def _translated(self, spice: Mapping[str, Mapping[str, Any]], view: SpiceView | None = None) -> dict[str, Any]:
        """The spice cooking receives: nx5d 3.x's analysis types read as nx5d's ([`legacy`][nx5d.spice.legacy])."""
        if not any(handle in spice for handle in ("exp_info", "image", "qargs", "recipes")):
            return as_settings(spice)
        declaration = self.repository.declaration
        handle = declaration.cooking.settings if declaration is not None and declaration.cooking else "settings"
        schema = self.proposal.spice_schemas().get(handle)
        plain = {h: v.to_dict() if hasattr(v, "to_dict") else dict(v) for h, v in spice.items()}
        entry = None if view is None else view.entries.get(handle)
        recorded = None if entry is None else set(entry.data or {}) - set(entry.from_defaults)
        return as_settings(translate(plain, schema, self._where(), handle, recorded))

    def _kept_as(self, options_key: str, settings: Mapping[str, Any]) -> str | None:
        """The key of this cook in [`nx5d.cooked_cache`][nx5d.cooked_cache], or ``None`` for cooks it does not keep.

        Cooks by code of the subclassing API are not kept: that code may
        change without a version number saying so.
        """
        if not cooked_cache.enabled or self.beamline is None or self.url is None:
            return None
        if self._own("_cook") or self._own("_get_raw"):
            return None
        parts = {
            "scan": self.url,
            "beamline": self.beamline,
            "plugin": self._plugin(),
            "nx5d": __version__,
            "options": options_key,
            "spice": settings,
        }
        return cooked_cache.key(parts)

    def _raw_for_cooking(self, options: Mapping[str, Any]) -> tuple[Any, DataIdentity | None]:
        """The raw data a cook reads, as the files hold it, and the identity of the reads made before the cook.

        The loaded data if it is loaded with these options and unchanged,
        else streamed: loaded lazily (for beamlines with a ``lazy`` option
        that was not set), so the cook reads the frames block by block and
        never holds the whole image stack; nothing is kept in `raw`.
        Streamed data is read while the cook runs: its identity is the
        cook's (``None`` here).
        """
        key = self._options_key(options)
        loaded = raw_cache.get(self._nx5d_cache_owner, key)
        if loaded is not None and self._fresh(self._nx5d_read.get(key)):
            return loaded, self._nx5d_read[key]
        merged, checked = self._options(options)
        if self._own("_get_raw") or checked is None or "lazy" in merged or not hasattr(checked, "lazy"):
            return self._pristine(options)
        streamed = attrs.evolve(checked, lazy=True)
        return self._call("nx5d_raw", f"loading {self._where()}", scan=self.ref, options=streamed), None

    def _plugin(self) -> str:
        """The serving plugin's distribution and version (``""`` without a beamline)."""
        if self.beamline is None:
            return ""
        status = self.repository.registry.status(self.beamline)
        return f"{status.distribution or status.target} {status.version or ''}".strip()

    def provenance(self, view: SpiceView | None = None, settings: Mapping[str, Any] | None = None) -> dict[str, str]:
        """What cooked data of this scan came from, as attribute strings.

        ``nx5d_version``, ``nx5d_beamline``, ``nx5d_plugin`` (distribution and
        version), ``nx5d_scan_url`` and ``nx5d_spice``: JSON of the uuid,
        revision and anchor of every spice record used (or, for spice given
        explicitly to `cook`, the settings themselves).
        """
        view = self.spice if view is None and settings is None else view
        used: Any = (
            view.provenance() if view is not None else {"given": {h: dict(v) for h, v in (settings or {}).items()}}
        )
        return {
            "nx5d_version": __version__,
            "nx5d_beamline": self.beamline or "",
            "nx5d_plugin": self._plugin(),
            "nx5d_scan_url": self.url or "",
            "nx5d_spice": json.dumps(used, sort_keys=True, default=str),
        }

    def _stamp(
        self,
        cooked: Any,
        view: SpiceView | None,
        settings: Mapping[str, Any],
        identity: DataIdentity | None,
        extra: Mapping[str, str] | None = None,
    ) -> Any:
        """``cooked`` with its provenance, the identity of the data it came from and ``extra`` as attributes."""
        if not isinstance(getattr(cooked, "attrs", None), dict) or not hasattr(cooked, "copy"):
            return cooked
        stamped = cooked.copy(deep=False)
        stamped.attrs = {**cooked.attrs, **self.provenance(view, None if view is not None else settings)}
        if identity is not None:
            stamped.attrs.update(identity.attributes())
        stamped.attrs.update(extra or {})
        return stamped

    @property
    def cooked(self) -> Any:
        """The data processed with this scan's spice (cached while spice is unchanged)."""
        return self.cook()

    def reload(self) -> None:
        """Forget the cached summary, raw and cooked data."""
        self._nx5d_summary = None
        raw_cache.forget(self._nx5d_cache_owner)
        self._nx5d_read.clear()
        self._nx5d_cooked = None

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
        cooked = self._nx5d_cooked
        rows.append(
            {
                "field": "cooked",
                "value": _state(None if cooked is None else cooked.value, "cooked", "not cooked: scan.cooked"),
            }
        )
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
