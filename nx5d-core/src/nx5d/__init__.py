"""nx5d: open any beamline's X-ray diffraction scan data with one call.

>>> import nx5d
>>> repo = nx5d.open("file:///data/udkm/{proposal}/{scan}")   # doctest: +SKIP
>>> repo.p20210205.r091726.raw                                  # doctest: +SKIP
"""

from importlib.metadata import PackageNotFoundError, version

from . import errors
from .hookspecs import PLUGIN_API, hookimpl
from .info import BeamlineInfo
from .model import Proposal, Repository, Scan
from .opening import open_repository as open  # noqa: A004 - the documented entry point
from .url import UrlPattern

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
