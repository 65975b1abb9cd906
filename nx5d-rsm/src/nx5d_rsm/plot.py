"""Plots of cooked results: reciprocal space maps and peak positions.

Both functions take the xarray objects that beamline plugins cook (a
``Dataset`` holding a map variable such as ``qdata``, or the ``DataArray``
itself) and return a `matplotlib.figure.Figure`, which Jupyter shows
as an image.  They never touch matplotlib's global ``pyplot`` state, so a
figure appears once, where it is returned.

>>> from nx5d import plot
>>> plot.rsm(scan.cooked)               # doctest: +SKIP
>>> plot.peak_trace(scan.cooked)        # doctest: +SKIP

Requires matplotlib (``pip install 'nx5d-rsm[plot]'``).
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import xarray as xr

from nx5d.errors import NotSupportedError, OptionError
from nx5d_rsm.maps import map_variable
from nx5d_rsm.peaks import peak_positions

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from nx5d import Scan

# map_variable and peak_positions are re-exported from nx5d_rsm.maps and nx5d_rsm.peaks: nx5d.plot offers them too.
__all__ = ["map_variable", "peak_positions", "rsm", "peak_trace", "lines", "raw_overview", "quick_look"]


@functools.cache
def _figure_class() -> type[Figure]:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise NotSupportedError(
            "plotting needs matplotlib: pip install 'nx5d-rsm[plot]' (or pip install matplotlib)"
        ) from exc

    class NotebookFigure(Figure):
        """A Figure that Jupyter shows as a PNG image even when pyplot was never imported."""

        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            self.savefig(buffer, format="png", dpi=100)
            return buffer.getvalue()

        def show(self, warn: bool = True) -> None:
            """Show the figure in Jupyter (and IPython); in scripts, save it or draw into pyplot axes (``ax=``)."""
            try:
                from IPython import get_ipython
            except ImportError:
                get_ipython = None
            if get_ipython is None or get_ipython() is None:
                raise NotSupportedError(
                    "nx5d figures show themselves in Jupyter; in a script use figure.savefig('map.png'), "
                    "or draw into your own pyplot figure with ax=plt.gca()"
                )
            from IPython.display import display

            display(self)

    return NotebookFigure


def _figure(**kwargs: Any) -> Figure:
    return _figure_class()(layout="constrained", **kwargs)


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


def _label(array: xr.DataArray, dim: Hashable) -> str:
    units = array[dim].attrs.get("units") if dim in array.coords else None
    if units is None and str(dim).startswith("q"):
        units = "1/Å"
    return f"{dim} ({units})" if units else str(dim)


def _value_label(array: xr.DataArray) -> str:
    """What a map's values are, with units: its ``long_name`` (else its name)."""
    text = str(array.attrs.get("long_name") or array.name or "intensity")
    return f"{text} ({array.attrs['units']})" if array.attrs.get("units") else text


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
        Logarithmic colour scale (default), shared by all panels; zeros,
        negative values and unmeasured (NaN) bins are left blank.
    decades:
        With ``log``, the colour scale spans at most this many decades below
        the largest value, and starts no lower than the median of the
        measured values (the background), so that the peaks, not the noise,
        get the colours; ``None``: down to the smallest positive value.
    columns:
        Panels per row.
    ax:
        A matplotlib axes to draw one map into (its figure is returned),
        e.g. a panel of your own pyplot figure.
    """
    from matplotlib.colors import LogNorm, Normalize

    array = map_variable(data, var)
    x, y, others = _split_dims(array, x, y)
    q_left = [d for d in others if str(d).startswith("q")]
    if q_left:
        raise OptionError(
            f"{array.name!r} is a map in {len(q_left) + 2} q dimensions; project it first, "
            f"e.g. .sum({str(q_left[0])!r}), or choose x= and y="
        )
    if len(others) > 1:
        raise OptionError(f"select all but one of {others} first (e.g. .sel({others[0]}=...)) to plot maps")
    panels = [array] if not others else [array.isel({others[0]: i}) for i in range(array.sizes[others[0]])]
    if ax is not None and len(panels) != 1:
        raise OptionError(f"ax= draws one map; select one of the {len(panels)} along {others[0]!r} first")
    values = np.asarray(array, dtype=float)
    positive = values[np.isfinite(values) & (values > 0)]
    if log and positive.size:
        vmax = float(positive.max())
        floor = float(positive.min()) if decades is None else max(float(np.median(positive)), vmax / 10.0**decades)
        norm: Any = LogNorm(vmin=min(floor, vmax), vmax=vmax)
    else:
        finite = values[np.isfinite(values)]
        norm = Normalize(*(float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0))
    ncols = min(columns, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    if ax is not None:
        figure, axes = ax.figure, np.array([[ax]])
    else:
        figure = _figure(figsize=(panel_size * ncols + 1.0, panel_size * nrows))
        axes = figure.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
    image = None
    for ax, panel in zip(axes.flat, panels, strict=False):
        shown = panel.transpose(y, x)
        masked = np.ma.masked_where(~(np.asarray(shown) > 0) if log else ~np.isfinite(shown), shown)
        image = ax.pcolormesh(_centres(array, x), _centres(array, y), masked, norm=norm, cmap=cmap, shading="auto")
        if others:
            ax.set_title(_panel_title(array, others[0], panel) if others[0] in panel.coords else "")
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel(_label(array, x))
    for ax in axes[:, 0]:
        ax.set_ylabel(_label(array, y))
    if image is not None:
        figure.colorbar(image, ax=axes, label=_value_label(array))
    return figure


def _panel_title(array: xr.DataArray, dim: Hashable, panel: xr.DataArray) -> str:
    units = array[dim].attrs.get("units")
    return f"{dim} = {panel[dim].item():g}" + (f" {units}" if units else "")


def _centres(array: xr.DataArray, dim: Hashable) -> np.ndarray:
    return np.asarray(array[dim]) if dim in array.coords else np.arange(array.sizes[dim])


def peak_trace(
    data: xr.Dataset | xr.DataArray,
    var: Hashable | None = None,
    *,
    along: Hashable | None = None,
    method: str = "com",
    background: str | float | None = "median",
    relative: bool = False,
    ax: Any = None,
) -> Figure:
    """Peak position (see [`peak_positions`][nx5d_rsm.peaks.peak_positions]) against the remaining dimension.

    Each position is drawn with its standard error as an error bar (where it
    has one).  ``relative=True`` plots the shift from the first point instead
    of the position; ``ax``: draw into this matplotlib axes (its figure is
    returned).
    """
    position = peak_positions(data, var, along=along, method=method, background=background)
    if position.ndim != 1:
        raise OptionError(f"a trace needs one remaining dimension, the positions have {position.dims}")
    (dim,) = position.dims
    values = position - position[0] if relative else position
    errors = np.asarray(position[f"{position.name}_error"], dtype=float)
    figure = ax.figure if ax is not None else _figure(figsize=(6.0, 3.5))
    ax = ax if ax is not None else figure.subplots()
    ax.errorbar(
        _centres(position, dim), np.asarray(values), yerr=errors if np.isfinite(errors).any() else None, marker="o"
    )
    ax.set_xlabel(_label(position, dim))
    name = str(position.name).removesuffix("_peak")
    ax.set_ylabel(f"{'shift of ' if relative else ''}{name} peak ({method})")
    ax.grid(alpha=0.3)
    return figure


def _axis_label(data: xr.Dataset, name: Hashable) -> str:
    """``name``'s variable described by `_value_label`; a dimension without one by its name."""
    return _value_label(data[name]) if name in data.variables else str(name)


