"""Following a beamtime: new scans as they appear, each cooked once it is complete.

``proposal.follow()`` looks at the proposal every ``poll`` seconds.  A scan
counts as complete once a later scan exists (the instrument moved on) or
once its summary has not changed for ``settle`` seconds (the last scan of a
beamtime).  Files still being written are expected: a scan that cannot be
read or cooked yet (a SPEC line cut short, an HDF5 file being written, a
TIFF whose bytes are not all there) is tried again at the next look, and
reported with its error only after ``attempts`` failures.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import attrs

from nx5d.errors import DataError, Nx5dError, OptionError

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
    """

    scan: Scan
    cooked: Any = None
    error: Nx5dError | None = None


@attrs.define
class _Watched:
    summary: Any = None
    since: float = 0.0
    failures: int = 0


def follow(
    proposal: Proposal,
    *,
    poll: float = 5.0,
    settle: float = 30.0,
    cook: bool = True,
    new_only: bool = True,
    attempts: int = 3,
    idle_timeout: float | None = None,
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
        when no later scan exists.
    cook:
        Cook each complete scan with its spice (else only hand it out).
    new_only:
        Skip the scans that exist when following starts.
    attempts:
        How often a complete scan that fails to read or cook is tried before
        it is handed out with its error.
    idle_timeout:
        Stop after this many seconds without a new complete scan (``None``:
        follow until the loop is left, e.g. with Ctrl-C).
    """
    if poll <= 0 or settle < 0 or attempts < 1:
        raise OptionError(f"follow needs poll > 0, settle >= 0 and attempts >= 1, not {poll}, {settle}, {attempts}")
    done: set[str] = set(proposal.listing(refresh=True)) if new_only else set()
    watched: dict[str, _Watched] = {}
    last_arrival = clock()
    while True:
        listing = list(proposal.listing(refresh=True))
        for position, key in enumerate(listing):
            if key in done:
                continue
            now = clock()
            later_exists = position < len(listing) - 1
            state = watched.setdefault(key, _Watched(since=now))
            scan = proposal.scan(key)
            scan.reload()  # the files may have grown since the last look
            try:
                with warnings.catch_warnings():  # a scan being written warns of its cut last line: expected here
                    warnings.simplefilter("ignore")
                    summary = scan.summary
            except DataError:
                summary = None  # not readable yet: the writer is in the middle of it
            if summary != state.summary:
                state.summary, state.since = summary, now
            if summary is None or not (later_exists or now - state.since >= settle):
                continue
            arrival = _arrive(scan, cook)
            if arrival.error is not None and isinstance(arrival.error, DataError):
                state.failures += 1
                if state.failures < attempts:
                    continue
            done.add(key)
            watched.pop(key, None)
            last_arrival = clock()
            yield arrival
        if idle_timeout is not None and clock() - last_arrival >= idle_timeout:
            return
        sleep(poll)


def _arrive(scan: Scan, cook: bool) -> Arrival:
    if not cook:
        return Arrival(scan)
    try:
        return Arrival(scan, cooked=scan.cooked)
    except Nx5dError as exc:
        return Arrival(scan, error=exc)
