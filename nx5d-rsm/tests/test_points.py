"""Frames as their non-zero pixels, and the batches they are gridded in."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from nx5d_rsm.gridding import FrameGridder, Grid, grid_frames
from nx5d_rsm.points import FramePoints, PointBatches


def _frames(seed: int, n: int = 12, shape: tuple[int, int] = (7, 9)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    frames = rng.poisson(0.4, size=(n, *shape)).astype(np.int32)
    frames[:, 0, 0] = -1  # a defect marker
    return frames


def test_points_are_the_non_zero_pixels_in_frame_then_pixel_order():
    frames = _frames(1).astype(float)
    frames[3, 2, 4] = np.nan
    points = FramePoints.of(frames, first=100)
    flat = frames.reshape(len(frames), -1)
    frame, pixel = np.nonzero((flat != 0) | np.isnan(flat))
    np.testing.assert_array_equal(points.frame, frame + 100)
    np.testing.assert_array_equal(points.pixel, pixel)
    np.testing.assert_array_equal(points.value, flat[frame, pixel])
    assert np.isnan(points.value).sum() == 1


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    size=st.integers(1, 400),
    cuts=st.lists(st.integers(0, 12), max_size=8),
)
def test_batches_are_cut_at_the_same_points_however_the_frames_are_handed_in(seed, size, cuts):
    frames = _frames(seed)
    whole = FramePoints.of(frames)
    bounds = sorted({0, 12, *cuts})
    batches = PointBatches(size)
    got = []
    for a, b in itertools.pairwise(bounds):
        got.extend(batches.add(FramePoints.of(frames[a:b], first=a)))
    got.extend(batches.rest())
    assert [len(b) for b in got[:-1]] == [size] * (len(got) - 1)
    assert 0 < len(got[-1]) <= size if len(whole) else got == []
    joined = FramePoints.joined(got) if got else whole
    for name in ("frame", "pixel", "value"):
        np.testing.assert_array_equal(getattr(joined, name), getattr(whole, name))


def test_gridding_in_batches_gives_the_maps_of_gridding_at_once():
    """Batches change the order of additions only: the maps agree to rounding; equal batches give equal bits."""
    frames = _frames(7, n=40)
    rows, cols = np.meshgrid(np.arange(7.0), np.arange(9.0), indexing="ij")
    coordinates = [np.stack([rows + 0.3 * g for g in range(4)]), np.stack([cols - 0.2 * g for g in range(4)])]
    grid = Grid.covering([c.ravel() for c in coordinates], (6, 8))
    geometry = np.arange(40) % 4
    group = np.arange(40) // 20
    at_once = grid_frames(grid, coordinates, geometry, group, 2, frames)

    def in_batches(size: int) -> np.ndarray:
        gridder = FrameGridder(grid, coordinates)
        totals = gridder.start(geometry, group, 2)
        batches = PointBatches(size)
        for start in range(0, 40, 16):
            for batch in batches.add(FramePoints.of(frames[start : start + 16], start)):
                gridder.apply(totals, gridder.contributions_of(batch, geometry, group))
        for batch in batches.rest():
            gridder.apply(totals, gridder.contributions_of(batch, geometry, group))
        return gridder.maps(totals)

    np.testing.assert_allclose(in_batches(37), at_once, rtol=1e-12)
    np.testing.assert_array_equal(in_batches(37), in_batches(37))
    np.testing.assert_allclose(in_batches(10**6), at_once, rtol=1e-12)
