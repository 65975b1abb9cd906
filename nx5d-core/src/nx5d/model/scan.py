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
from nx5d.io.storage import record_io
from nx5d.model.cooked import cooked_cache
from nx5d.model.memory import raw_cache
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


class Scan:
    """One scan of a proposal.

    ``summary`` is cheap (no data loaded); ``raw`` loads the data as recorded;
    ``cooked`` processes it with the scan's spice.  Raw data is kept per set of
    loading options in the process-wide `nx5d.raw_cache` (bounded in
    bytes, read-only arrays); the cooked result is kept while options and
    spice stay the same.  Cooking a scan whose raw data is not loaded streams
    the frames instead of loading them all.  `reload` forgets both.

    This is also ``nx5d.repo.base.DataScanBase``: subclasses override
    ``_get_summary``, ``_get_raw`` and ``_cook``.  Overridden methods are
    served through the same hook calls as plugins (extensions wrap them too).
    """

    def __init__(self, proposal: Proposal, key: str) -> None:
        self.proposal = proposal
        self.key = key
        self._nx5d_summary: dict[str, Any] | None = None
        self._nx5d_cache_owner = next(_OWNERS)
        self._nx5d_read: dict[str, list[str]] = {}  # per loading options: the files the raw data came from
        self._nx5d_cooked: tuple[str, Any] | None = None

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

    @property
    def summary(self) -> dict[str, Any]:
        """Cheap description (type, steps, notes, ...) read without loading data."""
        if self._nx5d_summary is None:
            own = (lambda scan: self._get_summary()) if self._own("_get_summary") else None
            found = self._call("nx5d_summary", f"summarising {self._where()}", own=own, scan=self.ref)
            self._nx5d_summary = dict(found or {})
        return dict(self._nx5d_summary)

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
        """Raw data loaded with beamline options (e.g. ``reduce=2``), kept per options (read-only arrays)."""
        key = self._options_key(options)
        raw = raw_cache.get(self._nx5d_cache_owner, key)
        if raw is None:
            merged, checked = self._options(options)
            own = None
            if self._own("_get_raw"):
                own = lambda scan, options: self._get_raw(**merged) if merged else self._get_raw()  # noqa: E731
            with record_io() as read:
                raw = self._call("nx5d_raw", f"loading {self._where()}", own=own, scan=self.ref, options=checked)
            self._nx5d_read[key] = list(read.urls)
            raw = raw_cache.put(self._nx5d_cache_owner, key, raw)
        return raw

    @property
    def raw(self) -> Any:
        """The data as recorded (normally an ``xarray.Dataset``), with the repository's options."""
        return self.load()

    # --- cooked ------------------------------------------------------------------

    @property
    def spice(self) -> SpiceView:
        """The spice view at this scan (what `cooked` uses)."""
        return self.proposal.spice.view(self)

    def cook(self, spice: Mapping[str, Mapping[str, Any]] | None = None, **options: Any) -> Any:
        """Cooked data, with the scan's spice unless ``spice`` (``{handle: {field: value}}``) is given.

        Raises [`SpiceConflict`][nx5d.errors.SpiceConflict] when the scan's spice is in conflict.
        """
        view = self.spice if spice is None else None
        settings = self._translated(view.settings() if view is not None else spice, view)  # type: ignore[arg-type]
        options_key = self._options_key(options)
        key = fingerprint({"options": options_key, "spice": settings})
        if self._nx5d_cooked is None or self._nx5d_cooked[0] != key:
            kept_as = self._kept_as(options_key, settings)
            cooked = None if kept_as is None else cooked_cache.get(kept_as)
            if cooked is None:
                with record_io() as read:
                    raw = self._raw_for_cooking(options)
                    own = (lambda scan, raw, spice: self._cook(raw, **spice)) if self._own("_cook") else None
                    cooked = self._call(
                        "nx5d_cook",
                        f"cooking {self._where()}",
                        own=own,
                        scan=self.ref,
                        raw=raw,
                        spice=settings,
                        summary=self.summary,
                    )
                if kept_as is not None:
                    cooked_cache.put(kept_as, [*read.urls, *self._nx5d_read.get(options_key, [])], cooked)
            self._nx5d_cooked = (key, self._stamp(cooked, view, settings))
        return self._nx5d_cooked[1]

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

    def _raw_for_cooking(self, options: Mapping[str, Any]) -> Any:
        """The raw data a cook reads: the loaded data if it is loaded with these options, else streamed.

        Streamed means loaded lazily (for beamlines with a ``lazy`` option
        that was not set): the cook then reads the frames block by block and
        never holds the whole image stack; nothing is kept in `raw`.
        """
        loaded = raw_cache.get(self._nx5d_cache_owner, self._options_key(options))
        if loaded is not None:
            return loaded
        merged, checked = self._options(options)
        if self._own("_get_raw") or checked is None or "lazy" in merged or not hasattr(checked, "lazy"):
            return self.load(**options)
        streamed = attrs.evolve(checked, lazy=True)
        return self._call("nx5d_raw", f"loading {self._where()}", scan=self.ref, options=streamed)

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

    def _stamp(self, cooked: Any, view: SpiceView | None, settings: Mapping[str, Any]) -> Any:
        attrs = getattr(cooked, "attrs", None)
        if isinstance(attrs, dict):
            attrs.update(self.provenance(view, None if view is not None else settings))
        return cooked

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
        rows.append(
            {"field": "raw", "value": _state(("", loaded[-1]) if loaded else None, "loaded", "not loaded: scan.raw")}
        )
        rows.append({"field": "cooked", "value": _state(self._nx5d_cooked, "cooked", "not cooked: scan.cooked")})
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


def _state(cached: tuple[str, Any] | None, done: str, todo: str) -> str:
    """``done`` with the sizes of the cached result (``loaded: index 9, y 195, x 487``), or ``todo``."""
    if cached is None:
        return todo
    sizes = getattr(cached[1], "sizes", None)
    return f"{done}: {', '.join(f'{d} {n}' for d, n in sizes.items())}" if sizes else done