def lines(data: xr.Dataset | xr.DataArray, var: Hashable | None = None, *, title: str = "", ax: Any = None) -> Figure:
    """One-dimensional variables against their dimension (a cooked profile, counters of a scan).

    ``var``: one variable; default: every 1-D data variable along the first
    one's dimension.  ``ax``: draw into this matplotlib axes (its figure is
    returned) instead of a new figure.
    """
    if isinstance(data, xr.DataArray):
        data = data.to_dataset(name=data.name or "value")
    names = [var] if var is not None else [n for n, v in data.data_vars.items() if v.ndim == 1]
    if not names:
        raise OptionError(f"nothing one-dimensional to draw; variables: {', '.join(map(str, data.data_vars))}")
    dim = data[names[0]].dims[0]
    names = [n for n in names if data[n].dims == (dim,)]
    figure = ax.figure if ax is not None else _figure(figsize=(6.0, 3.5))
    ax = ax if ax is not None else figure.subplots()
    x = _centres(data[names[0]], dim)
    for name in names:
        ax.plot(x, np.asarray(data[name], dtype=float), label=_axis_label(data, name))
    ax.set_xlabel(_axis_label(data, dim))
    if len(names) == 1:
        ax.set_ylabel(_axis_label(data, names[0]))
    else:
        ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    return figure


