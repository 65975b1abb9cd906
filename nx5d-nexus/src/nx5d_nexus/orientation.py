"""The crystal orientation an entry's ``NXsample`` states, as attributes of its Dataset.

NeXus keeps a single crystal's orientation in the entry's ``NXsample``
group (``sample``), in Busing and Levy's convention (reciprocal lengths
without the factor 2 pi):

* ``unit_cell``: ``a, b, c, alpha, beta, gamma`` (Å unless its ``units`` say nm; degrees);
* ``orientation_matrix``: U, the rotation taking the crystal's Cartesian
  frame to the laboratory frame at all angles zero;
* ``ub_matrix``: U times B.

The attributes use the names and conventions nx5d-spec writes for SPEC's
``#G`` lines (UB with 2 pi, nine numbers row by row): ``ub_matrix`` is
multiplied by 2 pi; ``orientation_matrix`` goes with the unit cell, from
which nx5d-rsm builds B.  A group without these fields adds nothing; a
field of the wrong size is a `CorruptDataError` naming it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nx5d.errors import CorruptDataError

__all__ = ["orientation_attrs", "UB_MATRIX", "U_MATRIX", "UNIT_CELL", "ORIENTATION_SOURCE"]

#: Dataset attribute: the UB matrix (nine numbers, row by row; Å⁻¹ with 2 pi), as nx5d-spec names it.
UB_MATRIX = "sample_ub_matrix"
#: Dataset attribute: U (nine numbers, row by row).
U_MATRIX = "sample_orientation_matrix"
#: Dataset attribute: ``a, b, c`` (Å) and ``alpha, beta, gamma`` (degrees).
UNIT_CELL = "sample_unit_cell"
#: Dataset attribute: where the orientation was read.
ORIENTATION_SOURCE = "sample_orientation_source"

_SIZES = {"ub_matrix": 9, "orientation_matrix": 9, "unit_cell": 6}


def _sample(entry: Any) -> tuple[str, Any] | None:
    """The entry's ``NXsample`` group (by class, else the member ``sample``)."""
    for name in entry:
        node = entry[name]
        if hasattr(node, "attrs") and hasattr(node, "keys") and not hasattr(node, "shape"):
            kind = node.attrs.get("NX_class")
            kind = kind.decode() if isinstance(kind, bytes | np.bytes_) else str(kind)
            if kind == "NXsample":
                return name, node
    node = entry.get("sample") if hasattr(entry, "get") else None
    return ("sample", node) if node is not None and hasattr(node, "keys") else None


def _values(group: Any, name: str, where: str) -> list[float] | None:
    if name not in group:
        return None
    node = group[name]
    try:
        values = np.asarray(node[()], float).ravel()
    except (TypeError, ValueError, OSError) as exc:
        raise CorruptDataError(f"{where}/{name} cannot be read as numbers: {exc}") from exc
    if values.size != _SIZES[name]:
        raise CorruptDataError(f"{where}/{name} holds {values.size} numbers; NeXus says {_SIZES[name]}")
    if name == "unit_cell":
        units = node.attrs.get("units")
        units = units.decode() if isinstance(units, bytes | np.bytes_) else str(units or "")
        if units.strip().lower() == "nm":
            values[:3] *= 10.0
    return [float(v) for v in values]


def orientation_attrs(entry: Any, where: str) -> dict[str, object]:
    """The orientation attributes of the scan group ``entry`` at ``where`` (empty when it states none)."""
    found = _sample(entry)
    if found is None:
        return {}
    name, group = found
    place = f"{where}/{name}"
    out: dict[str, object] = {}
    ub = _values(group, "ub_matrix", place)
    if ub is not None:
        out[UB_MATRIX] = [2.0 * math.pi * v for v in ub]
        out[ORIENTATION_SOURCE] = f"{place}/ub_matrix"
    cell, u = _values(group, "unit_cell", place), _values(group, "orientation_matrix", place)
    if cell is not None:
        out[UNIT_CELL] = cell
    if u is not None:
        out[U_MATRIX] = u
        out.setdefault(ORIENTATION_SOURCE, f"{place}/orientation_matrix")
    return out
