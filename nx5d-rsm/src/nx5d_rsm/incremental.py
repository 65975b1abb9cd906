"""Maps of a scan being measured that grow with it: at each update only the new points are gridded.

While ``proposal.follow(partial=...)`` (``nx5d watch --partial``) cooks a
scan again and again as it grows, its cooks share a
[`Growing`][nx5d.recipes.contract.Growing].  The map recipes (``rsm``,
``line-rsm``, ``hkl``, ``auto``) keep in it the gridding totals of the
points gridded so far ([`Totals`][nx5d_rsm.gridding.Totals]: the grid's
size, whatever the number of points) and add only the frames written since
the cook before.  That needs the grid before the scan ends: it is fixed
from the positions the scan's command plans -- ``ascan th 19.4 19.7 40 5``:
``th`` from 19.4 to 19.7 in 41 points; ``a2scan`` and its kin: each motor
named with its start and end -- every other circle where it stands.  The
map of every point planned then falls on the grid.

Where the grid cannot be fixed in advance -- a command that plans no
absolute range (a relative ``dscan``, a time scan, a format without
commands), a circle moving that the command does not name, angles the
beamline computes, maps grouped by a variable (delays: their values are not
known before they are measured), energies per frame, a point outside the
planned range -- each partial map is cooked anew from all points so far,
and a [`CookWarning`][nx5d.errors.CookWarning] says why (once per scan:
``follow`` repeats no warning).

Partial maps lie on the planned grid; the scan's final map is cooked from
the complete files as always, on the grid covering the positions measured:
identical to cooking the finished scan.  Where the measured positions are
the planned ones, the two grids are the same and the last partial map
equals the final map to rounding (the pixel area of each bin is summed in
another order).
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np

from nx5d.errors import CookWarning, SpiceValidationError
from nx5d.toolkit import (
    CookRequest,
    Growing,
    find_variable,
    per_frame,
    planned_points,
    scanned_motors,
    scanned_range,
)
from nx5d_rsm.gridding import FrameGridder, Grid, Totals
from nx5d_rsm.maps import map_dataset, map_frames, usable_frames
from nx5d_rsm.settings import MotorSettings, RsmSettings

__all__ = ["GrowingMaps", "growing_maps", "planned_angles"]

#: Geometries whose pixel coordinates are computed at once when the planned grid is fixed (bounds memory).
_GEOMETRIES_AT_ONCE = 16


def planned_angles(request: CookRequest, settings: RsmSettings) -> tuple[list[np.ndarray], str]:
    """The angle of every circle at every point the scan's command plans, or ``([], why not)``.

    Circles in the order of ``settings``' ``sample_motors`` then
    ``detector_motors``; a circle the command moves goes from its start to
    its end in the planned number of points, any other stays where it
    stands (it must not move in the points measured so far).
    """
    if request.cooking.angles is not None:
        return [], "the beamline computes the frames' angles"
    if not isinstance(settings, MotorSettings) or not (settings.sample_motors and settings.detector_motors):
        return [], "the settings name no motors"
    command = str(request.summary.get("notes") or "")
    words = command.split()
    points = planned_points(command)
    named = words[1:-2]
    if points is None or points < 1 or scanned_range(command) is None or not named or len(named) % 3:
        return [], f"its command {command!r} plans no absolute motor range"
    columns = [str(c) for c in request.summary.get("counters") or ()]  # in the file's order
    motors = scanned_motors(command, columns)  # by name, or SPEC's own scans' first columns (th -> Theta)
    if len(motors) != len(named) // 3:
        return [], f"the motors its command {command!r} moves are not all columns of the scan"
    moved: dict[str, np.ndarray] = {}
    for motor, start, stop in zip(motors, named[1::3], named[2::3], strict=True):
        try:
            moved[find_variable(request.raw, motor, "scanned motor")] = np.linspace(float(start), float(stop), points)
        except (SpiceValidationError, ValueError):
            return [], f"the motor {motor!r} its command moves is no variable of the scan"
    circles = []
    for motor in (*settings.sample_motors, *settings.detector_motors):
        variable = find_variable(request.raw, motor, "motor")
        if variable in moved:
            circles.append(moved[variable])
            continue
        values = per_frame(request.raw, variable, "motor")
        if not (np.isfinite(values).all() and np.all(values == values[0])):
            return [], f"the circle {motor!r} moves, but its command does not plan where to"
        circles.append(np.full(points, float(values[0])))
    return circles, ""


@attrs.define
class _Grown:
    """What the cooks of a growing scan keep: the grid, its totals and how many frames are in them."""

    key: str  #: what the grid was fixed for (settings, plan, pixels): another key starts over
    grid: Grid
    totals: Totals
    done: int = 0  #: frames (usable or not) gridded so far, from the first
    frames: int = 0  #: usable frames among them


def _totals(size: int) -> Totals:
    return Totals(np.zeros(size), np.zeros(size), np.zeros(size), np.zeros(size), np.zeros(size, np.int64))


@attrs.frozen
class GrowingMaps:
    """`map_frames` for one cook of a growing scan: the new frames added to the totals kept in ``shared``.

    Built by `growing_maps`; [`cook_rsm`][nx5d_rsm.cook.cook_rsm] calls its
    `map_frames` instead of [`map_frames`][nx5d_rsm.maps.map_frames].
    """

    shared: Growing
    planned: Sequence[np.ndarray]  #: per circle, its angle at every planned point (empty: the grid cannot be fixed)
    why_not: str = ""  #: why the grid cannot be fixed in advance
    where: str = "the scan"

    def map_frames(self, setup: Any, sample_angles: Sequence[np.ndarray], detector_angles: Sequence[np.ndarray],
                   images: Any, **options: Any) -> Any:  # fmt: skip
        """The maps of all frames so far: the new ones gridded onto the planned grid (see the module)."""
        why = self.why_not or self._unfit(options) or (self.shared.state if isinstance(self.shared.state, str) else "")
        if not why:
            try:
                circles = [*sample_angles, *detector_angles]
                return self._grow(setup, circles, len(sample_angles), images, options)
            except _OffPlan as exc:
                why = str(exc)
        self.shared.state = why  # the later cooks of this scan know at once (a point off the plan stays off it)
        warnings.warn(
            f"partial maps of {self.where} are cooked anew from all points so far at each update: {why}",
            CookWarning,
            stacklevel=2,
        )
        return map_frames(setup, sample_angles, detector_angles, images, **options)

    @staticmethod
    def _unfit(options: dict[str, Any]) -> str:
        if options.get("groups"):
            return f"its maps are grouped by {', '.join(name for name, _ in options['groups'])}, not known in advance"
        if options.get("energies") is not None:
            return "its photon energy changes from frame to frame"
        return ""

    def _grow(self, setup: Any, circles: list[np.ndarray], n_sample: int, images: Any, options: dict[str, Any]) -> Any:
        rows_cols = options.get("pixels") or (np.arange(images.shape[1]), np.arange(images.shape[2]))
        axes, size = tuple(options["q_axes"]), tuple(options["grid_size"])
        key = _key([*self.planned, *rows_cols], axes, size, options.get("attrs"), images.shape[1:], setup)
        grown = self.shared.state
        n = images.shape[0]
        if not isinstance(grown, _Grown) or grown.key != key or grown.done > n:
            grid = _planned_grid(setup, self.planned, rows_cols, axes, size, n_sample)
            grown = _Grown(key, grid, _totals(grid.size))
        if n > grown.done:
            _add(grown, setup, [np.asarray(c, float)[grown.done : n] for c in circles], images[grown.done : n],
                 rows_cols, axes, options, n_sample, self.where)  # fmt: skip
        self.shared.state = grown
        gridder = FrameGridder(grown.grid, [np.full((1, 1, 1), np.nan)] * len(axes))  # its maps read only totals
        kept = Totals(*(part.copy() for part in grown.totals.parts()))  # the map must not change with later points
        return map_dataset(
            gridder, kept, [], np.array(grown.frames), q_axes=axes, scaled=options.get("scale") is not None,
            empty=options.get("empty", "nan"), attrs=options.get("attrs"),
        )  # fmt: skip


class _OffPlan(Exception):
    """A frame falls outside the planned grid: the grid cannot serve this scan."""


def _key(arrays: Sequence[np.ndarray], *parts: Any) -> str:
    """What a grid is fixed for: the planned angles and pixels (``arrays``), the map's axes and settings."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array, float).tobytes())
    for part in parts:
        digest.update(json.dumps(part, default=repr, sort_keys=True).encode())
    return digest.hexdigest()


