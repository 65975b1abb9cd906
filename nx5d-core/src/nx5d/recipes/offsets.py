"""Calibration offsets (spice type ``offsets``): numbers added to variables of the raw data before cooking.

``proposal.spice.seed("offsets", Theta=0.012, TwoTheta=-0.031)`` adds 0.012
to the ``Theta`` variable and -0.031 to ``TwoTheta`` of every scan the record
applies to, before any recipe converts angles to q.  Variables are named as
[`nx5d.io.naming.find_variable`][nx5d.io.naming.find_variable] finds them (name, ``long_name``, or
ignoring case, spaces and underscores).  An offset naming a variable the
scan does not have is an error, never skipped: a skipped calibration gives
maps that look right and are not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from nx5d.errors import SpiceValidationError

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["AngleOffsets", "apply_offsets", "OFFSETS"]

#: The spice handle and type of calibration offsets.
OFFSETS = "offsets"


class AngleOffsets:
    """The schema of spice type ``offsets``: any variable names, each with a finite number.

    Its field names are the data's variable names, so it is not an attrs
    class: it checks records itself (`nx5d_validate`).
    """

    #: Fields beyond those declared may be added by ``spice.update``.
    nx5d_open = True

    @classmethod
    def nx5d_validate(cls, data: Mapping[str, Any], where: str) -> None:
        """Refuse fields that are not a variable name with a finite number (a ``SpiceValidationError``)."""
        for name, value in data.items():
            if not isinstance(name, str) or not name.strip():
                raise SpiceValidationError(f"{where}: offsets are named by variable, not {name!r}")
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise SpiceValidationError(f"{where}: offset {name!r} must be a finite number, not {value!r}")


def apply_offsets(raw: xr.Dataset, offsets: Mapping[str, Any], where: str) -> xr.Dataset:
    """``raw`` with each offset added to the variable it names (attribute ``offset`` records it).

    The frames and every other variable are shared with ``raw``, not copied.
    """
    from nx5d.io.naming import find_variable

    if not offsets:
        return raw
    AngleOffsets.nx5d_validate(offsets, f"spice 'offsets' for {where}")
    shifted = {}
    for name, value in offsets.items():
        try:
            variable = find_variable(raw, name, "offset variable")
        except SpiceValidationError as exc:
            raise SpiceValidationError(f"spice 'offsets' for {where}: {exc}") from None
        if variable in shifted:
            raise SpiceValidationError(f"spice 'offsets' for {where}: two offsets name the variable {variable!r}")
        original = raw[variable]
        if original.dtype.kind not in "iuf":
            raise SpiceValidationError(f"spice 'offsets' for {where}: {variable!r} holds no numbers to offset")
        shifted[variable] = (original + float(value)).assign_attrs(
            {**original.attrs, "offset": float(value) + float(original.attrs.get("offset", 0.0))}
        )
    coords = {name: value for name, value in shifted.items() if name in raw.coords}
    return raw.assign_coords(coords).assign({name: value for name, value in shifted.items() if name not in coords})