def raw_overview(data: xr.Dataset, *, counters: Sequence[str] = (), title: str = "", cooking: Any = None) -> Figure:
    """A raw scan at a glance: its frames summed over the scan (log scale) and counters against the point number.

    ``counters``: which to draw (default: the signal a profile of the scan
    shows, [`choose_signal`][nx5d_rsm.signal.choose_signal] with the
    beamline's ``cooking`` declaration); a signal with more dimensions than
    the points (the frames) is drawn summed per point, gap markers left out.
    """
    from matplotlib.colors import LogNorm

    from nx5d_rsm.signal import choose_signal, summed_signal

    if counters:
        chosen = [c for c in counters if c in data.variables]
    else:
        chosen = [choose_signal(data, cooking).name] if "index" in data.dims and data.data_vars else []
    panels = ("images" in data) + bool(chosen)
    if not panels:
        raise OptionError("the scan has neither frames nor counters to draw")
    figure = _figure(figsize=(5.0 * panels, 4.0))
    axes = list(np.atleast_1d(figure.subplots(1, panels)))
    if "images" in data:
        images = data["images"]
        summed = np.asarray(images.sum([d for d in images.dims if d not in ("y", "x")]), dtype=float)
        shown = np.ma.masked_where(~(summed > 0), summed)
        ax = axes.pop(0)
        norm = LogNorm() if shown.count() else None
        mesh = ax.pcolormesh(_centres(images, "x"), _centres(images, "y"), shown, norm=norm, shading="auto")
        ax.invert_yaxis()
        ax.set_xlabel("x (pixel)")
        ax.set_ylabel("y (pixel)")
        ax.set_title(f"frames summed ({images.sizes['index']})")
        figure.colorbar(
            mesh, ax=ax, label=f"counts{' (' + images.attrs['units'] + ')' if 'units' in images.attrs else ''}"
        )
    if chosen:
        drawn = xr.Dataset(
            {
                name: ("index", summed_signal(data, name).values, {"long_name": _per_point(data, name)})
                for name in chosen
            }
        )
        lines(drawn, ax=axes.pop(0))
    if title:
        figure.suptitle(title)
    return figure


def _per_point(data: xr.Dataset, name: str) -> str:
    """What a drawn signal is: its ``long_name``, summed over its pixels when it has more than the points."""
    label = str(data[name].attrs.get("long_name") or name)
    return label if data[name].ndim == 1 else f"{label} summed (gap markers left out)"


def quick_look(scan: Scan, *, raw: bool = False, counters: Sequence[str] = ()) -> Figure:
    """A figure of ``scan``: its cooked maps (one panel per group) or profile; raw: the summed frames and counters.

    Raw: the counter drawn is the signal a profile of the scan shows (the beamline's declared detector).
    """
    if not raw:
        cooked = scan.cooked
        if not hasattr(cooked, "data_vars") and hasattr(cooked, "to_dataset"):
            cooked = cooked.to_dataset(name="cooked", promote_attrs=True)
        if not hasattr(cooked, "data_vars"):
            raise NotSupportedError(f"{scan.url or scan.key} cooks to {type(cooked).__name__}, not an xarray object")
        if "qdata" in cooked and cooked.qdata.ndim >= 2:
            return rsm(cooked)
        return lines(cooked, title=f"{scan.key}: {cooked.attrs.get('nx5d_recipe', 'cooked')}")
    data = scan.load(lazy=True) if "lazy" in _option_names(scan) else scan.raw
    declaration = scan.repository.declaration
    cooking = None if declaration is None else declaration.cooking
    return raw_overview(data, counters=counters, title=f"{scan.key} (raw)", cooking=cooking)


def _option_names(scan: Scan) -> set[str]:
    declaration = scan.repository.declaration
    return set() if declaration is None else {f.name for f in attrs.fields(declaration.options)}
