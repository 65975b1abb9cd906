"""Peak positions with sub-bin precision and their Poisson error.

A peak's position is the **centroid of its half-maximum window**: the
profile is interpolated linearly between the grid points, the part of it
above half the peak's height (above the background) is taken from where it
crosses that level on one side of the maximum to where it crosses it on the
other, and the centroid of that part -- weighted by its height above the
half-maximum level -- is the position.  The crossings move continuously with
the data, and a point entering or leaving the window does so with zero
weight, so the position moves continuously as the peak moves: it is not
quantised to the grid (a peak moved by 0.3 of a bin moves it by 0.3 of a
bin; tests hold it there to 0.05).

Its error propagates each profile point's variance through the centroid
(`half_maximum_centroid`): the sum of the squared derivatives of the
position by each point times that point's variance.  The background is taken
as exact (the median of the whole profile is known far better than the
points under the peak).

A peak narrower than the grid resolves -- its half-maximum window spans
fewer than `RESOLVED_BINS` grid steps -- has its position pulled towards the
bins' centres whatever its statistical error; `peak_positions` warns about
it (map with a finer ``grid_size``).
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable
from typing import Any, NamedTuple

import numpy as np
import xarray as xr

from nx5d.errors import CookWarning, OptionError
from nx5d_rsm.maps import map_variable

__all__ = ["Peak", "peak_positions", "profile_along", "half_maximum_centroid", "background_level", "RESOLVED_BINS"]

#: A peak whose half-maximum window spans fewer grid steps than this is not resolved by the grid: its position
#: is pulled towards the bins' centres (a grid too coarse for the peak), whatever its statistical error.
RESOLVED_BINS = 2.0


class Peak(NamedTuple):
    """A peak's position, its standard error (NaN without variances) and the width of its half-maximum window."""

    position: float
    error: float
    width: float


def profile_along(data: Any, array: xr.DataArray, along: Hashable) -> tuple[xr.DataArray, xr.DataArray]:
    """The mean intensity per pixel along ``along`` over the map's other q dimensions, and its variance.

    For a cooked Dataset the mean is weighted by ``weight`` (so unmeasured
    bins do not pull it down) and its variance is the summed
    ``intensity_variance`` divided by the summed weight squared; a map
    without them (a bare DataArray) gets the plain mean and a NaN variance.
    """
    others = [d for d in array.dims if d != along and str(d).startswith("q")]
    weight = data.get("weight") if isinstance(data, xr.Dataset) else None
    if weight is not None and weight.dims == array.dims:
        total = weight.sum(others)
        profile = (array * weight).fillna(0.0).sum(others) / total
        if "intensity_variance" in data and others:
            return profile, data["intensity_variance"].fillna(0.0).sum(others) / total**2
        if "qdata_variance" in data and not others:
            return profile, data["qdata_variance"]
    elif others:
        profile = array.mean(others, skipna=True)
    else:
        profile = array
    return profile, xr.full_like(profile, np.nan, dtype=float)


