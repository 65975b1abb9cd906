"""What every nx5d figure shares: pyplot figures shown once in Jupyter, labels with units, diffraction colour scales.

Figures are made through ``matplotlib.pyplot`` (``plt.gcf()``, ``plt.savefig``
and ``plt.show()`` reach them, and a user keeps editing them), with
constrained layout, so that colour bars and their labels stay inside the
picture.  Returned as the last value of a Jupyter cell, a figure is shown
once (pyplot's inline backend would show it a second time at the end of the
cell).

Colour scales of diffraction data are logarithmic with a floor
(`diffraction_norm`): the largest value is the top, and the floor is the
noise -- from the Poisson variance where the data has one, else the median
of the measured values -- but at most ``decades`` below the top.  Bins under
the floor, zeros included, take the floor's colour; bins nothing was
measured in (NaN) stay blank.
"""

from __future__ import annotations

import functools
import io
import re
import textwrap
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from nx5d.errors import NotSupportedError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "new_figure",
    "coordinate_units",
    "axis_label",
    "value_label",
    "with_units",
    "wrapped",
    "diffraction_norm",
    "noise_level",
    "floored",
    "centres",
]

#: Reciprocal-space coordinates without a ``units`` attribute are in inverse ångström.
Q_UNITS = "1/Å"
#: Standard errors below which a value counts as noise (`noise_level`).
NOISE_SIGMAS = 3.0


@functools.cache
def _figure_class() -> type[Figure]:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise NotSupportedError(
            "plotting needs matplotlib: pip install 'nx5d-rsm[plot]' (or pip install matplotlib)"
        ) from exc

    class NotebookFigure(Figure):
        """A pyplot figure that Jupyter shows once, where it is returned, even without an inline backend."""

        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            self.savefig(buffer, format="png", dpi=100)
            return buffer.getvalue()

        def _ipython_display_(self) -> None:
            import matplotlib.pyplot as plt
            from IPython.display import display

            plt.close(self)  # shown here: pyplot's inline backend must not show it again at the end of the cell
            display({"image/png": self._repr_png_()}, raw=True)

        def show(self, warn: bool = True) -> None:
            """Show the figure: in Jupyter (and IPython) as an image, elsewhere in pyplot's window."""
            try:
                from IPython import get_ipython
            except ImportError:
                get_ipython = None
            if get_ipython is not None and get_ipython() is not None:
                self._ipython_display_()
            else:
                super().show(warn=warn)

    return NotebookFigure


def new_figure(**kwargs: Any) -> Figure:
    """A new pyplot figure (constrained layout) that Jupyter shows once; ``kwargs`` go to ``pyplot.figure``."""
    _figure_class()  # matplotlib installed?
    import matplotlib.pyplot as plt

    return plt.figure(FigureClass=_figure_class(), layout="constrained", **kwargs)


def _units_of(text: str) -> str | None:
    """The unit a label already ends with: ``[ph/s]``, ``(ph/s)`` or ``/ deg.``."""
    found = re.search(r"(?:\[([^\]]+)\]|\(([^)]+)\)|\s/\s*(\S+))\s*$", text)
    return None if found is None else next(g for g in found.groups() if g)


def with_units(text: str, units: str | None) -> str:
    """``text (units)``, unless ``text`` already ends with its units (``Pilatus [ph/s]``) or there are none."""
    if not units:
        return text
    written = _units_of(text)
    if written is not None and written.strip().rstrip(".") == str(units).strip().rstrip("."):
        return text
    return f"{text} ({units})"


def _attrs(array: xr.DataArray | xr.Dataset, dim: Hashable) -> dict:
    return dict(array[dim].attrs) if dim in array.coords or dim in getattr(array, "data_vars", {}) else {}


def coordinate_units(array: xr.DataArray | xr.Dataset, dim: Hashable) -> str | None:
    """A coordinate's ``units``; q coordinates without one are in 1/Å."""
    units = _attrs(array, dim).get("units")
    return Q_UNITS if units is None and str(dim).startswith("q") else units


def axis_label(array: xr.DataArray | xr.Dataset, dim: Hashable) -> str:
    """A coordinate's label: its ``long_name`` (else its name) with its units, once."""
    return with_units(str(_attrs(array, dim).get("long_name") or dim), coordinate_units(array, dim))


def value_label(array: xr.DataArray) -> str:
    """What values are, with units: ``long_name`` (else the name, else "intensity") and ``units``, once."""
    return with_units(str(array.attrs.get("long_name") or array.name or "intensity"), array.attrs.get("units"))


def wrapped(text: str, length: float, fontsize: float = 10.0) -> str:
    """``text`` broken into lines that fit ``length`` inches of ``fontsize``-point text."""
    width = max(12, int(length * 72.0 / (0.6 * fontsize)))
    return "\n".join(textwrap.wrap(text, width)) or text


def noise_level(values: np.ndarray, variance: np.ndarray) -> float | None:
    """The largest value noise alone gives: the 99th percentile of the values within 3 standard errors of zero.

    ``None`` when no value is (nothing but signal, or no variance known).
    """
    values, variance = np.asarray(values, float), np.asarray(variance, float)
    known = np.isfinite(values) & np.isfinite(variance) & (values > 0) & (variance > 0)
    noise = values[known][values[known] < NOISE_SIGMAS * np.sqrt(variance[known])]
    return float(np.quantile(noise, 0.99)) if noise.size else None


def diffraction_norm(values: np.ndarray, variance: np.ndarray | None = None, *, decades: float | None = 4.0) -> Any:
    """A logarithmic colour scale for diffraction data, from the noise floor to the largest value.

    The floor is `noise_level` where ``variance`` is given and says, else
    the median of the positive values (the background), but no more than
    ``decades`` below the top; ``decades=None``: the smallest positive value.
    """
    from matplotlib.colors import LogNorm

    values = np.asarray(values, float)
    positive = values[np.isfinite(values) & (values > 0)]
    if not positive.size:
        return LogNorm(vmin=1.0, vmax=10.0)
    vmax = float(positive.max())
    if decades is None:
        return LogNorm(vmin=float(positive.min()), vmax=vmax)
    noise = None if variance is None else noise_level(values, variance)
    floor = float(np.median(positive)) if noise is None else noise
    return LogNorm(vmin=min(max(floor, vmax / 10.0**decades), vmax), vmax=vmax)


def floored(values: np.ndarray, norm: Any) -> np.ma.MaskedArray:
    """``values`` as a log colour scale draws them: below its floor (zeros too) at the floor, NaN masked."""
    values = np.asarray(values, float)
    return np.ma.masked_invalid(np.where(np.isfinite(values) & (values < norm.vmin), norm.vmin, values))


def centres(array: xr.DataArray | xr.Dataset, dim: Hashable) -> np.ndarray:
    """The coordinate values along ``dim``, else the positions 0, 1, 2 ..."""
    return np.asarray(array[dim]) if dim in array.coords else np.arange(array.sizes[dim])
