"""The version of ``nx5d-core``: the one place it is written (the distribution's metadata reads it from here)."""

__all__ = ["__version__"]

__version__ = "0.2.0"
