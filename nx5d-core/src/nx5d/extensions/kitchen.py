"""The built-in extension ``kitchen``: loading and cooking when nothing kept answers.

The last answer to [`nx5d_loaded`][nx5d.plugins.hookspecs.nx5d_loaded] reads
the scan through its beamline (``order.read()``: the
[`nx5d_raw`][nx5d.plugins.hookspecs.nx5d_raw] hook); the last answer to
[`nx5d_cooked`][nx5d.plugins.hookspecs.nx5d_cooked] gets the raw data as the
files hold it (``order.raw()``) and cooks it (``order.cook``: the
[`nx5d_cook`][nx5d.plugins.hookspecs.nx5d_cook] hook).  Both record what they
read, so the result carries the [identity][nx5d.io.identity] of its files.
It also lists ([`nx5d_listed`][nx5d.plugins.hookspecs.nx5d_listed]: ``order.read()``)
and reads the summaries nothing remembers
([`nx5d_summarised`][nx5d.plugins.hookspecs.nx5d_summarised]: ``order.read`` for
each scan, in threads).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from nx5d.errors import Nx5dError
from nx5d.io.identity import identity_of
from nx5d.io.storage import Storage, record_io
from nx5d.plugins.hookspecs import hookimpl
from nx5d.plugins.orders import CookOrder, ListOrder, Loaded, LoadOrder, SummaryOrder
from nx5d.plugins.references import ProposalRef, RepositoryRef, ScanRef
from nx5d.progress import progress

__all__ = ["nx5d_loaded", "nx5d_cooked", "nx5d_listed", "nx5d_summarised"]


@hookimpl(trylast=True)
def nx5d_loaded(scan: ScanRef, order: LoadOrder) -> Loaded:
    """Read the raw data through the beamline, recording the files read."""
    with record_io() as read:
        data = order.read()
    return Loaded(data, identity_of(read, scan.storage))


@hookimpl(trylast=True)
def nx5d_cooked(scan: ScanRef, order: CookOrder) -> Any:
    """Cook the raw data as the files hold it (or the edited data given), recording the files read."""
    if order.edited is not None:
        order.source = "edited"
        return order.cook(order.edited, order.spice)
    with record_io() as read:
        loaded = order.raw()
        result = order.cook(loaded.data, order.spice)
    identity = identity_of(read, scan.storage)
    if identity is not None and loaded.identity is not None:
        identity = identity + loaded.identity  # what was read before the cook, and during it
    order.identity, order.source = identity, "cooked"
    return result


@hookimpl(trylast=True)
def nx5d_listed(repository: RepositoryRef, order: ListOrder) -> Loaded:
    """List through the beamline (or the pattern walk), recording what was read."""
    with record_io() as read:
        listed = order.read()
    return Loaded(listed, identity_of(read, repository.storage))


def _summary_of(order: SummaryOrder, scan: ScanRef) -> Any:
    """One scan's summary and the identity of what it read, or the nx5d error it raised."""
    try:
        with record_io() as read:
            found = order.read(scan)
    except Nx5dError as exc:
        return exc
    return Loaded(dict(found or {}), identity_of(read, scan.storage))


@hookimpl(trylast=True)
def nx5d_summarised(proposal: ProposalRef, order: SummaryOrder) -> dict[str, Any]:
    """Read the summaries not found yet, ``order.workers`` at once (one for scans in one local file), in order."""
    missing = [scan for scan in order.scans if scan.key not in order.found]
    if len(missing) <= 1:
        for scan in missing:
            order.found[scan.key] = _summary_of(order, scan)
        return order.found
    workers = 1 if _one_local_document(proposal) else order.workers
    with progress(len(missing), f"summarising {proposal.key}", unit="scan") as bar:
        for scan, found in zip(missing, _in_order(order, missing, workers), strict=True):
            order.found[scan.key] = found
            bar.update(1)
    return order.found


def _in_order(order: SummaryOrder, scans: list[ScanRef], workers: int) -> Iterator[Any]:
    """The summaries (or errors) of ``scans``, in their order, read by ``workers`` threads."""
    if workers <= 1:
        yield from (_summary_of(order, scan) for scan in scans)
        return
    with ThreadPoolExecutor(workers) as pool:
        contexts = [contextvars.copy_context() for _ in scans]  # I/O accounting sees the threads' reads
        yield from pool.map(lambda c, s: c.run(_summary_of, order, s), contexts, scans)


def _one_local_document(proposal: ProposalRef) -> bool:
    """Whether every scan of ``proposal`` lies in one local file (the scan key only after ``#``, as in SPEC).

    Then reading summaries is parsing, which holds the GIL: threads only
    take turns (1,850 scans of a SPEC file: 1.6 s in one thread, 2.1 s in
    two, 2.4 s in eight).  Scans in files of their own, or remote, are read
    by threads: there they wait for the disk or the network.
    """
    pattern = proposal.pattern
    if pattern is None or Storage.local_path(pattern.text) is None:
        return False
    return not any(segment.fields for segment in pattern.path_segments)
