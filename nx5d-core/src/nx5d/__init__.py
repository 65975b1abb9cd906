"""nx5d: open any beamline's X-ray diffraction scan data with one call.

>>> import nx5d
>>> repo = nx5d.open("file:///data/udkm/{proposal}/{scan}")   # doctest: +SKIP
>>> repo.p20210205.r091726.raw                                  # doctest: +SKIP
"""

from importlib.metadata import PackageNotFoundError, version

from nx5d import errors
from nx5d.addressing.url import UrlPattern
from nx5d.model import Proposal, Repository, Scan
from nx5d.model.open import open_repository as open  # noqa: A004 - the documented entry point
from nx5d.plugins.declaration import BeamlineInfo
from nx5d.plugins.hookspecs import PLUGIN_API, hookimpl

try:
    __version__ = version("nx5d")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"

__all__ = [
    "open",
    "Repository",
    "Proposal",
    "Scan",
    "UrlPattern",
    "BeamlineInfo",
    "hookimpl",
    "PLUGIN_API",
    "errors",
    "__version__",
]


def __getattr__(name: str) -> object:
    """``nx5d.plot``: the plotting module, imported (with matplotlib) only when first used."""
    if name == "plot":
        from nx5d.app import plot

        return plot
    raise AttributeError(f"module 'nx5d' has no attribute {name!r}")
