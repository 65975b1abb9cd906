"""Spice: versioned analysis settings that cooking receives.

``proposal.spice`` (a `SpiceBook`) seeds, updates, anchors, withdraws
and resolves records; ``proposal.spice.view(scan)`` / ``scan.spice`` (a
`SpiceView`) is what applies at one scan.  Records live in a store:
in memory (``spice_url=''``) or as one JSON file per record.
"""

from nx5d.spice.book import SpiceBook
from nx5d.spice.record import FORMAT_VERSION, SpiceRecord
from nx5d.spice.schema import schema_defaults, validate
from nx5d.spice.store import (
    FileSpiceStore,
    MemorySpiceStore,
    SpiceStore,
    default_locations,
    make_store,
    user_spice_home,
)
from nx5d.spice.values import Settings, as_settings, fingerprint
from nx5d.spice.view import SpiceHistory, SpiceView

__all__ = [
    "SpiceBook",
    "SpiceView",
    "SpiceHistory",
    "SpiceRecord",
    "FORMAT_VERSION",
    "Settings",
    "SpiceStore",
    "MemorySpiceStore",
    "FileSpiceStore",
    "make_store",
    "default_locations",
    "user_spice_home",
    "validate",
    "schema_defaults",
    "as_settings",
    "fingerprint",
]
