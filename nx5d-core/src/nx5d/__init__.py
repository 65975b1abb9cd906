"""nx5d: open any beamline's X-ray diffraction scan data with one call.

>>> import nx5d
>>> repo = nx5d.open("file:///data/udkm/{proposal}/{scan}")   # doctest: +SKIP
>>> repo.p20210205.r091726.raw                                  # doctest: +SKIP
"""

from nx5d import errors
from nx5d.addressing.url import UrlPattern
from nx5d.extensions.cookedcache import cooked_cache
from nx5d.extensions.memory import raw_cache
from nx5d.model import Proposal, Repository, Scan
from nx5d.model.open import open_repository as open  # noqa: A004, F401 - the entry point, kept out of __all__
from nx5d.plugins.declaration import Beamline, ClaimLevel
from nx5d.plugins.hookspecs import PLUGIN_API, hookimpl
from nx5d.version import __version__

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
    "__version__",
]


def __getattr__(name: str) -> object:
    """``nx5d.plot`` (``nx5d_rsm.plot``) and ``nx5d.batch``: imported (with matplotlib, dask ...) when first used."""
    from nx5d.optional import optional_module

    if name == "plot":
        return optional_module("nx5d_rsm.plot", "nx5d-rsm", "nx5d.plot", "plot")
    if name == "batch":
        return optional_module("nx5d.app.batch", "nx5d-core", "nx5d.batch", "batch")
    raise AttributeError(f"module 'nx5d' has no attribute {name!r}")
