"""nx5d-kmc3: the KMC3-XPP beamline (BESSY II) for nx5d.

Scans recorded with SPEC and a Pilatus 100K, read from HDF5 files in the
silx SpecH5 layout (``…/{proposal}/{proposal}.h5#{scan}``) or straight from
SPEC files and their TIFF frames (``…/{proposal}.spec#{scan}``); cooked into
reciprocal space maps.  [`nx5d_kmc3.ingest.ingest`][nx5d_kmc3.ingest.ingest] converts SPEC + TIFF
into the HDF5 layout; [`nx5d_kmc3.synth`][nx5d_kmc3.synth] generates test data.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nx5d-kmc3")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"
