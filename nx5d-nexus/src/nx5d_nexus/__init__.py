"""nx5d-nexus: the generic HDF5 / NeXus / Zarr beamline for nx5d.

Scans are groups (``NXentry``); counters, positioners and frames are found
by the NeXus conventions ([`nx5d_nexus.layouts`][nx5d_nexus.layouts]).  The default cook is a 1-D
profile of the NeXus signal, or reciprocal space maps once the ``settings``
spice names the angle datasets.  Plugins for NeXus beamlines call
[`nx5d_nexus.reading`][nx5d_nexus.reading].
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nx5d-nexus")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"
