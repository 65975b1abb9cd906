"""The photon energy a scan group states, from the places NeXus keeps it, in eV.

Looked for in this order, the first that can be read wins:

1. the ``NXbeam`` groups (of the entry, its ``sample`` or its instrument:
   NXmx puts one in ``instrument/beam``, Diamond's GDA in ``sample/beam``):
   ``incident_energy``, then ``incident_wavelength``;
2. the ``NXmonochromator`` groups of the instrument (and a group named
   ``monochromator`` of another class, as ESRF's BLISS writes it):
   ``energy``, then ``wavelength`` (names compared without case: BLISS
   writes ``Energy`` and ``WaveLength``).

A value is one number, or one per scan point.  Its ``units`` attribute is
converted: energies in ``eV``, ``keV`` or ``MeV`` (nx5d-rsm's
``ENERGY_UNITS``), wavelengths in ``Å`` (``angstrom``), ``nm`` or ``m``
(``E = hc / λ``).  A value without units is read only where its size
leaves no doubt: where exactly one of those units makes it an X-ray photon
energy (nx5d-rsm's ``ENERGY_RANGE``, 100 eV to 1 MeV).  Diamond's unit-less
``incident_energy`` of 8.3 is keV; BLISS's ``Energy`` of 9999.998 is eV and
its ``WaveLength`` of 1.2398e-10 is metres; a unit-less 707.4 (eV or keV?)
or 1.5 (Å or nm?) is not read.  Anything else -- an unknown unit, an
ambiguous or impossible value -- is passed over for the next place.
"""

from __future__ import annotations

import contextlib
from typing import Any

import attrs
import numpy as np

from nx5d_rsm.geometry import HC
from nx5d_rsm.settings import ENERGY_RANGE, ENERGY_UNITS

__all__ = ["PHOTON_ENERGY", "WAVELENGTH_UNITS", "PhotonEnergy", "photon_energy"]

#: The name of the variable holding the photon energy (eV) in a scan's Dataset.
PHOTON_ENERGY = "photon_energy"
#: Wavelength units, and their factor to Å.
WAVELENGTH_UNITS = {"å": 1.0, "a": 1.0, "angstrom": 1.0, "ang": 1.0, "nm": 10.0, "m": 1.0e10}


@attrs.frozen
class PhotonEnergy:
    """A scan's photon energy: ``values`` in eV (one, or one per point) and the member they were read from."""

    values: np.ndarray
    path: str
    units: str  #: the units the file gave (``""``: none, decided by the size)


def _in_range(values: np.ndarray) -> bool:
    low, high = ENERGY_RANGE
    return bool(values.size) and bool(np.all(np.isfinite(values) & (values >= low) & (values <= high)))


def _to_ev(values: np.ndarray, units: str, wavelength: bool) -> np.ndarray | None:
    """``values`` in eV, given in ``units`` (``""``: the one unit that makes them X-ray energies), else ``None``."""
    table = WAVELENGTH_UNITS if wavelength else ENERGY_UNITS
    if units:
        factor = table.get(units.strip().lower())
        candidates = [factor] if factor is not None else []
    else:
        candidates = sorted(set(table.values()))
    with np.errstate(divide="ignore", invalid="ignore"):
        readings = [HC / (values * f) if wavelength else values * f for f in candidates]
    fitting = [r for r in readings if _in_range(r)]
    return fitting[0] if len(fitting) == 1 else None


def _text(value: Any) -> str:
    if isinstance(value, np.ndarray):
        value = value.ravel()[0] if value.size else ""
    return bytes(value).decode("utf-8", "replace") if isinstance(value, bytes | np.bytes_) else str(value)


def _member(node: Any, name: str) -> Any | None:
    """The member ``name`` of an HDF5 or Zarr group, where it lies in the same file (not an external link)."""
    if hasattr(node, "file") and type(node.get(name, getlink=True)).__name__ == "ExternalLink":
        return None  # never followed: a file that may lie outside the repository, or be absent
    with contextlib.suppress(KeyError, OSError, RuntimeError):  # a dangling link: not a place to read
        return node[name]
    return None


def _groups(node: Any) -> list[tuple[str, Any]]:
    """``(name, group)`` of the groups among the members of ``node``."""
    members = ((str(name), _member(node, name)) for name in node)
    return [(name, m) for name, m in members if hasattr(m, "keys") and not hasattr(m, "shape")]


def _read(group: Any, path: str, names: tuple[str, str], points: int) -> PhotonEnergy | None:
    """The energy (``names[0]``) or wavelength (``names[1]``) of one group, whichever reads first."""
    members = {str(name).lower(): str(name) for name in group}
    for wanted, wavelength in ((names[0], False), (names[1], True)):
        name = members.get(wanted)
        if name is None:
            continue
        node = _member(group, name)
        if node is None or not hasattr(node, "shape") or getattr(node, "is_virtual", False):
            continue  # a virtual dataset's sources may lie in other files: never read for this
        with contextlib.suppress(OSError, RuntimeError, TypeError, ValueError):
            if np.issubdtype(np.dtype(node.dtype), np.number) and node.size in (1, points):
                values = np.asarray(node[()], dtype=float).ravel()
                units = _text(node.attrs.get("units", "")).strip()
                energy = _to_ev(values, units, wavelength)
                if energy is not None:
                    return PhotonEnergy(energy if energy.size > 1 else energy.reshape(()), f"{path}/{name}", units)
    return None


def photon_energy(entry: Any, instrument: str | None, points: int) -> PhotonEnergy | None:
    """The photon energy of a scan group (see the module documentation), or ``None`` where it states none.

    ``instrument`` is the name of its ``NXinstrument`` group, ``points`` the
    number of scan points (a value per point must have that many).
    """
    places: list[tuple[str, Any]] = [("", entry)]
    for name, group in _groups(entry):
        if name == "sample" or _text(group.attrs.get("NX_class", "")) == "NXsample":
            places.append((name, group))
    if instrument is not None:
        places.append((instrument, entry[instrument]))
    beams, monochromators = [], []
    for path, node in places:
        for name, group in _groups(node):
            kind = _text(group.attrs.get("NX_class", ""))
            where = f"{path}/{name}".strip("/")
            if kind == "NXbeam":
                beams.append((where, group))
            elif path == instrument and (kind == "NXmonochromator" or name.lower() == "monochromator"):
                monochromators.append((where, group))
    for where, group in beams:
        found = _read(group, where, ("incident_energy", "incident_wavelength"), points)
        if found is not None:
            return found
    for where, group in monochromators:
        found = _read(group, where, ("energy", "wavelength"), points)
        if found is not None:
            return found
    return None
