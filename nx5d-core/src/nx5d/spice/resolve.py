"""Which spice record applies at a scan: pure functions over a set of records.

Records of one ``(handle, anchor)`` pair form a *branch*; its revisions
count 1, 2, 3 ...  At a viewpoint scan, for every handle, the branch whose
anchor is the nearest at or before the viewpoint in the proposal's scan order
applies (``''`` precedes every scan), and within it the latest revision.  Two
records with that same latest revision are a *conflict*: both are kept and
reported, none is picked.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence

import attrs

from nx5d.addressing.keys import natural_sort_key
from nx5d.errors import SpiceConflict
from nx5d.spice.record import SpiceRecord

__all__ = ["ScanOrder", "Resolution", "branches", "latest", "applicable_anchor", "resolve_view"]


class ScanOrder:
    """Positions of scan keys in a proposal's scan order.

    Keys not in the listing (an anchor at a scan not recorded yet, or removed)
    are placed by natural order between the listed keys.
    """

    def __init__(self, keys: Sequence[str]) -> None:
        self._index = {k: i for i, k in enumerate(keys)}
        self._natural = sorted(keys, key=natural_sort_key)
        self._natural_keys = [natural_sort_key(k) for k in self._natural]

    def position(self, key: str) -> tuple[float, tuple]:
        """A sortable position; ``''`` (the proposal start) comes first."""
        if key == "":
            return (-1.0, ())
        if key in self._index:
            return (float(self._index[key]), ())
        natural = natural_sort_key(key)
        i = bisect.bisect_left(self._natural_keys, natural)
        before = self._index[self._natural[i - 1]] if i else -1
        return (before + 0.5, natural)

    def __contains__(self, key: object) -> bool:
        return key in self._index


@attrs.frozen
class Resolution:
    """The latest revision of one branch: one record, or several in conflict."""

    handle: str
    anchor: str
    revision: int
    records: tuple[SpiceRecord, ...]

    @property
    def clean(self) -> bool:
        """Whether exactly one record holds the latest revision."""
        return len(self.records) == 1

    @property
    def uuids(self) -> tuple[str, ...]:
        """Identities of the record(s) at the latest revision."""
        return tuple(r.uuid for r in self.records)

    @property
    def record(self) -> SpiceRecord:
        """The single latest record (`SpiceConflict` if several)."""
        if not self.clean:
            raise SpiceConflict(
                f"spice {self.handle!r} (anchor {self.anchor or 'proposal start'!r}) has {len(self.records)} "
                f"records claiming revision {self.revision}: {', '.join(self.uuids)}; "
                f"choose one with proposal.spice.resolve(...)",
                self.uuids,
            )
        return self.records[0]

    @property
    def withdrawn(self) -> bool:
        """Whether the branch is withdrawn (its latest record carries no data)."""
        return self.clean and self.records[0].data is None


def branches(records: Iterable[SpiceRecord]) -> dict[tuple[str, str], list[SpiceRecord]]:
    """Records grouped by ``(handle, anchor)``."""
    out: dict[tuple[str, str], list[SpiceRecord]] = defaultdict(list)
    for record in records:
        out[record.branch].append(record)
    return dict(out)


def latest(branch_records: Sequence[SpiceRecord]) -> Resolution:
    """The latest revision of one branch's records."""
    top = max(r.revision for r in branch_records)
    found = tuple(sorted((r for r in branch_records if r.revision == top), key=lambda r: (r.created, r.uuid)))
    first = found[0]
    return Resolution(first.handle, first.anchor, top, found)


def applicable_anchor(
    grouped: dict[tuple[str, str], list[SpiceRecord]], order: ScanOrder, handle: str, viewpoint: str
) -> str | None:
    """Anchor of the branch of ``handle`` that applies at ``viewpoint`` (``None``: none does)."""
    where = order.position(viewpoint)
    candidates = [a for (h, a) in grouped if h == handle and order.position(a) <= where]
    return max(candidates, key=order.position) if candidates else None


def resolve_view(records: Iterable[SpiceRecord], order: ScanOrder, viewpoint: str) -> dict[str, Resolution]:
    """For every handle, the latest revision of the branch applying at ``viewpoint``."""
    grouped = branches(records)
    out: dict[str, Resolution] = {}
    for handle in sorted({h for h, _ in grouped}):
        anchor = applicable_anchor(grouped, order, handle, viewpoint)
        if anchor is not None:
            out[handle] = latest(grouped[(handle, anchor)])
    return out
