"""What a scan asks the hook chain for when its raw data is loaded or its data cooked.

[`Scan.load`][nx5d.Scan.load] and [`Scan.cook`][nx5d.Scan.cook] do no work of
their own: they write an order and call a hook ([`nx5d_loaded`][nx5d.plugins.hookspecs.nx5d_loaded],
[`nx5d_cooked`][nx5d.plugins.hookspecs.nx5d_cooked]).  The core's built-in
extensions ([`nx5d.extensions`][nx5d.extensions]) answer them -- from memory,
from results kept on disk, or by loading and cooking -- and third-party
extensions may wrap them like any hook.  An order carries what the scan
knows (its options, its spice, how to load and how to cook it) and is
filled in along the chain (the identity of the data used).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from nx5d.io.identity import DataIdentity
    from nx5d.spice.view import SpiceView

__all__ = ["Loaded", "LoadOrder", "CookOrder", "ListOrder", "SummaryOrder"]


@attrs.frozen
class Loaded:
    """Data read from files (raw data, a summary, a listing) and the [identity][nx5d.io.identity.DataIdentity]
    of what it was read from (``None``: unknown)."""

    data: Any
    identity: DataIdentity | None


@attrs.define
class LoadOrder:
    """A scan's raw data with one set of loading options.

    Attributes
    ----------
    owner:
        Identifies the scan object (the raw data in memory is kept per object).
    key:
        A fingerprint of the loading options.
    read:
        ``read() -> raw data``: calls the beamline's [`nx5d_raw`][nx5d.plugins.hookspecs.nx5d_raw]
        (or the subclassing API's ``_get_raw``) with the checked options.
    """

    owner: int
    key: str
    read: Callable[[], Any]


@attrs.define
class CookOrder:
    """A scan's cooked data with some spice and loading options.

    Attributes
    ----------
    spice:
        ``{handle: {field: value}}``: the scan's spice view, or spice given to
        `cook`; an extension may translate it (nx5d 3.x's types) before it
        is used.
    view:
        The spice view it came from (``None`` for spice given to `cook`).
    options_key:
        A fingerprint of the loading options.
    raw:
        ``raw() -> Loaded``: the raw data a cook reads, as the files hold it
        (the data in memory if it is loaded with these options, else read
        lazily so that frames stream through the cook), and the identity
        of what was read before the cook (``None``: read during the cook).
    cook:
        ``cook(raw, spice) -> result``: calls the beamline's [`nx5d_cook`][nx5d.plugins.hookspecs.nx5d_cook].
    memo:
        The scan object's own dictionary for what is kept with it (its
        cooked result in memory), gone with the object.
    schemas:
        The spice schemas of the proposal ``{type name: class}``, and
    settings:
        the handle of the beamline's map settings.
    edited:
        Raw data the user gave (``scan.cook(raw=...)``): cooked as it is,
        marked, and never kept.
    keep:
        Whether a result of the files may be kept on disk (not for the
        subclassing API's code, which may change without a version; not for
        stacks, whose definition may change without their scans changing).
    plugin:
        The serving plugin's distribution and version (part of a kept
        result's key and of the provenance).
    identity:
        Filled in along the chain: the identity of the data the result came
        from (``None``: unknown).
    source:
        Filled in along the chain: ``"cooked"``, ``"memory"`` or ``"disk"``.
    """

    spice: dict[str, Any]
    view: SpiceView | None
    options_key: str
    raw: Callable[[], Loaded]
    cook: Callable[[Any, Mapping[str, Any]], Any]
    memo: dict[str, Any]
    schemas: Mapping[str, type] = attrs.field(factory=dict)
    settings: str = "settings"
    edited: Any = None
    keep: bool = True
    plugin: str = ""
    identity: DataIdentity | None = None
    source: str = ""


@attrs.define
class ListOrder:
    """The keys of a repository's proposals, or of one proposal's scans.

    Attributes
    ----------
    proposal:
        The key of the proposal whose scans are listed; ``None``: the
        repository's proposals.
    pattern:
        The URL pattern whose placeholder the keys fill (``None`` where the
        repository is not a URL pattern).
    read:
        ``read() -> (keys, skipped)``: the beamline's listing hook, else the
        walk of the pattern over storage; ``skipped`` are the names found
        where the keys are that the naming rule does not take as keys.
    keep:
        Whether the listing may be remembered across sessions (not for the
        subclassing API's code, nor for repositories without a beamline).
    producer:
        What the listing depends on besides the files: the beamline, its
        distribution and version, nx5d's version and the repository's
        naming rules (part of a remembered listing's key).
    source:
        Filled in along the chain: ``"index"`` where the listing was
        remembered, else ``""``.
    """

    proposal: str | None
    pattern: Any
    read: Callable[[], tuple[list[str], list[str]]]
    keep: bool = True
    producer: str = ""
    source: str = ""


@attrs.define
class SummaryOrder:
    """The summaries of some scans of one proposal.

    Attributes
    ----------
    scans:
        The scans, in order ([`ScanRef`][nx5d.plugins.references.ScanRef]).
    read:
        ``read(scan) -> summary``: the beamline's [`nx5d_summary`][nx5d.plugins.hookspecs.nx5d_summary]
        (or the subclassing API's ``_get_summary``) for one scan.
    keep:
        Whether summaries may be remembered across sessions (not those of
        the subclassing API's code, nor of repositories without a beamline).
    producer:
        The beamline, its distribution and version and nx5d's version (part
        of a remembered summary's key).
    workers:
        Threads that read summaries at once.
    found:
        Filled in along the chain: ``{scan key: Loaded(summary, identity)}``
        for the summaries known already (an extension that remembers them
        adds its own before the rest are read), or the
        [`Nx5dError`][nx5d.errors.Nx5dError] a scan's summary raised.
    remembered:
        Filled in along the chain: the keys of ``found`` an extension
        answered from what it remembers (not read now).
    """

    scans: list[Any]
    read: Callable[[Any], Any]
    keep: bool = True
    producer: str = ""
    workers: int = 1
    found: dict[str, Any] = attrs.field(factory=dict)
    remembered: set[str] = attrs.field(factory=set)