def background_level(profile: np.ndarray, how: str | float | None) -> float:
    """The background under a peak: ``"median"`` of the profile, the mean of its outer tenths (``"edges"``), a
    number, or ``None`` (0)."""
    finite = profile[np.isfinite(profile)]
    if how is None or not finite.size:
        return 0.0
    if how == "median":
        return float(np.median(finite))
    if how == "edges":
        n = max(1, finite.size // 10)
        return float(np.mean(np.concatenate([finite[:n], finite[-n:]])))
    return float(how)


def _window_centroid(signal: np.ndarray, coords: np.ndarray) -> tuple[float, float]:
    """The centroid of the linear interpolant of ``signal`` above half its maximum, around the maximum, and
    the width of that window."""
    if not np.isfinite(signal).any() or np.nanmax(signal) <= 0:
        return float("nan"), float("nan")
    top = int(np.nanargmax(signal))
    height = np.nan_to_num(signal - signal[top] / 2.0, nan=-np.inf)  # NaN bins (unmeasured) end the window
    low, high = top, top
    while low > 0 and height[low - 1] > 0:
        low -= 1
    while high < signal.size - 1 and height[high + 1] > 0:
        high += 1
    xs, gs = list(coords[low : high + 1]), list(height[low : high + 1])
    for outside, inside, front in ((low - 1, low, True), (high + 1, high, False)):
        if outside < 0 or outside >= signal.size or not np.isfinite(height[outside]):
            continue  # the window reaches the end of the profile or an unmeasured bin
        fraction = height[inside] / (height[inside] - height[outside])  # where the interpolant crosses the level
        crossing = coords[inside] + fraction * (coords[outside] - coords[inside])
        xs.insert(0 if front else len(xs), crossing)
        gs.insert(0 if front else len(gs), 0.0)
    x, g = np.asarray(xs, float), np.clip(np.asarray(gs, float), 0.0, None)
    a, b, ga, gb = x[:-1], x[1:], g[:-1], g[1:]
    area = np.sum((b - a) * (ga + gb) / 2.0)
    if not area:
        return (float(x[0]), 0.0) if x.size == 1 else (float("nan"), float("nan"))
    moment = np.sum((b - a) * (ga * (2 * a + b) + gb * (a + 2 * b)) / 6.0)
    return float(moment / area), float(abs(x[-1] - x[0]))


def half_maximum_centroid(
    profile: np.ndarray, variance: np.ndarray, coords: np.ndarray, background: str | float | None = "median"
) -> Peak:
    """A peak's position (the module's centroid) above ``background``, its error and its window's width.

    The error is propagated by numerical derivatives of the position by each
    point near the window (the points inside, the two beside it, the maximum
    setting the level), each point's standard error at a time; NaN without
    variances.
    """
    profile = np.asarray(profile, float)
    signal = profile - background_level(profile, background)
    position, width = _window_centroid(signal, coords)
    variance = np.asarray(variance, float)
    if not np.isfinite(position) or not np.isfinite(variance[np.isfinite(profile)]).all():
        return Peak(position, float("nan"), width)
    top = int(np.nanargmax(signal))
    above = np.flatnonzero(np.nan_to_num(signal, nan=-np.inf) > signal[top] / 2.0)
    near = np.arange(max(0, above.min() - 1), min(signal.size, above.max() + 2))
    error2 = 0.0
    for i in near:
        sigma = float(np.sqrt(variance[i]))
        if not sigma:
            continue
        step = 1e-3 * sigma
        up, down = signal.copy(), signal.copy()
        up[i] += step
        down[i] -= step
        slope = (_window_centroid(up, coords)[0] - _window_centroid(down, coords)[0]) / (2 * step)
        error2 += slope * slope * variance[i]
    return Peak(position, float(np.sqrt(error2)), width)


def peak_positions(
    data: xr.Dataset | xr.DataArray,
    var: Hashable | None = None,
    *,
    along: Hashable | None = None,
    method: str = "com",
    background: str | float | None = "median",
) -> xr.DataArray:
    """Peak position along one dimension, with its error, for every value of the others that are not map dimensions.

    The profile along ``along`` (default: the last dimension) is the mean
    intensity per pixel over the map's other q dimensions (for a cooked
    Dataset: ``qdata`` weighted by ``weight``, so unmeasured bins do not pull
    it down; its variance from ``intensity_variance``,
    `profile_along`).  Its peak is then:

    * ``method="com"``: the centroid of the half-maximum window above the
      background, continuous in the data -- not quantised to the grid -- with
      its Poisson error (see the module documentation); a warning says
      when a peak is narrower than two grid steps (the grid, not the data,
      then limits its position);
    * ``method="max"``: the coordinate of the maximum (a grid point; no error).

    ``background``: ``"median"`` of the profile (default; a peak covers a
    small part of it), ``"edges"`` (the mean of its outer tenths), a number,
    or ``None``.  Returns the positions as ``{along}_peak`` with the
    coordinate ``{along}_peak_error`` (the standard error; NaN for
    ``"max"`` and for maps without variances), both in the units of
    ``along``; their attributes record ``units``, ``long_name``, ``method``
    and ``background``.
    """
    array = map_variable(data, var)
    along = along if along is not None else array.dims[-1]
    if along not in array.dims:
        raise OptionError(f"{array.name!r} has no dimension {along!r}; dimensions: {list(array.dims)}")
    if along not in array.coords:
        raise OptionError(f"dimension {along!r} has no coordinate to give positions in")
    if background not in ("median", "edges", None) and not isinstance(background, int | float):
        raise OptionError(f"background must be 'median', 'edges', a number or None, not {background!r}")
    profile, variance = profile_along(data, array, along)
    coords = np.asarray(array[along], float)
    if method == "com":

        def centroid(values: np.ndarray, variances: np.ndarray) -> tuple[float, float, float]:
            return tuple(half_maximum_centroid(values, variances, coords, background))  # type: ignore[return-value]

        position, error, width = xr.apply_ufunc(
            np.vectorize(centroid, signature="(n),(n)->(),(),()"),
            profile,
            variance,
            input_core_dims=[[along], [along]],
            output_core_dims=[[], [], []],
        )
        step = float(np.abs(np.diff(coords)).min()) if coords.size > 1 else np.inf
        narrow = int((width < RESOLVED_BINS * step).sum())
        if narrow:
            warnings.warn(
                f"{narrow} of {width.size} peaks along {along!r} are narrower than {RESOLVED_BINS:g} grid steps "
                f"({step:.3g}) at half maximum: their positions are pulled towards the bins' centres; map with a "
                f"finer grid_size along {along!r}",
                CookWarning,
                stacklevel=2,
            )
    elif method == "max":
        position = profile.fillna(-np.inf).idxmax(along)
        error = xr.full_like(position, np.nan, dtype=float)
    else:
        raise OptionError(f"method must be 'com' or 'max', not {method!r}")
    name = f"{along}_peak"
    units = {"units": array[along].attrs["units"]} if "units" in array[along].attrs else {}
    position = position.rename(name)
    position.attrs = {  # positions along the axis: its units, never those of the profile it came from
        **units,
        "long_name": f"peak position along {along}",
        "method": method,
        "background": str(background),
    }
    error.attrs = {**units, "long_name": f"standard error of {name}"}
    return position.assign_coords({f"{name}_error": error})
