"""The ``memory`` beamline: hook implementations.

This module is what the ``nx5d.beamlines`` entry point names.  It is the
template for a new beamline plugin: declare the plugin API version, describe
the beamline, claim URLs, and implement the hooks that differ from the core's
fallbacks.  Keep imports here light -- this module is imported whenever
nx5d looks for a plugin to claim a URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import nx5d
from nx5d.addressing.keys import natural_sorted
from nx5d.plugins.declaration import BeamlineInfo

from .store import lookup

#: The nx5d plugin API this plugin is written for.
NX5D_PLUGIN_API = 1


@nx5d.hookimpl
def nx5d_beamline_info() -> BeamlineInfo:
    return BeamlineInfo(
        description="In-memory data registered with nx5d_memory.register() (examples and tests)",
        url_patterns=("memory://NAME/{proposal}/{scan}",),
        schemes=("memory",),
    )


@nx5d.hookimpl
def nx5d_claim(pattern: nx5d.UrlPattern) -> float | None:
    if pattern.scheme != "memory":
        return None
    try:
        lookup(pattern.netloc)
    except nx5d.errors.MissingDataError:
        return 0.1  # still ours; listing will say that the name is not registered
    return 1.0


def _store(repository: nx5d.Repository):
    return lookup(repository.pattern.netloc)


@nx5d.hookimpl
def nx5d_list_proposals(repository: nx5d.Repository) -> list[str]:
    return natural_sorted(_store(repository).proposals)


@nx5d.hookimpl
def nx5d_list_scans(proposal: nx5d.Proposal) -> list[str]:
    scans = _store(proposal.repository).proposals.get(proposal.key)
    if scans is None:
        raise nx5d.errors.ProposalNotFoundError(f"no proposal {proposal.key!r} in {proposal.repository.url}")
    return natural_sorted(scans)


def _data(scan: nx5d.Scan):
    return _store(scan.repository).scan_data(scan.proposal.key, scan.key)


@nx5d.hookimpl
def nx5d_summary(scan: nx5d.Scan) -> Mapping[str, Any]:
    store = _store(scan.repository)
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
def nx5d_raw(scan: nx5d.Scan, options: Mapping[str, Any]) -> Any:
    # A deep copy: whatever the caller does to the result, the registered data stays as it was.
    return _data(scan).copy(deep=True)


@nx5d.hookimpl
def nx5d_cook(scan: nx5d.Scan, raw: Any, spice: Mapping[str, Any]) -> Any:
    cook = _store(scan.repository).cook
    return raw if cook is None else cook(raw, **spice)


@nx5d.hookimpl
def nx5d_default_spice(proposal: nx5d.Proposal) -> Mapping[str, Mapping[str, Any]]:
    return _store(proposal.repository).spice
