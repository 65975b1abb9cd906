"""Fuzzy gridding of many detector frames onto one regular grid.

The same "fuzzy" semantics as xrayutilities' ``FuzzyGridder2D``/``3D``: every
pixel is a box spread over the bins it overlaps, bins centred on the grid
points.  Written in numpy so that it can exploit what detector frames are
like: most pixels are zero, and frames taken at the same angles share their
geometry.  The normalisation (how much pixel area falls into each bin)
depends only on geometry and is computed once per distinct angle setting;
intensity sums touch only the non-zero pixels.

Gridding follows xrayutilities exactly where results can be compared: bins
are indexed by round-half-to-even, box fractions at the first and last bin
use the same formulas, points outside the grid are dropped, NaN values are
ignored, and bins with a total weight below 1e-16 stay 0.

Beyond xrayutilities, a `FrameGridder` keeps the statistics of every bin
(`Totals`): the Poisson variance of the pixel counts, propagated through
each frame's scale (``1 / monitor``) to the bin's mean and to its
intensity, and how many pixel readings reached the bin.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator, Sequence

import attrs
import numpy as np

from nx5d.errors import OptionError
from nx5d.toolkit import map_ranges
from nx5d_rsm.points import FramePoints

__all__ = [
    "Axis",
    "Grid",
    "FrameGridder",
    "LinearCoordinates",
    "Totals",
    "BlockSums",
    "grid_points",
    "grid_frames",
    "normalise",
]


@attrs.frozen
class Axis:
    """``n`` grid points from ``start`` to ``stop`` (inclusive); bins are centred on them."""

    start: float
    stop: float
    n: int

    @property
    def step(self) -> float:
        """Distance between grid points (``inf`` for a single point)."""
        return (float(self.stop) - float(self.start)) / (self.n - 1) if self.n != 1 else float("inf")

    @property
    def values(self) -> np.ndarray:
        """The grid points."""
        if self.n == 1:
            return np.array([(self.start + self.stop) / 2.0])
        return self.start + self.step * np.arange(self.n, dtype=float)


@attrs.frozen
class Grid:
    """A regular grid in 1 to 3 dimensions."""

    axes: tuple[Axis, ...]

    @classmethod
    def covering(cls, coordinates: Sequence[np.ndarray], shape: Sequence[int]) -> Grid:
        """The grid of ``shape`` points spanning the range of ``coordinates`` (one array per dimension)."""
        if len(coordinates) != len(shape):
            raise OptionError(f"{len(coordinates)} coordinate arrays for a grid of {len(shape)} dimensions")
        axes = []
        for values, n in zip(coordinates, shape, strict=True):
            finite = np.asarray(values)[np.isfinite(values)]
            if int(n) < 1 or finite.size == 0:
                raise OptionError(f"cannot make a grid axis of {n} points from {finite.size} finite values")
            axes.append(Axis(float(finite.min()), float(finite.max()), int(n)))
        return cls(tuple(axes))

    @property
    def shape(self) -> tuple[int, ...]:
        """Number of points per dimension."""
        return tuple(a.n for a in self.axes)

    @property
    def size(self) -> int:
        """Total number of bins."""
        return int(np.prod(self.shape))


@attrs.frozen
class LinearCoordinates:
    """Pixel coordinates on a grid's axes that are linear in a vector per pixel, one transform per angle setting.

    Coordinate ``j`` of pixel ``p`` at angle setting ``g`` is
    ``Σ_c matrices[g, j, c] · vectors[c, p] − offsets[g, j]`` (q from a
    pixel's direction: `Setup.q_coordinates`).  A `FrameGridder` given
    these computes the coordinates of the pixels it grids when it grids
    them -- only the non-zero pixels of a block, only at the block's angle
    settings -- instead of keeping every pixel's coordinates at every
    setting.  Every coordinate is computed by the same arithmetic, in the
    same order, wherever it is computed: a pixel's coordinate is the same
    number for the grid's range, for the normalisation and for each block.

    Attributes
    ----------
    vectors:
        ``(k, pixels)``: the vector of every pixel (row after row of the frame).
    matrices:
        ``(settings, dims, k)``.
    offsets:
        ``(settings, dims)``.
    pixel_shape:
        The frame's shape ``(rows, cols)``; ``rows * cols == pixels``.
    """

    vectors: np.ndarray
    matrices: np.ndarray
    offsets: np.ndarray
    pixel_shape: tuple[int, ...]

    @property
    def settings(self) -> int:
        """How many angle settings (geometries)."""
        return int(self.matrices.shape[0])

    @property
    def dims(self) -> int:
        """How many coordinates per pixel (grid dimensions)."""
        return int(self.matrices.shape[1])

    def of_setting(self, setting: int) -> np.ndarray:
        """Every coordinate of every pixel at angle setting ``setting``: ``(dims, pixels)``."""
        return self._combine(self.vectors, self.matrices[setting, :, :, None], self.offsets[setting, :, None])

    def of_points(self, setting: np.ndarray, pixel: np.ndarray) -> np.ndarray:
        """Every coordinate of the pixels ``pixel`` (flat indices) at the settings ``setting`` (one per point)."""
        factors = self.matrices.reshape(self.settings, -1).T.take(setting, axis=1)  # (dims * k, points): rows whole
        offsets = self.offsets.T.take(setting, axis=1)
        return self._combine(self.vectors.take(pixel, axis=1), factors.reshape(self.dims, -1, setting.size), offsets)

    @staticmethod
    def _combine(vectors: np.ndarray, factors: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """``Σ_c factors[:, c] · vectors[c] − offsets``: the same operations, in the same order, for any points."""
        total = vectors[0] * factors[:, 0]
        for c in range(1, vectors.shape[0]):
            total += vectors[c] * factors[:, c]
        total -= offsets
        return total

    def tables(self) -> tuple[np.ndarray, ...]:
        """Every coordinate of every pixel at every setting: arrays ``(settings, *pixel_shape)``, one per dim."""
        return tuple(
            np.stack([self.of_setting(g)[j] for g in range(self.settings)]).reshape(-1, *self.pixel_shape)
            if self.settings
            else np.zeros((0, *self.pixel_shape))
            for j in range(self.dims)
        )

    def ranges(self) -> list[np.ndarray]:
        """Per dim, the smallest and largest finite coordinate over all pixels and settings (``[min, max]``)."""
        low, high = np.full(self.dims, np.inf), np.full(self.dims, -np.inf)
        for setting_low, setting_high in map(self._range_of, range(self.settings)):
            np.minimum(low, setting_low, out=low)
            np.maximum(high, setting_high, out=high)
        return [np.array([lo, hi]) if lo <= hi else np.array([np.nan]) for lo, hi in zip(low, high, strict=True)]

    def _range_of(self, setting: int) -> tuple[np.ndarray, np.ndarray]:
        """Per dim, the smallest and largest finite coordinate at one setting (``inf``, ``-inf`` if none)."""
        values = self.of_setting(setting)
        finite = np.isfinite(values)
        low = np.where(finite, values, np.inf).min(axis=1)
        high = np.where(finite, values, -np.inf).max(axis=1)
        return low, high


class _Tables:
    """Pixel coordinates given as arrays ``(settings, rows, cols)`` per dim, read like `LinearCoordinates`."""

    def __init__(self, coordinates: Sequence[np.ndarray]) -> None:
        self.pixel_shape = tuple(coordinates[0].shape[1:])
        self.settings = int(coordinates[0].shape[0])
        self.dims = len(coordinates)
        self._tables = [np.asarray(c, float).reshape(self.settings, -1) for c in coordinates]

    def of_setting(self, setting: int) -> list[np.ndarray]:
        return [table[setting] for table in self._tables]

    def of_points(self, setting: np.ndarray, pixel: np.ndarray) -> list[np.ndarray]:
        return [table[setting, pixel] for table in self._tables]


def _spans(axis: Axis, x: np.ndarray, width: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per point, the bins a box of ``width`` around ``x`` overlaps: ``[(bin, fraction), ...]`` by span step.

    Entries with fraction 0 mark "no such bin" for points spanning fewer bins.
    The first bin gets the part of the box above its lower edge, the last the
    part below its upper edge, bins in between a full bin width; a box inside
    one bin gives it everything.  Each per-point quantity is computed once
    (cooking grids millions of pixels, and every temporary costs page faults).
    """
    d = axis.step
    left = x - width / 2.0 - axis.start
    right = x + width / 2.0 - axis.start
    lo = np.rint(left / d)
    lo[left <= 0] = 0
    lo = lo.astype(np.intp)
    hi = np.minimum(np.rint(right / d), axis.n - 1).astype(np.intp)
    relative = width / d
    first = ((lo + 1) - (left + d / 2.0) / d) / relative
    out = [(np.minimum(lo, axis.n - 1), np.where(lo == hi, 1.0, first))]
    steps = int((hi - lo).max(initial=0)) + 1
    if steps > 1:
        last = ((right + d / 2.0) / d - hi) / relative
        for s in range(1, steps):
            j = lo + s
            frac = np.where(j < hi, 1.0 / relative, np.where(j == hi, last, 0.0))
            out.append((np.minimum(j, axis.n - 1), frac))
    return out


def _contributions(
    grid: Grid, coordinates: Sequence[np.ndarray], width: Sequence[float] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat bin index, weight and point index of every (point, bin) overlap."""
    coords = [np.asarray(c, dtype=float).ravel() for c in coordinates]
    inside = np.ones(coords[0].shape, bool)
    for axis, c in zip(grid.axes, coords, strict=True):
        inside &= (c >= axis.start) & (c <= axis.stop)
    points = np.flatnonzero(inside)
    coords = [c[points] for c in coords]
    widths = [a.step / 2.0 for a in grid.axes] if width is None else list(width)
    per_dim = [_spans(a, c, w) for a, c, w in zip(grid.axes, coords, widths, strict=True)]
    strides = [int(np.prod(grid.shape[i + 1 :])) for i in range(len(grid.axes))]
    flats, weights, owners = [], [], []
    for combo in itertools.product(*per_dim):
        (bins, weight), *others = combo
        flat = bins * strides[0]
        for (more_bins, frac), stride in zip(others, strides[1:], strict=True):
            flat += more_bins * stride
            weight = weight * frac
        keep = np.flatnonzero(weight)
        flats.append(flat[keep])
        weights.append(weight[keep])
        owners.append(points[keep])
    return np.concatenate(flats), np.concatenate(weights), np.concatenate(owners)


def grid_points(
    grid: Grid, coordinates: Sequence[np.ndarray], values: np.ndarray, width: Sequence[float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Fuzzy-bin points onto ``grid``: returns ``(sums, norm)`` of the grid's shape.

    ``width`` is the box size per dimension (default: half a bin, as in
    xrayutilities).  ``sums / norm`` (where ``norm > 1e-16``) is the gridded map.
    """
    values = np.asarray(values, dtype=float).ravel()
    finite = ~np.isnan(values)
    coords = [np.asarray(c, dtype=float).ravel()[finite] for c in coordinates]
    flat, weight, point = _contributions(grid, coords, width)
    sums = np.bincount(flat, weights=values[finite][point] * weight, minlength=grid.size)
    norm = np.bincount(flat, weights=weight, minlength=grid.size)
    return sums.reshape(grid.shape), norm.reshape(grid.shape)


def normalise(sums: np.ndarray, norm: np.ndarray, empty: float = 0.0, *, out: np.ndarray | None = None) -> np.ndarray:
    """``sums / norm`` where ``norm > 1e-16``; ``empty`` in bins no pixel reached (xrayutilities: 0).

    ``out``: the float array to write into (it may be ``sums`` itself); default: a new one.
    """
    ok = norm > 1e-16
    if out is None:
        out = np.full(np.shape(sums), empty, dtype=float)
    np.divide(sums, norm, out=out, where=ok)  # in place: no copies of the maps' size beside the result
    out[~ok] = empty
    return out


@attrs.define
class Totals:
    """What a `FrameGridder` adds up in every bin of every group (flat arrays, group after group).

    With ``share`` the part of a pixel's box that falls into the bin,
    ``scale`` the frame's factor (``1 / monitor``) and ``value`` the pixel's
    counts:

    Attributes
    ----------
    sums:
        Σ share·scale·value: the intensity in the bin.
    norm:
        Σ share over every pixel that reached the bin, zeros included: its pixel area.
    mean_variance:
        Σ share²·scale²·value: the Poisson variance of ``sums`` per bin; divided
        by ``norm²`` it is the variance of the bin's mean ``sums / norm``.
    intensity_variance:
        Σ share·scale²·value: additive over bins, so that its sum over a region
        is the Poisson variance of the intensity summed over that region (exact
        for pixels whose box lies wholly inside or outside it).
    pixels:
        How many pixel readings (a pixel of a frame) reached the bin.
    """

    sums: np.ndarray
    norm: np.ndarray
    mean_variance: np.ndarray
    intensity_variance: np.ndarray
    pixels: np.ndarray

    def parts(self) -> tuple[np.ndarray, ...]:
        """The arrays in the order of `BlockSums` parts."""
        return self.sums, self.norm, self.mean_variance, self.intensity_variance, self.pixels


@attrs.frozen
class BlockSums:
    """What one block of frames adds to a `FrameGridder`'s `Totals` (and takes from its normalisation).

    Each part is ``(groups, values of their bins)`` -- only the groups the
    block's frames belong to, the bins of each group after each other -- or
    ``None``; the parts are those of `Totals`, in its order.
    """

    parts: tuple[tuple[np.ndarray, np.ndarray] | None, ...]


def _overlaps(values: np.ndarray, share: np.ndarray, power: int) -> np.ndarray:
    """``values · share**power`` of (point, bin) overlaps; a zero share (no such bin) adds nothing."""
    if power == 0:
        return values * (share > 0)
    return values * (share if power == 1 else share * share)


#: Pixels whose normalisation a `FrameGridder` works out at once: small temporaries, which stay in the CPU's cache.
_PIXELS_AT_ONCE = 1 << 14

#: Pixels times angle settings from which a `FrameGridder` works out their pixel areas in worker processes
#: (`map_ranges`; about 0.4 s of work in one process): a rocking scan of 48 Pilatus 100K frames, each at its own
#: angle, forks; a delay scan at 21 angles (whose frames are read in worker processes meanwhile) does not.
FORK_FROM_PIXELS = 1 << 22

#: Angle settings a worker process works out before it hands their pixel areas back.
SETTINGS_AT_ONCE = 4


class FrameGridder:
    """Grid detector frames onto one common grid, one map per group (e.g. per delay).

    Frames are added block by block with `add` (so lazily loaded scans
    need not be in memory at once), or as their non-zero pixels
    (`FramePoints`) with `contributions_of` and `apply`; `maps` returns the
    normalised maps and `mean_variances` their Poisson variances.

    Parameters
    ----------
    grid:
        The common grid.
    coordinates:
        Per grid dimension, the coordinate of every pixel for every distinct
        geometry (angle setting): arrays of shape ``(geometries, rows, cols)``;
        or `LinearCoordinates`, from which the gridder computes the
        coordinates of the pixels it grids as it grids them (no table of
        every pixel at every setting is kept: much less memory).
    width:
        Box size per dimension (default: half a bin, as in xrayutilities).
    """

    def __init__(
        self, grid: Grid, coordinates: Sequence[np.ndarray] | LinearCoordinates, width: Sequence[float] | None = None
    ) -> None:
        self.grid = grid
        self._coordinates: LinearCoordinates | _Tables | None = (
            coordinates if isinstance(coordinates, LinearCoordinates) else _Tables(coordinates)
        )
        self.pixel_shape = tuple(self._coordinates.pixel_shape)
        dims = self._coordinates.dims
        if dims != len(grid.axes):
            raise OptionError(f"pixel coordinates in {dims} dimensions for a grid of {len(grid.axes)}")
        self._width = width

    def _geometry_of(self, setting: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pixel area of angle setting ``setting`` falling into each bin, and how many pixels: zeros count too.

        Returned as ``(bins, area, pixels)`` of the bins some pixel reaches
        (a detector at one setting covers a part of the grid).
        """
        assert self._coordinates is not None
        norm, pixels = np.zeros(self.grid.size), np.zeros(self.grid.size, np.int64)
        coords = list(self._coordinates.of_setting(setting))
        for start in range(0, coords[0].size, _PIXELS_AT_ONCE):
            piece = [c[start : start + _PIXELS_AT_ONCE] for c in coords]
            flat, weight, _ = _contributions(self.grid, piece, self._width)
            norm += np.bincount(flat, weights=weight, minlength=self.grid.size)
            pixels += np.bincount(flat, minlength=self.grid.size)
        bins = np.flatnonzero(pixels)  # a pixel counts where its share is not 0: there the area is not 0 either
        return bins, norm[bins], pixels[bins]

    def _geometries(self, settings: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """`_geometry_of` every setting of ``settings``, in their order: on every CPU where there are many.

        A rocking scan has a setting per frame, and each setting's pixel
        area costs as much as gridding every pixel of a frame: most of its
        cook.  From `FORK_FROM_PIXELS` pixels times settings on they are
        worked out in worker processes where `map_ranges` forks them,
        `SETTINGS_AT_ONCE` at a time; what comes back is the same, and is
        added up here in the same order.
        """
        if settings.size * int(np.prod(self.pixel_shape)) < FORK_FROM_PIXELS:
            yield from (self._geometry_of(int(setting)) for setting in settings)
            return

        def worked_out(part: slice) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
            return [self._geometry_of(int(setting)) for setting in settings[part]]

        with contextlib.closing(map_ranges(settings.size, worked_out, size=SETTINGS_AT_ONCE)) as parts:
            for _, geometries in parts:
                yield from geometries

    def start(self, geometry_of_frame: np.ndarray, group_of_frame: np.ndarray, n_groups: int) -> Totals:
        """Empty sums and the geometric normalisation and pixel counts of all frames.

        The pixel area each angle setting gives each bin is worked out one
        setting at a time and added to the maps of the groups its frames
        belong to: no table of every setting's bins is kept.  Groups with
        the same frames per setting (every delay of a delay scan measured at
        the same angles) get the same normalisation: it is added up once for
        each such set of groups, by the same operations in the same order.
        """
        if self._coordinates is None:
            raise OptionError("start() of a FrameGridder after release(): its pixel coordinates are gone")
        counts = np.zeros((n_groups, self._coordinates.settings), np.int64)
        np.add.at(counts, (np.asarray(group_of_frame, np.intp), np.asarray(geometry_of_frame, np.intp)), 1)
        distinct, inverse = np.unique(counts, axis=0, return_inverse=True)
        row_of_group: np.ndarray | None = inverse.reshape(-1)
        if distinct.shape[0] == n_groups:  # no two groups alike: their own rows, no copy
            distinct, row_of_group = counts, None
        norm = np.zeros((distinct.shape[0], self.grid.size))
        pixels = np.zeros((distinct.shape[0], self.grid.size), np.int64)
        used = np.flatnonzero(distinct.any(axis=0))
        for setting, (bins, area, count) in zip(used, self._geometries(used), strict=True):
            for row in np.flatnonzero(distinct[:, setting]):  # in the same order wherever the maps are cooked
                frames = distinct[row, setting]
                norm[row, bins] += area * float(frames)
                pixels[row, bins] += count * frames
        if row_of_group is not None:
            norm, pixels = norm[row_of_group], pixels[row_of_group]
        size = n_groups * self.grid.size
        return Totals(np.zeros(size), norm.reshape(-1), np.zeros(size), np.zeros(size), pixels.reshape(-1))

    def contributions(
        self,
        frames: np.ndarray,
        geometry_of_frame: np.ndarray,
        group_of_frame: np.ndarray,
        *,
        scale: np.ndarray | None = None,
        mask_negative: bool = True,
    ) -> BlockSums:
        """What a block of frames adds to the totals and takes from the normalisation (nothing is changed).

        Blocks can be computed in any order and on any thread; applied in
        frame order (`apply`) they give the same maps, to the last bit, as
        long as the frames are split the same way (`map_frames` grids
        batches of points cut at fixed counts: `nx5d_rsm.points`).
        ``scale`` multiplies each frame (e.g. ``1 / monitor``).  Negative pixels (``mask_negative``) and NaN pixels
        count as missing: they are taken out of the normalisation and the
        pixel counts instead of being added.  Pixel values are counts: their
        Poisson variance is the value.
        """
        if frames.shape[1:] != self.pixel_shape:
            raise OptionError(f"frames of shape {frames.shape[1:]} do not match pixel coordinates {self.pixel_shape}")
        return self.contributions_of(
            FramePoints.of(frames), geometry_of_frame, group_of_frame, scale=scale, mask_negative=mask_negative
        )

    def contributions_of(
        self,
        points: FramePoints,
        geometry_of_frame: np.ndarray,
        group_of_frame: np.ndarray,
        *,
        scale: np.ndarray | None = None,
        mask_negative: bool = True,
    ) -> BlockSums:
        """`contributions` of the non-zero pixels of frames, given as `FramePoints`.

        ``points.frame`` indexes ``geometry_of_frame``, ``group_of_frame`` and
        ``scale``.  Points are summed in their order: the same points give
        the same sums to the last bit.
        """
        geometry_of_frame = np.asarray(geometry_of_frame, np.intp)
        group_of_frame = np.asarray(group_of_frame, np.intp)
        frame_index, pixel_index = points.frame, points.pixel
        values = points.value.astype(float)
        missing = np.isnan(values)
        if mask_negative:
            missing |= values < 0
        any_missing = bool(missing.any())
        if any_missing:  # missing pixels add nothing and are taken out of the normalisation and the pixel counts
            gone = np.where(missing, -1.0, 0.0)
            values = np.where(missing, 0.0, values)
        if scale is None:  # scale 1: Σ share·scale²·value is Σ share·value, to the last bit; summed once
            weighted = [(values, 1), (values, 2)]
        else:
            factor = np.asarray(scale, float)[frame_index]
            scaled = values * factor
            weighted = [(scaled, 1), (scaled * factor, 2), (scaled * factor, 1)]
        if any_missing:  # one pass over the points for both: the bins are looked up once
            weighted += [(gone, 1), (gone, 0)]
        added = self._scatter(geometry_of_frame, group_of_frame, frame_index, pixel_index, weighted)
        parts = [None] * len(weighted) if added is None else _split(added)
        sums, mean_variance = parts[0], parts[1]
        intensity_variance = sums if scale is None else parts[2]
        norm, pixels = parts[-2:] if any_missing else (None, None)
        return BlockSums((sums, norm, mean_variance, intensity_variance, pixels))

    @staticmethod
    def apply(totals: Totals, block: BlockSums) -> None:
        """Add a block's `contributions` to ``totals``."""
        for target, part in zip(totals.parts(), block.parts, strict=True):
            if part is not None:
                groups, values = part
                by_group = target.reshape(-1, values.size // groups.size)
                added = values.reshape(groups.size, -1).astype(target.dtype, copy=False)
                if groups[-1] - groups[0] + 1 == groups.size:  # consecutive groups (as frames come): added in place
                    by_group[groups[0] : groups[-1] + 1] += added
                else:
                    by_group[groups] += added

    def add(
        self,
        totals: Totals,
        frames: np.ndarray,
        geometry_of_frame: np.ndarray,
        group_of_frame: np.ndarray,
        *,
        scale: np.ndarray | None = None,
        mask_negative: bool = True,
    ) -> None:
        """Add a block of frames (their geometry and group indices given per frame): `contributions` applied."""
        self.apply(
            totals,
            self.contributions(frames, geometry_of_frame, group_of_frame, scale=scale, mask_negative=mask_negative),
        )

    def release(self) -> None:
        """Let go of the pixel coordinates once every frame is added (`maps` and `mean_variances` need none)."""
        self._coordinates = None

    def maps(self, totals: Totals, empty: float = 0.0, *, in_place: bool = False) -> np.ndarray:
        """Normalised maps ``(groups, *grid.shape)``; ``empty`` where no pixel fell.

        ``in_place``: written over ``totals.sums`` (no second array of the maps' size; the sums are gone).
        """
        out = totals.sums if in_place else None
        return normalise(totals.sums, totals.norm, empty, out=out).reshape(-1, *self.grid.shape)

    def mean_variances(self, totals: Totals, *, in_place: bool = False) -> np.ndarray:
        """The Poisson variance of each map value ``(groups, *grid.shape)``; NaN where no pixel fell.

        ``in_place``: written over ``totals.mean_variance``.
        """
        out = totals.mean_variance if in_place else np.empty_like(totals.mean_variance)
        step = 1 << 16  # norm² a piece at a time: no temporary of the maps' size
        for start in range(0, out.size, step):
            piece = slice(start, start + step)
            norm = totals.norm[piece]
            ok = norm > 1e-16
            square = np.square(norm)
            np.divide(totals.mean_variance[piece], square, out=square, where=ok)
            square[~ok] = np.nan
            out[piece] = square
        return out.reshape(-1, *self.grid.shape)

    def _scatter(
        self,
        geometry_of_frame: np.ndarray,
        group_of_frame: np.ndarray,
        frame_index: np.ndarray,
        pixel_index: np.ndarray,
        weighted: Sequence[tuple[np.ndarray, int]],
    ) -> tuple[np.ndarray, list[np.ndarray]] | None:
        """Per ``(values, power)``: Σ values·share**power of (frame, pixel) points over the bins they overlap.

        Returns ``(groups, [sums over their bins, ...])``; power 0 counts
        the overlaps.  Only the given points are looked up (detector frames
        are mostly zero), and only the groups they belong to are summed: a
        block of frames of a few groups never costs a pass, nor memory, for
        every group's map (a block where the delay loop starts again holds
        the last group and the first).
        """
        if not frame_index.size:
            return None
        if self._coordinates is None:
            raise OptionError("frames added to a FrameGridder after release(): its pixel coordinates are gone")
        geometry = geometry_of_frame[frame_index]
        coords = list(self._coordinates.of_points(geometry, pixel_index))
        inside = np.ones(coords[0].shape, bool)
        for axis, c in zip(self.grid.axes, coords, strict=True):
            inside &= (c >= axis.start) & (c <= axis.stop)
        if not inside.all():
            coords = [c[inside] for c in coords]
            weighted = [(values[inside], power) for values, power in weighted]
            frame_index = frame_index[inside]
        if not frame_index.size:
            return None
        present = np.bincount(group_of_frame[frame_index]) > 0
        groups = np.flatnonzero(present)
        offsets = (np.cumsum(present) - 1)[group_of_frame[frame_index]] * self.grid.size
        length = groups.size * self.grid.size
        widths = [a.step / 2.0 for a in self.grid.axes] if self._width is None else list(self._width)
        per_dim = [_spans(a, c, w) for a, c, w in zip(self.grid.axes, coords, widths, strict=True)]
        strides = [int(np.prod(self.grid.shape[i + 1 :])) for i in range(len(self.grid.axes))]
        flats, shares = [], []
        for combo in itertools.product(*per_dim):  # the bins a point overlaps; a zero share adds nothing
            (bins, share), *others = combo
            flat = bins * strides[0] + offsets
            for (more_bins, fraction), stride in zip(others, strides[1:], strict=True):
                flat += more_bins * stride
                share = share * fraction
            flats.append(flat)
            shares.append(share)
        every_flat, every_share = np.concatenate(flats), np.concatenate(shares)  # one pass per sum, not per bin
        sums = [
            np.bincount(
                every_flat, weights=_overlaps(np.tile(values, len(flats)), every_share, power), minlength=length
            )
            for values, power in weighted
        ]
        return groups, sums


def _split(scattered: tuple[np.ndarray, list[np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(groups, [a, b, ...])`` as ``[(groups, a), (groups, b), ...]``."""
    groups, sums = scattered
    return [(groups, values) for values in sums]


def grid_frames(
    grid: Grid,
    coordinates: Sequence[np.ndarray],
    geometry_of_frame: np.ndarray,
    group_of_frame: np.ndarray,
    n_groups: int,
    frames: np.ndarray,
    *,
    scale: np.ndarray | None = None,
    mask_negative: bool = True,
    width: Sequence[float] | None = None,
) -> np.ndarray:
    """Grid all ``frames`` at once with a `FrameGridder`: ``(n_groups, *grid.shape)`` maps."""
    gridder = FrameGridder(grid, coordinates, width)
    totals = gridder.start(geometry_of_frame, group_of_frame, n_groups)
    gridder.add(totals, frames, geometry_of_frame, group_of_frame, scale=scale, mask_negative=mask_negative)
    return gridder.maps(totals)
