"""What the core's recipes need to know about UDKM scans: the columns playing theta, 2-theta and delay.

Columns are found by their header text (the variables' ``long_name``),
whatever variable names the loading rule gave them; a header written twice
must hold the same values in both columns.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from nx5d.errors import CorruptDataError
from nx5d.plugins import Cooking
from nx5d.toolkit import agreeing, per_frame

from .names import role_column

__all__ = ["COOKING", "role_variable", "angles"]


def role_variable(raw: xr.Dataset, role: str) -> str | None:
    """The variable of the column playing ``role`` (``"theta"``, ``"delay"`` ...), found by its header."""
    columns = {str(n): str(v.attrs.get("long_name", n)) for n, v in raw.variables.items() if n not in raw.dims}
    header = role_column(list(columns.values()), role)
    if header is None:
        return None
    names = [name for name, long_name in columns.items() if long_name == header]
    values = [per_frame(raw, name, role) for name in names]
    agreeing(values, names, role, str(raw.attrs.get("url", "the scan")))
    return names[0]


def angles(raw: xr.Dataset, settings: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Theta and 2-theta of every frame (2-theta = 2 x theta where the table has no 2-theta column)."""
    theta = role_variable(raw, "theta")
    if theta is None:
        raise CorruptDataError(f"scan {raw.attrs.get('table')} has no theta column to map")
    two_theta = role_variable(raw, "two_theta")
    theta_values = per_frame(raw, theta, "theta")
    return [theta_values], [2.0 * theta_values if two_theta is None else per_frame(raw, two_theta, "2-theta")]


#: Time-resolved tables get one map per delay; static rocking curves one map.  A profile (recipe
#: ``profile``) shows the detector's column: ``Pilatus [ph/s]`` (static rocking tables: ``Rocking Curve``).
COOKING = Cooking(
    recipes={"manifest": "delay-rsm", "tRSS": "delay-rsm", "*": "rsm"},
    angles=angles,
    roles={"delay": lambda raw: role_variable(raw, "delay"), "signal": lambda raw: role_variable(raw, "detector")},
)
