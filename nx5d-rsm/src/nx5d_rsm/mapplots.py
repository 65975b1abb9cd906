"""Figures of reciprocal space maps: the maps themselves (`rsm`) and a peak's position through them (`peak_trace`)."""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from nx5d.errors import OptionError
from nx5d_rsm.figures import (
    axis_label,
    centres,
    coordinate_units,
    diffraction_norm,
    floored,
    new_figure,
    value_label,
    with_units,
    wrapped,
)
from nx5d_rsm.maps import map_variable
from nx5d_rsm.peaks import peak_positions

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["rsm", "peak_trace"]

#: How each peak-finding method is named on an axis.
METHODS = {"com": "centre of mass", "max": "maximum"}


def _split_dims(array: xr.DataArray, x: Hashable | None, y: Hashable | None) -> tuple[Hashable, Hashable, list]:
    """The map's horizontal and vertical dimensions and the remaining (panel) dimensions.

    Defaults: the last dimension is vertical (``qz``), the one before it horizontal (``qy``).
    """
    if array.ndim < 2:
        raise OptionError(f"a map needs two dimensions; {array.name!r} has {array.dims}")
    for name in (x, y):
        if name is not None and name not in array.dims:
            raise OptionError(f"{array.name!r} has no dimension {name!r}; dimensions: {list(array.dims)}")
    free = [d for d in array.dims if d not in (x, y)]
    y = y if y is not None else free.pop()
    x = x if x is not None else free.pop()
    return x, y, free


def _panels(array: xr.DataArray, x: Hashable, y: Hashable, others: list) -> list[xr.DataArray]:
    q_left = [d for d in others if str(d).startswith("q")]
    if q_left:
        raise OptionError(
            f"{array.name!r} is a map in {len(q_left) + 2} q dimensions; project it first, "
            f"e.g. .sum({str(q_left[0])!r}), or choose x= and y="
        )
    if len(others) > 1:
        raise OptionError(f"select all but one of {others} first (e.g. .sel({others[0]}=...)) to plot maps")
    return [array] if not others else [array.isel({others[0]: i}) for i in range(array.sizes[others[0]])]


def _norm(data: xr.Dataset | xr.DataArray, array: xr.DataArray, log: bool, decades: float | None) -> Any:
    from matplotlib.colors import Normalize

    values = np.asarray(array, dtype=float)
    if log:
        variance = data.get(f"{array.name}_variance") if isinstance(data, xr.Dataset) else None
        return diffraction_norm(values, None if variance is None else np.asarray(variance, float), decades=decades)
    finite = values[np.isfinite(values)]
    return Normalize(*(float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0))


def rsm(
    data: xr.Dataset | xr.DataArray,
    var: Hashable | None = None,
    *,
    x: Hashable | None = None,
    y: Hashable | None = None,
    log: bool = True,
    decades: float | None = 4.0,
    cmap: str = "viridis",
    columns: int = 4,
    panel_size: float = 3.0,
    title: str = "",
    ax: Any = None,
) -> Figure:
    """Reciprocal space map(s): one panel per value of the leading dimension (e.g. per delay).

    Parameters
    ----------
    data:
        A cooked Dataset (its map variable is found by `map_variable`) or a DataArray.
    x, y:
        The horizontal and vertical dimensions (default: the one before the last, and the last).
    log:
        Logarithmic colour scale (default), shared by all panels
        ([`diffraction_norm`][nx5d_rsm.figures.diffraction_norm]): from the
        noise floor -- the largest value noise gives, where the Dataset has
        the map's Poisson variance (``qdata_variance``), else the median of
        the measured values -- to the largest value.  Bins under the floor,
        zeros included, take the floor's colour; unmeasured (NaN) bins stay
        blank.  ``False``: linear, from the smallest to the largest value.
    decades:
        With ``log``, the floor is at most this many decades below the top;
        ``None``: the floor is the smallest positive value.
    columns, panel_size:
        Panels per row, and each panel's size in inches.
    title:
        The figure's title.
    ax:
        A matplotlib axes to draw one map into (its figure is returned),
        e.g. a panel of your own pyplot figure.

    Returns
    -------
    matplotlib.figure.Figure
        A pyplot figure (``ax``'s, when given), to keep editing or save.
    """
    array = map_variable(data, var)
    x, y, others = _split_dims(array, x, y)
    panels = _panels(array, x, y, others)
    if ax is not None and len(panels) != 1:
        raise OptionError(f"ax= draws one map; select one of the {len(panels)} along {others[0]!r} first")
    norm = _norm(data, array, log, decades)
    ncols = min(columns, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    if ax is not None:
        figure, axes = ax.figure, np.array([[ax]])
    else:
        figure = new_figure(figsize=(panel_size * ncols + 1.5, panel_size * nrows + (0.4 if title else 0.0)))
        axes = figure.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
    image = None
    for ax, panel in zip(axes.flat, panels, strict=False):
        shown = np.asarray(panel.transpose(y, x), dtype=float)
        shown = floored(shown, norm) if log else np.ma.masked_invalid(shown)
        image = ax.pcolormesh(centres(array, x), centres(array, y), shown, norm=norm, cmap=cmap, shading="auto")
        if others:
            ax.set_title(_panel_title(array, others[0], panel) if others[0] in panel.coords else "")
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel(axis_label(array, x))
    for ax in axes[:, 0]:
        ax.set_ylabel(axis_label(array, y))
    if image is not None:
        height = figure.get_figheight() * 0.8
        figure.colorbar(image, ax=axes, label=wrapped(value_label(array), height), extend="min" if log else "neither")
    if title:
        figure.suptitle(wrapped(title, figure.get_figwidth() * 0.95, fontsize=12.0))
    return figure


def _panel_title(array: xr.DataArray, dim: Hashable, panel: xr.DataArray) -> str:
    units = array[dim].attrs.get("units")
    return f"{dim} = {panel[dim].item():g}" + (f" {units}" if units else "")


def peak_trace(
    data: xr.Dataset | xr.DataArray,
    var: Hashable | None = None,
    *,
    along: Hashable | None = None,
    method: str = "com",
    background: str | float | None = "median",
    relative: bool = False,
    title: str = "",
    ax: Any = None,
) -> Figure:
    """Peak position (see [`peak_positions`][nx5d_rsm.peaks.peak_positions]) against the remaining dimension.

    Each position is drawn with its standard error as an error bar (where it
    has one); the y axis says the q component, the method and its unit
    (``qz peak, centre of mass (1/Å)``).  ``relative=True`` plots the shift
    from the first point instead of the position; ``ax``: draw into this
    matplotlib axes (its figure is returned).
    """
    position = peak_positions(data, var, along=along, method=method, background=background)
    if position.ndim != 1:
        raise OptionError(f"a trace needs one remaining dimension, the positions have {position.dims}")
    (dim,) = position.dims
    values = position - position[0] if relative else position
    errors = np.asarray(position[f"{position.name}_error"], dtype=float)
    figure = ax.figure if ax is not None else new_figure(figsize=(6.0, 3.5))
    ax = ax if ax is not None else figure.subplots()
    ax.errorbar(
        centres(position, dim), np.asarray(values), yerr=errors if np.isfinite(errors).any() else None, marker="o"
    )
    ax.set_xlabel(axis_label(position, dim))
    name = str(position.name).removesuffix("_peak")
    label = f"{'shift of ' if relative else ''}{name} peak, {METHODS.get(method, method)}"
    ax.set_ylabel(with_units(label, coordinate_units(map_variable(data, var), name)))
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    return figure
