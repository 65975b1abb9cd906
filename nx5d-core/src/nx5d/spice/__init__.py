"""Spice: versioned analysis settings that cooking receives.

``proposal.spice`` (a `SpiceBook`) seeds, updates, anchors, withdraws
and resolves records; ``proposal.spice.view(scan)`` / ``scan.spice`` (a
`SpiceView`) is what applies at one scan.  Records live in a store:
in memory (``spice_url=''``) or as one JSON file per record.
"""

from __future__ import annotations

import importlib
from typing import Any

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

#: The module each name comes from: imported when the name is first used (the schema helpers a plugin's
#: declaration needs do not bring the whole spice machinery with them).
_FROM = {
    "SpiceBook": "book",
    "SpiceView": "view",
    "SpiceHistory": "view",
    "SpiceRecord": "record",
    "FORMAT_VERSION": "record",
    "Settings": "values",
    "SpiceStore": "store",
    "MemorySpiceStore": "store",
    "FileSpiceStore": "store",
    "make_store": "store",
    "default_locations": "store",
    "user_spice_home": "store",
    "validate": "schema",
    "schema_defaults": "schema",
    "as_settings": "values",
    "fingerprint": "values",
}


def __getattr__(name: str) -> Any:
    if name not in _FROM:
        raise AttributeError(f"module 'nx5d.spice' has no attribute {name!r}")
    return getattr(importlib.import_module(f"nx5d.spice.{_FROM[name]}"), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_FROM})
