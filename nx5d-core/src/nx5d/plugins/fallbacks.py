"""The core's own answers to hooks no beamline answers.

Registered with every registry under the name ``nx5d-core`` and marked
``trylast``: a beamline's implementation always wins.  Listing proposals and
scans has no fallback here: when no beamline lists them, the model walks the
URL pattern over storage itself ([`nx5d.addressing.listing`][nx5d.addressing.listing]).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from nx5d.errors import NotSupportedError
from nx5d.io import hdf5, zarrdoc
from nx5d.plugins.hookspecs import hookimpl
from nx5d.plugins.references import DocumentRef, ProposalRef, ScanRef
from nx5d.recipes.cook import cook_with_recipes

__all__ = ["nx5d_list_anchor", "nx5d_summary", "nx5d_raw", "nx5d_cook", "nx5d_default_spice"]


@hookimpl(trylast=True)
def nx5d_list_anchor(document: DocumentRef, path: tuple[str, ...]) -> Iterable[str]:
    """Members of HDF5 and Zarr groups: the core lists inside those documents itself."""
    if hdf5.is_hdf5_name(document.url):
        return hdf5.members(document.storage, document.url, path)
    if zarrdoc.is_zarr_name(document.url):
        return zarrdoc.members(document.storage, document.url, path)
    raise NotSupportedError(
        f"cannot list names inside {document.url}: the core reads HDF5 documents "
        f"({', '.join(hdf5.HDF5_SUFFIXES)}) and Zarr groups ({', '.join(zarrdoc.ZARR_SUFFIXES)}); for other "
        "documents the beamline must implement the nx5d_list_anchor hook"
    )


@hookimpl(trylast=True)
def nx5d_summary(scan: ScanRef) -> Mapping[str, Any]:
    """No summary: an empty mapping."""
    return {}


@hookimpl(trylast=True)
def nx5d_raw(scan: ScanRef, options: Any) -> Any:
    """No loader: [`NotSupportedError`][nx5d.errors.NotSupportedError]."""
    raise NotSupportedError(f"no raw loader for {scan.url}: the beamline does not implement the nx5d_raw hook")


@hookimpl(trylast=True)
def nx5d_cook(scan: ScanRef, raw: Any, spice: Mapping[str, Any], summary: Mapping[str, Any]) -> Any:
    """Cook with the recipes the beamline declares (``cooking``); without a declaration, ``NotSupportedError``."""
    declaration = scan.proposal.repository.declaration
    if declaration is None or declaration.cooking is None:
        raise NotSupportedError(
            f"no cooking for {scan.url}: the beamline declares no cooking and does not implement the nx5d_cook hook"
        )
    return cook_with_recipes(
        raw,
        spice,
        summary=summary,
        cooking=declaration.cooking,
        schemas=declaration.spice_schemas(),
        where=scan.url,
    )


@hookimpl(trylast=True)
def nx5d_default_spice(proposal: ProposalRef) -> None:
    """``None``: the defaults of the declared spice schemas apply."""
    return None
