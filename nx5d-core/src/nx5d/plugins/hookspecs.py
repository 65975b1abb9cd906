"""The behaviour hooks of a beamline plugin (pluggy hook specifications).

A beamline plugin is a module or object named by an entry point in the
``nx5d.beamlines`` group.  It declares ``NX5D_PLUGIN_API`` (`PLUGIN_API`)
and ``NX5D_BEAMLINE`` (a [`Beamline`][nx5d.plugins.declaration.Beamline]), and
implements the hooks below that it needs, each marked with
`hookimpl` (``@nx5d.hookimpl``):

    import nx5d
    from nx5d.plugins import Beamline, ClaimLevel

    NX5D_PLUGIN_API = 2
    NX5D_BEAMLINE = Beamline("My lab: one HDF5 file per scan", url_examples=("file:///…/{proposal}/{scan}.h5",))

    @nx5d.hookimpl
    def nx5d_raw(scan, options):
        ...  # read scan.url through scan.storage, return an xarray.Dataset

Hooks receive references ([`nx5d.plugins.references`][nx5d.plugins.references]) and plain values,
never the core's model objects.  Every hook is called for one beamline at a
time (the one serving the repository) and returns its first non-``None``
result (pluggy's ``firstresult``); the core's fallbacks
(`nx5d.plugins.fallbacks`) answer when the beamline does not.

Cross-cutting extensions (caching, provenance, progress policies ...) are
registered under the ``nx5d.extensions`` entry point group and see the calls
of every beamline; they implement hooks as pluggy wrappers
(``@nx5d.hookimpl(wrapper=True)``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from nx5d.plugins.orders import CookOrder, ListOrder, Loaded, LoadOrder, SummaryOrder
    from nx5d.plugins.references import DocumentRef, ProposalRef, RepositoryRef, ScanRef

__all__ = ["PLUGIN_API", "PROJECT", "hookspec", "hookimpl"]

#: The plugin API version this core provides.  A plugin whose
#: ``NX5D_PLUGIN_API`` differs is reported as incompatible at discovery.
PLUGIN_API = 2

PROJECT = "nx5d"
hookspec = pluggy.HookspecMarker(PROJECT)
#: Marker for hook implementations in plugins: ``@nx5d.hookimpl``.
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec(firstresult=True)
def nx5d_list_proposals(repository: RepositoryRef) -> Iterable[str] | None:
    """Keys of the proposals of a repository, in display order.

    First result counts.  Core fallback: walk the URL pattern over storage,
    keys in natural order, filtered by the declaration's ``key_patterns``.

    Parameters
    ----------
    repository:
        The repository: its ``pattern``, ``storage`` and ``beamline``.

    Returns
    -------
    Iterable[str] or None
        The keys, or ``None`` to leave the listing to the core.

    Example
    -------
    A beamline whose proposals are the lines of an index file:

        @nx5d.hookimpl
        def nx5d_list_proposals(repository):
            text = repository.storage.read_bytes(repository.pattern.prefix + "/data/index.txt")
            return text.decode().split()
    """


@hookspec(firstresult=True)
def nx5d_list_scans(proposal: ProposalRef) -> Iterable[str] | None:
    """Keys of the scans of a proposal, in scan order (the order spice uses).

    First result counts.  Core fallback: walk the URL pattern (``proposal.pattern``,
    with the proposal key filled in) over storage, natural order.

    Parameters
    ----------
    proposal:
        The proposal: its ``key``, ``pattern``, ``storage`` and ``repository``.

    Returns
    -------
    Iterable[str] or None
        The keys, or ``None`` to leave the listing to the core.
    """


@hookspec(firstresult=True)
def nx5d_list_anchor(document: DocumentRef, path: tuple[str, ...]) -> Iterable[str] | None:
    """Names found inside a document at an anchor path (the scans of a SPEC file, HDF5 group members).

    Needed by the core's pattern walk where a ``{proposal}`` or ``{scan}``
    placeholder sits after ``#``.  First result counts.  Core fallback:
    members of HDF5 groups and Zarr groups; other documents raise
    [`NotSupportedError`][nx5d.errors.NotSupportedError].

    Parameters
    ----------
    document:
        The document (a file), with the storage to read it.
    path:
        The anchor components resolved so far (``()``: the document's top level).

    Returns
    -------
    Iterable[str] or None
        The names at ``path``, or ``None`` when this beamline does not read
        such documents.

    Example
    -------
    A beamline whose scans are those of SPEC files:

        @nx5d.hookimpl
        def nx5d_list_anchor(document, path):
            if not document.url.endswith(".spec"):
                return None
            return [] if path else spec_scan_keys(document)
    """


@hookspec(firstresult=True)
def nx5d_summary(scan: ScanRef) -> Mapping[str, Any] | None:
    """A cheap summary of a scan, read without loading its data.

    First result counts.  Core fallback: an empty summary.  Conventional
    keys: ``type`` (kind of scan), ``steps`` (points / frames), ``notes``,
    and ``state`` where the file says whether the scan is finished:
    ``"done"`` (an end mark, every planned point, a later scan in the same
    file) or ``"running"`` (fewer points than planned, nothing after it) --
    [`follow`][nx5d.model.follow.follow] relies on it and guesses only
    where it is absent.  Any other keys become extra columns of the
    proposal's scan table.

    Parameters
    ----------
    scan:
        The scan: ``url``, ``document``, ``anchor``, ``key``, ``storage`` and
        ``proposal``.

    Returns
    -------
    Mapping[str, Any] or None
        The summary.
    """


@hookspec(firstresult=True)
def nx5d_raw(scan: ScanRef, options: Any) -> Any:
    """Load a scan's data as recorded, normally as an ``xarray.Dataset``.

    First result counts.  Core fallback: [`NotSupportedError`][nx5d.errors.NotSupportedError].

    Parameters
    ----------
    scan:
        The scan to load.
    options:
        An instance of the declaration's ``options`` class: the repository's
        defaults overridden by the options given to [`nx5d.Scan.load`][nx5d.Scan.load],
        already checked by the core.

    Returns
    -------
    xarray.Dataset
        Counters on ``index``; detector frames as ``images`` on
        ``(index, y, x)`` with pixel coordinates ``y`` and ``x``.
    """


@hookspec(firstresult=True)
def nx5d_cook(scan: ScanRef, raw: Any, spice: Mapping[str, Any], summary: Mapping[str, Any]) -> Any:
    """Process a scan's raw data with its spice.

    First result counts.  Core fallback: the recipes ([`nx5d.recipes`][nx5d.recipes])
    as the beamline's ``cooking`` declaration says; without one,
    [`NotSupportedError`][nx5d.errors.NotSupportedError].  Implement this hook only for
    cooking the recipes cannot express.

    Parameters
    ----------
    scan:
        The scan being cooked.
    raw:
        Its raw data, as returned by `nx5d_raw`.
    spice:
        ``{handle: settings}``; settings support attribute access
        (``spice["settings"].img_center``).  Turn them into the schema class
        with [`nx5d.spice.schema.settings_from`][nx5d.spice.schema.settings_from].
    summary:
        The scan's summary (`nx5d_summary`): its ``type`` chooses the recipe.

    Returns
    -------
    Any
        The cooked result, normally an ``xarray.Dataset``; the core adds
        provenance attributes.
    """


@hookspec(firstresult=True)
def nx5d_default_spice(proposal: ProposalRef) -> Mapping[str, Mapping[str, Any]] | None:
    """Spice used where a proposal has no records: ``{handle: {field: value}}``.

    First result counts.  Core fallback: ``None`` -- the defaults of the
    declaration's spice schemas whose fields all have defaults.

    Parameters
    ----------
    proposal:
        The proposal.
    """


# --- the core's service hooks: answered by its built-in extensions (nx5d.extensions), wrapped by anyone's ---------


@hookspec(firstresult=True)
def nx5d_loaded(scan: ScanRef, order: LoadOrder) -> Loaded | None:
    """A scan's raw data for one set of loading options, and the identity of what it was read from.

    [`Scan.load`][nx5d.Scan.load] calls it; beamlines implement
    `nx5d_raw` instead.  First result counts.  Answered by the core's
    built-in extensions ([`nx5d.extensions`][nx5d.extensions]): ``memory``
    from the data kept in [`nx5d.raw_cache`][nx5d.extensions.memory.RawCache]
    while its files are unchanged (and it keeps what is loaded), ``kitchen``
    by calling ``order.read()``.  An extension may wrap it
    (``@nx5d.hookimpl(wrapper=True)``) to time or log loads, or answer first
    (``tryfirst=True``) from a store of its own.

    Parameters
    ----------
    scan:
        The scan.
    order:
        What is asked for ([`LoadOrder`][nx5d.plugins.orders.LoadOrder]).

    Returns
    -------
    Loaded
        The data and its identity.
    """


@hookspec(firstresult=True)
def nx5d_cooked(scan: ScanRef, order: CookOrder) -> Any:
    """A scan's cooked data for an order's spice and loading options.

    [`Scan.cook`][nx5d.Scan.cook] calls it; beamlines implement `nx5d_cook`
    (or declare cooking) instead.  First result counts.  Answered by the
    core's built-in extensions ([`nx5d.extensions`][nx5d.extensions]):
    ``legacy_spice`` reads nx5d 3.x's spice types as nx5d's first,
    ``memory`` answers from the result kept with the scan object,
    ``cooked_cache`` from results kept on disk (and keeps new ones),
    ``kitchen`` by loading the raw data and calling `nx5d_cook`, and
    ``provenance`` stamps what comes out.  Each sets ``order.identity`` and
    ``order.source``.

    Parameters
    ----------
    scan:
        The scan.
    order:
        What is asked for ([`CookOrder`][nx5d.plugins.orders.CookOrder]).

    Returns
    -------
    Any
        The cooked result (normally an ``xarray.Dataset``).
    """


@hookspec(firstresult=True)
def nx5d_listed(repository: RepositoryRef, order: ListOrder) -> Loaded | None:
    """The keys of a repository's proposals or of a proposal's scans, and the identity of what was read.

    The model calls it for every listing; beamlines implement
    `nx5d_list_proposals` / `nx5d_list_scans` (or nothing: the core walks
    the URL pattern) instead.  First result counts.  Answered by the core's
    built-in extension ``kitchen`` ([`nx5d.extensions`][nx5d.extensions]) by
    calling ``order.read()``; where ``nx5d-index`` is installed, its
    extension ``scan_index`` answers first from the listing remembered in the
    [scan index][nx5d_index.extension] while the files it was read from are
    unchanged (and keeps new ones).

    Parameters
    ----------
    repository:
        The repository.
    order:
        What is listed ([`ListOrder`][nx5d.plugins.orders.ListOrder]).

    Returns
    -------
    Loaded
        ``(keys, skipped names)`` and the identity of what the listing read.
    """


@hookspec(firstresult=True)
def nx5d_summarised(proposal: ProposalRef, order: SummaryOrder) -> dict[str, Any] | None:
    """The summaries of some scans of a proposal, each with the identity of what it was read from.

    [`Scan.summary`][nx5d.Scan.summary] and [`Proposal.summaries`][nx5d.Proposal.summaries]
    call it; beamlines implement `nx5d_summary` instead.  First result
    counts.  Answered by the core's built-in extension ``kitchen``
    ([`nx5d.extensions`][nx5d.extensions]), which reads them through
    ``order.read`` in ``order.workers`` threads; where ``nx5d-index`` is
    installed, its extension ``scan_index`` first adds to ``order.found`` the
    summaries remembered in the [scan index][nx5d_index.extension] whose
    files are unchanged (and keeps the others once read).

    Parameters
    ----------
    proposal:
        The proposal the scans belong to.
    order:
        Which scans ([`SummaryOrder`][nx5d.plugins.orders.SummaryOrder]).

    Returns
    -------
    dict
        ``{scan key: Loaded(summary, identity)}``, or the
        [`Nx5dError`][nx5d.errors.Nx5dError] a scan's summary raised.
    """
