"""The built-in extension ``kitchen``: loading and cooking when nothing kept answers.

The last answer to [`nx5d_loaded`][nx5d.plugins.hookspecs.nx5d_loaded] reads
the scan through its beamline (``order.read()``: the
[`nx5d_raw`][nx5d.plugins.hookspecs.nx5d_raw] hook); the last answer to
[`nx5d_cooked`][nx5d.plugins.hookspecs.nx5d_cooked] gets the raw data as the
files hold it (``order.raw()``) and cooks it (``order.cook``: the
[`nx5d_cook`][nx5d.plugins.hookspecs.nx5d_cook] hook).  Both record what they
read, so the result carries the [identity][nx5d.io.identity] of its files.
"""

from __future__ import annotations

from typing import Any

from nx5d.io.identity import identity_of
from nx5d.io.storage import record_io
from nx5d.plugins.hookspecs import hookimpl
from nx5d.plugins.orders import CookOrder, Loaded, LoadOrder
from nx5d.plugins.references import ScanRef

__all__ = ["nx5d_loaded", "nx5d_cooked"]


@hookimpl(trylast=True)
def nx5d_loaded(scan: ScanRef, order: LoadOrder) -> Loaded:
    """Read the raw data through the beamline, recording the files read."""
    with record_io() as read:
        data = order.read()
    return Loaded(data, identity_of(read, scan.storage))


@hookimpl(trylast=True)
def nx5d_cooked(scan: ScanRef, order: CookOrder) -> Any:
    """Cook the raw data as the files hold it (or the edited data given), recording the files read."""
    if order.edited is not None:
        order.source = "edited"
        return order.cook(order.edited, order.spice)
    with record_io() as read:
        loaded = order.raw()
        result = order.cook(loaded.data, order.spice)
    identity = identity_of(read, scan.storage)
    if identity is not None and loaded.identity is not None:
        identity = identity + loaded.identity  # what was read before the cook, and during it
    order.identity, order.source = identity, "cooked"
    return result
