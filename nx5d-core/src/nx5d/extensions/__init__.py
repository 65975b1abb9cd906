"""The core's own cross-cutting features, built as extensions registered like anybody's.

[`Scan.load`][nx5d.Scan.load] and [`Scan.cook`][nx5d.Scan.cook] only call the
hooks [`nx5d_loaded`][nx5d.plugins.hookspecs.nx5d_loaded] and
[`nx5d_cooked`][nx5d.plugins.hookspecs.nx5d_cooked]; these extensions answer
them, registered in every plugin registry under the names below (as pytest
registers its ``cacheprovider``).  A third-party extension announced in the
``nx5d.extensions`` entry point group takes part in the same calls, as
``nx5d-index``'s ``scan_index`` does (listings and summaries kept across
sessions, searchable: [`nx5d_index.extension`][nx5d_index.extension]).

=================  =============================================================
``provenance``     stamps every cooked result with what it came from
``legacy_spice``   reads nx5d 3.x's spice types as nx5d's before cooking
``memory``         raw data and the last cooked result kept in memory
``cooked_cache``   cooked results kept on disk across sessions
``kitchen``        loads and cooks when nothing kept answers
=================  =============================================================

``registry().unregister("nx5d:cooked_cache")`` (see
[`PluginRegistry`][nx5d.plugins.discovery.PluginRegistry]) switches one off
for the process, like ``pytest -p no:cacheprovider``.
"""

from __future__ import annotations

__all__ = ["BUILTIN"]

#: ``{name: module}`` of the built-in extensions, in the order they are registered (pluggy calls the
#: last registered first among equals: what is kept in memory is asked before what is kept on disk).
BUILTIN = {
    "kitchen": "nx5d.extensions.kitchen",
    "cooked_cache": "nx5d.extensions.cookedcache",
    "memory": "nx5d.extensions.memory",
    "legacy_spice": "nx5d.extensions.legacyspice",
    "provenance": "nx5d.extensions.provenance",
}
