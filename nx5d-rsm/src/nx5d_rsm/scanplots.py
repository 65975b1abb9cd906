"""Figures of one scan: 1-D data (`lines`), raw data at a glance (`raw_overview`), and what ``nx5d plot`` draws.

A raw scan is drawn as its detector frames summed over the scan and its
signal -- the beamline's declared detector, the raw data's ``signal``
attribute (NeXus), else the frames summed per point, never a monitor, a
clock, the ring current or an empty counter (see
[`nx5d_rsm.signal`][nx5d_rsm.signal]) -- against the scanned motor.  A
scan over a grid of two motors (UDKM: theta for every delay) is drawn as one
line per value of the slower one.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import xarray as xr

from nx5d.errors import NotSupportedError, OptionError
from nx5d_rsm.figures import (
    axis_label,
    centres,
    diffraction_norm,
    floored,
    new_figure,
    value_label,
    with_units,
    wrapped,
)
from nx5d_rsm.mapplots import rsm
from nx5d_rsm.profile import profile_axis
from nx5d_rsm.signal import choose_signal, poisson_variance, summed_signal

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from nx5d import Scan

__all__ = ["lines", "raw_overview", "quick_look", "scan_axes", "MAX_LINES"]

#: A scan over a grid is drawn as one line per value of its slower motor when it has at most this many.
MAX_LINES = 12


def _drawn(data: xr.Dataset) -> list[Hashable]:
    """What `lines` draws by default: a cooked profile's ``signal``, else every 1-D variable but variances."""
    if "signal" in data.data_vars and data["signal"].ndim == 1:
        return ["signal"]
    return [n for n, v in data.data_vars.items() if v.ndim == 1 and not str(n).endswith("_variance")]


def lines(data: xr.Dataset | xr.DataArray, var: Hashable | None = None, *, title: str = "", ax: Any = None) -> Figure:
    """One-dimensional variables against their dimension (a cooked profile, counters of a scan).

    ``var``: one variable; default: a cooked profile's ``signal``, else
    every 1-D data variable along the first one's dimension (variances are
    drawn as error bars: the square root of ``NAME_variance``).  ``ax``:
    draw into this matplotlib axes (its figure is returned) instead of a new
    figure.  Labels are each variable's ``long_name`` with its ``units``, once.
    """
    if isinstance(data, xr.DataArray):
        data = data.to_dataset(name=data.name or "value")
    names = [var] if var is not None else _drawn(data)
    if not names:
        raise OptionError(f"nothing one-dimensional to draw; variables: {', '.join(map(str, data.data_vars))}")
    dim = data[names[0]].dims[0]
    names = [n for n in names if data[n].dims == (dim,)]
    figure = ax.figure if ax is not None else new_figure(figsize=(6.0, 3.8))
    ax = ax if ax is not None else figure.subplots()
    x = centres(data[names[0]], dim)
    for name in names:
        variance = data.get(f"{name}_variance")
        errors = None if variance is None else np.sqrt(np.asarray(variance, dtype=float))
        errors = errors if errors is not None and np.isfinite(errors).any() else None
        ax.errorbar(x, np.asarray(data[name], dtype=float), yerr=errors, label=value_label(data[name]))
    ax.set_xlabel(axis_label(data, dim))
    if len(names) == 1:
        ax.set_ylabel(wrapped(value_label(data[names[0]]), figure.get_figheight() * 0.8))
    else:
        ax.legend(fontsize="small")
    if title:
        ax.set_title(wrapped(title, figure.get_figwidth() * 0.95, fontsize=12.0))
    ax.grid(alpha=0.3)
    return figure


def _changes(data: xr.Dataset, name: Hashable) -> int:
    values = np.asarray(data[name].values)
    return int(np.count_nonzero(values[1:] != values[:-1]))


