"""The built-in extension ``legacy_spice``: nx5d 3.x's spice types are cooked as nx5d's.

Proposals whose spice still holds nx5d 3.x's analysis types (``exp_info``,
``image``, ``qargs``, a 3.x ``recipes`` table) are cooked with them read as
fields of the beamline's map settings ([`nx5d.spice.legacy`][nx5d.spice.legacy]).  The
translation wraps [`nx5d_cooked`][nx5d.plugins.hookspecs.nx5d_cooked] before
anything answers it, so that a kept result's key is the translated spice.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from nx5d.plugins.hookspecs import hookimpl
from nx5d.plugins.orders import CookOrder
from nx5d.plugins.references import ScanRef
from nx5d.spice.legacy import translate
from nx5d.spice.values import as_settings

__all__ = ["LEGACY_HANDLES", "nx5d_cooked"]

#: The spice handles that mark nx5d 3.x's analysis types.
LEGACY_HANDLES = ("exp_info", "image", "qargs", "recipes")


@hookimpl(wrapper=True, tryfirst=True)
def nx5d_cooked(scan: ScanRef, order: CookOrder) -> Generator[None, Any, Any]:
    """Translate the order's spice from nx5d 3.x's types before it is used."""
    if any(handle in order.spice for handle in LEGACY_HANDLES):
        plain = {h: v.to_dict() if hasattr(v, "to_dict") else dict(v) for h, v in order.spice.items()}
        entry = None if order.view is None else order.view.entries.get(order.settings)
        recorded = None if entry is None else set(entry.data or {}) - set(entry.from_defaults)
        schema = order.schemas.get(order.settings)
        order.spice = as_settings(translate(plain, schema, scan.url, order.settings, recorded))
    return (yield)
