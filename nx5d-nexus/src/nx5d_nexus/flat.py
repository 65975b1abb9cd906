"""Scan groups that hold their arrays directly: the layout of the published nx5d 3.x's acquisition tools.

nx5d 3.x's universal reader and its acquisition tools write a scan as one
group (HDF5 or Zarr) holding plain arrays, grouped by device but not by
NeXus class -- ``kmc3/motors/theta``, ``kmc3/counters/roi1``,
``pilatus/image`` -- with attributes on the scan group: ``k-scan-type``,
``k-frame-guard``, ``k-primary:N`` and ``k-header:*``.  Nothing in such a
group is found by the NeXus conventions of
[`nx5d_nexus.layouts`][nx5d_nexus.layouts], so every array is read here, its
variable named by its path with the nested names joined by ``_``
(``kmc3_motors_theta``; the path is its ``long_name``):

* arrays of one value per point (the length of the ``k-primary`` arrays,
  else the most common length) are counters on ``index``;
* scalars are positions;
* arrays of 3 to 5 dimensions are a detector's frames, named after their
  group (``pilatus``);
* every other array keeps its own shape (``index`` where its first axis is
  the points).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nx5d_nexus.layouts import Found

__all__ = ["MAX_DEPTH", "find", "variable_name"]

#: How deep groups inside a scan group are searched for arrays.
MAX_DEPTH = 6

_PRIMARY = re.compile(r"k-primary:\d+")


def variable_name(path: str) -> str:
    """The variable of an array at ``path`` in the scan group: its nested names joined (``kmc3_motors_theta``)."""
    return "_".join(part for part in path.split("/") if part)


def _arrays(found: Found, group: Any, path: str, depth: int) -> Iterator[tuple[str, Any]]:
    from nx5d_nexus.layouts import is_group

    for _, sub, node in found.members(group, path):
        if not is_group(node):
            yield sub, node
        elif depth < MAX_DEPTH:
            yield from _arrays(found, node, sub, depth + 1)


def _points(found: Found, ones: dict[str, int], frames: list[int]) -> int:
    """The number of points: the ``k-primary`` arrays' length, else the most common 1-D length, else the frames'."""
    primary = [
        str(name).strip("/")
        for key, value in found.entry.attrs.items()
        if _PRIMARY.fullmatch(str(key))
        for name in (value if not isinstance(value, str | bytes) and hasattr(value, "__iter__") else [value])
    ]
    declared = [ones[p] for p in (_text(p) for p in primary) if p in ones]
    if declared:
        return declared[0]
    lengths = list(ones.values())
    if lengths:
        return max(set(lengths), key=lengths.count)
    return frames[0] if frames else 0


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def find(found: Found) -> None:
    """Read every numeric array of the scan group into ``found`` (see the module documentation)."""
    from nx5d_nexus.layouts import MAX_FRAME_DIMS, _numeric

    arrays = [(path, node) for path, node in _arrays(found, found.entry, "", 0) if _numeric(node)]
    ones = {path: int(node.shape[0]) for path, node in arrays if node.ndim == 1}
    frames = [int(node.shape[0]) for _, node in arrays if 3 <= node.ndim <= MAX_FRAME_DIMS]
    points = _points(found, ones, frames)
    for path, node in arrays:  # kept by path: the variable's long_name; its name joins the nested names
        if 3 <= node.ndim <= MAX_FRAME_DIMS:
            found.add_frames(variable_name(path.rpartition("/")[0]) or path, path, node)
        elif not found.readable(node, path):
            continue
        elif node.ndim == 0:
            found.scalars.setdefault(path, path)
        elif node.ndim == 1 and ones[path] == points:
            found.ones.setdefault(path, (path, points))
        else:
            found.others.setdefault(path, path)
