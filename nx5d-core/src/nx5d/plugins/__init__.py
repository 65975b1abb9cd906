"""Beamline plugins: the contract (declaration, references, hooks), discovery, selection and the core's fallbacks.

What a plugin author needs is importable from here:

    from nx5d.plugins import Beamline, ClaimLevel, Cooking, Preset, option
"""

from nx5d.options import option
from nx5d.plugins.declaration import Beamline, ClaimLevel, NoOptions, Preset
from nx5d.plugins.hookspecs import PLUGIN_API, hookimpl
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
]
