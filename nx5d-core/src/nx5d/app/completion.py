"""What the shell's Tab completes after ``nx5d COMMAND``: named repositories, proposals and scans.

argcomplete calls these completers with the words typed so far
(``parsed_args``); the ones for proposals and scans open the repository
named there and list it, so completing them costs a listing.  A completer
never raises: whatever goes wrong (no such repository, storage out of
reach), it offers nothing.
"""

from __future__ import annotations

import argparse
from typing import Any

from nx5d.config import repositories

__all__ = ["complete_repositories", "complete_proposals", "complete_scans"]


def _matching(names: Any, prefix: str) -> list[str]:
    return sorted({name for name in names if name.startswith(prefix)})


def complete_repositories(prefix: str, **_: Any) -> list[str]:
    """The named repositories of the configuration file that start with ``prefix``."""
    try:
        return _matching(repositories(), prefix)
    except Exception:  # noqa: BLE001 - completion must never raise
        return []


def _repository(parsed_args: argparse.Namespace) -> Any:
    from nx5d.app.commands import _loading_options
    from nx5d.model.open import open_repository

    return open_repository(
        parsed_args.url, beamline=getattr(parsed_args, "beamline", None), options=_loading_options(parsed_args)
    )


def complete_proposals(prefix: str, parsed_args: argparse.Namespace, **_: Any) -> list[str]:
    """The keys and handles of the proposals of the repository typed before, that start with ``prefix``."""
    try:
        listing = _repository(parsed_args).listing()
        return _matching([*listing, *listing.values()], prefix)
    except Exception:  # noqa: BLE001 - completion must never raise
        return []


def complete_scans(prefix: str, parsed_args: argparse.Namespace, **_: Any) -> list[str]:
    """The keys and handles of the scans of the proposal typed before, that start with ``prefix``."""
    try:
        from nx5d.app.commands import _proposal

        listing = _proposal(_repository(parsed_args), parsed_args.proposal).listing()
        return _matching([*listing, *listing.values()], prefix)
    except Exception:  # noqa: BLE001 - completion must never raise
        return []
