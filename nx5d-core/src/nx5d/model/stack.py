"""Stacked scans: several scans of a proposal joined into one virtual scan.

``proposal.stack("12.1", "13.1", scan_type="tRSM")`` makes one on demand;
records of the spice type ``stack`` ([`nx5d.spice.stack`][nx5d.spice.stack]) make named
ones that the proposal lists beside its scans.  A stack's raw data is its
scans' raw data one after the other along ``index``, with a ``scan``
coordinate saying which scan each point came from (values a scan recorded
once, such as a fixed motor, are repeated for its points); it is cooked as
one scan of its own type, with the spice of its first scan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from nx5d.addressing.handles import sanitize
from nx5d.errors import CorruptDataError
from nx5d.extensions.memory import raw_cache
from nx5d.io.identity import DataIdentity
from nx5d.model.scan import Scan
from nx5d.plugins.orders import Loaded
from nx5d.plugins.references import ScanRef
from nx5d.spice.view import SpiceView

if TYPE_CHECKING:
    from nx5d.model.proposal import Proposal

__all__ = ["StackedScan", "join_scans"]


def join_scans(raws: Sequence[xr.Dataset], keys: Sequence[str], where: str) -> xr.Dataset:
    """The scans' raw data one after the other along ``index`` (see the module documentation)."""
    parts = []
    for key, raw in zip(keys, raws, strict=True):
        if "index" not in raw.dims:
            raise CorruptDataError(f"{where}: scan {key!r} has no scan points to stack")
        n = raw.sizes["index"]
        once = {name: var.expand_dims(index=n) for name, var in raw.data_vars.items() if "index" not in var.dims}
        parts.append(raw.assign(once).assign_coords(scan=("index", np.full(n, key, dtype=object))))
    try:
        joined = xr.concat(parts, dim="index", data_vars="all", coords="different", compat="equals", join="exact")
    except (ValueError, KeyError) as exc:
        raise CorruptDataError(f"{where}: scans {', '.join(keys)} cannot be stacked: {exc}") from exc
    joined.attrs = {**raws[0].attrs, "stacked_scans": ", ".join(keys)}
    return joined


def _joined_identity(identities: Sequence[DataIdentity | None]) -> DataIdentity | None:
    """The identities that are known, joined (``None`` if none is)."""
    known = [identity for identity in identities if identity is not None]
    return sum(known[1:], known[0]) if known else None


class StackedScan(Scan):
    """Several scans of a proposal as one (see the module documentation).

    Attributes
    ----------
    members:
        The keys of the stacked scans, in order.
    scan_type:
        The virtual scan's type: it chooses the recipe.
    """

    def __init__(self, proposal: Proposal, name: str, members: Sequence[str], scan_type: str = "stack") -> None:
        super().__init__(proposal, name)
        self.members = list(members)
        self.scan_type = scan_type

    @property
    def handle(self) -> str:
        """The stack's name as a handle."""
        return sanitize(self.key, "s")

    @property
    def url(self) -> str | None:
        """Stacks have no URL of their own."""
        return None

    def _where(self) -> str:
        return f"stack {self.key!r} ({' + '.join(self.members)}) of proposal {self.proposal.key!r}"

    def _scans(self) -> list[Scan]:
        return [self.proposal.scan(key=key) for key in self.members]

    @property
    def ref(self) -> ScanRef:
        """Hooks see the first scan (its URL, document and storage)."""
        return ScanRef(self.proposal.ref, self.members[0])

    @property
    def summary(self) -> dict[str, Any]:
        """Type, steps (all scans'), notes and the scans."""
        steps = [scan.summary.get("steps") for scan in self._scans()]
        counted = [s for s in steps if isinstance(s, int)]
        total = sum(counted) if len(counted) == len(steps) else None
        return {"type": self.scan_type, "steps": total, "notes": f"stack of {', '.join(self.members)}"}

    def _pristine(self, options: Mapping[str, Any]) -> Loaded:
        """The scans' raw data joined along ``index`` (each loaded with ``options``), kept like a scan's."""
        key = self._options_key(options)
        kept = raw_cache.get(self._nx5d_cache_owner, key)
        if kept is not None and self._fresh(kept.identity):
            return kept
        parts = [scan._pristine(options) for scan in self._scans()]
        known = all(part.identity is not None for part in parts)
        joined = join_scans([part.data for part in parts], self.members, self._where())
        identity = _joined_identity([part.identity for part in parts]) if known else None
        return raw_cache.put(self._nx5d_cache_owner, key, joined, identity)

    def _raw_for_cooking(self, options: Mapping[str, Any]) -> Loaded:
        kept = raw_cache.get(self._nx5d_cache_owner, self._options_key(options))
        if kept is not None and self._fresh(kept.identity):
            return kept
        parts = [scan._raw_for_cooking(options) for scan in self._scans()]
        joined = join_scans([part.data for part in parts], self.members, self._where())
        return Loaded(joined, _joined_identity([part.identity for part in parts]))  # streamed parts: read by the cook

    @property
    def spice(self) -> SpiceView:
        """The spice at the stack's first scan."""
        return self.proposal.spice.view(self.members[0])

    def _keeps_results(self) -> bool:
        return False  # a stack's definition can change without its scans changing: not kept on disk