def scan_axes(data: xr.Dataset, signal: str, summary: Mapping[str, Any] | None = None) -> tuple[str | None, str | None]:
    """The axis a raw scan's signal is drawn along, and the motor whose values make separate lines (or ``None``).

    Two or more coordinates moving along the points make a grid when the
    slowest of them takes at most `MAX_LINES` values: the fastest is the
    axis, one line per value of the slowest.  Otherwise the axis is the one a
    profile of the scan takes ([`profile_axis`][nx5d_rsm.profile.profile_axis]:
    the scanned motor); ``None``: the points are numbered.
    """
    moving = {
        str(c): _changes(data, c)
        for c in data.coords
        if data[c].dims == ("index",) and c != signal and data[c].dtype.kind in "biuf" and _changes(data, c)
    }
    if len(moving) >= 2:
        fastest, slowest = max(moving, key=moving.__getitem__), min(moving, key=moving.__getitem__)
        if moving[slowest] < moving[fastest] and np.unique(data[slowest].values).size <= MAX_LINES:
            return fastest, slowest
    return profile_axis(data, summary or {}, signal), None


def _signal_label(data: xr.Dataset, name: str) -> str:
    """What a drawn signal is, with its units once; summed over its pixels when it has more than the points."""
    text = str(data[name].attrs.get("long_name") or name)
    text = text if data[name].ndim == 1 else f"{text}, summed per point"
    return with_units(text, data[name].attrs.get("units"))


