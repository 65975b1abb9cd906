"""The ``stack`` spice type: scans joined into one virtual scan.

``proposal.spice.seed("warmup", type="stack", scans=["12.1", "13.1", "14.1"], scan_type="tRSM")``
makes a virtual scan ``warmup`` of the proposal: the frames of the three
scans one after the other along ``index``, cooked as one scan of type
``tRSM`` (see [`nx5d.model.stack.StackedScan`][nx5d.model.stack.StackedScan]).
"""

from __future__ import annotations

import attrs

__all__ = ["StackSettings", "STACK"]

#: The spice type of stacks (their handles are the stacks' names).
STACK = "stack"


def _scans(instance: object, attribute: attrs.Attribute, value: list[str]) -> None:
    if len(value) < 1 or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"scans must name at least one scan (keys or handles), not {value!r}")
    if len(set(value)) != len(value):
        raise ValueError(f"scans names a scan twice: {value!r}")


@attrs.define
class StackSettings:
    """A stack of scans (spice type ``stack``; the record's handle names the stack).

    Attributes
    ----------
    scans:
        The scans, by key or handle, in the order their frames follow each other.
    scan_type:
        The type of the virtual scan (it chooses the recipe); default ``stack``.
    """

    scans: list[str] = attrs.field(validator=_scans)
    scan_type: str = "stack"
