"""The plugin toolkit: everything a distribution built on nx5d may import from the core, in one namespace.

A beamline plugin, a recipe distribution or a lab's own extension imports

* the contract from [`nx5d.plugins`][nx5d.plugins] (``Beamline``, ``ClaimLevel``, ``Cooking``,
  the references hooks receive, ``option``) and ``nx5d.hookimpl``;
* the errors from [`nx5d.errors`][nx5d.errors];
* the conformance kit from [`nx5d.testing`][nx5d.testing] (in its tests);
* the object model from ``nx5d`` itself (``nx5d.open``, ``nx5d.Scan`` ...) and the
  subclassing API from ``nx5d.repo``;
* and everything else it needs from here: ``from nx5d.toolkit import Storage, frames_array``.

Every other module of the core is internal: it may move or change between
versions without notice; what is listed here changes only through the
[deprecation policy](../internals.md).  Names are imported when first used
(importing this module costs nothing).

========================  ===========================================================================
storage                   `Storage` (files local and remote, confined to the repository), `join_url`,
                          `State`, `depends_on`, `trusted`, `DataIdentity`, `unchanged_among`, `redact`
                          (passwords blanked in URLs and messages), `cache_home` (nx5d's cache folder),
                          `realpath` (`os.path.realpath`'s answer, from the C library on Linux)
files written whole       `temporary_name`, `removed_on_failure`, `sweep`, `require_writable`, `remove`
HDF5 and Zarr documents   the modules `hdf5` and `zarrdoc`; `HDF5_SUFFIXES`, `is_hdf5_name`, `open_document`;
                          links to other files: `external_link`, `linked_file` (inside the root, present)
detector frames           `frames_array`, `FrameOptions`, `Frames`, `Region`, `EXTRA_FRAME_DIMS`, `MISSING_VALUE`,
                          `frame_dtype`, `fits`, `check_missing`, `positive`; blocks: `map_blocks`,
                          `with_block_reader`, `with_sliceable_frames`, `usable_cpus`, `STREAM_FRAMES`;
                          any work on every CPU: `map_ranges`
limits                    `check_frame_size`, `check_memory`, `check_read`, `selected_shape`
frames beside a document  `frame_folders`, `FRAME_SUFFIXES`
text formats              `text_sections`, `text_parameters`, `column_block`, `Section`, `Column`, `COLUMN_TYPES`,
                          `unify_line_ends`
names of variables        `VariableNames`, `FRAME_NAMES`, `find_variable`, `per_frame`, `agreeing`
scan commands             `scan_type`, `scanned_motor`, `scanned_motors` (per `DIALECTS`), `planned_points`,
                          `scanned_range`
keys, handles, URLs       `UrlPattern`, `KeyToHandle`, `sanitize`, `validate_key`, `natural_sorted`,
                          `natural_sort_key`, `select_keys`
loading options           `option`, `build_options`
recipes                   `Recipe`, `CookRequest` (a recipe's contract; ``Cooking`` is in `nx5d.plugins`),
                          `Growing` (what the cooks of a scan being measured share)
progress                  `progress`, `quiet`, `forwarded`
tables                    `Table` (what ``nx5d`` commands print, for the commands other distributions add),
                          `scan_frame` (scan table rows as a ``pandas.DataFrame``)
provenance                `nx5d_distributions` (the installed versions kept results depend on)
========================  ===========================================================================
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nx5d.addressing.handles import KeyToHandle, sanitize
    from nx5d.addressing.keys import natural_sort_key, natural_sorted, select_keys, validate_key
    from nx5d.addressing.url import UrlPattern
    from nx5d.credentials import redact
    from nx5d.display import Table
    from nx5d.io import hdf5, zarrdoc
    from nx5d.io.blocks import (
        STREAM_FRAMES,
        map_blocks,
        map_ranges,
        usable_cpus,
        with_block_reader,
        with_sliceable_frames,
    )
    from nx5d.io.commands import DIALECTS, planned_points, scan_type, scanned_motor, scanned_motors, scanned_range
    from nx5d.io.framefolders import FRAME_SUFFIXES, frame_folders
    from nx5d.io.frames import (
        EXTRA_FRAME_DIMS,
        MISSING_VALUE,
        FrameOptions,
        Frames,
        Region,
        check_missing,
        fits,
        frame_dtype,
        frames_array,
        positive,
    )
    from nx5d.io.hdf5 import HDF5_SUFFIXES, external_link, is_hdf5_name, linked_file, open_document
    from nx5d.io.identity import DataIdentity, unchanged_among
    from nx5d.io.limits import check_frame_size, check_memory, check_read, selected_shape
    from nx5d.io.naming import FRAME_NAMES, VariableNames, agreeing, find_variable, per_frame
    from nx5d.io.realpath import realpath
    from nx5d.io.results import cache_home
    from nx5d.io.storage import State, Storage, depends_on, join_url, trusted
    from nx5d.io.temporaries import remove, removed_on_failure, require_writable, sweep, temporary_name
    from nx5d.io.text import unify_line_ends
    from nx5d.io.texttables import COLUMN_TYPES, Column, Section, column_block, text_parameters, text_sections
    from nx5d.model.scantable import scan_frame
    from nx5d.options import build_options, option
    from nx5d.plugins.discovery import nx5d_distributions
    from nx5d.progress import forwarded, progress, quiet
    from nx5d.recipes.contract import CookRequest, Growing, Recipe

#: ``{name: module}`` of every name of the toolkit (a module of the toolkit maps to itself).
_FROM = {
    **dict.fromkeys(("Storage", "join_url", "State", "depends_on", "trusted"), "nx5d.io.storage"),
    **dict.fromkeys(("DataIdentity", "unchanged_among"), "nx5d.io.identity"),
    "redact": "nx5d.credentials",
    "cache_home": "nx5d.io.results",
    **dict.fromkeys(
        ("temporary_name", "removed_on_failure", "sweep", "require_writable", "remove"), "nx5d.io.temporaries"
    ),
    "hdf5": "nx5d.io.hdf5",  # modules: imported whole
    "zarrdoc": "nx5d.io.zarrdoc",
    **dict.fromkeys(("HDF5_SUFFIXES", "is_hdf5_name", "open_document", "external_link", "linked_file"), "nx5d.io.hdf5"),
    **dict.fromkeys(
        (
            "frames_array",
            "FrameOptions",
            "Frames",
            "Region",
            "EXTRA_FRAME_DIMS",
            "MISSING_VALUE",
            "frame_dtype",
            "fits",
            "check_missing",
            "positive",
        ),
        "nx5d.io.frames",
    ),
    **dict.fromkeys(
        (
            "map_blocks",
            "map_ranges",
            "with_block_reader",
            "with_sliceable_frames",
            "usable_cpus",
            "STREAM_FRAMES",
        ),
        "nx5d.io.blocks",
    ),
    **dict.fromkeys(("check_frame_size", "check_memory", "check_read", "selected_shape"), "nx5d.io.limits"),
    **dict.fromkeys(("VariableNames", "FRAME_NAMES", "find_variable", "per_frame", "agreeing"), "nx5d.io.naming"),
    "unify_line_ends": "nx5d.io.text",
    "realpath": "nx5d.io.realpath",
    **dict.fromkeys(
        ("text_sections", "text_parameters", "column_block", "Section", "Column", "COLUMN_TYPES"), "nx5d.io.texttables"
    ),
    **dict.fromkeys(("frame_folders", "FRAME_SUFFIXES"), "nx5d.io.framefolders"),
    **dict.fromkeys(
        ("DIALECTS", "scan_type", "scanned_motor", "scanned_motors", "planned_points", "scanned_range"),
        "nx5d.io.commands",
    ),
    "UrlPattern": "nx5d.addressing.url",
    **dict.fromkeys(("KeyToHandle", "sanitize"), "nx5d.addressing.handles"),
    **dict.fromkeys(("validate_key", "natural_sorted", "natural_sort_key", "select_keys"), "nx5d.addressing.keys"),
    **dict.fromkeys(("option", "build_options"), "nx5d.options"),
    **dict.fromkeys(("Recipe", "CookRequest", "Growing"), "nx5d.recipes.contract"),
    **dict.fromkeys(("progress", "quiet", "forwarded"), "nx5d.progress"),
    "Table": "nx5d.display",
    "scan_frame": "nx5d.model.scantable",
    "nx5d_distributions": "nx5d.plugins.discovery",
}

__all__ = [
    "nx5d_distributions",
    "COLUMN_TYPES",
    "Column",
    "CookRequest",
    "DIALECTS",
    "DataIdentity",
    "EXTRA_FRAME_DIMS",
    "FRAME_NAMES",
    "FRAME_SUFFIXES",
    "FrameOptions",
    "Frames",
    "Growing",
    "HDF5_SUFFIXES",
    "KeyToHandle",
    "MISSING_VALUE",
    "Recipe",
    "Region",
    "STREAM_FRAMES",
    "Section",
    "State",
    "Storage",
    "Table",
    "UrlPattern",
    "VariableNames",
    "agreeing",
    "build_options",
    "cache_home",
    "check_frame_size",
    "check_memory",
    "check_missing",
    "check_read",
    "column_block",
    "depends_on",
    "external_link",
    "find_variable",
    "fits",
    "forwarded",
    "frame_dtype",
    "frame_folders",
    "frames_array",
    "hdf5",
    "is_hdf5_name",
    "join_url",
    "linked_file",
    "map_blocks",
    "map_ranges",
    "natural_sort_key",
    "natural_sorted",
    "open_document",
    "option",
    "per_frame",
    "planned_points",
    "positive",
    "progress",
    "quiet",
    "realpath",
    "redact",
    "removed_on_failure",
    "require_writable",
    "remove",
    "sanitize",
    "scan_frame",
    "scan_type",
    "scanned_motor",
    "scanned_motors",
    "scanned_range",
    "select_keys",
    "selected_shape",
    "sweep",
    "temporary_name",
    "text_parameters",
    "text_sections",
    "trusted",
    "unchanged_among",
    "unify_line_ends",
    "validate_key",
    "usable_cpus",
    "with_block_reader",
    "with_sliceable_frames",
    "zarrdoc",
]


def __getattr__(name: str) -> Any:
    module = _FROM.get(name)
    if module is None:
        raise AttributeError(f"module 'nx5d.toolkit' has no attribute {name!r}: the toolkit holds {', '.join(__all__)}")
    found = importlib.import_module(module)
    if name not in ("hdf5", "zarrdoc"):
        found = getattr(found, name)
    globals()[name] = found
    return found


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
