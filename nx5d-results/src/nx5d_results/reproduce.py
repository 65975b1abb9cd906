"""Redo a result exactly as its file says it was made: ``nx5d.reproduce(path)``, ``nx5d reproduce FILE``.

A cooked result file (written by ``nx5d cook``, ``nx5d export`` or
``nx5d watch --out``) carries its provenance: the repository, proposal and
scan, the beamline and its distribution's version, nx5d's version, the
loading options, the uuid and revision of every spice record it was
cooked with, and the [data identity][nx5d.toolkit.DataIdentity] of every
file it was cooked from.  `reproduce` opens the scan again, checks each of
these, cooks the scan afresh with those very records (never from a cache)
and compares the arrays with the file's: the `Reproduction` says
``identical`` or lists the differences.  What is no longer there is a named
error: [`SpiceRecordGoneError`][nx5d.errors.SpiceRecordGoneError] (a spice record),
[`PluginVersionError`][nx5d.errors.PluginVersionError] (the plugin or nx5d version),
[`DataChangedError`][nx5d.errors.DataChangedError] (the files changed, or are gone).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import numpy as np

import nx5d
from nx5d.errors import (
    BeamlineNotInstalledError,
    DataChangedError,
    NotFoundError,
    PluginVersionError,
    ReproductionError,
    SpiceRecordGoneError,
)
from nx5d.toolkit import DataIdentity, nx5d_distributions
from nx5d_results.files import read_result

__all__ = ["Reproduction", "reproduce", "compare"]

#: The provenance attributes a result needs to be reproduced.
NEEDED = ("nx5d_repository", "nx5d_proposal", "nx5d_scan", "nx5d_beamline", "nx5d_plugin", "nx5d_version", "nx5d_spice")


@attrs.frozen
class Reproduction:
    """What reproducing a result gave: ``identical``, or the ``differences``."""

    path: str
    scan_url: str
    differences: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  #: what could not be checked (a file written without its data identity)

    @property
    def identical(self) -> bool:
        """Whether every array came out bit for bit the same."""
        return not self.differences

    def __str__(self) -> str:
        head = "identical" if self.identical else "different:\n  " + "\n  ".join(self.differences)
        return head + "".join(f"\n  note: {note}" for note in self.notes)


def _provenance(stored: Any, path: Path) -> dict[str, Any]:
    attributes = dict(stored.attrs)
    missing = [name for name in NEEDED if not isinstance(attributes.get(name), str)]
    if missing:
        raise ReproductionError(
            f"{path} does not say how it was made: it lacks {', '.join(missing)} (results written by nx5d 0.2 and "
            "later carry them)"
        )
    return attributes


def _check_versions(provenance: Mapping[str, Any], repository: Any, path: Path) -> None:
    if provenance["nx5d_version"] != nx5d.__version__:
        raise PluginVersionError(
            f"{path} was made with nx5d {provenance['nx5d_version']}; nx5d {nx5d.__version__} is installed"
        )
    status = repository.registry.status(provenance["nx5d_beamline"])
    installed = f"{status.distribution or status.target} {status.version or ''}".strip()
    if installed != provenance["nx5d_plugin"]:
        raise PluginVersionError(
            f"{path} was made with {provenance['nx5d_plugin']} (beamline {provenance['nx5d_beamline']!r}); "
            f"{installed} is installed"
        )


def _open(provenance: Mapping[str, Any], path: Path) -> Any:
    options = json.loads(provenance.get("nx5d_options") or "{}")
    try:
        repository = nx5d.open(provenance["nx5d_repository"], beamline=provenance["nx5d_beamline"], options=options)
    except BeamlineNotInstalledError as exc:
        raise PluginVersionError(
            f"{path} was made with {provenance['nx5d_plugin']}, which is not installed: {exc}"
        ) from exc
    _check_versions(provenance, repository, path)
    try:
        return repository[provenance["nx5d_proposal"]].scan(provenance["nx5d_scan"])
    except NotFoundError as exc:
        raise DataChangedError(f"{path}: the scan it was made from is no longer there: {exc}") from exc


def _settings(scan: Any, recorded: Mapping[str, Any], path: Path) -> dict[str, dict[str, Any]] | None:
    """The spice to cook with: ``None`` (the scan's view, the very records) or the recorded records' data."""
    if "given" in recorded:
        return {handle: dict(values) for handle, values in recorded["given"].items()}
    view = scan.spice
    now = view.provenance()

    def same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
        return (a.get("uuid"), a.get("revision")) == (b.get("uuid"), b.get("revision"))

    if set(now) == set(recorded) and all(same(now[h], recorded[h]) for h in recorded):
        return None
    records = {(r.uuid, r.revision): r for r in scan.proposal.spice.records()}
    settings = {handle: dict(values) for handle, values in view.settings().items()}
    for handle, used in recorded.items():
        if used.get("uuid") is None:
            continue
        record = records.get((used["uuid"], used["revision"]))
        if record is None or record.data is None:
            raise SpiceRecordGoneError(
                f"{path} was cooked with spice {handle!r} uuid {used['uuid']} revision {used['revision']}, which "
                f"is no longer in the spice of proposal {scan.proposal.key!r} of {scan.repository.url}"
            )
        settings[handle] = dict(record.data)
    return settings


def _other_distributions(provenance: Mapping[str, Any], path: Path) -> tuple[str, ...]:
    """A note naming the nx5d distributions installed in other versions than those the file was made with."""
    made = provenance.get("nx5d_distributions")
    if not isinstance(made, str):
        return ()
    then, now = set(made.split(", ")), set(nx5d_distributions().split(", "))
    if then == now:
        return ()
    return (
        f"{path} was made with {', '.join(sorted(then - now)) or 'fewer distributions'}; installed now: "
        f"{', '.join(sorted(now - then)) or 'fewer distributions'} (a difference may come from them)",
    )


def _check_data(provenance: Mapping[str, Any], scan: Any, path: Path) -> tuple[str, ...]:
    identity = DataIdentity.from_attributes(provenance)
    if identity is None:
        return (f"{path} carries no data identity: whether the files changed since was not checked",)
    changed = identity.changed(scan.repository.storage)
    if changed:
        shown = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
        raise DataChangedError(f"{path} was cooked from files that changed or are gone since: {shown}")
    return ()


def _arrays(a: Any, b: Any) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind in "biufcmM":
        return a.tobytes() == b.tobytes()
    return bool(np.array_equal(a, b))


def compare(stored: Any, fresh: Any) -> list[str]:
    """The differences between two results: variables, dimensions, types, values (bit for bit), attributes."""
    out = []
    for name in sorted(set(stored.variables) ^ set(fresh.variables), key=str):
        out.append(f"{name}: only in the {'file' if name in stored.variables else 'new result'}")
    for name in sorted(set(stored.variables) & set(fresh.variables), key=str):
        old, new = stored[name].variable, fresh[name].variable
        if old.dims != new.dims or old.dtype != new.dtype or old.shape != new.shape:
            out.append(
                f"{name}: {old.dims} {old.dtype} {old.shape} in the file, {new.dims} {new.dtype} {new.shape} now"
            )
        elif not _arrays(old.values, new.values):
            differ = np.asarray(old.values != new.values)
            if old.dtype.kind == "f":
                differ &= ~(np.isnan(old.values) & np.isnan(new.values))
            out.append(f"{name}: {int(differ.sum())} of {old.size} values differ")
    for key in sorted(set(stored.attrs) | set(fresh.attrs)):
        if not key.startswith("nx5d_") and str(stored.attrs.get(key)) != str(fresh.attrs.get(key)):
            old, new = str(stored.attrs.get(key))[:60], str(fresh.attrs.get(key))[:60]
            out.append(f"attribute {key}: {old!r} in the file, {new!r} now")
    return out


def reproduce(path: str | os.PathLike[str]) -> Reproduction:
    """Cook the scan a result file was made from again, exactly as then, and compare (see the module documentation).

    Raises [`ReproductionError`][nx5d.errors.ReproductionError] (one of the named
    errors) when something the result was made from is no longer there.
    """
    path = Path(path)
    stored = read_result(path)
    provenance = _provenance(stored, path)
    scan = _open(provenance, path)
    notes = _check_data(provenance, scan, path) + _other_distributions(provenance, path)
    settings = _settings(scan, json.loads(provenance["nx5d_spice"]), path)
    cache = nx5d.cooked_cache
    was = cache.enabled
    cache.enabled = False  # cooked afresh, never taken from a result kept before
    try:
        fresh = scan.cook(settings)
    finally:
        cache.enabled = was
    if not hasattr(fresh, "data_vars"):
        fresh = fresh.to_dataset(name="cooked", promote_attrs=True)
    return Reproduction(str(path), provenance.get("nx5d_scan_url", ""), tuple(compare(stored, fresh)), notes)
