"""nx5d: open any beamline's X-ray diffraction scan data with one call.

>>> import nx5d
>>> repo = nx5d.open("file:///data/udkm/{proposal}/{scan}")   # doctest: +SKIP
>>> repo.p20210205.r091726.raw                                  # doctest: +SKIP

``import nx5d`` imports nothing but this module: each name below is imported
when it is first used (`nx5d.open` brings the object model, xarray and
numpy), so the ``nx5d`` command and the shell's tab completion start fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from nx5d.version import __version__

if TYPE_CHECKING:
    from nx5d import errors
    from nx5d.addressing.url import UrlPattern
    from nx5d.extensions.cookedcache import cooked_cache
    from nx5d.extensions.memory import raw_cache
    from nx5d.model import Proposal, Repository, Scan
    from nx5d.model.open import open_repository as open  # noqa: A004, F401 - the entry point
    from nx5d.plugins.declaration import Beamline, ClaimLevel
    from nx5d.plugins.hookspecs import PLUGIN_API, hookimpl

# ``open`` is not in __all__: ``from nx5d import *`` must not shadow the built-in open().
__all__ = [
    "Repository",
    "Proposal",
    "Scan",
    "UrlPattern",
    "Beamline",
    "ClaimLevel",
    "hookimpl",
    "PLUGIN_API",
    "errors",
    "raw_cache",
    "cooked_cache",
    "scan_index",
    "__version__",
]

#: ``{name: (module, attribute)}`` of what ``nx5d`` offers; ``attribute`` ``None``: the module itself.
_LAZY: dict[str, tuple[str, str | None]] = {
    "open": ("nx5d.model.open", "open_repository"),
    "Repository": ("nx5d.model", "Repository"),
    "Proposal": ("nx5d.model", "Proposal"),
    "Scan": ("nx5d.model", "Scan"),
    "UrlPattern": ("nx5d.addressing.url", "UrlPattern"),
    "Beamline": ("nx5d.plugins.declaration", "Beamline"),
    "ClaimLevel": ("nx5d.plugins.declaration", "ClaimLevel"),
    "hookimpl": ("nx5d.plugins.hookspecs", "hookimpl"),
    "PLUGIN_API": ("nx5d.plugins.hookspecs", "PLUGIN_API"),
    "errors": ("nx5d.errors", None),
    "raw_cache": ("nx5d.extensions.memory", "raw_cache"),
    "cooked_cache": ("nx5d.extensions.cookedcache", "cooked_cache"),
}

#: What ``nx5d`` offers from other distributions (see `__getattr__`).
_ELSEWHERE = ("plot", "batch", "reproduce", "scan_index")


def __getattr__(name: str) -> Any:
    """The names of `__all__` and ``nx5d.open``, imported on first use; ``nx5d.plot``, ``nx5d.batch``,
    ``nx5d.reproduce`` and ``nx5d.scan_index`` too.

    ``nx5d.plot`` is ``nx5d_rsm.plot``, ``nx5d.batch`` is
    ``nx5d_results.batch``, ``nx5d.reproduce`` is
    ``nx5d_results.reproduce.reproduce`` and ``nx5d.scan_index`` is
    ``nx5d_index.extension.scan_index``: without their distributions, the
    error says what to install.
    """
    if name in _LAZY:
        module, attribute = _LAZY[name]
        found = importlib.import_module(module)
        value = found if attribute is None else getattr(found, attribute)
        globals()[name] = value  # once imported, an ordinary attribute
        return value
    if name in _ELSEWHERE:
        from nx5d.optional import optional_module

        if name == "scan_index":
            return optional_module("nx5d_index.extension", "nx5d-index", "nx5d.scan_index").scan_index
        if name == "plot":
            return optional_module("nx5d_rsm.plot", "nx5d-rsm", "nx5d.plot", "plot")
        if name == "reproduce":
            return optional_module("nx5d_results.reproduce", "nx5d-results", "nx5d.reproduce").reproduce
        return optional_module("nx5d_results.batch", "nx5d-results", "nx5d.batch")
    raise AttributeError(f"module 'nx5d' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, *_ELSEWHERE})
