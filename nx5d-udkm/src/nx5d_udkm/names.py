"""From UDKM column headers to Python-safe variable names.

Two rules are available (the ``names=`` loading option):

``"tidy"`` (default)
    Lower-case names without units, from the table below; other columns are
    turned into snake case.
``"reference"``
    The reference page's rule: drop ``[``, ``]``, ``%``, ``/`` and spaces.
    ``Crystal [ph/s]`` becomes ``Crystalphs``; this is what the reference
    page's Dataset shows for ``manifest.dat``.

Either way each variable's ``long_name`` is the column's header as
written, and its ``units`` the unit the header names (``[ph/s]``,
``/ deg.``) or, for the lab's columns whose header names none, the one
the lab records them in (`UNITS`).

=========================  ===================  ==============
column                     reference            tidy
=========================  ===================  ==============
``Loop_Delay``             ``Loop_Delay``       ``loop_delay``
``Delay``                  ``Delay``            ``delay``
``Loop_Theta``             ``Loop_Theta``       ``loop_theta``
``Theta``                  ``Theta``            ``theta``
``Crystal [V]``            ``CrystalV``         ``crystal_voltage``
``Crystal [ph/s]``         ``Crystalphs``       ``crystal_rate``
``Pilatus [ph/s]``         ``Pilatusphs``       ``pilatus_rate``
``Repeats``                ``Repeats``          ``repeats``
``ImageNumber``            ``ImageNumber``      ``image_number``
``Intensities [ph/s]``     ``Intensitiesphs``   ``intensities``
``Loop``                   ``Loop``             ``loop``
``Theta / deg.``           ``Thetadeg.``        ``theta``
``2Theta + Corr / deg.``   ``2Theta+Corrdeg.``  ``two_theta``
``2Theta``                 ``2Theta``           ``two_theta``
``Crystal``                ``Crystal``          ``crystal``
``Crystal Calib``          ``CrystalCalib``     ``crystal_calib``
``Rocking Curve``          ``RockingCurve``     ``rocking_curve``
``Position set``           ``Positionset``      ``delay``
``Position Real``          ``PositionReal``     ``delay_real``
=========================  ===================  ==============

The delay-stage tables name the delay ``Position set`` (and its read-back
``Position Real``): they play the part of ``Delay``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from nx5d.errors import OptionError
from nx5d.toolkit import VariableNames

__all__ = ["RULES", "TIDY", "ROLES", "UNITS", "role_column", "reference_name", "tidy_name", "variable_names"]

TIDY = {
    "Loop_Delay": "loop_delay",
    "Delay": "delay",
    "Loop_Theta": "loop_theta",
    "Theta": "theta",
    "Crystal [V]": "crystal_voltage",
    "Crystal [ph/s]": "crystal_rate",
    "Pilatus [ph/s]": "pilatus_rate",
    "Repeats": "repeats",
    "ImageNumber": "image_number",
    "Intensities [ph/s]": "intensities",
    "Loop": "loop",
    "Theta / deg.": "theta",
    "2Theta + Corr / deg.": "two_theta",
    "2Theta": "two_theta",
    "Crystal": "crystal",
    "Crystal Calib": "crystal_calib",
    "Rocking Curve": "rocking_curve",
    "Position set": "delay",
    "Position Real": "delay_real",
}

#: Units of the lab's columns whose headers name none: delays in picoseconds, angles in degrees.
UNITS = {"Delay": "ps", "Loop_Delay": "ps", "Theta": "deg", "Loop_Theta": "deg", "2Theta": "deg"}

#: Which columns play which part in cooking, by their header text.
ROLES = {
    "theta": ("Theta", "Theta / deg."),
    "two_theta": ("2Theta + Corr / deg.", "2Theta"),
    "delay": ("Delay", "Position set"),
    "detector": ("Pilatus [ph/s]", "Rocking Curve"),
}


def role_column(columns: Sequence[str], role: str) -> str | None:
    """The column (header text) that plays ``role`` (``"theta"``, ``"delay"`` ...), if any."""
    return next((header for header in ROLES[role] if header in columns), None)


def reference_name(column: str) -> str:
    """The reference page's rule: remove ``[]%/`` and spaces."""
    return re.sub(r"[][%/ ]", "", column)


def tidy_name(column: str) -> str:
    """The documented tidy name, or a snake-case form of an unknown column."""
    column = column.strip().lstrip("%").strip()
    if column in TIDY:
        return TIDY[column]
    base = re.sub(r"\[.*?\]|/.*$", "", column)
    snake = re.sub(r"[^0-9a-zA-Z]+", "_", base).strip("_").lower()
    return snake if snake[:1].isalpha() else f"c_{snake}"


RULES = {"reference": reference_name, "tidy": tidy_name}


def variable_names(columns: list[str], rule: str, where: str, reserved: Collection[str] = ()) -> list[str]:
    """Variable names for the table's columns under ``rule``: unique, none of ``reserved``.

    A repeated header gets ``_2`` ... with a warning; a column whose name
    would be a reserved one (``images``, a dimension) gets ``_column``.
    """
    try:
        convert = RULES[rule]
    except KeyError:
        raise OptionError(f"names must be one of {', '.join(RULES)}, not {rule!r}") from None
    names = VariableNames(where, reserved)
    return [names.name(column, "column", base=convert(column) or "column") for column in columns]