def _runs(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x`` and ``y`` with a gap (NaN) where the axis jumps back: each loop over the axis is its own stretch."""
    steps = np.sign(np.diff(x))
    forward = 1.0 if (steps >= 0).sum() >= (steps < 0).sum() else -1.0
    back = np.flatnonzero(steps == -forward) + 1
    return np.insert(x.astype(float), back, np.nan), np.insert(y.astype(float), back, np.nan)


def _draw_signals(
    figure: Figure, ax: Axes, data: xr.Dataset, names: list[str], axis: str | None, group: str | None
) -> None:
    x = np.asarray(data[axis].values, float) if axis is not None else np.arange(data.sizes["index"])
    groups = [None] if group is None else list(dict.fromkeys(np.asarray(data[group].values).tolist()))
    units = data[group].attrs.get("units", "") if group is not None else ""
    for name in names:
        y = summed_signal(data, name).values
        for value in groups:
            points = np.ones(x.size, bool) if value is None else np.asarray(data[group].values) == value
            label = _signal_label(data, name) if value is None else f"{group} = {value:g} {units}".strip()
            ax.plot(*_runs(x[points], y[points]), marker="." if points.sum() < 60 else None, label=label)
    ax.set_xlabel(axis_label(data, axis) if axis is not None else "point")
    height = figure.get_figheight() * 0.8
    ax.set_ylabel(wrapped(_signal_label(data, names[0]), height) if len(names) == 1 else "signal")
    if len(names) > 1 or group is not None:
        ax.legend(fontsize="small")
    ax.grid(alpha=0.3)


def _draw_frames(figure: Figure, ax: Axes, images: xr.DataArray, decades: float | None) -> None:
    """The frames summed over the scan, gap and defect markers (negative pixels) left blank."""
    others = [d for d in images.dims if d not in ("y", "x")]
    summed = np.asarray(images.where(images >= 0).sum(others, min_count=1).transpose("y", "x"), dtype=float)
    norm = diffraction_norm(summed, poisson_variance(images, summed), decades=decades)
    mesh = ax.pcolormesh(centres(images, "x"), centres(images, "y"), floored(summed, norm), norm=norm, shading="auto")
    ax.invert_yaxis()
    ax.set_xlabel("x (pixel)")
    ax.set_ylabel("y (pixel)")
    ax.set_title("detector frames, summed")
    frames = int(np.prod([images.sizes[d] for d in others]))
    label = with_units(f"sum of {frames} frames", images.attrs.get("units"))
    figure.colorbar(mesh, ax=ax, label=label, extend="min")


def raw_overview(
    data: xr.Dataset,
    *,
    counters: Sequence[str] = (),
    title: str = "",
    cooking: Any = None,
    summary: Mapping[str, Any] | None = None,
    decades: float | None = 4.0,
) -> Figure:
    """A raw scan at a glance: its frames summed over the scan, and its signal against the scanned motor.

    ``counters``: which to draw (default: the signal a profile of the scan
    shows, [`choose_signal`][nx5d_rsm.signal.choose_signal] with the
    beamline's ``cooking`` declaration); a signal with more dimensions than
    the points (the frames) is drawn summed per point, gap markers left out.
    The horizontal axis is chosen by [`scan_axes`][nx5d_rsm.scanplots.scan_axes]
    (``summary``: the scan's, which names its scanned motor).  The frames
    are drawn on the colour scale of maps
    ([`diffraction_norm`][nx5d_rsm.figures.diffraction_norm], ``decades``).
    """
    missing = [c for c in counters if c not in data.variables]
    if missing:
        raise OptionError(
            f"the scan has no counter {', '.join(map(repr, missing))}; it has {', '.join(map(str, data.data_vars))}"
        )
    if counters:
        chosen = list(counters)
    else:
        chosen = [choose_signal(data, cooking).name] if "index" in data.dims and data.data_vars else []
    panels = ("images" in data) + bool(chosen)
    if not panels:
        raise OptionError("the scan has neither frames nor counters to draw")
    figure = new_figure(figsize=(5.5 * panels, 4.2))
    axes = list(np.atleast_1d(figure.subplots(1, panels)))
    if "images" in data:
        _draw_frames(figure, axes.pop(0), data["images"], decades)
    if chosen:
        _draw_signals(figure, axes.pop(0), data, chosen, *scan_axes(data, chosen[0], summary))
    if title:
        figure.suptitle(wrapped(title, figure.get_figwidth() * 0.95, fontsize=12.0))
    return figure


def _what_was_cooked(cooked: xr.Dataset) -> str:
    recipe = cooked.attrs.get("nx5d_recipe")
    if "qdata" in cooked:
        what = "reciprocal space maps" if cooked.qdata.ndim > 2 else "reciprocal space map"
    elif "signal" in cooked.attrs:
        what = f"profile of {cooked.attrs['signal']}"
    else:
        what = "cooked"
    return f"{what} (recipe {recipe})" if recipe else what


def quick_look(scan: Scan, *, raw: bool = False, counters: Sequence[str] = ()) -> Figure:
    """A figure of ``scan``: its cooked maps (one panel per group) or profile; raw: the summed frames and signal.

    The title names the proposal, the scan and what is drawn (``spec_pilatus,
    scan 3.1: reciprocal space map (recipe rsm)``).  Raw: see `raw_overview`.
    """
    where = f"{scan.proposal.key}, scan {scan.key}"
    if not raw:
        cooked = scan.cooked
        if not hasattr(cooked, "data_vars") and hasattr(cooked, "to_dataset"):
            cooked = cooked.to_dataset(name="cooked", promote_attrs=True)
        if not hasattr(cooked, "data_vars"):
            raise NotSupportedError(f"{scan.url or scan.key} cooks to {type(cooked).__name__}, not an xarray object")
        title = f"{where}: {_what_was_cooked(cooked)}"
        if "qdata" in cooked and cooked.qdata.ndim >= 2:
            return rsm(cooked, title=title)
        return lines(cooked, title=title)
    data = scan.load(lazy=True) if "lazy" in _option_names(scan) else scan.raw
    declaration = scan.repository.declaration
    cooking = None if declaration is None else declaration.cooking
    return raw_overview(data, counters=counters, title=f"{where}: raw data", cooking=cooking, summary=scan.summary)


def _option_names(scan: Scan) -> set[str]:
    declaration = scan.repository.declaration
    return set() if declaration is None else {f.name for f in attrs.fields(declaration.options)}
