"""nx5d-fio: PETRA III's ``.fio`` scan files for nx5d.

The DESY Online and Sardana scan software of PETRA III's beamlines (P03,
P08, P09, P10, P23 ...) writes one text file per scan -- a ``%c`` comments
block with the command, ``%p`` parameters (motor positions), ``%d`` column
definitions ``Col N name TYPE`` and the data rows -- and keeps detector
frames in a folder beside it.  [`nx5d_fio.plugin`][nx5d_fio.plugin] reads them with the
plugin toolkit's text-format helpers; [`nx5d_fio.synth`][nx5d_fio.synth] writes test data.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nx5d-fio")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"
