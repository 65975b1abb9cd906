"""The crystal orientation a SPEC scan's ``#G`` and ``#UB`` lines state, as attributes of its Dataset.

SPEC's diffractometer geometries (``fourc``, ``sixc``, ``psic`` ...) write
the orientation before each scan's data:

* ``#G1``: the real lattice ``a b c alpha beta gamma`` (Å, degrees), the
  reciprocal lattice (with 2 pi), then the two orientation reflections
  ``h0 k0 l0 h1 k1 l1``, their angles and wavelengths (how many angles
  depends on the geometry);
* ``#G3``: the UB matrix, row by row (nine numbers);
* ``#UB``: the same matrix as newer ``psic`` versions write it.

SPEC's UB takes ``(h, k, l)`` to the momentum transfer in Å⁻¹ with the
factor 2 pi (``|UB h| = 2 pi / d``), in the laboratory frame of its
geometry at all angles zero.  The attributes carry these numbers as the
file states them (`UB_MATRIX`, `UNIT_CELL`, `REFLECTIONS`, `ORIENTATION_SOURCE`);
nx5d-rsm's ``hkl`` recipe reads them.  Lines that are absent, or cannot be
read as numbers (a warning says which), add nothing.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from nx5d_spec.parser import SpecHeader

__all__ = ["orientation_attrs", "UB_MATRIX", "UNIT_CELL", "REFLECTIONS", "ORIENTATION_SOURCE"]

#: Dataset attribute: the UB matrix (nine numbers, row by row; Å⁻¹ with 2 pi).
UB_MATRIX = "sample_ub_matrix"
#: Dataset attribute: ``a, b, c`` (Å) and ``alpha, beta, gamma`` (degrees).
UNIT_CELL = "sample_unit_cell"
#: Dataset attribute: ``h0 k0 l0 h1 k1 l1``, the Miller indices of the two orientation reflections.
REFLECTIONS = "sample_orientation_reflections"
#: Dataset attribute: where the orientation was read (``"#G3 of scan 1.1"``).
ORIENTATION_SOURCE = "sample_orientation_source"


def _numbers(text: str | None, count: int, what: str, where: str) -> list[float] | None:
    """The first ``count`` numbers of a header line's text (``None``: absent, too short or not numbers)."""
    if text is None:
        return None
    try:
        values = [float(v) for v in text.split()[:count]]
    except ValueError:
        values = []
    if len(values) < count:
        warnings.warn(f"{where}: the {what} line is not {count} numbers; the orientation leaves it out", stacklevel=3)
        return None
    return values


def orientation_attrs(header: Sequence[str], where: str) -> dict[str, object]:
    """The orientation attributes of a scan whose ``#`` lines are ``header`` (empty when it states none).

    ``where`` names the scan (file and key) in warnings and in `ORIENTATION_SOURCE`.
    """
    lines = SpecHeader(tuple(header))
    out: dict[str, object] = {}
    ub, tag = _numbers(lines.value("UB"), 9, "#UB", where), "#UB"
    if ub is None:
        ub, tag = _numbers(lines.value("G3"), 9, "#G3", where), "#G3"
    if ub is not None:
        out[UB_MATRIX] = ub
        out[ORIENTATION_SOURCE] = f"{tag} of {where}"
    g1 = _numbers(lines.value("G1"), 18, "#G1", where)
    if g1 is not None:
        out[UNIT_CELL] = g1[:6]
        out[REFLECTIONS] = g1[12:18]
    return out
