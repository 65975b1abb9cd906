"""Following a beamtime: new scans as they appear, each cooked once it is complete.

``proposal.follow()`` looks at the proposal every ``poll`` seconds.  Whether
a scan is complete is what its file says, where it says it: the summary's
``state`` is ``"done"`` (a SPEC scan followed by another in the file, or with
every point its command plans; a NeXus scan with its ``end_time``; a UDKM
scan with every frame its parameters plan) or ``"running"`` (a SPEC scan
with fewer points than planned, at the end of its file).  Only where the
file says neither does a guess decide: a later scan in the listing, or a
summary unchanged for ``settle`` seconds.  A running scan whose file stops
changing for ``stall`` seconds (a scan stopped by hand) is handed out too,
with a note saying so.

Scans being measured when following starts are followed: with
``new_only``, the scans that exist then are skipped unless their file says
they are running.  A scan handed out that changes
afterwards (more points, a frame written late) is handed out again once it
is complete, as an update.  Files still being written are expected: a scan
that cannot be read or cooked yet (a SPEC line cut short, an HDF5 file
being written, a TIFF whose bytes are not all there) is tried again at the
next look, and handed out with its error after ``attempts`` failures.

With ``partial``, a scan being measured is also handed out while it grows:
whenever it has new points, at most every ``partial`` seconds, its map so
far -- the recipe's cook of the points written until then -- comes as an
`Arrival` with ``partial=True``, its cooked data marked with the attribute
``nx5d_partial`` (the points it holds).  Partial maps are never kept (no
cache serves them as the scan's cooked data); the scan's final arrival is
cooked from the complete files as without ``partial``.  The cooks of one
growing scan share a [`Growing`][nx5d.recipes.contract.Growing], in which
a recipe may keep its gridding totals and add only the new points (the map
recipes of nx5d-rsm do, onto the grid the scan's command plans:
[`nx5d_rsm.incremental`][nx5d_rsm.incremental]); what a cook warns of its
result (a `CookWarning`) is said once per scan.  A partial map that
cannot be made yet (a TIFF half written) is tried at the next look; a point
whose frame is not written yet (an HDF5 frame the writer made room for) is
left out of the map until it is, and ``nx5d_partial`` counts the points the
map holds.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import attrs

from nx5d.errors import CookWarning, DataError, Nx5dError, OptionError
from nx5d.recipes.contract import Growing, growing

if TYPE_CHECKING:
    from nx5d.model.proposal import Proposal
    from nx5d.model.scan import Scan

__all__ = ["Arrival", "follow"]


@attrs.frozen
class Arrival:
    """A complete scan, as `follow` hands it out.

    Attributes
    ----------
    scan:
        The scan.
    cooked:
        Its cooked data (``None`` when not cooking, or when it failed).
    error:
        Why it could not be read or cooked after every attempt, else ``None``.
    update:
        Whether the scan was handed out before and has changed since.
    note:
        How completeness was decided where the file does not say it
        (``"unchanged for 30 s"``, ``"a later scan exists"``,
        ``"stopped: 3 of 6 points, unchanged for 600 s"``), else ``""``.
    partial:
        Whether the scan is still being measured: ``cooked`` is the map of
        the points written so far (``follow(partial=...)``).
    """

    scan: Scan
    cooked: Any = None
    error: Nx5dError | None = None
    update: bool = False
    note: str = ""
    partial: bool = False


@attrs.define
class _Watched:
    summary: Any = None
    since: float = 0.0
    failures: int = 0  #: looks at which the complete scan could not be cooked
    unreadable: int = 0  #: looks at which its summary could not be read
    handed: Any = None  #: the summary (or error) the scan was handed out with (``None``: not yet)
    partial_of: Any = None  #: the summary its last partial map was made of
    partial_at: float = float("-inf")  #: when that was
    growing: Growing = attrs.field(factory=Growing)  #: what the recipe keeps between the partial maps
    partial_points: int = -1  #: the points the last partial map held


def _summary(scan: Scan) -> tuple[Any, Nx5dError | None]:
    try:
        with warnings.catch_warnings():  # a scan being written warns of its cut last line: expected here
            warnings.simplefilter("ignore")
            return scan.summary, None
    except DataError as exc:
        return None, exc  # not readable yet: the writer is in the middle of it


def _completion(summary: Any, later_exists: bool, unchanged: float, settle: float, stall: float) -> str | None:
    """Why the scan counts as complete (``""``: its file says so), or ``None`` while it does not."""
    state = summary.get("state")
    if state == "done":
        return ""
    if state == "running":
        if unchanged >= stall:
            return f"stopped: {summary.get('steps', '?')} points, unchanged for {unchanged:.0f} s"
        return None
    if later_exists:
        return "a later scan exists"
    if unchanged >= settle:
        return f"unchanged for {unchanged:.0f} s"
    return None


def follow(
    proposal: Proposal,
    *,
    poll: float = 5.0,
    settle: float = 30.0,
    stall: float = 600.0,
    cook: bool = True,
    new_only: bool = True,
    attempts: int = 3,
    idle_timeout: float | None = None,
    partial: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Arrival]:
    """Yield an `Arrival` for every scan of ``proposal`` once it is complete (see the module documentation).

    Parameters
    ----------
    proposal:
        The proposal to watch.
    poll:
        Seconds between looks at the proposal.
    settle:
        Seconds a scan's summary must stay unchanged to count as complete
        when its file does not say, and no later scan exists.
    stall:
        Seconds a scan its file says is running must stay unchanged to be
        handed out as stopped.
    cook:
        Cook each complete scan with its spice (else only hand it out).
    new_only:
        Skip the scans that are complete when following starts.
    attempts:
        How often a scan that fails to read or cook is tried before it is
        handed out with its error.
    idle_timeout:
        Stop after this many seconds without a scan handed out, once no
        scan is still being tried again (``None``: follow until the loop is
        left, e.g. with Ctrl-C).
    partial:
        Also hand out the map of a scan being measured whenever it has new
        points, at most every ``partial`` seconds (0: at every look);
        ``None``: only complete scans.  Needs ``cook``.
    """
    if partial is not None and (partial < 0 or not cook):
        raise OptionError(f"follow's partial must be seconds >= 0 and needs cook=True, not {partial} (cook={cook})")
    if poll <= 0 or settle < 0 or stall < 0 or attempts < 1:
        raise OptionError(
            f"follow needs poll > 0, settle >= 0, stall >= 0 and attempts >= 1, not {poll}, {settle}, {stall}, "
            f"{attempts}"
        )
    watched: dict[str, _Watched] = {}
    start = clock()
    if new_only:
        for key in _first_listing(proposal):
            summary, _ = _summary(proposal.scan(key))
            if summary is not None and summary.get("state") != "running":
                watched[key] = _Watched(summary, start, handed=summary)  # there already: only its changes count
    last_arrival = start
    while True:
        try:
            listing = list(proposal.listing(refresh=True))
        except DataError:  # a document being written cannot be listed yet: look again
            listing = []
        for position, key in enumerate(listing):
            later_exists = position < len(listing) - 1
            arrival = _look(proposal.scan(key), watched, later_exists, clock(), (settle, stall, attempts))
            if arrival is None:
                growing = None if partial is None else _partial(proposal.scan(key), watched[key], clock(), partial)
                if growing is not None:
                    last_arrival = clock()
                    yield growing
                continue
            state = watched[key]
            done = _arrive(arrival, cook)
            if done.error is not None and isinstance(done.error, DataError) and state.failures + 1 < attempts:
                state.failures += 1
                continue
            state.failures, state.handed = 0, state.summary
            last_arrival = clock()
            yield done
        trying = any(state.failures or state.unreadable for state in watched.values())  # handed out after its attempts
        if idle_timeout is not None and not trying and clock() - last_arrival >= idle_timeout:
            return
        sleep(poll)


def _first_listing(proposal: Proposal) -> list[str]:
    """The scans when following starts (none if the document cannot be listed yet: all are new then)."""
    try:
        return list(proposal.listing(refresh=True))
    except DataError:
        return []


def _look(
    scan: Scan, watched: dict[str, _Watched], later_exists: bool, now: float, limits: tuple[float, float, int]
) -> Arrival | None:
    """The scan to hand out now (not yet cooked), or ``None``; ``limits`` are settle, stall and attempts."""
    settle, stall, attempts = limits
    state = watched.setdefault(scan.key, _Watched(since=now))
    summary, error = _summary(scan)
    seen = summary if error is None else ("unreadable", str(error))
    if seen != state.summary:
        state.summary, state.since = seen, now
    if state.handed is not None and seen == state.handed:
        return None
    if error is not None:
        state.unreadable += 1
        if state.unreadable < attempts or not (later_exists or now - state.since >= settle):
            return None
        state.unreadable = 0
        return Arrival(scan, error=error, update=state.handed is not None, note="its summary cannot be read")
    state.unreadable = 0
    why = _completion(summary, later_exists, now - state.since, settle, stall)
    if why is None:
        return None
    return Arrival(scan, update=state.handed is not None, note=why)


def _partial(scan: Scan, state: _Watched, now: float, every: float) -> Arrival | None:
    """The map of a scan being measured, if it has new points and ``every`` seconds passed since the last one."""
    summary = state.summary
    if not isinstance(summary, dict) or not summary.get("steps") or summary == state.partial_of:
        return None
    if summary == state.handed or now - state.partial_at < every:
        return None
    try:
        with warnings.catch_warnings(record=True) as said:  # a scan being written warns of its cut last line
            warnings.simplefilter("always")
            raw = scan.raw
            with growing(state.growing):  # a recipe that can adds only the new points to what it kept
                cooked = scan.cook(raw=raw)  # cooked from edited raw: never kept as the scan's cooked data
    except Nx5dError:
        return None  # a point half written: try at the next look
    _say_once(said, state.growing)
    points = raw.sizes.get("index", summary.get("steps"))  # the points read whole (a frame half written is not)
    # fewer than the summary counts (a frame half written): the next look tries again, though nothing else changed
    state.partial_of = summary if points == summary.get("steps") else None
    if points == state.partial_points:
        return None  # the map of the last partial map again
    state.partial_at, state.partial_points = now, points
    cooked.attrs["nx5d_partial"] = f"{points} points of a scan being measured"
    return Arrival(scan, cooked=cooked, partial=True, note=f"partial: {points} points")


def _say_once(said: list[warnings.WarningMessage], shared: Growing) -> None:
    """Warn of what cooking a growing scan said about its result (`CookWarning`), once per scan and text.

    Its other warnings (a line cut short, frames not written yet) are what a
    scan being written is expected to show: not repeated at every look.
    """
    for message in said:
        text = str(message.message)
        if issubclass(message.category, CookWarning) and text not in shared.notes:
            shared.notes.add(text)
            warnings.warn_explicit(message.message, message.category, message.filename, message.lineno)


def _arrive(arrival: Arrival, cook: bool) -> Arrival:
    if not cook or arrival.error is not None:
        return arrival
    try:
        return attrs.evolve(arrival, cooked=arrival.scan.cooked)
    except Nx5dError as exc:
        return attrs.evolve(arrival, error=exc)
