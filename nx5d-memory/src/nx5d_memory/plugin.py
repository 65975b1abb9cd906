"""The ``memory`` beamline: data registered in this process with [`nx5d_memory.register`][nx5d_memory.register].

This module is what the ``nx5d.beamlines`` entry point names: a declaration
(`NX5D_BEAMLINE`) and the hooks that list, summarise, load and cook.
Its imports stay light -- nx5d imports it whenever it chooses a plugin for a URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import nx5d
from nx5d.errors import MissingDataError, ProposalNotFoundError
from nx5d.plugins import Beamline, ClaimLevel, ProposalRef, RepositoryRef, ScanRef
from nx5d.toolkit import natural_sorted

from .store import MemoryRepository, lookup

#: The nx5d plugin API this plugin is written for.
NX5D_PLUGIN_API = 2

#: What nx5d needs to know to choose this plugin: the ``memory://`` scheme is only ours.
NX5D_BEAMLINE = Beamline(
    description="In-memory data registered with nx5d_memory.register() (examples and tests)",
    url_examples=("memory://NAME/{proposal}/{scan}",),
    schemes=("memory",),
    level=ClaimLevel.BEAMLINE,
    process_local=True,  # registered in this process: batch cooking cooks here, not in workers
)


def _store(repository: RepositoryRef) -> MemoryRepository:
    if repository.pattern is None:  # only repositories of the subclassing API have none, never a beamline's
        raise MissingDataError(f"{repository.url!r} is not a memory:// URL pattern")
    return lookup(repository.pattern.netloc)


@nx5d.hookimpl
def nx5d_list_proposals(repository: RepositoryRef) -> list[str]:
    return natural_sorted(_store(repository).proposals)


@nx5d.hookimpl
def nx5d_list_scans(proposal: ProposalRef) -> list[str]:
    scans = _store(proposal.repository).proposals.get(proposal.key)
    if scans is None:
        raise ProposalNotFoundError(f"no proposal {proposal.key!r} in {proposal.repository.url}")
    return natural_sorted(scans)


def _data(scan: ScanRef) -> Any:
    return _store(scan.proposal.repository).scan_data(scan.proposal.key, scan.key)


@nx5d.hookimpl
def nx5d_summary(scan: ScanRef) -> Mapping[str, Any]:
    store = _store(scan.proposal.repository)
    data = _data(scan)
    if store.summary is not None:
        return dict(store.summary(data))
    steps = next(iter(data.sizes.values()), None) if data.sizes else None
    return {
        "type": data.attrs.get("type", "memory"),
        "steps": steps,
        "notes": data.attrs.get("notes", data.attrs.get("description", "")),
    }


@nx5d.hookimpl
def nx5d_raw(scan: ScanRef, options: Any) -> Any:
    # A deep copy: whatever the caller does to the result, the registered data stays as it was.
    return _data(scan).copy(deep=True)


@nx5d.hookimpl
def nx5d_cook(scan: ScanRef, raw: Any, spice: Mapping[str, Any]) -> Any:
    cook = _store(scan.proposal.repository).cook
    return raw if cook is None else cook(raw, **spice)


@nx5d.hookimpl
def nx5d_default_spice(proposal: ProposalRef) -> Mapping[str, Mapping[str, Any]]:
    return _store(proposal.repository).spice
