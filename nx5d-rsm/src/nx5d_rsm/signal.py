"""The signal of a 1-D profile: which variable is the detector, and its value and Poisson variance per point.

Which variable a profile shows, first match wins:

1. the spice ``profile`` record's ``signal``;
2. the beamline's declaration: the variable playing the ``signal`` role of
   its [`Cooking`][nx5d.recipes.Cooking] (KMC3: the Pilatus frames; UDKM:
   its ``Pilatus [ph/s]`` column);
3. the NeXus ``NXdata`` group's ``@signal`` (the ``signal`` attribute of the
   raw data);
4. nx5d's rule (`default_signal`): the detector frames (``images``) summed
   over their pixels, where the scan has frames; else the **last** counter
   in the file's order (SPEC writes the detector last) that is none of a
   scanned axis or positioner (a coordinate, or a variable whose ``kind``
   attribute is ``"positioner"``: SPEC motors, NeXus positioners), a machine
   current (`MACHINE_CURRENT`: ``machine_current``, ``RingCurrent``,
   ``SRcurrent``, APS's ``ringc`` ...), a clock or a monitor (`NOT_A_SIGNAL`,
   the name's last word: ``Epoch``, ``Seconds``, ``scaler1_time``,
   ``Monitor``, ``I0``, ``I00``) or a reciprocal-space pseudo motor (``H``,
   ``K``, ``L``), nor an empty counter (points recorded, none of them a
   number).  A choice by this rule is named in a warning.

The result of [`cook_profile`][nx5d_rsm.profile.cook_profile] names the
variable in its ``signal`` attribute and how it was chosen in
``signal_choice``.

A signal with more dimensions than the scan points (frames, a detector's
channel profile) is summed over them with the detector's gap and defect
markers -- negative pixels -- left out, and NaN pixels too, exactly as maps
leave them out (`summed_signal`).
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import attrs
import numpy as np
import xarray as xr

from nx5d.errors import CookWarning, MissingDataError, SpiceValidationError
from nx5d.toolkit import find_variable

__all__ = [
    "SIGNAL_ROLE",
    "MACHINE_CURRENT",
    "NOT_A_SIGNAL",
    "PSEUDO_MOTORS",
    "SignalChoice",
    "Signal",
    "choose_signal",
    "default_signal",
    "left_out",
    "summed_signal",
    "poisson_variance",
]

#: The role (in a beamline's `Cooking` declaration) of the variable a profile shows.
SIGNAL_ROLE = "signal"
#: Names (ignoring case, spaces and ``_``) of the storage ring's current.
MACHINE_CURRENT = re.compile(r"(machine|ring|storage|sr|sb|storagering)(current|curr|cur|c)")
#: Last words of names (ignoring case) of clocks and monitors (``Epoch``, ``scaler1_time``, ``I0``, ``I00``).
NOT_A_SIGNAL = re.compile(r"epoch|seconds?|sec|time|timestamp|dt|monitor|mon|i0+")
#: Reciprocal-space pseudo motors.
PSEUDO_MOTORS = ("h", "k", "l")
#: Units of counted photons (a Poisson variance is its value); anything else, e.g. a rate, has none nx5d can know.
COUNT_UNITS = ("", "counts", "count", "cts", "photons", "ph")
#: What the ``signal_choice`` attribute says for each way of choosing.
CHOICES = {
    "spice": "the spice profile record's signal",
    "beamline": "the beamline's declared profile signal",
    "nexus": "the NeXus NXdata @signal",
    "rule": "nx5d's rule: the detector frames, else the last counter that is no axis, positioner, machine "
    "current, clock, monitor or pseudo motor",
}


@attrs.frozen
class SignalChoice:
    """The variable a profile shows, and how it was chosen (a key of ``CHOICES``)."""

    name: str
    how: str

    @property
    def description(self) -> str:
        """How it was chosen, in words (the profile's ``signal_choice`` attribute)."""
        return CHOICES[self.how]


@attrs.frozen
class Signal:
    """A profile's signal per scan point.

    Attributes
    ----------
    values:
        One value per point (frames: the sum of their pixels, markers left out).
    variance:
        The Poisson variance of each value (the value itself for counted
        photons); NaN where the signal is not a count (`COUNT_UNITS`).
    pixels:
        For a summed signal, how many pixels went into each value; else ``None``.
    """

    values: np.ndarray
    variance: np.ndarray
    pixels: np.ndarray | None


def _loose(name: str) -> str:
    return re.sub(r"[\s_]+", "", name).casefold()


def _excluded(raw: xr.Dataset, name: str) -> bool:
    variable = raw.variables[name]  # not raw[name]: that gathers the coordinates of every variable (quadratic)
    if name in raw.coords or variable.attrs.get("kind") == "positioner":
        return True
    for text in {name, str(variable.attrs.get("long_name", name))}:
        last = re.split(r"[\s_.]+", text.strip().casefold())[-1]
        if MACHINE_CURRENT.fullmatch(_loose(text)) or _loose(text) in PSEUDO_MOTORS or NOT_A_SIGNAL.fullmatch(last):
            return True
    return False


def _empty(variable: xr.Variable) -> bool:
    """Points recorded and not one of them a number (a counter the lab's software left blank)."""
    values = np.asarray(variable.values, float)
    return bool(values.size) and not np.isfinite(values).any()


def default_signal(raw: xr.Dataset) -> str:
    """The variable nx5d's rule picks (see the module documentation); a `MissingDataError` when none is left."""
    if "images" in raw and raw["images"].ndim >= 3:
        return "images"
    counters = [
        str(name)
        for name, variable in raw.variables.items()  # Variables: raw.data_vars builds a DataArray per name
        if name in raw.data_vars
        and variable.dims == ("index",)
        and variable.dtype.kind in "biuf"
        and not _excluded(raw, str(name))
        and not _empty(variable)
    ]
    if not counters:
        where = raw.attrs.get("url", "the scan")
        raise MissingDataError(
            f"{where} has no frames and no counter that could be its detector (variables: "
            f"{', '.join(map(str, raw.data_vars)) or 'none'}); name the profile's signal in the 'profile' spice"
            f"{left_out(raw)}"
        )
    return counters[-1]


def _declared(raw: xr.Dataset, cooking: Any) -> str | None:
    """The variable playing the beamline's ``signal`` role, if it declares one and the scan has it."""
    found = None if cooking is None else cooking.roles.get(SIGNAL_ROLE)
    if found is None:
        return None
    if callable(found):
        return found(raw)
    for name in found:
        try:
            return find_variable(raw, name, "profile signal")
        except SpiceValidationError:
            continue
    return None


def left_out(raw: xr.Dataset) -> str:
    """What the reader could not read (its ``absent`` attribute: files that are not there), as a clause."""
    absent = raw.attrs.get("absent")
    return f"; not read: {absent}" if absent else ""


def choose_signal(raw: xr.Dataset, cooking: Any = None, given: str | None = None) -> SignalChoice:
    """The variable a profile of ``raw`` shows: ``given`` (spice), the beamline's, NeXus', or nx5d's rule.

    ``cooking`` is the beamline's [`Cooking`][nx5d.recipes.Cooking] declaration
    (or ``None``).  A choice by the rule is named in a ``UserWarning``.
    """
    if given:
        return SignalChoice(find_variable(raw, given, "profile signal"), "spice")
    declared = _declared(raw, cooking)
    if declared is not None:
        return SignalChoice(declared, "beamline")
    nexus = str(raw.attrs.get("signal") or "")
    if nexus in raw.variables:
        return SignalChoice(nexus, "nexus")
    choice = SignalChoice(default_signal(raw), "rule")
    warnings.warn(
        f"{raw.attrs.get('url', 'the scan')}: no profile signal declared; {CHOICES['rule']} is "
        f"{choice.name!r} (name another with proposal.spice.seed('profile', signal=...))",
        CookWarning,
        stacklevel=3,
    )
    return choice


def poisson_variance(variable: xr.DataArray, values: np.ndarray) -> np.ndarray:
    """The Poisson variance of ``values`` of ``variable``: the values for counts (`COUNT_UNITS`), else NaN."""
    units = str(variable.attrs.get("units", "")).strip().lower()
    return np.asarray(values, float).copy() if units in COUNT_UNITS else np.full(np.shape(values), np.nan)


def summed_signal(raw: xr.Dataset, name: str, *, mask_negative: bool = True) -> Signal:
    """The signal ``name`` per point: a counter as it is, frames (or a channel profile) summed.

    Summed signals leave out NaN pixels and, with ``mask_negative``, the
    negative gap and defect markers (as maps do); lazily loaded frames are
    read once, block by block.
    """
    variable = raw[name]
    if variable.dims[:1] != ("index",):
        raise SpiceValidationError(f"profile signal {name!r} of {raw.attrs.get('url', 'the scan')} is not per point")
    if variable.ndim == 1:
        values = np.asarray(variable.values, float)
        return Signal(values, poisson_variance(variable, values), None)
    others = [d for d in variable.dims if d != "index"]
    valid = (variable >= 0) if mask_negative else variable.notnull()
    sums = xr.Dataset({"sum": variable.where(valid).sum(others), "pixels": valid.sum(others)}).compute()
    values = np.asarray(sums["sum"].values, float)
    return Signal(values, poisson_variance(variable, values), np.asarray(sums["pixels"].values, np.int64))
