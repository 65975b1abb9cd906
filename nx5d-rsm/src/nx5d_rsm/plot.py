"""Plots of scans and cooked results: reciprocal space maps, peak positions, profiles and raw data.

The functions take the xarray objects that beamline plugins load and cook
(a ``Dataset`` holding a map variable such as ``qdata``, or the
``DataArray`` itself), or a scan, and return a `matplotlib.figure.Figure`
made through pyplot: keep editing it (``figure.axes[0].set_xlim(...)``),
save it (``figure.savefig("map.png")``), or pass ``ax=`` to draw into a
figure of your own.  Jupyter shows a figure once, where it is returned.

>>> from nx5d import plot
>>> plot.rsm(scan.cooked)               # doctest: +SKIP
>>> plot.peak_trace(scan.cooked)        # doctest: +SKIP
>>> plot.quick_look(scan, raw=True)     # doctest: +SKIP

Colour scales, labels and the figures themselves are described in
[`nx5d_rsm.figures`][nx5d_rsm.figures].  Requires matplotlib
(``pip install 'nx5d-rsm[plot]'``).
"""

from nx5d_rsm.mapplots import peak_trace, rsm
from nx5d_rsm.maps import map_variable
from nx5d_rsm.peaks import peak_positions
from nx5d_rsm.scanplots import lines, quick_look, raw_overview

__all__ = ["rsm", "peak_trace", "lines", "raw_overview", "quick_look", "map_variable", "peak_positions"]


def __dir__() -> list[str]:
    """The public functions only, so that ``nx5d.plot.<Tab>`` offers them and nothing imported."""
    return list(__all__)
