"""The built-in extension ``provenance``: every cooked result says what it came from.

It wraps [`nx5d_cooked`][nx5d.plugins.hookspecs.nx5d_cooked] (outermost, so
a result served from memory or disk is stamped as one cooked now) and adds
the attributes of `provenance_of`, the [data identity][nx5d.io.identity]
of the files it came from (``nx5d_data_files``, ``nx5d_data_identity``) and,
for data the user edited, ``nx5d_raw``.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Mapping
from typing import TYPE_CHECKING, Any

from nx5d.plugins.discovery import nx5d_distributions
from nx5d.plugins.hookspecs import hookimpl
from nx5d.plugins.orders import CookOrder
from nx5d.plugins.references import ScanRef
from nx5d.version import __version__

if TYPE_CHECKING:
    from nx5d.spice.view import SpiceView

__all__ = ["EDITED", "provenance_of", "stamp"]

#: The attribute that marks a result cooked from raw data the user edited (``scan.cook(raw=...)``).
EDITED = "nx5d_raw"


def provenance_of(
    scan: ScanRef, plugin: str, view: SpiceView | None = None, settings: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """What cooked data of ``scan`` came from, as attribute strings.

    ``nx5d_version``, ``nx5d_beamline``, ``nx5d_plugin`` (``plugin``:
    distribution and version), ``nx5d_distributions`` (every installed
    distribution the result can depend on, with its version:
    [`nx5d_distributions`][nx5d.plugins.discovery.nx5d_distributions]), ``nx5d_scan_url``, ``nx5d_repository``,
    ``nx5d_proposal`` and ``nx5d_scan`` (the repository's URL pattern and the
    keys: where to open the scan again) and ``nx5d_spice``: JSON of the uuid,
    revision and anchor of every spice record of ``view`` (or, for spice
    given explicitly to ``cook``, the ``settings`` themselves).
    """
    used: Any = view.provenance() if view is not None else {"given": {h: dict(v) for h, v in (settings or {}).items()}}
    return {
        "nx5d_version": __version__,
        "nx5d_beamline": scan.proposal.repository.beamline or "",
        "nx5d_plugin": plugin,
        "nx5d_distributions": nx5d_distributions(),
        "nx5d_scan_url": scan.url,
        "nx5d_repository": scan.proposal.repository.url,
        "nx5d_proposal": scan.proposal.key,
        "nx5d_scan": scan.key,
        "nx5d_spice": json.dumps(used, sort_keys=True, default=str),
    }


@hookimpl(wrapper=True, tryfirst=True)
def nx5d_cooked(scan: ScanRef, order: CookOrder) -> Generator[None, Any, Any]:
    """Stamp the result with its provenance and the identity of its data (a copy: kept results stay as they are)."""
    result = yield
    return stamp(result, scan, order)


def stamp(result: Any, scan: ScanRef, order: CookOrder) -> Any:
    """``result`` (a copy of it) with the attributes of `provenance_of`, its data identity, and the edited mark."""
    if not isinstance(getattr(result, "attrs", None), dict) or not hasattr(result, "copy"):
        return result
    stamped = result.copy(deep=False)
    stamped.attrs = {**result.attrs, **provenance_of(scan, order.plugin, order.view, order.spice)}
    if order.edited is not None:
        stamped.attrs[EDITED] = "edited: cooked from data given to Scan.cook(raw=...), not from the files"
    elif order.identity is not None:
        stamped.attrs.update(order.identity.attributes())
    return stamped
