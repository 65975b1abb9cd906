"""The plugin contract: pluggy hook specifications of nx5d.

A beamline plugin is a module (or any object) named by an entry point in the
``nx5d.beamlines`` group.  It declares ``NX5D_PLUGIN_API`` (the plugin API
version it targets, see :data:`PLUGIN_API`) and implements some of the hooks
below with the :data:`hookimpl` marker.  Hooks are called only for the
beamline a repository was opened with; every hook has a core fallback, so a
plugin implements just what differs.

Cross-cutting extensions (provenance, progress, caching policies ...) are
registered under the ``nx5d.extensions`` entry point group and see the calls
of every beamline; they typically implement hooks as pluggy wrappers
(``@hookimpl(wrapper=True)``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from nx5d.addressing.url import UrlPattern
    from nx5d.io.storage import Storage
    from nx5d.model import Proposal, Repository, Scan
    from nx5d.plugins.declaration import BeamlineInfo

__all__ = ["PLUGIN_API", "PROJECT", "hookspec", "hookimpl"]

#: The plugin API version this core provides.  A plugin whose
#: ``NX5D_PLUGIN_API`` differs is reported as incompatible at discovery.
PLUGIN_API = 1

PROJECT = "nx5d"
hookspec = pluggy.HookspecMarker(PROJECT)
#: Marker for hook implementations in plugins: ``@nx5d.hookimpl``.
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec(firstresult=True)
def nx5d_beamline_info() -> BeamlineInfo:
    """Describe the beamline: description, URL examples, schemes, options.

    Shown by ``nx5d plugins`` and in the errors of :func:`nx5d.open`.
    """


@hookspec(firstresult=True)
def nx5d_claim(pattern: UrlPattern, storage: Storage) -> float | None:
    """How confidently this beamline can serve the repository ``pattern``.

    ``storage`` reads with the ``storage_options`` given to :func:`nx5d.open`.

    Return a number in ``(0, 1]`` (``1``: certainly mine, e.g. a scheme only
    this plugin serves; ``0.5``: the layout looks right) or ``None`` when the
    URL is not for this beamline.  :func:`nx5d.open` picks the highest claim;
    equal best claims are an error that asks for ``beamline=``.  Claims may
    look at storage but should stay cheap.
    """


@hookspec(firstresult=True)
def nx5d_repository(url: str, beamline: str, options: Mapping[str, Any]) -> Repository | None:
    """Create the repository object for ``url``.

    The core creates a plain :class:`nx5d.Repository`; a plugin written with
    the subclassing API (``nx5d.repo.base``) returns an instance of its own
    repository class here.
    """


@hookspec(firstresult=True)
def nx5d_list_proposals(repository: Repository) -> Iterable[str] | None:
    """Keys of the proposals in ``repository``, in display order.

    Core fallback: walk the URL pattern over storage (:mod:`nx5d.addressing.listing`).
    """


@hookspec(firstresult=True)
def nx5d_list_scans(proposal: Proposal) -> Iterable[str] | None:
    """Keys of the scans in ``proposal``, in scan order (the order spice uses).

    Core fallback: walk the URL pattern over storage, natural order.
    """


@hookspec(firstresult=True)
def nx5d_list_anchor(repository: Repository, document: str, path: tuple[str, ...]) -> Iterable[str] | None:
    """Names found inside ``document`` at anchor ``path`` (e.g. HDF5 group members).

    Needed by the core's pattern walk when placeholders sit after ``#``.
    """


@hookspec(firstresult=True)
def nx5d_proposal_handle(key: str) -> str | None:
    """The handle of a proposal key (core fallback: sanitise, prefix ``p``)."""


@hookspec(firstresult=True)
def nx5d_scan_handle(key: str) -> str | None:
    """The handle of a scan key (core fallback: sanitise, prefix ``s``)."""


@hookspec(firstresult=True)
def nx5d_summary(scan: Scan) -> Mapping[str, Any] | None:
    """A cheap summary of ``scan`` without loading its data.

    Conventional keys: ``type``, ``steps`` (frames), ``notes``; any others are
    shown as extra columns of the proposal's scan table.
    """


@hookspec(firstresult=True)
def nx5d_raw(scan: Scan, options: Mapping[str, Any]) -> Any:
    """Load the data of ``scan`` as recorded (normally an ``xarray.Dataset``).

    ``options`` are the beamline's loading options (repository defaults
    overridden by the ones passed to :meth:`nx5d.Scan.load`).
    """


@hookspec(firstresult=True)
def nx5d_cook(scan: Scan, raw: Any, spice: Mapping[str, Any]) -> Any:
    """Process ``raw`` data of ``scan`` with ``spice`` (handle -> settings).

    Settings support attribute access: ``spice["settings"].img_center``.
    """


@hookspec(firstresult=True)
def nx5d_default_spice(proposal: Proposal) -> Mapping[str, Mapping[str, Any]] | None:
    """Spice used where a proposal has no records: ``{handle: {field: value}}``."""


@hookspec(firstresult=True)
def nx5d_spice_schema() -> Mapping[str, type] | None:
    """Schemas of this beamline's spice types: ``{type_name: attrs class}``.

    Records of a type with a schema are validated before they are written;
    schema classes whose fields all have defaults also provide default spice.
    """
