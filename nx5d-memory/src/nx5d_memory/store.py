"""In-process registry of in-memory repositories."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import xarray

from nx5d.errors import InvalidKeyError, MissingDataError
from nx5d.toolkit import validate_key

__all__ = ["MemoryRepository", "register", "unregister", "registered", "lookup"]

ScanData = xarray.Dataset | Callable[[], xarray.Dataset]
CookFunction = Callable[..., Any]
SummaryFunction = Callable[[xarray.Dataset], Mapping[str, Any]]


@attrs.frozen
class MemoryRepository:
    """One registered in-memory repository."""

    name: str
    proposals: Mapping[str, Mapping[str, ScanData]]
    cook: CookFunction | None = None
    summary: SummaryFunction | None = None
    spice: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)

    def scan_data(self, proposal: str, scan: str) -> xarray.Dataset:
        """The dataset of one scan (calling the factory of lazily registered scans)."""
        try:
            data = self.proposals[proposal][scan]
        except KeyError:
            raise MissingDataError(f"memory://{self.name}: no scan {scan!r} in proposal {proposal!r}") from None
        return data() if callable(data) else data


_LOCK = threading.Lock()
_REPOSITORIES: dict[str, MemoryRepository] = {}


def register(
    name: str,
    proposals: Mapping[str, Mapping[str, ScanData]],
    *,
    cook: CookFunction | None = None,
    summary: SummaryFunction | None = None,
    spice: Mapping[str, Mapping[str, Any]] | None = None,
    replace: bool = False,
) -> str:
    """Register data under ``memory://NAME`` and return the repository URL pattern.

    Parameters
    ----------
    name:
        Repository name (the URL location).
    proposals:
        ``{proposal_key: {scan_key: Dataset or zero-argument callable}}``.
    cook:
        ``cook(raw, **spice) -> result``; without it ``cooked`` is the raw data.
    summary:
        ``summary(raw) -> dict``; default: ``type``/``notes`` from the dataset's
        attributes and ``steps`` = length of its first dimension.
    spice:
        Default spice ``{handle: {field: value}}`` for cooking.
    replace:
        Allow replacing an existing registration of ``name``.
    """
    if not name or "/" in name or "{" in name or "#" in name:
        raise InvalidKeyError(f"in-memory repository name {name!r} must be non-empty without '/', '#', braces")
    checked = {
        validate_key(p, "proposal key"): {validate_key(s, "scan key"): d for s, d in scans.items()}
        for p, scans in proposals.items()
    }
    repo = MemoryRepository(name, checked, cook, summary, dict(spice or {}))
    with _LOCK:
        if name in _REPOSITORIES and not replace:
            raise InvalidKeyError(f"in-memory repository {name!r} is already registered (pass replace=True)")
        _REPOSITORIES[name] = repo
    return f"memory://{name}/{{proposal}}/{{scan}}"


def unregister(name: str) -> None:
    """Forget the in-memory repository ``name`` (no error if unknown)."""
    with _LOCK:
        _REPOSITORIES.pop(name, None)


def registered() -> list[str]:
    """Names of the registered in-memory repositories."""
    with _LOCK:
        return sorted(_REPOSITORIES)


def lookup(name: str) -> MemoryRepository:
    """The registration of ``name`` (``MissingDataError`` naming the known ones if absent)."""
    with _LOCK:
        repo = _REPOSITORIES.get(name)
    if repo is None:
        raise MissingDataError(
            f"no in-memory repository named {name!r} is registered (memory://{name}); "
            f"registered: {', '.join(registered()) or 'none'}; use nx5d_memory.register()"
        )
    return repo
