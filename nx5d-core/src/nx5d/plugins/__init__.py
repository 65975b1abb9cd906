"""Beamline plugins: the contract (declaration, references, hooks, orders), discovery, selection and the fallbacks.

What a plugin author needs is importable from here:

    from nx5d.plugins import Beamline, ClaimLevel, Cooking, Preset, option

and an extension answering the service hooks (`nx5d_listed`, `nx5d_loaded` ...)
its orders: ``from nx5d.plugins import ListOrder, Loaded, SummaryOrder``.
"""

from nx5d.options import option
from nx5d.plugins.declaration import Beamline, ClaimLevel, NoOptions, Preset
from nx5d.plugins.hookspecs import PLUGIN_API, hookimpl
from nx5d.plugins.orders import CookOrder, ListOrder, Loaded, LoadOrder, SummaryOrder
from nx5d.plugins.references import DocumentRef, ProposalRef, RepositoryRef, ScanRef
from nx5d.recipes.contract import Cooking

__all__ = [
    "PLUGIN_API",
    "hookimpl",
    "Beamline",
    "ClaimLevel",
    "NoOptions",
    "Preset",
    "Cooking",
    "option",
    "RepositoryRef",
    "ProposalRef",
    "ScanRef",
    "DocumentRef",
    "Loaded",
    "LoadOrder",
    "CookOrder",
    "ListOrder",
    "SummaryOrder",
]
