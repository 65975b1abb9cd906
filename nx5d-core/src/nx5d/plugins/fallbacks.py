"""The core's fallback hook implementations.

Registered with every registry under the name ``nx5d-core`` and marked
``trylast``: a beamline plugin's own implementation always wins.  The
fallbacks connect the hooks to the subclassing API (``_get_summary``,
``_get_raw``, ``_cook``) and to the URL-pattern walk, which is how plugins
written either way share one machinery.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from nx5d.addressing.handles import sanitize
from nx5d.io.hdf5 import HDF5_SUFFIXES
from nx5d.plugins.hookspecs import hookimpl
from nx5d.spice.schema import schema_defaults

if TYPE_CHECKING:
    from nx5d.model import Proposal, Repository, Scan

#: Prefixes of the default key-to-handle rules.
PROPOSAL_PREFIX = "p"
SCAN_PREFIX = "s"


@hookimpl(trylast=True)
def nx5d_repository(url: str, beamline: str, options: Mapping[str, Any]) -> Repository:
    from nx5d.model import Repository

    return Repository(url, **options)


@hookimpl(trylast=True)
def nx5d_list_proposals(repository: Repository) -> Iterable[str]:
    return repository._walk("proposal", repository.pattern)


@hookimpl(trylast=True)
def nx5d_list_scans(proposal: Proposal) -> Iterable[str]:
    return proposal._walk_scans()


@hookimpl(trylast=True)
def nx5d_list_anchor(repository: Repository, document: str, path: tuple[str, ...]) -> Iterable[str]:
    """Members of an HDF5 group: the core lists anchors of HDF5 documents itself."""
    from nx5d.errors import NotSupportedError
    from nx5d.io.hdf5 import is_hdf5_name, members

    if not is_hdf5_name(document):
        raise NotSupportedError(
            f"cannot list names inside {document}: the core reads HDF5 documents "
            f"(file names ending {', '.join(HDF5_SUFFIXES)}); for other documents the beamline must "
            "implement the nx5d_list_anchor hook"
        )
    return members(repository.storage, document, path)


@hookimpl(trylast=True)
def nx5d_proposal_handle(key: str) -> str:
    return sanitize(key, PROPOSAL_PREFIX)


@hookimpl(trylast=True)
def nx5d_scan_handle(key: str) -> str:
    return sanitize(key, SCAN_PREFIX)


@hookimpl(trylast=True)
def nx5d_summary(scan: Scan) -> Mapping[str, Any]:
    return scan._get_summary()


@hookimpl(trylast=True)
def nx5d_raw(scan: Scan, options: Mapping[str, Any]) -> Any:
    return scan._get_raw(**options) if options else scan._get_raw()


@hookimpl(trylast=True)
def nx5d_cook(scan: Scan, raw: Any, spice: Mapping[str, Any]) -> Any:
    return scan._cook(raw, **spice)


@hookimpl(trylast=True)
def nx5d_default_spice(proposal: Proposal) -> Mapping[str, Mapping[str, Any]]:
    schemas = proposal._call("nx5d_spice_schema", "reading the spice schema")
    return schema_defaults(schemas) if schemas else {}
