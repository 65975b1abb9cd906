"""The version of the installed ``nx5d-core`` distribution."""

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("nx5d-core")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"