def _split(geometries: np.ndarray, n_sample: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    return list(geometries[:, :n_sample].T), list(geometries[:, n_sample:].T)


def _planned_grid(
    setup: Any, planned: Sequence[np.ndarray], rows_cols: Any, axes: tuple[str, ...], size: tuple[int, ...],
    n_sample: int,
) -> Grid:  # fmt: skip
    """The grid covering every pixel at every planned point, as `map_frames` fixes it from the points measured."""
    geometries = np.unique(np.stack([np.asarray(c, float) for c in planned], axis=1), axis=0)
    low = [np.inf] * len(axes)
    high = [-np.inf] * len(axes)
    for start in range(0, len(geometries), _GEOMETRIES_AT_ONCE):  # a few at a time: memory of a few frames' q
        sample, detector = _split(geometries[start : start + _GEOMETRIES_AT_ONCE], n_sample)
        for i, values in enumerate(setup.q_maps(sample, detector, *rows_cols, axes=axes)):
            finite = values[np.isfinite(values)]
            if finite.size:
                low[i], high[i] = min(low[i], float(finite.min())), max(high[i], float(finite.max()))
    return Grid.covering([np.array([lo, hi]) for lo, hi in zip(low, high, strict=True)], size)


def _add(
    grown: _Grown, setup: Any, circles: list[np.ndarray], frames: Any, rows_cols: Any, axes: tuple[str, ...],
    options: dict[str, Any], n_sample: int, where: str,
) -> None:  # fmt: skip
    """Grid the new ``frames`` (their angles ``circles``) onto ``grown``'s grid and add them to its totals."""
    angles = np.stack(circles, axis=1)
    part = slice(grown.done, grown.done + angles.shape[0])
    scale = options.get("scale")
    scales = None if scale is None else np.asarray(scale, float)[part]
    if not np.isfinite(angles).all(axis=1).any():
        grown.done = part.stop  # none of them can be mapped: the full cook says so (usable_frames)
        return
    usable = usable_frames(angles, scales, (), where)
    geometries, inverse = np.unique(angles[usable], axis=0, return_inverse=True)
    sample, detector = _split(geometries, n_sample)
    coordinates = setup.q_maps(sample, detector, *rows_cols, axes=axes)
    for values, axis, name in zip(coordinates, grown.grid.axes, axes, strict=True):
        finite = values[np.isfinite(values)]
        slack = 0.5 * abs(axis.step) if math.isfinite(axis.step) else 0.0
        if finite.size and (finite.min() < axis.start - slack or finite.max() > axis.stop + slack):
            raise _OffPlan(f"a point measured lies outside the range its command plans ({name})")
    gridder = FrameGridder(grown.grid, coordinates)
    group = np.zeros(int(usable.sum()), np.intp)
    added = gridder.start(inverse.reshape(-1), group, 1)
    block = np.asarray(frames)
    gridder.add(
        added, block if usable.all() else block[usable], inverse.reshape(-1), group,
        scale=None if scales is None else scales[usable], mask_negative=options.get("mask_negative", True),
    )  # fmt: skip
    for total, more in zip(grown.totals.parts(), added.parts(), strict=True):
        total += more
    grown.done, grown.frames = part.stop, grown.frames + int(usable.sum())


def growing_maps(request: CookRequest, settings: RsmSettings) -> GrowingMaps | None:
    """How a map recipe maps its frames: `GrowingMaps` while the scan grows (``request.growing``), else ``None``."""
    if request.growing is None:
        return None
    planned, why = planned_angles(request, settings)
    return GrowingMaps(request.growing, planned, why, request.where)
